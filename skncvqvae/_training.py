"""skorch training for modules that compute their own loss.

:class:`SelfLossNet` trains a module whose ``forward`` returns a
:class:`~skncvqvae.nn.ModelOutput` and records each of its terms per epoch
(``train_<term>``, ``valid_<term>``). :func:`make_net` builds it with AdamW, a
per-step cosine schedule and a seeded shuffling DataLoader.
"""

from __future__ import annotations

import contextlib
import contextvars
import math

import torch
from skorch import NeuralNet
from skorch.callbacks import Callback, PassthroughScoring
from skorch.dataset import ValidSplit, unpack_data
from torch import nn
from tqdm.auto import tqdm

from ._random import spawn_seeds

__all__ = [
    "MIXED_PRECISION",
    "CosineSchedule",
    "EpochProgressBar",
    "HeldOutMonitor",
    "NonFiniteLossError",
    "SelfLossNet",
    "WeightAverage",
    "add_steps",
    "autocast",
    "cosine_lr",
    "epoch_terms",
    "fine_tune",
    "fused_adamw",
    "load_parameters",
    "extend_schedule",
    "make_net",
    "n_fitted",
    "parameter_copy",
    "planned_steps",
    "restore_training_state",
    "stage_progress",
    "training_state",
    "resolve_device",
]


#: The estimators' ``mixed_precision`` values and the autocast dtype of each.
MIXED_PRECISION = {"bf16": torch.bfloat16}


def autocast(mixed_precision: str | None, device) -> torch.autocast:
    """``torch.autocast`` on ``device``'s type for an estimator's ``mixed_precision``
    (a key of :data:`MIXED_PRECISION`); disabled for ``None``."""
    dtype = MIXED_PRECISION.get(mixed_precision)
    return torch.autocast(torch.device(device).type, dtype=dtype, enabled=dtype is not None)


def resolve_device(device: str) -> str:
    """The torch device for an estimator's ``device``: ``"auto"`` is ``"cuda"`` when a GPU
    is visible, else ``"cpu"``; other values must name a device available here."""
    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    try:
        parsed = torch.device(device)
    except (RuntimeError, TypeError) as error:
        raise ValueError(
            f"device={device!r} is not a torch device; use 'auto', 'cpu', 'cuda' or "
            f"'cuda:N' ({error})."
        ) from None
    if parsed.type == "cuda":
        n_gpus = torch.cuda.device_count() if torch.cuda.is_available() else 0
        if n_gpus == 0:
            raise ValueError(
                f"device={device!r} asks for a CUDA GPU, but torch sees none here (torch "
                f"{torch.__version__}, CUDA build: {torch.version.cuda is not None}); use "
                "device='cpu' or 'auto'."
            )
        if parsed.index is not None and parsed.index >= n_gpus:
            raise ValueError(
                f"device={device!r} names GPU {parsed.index}, but torch sees {n_gpus} GPU(s)."
            )
    elif parsed.type != "cpu" and not _backend_available(parsed.type):
        raise ValueError(f"device={device!r}: the {parsed.type!r} backend is not available here.")
    return str(device)


def _backend_available(kind: str) -> bool:
    backend = getattr(torch, kind, None) or getattr(torch.backends, kind, None)
    is_available = getattr(backend, "is_available", None)
    return bool(is_available and is_available())


def fused_adamw(device: str) -> bool:
    """Whether AdamW's fused kernel (one pass over memory per step, ``docs/benchmarks.md``)
    serves ``device``: CPU and CUDA from torch 2.4."""
    major, minor = (int(part) for part in torch.__version__.split(".")[:2])
    return (major, minor) >= (2, 4) and torch.device(device).type in ("cpu", "cuda")


class NonFiniteLossError(FloatingPointError):
    """Training produced a NaN or infinite loss (it diverged)."""


def cosine_lr(lr: float, step: int, total_steps: int) -> float:
    """``lr * (1 + cos(pi * min(step, T) / T)) / 2`` for ``T = total_steps``."""
    progress = min(step, total_steps) / max(total_steps, 1)
    return lr * 0.5 * (1.0 + math.cos(math.pi * progress))


