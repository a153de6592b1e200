"""Input validation at the public boundary: user data to float64 ``(n_cases, n_channels,
n_timepoints)``, and :func:`standardise` to the modules' float32. Errors are ``ValueError``s
that say what was expected and what was given.
"""

from __future__ import annotations

import numbers
import warnings

import numpy as np
from sklearn.utils import check_array, column_or_1d

__all__ = [
    "as_3d_float",
    "check_collection",
    "check_labels",
    "check_n_samples",
    "equalise_lengths",
    "pad_to_min_length",
    "standardisation",
    "standardise",
]


def _check_array_2d_3d(X, name: str) -> np.ndarray:
    """``check_array`` for 2D or 3D numeric, finite, non-empty input."""
    if hasattr(X, "shape") and len(X.shape) not in (2, 3) and not _is_sparse(X):
        raise ValueError(
            f"{name} must be a 2D array (n_cases, n_timepoints) or a 3D array "
            f"(n_cases, n_channels, n_timepoints); got an array with "
            f"{len(X.shape)} dimension(s) and shape {tuple(X.shape)}. Reshape your "
            "data, e.g. X.reshape(1, -1) for a single univariate series."
        )
    if getattr(getattr(X, "dtype", None), "kind", None) == "O" and any(
        isinstance(v, (str, bytes)) for v in X.flat
    ):
        raise ValueError(
            f"{name} holds strings; series must be numeric. Convert your data to "
            "numeric values explicitly."
        )
    X = check_array(
        X,
        dtype="numeric",
        allow_nd=True,
        ensure_all_finite=True,
        ensure_min_samples=1,
        ensure_min_features=1,
        input_name=name,
    )
    if X.ndim not in (2, 3):
        raise ValueError(
            f"{name} must be a 2D array (n_cases, n_timepoints) or a 3D array "
            f"(n_cases, n_channels, n_timepoints); got shape {X.shape}. Reshape your data."
        )
    if X.ndim == 3 and (X.shape[1] == 0 or X.shape[2] == 0):
        raise ValueError(
            f"{name} is empty: it has shape {X.shape} (n_cases, n_channels, "
            "n_timepoints); at least one channel and one time point are required."
        )
    largest = float(np.max(np.abs(X)))
    if largest > FLOAT32_MAX:
        raise ValueError(
            f"{name} has values up to {largest:.3g} in magnitude, beyond float32's range "
            f"({FLOAT32_MAX:.3g}) in which the model computes; rescale the data (the "
            "estimators standardise it anyway, so a constant factor changes nothing)."
        )
    return X


#: The largest finite float32; inputs beyond it are rejected.
FLOAT32_MAX = float(np.finfo(np.float32).max)

#: Strategies for collections of unequal-length series (aeon's list of 2D arrays).
UNEQUAL_LENGTH_STRATEGIES = ("resample", "pad")


def _series_list(X) -> list[np.ndarray] | None:
    """The series of a list/tuple collection as 2D float arrays, or ``None`` for other input."""
    if not isinstance(X, (list, tuple)) or not X:
        return None
    if not all(hasattr(x, "shape") or isinstance(x, (list, tuple)) for x in X):
        return None
    try:
        series = [np.asarray(x, dtype=np.float64) for x in X]
    except (TypeError, ValueError):
        return None  # ragged or non-numeric: check_array gives the message
    if any(x.ndim not in (1, 2) for x in series):
        return None
    return [x[np.newaxis] if x.ndim == 1 else x for x in series]


def _to_length(x: np.ndarray, length: int, strategy: str) -> np.ndarray:
    """One series ``(C, L)`` to ``(C, length)`` by linear resampling or edge padding/truncation."""
    if x.shape[1] == length:
        return x
    if strategy == "pad":
        if x.shape[1] > length:
            return x[:, :length]
        return np.pad(x, ((0, 0), (0, length - x.shape[1])), mode="edge")
    if x.shape[1] == 1:
        return np.repeat(x, length, axis=1)
    old = np.linspace(0.0, 1.0, x.shape[1])
    new = np.linspace(0.0, 1.0, length)
    return np.stack([np.interp(new, old, channel) for channel in x])


def equalise_lengths(X, *, strategy: str | None, length: int | None = None, name: str = "X"):
    """aeon's unequal-length format (a list of 2D, or 1D univariate, arrays) as a 3D array.

    ``strategy``: ``"resample"`` (linear interpolation) or ``"pad"`` (edge
    replication at the end, truncation of longer series) to ``length``, by
    default the longest; ``None`` rejects unequal lengths. Other input is
    returned unchanged.
    """
    series = _series_list(X)
    lengths = None if series is None else {x.shape[1] for x in series}
    if series is None or (len(lengths) == 1 and (length is None or length in lengths)):
        return X
    if strategy is None:
        raise ValueError(
            f"{name} holds series of unequal lengths (from {min(lengths)} to "
            f"{max(lengths)}). Set the estimator's unequal_length parameter to 'resample' "
            "(linear interpolation to a common length) or 'pad' (edge padding at the end, "
            "truncation of longer series), or make the series equally long yourself."
        )
    channels = {x.shape[0] for x in series}
    if len(channels) != 1:
        raise ValueError(
            f"{name} holds series with different channel counts {sorted(channels)}; all "
            "series of a collection need the same channels."
        )
    target = max(lengths) if length is None else length
    return np.stack([_to_length(x, target, strategy) for x in series])


