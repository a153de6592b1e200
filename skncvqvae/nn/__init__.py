"""The torch modules of NC-VQVAE, free of numpy and scikit-learn.

Building blocks (``(B, C, L)`` series in, tensors out):

- time-frequency transform: :func:`stft`, :func:`istft`, :func:`stft_shape`;
- :class:`Encoder`, :class:`Decoder` and :class:`ResBlock` over STFT images;
- :class:`VectorQuantizer`, an EMA codebook with a straight-through gradient;
- :class:`BandEncoder`, :class:`BandQuantizer` and :class:`BandDecoder`: one
  encoder, codebook and decoder per band of STFT rows (TimeVQVAE's low- and
  high-frequency streams, :func:`frequency_bands`);
- augmentations (:data:`AUGMENTATIONS`, :func:`augment`), each drawing from an
  explicit ``torch.Generator``;
- SSL heads and losses: :class:`Projector`, :class:`IterNorm`,
  :func:`barlow_twins_loss`, :func:`vibcreg_loss`.

Trainable models, whose ``forward`` returns a :class:`ModelOutput` (the loss
and its terms), so that one skorch net trains them all:

- :class:`NCVQVAEModule`: stage 1, the tokenizer;
- :class:`MaskGITPrior`: stage 2, the class-conditional prior over tokens, with an
  optional :class:`TokenCritic` (trained on :func:`critic_loss`) for its sampling;
- :class:`FCNModule`: the FCN of :class:`skncvqvae.metrics.FCNClassifier`.

Every module's defaults are the reference values of the NC-VQVAE thesis and
TimeVQVAE (for example 4 residual blocks, a projector of width 4096 and a
prior of width 256). The estimators choose their own defaults for a CPU budget
and pass every value explicitly; ``docs/model.md`` lists both.
"""

from ._augmentations import AUGMENTATIONS, augment, check_augmentations
from ._encoder_decoder import Decoder, Encoder, ResBlock, latent_width, n_downsampling
from ._fcn import FCN_TERMS, FCNModule
from ._output import ModelOutput
from ._prior import (
    CRITIC_TERMS,
    PRIOR_TERMS,
    MaskGITPrior,
    TokenCritic,
    cosine_schedule,
    critic_loss,
    gumbel_noise,
    n_masked_after_step,
)
from ._quantizer import QuantizerOutput, VectorQuantizer, perplexity
from ._ssl import SSL_LOSSES, IterNorm, Projector, barlow_twins_loss, vibcreg_loss
from ._stage1 import (
    LOSS_TERMS,
    NCVQVAEModule,
    Stage1Output,
    global_pool,
    min_length,
    pyramid_pool,
)
from ._streams import BandDecoder, BandEncoder, BandQuantizer, frequency_bands
from ._time_frequency import hop_length, istft, stft, stft_shape

__all__ = [
    "AUGMENTATIONS",
    "CRITIC_TERMS",
    "FCN_TERMS",
    "LOSS_TERMS",
    "PRIOR_TERMS",
    "SSL_LOSSES",
    "BandDecoder",
    "BandEncoder",
    "BandQuantizer",
    "Decoder",
    "Encoder",
    "FCNModule",
    "IterNorm",
    "MaskGITPrior",
    "ModelOutput",
    "NCVQVAEModule",
    "Projector",
    "QuantizerOutput",
    "ResBlock",
    "Stage1Output",
    "TokenCritic",
    "VectorQuantizer",
    "augment",
    "barlow_twins_loss",
    "check_augmentations",
    "critic_loss",
    "cosine_schedule",
    "frequency_bands",
    "global_pool",
    "gumbel_noise",
    "hop_length",
    "istft",
    "latent_width",
    "min_length",
    "n_downsampling",
    "n_masked_after_step",
    "perplexity",
    "pyramid_pool",
    "stft",
    "stft_shape",
    "vibcreg_loss",
]
