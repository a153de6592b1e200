"""The private layers under the estimators: seeds (``_random``), the skorch
training net (``_training``) and the estimator base (``_base``)."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
import torch
from sklearn.exceptions import NotFittedError
from sklearn.utils.validation import check_is_fitted

from skncvqvae import NCVQVAETokenizer, load
from skncvqvae._random import derive_seed, seeded, spawn_seeds
from skncvqvae._training import WeightAverage, epoch_terms

from conftest import TINY, make_sines


def test_spawn_seeds_are_distinct_and_reproducible():
    seeds = spawn_seeds(0, 3)
    assert len(set(seeds)) == 3
    assert seeds == spawn_seeds(0, 3)
    assert seeds != spawn_seeds(1, 3)
    assert all(0 <= s < 2**31 for s in seeds)


def test_derive_seed_forms():
    assert derive_seed(7) == 7
    assert derive_seed(np.random.RandomState(0)) == derive_seed(np.random.RandomState(0))
    assert derive_seed(np.random.default_rng(0)) == derive_seed(np.random.default_rng(0))
    assert derive_seed(None) != derive_seed(None)
    state = np.random.get_state()
    derive_seed(None)
    assert np.array_equal(np.random.get_state()[1], state[1])
    with pytest.raises(ValueError, match="random_state must be"):
        derive_seed("seven")


def test_seeded_restores_the_global_torch_state():
    before = torch.get_rng_state()
    with seeded(0):
        a = torch.rand(3)
    with seeded(0):
        b = torch.rand(3)
    torch.testing.assert_close(a, b, rtol=0, atol=0)
    torch.testing.assert_close(torch.get_rng_state(), before, rtol=0, atol=0)


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


def test_fitted_module_is_left_in_eval_mode():
    tok = NCVQVAETokenizer(**TINY).fit(make_sines(n=16, length=32))
    assert not any(m.training for m in tok.net_.module_.modules())


def test_attributes_without_net_do_not_count_as_fitted():
    # a fit that stopped before the net was kept must not look fitted
    tok = NCVQVAETokenizer(**TINY)
    tok.mean_ = np.zeros(1)
    with pytest.raises(NotFittedError):
        check_is_fitted(tok)


def test_map_batches_pads_to_a_fixed_shape_and_drops_the_padding():
    tok = NCVQVAETokenizer(**{**TINY, "batch_size": 4}).fit(make_sines(n=8, length=32))
    shapes = []

    def fn(batch):
        shapes.append(tuple(batch.shape))
        assert not torch.is_grad_enabled()
        return batch * 2

    x = torch.arange(10.0).reshape(10, 1)
    out = torch.cat(tok._map_batches(fn, x))
    assert shapes == [(4, 1)] * 3
    torch.testing.assert_close(out, x * 2)
    shapes.clear()
    tok._map_batches(fn, x, pad=False)
    assert shapes == [(4, 1), (4, 1), (2, 1)]


@pytest.mark.parametrize(
    "n_fit, batch_size, expected",
    [(50, 32, 150), (67, 32, 150), (30, 32, 300), (20, 32, 300), (5000, 32, 32), (200, 32, 150)],
)
def test_auto_budget_counts_steps(n_fit, batch_size, expected):
    # 150 epochs as optimisation steps, clipped to 300..5000 steps
    tok = NCVQVAETokenizer(max_epochs="auto", batch_size=batch_size)
    assert tok._n_epochs(n_fit) == expected
    assert NCVQVAETokenizer(max_epochs=7)._n_epochs(n_fit) == 7


def test_auto_budget_reaches_the_net_and_the_schedule():
    X = make_sines(n=10, length=32)  # one batch per epoch: "auto" trains 300 epochs
    tok = NCVQVAETokenizer(**{**TINY, "max_epochs": "auto", "batch_size": 32})
    tok._auto_budget = (2, 3, 10)  # a small rule for the test: 2 epochs, at least 3 steps
    tok.fit(X)
    assert len(tok.history_) == 3
    assert dict(tok.net_.callbacks_)["lr_scheduler"].total_steps == 3


@pytest.mark.parametrize(
    "n_fit, expected", [(50, 2000), (20, 4000), (67, 1334), (200, 1000), (1000, 313), (20000, 16)]
)
def test_prior_auto_budget(n_fit, expected):
    # 1000 epochs as optimisation steps of batch 32, clipped to 4000..10000 steps
    from skncvqvae import NCVQVAEGenerator

    assert NCVQVAEGenerator()._n_epochs(n_fit) == expected


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
