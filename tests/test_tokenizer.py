"""Tests for the public estimator ``NCVQVAETokenizer`` (see shared/design/API.md)."""

from __future__ import annotations

import copy
import math
import pickle

import joblib
import numpy as np
import pandas as pd
import pytest
import torch
from joblib import parallel_config
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import Pipeline
from sklearn.svm import SVC
from sklearn.utils.validation import check_is_fitted

from skncvqvae import NCVQVAETokenizer
from skncvqvae.nn import LOSS_TERMS

from _helpers import make_sines

TINY = NCVQVAETokenizer._get_test_params()

OUTPUTS = ["pyramid", "pooled", "tokens", "histogram"]
FITTED = ["fitted_unit", "fitted_unit_2d", "fitted_motions"]


def _with_output(tok, output):
    """A private copy of a fitted tokenizer with another ``output``."""
    return copy.deepcopy(tok).set_params(output=output)


@pytest.fixture
def data_for(unit_test_data, basic_motions_data):
    """The training data (in its fit format) of each fitted fixture."""
    X_unit = unit_test_data[0]
    return {
        "fitted_unit": X_unit,
        "fitted_unit_2d": X_unit[:, 0, :],
        "fitted_motions": basic_motions_data[0],
    }


# --------------------------------------------------------------------------
# Fitted attributes and output shapes
# --------------------------------------------------------------------------


def test_fitted_attributes(fitted_unit, fitted_unit_2d, fitted_motions):
    assert fitted_unit.n_features_in_ == 1  # 3D: channel count, as X.shape[1]
    assert fitted_unit_2d.n_features_in_ == 24  # 2D: series length, as X.shape[1]
    assert fitted_motions.n_features_in_ == 6
    for tok, channels, length in [
        (fitted_unit, 1, 24),
        (fitted_unit_2d, 1, 24),
        (fitted_motions, 6, 100),
    ]:
        assert tok.n_channels_ == channels
        assert tok.n_timepoints_ == length
        assert tok.mean_.shape == tok.scale_.shape == (channels,)
        assert np.all(tok.scale_ > 0)
        assert tok.token_shape_[0] == 8 // 2 + 1  # n_fft=8: 5 frequency rows
        assert tok.n_tokens_ == tok.token_shape_[0] * tok.token_shape_[1]
        assert str(tok.net_.device) == "cpu"
        assert tok.net_.module_.token_shape == tok.token_shape_
    # hop_length=None is n_fft // 4 = 2: 24 points give 13 frames, one strided block
    # leaves 6 columns; 100 points give 51 frames, two blocks leave 12
    assert fitted_unit.hop_length_ == fitted_motions.hop_length_ == 2
    assert fitted_unit.token_shape_ == (5, 6)
    assert fitted_motions.token_shape_ == (5, 12)


def test_hop_length_sets_the_grid(unit_test_data):
    X = unit_test_data[0]
    default = NCVQVAETokenizer(**{**TINY, "max_epochs": 1}).fit(X)
    two = NCVQVAETokenizer(**{**TINY, "max_epochs": 1, "hop_length": 2}).fit(X)
    assert_array_equal(default.transform(X), two.transform(X))  # None is n_fft // 4
    fine = NCVQVAETokenizer(**{**TINY, "max_epochs": 1, "hop_length": 1}).fit(X)
    assert fine.hop_length_ == fine.net_.module_.hop_length == 1
    assert fine.token_shape_ == (5, 12)  # 25 frames, one strided block
    assert fine.encode(X).shape == (len(X), 5, 12)
    assert fine.transform(X).shape == default.transform(X).shape  # pooled features
    assert fine.reconstruct(X).shape == X.shape
    assert np.isfinite(fine.reconstruct(X)).all()


