"""Feature extractors and classifiers fitted on real data, for the metrics.

- MiniRocket (aeon) features, standardised: the default extractor of the FID
  and, with a logistic regression, the default classifier of the IS and CAS;
- the FCN (:class:`~skncvqvae.metrics.FCNClassifier`), TimeVQVAE's
  evaluation network, as the alternative.
"""

from __future__ import annotations

import contextlib
import hashlib

import numpy as np
import torch
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer, StandardScaler
from sklearn.utils.validation import check_is_fitted

from .._validation import as_3d_float, check_labels, pad_to_min_length
from ._fcn import FCNClassifier

__all__ = ["CachedTransform", "make_classifier", "make_feature_extractor"]

_MINIROCKET_MIN_LENGTH = 9
_KINDS = ("minirocket", "fcn")


class CachedTransform:
    """A fitted transformer whose output for chosen collections is computed once.

    After ``remember(X_test)``, ``transform`` of the same values (recognised by
    shape, dtype and a hash of the bytes), also in workers that receive a
    pickled copy, returns the stored features; other inputs are transformed.
    """

    def __init__(self, transformer):
        self.transformer = transformer
        self._stored: dict = {}

    @staticmethod
    def _key(X) -> tuple:
        a = np.ascontiguousarray(X)
        digest = hashlib.blake2b(a.view(np.uint8).ravel(), digest_size=16).hexdigest()
        return a.shape, a.dtype.str, digest

    def remember(self, *collections) -> CachedTransform:
        """Transform and store each collection; returns ``self``."""
        for X in collections:
            self._stored[self._key(X)] = self.transformer.transform(X)
        return self

    def transform(self, X) -> np.ndarray:
        stored = self._stored.get(self._key(X))
        return stored.copy() if stored is not None else self.transformer.transform(X)


def _pad_minirocket(X) -> np.ndarray:
    """Return ``X`` as 3D float64, edge-padded to MiniRocket's minimum length 9."""
    X3 = as_3d_float(X, name="X", dtype=np.float64)
    return pad_to_min_length(X3, _MINIROCKET_MIN_LENGTH, warn=False)


@contextlib.contextmanager
def _isolate_minirocket():
    """Restore torch's thread count (which numba's OpenMP layer resets to the core count)
    and numpy's global RNG state (which aeon's MiniRocket seeds) on exit."""
    n_threads = torch.get_num_threads()
    numpy_state = np.random.get_state()
    try:
        yield
    finally:
        torch.set_num_threads(n_threads)
        np.random.set_state(numpy_state)


class _MiniRocket(TransformerMixin, BaseEstimator):
    """aeon's MiniRocket that leaves torch's threads and numpy's global RNG as it found them."""

    def __init__(self, random_state=0):
        self.random_state = random_state

    def fit(self, X, y=None):
        from aeon.transformations.collection.convolution_based import MiniRocket

        with _isolate_minirocket():
            self.minirocket_ = MiniRocket(random_state=self.random_state).fit(X)
        return self

    def transform(self, X):
        check_is_fitted(self)
        with _isolate_minirocket():
            return self.minirocket_.transform(X)


def _minirocket_steps(random_state) -> list:
    return [
        ("pad", FunctionTransformer(_pad_minirocket)),
        ("minirocket", _MiniRocket(random_state=random_state)),
        ("scaler", StandardScaler()),
    ]


def _check_kind(kind: str) -> None:
    if kind not in _KINDS:
        raise ValueError(f"kind must be one of {_KINDS}; got {kind!r}.")


def make_feature_extractor(X_fit, *, random_state=0, kind: str = "minirocket", y_fit=None):
    """Fit a transformer that maps a collection of series to 2D features.

    Parameters
    ----------
    X_fit : array-like of shape (n_cases, n_channels, n_timepoints) or (n_cases, n_timepoints)
        Collection the extractor is fitted on (normally the real data).
    random_state : int, RandomState, Generator or None, default=0
        Seed of MiniRocket's random biases or of the FCN's training.
    kind : {"minirocket", "fcn"}, default="minirocket"
        ``"minirocket"``: a pipeline of edge padding to length >= 9,
        MiniRocket [4]_ (about 10,000 features) and ``StandardScaler``.
        ``"fcn"``: a :class:`FCNClassifier` [5]_ trained on ``(X_fit, y_fit)``
        whose ``transform`` returns the 128 globally average-pooled features
        of its last convolution block (the TimeVQVAE FID protocol).
    y_fit : array-like of shape (n_cases,), default=None
        Labels of ``X_fit``; required for ``kind="fcn"``.

    Returns
    -------
    extractor : fitted estimator with ``transform``

    References
    ----------
    .. [4] Dempster, A., Schmidt, D. F. and Webb, G. I. (2021). MiniRocket: a very
       fast (almost) deterministic transform for time series classification. KDD.
    .. [5] Wang, Z., Yan, W. and Oates, T. (2017). Time series classification from
       scratch with deep neural networks: a strong baseline. IJCNN.
    """
    _check_kind(kind)
    X3 = as_3d_float(X_fit, name="X_fit", dtype=np.float64)
    if kind == "fcn":
        if y_fit is None:
            raise ValueError('kind="fcn" trains a classifier and needs labels y_fit.')
        return FCNClassifier(random_state=random_state).fit(X3, y_fit)
    return Pipeline(_minirocket_steps(random_state)).fit(X3)


def make_classifier(X_train, y_train, *, random_state=0, kind: str = "minirocket"):
    """Fit the classifier used for the Inception Score and CAS.

    Parameters
    ----------
    X_train : array-like of shape (n_cases, n_channels, n_timepoints) or (n_cases, n_timepoints)
    y_train : array-like of shape (n_cases,)
    random_state : int, RandomState, Generator or None, default=0
    kind : {"minirocket", "fcn"}, default="minirocket"
        ``"minirocket"``: edge padding to length >= 9, MiniRocket [4]_,
        ``StandardScaler`` and ``LogisticRegression(max_iter=1000)``. The
        logistic regression replaces MiniRocket's usual ``RidgeClassifierCV``
        because the Inception Score needs ``predict_proba``, which
        ``RidgeClassifierCV`` does not provide. ``"fcn"``: :class:`FCNClassifier`.

    Returns
    -------
    classifier : fitted classifier with ``predict`` and ``predict_proba``

    References
    ----------
    .. [4] Dempster, A., Schmidt, D. F. and Webb, G. I. (2021). MiniRocket: a very
       fast (almost) deterministic transform for time series classification. KDD.
    """
    _check_kind(kind)
    X3 = as_3d_float(X_train, name="X_train", dtype=np.float64)
    y = check_labels(y_train, X3, "y_train")
    if kind == "fcn":
        return FCNClassifier(random_state=random_state).fit(X3, y)
    steps = _minirocket_steps(random_state) + [("classifier", LogisticRegression(max_iter=1000))]
    return Pipeline(steps).fit(X3, y)