class CosineSchedule(Callback):
    """Cosine annealing of the learning rate per optimisation step to 0 (:func:`cosine_lr`).

    The step count lives in the callback, so a resumed fit continues the
    schedule where it stopped, also after an interruption mid-epoch.
    """

    def __init__(self, total_steps: int):
        self.total_steps = total_steps

    def initialize(self):
        self.step_ = 0
        return self

    def _apply(self, net) -> None:
        for group in net.optimizer_.param_groups:
            group["lr"] = cosine_lr(net.lr, self.step_, self.total_steps)

    def on_train_begin(self, net, **kwargs):
        self._apply(net)

    def on_batch_end(self, net, batch=None, training=None, **kwargs):
        if training:
            self.step_ += 1
            self._apply(net)


def parameter_copy(module: nn.Module) -> dict:
    """Detached copies of ``module``'s parameters, by name."""
    return {name: p.detach().clone() for name, p in module.named_parameters()}


def load_parameters(module: nn.Module, weights: dict) -> None:
    """Copy ``weights`` (by name, as :func:`parameter_copy` gives) into ``module``'s parameters."""
    params = dict(module.named_parameters())
    with torch.no_grad():
        for name, weight in weights.items():
            params[name].copy_(weight)


class WeightAverage(Callback):
    """An exponential moving average of the module's parameters, which it holds after a fit.

    After step ``t`` the average moves towards the parameters by
    ``1 - min(decay, (1 + t) / (10 + t))``. When a fit ends the trained
    parameters are kept in ``trained_``, and a resumed fit trains on from them,
    not from the average. Buffers are not averaged.
    """

    def __init__(self, decay: float):
        self.decay = decay

    def initialize(self):
        self.average_ = None
        self.trained_ = None
        self.step_ = 0
        return self

    def on_train_begin(self, net, **kwargs):
        if self.trained_ is not None:
            load_parameters(net.module_, self.trained_)
            self.trained_ = None
        if self.average_ is None:
            self.average_ = parameter_copy(net.module_)

    def on_batch_end(self, net, batch=None, training=None, **kwargs):
        if not training:
            return
        self.step_ += 1
        weight = 1.0 - min(self.decay, (1 + self.step_) / (10 + self.step_))
        with torch.no_grad():
            for name, param in net.module_.named_parameters():
                self.average_[name].lerp_(param, weight)

    def on_train_end(self, net, **kwargs):
        if self.average_ is None:
            return
        self.trained_ = parameter_copy(net.module_)
        load_parameters(net.module_, self.average_)


def n_fitted(n_train: int, validation_fraction: float | None) -> int:
    """Rows left for training after holding out ``validation_fraction`` of ``n_train``."""
    if not validation_fraction:
        return n_train
    return math.ceil(n_train * (1 - validation_fraction))


# The callbacks' state, read and written here only: the schedule ("lr_scheduler") and
# the weight average ("weight_average") that make_net installs.
def _callback(net: NeuralNet, name: str):
    callbacks = net.callbacks_ if hasattr(net, "callbacks_") else net.callbacks
    return dict(callbacks).get(name)


def planned_steps(net: NeuralNet) -> int:
    """The optimisation steps of ``net``'s learning-rate schedule (its training budget)."""
    return _callback(net, "lr_scheduler").total_steps


def extend_schedule(net: NeuralNet, total_steps: int) -> None:
    """Stretch the schedule of the fitted ``net`` to ``total_steps`` (a resumed fit)."""
    _callback(net, "lr_scheduler").total_steps = total_steps


def training_state(net: NeuralNet) -> tuple[int, dict | None]:
    """``(steps trained, trained weights)`` of a fitted ``net``: what a resumed fit needs
    besides the module and history (weights ``None`` without a :class:`WeightAverage`)."""
    average = _callback(net, "weight_average")
    trained = None if average is None else average.trained_
    return _callback(net, "lr_scheduler").step_, trained


def restore_training_state(net: NeuralNet, step: int, trained: dict | None) -> None:
    """Put back what :func:`training_state` gave, into an initialised ``net``
    whose module holds the fitted weights (the average, with a weight average)."""
    _callback(net, "lr_scheduler").step_ = step
    average = _callback(net, "weight_average")
    if average is not None:
        average.average_ = parameter_copy(net.module_)
        average.trained_ = trained or None
        average.step_ = step


