"""Tests for skncvqvae.metrics."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer

from skncvqvae.metrics import (
    cas_score,
    feature_statistics,
    fid_score,
    frechet_distance,
    inception_score,
    linear_probe,
    make_classifier,
    make_feature_extractor,
)

from _helpers import make_two_class


def _sines(n=30, length=40, offset=0.0, n_channels=1, seed=0):
    rng = np.random.default_rng(seed)
    t = np.linspace(0, 1, length)
    phase = rng.uniform(0, 2 * np.pi, size=(n, n_channels, 1))
    X = np.sin(2 * np.pi * 3 * t + phase) + 0.2 * rng.standard_normal((n, n_channels, length))
    return X + offset


def _flatten(X):
    return X.reshape(X.shape[0], -1)


class _ConstantProba:
    def __init__(self, proba):
        self.proba = np.asarray(proba, dtype=float)

    def predict_proba(self, X):
        return np.tile(self.proba, (len(X), 1))


class _CyclingOneHot:
    def __init__(self, n_classes):
        self.n_classes = n_classes

    def predict_proba(self, X):
        return np.eye(self.n_classes)[np.arange(len(X)) % self.n_classes]


# frechet_distance / feature_statistics


def test_frechet_distance_self_is_zero():
    rng = np.random.default_rng(0)
    A = rng.standard_normal((5, 5))
    sigma = A @ A.T + np.eye(5)
    mu = rng.standard_normal(5)
    assert frechet_distance(mu, sigma, mu, sigma) == pytest.approx(0.0, abs=1e-8)


def test_frechet_distance_diagonal_closed_form():
    rng = np.random.default_rng(1)
    mu1, mu2 = rng.standard_normal(4), rng.standard_normal(4)
    s1, s2 = rng.uniform(0.1, 3, 4), rng.uniform(0.1, 3, 4)
    expected = np.sum((mu1 - mu2) ** 2) + np.sum(s1 + s2 - 2 * np.sqrt(s1 * s2))
    got = frechet_distance(mu1, np.diag(s1), mu2, np.diag(s2))
    assert got == pytest.approx(expected, abs=1e-6)


def test_frechet_distance_singular_covariances():
    mu = np.zeros(3)
    s1, s2 = np.array([1.0, 0.0, 2.0]), np.array([0.0, 3.0, 1.0])
    expected = np.sum(s1 + s2 - 2 * np.sqrt(s1 * s2))
    got = frechet_distance(mu, np.diag(s1), mu, np.diag(s2))
    assert got == pytest.approx(expected, abs=1e-4)
    zeros = np.zeros((3, 3))
    assert frechet_distance(mu, zeros, mu + 1, zeros) == pytest.approx(3.0)
    rng = np.random.default_rng(2)
    _, low_rank1 = feature_statistics(rng.standard_normal((3, 6)))
    _, low_rank2 = feature_statistics(rng.standard_normal((4, 6)))
    value = frechet_distance(np.zeros(6), low_rank1, np.zeros(6), low_rank2)
    assert np.isfinite(value) and value >= 0


def test_frechet_distance_validation():
    with pytest.raises(ValueError, match="same length"):
        frechet_distance(np.zeros(3), np.eye(3), np.zeros(2), np.eye(2))
    with pytest.raises(ValueError, match="sigma2"):
        frechet_distance(np.zeros(3), np.eye(3), np.zeros(3), np.eye(2))
    with pytest.raises(ValueError, match="imaginary"):
        frechet_distance(np.zeros(2), np.diag([-1.0, 1.0]), np.zeros(2), np.eye(2))


def test_feature_statistics():
    rng = np.random.default_rng(3)
    F = rng.standard_normal((20, 4))
    mu, sigma = feature_statistics(F)
    np.testing.assert_allclose(mu, F.mean(axis=0))
    np.testing.assert_allclose(sigma, np.cov(F, rowvar=False))
    mu1, sigma1 = feature_statistics(F[:1])
    np.testing.assert_allclose(mu1, F[0])
    np.testing.assert_array_equal(sigma1, np.zeros((4, 4)))
    with pytest.raises(ValueError, match="Expected 2D array"):
        feature_statistics(np.zeros(4))


# fid_score


def test_fid_grows_with_offset():
    X_real = _sines(seed=0)
    extractor = make_feature_extractor(X_real, random_state=0)
    fids = [
        fid_score(X_real, _sines(seed=1, offset=off), feature_extractor=extractor)
        for off in (0.0, 0.3, 0.6, 1.2)
    ]
    assert all(a < b for a, b in zip(fids, fids[1:])), fids


def test_fid_self_is_zero_and_deterministic():
    X = _sines(seed=0)
    assert fid_score(X, X) == pytest.approx(0.0, abs=1e-6)
    Y = _sines(seed=1, offset=0.5)
    assert fid_score(X, Y, random_state=3) == fid_score(X, Y, random_state=3)


def test_fid_matches_frechet_distance_of_statistics():
    # more features (80) than samples (20 and 25): the low-rank path is used
    rng = np.random.default_rng(4)
    X, Y = rng.standard_normal((20, 2, 40)), rng.standard_normal((25, 2, 40)) + 0.3
    extractor = FunctionTransformer(_flatten)
    expected = frechet_distance(*feature_statistics(_flatten(X)), *feature_statistics(_flatten(Y)))
    got = fid_score(X, Y, feature_extractor=extractor)
    assert got == pytest.approx(expected, rel=1e-6)


def test_fid_shape_mismatch():
    X = _sines(n=10, length=20)
    with pytest.raises(ValueError, match="channels"):
        fid_score(X, _sines(n=10, length=20, n_channels=2))
    with pytest.raises(ValueError, match="length"):
        fid_score(X, _sines(n=10, length=25))


# feature extractor


def test_feature_extractor_short_and_multivariate():
    X_short = _sines(n=12, length=5)
    F = make_feature_extractor(X_short).transform(X_short[:, 0, :])
    assert F.shape[0] == 12 and F.ndim == 2 and np.isfinite(F).all()
    X_multi = _sines(n=12, length=20, n_channels=3)
    F = make_feature_extractor(X_multi).transform(X_multi)
    assert F.shape[0] == 12 and F.ndim == 2 and np.isfinite(F).all()


def test_feature_extractor_kind_validation():
    X = _sines(n=6, length=12)
    with pytest.raises(ValueError, match="y_fit"):
        make_feature_extractor(X, kind="fcn")
    with pytest.raises(ValueError, match="kind"):
        make_feature_extractor(X, kind="rocket")
    with pytest.raises(ValueError, match="kind"):
        make_classifier(X, np.arange(6) % 2, kind="rocket")


# inception_score


def test_inception_score_bounds():
    X = np.zeros((30, 1, 10))
    assert inception_score(X, _ConstantProba([0.0, 1.0, 0.0])) == pytest.approx(1.0)
    assert inception_score(X, _CyclingOneHot(3)) == pytest.approx(3.0, rel=1e-6)
    rng = np.random.default_rng(5)
    proba = rng.dirichlet(np.ones(4), size=30)
    stub = type("Stub", (), {"predict_proba": lambda self, X: proba})()
    assert 1.0 <= inception_score(X, stub) <= 4.0


# cas_score


@pytest.fixture(scope="module")
def gunpoint():
    from aeon.datasets import load_gunpoint

    X_train, y_train = load_gunpoint(split="train")
    X_test, y_test = load_gunpoint(split="test")
    return X_train, y_train, X_test, y_test


def test_cas_trtr_on_gunpoint(gunpoint):
    X_train, y_train, X_test, y_test = gunpoint
    score = cas_score(X_train, y_train, X_test, y_test)
    expected = make_classifier(X_train, y_train).score(X_test, y_test)
    assert score == pytest.approx(expected)
    assert score > 0.8
    proba = make_classifier(X_train, y_train).predict_proba(X_test)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)


def test_cas_with_classifier_template():
    X, y = make_two_class(seed=6)
    X_test, y_test = make_two_class(seed=7)
    template = make_pipeline(FunctionTransformer(_flatten), LogisticRegression())
    assert cas_score(X[:, None, :], y, X_test, y_test, classifier=template) > 0.9
    assert not hasattr(template[-1], "coef_")
    with pytest.raises(ValueError, match="length"):
        cas_score(X, y, X_test[:, :20], y_test, classifier=template)


# linear_probe


def test_linear_probe_separable():
    rng = np.random.default_rng(8)
    y = np.repeat([0, 1, 2], 20)
    centres = 4 * rng.standard_normal((3, 6))
    F = centres[y] + rng.standard_normal((60, 6))
    F_test = centres[y] + rng.standard_normal((60, 6))
    scores = linear_probe(F, y, F_test, y)
    assert set(scores) == {"svm", "knn"}
    assert all(0.0 <= v <= 1.0 for v in scores.values())
    assert scores["svm"] > 0.9 and scores["knn"] > 0.9
    small = linear_probe(F[[0, 20, 40]], y[[0, 20, 40]], F_test, y)
    assert all(0.0 <= v <= 1.0 for v in small.values())


def test_minirocket_metrics_leave_numpy_global_rng_and_torch_threads():
    X = _sines(n=12, length=32)
    np.random.seed(123)
    expected = np.random.rand()
    np.random.seed(123)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        fid_score(X, X + 0.5)
        assert torch.get_num_threads() == 1
    finally:
        torch.set_num_threads(threads)
    assert np.random.rand() == expected


class _Counting:
    """A transformer that counts its calls (module level, so that it pickles)."""

    calls = 0

    def transform(self, X):
        _Counting.calls += 1
        return np.asarray(X).reshape(len(X), -1) * 2.0


def test_cached_transform_computes_a_remembered_collection_once():
    import pickle

    from skncvqvae.metrics._features import CachedTransform

    _Counting.calls = 0
    X, _ = make_two_class(n=6, length=12)
    other = X + 1.0
    cached = CachedTransform(_Counting()).remember(X)
    assert _Counting.calls == 1
    np.testing.assert_array_equal(cached.transform(X.copy()), X.reshape(6, -1) * 2)
    assert _Counting.calls == 1  # recognised by value, not identity
    features = cached.transform(X)
    features[:] = 0  # callers get a copy
    np.testing.assert_array_equal(cached.transform(X), X.reshape(6, -1) * 2)
    np.testing.assert_array_equal(cached.transform(other), other.reshape(6, -1) * 2)
    cached.transform(other)
    assert _Counting.calls == 3  # other inputs are not stored
    restored = pickle.loads(pickle.dumps(cached))  # what a report worker receives
    restored.transform(X)
    assert _Counting.calls == 3
