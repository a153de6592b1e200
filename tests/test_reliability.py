"""Reliability contracts of the estimators: no silent garbage, resumed training,
resampling that fails before training, thread safety. Each test is a regression
test of a failure seen on the earlier code; the property-based ones (hypothesis)
generate their cases.

The contracts of the plumbing modules are in their own files: scale, offset,
non-finite values and unequal lengths in test_validation.py; divergence,
interruption (Ctrl-C) and devices in test_training.py; saving and loading in
test_persistence.py; bounded inference batches in test_base.py.
"""

from __future__ import annotations

import copy
import threading
import warnings

import numpy as np
import pandas as pd
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from skncvqvae import NCVQVAEGenerator, NCVQVAETokenizer
from skncvqvae.metrics import FCNClassifier
from skncvqvae.nn import min_length

from _helpers import PROPERTY, TINY_GENERATOR, make_sines

TINY = NCVQVAETokenizer._get_test_params()
TINY_FCN = FCNClassifier._get_test_params()


def _tokenizer(**params):
    return NCVQVAETokenizer(**{**TINY, **params})


def _generator(**params):
    return NCVQVAEGenerator(_tokenizer(max_epochs=3), **{**TINY_GENERATOR, **params})


# -- inputs: n_fft, labels ----------------------------------------------------------------