def as_3d_float(X, *, name: str = "X", dtype=np.float32) -> np.ndarray:
    """A validated 2D (univariate) or 3D collection as a 3D ``dtype`` array.

    Raises ``ValueError`` (naming ``name``) for 1D or 4D+, empty or
    non-numeric input, NaN or inf.
    """
    return _to_3d(_check_array_2d_3d(X, name), dtype)


def _to_3d(X: np.ndarray, dtype=np.float64) -> np.ndarray:
    if X.ndim == 2:
        X = X[:, np.newaxis, :]
    return np.ascontiguousarray(X, dtype=dtype)


def _is_sparse(X) -> bool:
    return hasattr(X, "tocsr") or hasattr(X, "toarray")


def check_collection(
    X,
    *,
    n_channels: int | None = None,
    n_timepoints: int | None = None,
    estimator_name: str = "the estimator",
    name: str = "X",
    return_ndim: bool = False,
    unequal_length: str | None = None,
):
    """``X`` as float64 ``(n, C, L)`` (see :func:`as_3d_float`), checked against the fitted
    ``n_channels`` and ``n_timepoints`` when given.

    float64, so that an offset or scale far from 1 survives standardisation.
    ``unequal_length`` (see :func:`equalise_lengths`) also brings series of
    another length to ``n_timepoints``. ``return_ndim`` also returns the input's
    dimension (2 or 3).
    """
    X = equalise_lengths(X, strategy=unequal_length, length=n_timepoints, name=name)
    X = _check_array_2d_3d(X, name)
    was_2d = X.ndim == 2
    X3 = _to_3d(X)
    if unequal_length is not None and n_timepoints is not None and X3.shape[2] != n_timepoints:
        X3 = np.stack([_to_length(x, n_timepoints, unequal_length) for x in X3])
    if n_channels is not None and X3.shape[1] != n_channels:
        raise ValueError(
            f"{name} has {X3.shape[1]} channel(s), but {estimator_name} was fitted on "
            f"series with {n_channels} channel(s)."
        )
    if n_timepoints is not None and X3.shape[2] != n_timepoints:
        if was_2d:
            raise ValueError(
                f"{name} has {X3.shape[2]} features, but {estimator_name} is expecting "
                f"{n_timepoints} features as input (a 2D array is read as univariate "
                "series whose length is the number of features)."
            )
        raise ValueError(
            f"{name} has series of length {X3.shape[2]}, but {estimator_name} is "
            f"expecting series of length {n_timepoints}, the length seen in fit."
        )
    return (X3, 2 if was_2d else 3) if return_ndim else X3


def pad_to_min_length(X: np.ndarray, min_length: int, *, warn: bool = True) -> np.ndarray:
    """Pad series of ``X (n, C, L)`` shorter than ``min_length`` by repeating their last
    value, with a ``UserWarning`` if ``warn``."""
    length = X.shape[-1]
    if length >= min_length:
        return X
    if warn:
        warnings.warn(
            f"Series of length {length} are shorter than the minimum length "
            f"{min_length} of this architecture (STFT with n_fft and one downsampling "
            f"step); they are padded by edge replication to length {min_length} and "
            "outputs in data space are cropped back to the input length.",
            UserWarning,
            stacklevel=3,
        )
    return np.pad(X, ((0, 0), (0, 0), (0, min_length - length)), mode="edge")


def check_n_samples(n_samples) -> int:
    """Return ``n_samples`` as an int, raising ``ValueError`` unless it is >= 1."""
    if isinstance(n_samples, (bool, np.bool_)) or not isinstance(n_samples, numbers.Integral):
        raise ValueError(f"n_samples must be an integer >= 1; got {n_samples!r}.")
    if n_samples < 1:
        raise ValueError(f"n_samples must be >= 1; got {n_samples}.")
    return int(n_samples)


def check_labels(y, X3: np.ndarray, name: str) -> np.ndarray:
    """``y`` as a 1D array with one label per series of ``X3``."""
    y = column_or_1d(np.asarray(y), warn=True)
    if y.shape[0] != X3.shape[0]:
        raise ValueError(
            f"{name} has {y.shape[0]} labels but the collection has {X3.shape[0]} series."
        )
    return y


def standardise(X3: np.ndarray, mean: np.ndarray, scale: np.ndarray) -> np.ndarray:
    """``(X3 - mean) / scale`` per channel of ``X3 (n, C, L)``, computed in float64, as float32."""
    return ((X3 - mean[:, None]) / scale[:, None]).astype(np.float32)


def standardisation(X3: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-channel mean and scale of ``X3 (n, C, L)``, in float64.

    A channel counts as constant (scale 1) only when its spread is at the
    level of float64 rounding of its values, so data of any scale or offset a
    float64 user can have (``a * X + b``) standardises to the same series.
    """
    X3 = np.asarray(X3, dtype=np.float64)
    mean = X3.mean(axis=(0, 2))
    scale = X3.std(axis=(0, 2))
    magnitude = np.abs(X3).max(axis=(0, 2))
    constant = scale <= 16 * np.finfo(np.float64).eps * magnitude
    return mean, np.where(constant | (scale == 0), 1.0, scale)
