"""The MaskGIT prior over two token streams (``first_stream``): training masks, logits, decoding."""

from __future__ import annotations

import math

import pytest
import torch

from skncvqvae.nn._prior import MaskGITPrior, _stream_training_masks

from _helpers import (
    TINY_PRIOR,
    one_torch_thread,
    record_guided_logits_inputs,
    record_logits_calls,
)

K = 8  # ids: 0-3 first stream, 4-7 second
N, N_FIRST = 12, 4


def _gen(seed=0):
    return torch.Generator().manual_seed(seed)


def _prior(n_classes=2, seed=0, **kwargs):
    torch.manual_seed(seed)
    codebook = torch.randn(K, 8, generator=_gen(seed))
    return MaskGITPrior(
        N, codebook, n_classes, first_stream=(N_FIRST, 4), **{**TINY_PRIOR, **kwargs}
    )


def _toy_grids(n=64, seed=0):
    """First stream all ``a``, ``a`` in {1, 2} at random; second stream all ``a + 4``."""
    a = torch.randint(1, 3, (n,), generator=_gen(seed))
    first = a[:, None].expand(-1, N_FIRST)
    second = (a + 4)[:, None].expand(-1, N - N_FIRST)
    return torch.cat([first, second], dim=1).contiguous()


@pytest.fixture(scope="module")
def trained():
    with one_torch_thread():
        prior = _prior(n_classes=0, p_unconditional=0.0)
        grids = _toy_grids()
        optimiser = torch.optim.AdamW(prior.parameters(), lr=1e-2)
        generator, losses = _gen(0), []
        for _ in range(80):
            out = prior(grids, generator=generator)
            optimiser.zero_grad()
            out.loss.backward()
            optimiser.step()
            losses.append(out.loss.item())
    return prior, losses


def test_stream_training_masks():
    hidden, target = _stream_training_masks(400, N, N_FIRST, _gen(0), "cpu")
    first = target[:, :N_FIRST].any(1)
    # each row's targets lie in one stream, at least one of them
    assert torch.all(first != target[:, N_FIRST:].any(1))
    assert torch.all(target.sum(1) >= 1)
    # targets are hidden; a row training the first stream hides the whole second one,
    # a row training the second sees the whole first one
    assert torch.all(hidden[target])
    assert torch.all(hidden[first, N_FIRST:])
    assert not hidden[~first, :N_FIRST].any()
    assert torch.equal(hidden[~first], target[~first])
    assert 0.4 < first.float().mean() < 0.6
    # the share of a stream's targets follows gamma(t), t ~ U(0, 1): mean 2 / pi
    share = target[~first, N_FIRST:].float().mean()
    assert abs(share - 2 / math.pi) < 0.08


def test_stream_training_masks_are_seeded():
    a = _stream_training_masks(16, N, N_FIRST, _gen(3), "cpu")
    b = _stream_training_masks(16, N, N_FIRST, _gen(3), "cpu")
    assert all(torch.equal(x, y) for x, y in zip(a, b))


def test_invalid_first_stream_raises():
    codebook = torch.randn(K, 8)
    for bad in [(0, 4), (N, 4), (4, 0), (4, K)]:
        with pytest.raises(ValueError, match="first_stream must be"):
            MaskGITPrior(N, codebook, 2, first_stream=bad, **TINY_PRIOR)


def test_no_critic_for_two_streams():
    with pytest.raises(ValueError, match="two token streams"):
        _prior().add_critic()


@pytest.mark.parametrize("prior_input", ["tokens", "codebook"])
def test_logits_of_other_streams_ids_are_excluded(prior_input):
    prior = _prior(prior_input=prior_input).eval()
    tokens = torch.full((3, N), prior.mask_id)
    with torch.no_grad():
        logits = prior.logits(tokens, torch.tensor([0, 1, 2]))
    assert torch.all(logits[:, :N_FIRST, 4:] == -1e4)
    assert torch.all(logits[:, N_FIRST:, :4] == -1e4)
    assert torch.all(logits[:, :N_FIRST, :4] > -1e3)
    assert torch.all(logits[:, N_FIRST:, 4:] > -1e3)


