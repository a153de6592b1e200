"""Tests for skncvqvae._base: the base of the estimators (what counts as fitted,
the "auto" training budgets, inference batches).

The other layers under the estimators have their own files: test_random.py,
test_training.py, test_validation.py, test_persistence.py, test_accelerate.py.
"""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest
import torch
from sklearn.exceptions import NotFittedError
from sklearn.utils.validation import check_is_fitted

from skncvqvae import NCVQVAETokenizer

from _helpers import make_sines

TINY = NCVQVAETokenizer._get_test_params()


def test_fitted_module_is_left_in_eval_mode():
    tok = NCVQVAETokenizer(**TINY).fit(make_sines(n=16, length=32))
    assert not any(m.training for m in tok.net_.module_.modules())


def test_attributes_without_net_do_not_count_as_fitted():
    # a fit that stopped before the net was kept must not look fitted
    tok = NCVQVAETokenizer(**TINY)
    tok.mean_ = np.zeros(1)
    with pytest.raises(NotFittedError):
        check_is_fitted(tok)


def test_map_batches_pads_to_a_fixed_shape_and_drops_the_padding():
    tok = NCVQVAETokenizer(**{**TINY, "batch_size": 4}).fit(make_sines(n=8, length=32))
    shapes = []

    def fn(batch):
        shapes.append(tuple(batch.shape))
        assert not torch.is_grad_enabled()
        return batch * 2

    x = torch.arange(10.0).reshape(10, 1)
    out = torch.cat(tok._map_batches(fn, x))
    assert shapes == [(4, 1)] * 3
    torch.testing.assert_close(out, x * 2)
    shapes.clear()
    tok._map_batches(fn, x, pad=False)
    assert shapes == [(4, 1), (4, 1), (2, 1)]


@pytest.mark.parametrize(
    "n_fit, batch_size, expected",
    [(50, 32, 150), (67, 32, 150), (30, 32, 300), (20, 32, 300), (5000, 32, 32), (200, 32, 150)],
)
def test_auto_budget_counts_steps(n_fit, batch_size, expected):
    # 150 epochs as optimisation steps, clipped to 300..5000 steps
    tok = NCVQVAETokenizer(max_epochs="auto", batch_size=batch_size)
    assert tok._n_epochs(n_fit) == expected
    assert NCVQVAETokenizer(max_epochs=7)._n_epochs(n_fit) == 7


def test_auto_budget_reaches_the_net_and_the_schedule():
    X = make_sines(n=10, length=32)  # one batch per epoch: "auto" trains 300 epochs
    tok = NCVQVAETokenizer(**{**TINY, "max_epochs": "auto", "batch_size": 32})
    tok._auto_budget = (2, 3, 10)  # a small rule for the test: 2 epochs, at least 3 steps
    tok.fit(X)
    assert len(tok.history_) == 3
    assert dict(tok.net_.callbacks_)["lr_scheduler"].total_steps == 3


@pytest.mark.parametrize(
    "n_fit, expected", [(50, 2000), (20, 4000), (67, 1334), (200, 1000), (1000, 313), (20000, 16)]
)
def test_prior_auto_budget(n_fit, expected):
    # 1000 epochs as optimisation steps of batch 32, clipped to 4000..10000 steps
    from skncvqvae import NCVQVAEGenerator

    assert NCVQVAEGenerator()._n_epochs(n_fit) == expected


def test_inference_batches_are_bounded_by_values_not_rows():
    # Before: one length-20 000 series was padded to batch_size rows (2.6 GB).
    tok = NCVQVAETokenizer(**{**TINY, "batch_size": 256}).fit(make_sines(n=8, length=64))
    assert tok._inference_rows(torch.zeros(1, 1, 20_000)) == 2**18 // 20_000
    assert tok._inference_rows(torch.zeros(1, 1, 64)) == 256
    assert tok._inference_rows(torch.zeros(1, 1, 10**7)) == 1


_START_NUMBA_LAYER = """
import numba, numpy as np
@numba.njit(parallel=True)
def total(a):
    s = 0.0
    for i in numba.prange(a.shape[0]):
        s += a[i]
    return s
total(np.ones(100))  # starts numba's threading layer, as MiniRocket's transform does
"""


def _run_python(code: str, **env_changes) -> str:
    """``code``'s standard output in a fresh interpreter whose environment has
    ``env_changes`` (``None``: unset) and no inherited ``NUMBA_THREADING_LAYER``;
    skipped where numba or its OpenMP layer is not available."""
    pytest.importorskip("numba")
    env = {k: v for k, v in os.environ.items() if k != "NUMBA_THREADING_LAYER"}
    env.update({k: v for k, v in env_changes.items() if v is not None})
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    if "No threading layer could be loaded" in result.stderr:
        pytest.skip("numba has no OpenMP layer here")
    assert result.returncode == 0, result.stderr
    return result.stdout


_CONFLICT_SCRIPT = (
    "import warnings, torch\ntorch.set_num_threads({threads})\n"
    + _START_NUMBA_LAYER
    + """
from skncvqvae import NCVQVAETokenizer
from skncvqvae._base import numba_openmp_active
X = np.random.default_rng(0).standard_normal((8, 1, 32))
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    NCVQVAETokenizer(**NCVQVAETokenizer._get_test_params()).fit(X)
messages = [str(w.message) for w in caught if issubclass(w.category, RuntimeWarning)]
print(numba.threading_layer(), numba_openmp_active(), any("NUMBA_THREADING_LAYER" in m for m in messages))
"""
)


@pytest.mark.parametrize(
    "layer, threads, expected",
    [
        ("omp", 2, "omp True True"),  # the conflict: warned
        ("omp", 1, "omp True False"),  # one torch thread ran at its normal speed
        ("workqueue", 2, "workqueue False False"),  # the fix
    ],
)
def test_numba_openmp_layer_beside_multithreaded_torch_is_warned(layer, threads, expected):
    """torch training after numba's OpenMP layer started ran ~25x slower per step on 2
    threads (docs/benchmarks.md); fit says so, with the fix, and only then."""
    stdout = _run_python(
        _CONFLICT_SCRIPT.format(threads=threads),
        NUMBA_THREADING_LAYER=layer,
        OMP_NUM_THREADS=str(threads),
    )
    assert stdout.split("\n")[-2] == expected


_PREFER_SCRIPT = (
    "from skncvqvae._base import prefer_numba_workqueue\nprint(prefer_numba_workqueue())\n"
    + _START_NUMBA_LAYER
    + "print(numba.threading_layer())\n"
)


@pytest.mark.parametrize("preset, expected", [(None, "True workqueue"), ("omp", "False omp")])
def test_entry_points_prefer_numbas_workqueue_layer_unless_the_user_chose(preset, expected):
    stdout = _run_python(_PREFER_SCRIPT, NUMBA_THREADING_LAYER=preset)
    assert " ".join(stdout.split()) == expected
