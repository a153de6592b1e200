"""Generation and representation metrics (the public ``skncvqvae.metrics`` namespace).

The implementations live in :mod:`skncvqvae.evaluation`; this module keeps the
names that ``docs/`` and users import from ``skncvqvae.metrics``.
"""

from .evaluation import (
    FCNClassifier,
    cas_score,
    feature_statistics,
    fid_score,
    frechet_distance,
    inception_score,
    linear_probe,
    make_classifier,
    make_feature_extractor,
)

__all__ = [
    "FCNClassifier",
    "cas_score",
    "feature_statistics",
    "fid_score",
    "frechet_distance",
    "inception_score",
    "linear_probe",
    "make_classifier",
    "make_feature_extractor",
]
