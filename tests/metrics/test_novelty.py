"""Novelty metrics (skncvqvae/metrics/_novelty.py): copies score 1 / 0, fresh data 0.5 / 1."""

import numpy as np
import pytest

from skncvqvae.metrics import (
    closer_to_train_share,
    copied_token_share,
    dcr_ratio,
    distance_to_closest_record,
)


def _draw(n, seed, length=60):
    """Noisy sines of random frequency and phase: one distribution, ``(n, 1, length)``."""
    rng = np.random.default_rng(seed)
    t = np.linspace(0, 1, length)
    freq = rng.uniform(1, 4, size=(n, 1, 1))
    phase = rng.uniform(0, 2 * np.pi, size=(n, 1, 1))
    return np.sin(2 * np.pi * freq * t + phase) + 0.3 * rng.standard_normal((n, 1, length))


@pytest.fixture(scope="module")
def splits():
    return _draw(60, 0), _draw(60, 1), _draw(300, 2)  # train, held-out, fresh "samples"


def test_distance_to_closest_record_is_zero_for_members_and_scale_free():
    X = _draw(10, 0)
    assert distance_to_closest_record(X, X) == pytest.approx(np.zeros(10), abs=1e-6)
    # per-series z-normalisation: an offset and a scale change nothing
    assert distance_to_closest_record(5 * X + 3, X) == pytest.approx(np.zeros(10), abs=1e-6)
    d = distance_to_closest_record(_draw(4, 1)[:, 0], X)  # 2D input reads as univariate
    assert d.shape == (4,) and (d > 0).all()


def test_copies_score_as_copies(splits):
    train, holdout, _ = splits
    near_copies = train + 0.01 * np.random.default_rng(3).standard_normal(train.shape)
    assert closer_to_train_share(near_copies, train, holdout) == 1.0
    assert dcr_ratio(near_copies, train, holdout) < 0.1


def test_fresh_real_series_score_as_new(splits):
    train, holdout, fresh = splits
    assert 0.35 <= closer_to_train_share(fresh, train, holdout) <= 0.65
    assert 0.8 <= dcr_ratio(fresh, train, holdout) <= 1.25


def test_smoother_samples_stay_near_one_half(splits):
    train, holdout, fresh = splits
    kernel = np.ones(5) / 5
    smooth = np.apply_along_axis(lambda s: np.convolve(s, kernel, mode="same"), 2, fresh)
    assert 0.35 <= closer_to_train_share(smooth, train, holdout) <= 0.65


def test_unequal_reference_sizes_are_subsampled_reproducibly(splits):
    train, holdout, fresh = splits
    a = closer_to_train_share(fresh, train, holdout[:20], random_state=0)
    assert a == closer_to_train_share(fresh, train, holdout[:20], random_state=0)
    assert 0.3 <= a <= 0.7


def test_copied_token_share_counts_identical_grids():
    train = np.arange(24).reshape(4, 2, 3)
    generated = np.concatenate([train[:2], train[:1] + 1, np.zeros((1, 2, 3), dtype=int)])
    assert copied_token_share(generated, train) == 0.5
    assert copied_token_share(generated.reshape(4, -1), train.reshape(4, -1)) == 0.5


@pytest.mark.parametrize(
    "call",
    [
        lambda: distance_to_closest_record(np.zeros((2, 1, 10)), np.zeros((2, 1, 12))),
        lambda: closer_to_train_share(np.zeros((2, 10)), np.zeros((3, 10)), np.zeros((3, 11))),
        lambda: copied_token_share(np.zeros((2, 4), dtype=int), np.zeros((2, 5), dtype=int)),
    ],
)
def test_mismatched_shapes_raise(call):
    with pytest.raises(ValueError, match="must have the same channels and length"):
        call()
