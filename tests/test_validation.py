"""Tests for skncvqvae._validation: what reaches the models. Checks of the input
and their messages (through the estimators, which validate with it), the
standardisation of data of any scale and offset, unequal-length strategies."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from sklearn.exceptions import NotFittedError
from sklearn.utils.validation import check_is_fitted

from skncvqvae import NCVQVAEGenerator, NCVQVAETokenizer

from _helpers import PROPERTY, TINY_GENERATOR, make_sines

TINY = NCVQVAETokenizer._get_test_params()


def _tokenizer(**params):
    return NCVQVAETokenizer(**{**TINY, **params})


# -- scale and offset --------------------------------------------------------------------
@PROPERTY
@given(
    log_scale=st.floats(-30, 30),
    offset=st.one_of(st.just(0.0), st.floats(-1e12, 1e12, allow_nan=False)),
)
def test_scale_and_offset_reach_the_model_as_the_same_series(log_scale, offset):
    # The contract: a model fitted on a * X + b sees (up to float32 rounding) the
    # series that a model fitted on X sees, for any a, b a float64 user can have.
    X = make_sines(n=12, length=32)
    a = 10.0**log_scale
    # A spread within 16 float64 ulps of the magnitude is rounding noise, and the
    # estimators call such a channel constant (see test_constant_channel_stays_constant).
    assume(a * X.std() > 64 * np.finfo(np.float64).eps * (abs(offset) + a * abs(X).max()))
    tok_ref, tok = _tokenizer(max_epochs=1).fit(X), _tokenizer(max_epochs=1).fit(a * X + offset)
    X3, standardise = tok_ref._prepare(X)
    reference = standardise(X3).numpy()
    X3, standardise = tok._prepare(a * X + offset)
    moved = standardise(X3).numpy()
    # float64 keeps 1e-16 of the largest value: an offset costs that much of the series
    atol = 1e-5 + 4e-16 * abs(offset) / (a * X.std())
    np.testing.assert_allclose(moved, reference, rtol=1e-5, atol=atol)
    features = tok.transform(a * X + offset)
    assert np.isfinite(features).all() and features.std(axis=0).max() > 0


@pytest.mark.parametrize("a, b", [(1.0, 1e8), (1e-9, 0.0), (1e-9, 3.0), (1e30, -5.0)])
def test_issue_cases_keep_the_data(a, b):
    # Before: an offset of 1e8 (float32 cast before centring) and a scale of 1e-9
    # (fixed 1e-8 'constant' threshold) gave features with zero spread.
    X = make_sines(n=12, length=32)
    tok = _tokenizer().fit(a * X + b)
    assert tok.transform(a * X + b).std(axis=0).max() > 0
    # reconstructions come back in data space, around b at the scale of a
    assert abs(tok.reconstruct(a * X + b).mean() - (a * X + b).mean()) < 3 * a * X.std()


def test_scaling_by_a_power_of_two_is_exact():
    X = make_sines(n=12, length=32)
    ref = _tokenizer().fit(X).transform(X)
    np.testing.assert_array_equal(_tokenizer().fit(X * 2.0**-40).transform(X * 2.0**-40), ref)


def test_constant_channel_stays_constant():
    X = make_sines(n=12, length=32, n_channels=2)
    X[:, 1] = 1e8
    tok = _tokenizer().fit(X)
    assert tok.scale_[1] == 1.0 and tok.mean_[1] == 1e8
    np.testing.assert_allclose(tok.reconstruct(X)[:, 1], 1e8, rtol=1e-6)


@pytest.mark.parametrize("factor", [1e39, 1e300, -1e200])
def test_values_beyond_float32_are_rejected(factor):
    # Before: 1e300 gave NaN features with numpy warnings; 1e39 mapped all to token 0.
    X = make_sines(n=12, length=32)
    with pytest.raises(ValueError, match="beyond float32's range"):
        _tokenizer().fit(X * factor)
    tok = _tokenizer().fit(X)
    with pytest.raises(ValueError, match="beyond float32's range"):
        tok.transform(X * factor)


# -- non-finite values, bad arrays, channels and lengths ----------------------------------
@PROPERTY
@given(
    case=st.integers(0, 11),
    channel=st.integers(0, 1),
    t=st.integers(0, 31),
    value=st.sampled_from([np.nan, np.inf, -np.inf]),
)
def test_non_finite_values_anywhere_are_rejected(case, channel, t, value):
    X = make_sines(n=12, length=32, n_channels=2)
    X[case, channel, t] = value
    with pytest.raises(ValueError, match="NaN|infinity"):
        _tokenizer().fit(X)


BAD_INPUTS = [
    (np.full((5, 1, 24), np.nan), "NaN"),
    (np.where(np.eye(5, 24) > 0, np.inf, 0.0), "infinity"),
    (np.arange(24.0), "2D array .* 3D array"),
    (np.zeros((2, 1, 3, 24)), "4 dimension"),
    (np.empty((0, 1, 24)), "0 sample"),
    (np.empty((0, 24)), "0 sample"),
    (np.empty((5, 1, 0)), "empty"),
    (np.empty((5, 0)), "0 feature"),
    (np.array([["a", "b", "c", "d"]] * 3), "string|numeric"),
    (np.array([["a", "b", "c", "d"]] * 3, dtype=object), "string"),
]


@pytest.mark.parametrize("X, match", BAD_INPUTS)
def test_fit_rejects_bad_input_and_stays_unfitted(X, match):
    tok = NCVQVAETokenizer(**TINY)
    with pytest.raises(ValueError, match=match):
        tok.fit(X)
    with pytest.raises(NotFittedError):
        check_is_fitted(tok)
    assert not hasattr(tok, "net_") and not hasattr(tok, "mean_")


def test_nan_in_one_value_rejected():
    X = np.random.default_rng(0).standard_normal((5, 1, 24))
    X[3, 0, 7] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        NCVQVAETokenizer(**TINY).fit(X)


@pytest.mark.parametrize("method", ["transform", "encode", "reconstruct"])
@pytest.mark.parametrize("X, match", BAD_INPUTS)
def test_methods_reject_bad_input(method, X, match, fitted_unit):
    with pytest.raises(ValueError, match=match):
        getattr(fitted_unit, method)(X)


@pytest.mark.parametrize("method", ["transform", "encode", "reconstruct"])
def test_wrong_channel_count(method, fitted_unit, unit_test_data):
    X = np.repeat(unit_test_data[0], 2, axis=1)
    with pytest.raises(ValueError, match=r"X has 2 channel\(s\).*fitted on series with 1 channel"):
        getattr(fitted_unit, method)(X)


def test_wrong_channel_count_multivariate(fitted_motions, basic_motions_data):
    X = basic_motions_data[0]
    with pytest.raises(ValueError, match=r"3 channel\(s\).*6 channel"):
        fitted_motions.transform(X[:, :3])
    with pytest.raises(ValueError, match=r"1 channel\(s\).*6 channel"):
        fitted_motions.transform(X[:, 0, :])  # 2D is univariate


@pytest.mark.parametrize("method", ["transform", "encode", "reconstruct"])
def test_wrong_length_3d(method, fitted_unit, unit_test_data):
    X = unit_test_data[0][:, :, :20]
    with pytest.raises(ValueError, match="series of length 20.*expecting series of length 24"):
        getattr(fitted_unit, method)(X)


@pytest.mark.parametrize("method", ["transform", "encode", "reconstruct"])
def test_wrong_length_2d(method, fitted_unit_2d, unit_test_data):
    X = unit_test_data[0][:, 0, :20]
    with pytest.raises(ValueError, match="20 features.*expecting 24 features"):
        getattr(fitted_unit_2d, method)(X)


def test_wrong_length_messages_differ(fitted_unit, unit_test_data):
    X = unit_test_data[0]
    with pytest.raises(ValueError, match="length 30") as err3:
        fitted_unit.transform(np.pad(X, ((0, 0), (0, 0), (0, 6))))  # length 30
    with pytest.raises(ValueError, match="30 features") as err2:
        fitted_unit.transform(np.pad(X[:, 0], ((0, 0), (0, 6))))
    assert "series of length 30" in str(err3.value)
    assert "30 features" in str(err2.value)
    assert str(err2.value) != str(err3.value)


def test_object_array_of_strings_is_rejected():
    X = np.array([["1", "2", "3", "4", "5", "6", "7", "8"]] * 3, dtype=object)
    with pytest.raises(ValueError, match="strings"):
        NCVQVAETokenizer(**TINY).fit(X)


# -- unequal lengths ---------------------------------------------------------------------
def _ragged(n=10, n_channels=2, seed=0):
    rng = np.random.default_rng(seed)
    return [rng.standard_normal((n_channels, int(rng.integers(20, 41)))) for _ in range(n)]


def test_unequal_lengths_are_rejected_without_a_strategy():
    with pytest.raises(ValueError, match="unequal lengths .* unequal_length parameter"):
        _tokenizer().fit(_ragged())


@pytest.mark.parametrize("strategy", ["resample", "pad"])
def test_unequal_lengths_with_a_strategy(strategy):
    X = _ragged()
    longest = max(x.shape[1] for x in X)
    tok = _tokenizer(unequal_length=strategy).fit(X)
    assert tok.n_timepoints_ == longest and tok.n_channels_ == 2
    assert tok.transform(X).shape == (10, 6 * TINY["codebook_dim"])
    assert tok.reconstruct(X[:3]).shape == (3, 2, longest)
    # a later collection of other lengths maps to the fitted length
    assert tok.transform(_ragged(n=4, seed=1)).shape == (4, 6 * TINY["codebook_dim"])
    x = X[int(np.argmin([x.shape[1] for x in X]))]
    mapped = tok._check_collection([x, X[0]])[0]
    if strategy == "pad":
        np.testing.assert_array_equal(mapped[:, : x.shape[1]], x)
        np.testing.assert_array_equal(
            mapped[:, x.shape[1] :], x[:, -1:].repeat(longest - x.shape[1], 1)
        )
    else:
        np.testing.assert_allclose(mapped[:, [0, -1]], x[:, [0, -1]])


def test_generator_reads_the_tokenizers_strategy():
    X, y = _ragged(n=12), np.array(["a", "b"] * 6)
    gen = NCVQVAEGenerator(_tokenizer(unequal_length="resample"), **TINY_GENERATOR).fit(X, y)
    assert gen.sample(3)[0].shape == (3, 2, max(x.shape[1] for x in X))