@PROPERTY
@given(
    n_fft=st.sampled_from([4, 6, 8, 10, 12, 16]),
    length=st.integers(1, 80),
    hop_share=st.sampled_from([None, 0.0, 0.5, 1.0]),
)
def test_even_n_fft_works_at_any_length_and_hop(n_fft, length, hop_share):
    # hop_share picks the hop in [1, n_fft // 2]: 0 is 1, 1 is n_fft // 2, None the default
    hop = None if hop_share is None else 1 + round(hop_share * (n_fft // 2 - 1))
    X = make_sines(n=6, length=length)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # the short-series padding notice
        tok = _tokenizer(n_fft=n_fft, hop_length=hop).fit(X)
        assert tok.transform(X).shape == (6, 6 * TINY["codebook_dim"])
        assert tok.reconstruct(X).shape == X.shape
        assert np.isfinite(tok.reconstruct(X)).all()
    assert tok.token_shape_[0] == n_fft // 2 + 1
    assert tok.hop_length_ == (n_fft // 4 if hop is None else hop)
    assert length >= min_length(n_fft) or tok.n_timepoints_ == length


@pytest.mark.parametrize("n_fft", [5, 7, 9, 17])
def test_odd_n_fft_is_rejected_by_the_parameter_check(n_fft):
    # Before: RuntimeError "The size of tensor a (151) must match ... (150)".
    with pytest.raises(ValueError, match="'n_fft' parameter of NCVQVAETokenizer must be an even"):
        _tokenizer(n_fft=n_fft).fit(make_sines(n=6, length=150))


@pytest.mark.parametrize(
    "y, match",
    [
        (np.array(["a", None] * 6, dtype=object), "one kind"),
        (np.array(["a", 1] * 6, dtype=object), "one kind"),
        (np.array([1.0, np.nan] * 6), "missing"),
    ],
)
def test_bad_labels_are_rejected_with_a_clear_message(y, match):
    with pytest.raises(ValueError, match=match):
        _generator().fit(make_sines(n=12, length=32), y)


def test_sample_rejects_a_boolean_label_for_integer_classes():
    # Before: sample(y=True) on classes [1, 2] returned class 1 (True == 1).
    gen = _generator().fit(make_sines(n=12, length=32), np.array([1, 2] * 6))
    with pytest.raises(ValueError, match="not seen in fit"):
        gen.sample(2, y=True)
    assert gen.sample(2, y=1)[1].tolist() == [1, 1]


def test_score_validates_its_input():
    # Before: score(X, y[:5]) returned a number; score(X[:1]) a one-series FID.
    X, y = make_sines(n=12, length=32), np.array(["a", "b"] * 6)
    gen = _generator().fit(X, y)
    with pytest.raises(ValueError, match="12 series but y has 5"):
        gen.score(X, y[:5])
    with pytest.raises(ValueError, match="at least 2 series"):
        gen.score(X[:1])


# -- resumed training ----------------------------------------------------------------------
def test_warm_start_extends_training():
    X = make_sines(n=16, length=32)
    tok = _tokenizer(max_epochs=2).fit(X)
    weights = copy.deepcopy(tok.net_.module_.state_dict())
    tok.set_params(warm_start=True, max_epochs=4).fit(X * 3.0)  # scaling is kept on resume
    assert len(tok.history_) == 4 and tok.scale_ == pytest.approx(X.std())
    key = "encoder.layers.0.0.weight"
    assert not torch.equal(weights[key], tok.net_.module_.state_dict()[key])


# -- reused tokenizers and resampling ---------------------------------------------------------
def test_huge_sampling_strategy_fails_before_training():
    # Before: the whole model trained, then a 3.6 TiB MemoryError.
    X, y = make_sines(n=12, length=32), np.array(["1"] * 8 + ["2"] * 4)
    gen = _generator()
    with pytest.raises(ValueError, match="GiB"):
        gen.fit_resample(X, y, sampling_strategy={"2": 10**12})
    assert not hasattr(gen, "net_")


@pytest.mark.parametrize(
    "strategy, expected",
    [
        ("auto", {"a": 8, "b": 8, "c": 8}),
        ("minority", {"a": 8, "b": 5, "c": 8}),
        ("not minority", {"a": 8, "b": 8, "c": 3}),
        ("not majority", {"a": 8, "b": 8, "c": 8}),
        ("all", {"a": 8, "b": 8, "c": 8}),
        ({"c": 6}, {"a": 8, "b": 5, "c": 6}),
        (lambda y: {"b": 7}, {"a": 8, "b": 7, "c": 3}),
    ],
)
def test_sampling_strategies_follow_imbalanced_learn(strategy, expected):
    from skncvqvae.generator import _targets

    y = np.array(["a"] * 8 + ["b"] * 5 + ["c"] * 3)
    counts = dict(zip(*np.unique(y, return_counts=True)))
    assert _targets(counts, strategy, y) == expected


def test_float_strategy_and_pandas_containers():
    X = make_sines(n=12, length=32)[:, 0]
    y = np.array(["major"] * 8 + ["minor"] * 4)
    frame = pd.DataFrame(X, columns=[f"t{i}" for i in range(32)])
    series = pd.Series(y, name="label")
    X_res, y_res = _generator().fit_resample(frame, series, sampling_strategy=0.75)
    assert isinstance(X_res, pd.DataFrame) and list(X_res.columns) == list(frame.columns)
    assert isinstance(y_res, pd.Series) and y_res.name == "label"
    assert y_res.value_counts().to_dict() == {"major": 8, "minor": 6}
    np.testing.assert_array_equal(X_res.to_numpy()[:12], X)
    with pytest.raises(ValueError, match="two classes only"):
        _generator().fit_resample(X, np.array(["a", "b", "c"] * 4), sampling_strategy=0.5)


def test_generator_in_an_imbalanced_learn_pipeline():
    from imblearn.pipeline import make_pipeline
    from sklearn.linear_model import LogisticRegression

    X = make_sines(n=16, length=32)[:, 0]
    y = np.array(["major"] * 12 + ["minor"] * 4)
    pipe = make_pipeline(_generator(), LogisticRegression(max_iter=200)).fit(X, y)
    assert pipe.predict(X).shape == (16,)
    assert set(pipe.classes_) == {"major", "minor"}


# -- thread safety ---------------------------------------------------------------------------
def _in_threads(fn, n=4):
    results, errors = [None] * n, []

    def run(i):
        try:
            results[i] = fn()
        except Exception as error:  # pragma: no cover - reported below
            errors.append(error)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    return results


def test_sample_and_transform_are_thread_safe():
    # Before: concurrent sample() calls disagreed with the serial result
    # (train/eval flips of the shared prior let dropout leak between threads).
    X, y = make_sines(n=12, length=32), np.array(["1", "2"] * 6)
    gen = _generator(dropout=0.5).fit(X, y)
    serial = gen.sample(6, y="1", random_state=1)[0]
    for result in _in_threads(lambda: gen.sample(6, y="1", random_state=1)[0]):
        np.testing.assert_array_equal(result, serial)
    tok = gen.tokenizer_
    for result in _in_threads(lambda: tok.transform(X)):
        np.testing.assert_array_equal(result, tok.transform(X))
    assert not any(m.training for m in gen.net_.module_.modules())


# -- labels of any type ----------------------------------------------------------------------
@PROPERTY
@given(
    labels=st.one_of(
        st.lists(st.integers(-(2**40), 2**40), min_size=2, max_size=3, unique=True),
        st.lists(st.text(min_size=1, max_size=6), min_size=2, max_size=3, unique=True),
        # float labels are classes when integral (scikit-learn calls others continuous)
        st.lists(st.integers(-1000, 1000).map(float), min_size=2, max_size=3, unique=True),
    )
)
def test_labels_of_any_type_come_back_in_the_users_label_space(labels):
    X = make_sines(n=12, length=32)
    y = np.array([labels[i % len(labels)] for i in range(12)])
    gen = NCVQVAEGenerator(_tokenizer(max_epochs=1), **{**TINY_GENERATOR, "max_epochs": 1}).fit(
        X, y
    )
    np.testing.assert_array_equal(gen.classes_, np.unique(y))
    for label in labels:
        X_new, y_new = gen.sample(2, y=label, random_state=0)
        assert y_new.dtype == y.dtype and list(y_new) == [label, label]
        assert X_new.shape == (2, 1, 32)
    _, y_drawn = gen.sample(20, random_state=0)
    assert set(y_drawn.tolist()) <= set(y.tolist())
