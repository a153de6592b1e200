"""Tests for NCVQVAEGenerator: stages 1 + 2 as a scikit-learn estimator."""

from __future__ import annotations

import copy
import itertools
import pickle

import joblib
import numpy as np
import pytest
import torch
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV

import skncvqvae
from skncvqvae import NCVQVAEGenerator, NCVQVAETokenizer
from skncvqvae._random import spawn_seeds
from skncvqvae._training import HeldOutMonitor
from skncvqvae.generator import _holdout_rows
from skncvqvae.nn import MaskGITPrior

from _helpers import TINY_GENERATOR, make_sines, make_two_class, one_torch_thread

TINY = NCVQVAETokenizer._get_test_params()
TOK = {**TINY, "max_epochs": 3}  # the shared tiny tokenizer, one epoch more
GEN = TINY_GENERATOR


def make_gen(tokenizer_params=None, **params) -> NCVQVAEGenerator:
    tokenizer = NCVQVAETokenizer(**{**TOK, **(tokenizer_params or {})})
    return NCVQVAEGenerator(tokenizer, **{**GEN, **params})


def _fit(estimator, X, y=None):
    with one_torch_thread():
        return estimator.fit(X, y)


def _imbalanced(n_major=12, n_minor=4, length=32, seed=0):
    X = make_sines(n=n_major + n_minor, length=length, seed=seed)
    X[n_major:] += 2.0
    y = np.array(["major"] * n_major + ["minor"] * n_minor)
    order = np.random.default_rng(seed).permutation(len(y))
    return X[order], y[order]


# -- fitted generators, shared by the tests of this module ------------------------
@pytest.fixture(scope="module")
def unit_gen(unit_test_data):
    """Conditional generator on UnitTest: 3D input, string labels '1' and '2'."""
    X, y = unit_test_data
    return _fit(make_gen(), X, y)


@pytest.fixture(scope="module")
def int_gen_2d(unit_test_data):
    """Conditional generator on the 2D view of UnitTest with integer labels 1 and 2."""
    X, y = unit_test_data
    return _fit(make_gen(), X[:, 0, :], y.astype(np.int64))


@pytest.fixture(scope="module")
def motions_gen(basic_motions_data):
    X, y = basic_motions_data
    return _fit(make_gen(), X, y)


@pytest.fixture(scope="module")
def uncond_gen(unit_test_data):
    return _fit(make_gen(), unit_test_data[0])


@pytest.fixture(scope="module")
def resampled():
    """``fit_resample`` on 12 'major' vs 4 'minor' series."""
    X, y = _imbalanced()
    gen = make_gen()
    with one_torch_thread():
        X_res, y_res = gen.fit_resample(X, y)
    return gen, X, y, X_res, y_res


# -- fitted attributes -----------------------------------------------------------------
def test_fitted_attributes(unit_gen, unit_test_data):
    X, y = unit_test_data
    assert list(unit_gen.classes_) == ["1", "2"]
    assert list(unit_gen.class_counts_) == [10, 10]
    assert unit_gen.n_channels_ == 1 and unit_gen.n_timepoints_ == 24
    assert isinstance(unit_gen.tokenizer_, NCVQVAETokenizer)
    module = unit_gen.net_.module_
    assert isinstance(module, MaskGITPrior)
    assert module.n_classes == 2
    assert module.prior_input == "codebook"
    assert module.n_tokens == int(np.prod(unit_gen.tokenizer_.token_shape_))
    assert len(unit_gen.history_) == GEN["max_epochs"]
    for epoch in unit_gen.history_:
        assert set(epoch) == {"loss", "masked_accuracy"}
        assert np.isfinite(epoch["loss"])
        assert 0.0 <= epoch["masked_accuracy"] <= 1.0
    # parameters are stored unchanged
    assert unit_gen.get_params()["hidden_dim"] == 32
    assert unit_gen.tokenizer.max_epochs == 3


def test_tokenizer_hop_length_reaches_the_prior_and_the_samples(unit_test_data):
    X, y = unit_test_data
    gen = _fit(make_gen(max_epochs=1).set_params(tokenizer__hop_length=1), X, y)
    assert gen.tokenizer_.hop_length_ == 1
    assert gen.tokenizer_.token_shape_ == (5, 12)  # twice the default 5 x 6
    assert gen.net_.module_.n_tokens == 60
    X_new, y_new = gen.sample(6, random_state=0)
    assert X_new.shape == (6, 1, 24) and np.isfinite(X_new).all()


def test_codebook_prior_starts_from_tokenizer_codebook(unit_test_data):
    X, y = unit_test_data
    gen = _fit(make_gen(max_epochs=1, lr=1e-12), X, y)
    codebook = gen.tokenizer_.net_.module_.quantizer.embed.detach().cpu()
    torch.testing.assert_close(
        gen.net_.module_.codes.detach().cpu(), codebook, atol=1e-6, rtol=1e-5
    )


def test_tokens_prior_input(unit_test_data):
    X, y = unit_test_data
    gen = _fit(make_gen(prior_input="tokens"), X, y)
    assert gen.net_.module_.prior_input == "tokens"
    X_new, y_new = gen.sample(6, random_state=0)
    assert X_new.shape == (6, 1, 24)
    assert np.isfinite(X_new).all()
    assert set(y_new) <= {"1", "2"}


# -- sample: shapes and labels -------------------------------------------------------------
def test_sample_shape_univariate(unit_gen):
    X_new, y_new = unit_gen.sample(5)
    assert X_new.shape == (5, 1, 24)
    assert X_new.dtype == np.float64
    assert np.isfinite(X_new).all()
    assert y_new.shape == (5,)
    assert y_new.dtype == np.asarray(["1"]).dtype
    assert set(y_new) <= {"1", "2"}


def test_sample_default_is_one(unit_gen):
    X_new, y_new = unit_gen.sample()
    assert X_new.shape == (1, 1, 24) and y_new.shape == (1,)


def test_sample_2d_input_gives_3d_output_and_int_labels(int_gen_2d):
    X_new, y_new = int_gen_2d.sample(4, y=2)
    assert X_new.shape == (4, 1, 24)
    assert y_new.dtype.kind == "i"
    assert y_new.tolist() == [2, 2, 2, 2]
    X_new, y_new = int_gen_2d.sample(y=[1, 2, 2])
    assert y_new.tolist() == [1, 2, 2] and y_new.dtype.kind == "i"


def test_sample_multivariate(motions_gen, basic_motions_data):
    X, y = basic_motions_data
    X_new, y_new = motions_gen.sample(5)
    assert X_new.shape == (5, 6, 100)
    assert np.isfinite(X_new).all()
    assert set(y_new) <= set(np.unique(y))
    label = np.unique(y)[0]
    X_new, y_new = motions_gen.sample(3, y=label)
    assert X_new.shape == (3, 6, 100)
    assert list(y_new) == [label] * 3


def test_sample_single_label(unit_gen):
    X_new, y_new = unit_gen.sample(7, y="2")
    assert X_new.shape == (7, 1, 24)
    assert y_new.tolist() == ["2"] * 7
    assert y_new.dtype == np.asarray(["2"]).dtype


def test_sample_label_array_ignores_n_samples(unit_gen):
    labels = ["2", "1", "2"]
    X_new, y_new = unit_gen.sample(50, y=labels)
    assert X_new.shape == (3, 1, 24)
    assert y_new.tolist() == labels
    X_new, y_new = unit_gen.sample(y=np.array(["1"]))
    assert X_new.shape == (1, 1, 24) and y_new.tolist() == ["1"]


@pytest.mark.parametrize("bad", ["3", ["1", "3"], ["1", "bogus"], ["12"]])
def test_sample_unknown_label_raises_and_names_it(unit_gen, bad):
    name = bad if isinstance(bad, str) else bad[-1]
    with pytest.raises(ValueError, match=f"'{name}'"):
        unit_gen.sample(3, y=bad)


def test_sample_unknown_int_label(int_gen_2d):
    with pytest.raises(ValueError, match="5"):
        int_gen_2d.sample(2, y=5)
    with pytest.raises(ValueError, match="7"):
        int_gen_2d.sample(y=[1, 7])


