"""Tests for skncvqvae._training: the skorch net (its generator state between
fits, the loss terms of each epoch, its progress bar), the weight average,
mixed precision, devices, and training that goes wrong (divergence, Ctrl-C)."""

from __future__ import annotations

import io
import pickle

import numpy as np
import pytest
import torch
from numpy.testing import assert_array_equal
from sklearn.exceptions import NotFittedError
from sklearn.model_selection import GridSearchCV
from sklearn.utils.validation import check_is_fitted

from skncvqvae import NCVQVAEGenerator, NCVQVAETokenizer, _training, load
from skncvqvae._training import NonFiniteLossError, WeightAverage, epoch_terms

from _helpers import TINY_GENERATOR, make_sines

TINY = NCVQVAETokenizer._get_test_params()


@pytest.fixture(scope="module")
def gunpoint_train():
    from aeon.datasets import load_gunpoint

    return load_gunpoint(split="train")[0]


def _tokenizer(**params):
    return NCVQVAETokenizer(**{**TINY, **params})


def test_net_keeps_only_a_cpu_generator_state_between_fits():
    X = make_sines(n=16, length=32)
    tok = NCVQVAETokenizer(**TINY).fit(X)
    assert not hasattr(tok.net_, "generator_")
    state = tok.net_.generator_state_
    assert state.device.type == "cpu" and state.dtype == torch.uint8
    # partial_fit continues the augmentation stream instead of replaying it
    tok.net_.partial_fit(((X - tok.mean_[:, None]) / tok.scale_[:, None]).astype(np.float32))
    assert not torch.equal(state, tok.net_.generator_state_)
    restored = pickle.loads(pickle.dumps(tok))
    np.testing.assert_array_equal(restored.transform(X), tok.transform(X))


def test_epoch_terms_reads_the_history():
    X = make_sines(n=16, length=32)
    tok = NCVQVAETokenizer(**TINY).fit(X)
    rows = epoch_terms(tok.net_, ("loss", "recon"))
    assert len(rows) == TINY["max_epochs"]
    assert rows == [{"loss": h["loss"], "recon": h["recon"]} for h in tok.history_]


def test_weight_average_follows_its_formula_and_resumes_from_the_trained_weights():
    from types import SimpleNamespace

    net = SimpleNamespace(module_=torch.nn.Linear(3, 2))
    weight = net.module_.weight
    average = WeightAverage(0.5).initialize()
    average.on_train_begin(net)
    expected = weight.detach().clone()
    steps = [torch.full_like(weight, v) for v in (1.0, -2.0, 4.0)]
    for t, value in enumerate(steps, start=1):
        with torch.no_grad():
            weight.copy_(value)  # what an optimiser step would have left
        average.on_batch_end(net, training=True)
        average.on_batch_end(net, training=False)  # validation batches do not count
        decay = min(0.5, (1 + t) / (10 + t))
        expected = decay * expected + (1 - decay) * value
    average.on_train_end(net)
    torch.testing.assert_close(weight.detach(), expected)
    torch.testing.assert_close(average.trained_["weight"], steps[-1], rtol=0, atol=0)
    assert average.step_ == 3
    average.on_train_begin(net)  # a resumed fit trains on from the last trained weights
    torch.testing.assert_close(weight.detach(), steps[-1], rtol=0, atol=0)
    assert average.trained_ is None
    torch.testing.assert_close(average.average_["weight"], expected)


def test_pickle_with_progress_bar(unit_test_data):
    tok = NCVQVAETokenizer(**{**TINY, "max_epochs": 1, "verbose": 1}).fit(unit_test_data[0])
    restored = pickle.loads(pickle.dumps(tok))
    assert_array_equal(restored.transform(unit_test_data[0]), tok.transform(unit_test_data[0]))


# -- mixed precision -----------------------------------------------------------
def _encoder_output_dtypes(tokenizer, X) -> set:
    """dtypes of the encoder's outputs over one more training epoch (a warm start)."""
    seen = set()
    hook = tokenizer.net_.module_.encoder.register_forward_hook(
        lambda module, args, output: seen.add(output.dtype)
    )
    try:
        tokenizer.set_params(warm_start=True, max_epochs=len(tokenizer.history_) + 1).fit(X)
    finally:
        hook.remove()
    return seen


