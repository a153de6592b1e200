"""Tests for skncvqvae.nn._ssl: Barlow Twins / VIBCReg losses, IterNorm, Projector."""

from __future__ import annotations

import copy
import pickle

import numpy as np
import pytest
import torch

from skncvqvae.nn import _ssl
from skncvqvae.nn._ssl import (
    SSL_LOSSES,
    IterNorm,
    Projector,
    _KeptGradLinear,
    barlow_twins_loss,
    cross_sq_norm,
    vibcreg_loss,
)


def _hadamard(n: int) -> np.ndarray:
    h = np.ones((1, 1))
    while h.shape[0] < n:
        h = np.block([[h, h], [h, -h]])
    return h


def _decorrelated(b: int = 8) -> torch.Tensor:
    """Columns 1.. of a Hadamard matrix: mean 0, biased var 1, orthogonal."""
    return torch.tensor(_hadamard(b)[:, 1:], dtype=torch.float64)


def _hand_inputs() -> tuple[np.ndarray, np.ndarray]:
    z1 = np.array([[0.5, -1.0, 2.0], [1.5, 0.3, -0.7], [-0.2, 0.8, 0.1], [2.2, -0.4, 1.3]])
    z2 = np.array([[0.1, 0.9, -1.2], [1.0, -0.6, 0.4], [0.7, 0.2, 2.5], [-1.3, 1.1, 0.0]])
    return z1, z2


def _t(a: np.ndarray) -> torch.Tensor:
    return torch.tensor(a, dtype=torch.float64)


# --------------------------------------------------------------------------
# Barlow Twins
# --------------------------------------------------------------------------


def test_barlow_twins_zero_for_identical_decorrelated():
    z = _decorrelated()
    assert barlow_twins_loss(z, z).item() < 1e-8
    # invariant to per-feature affine maps thanks to the standardisation
    z_aff = 3.0 * z + torch.arange(z.shape[1], dtype=z.dtype)
    assert barlow_twins_loss(z_aff, z_aff).item() < 1e-8


def test_barlow_twins_hand_case():
    z1, z2 = _hand_inputs()
    lam, eps = 0.005, 1e-5
    b, d = z1.shape
    n1 = (z1 - z1.mean(0)) / np.sqrt(z1.var(0) + eps)
    n2 = (z2 - z2.mean(0)) / np.sqrt(z2.var(0) + eps)
    c = n1.T @ n2 / b
    off = ~np.eye(d, dtype=bool)
    expected = (np.sum((1 - np.diag(c)) ** 2) + lam * np.sum(c[off] ** 2)) / d
    got = barlow_twins_loss(_t(z1), _t(z2), lambda_offdiag=lam, eps=eps)
    assert got.ndim == 0
    assert got.item() == pytest.approx(expected, rel=1e-10)
    got2 = barlow_twins_loss(_t(z1), _t(z2), lambda_offdiag=0.3)
    expected2 = (np.sum((1 - np.diag(c)) ** 2) + 0.3 * np.sum(c[off] ** 2)) / d
    assert got2.item() == pytest.approx(expected2, rel=1e-10)


def test_barlow_twins_nonneg_symmetric_and_discriminative():
    g = torch.Generator().manual_seed(0)
    z1 = torch.randn(256, 16, generator=g)
    z2 = torch.randn(256, 16, generator=g)
    l12 = barlow_twins_loss(z1, z2)
    l21 = barlow_twins_loss(z2, z1)
    same = barlow_twins_loss(z1, z1)
    assert l12.item() >= 0 and same.item() >= 0
    assert l12.item() == pytest.approx(l21.item(), rel=1e-5)
    assert l12.item() > 0.5
    assert l12.item() > 20 * same.item()


# --------------------------------------------------------------------------
# VIBCReg
# --------------------------------------------------------------------------


def test_vibcreg_zero_for_identical_decorrelated_with_large_std():
    z = 2.0 * _decorrelated()  # unbiased std = 2 * sqrt(8 / 7) > 1
    assert vibcreg_loss(z, z).item() < 1e-12


