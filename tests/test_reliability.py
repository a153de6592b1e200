"""Reliability contracts: no silent garbage, safe interruption, saving and loading,
thread safety, bounded memory. Each test is a regression test of a failure seen
on the earlier code; the property-based ones (hypothesis) generate their cases."""

from __future__ import annotations

import copy
import threading
import warnings

import numpy as np
import pandas as pd
import pytest
import torch
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from sklearn.exceptions import NotFittedError
from sklearn.model_selection import GridSearchCV
from sklearn.utils.validation import check_is_fitted

import skncvqvae
from skncvqvae import NCVQVAEGenerator, NCVQVAETokenizer
from skncvqvae._training import NonFiniteLossError
from skncvqvae.metrics import FCNClassifier
from skncvqvae.nn import min_length

from conftest import TINY, TINY_FCN, TINY_GENERATOR, make_sines

# hypothesis: few, deterministic examples per property (every example fits a model)
PROPERTY = settings(
    max_examples=12,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@pytest.fixture(scope="module")
def gunpoint_train():
    from aeon.datasets import load_gunpoint

    return load_gunpoint(split="train")[0]


def _tokenizer(**params):
    return NCVQVAETokenizer(**{**TINY, **params})


def _generator(**params):
    return NCVQVAEGenerator(_tokenizer(max_epochs=3), **{**TINY_GENERATOR, **params})


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


# -- inputs: NaN/inf placement, lengths, n_fft, labels ---------------------------------
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
    "device, match",
    [("cuda", "CUDA GPU, but torch sees none"), ("foo", "not a torch device")],
)
def test_unusable_device_is_rejected_at_fit(device, match):
    if device == "cuda" and torch.cuda.is_available():
        pytest.skip("a GPU is available here")
    with pytest.raises(ValueError, match=match):
        _tokenizer(device=device).fit(make_sines(n=6, length=32))


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


# -- training that goes wrong -------------------------------------------------------------
def test_diverged_training_raises_and_names_the_learning_rate(gunpoint_train):
    # Before: lr=1e6 gave all-NaN features, silently (the issue's case).
    tok = NCVQVAETokenizer(lr=1e6, max_epochs=2, hidden_dim=16, random_state=0, device="cpu")
    with pytest.raises(NonFiniteLossError, match=r"diverged.*lr=1e\+06"):
        tok.fit(gunpoint_train)
    with pytest.raises(NotFittedError):
        check_is_fitted(tok)


def _interrupt_after(n_batches):
    """Patch SelfLossNet.train_step to raise KeyboardInterrupt after n_batches steps."""
    from skncvqvae._training import SelfLossNet

    original, calls = SelfLossNet.train_step, {"n": 0}

    def train_step(self, batch, **fit_params):
        calls["n"] += 1
        if calls["n"] > n_batches:
            raise KeyboardInterrupt
        return original(self, batch, **fit_params)

    return train_step


def test_ctrl_c_keeps_a_consistent_model_and_warm_start_finishes(monkeypatch):
    # Before: KeyError 'train_loss', and a half-trained model that looked fitted
    # without history_.
    from skncvqvae._training import SelfLossNet

    X = make_sines(n=16, length=32)
    tok = _tokenizer(max_epochs=6, batch_size=8)  # 2 batches per epoch
    with monkeypatch.context() as patch:
        patch.setattr(SelfLossNet, "train_step", _interrupt_after(5))
        with pytest.raises(KeyboardInterrupt, match="after 2 of 6 epochs.*warm_start=True"):
            tok.fit(X)
    check_is_fitted(tok)
    assert len(tok.history_) == 2  # the unfinished third epoch is dropped
    assert np.isfinite(tok.transform(X)).all()
    tok.set_params(warm_start=True).fit(X)
    assert len(tok.history_) == 6
    assert dict(tok.net_.callbacks_)["lr_scheduler"].step_ == 5 + 4 * 2


