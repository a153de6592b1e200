"""Over-sampling benchmark: what users do with the generator, against imbalanced-learn.

For each dataset and seed, the training split is made imbalanced (the second half
of the classes, in sorted label order, keeps 30% of its series, at least 3, drawn
with the seed), then balanced by

- nothing (the imbalanced data as is),
- imbalanced-learn's ``RandomOverSampler`` and ``SMOTE`` (on the flattened series),
- ``NCVQVAEGenerator(random_state=seed).fit_resample`` (package defaults),

and two classifiers are trained on each result: 1-NN (Euclidean, on z-normalised
series) and MiniRocket + ``RidgeClassifierCV``. The score is the balanced accuracy
on the real test split; the table shows mean ± std over the seeds.

Usage::

    python benchmarks/augmentation.py                       # 4 dev datasets, seeds 0 1 2
    python benchmarks/augmentation.py --datasets GunPoint --seeds 0 --param max_epochs=300
    python benchmarks/augmentation.py --guidance-scales 2    # also the generator at guidance 2
    python benchmarks/augmentation.py --mask-ratios 0.25 1   # and at other resample_mask_ratio
    python benchmarks/augmentation.py --resample guidance_scale=3,resample_mask_ratio=1
    python benchmarks/augmentation.py --last-weights   # and from the prior's last weights

``--guidance-scales`` and ``--mask-ratios`` add one generator column per value, and
``--resample KEY=VALUE[,KEY=VALUE...]`` (repeatable) one column per option: the
same fitted generator (one fit per dataset and seed) draws the new rows again with
those sampling parameters set, exactly as ``fit_resample`` would with them.

Runs in parallel processes (``--n-jobs``), one torch thread each; needs the
``test`` extras (imbalanced-learn).
"""

from __future__ import annotations

import argparse
import itertools
import os
import platform
import time

import numpy as np

DATASETS = ["GunPoint", "ArrowHead", "ItalyPowerDemand", "BasicMotions"]
SAMPLERS = ["none", "RandomOverSampler", "SMOTE", "NCVQVAEGenerator"]
CLASSIFIERS = ["1-NN", "MiniRocket"]


