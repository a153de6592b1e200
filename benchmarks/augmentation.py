"""Over-sampling benchmark: ``fit_resample`` against what a user would use instead.

For each dataset, imbalance level and seed, the training split is made imbalanced
(the second half of the classes, in sorted label order, keeps ``--keep`` of its
series, at least 3, drawn with the seed), then balanced by each over-sampler:

- ``none`` (the imbalanced data as is);
- imbalanced-learn's ``RandomOverSampler`` and ``SMOTE`` (on the flattened series);
- aeon's time-series ``ESMOTE`` (SMOTE with an elastic distance), where it runs;
- ``augmentations``: each new series is a real one of its class, drawn at random,
  with one of the package's classic augmentations applied (jitter, window warp,
  magnitude warp; ``skncvqvae.nn.augment``);
- ``NCVQVAEGenerator(random_state=seed).fit_resample`` at the package defaults.

Three classifiers are trained on each result: 1-NN (Euclidean, z-normalised
series), MiniRocket + ``RidgeClassifierCV``, and the package's ``FCNClassifier``
(a deep one). The score is the balanced accuracy on the real test split.

The summary compares the generator with the *best competitor* (the over-sampler
with the highest mean for that classifier and imbalance level, ``none`` included):
the mean paired difference over dataset x seed pairs, its 95% bootstrap interval
(resampling the pairs), the Wilcoxon signed-rank p-value, and wins/ties/losses.
``--figure`` draws the paired differences per dataset.

Every finished (dataset, level, seed, over-sampler, classifier) row is written to
``--cache`` at once, so an interrupted run loses at most the job in progress, and
a repeated command only computes what is missing.

Usage::

    python benchmarks/augmentation.py                        # 8 datasets, 5 seeds, keep 0.3 and 0.1
    python benchmarks/augmentation.py --datasets GunPoint CBF --seeds 0 1 2 --keep 0.3
    python benchmarks/augmentation.py --classifiers 1-NN MiniRocket --figure paired.png
    python benchmarks/augmentation.py --resample guidance_scale=3,resample_mask_ratio=1
    python benchmarks/augmentation.py --guidance-scales 2 --mask-ratios 0.25 1
    python benchmarks/augmentation.py --last-weights   # the draw from the prior's last weights
    python benchmarks/augmentation.py --smoke          # seconds: tiny data and models (CI)
    python benchmarks/augmentation.py --cached-only    # the summary of the rows finished so far

Datasets are aeon names (GunPoint, ArrowHead, ItalyPowerDemand, BasicMotions,
OSULeaf, ACSF1 are bundled) or the synthetic sets this script generates from their
published definitions: ``CBF`` (Saito 1994; 10 training series per class, length
128) and ``TwoPatterns`` (Geurts 2001; 10 per class, length 128); both have 100
test series per class. ``--resample KEY=VALUE[,...]`` (repeatable),
``--guidance-scales`` and ``--mask-ratios`` add generator columns: the same fitted
generator draws the new rows again with those sampling parameters, exactly as
``fit_resample`` would with them. ``--last-weights`` adds the same draw from the
prior's last training step's weights (it trains that prior once more).

Runs in parallel processes (``--n-jobs``), one torch thread each; needs the
``test`` extras (imbalanced-learn).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import time
from pathlib import Path

import _common  # benchmarks/ is the script's folder
import numpy as np

GENERATOR = "NCVQVAEGenerator"
COMPETITORS = ["none", "RandomOverSampler", "SMOTE", "ESMOTE", "augmentations"]
SAMPLERS = [*COMPETITORS, GENERATOR]
CLASSIFIERS = ["1-NN", "MiniRocket", "FCN"]
DATASETS = [
    "GunPoint",
    "ArrowHead",
    "ItalyPowerDemand",
    "BasicMotions",
    "CBF",
    "TwoPatterns",
    "OSULeaf",
    "ACSF1",
]
#: Augmentations of the ``augmentations`` over-sampler: jitter, window and magnitude warps.
CLASSIC_AUGMENTATIONS = ("gaussian_noise", "window_warp", "magnitude_warp")


# -- data ------------------------------------------------------------------------------
def make_two_patterns(n_per_class: int, length: int = 128, *, rng: np.random.Generator):
    """Geurts' two-patterns data: two "up" or "down" steps in noise, 4 classes by their order.

    An "up" pattern is ``-5`` then ``+5`` over ``l`` points (``l`` drawn in 16-32),
    a "down" one the reverse; the first starts in the first half of the series, the
    second in the second half, on a background of standard normal noise. The class
    is the pair of patterns in order: ``UU``, ``UD``, ``DU`` or ``DD``.
    """
    X, y = [], []
    half = length // 2
    for name in ("UU", "UD", "DU", "DD"):
        for _ in range(n_per_class):
            x = rng.standard_normal(length)
            for part, kind in enumerate(name):
                width = int(rng.integers(16, 33))
                start = part * half + int(rng.integers(0, half - width + 1))
                step = np.where(np.arange(width) < width // 2, -5.0, 5.0)
                x[start : start + width] = step if kind == "U" else -step
            X.append(x)
            y.append(name)
    order = rng.permutation(len(y))
    return np.stack(X)[order, None, :], np.asarray(y)[order]


def load(name: str):
    """``(X_train, y_train, X_test, y_test)``: a synthetic set or ``_common.load``."""
    if name in ("CBF", "TwoPatterns"):
        from cbf import make_cbf  # benchmarks/cbf.py

        make = make_cbf if name == "CBF" else make_two_patterns
        rng = np.random.default_rng(20240829)  # one fixed set; the seeds vary the imbalance
        X_train, y_train = make(10, 128, rng=rng)
        X_test, y_test = make(100, 128, rng=rng)
        return X_train, y_train, X_test, y_test
    return _common.load(name)


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


# -- over-samplers --------------------------------------------------------------------------
def augmentation_oversample(X, y, seed: int):
    """Balance every class with augmented copies of its real series (one augmentation each)."""
    import torch

    from skncvqvae.nn import augment

    rng = np.random.default_rng(seed)
    generator = torch.Generator().manual_seed(seed)
    labels, counts = np.unique(y, return_counts=True)
    new_X, new_y = [X], [y]
    for label, count in zip(labels, counts):
        n_new = counts.max() - count
        if n_new == 0:
            continue
        sources = X[rng.choice(np.flatnonzero(y == label), size=n_new)]
        kinds = rng.choice(len(CLASSIC_AUGMENTATIONS), size=n_new)
        out = np.empty_like(sources)
        for k, name in enumerate(CLASSIC_AUGMENTATIONS):
            rows = np.flatnonzero(kinds == k)
            if len(rows):
                batch = torch.as_tensor(sources[rows], dtype=torch.float32)
                out[rows] = augment(batch, name, generator).numpy()
        new_X.append(out)
        new_y.append(np.full(n_new, label, dtype=y.dtype))
    return np.concatenate(new_X), np.concatenate(new_y)


def resample(sampler: str, X, y, seed: int, params: dict):
    """``(X_res, y_res, fitted generator or None)``."""
    if sampler == "none":
        return X, y, None
    if sampler == GENERATOR:
        from skncvqvae import NCVQVAEGenerator

        # set_params takes tokenizer__<name> while tokenizer=None
        gen = NCVQVAEGenerator(random_state=seed, device="cpu").set_params(**params)
        X_res, y_res = gen.fit_resample(X, y)
        return X_res, y_res, gen
    if sampler == "augmentations":
        X_res, y_res = augmentation_oversample(X, y, seed)
        return X_res, y_res, None
    smallest = min(np.unique(y, return_counts=True)[1])
    if sampler == "ESMOTE":
        from aeon.transformations.collection.imbalance import ESMOTE

        X_res, y_res = ESMOTE(n_neighbors=min(5, smallest - 1), random_state=seed).fit_transform(
            X, y
        )
        return np.asarray(X_res), np.asarray(y_res), None
    from imblearn.over_sampling import SMOTE, RandomOverSampler

    flat = X.reshape(len(X), -1)
    if sampler == "SMOTE":
        model = SMOTE(random_state=seed, k_neighbors=min(5, smallest - 1))
    elif sampler == "RandomOverSampler":
        model = RandomOverSampler(random_state=seed)
    else:
        raise ValueError(f"Unknown over-sampler {sampler!r}.")
    flat_res, y_res = model.fit_resample(flat, y)
    return flat_res.reshape(len(flat_res), *X.shape[1:]), y_res, None


def classify(name: str, X_train, y_train, X_test, seed: int, fcn_params: dict):
    if name == "1-NN":
        from sklearn.neighbors import KNeighborsClassifier

        flat = lambda A: _common.znorm(A).reshape(len(A), -1)  # noqa: E731
        return KNeighborsClassifier(1).fit(flat(X_train), y_train).predict(flat(X_test))
    if name == "FCN":
        from skncvqvae.metrics import FCNClassifier

        fcn = FCNClassifier(random_state=seed, device="cpu", **fcn_params)
        return fcn.fit(X_train, y_train).predict(X_test)
    if name != "MiniRocket":
        raise ValueError(f"Unknown classifier {name!r}.")
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
        [(f"{GENERATOR} g={g:g}", {"guidance_scale": g}) for g in scales]
        + [(f"{GENERATOR} r={r:g}", {"resample_mask_ratio": r}) for r in ratios]
        + [(f"{GENERATOR} " + ",".join(f"{k}={v}" for k, v in cfg.items()), cfg) for cfg in configs]
    )


# -- the cache of finished rows -------------------------------------------------------------
def run_key(params: dict, fcn_params: dict) -> str:
    """A short hash of what changes a row besides its coordinates: the generator's
    and the FCN's parameters."""
    text = json.dumps([sorted(params.items()), sorted(fcn_params.items())], default=str)
    return hashlib.sha1(text.encode()).hexdigest()[:10]