def test_sample_empty_label_array_raises(unit_gen):
    with pytest.raises(ValueError, match="y is empty"):
        unit_gen.sample(y=[])


@pytest.mark.parametrize("n_samples", [0, -1, 2.5, "3", None, True])
def test_sample_bad_n_samples(unit_gen, n_samples):
    with pytest.raises(ValueError, match="n_samples"):
        unit_gen.sample(n_samples)


def test_sample_numpy_int_n_samples(unit_gen):
    X_new, _ = unit_gen.sample(np.int64(3))
    assert X_new.shape == (3, 1, 24)


def test_sample_in_batches(unit_gen):
    gen = copy.deepcopy(unit_gen).set_params(batch_size=4)
    X_new, y_new = gen.sample(10, y=["1"] * 5 + ["2"] * 5)
    assert X_new.shape == (10, 1, 24)
    assert np.isfinite(X_new).all()
    assert y_new.tolist() == ["1"] * 5 + ["2"] * 5


def test_y_none_draws_training_proportions(resampled):
    gen = resampled[0]
    assert dict(zip(gen.classes_, gen.class_counts_)) == {"major": 12, "minor": 4}
    _, y_new = gen.sample(400, random_state=0)
    share = np.mean(y_new == "major")
    assert 0.68 < share < 0.82  # expected 0.75, sd 0.022
    assert set(y_new) == {"major", "minor"}


def test_unconditional_fit(uncond_gen):
    assert uncond_gen.classes_ is None
    assert uncond_gen.class_counts_ is None
    assert uncond_gen.net_.module_.n_classes == 0
    X_new, y_new = uncond_gen.sample(4)
    assert X_new.shape == (4, 1, 24)
    assert y_new is None
    with pytest.raises(ValueError, match="without labels"):
        uncond_gen.sample(2, y="1")
    with pytest.raises(ValueError, match="without labels"):
        uncond_gen.sample(y=["1", "2"])


def test_temperature_is_a_sampling_setting(unit_gen):
    X_ref, _ = unit_gen.sample(6, y="1", random_state=3)
    same = copy.deepcopy(unit_gen).set_params(temperature=unit_gen.temperature)
    assert np.array_equal(same.sample(6, y="1", random_state=3)[0], X_ref)
    hot = copy.deepcopy(unit_gen).set_params(temperature=50.0)
    X_hot, _ = hot.sample(6, y="1", random_state=3)
    assert np.isfinite(X_hot).all() and not np.array_equal(X_hot, X_ref)
    with pytest.raises(ValueError, match="'temperature' parameter"):
        copy.deepcopy(unit_gen).set_params(temperature=0.0).fit(*_imbalanced())


def test_guidance_scale_changes_samples(unit_gen):
    # A 3-epoch prior's conditional and unconditional logits differ only a little,
    # so a nearby scale (3 against the default 2) can leave every drawn token as it
    # was on some CPUs; the change from the default grows with the scale minus 2,
    # 48 times larger at 50 than at 3.
    X_ref, _ = unit_gen.sample(6, y="1", random_state=3)
    gen = copy.deepcopy(unit_gen).set_params(guidance_scale=50.0)
    X_new, y_new = gen.sample(6, y="1", random_state=3)
    assert X_new.shape == X_ref.shape and np.isfinite(X_new).all()
    assert y_new.tolist() == ["1"] * 6
    assert not np.array_equal(X_new, X_ref)


def test_guidance_is_the_default_and_skipped_without_labels(uncond_gen):
    assert NCVQVAEGenerator().guidance_scale == 2.0
    guided = copy.deepcopy(uncond_gen).set_params(guidance_scale=2.0)
    plain = copy.deepcopy(uncond_gen).set_params(guidance_scale=1.0)
    module = guided.net_.module_
    calls = []
    original = module.logits

    def recording(tokens, class_ids):
        calls.append(len(tokens))
        return original(tokens, class_ids)

    module.logits = recording
    X_guided, _ = guided.sample(5, random_state=0)
    X_plain, _ = plain.sample(5, random_state=0)
    # single passes: 1 row (the null class) for the first step, then 5; a guided
    # pass would double them (2, then 10)
    assert calls[0] == 1 and set(calls[1:]) == {5}
    np.testing.assert_array_equal(X_guided, X_plain)


# -- determinism ------------------------------------------------------------------------------
def test_sample_deterministic_for_random_state(unit_gen):
    a, ya = unit_gen.sample(8, random_state=1)
    b, yb = unit_gen.sample(8, random_state=1)
    c, yc = unit_gen.sample(8, random_state=2)
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(ya, yb)
    assert not np.array_equal(a, c)
    # random_state=None falls back on the estimator's int random_state: calls agree
    d, _ = unit_gen.sample(8)
    e, _ = unit_gen.sample(8)
    np.testing.assert_array_equal(d, e)


def test_sample_is_fresh_when_no_random_state_anywhere(unit_gen):
    gen = copy.deepcopy(unit_gen).set_params(random_state=None)
    a, _ = gen.sample(8)
    b, _ = gen.sample(8)
    assert not np.array_equal(a, b)


def test_sample_accepts_random_state_instances(unit_gen):
    a, _ = unit_gen.sample(4, random_state=np.random.RandomState(0))
    b, _ = unit_gen.sample(4, random_state=np.random.RandomState(0))
    np.testing.assert_array_equal(a, b)
    c, _ = unit_gen.sample(4, random_state=np.random.default_rng(5))
    assert c.shape == (4, 1, 24)


def _rng_states():
    return torch.get_rng_state().clone(), np.random.get_state()


def _assert_same_rng_states(before, after):
    assert torch.equal(before[0], after[0]), "torch's global RNG state changed"
    np_before, np_after = before[1], after[1]
    assert np_before[0] == np_after[0]
    np.testing.assert_array_equal(
        np_before[1], np_after[1], err_msg="numpy's global RNG state changed"
    )
    assert np_before[2:] == np_after[2:]


def test_refit_with_same_random_state_is_identical_and_leaves_global_rng(unit_gen, unit_test_data):
    X, y = unit_test_data
    torch.manual_seed(1234)
    np.random.seed(1234)
    before = _rng_states()
    gen = _fit(make_gen(), X, y)
    _assert_same_rng_states(before, _rng_states())
    a, ya = gen.sample(8, random_state=4)
    gen.sample(3)
    _assert_same_rng_states(before, _rng_states())
    b, yb = unit_gen.sample(8, random_state=4)
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(ya, yb)
    assert gen.history_ == unit_gen.history_
    # the default sample seed is also fixed by random_state
    np.testing.assert_array_equal(gen.sample(5)[0], unit_gen.sample(5)[0])


def test_different_random_state_gives_different_model(unit_gen, unit_test_data):
    X, y = unit_test_data
    gen = _fit(make_gen(random_state=1), X, y)
    assert gen.history_ != unit_gen.history_
    assert not np.array_equal(
        gen.sample(8, random_state=0)[0], unit_gen.sample(8, random_state=0)[0]
    )


def test_random_state_none_tokenizer_gets_seed_from_generator(unit_test_data):
    X, y = unit_test_data
    gens = [
        _fit(make_gen(tokenizer_params=dict(random_state=None), max_epochs=1), X, y)
        for _ in range(2)
    ]
    np.testing.assert_array_equal(
        gens[0].sample(4, random_state=0)[0], gens[1].sample(4, random_state=0)[0]
    )


# -- data space ----------------------------------------------------------------------------------
def test_samples_are_in_data_space():
    X = make_sines(n=20, length=32) * 1000.0 + 5000.0
    gen = make_gen(tokenizer_params=dict(max_epochs=10, batch_size=4, lr=1e-2))
    _fit(gen, X)
    X_new, _ = gen.sample(100, random_state=0)
    real_mean, real_std = X.mean(), X.std()
    assert abs(X_new.mean() - real_mean) < 0.25 * real_std
    assert real_std / 5 < X_new.std() < real_std * 5
    np.testing.assert_allclose(gen.tokenizer_.mean_, X.mean(axis=(0, 2)), rtol=1e-4)


