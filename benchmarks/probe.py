"""Linear-probe benchmark of the stage-1 representation (the thesis's protocol).

For each dataset and seed the tokenizer is fitted on the train split without
labels; each readout (``--outputs``: ``pooled`` z_q, the thesis's protocol, and
the default ``pyramid`` of z) of train and test is MinMax-scaled and probed
with a linear SVM and KNN(5) (``skncvqvae.metrics.linear_probe``). Every
table also shows the reference points a user would compare with: a linear SVC
on the raw z-normalised series and MiniRocket + RidgeClassifierCV (and 1-NN).

Usage::

    python benchmarks/probe.py --datasets GunPoint ArrowHead ItalyPowerDemand BasicMotions
    python benchmarks/probe.py --param max_epochs=1000 --param projector_dim=4096
    python benchmarks/probe.py --smoke     # seconds: tiny data and models (CI)

Fits run in parallel processes (``--n-jobs``), one torch thread each.
"""

from __future__ import annotations

import argparse
import itertools
import time

import _common  # benchmarks/ is the script's folder
import numpy as np

VARIANTS = {
    "naive": dict(ssl=None),
    "barlowtwins/slice_and_shuffle": dict(ssl="barlowtwins", augmentations=("slice_and_shuffle",)),
    "barlowtwins/gaussian_noise": dict(ssl="barlowtwins", augmentations=("gaussian_noise",)),
    "barlowtwins/warp_amp": dict(
        ssl="barlowtwins", augmentations=("window_warp", "amplitude_resize")
    ),
    "vibcreg/slice_and_shuffle": dict(ssl="vibcreg", augmentations=("slice_and_shuffle",)),
    "vibcreg/gaussian_noise": dict(ssl="vibcreg", augmentations=("gaussian_noise",)),
    "vibcreg/warp_amp": dict(ssl="vibcreg", augmentations=("window_warp", "amplitude_resize")),
}
DEFAULT_VARIANTS = ["naive", "barlowtwins/slice_and_shuffle", "vibcreg/slice_and_shuffle"]


def run_one(dataset: str, variant: str, seed: int, params: dict, outputs) -> list[dict]:
    _common.set_threads(1)
    from skncvqvae import NCVQVAETokenizer
    from skncvqvae.metrics import linear_probe

    X_train, y_train, X_test, y_test = _common.load(dataset)
    tok = NCVQVAETokenizer(**{**VARIANTS[variant], **params}, random_state=seed, device="cpu")
    start = time.perf_counter()
    tok.fit(X_train)
    fit_s = time.perf_counter() - start
    rows = []
    for output in outputs:
        tok.set_params(output=output)
        acc = linear_probe(tok.transform(X_train), y_train, tok.transform(X_test), y_test)
        rows.append(
            dict(
                dataset=dataset,
                variant=variant,
                output=output,
                seed=seed,
                fit_s=fit_s,
                perplexity=tok.history_[-1]["perplexity"],
                **acc,
            )
        )
    return rows


def baselines(dataset: str) -> dict:
    from aeon.transformations.collection.convolution_based import MiniRocket
    from sklearn.linear_model import RidgeClassifierCV
    from sklearn.neighbors import KNeighborsClassifier
    from sklearn.svm import SVC

    X_train, y_train, X_test, y_test = _common.load(dataset)

    def znorm(X):
        X = X.reshape(len(X), X.shape[1], -1)
        return _common.znorm(X).reshape(len(X), -1)

    svc = SVC(kernel="linear").fit(znorm(X_train), y_train).score(znorm(X_test), y_test)
    nn1 = KNeighborsClassifier(1).fit(znorm(X_train), y_train).score(znorm(X_test), y_test)
    mr = MiniRocket(random_state=0).fit(X_train)
    ridge = RidgeClassifierCV(alphas=np.logspace(-3, 3, 10)).fit(mr.transform(X_train), y_train)
    return {
        "raw linear SVC": svc,
        "1-NN ED": nn1,
        "MiniRocket+Ridge": ridge.score(mr.transform(X_test), y_test),
    }


def main(argv=None) -> None:
    from joblib import Parallel, delayed

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    _common.add_data_arguments(parser)
    parser.add_argument("--variants", nargs="+", default=DEFAULT_VARIANTS, choices=sorted(VARIANTS))
    _common.add_param_option(parser, "tokenizer")
    parser.add_argument(
        "--outputs",
        nargs="+",
        default=["pooled", "pyramid"],
        help="readouts probed from each fitted tokenizer (pooled: the thesis's protocol)",
    )
    _common.add_run_options(parser)
    args, params = _common.parse_args(parser, argv, _common.smoke_tokenizer_params(), "probe")

    import pandas as pd

    print(_common.environment(params=params))
    jobs = list(itertools.product(args.datasets, args.variants, args.seeds))
    rows = []
    for result in Parallel(n_jobs=args.n_jobs, return_as="generator_unordered")(
        delayed(run_one)(d, v, s, params, args.outputs) for d, v, s in jobs
    ):
        rows.extend(result)
        for row in result:
            print(
                f"[{len(rows) // len(args.outputs)}/{len(jobs)}] "
                + ", ".join(
                    f"{k}={v:.3f}" if isinstance(v, float) else f"{k}={v}" for k, v in row.items()
                ),
                flush=True,
            )
    df = pd.DataFrame(rows)
    if args.csv:
        df.to_csv(args.csv, index=False)
    # The reference points are rows of every table: a readout is only worth using
    # if it beats the raw series, and MiniRocket is what users have already.
    references = {d: baselines(d) for d in args.datasets}
    for dataset, values in references.items():
        for name in ("raw linear SVC", "MiniRocket+Ridge"):
            df = pd.concat(
                [
                    df,
                    pd.DataFrame(
                        [
                            dict(
                                dataset=dataset,
                                variant=f"reference: {name}",
                                output="-",
                                seed=-1,
                                svm=values[name],
                                knn=np.nan,
                                fit_s=np.nan,
                                perplexity=np.nan,
                            )
                        ]
                    ),
                ],
                ignore_index=True,
            )
    summary = df.groupby(["dataset", "variant", "output"], sort=False).agg(
        svm_mean=("svm", "mean"),
        svm_std=("svm", "std"),
        knn_mean=("knn", "mean"),
        knn_std=("knn", "std"),
        fit_s=("fit_s", "median"),
        perplexity=("perplexity", "mean"),
    )
    _common.print_table(summary)
    wide = df.groupby(["variant", "output", "dataset"], sort=False)["svm"].mean().unstack("dataset")
    wide = wide[list(args.datasets)]
    wide["mean"] = wide.mean(axis=1)
    _common.print_table(
        wide, "Linear SVC accuracy, mean over seeds (columns: datasets, then their mean):"
    )
    print(
        "\n1-NN Euclidean on the raw series:",
        {d: round(v["1-NN ED"], 3) for d, v in references.items()},
    )


if __name__ == "__main__":
    main()