def row_path(cache: Path, dataset, keep, seed, sampler, classifier, key) -> Path:
    slug = lambda text: re.sub(r"[^A-Za-z0-9.=,-]+", "_", str(text))  # noqa: E731
    name = f"{slug(Path(dataset).name)}_keep{keep:g}_seed{seed}_{slug(sampler)}_{slug(classifier)}"
    return cache / key / f"{name}.json"


def read_row(path: Path) -> dict | None:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):  # missing, or cut short by an interrupted write
        return None


def write_row(path: Path, row: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".part")
    partial.write_text(json.dumps(row))
    partial.replace(path)  # atomic: a row file is either complete or absent


def unique_splits(datasets, keeps, seeds):
    """``(jobs, same)``: the (dataset, keep, seed) jobs whose imbalanced training split
    differs from that of every larger ``keep``, and the others mapped to that ``keep``.

    With few series per class, the minimum of 3 makes levels coincide (10 per class:
    0.3 and 0.1 both keep 3); such a job would repeat another's rows exactly.
    """
    jobs, same = [], {}
    for dataset in datasets:
        X_train, y_train, _, _ = load(dataset)
        index = np.arange(len(y_train)).reshape(-1, *([1] * (np.ndim(X_train) - 1)))
        for seed in seeds:
            seen = {}
            for keep in keeps:
                rows = make_imbalanced(index, np.asarray(y_train), seed, keep=keep)[0]
                key = tuple(np.ravel(rows).tolist())
                if key in seen:
                    same[dataset, keep, seed] = seen[key]
                else:
                    seen[key] = keep
                    jobs.append((dataset, keep, seed))
    return jobs, same


