"""Tests for skncvqvae.nn._stage1: the NC-VQVAE stage-1 torch module."""

from __future__ import annotations

import math

import pytest
import torch

from skncvqvae.nn import stft_shape
from skncvqvae.nn._stage1 import LOSS_TERMS, NCVQVAEModule, Stage1Output, global_pool, min_length

from _helpers import TINY_MODEL

SMALL = {**TINY_MODEL, "n_resnet_blocks": 1}  # one residual block, to exercise it


def _gen(seed=0):
    return torch.Generator().manual_seed(seed)


def _module(n_channels=1, n_timepoints=24, seed=0, **kwargs):
    torch.manual_seed(seed)
    return NCVQVAEModule(n_channels, n_timepoints, **{**SMALL, **kwargs})


def _sines(batch=16, n_channels=1, length=24, seed=0):
    g = _gen(seed)
    t = torch.linspace(0, 1, length)
    freq = torch.randint(1, 4, (batch, n_channels, 1), generator=g).float()
    phase = 2 * math.pi * torch.rand(batch, n_channels, 1, generator=g)
    return torch.sin(2 * math.pi * freq * t + phase)


@pytest.mark.parametrize("ssl", [None, "barlowtwins", "vibcreg"])
def test_forward_returns_all_terms_finite(ssl):
    module = _module(ssl=ssl).train()
    x = _sines(8)
    out = module(x, _gen())
    assert isinstance(out, Stage1Output)
    assert tuple(out.terms) == LOSS_TERMS
    for name, value in out.terms.items():
        assert value.ndim == 0 and torch.isfinite(value), name
        assert not value.requires_grad, name
    assert torch.isfinite(out.loss) and out.loss.requires_grad
    assert out.x_hat.shape == x.shape
    assert out.indices.shape == (8, *module.token_shape)
    assert out.terms["loss"].item() == pytest.approx(out.loss.item())


@pytest.mark.parametrize("ssl", [None, "barlowtwins", "vibcreg"])
def test_total_loss_is_weighted_sum(ssl):
    module = _module(ssl=ssl, aug_recon_weight=0.3, ssl_weight=2.0).train()
    t = module(_sines(8), _gen()).terms
    expected = t["recon"] + t["commitment"] + 0.3 * t["aug_recon"] + 2.0 * t["ssl"]
    assert t["loss"].item() == pytest.approx(expected.item(), rel=1e-5, abs=1e-6)


def test_naive_has_no_projector_and_zero_ssl_terms():
    module = _module(ssl=None).train()
    assert module.projector is None
    out = module(_sines(8), _gen())
    assert out.terms["aug_recon"].item() == 0.0
    assert out.terms["ssl"].item() == 0.0
    assert out.terms["recon"].item() > 0.0


@pytest.mark.parametrize("ssl", ["barlowtwins", "vibcreg"])
def test_ssl_variants_have_nonzero_terms(ssl):
    module = _module(ssl=ssl).train()
    assert module.projector is not None
    out = module(_sines(8), _gen())
    assert out.terms["ssl"].item() != 0.0
    assert out.terms["aug_recon"].item() > 0.0


def test_ssl_loss_gradient_reaches_projector_and_encoder():
    module = _module(ssl="barlowtwins").train()
    out = module(_sines(8), _gen())
    out.loss.backward()
    proj_grads = [p.grad for p in module.projector.parameters() if p.requires_grad]
    assert any(g is not None and g.abs().sum() > 0 for g in proj_grads)
    enc_grads = [p.grad for p in module.encoder.parameters()]
    assert all(g is not None for g in enc_grads)
    assert sum(g.abs().sum() for g in enc_grads) > 0


@pytest.mark.parametrize("ssl", [None, "barlowtwins", "vibcreg"])
def test_batch_of_one_in_training_mode(ssl):
    module = _module(ssl=ssl).train()
    out = module(_sines(1), _gen())
    assert out.terms["ssl"].item() == 0.0
    assert torch.isfinite(out.loss)
    out.loss.backward()
    assert all(torch.isfinite(p.grad).all() for p in module.parameters() if p.grad is not None)


