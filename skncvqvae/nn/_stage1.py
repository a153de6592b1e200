"""Stage 1 of NC-VQVAE as a torch module: the time-frequency VQ-VAE tokenizer.

Two branches share one encoder and one decoder:

- original: ``x -> STFT -> encoder -> z -> quantizer -> z_q -> decoder -> ISTFT -> x_hat``
- augmented: ``x' = augment(x) -> STFT -> encoder -> z' -> decoder -> ISTFT -> x'_hat``

and the SSL loss compares ``projector(pool(z_q))`` with ``projector(pool(z'))``,
``pool = concat(global average pool, global max pool)``. With ``ssl=None``
there is no augmented branch and no projector: the module is naive TimeVQVAE.
The module knows nothing of scaling, numpy or scikit-learn.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from ._augmentations import augment, check_augmentations
from ._encoder_decoder import Decoder, Encoder, latent_width, n_downsampling
from ._output import ModelOutput
from ._quantizer import VectorQuantizer
from ._ssl import SSL_LOSSES, Projector
from ._streams import BandDecoder, BandEncoder, BandQuantizer, frequency_bands
from ._time_frequency import istft, stft, stft_shape

__all__ = [
    "LOSS_TERMS",
    "NCVQVAEModule",
    "Stage1Output",
    "global_pool",
    "min_length",
    "pyramid_pool",
]

LOSS_TERMS = ("loss", "recon", "commitment", "aug_recon", "ssl", "perplexity")


def global_pool(z: torch.Tensor) -> torch.Tensor:
    """``(B, D, H, W) -> (B, 2D)``: global average pool then global max pool."""
    return torch.cat([z.mean(dim=(2, 3)), z.amax(dim=(2, 3))], dim=1)


def pyramid_pool(z: torch.Tensor) -> torch.Tensor:
    """``(B, D, H, W) -> (B, 6D)``: average and max pools over the grid and its two time halves.

    Blocks, each ``D`` wide: [grid average, grid max, first-half average,
    first-half max, second-half average, second-half max]. The halves split
    the time axis ``W`` (the first gets the middle column when ``W`` is odd)
    and pool over every frequency row; with ``W = 1`` both halves are the grid.
    """
    halves = [h if h.shape[3] else z for h in torch.tensor_split(z, 2, dim=3)]
    return torch.cat([global_pool(part) for part in (z, *halves)], dim=1)


def min_length(n_fft: int) -> int:
    """Shortest series the architecture takes: the STFT's reflection padding needs
    ``L > n_fft // 2`` and one strided block needs at least two frames; ``n_fft``
    satisfies both with a margin."""
    return max(n_fft, 4)


def recon_loss(x: torch.Tensor, x_hat: torch.Tensor, u: torch.Tensor, u_hat: torch.Tensor):
    """MSE in the time domain plus MSE in the time-frequency domain."""
    return F.mse_loss(x_hat, x) + F.mse_loss(u_hat, u)


@dataclass(frozen=True)
class Stage1Output(ModelOutput):
    """:class:`ModelOutput` of stage 1, with the reconstruction and the tokens.

    ``terms`` holds every loss term and the codebook perplexity, keyed by
    :data:`LOSS_TERMS`; ``x_hat`` is the reconstruction ``(B, C, L)`` and
    ``indices`` the token grid ``(B, H, W)``.
    """

    x_hat: torch.Tensor | None = None
    indices: torch.Tensor | None = None


class NCVQVAEModule(nn.Module):
    """The stage-1 network for series of shape ``(B, n_channels, n_timepoints)``.

    Parameters
    ----------
    n_channels, n_timepoints : int
        Input shape (``n_timepoints >= min_length(n_fft)``).
    n_fft : int
        STFT size; ``n_fft // 2 + 1`` frequency rows.
    hop_length : int or None
        STFT hop, 1 to ``n_fft // 2``; ``None`` is ``n_fft // 4``.
    hidden_dim : int
        Width of the encoder and decoder convolutions.
    codebook_size, codebook_dim : int
        Number and dimension of the codes.
    n_resnet_blocks : int
        Residual blocks in the encoder and in the decoder.
    downsampled_width : int
        Target width of the latent grid (sets the number of strided blocks).
    ssl : {"barlowtwins", "vibcreg"} or None
        The non-contrastive loss; ``None`` is naive TimeVQVAE.
    augmentations : sequence of str
        Augmentations producing the second view (see :func:`~skncvqvae.nn.augment`).
    aug_recon_weight, ssl_weight : float
        Weights of the augmented branch's reconstruction loss and of the SSL loss.
    projector_dim : int
        Width of the projector.
    codebook_decay, commitment_weight : float
        EMA decay and commitment weight of the quantizer.
    frequency_split : int or None
        ``None``: one encoder, codebook and decoder for the whole STFT image (naive
        TimeVQVAE). An int ``s``: TimeVQVAE's split into a low-frequency stream (the
        lowest ``s`` rows) and a high-frequency stream (the others), each with its own
        encoder, ``codebook_size`` codes and decoder (:mod:`~skncvqvae.nn._streams`); ids
        of the high-frequency rows are offset by ``codebook_size``.
    """

    def __init__(
        self,
        n_channels: int,
        n_timepoints: int,
        *,
        n_fft: int = 8,
        hop_length: int | None = None,
        hidden_dim: int = 64,
        codebook_size: int = 32,
        codebook_dim: int = 64,
        n_resnet_blocks: int = 4,
        downsampled_width: int = 8,
        ssl: str | None = "barlowtwins",
        augmentations=("slice_and_shuffle",),
        aug_recon_weight: float = 0.1,
        ssl_weight: float = 1.0,
        projector_dim: int = 4096,
        codebook_decay: float = 0.8,
        commitment_weight: float = 1.0,
        frequency_split: int | None = None,
    ):
        super().__init__()
        if n_timepoints < min_length(n_fft):
            raise ValueError(
                f"n_timepoints={n_timepoints} is below the minimum {min_length(n_fft)} "
                f"for n_fft={n_fft}."
            )
        if hop_length is not None and not 1 <= hop_length <= n_fft // 2:
            raise ValueError(
                f"hop_length must be in [1, n_fft // 2 = {n_fft // 2}]; got {hop_length}."
            )
        if ssl is not None and ssl not in SSL_LOSSES:
            raise ValueError(f"ssl must be one of {sorted(SSL_LOSSES)} or None; got {ssl!r}.")
        self.n_channels = n_channels
        self.n_timepoints = n_timepoints
        self.n_fft = n_fft
        self.hop_length = hop_length
        self.ssl = ssl
        self.augmentations = check_augmentations(augmentations)
        self.aug_recon_weight = aug_recon_weight
        self.ssl_weight = ssl_weight

        n_freq, n_frames = stft_shape(n_timepoints, n_fft, hop_length)
        self.n_down = n_downsampling(n_timepoints, n_fft, downsampled_width)
        self.token_shape = (n_freq, latent_width(n_frames, self.n_down))
        if self.token_shape[1] < 1:
            raise ValueError(
                f"n_timepoints={n_timepoints} is too short for {self.n_down} downsampling "
                "steps; increase downsampled_width."
            )
        self.frequency_split = frequency_split
        self.bands = frequency_bands(n_freq, frequency_split)
        quantizer_args = dict(decay=codebook_decay, commitment_weight=commitment_weight)
        if frequency_split is None:  # the module names of the single-stream model are kept
            self.encoder = Encoder(
                2 * n_channels, hidden_dim, codebook_dim, self.n_down, n_resnet_blocks
            )
            self.quantizer = VectorQuantizer(codebook_size, codebook_dim, **quantizer_args)
            self.decoder = Decoder(
                codebook_dim,
                hidden_dim,
                2 * n_channels,
                self.n_down,
                n_resnet_blocks,
                (n_freq, n_frames),
            )
        else:
            args = (hidden_dim, codebook_dim, self.n_down, n_resnet_blocks)
            self.encoder = BandEncoder(self.bands, 2 * n_channels, *args)
            self.quantizer = BandQuantizer(
                self.bands, codebook_size, codebook_dim, **quantizer_args
            )
            self.decoder = BandDecoder(
                self.bands,
                codebook_dim,
                hidden_dim,
                2 * n_channels,
                self.n_down,
                n_resnet_blocks,
                n_frames,
            )
        #: Token ids in use: ``codebook_size`` per stream.
        self.n_codes = self.quantizer.codebook_size
        self.projector = (
            None
            if ssl is None
            else Projector(2 * codebook_dim, projector_dim, iternorm=ssl == "vibcreg")
        )

    # -- inference -----------------------------------------------------------
    def latent(self, x: torch.Tensor) -> torch.Tensor:
        """``x (B, C, L) -> z (B, D, H, W)``: the continuous latent, before quantization."""
        return self.encoder(stft(x, self.n_fft, self.hop_length))

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``x (B, C, L) -> (z_q (B, D, H, W), indices (B, H, W))``."""
        q = self.quantizer(self.latent(x))
        return q.quantized, q.indices

    def decode_latent(self, z_q: torch.Tensor) -> torch.Tensor:
        """Latent grid ``(B, D, H, W)`` to series ``(B, C, L)``."""
        return istft(self.decoder(z_q), self.n_fft, self.n_timepoints, self.hop_length)

    def decode_indices(self, indices: torch.Tensor) -> torch.Tensor:
        """Token ids ``(B, H, W)`` to series ``(B, C, L)``."""
        return self.decode_latent(self.quantizer.codes_to_latent(indices))

    # -- training ------------------------------------------------------------
    def decoder_loss(self, indices: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        """Reconstruction loss of the decoder alone: the token grids ``indices``
        decoded against the series ``x`` (for fine-tuning the decoder on fixed tokens)."""
        u_hat = self.decoder(self.quantizer.codes_to_latent(indices))
        x_hat = istft(u_hat, self.n_fft, self.n_timepoints, self.hop_length)
        return recon_loss(x, x_hat, stft(x, self.n_fft, self.hop_length), u_hat)

    def _branch(self, x: torch.Tensor, quantize, generator=None):
        """One branch: ``(latent fed to the decoder, quantizer output or None, x_hat, recon)``."""
        u = stft(x, self.n_fft, self.hop_length)
        z = self.encoder(u)
        q = self.quantizer(z, generator) if quantize else None
        latent = q.quantized if quantize else z
        u_hat = self.decoder(latent)
        x_hat = istft(u_hat, self.n_fft, self.n_timepoints, self.hop_length)
        return latent, q, x_hat, recon_loss(x, x_hat, u, u_hat)

    def forward(self, x: torch.Tensor, generator: torch.Generator | None = None) -> Stage1Output:
        z_q, q, x_hat, recon = self._branch(x, quantize=True, generator=generator)
        zero = recon.new_zeros(())
        aug_recon = ssl_loss = zero
        if self.ssl is not None:
            with torch.no_grad():
                x_aug = augment(x, self.augmentations, generator)
            z_aug, _, _, aug_recon = self._branch(x_aug, quantize=False)
            if x.shape[0] > 1:  # batch statistics need two samples
                ssl_loss = SSL_LOSSES[self.ssl](
                    *self.projector.forward_views(global_pool(z_q), global_pool(z_aug))
                )
        loss = (
            recon
            + q.commitment_loss
            + self.aug_recon_weight * aug_recon
            + self.ssl_weight * ssl_loss
        )
        values = (loss, recon, q.commitment_loss, aug_recon, ssl_loss, q.perplexity)
        terms = {name: value.detach() for name, value in zip(LOSS_TERMS, values)}
        return Stage1Output(loss=loss, x_hat=x_hat, indices=q.indices, terms=terms)