# -- one job: a dataset, an imbalance level and a seed ------------------------------------------
def run_one(
    dataset: str,
    keep: float,
    seed: int,
    params: dict,
    extras=(),
    *,
    samplers=SAMPLERS,
    classifiers=CLASSIFIERS,
    cache: Path,
    fcn_params: dict,
    cached_only: bool = False,
) -> list[dict]:
    _common.set_threads(1)
    from sklearn.metrics import balanced_accuracy_score

    key = run_key(params, fcn_params)
    columns = list(samplers) + ([name for name, _ in extras] if GENERATOR in samplers else [])
    done = {
        (s, c): read_row(row_path(cache, dataset, keep, seed, s, c, key))
        for s in columns
        for c in classifiers
    }
    missing = {s for (s, c), row in done.items() if row is None}
    if not missing or cached_only:
        return [row for row in done.values() if row is not None]

    X_train, y_train, X_test, y_test = load(dataset)
    X_imb, y_imb = make_imbalanced(X_train, y_train, seed, keep=keep)
    gen = None
    for sampler in columns:
        if sampler not in missing:
            continue
        start = time.perf_counter()
        if sampler in samplers:
            X_res, y_res, fitted = resample(sampler, X_imb, y_imb, seed, params)
            gen = fitted if fitted is not None else gen
        else:  # an extra generator column: the fitted generator draws again
            if gen is None:
                _, _, gen = resample(GENERATOR, X_imb, y_imb, seed, params)
            extra = dict(extras)[sampler]
            if extra is None:  # the same draw from the prior's last weights
                X_res, y_res = _common.last_weights_twin(gen).fit_resample(X_imb, y_imb)
            else:
                X_res, y_res = resample_with(gen, X_imb, y_imb, **extra)
        resample_s = time.perf_counter() - start
        for clf in classifiers:
            if done[sampler, clf] is not None:
                continue
            start = time.perf_counter()
            y_pred = classify(clf, np.asarray(X_res), np.asarray(y_res), X_test, seed, fcn_params)
            row = dict(
                dataset=dataset,
                keep=keep,
                seed=seed,
                sampler=sampler,
                classifier=clf,
                balanced_accuracy=float(balanced_accuracy_score(y_test, y_pred)),
                n_train=len(y_imb),
                n_resampled=len(y_res),
                resample_s=resample_s,
                classify_s=time.perf_counter() - start,
            )
            write_row(row_path(cache, dataset, keep, seed, sampler, clf, key), row)
            done[sampler, clf] = row
    return [done[s, c] for s in columns for c in classifiers]