def test_ctrl_c_stops_a_grid_search(monkeypatch):
    from skncvqvae._training import SelfLossNet

    X, y = make_sines(n=16, length=32), np.array(["a", "b"] * 8)
    search = GridSearchCV(
        NCVQVAEGenerator(_tokenizer(), **TINY_GENERATOR), {"guidance_scale": [1.0, 2.0]}, cv=2
    )
    monkeypatch.setattr(SelfLossNet, "train_step", _interrupt_after(3))
    with pytest.raises(KeyboardInterrupt):
        search.fit(X, y)
    assert not hasattr(search, "cv_results_")


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


# -- thread safety, saving, memory --------------------------------------------------------------
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


@pytest.mark.parametrize(
    "make",
    [
        lambda: (_tokenizer(output="tokens"), make_sines(n=12, length=32), None),
        lambda: (_tokenizer(hop_length=1), make_sines(n=12, length=32), None),
        lambda: (_generator(), make_sines(n=12, length=32), np.array([3, 7] * 6)),
        lambda: (FCNClassifier(**TINY_FCN), make_sines(n=12, length=32), np.array(["x", "y"] * 6)),
    ],
    ids=["tokenizer", "tokenizer-hop-1", "generator", "fcn"],
)
def test_save_and_load_round_trip(make, tmp_path):
    estimator, X, y = make()
    estimator.fit(X, y)
    path = estimator.save(tmp_path / "model.safetensors")
    loaded = skncvqvae.load(path)
    assert type(loaded) is type(estimator)
    assert repr(loaded.get_params()) == repr(estimator.get_params())
    assert loaded.history_ == estimator.history_
    if isinstance(estimator, NCVQVAEGenerator):
        np.testing.assert_array_equal(
            loaded.sample(4, random_state=2)[0], estimator.sample(4, random_state=2)[0]
        )
        assert loaded.classes_.dtype == estimator.classes_.dtype
        assert len(estimator.decoder_loss_) == estimator.decoder_steps
        np.testing.assert_array_equal(loaded.decoder_loss_, estimator.decoder_loss_)
    elif isinstance(estimator, FCNClassifier):
        np.testing.assert_array_equal(loaded.predict_proba(X), estimator.predict_proba(X))
    else:
        np.testing.assert_array_equal(loaded.transform(X), estimator.transform(X))


def test_load_rejects_other_files(tmp_path):
    from safetensors.torch import save_file

    save_file({"w": torch.zeros(2)}, str(tmp_path / "other.safetensors"))
    with pytest.raises(ValueError, match="not a file written by skncvqvae"):
        skncvqvae.load(tmp_path / "other.safetensors")


def test_cuda_trained_model_loads_on_the_cpu(tmp_path):
    tok = _tokenizer().fit(make_sines(n=12, length=32))
    tok.save(tmp_path / "m.safetensors")
    import json

    from safetensors import safe_open
    from safetensors.torch import save_file

    with safe_open(str(tmp_path / "m.safetensors"), framework="pt") as f:
        meta, tensors = f.metadata(), {k: f.get_tensor(k) for k in f.keys()}
    header = json.loads(meta["skncvqvae"])
    header["estimator"]["params"]["device"] = "cuda"  # as saved from a GPU machine
    save_file(
        tensors, str(tmp_path / "gpu.safetensors"), metadata={"skncvqvae": json.dumps(header)}
    )
    if torch.cuda.is_available():
        pytest.skip("a GPU is available here")
    with pytest.warns(UserWarning, match="loaded on the CPU"):
        loaded = skncvqvae.load(tmp_path / "gpu.safetensors")
    np.testing.assert_array_equal(
        loaded.transform(make_sines(n=3, length=32)), tok.transform(make_sines(n=3, length=32))
    )


def test_inference_batches_are_bounded_by_values_not_rows():
    # Before: one length-20 000 series was padded to batch_size rows (2.6 GB).
    tok = _tokenizer(batch_size=256).fit(make_sines(n=8, length=64))
    assert tok._inference_rows(torch.zeros(1, 1, 20_000)) == 2**18 // 20_000
    assert tok._inference_rows(torch.zeros(1, 1, 64)) == 256
    assert tok._inference_rows(torch.zeros(1, 1, 10**7)) == 1


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
