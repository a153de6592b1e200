"""``FCNClassifier``: the FCN of TimeVQVAE's evaluation as a scikit-learn classifier."""

from __future__ import annotations

import numpy as np
import torch
from sklearn.base import ClassifierMixin, TransformerMixin, _fit_context
from sklearn.preprocessing import LabelEncoder
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted

from .._base import BaseTorchEstimator
from .._validation import check_labels, standardisation, standardise
from ..nn import FCN_TERMS, FCNModule

__all__ = ["FCNClassifier"]


class FCNClassifier(ClassifierMixin, TransformerMixin, BaseTorchEstimator):
    """Fully Convolutional Network classifier for time series.

    The FCN of Wang et al. (2017) used in TimeVQVAE's evaluation
    (:class:`~skncvqvae.nn.FCNModule`): three blocks of ``Conv1d`` ('same'
    padding; 128, 256 and 128 filters with kernels 8, 5 and 3), batch norm and
    ReLU, global average pooling and a linear layer giving logits. It trains
    with the package's skorch net (AdamW, cosine annealing of the learning
    rate per step, cross-entropy, no validation split). Inputs are
    standardised per channel with the training mean and standard deviation.

    Parameters
    ----------
    max_epochs : int, default=100
        Training epochs.
    batch_size : int, default=64
        Mini-batch size, also of inference.
    lr : float, default=1e-3
        Peak AdamW learning rate.
    weight_decay : float, default=0.0
        AdamW weight decay (0 makes it Adam).
    warm_start : bool, default=False
        With ``True``, ``fit`` on data of the fitted shape and classes continues
        training the fitted network until ``max_epochs`` epochs have run in total.
    device : str, default="auto"
        Torch device; ``"auto"`` picks CUDA when available.
    random_state : int, RandomState instance or None, default=0
        Seeds weight initialisation and shuffling (independent streams).
        Deterministic by default, as an evaluation classifier should be.
    verbose : int, default=0
        1 shows a progress bar over epochs; 2 also skorch's epoch table.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        Class labels in the user's label space.
    n_features_in_ : int
        ``X.shape[1]`` in fit (series length for 2D input, channels for 3D).
    n_channels_, n_timepoints_ : int
        Shape of the training series.
    mean_, scale_ : ndarray of shape (n_channels,)
        Per-channel standardisation of the training data.
    n_steps_ : int
        Optimisation steps of the training budget (from the fitted learning-rate schedule).
    net_ : SelfLossNet
        The fitted skorch net; ``net_.module_`` is the :class:`~skncvqvae.nn.FCNModule`.
    history_ : list of dict
        Per-epoch training ``loss`` and ``accuracy``.

    References
    ----------
    .. [1] Z. Wang, W. Yan, T. Oates, "Time series classification from scratch
       with deep neural networks: a strong baseline", IJCNN 2017.

    Examples
    --------
    >>> from aeon.datasets import load_unit_test
    >>> from skncvqvae.metrics import FCNClassifier
    >>> X, y = load_unit_test(split="train")
    >>> clf = FCNClassifier(max_epochs=2).fit(X, y)
    >>> clf.predict_proba(X[:3]).shape
    (3, 2)
    """

    def __init__(
        self,
        max_epochs=100,
        batch_size=64,
        lr=1e-3,
        weight_decay=0.0,
        warm_start=False,
        device="auto",
        random_state=0,
        verbose=0,
    ):
        self.warm_start = warm_start
        self.max_epochs = max_epochs
        self.batch_size = batch_size
        self.lr = lr
        self.weight_decay = weight_decay
        self.device = device
        self.random_state = random_state
        self.verbose = verbose

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y):
        """Fit the network on a labelled collection.

        Parameters
        ----------
        X : array-like of shape (n_cases, n_channels, n_timepoints) or (n_cases, n_timepoints)
        y : array-like of shape (n_cases,)

        Returns
        -------
        self : FCNClassifier
        """
        X3, shape = self._check_fit_collection(X)
        y = check_labels(y, X3, "y")
        check_classification_targets(y)
        encoder = LabelEncoder().fit(y)
        resume = self._can_resume(shape) and np.array_equal(self.classes_, encoder.classes_)
        mean, scale = (self.mean_, self.scale_) if resume else standardisation(X3)
        data = {
            "x": torch.as_tensor(standardise(X3, mean, scale)),
            "labels": torch.as_tensor(encoder.transform(y), dtype=torch.long),
        }
        net = self._fit_net(
            FCNModule,
            data,
            seed=self._seed(),
            term_names=FCN_TERMS,
            description="FCN",
            resume=resume,
            n_channels=X3.shape[1],
            n_classes=len(encoder.classes_),
        )
        self._set_fitted(net, **shape, classes_=encoder.classes_, mean_=mean, scale_=scale)
        return self

    def _apply(self, fn, X) -> np.ndarray:
        x = torch.as_tensor(standardise(self._check_collection(X), self.mean_, self.scale_))
        return torch.cat(self._map_batches(fn, x)).double().numpy()

    def predict_proba(self, X) -> np.ndarray:
        """Class probabilities (softmax of the logits), columns ordered as ``classes_``.

        Parameters
        ----------
        X : array-like of shape (n_cases, n_channels, n_timepoints) or (n_cases, n_timepoints)

        Returns
        -------
        proba : ndarray of shape (n_cases, n_classes)
        """
        module = self._fitted_module()
        return self._apply(lambda x: torch.softmax(module.logits(x), dim=-1), X)

    def predict(self, X) -> np.ndarray:
        """Predicted labels in the user's label space.

        Parameters
        ----------
        X : array-like of shape (n_cases, n_channels, n_timepoints) or (n_cases, n_timepoints)

        Returns
        -------
        y_pred : ndarray of shape (n_cases,)
        """
        proba = self.predict_proba(X)
        return self.classes_[np.argmax(proba, axis=1)]

    def transform(self, X) -> np.ndarray:
        """Globally average-pooled features of the last convolution block.

        Parameters
        ----------
        X : array-like of shape (n_cases, n_channels, n_timepoints) or (n_cases, n_timepoints)

        Returns
        -------
        features : ndarray of shape (n_cases, 128)
        """
        module = self._fitted_module()
        return self._apply(module.features, X)

    def _fitted_module(self) -> FCNModule:
        check_is_fitted(self)
        return self.net_.module_

    @classmethod
    def _get_test_params(cls, parameter_set="default") -> dict:
        """Parameters of a short FCN training for tests (one ``parameter_set``, ``"default"``)."""
        return dict(max_epochs=2, batch_size=16, device="cpu", random_state=0)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.three_d_array = True
        return tags
