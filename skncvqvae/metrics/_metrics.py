"""Metrics of TimeVQVAE's and NC-VQVAE's evaluation: FID, IS, CAS (TSTR) and the
linear probe of frozen representations; each function names its reference.
"""

from __future__ import annotations

import warnings

import numpy as np
from scipy import linalg
from sklearn.base import clone
from sklearn.metrics import accuracy_score
from sklearn.neighbors import KNeighborsClassifier
from sklearn.preprocessing import MinMaxScaler
from sklearn.svm import SVC
from sklearn.utils import check_array, check_consistent_length, column_or_1d

from .._validation import as_3d_float, check_labels
from ._features import make_classifier, make_feature_extractor

__all__ = [
    "cas_score",
    "feature_statistics",
    "fid_score",
    "frechet_distance",
    "inception_score",
    "linear_probe",
]


def frechet_distance(mu1, sigma1, mu2, sigma2, *, eps: float = 1e-6) -> float:
    r"""Frechet distance between two multivariate Gaussians.

    .. math::

        d^2 = \lVert \mu_1 - \mu_2 \rVert_2^2
              + \operatorname{Tr}\left(\Sigma_1 + \Sigma_2
              - 2 (\Sigma_1 \Sigma_2)^{1/2}\right)

    Parameters
    ----------
    mu1, mu2 : array-like of shape (n_features,)
        Means.
    sigma1, sigma2 : array-like of shape (n_features, n_features)
        Covariance matrices.
    eps : float, default=1e-6
        If the square root of :math:`\Sigma_1 \Sigma_2` is not finite (a
        near-singular product), ``eps * I`` is added to both covariances and
        the square root is computed again.

    Returns
    -------
    distance : float
        The squared Frechet distance, >= 0 (negative rounding errors are
        clamped to 0).

    Raises
    ------
    ValueError
        If the shapes are inconsistent, the inputs are not finite, or the
        square root has a non-negligible imaginary part (larger than 1e-3
        relative to its real part).
    """
    mu1 = np.atleast_1d(np.asarray(mu1, dtype=np.float64))
    mu2 = np.atleast_1d(np.asarray(mu2, dtype=np.float64))
    sigma1 = np.atleast_2d(np.asarray(sigma1, dtype=np.float64))
    sigma2 = np.atleast_2d(np.asarray(sigma2, dtype=np.float64))
    if mu1.ndim != 1 or mu2.ndim != 1 or mu1.shape != mu2.shape:
        raise ValueError(
            f"mu1 and mu2 must be 1D arrays of the same length; got shapes "
            f"{mu1.shape} and {mu2.shape}."
        )
    d = mu1.shape[0]
    for name, sigma in (("sigma1", sigma1), ("sigma2", sigma2)):
        if sigma.shape != (d, d):
            raise ValueError(
                f"{name} must have shape ({d}, {d}) to match the means; got {sigma.shape}."
            )
    for name, arr in (("mu1", mu1), ("mu2", mu2), ("sigma1", sigma1), ("sigma2", sigma2)):
        if not np.isfinite(arr).all():
            raise ValueError(f"{name} contains NaN or inf.")

    diff = mu1 - mu2
    covmean = _sqrtm(sigma1 @ sigma2)
    if not np.isfinite(covmean).all():
        offset = eps * np.eye(d)
        covmean = _sqrtm((sigma1 + offset) @ (sigma2 + offset))
    if np.iscomplexobj(covmean):
        diag = np.diagonal(covmean)
        imag = np.max(np.abs(diag.imag))
        scale = max(np.max(np.abs(diag.real)), np.finfo(np.float64).tiny)
        if imag > 1e-3 * scale:
            raise ValueError(
                f"The matrix square root of sigma1 @ sigma2 has a large imaginary "
                f"component ({imag:.3g}, relative {imag / scale:.3g}); the "
                "covariances are probably not positive semi-definite."
            )
        covmean = covmean.real
    value = diff @ diff + np.trace(sigma1) + np.trace(sigma2) - 2.0 * np.trace(covmean)
    return float(max(value, 0.0))


def _sqrtm(A: np.ndarray) -> np.ndarray:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", linalg.LinAlgWarning)
        warnings.simplefilter("ignore", RuntimeWarning)
        return linalg.sqrtm(A)


def feature_statistics(features) -> tuple[np.ndarray, np.ndarray]:
    r"""Mean and covariance of a feature matrix.

    .. math::

        \mu = \frac{1}{n} \sum_i f_i, \qquad
        \Sigma = \frac{1}{n - 1} \sum_i (f_i - \mu)(f_i - \mu)^\top

    Parameters
    ----------
    features : array-like of shape (n_samples, n_features)

    Returns
    -------
    mu : ndarray of shape (n_features,)
    sigma : ndarray of shape (n_features, n_features)
        Zeros when ``n_samples == 1``.
    """
    F = _check_features(features, "features")
    mu = F.mean(axis=0)
    if F.shape[0] < 2:
        return mu, np.zeros((F.shape[1], F.shape[1]))
    sigma = np.atleast_2d(np.cov(F, rowvar=False))
    return mu, sigma