def test_bf16_mixed_precision_trains_under_autocast_with_float32_weights(tmp_path):
    X = make_sines(n=24, length=32)
    params = dict(TINY, ssl="vibcreg", mixed_precision="bf16")
    tokenizer = NCVQVAETokenizer(**params).fit(X)
    assert all(np.isfinite(epoch["loss"]) for epoch in tokenizer.history_)
    weights = tokenizer.net_.module_.state_dict().values()
    assert {w.dtype for w in weights if w.is_floating_point()} == {torch.float32}
    features = tokenizer.transform(X)
    # reproducible, and not the float32 model
    np.testing.assert_array_equal(NCVQVAETokenizer(**params).fit(X).transform(X), features)
    plain = NCVQVAETokenizer(**{**params, "mixed_precision": None}).fit(X).transform(X)
    assert plain.dtype == features.dtype and not np.array_equal(plain, features)
    # inference stays float32: the same model gives the same features after a reload
    tokenizer.save(tmp_path / "bf16.safetensors")
    loaded = load(tmp_path / "bf16.safetensors")
    assert loaded.mixed_precision == "bf16"
    np.testing.assert_array_equal(loaded.transform(X), features)

    # the forward pass of training runs in bf16; a resumed fit takes the new setting
    assert _encoder_output_dtypes(tokenizer, X) == {torch.bfloat16}
    tokenizer.set_params(mixed_precision=None)
    assert _encoder_output_dtypes(tokenizer, X) == {torch.float32}


def test_mixed_precision_is_validated():
    X = make_sines(n=8, length=32)
    with pytest.raises(ValueError, match="'mixed_precision' parameter of NCVQVAETokenizer"):
        NCVQVAETokenizer(**{**TINY, "mixed_precision": "fp16"}).fit(X)


# -- devices, divergence, interruption (Ctrl-C) ---------------------------------
@pytest.mark.parametrize(
    "device, match",
    [("cuda", "CUDA GPU, but torch sees none"), ("foo", "not a torch device")],
)
def test_unusable_device_is_rejected_at_fit(device, match):
    if device == "cuda" and torch.cuda.is_available():
        pytest.skip("a GPU is available here")
    with pytest.raises(ValueError, match=match):
        _tokenizer(device=device).fit(make_sines(n=6, length=32))


def test_diverged_training_raises_and_names_the_learning_rate(gunpoint_train):
    # Before: lr=1e6 gave all-NaN features, silently (the case).
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


# -- one progress bar over the stages of a fit --------------------------------------
class _RecordingBar(_training.tqdm):
    """tqdm that keeps every bar made, to read their totals and counts after a fit."""

    made: list = []

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **{**kwargs, "disable": False, "file": io.StringIO()})
        self.made.append(self)


def test_stage_progress_counts_the_owners_steps_and_adds_the_others():
    owner, other = object(), object()
    with _training.stage_progress(owner, 5, "fit") as _:
        _training.add_steps(owner, 100)  # counted up front: not again
        _training.add_steps(other, 7)
        assert _training._stage_bar().total == 12
    assert _training._stage_bar() is None
    with _training.stage_progress(owner, 5, "fit", enabled=False):
        assert _training._stage_bar() is None


def test_a_verbose_generator_fit_shows_one_bar_with_every_step(monkeypatch):
    monkeypatch.setattr(_training, "tqdm", _RecordingBar)
    _RecordingBar.made = []
    X, y = make_sines(n=24, length=32), np.repeat(["a", "b"], 12)
    gen = NCVQVAEGenerator(**{**TINY_GENERATOR, "verbose": 1}).set_params(
        tokenizer__max_epochs=2, tokenizer__hidden_dim=8, tokenizer__n_resnet_blocks=0
    )
    gen.fit(X, y)
    (bar,) = [b for b in _RecordingBar.made if b.desc == "NC-VQVAE fit"]
    expected = gen.tokenizer_.n_steps_ + gen.decoder_steps + gen.n_steps_
    assert bar.total == expected and bar.n == expected
    assert len(_RecordingBar.made) == 1  # no bar of a single stage meanwhile
