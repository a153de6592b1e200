"""Torch threads and joblib processes: wall time of a small grid search.

Times ``GridSearchCV(Pipeline([NCVQVAETokenizer(...small...), SVC()]), 4
candidates, cv=2)`` on aeon's GunPoint (50 training series of length 150;
8 fits and a refit) under these settings:

- ``n_jobs=1``, torch at its default thread count (``os.cpu_count()``
  threads, unless ``OMP_NUM_THREADS`` says otherwise) and at 1 thread;
- ``n_jobs=2`` with joblib's default loky backend, which gives each worker
  process ``cpu_count // n_jobs`` threads through ``OMP_NUM_THREADS`` (torch
  honours it: it reads the variable when it loads in the fresh worker);
- ``n_jobs=2`` with loky told not to limit its workers
  (``parallel_config(backend="loky", inner_max_num_threads=cpu_count)``):
  every worker runs torch at ``cpu_count`` threads, the oversubscription of a
  backend that sets no limit;
- ``n_jobs=2`` with the ``threading`` backend (two fits in one process), where
  the estimators themselves run each fit at one torch thread (``docs/scaling.rst``).

The column "torch threads" is ``torch.get_num_threads()`` as a fit sees it
(recorded by a global torch forward hook during ``fit``, in the thread that runs
the fit, and read back through a scorer, so it is the count in the worker that
ran the fit). The table gives the median
wall time over ``--repeats`` runs of each setting. Worker processes are
started and have imported the package before the timing (a warm pool, as in
any search after the first).

Usage::

    OMP_NUM_THREADS= python benchmarks/threads.py                 # 3 repeats, 10 epochs
    python benchmarks/threads.py --repeats 1 --epochs 3           # a quick look
    python benchmarks/threads.py --smoke    # seconds: UnitTest, 1 epoch, in this process (CI)

Leave ``OMP_NUM_THREADS`` unset to see torch's default; the script sets the
thread count of each setting itself.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import threading
import time

import _common  # benchmarks/ is the script's folder
import joblib
import torch
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import Pipeline
from sklearn.svm import SVC

from skncvqvae import NCVQVAETokenizer


class ReportingTokenizer(NCVQVAETokenizer):
    """The tokenizer, recording the torch thread count that its fit trained with.

    The estimators set the count inside ``fit`` (in a thread-based worker), so it
    is read during training: by a global forward hook of torch
    (``torch.nn.modules.module.register_module_forward_hook``) that fires in the
    thread that runs this fit only.
    """

    def fit(self, X, y=None, **fit_params):
        fit_thread, seen = threading.get_ident(), []

        def record(module, args, output):
            if not seen and threading.get_ident() == fit_thread and module.training:
                seen.append(torch.get_num_threads())

        handle = torch.nn.modules.module.register_module_forward_hook(record)
        try:
            super().fit(X, y, **fit_params)
        finally:
            handle.remove()
        self.fit_threads_ = seen[0]
        return self


def fit_threads(estimator, X, y):
    """A scorer: the torch thread count that the tokenizer's fit ran with."""
    return estimator["tokenizer"].fit_threads_


def _warm_up(_):
    # load what a fit loads, so that the timing leaves out the imports
    import skncvqvae.tokenizer  # noqa: F401

    return torch.get_num_threads()


def run_search(X, y, epochs: int, n_jobs: int):
    pipe = Pipeline(
        [
            (
                "tokenizer",
                ReportingTokenizer(
                    hidden_dim=16,
                    codebook_dim=16,
                    codebook_size=16,
                    n_resnet_blocks=1,
                    projector_dim=64,
                    max_epochs=epochs,
                    batch_size=16,
                    device="cpu",
                    random_state=0,
                ),
            ),
            ("svc", SVC()),
        ]
    )
    grid = {"tokenizer__ssl": [None, "vibcreg"], "svc__C": [0.1, 10.0]}
    search = GridSearchCV(
        pipe,
        grid,
        cv=2,
        n_jobs=n_jobs,
        scoring={"accuracy": "accuracy", "threads": fit_threads},
        refit="accuracy",
    )
    start = time.perf_counter()
    search.fit(X, y)
    seconds = time.perf_counter() - start
    return seconds, search


SETTINGS = [
    # name, n_jobs, backend, inner threads (None: joblib's default), parent threads
    ("n_jobs=1, torch default threads", 1, None, None, "default"),
    ("n_jobs=1, 1 torch thread", 1, None, None, 1),
    ("n_jobs=2 (loky), joblib's limit", 2, "loky", None, 1),
    ("n_jobs=2 (loky), no limit", 2, "loky", "all", 1),
    ("n_jobs=2 (threading)", 2, "threading", None, "default"),
]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--dataset", default="GunPoint")
    _common.add_smoke_flag(parser)
    args = parser.parse_args(argv)
    settings = SETTINGS
    if args.smoke:  # the in-process settings: a loky pool takes longer to start than they run
        args.repeats, args.epochs, args.dataset = 1, 1, _common.SMOKE_DATASET
        settings = [s for s in SETTINGS if s[2] != "loky"]

    X, y, _, _ = _common.load(args.dataset)
    default_threads = _common.set_threads(None)
    cpus = os.cpu_count()
    print(
        f"{args.dataset} {X.shape}, {args.epochs} epochs per fit, {args.repeats} repeat(s); "
        f"{cpus} CPUs, torch {torch.__version__} default threads {default_threads}, "
        f"OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS')!r}, {platform.processor() or ''} "
        f"load average {os.getloadavg()[0]:.2f}"
    )
    rows = []
    for name, n_jobs, backend, inner, parent in settings:
        _common.set_threads(default_threads if parent == "default" else parent)
        config = {}
        if backend is not None:
            config["backend"] = backend
        if inner == "all":
            config["inner_max_num_threads"] = cpus
        times, threads = [], set()
        with joblib.parallel_config(**config):
            if backend == "loky":  # a warm pool of fresh workers for this setting
                joblib.externals.loky.get_reusable_executor().shutdown(wait=True)
                joblib.Parallel(n_jobs=n_jobs)(joblib.delayed(_warm_up)(i) for i in range(n_jobs))
            for _ in range(args.repeats):
                seconds, search = run_search(X, y, args.epochs, n_jobs)
                times.append(seconds)
                threads |= {int(t) for t in search.cv_results_["mean_test_threads"]}
        score = search.best_score_
        rows.append((name, sorted(threads), statistics.median(times), times, score))
        print(f"  {name}: {', '.join(f'{t:.1f}' for t in times)} s", flush=True)
    _common.set_threads(default_threads)

    base = next(row[2] for row in rows if row[0] == "n_jobs=1, 1 torch thread")
    print()
    print("| setting | torch threads per fit | wall s (median) | runs | vs n_jobs=1, 1 thread |")
    print("|---|---|---|---|---|")
    for name, threads, median, times, _ in rows:
        runs = ", ".join(f"{t:.1f}" for t in times)
        print(f"| {name} | {threads} | {median:.1f} | {runs} | {median / base:.2f}x |")
    print(f"\nload average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