# -- class conditioning ----------------------------------------------------------------------------
def _two_class_data(n=60, length=64, seed=0):
    """Class A: a sine of period 10 around +1.5; class B: a square wave around -1.5."""
    rng = np.random.default_rng(seed)
    t = np.arange(length)
    y = np.array(["A", "B"] * (n // 2))
    X = np.empty((n, 1, length))
    for i, label in enumerate(y):
        phase = rng.uniform(0, 2 * np.pi)
        if label == "A":
            X[i, 0] = np.sin(2 * np.pi * t / 10 + phase) + 1.5
        else:
            X[i, 0] = np.sign(np.sin(2 * np.pi * t / 32 + phase)) - 1.5
    return X + 0.2 * rng.standard_normal(X.shape), y


@pytest.fixture(scope="module")
def two_class_gen():
    """A generator trained properly on two well-separated classes (about 7 s).

    Budget measured on the 2-core machine: tokenizer 20 epochs and prior 300
    epochs gave a class accuracy of 0.95-1.0 over the generator's random_state
    0-3; a prior of 150 epochs gave 0.475-1.0 (seed 0 at chance).
    """
    X, y = _two_class_data()
    return _fit(make_gen(tokenizer_params=dict(max_epochs=20), max_epochs=300), X, y)


def test_class_conditional_samples_are_recognised(two_class_gen):
    X, y = _two_class_data()
    X_test, y_test = _two_class_data(seed=1)
    classifier = LogisticRegression(max_iter=1000).fit(X.reshape(len(X), -1), y)
    assert classifier.score(X_test.reshape(len(X_test), -1), y_test) == 1.0
    labels = np.array(["A", "B"] * 20)
    X_new, y_new = two_class_gen.sample(y=labels, random_state=0)
    np.testing.assert_array_equal(y_new, labels)
    accuracy = classifier.score(X_new.reshape(len(X_new), -1), labels)
    assert accuracy > 0.8, accuracy


def test_score_ranks_a_trained_generator_above_an_untrained_one(two_class_gen):
    # What GridSearchCV relies on: on held-out data of the same classes, the
    # properly trained generator scores higher (a smaller FID) than one trained
    # for a single epoch of each stage on the same data.
    X, y = _two_class_data()
    X_test, y_test = _two_class_data(seed=1)
    barely = _fit(make_gen(tokenizer_params=dict(max_epochs=1), max_epochs=1), X, y)
    for labels in (None, y_test):
        trained, untrained = two_class_gen.score(X_test, labels), barely.score(X_test, labels)
        assert trained > untrained, (trained, untrained)


def test_fit_resample_balances(resampled):
    gen, X, y, X_res, y_res = resampled
    labels, counts = np.unique(y_res, return_counts=True)
    assert dict(zip(labels, counts)) == {"major": 12, "minor": 12}
    assert X_res.shape == (24, 1, 32)
    assert X_res.dtype == np.float64
    np.testing.assert_array_equal(X_res[: len(X)], X.astype(np.float64))
    np.testing.assert_array_equal(y_res[: len(y)], y)
    assert y_res.dtype == y.dtype
    assert y_res[len(y) :].tolist() == ["minor"] * 8
    assert np.isfinite(X_res).all()
    assert hasattr(gen, "net_")  # fit_resample leaves the generator fitted


def _record_starts(monkeypatch):
    """Record the class ids and starting grids of every ``MaskGITPrior.generate`` call."""
    calls = []
    original = MaskGITPrior.generate

    def recording(self, class_ids, **kwargs):
        start = kwargs.get("tokens")
        calls.append((class_ids.clone(), None if start is None else start.clone()))
        return original(self, class_ids, **kwargs)

    monkeypatch.setattr(MaskGITPrior, "generate", recording)
    return calls


def test_fit_resample_redraws_half_of_each_real_series_of_the_class(monkeypatch):
    X, y = _imbalanced()
    gen = make_gen()
    calls = _record_starts(monkeypatch)
    with one_torch_thread():
        X_res, y_res = gen.fit_resample(X, y)
    (class_ids, start), *rest = calls
    assert not rest  # one batch
    mask_id, n_tokens = gen.net_.module_.mask_id, gen.tokenizer_.n_tokens_
    assert class_ids.tolist() == [gen.classes_.tolist().index("minor")] * 8
    masked = start == mask_id
    assert masked.sum(dim=1).tolist() == [round(0.5 * n_tokens)] * 8
    # the kept tokens are those of a real 'minor' series, the 4 taken in turn:
    # rows i and i + 4 come from the same series, rows 0-3 from 4 different ones
    real = torch.as_tensor(gen.tokenizer_.encode(X).reshape(len(X), -1))
    matches = [
        {i for i in range(len(X)) if torch.equal(real[i][keep], row[keep])}
        for row, keep in zip(start, ~masked)
    ]
    minors = np.flatnonzero(y == "minor").tolist()
    assert all(m and m <= set(minors) for m in matches)
    assert any(
        all(order[i % 4] in matches[i] for i in range(8))
        for order in itertools.permutations(minors)
    )
    assert not np.allclose(X_res[len(X) :], X_res[len(X) :][::-1])  # not copies of each other


def test_fit_resample_at_mask_ratio_one_adds_samples_of_the_prior():
    X, y = _imbalanced()
    gen = make_gen(resample_mask_ratio=1.0)
    with one_torch_thread():
        X_res, y_res = gen.fit_resample(X, y)
        X_new, y_new = gen.sample(y=y_res[len(y) :])
    np.testing.assert_array_equal(X_res[len(X) :], X_new)
    assert y_new.tolist() == ["minor"] * 8


def test_sample_variations(unit_gen, unit_test_data, monkeypatch):
    X, y = unit_test_data
    calls = _record_starts(monkeypatch)
    X_new, y_new = unit_gen.sample_variations(X[:6], y[:6], mask_ratio=0.25, random_state=3)
    assert X_new.shape == (6, 1, X.shape[-1]) and X_new.dtype == np.float64
    assert np.isfinite(X_new).all()
    assert y_new.tolist() == y[:6].tolist()
    ((class_ids, start),) = calls
    assert class_ids.tolist() == np.searchsorted(unit_gen.classes_, y[:6]).tolist()
    n_masked = round(0.25 * unit_gen.tokenizer_.n_tokens_)
    masked = start == unit_gen.net_.module_.mask_id
    assert masked.sum(dim=1).tolist() == [n_masked] * 6
    real = torch.as_tensor(unit_gen.tokenizer_.encode(X[:6]).reshape(6, -1))
    assert torch.equal(start[~masked], real[~masked])
    again, _ = unit_gen.sample_variations(X[:6], y[:6], mask_ratio=0.25, random_state=3)
    other, _ = unit_gen.sample_variations(X[:6], y[:6], mask_ratio=0.25, random_state=4)
    np.testing.assert_array_equal(X_new, again)
    assert not np.array_equal(X_new, other)


def test_sample_variations_at_mask_ratio_one_are_samples_of_the_prior(unit_gen, unit_test_data):
    X, y = unit_test_data
    with one_torch_thread():
        X_var, y_var = unit_gen.sample_variations(X[:5], y[:5], mask_ratio=1, random_state=2)
        X_new, y_new = unit_gen.sample(y=y[:5], random_state=2)
    np.testing.assert_array_equal(X_var, X_new)
    assert y_var.tolist() == y_new.tolist()


def test_sample_variations_labels(unit_gen, unit_test_data, monkeypatch):
    X, _ = unit_test_data
    calls = _record_starts(monkeypatch)
    _, y_one = unit_gen.sample_variations(X[:3], "2")
    X_free, y_free = unit_gen.sample_variations(X[:3])  # no class: the null class
    assert y_one.tolist() == ["2"] * 3 and y_free is None
    assert X_free.shape == (3, 1, X.shape[-1])
    null = unit_gen.net_.module_.null_class
    assert calls[1][0].tolist() == [null] * 3
    # at least one position is drawn, whatever the ratio
    X_tiny, _ = unit_gen.sample_variations(X[:3], mask_ratio=1e-9)
    assert ((calls[2][1] == unit_gen.net_.module_.mask_id).sum(dim=1) == 1).all()
    assert X_tiny.shape == (3, 1, X.shape[-1])


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(mask_ratio=0.0), r"mask_ratio must be a number in \(0, 1\]; got 0.0"),
        (dict(mask_ratio=1.5), r"mask_ratio must be a number in \(0, 1\]; got 1.5"),
        (dict(mask_ratio="half"), r"mask_ratio must be a number in \(0, 1\]; got 'half'"),
        (dict(y=["1", "2"]), "X has 3 series but y has 2 labels"),
        (dict(y="7"), r"y contains labels not seen in fit: \['7'\]"),
    ],
)
def test_sample_variations_errors(unit_gen, unit_test_data, kwargs, match):
    with pytest.raises(ValueError, match=match):
        unit_gen.sample_variations(unit_test_data[0][:3], **kwargs)