def fine_tune(
    module: nn.Module,
    loss,
    data: tuple[torch.Tensor, ...],
    *,
    n_steps: int,
    batch_size: int,
    lr: float,
    weight_decay: float,
    seed: int,
    mixed_precision: str | None = None,
    verbose: int = 0,
    description: str = "fine-tuning",
) -> list[float]:
    """Train ``module``'s parameters for ``n_steps`` steps on ``loss(*batch)``; the losses.

    ``data``: tensors, rows first, on ``module``'s device; each step draws
    ``batch_size`` distinct rows with a generator seeded by ``seed``. AdamW,
    cosine-annealed as in :func:`make_net`; ``module`` is left in eval mode.
    """
    device = data[0].device
    generator = torch.Generator().manual_seed(seed)
    optimizer = torch.optim.AdamW(
        module.parameters(), lr=lr, weight_decay=weight_decay, fused=fused_adamw(str(device))
    )
    n_rows, rows = len(data[0]), min(batch_size, len(data[0]))
    losses = []
    module.train()
    shared = _stage_bar()
    own = verbose and shared is None
    steps = tqdm(range(n_steps), desc=description, leave=False) if own else range(n_steps)
    try:
        for step in steps:
            for group in optimizer.param_groups:
                group["lr"] = cosine_lr(lr, step, n_steps)
            index = torch.randperm(n_rows, generator=generator)[:rows].to(device)
            with autocast(mixed_precision, device):
                value = loss(*(tensor[index] for tensor in data))
            if not torch.isfinite(value):
                raise NonFiniteLossError(
                    f"{description} diverged at step {step + 1}: the loss is {value.item()}."
                )
            optimizer.zero_grad(set_to_none=True)
            value.backward()
            optimizer.step()
            losses.append(value.item())
            if shared is not None:
                shared.update(1)
    finally:
        module.eval()
    return losses


def epoch_terms(net: NeuralNet, names) -> list[dict]:
    """Per-epoch training values of ``names`` from a skorch history, and the held-out
    values ``valid_<name>`` of the epochs that have them."""
    rows = []
    for epoch in net.history:
        row = {name: epoch[f"train_{name}"] for name in names}
        row.update({f"valid_{n}": epoch[f"valid_{n}"] for n in names if f"valid_{n}" in epoch})
        rows.append(row)
    return rows


class HeldOutMonitor:
    """Held-out loss of a self-loss module, checked between chunks of training; early stopping.

    ``data`` are the module's inputs for the held-out rows (a dict of tensors,
    as the net's training data), repeated to at least ``n_rows`` rows so that
    the estimate averages over many random masks. Every check evaluates the
    module as it stands between two ``partial_fit`` calls (the weight average,
    when the net has one) in evaluation mode, with the module's randomness
    drawn from a generator seeded with ``seed`` afresh: every check sees the
    same masks, so the scores differ by the weights alone. Each check records
    ``valid_<term>`` in the net's last history row and keeps a copy of the best
    weights; :meth:`__call__` returns ``True`` after ``patience`` checks without
    a lower loss, and :meth:`restore_best` puts the best weights back.
    """

    def __init__(self, data: dict, *, patience: int, seed: int, n_rows: int = 256):
        n = len(next(iter(data.values())))
        repeats = max(1, math.ceil(n_rows / n))
        self.data = {key: value.repeat_interleave(repeats, dim=0) for key, value in data.items()}
        self.patience = patience
        self.seed = seed
        self.scores: list[float] = []
        self.best_index: int | None = None
        self.best_weights: dict | None = None

    @torch.no_grad()
    def evaluate(self, net: NeuralNet):
        """The module's output on the held-out rows (fixed masks), in evaluation mode."""
        module = net.module_
        was_training = module.training
        module.eval()
        generator = torch.Generator(device=net.device).manual_seed(self.seed)
        data = {key: value.to(net.device) for key, value in self.data.items()}
        try:
            with autocast(getattr(net, "mixed_precision", None), net.device):
                return module(**data, generator=generator)
        finally:
            module.train(was_training)

    def __call__(self, net: NeuralNet) -> bool:
        """Check once; ``True`` when training should stop."""
        out = self.evaluate(net)
        for name, value in out.terms.items():
            net.history.record(f"valid_{name}", float(value))
        score = float(out.loss)
        self.scores.append(score)
        if self.best_index is None or score < self.scores[self.best_index]:
            self.best_index = len(self.scores) - 1
            self.best_weights = parameter_copy(net.module_)
        return len(self.scores) - 1 - self.best_index >= self.patience

    def restore_best(self, net: NeuralNet) -> None:
        """Load the weights of the best check into ``net``'s module."""
        if self.best_weights is not None:
            load_parameters(net.module_, self.best_weights)


