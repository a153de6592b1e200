"""FCNClassifier (skncvqvae.metrics): TimeVQVAE's evaluation FCN as a scikit-learn classifier."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from sklearn.base import clone

from skncvqvae.metrics import (
    FCNClassifier,
    cas_score,
    fid_score,
    make_classifier,
    make_feature_extractor,
)

from _helpers import make_two_class

TINY_FCN = FCNClassifier._get_test_params()


@pytest.fixture(scope="module")
def fcn_data():
    X, y = make_two_class(seed=9)
    X_test, y_test = make_two_class(seed=10)
    return X, y, X_test, y_test


def test_fcn_learns_and_is_reproducible(fcn_data):
    X, y, X_test, y_test = fcn_data
    state = torch.random.get_rng_state()
    clf = FCNClassifier(max_epochs=10, batch_size=16, random_state=0).fit(X, y)
    assert torch.equal(state, torch.random.get_rng_state())
    assert set(clf.classes_) == {"low", "high"}
    assert clf.score(X_test, y_test) > 0.9
    proba = clf.predict_proba(X_test)
    assert proba.shape == (len(X_test), 2)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, atol=1e-5)
    assert np.all(np.isin(clf.predict(X_test), ["low", "high"]))
    assert clf.transform(X_test).shape == (len(X_test), 128)
    again = clone(clf).fit(X, y)
    np.testing.assert_array_equal(again.predict_proba(X_test), proba)


def test_fcn_channel_mismatch_and_feature_extractor(fcn_data):
    X, y, _, _ = fcn_data
    clf = FCNClassifier(max_epochs=2, random_state=0).fit(X[:, None, :], y)
    with pytest.raises(ValueError, match="channel"):
        clf.predict(np.repeat(X[:, None, :], 2, axis=1))
    with pytest.raises(ValueError, match="labels"):
        FCNClassifier(max_epochs=1).fit(X, y[:-1])


@pytest.mark.slow
def test_fcn_kind_defaults(fcn_data):
    X, y, X_test, y_test = fcn_data
    extractor = make_feature_extractor(X, kind="fcn", y_fit=y)
    assert extractor.transform(X_test).shape == (len(X_test), 128)
    clf = make_classifier(X, y, kind="fcn")
    assert cas_score(X, y, X_test, y_test, classifier=clf) > 0.9
    same = fid_score(X, X_test, feature_extractor=extractor)
    assert same < fid_score(X, X_test * 3.0, feature_extractor=extractor)


def test_fcn_history_and_standardisation(fcn_data):
    X, y, _, _ = fcn_data
    X_big = X * 1000.0 + 5.0
    clf = FCNClassifier(**{**TINY_FCN, "max_epochs": 3}).fit(X_big, y)
    assert [sorted(h) for h in clf.history_] == [["accuracy", "loss"]] * 3
    np.testing.assert_allclose(clf.mean_, [X_big.mean()], rtol=1e-5)
    np.testing.assert_allclose(clf.scale_, [X_big.std()], rtol=1e-5)
    assert (
        clf.n_channels_ == 1
        and clf.n_timepoints_ == X.shape[1]
        and clf.n_features_in_ == X.shape[1]
    )


def test_fcn_loss_falls(fcn_data):
    X, y, _, _ = fcn_data
    losses = [h["loss"] for h in FCNClassifier(**{**TINY_FCN, "max_epochs": 8}).fit(X, y).history_]
    assert losses[-1] < losses[0]
