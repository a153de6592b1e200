"""Encoder and decoder of the time-frequency VQ-VAE (naive TimeVQVAE).

Both work on STFT "images" ``(B, 2C, F, T)`` and downsample or upsample the
time axis only; the frequency axis keeps its ``F`` rows. The number of strided
blocks is computed eagerly from the series length (:func:`n_downsampling`), so
every shape is known at construction.

Weights and activations are kept channels-last (NHWC): oneDNN's NHWC
convolutions are faster on a CPU for these grids of few rows (same results up to
float rounding; ``docs/benchmarks.md``, "What the profile showed, and what changed").
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

__all__ = ["Decoder", "Encoder", "ResBlock", "latent_width", "n_downsampling"]


def n_downsampling(n_timepoints: int, n_fft: int, downsampled_width: int) -> int:
    """Number of strided encoder blocks, as in TimeVQVAE (at least 1).

    ``rate = round(L / (log2(n_fft) - 1) / downsampled_width)`` and the encoder
    uses ``int(log2(rate))`` blocks, each halving the STFT's frame axis, so the
    latent width is close to ``downsampled_width``.
    """
    denominator = max(math.log2(n_fft) - 1, 1.0)
    rate = round(n_timepoints / denominator / downsampled_width)
    return max(1, int(math.log2(rate)) if rate >= 1 else 0)


def latent_width(n_frames: int, n_down: int) -> int:
    """Frame count after ``n_down`` blocks of kernel 4, stride 2, padding 1."""
    width = n_frames
    for _ in range(n_down):
        width = (width + 2 - 4) // 2 + 1
    return width


class ResBlock(nn.Module):
    """LeakyReLU, 3x3 conv, LeakyReLU, 1x1 conv, plus the skip connection."""

    def __init__(self, channels: int):
        super().__init__()
        self.body = nn.Sequential(
            nn.LeakyReLU(),
            nn.Conv2d(channels, channels, kernel_size=3, stride=1, padding=1),
            nn.LeakyReLU(),
            nn.Conv2d(channels, channels, kernel_size=1, stride=1, padding=0),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.body(x)


def _down_block(in_channels: int, out_channels: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(
            in_channels,
            out_channels,
            kernel_size=(3, 4),
            stride=(1, 2),
            padding=(1, 1),
            padding_mode="replicate",
        ),
        nn.BatchNorm2d(out_channels),
        nn.LeakyReLU(),
    )


def _up_block(in_channels: int, out_channels: int) -> nn.Sequential:
    return nn.Sequential(
        nn.ConvTranspose2d(
            in_channels, out_channels, kernel_size=(3, 4), stride=(1, 2), padding=(1, 1)
        ),
        nn.BatchNorm2d(out_channels),
        nn.LeakyReLU(),
    )


class Encoder(nn.Module):
    """``(B, 2C, F, T) -> (B, latent_dim, F, W)``.

    ``n_down`` strided blocks (the first maps ``in_channels -> hidden_dim``),
    ``n_resnet_blocks`` residual blocks and a 1x1 projection to ``latent_dim``
    (the codebook dimension).
    """

    def __init__(
        self,
        in_channels: int,
        hidden_dim: int,
        latent_dim: int,
        n_down: int,
        n_resnet_blocks: int,
    ):
        super().__init__()
        blocks = [_down_block(in_channels, hidden_dim)]
        blocks += [_down_block(hidden_dim, hidden_dim) for _ in range(n_down - 1)]
        blocks += [ResBlock(hidden_dim) for _ in range(n_resnet_blocks)]
        blocks.append(nn.Conv2d(hidden_dim, latent_dim, kernel_size=1))
        self.layers = nn.Sequential(*blocks).to(memory_format=torch.channels_last)

    def forward(self, u: torch.Tensor) -> torch.Tensor:
        return self.layers(u.contiguous(memory_format=torch.channels_last))


class Decoder(nn.Module):
    """``(B, latent_dim, F, W) -> (B, 2C, F, T)``, the mirror of :class:`Encoder`.

    A 3x3 convolution to ``hidden_dim``, residual blocks, ``n_down`` transposed
    strided blocks, a last 3x3 convolution to ``out_channels``, and a bilinear
    interpolation onto the exact STFT grid ``out_shape = (F, T)``.
    """

    def __init__(
        self,
        latent_dim: int,
        hidden_dim: int,
        out_channels: int,
        n_down: int,
        n_resnet_blocks: int,
        out_shape: tuple[int, int],
    ):
        super().__init__()
        blocks = [nn.Conv2d(latent_dim, hidden_dim, kernel_size=3, padding=1)]
        blocks += [ResBlock(hidden_dim) for _ in range(n_resnet_blocks)]
        blocks += [_up_block(hidden_dim, hidden_dim) for _ in range(n_down)]
        blocks.append(nn.Conv2d(hidden_dim, out_channels, kernel_size=3, padding=1))
        self.layers = nn.Sequential(*blocks).to(memory_format=torch.channels_last)
        self.out_shape = tuple(out_shape)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        u = self.layers(z.contiguous(memory_format=torch.channels_last))
        if tuple(u.shape[-2:]) != self.out_shape:
            u = F.interpolate(u, size=self.out_shape, mode="bilinear", align_corners=False)
        return u
