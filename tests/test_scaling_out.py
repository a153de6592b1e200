"""Scaling out: torch threads in joblib workers, Dask, Hugging Face Accelerate.

See ``docs/scaling.rst``. The thread tests set the caller's torch thread count
to 2 on purpose (the autouse fixture of conftest restores it afterwards).
"""

from __future__ import annotations

import math
import os

import joblib
import numpy as np
import pytest
import torch
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import Pipeline
from sklearn.svm import SVC

from skncvqvae import NCVQVAEGenerator, NCVQVAETokenizer

from conftest import TINY, TINY_GENERATOR, make_two_class


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


# -- Accelerate ------------------------------------------------------------------------


def test_fit_through_accelerate():
    accelerate = pytest.importorskip("accelerate")
    from skncvqvae import use_accelerator
    from skncvqvae._accelerate import AcceleratedSelfLossNet

    X, _ = make_two_class(n=20, length=24)
    accelerator = accelerate.Accelerator(cpu=True, device_placement=False)
    with use_accelerator(accelerator):
        tokenizer = NCVQVAETokenizer(**TINY).fit(X)
    assert isinstance(tokenizer.net_, AcceleratedSelfLossNet)
    assert tokenizer.net_.accelerator is accelerator
    assert all(math.isfinite(epoch["loss"]) for epoch in tokenizer.history_)
    assert len(tokenizer.history_) == TINY["max_epochs"]
    # unwrapped after training; on one CPU process the same numbers as without accelerate
    assert type(tokenizer.net_.module_).__name__ == "NCVQVAEModule"
    plain = NCVQVAETokenizer(**TINY).fit(X)
    assert type(plain.net_).__name__ == "SelfLossNet"
    np.testing.assert_array_equal(tokenizer.transform(X), plain.transform(X))

    # a resumed fit trains through the accelerator again
    with use_accelerator(accelerator):
        tokenizer.set_params(warm_start=True, max_epochs=3).fit(X)
    assert len(tokenizer.history_) == 3
    assert np.isfinite(tokenizer.transform(X)).all()


def test_generator_fits_under_bf16_mixed_precision():
    """bf16 autocast on the CPU: the quantizer and IterNorm keep float32 statistics."""
    accelerate = pytest.importorskip("accelerate")
    from accelerate.state import AcceleratorState

    from skncvqvae import use_accelerator

    X, y = make_two_class(n=20, length=24)
    # Accelerate keeps one process-wide state: an Accelerator made earlier in this
    # process (another test) fixes its precision unless the state is reset.
    AcceleratorState._reset_state(reset_partial_state=True)
    try:
        accelerator = accelerate.Accelerator(
            cpu=True, mixed_precision="bf16", device_placement=False
        )
        with use_accelerator(accelerator):
            generator = NCVQVAEGenerator(
                NCVQVAETokenizer(**{**TINY, "ssl": "vibcreg"}), **TINY_GENERATOR
            ).fit(X, y)
    finally:
        AcceleratorState._reset_state(reset_partial_state=True)
    tokenizer = generator.tokenizer_
    assert all(math.isfinite(epoch["loss"]) for epoch in tokenizer.history_)
    assert all(math.isfinite(epoch["loss"]) for epoch in generator.history_)
    assert tokenizer.net_.module_.quantizer.embed.dtype == torch.float32
    X_new, _ = generator.sample(4, random_state=0)
    assert X_new.shape == (4, 1, X.shape[-1]) and np.isfinite(X_new).all()


def test_use_accelerator_checks_the_accelerator():
    accelerate = pytest.importorskip("accelerate")
    from skncvqvae import use_accelerator

    with pytest.raises(ValueError, match="device_placement=False"):
        with use_accelerator(accelerate.Accelerator(cpu=True)):
            pass
    with pytest.raises(TypeError, match="accelerate.Accelerator"):
        with use_accelerator("cuda"):
            pass
