"""Stage 2 of NC-VQVAE: a class-conditional bidirectional (MaskGIT) prior over tokens.

A token grid ``(H, W)`` is flattened to a sequence of ``N = H * W`` ids in
``[0, K)``; id ``K`` is the mask. A class token (``n_classes`` entries plus a
null class for unconditional use) is prepended and a bidirectional
transformer predicts the ids of the masked positions.

Training (:meth:`MaskGITPrior.forward`): per sample ``t ~ U(0, 1)``, mask
``ceil(gamma(t) N)`` random positions with ``gamma(t) = cos(pi t / 2)``, and
minimise the cross-entropy on the masked positions; labels are replaced by the
null class with probability ``p_unconditional``.

Sampling (:meth:`MaskGITPrior.generate`): start fully masked; at step
``s = 1..T`` draw ids for the masked positions from the (guided) logits over
a ``temperature``, score
them by ``log p + choice_temperature * (1 - s/T) * Gumbel``, and re-mask the
``floor(gamma(s/T) N)`` least confident new ids, so that after ``T`` steps
every position is decided.

Token critic (optional; Lezama et al. 2022, "Token-Critic", and the critic of
Lee et al. 2023's enhanced sampling for TimeVQVAE): a second transformer,
:class:`TokenCritic`, learns which tokens of a complete grid the prior drew
and which are real (:func:`critic_loss`: real grids with a cosine-scheduled
share of positions masked and redrawn by the prior). With a critic
(:meth:`MaskGITPrior.add_critic`), each decoding step keeps the new ids the
critic finds most real instead of those the prior finds most likely.

Two token streams (optional; TimeVQVAE's low- and high-frequency streams):
with ``first_stream=(n, k)``, the first ``n`` positions (the low-frequency rows)
take ids ``[0, k)`` and the others ids ``[k, K)``. Training alternates, per
grid, between the first stream's task (a cosine share of its positions masked,
the second stream hidden) and the second's (the first stream visible, a cosine
share of the second masked); sampling decodes the first stream, then the second
given it, each over ``T`` steps. One transformer does both of the two priors that
TimeVQVAE trains.
"""

from __future__ import annotations

import contextlib
import copy
import math

import torch
import torch.nn.functional as F
from torch import nn

from ._output import ModelOutput

__all__ = [
    "CRITIC_TERMS",
    "MaskGITPrior",
    "PRIOR_TERMS",
    "TokenCritic",
    "critic_loss",
    "cosine_schedule",
    "gumbel_noise",
    "n_masked_after_step",
]


# -- pure helpers -------------------------------------------------------------
def cosine_schedule(t: torch.Tensor | float) -> torch.Tensor:
    """Mask ratio ``gamma(t) = cos(pi t / 2)``: 1 at ``t = 0``, 0 at ``t = 1``."""
    return torch.cos(math.pi / 2 * torch.as_tensor(t, dtype=torch.float32))


def n_masked_after_step(step: int, n_iterations: int, n_tokens):
    """Positions still masked after decoding step ``step`` (1-based) of ``n_iterations``.

    ``floor(gamma(step / T) * N)``, which is 0 after the last step. ``n_tokens``
    is the number masked at the start: an int, or a tensor of per-row counts
    (then a long tensor is returned).
    """
    # In double precision: float32 gives cos(pi / 2) = -4e-8 (so -1 after the
    # last step) and cos(pi / 3) = 0.49999997 (so 49 instead of 50 of 100).
    ratio = math.cos(math.pi / 2 * step / n_iterations)
    counts = torch.as_tensor(n_tokens, dtype=torch.float64)
    masked = torch.floor(ratio * counts + 1e-6).long().clamp(min=0)
    return masked if isinstance(n_tokens, torch.Tensor) else int(masked)


def gumbel_noise(shape, generator: torch.Generator | None, device) -> torch.Tensor:
    """Standard Gumbel noise ``-log(-log(U))`` drawn from ``generator``."""
    u = torch.rand(shape, generator=generator, device=device).clamp_(1e-20, 1.0 - 1e-7)
    return -torch.log(-torch.log(u))


