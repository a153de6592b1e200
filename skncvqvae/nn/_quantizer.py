"""Vector quantizer with an exponential-moving-average codebook.

The codebook is not trained by gradients: in training mode each forward pass
moves every code towards the mean of the latent vectors assigned to it
(van den Oord et al. 2017, appendix; Razavi et al. 2019). The encoder gets its
gradient through the straight-through estimator and the commitment loss.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from einops import rearrange
from torch import nn

__all__ = ["QuantizerOutput", "VectorQuantizer", "perplexity"]


def perplexity(indices: torch.Tensor, codebook_size: int) -> torch.Tensor:
    """Codebook perplexity ``exp(-sum_k p_k log p_k)`` of the code frequencies ``p``.

    It is 1 when one code is used and ``codebook_size`` when all are used equally.
    """
    counts = torch.bincount(indices.flatten(), minlength=codebook_size).float()
    probs = counts / counts.sum().clamp_min(1.0)
    return torch.exp(-(probs * torch.log(probs.clamp_min(1e-10))).sum())


@dataclass(frozen=True)
class QuantizerOutput:
    """``quantized`` (straight-through, same shape as the input), ``indices``
    ``(B, H, W)``, ``commitment_loss`` (scalar) and ``perplexity`` (scalar)."""

    quantized: torch.Tensor
    indices: torch.Tensor
    commitment_loss: torch.Tensor
    perplexity: torch.Tensor


class VectorQuantizer(nn.Module):
    """EMA vector quantizer over the channel axis of ``(B, D, H, W)`` latents.

    Parameters
    ----------
    codebook_size : int
        Number of codes ``K``.
    dim : int
        Code dimension ``D``.
    decay : float, default=0.8
        EMA decay of the code statistics.
    commitment_weight : float, default=1.0
        Weight of ``||z - sg(e)||^2``.
    eps : float, default=1e-5
        Laplace smoothing of the cluster sizes.

    Notes
    -----
    Codes are initialised on the first training batch with latent vectors drawn
    from it (data-dependent initialisation), so that no code starts far from
    the data and dies. The draw uses the generator passed to ``forward``.
    """

    def __init__(
        self,
        codebook_size: int,
        dim: int,
        *,
        decay: float = 0.8,
        commitment_weight: float = 1.0,
        eps: float = 1e-5,
    ):
        super().__init__()
        self.codebook_size = codebook_size
        self.dim = dim
        self.decay = decay
        self.commitment_weight = commitment_weight
        self.eps = eps
        embed = torch.randn(codebook_size, dim)
        self.register_buffer("embed", embed)
        self.register_buffer("embed_avg", embed.clone())
        self.register_buffer("cluster_size", torch.ones(codebook_size))
        self.register_buffer("initialized", torch.tensor(False))

    # -- lookups -------------------------------------------------------------
    def codes_to_latent(self, indices: torch.Tensor) -> torch.Tensor:
        """Embed token ids ``(B, H, W)`` into latents ``(B, D, H, W)``."""
        return rearrange(F.embedding(indices, self.embed), "b h w d -> b d h w")

    def nearest(self, flat: torch.Tensor) -> torch.Tensor:
        """Index of the nearest code (squared Euclidean) for each row of ``(N, D)``."""
        distances = (
            flat.pow(2).sum(1, keepdim=True)
            - 2 * flat @ self.embed.t()
            + self.embed.pow(2).sum(1)[None, :]
        )
        return distances.argmin(dim=1)

    # -- training updates ----------------------------------------------------
    @torch.no_grad()
    def _initialize(self, flat: torch.Tensor, generator: torch.Generator | None) -> None:
        n = flat.shape[0]
        if n >= self.codebook_size:
            idx = torch.randperm(n, generator=generator, device=flat.device)[: self.codebook_size]
        else:
            idx = torch.randint(n, (self.codebook_size,), generator=generator, device=flat.device)
        self.embed.copy_(flat[idx])
        self.embed_avg.copy_(flat[idx])
        self.cluster_size.fill_(1.0)
        self.initialized.fill_(True)

    @torch.no_grad()
    def _ema_update(self, flat: torch.Tensor, indices: torch.Tensor) -> None:
        onehot = F.one_hot(indices, self.codebook_size).type(flat.dtype)
        self.cluster_size.lerp_(onehot.sum(0), 1 - self.decay)
        self.embed_avg.lerp_(onehot.t() @ flat, 1 - self.decay)
        total = self.cluster_size.sum()
        smoothed = (self.cluster_size + self.eps) / (total + self.codebook_size * self.eps) * total
        self.embed.copy_(self.embed_avg / smoothed[:, None])

    # -- forward -------------------------------------------------------------
    def forward(self, z: torch.Tensor, generator: torch.Generator | None = None) -> QuantizerOutput:
        batch, _, height, width = z.shape
        flat = rearrange(z, "b d h w -> (b h w) d")
        # The code search and the EMA statistics stay in float32 under mixed
        # precision (autocast would run their matmuls in bf16/fp16).
        with torch.autocast(flat.device.type, enabled=False):
            exact = flat.detach().float()
            if self.training and not bool(self.initialized):
                self._initialize(exact, generator)
            indices = self.nearest(exact)
            if self.training:
                self._ema_update(exact, indices)
        quantized = F.embedding(indices, self.embed).to(flat.dtype)
        commitment = F.mse_loss(flat, quantized.detach()) * self.commitment_weight
        if flat.requires_grad:  # straight-through; without autograd the codes stay exact
            quantized = flat + (quantized - flat).detach()
        return QuantizerOutput(
            quantized=rearrange(quantized, "(b h w) d -> b d h w", b=batch, h=height, w=width),
            indices=rearrange(indices, "(b h w) -> b h w", b=batch, h=height, w=width),
            commitment_loss=commitment,
            perplexity=perplexity(indices, self.codebook_size),
        )
