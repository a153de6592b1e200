"""Non-contrastive self-supervised losses and projector for NC-VQVAE.

NC-VQVAE (Mathisen 2024) adds a non-contrastive self-supervised loss between
the pooled encoder latents of a series and of an augmented view of it. The
pooled latents are mapped by a :class:`Projector` and compared with either
:func:`barlow_twins_loss` or :func:`vibcreg_loss` (selected through
:data:`SSL_LOSSES`). VIBCReg additionally whitens the projector output with
:class:`IterNorm`.

Both losses rely on batch statistics; for a batch of fewer than two samples
they return a zero that still takes part in autograd (zero gradients, not NaN).
"""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import Tensor, nn

__all__ = [
    "IterNorm",
    "Projector",
    "barlow_twins_loss",
    "vibcreg_loss",
    "SSL_LOSSES",
]


class IterNorm(nn.Module):
    r"""Iterative (group) whitening by Newton–Schulz iterations.

    The ``num_features`` columns are split into ``G`` contiguous groups of
    ``d = num_features / G`` features. In training mode, for each group with
    batch matrix ``X`` of shape ``(d, B)``:

    .. math::

        X_c = X - \bar X, \quad
        \Sigma = \epsilon I + \tfrac{1}{B} X_c X_c^\top, \quad
        \Sigma_N = \Sigma / \operatorname{tr}(\Sigma),

        P_0 = I, \quad
        P_k = \tfrac{3}{2} P_{k-1} - \tfrac{1}{2} P_{k-1}^3 \Sigma_N
        \; (k = 1..T), \quad
        W = P_T / \sqrt{\operatorname{tr}(\Sigma)}, \quad
        \hat X = W X_c .

    ``W`` approximates :math:`\Sigma^{-1/2}`, so each group of the output has
    approximately identity covariance. Running mean and running whitening
    matrix buffers are updated with ``momentum`` in training mode and used in
    eval mode, where the output of a row does not depend on the other rows.
    The module has no affine parameters.

    Parameters
    ----------
    num_features : int
        Number of input features ``D``.
    num_groups : int, default=64
        Requested number of groups. If it does not divide ``num_features``,
        the largest group count ``<= num_groups`` that divides
        ``num_features`` is used (stored as ``self.num_groups``).
    n_iterations : int, default=5
        Number of Newton–Schulz iterations ``T``.
    eps : float, default=1e-5
        Ridge added to the covariance.
    momentum : float, default=0.1
        Update rate of the running buffers.

    References
    ----------
    .. [1] Huang, L., Zhou, Y., Zhu, F., Liu, L., Shao, L. (2019). "Iterative
       Normalization: Beyond Standardization towards Efficient Whitening".
       CVPR.
    .. [2] Lee, D., Aune, E. (2024). "Computer Vision Self-supervised Learning
       Methods on Time Series" (VIBCReg).
    """

    def __init__(
        self,
        num_features: int,
        num_groups: int = 64,
        n_iterations: int = 5,
        eps: float = 1e-5,
        momentum: float = 0.1,
    ) -> None:
        super().__init__()
        if num_features < 1:
            raise ValueError(f"num_features must be >= 1; got {num_features}.")
        if num_groups < 1:
            raise ValueError(f"num_groups must be >= 1; got {num_groups}.")
        if n_iterations < 0:
            raise ValueError(f"n_iterations must be >= 0; got {n_iterations}.")
        if not 0.0 <= momentum <= 1.0:
            raise ValueError(f"momentum must be in [0, 1]; got {momentum}.")
        groups = min(num_groups, num_features)
        while num_features % groups != 0:
            groups -= 1
        self.num_features = num_features
        self.num_groups = groups
        self.group_size = num_features // groups
        self.n_iterations = n_iterations
        self.eps = eps
        self.momentum = momentum
        d = self.group_size
        self.register_buffer("running_mean", torch.zeros(groups, d, 1))
        self.register_buffer("running_wmat", torch.eye(d).expand(groups, d, d).clone())

    def forward(self, x: Tensor) -> Tensor:
        """Whiten ``x`` of shape ``(B, num_features)``; returns the same shape."""
        if x.ndim != 2 or x.shape[1] != self.num_features:
            raise ValueError(
                f"IterNorm expects input of shape (B, {self.num_features}); got {tuple(x.shape)}."
            )
        with torch.autocast(x.device.type, enabled=False):  # Newton-Schulz needs float32
            return self._whiten(x.float() if x.dtype in (torch.float16, torch.bfloat16) else x)

    def _whiten(self, x: Tensor) -> Tensor:
        b = x.shape[0]
        g, d = self.num_groups, self.group_size
        xg = x.t().reshape(g, d, b)
        if self.training:
            mean = xg.mean(dim=-1, keepdim=True)
            xc = xg - mean
            eye = torch.eye(d, dtype=x.dtype, device=x.device).expand(g, d, d)
            sigma = torch.baddbmm(eye, xc, xc.transpose(1, 2), beta=self.eps, alpha=1.0 / b)
            inv_trace = sigma.diagonal(dim1=1, dim2=2).sum(-1).reciprocal()
            inv_trace = inv_trace.view(g, 1, 1)
            sigma_n = sigma * inv_trace
            p = eye
            if self.n_iterations:  # the first step from P_0 = I needs no products
                p = 1.5 * eye - 0.5 * sigma_n
            for _ in range(self.n_iterations - 1):
                p3 = torch.bmm(torch.bmm(p, p), p)
                p = torch.baddbmm(p, p3, sigma_n, beta=1.5, alpha=-0.5)
            wmat = p * inv_trace.sqrt()
            with torch.no_grad():
                self.running_mean.lerp_(mean.detach(), self.momentum)
                self.running_wmat.lerp_(wmat.detach(), self.momentum)
        else:
            xc = xg - self.running_mean
            wmat = self.running_wmat
        return torch.bmm(wmat, xc).reshape(self.num_features, b).t()

    def extra_repr(self) -> str:
        return (
            f"{self.num_features}, num_groups={self.num_groups}, "
            f"n_iterations={self.n_iterations}, eps={self.eps}, "
            f"momentum={self.momentum}"
        )