def test_sample_variations_of_an_unconditional_generator(uncond_gen, unit_test_data):
    X = unit_test_data[0][:2]
    X_new, y_new = uncond_gen.sample_variations(X)
    assert X_new.shape == (2, 1, X.shape[-1]) and y_new is None
    with pytest.raises(ValueError, match="fitted without labels"):
        uncond_gen.sample_variations(X, "1")
    with pytest.raises(
        ValueError, match=r"X has 2 channel\(s\), but NCVQVAEGenerator was fitted on series with 1"
    ):
        uncond_gen.sample_variations(np.zeros((2, 2, X.shape[-1])))


def test_fit_resample_2d_float32_input():
    X, y = _imbalanced()
    X2 = X[:, 0, :].astype(np.float32)
    X_res, y_res = _fit_resample(make_gen(max_epochs=1), X2, y)
    assert X_res.shape == (24, 32)  # 2D in, 2D out: the imbalanced-learn protocol
    np.testing.assert_array_equal(X_res[:16], X2.astype(np.float64))


def _fit_resample(gen, X, y, **kwargs):
    with one_torch_thread():
        return gen.fit_resample(X, y, **kwargs)


def test_fit_resample_dict_strategy():
    X, y = _imbalanced()
    y_int = (y == "minor").astype(np.int64)  # 0: 12 cases, 1: 4 cases
    X_res, y_res = _fit_resample(make_gen(max_epochs=1), X, y_int, sampling_strategy={0: 15, 1: 6})
    assert np.bincount(y_res).tolist() == [15, 6]
    assert y_res.dtype == y_int.dtype
    np.testing.assert_array_equal(X_res[:16], X)
    np.testing.assert_array_equal(y_res[:16], y_int)
    assert y_res[16:].tolist() == [0, 0, 0, 1, 1]


@pytest.mark.parametrize("strategy", ["all", "not majority"])
def test_fit_resample_string_strategies(strategy):
    X, y = _imbalanced()
    X_res, y_res = _fit_resample(make_gen(max_epochs=1), X, y, sampling_strategy=strategy)
    labels, counts = np.unique(y_res, return_counts=True)
    assert dict(zip(labels, counts)) == {"major": 12, "minor": 12}


def test_fit_resample_balanced_input_adds_nothing():
    X, y = _imbalanced(n_major=6, n_minor=6)
    X_res, y_res = _fit_resample(make_gen(max_epochs=1), X, y)
    np.testing.assert_array_equal(X_res, X)
    np.testing.assert_array_equal(y_res, y)


@pytest.mark.parametrize(
    "strategy, match",
    [
        ({"minor": 2}, "minor"),
        ({"other": 20}, "other"),
        ({"minor": 5.5}, "integers"),
        ("bogus", "sampling_strategy"),
    ],
)
def test_fit_resample_bad_strategy_raises_before_fitting(strategy, match):
    X, y = _imbalanced()
    gen = make_gen(max_epochs=1)
    with pytest.raises(ValueError, match=match):
        _fit_resample(gen, X, y, sampling_strategy=strategy)
    with pytest.raises(NotFittedError):
        gen.sample(1)


def test_fit_resample_needs_y(unit_test_data):
    with pytest.raises(ValueError, match="labels"):
        make_gen().fit_resample(unit_test_data[0], None)


def test_fit_and_fit_resample_validate_X_once(monkeypatch):
    # The tokenizer's fit, encode and decoder fine-tuning, and the variations of
    # fit_resample, reuse the collection that the generator validated.
    import sys

    from skncvqvae import _validation

    original, calls = _validation.check_collection, []

    def counting(*args, **kwargs):
        calls.append(args)
        return original(*args, **kwargs)

    # wherever it was imported (skncvqvae._base), and its own module
    patched = [
        name
        for name, module in list(sys.modules.items())
        if name.split(".")[0] == "skncvqvae"
        and getattr(module, "check_collection", None) is original
    ]
    for name in patched:
        monkeypatch.setattr(sys.modules[name], "check_collection", counting)
    assert {"skncvqvae._base", "skncvqvae._validation"} <= set(patched)
    X, y = _imbalanced()
    _fit(make_gen(max_epochs=1), X, y)
    assert len(calls) == 1
    calls.clear()
    _fit_resample(make_gen(max_epochs=1), X, y)
    assert len(calls) == 1


# -- reuse of a fitted tokenizer -----------------------------------------------------------------------
def _state(tokenizer):
    return {k: v.clone() for k, v in tokenizer.net_.module_.state_dict().items()}


def _assert_same_state(a, b):
    assert a.keys() == b.keys()
    for key in a:
        assert torch.equal(a[key], b[key]), key


@pytest.mark.parametrize("decoder_steps", [0, 2])
def test_reuse_fitted_tokenizer(fitted_copy, unit_test_data, decoder_steps):
    X, y = unit_test_data
    net = fitted_copy.net_
    state = _state(fitted_copy)
    history = copy.deepcopy(fitted_copy.history_)
    gen = _fit(
        NCVQVAEGenerator(
            fitted_copy, refit_tokenizer=False, **{**GEN, "decoder_steps": decoder_steps}
        ),
        X,
        y,
    )
    # the generator uses the fitted model in a private copy, whose decoder alone it
    # fine-tunes; the user's model is left as it was
    assert gen.tokenizer_ is not fitted_copy and gen.tokenizer_.net_ is not net
    copied = _state(gen.tokenizer_)
    _assert_same_state(
        {k: v for k, v in state.items() if not k.startswith("decoder.")},
        {k: v for k, v in copied.items() if not k.startswith("decoder.")},
    )
    changed = [
        k for k in state if k.startswith("decoder.") and not torch.equal(state[k], copied[k])
    ]
    assert bool(changed) == bool(decoder_steps)
    _assert_same_state(state, _state(fitted_copy))
    assert fitted_copy.history_ == history
    np.testing.assert_array_equal(gen.tokenizer_.transform(X), fitted_copy.transform(X))
    X_new, _ = gen.sample(3, random_state=0)
    assert X_new.shape == (3, 1, 24)
    # refitting the user's tokenizer afterwards (other shape, other size) leaves the
    # generator intact; it used to break sample() with a reshape error
    fitted_copy.set_params(downsampled_width=4, codebook_size=4).fit(make_sines(n=10, length=40))
    np.testing.assert_array_equal(gen.sample(3, random_state=0)[0], X_new)


def test_reuse_fitted_tokenizer_wrong_shape_raises(fitted_copy):
    X = make_sines(n=10, length=32)
    with pytest.raises(ValueError, match="32"):
        _fit(NCVQVAEGenerator(fitted_copy, refit_tokenizer=False, **GEN), X)


def test_refit_tokenizer_clones_fitted_tokenizer(fitted_copy, unit_test_data):
    X, y = unit_test_data
    state = _state(fitted_copy)
    net = fitted_copy.net_
    gen = _fit(
        NCVQVAEGenerator(fitted_copy, refit_tokenizer=True, **{**GEN, "max_epochs": 1}), X, y
    )
    assert gen.tokenizer_ is not fitted_copy
    assert fitted_copy.net_ is net
    _assert_same_state(state, _state(fitted_copy))
    assert gen.tokenizer_.get_params() == fitted_copy.get_params()