def _check_features(features, name: str) -> np.ndarray:
    return check_array(features, dtype=np.float64, ensure_2d=True, input_name=name)


def _frechet_distance_features(F1: np.ndarray, F2: np.ndarray) -> float:
    r"""Frechet distance from feature matrices, exact and cheap when n < d.

    With centred, scaled data :math:`A = (F_1 - \mu_1) / \sqrt{n_1 - 1}` and
    :math:`B` likewise, :math:`\Sigma_1 = A^\top A` and
    :math:`\Sigma_2 = B^\top B`; the non-zero eigenvalues of
    :math:`\Sigma_1 \Sigma_2` are the squared singular values of
    :math:`A B^\top`, so :math:`\operatorname{Tr}(\Sigma_1 \Sigma_2)^{1/2}`
    is the nuclear norm of :math:`A B^\top` (an ``n1 x n2`` matrix).
    """
    n1, d = F1.shape
    n2 = F2.shape[0]
    if max(n1, n2) >= d:
        return frechet_distance(*feature_statistics(F1), *feature_statistics(F2))
    mu1, mu2 = F1.mean(axis=0), F2.mean(axis=0)
    A = (F1 - mu1) / np.sqrt(max(n1 - 1, 1))
    B = (F2 - mu2) / np.sqrt(max(n2 - 1, 1))
    cross = np.linalg.svd(A @ B.T, compute_uv=False).sum()
    diff = mu1 - mu2
    value = diff @ diff + np.sum(A * A) + np.sum(B * B) - 2.0 * cross
    return float(max(value, 0.0))


def _check_same_shape(A: np.ndarray, B: np.ndarray, name_a: str, name_b: str) -> None:
    if A.shape[1:] != B.shape[1:]:
        raise ValueError(
            f"{name_a} and {name_b} must have the same number of channels and "
            f"series length; got (n_channels, n_timepoints) = {A.shape[1:]} and "
            f"{B.shape[1:]}."
        )


def fid_score(X_real, X_fake, *, feature_extractor=None, random_state=0) -> float:
    r"""Frechet Inception Distance between two collections of series.

    .. math::

        \mathrm{FID} = \lVert \mu_r - \mu_g \rVert_2^2
            + \operatorname{Tr}\left(\Sigma_r + \Sigma_g
            - 2 (\Sigma_r \Sigma_g)^{1/2}\right)

    where :math:`(\mu_r, \Sigma_r)` and :math:`(\mu_g, \Sigma_g)` are the mean
    and covariance of the features of ``X_real`` and ``X_fake``.

    With fewer samples than features (MiniRocket's ~10,000) it is computed
    exactly from the centred feature matrices, without a ``d x d`` covariance;
    otherwise by :func:`frechet_distance` of :func:`feature_statistics`.

    Parameters
    ----------
    X_real, X_fake : array-like of shape (n_cases, n_channels, n_timepoints) or (n_cases, n_timepoints)
        Real and generated collections with the same channels and length.
    feature_extractor : fitted transformer or None, default=None
        Maps a 3D float64 collection to 2D features. ``None`` fits
        ``make_feature_extractor(X_real, random_state=random_state)``.
    random_state : int, RandomState, Generator or None, default=0
        Seed of the default feature extractor.

    Returns
    -------
    fid : float

    References
    ----------
    .. [1] Heusel, M., Ramsauer, H., Unterthiner, T., Nessler, B. and Hochreiter,
       S. (2017). GANs trained by a two time-scale update rule converge to a local
       Nash equilibrium. NeurIPS.
    """
    R = as_3d_float(X_real, name="X_real", dtype=np.float64)
    G = as_3d_float(X_fake, name="X_fake", dtype=np.float64)
    _check_same_shape(R, G, "X_real", "X_fake")
    if feature_extractor is None:
        feature_extractor = make_feature_extractor(R, random_state=random_state)
    F_real = _check_features(feature_extractor.transform(R), "real features")
    F_fake = _check_features(feature_extractor.transform(G), "fake features")
    if F_real.shape[1] != F_fake.shape[1]:
        raise ValueError(
            "The feature extractor returned different numbers of features for "
            f"X_real ({F_real.shape[1]}) and X_fake ({F_fake.shape[1]})."
        )
    return _frechet_distance_features(F_real, F_fake)


