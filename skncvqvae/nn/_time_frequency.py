"""Time-frequency transform: STFT and its inverse on batches of series.

A series batch ``x`` of shape ``(B, C, L)`` becomes ``u`` of shape
``(B, 2C, F, T)``: for each channel its complex STFT, with real parts in
channels ``0..C-1`` and imaginary parts in ``C..2C-1``. ``F = n_fft // 2 + 1``
frequency rows and ``T = L // hop + 1`` frames (``center=True``). The window is
PyTorch's default (rectangular) and the hop defaults to ``n_fft // 4``, the
settings of TimeVQVAE and NC-VQVAE. With any hop from 1 to ``n_fft // 2`` the
transform is exactly invertible (longer hops lose samples at the series' end).
"""

from __future__ import annotations

import torch
from einops import rearrange

__all__ = ["hop_length", "istft", "stft", "stft_shape"]


def hop_length(n_fft: int, hop: int | None = None) -> int:
    """The STFT hop: ``hop``, or by default PyTorch's ``n_fft // 4`` (at least 1)."""
    return max(1, n_fft // 4) if hop is None else int(hop)


def stft_shape(n_timepoints: int, n_fft: int, hop: int | None = None) -> tuple[int, int]:
    """Return ``(F, T)``: frequency rows and frames of the STFT of a length-L series."""
    return n_fft // 2 + 1, n_timepoints // hop_length(n_fft, hop) + 1


def stft(x: torch.Tensor, n_fft: int, hop: int | None = None) -> torch.Tensor:
    """STFT of a batch: ``(B, C, L) -> (B, 2C, F, T)``, real and imaginary parts stacked.

    Uses the complex API (``return_complex=True``) with ``center=True``, a
    rectangular window and a hop of ``hop`` (``n_fft // 4`` by default);
    requires ``L > n_fft // 2`` (reflection padding).
    """
    batch = x.shape[0]
    u = torch.stft(
        rearrange(x, "b c l -> (b c) l"),
        n_fft=n_fft,
        hop_length=hop_length(n_fft, hop),
        window=torch.ones(n_fft, device=x.device, dtype=x.dtype),
        center=True,
        return_complex=True,
    )
    u = rearrange(u, "(b c) f t -> b c f t", b=batch)
    return torch.cat([u.real, u.imag], dim=1)


def istft(u: torch.Tensor, n_fft: int, length: int, hop: int | None = None) -> torch.Tensor:
    """Inverse of :func:`stft` with the same ``hop``: ``(B, 2C, F, T) -> (B, C, length)``."""
    batch, channels2 = u.shape[:2]
    n_channels = channels2 // 2
    spec = torch.complex(u[:, :n_channels].float(), u[:, n_channels:].float())
    x = torch.istft(
        rearrange(spec, "b c f t -> (b c) f t"),
        n_fft=n_fft,
        hop_length=hop_length(n_fft, hop),
        window=torch.ones(n_fft, device=u.device),
        center=True,
        length=length,
    )
    return rearrange(x, "(b c) l -> b c l", b=batch)