@pytest.mark.parametrize("refit_tokenizer", [True, False])
def test_unfitted_tokenizer_is_cloned(unit_test_data, refit_tokenizer):
    X, y = unit_test_data
    tokenizer = NCVQVAETokenizer(**{**TOK, "max_epochs": 1})
    params = tokenizer.get_params()
    gen = _fit(
        NCVQVAEGenerator(tokenizer, refit_tokenizer=refit_tokenizer, **{**GEN, "max_epochs": 1}),
        X,
        y,
    )
    assert gen.tokenizer_ is not tokenizer
    assert hasattr(gen.tokenizer_, "net_")
    assert not hasattr(tokenizer, "net_")
    assert tokenizer.get_params() == params
    assert gen.tokenizer is tokenizer


# -- the average of the prior's weights ------------------------------------------------------------------
def test_ema_of_the_prior_does_not_change_training(unit_test_data):
    X, y = unit_test_data
    last = _fit(make_gen(ema_decay=None), X, y)
    averaged = _fit(make_gen(ema_decay=0.9), X, y)
    assert "weight_average" not in dict(last.net_.callbacks_)
    trained = dict(averaged.net_.callbacks_)["weight_average"].trained_
    held = dict(averaged.net_.module_.named_parameters())
    for name, param in last.net_.module_.named_parameters():
        torch.testing.assert_close(trained[name], param, rtol=0, atol=0)
    assert any(not torch.equal(held[name], trained[name]) for name in trained)
    assert not np.array_equal(
        averaged.sample(4, random_state=0)[0], last.sample(4, random_state=0)[0]
    )
    # decay 0: the average is the last step's weights, so the model is the same
    same = _fit(make_gen(ema_decay=0.0), X, y)
    np.testing.assert_array_equal(
        same.sample(4, random_state=0)[0], last.sample(4, random_state=0)[0]
    )


def test_warm_start_trains_on_from_the_trained_weights_not_the_average(unit_test_data):
    # Averaging never feeds back into training, so a resumed averaged prior
    # trains exactly as a resumed plain one does, if it resumes from its
    # trained weights (and not from the average it holds).
    X, y = unit_test_data
    last = _fit(make_gen(ema_decay=None), X, y)
    averaged = _fit(make_gen(ema_decay=0.9), X, y)
    for gen in (last, averaged):
        _fit(gen.set_params(warm_start=True, max_epochs=5), X, y)
    assert len(averaged.history_) == 5
    trained = dict(averaged.net_.callbacks_)["weight_average"].trained_
    for name, param in last.net_.module_.named_parameters():
        torch.testing.assert_close(trained[name], param, rtol=0, atol=0)


def test_save_and_load_keep_the_trained_weights(unit_test_data, tmp_path):
    import skncvqvae

    X, y = unit_test_data
    gen = _fit(make_gen(ema_decay=0.9), X, y)
    loaded = skncvqvae.load(gen.save(tmp_path / "gen.safetensors"))
    before, after = (dict(g.net_.callbacks_)["weight_average"] for g in (gen, loaded))
    for name, weight in before.trained_.items():
        torch.testing.assert_close(after.trained_[name], weight, rtol=0, atol=0)
    for name, weight in before.average_.items():
        torch.testing.assert_close(after.average_[name], weight, rtol=0, atol=0)
    assert after.step_ == before.step_


def test_ema_decay_is_validated(unit_test_data):
    X, y = unit_test_data
    with pytest.raises(ValueError, match="ema_decay"):
        make_gen(ema_decay=1.0).fit(X, y)


# -- clone, persistence, model selection -------------------------------------------------------------------
def test_clone(unit_gen):
    cloned = clone(unit_gen)
    assert not hasattr(cloned, "net_")
    assert cloned.tokenizer is not unit_gen.tokenizer
    assert not hasattr(cloned.tokenizer, "net_")
    assert cloned.get_params(deep=False).keys() == unit_gen.get_params(deep=False).keys()
    for key, value in unit_gen.get_params(deep=False).items():
        if key != "tokenizer":
            assert cloned.get_params(deep=False)[key] == value
    assert cloned.tokenizer.get_params() == unit_gen.tokenizer.get_params()
    with pytest.raises(NotFittedError):
        cloned.sample(2)


def test_pickle_round_trip(unit_gen):
    restored = pickle.loads(pickle.dumps(unit_gen))
    a, ya = unit_gen.sample(6, random_state=7)
    b, yb = restored.sample(6, random_state=7)
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(ya, yb)
    np.testing.assert_array_equal(unit_gen.sample(3)[0], restored.sample(3)[0])


def test_joblib_round_trip(unit_gen, tmp_path):
    path = tmp_path / "gen.joblib"
    joblib.dump(unit_gen, path)
    restored = joblib.load(path)
    a, ya = unit_gen.sample(6, y="2", random_state=8)
    b, yb = restored.sample(6, y="2", random_state=8)
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(ya, yb)


@pytest.mark.parametrize("with_y", [False, True])
def test_grid_search(unit_test_data, with_y):
    X, y = unit_test_data
    order = np.random.default_rng(0).permutation(len(X))  # both classes in each fold
    X, y = X[order], y[order]
    search = GridSearchCV(make_gen(max_epochs=1), {"n_iterations": [2, 4]}, cv=2)
    with one_torch_thread():
        search.fit(X, y) if with_y else search.fit(X)
    scores = search.cv_results_["mean_test_score"]
    assert len(scores) == 2 and np.isfinite(scores).all()
    assert np.isfinite(search.best_score_) and search.best_score_ <= 0
    assert search.best_params_["n_iterations"] in (2, 4)
    assert hasattr(search.best_estimator_, "net_")
    assert (search.best_estimator_.classes_ is not None) == with_y


# -- score ---------------------------------------------------------------------------------------------------
def test_score(unit_gen, unit_test_data):
    X, y = unit_test_data
    first = unit_gen.score(X)
    assert isinstance(first, float)
    assert unit_gen.score(X) == first  # deterministic: a fixed sampling seed and extractor
    with_labels = unit_gen.score(X, y)
    assert np.isfinite(with_labels)
    assert unit_gen.score(X, y) == with_labels
    # unseen labels fall back to the training proportions
    assert np.isfinite(unit_gen.score(X, np.array(["x"] * len(X))))


def test_score_accepts_2d(unit_gen, unit_test_data):
    X, _ = unit_test_data
    assert unit_gen.score(X[:, 0, :]) == unit_gen.score(X)


def test_score_shape_mismatch(unit_gen, unit_test_data):
    X, _ = unit_test_data
    with pytest.raises(ValueError, match="length"):
        unit_gen.score(X[:, :, :20])
    with pytest.raises(ValueError, match="channel"):
        unit_gen.score(np.concatenate([X, X], axis=1))


# -- errors -------------------------------------------------------------------------------------------------------
def test_not_fitted():
    gen = make_gen()
    with pytest.raises(NotFittedError):
        gen.sample(2)
    with pytest.raises(NotFittedError):
        gen.score(np.zeros((4, 1, 24)))


@pytest.mark.parametrize(
    "X",
    [
        np.full((10, 1, 24), np.nan),
        np.where(np.arange(24) == 3, np.inf, 1.0)[None, None].repeat(10, 0),
        np.zeros(24),
        np.zeros((10, 1, 1, 24)),
        np.zeros((0, 1, 24)),
        np.array([["a"] * 24] * 10),
    ],
    ids=["nan", "inf", "1d", "4d", "empty", "strings"],
)
def test_bad_X(X):
    gen = make_gen()
    with pytest.raises(
        ValueError, match="NaN|infinity|2D array|dimension|empty|0 sample|strings|numeric"
    ):
        gen.fit(X, None)
    assert not hasattr(gen, "net_")


def test_nan_in_one_value(unit_test_data):
    X, y = unit_test_data
    X = X.copy()
    X[3, 0, 5] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        make_gen().fit(X, y)


def test_y_length_mismatch(unit_test_data):
    X, y = unit_test_data
    with pytest.raises(ValueError, match="labels"):
        make_gen().fit(X, y[:-1])