def _class_ids(labels, batch: int, null_class: int, device) -> torch.Tensor:
    """``labels`` as long class ids, or the null class for every row when ``None``."""
    if labels is None:
        return torch.full((batch,), null_class, device=device, dtype=torch.long)
    return labels.long()


def _drop_labels(labels, p: float, null_class: int, generator) -> torch.Tensor:
    """``labels`` with each replaced by the null class with probability ``p`` (classifier-free
    guidance's training); draws nothing at ``p = 0``."""
    if p <= 0:
        return labels
    drop = torch.rand(len(labels), generator=generator, device=labels.device) < p
    return torch.where(drop, torch.full_like(labels, null_class), labels)


def _training_mask(batch: int, n: int, generator, device) -> torch.Tensor:
    """Training mask ``(B, N)``: ``ceil(gamma(t) N)`` random positions per row, ``t ~ U(0, 1)``."""
    t = torch.rand(batch, generator=generator, device=device)
    n_mask = torch.ceil(cosine_schedule(t).to(device) * n).clamp(1, n).long()
    scores = torch.rand(batch, n, generator=generator, device=device)
    return scores.argsort(dim=1).argsort(dim=1) < n_mask[:, None]


def _stream_training_masks(batch: int, n: int, n_first: int, generator, device):
    """Training masks of two streams: ``(hidden (B, N), target (B, N))``.

    Each row trains one stream, chosen with probability 1/2: ``ceil(gamma(t) n_s)`` of
    its ``n_s`` positions are the targets (masked, and scored), as in
    :func:`_training_mask`. A row training the first stream hides the whole second
    stream too (it is drawn after the first); one training the second sees the first.
    """
    first = torch.rand(batch, generator=generator, device=device) < 0.5
    t = torch.rand(batch, generator=generator, device=device)
    size = torch.where(first, n_first, n - n_first)
    n_mask = torch.ceil(cosine_schedule(t).to(device) * size).clamp(min=1)
    n_mask = torch.minimum(n_mask.long(), size)
    in_first = torch.arange(n, device=device) < n_first
    stream = torch.where(first[:, None], in_first, ~in_first)
    scores = torch.rand(batch, n, generator=generator, device=device)
    scores = torch.where(stream, scores, torch.full_like(scores, 2.0))  # own stream first
    target = scores.argsort(dim=1).argsort(dim=1) < n_mask[:, None]
    hidden = target | (first[:, None] & ~in_first)
    return hidden, target


def _encode_with_class(module: nn.Module, h: torch.Tensor, class_ids: torch.Tensor):
    """``module``'s transformer over ``h`` ``(B, N, hidden)`` after a class token, which it drops.

    ``module`` has ``class_embedding``, ``position_embedding``, ``transformer`` and ``norm``.
    """
    h = torch.cat([module.class_embedding(class_ids)[:, None], h], dim=1)
    return module.norm(module.transformer(h + module.position_embedding))[:, 1:]


PRIOR_TERMS = ("loss", "masked_accuracy")
CRITIC_TERMS = ("loss", "accuracy")


