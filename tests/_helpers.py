"""Data and thread helpers of the tests, imported as ``from _helpers import ...``.

``tests/`` is on ``sys.path`` (``pythonpath`` in pyproject.toml). The tiny
estimator settings are the estimators' own ``_get_test_params()``; the
constants here derive from them: the generator's without its tokenizer, and
the module sizes for the tests of the torch modules (tests/nn) and the report.
"""

from __future__ import annotations

import contextlib

import numpy as np
import torch
from hypothesis import HealthCheck, settings

from skncvqvae import NCVQVAEGenerator, NCVQVAETokenizer

# The module-level sizes that NCVQVAEModule and NCVQVAETokenizer share: every
# layer a few channels wide, no residual blocks.
TINY_MODEL = {
    key: NCVQVAETokenizer._get_test_params()[key]
    for key in ("hidden_dim", "codebook_dim", "codebook_size", "n_resnet_blocks", "projector_dim")
}

# NCVQVAEGenerator's tiny setting without its tiny tokenizer, for the tests that
# give it a tokenizer of their own.
TINY_GENERATOR = {
    key: value for key, value in NCVQVAEGenerator._get_test_params().items() if key != "tokenizer"
}

# The sizes of a tiny MaskGIT prior: the keyword arguments that MaskGITPrior and
# NCVQVAEGenerator share.
TINY_PRIOR = {key: TINY_GENERATOR[key] for key in ("hidden_dim", "n_layers", "n_heads", "ff_dim")}

# hypothesis: few, deterministic examples per property (every example fits a model)
PROPERTY = settings(
    max_examples=12,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@contextlib.contextmanager
def one_torch_thread():
    """Small convolutions run faster on one thread on a shared machine."""
    n_threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(n_threads)


def make_sines(n=64, length=64, n_channels=1, noise=0.1, seed=0) -> np.ndarray:
    """Noisy sines of random phase and one of two frequencies, ``(n, C, L)`` float64."""
    rng = np.random.default_rng(seed)
    t = np.linspace(0.0, 1.0, length)
    freq = rng.choice([2.0, 4.0], size=(n, n_channels, 1))
    phase = rng.uniform(0, 2 * np.pi, size=(n, n_channels, 1))
    X = np.sin(2 * np.pi * freq * t + phase)
    return X + noise * rng.standard_normal((n, n_channels, length))


def make_two_class(n=40, length=32, seed=0):
    """Sines of frequency 2 ("low") or 6 ("high") with noise, ``(n, L)`` float64 and labels."""
    rng = np.random.default_rng(seed)
    t = np.linspace(0, 1, length)
    y = np.array(["low", "high"] * (n // 2))
    freq = np.where(y == "low", 2.0, 6.0)[:, None]
    X = np.sin(2 * np.pi * freq * t) + 0.3 * rng.standard_normal((n, length))
    return X, y


def record_logits_calls(prior, monkeypatch) -> list:
    """Patch ``prior.logits`` to record ``(tokens, class_ids)`` of every call, in order."""
    calls = []
    original = prior.logits

    def recording(tokens, class_ids):
        calls.append((tokens.clone(), class_ids.clone()))
        return original(tokens, class_ids)

    monkeypatch.setattr(prior, "logits", recording)
    return calls


def record_guided_logits_inputs(prior, monkeypatch) -> list:
    """Patch ``prior.guided_logits`` to record the token ids of every call, in order."""
    calls = []
    original = prior.guided_logits

    def recording(tokens, class_ids, guidance_scale):
        calls.append(tokens.clone())
        return original(tokens, class_ids, guidance_scale)

    monkeypatch.setattr(prior, "guided_logits", recording)
    return calls
