"""Tests for skncvqvae.nn._augmentations."""

from __future__ import annotations

import pytest
import torch

from skncvqvae.nn._augmentations import (
    AUGMENTATIONS,
    amplitude_resize,
    augment,
    check_augmentations,
    flip,
    gaussian_noise,
    magnitude_warp,
    random_crop,
    slice_and_shuffle,
    slope,
    window_warp,
)

NAMES = sorted(AUGMENTATIONS)
DEVICES = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])


def gen(seed: int, device: str = "cpu") -> torch.Generator:
    return torch.Generator(device=device).manual_seed(seed)


def series(batch: int = 16, channels: int = 2, length: int = 150, seed: int = 0) -> torch.Tensor:
    return torch.randn(batch, channels, length, generator=gen(seed))


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("length", [1, 2, 7, 150])
@pytest.mark.parametrize("channels", [1, 3])
@pytest.mark.parametrize("device", DEVICES)
def test_shape_dtype_device(name, length, channels, device):
    x = series(4, channels, length).to(device)
    out = AUGMENTATIONS[name](x, gen(0, device))
    assert out.shape == x.shape
    assert out.dtype == x.dtype
    assert out.device == x.device
    assert torch.isfinite(out).all()
    assert out is not x


@pytest.mark.parametrize("name", NAMES)
def test_batch_of_one(name):
    out = AUGMENTATIONS[name](series(1, 1, 5), gen(0))
    assert out.shape == (1, 1, 5)


@pytest.mark.parametrize("name", NAMES)
def test_seed_reproducibility(name):
    x = series()
    f = AUGMENTATIONS[name]
    torch.testing.assert_close(f(x, gen(1)), f(x, gen(1)), rtol=0, atol=0)
    assert not torch.equal(f(x, gen(1)), f(x, gen(2)))
    g = gen(3)
    assert not torch.equal(f(x, g), f(x, g))


@pytest.mark.parametrize("name", NAMES)
def test_global_rng_untouched(name):
    x = series()
    state = torch.get_rng_state()
    AUGMENTATIONS[name](x, gen(0))
    assert torch.equal(torch.get_rng_state(), state)


@pytest.mark.parametrize("name", NAMES)
def test_fresh_randomness_per_sample(name):
    row = torch.sin(torch.linspace(0, 6, 150)) + torch.linspace(0, 1, 150)
    x = row.expand(16, 2, 150).contiguous()
    out = AUGMENTATIONS[name](x, gen(0))
    assert not torch.equal(out, out[:1].expand_as(out))


@pytest.mark.parametrize("name", NAMES)
def test_works_with_grad(name):
    x = series(4, 2, 30).requires_grad_(True)
    out = AUGMENTATIONS[name](x, gen(0))
    out.sum().backward()
    assert x.grad is not None and x.grad.shape == x.shape


def test_input_not_modified():
    x = series()
    ref = x.clone()
    for f in AUGMENTATIONS.values():
        f(x, gen(0))
    torch.testing.assert_close(x, ref, rtol=0, atol=0)


def test_flip():
    x = series(2000, 2, 5)
    out = flip(x, gen(0))
    flipped = (out == -x).all(dim=(1, 2))
    kept = (out == x).all(dim=(1, 2))
    assert (flipped | kept).all()
    assert 0.45 < flipped.float().mean().item() < 0.55
    torch.testing.assert_close(flip(x, gen(0), p=0.0), x, rtol=0, atol=0)
    torch.testing.assert_close(flip(x, gen(0), p=1.0), -x, rtol=0, atol=0)


@pytest.mark.parametrize("length", [2, 3, 7, 150])
def test_slice_and_shuffle_keeps_values(length):
    x = series(32, 3, length)
    out = slice_and_shuffle(x, gen(0))
    torch.testing.assert_close(out.sort(dim=2).values, x.sort(dim=2).values, rtol=0, atol=0)
    assert not torch.equal(out, x)


def test_slice_and_shuffle_same_cut_for_all_channels():
    ramp = torch.arange(50.0).expand(8, 1, 50)
    x = torch.cat([ramp, ramp + 100.0], dim=1)
    out = slice_and_shuffle(x, gen(0), n_segments=5)
    torch.testing.assert_close(out[:, 1] - out[:, 0], torch.full((8, 50), 100.0), rtol=0, atol=0)
    steps = out[:, 0].diff(dim=1)
    assert ((steps != 1).sum(dim=1) <= 4).all()


def test_slice_and_shuffle_degenerate():
    x = series(4, 2, 1)
    torch.testing.assert_close(slice_and_shuffle(x, gen(0)), x, rtol=0, atol=0)
    y = series(4, 2, 10)
    torch.testing.assert_close(slice_and_shuffle(y, gen(0), n_segments=1), y, rtol=0, atol=0)
    with pytest.raises(ValueError, match="n_segments"):
        slice_and_shuffle(y, gen(0), n_segments=0)


def test_gaussian_noise_statistics():
    x = series(64, 2, 150)
    residual = gaussian_noise(x, gen(0)) - x
    assert abs(residual.std().item() - 0.05) < 0.003
    assert abs(residual.mean().item()) < 0.002


def test_amplitude_resize_statistics():
    x = torch.rand(4000, 2, 10, generator=gen(1)) + 1.0
    ratio = amplitude_resize(x, gen(0)) / x
    per_sample = ratio[:, :1, :1]
    torch.testing.assert_close(ratio, per_sample.expand_as(ratio), rtol=1e-5, atol=1e-6)
    assert abs(per_sample.std().item() - 0.2) < 0.01
    assert abs(per_sample.mean().item() - 1.0) < 0.01


