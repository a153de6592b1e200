"""NC-VQVAE for time series as scikit-learn estimators.

- :class:`NCVQVAETokenizer`: stage 1, a time-frequency VQ-VAE with a
  non-contrastive self-supervised loss, as a transformer.
- :class:`NCVQVAEGenerator`: stages 1 and 2 (a MaskGIT prior over the tokens),
  for class-conditional sampling and over-sampling.
- :mod:`skncvqvae.nn`: the torch modules (thesis defaults), free of scikit-learn.
- :mod:`skncvqvae.metrics`: FID, IS, CAS, the linear probe and the FCN
  classifier, below the estimators;
- :mod:`skncvqvae.evaluation`: the report, its figures and dataset helpers,
  above them.
"""

from ._accelerate import use_accelerator
from ._persistence import load
from ._training import NonFiniteLossError
from ._version import __version__
from .generator import NCVQVAEGenerator
from .tokenizer import NCVQVAETokenizer

__all__ = [
    "NCVQVAEGenerator",
    "NCVQVAETokenizer",
    "NonFiniteLossError",
    "__version__",
    "load",
    "use_accelerator",
]