@pytest.mark.parametrize(
    "params",
    [
        dict(prior_input="bogus"),
        dict(n_iterations=0),
        dict(max_epochs=0),
        dict(p_unconditional=1.5),
        dict(token_noise=1.0),
        dict(label_smoothing=-0.1),
        dict(critic_steps=-1),
        dict(critic_steps=2.5),
        dict(resample_mask_ratio=0.0),
        dict(resample_mask_ratio=1.5),
        dict(lr=0.0),
        dict(tokenizer="not a tokenizer"),
    ],
)
def test_invalid_parameters(unit_test_data, params):
    X, y = unit_test_data
    if "tokenizer" in params:
        gen = NCVQVAEGenerator(params["tokenizer"], **GEN)
    else:
        gen = make_gen(**params)
    with pytest.raises(
        ValueError, match=f"The '{next(iter(params))}' parameter of NCVQVAEGenerator"
    ):
        gen.fit(X, y)  # InvalidParameterError is a ValueError, so users can catch either
    assert not hasattr(gen, "net_")


def test_hidden_dim_not_divisible_by_heads(unit_test_data):
    X, y = unit_test_data
    with pytest.raises(ValueError, match="divisible"):
        _fit(make_gen(hidden_dim=30, n_heads=4, max_epochs=1), X, y)


def test_generator_n_features_in_follows_sklearn():
    X = make_sines(n=12, length=32)
    gen = NCVQVAEGenerator(
        NCVQVAETokenizer(**TINY), hidden_dim=16, n_layers=1, max_epochs=1, random_state=0
    )
    assert gen.fit(X).n_features_in_ == X.shape[1]
    assert gen.fit(X[:, 0, :]).n_features_in_ == X.shape[2]


def test_set_params_reaches_the_default_tokenizer():
    # Before: set_params(tokenizer__max_epochs=2) failed while tokenizer=None.
    gen = NCVQVAEGenerator(device="cpu").set_params(tokenizer__max_epochs=2, max_epochs=3)
    assert isinstance(gen.tokenizer, NCVQVAETokenizer)
    assert gen.tokenizer.max_epochs == 2 and gen.tokenizer.device == "cpu"
    assert gen.get_params()["tokenizer__max_epochs"] == 2
    assert NCVQVAEGenerator().tokenizer is None  # the default stays None


@pytest.mark.parametrize(
    "n_fit, expected", [(50, 300), (67, 200), (20, 600), (36, 300), (5000, 32)]
)
def test_generator_trains_an_auto_tokenizer_at_least_600_steps(n_fit, expected):
    # The tokenizer's own "auto" rule (150 epochs, 300-5000 steps) with twice the floor.
    from skncvqvae._base import auto_epochs

    budget = NCVQVAEGenerator._tokenizer_auto_budget
    assert auto_epochs(n_fit, 32, budget) == expected
    assert NCVQVAETokenizer()._n_epochs(n_fit) == auto_epochs(n_fit, 32, (150, 300, 5000))


@pytest.mark.parametrize(
    "n_fit, standard, high", [(50, 300, 600), (67, 200, 400), (20, 600, 1200), (5000, 32, 64)]
)
def test_quality_high_doubles_the_auto_tokenizer_steps(n_fit, standard, high):
    from skncvqvae._base import auto_epochs

    assert NCVQVAEGenerator()._stage1_budget() == NCVQVAEGenerator._tokenizer_auto_budget
    assert auto_epochs(n_fit, 32, NCVQVAEGenerator()._stage1_budget()) == standard
    assert auto_epochs(n_fit, 32, NCVQVAEGenerator(quality="high")._stage1_budget()) == high


def test_quality_high_reaches_the_fitted_tokenizer_and_keeps_an_explicit_budget():
    X, y = _imbalanced()  # 16 series: one batch of 32 per epoch
    tokenizer = NCVQVAETokenizer(**{**TOK, "max_epochs": "auto"})
    gen = NCVQVAEGenerator(tokenizer, quality="high", **GEN)
    gen._tokenizer_auto_budget = (2, 3, 10)  # a small rule for the test: "high" gives 6 steps
    _fit(gen, X, y)
    # the fitted tokenizer reports the parameters of one fitted alone, and its budget
    assert gen.tokenizer_.max_epochs == "auto" and gen.tokenizer_.n_steps_ == 6
    assert len(gen.tokenizer_.history_) == 6
    gen = NCVQVAEGenerator(NCVQVAETokenizer(**TOK), quality="high", **GEN)  # max_epochs=3
    _fit(gen, X, y)
    assert len(gen.tokenizer_.history_) == TOK["max_epochs"]


def test_unknown_quality_raises():
    X, y = _imbalanced()
    with pytest.raises(ValueError, match="quality"):
        NCVQVAEGenerator(quality="best", **GEN).fit(X, y)


def test_auto_tokenizer_budget_reaches_the_fitted_tokenizer():
    X, y = _imbalanced()  # 16 series: one batch of 32 per epoch
    tokenizer = NCVQVAETokenizer(**{**TOK, "max_epochs": "auto"})
    gen = NCVQVAEGenerator(tokenizer, **GEN)
    gen._tokenizer_auto_budget = (2, 5, 10)  # a small rule for the test: at least 5 steps
    _fit(gen, X, y)
    assert gen.tokenizer_.max_epochs == "auto" and gen.tokenizer_.n_steps_ == 5
    assert len(gen.tokenizer_.history_) == 5
    assert tokenizer.max_epochs == "auto"  # the user's object is not changed
    # an explicit budget is the user's choice: kept as given
    gen = NCVQVAEGenerator(NCVQVAETokenizer(**TOK), **GEN)  # max_epochs=3
    gen._tokenizer_auto_budget = (2, 5, 10)
    _fit(gen, X, y)
    assert gen.tokenizer_.max_epochs == TOK["max_epochs"]
    assert len(gen.tokenizer_.history_) == TOK["max_epochs"]


def test_generator_mixed_precision_reaches_its_default_tokenizer_and_prior(monkeypatch):
    X, y = make_two_class(n=20, length=24)
    generator = NCVQVAEGenerator(**TINY_GENERATOR, mixed_precision="bf16")
    generator.set_params(tokenizer__max_epochs=2, tokenizer__hidden_dim=16)
    assert generator.tokenizer.mixed_precision == "bf16"
    generator.fit(X, y)
    assert generator.tokenizer_.mixed_precision == "bf16"
    assert generator.net_.mixed_precision == "bf16"
    assert all(np.isfinite(epoch["loss"]) for epoch in generator.history_)
    X_new, _ = generator.sample(4, random_state=0)
    assert X_new.dtype == np.float64 and np.isfinite(X_new).all()
    # the default tokenizer of fit (tokenizer=None) too, here with a 2-epoch "auto"
    # budget; a given tokenizer keeps its own
    monkeypatch.setattr(NCVQVAEGenerator, "_tokenizer_auto_budget", (2, 0, 2))
    fitted = NCVQVAEGenerator(**TINY_GENERATOR, mixed_precision="bf16").fit(X, y)
    assert fitted.tokenizer_.mixed_precision == "bf16"
    own = NCVQVAEGenerator(NCVQVAETokenizer(**TINY), **TINY_GENERATOR, mixed_precision="bf16").fit(
        X, y
    )
    assert own.tokenizer_.mixed_precision is None and own.net_.mixed_precision == "bf16"


def _record_sampling_precision(gen, monkeypatch):
    """Record, per call, whether the prior's decoding and the tokenizer's decoder ran
    under bf16 autocast."""
    seen = {"prior": [], "decoder": []}
    module = gen.net_.module_
    generate, decode = module.generate, gen.tokenizer_.decode

    def bf16_on():
        return (
            torch.is_autocast_enabled("cpu") and torch.get_autocast_dtype("cpu") == torch.bfloat16
        )

    def recording_generate(*args, **kwargs):
        seen["prior"].append(bf16_on())
        return generate(*args, **kwargs)

    def recording_decode(tokens):
        seen["decoder"].append(bf16_on())
        return decode(tokens)

    monkeypatch.setattr(module, "generate", recording_generate)
    monkeypatch.setattr(gen.tokenizer_, "decode", recording_decode)
    return seen