class SelfLossNet(NeuralNet):
    """A skorch ``NeuralNet`` whose module returns its own loss.

    The module's ``forward(..., generator=...)`` gets a ``torch.Generator`` on
    the net's device, seeded with ``seed`` at the first ``fit`` and continued
    by ``partial_fit``, so all training randomness is reproducible. Between fits
    only its state is kept (a CPU tensor), so a GPU-trained net unpickles
    anywhere. ``term_names``: the terms recorded per epoch besides ``loss``;
    ``mixed_precision`` (``"bf16"`` or ``None``): the autocast dtype of the
    forward pass, while weights and optimizer stay float32.
    """

    def __init__(self, module, *args, seed: int = 0, term_names=(), mixed_precision=None, **kwargs):
        kwargs.setdefault("criterion", nn.Identity)
        super().__init__(module, *args, **kwargs)
        self.seed = seed
        self.term_names = term_names
        self.mixed_precision = mixed_precision

    def _autocast(self):
        """``torch.autocast`` for :attr:`mixed_precision` (disabled for ``None``)."""
        # getattr: nets pickled before the attribute existed train in float32
        return autocast(getattr(self, "mixed_precision", None), self.device)

    def _default_callbacks_for_terms(self):
        callbacks = []
        for name in self.term_names:
            if name == "loss":
                continue
            callbacks.append(
                (f"train_{name}", PassthroughScoring(name=f"train_{name}", on_train=True))
            )
            callbacks.append((f"valid_{name}", PassthroughScoring(name=f"valid_{name}")))
        return callbacks

    def get_default_callbacks(self):
        return [*super().get_default_callbacks(), *self._default_callbacks_for_terms()]

    def fit_loop(self, X, y=None, epochs=None, **fit_params):
        self.interrupted_ = False
        self.generator_ = torch.Generator(device=self.device).manual_seed(self.seed)
        state = getattr(self, "generator_state_", None)
        if state is not None and state.numel() == self.generator_.get_state().numel():
            self.generator_.set_state(state)
        try:
            return super().fit_loop(X, y, epochs=epochs, **fit_params)
        except KeyboardInterrupt:
            # skorch swallows the interrupt after this; the flag lets the estimator
            # finish in a consistent state and re-raise it.
            self.interrupted_ = True
            if self.history and "train_loss" not in self.history[-1]:
                self.history.pop()  # the unfinished epoch
            raise
        finally:
            self.generator_state_ = self.generator_.get_state()
            del self.generator_

    def initialize(self):
        self.generator_state_ = None
        self.interrupted_ = False
        return super().initialize()

    def _step(self, batch, training: bool):
        self._set_training(training)
        Xi, _ = unpack_data(batch)
        with torch.set_grad_enabled(training), self._autocast():
            out = self.infer(Xi, generator=self.generator_)
        if training and not torch.isfinite(out.loss.detach()):
            raise NonFiniteLossError(
                f"The training loss became {float(out.loss.detach()):g} in epoch {len(self.history)}: "
                f"training diverged. The usual cause is a learning rate that is too high "
                f"(lr={self.lr:g}; try 10x lower); extreme or badly scaled inputs are another."
            )
        if training:
            self._backward(out.loss)
        prefix = "train" if training else "valid"
        for name, value in out.terms.items():
            if name != "loss":
                self.history.record_batch(f"{prefix}_{name}", float(value))
        return {"loss": out.loss.detach() if not training else out.loss, "y_pred": None}

    def _backward(self, loss):
        loss.backward()

    def train_step_single(self, batch, **fit_params):
        return self._step(batch, training=True)

    def validation_step(self, batch, **fit_params):
        return self._step(batch, training=False)


#: ``(owner, bar)`` of the open :func:`stage_progress`, if any.
_stages: contextvars.ContextVar = contextvars.ContextVar("skncvqvae_stages", default=None)