def test_vibcreg_hand_case():
    z1, z2 = _hand_inputs()
    sw, vw, cw, s, eps = 25.0, 25.0, 100.0, 0.01, 1e-4
    d = z1.shape[1]

    def var_term(z):
        return np.mean(np.maximum(0.0, 1.0 - np.sqrt(z.var(0, ddof=1) + eps)))

    def cov_term(z):
        zc = z - z.mean(0)
        zn = zc / np.maximum(np.linalg.norm(zc, axis=0), 1e-12)
        corr = zn.T @ zn
        np.fill_diagonal(corr, 0.0)
        return np.sum(corr**2) / d**2

    expected = s * (
        sw * np.mean((z1 - z2) ** 2)
        + vw * (var_term(z1) + var_term(z2))
        + cw * (cov_term(z1) + cov_term(z2))
    )
    got = vibcreg_loss(_t(z1), _t(z2))
    assert got.ndim == 0
    assert got.item() == pytest.approx(expected, rel=1e-10)
    # the variance term is active for these inputs (some std < 1)
    assert var_term(z1) + var_term(z2) > 0
    got_w = vibcreg_loss(_t(z1), _t(z2), sim_weight=1.0, var_weight=0.0, cov_weight=0.0, scale=1.0)
    assert got_w.item() == pytest.approx(np.mean((z1 - z2) ** 2), rel=1e-10)


def test_vibcreg_variance_term_for_constant_input():
    z = torch.full((16, 5), 3.0, dtype=torch.float64)
    eps, vw, s = 1e-4, 25.0, 0.01
    # MSE = 0, covariance term = 0 (zero columns normalise to 0),
    # variance term = 2 * relu(1 - sqrt(0 + eps)).
    expected = 2 * vw * s * (1 - np.sqrt(eps))
    got = vibcreg_loss(z, z, var_weight=vw, scale=s, eps=eps)
    assert got.item() == pytest.approx(expected, rel=1e-12)
    assert got.item() == pytest.approx(0.495, rel=1e-12)


# --------------------------------------------------------------------------
# Shared behaviour of the losses
# --------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["barlowtwins", "vibcreg"])
def test_single_sample_gives_zero_and_finite_gradients(name):
    loss_fn = SSL_LOSSES[name]
    z1 = torch.randn(1, 6, requires_grad=True)
    z2 = torch.randn(1, 6, requires_grad=True)
    loss = loss_fn(z1, z2)
    assert loss.ndim == 0
    assert loss.item() == 0.0
    loss.backward()
    for z in (z1, z2):
        assert z.grad is not None
        assert torch.isfinite(z.grad).all()
        assert torch.equal(z.grad, torch.zeros_like(z))


@pytest.mark.parametrize("name", ["barlowtwins", "vibcreg"])
def test_losses_backward_finite(name):
    g = torch.Generator().manual_seed(1)
    z1 = torch.randn(32, 8, generator=g).requires_grad_()
    z2 = torch.randn(32, 8, generator=g).requires_grad_()
    SSL_LOSSES[name](z1, z2).backward()
    assert torch.isfinite(z1.grad).all() and z1.grad.abs().sum() > 0
    assert torch.isfinite(z2.grad).all() and z2.grad.abs().sum() > 0


@pytest.mark.parametrize("name", ["barlowtwins", "vibcreg"])
def test_losses_validate_shapes(name):
    loss_fn = SSL_LOSSES[name]
    with pytest.raises(ValueError, match="same shape"):
        loss_fn(torch.randn(4, 3), torch.randn(4, 5))
    with pytest.raises(ValueError, match="2D"):
        loss_fn(torch.randn(4), torch.randn(4))


@pytest.mark.parametrize("shape", [(6, 40), (40, 6), (5, 5)])
def test_cross_sq_norm_matches_the_d_by_d_matrix(shape):
    gen = torch.Generator().manual_seed(0)
    a = torch.randn(*shape, generator=gen, dtype=torch.float64)
    b = torch.randn(*shape, generator=gen, dtype=torch.float64)
    torch.testing.assert_close(cross_sq_norm(a, b), (a.t() @ b).pow(2).sum())
    torch.testing.assert_close(cross_sq_norm(a, a), (a.t() @ a).pow(2).sum())


def _vibcreg_d_by_d(z1, z2):
    """VIBCReg written with the explicit D x D correlation matrices."""

    def cov(z):
        zn = torch.nn.functional.normalize(z - z.mean(0), dim=0)
        corr = zn.t() @ zn
        return (corr - torch.diag_embed(torch.diagonal(corr))).pow(2).mean()

    sim = torch.nn.functional.mse_loss(z1, z2)
    var = sum(torch.relu(1 - torch.sqrt(z.var(0) + 1e-4)).mean() for z in (z1, z2))
    return 0.01 * (25 * sim + 25 * var + 100 * (cov(z1) + cov(z2)))