def test_sampling_precision_follows_mixed_precision_at_sampling_time(unit_gen, monkeypatch):
    gen = copy.deepcopy(unit_gen)
    assert gen.mixed_precision is None and gen.net_.mixed_precision is None
    seen = _record_sampling_precision(gen, monkeypatch)
    X_fp32, y_fp32 = gen.sample(6, random_state=0)
    assert seen == {"prior": [False], "decoder": [False]}
    # a sampling-time setting, like guidance_scale: no refit, the training is unchanged
    gen.set_params(mixed_precision="bf16")
    X_bf16, y_bf16 = gen.sample(6, random_state=0)
    assert seen == {"prior": [False, True], "decoder": [False, False]}  # decoder float32
    assert gen.net_.mixed_precision is None
    assert X_bf16.shape == X_fp32.shape and X_bf16.dtype == np.float64
    assert np.isfinite(X_bf16).all()
    np.testing.assert_array_equal(y_bf16, y_fp32)
    # reproducible in bf16 as in float32
    X_again, _ = gen.sample(6, random_state=0)
    np.testing.assert_array_equal(X_again, X_bf16)
    # variations (fit_resample's path) decode under the same setting
    gen.sample_variations(X_fp32[:2], y_fp32[:2], random_state=0)
    assert seen["prior"][-1] is True and seen["decoder"][-1] is False
    gen.set_params(mixed_precision=None)
    gen.sample(2, random_state=0)
    assert seen["prior"][-1] is False


# -- decoder fine-tuning (decoder_steps) -------------------------------------------
@pytest.fixture(scope="module")
def tuned_and_plain(unit_test_data):
    X, y = unit_test_data
    tuned = _fit(make_gen(decoder_steps=60), X, y)
    plain = _fit(make_gen(decoder_steps=0), X, y)
    return tuned, plain


def _reconstruction_error(gen, X) -> float:
    tok = gen.tokenizer_
    return float(np.mean((tok.decode(tok.encode(X)) - X) ** 2))


def test_decoder_steps_fine_tune_the_decoder_alone(tuned_and_plain, unit_test_data):
    X, y = unit_test_data
    tuned, plain = tuned_and_plain
    losses = tuned.decoder_loss_
    assert losses.shape == (60,) and losses.dtype == np.float64
    assert np.isfinite(losses).all()
    assert losses[-10:].mean() < 0.9 * losses[:10].mean()
    assert plain.decoder_loss_.shape == (0,)
    # tokens, features and the prior are those of the generator without fine-tuning
    np.testing.assert_array_equal(tuned.tokenizer_.encode(X), plain.tokenizer_.encode(X))
    np.testing.assert_array_equal(tuned.tokenizer_.transform(X), plain.tokenizer_.transform(X))
    for (name, a), b in zip(
        tuned.net_.module_.state_dict().items(), plain.net_.module_.state_dict().values()
    ):
        assert torch.equal(a, b), name
    # only the decoder changed, and it reconstructs the training series better
    tuned_state, plain_state = _state(tuned.tokenizer_), _state(plain.tokenizer_)
    for name in tuned_state:
        assert torch.equal(tuned_state[name], plain_state[name]) != name.startswith("decoder."), (
            name
        )
    assert _reconstruction_error(tuned, X) < 0.8 * _reconstruction_error(plain, X)
    assert not any(m.training for m in tuned.tokenizer_.net_.module_.modules())


def test_decoder_fine_tuning_is_reproducible(tuned_and_plain, unit_test_data):
    X, y = unit_test_data
    tuned, _ = tuned_and_plain
    again = _fit(clone(tuned), X, y)
    np.testing.assert_array_equal(again.decoder_loss_, tuned.decoder_loss_)
    np.testing.assert_array_equal(
        again.sample(4, random_state=0)[0], tuned.sample(4, random_state=0)[0]
    )


def test_warm_start_keeps_the_fine_tuned_decoder(unit_test_data):
    X, y = unit_test_data
    gen = _fit(make_gen(decoder_steps=5), X, y)
    losses, state = gen.decoder_loss_.copy(), _state(gen.tokenizer_)
    _fit(gen.set_params(warm_start=True, max_epochs=5), X, y)
    assert len(gen.history_) == 5
    np.testing.assert_array_equal(gen.decoder_loss_, losses)
    _assert_same_state(state, _state(gen.tokenizer_))


def test_decoder_steps_is_validated(unit_test_data):
    X, y = unit_test_data
    with pytest.raises(ValueError, match="decoder_steps"):
        make_gen(decoder_steps=-1).fit(X, y)


# -- early stopping of the prior on held-out token grids --------------------------------
def test_holdout_rows_per_class_never_a_class_last_series():
    labels = np.array([0] * 20 + [1] * 10 + [2] * 1)
    rows = _holdout_rows(labels, len(labels), 0.2, seed=0)
    held = labels[rows]
    assert (held == 0).sum() == 4 and (held == 1).sum() == 2 and (held == 2).sum() == 0
    assert np.array_equal(rows, np.sort(rows)) and len(set(rows.tolist())) == len(rows)
    assert np.array_equal(rows, _holdout_rows(labels, len(labels), 0.2, seed=0))
    # rounding to none in every class still holds one out, from the largest class
    few = _holdout_rows(np.array([0, 0, 0, 1, 1]), 5, 0.1, seed=0)
    assert len(few) == 1 and few[0] < 3
    assert len(_holdout_rows(None, 30, 0.1, seed=1)) == 3
    with pytest.raises(ValueError, match="every class has a single series"):
        _holdout_rows(np.array([0, 1, 2]), 3, 0.5, seed=0)


@pytest.fixture(scope="module")
def fitted_tokenizer(unit_test_data):
    with one_torch_thread():
        return NCVQVAETokenizer(**TOK).fit(unit_test_data[0])


def _prior_only(tokenizer, **params) -> NCVQVAEGenerator:
    base = dict(GEN, tokenizer=tokenizer, refit_tokenizer=False, decoder_steps=0)
    return NCVQVAEGenerator(**{**base, **params})


def test_early_stopping_in_chunks_trains_the_same_steps_as_one_run(
    unit_test_data, fitted_tokenizer, monkeypatch
):
    """A monitor that never stops changes nothing: the same steps as a plain fit
    on the rows it trains on, checked every epoch."""
    X, y = unit_test_data
    monkeypatch.setattr(NCVQVAEGenerator, "_check_steps", 1)
    params = dict(max_epochs=6, ema_decay=None, random_state=3)
    stopped = _fit(
        _prior_only(fitted_tokenizer, early_stopping=True, n_iter_no_change=100, **params), X, y
    )
    assert len(stopped.history_) == 6 and len(stopped.validation_scores_) == 6
    assert all("valid_loss" in row and "valid_masked_accuracy" in row for row in stopped.history_)
    # the rows it held out, as fit chose them
    _, prior_seed, _ = spawn_seeds(3, 3)
    labels = np.searchsorted(stopped.classes_, y)
    held = _holdout_rows(labels, len(X), 0.1, spawn_seeds(prior_seed, 1)[0])
    keep = np.setdiff1d(np.arange(len(X)), held)
    plain = _fit(_prior_only(fitted_tokenizer, **params), X[keep], y[keep])
    losses = [row["loss"] for row in stopped.history_]
    assert losses == [row["loss"] for row in plain.history_]


def test_early_stopping_stops_and_keeps_the_best_weights(
    unit_test_data, fitted_tokenizer, monkeypatch
):
    X, y = unit_test_data
    monkeypatch.setattr(NCVQVAEGenerator, "_check_steps", 1)
    gen = _prior_only(
        fitted_tokenizer,
        early_stopping=True,
        validation_fraction=0.3,
        n_iter_no_change=2,
        max_epochs=300,
        lr=0.05,
        random_state=0,
    )
    _fit(gen, X, y)
    scores = gen.validation_scores_
    assert len(gen.history_) < 300, "a learning rate of 0.05 should overfit 14 series early"
    assert len(scores) == len(gen.history_)
    best = int(np.argmin(scores))
    assert len(scores) - 1 - best == 2 and gen.best_validation_score_ == scores[best]
    assert [row["valid_loss"] for row in gen.history_] == pytest.approx(scores.tolist())
    # the prior holds the weights of the best check: the held-out loss, evaluated again, is it
    labels = np.searchsorted(gen.classes_, y)
    monitor_data = {
        "tokens": torch.as_tensor(gen.tokenizer_.encode(X).reshape(len(X), -1)),
        "labels": torch.as_tensor(labels),
    }
    _, prior_seed, _ = spawn_seeds(0, 3)
    held = _holdout_rows(labels, len(X), 0.3, spawn_seeds(prior_seed, 1)[0])
    monitor = HeldOutMonitor(
        {k: v[held] for k, v in monitor_data.items()},
        patience=2,
        seed=spawn_seeds(prior_seed, 2)[1],
    )
    assert float(monitor.evaluate(gen.net_).loss) == pytest.approx(scores[best], rel=1e-6)


