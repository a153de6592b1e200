"""``NCVQVAETokenizer``: stage 1 of NC-VQVAE as a scikit-learn transformer."""

from __future__ import annotations

import numbers

import numpy as np
import torch
from sklearn.base import TransformerMixin, _fit_context
from sklearn.utils._param_validation import Interval, InvalidParameterError, StrOptions
from sklearn.utils.validation import check_is_fitted

from ._base import BaseTorchEstimator, worker_threads
from ._training import fine_tune
from ._validation import (
    UNEQUAL_LENGTH_STRATEGIES,
    pad_to_min_length,
    standardisation,
    standardise,
)
from .nn import (
    AUGMENTATIONS,
    LOSS_TERMS,
    SSL_LOSSES,
    NCVQVAEModule,
    check_augmentations,
    global_pool,
    hop_length,
    min_length,
    pyramid_pool,
)

__all__ = ["NCVQVAETokenizer"]


class NCVQVAETokenizer(TransformerMixin, BaseTorchEstimator):
    """NC-VQVAE tokenizer: a time-frequency VQ-VAE with a non-contrastive SSL loss.

    Series are standardised per channel, mapped by an STFT to a time-frequency image, encoded
    to a grid of latent vectors and quantized to the nearest of ``codebook_size`` codes. With
    ``ssl``, a Barlow Twins or VIBCReg loss also pulls together the pooled latents of each series
    and of an augmented view (Mathisen, 2024, arXiv:2408.16613). Read more in ``docs/model.md``;
    why each default: ``docs/benchmarks.md``, section "Where each default comes from".

    Parameters
    ----------
    ssl : {"vibcreg", "barlowtwins"} or None, default="vibcreg"
        The non-contrastive loss (VIBCReg gave the best features); ``None``: naive TimeVQVAE.
    augmentations : str or sequence of str, default=("slice_and_shuffle",)
        Names of :data:`~skncvqvae.nn.AUGMENTATIONS` applied in turn to make the second view.
    output : {"pyramid", "pooled", "tokens", "histogram"}, default="pyramid"
        What :meth:`transform` returns: :func:`~skncvqvae.nn.pyramid_pool` of the latent z
        (the best features), the thesis's pooled z_q, the token ids, or token frequencies.
    codebook_size, codebook_dim, codebook_decay : int, int, float, default=32, 64 and 0.8
        Number of codes, the dimension of each (the latent channels), and their EMA decay.
    n_fft, hop_length : int, default=8 and None
        STFT size (even; the token grid has ``n_fft // 2 + 1`` rows) and hop, 1 to ``n_fft //
        2`` (``None``: ``n_fft // 4``; a smaller hop gives more token columns at a higher cost).
    hidden_dim, n_resnet_blocks, downsampled_width, projector_dim : int, default=64, 2, 8 and 1024
        Width of the encoder and decoder, residual blocks in each, target width of the token
        grid (it sets the number of strided blocks) and width of the SSL projector.
    frequency_split : int or None, default=None
        ``None``: one encoder, codebook and decoder for the whole STFT image (the thesis's naive
        TimeVQVAE). An int ``s`` in ``[1, n_fft // 2]``: TimeVQVAE's split into a low-frequency
        stream (the ``s`` lowest STFT rows; 1 as in TimeVQVAE) and a high-frequency stream (the
        other rows), each with its own encoder, ``codebook_size`` codes and decoder. The token
        grid keeps its shape; ids of the high-frequency rows lie in ``[codebook_size, 2 *
        codebook_size)``, and :class:`NCVQVAEGenerator`'s prior draws the low-frequency rows
        first, then the high-frequency rows given them.
    aug_recon_weight, ssl_weight, commitment_weight : float, default=0.1, 1.0 and 1.0
        Weights of the view's reconstruction loss, the SSL loss and the commitment loss.
    max_epochs : int or "auto", default="auto"
        Training epochs; ``"auto"`` counts 150 epochs as optimisation steps, clipped to 300-5000.
    batch_size : int, default=32
        Mini-batch size, also of inference (small batches give tiny sets more steps).
    lr, weight_decay : float, default=1e-3
        Peak AdamW learning rate (cosine-annealed to 0 per step) and AdamW weight decay.
    validation_fraction : float or None, default=None
        Fraction of ``X`` held out to record validation losses; ``None`` trains on all of it.
    unequal_length : {"resample", "pad"} or None, default=None
        How series of another length are brought to the fitted one: linear resampling, or
        repeating the last value (and truncating); ``None`` raises a ``ValueError``.
    warm_start : bool, default=False
        ``fit`` on data of the fitted shape trains on until ``max_epochs`` epochs in total.
    device : str, default="auto"
        Torch device; ``"auto"`` picks CUDA when available.
    mixed_precision : {"bf16"} or None, default=None
        ``"bf16"`` trains under autocast, for GPUs and CPUs with bf16 instructions (slower on
        others); weights, optimizer, codebook search and inference stay float32.
    random_state : int, RandomState instance or None, default=None
        Seeds initialisation, shuffling and augmentations (reproducible at one thread count).
    verbose : int, default=0
        1 shows a progress bar over epochs; 2 also prints skorch's epoch table.

    Attributes
    ----------
    n_features_in_, n_channels_, n_timepoints_ : int
        ``X.shape[1]`` in fit, as in scikit-learn; the channels and length of the series.
    hop_length_, token_shape_, n_tokens_ : int, tuple of int, int
        The STFT hop (``None`` resolved), ``(H, W)`` of the token grid and ``H * W``.
    n_codes_ : int
        Number of token ids: ``codebook_size``, or twice it with a ``frequency_split``.
    mean_, scale_ : ndarray of shape (n_channels,)
        Per-channel standardisation of the training data.
    codebook_ : ndarray of shape (n_codes, codebook_dim)
        The fitted code vectors, ``n_codes_`` of them (a float32 copy; the streams'
        codebooks stacked, low first).
    n_steps_ : int
        Optimisation steps of the training budget (from the fitted learning-rate schedule).
    net_ : SelfLossNet
        The fitted skorch net; ``net_.module_`` is the :class:`~skncvqvae.nn.NCVQVAEModule`.
    history_ : list of dict
        Per-epoch mean of each term of :data:`~skncvqvae.nn.LOSS_TERMS`.

    See Also
    --------
    NCVQVAEGenerator : Stages 1 and 2, for sampling new series.

    Examples
    --------
    >>> from aeon.datasets import load_unit_test
    >>> from skncvqvae import NCVQVAETokenizer
    >>> X, y = load_unit_test(split="train")
    >>> tok = NCVQVAETokenizer(max_epochs=2, hidden_dim=16, random_state=0).fit(X)
    >>> tok.transform(X).shape, tok.encode(X).shape  # 6 * codebook_dim features; 5 x 6 tokens
    ((20, 384), (20, 5, 6))
    """

    _parameter_constraints: dict = {
        **BaseTorchEstimator._parameter_constraints,
        "ssl": [StrOptions(set(SSL_LOSSES)), None],
        "augmentations": [str, "array-like", None],
        "output": [StrOptions({"pyramid", "pooled", "tokens", "histogram"})],
        "codebook_size": [Interval(numbers.Integral, 2, None, closed="left")],
        "codebook_dim": [Interval(numbers.Integral, 1, None, closed="left")],
        "n_fft": [Interval(numbers.Integral, 4, None, closed="left")],
        "hop_length": [Interval(numbers.Integral, 1, None, closed="left"), None],
        "hidden_dim": [Interval(numbers.Integral, 1, None, closed="left")],
        "n_resnet_blocks": [Interval(numbers.Integral, 0, None, closed="left")],
        "downsampled_width": [Interval(numbers.Integral, 1, None, closed="left")],
        "frequency_split": [Interval(numbers.Integral, 1, None, closed="left"), None],
        "aug_recon_weight": [Interval(numbers.Real, 0, None, closed="left")],
        "ssl_weight": [Interval(numbers.Real, 0, None, closed="left")],
        "projector_dim": [Interval(numbers.Integral, 2, None, closed="left")],
        "codebook_decay": [Interval(numbers.Real, 0, 1, closed="both")],
        "commitment_weight": [Interval(numbers.Real, 0, None, closed="left")],
        "validation_fraction": [Interval(numbers.Real, 0, 1, closed="neither"), None],
        "unequal_length": [StrOptions(set(UNEQUAL_LENGTH_STRATEGIES)), None],
    }

    _auto_budget = (150, 300, 5000)  # max_epochs="auto": epochs, min and max steps

    def __init__(
        self,
        ssl="vibcreg",
        augmentations=("slice_and_shuffle",),
        output="pyramid",
        codebook_size=32,
        codebook_dim=64,
        n_fft=8,
        hop_length=None,
        hidden_dim=64,
        n_resnet_blocks=2,
        downsampled_width=8,
        frequency_split=None,
        aug_recon_weight=0.1,
        ssl_weight=1.0,
        projector_dim=1024,
        codebook_decay=0.8,
        commitment_weight=1.0,
        max_epochs="auto",
        batch_size=32,
        lr=1e-3,
        weight_decay=1e-3,
        validation_fraction=None,
        unequal_length=None,
        warm_start=False,
        device="auto",
        mixed_precision=None,
        random_state=None,
        verbose=0,
    ):
        self.ssl = ssl
        self.augmentations = augmentations
        self.output = output
        self.codebook_size = codebook_size
        self.codebook_dim = codebook_dim
        self.n_fft = n_fft
        self.hop_length = hop_length
        self.hidden_dim = hidden_dim
        self.n_resnet_blocks = n_resnet_blocks
        self.downsampled_width = downsampled_width
        self.frequency_split = frequency_split
        self.aug_recon_weight = aug_recon_weight
        self.ssl_weight = ssl_weight
        self.projector_dim = projector_dim
        self.codebook_decay = codebook_decay
        self.commitment_weight = commitment_weight
        self.max_epochs = max_epochs
        self.batch_size = batch_size
        self.lr = lr
        self.weight_decay = weight_decay
        self.validation_fraction = validation_fraction
        self.unequal_length = unequal_length
        self.warm_start = warm_start
        self.device = device
        self.mixed_precision = mixed_precision
        self.random_state = random_state
        self.verbose = verbose

    # -- fit -----------------------------------------------------------------
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None, *, check_input=True, step_budget=None):
        """Fit the tokenizer on ``X`` without labels.

        Parameters
        ----------
        X : array-like of shape (n_cases, n_channels, n_timepoints) or (n_cases, n_timepoints)
            Training series.
        y : ignored
            Accepted so that a Pipeline can pass labels through.
        check_input : bool, default=True
            Validate ``X``. ``False`` is for callers that have validated it
            already (a finite float64 array ``(n_cases, n_channels,
            n_timepoints)``), as :class:`NCVQVAEGenerator` has.
        step_budget : tuple of int (epochs, min_steps, max_steps) or None, default=None
            The rule of ``max_epochs="auto"``: ``epochs`` epochs counted as
            optimisation steps, clipped to ``[min_steps, max_steps]``. ``None``
            is the tokenizer's own, ``(150, 300, 5000)``; the generator asks
            for more, because its samples pass through the decoder. Ignored
            when ``max_epochs`` is an int. The steps trained are ``n_steps_``.

        Returns
        -------
        self : NCVQVAETokenizer
        """
        augmentations = self._check_n_fft_and_augmentations()
        X3, shape = self._check_fit_collection(X) if check_input else (X, self._fit_shape(X))
        X3 = pad_to_min_length(X3, min_length(self.n_fft))
        hop = self._hop()
        resume = self._can_resume(shape)
        mean, scale = (self.mean_, self.scale_) if resume else standardisation(X3)
        net = self._fit_net(
            NCVQVAEModule,
            standardise(X3, mean, scale),
            seed=self._seed(),
            term_names=LOSS_TERMS,
            description="NC-VQVAE stage 1" if self.ssl else "TimeVQVAE stage 1",
            resume=resume,
            validation_fraction=self.validation_fraction,
            step_budget=step_budget,
            n_channels=X3.shape[1],
            n_timepoints=X3.shape[2],
            n_fft=self.n_fft,
            hop_length=hop,
            hidden_dim=self.hidden_dim,
            codebook_size=self.codebook_size,
            codebook_dim=self.codebook_dim,
            n_resnet_blocks=self.n_resnet_blocks,
            downsampled_width=self.downsampled_width,
            frequency_split=self.frequency_split,
            ssl=self.ssl,
            augmentations=augmentations,
            aug_recon_weight=self.aug_recon_weight,
            ssl_weight=self.ssl_weight,
            projector_dim=self.projector_dim,
            codebook_decay=self.codebook_decay,
            commitment_weight=self.commitment_weight,
        )
        token_shape = tuple(net.module_.token_shape)
        self._set_fitted(
            net,
            **shape,
            mean_=mean,
            scale_=scale,
            hop_length_=hop,
            token_shape_=token_shape,
            n_tokens_=int(np.prod(token_shape)),
            n_codes_=int(net.module_.n_codes),
        )
        return self

    def _mixed_precision(self) -> str | None:
        return self.mixed_precision

    def _unequal_length(self) -> str | None:
        return self.unequal_length

    def _hop(self) -> int:
        """The STFT hop: the ``hop_length`` parameter, ``None`` resolved."""
        if self.hop_length is None:
            return hop_length(self.n_fft)
        if self.hop_length > self.n_fft // 2:
            # longer hops do not invert to the input: samples at the end are lost
            raise InvalidParameterError(
                f"The 'hop_length' parameter of {type(self).__name__} must be None or an "
                f"int in [1, n_fft // 2 = {self.n_fft // 2}]. Got {self.hop_length!r} instead."
            )
        return int(self.hop_length)

    def _check_n_fft_and_augmentations(self) -> tuple[str, ...]:
        """Check ``n_fft`` and ``frequency_split``; return the augmentations of the second view
        (``()`` without SSL)."""
        if self.n_fft % 2:
            # the STFT grid of an odd n_fft does not invert to the input length
            raise InvalidParameterError(
                f"The 'n_fft' parameter of {type(self).__name__} must be an even int >= 4. "
                f"Got {self.n_fft!r} instead."
            )
        if self.frequency_split is not None and self.frequency_split > self.n_fft // 2:
            # both streams need at least one of the n_fft // 2 + 1 rows
            raise InvalidParameterError(
                f"The 'frequency_split' parameter of {type(self).__name__} must be None or an "
                f"int in [1, n_fft // 2 = {self.n_fft // 2}]. Got {self.frequency_split!r} "
                "instead."
            )
        if self.ssl is None:
            return ()
        augmentations = check_augmentations(self.augmentations)
        if not augmentations:
            raise ValueError(
                f"ssl={self.ssl!r} needs at least one augmentation to make the second "
                f"view; valid names are {sorted(AUGMENTATIONS)}."
            )
        return augmentations

    # -- data space <-> model space -------------------------------------------
    def _prepare(self, X, check_input: bool = True) -> tuple[np.ndarray, object]:
        """Validate (unless ``check_input`` is false) and pad ``X``; return it
        (float64) and the function that standardises a slice of it into a
        float32 tensor (applied per batch, so that no standardised copy of the
        whole collection is made)."""
        X3 = self._check_collection(X) if check_input else X
        X3 = pad_to_min_length(X3, min_length(self.n_fft))

        def to_model_space(part: np.ndarray) -> torch.Tensor:
            return torch.as_tensor(standardise(part, self.mean_, self.scale_))

        return X3, to_model_space

    def _to_data_space(self, x: torch.Tensor) -> np.ndarray:
        x = x[..., : self.n_timepoints_].cpu().double().numpy()
        return x * self.scale_[None, :, None] + self.mean_[None, :, None]

    def _encode_tensor(self, X, check_input: bool = True) -> tuple[torch.Tensor, torch.Tensor]:
        """Pooled z_q ``(n, 2D)`` and token grids ``(n, H, W)`` of ``X``."""
        X3, to_model_space = self._prepare(X, check_input)
        module = self.net_.module_
        pooled = torch.empty(len(X3), 2 * self.codebook_dim)
        indices = torch.empty(len(X3), *self.token_shape_, dtype=torch.long)

        def encode(xb):
            z_q, idx = module.encode(xb)
            return global_pool(z_q), idx

        def store(start, out):
            pooled[start : start + len(out[0])] = out[0]
            indices[start : start + len(out[1])] = out[1]

        self._map_batches(encode, X3, convert=to_model_space, into=store)
        return pooled, indices

    @property
    def codebook_(self) -> np.ndarray:
        """The fitted code vectors, ``(n_codes_, codebook_dim)`` float32 (a copy)."""
        check_is_fitted(self)
        return self.net_.module_.quantizer.embed.detach().cpu().numpy().copy()

    def fine_tune_decoder(
        self, X, tokens=None, *, n_steps, random_state=None, check_input=True
    ) -> np.ndarray:
        """Train the fitted decoder alone for ``n_steps`` steps to reconstruct ``X`` from its tokens.

        The encoder and the codebook stay as they are, so every token and
        every feature is unchanged; the decoder learns to reconstruct ``X``
        from exactly the grids that a prior trained on ``X`` samples
        (:class:`NCVQVAEGenerator` calls it with ``decoder_steps``). Batches,
        learning rate and weight decay are the tokenizer's, cosine-annealed
        over the ``n_steps`` steps.

        Parameters
        ----------
        X : array-like of shape (n_cases, n_channels, n_timepoints) or (n_cases, n_timepoints)
            Series of the fitted shape.
        tokens : array-like of shape (n_cases, H, W) or None, default=None
            ``encode(X)``, when the caller has it already.
        n_steps : int
            Optimisation steps.
        random_state : int, RandomState instance or None, default=None
            Seeds the batches; ``None`` uses the estimator's ``random_state``.
        check_input : bool, default=True
            As in :meth:`fit`.

        Returns
        -------
        losses : ndarray of shape (n_steps,)
            The reconstruction loss of each step.
        """
        check_is_fitted(self)
        X3, to_model_space = self._prepare(X, check_input)
        if tokens is None:
            tokens = self._encode_tensor(X3, check_input=False)[1]
        module = self.net_.module_
        device = self.net_.device
        with worker_threads():
            losses = fine_tune(
                module.decoder,
                module.decoder_loss,
                (torch.as_tensor(tokens).to(device), to_model_space(X3).to(device)),
                n_steps=n_steps,
                batch_size=self.batch_size,
                lr=self.lr,
                weight_decay=self.weight_decay,
                seed=self._seed(random_state),
                mixed_precision=self._mixed_precision(),
                verbose=self.verbose,
                description="decoder",
            )
        return np.asarray(losses)

    # -- public transforms -----------------------------------------------------
    def transform(self, X):
        """Map series to features, token ids or token histograms (see ``output``).

        Parameters
        ----------
        X : array-like of shape (n_cases, n_channels, n_timepoints) or (n_cases, n_timepoints)

        Returns
        -------
        Xt : ndarray
            ``(n_cases, 6 * codebook_dim)`` float for ``output="pyramid"``,
            ``(n_cases, 2 * codebook_dim)`` float for ``"pooled"``,
            ``(n_cases, n_tokens)`` int64 for ``"tokens"``, ``(n_cases,
            n_codes_)`` float for ``"histogram"``. Floats are float64
            unless ``X`` is float32.
        """
        dtype = np.float32 if getattr(X, "dtype", None) == np.float32 else np.float64
        if self.output == "pyramid":
            X3, to_model_space = self._prepare(X)
            latent = self.net_.module_.latent
            features = np.empty((len(X3), 6 * self.codebook_dim), dtype=dtype)

            def store(start, out):
                features[start : start + len(out)] = out.numpy()

            self._map_batches(
                lambda xb: pyramid_pool(latent(xb)), X3, convert=to_model_space, into=store
            )
            return features
        pooled, indices = self._encode_tensor(X)
        if self.output == "pooled":
            return pooled.numpy().astype(dtype)
        flat = indices.reshape(len(indices), -1)
        if self.output == "tokens":
            return flat.numpy().astype(np.int64)
        counts = torch.zeros(len(flat), self.n_codes_, dtype=torch.float64)
        counts.scatter_add_(1, flat, torch.ones(flat.shape, dtype=torch.float64))
        return (counts / flat.shape[1]).numpy().astype(dtype)

    def encode(self, X, *, check_input=True) -> np.ndarray:
        """Token grid of each series, ``(n_cases, H, W)`` int64 ids in ``[0, n_codes_)``.

        With a ``frequency_split`` of ``s``, rows ``0..s-1`` hold ids in ``[0,
        codebook_size)`` and the other rows ids in ``[codebook_size, 2 * codebook_size)``.

        ``check_input=False`` skips the validation of ``X``, as in :meth:`fit`.
        """
        return self._encode_tensor(X, check_input)[1].numpy().astype(np.int64)

    def decode(self, tokens) -> np.ndarray:
        """Series ``(n_cases, n_channels, n_timepoints)`` in data space from token grids.

        Parameters
        ----------
        tokens : array-like of int, shape (n_cases, H, W) or (n_cases, H * W)
        """
        check_is_fitted(self)
        idx = self._check_tokens(tokens)
        series = np.empty((len(idx), self.n_channels_, self.n_timepoints_))

        def store(start, out):
            series[start : start + len(out)] = self._to_data_space(out)

        self._map_batches(self.net_.module_.decode_indices, idx, into=store)
        return series

    def reconstruct(self, X) -> np.ndarray:
        """``decode(encode(X))``: reconstructions in data space, shaped like ``X`` in 3D."""
        return self.decode(self.encode(X))

    def _check_tokens(self, tokens) -> torch.Tensor:
        tokens = np.asarray(tokens)
        height, width = self.token_shape_
        if tokens.ndim == 2 and tokens.shape[1] == height * width:
            tokens = tokens.reshape(len(tokens), height, width)
        if tokens.ndim != 3 or tokens.shape[1:] != (height, width) or len(tokens) == 0:
            raise ValueError(
                f"tokens must have shape (n_cases, {height}, {width}) or (n_cases, "
                f"{height * width}) with n_cases >= 1; got shape {tokens.shape}."
            )
        if not np.issubdtype(tokens.dtype, np.integer):
            if not np.issubdtype(tokens.dtype, np.number) or not np.all(tokens == np.round(tokens)):
                raise ValueError(f"tokens must be integer ids; got dtype {tokens.dtype}.")
        for band, (start, stop) in enumerate(self.net_.module_.bands):
            rows = tokens[:, start:stop]
            low, high = band * self.codebook_size, (band + 1) * self.codebook_size
            if rows.min() < low or rows.max() >= high:
                where = "" if self.frequency_split is None else f" on rows {start}-{stop - 1}"
                raise ValueError(
                    f"tokens must lie in [{low}, {high}){where}; got values from "
                    f"{rows.min()} to {rows.max()}."
                )
        return torch.as_tensor(tokens.astype(np.int64))

    def get_feature_names_out(self, input_features=None):
        """Names of the output columns of :meth:`transform` for the current ``output``."""
        check_is_fitted(self)
        if self.output == "pyramid":
            names = [
                f"{part}_{stat}{i}"
                for part in ("all", "first_half", "second_half")
                for stat in ("avg", "max")
                for i in range(self.codebook_dim)
            ]
        elif self.output == "pooled":
            names = [f"avg_pool{i}" for i in range(self.codebook_dim)]
            names += [f"max_pool{i}" for i in range(self.codebook_dim)]
        elif self.output == "tokens":
            names = [f"token{i}" for i in range(self.n_tokens_)]
        else:
            names = [f"code{i}" for i in range(self.n_codes_)]
        return np.asarray(names, dtype=object)

    @classmethod
    def _get_test_params(cls, parameter_set="default") -> dict:
        """Parameters of a tiny, fast tokenizer for tests, as aeon's ``_get_test_params``.

        Every layer a few channels wide, no residual blocks, two epochs.
        There is one ``parameter_set``, ``"default"``.
        """
        tiny = dict(hidden_dim=8, codebook_dim=8, codebook_size=8, n_resnet_blocks=0)
        return dict(tiny, projector_dim=16, max_epochs=2, device="cpu", random_state=0)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.three_d_array = True
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags
