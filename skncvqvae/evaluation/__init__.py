"""The thesis's comparison as a report, its figures, and dataset helpers.

- :class:`ReportConfig`, :func:`run_report` (the ``skncvqvae report`` command).
- Figures: ``plot_*`` and :func:`save_figure`.
- Data: :func:`load_dataset` (aeon's bundled datasets and local files).

This package builds on the estimators; the metrics it reports are in
:mod:`skncvqvae.metrics`, below them.
"""

from ._datasets import BUNDLED, load_dataset
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
    "ReportConfig",
    "load_dataset",
    "plot_codebook_usage",
    "plot_embeddings",
    "plot_reconstructions",
    "plot_samples_by_class",
    "plot_training_curves",
    "run_report",
    "save_figure",
]
