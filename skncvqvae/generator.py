"""``NCVQVAEGenerator``: stages 1 and 2 of NC-VQVAE, for sampling new series."""

from __future__ import annotations

import copy
import math
import numbers
import os

import numpy as np
import torch
from sklearn.base import _fit_context, clone
from sklearn.preprocessing import LabelEncoder
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, column_or_1d
from tqdm.auto import tqdm

from ._base import BaseTorchEstimator, worker_threads
from ._random import seeded, spawn_seeds
from ._training import HeldOutMonitor, autocast, fine_tune, stage_progress
from ._validation import check_n_samples
from .metrics import fid_score
from .nn import PRIOR_TERMS, MaskGITPrior, critic_loss
from .tokenizer import NCVQVAETokenizer

__all__ = ["NCVQVAEGenerator"]


def _is_fitted(estimator) -> bool:
    return hasattr(estimator, "net_")


def _holdout_rows(labels, n_cases: int, fraction: float, seed: int) -> np.ndarray:
    """Sorted indices of the series that ``early_stopping`` holds out.

    ``round(fraction * n)`` of each class's ``n`` series (of all ``n_cases``
    without labels), but never a class's last one, so that every class is
    trained on; at least one in all.
    """
    rng = np.random.default_rng(seed)
    if labels is None:
        groups = [np.arange(n_cases)]
    else:
        groups = [np.flatnonzero(labels == c) for c in np.unique(labels)]
    counts = [min(len(group) - 1, round(fraction * len(group))) for group in groups]
    if sum(counts) == 0:
        largest = max(range(len(groups)), key=lambda i: len(groups[i]))
        if len(groups[largest]) < 2:
            raise ValueError(
                "early_stopping=True holds out series for the prior's held-out loss, but "
                "every class has a single series; fit with early_stopping=False."
            )
        counts[largest] = 1
    held = [rng.choice(group, size=k, replace=False) for group, k in zip(groups, counts)]
    return np.sort(np.concatenate(held)).astype(np.int64)


def _encode_labels(y, n_cases: int):
    """``(class ids, classes, counts)`` of ``y``, or three ``None`` without labels."""
    if y is None:
        return None, None, None
    y = column_or_1d(y, warn=True)
    if len(y) != n_cases:
        raise ValueError(f"X has {n_cases} cases but y has {len(y)} labels.")
    if y.dtype.kind == "O":
        kinds = {
            "str" if isinstance(v, str) else "number"
            for v in y
            if _is_number(v) or isinstance(v, str)
        }
        if len(kinds) > 1 or any(not (_is_number(v) or isinstance(v, str)) for v in y):
            raise ValueError(
                "y must hold labels of one kind, all strings or all numbers, without None; "
                f"got the types {sorted({type(v).__name__ for v in y})}."
            )
    if y.dtype.kind in "fc" or y.dtype.kind == "O":
        missing = [v for v in y if isinstance(v, (float, np.floating)) and np.isnan(v)]
        if missing:
            raise ValueError(
                f"y contains {len(missing)} missing (NaN) label(s); every series needs a class."
            )
    check_classification_targets(y)
    encoder = LabelEncoder().fit(y)
    labels = encoder.transform(y)
    return labels, encoder.classes_, np.bincount(labels)


_STRATEGIES = ("auto", "minority", "not minority", "not majority", "all")


def _targets(counts: dict, strategy, y) -> dict:
    """Total count wanted per class for an imbalanced-learn ``sampling_strategy``."""
    majority = max(counts.values())
    if callable(strategy):
        strategy = strategy(y)
        if not isinstance(strategy, dict):
            raise ValueError(
                f"A callable sampling_strategy must return a dict {{label: count}}; got "
                f"{type(strategy).__name__}."
            )
    if isinstance(strategy, dict):
        unknown = set(strategy) - set(counts)
        if unknown:
            raise ValueError(f"sampling_strategy names unknown classes {sorted(unknown, key=str)}.")
        targets = dict(counts)
        for label, target in strategy.items():
            if not isinstance(target, numbers.Integral) or isinstance(target, bool):
                raise ValueError(
                    f"sampling_strategy counts must be integers; got {target!r} for class {label!r}."
                )
            if target < counts[label]:
                raise ValueError(
                    f"sampling_strategy asks for {target} samples of class {label!r}, fewer "
                    f"than its {counts[label]} real ones; over-sampling cannot remove data."
                )
            targets[label] = int(target)
        return targets
    if isinstance(strategy, numbers.Real) and not isinstance(strategy, bool):
        if len(counts) != 2:
            raise ValueError(
                f"A float sampling_strategy is for two classes only; y has {len(counts)}. "
                "Use a dict or a string."
            )
        if not 0 < strategy <= 1:
            raise ValueError(f"A float sampling_strategy must be in (0, 1]; got {strategy}.")
        minority = min(counts, key=counts.get)
        target = int(strategy * majority)
        if target < counts[minority]:
            raise ValueError(
                f"sampling_strategy={strategy} asks for {target} series of the minority class "
                f"{minority!r}, fewer than its {counts[minority]}; raise the ratio."
            )
        return {**counts, minority: target}
    if isinstance(strategy, str) and strategy in _STRATEGIES:
        smallest = min(counts.values())
        select = {
            "minority": lambda n: n == smallest,
            "not minority": lambda n: n != smallest,
            "not majority": lambda n: n != majority,
            "auto": lambda n: n != majority,
            "all": lambda n: True,
        }[strategy]
        return {label: majority if select(n) else n for label, n in counts.items()}
    raise ValueError(
        f"sampling_strategy must be one of {list(_STRATEGIES)}, a float, a dict "
        f"{{label: count}} or a callable; got {strategy!r}."
    )


