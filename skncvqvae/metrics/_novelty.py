"""Novelty of generated series: are they new, or copies of the training series?

FID, IS and CAS reward a generator that returns its training series. These
metrics compare each generated series with its nearest training series
(distance to the closest record, DCR) and with held-out real series that the
generator never saw. Series are z-normalised per channel and flattened, and
compared by Euclidean distance, as 1-NN classifiers compare them.
"""

from __future__ import annotations

import numpy as np
from sklearn.metrics import pairwise_distances_argmin_min
from sklearn.utils import check_array

from .._random import derive_seed
from .._validation import as_3d_float

__all__ = ["closer_to_train_share", "copied_token_share", "dcr_ratio", "distance_to_closest_record"]


def znorm_flat(X, name: str = "X") -> np.ndarray:
    """``X`` z-normalised per series and channel, flattened to ``(n_cases, C * L)``, float64."""
    X3 = as_3d_float(X, name=name, dtype=np.float64)
    Z = (X3 - X3.mean(axis=2, keepdims=True)) / (X3.std(axis=2, keepdims=True) + 1e-8)
    return Z.reshape(len(Z), -1)


def _check_same_width(A: np.ndarray, B: np.ndarray, name_a: str, name_b: str) -> None:
    if A.shape[1] != B.shape[1]:
        raise ValueError(
            f"{name_a} and {name_b} must have the same channels and length; got "
            f"{A.shape[1]} and {B.shape[1]} values per series."
        )


def _nearest(Z: np.ndarray, Z_reference: np.ndarray) -> np.ndarray:
    return pairwise_distances_argmin_min(Z, Z_reference, metric="euclidean")[1]


def distance_to_closest_record(X, X_reference) -> np.ndarray:
    """Distance of each series of ``X`` to its nearest series in ``X_reference``.

    Both collections are z-normalised per series and channel, then flattened;
    the distance is Euclidean.

    Parameters
    ----------
    X, X_reference : array-like of shape (n_cases, n_channels, n_timepoints) or (n_cases, n_timepoints)

    Returns
    -------
    dcr : ndarray of shape (n_cases,)

    Examples
    --------
    >>> import numpy as np
    >>> from skncvqvae.metrics import distance_to_closest_record
    >>> X = np.random.default_rng(0).normal(size=(5, 30))
    >>> distance_to_closest_record(X[:2], X).round(6).tolist()  # each is in X_reference
    [0.0, 0.0]
    """
    Z, R = znorm_flat(X, "X"), znorm_flat(X_reference, "X_reference")
    _check_same_width(Z, R, "X", "X_reference")
    return _nearest(Z, R)


def dcr_ratio(X_gen, X_train, X_holdout) -> float:
    """Median distance of generated series to their nearest training series,
    over the same median for held-out real series.

    About 1: generated series are as far from the training set as fresh real
    series are; near 0: they are copies of training series.

    Parameters
    ----------
    X_gen : array-like of shape (n_gen, n_channels, n_timepoints) or (n_gen, n_timepoints)
        Generated series.
    X_train : array-like of shape (n_train, ...)
        The generator's training series.
    X_holdout : array-like of shape (n_holdout, ...)
        Real series the generator never saw (for example the test split).

    Returns
    -------
    ratio : float
    """
    reference = distance_to_closest_record(X_holdout, X_train)
    return float(np.median(distance_to_closest_record(X_gen, X_train)) / np.median(reference))


def closer_to_train_share(X_gen, X_train, X_holdout, *, random_state=0) -> float:
    """Share of generated series that lie closer to the training set than to held-out data.

    Each generated series is compared with its nearest series in the
    training set and in a set of held-out real series of the same size (the
    larger of the two sets is subsampled at random to the size of the
    smaller); a tie counts one half. A generator that draws new series from
    the data's distribution scores about 0.5, one that copies its training
    series 1. A generator whose samples are merely smoother than real data
    stays near 0.5, because both reference sets are real data.

    Parameters
    ----------
    X_gen, X_train, X_holdout : array-like of 2D or 3D collections of series
        Generated series, the generator's training series, and real series
        it never saw, as in :func:`dcr_ratio`.
    random_state : int, RandomState, Generator or None, default=0
        Seeds the subsampling to equal sizes.

    Returns
    -------
    share : float in [0, 1]

    Examples
    --------
    >>> import numpy as np
    >>> from skncvqvae.metrics import closer_to_train_share
    >>> rng = np.random.default_rng(0)
    >>> X_train, X_holdout = rng.normal(size=(40, 50)), rng.normal(size=(40, 50))
    >>> closer_to_train_share(X_train[:10] + 0.01, X_train, X_holdout)  # near-copies
    1.0
    """
    G = znorm_flat(X_gen, "X_gen")
    T = znorm_flat(X_train, "X_train")
    H = znorm_flat(X_holdout, "X_holdout")
    _check_same_width(G, T, "X_gen", "X_train")
    _check_same_width(G, H, "X_gen", "X_holdout")
    n = min(len(T), len(H))
    rng = np.random.default_rng(derive_seed(random_state))
    T = T[np.sort(rng.permutation(len(T))[:n])]
    H = H[np.sort(rng.permutation(len(H))[:n])]
    to_train, to_holdout = _nearest(G, T), _nearest(G, H)
    return float(np.mean((to_train < to_holdout) + 0.5 * (to_train == to_holdout)))


def copied_token_share(tokens, tokens_train) -> float:
    """Share of token grids that are identical to a training series' grid.

    Parameters
    ----------
    tokens : array-like of int, shape (n_cases, ...)
        Token grids of generated series (for example
        ``NCVQVAETokenizer.encode(X_gen)``, or flattened grids).
    tokens_train : array-like of int, shape (n_train, ...)
        Token grids of the training series, of the same shape.

    Returns
    -------
    share : float in [0, 1]

    Examples
    --------
    >>> from skncvqvae.metrics import copied_token_share
    >>> copied_token_share([[1, 2], [2, 1], [3, 3]], [[1, 2], [0, 0]])
    0.3333333333333333
    """
    G = check_array(np.asarray(tokens).reshape(len(tokens), -1), dtype=np.int64)
    T = check_array(np.asarray(tokens_train).reshape(len(tokens_train), -1), dtype=np.int64)
    _check_same_width(G, T, "tokens", "tokens_train")
    known = {row.tobytes() for row in T}
    return float(np.mean([row.tobytes() in known for row in G]))
