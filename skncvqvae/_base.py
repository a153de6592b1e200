"""The private base of the package's torch-backed estimators.

:class:`BaseTorchEstimator` holds what the tokenizer, the generator and
:class:`~skncvqvae.metrics.FCNClassifier` share: training parameters and
constraints, fitted-shape checks, building and fitting the skorch net, and
batched inference. Subclasses keep their own ``__init__`` and call these
helpers from ``fit``.
"""

from __future__ import annotations

import contextlib
import math
import numbers
import os
import sys
import threading
import warnings

import numpy as np
import torch
from sklearn.base import BaseEstimator
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted

from . import nn
from ._accelerate import accelerated_net
from ._persistence import register, save
from ._random import derive_seed, seeded
from ._training import (
    MIXED_PRECISION,
    HeldOutMonitor,
    NonFiniteLossError,
    SelfLossNet,
    add_steps,
    epoch_terms,
    extend_schedule,
    make_net,
    n_fitted,
    planned_steps,
    resolve_device,
)
from ._validation import check_collection

__all__ = ["BaseTorchEstimator", "worker_threads"]

_threads_lock = threading.Lock()
_threads_scope = {"depth": 0, "saved": None}


def _worker_thread_limit() -> int | None:
    """The torch thread count for a task of a joblib or Dask worker; ``None`` elsewhere.

    ``OMP_NUM_THREADS`` if set, else 1, so that concurrent fits in backends that
    set no limit do not oversubscribe the cores (``docs/scaling.rst``).
    """
    from joblib.parallel import get_active_backend

    in_worker = getattr(get_active_backend()[0], "nesting_level", 0) >= 1
    if not in_worker and "distributed" in sys.modules:
        try:
            sys.modules["distributed"].get_worker()
            in_worker = True
        except (ValueError, AttributeError):
            pass
    if not in_worker:
        return None
    try:
        limit = int(os.environ.get("OMP_NUM_THREADS", ""))
    except ValueError:
        limit = 1
    return max(1, min(limit, torch.get_num_threads()))


@contextlib.contextmanager
def worker_threads():
    """Run the block with :func:`_worker_thread_limit` torch threads, then restore.

    Concurrent blocks in one process all restore the count that the first of
    them found, so that none leaves the lowered count behind.
    """
    limit = _worker_thread_limit()
    if limit is None or limit == torch.get_num_threads():
        yield
        return
    with _threads_lock:
        if _threads_scope["depth"] == 0:
            _threads_scope["saved"] = torch.get_num_threads()
        _threads_scope["depth"] += 1
        saved = _threads_scope["saved"]
    torch.set_num_threads(limit)
    try:
        yield
    finally:
        with _threads_lock:
            _threads_scope["depth"] -= 1
        torch.set_num_threads(saved)


def numba_openmp_active() -> bool:
    """Whether numba's OpenMP threading layer has started in this process.

    aeon's numba-compiled estimators (MiniRocket, Rocket, distance-based
    classifiers) start it at their first parallel call where numba's ``omp``
    layer is available. Its OpenMP runtime is a different copy from torch's;
    while both hold thread pools, torch training on more than one thread ran
    about 25x slower per step on 2 cores (docs/benchmarks.md, "Two OpenMP
    runtimes in one process").
    """
    numba = sys.modules.get("numba")
    if numba is None:
        return False
    try:
        return numba.threading_layer() == "omp"
    except (ValueError, AttributeError):  # not started yet, or an unusual numba
        return False


def prefer_numba_workqueue() -> bool:
    """Make numba start its ``workqueue`` threading layer, unless the user chose one.

    For the package's own entry points (``skncvqvae report``), which run aeon's
    numba code and torch training in one process: sets
    ``NUMBA_THREADING_LAYER=workqueue`` (inherited by worker processes) and, where
    numba is already imported but its layer has not started, numba's config.
    Returns whether the choice was made (``False`` when the variable was set, or
    numba's layer had already started).
    """
    if "NUMBA_THREADING_LAYER" in os.environ:
        return False
    os.environ["NUMBA_THREADING_LAYER"] = "workqueue"
    numba = sys.modules.get("numba")
    if numba is not None:
        try:
            numba.threading_layer()
            return False  # already started: too late for this process
        except ValueError:
            numba.config.THREADING_LAYER = "workqueue"
    return True


