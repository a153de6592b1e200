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
    python benchmarks/augmentation.py --smoke          # seconds: tiny data and models (CI)

``--guidance-scales`` and ``--mask-ratios`` add one generator column per value, and
``--resample KEY=VALUE[,KEY=VALUE...]`` (repeatable) one column per option: the
same fitted generator (one fit per dataset and seed) draws the new rows again with
those sampling parameters set, exactly as ``fit_resample`` would with them.
``--last-weights`` adds the same draw from the prior's last training step's
weights instead of their average (``ema_decay``); it trains that prior once more
(see ``_common.last_weights_twin``), and its seconds include that fit.

Runs in parallel processes (``--n-jobs``), one torch thread each; needs the
``test`` extras (imbalanced-learn).
"""

from __future__ import annotations

import argparse
import itertools
import time

import _common  # benchmarks/ is the script's folder
import numpy as np

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


def classify(name: str, X_train, y_train, X_test, seed: int):
    if name == "1-NN":
        from sklearn.neighbors import KNeighborsClassifier

        flat = lambda A: _common.znorm(A).reshape(len(A), -1)  # noqa: E731
        return KNeighborsClassifier(1).fit(flat(X_train), y_train).predict(flat(X_test))
    from aeon.transformations.collection.convolution_based import MiniRocket
    from sklearn.linear_model import RidgeClassifierCV

    transform = MiniRocket(random_state=seed).fit(X_train)
    ridge = RidgeClassifierCV(alphas=np.logspace(-3, 3, 10))
    ridge.fit(transform.transform(X_train), y_train)
    return ridge.predict(transform.transform(X_test))


def resample_with(gen, X, y, **params):
    """``fit_resample``'s result with the generated rows drawn again with ``params`` set.

    ``gen`` is fitted on ``(X, y)``. With ``warm_start=True`` its ``fit_resample``
    keeps the fitted tokenizer and prior (both have trained their full budget, so
    nothing trains) and draws exactly what ``fit_resample`` of a generator with
    those parameters would add.
    """
    saved = gen.get_params()
    n_epochs = len(gen.history_)
    gen.set_params(warm_start=True, **params)
    try:
        X_res, y_res = gen.fit_resample(X, y)
    finally:
        gen.set_params(**{key: saved[key] for key in ("warm_start", *params)})
    assert len(gen.history_) == n_epochs, "the prior trained again"
    return X_res, y_res


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
    _common.set_threads(1)
    from sklearn.metrics import balanced_accuracy_score

    X_train, y_train, X_test, y_test = _common.load(dataset)
    X_imb, y_imb = make_imbalanced(X_train, y_train, seed)
    rows = []
    results = []
    for sampler in SAMPLERS:
        start = time.perf_counter()
        X_res, y_res, gen = resample(sampler, X_imb, y_imb, seed, params)
        results.append((sampler, X_res, y_res, time.perf_counter() - start))
        for name, extra in extras if gen is not None else ():
            start = time.perf_counter()
            if extra is None:  # the same draw from the prior's last weights (not their average)
                X_g, y_g = _common.last_weights_twin(gen).fit_resample(X_imb, y_imb)
            else:
                X_g, y_g = resample_with(gen, X_imb, y_imb, **extra)
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

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    _common.add_data_arguments(parser)
    _common.add_param_option(parser)
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
    _common.add_parameter_sets_option(
        parser,
        "--resample",
        "extra generator column: the fitted generator resampled with these sampling parameters",
    )
    _common.add_last_weights_option(parser, "extra generator column: the same draw from")
    _common.add_run_options(parser)
    smoke = _common.smoke_generator_params()
    args, params = _common.parse_args(parser, argv, smoke, "augmentation")
    if args.smoke:  # every column kind once
        args.guidance_scales, args.mask_ratios = args.guidance_scales or [1.0], [0.25]
        args.resample = args.resample or [{"guidance_scale": 1.0, "resample_mask_ratio": 1.0}]
        args.last_weights = True

    import pandas as pd

    print(_common.environment(**{"generator params": params}))
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
    _common.print_table(
        table[samplers],
        "Balanced accuracy on the real test split (mean ± std over seeds):",
        digits=None,
    )
    mean = df.groupby(["dataset", "classifier", "sampler"])["balanced_accuracy"].mean()
    overall = mean.groupby(["classifier", "sampler"]).mean().unstack("sampler")[samplers]
    _common.print_table(overall, "Mean over datasets:")
    seconds = df.groupby(["dataset", "sampler"])["resample_s"].median().unstack("sampler")
    _common.print_table(seconds[samplers], "Median resampling seconds per fit:", digits=1)


if __name__ == "__main__":
    main()