def _barlow_d_by_d(z1, z2):
    b, d = z1.shape

    def standardise(z):
        return (z - z.mean(0)) / torch.sqrt(z.var(0, unbiased=False) + 1e-5)

    c = standardise(z1).t() @ standardise(z2) / b
    diag = torch.diagonal(c)
    return ((1 - diag).pow(2).sum() + 0.005 * (c.pow(2).sum() - diag.pow(2).sum())) / d


@pytest.mark.parametrize("shape", [(8, 300), (300, 8), (3, 3)])
def test_losses_equal_their_d_by_d_form(shape):
    """The Gram-side computation changes only the cost, not the loss or its gradient."""
    gen = torch.Generator().manual_seed(1)
    z1 = torch.randn(*shape, generator=gen, dtype=torch.float64)
    z2 = (z1 + 0.5 * torch.randn(*shape, generator=gen, dtype=torch.float64)).requires_grad_()
    for fast, slow in [(vibcreg_loss, _vibcreg_d_by_d), (barlow_twins_loss, _barlow_d_by_d)]:
        got, want = fast(z1, z2), slow(z1, z2)
        torch.testing.assert_close(got, want)
        (grad_got,) = torch.autograd.grad(got, z2)
        (grad_want,) = torch.autograd.grad(want, z2)
        torch.testing.assert_close(grad_got, grad_want)


def test_ssl_losses_registry():
    assert SSL_LOSSES == {"barlowtwins": barlow_twins_loss, "vibcreg": vibcreg_loss}


# --------------------------------------------------------------------------
# IterNorm
# --------------------------------------------------------------------------


