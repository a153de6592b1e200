"""NC-VQVAE for time series as scikit-learn estimators.

- :class:`NCVQVAETokenizer`: stage 1, a time-frequency VQ-VAE with a
  non-contrastive self-supervised loss, as a transformer.
- :class:`NCVQVAEGenerator`: stages 1 and 2 (a MaskGIT prior over the tokens),
  for class-conditional sampling and over-sampling.
- :mod:`skncvqvae.nn`: the torch modules (thesis defaults), free of scikit-learn.
- :mod:`skncvqvae.evaluation`: FID, IS, CAS, the linear probe, the FCN
  classifier, the report and its figures (:mod:`skncvqvae.metrics` re-exports
  the metrics).
"""

from ._accelerate import use_accelerator
from ._persistence import load
from ._training import NonFiniteLossError
from .generator import NCVQVAEGenerator
from .tokenizer import NCVQVAETokenizer

__version__ = "0.1.0"

__all__ = [
    "NCVQVAEGenerator",
    "NCVQVAETokenizer",
    "NonFiniteLossError",
    "__version__",
    "load",
    "use_accelerator",
]
