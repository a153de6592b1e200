"""Input validation at the public boundary.

Every public entry point turns user data into a float32 array of shape
``(n_cases, n_channels, n_timepoints)`` through the functions here, so that
torch modules never see anything else. Errors are ``ValueError`` with a
message that says what was expected and what was given.
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
    "pad_to_min_length",
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
    return X


def as_3d_float(X, *, name: str = "X", dtype=np.float32) -> np.ndarray:
    """Validate a collection of series and return it as a 3D float array.

    Parameters
    ----------
    X : array-like of shape (n_cases, n_timepoints) or (n_cases, n_channels, n_timepoints)
        A 2D array is read as a univariate collection. Object arrays holding
        numbers are converted; strings, NaN and inf are rejected.
    name : str, default="X"
        Name used in error messages.
    dtype : numpy dtype, default=np.float32
        Dtype of the returned array.

    Returns
    -------
    X3 : ndarray of shape (n_cases, n_channels, n_timepoints)

    Raises
    ------
    ValueError
        For 1D or 4D+ input, empty input, non-numeric values, NaN or inf.
    """
    return _to_3d(_check_array_2d_3d(X, name), dtype)


def _to_3d(X: np.ndarray, dtype) -> np.ndarray:
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
):
    """Validate ``X`` and, when given, check its channels and length.

    Parameters
    ----------
    X : array-like
        See :func:`as_3d_float`.
    n_channels, n_timepoints : int or None
        The channel count and series length seen in ``fit``.
    estimator_name : str
        Used in the error messages.
    return_ndim : bool, default=False
        Also return the dimension (2 or 3) of the input.

    Returns
    -------
    X3 : ndarray of shape (n_cases, n_channels, n_timepoints), float32
    ndim : int
        Only with ``return_ndim=True``.
    """
    X = _check_array_2d_3d(X, name)
    was_2d = X.ndim == 2
    X3 = _to_3d(X, np.float32)
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
    """Pad series shorter than ``min_length`` by repeating their last value.

    Parameters
    ----------
    X : ndarray of shape (n_cases, n_channels, n_timepoints)
    min_length : int
        The architecture's minimum series length.
    warn : bool, default=True
        Emit a ``UserWarning`` that states the padding.

    Returns
    -------
    X_padded : ndarray of shape (n_cases, n_channels, max(n_timepoints, min_length))
    """
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