def _correlated_batch(b: int = 512, d: int = 32, seed: int = 0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    mix = torch.eye(d) + torch.randn(d, d, generator=g) / d**0.5
    return 3.0 * torch.randn(b, d, generator=g) @ mix + 5.0


def test_iternorm_whitens_each_group_in_training():
    x = _correlated_batch()
    m = IterNorm(32, num_groups=4).train()
    assert m.num_groups == 4
    y = m(x)
    assert y.shape == x.shape
    eye = torch.eye(8)
    for k in range(4):
        cols = slice(8 * k, 8 * (k + 1))
        cy = torch.cov(y[:, cols].T, correction=0)
        ev = torch.linalg.eigvalsh(cy)
        assert ev.min() > 0.5 and ev.max() < 1.5
        assert y[:, cols].mean(0).abs().max() < 1e-4
        # compare with the input's correlation (scale-free) matrix
        rx = torch.corrcoef(x[:, cols].T)
        assert (cy - eye).norm() < 0.25 * (rx - eye).norm()
    # whitening is per group: cross-group covariance is left untouched
    assert torch.cov(y.T).abs()[:8, 8:].max() > 0.05


def test_iternorm_running_stats_and_eval_mode():
    x = _correlated_batch(b=256, d=16, seed=2)
    m = IterNorm(16, num_groups=2, momentum=0.1)
    buf_mean = m.running_mean.clone()
    buf_w = m.running_wmat.clone()
    m.train()(x)
    assert not torch.equal(m.running_mean, buf_mean)
    assert not torch.equal(m.running_wmat, buf_w)

    # with momentum 1 the running buffers are the last batch's statistics
    m1 = IterNorm(16, num_groups=2, momentum=1.0)
    y_train = m1.train()(x)
    with torch.no_grad():
        y_eval = m1.eval()(x)
    torch.testing.assert_close(y_eval, y_train.detach(), rtol=1e-4, atol=1e-4)

    # eval mode is per-sample: a row's output does not depend on the batch
    with torch.no_grad():
        full = m.eval()(x)
        rows = torch.cat([m(x[i : i + 1]) for i in range(5)])
        again = m(x)
        shuffled = m(x.flip(0))
    torch.testing.assert_close(rows, full[:5])
    assert torch.equal(again, full)
    torch.testing.assert_close(shuffled.flip(0), full)


def test_iternorm_group_count_adjusted():
    assert IterNorm(30, num_groups=4).num_groups == 3
    assert IterNorm(30, num_groups=64).num_groups == 30
    assert IterNorm(7, num_groups=4).num_groups == 1
    m = IterNorm(30, num_groups=4)
    assert m.group_size == 10
    assert m.running_wmat.shape == (3, 10, 10)
    x = _correlated_batch(b=400, d=30, seed=3)
    y = m.train()(x)
    assert y.shape == (400, 30)
    for k in range(3):
        cy = torch.cov(y[:, 10 * k : 10 * (k + 1)].T, correction=0)
        ev = torch.linalg.eigvalsh(cy)
        assert ev.min() > 0.5 and ev.max() < 1.5


def test_iternorm_backward_and_single_sample():
    m = IterNorm(16, num_groups=4).train()
    x = _correlated_batch(b=64, d=16, seed=4).requires_grad_()
    m(x).pow(3).sum().backward()
    assert torch.isfinite(x.grad).all() and x.grad.abs().sum() > 0
    y1 = m(torch.randn(1, 16))
    assert torch.isfinite(y1).all()


def test_iternorm_validates_input():
    m = IterNorm(16, num_groups=4)
    with pytest.raises(ValueError, match=r"shape \(B, 16\)"):
        m(torch.randn(8, 12))
    with pytest.raises(ValueError, match=r"shape \(B, 16\)"):
        m(torch.randn(8, 16, 2))
    with pytest.raises(ValueError, match="num_groups"):
        IterNorm(16, num_groups=0)


# --------------------------------------------------------------------------
# Projector
# --------------------------------------------------------------------------


@pytest.mark.parametrize("iternorm", [False, True])
def test_projector_shape_and_gradients(iternorm):
    torch.manual_seed(0)
    proj = Projector(12, hidden_dim=64, iternorm=iternorm, iternorm_groups=8)
    assert proj.out_dim == 64
    assert isinstance(proj.net[-1], IterNorm) == iternorm
    x = torch.randn(20, 12, requires_grad=True)
    out = proj(x)
    assert out.shape == (20, 64)
    out.pow(2).sum().backward()
    assert x.grad is not None
    assert torch.isfinite(x.grad).all() and x.grad.abs().sum() > 0
    params = list(proj.parameters())
    assert all(p.grad is not None for p in params)
    proj.eval()
    with torch.no_grad():
        assert proj(x[:3]).shape == (3, 64)


@pytest.mark.parametrize("training", [True, False])
def test_projector_forward_views_equals_separate_calls(training):
    """Stacking the views changes the cost only: outputs, gradients and running
    statistics are those of one call per view."""
    torch.manual_seed(0)
    a = Projector(12, hidden_dim=64, iternorm=True, iternorm_groups=8).double()
    b = Projector(12, hidden_dim=64, iternorm=True, iternorm_groups=8).double()
    b.load_state_dict(a.state_dict())
    a.train(training)
    b.train(training)
    x1, x2 = torch.randn(10, 12, dtype=torch.float64), torch.randn(10, 12, dtype=torch.float64)
    got = a.forward_views(x1, x2)
    want = (b(x1), b(x2))
    for g, w in zip(got, want):
        torch.testing.assert_close(g, w)
    (got[0] * got[1]).sum().backward()
    (want[0] * want[1]).sum().backward()
    for pa, pb in zip(a.parameters(), b.parameters()):
        torch.testing.assert_close(pa.grad, pb.grad)
    for (name, ba), bb in zip(a.named_buffers(), b.buffers()):
        torch.testing.assert_close(ba, bb, msg=name)


# --------------------------------------------------------------------------
# The projector's linear layers: large weight gradients in a kept buffer
# --------------------------------------------------------------------------


@pytest.fixture
def kept_for_all(monkeypatch):
    """Every layer takes the kept-buffer path (the real threshold is 32 MB)."""
    monkeypatch.setattr(_ssl, "_KEPT_GRAD_BYTES", 0)


def _twin_linears(seed=0):
    torch.manual_seed(seed)
    ref = torch.nn.Linear(16, 12)
    kept = _KeptGradLinear(16, 12)
    kept.load_state_dict(ref.state_dict())
    return ref, kept


def test_kept_grad_linear_is_nn_linear_bit_for_bit(kept_for_all):
    ref, kept = _twin_linears()
    x = torch.randn(10, 16)
    x_ref, x_kept = x.clone().requires_grad_(), x.clone().requires_grad_()
    g = torch.randn(10, 12)
    out_ref, out_kept = ref(x_ref), kept(x_kept)
    assert torch.equal(out_ref, out_kept)
    (out_ref * g).sum().backward()
    (out_kept * g).sum().backward()
    assert torch.equal(x_ref.grad, x_kept.grad)
    assert torch.equal(ref.weight.grad, kept.weight.grad)
    assert torch.equal(ref.bias.grad, kept.bias.grad)
    assert kept.weight.grad is kept.__dict__["_grad_buffer"]


def test_kept_grad_buffer_is_reused_and_accumulates_like_autograd(kept_for_all):
    ref, kept = _twin_linears(1)
    x, g = torch.randn(6, 16), torch.randn(6, 12)
    (kept(x) * g).sum().backward()
    buffer = kept.weight.grad
    kept.weight.grad = kept.bias.grad = None  # what optimizer.zero_grad() does
    (kept(x) * g).sum().backward()
    assert kept.weight.grad is buffer  # the same memory, not a new allocation
    (kept(x) * g).sum().backward()  # a grad exists: added to, as autograd does
    (ref(x) * g).sum().backward()
    (ref(x) * g).sum().backward()
    torch.testing.assert_close(kept.weight.grad, ref.weight.grad)
    torch.testing.assert_close(kept.bias.grad, ref.bias.grad)


def test_kept_grad_linear_falls_back_to_nn_linear(kept_for_all):
    _, kept = _twin_linears()
    x = torch.randn(4, 16)
    with torch.no_grad():  # inference: no graph, no buffer
        kept(x)
    with torch.autocast("cpu", dtype=torch.bfloat16):  # autocast: nn.Linear's casts
        assert kept(x).dtype == torch.bfloat16
    with pytest.raises(RuntimeError, match="same dtype"):  # nn.Linear's own error
        kept(x.double().requires_grad_())
    assert "_grad_buffer" not in kept.__dict__


def test_kept_grad_linear_leaves_distributed_training_to_autograd(kept_for_all, monkeypatch):
    # DistributedDataParallel reduces gradients in hooks on autograd's accumulation
    monkeypatch.setattr(_ssl, "_distributed", lambda: True)
    ref, kept = _twin_linears()
    x = torch.randn(4, 16)
    kept(x).sum().backward()
    ref(x).sum().backward()
    assert "_grad_buffer" not in kept.__dict__
    assert torch.equal(kept.weight.grad, ref.weight.grad)


def test_kept_grad_linear_only_above_the_threshold():
    _, kept = _twin_linears()  # 16 x 12 floats, far below 32 MB
    (kept(torch.randn(4, 16)).sum()).backward()
    assert "_grad_buffer" not in kept.__dict__ and kept.weight.grad is not None


def test_kept_grad_buffer_is_not_state(kept_for_all):
    _, kept = _twin_linears()
    kept(torch.randn(4, 16)).sum().backward()
    assert set(kept.state_dict()) == {"weight", "bias"}  # nn.Linear's keys: files load
    assert "_grad_buffer" not in copy.deepcopy(kept).__dict__
    assert "_grad_buffer" not in pickle.loads(pickle.dumps(kept)).__dict__
    kept.double()
    assert "_grad_buffer" not in kept.__dict__
    kept(torch.randn(4, 16, dtype=torch.float64)).sum().backward()
    assert kept.weight.grad.dtype == torch.float64


def test_projector_training_steps_match_nn_linear(kept_for_all, monkeypatch):
    torch.manual_seed(0)
    kept = Projector(12, hidden_dim=32, iternorm=True, iternorm_groups=4)
    plain = copy.deepcopy(kept)
    opts = [torch.optim.AdamW(p.parameters(), lr=1e-2) for p in (kept, plain)]
    for _ in range(3):
        x1, x2 = torch.randn(8, 12), torch.randn(8, 12)
        # the kept-buffer path for one copy, nn.Linear's own for the other
        for proj, opt, bytes_ in zip((kept, plain), opts, (0, 2**62)):
            monkeypatch.setattr(_ssl, "_KEPT_GRAD_BYTES", bytes_)
            opt.zero_grad()
            vibcreg_loss(*proj.forward_views(x1, x2)).backward()
            opt.step()
    for a, b in zip(kept.parameters(), plain.parameters()):
        assert torch.equal(a, b)
