"""Frequency streams: separate encoders, codebooks and decoders for bands of STFT rows.

TimeVQVAE (Lee et al., AISTATS 2023) splits the STFT image into a low-frequency
stream (its lowest row) and a high-frequency stream (the other rows), each with
its own encoder, codebook and decoder, so that local detail gets codes of its own
instead of sharing them with the series' overall shape. Here a *band* is a
contiguous range of rows ``[start, stop)``; the modules below apply one
stage-1 block per band and stack the results along the frequency axis, so that
the latent and token grids keep the shape ``(F, W)`` of a single stream.

Token ids are global: band ``b``'s ids lie in ``[b K, (b + 1) K)`` for ``K`` codes
per band, so that a grid names its codes without its row being known.
"""

from __future__ import annotations

import torch
from torch import nn

from ._encoder_decoder import Decoder, Encoder
from ._quantizer import QuantizerOutput, VectorQuantizer, perplexity

__all__ = ["BandDecoder", "BandEncoder", "BandQuantizer", "frequency_bands"]


def frequency_bands(n_freq: int, split: int | None) -> tuple[tuple[int, int], ...]:
    """Row ranges of the streams: ``((0, n_freq),)`` without a split, else
    ``((0, split), (split, n_freq))``; ``1 <= split < n_freq``."""
    if split is None:
        return ((0, n_freq),)
    if not 1 <= split < n_freq:
        raise ValueError(
            f"frequency_split must be in [1, {n_freq - 1}] for {n_freq} frequency rows; "
            f"got {split}."
        )
    return ((0, split), (split, n_freq))


class BandEncoder(nn.Module):
    """``(B, 2C, F, T) -> (B, D, F, W)``: one :class:`Encoder` per band of rows, stacked."""

    def __init__(self, bands, in_channels, hidden_dim, latent_dim, n_down, n_resnet_blocks):
        super().__init__()
        self.bands = tuple(bands)
        self.encoders = nn.ModuleList(
            Encoder(in_channels, hidden_dim, latent_dim, n_down, n_resnet_blocks)
            for _ in self.bands
        )

    def forward(self, u: torch.Tensor) -> torch.Tensor:
        parts = [enc(u[:, :, a:b]) for enc, (a, b) in zip(self.encoders, self.bands)]
        return torch.cat(parts, dim=2)


class BandDecoder(nn.Module):
    """``(B, D, F, W) -> (B, 2C, F, T)``: one :class:`Decoder` per band of rows, stacked."""

    def __init__(
        self, bands, latent_dim, hidden_dim, out_channels, n_down, n_resnet_blocks, n_frames
    ):
        super().__init__()
        self.bands = tuple(bands)
        self.decoders = nn.ModuleList(
            Decoder(
                latent_dim, hidden_dim, out_channels, n_down, n_resnet_blocks, (b - a, n_frames)
            )
            for a, b in self.bands
        )

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        parts = [dec(z[:, :, a:b]) for dec, (a, b) in zip(self.decoders, self.bands)]
        return torch.cat(parts, dim=2)


class BandQuantizer(nn.Module):
    """One :class:`VectorQuantizer` of ``codebook_size`` codes per band of rows.

    It has the interface of a single quantizer over the whole grid: ``embed`` is
    the stacked codebooks ``(n_bands K, D)``, ``codebook_size`` is ``n_bands K``,
    and ids are global (band ``b``'s codes are ``b K`` to ``(b + 1) K - 1``). The
    commitment loss is the row-weighted mean of the bands' (the mean over every
    position, as one quantizer would give); the perplexity is over the global ids.
    """

    def __init__(self, bands, codebook_size: int, dim: int, **kwargs):
        super().__init__()
        self.bands = tuple(bands)
        self.codes_per_band = codebook_size
        self.codebook_size = codebook_size * len(self.bands)
        self.dim = dim
        self.quantizers = nn.ModuleList(
            VectorQuantizer(codebook_size, dim, **kwargs) for _ in self.bands
        )

    @property
    def embed(self) -> torch.Tensor:
        return torch.cat([q.embed for q in self.quantizers], dim=0)

    def codes_to_latent(self, indices: torch.Tensor) -> torch.Tensor:
        """Embed global ids ``(B, H, W)`` into latents ``(B, D, H, W)``."""
        parts = [
            q.codes_to_latent(indices[:, a:b] - i * self.codes_per_band)
            for i, (q, (a, b)) in enumerate(zip(self.quantizers, self.bands))
        ]
        return torch.cat(parts, dim=2)

    def forward(self, z: torch.Tensor, generator: torch.Generator | None = None) -> QuantizerOutput:
        outputs = [q(z[:, :, a:b], generator) for q, (a, b) in zip(self.quantizers, self.bands)]
        n_rows = z.shape[2]
        indices = torch.cat(
            [out.indices + i * self.codes_per_band for i, out in enumerate(outputs)], dim=1
        )
        commitment = sum(
            out.commitment_loss * ((b - a) / n_rows) for out, (a, b) in zip(outputs, self.bands)
        )
        return QuantizerOutput(
            quantized=torch.cat([out.quantized for out in outputs], dim=2),
            indices=indices,
            commitment_loss=commitment,
            perplexity=perplexity(indices, self.codebook_size),
        )
