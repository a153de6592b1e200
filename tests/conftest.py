"""Shared fixtures: tiny model parameters, small datasets, fitted tokenizers.

Everything here is sized for a slow 2-core machine: tiny networks, a couple of
epochs, and datasets of at most a few dozen short series. Fitted estimators are
session-scoped; tests that need to change one work on a ``copy.deepcopy``.
"""

from __future__ import annotations

import contextlib
import copy

import numpy as np
import pytest
import torch

# The one tiny setting of the test suite. TINY_MODEL holds the module-level
# sizes that NCVQVAEModule and NCVQVAETokenizer share: every layer a few
# channels wide, no residual blocks. TINY adds two epochs of training: a fit on
# 20 series of length 24 takes well under a second on one thread.
TINY_MODEL = dict(
    hidden_dim=8,
    codebook_dim=8,
    codebook_size=8,
    n_resnet_blocks=0,
    projector_dim=16,
)
TINY = dict(**TINY_MODEL, max_epochs=2, batch_size=32, device="cpu", random_state=0)

# Module-level sizes of a tiny MaskGIT prior (the keyword arguments that
# MaskGITPrior and NCVQVAEGenerator share) and the generator's tiny setting.
TINY_PRIOR = dict(hidden_dim=32, n_layers=1, n_heads=2, ff_dim=32)
# Two decoder fine-tuning steps keep that path in every fit at almost no cost.
TINY_GENERATOR = dict(**TINY_PRIOR, max_epochs=3, decoder_steps=2, device="cpu", random_state=0)

# A short FCN training, for the classifier of the evaluation.
TINY_FCN = dict(max_epochs=2, batch_size=16, device="cpu", random_state=0)


@contextlib.contextmanager
def one_torch_thread():
    """Small convolutions run faster on one thread on a shared machine."""
    n_threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(n_threads)


@pytest.fixture(autouse=True)
def _single_torch_thread():
    # Per test, because some libraries (numba/OpenMP) reset torch's thread count.
    with one_torch_thread():
        yield


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


@pytest.fixture(scope="session")
def unit_test_data():
    """aeon's UnitTest train split: X (20, 1, 24) float64, y strings."""
    from aeon.datasets import load_unit_test

    X, y = load_unit_test(split="train")
    return X, y


@pytest.fixture(scope="session")
def basic_motions_data():
    """A 16-case subset of aeon's BasicMotions train split: X (16, 6, 100)."""
    from aeon.datasets import load_basic_motions

    X, y = load_basic_motions(split="train")
    return X[::5][:16], y[::5][:16]


def _fit(X, **params):
    from skncvqvae import NCVQVAETokenizer

    with one_torch_thread():
        return NCVQVAETokenizer(**{**TINY, **params}).fit(X)


@pytest.fixture(scope="session")
def fitted_unit(unit_test_data):
    """Tiny tokenizer (the default VIBCReg loss) fitted on UnitTest (3D input). Do not modify."""
    return _fit(unit_test_data[0])


@pytest.fixture(scope="session")
def fitted_unit_2d(unit_test_data):
    """Same parameters as ``fitted_unit``, fitted on the 2D view of UnitTest."""
    return _fit(unit_test_data[0][:, 0, :])


@pytest.fixture(scope="session")
def fitted_motions(basic_motions_data):
    """Tiny tokenizer fitted on 6-channel BasicMotions. Do not modify."""
    return _fit(basic_motions_data[0])


@pytest.fixture
def fitted_copy(fitted_unit):
    """A private deep copy of ``fitted_unit`` that a test may modify."""
    return copy.deepcopy(fitted_unit)
