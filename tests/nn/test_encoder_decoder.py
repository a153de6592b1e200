"""Tests for skncvqvae.nn._encoder_decoder: depth rule, shapes, residual block."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from skncvqvae.nn import stft, stft_shape
from skncvqvae.nn._encoder_decoder import Decoder, Encoder, ResBlock, latent_width, n_downsampling


def _timevqvae_rule(length, n_fft, width):
    rate = round(length / (math.log2(n_fft) - 1) / width)
    return max(1, int(math.log2(rate)) if rate >= 1 else 0)


@pytest.mark.parametrize(
    "length, expected",
    [
        (8, 1),  # rate round(0.5) = 0: still one block
        (15, 1),
        (24, 1),  # rate round(1.5) = 2 -> 1
        (150, 3),  # rate round(9.375) = 9 -> 3
        (251, 4),  # rate round(15.69) = 16 -> 4
    ],
)
def test_n_downsampling_timevqvae_rule(length, expected):
    assert n_downsampling(length, 8, 8) == expected
    assert n_downsampling(length, 8, 8) == _timevqvae_rule(length, 8, 8)


def test_n_downsampling_at_least_one_and_monotone():
    values = [n_downsampling(length, 8, 8) for length in range(1, 600)]
    assert min(values) == 1
    assert all(a <= b for a, b in zip(values, values[1:]))
    # a larger target width means fewer (or as many) strided blocks
    assert n_downsampling(600, 8, 32) < n_downsampling(600, 8, 8)


@pytest.mark.parametrize(
    "n_frames, n_down, expected",
    [(13, 1, 6), (76, 3, 9), (126, 4, 7), (5, 1, 2), (2, 1, 1), (10, 0, 10)],
)
def test_latent_width_arithmetic(n_frames, n_down, expected):
    assert latent_width(n_frames, n_down) == expected


@pytest.mark.parametrize("length", [24, 150, 251])
def test_latent_width_close_to_target(length):
    n_frames = stft_shape(length, 8)[1]
    width = latent_width(n_frames, n_downsampling(length, 8, 8))
    assert 4 <= width <= 16


@pytest.mark.parametrize("length", [8, 24, 150, 251])
@pytest.mark.parametrize("channels", [1, 3])
def test_encoder_decoder_shapes(length, channels):
    n_down = n_downsampling(length, 8, 8)
    n_freq, n_frames = stft_shape(length, 8)
    encoder = Encoder(2 * channels, hidden_dim=8, latent_dim=6, n_down=n_down, n_resnet_blocks=1)
    decoder = Decoder(6, 8, 2 * channels, n_down, 1, (n_freq, n_frames))
    u = stft(torch.randn(3, channels, length), 8)
    z = encoder(u)
    assert z.shape == (3, 6, n_freq, latent_width(n_frames, n_down))
    u_hat = decoder(z)
    assert u_hat.shape == u.shape == (3, 2 * channels, n_freq, n_frames)


def test_encoder_counts_strided_blocks():
    encoder = Encoder(2, 8, 4, n_down=3, n_resnet_blocks=2)
    convs = [m for m in encoder.modules() if isinstance(m, nn.Conv2d) and m.stride == (1, 2)]
    assert len(convs) == 3
    assert all(c.kernel_size == (3, 4) and c.padding_mode == "replicate" for c in convs)
    assert sum(isinstance(m, ResBlock) for m in encoder.modules()) == 2
    assert convs[0].in_channels == 2 and convs[0].out_channels == 8


def test_decoder_interpolates_to_any_grid():
    decoder = Decoder(4, 8, 2, n_down=1, n_resnet_blocks=0, out_shape=(5, 13))
    assert decoder(torch.randn(2, 4, 5, 6)).shape == (2, 2, 5, 13)
    # a latent of another width still lands on the exact grid
    assert decoder(torch.randn(2, 4, 5, 9)).shape == (2, 2, 5, 13)


@pytest.mark.parametrize("shape", [(2, 8, 5, 6), (1, 3, 1, 1), (4, 16, 5, 13)])
def test_resblock_keeps_shape(shape):
    block = ResBlock(shape[1])
    x = torch.randn(*shape)
    assert block(x).shape == x.shape


def test_resblock_is_identity_plus_body():
    block = ResBlock(4)
    x = torch.randn(2, 4, 5, 6)
    torch.testing.assert_close(block(x), x + block.body(x))
    with torch.no_grad():
        block.body[-1].weight.zero_()
        block.body[-1].bias.zero_()
    torch.testing.assert_close(block(x), x)


def test_encoder_gradient_flows():
    encoder = Encoder(2, 8, 4, n_down=2, n_resnet_blocks=1)
    u = torch.randn(2, 2, 5, 20, requires_grad=True)
    encoder(u).sum().backward()
    assert u.grad is not None and u.grad.abs().sum() > 0