def _available_memory() -> int | None:
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None


def _allocate(shape: tuple) -> np.ndarray:
    """An empty float64 array, or a ``ValueError`` when it cannot fit in memory."""
    n_bytes = int(np.prod(shape, dtype=np.float64)) * 8
    available = _available_memory()
    if available is not None and n_bytes > available:
        raise ValueError(
            f"The resampled data would take {n_bytes / 2**30:.3g} GiB ({shape[0]} series), "
            f"more than the {available / 2**30:.3g} GiB of free memory; ask for fewer "
            "series in sampling_strategy."
        )
    try:
        return np.empty(shape)
    except MemoryError:
        raise ValueError(
            f"The resampled data would take {n_bytes / 2**30:.3g} GiB ({shape[0]} series), "
            "which cannot be allocated; ask for fewer series in sampling_strategy."
        ) from None


def _like(template, values: np.ndarray):
    """``values`` in the container type of ``template`` (pandas in, pandas out)."""
    if type(template).__module__.startswith("pandas"):
        import pandas as pd

        if values.ndim == 2 and hasattr(template, "columns"):
            return pd.DataFrame(values, columns=template.columns)
        if values.ndim == 1 and hasattr(template, "name"):
            return pd.Series(values, name=template.name)
    return values


def _is_number(value) -> bool:
    return isinstance(value, numbers.Number) and not isinstance(value, bool)


def _same_classes(a, b) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return len(a) == len(b) and bool(np.all(a == b))