def test_forward_hides_the_stream_masks_and_scores_the_targets(monkeypatch):
    prior = _prior(n_classes=0, p_unconditional=0.0).train()
    torch.manual_seed(0)
    grids = _toy_grids(32)
    calls = record_logits_calls(prior, monkeypatch)
    out = prior(grids, generator=_gen(1))
    ((inputs, class_ids),) = calls
    hidden, target = _stream_training_masks(32, N, N_FIRST, _gen(1), "cpu")
    assert torch.equal(inputs == prior.mask_id, hidden)
    logits = MaskGITPrior.logits(prior, inputs, class_ids)  # the same pass, no dropout
    expected = torch.nn.functional.cross_entropy(logits[target], grids[target])
    assert out.loss.item() == pytest.approx(expected.item(), rel=1e-6)


def test_training_loss_falls(trained):
    _, losses = trained
    assert sum(losses[-10:]) < 0.5 * sum(losses[:5])


def test_generation_draws_the_second_stream_given_the_first(trained):
    prior, _ = trained
    out = prior.generate(torch.full((40,), prior.null_class), n_iterations=4, generator=_gen(0))
    assert (out < K).all()
    assert (out[:, :N_FIRST] < 4).all() and (out[:, N_FIRST:] >= 4).all()
    # the toy rule: the second stream repeats the first stream's id plus 4
    agree = (out[:, N_FIRST:] == out[:, :1] + 4).float().mean()
    assert agree > 0.9
    assert len(out[:, 0].unique()) == 2  # both first-stream ids are drawn


def test_two_phases_of_n_iterations(trained, monkeypatch):
    prior, _ = trained
    calls = record_guided_logits_inputs(prior, monkeypatch)
    prior.generate(torch.full((5,), prior.null_class), n_iterations=3, generator=_gen(0))
    assert len(calls) == 6
    # phase 1 sees the second stream hidden; phase 2 sees the first stream decided
    assert all((c[:, N_FIRST:] == prior.mask_id).all() for c in calls[1:3])
    assert all((c[:, :N_FIRST] != prior.mask_id).all() for c in calls[3:])


def test_first_stream_ignores_given_second_stream_ids(trained):
    prior, _ = trained
    start = torch.full((6, N), prior.mask_id)
    a, b = start.clone(), start.clone()
    a[:, N_FIRST:] = 5
    b[:, N_FIRST:] = 6
    out_a = prior.generate(torch.full((6,), prior.null_class), tokens=a, generator=_gen(2))
    out_b = prior.generate(torch.full((6,), prior.null_class), tokens=b, generator=_gen(2))
    assert torch.equal(out_a[:, :N_FIRST], out_b[:, :N_FIRST])  # drawn with the second hidden
    assert (out_a[:, N_FIRST:] == 5).all() and (out_b[:, N_FIRST:] == 6).all()  # kept


def test_variations_keep_given_ids_and_fill_the_rest(trained):
    prior, _ = trained
    grids = _toy_grids(10, seed=1)
    start = grids.clone()
    start[:, ::3] = prior.mask_id
    out = prior.generate(torch.full((10,), prior.null_class), tokens=start, generator=_gen(0))
    kept = start != prior.mask_id
    assert torch.equal(out[kept], grids[kept])
    assert (out != prior.mask_id).all()


def test_generation_is_seeded(trained):
    prior, _ = trained
    classes = torch.full((7,), prior.null_class)
    a = prior.generate(classes, generator=_gen(5), guidance_scale=1.0)
    b = prior.generate(classes, generator=_gen(5), guidance_scale=1.0)
    assert torch.equal(a, b)


def test_token_noise_stays_in_each_stream(monkeypatch):
    prior = _prior(token_noise=1.0).train()
    calls = record_logits_calls(prior, monkeypatch)
    grids = _toy_grids(64)
    prior(grids, generator=_gen(0))
    ((inputs, _),) = calls
    visible = inputs != prior.mask_id
    assert (inputs[:, :N_FIRST][visible[:, :N_FIRST]] < 4).all()
    assert (inputs[:, N_FIRST:][visible[:, N_FIRST:]] >= 4).all()
    assert not torch.equal(inputs[visible], grids[visible])  # noise was drawn