def test_standardisation_statistics(fitted_motions, basic_motions_data):
    X = basic_motions_data[0]
    assert_allclose(fitted_motions.mean_, X.mean(axis=(0, 2)), rtol=1e-5, atol=1e-6)
    assert_allclose(fitted_motions.scale_, X.std(axis=(0, 2)), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("fitted", FITTED)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_transform_shapes_and_dtypes(fitted, dtype, request, data_for):
    tok = request.getfixturevalue(fitted)
    X = data_for[fitted].astype(dtype)
    n = len(X)

    pooled = _with_output(tok, "pooled").transform(X)
    assert pooled.shape == (n, 2 * TINY["codebook_dim"])
    assert pooled.dtype == dtype
    assert np.all(np.isfinite(pooled))

    tokens = _with_output(tok, "tokens").transform(X)
    assert tokens.shape == (n, tok.n_tokens_)
    assert tokens.dtype == np.int64
    assert tokens.min() >= 0 and tokens.max() < TINY["codebook_size"]

    hist = _with_output(tok, "histogram").transform(X)
    assert hist.shape == (n, TINY["codebook_size"])
    assert hist.dtype == dtype
    assert np.all(hist >= 0)
    assert_allclose(hist.sum(axis=1), 1.0, rtol=1e-6)


@pytest.mark.parametrize("fitted", FITTED)
def test_outputs_are_consistent_with_encode(fitted, request, data_for):
    tok = request.getfixturevalue(fitted)
    X = data_for[fitted]
    grid = tok.encode(X)
    assert grid.shape == (len(X), *tok.token_shape_)
    assert grid.dtype == np.int64
    # tokens are the flattened grid
    assert_array_equal(_with_output(tok, "tokens").transform(X), grid.reshape(len(X), -1))
    # the histogram counts the grid's ids
    counts = np.stack([np.bincount(g.ravel(), minlength=TINY["codebook_size"]) for g in grid])
    assert_allclose(_with_output(tok, "histogram").transform(X), counts / tok.n_tokens_)
    # pooled = concat(mean, max) over the grid of the codes looked up
    embed = tok.net_.module_.quantizer.embed.detach().numpy()
    codes = embed[grid]  # (n, H, W, D)
    expected = np.concatenate([codes.mean(axis=(1, 2)), codes.max(axis=(1, 2))], axis=1)
    assert_allclose(_with_output(tok, "pooled").transform(X), expected, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("fitted", FITTED)
def test_decode_and_reconstruct_shapes(fitted, request, data_for):
    tok = request.getfixturevalue(fitted)
    X = data_for[fitted]
    n_channels = 1 if X.ndim == 2 else X.shape[1]
    expected = (len(X), n_channels, X.shape[-1])
    grid = tok.encode(X)
    decoded = tok.decode(grid)
    assert decoded.shape == expected
    assert np.all(np.isfinite(decoded))
    # flat token rows (the "tokens" output) decode the same way
    assert_allclose(tok.decode(grid.reshape(len(X), -1)), decoded)
    assert_allclose(tok.reconstruct(X), decoded)


def test_reconstruction_is_in_data_space(unit_test_data):
    X = unit_test_data[0] * 10.0 + 1000.0
    tok = NCVQVAETokenizer(**TINY).fit(X)
    assert_allclose(tok.mean_, X.mean(axis=(0, 2)), rtol=1e-6)
    X_hat = tok.reconstruct(X)
    # even an untrained model reconstructs around the data's level
    std = X.std()
    assert abs(X_hat.mean() - X.mean()) < 2 * std
    assert X_hat.std() < 10 * std
    # decode is the module's output in standardised space with the scaling undone
    grid = tok.encode(X)
    module = tok.net_.module_.eval()
    with torch.no_grad():
        x_std = module.decode_indices(torch.as_tensor(grid)).double().numpy()
    assert_allclose(tok.decode(grid), x_std * tok.scale_[:, None] + tok.mean_[:, None], rtol=1e-6)


def test_2d_and_3d_input_agree(fitted_unit, fitted_unit_2d, unit_test_data):
    X3 = unit_test_data[0]
    X2 = X3[:, 0, :]
    ref = fitted_unit.transform(X3)
    # the same model, given either view
    assert_array_equal(fitted_unit.transform(X2), ref)
    assert_array_equal(fitted_unit_2d.transform(X3), fitted_unit_2d.transform(X2))
    # fitting on either view (same seed) gives the same model
    assert_array_equal(fitted_unit_2d.transform(X2), ref)
    assert_array_equal(fitted_unit_2d.encode(X2), fitted_unit.encode(X3))
    assert_array_equal(fitted_unit_2d.reconstruct(X2), fitted_unit.reconstruct(X3))


def test_transform_is_row_independent(fitted_copy, unit_test_data):
    X = unit_test_data[0]
    full = fitted_copy.transform(X)
    assert_allclose(fitted_copy.transform(X[5:9]), full[5:9], rtol=1e-5, atol=1e-6)
    fitted_copy.set_params(batch_size=3)  # inference batches differ from fit's
    assert_allclose(fitted_copy.transform(X), full, rtol=1e-5, atol=1e-6)


def test_object_array_of_numbers_accepted(fitted_unit, unit_test_data):
    X = unit_test_data[0]
    assert_array_equal(fitted_unit.transform(X.astype(object)), fitted_unit.transform(X))
    assert_array_equal(fitted_unit.transform(X.tolist()), fitted_unit.transform(X))
    tok = NCVQVAETokenizer(**{**TINY, "max_epochs": 1}).fit(X[:, 0, :].astype(object))
    assert tok.transform(X[:, 0, :]).shape == (20, 6 * TINY["codebook_dim"])


# --------------------------------------------------------------------------
# The API the generator builds on: encode(check_input=False), codebook_,
# fine_tune_decoder, n_steps_ and fit(step_budget=...)
# --------------------------------------------------------------------------


@pytest.mark.parametrize("fitted", ["fitted_unit", "fitted_unit_2d"])
def test_encode_without_checks_of_the_validated_collection(fitted, request, data_for):
    from skncvqvae._validation import check_collection

    tok = request.getfixturevalue(fitted)
    X = data_for[fitted]
    X3 = check_collection(X)
    assert X3.ndim == 3 and X3.dtype == np.float64
    assert_array_equal(tok.encode(X3, check_input=False), tok.encode(X))


def test_codebook_is_a_float32_copy(fitted_copy):
    embed = fitted_copy.net_.module_.quantizer.embed.detach().clone()
    codebook = fitted_copy.codebook_
    assert codebook.shape == (TINY["codebook_size"], TINY["codebook_dim"])
    assert codebook.dtype == np.float32
    assert_array_equal(codebook, embed.numpy())
    codebook[:] = 0.0  # the caller's copy: the model is unchanged
    assert torch.equal(fitted_copy.net_.module_.quantizer.embed, embed)
    assert_array_equal(fitted_copy.codebook_, embed.numpy())


def test_fine_tune_decoder_changes_the_decoder_alone(fitted_copy, unit_test_data):
    X = unit_test_data[0]
    tokens, features = fitted_copy.encode(X), fitted_copy.transform(X)
    decoded = fitted_copy.decode(tokens)
    losses = fitted_copy.fine_tune_decoder(X, n_steps=3, random_state=0)
    assert losses.shape == (3,) and np.isfinite(losses).all()
    assert_array_equal(fitted_copy.encode(X), tokens)
    assert_array_equal(fitted_copy.transform(X), features)
    assert not np.array_equal(fitted_copy.decode(tokens), decoded)


@pytest.mark.parametrize("batch_size, max_epochs", [(32, 2), (8, 2), (6, 1)])
def test_n_steps_counts_the_optimisation_steps(batch_size, max_epochs, unit_test_data):
    X = unit_test_data[0]  # 20 series
    tok = NCVQVAETokenizer(**{**TINY, "batch_size": batch_size, "max_epochs": max_epochs}).fit(X)
    assert tok.n_steps_ == max_epochs * math.ceil(len(X) / batch_size)


def test_step_budget_is_the_rule_of_auto(unit_test_data):
    X = unit_test_data[0][:10]  # one batch per epoch
    tok = NCVQVAETokenizer(**{**TINY, "max_epochs": "auto"}).fit(X, step_budget=(2, 5, 10))
    assert tok.n_steps_ == 5 and len(tok.history_) == 5  # at least 5 steps
    assert tok.max_epochs == "auto"
    # an int max_epochs is kept as given
    tok = NCVQVAETokenizer(**TINY).fit(X, step_budget=(2, 5, 10))
    assert tok.n_steps_ == len(tok.history_) == TINY["max_epochs"]


# --------------------------------------------------------------------------
# Training history
# --------------------------------------------------------------------------


def test_history(fitted_unit):
    history = fitted_unit.history_
    assert len(history) == TINY["max_epochs"]
    expected_keys = {"loss", "recon", "commitment", "aug_recon", "ssl", "perplexity"}
    assert set(LOSS_TERMS) == expected_keys
    for epoch in history:
        assert set(epoch) == expected_keys
        assert all(np.isfinite(v) for v in epoch.values())
        assert epoch["recon"] > 0 and epoch["aug_recon"] > 0  # SSL on by default (VIBCReg)
        assert 1.0 <= epoch["perplexity"] <= TINY["codebook_size"] + 1e-6


def test_history_naive_has_zero_ssl_terms(unit_test_data):
    tok = NCVQVAETokenizer(**{**TINY, "ssl": None, "max_epochs": 1}).fit(unit_test_data[0])
    assert len(tok.history_) == 1
    assert tok.history_[0]["ssl"] == 0.0
    assert tok.history_[0]["aug_recon"] == 0.0
    assert tok.net_.module_.projector is None


def test_recon_loss_falls_over_longer_fit(unit_test_data):
    tok = NCVQVAETokenizer(**{**TINY, "max_epochs": 30}).fit(unit_test_data[0])
    recon = [epoch["recon"] for epoch in tok.history_]
    assert len(recon) == 30
    # measured: about 6.9 -> 5.5
    assert recon[-1] < 0.95 * recon[0], recon
    assert np.mean(recon[-5:]) < np.mean(recon[:5])


def test_validation_fraction_records_valid_terms(unit_test_data):
    tok = NCVQVAETokenizer(**{**TINY, "validation_fraction": 0.25}).fit(unit_test_data[0])
    last = tok.net_.history[-1]
    for term in LOSS_TERMS:
        assert np.isfinite(last[f"valid_{term}"]), term
    assert len(tok.history_) == TINY["max_epochs"]


@pytest.mark.parametrize(
    "n_cases, batch_size",
    [(1, 32), (20, 19), (3, 1)],  # one series; a last batch of one; batches of one
    ids=["single-series", "remainder-of-one", "batch-size-one"],
)
def test_batches_of_one_series_train(n_cases, batch_size, unit_test_data):
    X = unit_test_data[0][:n_cases]
    tok = NCVQVAETokenizer(**{**TINY, "batch_size": batch_size, "max_epochs": 1}).fit(X)
    assert np.isfinite(tok.history_[0]["loss"])
    assert np.all(np.isfinite(tok.transform(X)))


def test_reconstruction_of_learnable_data():
    X = make_sines(64, 64, noise=0.1, seed=0)
    params = {
        **TINY,
        "ssl": None,
        "hidden_dim": 16,
        "codebook_size": 16,
        "n_resnet_blocks": 1,
        "max_epochs": 100,
    }
    tok = NCVQVAETokenizer(**params).fit(X)
    X_hat = tok.decode(tok.encode(X))
    rel_mse = np.mean((X_hat - X) ** 2) / X.var()
    # measured 0.034 (seeds 0 and 1); predicting each series' mean gives ~1
    assert rel_mse < 0.15, rel_mse
    # and it reconstructs series it has not seen
    X_new = make_sines(16, 64, noise=0.1, seed=1)
    rel_new = np.mean((tok.reconstruct(X_new) - X_new) ** 2) / X_new.var()
    assert rel_new < 0.15, rel_new  # measured 0.033-0.041


# --------------------------------------------------------------------------
# Persistence, cloning, determinism
# --------------------------------------------------------------------------


def test_pickle_round_trip(fitted_unit, unit_test_data):
    X = unit_test_data[0]
    restored = pickle.loads(pickle.dumps(fitted_unit))
    assert_array_equal(restored.transform(X), fitted_unit.transform(X))
    assert_array_equal(restored.encode(X), fitted_unit.encode(X))
    assert_array_equal(restored.reconstruct(X), fitted_unit.reconstruct(X))
    assert restored.history_ == fitted_unit.history_


def test_joblib_round_trip(fitted_unit, unit_test_data, tmp_path):
    X = unit_test_data[0]
    path = tmp_path / "tok.joblib"
    joblib.dump(fitted_unit, path)
    restored = joblib.load(path)
    assert_array_equal(restored.transform(X), fitted_unit.transform(X))
    assert_array_equal(restored.reconstruct(X), fitted_unit.reconstruct(X))


def test_clone_is_unfitted_with_same_params(fitted_unit):
    cloned = clone(fitted_unit)
    assert cloned is not fitted_unit
    assert cloned.get_params() == fitted_unit.get_params()
    with pytest.raises(NotFittedError):
        check_is_fitted(cloned)
    assert not hasattr(cloned, "net_")


def test_same_random_state_identical_and_y_ignored(fitted_unit, unit_test_data):
    X, y = unit_test_data
    again = NCVQVAETokenizer(**TINY).fit(X, y)
    assert_array_equal(again.transform(X), fitted_unit.transform(X))
    assert_array_equal(again.reconstruct(X), fitted_unit.reconstruct(X))
    assert again.history_ == fitted_unit.history_


def test_different_random_state_differs(fitted_unit, unit_test_data):
    X = unit_test_data[0]
    other = NCVQVAETokenizer(**{**TINY, "random_state": 1}).fit(X)
    assert not np.allclose(other.transform(X), fitted_unit.transform(X))


def test_random_state_instance_accepted(unit_test_data):
    X = unit_test_data[0]
    a = NCVQVAETokenizer(**{**TINY, "random_state": np.random.RandomState(3), "max_epochs": 1})
    b = NCVQVAETokenizer(**{**TINY, "random_state": np.random.RandomState(3), "max_epochs": 1})
    assert_array_equal(a.fit(X).transform(X), b.fit(X).transform(X))


@pytest.mark.parametrize("random_state", [0, None])
def test_global_rng_untouched(random_state, unit_test_data):
    X = unit_test_data[0]
    torch_state = torch.get_rng_state()
    np_state = np.random.get_state()
    tok = NCVQVAETokenizer(**{**TINY, "random_state": random_state, "max_epochs": 1}).fit(X)
    tok.transform(X)
    tok.reconstruct(X)
    assert torch.equal(torch.get_rng_state(), torch_state)
    after = np.random.get_state()
    assert after[0] == np_state[0]
    assert_array_equal(after[1], np_state[1])
    assert after[2:] == np_state[2:]


# --------------------------------------------------------------------------
# scikit-learn integration
# --------------------------------------------------------------------------


def _grid_search(X, y, n_jobs):
    pipe = Pipeline([("tok", NCVQVAETokenizer(**TINY)), ("svc", SVC(kernel="linear"))])
    search = GridSearchCV(pipe, {"tok__codebook_size": [4, 8]}, cv=2, n_jobs=n_jobs)
    # One torch thread in the workers, as in this process (see conftest):
    # float results of torch convolutions depend on the thread count.
    with parallel_config(backend="loky", inner_max_num_threads=1):
        return search.fit(X, y)


# Starting the two worker processes (each imports torch, skorch and aeon)
# takes 15-30 s on a loaded 2-core machine.
@pytest.mark.slow
def test_grid_search_pipeline_parallel(unit_test_data):
    X, y = unit_test_data
    search = _grid_search(X, y, n_jobs=2)
    assert 0.0 <= search.best_score_ <= 1.0
    assert search.best_params_["tok__codebook_size"] in (4, 8)
    pred = search.predict(X)
    assert pred.shape == (20,)
    assert set(pred) <= set(y)  # labels come back in the user's label space
    check_is_fitted(search.best_estimator_.named_steps["tok"])
    # the parallel search finds what a serial one finds
    serial = _grid_search(X, y, n_jobs=1)
    assert_array_equal(search.cv_results_["mean_test_score"], serial.cv_results_["mean_test_score"])


@pytest.mark.parametrize("output", OUTPUTS)
def test_set_output_pandas(output, fitted_unit, unit_test_data):
    X = unit_test_data[0]
    tok = _with_output(fitted_unit, output)
    expected = tok.transform(X)
    tok.set_output(transform="pandas")
    df = tok.transform(X)
    assert isinstance(df, pd.DataFrame)
    names = tok.get_feature_names_out()
    assert list(df.columns) == list(names)
    assert len(set(names)) == len(names)
    assert df.shape == expected.shape
    assert_array_equal(df.to_numpy(), expected)


@pytest.mark.parametrize(
    "output, n_names", [("pyramid", 48), ("pooled", 16), ("tokens", 30), ("histogram", 8)]
)
def test_get_feature_names_out(output, n_names, fitted_unit):
    names = _with_output(fitted_unit, output).get_feature_names_out()
    assert names.shape == (n_names,)
    assert names.dtype == object


# --------------------------------------------------------------------------
# Errors (the checks of X and their messages: test_validation.py)
# --------------------------------------------------------------------------


def test_failed_refit_leaves_previous_model_intact(fitted_copy, unit_test_data):
    X = unit_test_data[0]
    before = fitted_copy.transform(X)
    with pytest.raises(ValueError, match="NaN"):
        fitted_copy.fit(np.full((5, 1, 24), np.nan))
    check_is_fitted(fitted_copy)
    assert fitted_copy.n_timepoints_ == 24
    assert_array_equal(fitted_copy.transform(X), before)


def test_decode_rejects_bad_tokens(fitted_unit, unit_test_data):
    grid = fitted_unit.encode(unit_test_data[0])
    height, width = fitted_unit.token_shape_
    with pytest.raises(ValueError, match="tokens must have shape"):
        fitted_unit.decode(grid[:, :, :-1])
    with pytest.raises(ValueError, match="tokens must have shape"):
        fitted_unit.decode(grid.reshape(len(grid), -1)[:, :-1])
    with pytest.raises(ValueError, match="tokens must have shape"):
        fitted_unit.decode(grid[0])  # a single grid without the case axis
    with pytest.raises(ValueError, match="tokens must have shape"):
        fitted_unit.decode(np.zeros((0, height, width), dtype=np.int64))
    with pytest.raises(ValueError, match=r"must lie in \[0, 8\)"):
        fitted_unit.decode(np.full((2, height, width), TINY["codebook_size"]))
    with pytest.raises(ValueError, match=r"must lie in \[0, 8\)"):
        fitted_unit.decode(np.full((2, height, width), -1))
    with pytest.raises(ValueError, match="integer ids"):
        fitted_unit.decode(grid + 0.5)
    with pytest.raises(ValueError, match="integer ids"):
        fitted_unit.decode(np.full((2, height, width), "a"))
    # float ids holding integers are accepted
    assert_allclose(fitted_unit.decode(grid.astype(float)), fitted_unit.decode(grid))


@pytest.mark.parametrize(
    "params, match",
    [
        ({"output": "bogus"}, "output"),
        ({"ssl": "simclr"}, "ssl"),
        ({"codebook_size": 1}, "codebook_size"),
        ({"codebook_dim": 0}, "codebook_dim"),
        ({"max_epochs": 0}, "max_epochs"),
        ({"batch_size": 0}, "batch_size"),
        ({"lr": 0.0}, "lr"),
        ({"n_fft": 2}, "n_fft"),
        ({"hop_length": 0}, "hop_length"),
        ({"hop_length": "auto"}, "hop_length"),
        ({"hop_length": 5}, "hop_length"),  # above n_fft // 2 = 4
        ({"codebook_decay": 1.5}, "codebook_decay"),
        ({"validation_fraction": 1.0}, "validation_fraction"),
        ({"random_state": "seed"}, "random_state"),
    ],
)
def test_invalid_parameters(params, match, unit_test_data):
    tok = NCVQVAETokenizer(**{**TINY, **params})
    with pytest.raises(ValueError, match=f"The '{match}' parameter of NCVQVAETokenizer"):
        tok.fit(unit_test_data[0])  # InvalidParameterError is a ValueError
    with pytest.raises(NotFittedError):
        check_is_fitted(tok)


@pytest.mark.parametrize("augmentations", [(), [], None])
def test_ssl_needs_an_augmentation(augmentations, unit_test_data):
    tok = NCVQVAETokenizer(**{**TINY, "augmentations": augmentations})
    with pytest.raises(ValueError, match="needs at least one augmentation"):
        tok.fit(unit_test_data[0])
    with pytest.raises(NotFittedError):
        check_is_fitted(tok)


def test_unknown_augmentation(unit_test_data):
    with pytest.raises(ValueError, match="Unknown augmentation"):
        NCVQVAETokenizer(**{**TINY, "augmentations": ("bogus",)}).fit(unit_test_data[0])


def test_naive_ignores_augmentations(unit_test_data):
    X = unit_test_data[0]
    a = NCVQVAETokenizer(**{**TINY, "ssl": None, "augmentations": (), "max_epochs": 1}).fit(X)
    b = NCVQVAETokenizer(**{**TINY, "ssl": None, "max_epochs": 1}).fit(X)
    assert_array_equal(a.transform(X), b.transform(X))


@pytest.mark.parametrize(
    "call",
    [
        lambda tok, X: tok.transform(X),
        lambda tok, X: tok.encode(X),
        lambda tok, X: tok.decode(np.zeros((2, 5, 6), dtype=np.int64)),
        lambda tok, X: tok.reconstruct(X),
        lambda tok, X: tok.get_feature_names_out(),
    ],
    ids=["transform", "encode", "decode", "reconstruct", "get_feature_names_out"],
)
def test_not_fitted(call, unit_test_data):
    with pytest.raises(NotFittedError):
        call(NCVQVAETokenizer(**TINY), unit_test_data[0])


# --------------------------------------------------------------------------
# Short series
# --------------------------------------------------------------------------


@pytest.mark.parametrize("length", [1, 3, 7])
def test_short_series_are_padded(length):
    X = np.random.default_rng(0).random((10, length))
    tok = NCVQVAETokenizer(**TINY)
    with pytest.warns(UserWarning, match="padded"):
        tok.fit(X)
    assert tok.n_timepoints_ == length
    assert tok.n_features_in_ == length
    with pytest.warns(UserWarning, match="padded"):
        X_hat = tok.reconstruct(X)
    assert X_hat.shape == (10, 1, length)
    assert np.all(np.isfinite(X_hat))
    with pytest.warns(UserWarning, match="padded"):
        Xt = tok.transform(X)
    assert Xt.shape == (10, 6 * TINY["codebook_dim"])
    assert tok.decode(np.zeros((3, *tok.token_shape_), dtype=int)).shape == (3, 1, length)


def test_no_warning_at_minimum_length():
    import warnings

    X = np.random.default_rng(0).random((10, 8))  # min_length(8) == 8
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        tok = NCVQVAETokenizer(**TINY).fit(X)
        assert tok.reconstruct(X).shape == (10, 1, 8)


@pytest.mark.parametrize("output", ["pooled", "tokens"])
def test_transform_of_a_row_does_not_depend_on_the_other_rows(output):
    X = make_sines(n=23, length=64)
    tok = NCVQVAETokenizer(**{**TINY, "hidden_dim": 16, "batch_size": 8}, output=output).fit(X)
    full = tok.transform(X)
    for rows in (slice(0, 1), slice(3, 11), slice(5, 23)):
        np.testing.assert_array_equal(tok.transform(X[rows]), full[rows])
    np.testing.assert_array_equal(tok.reconstruct(X[2:3]), tok.reconstruct(X)[2:3])


def test_pyramid_output_reads_the_continuous_latent(fitted_copy, unit_test_data):
    from skncvqvae.nn import pyramid_pool

    X = unit_test_data[0]
    tok = fitted_copy.set_params(output="pyramid")
    with torch.no_grad():
        X3, standardise = tok._prepare(X)
        expected = pyramid_pool(tok.net_.module_.latent(standardise(X3))).double().numpy()
    assert_allclose(tok.transform(X), expected, rtol=1e-6, atol=1e-6)
    assert tok.transform(X.astype(np.float32)).dtype == np.float32


def test_default_features_separate_two_classes():
    # a probe that must beat chance: sines of two frequencies, linear SVC on the
    # default readout, fitted without labels
    X = make_sines(n=40, length=64, seed=0)
    X_test = make_sines(n=40, length=64, seed=1)
    y = _frequency_labels(X)
    y_test = _frequency_labels(X_test)
    clf = Pipeline(
        [("tok", NCVQVAETokenizer(**{**TINY, "max_epochs": 10})), ("svc", SVC(kernel="linear"))]
    )
    assert clf.fit(X, y).score(X_test, y_test) > 0.8


def _frequency_labels(X):
    """The dominant frequency of each sine (2 or 4 cycles) from its spectrum."""
    spectrum = np.abs(np.fft.rfft(X[:, 0], axis=-1))
    return np.where(spectrum[:, 1:].argmax(axis=1) + 1 >= 3, "fast", "slow")
