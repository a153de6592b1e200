"""Metrics of generated series and of representations, and the classifiers they use.

Plain functions, deterministic for a given ``random_state``; collections are
arrays ``(n_cases, n_channels, n_timepoints)`` or ``(n_cases, n_timepoints)``.

- Generation: :func:`frechet_distance`, :func:`feature_statistics`,
  :func:`fid_score`, :func:`inception_score`, :func:`cas_score`.
- Novelty of generated series (are they new, or copies?):
  :func:`closer_to_train_share`, :func:`dcr_ratio`,
  :func:`distance_to_closest_record`, :func:`copied_token_share`.
- Representations: the thesis's :func:`linear_probe`.
- Feature extractors and classifiers fitted on real data:
  :func:`make_feature_extractor`, :func:`make_classifier` (MiniRocket by
  default) and :class:`FCNClassifier`.

This package sits below the estimators (:meth:`NCVQVAEGenerator.score
<skncvqvae.NCVQVAEGenerator.score>` uses it); the report, its figures and the
dataset helpers are in :mod:`skncvqvae.evaluation`, above them.
"""

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
from ._novelty import (
    closer_to_train_share,
    copied_token_share,
    dcr_ratio,
    distance_to_closest_record,
)

__all__ = [
    "FCNClassifier",
    "cas_score",
    "closer_to_train_share",
    "copied_token_share",
    "dcr_ratio",
    "distance_to_closest_record",
    "feature_statistics",
    "fid_score",
    "frechet_distance",
    "inception_score",
    "linear_probe",
    "make_classifier",
    "make_feature_extractor",
]
