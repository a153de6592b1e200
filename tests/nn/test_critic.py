"""Tests for the token critic of skncvqvae.nn._prior: TokenCritic, critic_loss and its sampling."""

from __future__ import annotations

import pytest
import torch

from skncvqvae.nn._prior import (
    CRITIC_TERMS,
    MaskGITPrior,
    TokenCritic,
    critic_loss,
    n_masked_after_step,
)

from _helpers import TINY_PRIOR, one_torch_thread

K, D = 8, 8


def _gen(seed=0):
    return torch.Generator().manual_seed(seed)


def _prior(n_tokens=12, n_classes=2, seed=0, **kwargs):
    torch.manual_seed(seed)
    codebook = torch.randn(K, D, generator=_gen(seed))
    return MaskGITPrior(n_tokens, codebook, n_classes, **{**TINY_PRIOR, **kwargs}).eval()


def _structured_grids(n=64, n_tokens=12):
    """Class 0: ids 0, 1, 2, ... (mod K) from a random start; class 1: the same descending."""
    labels = torch.arange(n) % 2
    start = torch.randint(0, K, (n, 1), generator=_gen(3))
    step = torch.where(labels == 0, 1, -1)[:, None]
    return (start + step * torch.arange(n_tokens)) % K, labels


def test_critic_scores_every_position():
    prior = _prior()
    critic = prior.add_critic()
    tokens, labels = _structured_grids(4)
    scores = critic(tokens, labels)
    assert isinstance(critic, TokenCritic)
    assert scores.shape == (4, 12) and scores.dtype == torch.float32


def test_critic_loss_output_and_targets(monkeypatch):
    # the target of a position is "masked and redrawn": a critic that outputs the mask
    # itself (large positive where masked) has a loss near 0 and accuracy 1
    prior = _prior()
    critic = prior.add_critic()
    tokens, labels = _structured_grids(16)
    seen = {}
    original = prior.logits

    def recording(inputs, class_ids):
        seen["mask"] = inputs == prior.mask_id
        seen["classes"] = class_ids.clone()
        return original(inputs, class_ids)

    monkeypatch.setattr(prior, "logits", recording)
    monkeypatch.setattr(critic, "forward", lambda grids, c: 50.0 * (seen["mask"].float() * 2 - 1))
    out = critic_loss(critic, prior, tokens, labels, generator=_gen(1))
    assert set(out.terms) == set(CRITIC_TERMS)
    assert out.loss.item() < 1e-6 and out.terms["accuracy"].item() == 1.0
    assert torch.equal(seen["classes"], labels)  # the prior redraws given the true class
    assert seen["mask"].any(dim=1).all()  # at least one position of every grid


def test_critic_loss_keeps_unmasked_ids_and_redraws_masked_ones(monkeypatch):
    prior = _prior()
    critic = prior.add_critic()
    tokens, labels = _structured_grids(16)
    grids = {}
    monkeypatch.setattr(critic, "forward", lambda g, c: grids.setdefault("g", g) * 0.0)
    # a prior that always draws id K - 1 at masked positions
    monkeypatch.setattr(
        prior,
        "logits",
        lambda t, c: torch.where(torch.arange(K) == K - 1, 100.0, -100.0).expand(*t.shape, K),
    )
    critic_loss(critic, prior, tokens, labels, generator=_gen(2))
    changed = grids["g"] != tokens
    assert (grids["g"][changed] == K - 1).all()
    assert changed.any()


def test_trained_critic_tells_the_prior_s_draws_from_real_ids():
    # an untrained prior draws ids at random; real grids hold one id per class
    # (class 0: id 1, class 1: id 2), so a drawn id mostly differs from its class's;
    # after training the critic's accuracy beats the majority rate (masked share ~0.64)
    with one_torch_thread():
        prior = _prior()
        critic = prior.add_critic()
        labels = torch.arange(64) % 2
        tokens = (labels + 1)[:, None].expand(-1, 12).contiguous()
        optimiser = torch.optim.AdamW(critic.parameters(), lr=1e-2)
        generator, losses = _gen(0), []
        critic.train()
        for _ in range(100):
            out = critic_loss(critic, prior, tokens, labels, generator=generator)
            optimiser.zero_grad()
            out.loss.backward()
            optimiser.step()
            losses.append(out.loss.item())
        critic.eval()
        accuracy = critic_loss(critic, prior, tokens, labels, generator=_gen(9)).terms["accuracy"]
    assert sum(losses[-20:]) / 20 < 0.6 * sum(losses[:20]) / 20
    assert accuracy.item() > 0.85


def test_add_critic_leaves_torch_random_stream_unchanged():
    prior = _prior()
    torch.manual_seed(7)
    expected = torch.rand(5)
    torch.manual_seed(7)
    prior.add_critic()
    assert torch.equal(torch.rand(5), expected)


def test_critic_built_by_constructor_and_initialised_from_codebook():
    prior = _prior(critic=True)
    assert isinstance(prior.critic, TokenCritic)
    assert torch.equal(prior.critic.token_embedding.weight, prior.codes.detach())
    assert any(name.startswith("critic.") for name in prior.state_dict())
    assert _prior().critic is None


@pytest.mark.parametrize("guidance_scale", [1.0, 2.0])
def test_generate_keeps_the_ids_the_critic_finds_real(monkeypatch, guidance_scale):
    # the critic calls positions 0-3 real and the rest drawn: with no choice noise
    # the first step keeps exactly those (12 - n_masked_after_step(1, 2, 12) = 4 of 12)
    prior = _prior()
    critic = prior.add_critic()
    real = torch.arange(12) < 4
    monkeypatch.setattr(
        critic, "forward", lambda g, c: torch.where(real, -10.0, 10.0).expand(len(g), 12)
    )
    calls = []
    original = prior.logits
    monkeypatch.setattr(prior, "logits", lambda t, c: calls.append(t.clone()) or original(t, c))
    out = prior.generate(
        torch.tensor([0, 1]), n_iterations=2, choice_temperature=0.0, guidance_scale=guidance_scale
    )
    assert 12 - n_masked_after_step(1, 2, 12) == 4
    second = calls[-1][:2]
    assert torch.equal(second != prior.mask_id, real.expand(2, 12))
    assert not (out == prior.mask_id).any()


def test_generate_with_a_critic_keeps_given_tokens():
    prior = _prior(n_tokens=20)
    prior.add_critic()
    start = torch.randint(0, K, (3, 20), generator=_gen(5))
    for row, n_masked in enumerate([1, 6, 20]):
        start[row, torch.randperm(20, generator=_gen(row))[:n_masked]] = prior.mask_id
    given = start != prior.mask_id
    out = prior.generate(torch.tensor([0, 1, 0]), tokens=start.clone(), n_iterations=4)
    assert torch.equal(out[given], start[given])
    assert not (out == prior.mask_id).any()


def test_use_critic_false_is_the_prior_s_own_sampling():
    prior = _prior()
    expected = prior.generate(torch.tensor([0, 1, 1]), n_iterations=4, generator=_gen(4))
    prior.add_critic()
    plain = prior.generate(
        torch.tensor([0, 1, 1]), n_iterations=4, generator=_gen(4), use_critic=False
    )
    with_critic = prior.generate(torch.tensor([0, 1, 1]), n_iterations=4, generator=_gen(4))
    assert torch.equal(plain, expected)
    assert not torch.equal(with_critic, expected)
