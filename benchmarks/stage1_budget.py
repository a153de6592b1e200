"""The decoder bound of stage 1: how well a tokenizer's reconstructions stand in for real data.

Usage::

    OMP_NUM_THREADS=1 python benchmarks/stage1_budget.py GunPoint --seeds 0 1
    OMP_NUM_THREADS=1 python benchmarks/stage1_budget.py GunPoint BasicMotions \\
        --config lr=0.002 --config max_epochs=600
    OMP_NUM_THREADS=1 python benchmarks/stage1_budget.py --smoke   # seconds: tiny data and models

Every sample of ``NCVQVAEGenerator`` passes through its tokenizer's decoder, so the
reconstructions of real series bound what the prior can reach. For each dataset, seed and
``--config`` (``key=value`` pairs, comma separated, set on ``NCVQVAETokenizer``;
``steps=N`` sets ``max_epochs`` to train about N optimisation steps; the empty config is
the generator's default stage 1), this fits the tokenizer on the train
split as ``NCVQVAEGenerator`` does (``max_epochs="auto"`` with twice the tokenizer's
own floor of steps, as the generator's ``tokenizer`` parameter documents: 150 epochs
counted as optimisation steps, clipped to 600-5000 steps, given to ``fit`` as its
``step_budget``) and scores with the report's MiniRocket features and classifier:

- ``recon FID``: FID(test, reconstructions of test) / FID(train, test), the floor;
- ``recon CAS``: a classifier trained on reconstructions of the train split, tested on
  the real test split;
- ``rel err``: ``||x - x_hat|| / ||x||`` over the test split, the epochs and optimisation
  steps trained, and the fit seconds.
"""

from __future__ import annotations

import argparse
import time

import _common  # benchmarks/ is the script's folder
import numpy as np

from skncvqvae import NCVQVAETokenizer
from skncvqvae.metrics import cas_score, fid_score, make_feature_extractor

#: The ``step_budget`` that ``NCVQVAEGenerator`` (``quality="standard"``) gives a
#: tokenizer left at ``max_epochs="auto"``: the tokenizer's own rule (150 epochs as
#: steps, clipped to 300-5000) with twice its floor (the generator's ``tokenizer``
#: parameter). The package has no public name for it.
GENERATOR_STEP_BUDGET = (150, 600, 5000)


def run(name: str, seed: int, params: dict) -> dict:
    X_train, y_train, X_test, y_test = _common.load(name)
    extractor = make_feature_extractor(X_train, random_state=0)
    floor = fid_score(X_test, X_train, feature_extractor=extractor)
    params = dict(params)
    steps = params.pop("steps", None)
    tokenizer = NCVQVAETokenizer(random_state=seed, device="cpu").set_params(**params)
    budget = GENERATOR_STEP_BUDGET
    if steps is not None:  # the whole epochs that hold about ``steps`` steps
        tokenizer.set_params(max_epochs="auto")
        budget = (1, steps, steps)
    start = time.perf_counter()
    tokenizer.fit(X_train, step_budget=budget)
    fit_s = time.perf_counter() - start
    rec_test = tokenizer.reconstruct(X_test)
    rec_train = tokenizer.reconstruct(X_train)
    X3 = X_test.reshape(rec_test.shape)
    return {
        "recon FID": fid_score(X_test, rec_test, feature_extractor=extractor) / floor,
        "recon CAS": cas_score(rec_train, y_train, X_test, y_test, random_state=0),
        "rel err": float(np.linalg.norm(X3 - rec_test) / np.linalg.norm(X3)),
        "epochs": len(tokenizer.history_),
        "steps": tokenizer.n_steps_,
        "fit s": fit_s,
    }


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    _common.add_data_arguments(parser, [], [0, 1], positional=True)
    parser.add_argument(
        "--config",
        action="append",
        default=None,
        metavar="KEY=VALUE[,KEY=VALUE...]",
        help="tokenizer parameters (steps=N: about N optimisation steps); repeatable",
    )
    _common.add_smoke_flag(parser)
    args = parser.parse_args(argv)
    configs = args.config or [""]
    smoke = {}
    if args.smoke:  # a one-epoch fit (max_epochs=1) and a 2-step one
        smoke = _common.smoke_setup(args, {}, _common.smoke_tokenizer_params())
        configs = args.config or ["", "steps=2"]
    if not args.datasets:
        parser.error("give at least one dataset")
    _common.set_threads(1)
    for name in args.datasets:
        for config in configs:
            rows = []
            for seed in args.seeds:
                row = run(name, seed, {**smoke, **_common.parameter_set(config)})
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