#: Weights at least this large get their gradient written into a kept buffer (see
#: :class:`_KeptGradLinear`): glibc serves every allocation above 32 MB (its largest
#: mmap threshold) with freshly mapped pages, whose page faults cost as much as the
#: product itself on a CPU.
_KEPT_GRAD_BYTES = 32 * 2**20


def _distributed() -> bool:
    """Whether a process group is up: DistributedDataParallel reduces gradients in
    hooks on autograd's gradient accumulation, which the kept buffer bypasses."""
    return torch.distributed.is_available() and torch.distributed.is_initialized()


class _KeptGradFunction(torch.autograd.Function):
    """``x @ W^T + b`` whose backward writes ``dL/dW`` into ``owner``'s kept buffer."""

    @staticmethod
    def forward(ctx, x: Tensor, weight: Tensor, bias: Tensor | None, owner: _KeptGradLinear):
        ctx.save_for_backward(x, weight)
        ctx.owner = owner
        ctx.has_bias = bias is not None
        return F.linear(x, weight, bias)

    @staticmethod
    def backward(ctx, grad_out: Tensor):
        x, weight = ctx.saved_tensors
        grad_x = grad_out @ weight if ctx.needs_input_grad[0] else None
        if ctx.needs_input_grad[1]:
            ctx.owner.accumulate_weight_grad(grad_out, x)
        grad_b = grad_out.sum(0) if ctx.has_bias and ctx.needs_input_grad[2] else None
        return grad_x, None, grad_b, None


class _KeptGradLinear(nn.Linear):
    """``nn.Linear`` that keeps the memory of a large weight gradient between steps.

    Autograd allocates each gradient afresh, and at 64 MB (a 4096-wide projector) each
    allocation is a new mapping, page-faulted at every step (``docs/benchmarks.md``). In
    CPU training without autocast or distribution, a weight of at least
    ``_KEPT_GRAD_BYTES`` gets its gradient written into one kept buffer (``weight.grad``);
    the values are those of ``nn.Linear``, which serves every other case.
    """

    def forward(self, x: Tensor) -> Tensor:
        weight = self.weight
        if (
            weight.requires_grad
            and torch.is_grad_enabled()
            and weight.numel() * weight.element_size() >= _KEPT_GRAD_BYTES
            and x.device.type == "cpu"  # CUDA's caching allocator has no such cost
            and not torch.is_autocast_enabled("cpu")
            and not _distributed()
        ):
            return _KeptGradFunction.apply(x, weight, self.bias, self)
        return super().forward(x)

    def accumulate_weight_grad(self, grad_out: Tensor, x: Tensor) -> None:
        """``weight.grad += grad_out^T x``, into the kept buffer when there is no grad."""
        weight = self.weight
        if weight.grad is not None:
            weight.grad.addmm_(grad_out.t(), x)
            return
        buffer = self.__dict__.get("_grad_buffer")  # dropped by _apply: it matches weight
        if buffer is None:
            buffer = torch.empty_like(weight, memory_format=torch.contiguous_format)
            self.__dict__["_grad_buffer"] = buffer
        torch.mm(grad_out.t(), x, out=buffer)
        weight.grad = buffer

    def __getstate__(self):
        state = self.__dict__.copy()
        state.pop("_grad_buffer", None)  # scratch memory, not state
        return state

    def _apply(self, fn, recurse=True):
        self.__dict__.pop("_grad_buffer", None)  # .to(), .float() ...: allocate anew
        return super()._apply(fn, recurse)