# -- the summary -------------------------------------------------------------------------
def paired_summary(df, target: str = GENERATOR, competitors=COMPETITORS, *, n_boot=10_000):
    """Per classifier and imbalance level: ``target`` against the best competitor.

    The best competitor has the highest mean balanced accuracy over the dataset x
    seed pairs. The interval is the 2.5-97.5 percentile range of the mean paired
    difference over ``n_boot`` bootstrap resamples of the pairs; ties are
    differences below 1e-9.
    """
    import pandas as pd
    from scipy.stats import wilcoxon

    out = []
    for (clf, keep), group in df.groupby(["classifier", "keep"], sort=True):
        wide = group.pivot_table(
            index=["dataset", "seed"], columns="sampler", values="balanced_accuracy"
        )
        present = [c for c in competitors if c in wide]
        if target not in wide or not present:
            continue
        wide = wide.dropna(subset=[target, *present])
        best = wide[present].mean().idxmax()
        diff = (wide[target] - wide[best]).to_numpy()
        rng = np.random.default_rng(0)
        boot = diff[rng.integers(0, len(diff), size=(n_boot, len(diff)))].mean(axis=1)
        low, high = np.percentile(boot, [2.5, 97.5])
        nonzero = np.abs(diff) > 1e-9
        p = wilcoxon(diff, zero_method="zsplit").pvalue if nonzero.any() else 1.0
        out.append(
            dict(
                classifier=clf,
                keep=keep,
                best_competitor=best,
                pairs=len(diff),
                mean_difference=diff.mean(),
                ci_low=low,
                ci_high=high,
                wilcoxon_p=p,
                wins=int((diff > 1e-9).sum()),
                ties=int((~nonzero).sum()),
                losses=int((diff < -1e-9).sum()),
            )
        )
    return pd.DataFrame(out)


