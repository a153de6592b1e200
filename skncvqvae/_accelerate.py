"""Training through Hugging Face Accelerate (skorch's ``AccelerateMixin``).

Inside :func:`use_accelerator`, every net an estimator builds is an
:class:`AcceleratedSelfLossNet` trained with the given ``accelerate.Accelerator``.
A context rather than an estimator parameter, because ``clone`` would deep-copy
the ``Accelerator``, which breaks it (skorch issue #944; ``docs/scaling.rst``).
"""

from __future__ import annotations

import contextlib
import contextvars

from skorch.hf import AccelerateMixin

from ._training import SelfLossNet

__all__ = ["AcceleratedSelfLossNet", "accelerated_net", "use_accelerator"]

_accelerator: contextvars.ContextVar = contextvars.ContextVar("skncvqvae_accelerator", default=None)


class AcceleratedSelfLossNet(AccelerateMixin, SelfLossNet):
    """:class:`~skncvqvae._training.SelfLossNet` trained through an ``accelerate.Accelerator``.

    The step runs under the accelerator's ``autocast`` and ``backward``; module,
    optimizer and data loaders are prepared by it. After training the module is
    unwrapped, so that inference and ``save`` see the plain module.
    """

    def train_step_single(self, batch, **fit_params):
        # AccelerateMixin's own step computes the loss with a criterion; these
        # modules return their loss, so the package's step runs under autocast
        # and backpropagates with the accelerator (``_backward``).
        with self.accelerator.autocast():
            return self._step(batch, training=True)

    def _backward(self, loss):
        self.accelerator.backward(loss)

    def on_train_begin(self, net, X=None, y=None, **kwargs):
        # The mixin prepares the module in ``initialize`` and unwraps it after
        # training; a resumed fit (``warm_start=True``, ``partial_fit``) would
        # otherwise train the unwrapped module. The optimizer stays prepared.
        if not self._wrapped_with_accelerator:
            for name in self._modules:
                module = getattr(self, name + "_")
                setattr(self, name + "_", self.accelerator.prepare(module))
            self._wrapped_with_accelerator = True
        return super().on_train_begin(net, X=X, y=y, **kwargs)


def _check_accelerator(accelerator) -> None:
    try:
        from accelerate import Accelerator
    except ImportError as error:  # pragma: no cover - depends on the environment
        raise ImportError(
            "use_accelerator needs Hugging Face Accelerate: pip install accelerate "
            "(or skncvqvae[distributed])."
        ) from error
    if not isinstance(accelerator, Accelerator):
        raise TypeError(
            f"use_accelerator expects an accelerate.Accelerator, got {type(accelerator).__name__}."
        )
    if accelerator.device_placement:
        raise ValueError(
            "Create the Accelerator with device_placement=False: the estimators put their "
            "module and batches on accelerator.device themselves (their inference needs a "
            "device), and skorch's AccelerateMixin rejects a device when the accelerator "
            "places them too."
        )


@contextlib.contextmanager
def use_accelerator(accelerator):
    """Train the estimators' networks through ``accelerator`` inside the block.

    Every ``fit`` in the block (of :class:`~skncvqvae.NCVQVAETokenizer`,
    :class:`~skncvqvae.NCVQVAEGenerator`, with its tokenizer, and
    :class:`~skncvqvae.metrics.FCNClassifier`) builds its skorch net with
    skorch's :class:`skorch.hf.AccelerateMixin` and ``accelerator``: mixed
    precision, gradient accumulation and, under ``accelerate launch``, data
    parallelism over several GPUs or machines. The estimators' parameters are
    unchanged, and their ``device`` is replaced by ``accelerator.device``.
    Inference after ``fit`` runs on the unwrapped module as usual. The setting
    is local to the thread (a :mod:`contextvars` variable) and does not reach
    joblib or Dask workers.

    Parameters
    ----------
    accelerator : accelerate.Accelerator
        Created with ``device_placement=False`` (the estimators place modules
        and batches on ``accelerator.device``), and with the
        ``mixed_precision`` and ``gradient_accumulation_steps`` wanted. Create
        it once per process, before the estimators fit.

    Yields
    ------
    accelerator : accelerate.Accelerator

    Notes
    -----
    Needs ``pip install accelerate`` (the ``distributed`` extra). A fitted
    estimator holds the accelerator in its net and cannot be pickled; use
    :meth:`~skncvqvae.NCVQVAETokenizer.save` and :func:`skncvqvae.load`.
    Under ``accelerate launch`` every process runs the whole script; save
    the model from ``accelerator.is_main_process`` only.

    Examples
    --------
    >>> from accelerate import Accelerator  # doctest: +SKIP
    >>> from skncvqvae import NCVQVAETokenizer, use_accelerator  # doctest: +SKIP
    >>> accelerator = Accelerator(device_placement=False, mixed_precision="no")  # doctest: +SKIP
    >>> with use_accelerator(accelerator):  # doctest: +SKIP
    ...     tokenizer = NCVQVAETokenizer(random_state=0).fit(X)
    """
    _check_accelerator(accelerator)
    token = _accelerator.set(accelerator)
    try:
        yield accelerator
    finally:
        _accelerator.reset(token)


def accelerated_net(net_class, device: str, verbose: int):
    """``(net class, extra keyword arguments, device)`` for :func:`~skncvqvae._training.make_net`;
    unchanged outside :func:`use_accelerator`. With ``verbose``, skorch's epoch table goes
    through the accelerator's ``print`` (main process only); without, the sink stays ``print``,
    the only one that skorch silences."""
    accelerator = _accelerator.get()
    if accelerator is None:
        return net_class, {}, device
    sink = getattr(accelerator, "print", print) if verbose else print
    kwargs = {"accelerator": accelerator, "callbacks__print_log__sink": sink}
    return AcceleratedSelfLossNet, kwargs, str(accelerator.device)