def inception_score(X_fake, classifier, *, eps: float = 1e-12) -> float:
    r"""Inception Score of a generated collection.

    .. math::

        \mathrm{IS} = \exp\left(\frac{1}{n} \sum_{i=1}^n
            \mathrm{KL}\left(p(y \mid x_i) \,\Vert\, p(y)\right)\right),
        \qquad p(y) = \frac{1}{n} \sum_{i=1}^n p(y \mid x_i)

    with :math:`p(y \mid x)` from ``classifier.predict_proba``. The score lies
    in ``[1, n_classes]``: 1 when every sample gets the same class
    distribution, ``n_classes`` when predictions are confident and the
    classes are equally represented.

    Parameters
    ----------
    X_fake : array-like of shape (n_cases, n_channels, n_timepoints) or (n_cases, n_timepoints)
    classifier : fitted classifier with ``predict_proba``
        Normally trained on real data (see :func:`make_classifier`).
    eps : float, default=1e-12
        Added inside the logarithms.

    Returns
    -------
    score : float

    References
    ----------
    .. [2] Salimans, T., Goodfellow, I., Zaremba, W., Cheung, V., Radford, A. and
       Chen, X. (2016). Improved techniques for training GANs. NeurIPS.
    """
    X3 = as_3d_float(X_fake, name="X_fake", dtype=np.float64)
    proba = check_array(classifier.predict_proba(X3), dtype=np.float64, input_name="proba")
    if proba.shape[0] != X3.shape[0]:
        raise ValueError(f"predict_proba returned {proba.shape[0]} rows for {X3.shape[0]} series.")
    marginal = proba.mean(axis=0, keepdims=True)
    kl = np.sum(proba * (np.log(proba + eps) - np.log(marginal + eps)), axis=1)
    return float(np.exp(kl.mean()))


def cas_score(X_syn, y_syn, X_test, y_test, *, classifier=None, random_state=0) -> float:
    r"""Classification Accuracy Score: train on synthetic, test on real.

    .. math::

        \mathrm{CAS} = \frac{1}{n_{test}} \sum_i
            \mathbb{1}\left[f_{syn}(x_i) = y_i\right]

    where :math:`f_{syn}` is fitted on ``(X_syn, y_syn)`` and
    :math:`(x_i, y_i)` are the real test data. Passing real training data as
    ``(X_syn, y_syn)`` gives the TRTR (train on real, test on real) baseline.

    Parameters
    ----------
    X_syn : array-like of shape (n_cases, n_channels, n_timepoints) or (n_cases, n_timepoints)
    y_syn : array-like of shape (n_cases,)
    X_test : array-like, same channels and length as ``X_syn``
    y_test : array-like of shape (n_test,)
    classifier : estimator or None, default=None
        Unfitted template; a clone is fitted. ``None`` uses
        :func:`make_classifier`'s default (MiniRocket + logistic regression).
    random_state : int, RandomState, Generator or None, default=0
        Seed of the default classifier.

    Returns
    -------
    accuracy : float in [0, 1]

    References
    ----------
    .. [3] Ravuri, S. and Vinyals, O. (2019). Classification accuracy score for
       conditional generative models. NeurIPS.
    """
    S = as_3d_float(X_syn, name="X_syn", dtype=np.float64)
    T = as_3d_float(X_test, name="X_test", dtype=np.float64)
    _check_same_shape(S, T, "X_syn", "X_test")
    y_s = check_labels(y_syn, S, "y_syn")
    y_t = check_labels(y_test, T, "y_test")
    if classifier is None:
        fitted = make_classifier(S, y_s, random_state=random_state)
    else:
        fitted = clone(classifier).fit(S, y_s)
    return float(accuracy_score(y_t, fitted.predict(T)))


def linear_probe(features_train, y_train, features_test, y_test) -> dict[str, float]:
    """Linear-probe accuracies of frozen representations (NC-VQVAE protocol).

    Features are scaled to [0, 1] with a ``MinMaxScaler`` fitted on the
    training features; ``SVC(kernel="linear")`` and
    ``KNeighborsClassifier(n_neighbors=min(5, n_train))`` are fitted on the
    training features and scored by accuracy on the test features.

    Parameters
    ----------
    features_train : array-like of shape (n_train, n_features)
    y_train : array-like of shape (n_train,)
    features_test : array-like of shape (n_test, n_features)
    y_test : array-like of shape (n_test,)

    Returns
    -------
    scores : dict
        ``{"svm": accuracy, "knn": accuracy}``.
    """
    F_train = _check_features(features_train, "features_train")
    F_test = _check_features(features_test, "features_test")
    if F_train.shape[1] != F_test.shape[1]:
        raise ValueError(
            f"features_train has {F_train.shape[1]} features but features_test has "
            f"{F_test.shape[1]}."
        )
    y_tr = column_or_1d(np.asarray(y_train), warn=True)
    y_te = column_or_1d(np.asarray(y_test), warn=True)
    check_consistent_length(F_train, y_tr)
    check_consistent_length(F_test, y_te)
    scaler = MinMaxScaler().fit(F_train)
    Z_train, Z_test = scaler.transform(F_train), scaler.transform(F_test)
    svm = SVC(kernel="linear").fit(Z_train, y_tr)
    knn = KNeighborsClassifier(n_neighbors=min(5, F_train.shape[0])).fit(Z_train, y_tr)
    return {
        "svm": float(accuracy_score(y_te, svm.predict(Z_test))),
        "knn": float(accuracy_score(y_te, knn.predict(Z_test))),
    }