class NCVQVAEGenerator(BaseTorchEstimator):
    """Class-conditional time-series generator: NC-VQVAE tokenizer + MaskGIT prior.

    ``fit`` trains the tokenizer (stage 1), fine-tunes its decoder, and trains a MaskGIT prior
    over the token grids (stage 2), class-conditional given labels; ``sample`` decodes the grids
    it draws. Why each default: ``docs/benchmarks.md``, "Where each default comes from".

    Parameters
    ----------
    tokenizer : NCVQVAETokenizer or None, default=None
        Stage 1 (``None``: the default), cloned in ``fit``. At ``max_epochs="auto"`` it trains
        twice its own floor of steps, for the decoder of every sample (``tokenizer_.n_steps_``).
    refit_tokenizer : bool, default=True
        With ``False``, a fitted ``tokenizer`` is copied, not refitted: only the prior trains.
    prior_input : {"codebook", "tokens"}, default="codebook"
        The prior reads a fine-tuned copy of the codebook, or a token embedding with tied logits.
    n_layers, n_heads : int, default=2
        Transformer layers and attention heads (two layers trained longer beat four).
    hidden_dim, ff_dim : int, default=128 and 256
        Transformer width and feed-forward width.
    dropout : float, default=0.0
        Dropout in the transformer (0.1 trained slower and gave no better samples).
    token_noise, label_smoothing : float in [0, 1), default=0.0
        Prior training only: share of the visible input tokens replaced by random ids,
        and label smoothing of the masked-token loss (regularisers against memorised grids).
    p_unconditional, guidance_scale : float, default=0.2 and 2.0
        Classifier-free guidance: share of samples trained without class; sampling scale (1: off).
    n_iterations, choice_temperature, temperature : int, float, float, default=10, 1.0, 1.5
        Decoding steps; noise on which tokens a step keeps; temperature of the draws (higher: newer).
    critic_steps : int, default=0
        Steps training a token critic after the prior (Token-Critic; the critic of TimeVQVAE's
        enhanced sampling): it learns which ids of a grid the prior drew, and each decoding
        step keeps the new ids it finds most real instead of the most likely ones. 0: none.
        Not available with a tokenizer's ``frequency_split`` (a ``ValueError`` in ``fit``).
    resample_mask_ratio : float in (0, 1], default=0.5
        Fraction of a real series' tokens redrawn for each new series of :meth:`fit_resample`.
    quality : {"standard", "high"}, default="standard"
        ``"high"`` doubles stage 1's ``"auto"`` budget, for better samples from longer fits.
    decoder_steps : int, default=1000
        Steps fine-tuning the decoder alone on the training token grids, for better samples.
    max_epochs : int or "auto", default="auto"
        Prior epochs; ``"auto"`` counts the thesis's 1000 epochs as steps, clipped to 4000-10000.
    early_stopping : bool, default=False
        Hold out ``validation_fraction`` of the token grids (per class, at least one series
        of a class kept for training), check the prior's masked loss on them every
        100 steps (or every epoch, if longer), stop after ``n_iter_no_change`` checks without
        improvement, and keep the best check's weights; ``max_epochs`` stays the most it trains.
    validation_fraction : float in (0, 1), default=0.1
        The share of series held out by ``early_stopping`` (unused without it).
    n_iter_no_change : int, default=5
        Checks without a lower held-out loss before ``early_stopping`` stops the prior.
    batch_size : int, default=32
        Mini-batch size of the prior; sampling runs in batches of at least 128.
    lr, weight_decay : float, default=1e-3 and 1e-2
        Peak AdamW learning rate (cosine-annealed per step) and AdamW weight decay.
    ema_decay : float in [0, 1) or None, default=0.999
        Decay of the moving average of weights that the fitted prior holds (``None``: the last).
    warm_start : bool, default=False
        ``fit`` on data of the fitted shape and classes trains the prior on to ``max_epochs``.
    device : str, default="auto"
        Torch device of the prior; ``"auto"`` picks CUDA when available.
    mixed_precision : {"bf16"} or None, default=None
        Train the prior (and a default tokenizer) and sample in bf16 autocast; check the samples.
    random_state : int, RandomState instance or None, default=None
        Seeds the prior's training and, unless ``sample`` gets its own, sampling.
    verbose : int, default=0
        1 shows progress bars; 2 also skorch's epoch table.

    Attributes
    ----------
    tokenizer_, decoder_loss_ : NCVQVAETokenizer, ndarray of shape (decoder_steps,)
        The fitted stage-1 model, and the loss of each step of its decoder's fine-tuning.
    critic_loss_ : ndarray of shape (critic_steps,)
        The token critic's loss at each training step (empty without a critic).
    classes_, class_counts_ : ndarray or None
        Class labels seen in ``fit`` and their counts (``None`` when fitted without labels).
    n_features_in_, n_channels_, n_timepoints_ : int
        ``X.shape[1]`` in fit, as in scikit-learn; the channels and length of the series.
    n_steps_ : int
        Optimisation steps of the prior's training budget (its fitted learning-rate schedule).
    net_ : SelfLossNet
        The fitted skorch net; ``net_.module_`` is the :class:`~skncvqvae.nn.MaskGITPrior`.
    history_ : list of dict
        Per-epoch ``loss`` and ``masked_accuracy`` of the prior; with ``early_stopping``,
        the epochs that ended with a check also hold ``valid_loss`` and ``valid_masked_accuracy``.
    validation_scores_ : ndarray or None
        The held-out masked loss of every check (``None`` without ``early_stopping``).
    best_validation_score_ : float or None
        The lowest of them, whose weights the prior holds (``None`` without ``early_stopping``).

    See Also
    --------
    NCVQVAETokenizer : Stage 1 alone, for features and tokens.

    Examples
    --------
    >>> from aeon.datasets import load_unit_test
    >>> from skncvqvae import NCVQVAEGenerator, NCVQVAETokenizer
    >>> X, y = load_unit_test(split="train")
    >>> tok = NCVQVAETokenizer(max_epochs=2, hidden_dim=16)
    >>> gen = NCVQVAEGenerator(tok, hidden_dim=32, max_epochs=2, random_state=0).fit(X, y)
    >>> X_new, y_new = gen.sample(4, y="1")
    >>> X_new.shape, y_new.tolist()
    ((4, 1, 24), ['1', '1', '1', '1'])
    """

    _parameter_constraints: dict = {
        **BaseTorchEstimator._parameter_constraints,
        "tokenizer": [NCVQVAETokenizer, None],
        "refit_tokenizer": ["boolean"],
        "prior_input": [StrOptions({"tokens", "codebook"})],
        "n_layers": [Interval(numbers.Integral, 1, None, closed="left")],
        "n_heads": [Interval(numbers.Integral, 1, None, closed="left")],
        "hidden_dim": [Interval(numbers.Integral, 1, None, closed="left")],
        "ff_dim": [Interval(numbers.Integral, 1, None, closed="left")],
        "dropout": [Interval(numbers.Real, 0, 1, closed="left")],
        "token_noise": [Interval(numbers.Real, 0, 1, closed="left")],
        "label_smoothing": [Interval(numbers.Real, 0, 1, closed="left")],
        "p_unconditional": [Interval(numbers.Real, 0, 1, closed="both")],
        "n_iterations": [Interval(numbers.Integral, 1, None, closed="left")],
        "choice_temperature": [Interval(numbers.Real, 0, None, closed="left")],
        "temperature": [Interval(numbers.Real, 0, None, closed="neither")],
        "guidance_scale": [Interval(numbers.Real, 0, None, closed="left")],
        "resample_mask_ratio": [Interval(numbers.Real, 0, 1, closed="right")],
        "critic_steps": [Interval(numbers.Integral, 0, None, closed="left")],
        "ema_decay": [Interval(numbers.Real, 0, 1, closed="left"), None],
        "quality": [StrOptions({"standard", "high"})],
        "decoder_steps": [Interval(numbers.Integral, 0, None, closed="left")],
        "early_stopping": ["boolean"],
        "validation_fraction": [Interval(numbers.Real, 0, 1, closed="neither")],
        "n_iter_no_change": [Interval(numbers.Integral, 1, None, closed="left")],
    }

    def __init__(
        self,
        tokenizer=None,
        *,
        refit_tokenizer=True,
        prior_input="codebook",
        n_layers=2,
        n_heads=2,
        hidden_dim=128,
        ff_dim=256,
        dropout=0.0,
        token_noise=0.0,
        label_smoothing=0.0,
        p_unconditional=0.2,
        n_iterations=10,
        choice_temperature=1.0,
        temperature=1.5,
        guidance_scale=2.0,
        critic_steps=0,
        resample_mask_ratio=0.5,
        quality="standard",
        decoder_steps=1000,
        max_epochs="auto",
        early_stopping=False,
        validation_fraction=0.1,
        n_iter_no_change=5,
        batch_size=32,
        lr=1e-3,
        weight_decay=1e-2,
        ema_decay=0.999,
        warm_start=False,
        device="auto",
        mixed_precision=None,
        random_state=None,
        verbose=0,
    ):
        self.warm_start = warm_start
        self.tokenizer = tokenizer
        self.refit_tokenizer = refit_tokenizer
        self.prior_input = prior_input
        self.n_layers = n_layers
        self.n_heads = n_heads
        self.hidden_dim = hidden_dim
        self.ff_dim = ff_dim
        self.dropout = dropout
        self.token_noise = token_noise
        self.label_smoothing = label_smoothing
        self.p_unconditional = p_unconditional
        self.n_iterations = n_iterations
        self.choice_temperature = choice_temperature
        self.temperature = temperature
        self.guidance_scale = guidance_scale
        self.critic_steps = critic_steps
        self.resample_mask_ratio = resample_mask_ratio
        self.quality = quality
        self.decoder_steps = decoder_steps
        self.max_epochs = max_epochs
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.batch_size = batch_size
        self.lr = lr
        self.weight_decay = weight_decay
        self.ema_decay = ema_decay
        self.device = device
        self.mixed_precision = mixed_precision
        self.random_state = random_state
        self.verbose = verbose

    #: ``max_epochs="auto"`` of the prior: the thesis's 1000 epochs counted as steps of
    #: ``batch_size``, clipped to 4000-10000 steps (docs/benchmarks.md, "Generation on
    #: data the defaults never saw").
    _auto_budget = (1000, 4000, 10000)
    #: The tokenizer's ``"auto"`` budget inside the generator: its own with twice the
    #: floor (150 epochs, 600-5000 steps), because samples are decoded by its
    #: decoder (docs/benchmarks.md, "Stage 1's budget and the decoder").
    _tokenizer_auto_budget = (150, 600, 5000)
    #: Optimisation steps between two checks of ``early_stopping`` (at least an epoch).
    _check_steps = 100

    @classmethod
    def _get_test_params(cls, parameter_set="default") -> dict:
        """Parameters of a tiny, fast generator for tests, as aeon's ``_get_test_params``.

        A tokenizer as tiny as the tokenizer's own test setting, a one-layer
        prior trained 3 epochs, and two decoder fine-tuning steps (that path in
        every fit at almost no cost). There is one ``parameter_set``, ``"default"``.
        """
        tiny = dict(hidden_dim=8, codebook_dim=8, codebook_size=8, n_resnet_blocks=0, device="cpu")
        tokenizer = NCVQVAETokenizer(**tiny, projector_dim=16, max_epochs=2, random_state=0)
        prior = dict(hidden_dim=32, n_layers=1, n_heads=2, ff_dim=32, max_epochs=3, decoder_steps=2)
        return dict(prior, tokenizer=tokenizer, device="cpu", random_state=0)

    def _weight_average(self) -> float | None:
        return self.ema_decay

    def _mixed_precision(self) -> str | None:
        return self.mixed_precision

    def _stage1_budget(self) -> tuple[int, int, int]:
        """The ``"auto"`` budget of stage 1 at this ``quality``: ``"high"`` doubles every term."""
        budget = self._tokenizer_auto_budget
        return tuple(2 * term for term in budget) if self.quality == "high" else budget

    def set_params(self, **params):
        """Set parameters; ``tokenizer__<name>`` also works while ``tokenizer=None``.

        Stage-1 parameters are set the nested scikit-learn way, for example
        ``set_params(tokenizer__max_epochs=300, max_epochs=500)`` for the two
        stages' budgets, or ``{"tokenizer__ssl": [...]}`` in a parameter grid.
        With ``tokenizer=None`` the default tokenizer is created first.
        """
        nested = any(key.startswith("tokenizer__") for key in params)
        if nested and "tokenizer" not in params and self.tokenizer is None:
            shared = {key: params[key] for key in ("device", "mixed_precision") if key in params}
            self.tokenizer = self._default_tokenizer(**shared)
        return super().set_params(**params)

    def _default_tokenizer(self, **params) -> NCVQVAETokenizer:
        """The tokenizer of ``tokenizer=None``: the generator's device and precision."""
        params = {"device": self.device, "mixed_precision": self.mixed_precision, **params}
        return NCVQVAETokenizer(**params)

    # -- fit -------------------------------------------------------------------------
    def _unequal_length(self):
        tokenizer = self.tokenizer if self.tokenizer is not None else NCVQVAETokenizer()
        return tokenizer.unequal_length

    def _fit_tokenizer(self, X3, seed: int, resume: bool) -> NCVQVAETokenizer:
        """The fitted stage-1 model: the user's (a private copy), a resumed or a new one.

        ``X3`` is the validated collection: the tokenizer does not check it again.
        """
        if self.tokenizer is not None and not self.refit_tokenizer and _is_fitted(self.tokenizer):
            # A copy, so that refitting the user's object later cannot change this model.
            return copy.deepcopy(self.tokenizer)
        if resume:
            return self.tokenizer_
        tokenizer = self._default_tokenizer() if self.tokenizer is None else clone(self.tokenizer)
        if tokenizer.random_state is None:
            tokenizer.set_params(random_state=seed)
        if self.verbose and not tokenizer.verbose:
            tokenizer.set_params(verbose=self.verbose)
        return tokenizer.fit(X3, check_input=False, step_budget=self._stage1_budget())

    @_fit_context(prefer_skip_nested_validation=False)
    def fit(self, X, y=None):
        """Fit the tokenizer (unless reused) and the prior.

        Parameters
        ----------
        X : array-like of shape (n_cases, n_channels, n_timepoints) or (n_cases, n_timepoints)
        y : array-like of shape (n_cases,) or None
            Class labels; without them the prior is unconditional.

        Returns
        -------
        self : NCVQVAEGenerator
        """
        X3, shape = self._check_fit_collection(X)
        return self._fit(X3, shape, y)

    def _fit(self, X3: np.ndarray, shape: dict, y) -> NCVQVAEGenerator:
        """:meth:`fit` on the validated collection ``X3`` and its shape attributes."""
        labels, classes, counts = _encode_labels(y, len(X3))
        if self.critic_steps and getattr(self.tokenizer, "frequency_split", None) is not None:
            raise ValueError(
                "critic_steps > 0 needs a tokenizer of one token stream; set critic_steps=0 "
                "or tokenizer__frequency_split=None."
            )
        resume = self._can_resume(shape) and _same_classes(self.classes_, classes)
        tokenizer_seed, prior_seed, decoder_seed = spawn_seeds(self._seed(), 3)
        held_out = None
        if self.early_stopping:
            split_seed = spawn_seeds(prior_seed, 1)[0]
            held_out = _holdout_rows(labels, len(X3), self.validation_fraction, split_seed)
        n_prior = len(X3) - (0 if held_out is None else len(held_out))
        # one bar with an ETA over the three trainings; stage 1 adds its steps as it starts
        prior_epochs = self._n_epochs(n_prior) - (len(self.net_.history) if resume else 0)
        steps = max(prior_epochs, 0) * math.ceil(n_prior / self.batch_size)
        steps += (0 if resume else self.decoder_steps) + self.critic_steps
        with stage_progress(self, steps, "NC-VQVAE fit", enabled=bool(self.verbose)):
            tokenizer = self._fit_tokenizer(X3, tokenizer_seed, resume)
            if (tokenizer.n_channels_, tokenizer.n_timepoints_) != X3.shape[1:]:
                raise ValueError(
                    f"The fitted tokenizer expects series of shape ({tokenizer.n_channels_}, "
                    f"{tokenizer.n_timepoints_}); X has series of shape {X3.shape[1:]}."
                )
            tokens = tokenizer.encode(X3, check_input=False)
            if resume:
                decoder_loss = getattr(self, "decoder_loss_", np.empty(0))
            elif self.decoder_steps:  # the tokenizer is this generator's own (a copy if fitted)
                decoder_loss = tokenizer.fine_tune_decoder(
                    X3,
                    tokens,
                    n_steps=self.decoder_steps,
                    random_state=decoder_seed,
                    check_input=False,
                )
            else:
                decoder_loss = np.empty(0)
            resume_prior = resume and tokenizer is self.tokenizer_
            if resume_prior:  # the prior trains on alone; _fit_critic trains a new critic
                self.net_.module_.critic = None
            net, monitor = self._fit_prior(
                tokenizer, tokens, labels, classes, prior_seed, resume_prior, held_out
            )
            critic_losses = self._fit_critic(net, tokens, labels)
            scores = None if monitor is None else np.asarray(monitor.scores)
            self._set_fitted(
                net,
                **shape,
                tokenizer_=tokenizer,
                decoder_loss_=decoder_loss,
                critic_loss_=critic_losses,
                classes_=classes,
                class_counts_=counts,
                validation_scores_=scores,
                best_validation_score_=None if scores is None else float(scores.min()),
            )
        return self

    def _fit_prior(
        self, tokenizer, tokens, labels, classes, seed: int, resume: bool, held_out=None
    ):
        """Train the MaskGIT prior on the token grids ``tokens`` (and ``labels``).

        ``held_out``: rows left out of training for early stopping's checks.
        Returns the net and the :class:`~skncvqvae._training.HeldOutMonitor` (or ``None``).
        """
        data = {"tokens": torch.as_tensor(tokens.reshape(len(tokens), -1))}
        if labels is not None:
            data["labels"] = torch.as_tensor(labels, dtype=torch.long)
        monitor, check_every = None, 1
        if held_out is not None:
            keep = np.setdiff1d(np.arange(len(tokens)), held_out)
            monitor = HeldOutMonitor(
                {key: value[held_out] for key, value in data.items()},
                patience=self.n_iter_no_change,
                seed=spawn_seeds(seed, 2)[1],
            )
            data = {key: value[keep] for key, value in data.items()}
            check_every = max(
                1, math.ceil(self._check_steps / math.ceil(len(keep) / self.batch_size))
            )
        n_classes = 0 if classes is None else len(classes)
        bands = tokenizer.net_.module_.bands
        first_stream = None  # low-frequency rows first: (positions, ids)
        if len(bands) == 2:
            first_stream = (bands[0][1] * tokenizer.token_shape_[1], tokenizer.codebook_size)
        net = self._fit_net(
            MaskGITPrior,
            data,
            seed=seed,
            term_names=PRIOR_TERMS,
            description="MaskGIT prior",
            resume=resume,
            n_tokens=tokenizer.n_tokens_,
            codebook=torch.as_tensor(tokenizer.codebook_),
            n_classes=n_classes,
            prior_input=self.prior_input,
            hidden_dim=self.hidden_dim,
            n_layers=self.n_layers,
            n_heads=self.n_heads,
            ff_dim=self.ff_dim,
            dropout=self.dropout,
            token_noise=self.token_noise,
            label_smoothing=self.label_smoothing,
            p_unconditional=self.p_unconditional if n_classes else 0.0,
            first_stream=first_stream,
            monitor=monitor,
            check_every=check_every,
        )
        return net, monitor

    def _fit_critic(self, net, tokens: np.ndarray, labels) -> np.ndarray:
        """Give the fitted prior a new token critic trained ``critic_steps`` steps; its losses.

        With ``critic_steps=0`` any critic of an earlier fit is removed. The
        critic trains on every series' grid, against the prior's own redraws.
        """
        module = net.module_
        module.critic = None
        net.build_args_["module_kwargs"] = {**net.build_args_["module_kwargs"], "critic": False}
        if not self.critic_steps:
            return np.empty(0)
        seed = spawn_seeds(self._seed(), 4)[3]
        device = net.device
        grids = torch.as_tensor(tokens.reshape(len(tokens), -1), device=device)
        if labels is None:
            classes = torch.full((len(grids),), module.null_class, device=device)
        else:
            classes = torch.as_tensor(labels, dtype=torch.long, device=device)
        p_unconditional = self.p_unconditional if labels is not None else 0.0
        generator = torch.Generator(device=device).manual_seed(spawn_seeds(seed, 1)[0])
        with seeded(seed), worker_threads():
            critic = module.add_critic()
            losses = fine_tune(
                critic,
                lambda t, c: (
                    critic_loss(
                        critic, module, t, c, p_unconditional=p_unconditional, generator=generator
                    ).loss
                ),
                (grids, classes),
                n_steps=self.critic_steps,
                batch_size=self.batch_size,
                lr=self.lr,
                weight_decay=self.weight_decay,
                seed=seed,
                mixed_precision=self._mixed_precision(),
                verbose=self.verbose,
                description="token critic",
            )
        net.build_args_["module_kwargs"]["critic"] = True
        return np.asarray(losses)

    # -- sampling ----------------------------------------------------------------------
    def _class_ids(self, n_samples: int, y, rng: np.random.Generator):
        """Class indices and user-space labels for a ``sample`` call."""
        if self.classes_ is None:
            if y is not None:
                raise ValueError(
                    "This generator was fitted without labels, so it samples "
                    "unconditionally; call sample with y=None."
                )
            return np.full(n_samples, self.net_.module_.null_class), None
        if y is None:
            ids = rng.choice(
                len(self.classes_), size=n_samples, p=self.class_counts_ / self.class_counts_.sum()
            )
        else:
            # No cast to classes_.dtype: it would truncate longer strings ('12' -> '1'
            # for classes of dtype <U1) and floats, and accept unseen labels.
            y_arr = np.asarray(y)
            labels = np.full(n_samples, y_arr) if y_arr.ndim == 0 else column_or_1d(y_arr)
            if len(labels) == 0:
                raise ValueError("y is empty; give at least one label or y=None.")
            if (labels.dtype.kind == "b") != (self.classes_.dtype.kind == "b"):
                # True == 1 in numpy: without this, y=True would sample class 1.
                unknown = np.ones(len(labels), dtype=bool)
            else:
                unknown = ~np.isin(labels, self.classes_)
            if unknown.any():
                raise ValueError(
                    f"y contains labels not seen in fit: {sorted(set(labels[unknown].tolist()))}; "
                    f"known classes are {self.classes_.tolist()}."
                )
            ids = np.searchsorted(self.classes_, labels)
        return ids, self.classes_[ids]

    def sample(self, n_samples=1, *, y=None, random_state=None):
        """Generate new series.

        Parameters
        ----------
        n_samples : int, default=1
            Number of series; ignored when ``y`` is array-like.
        y : label, array-like of labels, or None, default=None
            ``None``: classes drawn in proportion to the training labels (or
            unconditional samples if fitted without labels); a single label:
            ``n_samples`` series of that class; array-like: one series per entry.
        random_state : int, RandomState instance or None, default=None
            Seed of this call. ``None`` uses the estimator's ``random_state``,
            as ``GaussianMixture.sample`` does: with an int, repeated calls
            give the same samples; with ``None``, fresh ones.

        Returns
        -------
        X_new : ndarray of shape (n, n_channels, n_timepoints)
            Series in data space.
        y_new : ndarray of shape (n,) or None
            Their labels in the user's label space (``None`` when unconditional).
        """
        check_is_fitted(self)
        if y is None or np.ndim(y) == 0:
            n_samples = check_n_samples(n_samples)
        else:
            n_samples = len(y)
        class_seed, torch_seed = spawn_seeds(self._seed(random_state), 2)
        ids, y_new = self._class_ids(n_samples, y, np.random.default_rng(class_seed))
        X_new = np.empty((n_samples, self.n_channels_, self.n_timepoints_))
        self._generate_into(X_new, ids, torch_seed)
        return X_new, y_new

    def _generate_into(
        self, out: np.ndarray, class_ids: np.ndarray, seed: int, start_tokens=None
    ) -> None:
        """Draw token grids for ``class_ids`` batch by batch and decode them into ``out``.

        ``start_tokens`` ``(n, n_tokens)``, if given, are the starting grids
        (masked positions hold the prior's mask id and are drawn; the others
        are kept). Peak memory stays near the size of ``out``: each batch of
        tokens is decoded and written before the next is drawn.
        """
        module = self.net_.module_
        generator = torch.Generator(device=self.net_.device).manual_seed(seed)
        ids = torch.as_tensor(class_ids, dtype=torch.long)
        # 128 rows (256 with guidance's unconditional copy): smaller activations, fewer
        # of them above glibc's mmap threshold (mapped and page-faulted afresh at every
        # step), sample faster than 256 (docs/benchmarks.md, "Sampling in batches of 128").
        rows = max(self.batch_size, 128)
        # Unconditional samples have nothing to guide towards: skip the second pass.
        unconditional = self.classes_ is None or bool((ids == module.null_class).all())
        guidance = 1.0 if unconditional else self.guidance_scale
        starts = range(0, len(ids), rows)
        progress = tqdm(starts, desc="sampling", disable=not self.verbose, leave=False)
        for start in progress:
            batch = ids[start : start + rows].to(self.net_.device)
            tokens = None
            if start_tokens is not None:
                tokens = start_tokens[start : start + rows].to(self.net_.device)
            # the prior decodes under the current ``mixed_precision`` (a sampling-time
            # setting, like ``guidance_scale``); the tokenizer's decoder stays float32
            precision = autocast(self._mixed_precision(), self.net_.device)
            with worker_threads(), torch.inference_mode(), precision:
                tokens = module.generate(
                    batch,
                    tokens=tokens,
                    n_iterations=self.n_iterations,
                    choice_temperature=self.choice_temperature,
                    temperature=self.temperature,
                    guidance_scale=guidance,
                    generator=generator,
                )
            out[start : start + len(batch)] = self.tokenizer_.decode(tokens.cpu().numpy())

    def _variations_into(
        self, out: np.ndarray, X3: np.ndarray, class_ids: np.ndarray, ratio: float, seed: int
    ) -> None:
        """Variations of the validated series ``X3`` into ``out``: ``ratio`` of each grid redrawn.

        ``ratio=1`` keeps nothing of ``X``: the grids are drawn from scratch with
        ``seed``, exactly as :meth:`sample` draws them.
        """
        if ratio == 1:
            self._generate_into(out, class_ids, seed)
            return
        mask_seed, draw_seed = spawn_seeds(seed, 2)
        tokens = self.tokenizer_.encode(X3, check_input=False).reshape(len(X3), -1)
        tokens = torch.as_tensor(tokens)
        n_tokens = tokens.shape[1]
        n_masked = min(n_tokens, max(1, round(ratio * n_tokens)))
        scores = torch.as_tensor(np.random.default_rng(mask_seed).random(tokens.shape))
        mask = scores.argsort(dim=1).argsort(dim=1) < n_masked
        start = torch.where(mask, self.net_.module_.mask_id, tokens)
        self._generate_into(out, class_ids, draw_seed, start_tokens=start)

    def sample_variations(self, X, y=None, *, mask_ratio=None, random_state=None):
        """Variations of given series: part of each one's tokens drawn again by the prior.

        Each series is encoded to its token grid; ``mask_ratio`` of the
        positions, chosen at random, are masked and drawn again by iterative
        decoding, conditioned on the unmasked tokens and on the label, then
        the grid is decoded. Small ratios keep close to the series; 1 keeps
        nothing of it: the series :meth:`sample` draws for the same labels and
        ``random_state``.
        :meth:`fit_resample` makes its new series this way.

        Parameters
        ----------
        X : array-like of shape (n_cases, n_channels, n_timepoints) or (n_cases, n_timepoints)
            Series of the fitted shape; one variation is made of each.
        y : label, array-like of shape (n_cases,), or None, default=None
            Class the redrawn tokens are conditioned on: one label for all
            series, or one per series. ``None`` draws them without a class
            (the prior's unconditional branch, no guidance).
        mask_ratio : float in (0, 1] or None, default=None
            Fraction of the token grid drawn again (at least one position);
            ``None`` uses ``resample_mask_ratio``.
        random_state : int, RandomState instance or None, default=None
            Seed of this call (the masked positions and the draws); ``None``
            uses the estimator's ``random_state``.

        Returns
        -------
        X_new : ndarray of shape (n_cases, n_channels, n_timepoints)
            The variations, in data space.
        y_new : ndarray of shape (n_cases,) or None
            Their labels (``None`` when drawn without a class).
        """
        check_is_fitted(self)
        X3 = self._check_collection(X)
        ratio = self.resample_mask_ratio if mask_ratio is None else mask_ratio
        if not (_is_number(ratio) and 0 < ratio <= 1):
            raise ValueError(f"mask_ratio must be a number in (0, 1]; got {ratio!r}.")
        class_seed, torch_seed = spawn_seeds(self._seed(random_state), 2)
        if y is None:
            ids, y_new = np.full(len(X3), self.net_.module_.null_class), None
        else:
            if np.ndim(y) and len(y) != len(X3):
                raise ValueError(f"X has {len(X3)} series but y has {len(y)} labels.")
            ids, y_new = self._class_ids(len(X3), y, np.random.default_rng(class_seed))
        X_new = np.empty((len(X3), self.n_channels_, self.n_timepoints_))
        self._variations_into(X_new, X3, ids, ratio, torch_seed)
        return X_new, y_new

    @_fit_context(prefer_skip_nested_validation=False)
    def fit_resample(self, X, y, *, sampling_strategy="auto"):
        """Fit, then add generated series so that classes reach the wanted counts.

        Follows imbalanced-learn's over-sampling protocol without depending on
        it, so the generator can be the sampler step of an
        ``imblearn.pipeline.Pipeline``. Each new series is a variation of a
        real series of its class, with ``resample_mask_ratio`` of its tokens
        drawn again by the prior (:meth:`sample_variations`); with
        ``resample_mask_ratio=1`` the new series are those :meth:`sample`
        draws for the same labels.

        Parameters
        ----------
        X : array-like of shape (n_cases, n_channels, n_timepoints) or (n_cases, n_timepoints)
            A pandas DataFrame (2D, univariate) is accepted and returned as one.
        y : array-like of shape (n_cases,)
            A pandas Series is returned as one.
        sampling_strategy : float, str, dict or callable, default="auto"
            As in imbalanced-learn's over-samplers:

            - ``"minority"``: raise the smallest class to the majority count;
            - ``"not minority"``, ``"not majority"`` (= ``"auto"``), ``"all"``:
              raise every class of that selection to the majority count (the
              majority itself gets none);
            - a float ``r`` (two classes only): raise the minority class to
              ``r * n_majority`` series;
            - a dict ``{label: n_total}``: those totals (each at least the
              class's current count);
            - a callable ``f(y) -> dict``, read as the dict.

        Returns
        -------
        X_resampled : ndarray of shape (n_cases + n_new, ...)
            The real series (unchanged, first) followed by the generated ones,
            float64, with the dimensionality of ``X`` (2D input gives 2D output).
        y_resampled : ndarray of shape (n_cases + n_new,)

        Raises
        ------
        ValueError
            Before any training, for a bad strategy or a result that cannot be
            held in memory.
        """
        if y is None:
            raise ValueError("fit_resample needs the class labels y.")
        # float64 straight from X (validated once, before any fitting): a float32
        # round trip would alter the real series.
        X3, shape, ndim = self._check_fit_collection(X, return_ndim=True)
        y_real = column_or_1d(y)
        counts = dict(zip(*np.unique(y_real, return_counts=True)))
        wanted = _targets(counts, sampling_strategy, y_real)  # validated before any fitting
        n_new = sum(wanted[c] - counts[c] for c in counts)
        X_real = X3[:, 0] if ndim == 2 else X3  # the input's dimensionality
        X_out = _allocate((len(X_real) + n_new, *X_real.shape[1:]))  # before any fitting
        self._fit(X3, shape, y_real)
        labels = np.concatenate(
            [np.full(wanted[c] - counts[c], c, dtype=self.classes_.dtype) for c in self.classes_]
        )
        X_out[: len(X_real)] = X_real
        y_out = np.concatenate([y_real, labels.astype(y_real.dtype)])
        if n_new:
            generated = X_out[len(X_real) :]
            self._draw_new(
                X3, y_real, labels, generated[:, None] if X_real.ndim == 2 else generated
            )
        return _like(X, X_out), _like(y, y_out)

    def _draw_new(self, X_real, y_real, labels, out: np.ndarray) -> None:
        """``fit_resample``'s new series of ``labels`` (grouped by class, in ``classes_`` order) into ``out``."""
        class_seed, torch_seed = spawn_seeds(self._seed(), 2)
        rng = np.random.default_rng(class_seed)  # given labels: _class_ids draws nothing
        ids, _ = self._class_ids(len(labels), labels, rng)
        # Variations of the class's real series, each taken in turn (random order).
        sources = np.concatenate(
            [
                np.resize(rng.permutation(np.flatnonzero(y_real == c)), np.sum(labels == c))
                for c in self.classes_
            ]
        )
        self._variations_into(out, X_real[sources], ids, self.resample_mask_ratio, torch_seed)

    def score(self, X, y=None):
        """Negative FID of ``len(X)`` generated series against ``X`` (higher is better).

        Features come from MiniRocket (``random_state=0``) fitted on ``X`` and
        samples are drawn with a fixed seed, so the score is deterministic and
        comparable across the candidates of a search evaluated on the same data. With labels (and a conditional fit), the samples
        have the labels of ``y``; labels unseen in fit fall back to the
        training proportions.

        Parameters
        ----------
        X : array-like of shape (n_cases, n_channels, n_timepoints) or (n_cases, n_timepoints)
        y : array-like of shape (n_cases,) or None

        Returns
        -------
        score : float
        """
        X3 = self._check_collection(X)
        if len(X3) < 2:
            raise ValueError(
                f"score needs at least 2 series to compare feature statistics; X has {len(X3)}."
            )
        if y is not None:
            y = column_or_1d(y)
            if len(y) != len(X3):
                raise ValueError(f"X has {len(X3)} series but y has {len(y)} labels.")
        if y is not None and self.classes_ is not None and np.isin(y, self.classes_).all():
            X_fake, _ = self.sample(y=np.asarray(y), random_state=0)
        else:
            X_fake, _ = self.sample(len(X3), random_state=0)
        return -fid_score(X3, X_fake, random_state=0)
