"""Tests for skncvqvae.nn._time_frequency: STFT / ISTFT on batches of series."""

from __future__ import annotations

import pytest
import torch

from skncvqvae.nn._time_frequency import hop_length, istft, stft, stft_shape


def _series(batch, channels, length, seed=0):
    return torch.randn(batch, channels, length, generator=torch.Generator().manual_seed(seed))


@pytest.mark.parametrize("length", [8, 24, 150, 251])
@pytest.mark.parametrize("channels", [1, 3])
def test_round_trip_exact(length, channels):
    x = _series(4, channels, length)
    u = stft(x, 8)
    x_back = istft(u, 8, length)
    assert x_back.shape == x.shape
    torch.testing.assert_close(x_back, x, atol=1e-5, rtol=0)


@pytest.mark.parametrize("length", [8, 24, 150, 251])
@pytest.mark.parametrize("channels", [1, 3])
def test_shape_matches_stft_shape(length, channels):
    x = _series(2, channels, length)
    u = stft(x, 8)
    n_freq, n_frames = stft_shape(length, 8)
    assert (n_freq, n_frames) == (8 // 2 + 1, length // 2 + 1)
    assert u.shape == (2, 2 * channels, n_freq, n_frames)
    assert u.dtype == x.dtype


@pytest.mark.parametrize("n_fft", [4, 8, 16])
def test_stft_shape_and_hop(n_fft):
    assert hop_length(n_fft) == n_fft // 4
    assert stft_shape(100, n_fft) == (n_fft // 2 + 1, 100 // (n_fft // 4) + 1)
    u = stft(_series(1, 1, 100), n_fft)
    assert tuple(u.shape[-2:]) == stft_shape(100, n_fft)


def test_hop_length_at_least_one():
    assert hop_length(2) == 1
    assert hop_length(1) == 1


@pytest.mark.parametrize("n_fft", [4, 6, 8, 10, 16])
@pytest.mark.parametrize("length", [9, 24, 40, 99])  # L > n_fft // 2
def test_round_trip_exact_at_every_hop_up_to_half_n_fft(n_fft, length):
    x = _series(2, 2, length)
    for hop in range(1, n_fft // 2 + 1):
        u = stft(x, n_fft, hop)
        assert tuple(u.shape[-2:]) == stft_shape(length, n_fft, hop)
        assert u.shape[-1] == length // hop + 1
        torch.testing.assert_close(istft(u, n_fft, length, hop), x, atol=1e-5, rtol=0)


def test_default_hop_is_n_fft_over_4():
    x = _series(2, 1, 40)
    torch.testing.assert_close(stft(x, 8), stft(x, 8, 2))
    assert stft_shape(40, 8) == stft_shape(40, 8, None) == stft_shape(40, 8, 2)


def test_real_then_imaginary_parts_match_torch_stft():
    channels, length, n_fft = 3, 40, 8
    x = _series(2, channels, length, seed=1)
    u = stft(x, n_fft)
    for b in range(2):
        for c in range(channels):
            ref = torch.stft(
                x[b, c],
                n_fft=n_fft,
                hop_length=n_fft // 4,
                window=torch.ones(n_fft),
                center=True,
                return_complex=True,
            )
            torch.testing.assert_close(u[b, c], ref.real)
            torch.testing.assert_close(u[b, channels + c], ref.imag)


def test_channels_are_independent():
    x = _series(1, 2, 24)
    u = stft(x, 8)
    u0 = stft(x[:, :1], 8)
    torch.testing.assert_close(u[:, [0, 2]], u0)


def test_istft_of_decoder_like_grid_has_exact_length():
    # An arbitrary (not STFT-consistent) grid, as the decoder produces, still
    # inverts to exactly the requested length.
    u = torch.randn(3, 4, *stft_shape(37, 8))
    x = istft(u, 8, 37)
    assert x.shape == (3, 2, 37)
    assert torch.isfinite(x).all()


def test_stft_is_linear():
    x1, x2 = _series(2, 1, 24, seed=2), _series(2, 1, 24, seed=3)
    torch.testing.assert_close(
        stft(2 * x1 + x2, 8), 2 * stft(x1, 8) + stft(x2, 8), atol=1e-5, rtol=1e-5
    )