def test_loss_falls_with_adamw():
    module = _module(ssl="barlowtwins", n_timepoints=32).train()
    x = _sines(16, length=32, seed=1)
    opt = torch.optim.AdamW(module.parameters(), lr=3e-3)
    losses, recon = [], []
    for step in range(30):
        opt.zero_grad()
        out = module(x, _gen(step))
        out.loss.backward()
        opt.step()
        losses.append(out.loss.item())
        recon.append(out.terms["recon"].item())
    # measured: both fall to about a third in 30 steps
    for curve in (losses, recon):
        first, last = sum(curve[:3]) / 3, sum(curve[-3:]) / 3
        assert last < 0.6 * first, curve


@pytest.mark.parametrize("n_channels, length", [(1, 24), (3, 150), (2, 8)])
def test_encode_decode_indices_shapes(n_channels, length):
    module = _module(n_channels=n_channels, n_timepoints=length, ssl=None)
    module.train()
    module(_sines(4, n_channels, length), _gen())  # initialise the codebook
    module.eval()
    x = _sines(5, n_channels, length, seed=2)
    with torch.no_grad():
        z_q, idx = module.encode(x)
        n_freq = stft_shape(length, 8)[0]
        assert module.token_shape[0] == n_freq
        assert z_q.shape == (5, SMALL["codebook_dim"], *module.token_shape)
        assert idx.shape == (5, *module.token_shape)
        assert idx.dtype == torch.int64
        assert 0 <= int(idx.min()) and int(idx.max()) < SMALL["codebook_size"]
        x_hat = module.decode_indices(idx)
        assert x_hat.shape == x.shape
        # decoding the ids is decoding the quantized latent
        torch.testing.assert_close(x_hat, module.decode_latent(z_q), atol=1e-5, rtol=1e-4)


def test_eval_forward_is_deterministic():
    module = _module(ssl=None).train()
    module(_sines(8), _gen())
    module.eval()
    x = _sines(4, seed=3)
    with torch.no_grad():
        a, b = module.encode(x)[1], module.encode(x)[1]
    assert torch.equal(a, b)


def test_global_pool():
    z = torch.arange(2 * 3 * 2 * 2, dtype=torch.float32).reshape(2, 3, 2, 2)
    pooled = global_pool(z)
    assert pooled.shape == (2, 6)
    torch.testing.assert_close(pooled[:, :3], z.mean(dim=(2, 3)))
    torch.testing.assert_close(pooled[:, 3:], z.amax(dim=(2, 3)))


@pytest.mark.parametrize("n_fft", [4, 8, 16])
def test_min_length(n_fft):
    length = min_length(n_fft)
    assert length > n_fft // 2
    assert length == max(n_fft, 4)
    module = NCVQVAEModule(1, length, n_fft=n_fft, ssl=None, **SMALL).train()
    out = module(torch.randn(2, 1, length), _gen())
    assert out.x_hat.shape == (2, 1, length)
    assert module.token_shape[1] >= 1
    with pytest.raises(ValueError, match="minimum"):
        NCVQVAEModule(1, length - 1, n_fft=n_fft, ssl=None, **SMALL)


@pytest.mark.parametrize("ssl", ["simclr", "BarlowTwins", ""])
def test_invalid_ssl(ssl):
    with pytest.raises(ValueError, match="ssl must be one of"):
        _module(ssl=ssl)


def test_invalid_augmentation():
    with pytest.raises(ValueError, match="Unknown augmentation"):
        _module(ssl="barlowtwins", augmentations=("bogus",))


@pytest.mark.parametrize("width", [1, 2, 5, 6])
def test_pyramid_pool_is_the_grid_and_its_two_time_halves(width):
    from skncvqvae.nn import pyramid_pool

    z = torch.randn(3, 4, 5, width)
    out = pyramid_pool(z)
    assert out.shape == (3, 6 * 4)
    first = z[..., : (width + 1) // 2]
    second = z[..., (width + 1) // 2 :] if width > 1 else z
    expected = torch.cat([global_pool(z), global_pool(first), global_pool(second)], dim=1)
    torch.testing.assert_close(out, expected, rtol=0, atol=0)
    torch.testing.assert_close(out[:, :8], global_pool(z), rtol=0, atol=0)


def test_latent_is_the_encoder_output_before_quantization():
    module = _module().eval()
    x = torch.randn(4, 1, 24)
    with torch.no_grad():
        z = module.latent(x)
        z_q, idx = module.encode(x)
    assert z.shape == z_q.shape
    torch.testing.assert_close(module.quantizer.codes_to_latent(idx), z_q)
    assert not torch.equal(z, z_q)