@contextlib.contextmanager
def stage_progress(owner, steps: int, description: str, enabled: bool = True):
    """One bar, with an ETA, over the optimisation steps of every training in the block.

    ``owner`` (the estimator whose fit opens it) counts its own ``steps`` up
    front; the training of another estimator in the block adds its steps when
    it starts (:func:`add_steps`). Meanwhile the trainings show no bars of their own.
    """
    if not enabled or _stages.get() is not None:
        yield
        return
    bar = tqdm(total=steps, desc=description, unit="step", leave=False)
    token = _stages.set((owner, bar))
    try:
        yield
    finally:
        _stages.reset(token)
        bar.close()


def add_steps(estimator, steps: int) -> None:
    """Count ``steps`` more in the open :func:`stage_progress`, unless ``estimator`` owns it."""
    stages = _stages.get()
    if stages is not None and stages[0] is not estimator:
        stages[1].total += steps
        stages[1].refresh()


def _stage_bar():
    stages = _stages.get()
    return None if stages is None else stages[1]


class EpochProgressBar(Callback):
    """A tqdm bar over epochs, showing the last epoch's training loss; inside a
    :func:`stage_progress`, that bar counts the steps instead."""

    def __init__(self, description: str = "training"):
        self.description = description

    def on_train_begin(self, net, X=None, y=None, **kwargs):
        self.shared_ = _stage_bar()
        if self.shared_ is None:
            self.bar_ = tqdm(total=net.max_epochs, desc=self.description, leave=False)

    def on_batch_end(self, net, batch=None, training=None, **kwargs):
        if training and self.shared_ is not None:
            self.shared_.update(1)

    def on_epoch_end(self, net, **kwargs):
        bar = self.bar_ if self.shared_ is None else self.shared_
        bar.set_postfix(loss=f"{net.history[-1, 'train_loss']:.4f}", refresh=False)
        if self.shared_ is None:
            self.bar_.update(1)

    def on_train_end(self, net, X=None, y=None, **kwargs):
        if self.shared_ is None:
            self.bar_.close()

    def __getstate__(self):
        state = self.__dict__.copy()
        state.pop("bar_", None)
        state.pop("shared_", None)
        return state


def make_net(
    module,
    *,
    n_train: int,
    term_names,
    max_epochs: int,
    batch_size: int,
    lr: float,
    weight_decay: float,
    device: str,
    seed: int,
    verbose: int,
    validation_fraction: float | None = None,
    description: str = "training",
    weight_average: float | None = None,
    mixed_precision: str | None = None,
    net_class: type = SelfLossNet,
    net_kwargs: dict | None = None,
    **module_kwargs,
) -> SelfLossNet:
    """Build a :class:`SelfLossNet` with AdamW and a per-step cosine schedule.

    ``n_train`` (before any validation split) sets the schedule's length.
    ``seed`` is split into the seeds of the module's generator and of the
    shuffling (the caller seeds initialisation with it). ``weight_average``, a
    decay, adds a :class:`WeightAverage`. ``net_class`` and ``net_kwargs`` come
    from :func:`~skncvqvae._accelerate.accelerated_net`.
    """
    n_fit = n_fitted(n_train, validation_fraction)
    augment_seed, loader_seed = spawn_seeds(seed, 2)
    steps = max(1, max_epochs * math.ceil(n_fit / batch_size))
    callbacks = [("lr_scheduler", CosineSchedule(steps))]
    if weight_average is not None:
        callbacks.append(("weight_average", WeightAverage(weight_average)))
    if verbose:
        callbacks.append(("progress", EpochProgressBar(description)))
    return net_class(
        module,
        seed=augment_seed,
        term_names=tuple(term_names),
        mixed_precision=mixed_precision,
        optimizer=torch.optim.AdamW,
        optimizer__weight_decay=weight_decay,
        optimizer__fused=fused_adamw(device) or None,
        lr=lr,
        max_epochs=max_epochs,
        batch_size=batch_size,
        train_split=ValidSplit(validation_fraction, random_state=seed % 2**32)
        if validation_fraction
        else None,
        iterator_train__shuffle=True,
        iterator_train__generator=torch.Generator().manual_seed(loader_seed),
        callbacks=callbacks,
        device=device,
        verbose=int(verbose >= 2),
        **(net_kwargs or {}),
        **{f"module__{key}": value for key, value in module_kwargs.items()},
    )
