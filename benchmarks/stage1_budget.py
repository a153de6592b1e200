"""The decoder bound of stage 1: how well a tokenizer's reconstructions stand in for real data.

Usage::

    OMP_NUM_THREADS=1 python benchmarks/stage1_budget.py GunPoint --seeds 0 1
    OMP_NUM_THREADS=1 python benchmarks/stage1_budget.py GunPoint BasicMotions \\
        --config lr=0.002 --config max_epochs=600

Every sample of ``NCVQVAEGenerator`` passes through its tokenizer's decoder, so the
reconstructions of real series bound what the prior can reach. For each dataset, seed and
``--config`` (``key=value`` pairs, comma separated, set on ``NCVQVAETokenizer``;
``steps=N`` sets ``max_epochs`` to train about N optimisation steps; the empty config is
the generator's default stage 1), this fits the tokenizer on the train
split as ``NCVQVAEGenerator`` does (``max_epochs="auto"`` resolved by the generator's
rule) and scores with the report's MiniRocket features and classifier:

- ``recon FID``: FID(test, reconstructions of test) / FID(train, test), the floor;
- ``recon CAS``: a classifier trained on reconstructions of the train split, tested on
  the real test split;
- ``rel err``: ``||x - x_hat|| / ||x||`` over the test split, and the fit seconds.
"""

from __future__ import annotations

import argparse
import math
import time

import numpy as np

from skncvqvae import NCVQVAEGenerator, NCVQVAETokenizer
from skncvqvae._base import auto_epochs, n_fitted
from skncvqvae.evaluation import cas_score, fid_score, load_dataset, make_feature_extractor


def parse_config(text: str) -> dict:
    params = {}
    for item in filter(None, text.split(",")):
        key, value = item.split("=", 1)
        for cast in (int, float):
            try:
                value = cast(value)
                break
            except ValueError:
                continue
        params[key] = value
    return params


def run(name: str, seed: int, params: dict) -> dict:
    X_train, y_train, X_test, y_test = load_dataset(name)
    extractor = make_feature_extractor(X_train, random_state=0)
    floor = fid_score(X_test, X_train, feature_extractor=extractor)
    params = dict(params)
    steps = params.pop("steps", None)
    tokenizer = NCVQVAETokenizer(random_state=seed, device="cpu").set_params(**params)
    n_fit = n_fitted(len(X_train), tokenizer.validation_fraction)
    if steps is not None:
        tokenizer.set_params(max_epochs=math.ceil(steps / math.ceil(n_fit / tokenizer.batch_size)))
    elif tokenizer.max_epochs == "auto":
        budget = NCVQVAEGenerator._tokenizer_auto_budget
        tokenizer.set_params(max_epochs=auto_epochs(n_fit, tokenizer.batch_size, budget))
    start = time.perf_counter()
    tokenizer.fit(X_train)
    fit_s = time.perf_counter() - start
    rec_test = tokenizer.reconstruct(X_test)
    rec_train = tokenizer.reconstruct(X_train)
    X3 = X_test.reshape(rec_test.shape)
    return {
        "recon FID": fid_score(X_test, rec_test, feature_extractor=extractor) / floor,
        "recon CAS": cas_score(rec_train, y_train, X_test, y_test, random_state=0),
        "rel err": float(np.linalg.norm(X3 - rec_test) / np.linalg.norm(X3)),
        "epochs": tokenizer.max_epochs,
        "fit s": fit_s,
    }


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("datasets", nargs="+")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    parser.add_argument("--config", action="append", default=None)
    args = parser.parse_args(argv)
    configs = args.config or [""]
    for name in args.datasets:
        for config in configs:
            rows = []
            for seed in args.seeds:
                row = run(name, seed, parse_config(config))
                rows.append(row)
                cells = ", ".join(
                    f"{k} {v:.3f}" if isinstance(v, float) else f"{k} {v}" for k, v in row.items()
                )
                print(f"{name} [{config or 'defaults'}] seed {seed}: {cells}", flush=True)
            means = {
                k: np.mean([r[k] for r in rows]) for k in ("recon FID", "recon CAS", "rel err")
            }
            cells = ", ".join(f"{k} {v:.3f}" for k, v in means.items())
            print(f"{name} [{config or 'defaults'}] mean: {cells}", flush=True)


if __name__ == "__main__":
    main()
