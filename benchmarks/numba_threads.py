"""aeon's numba code and torch training in one process: the prior's speed after each.

Each row runs in a fresh Python process: it first runs the named call on GunPoint
(nothing; scikit-learn's 1-NN; imbalanced-learn's SMOTE; aeon's MiniRocketClassifier,
whose first call starts numba's threading layer), then trains a generator's prior
for ``--epochs`` epochs on 29 training series (one batch per epoch) on a fitted
two-epoch tokenizer, and reports the milliseconds per epoch. Some rows set an
environment variable for that process (numba's threading layer, the OpenMP wait
policy) or train on one torch thread.

Usage::

    python benchmarks/numba_threads.py                  # 300 epochs, 2 torch threads
    python benchmarks/numba_threads.py --epochs 100 --threads 2
    python benchmarks/numba_threads.py --smoke          # seconds: 2 epochs, two rows (CI)

Run it on an otherwise idle machine (docs/scaling.rst has the table).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys

import _common  # benchmarks/ is the script's folder

# (row label, call before the fit, extra environment, torch threads or None for --threads)
ROWS = [
    ("nothing", "none", {}, None),
    ("1-NN (scikit-learn)", "knn", {}, None),
    ("SMOTE (imbalanced-learn)", "smote", {}, None),
    ("MiniRocketClassifier (aeon)", "minirocket", {}, None),
    (
        "MiniRocket, NUMBA_THREADING_LAYER=workqueue",
        "minirocket",
        {"NUMBA_THREADING_LAYER": "workqueue"},
        None,
    ),
    ("MiniRocket, OMP_WAIT_POLICY=passive", "minirocket", {"OMP_WAIT_POLICY": "passive"}, None),
    ("MiniRocket, NUMBA_NUM_THREADS=1", "minirocket", {"NUMBA_NUM_THREADS": "1"}, None),
    ("MiniRocket, one torch thread", "minirocket", {}, 1),
]

_CHILD = """
import json, sys, time, warnings
import torch
torch.set_num_threads({threads})
import numpy as np
from aeon.datasets import load_gunpoint
from skncvqvae import NCVQVAEGenerator, NCVQVAETokenizer

X, y = load_gunpoint(split="train")
X_test, _ = load_gunpoint(split="test")
X, y = X[:29], y[:29]
flat = lambda A: A.reshape(len(A), -1)
call = {call!r}
if call == "knn":
    from sklearn.neighbors import KNeighborsClassifier
    KNeighborsClassifier(1).fit(flat(X), y).predict(flat(X_test))
elif call == "smote":
    from imblearn.over_sampling import SMOTE
    SMOTE(k_neighbors=3).fit_resample(flat(X), y)
elif call == "minirocket":
    from aeon.classification.convolution_based import MiniRocketClassifier
    MiniRocketClassifier(random_state=0).fit(X, y).predict(X_test)
tokenizer = NCVQVAETokenizer(random_state=0, **{tokenizer_params}).fit(X)
prior = NCVQVAEGenerator(tokenizer, refit_tokenizer=False, max_epochs={epochs},
                         decoder_steps=0, random_state=0, verbose=0, **{prior_params})
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    start = time.perf_counter()
    prior.fit(X, y)
    seconds = time.perf_counter() - start
warned = any("NUMBA_THREADING_LAYER" in str(w.message) for w in caught)
print(json.dumps(dict(ms=1000 * seconds / {epochs}, threads=torch.get_num_threads(), warned=warned)))
"""


def run_row(call: str, env: dict, threads: int, epochs: int, smoke: bool) -> dict:
    prior = {
        k: v
        for k, v in _common.smoke_generator_params().items()
        if "__" not in k and k not in ("max_epochs", "decoder_steps")
    }
    code = _CHILD.format(
        threads=threads,
        call=call,
        epochs=epochs,
        tokenizer_params=_common.smoke_tokenizer_params() if smoke else {"max_epochs": 2},
        prior_params=prior if smoke else {},
    )
    child_env = {k: v for k, v in os.environ.items() if k != "NUMBA_THREADING_LAYER"}
    child_env.update(OMP_NUM_THREADS=str(threads), **env)
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=child_env
    )
    if result.returncode != 0:
        raise RuntimeError(result.stderr)
    return json.loads(result.stdout.strip().splitlines()[-1])


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=300, help="prior epochs per row")
    _common.add_threads_argument(parser, default=2)
    _common.add_smoke_flag(parser)
    args = parser.parse_args(argv)
    rows = ROWS
    if args.smoke:
        args.epochs, rows = 2, [ROWS[0], ROWS[3]]

    import pandas as pd

    print(_common.environment(**{"prior epochs": args.epochs}))
    table = []
    for label, call, env, threads in rows:
        result = run_row(call, env, threads or args.threads, args.epochs, args.smoke)
        table.append(
            {
                "before the fit": label,
                "torch threads": result["threads"],
                "ms per epoch": result["ms"],
                "fit warned": result["warned"],
            }
        )
        print(table[-1], flush=True)
    frame = pd.DataFrame(table).set_index("before the fit")
    base = frame["ms per epoch"].iloc[0]
    frame["x nothing"] = frame["ms per epoch"] / base
    _common.print_table(frame, "The prior's training time per epoch:", digits=2)


if __name__ == "__main__":
    main()
