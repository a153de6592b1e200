"""Tests for skncvqvae.nn._quantizer: EMA vector quantizer and perplexity."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from einops import rearrange

from skncvqvae.nn._quantizer import QuantizerOutput, VectorQuantizer, perplexity


def _gen(seed=0):
    return torch.Generator().manual_seed(seed)


def _z(batch=3, dim=4, height=5, width=6, seed=0):
    return torch.randn(batch, dim, height, width, generator=_gen(seed))


def _flat(z):
    return rearrange(z, "b d h w -> (b h w) d")


def _buffers(module):
    return {name: buf.clone() for name, buf in module.named_buffers()}


def test_output_shapes_and_types():
    vq = VectorQuantizer(8, 4).eval()
    z = _z()
    out = vq(z)
    assert isinstance(out, QuantizerOutput)
    assert out.quantized.shape == z.shape
    assert out.indices.shape == (3, 5, 6)
    assert out.indices.dtype == torch.int64
    assert out.commitment_loss.ndim == 0 and out.perplexity.ndim == 0
    assert int(out.indices.min()) >= 0 and int(out.indices.max()) < 8


@pytest.mark.parametrize("training", [False, True])
def test_quantized_equals_codebook_lookup(training):
    vq = VectorQuantizer(8, 4).train(training)
    z = _z()
    out = vq(z, _gen())
    lookup = rearrange(F.embedding(out.indices, vq.embed), "b h w d -> b d h w")
    torch.testing.assert_close(out.quantized, lookup, atol=1e-6, rtol=1e-5)
    torch.testing.assert_close(vq.codes_to_latent(out.indices), lookup)


def test_indices_are_nearest_codes_brute_force():
    vq = VectorQuantizer(16, 4).eval()
    z = _z(seed=1)
    out = vq(z)
    flat = _flat(z)
    dist = ((flat[:, None, :] - vq.embed[None, :, :]) ** 2).sum(-1)  # (N, K)
    chosen = dist.gather(1, out.indices.reshape(-1, 1)).squeeze(1)
    torch.testing.assert_close(chosen, dist.min(1).values, atol=1e-5, rtol=1e-5)
    # with random floats there are no ties: the argmin itself must agree
    assert torch.equal(out.indices.flatten(), dist.argmin(1))
    assert torch.equal(vq.nearest(flat), dist.argmin(1))


def test_nearest_exact_codes():
    vq = VectorQuantizer(5, 3).eval()
    flat = vq.embed[[4, 0, 2, 2, 1]] + 1e-4
    assert vq.nearest(flat).tolist() == [4, 0, 2, 2, 1]


def test_straight_through_gradient():
    vq = VectorQuantizer(8, 4).eval()
    z = _z().requires_grad_(True)
    vq(z).quantized.sum().backward()
    torch.testing.assert_close(z.grad, torch.ones_like(z))


@pytest.mark.parametrize("weight", [1.0, 0.25])
def test_commitment_loss_is_weighted_mse(weight):
    vq = VectorQuantizer(8, 4, commitment_weight=weight).eval()
    z = _z().requires_grad_(True)
    out = vq(z)
    flat = _flat(z)
    expected = F.mse_loss(flat, vq.embed[out.indices.flatten()]) * weight
    torch.testing.assert_close(out.commitment_loss, expected)
    # the commitment gradient pulls z towards its code, and only z
    out.commitment_loss.backward()
    grad_expected = 2 * weight * (z - out.quantized.detach()) / z.numel()
    torch.testing.assert_close(z.grad, grad_expected, atol=1e-6, rtol=1e-4)


def test_codebook_has_no_gradient_parameters():
    vq = VectorQuantizer(8, 4)
    assert list(vq.parameters()) == []


def test_ema_update_moves_codes_towards_assigned_means():
    decay = 0.8
    vq = VectorQuantizer(4, 2, decay=decay, eps=1e-8).train()
    codes = torch.tensor([[0.0, 0.0], [10.0, 0.0], [0.0, 10.0], [-10.0, -10.0]])
    vq.embed.copy_(codes)
    vq.embed_avg.copy_(codes)
    vq.cluster_size.fill_(1.0)
    vq.initialized.fill_(True)
    # 3 points near code 0, 2 points near code 1, none near codes 2 and 3
    points = torch.tensor([[1.0, 1.0], [2.0, 0.0], [0.0, 2.0], [8.0, 1.0], [9.0, -1.0]])
    z = rearrange(points, "(b h w) d -> b d h w", b=1, h=1)
    out = vq(z, _gen())
    assert out.indices.flatten().tolist() == [0, 0, 0, 1, 1]
    new = vq.embed
    for k, members in [(0, points[:3]), (1, points[3:])]:
        mean = members.mean(0)
        assert torch.dist(new[k], mean) < torch.dist(codes[k], mean)
        n_k = len(members)
        expected = (decay * codes[k] + (1 - decay) * members.sum(0)) / (decay + (1 - decay) * n_k)
        torch.testing.assert_close(new[k], expected, atol=1e-4, rtol=1e-4)
    # unused codes keep their position
    torch.testing.assert_close(new[2:], codes[2:], atol=1e-4, rtol=1e-4)
    torch.testing.assert_close(
        vq.cluster_size, torch.tensor([0.8 + 0.2 * 3, 0.8 + 0.2 * 2, 0.8, 0.8])
    )


def test_repeated_ema_updates_converge_to_means():
    vq = VectorQuantizer(2, 2, decay=0.5).train()
    codes = torch.tensor([[0.0, 0.0], [10.0, 10.0]])
    vq.embed.copy_(codes)
    vq.embed_avg.copy_(codes)
    vq.initialized.fill_(True)
    points = torch.tensor([[1.0, 1.0], [3.0, 1.0], [9.0, 9.0], [11.0, 13.0]])
    z = rearrange(points, "(b h w) d -> b d h w", b=1, h=1)
    for _ in range(40):
        vq(z)
    torch.testing.assert_close(
        vq.embed, torch.tensor([[2.0, 1.0], [10.0, 11.0]]), atol=1e-3, rtol=0
    )


def test_eval_mode_leaves_buffers_unchanged():
    vq = VectorQuantizer(8, 4).eval()
    before = _buffers(vq)
    vq(_z(), _gen())
    vq(_z(seed=3))
    after = _buffers(vq)
    assert before.keys() == after.keys()
    for name in before:
        assert torch.equal(before[name], after[name]), name
    assert not bool(vq.initialized)


def test_training_mode_changes_buffers():
    vq = VectorQuantizer(8, 4).train()
    before = _buffers(vq)
    vq(_z(), _gen())
    assert bool(vq.initialized)
    assert not torch.equal(before["embed"], vq.embed)


@pytest.mark.parametrize("n_vectors", [30, 3])  # more and fewer vectors than codes
def test_data_dependent_init_on_first_training_batch(n_vectors):
    # decay=1 freezes the EMA, so after the first pass the codes are exactly
    # the vectors drawn at initialisation
    vq = VectorQuantizer(8, 4, decay=1.0).train()
    z = _z(batch=1, height=1, width=n_vectors, seed=2)
    vq(z, _gen())
    flat = _flat(z)
    dist = torch.cdist(vq.embed, flat)  # (K, N)
    assert torch.all(dist.min(1).values < 1e-5)
    if n_vectors >= 8:  # drawn without replacement: 8 distinct vectors
        assert len(set(dist.argmin(1).tolist())) == 8
    # initialisation happens once: a second batch does not re-draw
    codes = vq.embed.clone()
    vq(_z(batch=1, height=1, width=n_vectors, seed=5), _gen())
    torch.testing.assert_close(vq.embed, codes)


def test_data_dependent_init_uses_generator():
    z = _z(seed=4)
    a = VectorQuantizer(8, 4).train()
    b = VectorQuantizer(8, 4).train()
    c = VectorQuantizer(8, 4).train()
    a(z, _gen(1))
    b(z, _gen(1))
    c(z, _gen(2))
    torch.testing.assert_close(a.embed, b.embed)
    assert not torch.allclose(a.embed, c.embed)


def test_first_training_pass_uses_every_code():
    vq = VectorQuantizer(8, 4).train()
    out = vq(_z(seed=6), _gen())
    # every code starts on a data vector, which is nearest to itself
    assert len(out.indices.unique()) == 8


def test_perplexity_one_code():
    assert perplexity(torch.full((3, 4, 5), 2), 8).item() == pytest.approx(1.0)


@pytest.mark.parametrize("k", [1, 4, 8, 32])
def test_perplexity_uniform(k):
    idx = torch.arange(k).repeat(5)
    assert perplexity(idx, k).item() == pytest.approx(k, rel=1e-5)


def test_perplexity_between_and_matches_output():
    idx = torch.tensor([0, 0, 0, 1, 2, 3])
    p = perplexity(idx, 8).item()
    assert 1.0 < p < 4.0
    vq = VectorQuantizer(8, 4).eval()
    out = vq(_z())
    assert out.perplexity.item() == pytest.approx(perplexity(out.indices, 8).item())


def test_quantizer_trains_under_bf16_autocast():
    """Mixed precision (Accelerate's ``mixed_precision="bf16"``): the code search and
    the EMA statistics stay float32, and the codebook moves."""
    torch.manual_seed(0)
    vq = VectorQuantizer(8, 4)
    z = torch.randn(6, 4, 2, 3, requires_grad=True)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        out = vq(z)
        out = vq(z * 1.5)
    assert vq.embed.dtype == vq.embed_avg.dtype == torch.float32
    assert out.quantized.shape == z.shape and torch.isfinite(out.quantized).all()
    out.commitment_loss.backward()
    assert torch.isfinite(z.grad).all()
