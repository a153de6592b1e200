"""Tests for skncvqvae.nn._prior: the stage-2 MaskGIT prior as a torch module."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from skncvqvae.nn._prior import (
    PRIOR_TERMS,
    MaskGITPrior,
    ModelOutput,
    cosine_schedule,
    gumbel_noise,
    n_masked_after_step,
)

from _helpers import (
    TINY_PRIOR,
    one_torch_thread,
    record_guided_logits_inputs,
    record_logits_calls,
)

K = 8  # codebook size; the mask id is K
D = 8  # code dimension
SMALL = TINY_PRIOR


def _gen(seed=0):
    return torch.Generator().manual_seed(seed)


def _codebook(seed=0):
    return torch.randn(K, D, generator=_gen(seed))


def _prior(n_tokens=12, n_classes=2, prior_input="codebook", seed=0, **kwargs):
    torch.manual_seed(seed)
    return MaskGITPrior(
        n_tokens, _codebook(seed), n_classes, prior_input=prior_input, **{**SMALL, **kwargs}
    )


def _toy_tokens(n_per_class=16, n_tokens=12):
    """Class 0 -> every token 1; class 1 -> every token 2."""
    labels = torch.tensor([0] * n_per_class + [1] * n_per_class)
    tokens = (labels + 1)[:, None].expand(-1, n_tokens).contiguous()
    return tokens, labels


def _train(prior, n_steps=50, lr=1e-2, seed=0):
    tokens, labels = _toy_tokens(n_tokens=prior.n_tokens)
    optimiser = torch.optim.AdamW(prior.parameters(), lr=lr)
    generator = _gen(seed)
    losses = []
    prior.train()
    for _ in range(n_steps):
        out = prior(tokens, labels, generator=generator)
        optimiser.zero_grad()
        out.loss.backward()
        optimiser.step()
        losses.append(out.loss.item())
    return losses


@pytest.fixture(scope="module", params=["tokens", "codebook"])
def trained(request):
    """A tiny prior of each input variant trained on the class-dependent toy data."""
    with one_torch_thread():
        prior = _prior(prior_input=request.param, dropout=0.0, p_unconditional=0.2)
        losses = _train(prior, n_steps=50)
    return prior, losses


# -- pure helpers ------------------------------------------------------------------
def test_cosine_schedule_endpoints_and_monotone():
    assert float(cosine_schedule(0.0)) == pytest.approx(1.0)
    assert float(cosine_schedule(1.0)) == pytest.approx(0.0, abs=1e-6)
    assert float(cosine_schedule(0.5)) == pytest.approx(math.cos(math.pi / 4), rel=1e-6)
    values = cosine_schedule(torch.linspace(0, 1, 101))
    assert values.shape == (101,)
    assert torch.all(values[1:] < values[:-1])
    assert torch.all((values >= -1e-6) & (values <= 1 + 1e-6))


@pytest.mark.parametrize("n_iterations, n_tokens", [(10, 40), (10, 30), (1, 5), (7, 1), (12, 100)])
def test_n_masked_after_step_reaches_zero_and_decreases(n_iterations, n_tokens):
    counts = [n_masked_after_step(s, n_iterations, n_tokens) for s in range(1, n_iterations + 1)]
    assert counts[-1] == 0
    assert all(0 <= c <= n_tokens for c in counts)
    assert all(b <= a for a, b in zip(counts, counts[1:]))
    for step, count in enumerate(counts, start=1):
        expected = math.floor(math.cos(math.pi / 2 * step / n_iterations) * n_tokens + 1e-6)
        assert count == max(expected, 0)


def test_n_masked_after_step_exact_values():
    # floor(cos(pi s / 20) * 40) for s = 1..10
    assert [n_masked_after_step(s, 10, 40) for s in range(1, 11)] == [
        39,
        38,
        35,
        32,
        28,
        23,
        18,
        12,
        6,
        0,
    ]
    # cos(pi / 3) = 1/2 exactly: 50 of 100 tokens stay masked (float32 rounding gave 49)
    assert n_masked_after_step(8, 12, 100) == 50
    assert n_masked_after_step(12, 12, 1000) == 0


def test_gumbel_noise_is_seeded_and_gumbel_distributed():
    a = gumbel_noise((20000,), _gen(3), "cpu")
    b = gumbel_noise((20000,), _gen(3), "cpu")
    c = gumbel_noise((20000,), _gen(4), "cpu")
    assert torch.equal(a, b)
    assert not torch.equal(a, c)
    assert torch.isfinite(a).all()
    # standard Gumbel: mean = Euler-Mascheroni constant, variance = pi^2 / 6
    assert a.mean().item() == pytest.approx(0.5772, abs=0.05)
    assert a.var().item() == pytest.approx(math.pi**2 / 6, rel=0.1)


# -- construction --------------------------------------------------------------------
def test_invalid_prior_input_raises():
    with pytest.raises(ValueError, match="prior_input"):
        MaskGITPrior(12, _codebook(), 2, prior_input="bogus", **SMALL)


def test_hidden_dim_not_divisible_by_heads_raises():
    with pytest.raises(ValueError, match="divisible"):
        MaskGITPrior(12, _codebook(), 2, hidden_dim=30, n_heads=4, n_layers=1, ff_dim=32)


def test_class_embedding_has_null_class():
    prior = _prior(n_classes=3)
    assert prior.null_class == 3
    assert prior.class_embedding.num_embeddings == 4
    assert prior.mask_id == K
    unconditional = _prior(n_classes=0)
    assert unconditional.null_class == 0
    assert unconditional.class_embedding.num_embeddings == 1


def test_tokens_variant_embedding_initialised_from_codebook_and_logits_tied():
    prior = _prior(prior_input="tokens").eval()
    codebook = _codebook()
    assert prior.token_embedding.num_embeddings == K + 1
    assert torch.equal(prior.token_embedding.weight[:K].detach(), codebook)
    # fully masked input reads only the mask row, so rows 0..K-1 act on the
    # logits through the tied output projection alone
    tokens = torch.full((3, 12), prior.mask_id)
    classes = torch.tensor([0, 1, 2])
    with torch.no_grad():
        before = prior.logits(tokens, classes)
        prior.token_embedding.weight[5] += 1.0
        after = prior.logits(tokens, classes)
    assert before.shape == (3, 12, K)
    changed = (after - before).abs().amax(dim=(0, 1))
    assert changed[5] > 1e-4
    assert torch.all(changed[torch.arange(K) != 5] < 1e-6)


def test_codebook_variant_codes_copied_and_trained():
    codebook = _codebook()
    prior = MaskGITPrior(12, codebook, 2, prior_input="codebook", **SMALL)
    assert isinstance(prior.codes, torch.nn.Parameter)
    assert torch.equal(prior.codes.detach(), codebook)
    assert prior.codes.data_ptr() != codebook.data_ptr()
    assert isinstance(prior.mask_vector, torch.nn.Parameter)
    assert any(p is prior.codes for p in prior.parameters())
    tokens, labels = _toy_tokens()
    prior.train()
    prior(tokens, labels, generator=_gen()).loss.backward()
    assert prior.codes.grad is not None
    assert prior.codes.grad.abs().sum() > 0
    assert prior.mask_vector.grad is not None and prior.mask_vector.grad.abs().sum() > 0
    torch.optim.SGD(prior.parameters(), lr=0.1).step()
    assert not torch.equal(prior.codes.detach(), codebook)
    assert torch.equal(codebook, _codebook())  # the stage-1 codebook itself is not touched


def test_training_updates_the_input_vocabulary(trained):
    prior, _ = trained
    codebook = _codebook()
    if prior.prior_input == "codebook":
        # the copy is fine-tuned; the stage-1 codebook it came from is not touched
        assert not torch.equal(prior.codes.detach(), codebook)
    else:
        assert not torch.equal(prior.token_embedding.weight[:K].detach(), codebook)


# -- logits and guidance ---------------------------------------------------------------
@pytest.mark.parametrize("prior_input", ["tokens", "codebook"])
def test_logits_shape(prior_input):
    prior = _prior(prior_input=prior_input).eval()
    tokens = torch.randint(0, K + 1, (4, 12), generator=_gen())
    logits = prior.logits(tokens, torch.tensor([0, 1, 2, 0]))
    assert logits.shape == (4, 12, K)
    assert torch.isfinite(logits).all()


@pytest.mark.parametrize("prior_input", ["tokens", "codebook"])
def test_class_changes_logits(prior_input):
    prior = _prior(prior_input=prior_input).eval()
    with torch.no_grad():
        prior.class_embedding.weight.normal_()
        tokens = torch.full((1, 12), prior.mask_id)
        a = prior.logits(tokens, torch.tensor([0]))
        b = prior.logits(tokens, torch.tensor([1]))
    assert not torch.allclose(a, b)


def test_guidance_scale_one_is_conditional_logits():
    prior = _prior().eval()
    with torch.no_grad():
        prior.class_embedding.weight.normal_()
    tokens = torch.randint(0, K + 1, (4, 12), generator=_gen(1))
    classes = torch.tensor([0, 1, 0, 1])
    with torch.no_grad():
        assert torch.equal(prior.guided_logits(tokens, classes, 1.0), prior.logits(tokens, classes))


@pytest.mark.parametrize("w", [0.0, 0.5, 2.0, 3.5])
def test_guided_logits_formula(w):
    prior = _prior().eval()
    with torch.no_grad():
        prior.class_embedding.weight.normal_()
    tokens = torch.randint(0, K + 1, (4, 12), generator=_gen(2))
    classes = torch.tensor([0, 1, 0, 1])
    with torch.no_grad():
        l_c = prior.logits(tokens, classes)
        l_u = prior.logits(tokens, torch.full_like(classes, prior.null_class))
        guided = prior.guided_logits(tokens, classes, w)
    assert not torch.allclose(l_c, l_u)
    torch.testing.assert_close(guided, l_u + w * (l_c - l_u), rtol=1e-5, atol=1e-5)
    if w == 0.0:
        torch.testing.assert_close(guided, l_u)


# -- training ------------------------------------------------------------------------------
@pytest.mark.parametrize("prior_input", ["tokens", "codebook"])
def test_forward_output(prior_input):
    prior = _prior(prior_input=prior_input).train()
    tokens = torch.randint(0, K, (8, 12), generator=_gen())
    out = prior(tokens, torch.tensor([0, 1] * 4), generator=_gen())
    assert isinstance(out, ModelOutput)
    assert set(out.terms) == set(PRIOR_TERMS)
    assert out.loss.ndim == 0 and torch.isfinite(out.loss) and out.loss.requires_grad
    assert out.terms["loss"].item() == pytest.approx(out.loss.item())
    for value in out.terms.values():
        assert not value.requires_grad
    acc = out.terms["masked_accuracy"].item()
    assert 0.0 <= acc <= 1.0
    # roughly log K at initialisation
    assert 0.2 * math.log(K) < out.loss.item() < 5 * math.log(K)


def test_forward_without_labels_and_seeded():
    prior = _prior(n_classes=0).train()
    tokens = torch.randint(0, K, (8, 12), generator=_gen())
    torch.manual_seed(0)
    a = prior(tokens, generator=_gen(5)).loss
    torch.manual_seed(0)
    b = prior(tokens, generator=_gen(5)).loss
    assert torch.isfinite(a)
    assert a.item() == b.item()
    prior.eval()
    c = prior(tokens, generator=_gen(5)).loss
    d = prior(tokens, generator=_gen(6)).loss
    assert c.item() != d.item()  # the mask comes from the generator


def test_forward_uses_the_generator_not_global_rng():
    prior = _prior().eval()
    tokens = torch.randint(0, K, (8, 12), generator=_gen())
    labels = torch.tensor([0, 1] * 4)
    torch.manual_seed(1)
    a = prior(tokens, labels, generator=_gen(7)).loss.item()
    torch.manual_seed(2)
    b = prior(tokens, labels, generator=_gen(7)).loss.item()
    assert a == b


def test_training_loss_falls(trained):
    prior, losses = trained
    assert all(math.isfinite(v) for v in losses)
    assert np.mean(losses[-10:]) < 0.5 * np.mean(losses[:5])


def test_trained_prior_predicts_class_tokens(trained):
    prior, _ = trained
    prior.eval()
    tokens = torch.full((2, prior.n_tokens), prior.mask_id)
    with torch.no_grad():
        logits = prior.logits(tokens, torch.tensor([0, 1]))
    assert torch.all(logits[0].argmax(-1) == 1)
    assert torch.all(logits[1].argmax(-1) == 2)


def test_class_conditional_generation(trained):
    prior, _ = trained
    classes = torch.tensor([0] * 10 + [1] * 10)
    out = prior.generate(classes, n_iterations=6, generator=_gen(0))
    assert out.shape == (20, prior.n_tokens)
    assert (out[:10] == 1).float().mean() > 0.8
    assert (out[10:] == 2).float().mean() > 0.8


# -- sampling -----------------------------------------------------------------------------
@pytest.mark.parametrize("prior_input", ["tokens", "codebook"])
@pytest.mark.parametrize("n_tokens, n_iterations", [(40, 10), (30, 10), (12, 4)])
def test_generate_follows_schedule(prior_input, n_tokens, n_iterations, monkeypatch):
    prior = _prior(n_tokens=n_tokens, prior_input=prior_input)
    calls = record_guided_logits_inputs(prior, monkeypatch)
    out = prior.generate(torch.tensor([0, 1, 2]), n_iterations=n_iterations, generator=_gen())
    assert out.shape == (3, n_tokens)
    assert out.dtype == torch.long
    assert not (out == prior.mask_id).any()
    assert out.min() >= 0 and out.max() < K
    assert len(calls) == n_iterations
    expected = [n_tokens] + [
        n_masked_after_step(s, n_iterations, n_tokens) for s in range(1, n_iterations)
    ]
    for inputs, count in zip(calls, expected):
        assert (inputs == prior.mask_id).sum(dim=1).tolist() == [count] * 3
    # a decided position is never changed again
    for before, after in zip(calls, [*calls[1:], out]):
        decided = before != prior.mask_id
        assert torch.equal(before[decided], after[decided])


def test_generate_decides_at_least_one_token_per_step(monkeypatch):
    # more steps than tokens: the schedule alone would keep everything masked
    # for a while; the decoding still ends with every position decided
    prior = _prior(n_tokens=3)
    calls = record_guided_logits_inputs(prior, monkeypatch)
    out = prior.generate(torch.tensor([0, 1]), n_iterations=10, generator=_gen())
    assert not (out == prior.mask_id).any()
    counts = [int((c == prior.mask_id).sum(dim=1).max()) for c in calls]
    assert counts[0] == 3
    assert all(b <= max(a - 1, 0) for a, b in zip(counts, counts[1:]))


def test_generate_single_iteration_decides_everything(monkeypatch):
    prior = _prior(n_tokens=12)
    calls = record_guided_logits_inputs(prior, monkeypatch)
    out = prior.generate(torch.tensor([0]), n_iterations=1, generator=_gen())
    assert len(calls) == 1
    assert not (out == prior.mask_id).any()


@pytest.mark.parametrize("guidance_scale", [1.0, 2.0])
def test_generate_from_a_fully_masked_start_is_generation_from_scratch(guidance_scale):
    prior = _prior(n_tokens=20)
    classes = torch.tensor([0, 1, 2, 1])
    kw = dict(n_iterations=6, guidance_scale=guidance_scale)
    start = torch.full((4, 20), prior.mask_id)
    assert torch.equal(
        prior.generate(classes, tokens=start, generator=_gen(3), **kw),
        prior.generate(classes, generator=_gen(3), **kw),
    )


@pytest.mark.parametrize("prior_input", ["tokens", "codebook"])
def test_generate_from_a_partial_start_keeps_the_given_tokens(prior_input, monkeypatch):
    # rows with 0, 1, 6 and 20 of 20 positions masked: the given tokens never
    # change, each row's masked positions are decided on its own schedule
    prior = _prior(n_tokens=20, prior_input=prior_input)
    calls = record_guided_logits_inputs(prior, monkeypatch)
    start = torch.randint(0, K, (4, 20), generator=_gen(5))
    for row, n_masked in enumerate([0, 1, 6, 20]):
        start[row, torch.randperm(20, generator=_gen(row))[:n_masked]] = prior.mask_id
    given = start != prior.mask_id
    out = prior.generate(torch.tensor([0, 1, 0, 1]), tokens=start.clone(), n_iterations=5)
    assert not (out == prior.mask_id).any()
    assert torch.equal(out[given], start[given])
    assert len(calls) == 5
    for step, inputs in enumerate(calls[1:], start=1):
        counts = (inputs == prior.mask_id).sum(dim=1).tolist()
        assert counts == [0, 0, n_masked_after_step(step, 5, 6), n_masked_after_step(step, 5, 20)]


def test_generate_rejects_a_start_of_the_wrong_shape():
    prior = _prior(n_tokens=12)
    with pytest.raises(ValueError, match=r"tokens must have shape \(2, 12\), got \(2, 11\)"):
        prior.generate(torch.tensor([0, 1]), tokens=torch.zeros(2, 11, dtype=torch.long))


def test_n_masked_after_step_per_row_counts_match_the_scalar_rule():
    counts = torch.tensor([0, 1, 7, 40, 45])
    for step in range(1, 11):
        expected = [n_masked_after_step(step, 10, int(c)) for c in counts]
        assert n_masked_after_step(step, 10, counts).tolist() == expected


@pytest.mark.parametrize("guidance_scale", [1.0, 2.0])
def test_generate_deterministic_for_seed(guidance_scale):
    prior = _prior(n_tokens=20)
    classes = torch.tensor([0, 1, 0, 1, 2, 2])
    kw = dict(n_iterations=5, guidance_scale=guidance_scale)
    a = prior.generate(classes, generator=_gen(11), **kw)
    torch.manual_seed(123)  # the global RNG must not matter
    b = prior.generate(classes, generator=_gen(11), **kw)
    c = prior.generate(classes, generator=_gen(12), **kw)
    assert torch.equal(a, b)
    assert not torch.equal(a, c)


def test_generate_temperature_one_is_the_plain_draw_and_higher_draws_rarer_ids(trained):
    prior, _ = trained
    classes = torch.tensor([0] * 20 + [1] * 20)
    kw = dict(n_iterations=6, generator=_gen(5))
    plain = prior.generate(classes, **kw)
    assert torch.equal(
        plain, prior.generate(classes, temperature=1.0, n_iterations=6, generator=_gen(5))
    )
    # The trained prior is sure of its class's id; a high temperature flattens that.
    hot = prior.generate(classes, temperature=20.0, **{**kw, "generator": _gen(5)})
    expected = torch.where(classes[:, None] == 0, 1, 2)
    assert (hot == expected).float().mean() < (plain == expected).float().mean()


def test_guided_logits_are_the_guidance_formula():
    prior = _prior(n_tokens=12).eval()
    tokens = torch.randint(0, prior.mask_id + 1, (3, 12), generator=_gen())
    classes = torch.tensor([0, 1, 0])
    with torch.no_grad():
        conditional = prior.logits(tokens, classes)
        unconditional = prior.logits(tokens, torch.full_like(classes, prior.null_class))
        guided = prior.guided_logits(tokens, classes, 2.5)
    torch.testing.assert_close(
        guided, unconditional + 2.5 * (conditional - unconditional), rtol=1e-4, atol=1e-4
    )


def test_generate_with_guidance_calls_unconditional_branch(monkeypatch):
    prior = _prior(n_tokens=12).eval()
    calls = record_logits_calls(prior, monkeypatch)
    prior.generate(torch.tensor([0, 1]), n_iterations=3, guidance_scale=2.0, generator=_gen())
    # one batched pass per step: the two sequences with their classes, then with the null
    # class; the first step (everything masked) runs one row per class, the null one included
    classes_seen = [class_ids for _, class_ids in calls]
    assert len(classes_seen) == 3
    null = prior.null_class
    every = list(range(prior.n_classes + 1))
    assert classes_seen[0].tolist() == every + [null] * len(every)
    assert all(c.tolist() == [0, 1, null, null] for c in classes_seen[1:])
    calls.clear()
    prior.generate(torch.tensor([0, 1]), n_iterations=3, guidance_scale=1.0, generator=_gen())
    classes_seen = [class_ids for _, class_ids in calls]
    assert len(classes_seen) == 3
    assert classes_seen[0].tolist() == every
    assert all(c.tolist() == [0, 1] for c in classes_seen[1:])


def test_first_step_logits_depend_on_the_class_alone():
    """What lets generate run its first step once per class: fully masked inputs of
    one class give one row of logits, whatever else is in the batch."""
    prior = _prior(n_tokens=12).eval()
    masked = torch.full((5, 12), prior.mask_id)
    with torch.no_grad():
        logits = prior.logits(masked, torch.tensor([0, 1, 0, 1, 0]))
        alone = prior.logits(masked[:1], torch.tensor([1]))
    torch.testing.assert_close(logits[0], logits[2])
    torch.testing.assert_close(logits[1], alone[0])
    assert not torch.allclose(logits[0], logits[1])


@pytest.mark.parametrize("training", [True, False])
def test_generate_restores_mode(training):
    prior = _prior(n_tokens=8)
    prior.train(training)
    prior.generate(torch.tensor([0]), n_iterations=2, generator=_gen())
    assert prior.training is training
    assert all(m.training is training for m in prior.modules())


def test_generate_runs_in_eval_mode(monkeypatch):
    prior = _prior(n_tokens=8, dropout=0.5).train()
    modes = []
    original = prior.guided_logits

    def recording(tokens, class_ids, guidance_scale):
        modes.append(prior.training)
        return original(tokens, class_ids, guidance_scale)

    monkeypatch.setattr(prior, "guided_logits", recording)
    prior.generate(torch.tensor([0]), n_iterations=3, generator=_gen())
    assert modes == [False, False, False]
    assert prior.training


def test_generate_does_not_track_gradients():
    prior = _prior(n_tokens=8)
    out = prior.generate(torch.tensor([0, 1]), n_iterations=2, generator=_gen())
    assert not out.requires_grad


def test_unconditional_prior_generates_with_null_class():
    prior = _prior(n_tokens=10, n_classes=0)
    out = prior.generate(torch.full((4,), prior.null_class), n_iterations=4, generator=_gen())
    assert out.shape == (4, 10)
    assert not (out == prior.mask_id).any()


# -- the transformer ---------------------------------------------------------------
def _reference_encoder(dim, n_heads, ff_dim, dropout, n_layers):
    layer = torch.nn.TransformerEncoderLayer(
        dim, n_heads, ff_dim, dropout, activation="gelu", batch_first=True, norm_first=True
    )
    return torch.nn.TransformerEncoder(layer, n_layers, enable_nested_tensor=False)


def test_encoder_is_torch_transformer_encoder_with_its_parameters():
    """The prior's own encoder starts from the same parameters as torch's pre-norm
    ``TransformerEncoder`` built from the same seed (so state dicts of models saved
    before it load), and computes the same function and gradients."""
    from skncvqvae.nn._prior import _Encoder

    torch.manual_seed(3)
    ours = _Encoder(16, 2, 32, 0.0, 2)
    torch.manual_seed(3)
    reference = _reference_encoder(16, 2, 32, 0.0, 2)
    ours_state, reference_state = ours.state_dict(), reference.state_dict()
    assert list(ours_state) == list(reference_state)
    for name, value in reference_state.items():
        assert torch.equal(ours_state[name], value), name

    x = torch.randn(4, 7, 16, generator=_gen(1), requires_grad=True)
    out, expected = ours(x), reference(x)
    torch.testing.assert_close(out, expected, rtol=1e-5, atol=1e-6)
    grad = torch.autograd.grad(out.square().sum(), [x, *ours.parameters()])
    grad_expected = torch.autograd.grad(expected.square().sum(), [x, *reference.parameters()])
    for got, want in zip(grad, grad_expected, strict=True):
        torch.testing.assert_close(got, want, rtol=1e-4, atol=1e-6)

    ours.eval(), reference.eval()  # torch's fused inference path on the reference
    with torch.inference_mode():
        torch.testing.assert_close(ours(x), reference(x), rtol=1e-5, atol=1e-5)


def test_attention_under_cpu_bf16_autocast_attends_in_float32():
    """Under bf16 autocast on the CPU the projections run in bf16 and the attention
    itself in float32 (its bf16 backward pass is several times slower there), with
    gradients reaching every parameter."""
    from torch.overrides import TorchFunctionMode

    from skncvqvae.nn._prior import _SelfAttention

    class RecordAttention(TorchFunctionMode):
        def __init__(self):
            super().__init__()
            self.dtypes = []

        def __torch_function__(self, func, types, args=(), kwargs=None):
            out = func(*args, **(kwargs or {}))
            if func is torch.nn.functional.scaled_dot_product_attention:
                self.dtypes.append((args[0].dtype, out.dtype))
            return out

    torch.manual_seed(0)
    attention = _SelfAttention(16, 2, 0.0)
    x = torch.randn(3, 5, 16, generator=_gen(1))
    record = RecordAttention()
    with torch.autocast("cpu", dtype=torch.bfloat16), record:
        out = attention(x)
    assert record.dtypes == [(torch.float32, torch.float32)]
    assert out.dtype == torch.bfloat16  # out_proj ran under autocast
    out.float().square().sum().backward()
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in attention.parameters())
    expected = attention(x)  # float32 throughout
    torch.testing.assert_close(out.float(), expected, rtol=0.05, atol=0.05)


def test_encoder_dropout_is_active_in_training_only():
    from skncvqvae.nn._prior import _Encoder

    torch.manual_seed(0)
    encoder = _Encoder(16, 2, 32, 0.5, 1)
    x = torch.randn(4, 7, 16, generator=_gen(1))
    assert not torch.equal(encoder(x), encoder(x))
    encoder.eval()
    assert torch.equal(encoder(x), encoder(x))
    torch.manual_seed(0)
    no_dropout = _Encoder(16, 2, 32, 0.0, 1).eval()
    torch.testing.assert_close(encoder(x), no_dropout(x))


# -- regularisers: token noise and label smoothing ------------------------------------
def _captured_inputs(prior, monkeypatch, tokens, labels, seed=3):
    """The token ids :meth:`MaskGITPrior.logits` receives in one forward pass."""
    calls = record_logits_calls(prior, monkeypatch)
    out = prior(tokens, labels, generator=_gen(seed))
    return calls[0][0], out


def test_token_noise_replaces_visible_tokens_only(monkeypatch):
    tokens = torch.randint(0, K, (400, 12), generator=_gen(1))
    labels = torch.zeros(400, dtype=torch.long)
    clean, _ = _captured_inputs(_prior().train(), monkeypatch, tokens, labels)
    noisy_prior = _prior(token_noise=0.5).train()
    noisy, _ = _captured_inputs(noisy_prior, monkeypatch, tokens, labels)
    masked = clean == K
    # the same positions are masked: the noise is drawn after the mask
    assert torch.equal(noisy == K, masked)
    visible = ~masked
    assert torch.equal(clean[visible], tokens[visible])
    changed = noisy[visible] != tokens[visible]
    # replaced with probability 0.5 by one of K ids, 1/K of which is the same id
    expected = 0.5 * (1 - 1 / K)
    assert abs(changed.float().mean().item() - expected) < 0.03
    assert int(noisy[visible].max()) < K  # random ids never include the mask id


def test_token_noise_is_training_only_and_zero_draws_nothing(monkeypatch):
    tokens = torch.randint(0, K, (16, 12), generator=_gen(2))
    labels = torch.tensor([0, 1] * 8)
    # evaluation: no noise, so the loss equals the clean prior's (same weights)
    a = _prior(token_noise=0.0).eval()(tokens, labels, generator=_gen(4)).loss.item()
    b = _prior(token_noise=0.9).eval()(tokens, labels, generator=_gen(4)).loss.item()
    assert a == b
    # training: the option changes the inputs, and 0 leaves the random stream as it was
    c = _prior(token_noise=0.9).train()(tokens, labels, generator=_gen(4)).loss.item()
    assert c != a
    generator = _gen(4)
    _prior(token_noise=0.0).train()(tokens, labels, generator=generator)
    reference = _gen(4)
    _prior().train()(tokens, labels, generator=reference)
    assert torch.equal(generator.get_state(), reference.get_state())


def test_label_smoothing_in_training_only():
    tokens = torch.randint(0, K, (16, 12), generator=_gen(2))
    labels = torch.tensor([0, 1] * 8)
    plain = _prior(p_unconditional=0.0)
    smooth = _prior(p_unconditional=0.0, label_smoothing=0.3)
    for mode in ("train", "eval"):
        getattr(plain, mode)()
        getattr(smooth, mode)()
        # the same weights and masks: only the loss's targets differ
        p = plain(tokens, labels, generator=_gen(5))
        s = smooth(tokens, labels, generator=_gen(5))
        assert s.terms["masked_accuracy"].item() == p.terms["masked_accuracy"].item()
        if mode == "train":
            assert s.loss.item() != pytest.approx(p.loss.item())
        else:
            assert s.loss.item() == p.loss.item()


def test_label_smoothing_matches_the_smoothed_cross_entropy(monkeypatch):
    tokens = torch.randint(0, K, (16, 12), generator=_gen(2))
    labels = torch.tensor([0, 1] * 8)
    prior = _prior(p_unconditional=0.0, label_smoothing=0.2).train()
    inputs, out = _captured_inputs(prior, monkeypatch, tokens, labels, seed=5)
    logits = MaskGITPrior.logits(prior, inputs, labels)
    mask = inputs == K
    log_p = torch.log_softmax(logits[mask], dim=-1)
    target = torch.full_like(log_p, 0.2 / K)
    target[torch.arange(len(target)), tokens[mask]] += 0.8
    expected = -(target * log_p).sum(-1).mean()
    assert out.loss.item() == pytest.approx(expected.item(), rel=1e-5)