def warn_threading_conflict(estimator, device: str) -> None:
    """A ``RuntimeWarning`` when training is about to run in the conflict of
    :func:`numba_openmp_active` (on the CPU, torch on more than one thread)."""
    if str(device).startswith("cpu") and torch.get_num_threads() > 1 and numba_openmp_active():
        warnings.warn(
            f"{type(estimator).__name__} trains on {torch.get_num_threads()} torch threads in a "
            "process where numba's OpenMP threading layer is running (an aeon estimator such "
            "as MiniRocket ran here). The two OpenMP runtimes compete for the cores and "
            "training can be 10-25x slower. Set NUMBA_THREADING_LAYER=workqueue in the "
            "environment before aeon is imported, or call torch.set_num_threads(1), or run "
            "the aeon estimator in another process.",
            RuntimeWarning,
            stacklevel=3,
        )


def auto_epochs(n_fit: int, batch_size: int, budget: tuple[int, int, int]) -> int:
    """Epochs of a ``max_epochs="auto"`` budget ``(epochs, min_steps, max_steps)``: ``epochs``
    epochs as optimisation steps, clipped to ``[min_steps, max_steps]``, rounded up to epochs."""
    epochs, min_steps, max_steps = budget
    per_epoch = math.ceil(n_fit / batch_size)
    steps = min(max(epochs * per_epoch, min_steps), max_steps)
    return max(1, math.ceil(steps / per_epoch))