# -- the transformer -----------------------------------------------------------
class _SelfAttention(nn.Module):
    """Multi-head self-attention on ``(B, N, D)`` through ``scaled_dot_product_attention``.

    The parameters are those of :class:`torch.nn.MultiheadAttention`
    (``in_proj_weight``, ``in_proj_bias``, ``out_proj``), initialised the same
    way, so that state dicts of either load into the other. Working in the
    batch-first layout throughout saves the sequence-first transposes and
    copies of ``nn.MultiheadAttention``'s training path (``docs/benchmarks.md``, "The
    prior's transformer in the batch-first layout").
    """

    def __init__(self, dim: int, n_heads: int, dropout: float):
        super().__init__()
        self.n_heads = n_heads
        self.dropout = dropout
        self.in_proj_weight = nn.Parameter(torch.empty(3 * dim, dim))
        self.in_proj_bias = nn.Parameter(torch.zeros(3 * dim))
        self.out_proj = nn.Linear(dim, dim)
        nn.init.xavier_uniform_(self.in_proj_weight)
        nn.init.zeros_(self.out_proj.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        batch, n, dim = x.shape
        qkv = F.linear(x, self.in_proj_weight, self.in_proj_bias)
        q, k, v = qkv.view(batch, n, 3, self.n_heads, dim // self.n_heads).permute(2, 0, 3, 1, 4)
        precision = contextlib.nullcontext()
        if q.dtype == torch.bfloat16 and q.device.type == "cpu":
            # Under bf16 autocast on the CPU, the flash-attention kernel's backward pass
            # in bf16 is many times slower than in float32 (torch 2.13; docs/benchmarks.md,
            # "bf16 autocast on a CPU with bf16 instructions"): attend in float32, outside
            # autocast (which would cast back to bf16); the projections stay in bf16.
            q, k, v = q.float(), k.float(), v.float()
            precision = torch.autocast("cpu", enabled=False)
        with precision:
            out = F.scaled_dot_product_attention(
                q, k, v, dropout_p=self.dropout if self.training else 0.0
            )
        return self.out_proj(out.transpose(1, 2).reshape(batch, n, dim))


class _EncoderLayer(nn.Module):
    """Pre-norm transformer block, the function of ``nn.TransformerEncoderLayer``
    with ``norm_first=True``, ``activation="gelu"`` and ``batch_first=True``, and
    its parameter names."""

    def __init__(self, dim: int, n_heads: int, ff_dim: int, dropout: float):
        super().__init__()
        self.self_attn = _SelfAttention(dim, n_heads, dropout)
        self.linear1 = nn.Linear(dim, ff_dim)
        self.dropout = nn.Dropout(dropout)
        self.linear2 = nn.Linear(ff_dim, dim)
        self.norm1 = nn.LayerNorm(dim)
        self.norm2 = nn.LayerNorm(dim)
        self.dropout1 = nn.Dropout(dropout)
        self.dropout2 = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.dropout1(self.self_attn(self.norm1(x)))
        return x + self.dropout2(self.linear2(self.dropout(F.gelu(self.linear1(self.norm2(x))))))


class _Encoder(nn.Module):
    """``n_layers`` blocks that start as copies of one, as ``nn.TransformerEncoder`` does."""

    def __init__(self, dim: int, n_heads: int, ff_dim: int, dropout: float, n_layers: int):
        super().__init__()
        layer = _EncoderLayer(dim, n_heads, ff_dim, dropout)
        self.layers = nn.ModuleList([copy.deepcopy(layer) for _ in range(n_layers)])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for layer in self.layers:
            x = layer(x)
        return x


class TokenCritic(nn.Module):
    """Transformer that scores each token of a complete grid: drawn by the prior, or real.

    Parameters
    ----------
    n_tokens : int
        Sequence length ``N``.
    codebook : Tensor of shape (K, D)
        Initialises the token embedding (``K`` ids, no mask id: grids are complete).
    n_classes : int
        Number of classes; the class embedding has a last, null entry.
    hidden_dim, n_layers, n_heads, ff_dim : int
        Transformer width, depth, heads and feed-forward width.
    """

    def __init__(
        self,
        n_tokens: int,
        codebook: torch.Tensor,
        n_classes: int,
        *,
        hidden_dim: int,
        n_layers: int,
        n_heads: int,
        ff_dim: int,
    ):
        super().__init__()
        codebook = torch.as_tensor(codebook, dtype=torch.float32)
        self.n_tokens = n_tokens
        self.null_class = n_classes
        self.token_embedding = nn.Embedding.from_pretrained(codebook.clone(), freeze=False)
        self.input_proj = nn.Linear(codebook.shape[1], hidden_dim)
        self.class_embedding = nn.Embedding(n_classes + 1, hidden_dim)
        self.position_embedding = nn.Parameter(torch.zeros(1, n_tokens + 1, hidden_dim))
        nn.init.trunc_normal_(self.position_embedding, std=0.02)
        self.transformer = _Encoder(hidden_dim, n_heads, ff_dim, 0.0, n_layers)
        self.norm = nn.LayerNorm(hidden_dim)
        self.head = nn.Linear(hidden_dim, 1)

    def forward(self, tokens: torch.Tensor, class_ids: torch.Tensor) -> torch.Tensor:
        """Logits ``(B, N)`` that each id of the complete grids ``tokens`` was drawn by the prior."""
        h = _encode_with_class(self, self.input_proj(self.token_embedding(tokens)), class_ids)
        return self.head(h)[..., 0]


def critic_loss(
    critic: TokenCritic,
    prior: MaskGITPrior,
    tokens: torch.Tensor,
    labels: torch.Tensor | None = None,
    *,
    p_unconditional: float = 0.0,
    generator: torch.Generator | None = None,
) -> ModelOutput:
    """The critic's binary cross-entropy on real grids partly redrawn by the prior.

    Per grid, ``ceil(gamma(t) N)`` random positions (``t ~ U(0, 1)``, as the
    prior trains) are masked and drawn by ``prior`` from its logits given the
    rest and the class (temperature 1, no gradient); the critic learns to
    tell them (target 1) from the real ids (target 0), and sees the null class
    with probability ``p_unconditional``. Ids the prior redraws unchanged keep
    target 1, as in Token-Critic: the target is "was masked".
    """
    batch, n = tokens.shape
    labels = _class_ids(labels, batch, prior.null_class, tokens.device)
    mask = _training_mask(batch, n, generator, tokens.device)
    with torch.no_grad():
        logits = prior.logits(torch.where(mask, prior.mask_id, tokens), labels).float()
        drawn = (logits + gumbel_noise(logits.shape, generator, tokens.device)).argmax(-1)
    grids = torch.where(mask, drawn, tokens)
    labels = _drop_labels(labels, p_unconditional, prior.null_class, generator)
    scores = critic(grids, labels)
    target = mask.to(scores.dtype)
    loss = F.binary_cross_entropy_with_logits(scores, target)
    accuracy = ((scores > 0) == mask).float().mean()
    return ModelOutput(loss=loss, terms={"loss": loss.detach(), "accuracy": accuracy})


class MaskGITPrior(nn.Module):
    """Bidirectional transformer over token sequences with a class token.

    Parameters
    ----------
    n_tokens : int
        Sequence length ``N``.
    codebook : Tensor of shape (K, D)
        The stage-1 codebook; it initialises the token embedding
        (``prior_input="tokens"``) or is the input vocabulary
        (``prior_input="codebook"``).
    n_classes : int
        Number of classes (0 for an unconditional prior); the class embedding
        has ``n_classes + 1`` entries, the last one the null class.
    prior_input : {"tokens", "codebook"}
        ``"tokens"``: an id embedding of ``K + 1`` rows (the mask last), its
        first ``K`` rows initialised from the codebook, logits tied to it.
        ``"codebook"``: inputs are code vectors of a trainable copy of the
        codebook plus a learnable mask vector; an MLP head gives the logits.
    hidden_dim, n_layers, n_heads, ff_dim : int
        Transformer width, depth, heads and feed-forward width.
    dropout : float
        Dropout inside the transformer.
    p_unconditional : float
        Probability of replacing a label by the null class during training.
    token_noise : float
        Training only: share of the visible (unmasked) input tokens replaced by
        ids drawn uniformly from ``[0, K)``, so that the prior cannot key a
        memorised grid on its exact context. The loss stays on the masked
        positions. 0 draws nothing (the random stream is as without the option).
    label_smoothing : float
        Label smoothing of the training cross-entropy (0: none). Held-out and
        evaluation losses are always unsmoothed.
    critic : bool
        Build a :class:`TokenCritic` of the transformer's size as ``self.critic``
        (:meth:`add_critic`); ``False``: ``self.critic`` is ``None``.
    first_stream : tuple of int (n_positions, n_ids) or None
        Two token streams: the first ``n_positions`` positions take ids ``[0,
        n_ids)``, the rest ids ``[n_ids, K)``; the prior learns and draws the first
        stream before the second (module docstring). Logits of ids outside a
        position's stream are set to a large negative value. ``None``: one stream.
        No critic with two streams.
    """

    def __init__(
        self,
        n_tokens: int,
        codebook: torch.Tensor,
        n_classes: int,
        *,
        prior_input: str = "codebook",
        hidden_dim: int = 256,
        n_layers: int = 4,
        n_heads: int = 2,
        ff_dim: int = 256,
        dropout: float = 0.0,
        p_unconditional: float = 0.2,
        token_noise: float = 0.0,
        label_smoothing: float = 0.0,
        critic: bool = False,
        first_stream: tuple[int, int] | None = None,
    ):
        super().__init__()
        if prior_input not in ("tokens", "codebook"):
            raise ValueError(f"prior_input must be 'tokens' or 'codebook'; got {prior_input!r}.")
        if hidden_dim % n_heads:
            raise ValueError(f"hidden_dim={hidden_dim} must be divisible by n_heads={n_heads}.")
        codebook = torch.as_tensor(codebook, dtype=torch.float32)
        self.n_tokens = n_tokens
        self.codebook_size, code_dim = codebook.shape
        self.mask_id = self.codebook_size
        self.n_classes = n_classes
        self.null_class = n_classes
        self.prior_input = prior_input
        self.p_unconditional = p_unconditional
        self.token_noise = token_noise
        self.label_smoothing = label_smoothing
        self.first_stream = None if first_stream is None else tuple(int(v) for v in first_stream)
        if self.first_stream is not None:
            n_first, n_ids = self.first_stream
            if not (1 <= n_first < n_tokens and 1 <= n_ids < self.codebook_size):
                raise ValueError(
                    f"first_stream must be (n_positions, n_ids) with 1 <= n_positions < "
                    f"{n_tokens} and 1 <= n_ids < {self.codebook_size}; got {first_stream}."
                )
            in_first = torch.arange(n_tokens) < n_first
            first_ids = torch.arange(self.codebook_size) < n_ids
            # derived from the arguments, so not saved: the positions of the first stream,
            # and which ids each position may take
            self.register_buffer("first_positions", in_first, persistent=False)
            self.register_buffer("allowed", in_first[:, None] == first_ids, persistent=False)

        if prior_input == "tokens":
            self.token_embedding = nn.Embedding(self.codebook_size + 1, code_dim)
            with torch.no_grad():
                self.token_embedding.weight[: self.codebook_size].copy_(codebook)
            self.output_bias = nn.Parameter(torch.zeros(self.codebook_size))
        else:
            self.codes = nn.Parameter(codebook.clone())
            self.mask_vector = nn.Parameter(torch.randn(code_dim) * codebook.std())
            self.head = nn.Sequential(
                nn.Linear(hidden_dim, hidden_dim),
                nn.GELU(),
                nn.LayerNorm(hidden_dim),
                nn.Linear(hidden_dim, self.codebook_size),
            )
        self.input_proj = nn.Linear(code_dim, hidden_dim)
        self.class_embedding = nn.Embedding(n_classes + 1, hidden_dim)
        self.position_embedding = nn.Parameter(torch.zeros(1, n_tokens + 1, hidden_dim))
        nn.init.trunc_normal_(self.position_embedding, std=0.02)
        self.transformer = _Encoder(hidden_dim, n_heads, ff_dim, dropout, n_layers)
        self.norm = nn.LayerNorm(hidden_dim)
        if prior_input == "tokens":
            self.to_code_dim = nn.Linear(hidden_dim, code_dim)
        self._critic_args = dict(
            hidden_dim=hidden_dim, n_layers=n_layers, n_heads=n_heads, ff_dim=ff_dim
        )
        self.critic: TokenCritic | None = None
        if critic:
            self.add_critic(codebook)

    def add_critic(self, codebook: torch.Tensor | None = None) -> TokenCritic:
        """Give the prior a new, untrained :class:`TokenCritic` (replacing any) and return it.

        Its weights are drawn inside a fork of torch's random state, so that
        adding a critic leaves the draws that follow unchanged. ``codebook``
        initialises its token embedding (default: the prior's input codes).
        """
        if self.first_stream is not None:
            raise ValueError("A token critic is not available for a prior of two token streams.")
        if codebook is None:
            codebook = self.codes if self.prior_input == "codebook" else self.token_embedding.weight
            codebook = codebook[: self.codebook_size]
        device = self.position_embedding.device
        with torch.random.fork_rng(devices=[device] if device.type == "cuda" else []):
            critic = TokenCritic(
                self.n_tokens, codebook.detach().cpu(), self.n_classes, **self._critic_args
            )
        self.critic = critic.to(device)
        return self.critic

    # -- logits ----------------------------------------------------------------
    def _embed_tokens(self, tokens: torch.Tensor) -> torch.Tensor:
        if self.prior_input == "tokens":
            return self.token_embedding(tokens)
        vocab = torch.cat([self.codes, self.mask_vector[None]], dim=0)
        return F.embedding(tokens, vocab)

    def logits(self, tokens: torch.Tensor, class_ids: torch.Tensor) -> torch.Tensor:
        """Logits ``(B, N, K)`` for token ids ``(B, N)`` (mask id ``K``) and classes ``(B,)``."""
        h = _encode_with_class(self, self.input_proj(self._embed_tokens(tokens)), class_ids)
        if self.prior_input == "tokens":
            weight = self.token_embedding.weight[: self.codebook_size]
            logits = self.to_code_dim(h) @ weight.t() + self.output_bias
        else:
            logits = self.head(h)
        if self.first_stream is not None:  # finite, so that label smoothing stays finite
            logits = logits.masked_fill(~self.allowed, -1e4)
        return logits

    def guided_logits(
        self, tokens: torch.Tensor, class_ids: torch.Tensor, guidance_scale: float
    ) -> torch.Tensor:
        """Classifier-free guidance: ``l_u + w (l_c - l_u)``; ``w = 1`` is the conditional logits.

        With guidance, the conditional and unconditional passes run as one batch.
        """
        if guidance_scale == 1.0:
            return self.logits(tokens, class_ids)
        null = torch.full_like(class_ids, self.null_class)
        both = self.logits(torch.cat([tokens, tokens]), torch.cat([class_ids, null]))
        conditional, unconditional = both.chunk(2)
        return unconditional + guidance_scale * (conditional - unconditional)

    # -- training ----------------------------------------------------------------
    def forward(
        self,
        tokens: torch.Tensor,
        labels: torch.Tensor | None = None,
        generator: torch.Generator | None = None,
    ) -> ModelOutput:
        batch, n = tokens.shape
        device = tokens.device
        labels = _class_ids(labels, batch, self.null_class, device)
        if self.training:
            labels = _drop_labels(labels, self.p_unconditional, self.null_class, generator)
        if self.first_stream is None:
            mask = hidden = _training_mask(batch, n, generator, device)
        else:
            hidden, mask = _stream_training_masks(batch, n, self.first_stream[0], generator, device)
        inputs = torch.where(hidden, torch.full_like(tokens, self.mask_id), tokens)
        if self.training and self.token_noise > 0:
            noisy = ~hidden & (
                torch.rand(batch, n, generator=generator, device=device) < self.token_noise
            )
            ids = torch.randint(self.codebook_size, (batch, n), generator=generator, device=device)
            if self.first_stream is not None:  # ids of each position's own stream
                n_ids = self.first_stream[1]
                in_first = self.first_positions
                ids = torch.where(in_first, ids % n_ids, n_ids + ids % (self.codebook_size - n_ids))
            inputs = torch.where(noisy, ids, inputs)
        logits = self.logits(inputs, labels)
        smoothing = self.label_smoothing if self.training else 0.0
        loss = F.cross_entropy(logits[mask], tokens[mask], label_smoothing=smoothing)
        accuracy = (logits[mask].argmax(-1) == tokens[mask]).float().mean()
        return ModelOutput(loss=loss, terms={"loss": loss.detach(), "masked_accuracy": accuracy})

    # -- sampling ------------------------------------------------------------------
    @torch.no_grad()
    def generate(
        self,
        class_ids: torch.Tensor,
        *,
        tokens: torch.Tensor | None = None,
        n_iterations: int = 10,
        choice_temperature: float = 4.0,
        guidance_scale: float = 1.0,
        temperature: float = 1.0,
        generator: torch.Generator | None = None,
        use_critic: bool = True,
    ) -> torch.Tensor:
        """Iterative decoding of ``len(class_ids)`` sequences; returns ids ``(B, N)``.

        Use ``class_ids = null_class`` for unconditional samples. ``tokens``
        ``(B, N)``, if given, is the starting grid: positions holding
        ``mask_id`` are drawn (over the same ``n_iterations`` steps, scheduled
        on each row's own number of masked positions) and the others are kept,
        which gives variations of given sequences. ``temperature`` divides the
        logits before each draw (above 1: less likely ids, more varied
        sequences). With a critic (and ``use_critic``), a step keeps the new
        ids that the critic scores most real, with the same annealed noise,
        instead of the most likely ones; decided ids are never redrawn either
        way. With two streams (``first_stream``), the first stream's masked ids are
        drawn first (``n_iterations`` steps, the second stream hidden), then the
        second's given them (``n_iterations`` more). The module's train/eval mode
        is restored on return.
        """
        was_training = self.training
        self.eval()
        batch, n = class_ids.shape[0], self.n_tokens
        device = class_ids.device
        if tokens is None:
            tokens = torch.full((batch, n), self.mask_id, dtype=torch.long, device=device)
        elif tokens.shape != (batch, n):
            raise ValueError(f"tokens must have shape {(batch, n)}, got {tuple(tokens.shape)}.")
        args = dict(
            n_iterations=n_iterations,
            choice_temperature=choice_temperature,
            guidance_scale=guidance_scale,
            temperature=temperature,
            generator=generator,
            use_critic=use_critic,
        )
        if self.first_stream is None:
            tokens = self._decode(tokens, class_ids, None, **args)
        else:
            first, second = self.first_positions, ~self.first_positions
            # the first stream is drawn with the second hidden, as the prior learnt it;
            # the second stream's given ids come back for its own decoding
            hidden = torch.where(second, self.mask_id, tokens)
            tokens = torch.where(first, self._decode(hidden, class_ids, first, **args), tokens)
            tokens = self._decode(tokens, class_ids, second, **args)
        self.train(was_training)
        return tokens

    def _decode(
        self,
        tokens: torch.Tensor,
        class_ids: torch.Tensor,
        positions: torch.Tensor | None,
        *,
        n_iterations: int,
        choice_temperature: float,
        guidance_scale: float,
        temperature: float,
        generator: torch.Generator | None,
        use_critic: bool,
    ) -> torch.Tensor:
        """MaskGIT's iterative decoding of the masked ids of ``tokens`` among ``positions``
        (a bool mask ``(N,)``; ``None``: all); the other ids are kept."""
        n = self.n_tokens
        device = tokens.device

        def undecided(tokens):
            masked = tokens == self.mask_id
            return masked if positions is None else masked & positions

        n_start = undecided(tokens).sum(dim=1)
        all_masked = bool((tokens == self.mask_id).all())
        for step in range(1, n_iterations + 1):
            unknown = undecided(tokens)
            if step == 1 and all_masked:
                # Every sequence starts fully masked, so the first logits depend on the
                # class alone: one row per class (a fixed batch, whatever the classes
                # drawn), gathered for every sequence. Saves one of the T passes.
                every_class = torch.arange(self.n_classes + 1, device=device)
                blank = torch.full((self.n_classes + 1, n), self.mask_id, device=device)
                logits = self.guided_logits(blank, every_class, guidance_scale)[class_ids]
            else:
                logits = self.guided_logits(tokens, class_ids, guidance_scale)
            logits = logits / temperature  # exact for 1: x / 1.0 == x in floating point
            sampled = (logits + gumbel_noise(logits.shape, generator, device)).argmax(-1)
            sampled = torch.where(unknown, sampled, tokens)
            if use_critic and self.critic is not None:
                # log-odds of "real" under the critic, in place of the id's log-probability
                score = -self.critic(sampled, class_ids).float()
            else:
                # (decided positions score inf below; hidden ones hold the mask id)
                ids = sampled.clamp(max=self.codebook_size - 1)
                score = F.log_softmax(logits, dim=-1).gather(-1, ids[..., None])[..., 0]
            anneal = choice_temperature * (1.0 - step / n_iterations)
            confidence = score + anneal * gumbel_noise(score.shape, generator, device)
            confidence = torch.where(unknown, confidence, torch.full_like(confidence, math.inf))
            n_unknown = unknown.sum(dim=1)
            n_remask = n_masked_after_step(step, n_iterations, n_start)
            n_remask = torch.minimum(n_remask, n_unknown - 1).clamp(min=0)
            ranks = confidence.argsort(dim=1).argsort(dim=1)
            remask = ranks < n_remask[:, None]
            tokens = torch.where(remask, torch.full_like(sampled, self.mask_id), sampled)
        return tokens
