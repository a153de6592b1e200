"""Shared fixtures: small datasets, fitted tokenizers, one torch thread per test.

Everything here is sized for a slow 2-core machine: the estimators' tiny test
settings (their ``_get_test_params()``), and datasets of at most a few dozen
short series. Fitted estimators are session-scoped; tests that need to change
one work on a ``copy.deepcopy``.
"""

from __future__ import annotations

import copy

import pytest

from skncvqvae import NCVQVAETokenizer

from _helpers import one_torch_thread


@pytest.fixture(autouse=True)
def _single_torch_thread():
    # Per test, because some libraries (numba/OpenMP) reset torch's thread count.
    with one_torch_thread():
        yield


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
    with one_torch_thread():
        return NCVQVAETokenizer(**{**NCVQVAETokenizer._get_test_params(), **params}).fit(X)


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