class BaseTorchEstimator(BaseEstimator):
    """Shared parameters, fitting and inference of the torch-backed estimators.

    Subclasses declare ``max_epochs``, ``batch_size``, ``lr``,
    ``weight_decay``, ``warm_start``, ``device``, ``random_state`` and
    ``verbose`` in their ``__init__``; those with a ``mixed_precision`` or an
    ``unequal_length`` parameter override :meth:`_mixed_precision` and
    :meth:`_unequal_length`. Every subclass is registered for
    :func:`skncvqvae.load`.
    """

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        register(cls)

    _parameter_constraints: dict = {
        "max_epochs": [Interval(numbers.Integral, 1, None, closed="left"), StrOptions({"auto"})],
        "batch_size": [Interval(numbers.Integral, 1, None, closed="left")],
        "lr": [Interval(numbers.Real, 0, None, closed="neither")],
        "weight_decay": [Interval(numbers.Real, 0, None, closed="left")],
        "warm_start": ["boolean"],
        "device": [str],
        "mixed_precision": [StrOptions(set(MIXED_PRECISION)), None],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
    }

    #: ``max_epochs="auto"``: ``(epochs, min_steps, max_steps)``, see :func:`auto_epochs`.
    _auto_budget = (100, 0, 10**9)

    #: Inference batches hold at most this many input values (rows x channels x
    #: length), and at most ``batch_size`` rows: long series get small batches.
    _inference_elements = 2**18

    def __sklearn_is_fitted__(self) -> bool:
        # ``net_`` is set last in ``fit``: a fit that failed or was interrupted
        # before it leaves the estimator unfitted.
        return "net_" in self.__dict__

    # -- seeds ---------------------------------------------------------------
    def _seed(self, random_state=None) -> int:
        """One integer seed for this call from ``random_state`` (default: the estimator's)."""
        return derive_seed(self.random_state if random_state is None else random_state)

    # -- training data -------------------------------------------------------
    def _check_fit_collection(self, X, return_ndim: bool = False) -> tuple[np.ndarray, dict]:
        """The training collection, float64 ``(n, C, L)``, and its shape attributes
        (``n_features_in_``, ``n_channels_``, ``n_timepoints_``) for :meth:`_set_fitted`."""
        X3, ndim = check_collection(X, return_ndim=True, unequal_length=self._unequal_length())
        shape = self._fit_shape(X3, ndim)
        return (X3, shape, ndim) if return_ndim else (X3, shape)

    @staticmethod
    def _fit_shape(X3: np.ndarray, ndim: int = 3) -> dict:
        """The shape attributes of the validated ``X3 (n, C, L)``; ``ndim`` of the user's input."""
        return {
            "n_features_in_": X3.shape[2] if ndim == 2 else X3.shape[1],
            "n_channels_": X3.shape[1],
            "n_timepoints_": X3.shape[2],
        }

    def _unequal_length(self) -> str | None:
        """The strategy for unequal-length series; ``None`` (rejected) unless overridden."""
        return None

    def _can_resume(self, shape: dict) -> bool:
        """``warm_start`` and a fitted net for series of the same shape."""
        return bool(
            self.warm_start
            and "net_" in self.__dict__
            and all(getattr(self, key) == value for key, value in shape.items())
        )

    def _n_epochs(self, n_fit: int, budget: tuple[int, int, int] | None = None) -> int:
        """Epochs to train on ``n_fit`` samples: ``max_epochs``, or the ``"auto"`` rule
        (``budget``, by default the class's ``_auto_budget``)."""
        if self.max_epochs != "auto":
            return int(self.max_epochs)
        return auto_epochs(n_fit, self.batch_size, budget or self._auto_budget)

    # -- the net ---------------------------------------------------------------
    def _fit_net(
        self,
        module,
        data,
        *,
        seed: int,
        term_names,
        description: str,
        resume: bool = False,
        validation_fraction: float | None = None,
        step_budget: tuple[int, int, int] | None = None,
        monitor: HeldOutMonitor | None = None,
        check_every: int = 1,
        **module_kwargs,
    ) -> SelfLossNet:
        """Build the skorch net for ``module``, train it on ``data`` and return it.

        Initialisation and training run in a fork of torch's global generator
        seeded with ``seed``. With ``resume``, the fitted ``net_`` continues to
        :meth:`_n_epochs` epochs, its schedule stretched to the new total. With
        a ``monitor``, training runs in chunks of ``check_every`` epochs (the
        same steps as one run: ``partial_fit`` continues the schedule, the
        shuffling and the module's random stream), the monitor checks after
        each, training stops when it says so, and the module ends with the
        monitor's best weights. The module is left in evaluation mode.
        """
        n_train = len(next(iter(data.values())) if isinstance(data, dict) else data)
        n_fit = n_fitted(n_train, validation_fraction)
        build = dict(
            module=module.__name__,
            n_train=n_train,
            n_epochs=self._n_epochs(n_fit, step_budget),
            term_names=tuple(term_names),
            seed=seed,
            description=description,
            validation_fraction=validation_fraction,
            module_kwargs=module_kwargs,
        )
        device = resolve_device(self.device)
        net = self._make_net(build, device)
        with seeded(seed), worker_threads():
            warn_threading_conflict(self, device)
            if resume:
                total_steps = planned_steps(net)
                net = self.net_
                net.mixed_precision = self._mixed_precision()
                extend_schedule(net, total_steps)
                net.max_epochs = build["n_epochs"]
                net.build_args_ = {**net.build_args_, "n_epochs": build["n_epochs"]}
            else:
                net.initialize()
                net.build_args_ = build
            remaining = build["n_epochs"] - len(net.history)
            add_steps(self, max(remaining, 0) * math.ceil(n_fit / self.batch_size))
            chunk = remaining if monitor is None else check_every
            interrupted = False  # set by SelfLossNet.fit_loop; nets of other classes lack it
            while remaining > 0 and not interrupted:
                net.partial_fit(data, None, epochs=min(chunk, remaining))
                remaining -= chunk
                interrupted = getattr(net, "interrupted_", False)
                if monitor is not None and not interrupted and monitor(net):
                    break
            if monitor is not None and not interrupted:
                monitor.restore_best(net)
        net.module_.eval()
        if not all(torch.isfinite(w).all() for w in net.module_.state_dict().values()):
            raise NonFiniteLossError(
                f"{type(self).__name__} training diverged: the weights hold NaN or inf. The "
                f"usual cause is a learning rate that is too high (lr={self.lr:g}; try 10x lower)."
            )
        return net

    def _make_net(self, build: dict, device: str) -> SelfLossNet:
        """The skorch net described by ``build`` (see :meth:`_fit_net`), not initialised."""
        module_kwargs = dict(build["module_kwargs"])
        net_class, net_kwargs, device = accelerated_net(SelfLossNet, device, int(self.verbose >= 2))
        return make_net(
            getattr(nn, build["module"]),
            n_train=build["n_train"],
            term_names=build["term_names"],
            max_epochs=build["n_epochs"],
            batch_size=self.batch_size,
            lr=self.lr,
            weight_decay=self.weight_decay,
            device=device,
            seed=build["seed"],
            verbose=self.verbose,
            validation_fraction=build["validation_fraction"],
            description=build["description"],
            weight_average=self._weight_average(),
            mixed_precision=self._mixed_precision(),
            net_class=net_class,
            net_kwargs=net_kwargs,
            **module_kwargs,
        )

    def _mixed_precision(self) -> str | None:
        """The autocast precision of training; ``None`` (float32) unless overridden."""
        return None

    def _weight_average(self) -> float | None:
        """Decay of the :class:`~skncvqvae._training.WeightAverage` of the net, or ``None``."""
        return None

    def _set_fitted(self, net: SelfLossNet, **attributes) -> None:
        """Keep ``net`` and the fitted ``attributes``, ``net_`` last.

        After a Ctrl-C the net of the last step is kept and ``KeyboardInterrupt``
        raised again; ``warm_start=True`` continues it.
        """
        for name, value in attributes.items():
            setattr(self, name, value)
        self.n_steps_ = planned_steps(net)
        self.history_ = epoch_terms(net, net.term_names)
        self.net_ = net
        if getattr(net, "interrupted_", False):
            raise KeyboardInterrupt(
                f"{type(self).__name__}.fit was interrupted after {len(net.history)} of "
                f"{net.max_epochs} epochs. The estimator keeps the model of the last "
                "training step; call fit again with warm_start=True to continue."
            )

    # -- saving --------------------------------------------------------------
    def save(self, path):
        """Write the fitted estimator to ``path``, a ``.safetensors`` file, without pickle.

        Parameters, fitted attributes, weights and training history are kept;
        :func:`skncvqvae.load` reads them back without running code from the file.

        Parameters
        ----------
        path : str or path-like

        Returns
        -------
        path : pathlib.Path
        """
        return save(self, path)

    # -- inference -------------------------------------------------------------
    def _check_collection(self, X) -> np.ndarray:
        """Validate ``X`` against the fitted channels and length; float64 ``(n, C, L)``."""
        check_is_fitted(self)
        return check_collection(
            X,
            n_channels=self.n_channels_,
            n_timepoints=self.n_timepoints_,
            estimator_name=type(self).__name__,
            unequal_length=self._unequal_length(),
        )

    def _inference_rows(self, x) -> int:
        """Rows per inference batch: ``batch_size``, fewer for long series."""
        per_row = max(1, int(np.prod(x.shape[1:]))) if len(x) else 1
        return max(1, min(self.batch_size, self._inference_elements // per_row))

    def _map_batches(self, fn, x, *, pad: bool = True, convert=None, into=None):
        """Apply ``fn`` to batches of ``x`` on the net's device; outputs per batch, on the CPU.

        Batches of :meth:`_inference_rows` rows, under ``torch.inference_mode``.
        ``pad`` pads the last batch to full size (repeating its last row) so that
        a row's output does not depend on its batch (``docs/model.md``). ``fn``
        returns a tensor or a tuple of tensors, batch first. ``convert`` turns
        each slice of ``x`` into a tensor; ``into(start, out)``, if given,
        receives each batch's outputs instead of the returned list.
        """
        outputs = []
        device = self.net_.device
        rows = self._inference_rows(x)
        with worker_threads(), torch.inference_mode():
            for start in range(0, len(x), rows):
                batch = x[start : start + rows]
                if convert is not None:
                    batch = convert(batch)
                n = len(batch)
                if pad and n < rows:
                    batch = torch.cat([batch, batch[-1:].expand(rows - n, *batch.shape[1:])])
                out = fn(batch.to(device))
                if isinstance(out, tuple):
                    out = tuple(o[:n].cpu() for o in out)
                else:
                    out = out[:n].cpu()
                if into is None:
                    outputs.append(out)
                else:
                    into(start, out)
        return outputs