class Projector(nn.Module):
    """Three-layer MLP projector used before the non-contrastive loss.

    ``Linear(in, h) - BN - ReLU - Linear(h, h) - BN - ReLU - Linear(h, h)``,
    optionally followed by :class:`IterNorm` (``iternorm=True``, VIBCReg).

    Parameters
    ----------
    in_dim : int
        Input width (pooled latent dimension).
    hidden_dim : int, default=4096
        Hidden and output width; exposed as ``self.out_dim``.
    iternorm : bool, default=False
        Append IterNorm whitening to the output.
    iternorm_groups : int, default=64
        Requested number of IterNorm groups.

    References
    ----------
    .. [1] Zbontar, J. et al. (2021). "Barlow Twins: Self-Supervised Learning
       via Redundancy Reduction". ICML.
    .. [2] Lee, D., Aune, E. (2024). "Computer Vision Self-supervised Learning
       Methods on Time Series" (VIBCReg).
    """

    def __init__(
        self,
        in_dim: int,
        hidden_dim: int = 4096,
        iternorm: bool = False,
        iternorm_groups: int = 64,
    ) -> None:
        super().__init__()
        if in_dim < 1 or hidden_dim < 1:
            raise ValueError(
                f"in_dim and hidden_dim must be >= 1; got in_dim={in_dim}, hidden_dim={hidden_dim}."
            )
        self.in_dim = in_dim
        self.out_dim = hidden_dim
        layers: list[nn.Module] = [
            _KeptGradLinear(in_dim, hidden_dim),
            nn.BatchNorm1d(hidden_dim),
            nn.ReLU(),
            _KeptGradLinear(hidden_dim, hidden_dim),
            nn.BatchNorm1d(hidden_dim),
            nn.ReLU(),
            _KeptGradLinear(hidden_dim, hidden_dim),
        ]
        if iternorm:
            layers.append(IterNorm(hidden_dim, num_groups=iternorm_groups))
        self.net = nn.Sequential(*layers)

    def forward(self, x: Tensor) -> Tensor:
        """Project ``x`` of shape ``(B, in_dim)`` to ``(B, out_dim)``."""
        return self.net(x)

    def forward_views(self, *views: Tensor) -> tuple[Tensor, ...]:
        """``tuple(self(v) for v in views)``, with every linear layer run once on the
        stacked views (half the backward time at ``B = 50``, width 4096, on a CPU).

        Batch statistics stay per view, so outputs and running buffers are
        those of separate calls.
        """
        sizes = [v.shape[0] for v in views]
        h = torch.cat(views)
        for layer in self.net:
            if isinstance(layer, (nn.BatchNorm1d, IterNorm)):
                h = torch.cat([layer(part) for part in h.split(sizes)])
            else:
                h = layer(h)
        return tuple(h.split(sizes))


def _check_pair(z1: Tensor, z2: Tensor) -> None:
    if z1.ndim != 2 or z2.ndim != 2:
        raise ValueError(
            "z1 and z2 must be 2D tensors of shape (batch, features); got "
            f"shapes {tuple(z1.shape)} and {tuple(z2.shape)}."
        )
    if z1.shape != z2.shape:
        raise ValueError(
            f"z1 and z2 must have the same shape; got {tuple(z1.shape)} and {tuple(z2.shape)}."
        )


def _zero_like_loss(z1: Tensor, z2: Tensor) -> Tensor:
    return (z1.sum() + z2.sum()) * 0.0


def barlow_twins_loss(
    z1: Tensor, z2: Tensor, *, lambda_offdiag: float = 0.005, eps: float = 1e-5
) -> Tensor:
    r"""Barlow Twins redundancy-reduction loss, normalised by the width.

    Each projection is standardised over the batch like
    ``BatchNorm1d(affine=False)``: ``zn = (z - mean) / sqrt(var + eps)`` with
    the biased variance. With ``C = z1n^T z2n / B`` (``D x D``):

    .. math::

        L = \frac{1}{D} \Big[ \sum_i (1 - C_{ii})^2
            + \lambda \sum_{i \ne j} C_{ij}^2 \Big].

    Parameters
    ----------
    z1, z2 : Tensor of shape (B, D)
        Projections of the two views.
    lambda_offdiag : float, default=0.005
        Weight :math:`\lambda` of the off-diagonal (redundancy) term.
    eps : float, default=1e-5
        Added to the variance in the standardisation.

    Returns
    -------
    loss : Tensor
        Scalar. For ``B < 2`` a zero that still participates in autograd.

    Raises
    ------
    ValueError
        If ``z1`` and ``z2`` are not 2D or differ in shape.

    References
    ----------
    .. [1] Zbontar, J., Jing, L., Misra, I., LeCun, Y., Deny, S. (2021).
       "Barlow Twins: Self-Supervised Learning via Redundancy Reduction".
       ICML.
    """
    _check_pair(z1, z2)
    b, d = z1.shape
    if b < 2:
        return _zero_like_loss(z1, z2)

    def standardise(z: Tensor) -> Tensor:
        mean = z.mean(dim=0)
        var = z.var(dim=0, unbiased=False)
        return (z - mean) / torch.sqrt(var + eps)

    z1n, z2n = standardise(z1), standardise(z2)
    diag = (z1n * z2n).sum(dim=0) / b
    on_diag = (1.0 - diag).pow(2).sum()
    off_diag = cross_sq_norm(z1n, z2n) / b**2 - diag.pow(2).sum()
    return (on_diag + lambda_offdiag * off_diag) / d