def plot_paired(df, summary, path: str, target: str = GENERATOR) -> None:
    """Paired differences (target - best competitor) per dataset, one panel per
    classifier and imbalance level; a point per seed, a bar at the dataset's mean."""
    import matplotlib.pyplot as plt

    keeps = sorted(summary["keep"].unique())
    clfs = [c for c in CLASSIFIERS if c in set(summary["classifier"])]
    datasets = list(dict.fromkeys(df["dataset"]))
    fig, axes = plt.subplots(
        len(keeps),
        len(clfs),
        figsize=(3.6 * len(clfs), 0.35 * len(datasets) * len(keeps) + 1.5),
        sharex=True,
        sharey=True,
        squeeze=False,
        layout="constrained",
    )
    for i, keep in enumerate(keeps):
        for j, clf in enumerate(clfs):
            ax = axes[i, j]
            line = summary[(summary["keep"] == keep) & (summary["classifier"] == clf)].iloc[0]
            group = df[(df["keep"] == keep) & (df["classifier"] == clf)]
            wide = group.pivot_table(
                index=["dataset", "seed"], columns="sampler", values="balanced_accuracy"
            )
            diff = (wide[target] - wide[line["best_competitor"]]).rename("d").reset_index()
            for k, name in enumerate(datasets):
                d = diff.loc[diff["dataset"] == name, "d"].to_numpy()
                ax.plot(d, np.full(len(d), k), "o", color="C0", alpha=0.5, ms=4)
                if len(d):
                    ax.plot([d.mean()] * 2, [k - 0.3, k + 0.3], color="C3", lw=2)
            ax.axvline(0, color="0.5", lw=0.8)
            ax.axvspan(line["ci_low"], line["ci_high"], color="C1", alpha=0.15)
            ax.set_yticks(range(len(datasets)), datasets)
            ax.set_title(
                f"{clf}, keep {keep:g}: vs {line['best_competitor']}\n"
                f"mean {line['mean_difference']:+.3f} [{line['ci_low']:+.3f}, {line['ci_high']:+.3f}]",
                fontsize="small",
            )
            ax.invert_yaxis()
    fig.supxlabel("balanced accuracy: generator - best competitor (dots: seeds; bars: means)")
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main(argv=None) -> None:
    from joblib import Parallel, delayed

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    _common.add_data_arguments(parser, DATASETS, seeds=(0, 1, 2, 3, 4))
    parser.add_argument(
        "--keep",
        nargs="+",
        type=float,
        default=[0.3, 0.1],
        help="imbalance levels: the share of its series each reduced class keeps",
    )
    parser.add_argument("--samplers", nargs="+", default=SAMPLERS, choices=SAMPLERS)
    parser.add_argument("--classifiers", nargs="+", default=CLASSIFIERS, choices=CLASSIFIERS)
    parser.add_argument(
        "--fcn-param",
        type=_common.key_value,
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="FCNClassifier parameter; repeatable",
    )
    parser.add_argument(
        "--cache",
        default="augmentation_cache",
        help="folder of finished rows (one JSON file each); a repeated run reuses them",
    )
    parser.add_argument("--figure", default=None, help="write the paired-difference figure here")
    parser.add_argument(
        "--cached-only",
        action="store_true",
        help="compute nothing: summarise the rows already in --cache (e.g. while a run goes on)",
    )
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
    fcn_params = dict(args.fcn_param)
    if args.smoke:  # every column kind once, in a temporary cache
        args.guidance_scales, args.mask_ratios = args.guidance_scales or [1.0], [0.25]
        args.resample = args.resample or [{"guidance_scale": 1.0, "resample_mask_ratio": 1.0}]
        args.last_weights = True
        args.keep = [0.3]
        args.cache = f"{_common.output_dir()}/cache"
        args.figure = f"{_common.output_dir()}/paired.png"
        fcn_params = {"max_epochs": 2, **fcn_params}

    import pandas as pd

    print(_common.environment(**{"generator params": params, "FCN params": fcn_params}))
    cache = Path(args.cache)
    jobs, same = unique_splits(args.datasets, sorted(args.keep, reverse=True), args.seeds)
    for (dataset, keep, seed), larger in same.items():
        print(
            f"# {dataset} keep {keep:g} seed {seed}: the same training split as keep {larger:g}; skipped"
        )
    extras = extra_columns(args.guidance_scales, args.mask_ratios, args.resample)
    if args.last_weights:
        extras.append((f"{GENERATOR}, last weights", None))
    rows = []
    options = dict(
        samplers=args.samplers,
        classifiers=args.classifiers,
        cache=cache,
        fcn_params=fcn_params,
        cached_only=args.cached_only,
    )
    for n, result in enumerate(
        Parallel(n_jobs=args.n_jobs, return_as="generator_unordered")(
            delayed(run_one)(d, k, s, params, extras, **options) for d, k, s in jobs
        ),
        start=1,
    ):
        rows.extend(result)
        if not result:
            continue
        first = result[0]
        print(
            f"[{n}/{len(jobs)}] {first['dataset']} keep {first['keep']:g} seed {first['seed']}: "
            + ", ".join(
                f"{r['sampler']}/{r['classifier']}={r['balanced_accuracy']:.3f}" for r in result
            ),
            flush=True,
        )
    df = pd.DataFrame(rows)
    if args.csv:
        df.to_csv(args.csv, index=False)
    # Summaries compare over-samplers on the same runs: a job not finished yet (with
    # --cached-only) is left out of them whole.
    wanted = len(args.samplers) + (len(extras) if GENERATOR in args.samplers else 0)
    size = df.groupby(["dataset", "keep", "seed"])["sampler"].transform("size")
    unfinished = df.loc[size < wanted * len(args.classifiers), ["dataset", "keep", "seed"]]
    for job in unfinished.drop_duplicates().itertuples(index=False):
        print(f"# {job.dataset} keep {job.keep:g} seed {job.seed}: not finished; left out")
    df = df[size == wanted * len(args.classifiers)]
    columns = list(dict.fromkeys(df["sampler"]))
    mean = df.groupby(["keep", "classifier", "dataset", "sampler"])["balanced_accuracy"].mean()
    overall = mean.groupby(["keep", "classifier", "sampler"]).mean().unstack("sampler")[columns]
    _common.print_table(
        mean.unstack("sampler")[columns],
        "Balanced accuracy on the real test split, mean over seeds:",
    )
    _common.print_table(overall, "Mean over datasets:")
    if GENERATOR in columns:
        summary = paired_summary(df, competitors=[c for c in COMPETITORS if c in columns])
        _common.print_table(
            summary.set_index(["classifier", "keep"]),
            f"{GENERATOR} - best competitor (paired over dataset x seed; 95% bootstrap interval):",
        )
        if args.figure and len(summary):
            plot_paired(df, summary, args.figure)
            print(f"\nfigure: {args.figure}")
    seconds = df.groupby(["dataset", "sampler"])["resample_s"].median().unstack("sampler")
    _common.print_table(seconds[columns], "Median resampling seconds per fit:", digits=1)


if __name__ == "__main__":
    main()