def test_held_out_checks_use_fixed_masks(unit_gen):
    """Unchanged weights score the same at every check, so patience counts them."""
    n = unit_gen.net_.module_.n_tokens
    data = {"tokens": torch.randint(0, 8, (5, n), generator=torch.Generator().manual_seed(0))}
    data["labels"] = torch.tensor([0, 1, 0, 1, 1])
    monitor = HeldOutMonitor(data, patience=2, seed=7, n_rows=40)
    assert len(monitor.data["tokens"]) == 40  # each row repeated 8 times, 8 mask draws
    history = unit_gen.net_.history
    rows = len(history)
    try:
        assert [monitor(unit_gen.net_) for _ in range(3)] == [False, False, True]
        assert monitor.scores[0] == monitor.scores[1] == monitor.scores[2]
        assert monitor.best_index == 0
        assert unit_gen.net_.module_.training is False
    finally:
        for key in ("valid_loss", "valid_masked_accuracy"):
            history[-1].pop(key, None)
    assert len(history) == rows


def test_without_early_stopping_no_validation_attributes(unit_gen):
    assert unit_gen.validation_scores_ is None and unit_gen.best_validation_score_ is None
    assert all("valid_loss" not in row for row in unit_gen.history_)


def test_early_stopping_saved_and_loaded(unit_test_data, fitted_tokenizer, tmp_path):
    X, y = unit_test_data
    gen = _fit(_prior_only(fitted_tokenizer, early_stopping=True, random_state=0), X, y)
    loaded = skncvqvae.load(gen.save(tmp_path / "gen.safetensors"))
    np.testing.assert_array_equal(loaded.validation_scores_, gen.validation_scores_)
    assert loaded.best_validation_score_ == gen.best_validation_score_
    np.testing.assert_array_equal(
        loaded.sample(4, random_state=0)[0], gen.sample(4, random_state=0)[0]
    )


@pytest.mark.parametrize(
    "params, name",
    [
        (dict(validation_fraction=1.0), "validation_fraction"),
        (dict(validation_fraction=0), "validation_fraction"),
        (dict(n_iter_no_change=0), "n_iter_no_change"),
        (dict(early_stopping="yes"), "early_stopping"),
    ],
)
def test_early_stopping_parameters_are_validated(unit_test_data, params, name):
    X, y = unit_test_data
    with pytest.raises(ValueError, match=name):
        make_gen(**params).fit(X, y)


def test_early_stopping_needs_a_class_with_two_series():
    X = make_sines(n=3, length=32, seed=0)
    with pytest.raises(ValueError, match="every class has a single series"):
        make_gen(early_stopping=True).fit(X, ["a", "b", "c"])


@pytest.mark.parametrize("params", [dict(token_noise=0.3), dict(label_smoothing=0.2)])
def test_prior_regularisers_reach_the_prior_and_are_reproducible(unit_gen, unit_test_data, params):
    X, y = unit_test_data
    # the stage 1 of the plain fit, so the two priors see the same token grids
    base = dict(tokenizer=unit_gen.tokenizer_, refit_tokenizer=False, decoder_steps=0)
    gen = _fit(clone(unit_gen).set_params(**base, **params), X, y)
    module = gen.net_.module_
    assert module.token_noise == params.get("token_noise", 0.0)
    assert module.label_smoothing == params.get("label_smoothing", 0.0)
    plain = _fit(clone(unit_gen).set_params(**base), X, y)
    losses = [row["loss"] for row in gen.history_]
    assert losses != [row["loss"] for row in plain.history_]
    # clone() would refit a clone of the fitted tokenizer: pass the fitted one again
    again = _fit(clone(gen).set_params(tokenizer=unit_gen.tokenizer_), X, y)
    assert [row["loss"] for row in again.history_] == losses
    np.testing.assert_array_equal(
        again.sample(4, random_state=0)[0], gen.sample(4, random_state=0)[0]
    )


# -- the token critic (critic_steps) ---------------------------------------------------
def test_default_generator_has_no_critic(unit_gen):
    assert unit_gen.critic_steps == 0
    assert unit_gen.net_.module_.critic is None
    assert unit_gen.critic_loss_.shape == (0,)


@pytest.fixture(scope="module")
def critic_gen(unit_gen, unit_test_data):
    """``unit_gen``'s stage 1 and prior settings with a token critic of 30 steps."""
    X, y = unit_test_data
    base = dict(tokenizer=unit_gen.tokenizer_, refit_tokenizer=False, decoder_steps=0)
    with one_torch_thread():
        plain = clone(unit_gen).set_params(**base).fit(X, y)
        gen = clone(unit_gen).set_params(**base, critic_steps=30).fit(X, y)
    return plain, gen


def test_critic_is_trained_after_the_prior_and_leaves_it_unchanged(critic_gen):
    plain, gen = critic_gen
    module = gen.net_.module_
    assert module.critic is not None
    assert gen.critic_loss_.shape == (30,) and np.isfinite(gen.critic_loss_).all()
    assert gen.critic_loss_[0] == pytest.approx(np.log(2), abs=0.15)  # an untrained critic
    own = {k: v for k, v in module.state_dict().items() if not k.startswith("critic.")}
    reference = plain.net_.module_.state_dict()
    assert own.keys() == reference.keys()
    assert all(torch.equal(own[k], reference[k]) for k in own)
    assert [row["loss"] for row in gen.history_] == [row["loss"] for row in plain.history_]


def test_critic_changes_the_samples_reproducibly(critic_gen, unit_gen, unit_test_data):
    X, y = unit_test_data
    plain, gen = critic_gen
    first = gen.sample(6, random_state=0)[0]
    assert not np.array_equal(first, plain.sample(6, random_state=0)[0])
    np.testing.assert_array_equal(gen.sample(6, random_state=0)[0], first)
    with one_torch_thread():
        again = _fit(clone(gen).set_params(tokenizer=unit_gen.tokenizer_), X, y)
    np.testing.assert_array_equal(again.critic_loss_, gen.critic_loss_)
    np.testing.assert_array_equal(again.sample(6, random_state=0)[0], first)


def test_critic_survives_save_and_load(critic_gen, tmp_path):
    _, gen = critic_gen
    loaded = skncvqvae.load(gen.save(tmp_path / "critic.safetensors"))
    assert loaded.net_.module_.critic is not None
    np.testing.assert_array_equal(loaded.critic_loss_, gen.critic_loss_)
    np.testing.assert_array_equal(
        loaded.sample(5, random_state=1)[0], gen.sample(5, random_state=1)[0]
    )


@pytest.mark.parametrize("critic_steps", [0, 5])
def test_warm_start_removes_or_retrains_the_critic(critic_gen, unit_test_data, critic_steps):
    X, y = unit_test_data
    gen = copy.deepcopy(critic_gen[1])
    epochs = len(gen.history_)
    with one_torch_thread():
        gen.set_params(warm_start=True, max_epochs=epochs + 1, critic_steps=critic_steps)
        gen.fit(X, y)
    assert len(gen.history_) == epochs + 1
    assert gen.critic_loss_.shape == (critic_steps,)
    has_critic = any(k.startswith("critic.") for k in gen.net_.module_.state_dict())
    assert (gen.net_.module_.critic is not None) == has_critic == bool(critic_steps)
    assert gen.sample(3, random_state=0)[0].shape == (3, *X.shape[1:])


def test_unconditional_generator_with_a_critic(unit_test_data):
    X, _ = unit_test_data
    gen = _fit(make_gen(critic_steps=5), X)
    assert gen.net_.module_.critic is not None and gen.critic_loss_.shape == (5,)
    X_new, y_new = gen.sample(4, random_state=0)
    assert X_new.shape == (4, *X.shape[1:]) and y_new is None
