"""Vectorised data augmentations for batches of time series.

Every function takes ``x`` of shape ``(B, C, L)`` (batch, channels, time) and
``generator`` (a :class:`torch.Generator` on ``x.device``, or ``None`` for the
global one), and returns a new tensor of the same shape, dtype and device; a
keyword parameter sets the strength. Each sample gets its own draw, every call
advances the generator, and no Python loop runs over samples.

These are the augmentations used by NC-VQVAE to build the two views fed to the
non-contrastive (Barlow Twins / VIbCReg) loss. :data:`AUGMENTATIONS` maps their
names to the functions and :func:`augment` applies a named sequence of them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
import torch.nn.functional as F

__all__ = [
    "AUGMENTATIONS",
    "amplitude_resize",
    "augment",
    "check_augmentations",
    "flip",
    "gaussian_noise",
    "magnitude_warp",
    "random_crop",
    "slice_and_shuffle",
    "slope",
    "window_warp",
]


def _check_x(x: torch.Tensor) -> None:
    if not isinstance(x, torch.Tensor) or x.ndim != 3:
        shape = tuple(x.shape) if isinstance(x, torch.Tensor) else type(x).__name__
        raise ValueError(f"x must be a tensor of shape (B, C, L); got {shape}.")
    if min(x.shape) < 1:
        raise ValueError(f"x must have B, C, L >= 1; got shape {tuple(x.shape)}.")


def _check_range(
    name: str, value: float, low: float, high: float, *, low_open: bool = False
) -> None:
    ok = (low < value if low_open else low <= value) and value <= high
    if not ok:
        bracket = "(" if low_open else "["
        raise ValueError(f"{name} must be in {bracket}{low}, {high}]; got {value!r}.")


def _position_dtype(x: torch.Tensor) -> torch.dtype:
    return torch.float64 if x.dtype == torch.float64 else torch.float32


def _uniform(
    shape: tuple[int, ...], low: float, high: float, x: torch.Tensor, generator, dtype=None
) -> torch.Tensor:
    u = torch.rand(shape, generator=generator, device=x.device, dtype=dtype or x.dtype)
    return low + (high - low) * u


def _normal(
    shape: tuple[int, ...], mean: float, std: float, x: torch.Tensor, generator
) -> torch.Tensor:
    return mean + std * torch.randn(shape, generator=generator, device=x.device, dtype=x.dtype)


def _random_starts(n_starts: int, batch: int, x: torch.Tensor, generator) -> torch.Tensor:
    """Integer starts drawn uniformly from ``{0, ..., n_starts - 1}``, one per sample."""
    return torch.randint(0, n_starts, (batch,), generator=generator, device=x.device)


def _resample(x: torch.Tensor, positions: torch.Tensor) -> torch.Tensor:
    """``x (B, C, L)`` linearly interpolated at the fractional source indices ``positions
    (B, L_out)`` (clamped to ``[0, L - 1]``, shared by all channels): ``(B, C, L_out)``."""
    n_channels, length = x.shape[1], x.shape[2]
    positions = positions.clamp(0, length - 1)
    lo = positions.floor()
    weight = (positions - lo).to(x.dtype).unsqueeze(1)
    lo = lo.long()
    hi = (lo + 1).clamp(max=length - 1)
    expand = (-1, n_channels, -1)
    x_lo = x.gather(2, lo.unsqueeze(1).expand(expand))
    x_hi = x.gather(2, hi.unsqueeze(1).expand(expand))
    return torch.lerp(x_lo, x_hi, weight.expand_as(x_lo))


def amplitude_resize(
    x: torch.Tensor, generator: torch.Generator | None = None, *, std: float = 0.2
) -> torch.Tensor:
    """Scale each sample by a random factor.

    ``y[b] = (1 + s_b) x[b]`` with ``s_b ~ N(0, std^2)``, one factor per sample
    shared over channels.

    Parameters
    ----------
    std : float, default=0.2
        Standard deviation of the factor around 1.
    """
    _check_x(x)
    _check_range("std", std, 0.0, float("inf"))
    return x * _normal((x.shape[0], 1, 1), 1.0, std, x, generator)


def gaussian_noise(
    x: torch.Tensor, generator: torch.Generator | None = None, *, std: float = 0.05
) -> torch.Tensor:
    """Add white Gaussian noise.

    ``y[b, c, t] = x[b, c, t] + e[b, c, t]`` with i.i.d. ``e ~ N(0, std^2)``.

    Parameters
    ----------
    std : float, default=0.05
        Noise standard deviation.
    """
    _check_x(x)
    _check_range("std", std, 0.0, float("inf"))
    return x + _normal(tuple(x.shape), 0.0, std, x, generator)


def flip(
    x: torch.Tensor, generator: torch.Generator | None = None, *, p: float = 0.5
) -> torch.Tensor:
    """Negate each sample with probability ``p`` (sign flip, not time reversal).

    ``y[b] = s_b x[b]`` with ``s_b = -1`` with probability ``p`` and ``+1``
    otherwise, shared over channels.

    Parameters
    ----------
    p : float, default=0.5
        Flip probability, in ``[0, 1]``.
    """
    _check_x(x)
    _check_range("p", p, 0.0, 1.0)
    u = _uniform((x.shape[0], 1, 1), 0.0, 1.0, x, generator, dtype=_position_dtype(x))
    return torch.where(u < p, -x, x)


def slope(
    x: torch.Tensor, generator: torch.Generator | None = None, *, max_slope: float = 0.5
) -> torch.Tensor:
    """Add a random linear trend.

    ``y[b, c, t] = x[b, c, t] + a_b t / (L - 1)`` for ``t = 0, ..., L - 1``
    (the trend is ``a_b * linspace(0, 1, L)``), with ``a_b ~ U(-max_slope,
    max_slope)`` per sample, shared over channels.

    Parameters
    ----------
    max_slope : float, default=0.5
        Largest absolute trend over the whole series.
    """
    _check_x(x)
    _check_range("max_slope", max_slope, 0.0, float("inf"))
    a = _uniform((x.shape[0], 1, 1), -max_slope, max_slope, x, generator)
    t = torch.linspace(0.0, 1.0, x.shape[2], device=x.device, dtype=x.dtype)
    return x + a * t


def _warp_positions(
    start: torch.Tensor, span: float, scale: torch.Tensor, length: int
) -> torch.Tensor:
    """Source positions ``(B, length)`` of a window warp: ``u^{-1}`` of :func:`window_warp`
    at ``L`` equally spaced points of the warped extent."""
    a, s = start.unsqueeze(1), scale.unsqueeze(1)
    extent = (length - 1) + span * (s - 1)
    u = (
        torch.linspace(0.0, 1.0, length, device=start.device, dtype=start.dtype).unsqueeze(0)
        * extent
    )
    inside = a + (u - a) / s
    after = u - span * (s - 1)
    return torch.where(u <= a, u, torch.where(u <= a + span * s, inside, after))


def window_warp(
    x: torch.Tensor,
    generator: torch.Generator | None = None,
    *,
    window_ratio: float = 0.4,
    scales: tuple[float, float] = (0.9, 2.0),
) -> torch.Tensor:
    """Stretch or squeeze a random window, then resample to the original length.

    A window of ``n = clip(round(window_ratio L), 1, L)`` points starting at
    ``a_b ~ U{0, ..., L - n}`` (index span ``w = n - 1``) is time-scaled by
    ``s_b ~ U(scales)``. With the monotone piecewise-linear map ``u(t) = t``
    for ``t <= a``, ``a + s (t - a)`` on the window and ``t + w (s - 1)`` after
    it, ``y[b, c, j] = x[b, c, u^{-1}(j U / (L - 1))]`` with ``U = L - 1 + w (s
    - 1)``, read by linear interpolation.

    Parameters
    ----------
    window_ratio : float, default=0.4
        Fraction of the series covered by the window, in ``(0, 1]``.
    scales : (float, float), default=(0.9, 2.0)
        Bounds of the uniform time-scale factor; both positive.
    """
    _check_x(x)
    _check_range("window_ratio", window_ratio, 0.0, 1.0, low_open=True)
    low, high = scales
    if not 0 < low <= high:
        raise ValueError(f"scales must satisfy 0 < low <= high; got {scales!r}.")
    batch, length = x.shape[0], x.shape[2]
    n_points = min(length, max(1, round(window_ratio * length)))
    dtype = _position_dtype(x)
    start = _random_starts(length - n_points + 1, batch, x, generator).to(dtype)
    scale = _uniform((batch,), low, high, x, generator, dtype=dtype)
    return _resample(x, _warp_positions(start, float(n_points - 1), scale, length))


def random_crop(
    x: torch.Tensor, generator: torch.Generator | None = None, *, crop_ratio: float = 0.8
) -> torch.Tensor:
    """Take a random contiguous window and resample it to the original length.

    With ``n = min(L, max(2, round(crop_ratio L)))`` and ``a_b ~ U{0, ..., L -
    n}``, ``y[b, c, j] = x[b, c, a_b + j (n - 1) / (L - 1)]`` read by linear
    interpolation.

    Parameters
    ----------
    crop_ratio : float, default=0.8
        Fraction of the series kept, in ``(0, 1]``.
    """
    _check_x(x)
    _check_range("crop_ratio", crop_ratio, 0.0, 1.0, low_open=True)
    batch, length = x.shape[0], x.shape[2]
    n_points = min(length, max(2, round(crop_ratio * length)))
    dtype = _position_dtype(x)
    start = _random_starts(length - n_points + 1, batch, x, generator).to(dtype)
    offsets = torch.linspace(0.0, n_points - 1, length, device=x.device, dtype=dtype)
    return _resample(x, start.unsqueeze(1) + offsets)


def _segment_sources(cuts: torch.Tensor, perm: torch.Tensor, length: int) -> torch.Tensor:
    """Source index of each output position after reordering segments.

    ``cuts`` (B, n - 1) are sorted cut points in ``[1, L - 1]`` and ``perm``
    (B, n) the order in which the ``n`` segments are concatenated.
    """
    batch = cuts.shape[0]
    zero = cuts.new_zeros(batch, 1)
    end = cuts.new_full((batch, 1), length)
    starts = torch.cat([zero, cuts], dim=1)
    lengths = torch.cat([cuts, end], dim=1) - starts
    src_starts = starts.gather(1, perm)
    out_ends = lengths.gather(1, perm).cumsum(1)
    out_starts = out_ends - lengths.gather(1, perm)
    t = torch.arange(length, device=cuts.device).expand(batch, length).contiguous()
    seg = torch.searchsorted(out_ends, t, right=True)
    return src_starts.gather(1, seg) + t - out_starts.gather(1, seg)


def slice_and_shuffle(
    x: torch.Tensor, generator: torch.Generator | None = None, *, n_segments: int = 4
) -> torch.Tensor:
    """Cut each sample into segments and concatenate them in a random order.

    With ``n = min(n_segments, L)``, ``n - 1`` distinct cut points are drawn
    uniformly from ``{1, ..., L - 1}`` per sample (shared over channels),
    giving segments ``S_0, ..., S_{n-1}``; the output is ``S_{pi(0)} ++ ... ++
    S_{pi(n-1)}`` for a uniform random permutation ``pi``. The multiset of
    values of each (sample, channel) is kept exactly.

    Parameters
    ----------
    n_segments : int, default=4
        Number of segments, at least 1.
    """
    _check_x(x)
    if isinstance(n_segments, bool) or not isinstance(n_segments, int) or n_segments < 1:
        raise ValueError(f"n_segments must be an int >= 1; got {n_segments!r}.")
    batch, n_channels, length = x.shape
    n = min(n_segments, length)
    if n == 1:
        return x.clone()
    scores = torch.rand((batch, length - 1), generator=generator, device=x.device)
    cuts = (scores.argsort(dim=1)[:, : n - 1] + 1).sort(dim=1).values
    perm = torch.rand((batch, n), generator=generator, device=x.device).argsort(dim=1)
    src = _segment_sources(cuts, perm, length)
    return x.gather(2, src.unsqueeze(1).expand(-1, n_channels, -1))


def magnitude_warp(
    x: torch.Tensor, generator: torch.Generator | None = None, *, std: float = 0.2, n_knots: int = 4
) -> torch.Tensor:
    """Multiply by a smooth random curve.

    ``y[b, c, t] = x[b, c, t] g_{b,c}(t)`` where ``g_{b,c}`` is the cubic
    (Keys, ``bicubic`` with ``align_corners=True``) interpolation to ``L``
    points of ``K = n_knots + 2`` equally spaced knots ``k_i ~ N(1, std^2)``,
    drawn per sample and channel; the curve passes through the knots, the
    first at ``t = 0`` and the last at ``t = L - 1``.

    Parameters
    ----------
    std : float, default=0.2
        Standard deviation of the knots around 1.
    n_knots : int, default=4
        Number of interior knots, at least 0.
    """
    _check_x(x)
    _check_range("std", std, 0.0, float("inf"))
    if isinstance(n_knots, bool) or not isinstance(n_knots, int) or n_knots < 0:
        raise ValueError(f"n_knots must be an int >= 0; got {n_knots!r}.")
    batch, n_channels, length = x.shape
    knots = _normal((batch * n_channels, 1, 1, n_knots + 2), 1.0, std, x, generator)
    curve = F.interpolate(knots, size=(1, length), mode="bicubic", align_corners=True)
    return x * curve.reshape(batch, n_channels, length)


AUGMENTATIONS: dict[str, Callable[..., torch.Tensor]] = {
    "amplitude_resize": amplitude_resize,
    "window_warp": window_warp,
    "gaussian_noise": gaussian_noise,
    "slice_and_shuffle": slice_and_shuffle,
    "flip": flip,
    "slope": slope,
    "random_crop": random_crop,
    "magnitude_warp": magnitude_warp,
}


def check_augmentations(names: str | Sequence[str] | None) -> tuple[str, ...]:
    """Validate augmentation names.

    Parameters
    ----------
    names : str, sequence of str or None
        ``None`` means no augmentation; a single string means one.

    Returns
    -------
    tuple of str

    Raises
    ------
    ValueError
        If an entry is not a key of :data:`AUGMENTATIONS`, or ``names`` is not
        a string, a sequence of strings or ``None``.
    """
    if names is None:
        return ()
    if isinstance(names, str):
        names = (names,)
    try:
        names = tuple(names)
    except TypeError:
        raise ValueError(
            f"augmentations must be None, a string or a sequence of strings; got {type(names).__name__}."
        ) from None
    valid = ", ".join(sorted(AUGMENTATIONS))
    for name in names:
        if not isinstance(name, str) or name not in AUGMENTATIONS:
            raise ValueError(f"Unknown augmentation {name!r}; valid names are: {valid}.")
    return names


def augment(
    x: torch.Tensor, names: str | Sequence[str] | None, generator: torch.Generator | None = None
) -> torch.Tensor:
    """Apply named augmentations in sequence with their default strengths.

    ``y = f_k(... f_2(f_1(x)))`` for ``names = (f_1, ..., f_k)``, all drawing
    from ``generator``. With no names, returns a copy of ``x``.

    Parameters
    ----------
    x : Tensor of shape (B, C, L)
    names : str, sequence of str or None
        Keys of :data:`AUGMENTATIONS`, applied left to right.
    generator : torch.Generator or None
        Source of randomness, on ``x.device``.

    Returns
    -------
    Tensor of shape (B, C, L)
    """
    names = check_augmentations(names)
    _check_x(x)
    if not names:
        return x.clone()
    for name in names:
        x = AUGMENTATIONS[name](x, generator)
    return x