def cross_sq_norm(a: Tensor, b: Tensor) -> Tensor:
    r"""``||a^T b||_F^2`` for ``a, b`` of shape ``(B, D)``, on the cheaper side.

    With ``B < D``, :math:`\|a^\top b\|_F^2 = \sum (a a^\top) \odot (b b^\top)`
    from two ``B x B`` Gram matrices, ``O(B^2 D)`` instead of ``O(B D^2)``.
    """
    if a.shape[0] < a.shape[1]:
        gram_a = a @ a.t()
        gram_b = gram_a if b is a else b @ b.t()
        return (gram_a * gram_b).sum()
    return (a.t() @ b).pow(2).sum()


def _vibcreg_cov(z: Tensor) -> Tensor:
    zn = F.normalize(z - z.mean(dim=0), p=2, dim=0)
    diag = zn.pow(2).sum(dim=0)  # the diagonal of the correlation matrix
    return (cross_sq_norm(zn, zn) - diag.pow(2).sum()) / zn.shape[1] ** 2


def vibcreg_loss(
    z1: Tensor,
    z2: Tensor,
    *,
    sim_weight: float = 25.0,
    var_weight: float = 25.0,
    cov_weight: float = 100.0,
    scale: float = 0.01,
    eps: float = 1e-4,
) -> Tensor:
    r"""VIBCReg loss: invariance, variance and feature-decorrelation terms.

    .. math::

        L = s \big( \lambda \, \mathrm{MSE}(z_1, z_2)
            + \mu \, v + \nu \, c \big),

        v = \sum_{z \in \{z_1, z_2\}} \frac{1}{D} \sum_j
            \mathrm{relu}\big(1 - \sqrt{\mathrm{Var}(z_{:, j}) + \epsilon}\big),

        c = \sum_{z \in \{z_1, z_2\}} \frac{1}{D^2}
            \sum_{i \ne j} (\tilde z^\top \tilde z)_{ij}^2,

    where ``Var`` is the unbiased batch variance and ``z~`` is ``z`` centred
    over the batch with each feature column L2-normalised over the batch, so
    ``z~^T z~`` is the feature correlation matrix. As in the reference VIBCReg
    implementation, the squared off-diagonal correlations are averaged over
    all ``D^2`` entries (the zeroed diagonal included), i.e. divided by
    ``D^2`` rather than ``D (D - 1)``.

    Parameters
    ----------
    z1, z2 : Tensor of shape (B, D)
        Projections of the two views.
    sim_weight : float, default=25.0
        Weight :math:`\lambda` of the invariance (MSE) term.
    var_weight : float, default=25.0
        Weight :math:`\mu` of the variance term.
    cov_weight : float, default=100.0
        Weight :math:`\nu` of the decorrelation term.
    scale : float, default=0.01
        Overall factor :math:`s`.
    eps : float, default=1e-4
        Added to the variance under the square root.

    Returns
    -------
    loss : Tensor
        Scalar. For ``B < 2`` a zero that still participates in autograd.

    Raises
    ------
    ValueError
        If ``z1`` and ``z2`` are not 2D or differ in shape.

    References
    ----------
    .. [1] Lee, D., Aune, E. (2024). "Computer Vision Self-supervised Learning
       Methods on Time Series" (VIBCReg). arXiv:2109.00783.
    """
    _check_pair(z1, z2)
    if z1.shape[0] < 2:
        return _zero_like_loss(z1, z2)
    sim = F.mse_loss(z1, z2)
    var = sum(F.relu(1.0 - torch.sqrt(z.var(dim=0) + eps)).mean() for z in (z1, z2))
    cov = _vibcreg_cov(z1) + _vibcreg_cov(z2)
    return scale * (sim_weight * sim + var_weight * var + cov_weight * cov)


SSL_LOSSES: dict[str, Callable[..., Tensor]] = {
    "barlowtwins": barlow_twins_loss,
    "vibcreg": vibcreg_loss,
}
"""Map from loss name to loss function ``f(z1, z2) -> scalar Tensor``."""