def test_slope_adds_linear_trend():
    x = series(16, 3, 40)
    diff = slope(x, gen(0)) - x
    torch.testing.assert_close(diff[..., 0], torch.zeros(16, 3), rtol=0, atol=1e-6)
    expected = diff[..., -1:] * torch.linspace(0, 1, 40)
    torch.testing.assert_close(diff, expected, rtol=0, atol=1e-5)
    torch.testing.assert_close(diff, diff[:, :1].expand_as(diff), rtol=0, atol=1e-6)
    assert diff[:, 0, -1].abs().max() <= 0.5
    assert diff[:, 0, -1].std() > 0


@pytest.mark.parametrize("f", [window_warp, random_crop])
@pytest.mark.parametrize("length", [2, 7, 150])
def test_resampling_constant_and_ramp(f, length):
    const = torch.full((16, 2, length), 3.5)
    torch.testing.assert_close(f(const, gen(0)), const, rtol=0, atol=1e-6)
    ramp = torch.linspace(0, 1, length).expand(16, 2, length).contiguous()
    out = f(ramp, gen(0))
    assert (out.diff(dim=2) >= -1e-6).all()
    assert out.min() >= -1e-6 and out.max() <= 1 + 1e-6


def test_window_warp_keeps_endpoints():
    ramp = torch.linspace(0, 1, 100).expand(16, 1, 100).contiguous()
    out = window_warp(ramp, gen(0))
    torch.testing.assert_close(out[..., 0], ramp[..., 0], rtol=0, atol=1e-6)
    torch.testing.assert_close(out[..., -1], ramp[..., -1], rtol=0, atol=1e-6)
    assert not torch.allclose(out, ramp, atol=1e-3)


def test_random_crop_is_a_linear_window_of_a_ramp():
    ramp = torch.arange(100.0).expand(16, 1, 100).contiguous()
    out = random_crop(ramp, gen(0), crop_ratio=0.8)
    span = out[..., -1] - out[..., 0]
    torch.testing.assert_close(span, torch.full_like(span, 79.0), rtol=0, atol=1e-4)
    assert out[..., 0].min() >= 0 and out[..., -1].max() <= 99


def test_magnitude_warp_smooth_curve():
    ones = torch.ones(512, 2, 150)
    out = magnitude_warp(ones, gen(0))
    assert abs(out.mean().item() - 1.0) < 0.02
    assert 0.1 < out[..., 0].std().item() < 0.3
    second = out.diff(n=2, dim=2).abs()
    assert second.max().item() < 0.02
    noisy = gaussian_noise(ones, gen(0), std=0.2).diff(n=2, dim=2).abs()
    assert second.mean() < 0.01 * noisy.mean()


def test_parameter_validation():
    x = series(2, 1, 10)
    with pytest.raises(ValueError, match="p must be"):
        flip(x, gen(0), p=1.5)
    with pytest.raises(ValueError, match="window_ratio"):
        window_warp(x, gen(0), window_ratio=0.0)
    with pytest.raises(ValueError, match="scales"):
        window_warp(x, gen(0), scales=(0.0, 2.0))
    with pytest.raises(ValueError, match="crop_ratio"):
        random_crop(x, gen(0), crop_ratio=1.5)
    with pytest.raises(ValueError, match="std"):
        gaussian_noise(x, gen(0), std=-1.0)
    with pytest.raises(ValueError, match="n_knots"):
        magnitude_warp(x, gen(0), n_knots=-1)
    with pytest.raises(ValueError, match=r"\(B, C, L\)"):
        slope(torch.zeros(3, 4), gen(0))


def test_augment_is_sequential_composition():
    x = series()
    names = ["flip", "window_warp", "gaussian_noise"]
    g = gen(5)
    expected = gaussian_noise(window_warp(flip(x, g), g), g)
    torch.testing.assert_close(augment(x, names, gen(5)), expected, rtol=0, atol=0)


def test_augment_single_name_and_empty():
    x = series()
    torch.testing.assert_close(augment(x, "slope", gen(0)), slope(x, gen(0)), rtol=0, atol=0)
    for empty in (None, [], ()):
        out = augment(x, empty, gen(0))
        torch.testing.assert_close(out, x, rtol=0, atol=0)
        assert out is not x


def test_check_augmentations():
    assert check_augmentations(None) == ()
    assert check_augmentations("flip") == ("flip",)
    assert check_augmentations(["flip", "slope"]) == ("flip", "slope")
    assert isinstance(check_augmentations(["flip"]), tuple)
    assert set(AUGMENTATIONS) == {
        "amplitude_resize",
        "window_warp",
        "gaussian_noise",
        "slice_and_shuffle",
        "flip",
        "slope",
        "random_crop",
        "magnitude_warp",
    }


def test_check_augmentations_errors():
    with pytest.raises(ValueError, match="'rotate'.*amplitude_resize"):
        check_augmentations(["flip", "rotate"])
    with pytest.raises(ValueError, match="'nope'"):
        check_augmentations("nope")
    with pytest.raises(ValueError, match="Unknown augmentation 3"):
        check_augmentations([3])
    with pytest.raises(ValueError, match="'rotate'"):
        augment(series(), ["rotate"], gen(0))