def make_imbalanced(X, y, seed: int, *, keep: float = 0.3, minimum: int = 3):
    """The second half of the classes (sorted labels) keeps ``keep`` of its series."""
    rng = np.random.default_rng(seed)
    classes = np.unique(y)
    reduced = classes[len(classes) // 2 :]
    rows = []
    for label in classes:
        idx = np.flatnonzero(y == label)
        if label in reduced:
            n_keep = min(len(idx), max(minimum, int(round(keep * len(idx)))))
            idx = np.sort(rng.choice(idx, size=n_keep, replace=False))
        rows.append(idx)
    rows = np.sort(np.concatenate(rows))
    return X[rows], y[rows]


def resample(sampler: str, X, y, seed: int, params: dict):
    if sampler == "none":
        return X, y, None
    if sampler == "NCVQVAEGenerator":
        from skncvqvae import NCVQVAEGenerator

        # set_params takes tokenizer__<name> while tokenizer=None
        gen = NCVQVAEGenerator(random_state=seed, device="cpu").set_params(**params)
        X_res, y_res = gen.fit_resample(X, y)
        return X_res, y_res, gen
    from imblearn.over_sampling import SMOTE, RandomOverSampler

    flat = X.reshape(len(X), -1)
    if sampler == "SMOTE":
        smallest = min(np.unique(y, return_counts=True)[1])
        model = SMOTE(random_state=seed, k_neighbors=min(5, smallest - 1))
    else:
        model = RandomOverSampler(random_state=seed)
    flat_res, y_res = model.fit_resample(flat, y)
    return flat_res.reshape(len(flat_res), *X.shape[1:]), y_res, None


def znorm(X):
    return (X - X.mean(-1, keepdims=True)) / (X.std(-1, keepdims=True) + 1e-8)


def classify(name: str, X_train, y_train, X_test, seed: int):
    if name == "1-NN":
        from sklearn.neighbors import KNeighborsClassifier

        flat = lambda A: znorm(A).reshape(len(A), -1)  # noqa: E731
        return KNeighborsClassifier(1).fit(flat(X_train), y_train).predict(flat(X_test))
    from aeon.transformations.collection.convolution_based import MiniRocket
    from sklearn.linear_model import RidgeClassifierCV

    transform = MiniRocket(random_state=seed).fit(X_train)
    ridge = RidgeClassifierCV(alphas=np.logspace(-3, 3, 10))
    ridge.fit(transform.transform(X_train), y_train)
    return ridge.predict(transform.transform(X_test))


def resample_with(gen, X, y, y_res, **params):
    """``fit_resample``'s result with the generated rows drawn again with ``params`` set.

    Draws exactly what ``fit_resample`` of a generator with those parameters
    would add, from the same fitted generator (no refit).
    """
    saved = gen.get_params(deep=False)
    gen.set_params(**params)
    out = np.empty((len(y_res) - len(y), *X.shape[1:]))
    gen._draw_new(X, y, y_res[len(y) :], out[:, None] if X.ndim == 2 else out)
    gen.set_params(**{k: saved[k] for k in params})
    return np.concatenate([X, out]), y_res


def extra_columns(scales=(), ratios=(), configs=()) -> list[tuple[str, dict]]:
    """(column name, generator parameters) of the resampled generator columns."""
    return (
        [(f"NCVQVAEGenerator g={g:g}", {"guidance_scale": g}) for g in scales]
        + [(f"NCVQVAEGenerator r={r:g}", {"resample_mask_ratio": r}) for r in ratios]
        + [
            ("NCVQVAEGenerator " + ",".join(f"{k}={v}" for k, v in cfg.items()), cfg)
            for cfg in configs
        ]
    )


def run_one(dataset: str, seed: int, params: dict, extras=()) -> list[dict]:
    import torch

    torch.set_num_threads(1)
    from sampler_grid import with_last_weights  # benchmarks/ is the script's folder
    from sklearn.metrics import balanced_accuracy_score

    from skncvqvae.evaluation import load_dataset

    X_train, y_train, X_test, y_test = load_dataset(dataset)
    X_imb, y_imb = make_imbalanced(X_train, y_train, seed)
    rows = []
    results = []
    for sampler in SAMPLERS:
        start = time.perf_counter()
        X_res, y_res, gen = resample(sampler, X_imb, y_imb, seed, params)
        results.append((sampler, X_res, y_res, time.perf_counter() - start))
        for name, extra in extras if gen is not None else ():
            start = time.perf_counter()
            # extra None: the same draw from the prior's last weights (not their average)
            source = gen if extra is not None else with_last_weights(gen)
            X_g, y_g = resample_with(source, X_imb, y_imb, y_res, **(extra or {}))
            results.append((name, X_g, y_g, time.perf_counter() - start))
    for sampler, X_res, y_res, resample_s in results:
        for clf in CLASSIFIERS:
            y_pred = classify(clf, np.asarray(X_res), np.asarray(y_res), X_test, seed)
            rows.append(
                dict(
                    dataset=dataset,
                    seed=seed,
                    sampler=sampler,
                    classifier=clf,
                    balanced_accuracy=balanced_accuracy_score(y_test, y_pred),
                    n_train=len(y_res),
                    resample_s=resample_s,
                )
            )
    return rows


def main(argv=None) -> None:
    from joblib import Parallel, delayed
    from sampler_grid import add_param_option, parameter_set  # benchmarks/ is the script's folder

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", nargs="+", default=DATASETS)
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    add_param_option(parser)
    parser.add_argument(
        "--guidance-scales",
        nargs="*",
        type=float,
        default=[],
        help="extra generator columns: the fitted generator resampled at these guidance scales",
    )
    parser.add_argument(
        "--mask-ratios",
        nargs="*",
        type=float,
        default=[],
        help="extra generator columns: the fitted generator resampled at these resample_mask_ratio",
    )
    parser.add_argument(
        "--resample",
        type=parameter_set,
        action="append",
        default=[],
        metavar="KEY=VALUE[,KEY=VALUE...]",
        help="extra generator column: the fitted generator resampled with these sampling "
        "parameters (repeatable)",
    )
    parser.add_argument(
        "--last-weights",
        action="store_true",
        help="extra generator column: the same draw from the fitted prior's last training "
        "step's weights instead of their average (ema_decay)",
    )
    parser.add_argument("--n-jobs", type=int, default=2)
    parser.add_argument("--csv", default=None, help="also write per-run rows to this CSV")
    args = parser.parse_args(argv)
    params = dict(args.param)

    import pandas as pd
    import sklearn
    import torch

    print(
        f"# {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, torch "
        f"{torch.__version__}, scikit-learn {sklearn.__version__}; generator params {params}"
    )
    jobs = list(itertools.product(args.datasets, args.seeds))
    extras = extra_columns(args.guidance_scales, args.mask_ratios, args.resample)
    if args.last_weights:
        extras.append(("NCVQVAEGenerator, last weights", None))
    samplers = SAMPLERS + [name for name, _ in extras]
    rows = []
    for result in Parallel(n_jobs=args.n_jobs, return_as="generator_unordered")(
        delayed(run_one)(d, s, params, extras) for d, s in jobs
    ):
        rows.extend(result)
        first = result[0]
        print(
            f"[{len(rows) // (len(samplers) * len(CLASSIFIERS))}/{len(jobs)}] {first['dataset']} seed {first['seed']}: "
            + ", ".join(
                f"{r['sampler']}/{r['classifier']}={r['balanced_accuracy']:.3f}" for r in result
            ),
            flush=True,
        )
    df = pd.DataFrame(rows)
    if args.csv:
        df.to_csv(args.csv, index=False)
    cell = df.groupby(["dataset", "classifier", "sampler"])["balanced_accuracy"].agg(
        ["mean", "std"]
    )
    table = (
        cell["mean"].map("{:.3f}".format) + " ± " + cell["std"].fillna(0).map("{:.3f}".format)
    ).unstack("sampler")
    print("\nBalanced accuracy on the real test split (mean ± std over seeds):")
    print(table[samplers].to_markdown())
    mean = df.groupby(["dataset", "classifier", "sampler"])["balanced_accuracy"].mean()
    overall = mean.groupby(["classifier", "sampler"]).mean().unstack("sampler")[samplers]
    print("\nMean over datasets:")
    print(overall.round(3).to_markdown())
    print("\nMedian resampling seconds per fit:")
    print(
        df.groupby(["dataset", "sampler"])["resample_s"]
        .median()
        .unstack("sampler")[samplers]
        .round(1)
        .to_markdown()
    )


if __name__ == "__main__":
    main()
