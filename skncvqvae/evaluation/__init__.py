"""Evaluation of NC-VQVAE: metrics, reference classifiers, the report, plots and data.

- Metrics (plain functions, deterministic for a ``random_state``):
  :func:`frechet_distance`, :func:`feature_statistics`, :func:`fid_score`,
  :func:`inception_score`, :func:`cas_score` and the thesis's
  :func:`linear_probe`.
- Feature extractors and classifiers fitted on real data:
  :func:`make_feature_extractor`, :func:`make_classifier` (MiniRocket by
  default) and :class:`FCNClassifier`.
- The thesis's comparison: :class:`ReportConfig`, :func:`run_report` (the
  ``skncvqvae report`` command).
- Figures: ``plot_*`` and :func:`save_figure`.
- Data: :func:`load_dataset` (aeon's bundled datasets and local files).
"""

from ._datasets import BUNDLED, load_dataset
from ._fcn import FCNClassifier
from ._features import make_classifier, make_feature_extractor
from ._metrics import (
    cas_score,
    feature_statistics,
    fid_score,
    frechet_distance,
    inception_score,
    linear_probe,
)
from ._plotting import (
    plot_codebook_usage,
    plot_embeddings,
    plot_reconstructions,
    plot_samples_by_class,
    plot_training_curves,
    save_figure,
)
from ._report import VARIANTS, ReportConfig, run_report

__all__ = [
    "BUNDLED",
    "VARIANTS",
    "FCNClassifier",
    "ReportConfig",
    "cas_score",
    "feature_statistics",
    "fid_score",
    "frechet_distance",
    "inception_score",
    "linear_probe",
    "load_dataset",
    "make_classifier",
    "make_feature_extractor",
    "plot_codebook_usage",
    "plot_embeddings",
    "plot_reconstructions",
    "plot_samples_by_class",
    "plot_training_curves",
    "run_report",
    "save_figure",
]
