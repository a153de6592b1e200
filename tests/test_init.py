"""The package's namespaces: what ``skncvqvae`` and its subpackages expose."""

from __future__ import annotations

import skncvqvae.evaluation
import skncvqvae.metrics


def test_the_metrics_are_in_skncvqvae_metrics_and_not_in_the_evaluation():
    """The metrics, feature extractors and FCNClassifier moved from
    ``skncvqvae.evaluation`` to ``skncvqvae.metrics``, below the estimators; the
    evaluation (report, figures, datasets) no longer re-exports them."""
    assert callable(skncvqvae.metrics.fid_score)
    assert not hasattr(skncvqvae.evaluation, "fid_score")
    for name in skncvqvae.metrics.__all__:
        assert hasattr(skncvqvae.metrics, name), name
        assert not hasattr(skncvqvae.evaluation, name), name
        assert name not in skncvqvae.evaluation.__all__, name
