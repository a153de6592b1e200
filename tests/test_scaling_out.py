"""Scaling out: torch threads in joblib workers, and Dask.

See ``docs/scaling.rst``; training through Hugging Face Accelerate is tested in
test_accelerate.py. The thread tests set the caller's torch thread count
to 2 on purpose (the autouse fixture of conftest restores it afterwards).
"""

from __future__ import annotations

import os

import joblib
import numpy as np
import pytest
import torch
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import Pipeline
from sklearn.svm import SVC

from skncvqvae import NCVQVAETokenizer

from _helpers import make_two_class

TINY = NCVQVAETokenizer._get_test_params()


class ThreadRecordingTokenizer(NCVQVAETokenizer):
    """Records ``torch.get_num_threads()`` as training starts, in ``fit_threads_``."""

    def _make_net(self, build, device):
        net = super()._make_net(build, device)
        partial_fit = net.partial_fit

        def recording_partial_fit(*args, **kwargs):
            self.fit_threads_ = torch.get_num_threads()
            return partial_fit(*args, **kwargs)

        net.partial_fit = recording_partial_fit
        return net


def _fit_in_worker(X):
    """``(threads before fit, threads during fit, threads after fit, OMP_NUM_THREADS)``."""
    before = torch.get_num_threads()
    tokenizer = ThreadRecordingTokenizer(**{**TINY, "max_epochs": 1}).fit(X)
    return (
        before,
        tokenizer.fit_threads_,
        torch.get_num_threads(),
        os.environ.get("OMP_NUM_THREADS"),
    )


# -- torch threads -------------------------------------------------------------------


def test_fit_outside_workers_keeps_the_callers_threads():
    X, _ = make_two_class(n=16, length=24)
    torch.set_num_threads(2)
    before, during, after, _ = _fit_in_worker(X)
    assert (before, during, after) == (2, 2, 2)
    # n_jobs=1: joblib runs the tasks in the caller, not in a worker
    results = joblib.Parallel(n_jobs=1)(joblib.delayed(_fit_in_worker)(X) for _ in range(2))
    assert [r[:3] for r in results] == [(2, 2, 2)] * 2


@pytest.mark.parametrize("backend", ["threading", "loky"])
def test_fit_in_joblib_workers_runs_with_the_workers_share(backend):
    """Threads: one torch thread per fit (no limit set); loky: joblib's limit, as it is."""
    X, _ = make_two_class(n=16, length=24)
    torch.set_num_threads(2)
    with joblib.parallel_config(backend=backend):
        results = joblib.Parallel(n_jobs=2)(joblib.delayed(_fit_in_worker)(X) for _ in range(4))
    for before, during, after, omp in results:
        if backend == "threading":
            # OMP_NUM_THREADS=1 in CI and here; 1 when unset
            expected = min(int(omp or 1), before)
        else:
            # loky sets OMP_NUM_THREADS=cpu_count // n_jobs in its workers and torch reads it
            expected = max(1, joblib.cpu_count() // 2)
            assert int(omp) == expected == before
        assert during == expected
        assert after == before  # restored in the worker
    assert torch.get_num_threads() == 2  # the caller's setting is untouched


# -- Dask ------------------------------------------------------------------------------


def _search():
    pipe = Pipeline([("tokenizer", NCVQVAETokenizer(**{**TINY, "max_epochs": 1})), ("svc", SVC())])
    return GridSearchCV(pipe, {"tokenizer__ssl": [None, "vibcreg"]}, cv=2)


def test_grid_search_on_a_dask_cluster_equals_the_default_backend():
    distributed = pytest.importorskip("distributed")
    X, y = make_two_class(n=20, length=24)
    local = _search().fit(X, y)
    # Worker processes (as on a real cluster: the estimators travel pickled);
    # the nanny starts them with OMP_NUM_THREADS=1, the thread count of this test.
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster),
        joblib.parallel_config(backend="dask"),
    ):
        remote = _search().fit(X, y)
    assert remote.best_params_ == local.best_params_
    for key in ("split0_test_score", "split1_test_score", "mean_test_score", "rank_test_score"):
        np.testing.assert_array_equal(remote.cv_results_[key], local.cv_results_[key])
    np.testing.assert_array_equal(remote.predict(X), local.predict(X))
