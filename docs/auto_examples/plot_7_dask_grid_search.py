"""
===========================================
A grid search on a Dask cluster
===========================================

:class:`~sklearn.model_selection.GridSearchCV` runs its fits through joblib,
and joblib's ``"dask"`` backend sends them to the workers of a
``dask.distributed`` cluster: the same search scales from a laptop to many
machines without changing a line of the estimators. Here the cluster is a
local one (two worker processes of one thread each); on a real cluster,
connect the :class:`~distributed.Client` to its scheduler instead.

The estimators are seeded by ``random_state``, and each Dask worker runs torch
on one thread, as the sequential search below: both searches give the same
scores.

Needs ``pip install "skncvqvae[distributed]"``. Data: GunPoint (50 training
series of length 150). Each tokenizer trains a deliberately short 30 epochs
(the default budget is 150 on GunPoint): the example shows the plumbing, and
its accuracies are those of briefly trained tokenizers. The example runs in
under five minutes on 2 CPU cores; the time measured when this page was
rendered is at its bottom.
"""

import time

import joblib
import pandas as pd
import torch
from aeon.datasets import load_gunpoint
from distributed import Client, LocalCluster
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import MinMaxScaler
from sklearn.svm import SVC

from skncvqvae import NCVQVAETokenizer

MAX_EPOCHS = 30  # a deliberately short budget: the example is about the plumbing

X_train, y_train = load_gunpoint(split="train")
X_test, y_test = load_gunpoint(split="test")


def make_search():
    pipe = Pipeline(
        [
            ("tokenizer", NCVQVAETokenizer(max_epochs=MAX_EPOCHS, random_state=0)),
            ("scale", MinMaxScaler()),
            ("svc", SVC(kernel="linear")),
        ]
    )
    grid = {"tokenizer__ssl": [None, "vibcreg"], "svc__C": [0.1, 10.0]}
    return GridSearchCV(pipe, grid, cv=2)


# %%
# The search on the cluster
# -------------------------
# ``LocalCluster(processes=True)`` starts worker processes; each task (one
# fit and its scoring) travels to a worker pickled, as it would to another
# machine. Dask's nanny starts the workers with ``OMP_NUM_THREADS=1``, so
# torch uses one thread per worker and the two workers do not compete for the
# cores. Inside ``joblib.parallel_config(backend="dask")`` every joblib call,
# the search's included, runs on the cluster.
torch.set_num_threads(1)  # the sequential search below, at the workers' thread count
with (
    LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    ) as cluster,
    Client(cluster) as client,
):
    print(client)
    start = time.perf_counter()
    with joblib.parallel_config(backend="dask"):
        on_dask = make_search().fit(X_train, y_train)
    dask_seconds = time.perf_counter() - start

# %%
# The same search in this process
# -------------------------------
start = time.perf_counter()
local = make_search().fit(X_train, y_train)
local_seconds = time.perf_counter() - start

results = pd.DataFrame(
    {
        "ssl": [str(p["tokenizer__ssl"]) for p in local.cv_results_["params"]],
        "C": [p["svc__C"] for p in local.cv_results_["params"]],
        "cv accuracy (Dask)": on_dask.cv_results_["mean_test_score"],
        "cv accuracy (local)": local.cv_results_["mean_test_score"],
    }
)
print(results.round(3).to_string(index=False))
print(f"search on Dask: {dask_seconds:.1f} s, in this process: {local_seconds:.1f} s")
assert on_dask.best_params_ == local.best_params_
assert (on_dask.cv_results_["mean_test_score"] == local.cv_results_["mean_test_score"]).all()

# %%
# The refitted best model is an ordinary fitted pipeline: it was refitted
# on the whole training split in this process (``refit=True``).
print("best:", on_dask.best_params_)
print(f"test accuracy: {on_dask.score(X_test, y_test):.3f}")

# %%
# Notes
# -----
# - Small searches are faster in one process: the cluster pays for starting
#   workers and shipping the data with every task. The cluster pays off when
#   fits take minutes, and when it has more cores than this machine.
# - On a cluster of multi-core machines, give each worker several threads
#   for torch (``OMP_NUM_THREADS`` in the workers' environment) or several
#   worker processes per machine, not both: ``docs/scaling.rst``.
