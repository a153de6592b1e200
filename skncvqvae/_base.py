"""The private base of the package's torch-backed estimators.

:class:`BaseTorchEstimator` holds what :class:`~skncvqvae.NCVQVAETokenizer`,
:class:`~skncvqvae.NCVQVAEGenerator` and
:class:`~skncvqvae.evaluation.FCNClassifier` share, ordered along an
estimator's life:

- the training parameters and their constraints (subclasses extend them the
  scikit-learn way, ``{**BaseTorchEstimator._parameter_constraints, ...}``);
- validation of the training collection and the fitted-shape attributes
  (``n_features_in_``, ``n_channels_``, ``n_timepoints_``);
- building and fitting the skorch net for a module of :mod:`skncvqvae.nn`
  (``net_``, ``history_``), with seeded initialisation;
- validation of later inputs against the fitted shape, and batched inference
  under ``torch.inference_mode``.

Subclasses keep their own ``__init__`` (scikit-learn reads the parameters
from its signature) and call these helpers from ``fit``.
"""

from __future__ import annotations

import numbers

import numpy as np
import torch
from sklearn.base import BaseEstimator
from sklearn.utils._param_validation import Interval
from sklearn.utils.validation import check_is_fitted

from ._random import derive_seed, seeded
from ._training import SelfLossNet, epoch_terms, make_net, resolve_device
from ._validation import check_collection

__all__ = ["BaseTorchEstimator"]


class BaseTorchEstimator(BaseEstimator):
    """Shared parameters, fitting and inference of the torch-backed estimators.

    Subclasses declare ``max_epochs``, ``batch_size``, ``lr``,
    ``weight_decay``, ``device``, ``random_state`` and ``verbose`` in their
    ``__init__``.
    """

    _parameter_constraints: dict = {
        "max_epochs": [Interval(numbers.Integral, 1, None, closed="left")],
        "batch_size": [Interval(numbers.Integral, 1, None, closed="left")],
        "lr": [Interval(numbers.Real, 0, None, closed="neither")],
        "weight_decay": [Interval(numbers.Real, 0, None, closed="left")],
        "device": [str],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
    }

    def __sklearn_is_fitted__(self) -> bool:
        # ``net_`` is set last in ``fit``: a fit that failed or was interrupted
        # before it leaves the estimator unfitted.
        return "net_" in self.__dict__

    # -- seeds ---------------------------------------------------------------
    def _seed(self, random_state=None) -> int:
        """One integer seed for this call from ``random_state`` (default: the estimator's)."""
        return derive_seed(self.random_state if random_state is None else random_state)

    # -- training data -------------------------------------------------------
    def _check_fit_collection(self, X) -> np.ndarray:
        """Validate the training collection and record its shape.

        Sets ``n_features_in_`` (``X.shape[1]`` as scikit-learn counts it: the
        length of 2D input, the channels of 3D input), ``n_channels_`` and
        ``n_timepoints_``; returns the collection as float32 ``(n, C, L)``.
        """
        X3, ndim = check_collection(X, return_ndim=True)
        self.n_features_in_ = X3.shape[2] if ndim == 2 else X3.shape[1]
        self.n_channels_, self.n_timepoints_ = X3.shape[1], X3.shape[2]
        return X3

    # -- the net ---------------------------------------------------------------
    def _fit_net(
        self,
        module,
        data,
        *,
        seed: int,
        term_names,
        description: str,
        validation_fraction: float | None = None,
        **module_kwargs,
    ) -> SelfLossNet:
        """Build the skorch net for ``module``, fit it on ``data`` and keep it.

        Weights are initialised from ``seed`` (inside a fork of torch's global
        generator); :func:`~skncvqvae._training.make_net` splits the same seed
        into the streams of shuffling and of the module's own randomness. The
        net's module is left in evaluation mode: inference never changes it.
        Sets ``net_`` and ``history_`` (per-epoch ``term_names``).
        """
        net = make_net(
            module,
            n_train=len(next(iter(data.values())) if isinstance(data, dict) else data),
            term_names=term_names,
            max_epochs=self.max_epochs,
            batch_size=self.batch_size,
            lr=self.lr,
            weight_decay=self.weight_decay,
            device=resolve_device(self.device),
            seed=seed,
            verbose=self.verbose,
            validation_fraction=validation_fraction,
            description=description,
            **module_kwargs,
        )
        with seeded(seed):
            net.fit(data, None)
        net.module_.eval()
        self.net_ = net
        self.history_ = epoch_terms(net, term_names)
        return net

    # -- inference -------------------------------------------------------------
    def _check_collection(self, X) -> np.ndarray:
        """Validate ``X`` against the fitted channels and length; float32 ``(n, C, L)``."""
        check_is_fitted(self)
        return check_collection(
            X,
            n_channels=self.n_channels_,
            n_timepoints=self.n_timepoints_,
            estimator_name=type(self).__name__,
        )

    def _map_batches(self, fn, x: torch.Tensor, *, pad: bool = True) -> list:
        """Apply ``fn`` to batches of ``x`` on the net's device; outputs per batch, on the CPU.

        Runs under ``torch.inference_mode``. With ``pad``, the last batch is
        padded to ``batch_size`` rows by repeating its last row, and the padding
        is dropped from the outputs: every row is computed in a batch of the
        same shape, so a row's output does not depend on how many rows came
        with it (convolution kernels pick their algorithm by shape, and
        different algorithms round differently). ``fn`` returns a tensor or a
        tuple of tensors with the batch as first axis.
        """
        outputs = []
        device = self.net_.device
        with torch.inference_mode():
            for start in range(0, len(x), self.batch_size):
                batch = x[start : start + self.batch_size]
                n = len(batch)
                if pad and n < self.batch_size:
                    filler = batch[-1:].expand(self.batch_size - n, *batch.shape[1:])
                    batch = torch.cat([batch, filler])
                out = fn(batch.to(device))
                if isinstance(out, tuple):
                    outputs.append(tuple(o[:n].cpu() for o in out))
                else:
                    outputs.append(out[:n].cpu())
        return outputs
