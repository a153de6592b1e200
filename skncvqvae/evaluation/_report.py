"""The thesis's comparison on one dataset: naive TimeVQVAE vs NC-VQVAE variants.

:func:`run_report` fits each variant (stage 1 + stage 2) on the train split,
evaluates the representation (linear SVM and KNN probes on pooled z_q) and
the generator (FID, IS, CAS against the real test split, with MiniRocket
features and classifiers fitted on real train data), and writes the table and
figures into an output folder. ``skncvqvae report`` is its command line.

The (variant, seed) runs are independent: with ``n_jobs > 1`` they run in
joblib worker processes, each with ``cpu_count // n_jobs`` torch threads
(at least 1). One thread per process uses a small machine better than one
process with every thread: a 2-thread fit on 2 cores spends much of its time
in OpenMP synchronisation, and two 1-thread fits do not.
"""

from __future__ import annotations

import copy
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from joblib import Parallel, delayed

from .._validation import as_3d_float
from ..generator import NCVQVAEGenerator
from ..metrics import (
    cas_score,
    closer_to_train_share,
    copied_token_share,
    dcr_ratio,
    fid_score,
    inception_score,
    linear_probe,
)
from ..metrics._features import CachedTransform, make_classifier, make_feature_extractor
from ..metrics._novelty import znorm_flat
from ..tokenizer import NCVQVAETokenizer
from . import _plotting as plotting
from ._datasets import load_dataset

__all__ = ["VARIANTS", "ReportConfig", "run_report"]

#: Tokenizer settings of the compared models; augmentations come from the config.
VARIANTS = {
    "naive": {"ssl": None},
    "barlowtwins": {"ssl": "barlowtwins"},
    "vibcreg": {"ssl": "vibcreg"},
}

#: "closer to train", "DCR ratio" and "copied grids" measure novelty
#: (:mod:`skncvqvae.metrics`): about 0.5, 1 and 0 for new series; 1, 0 and 1 for copies.
COLUMNS = [
    "SVM acc",
    "KNN acc",
    "FID",
    "IS",
    "CAS",
    "closer to train",
    "DCR ratio",
    "copied grids",
    "fit s",
    "sample s",
]


@dataclass
class ReportConfig:
    """Options of :func:`run_report` (the command line's flags)."""

    dataset: str = "GunPoint"
    variants: tuple[str, ...] = ("naive", "barlowtwins", "vibcreg")
    seeds: tuple[int, ...] = (0,)
    max_epochs_stage1: int | str = "auto"
    max_epochs_stage2: int | str = "auto"
    augmentations: tuple[str, ...] | None = None
    n_cas_samples: int = 1000
    device: str = "auto"
    output: Path = Path("report_output")
    tokenizer_params: dict = field(default_factory=dict)
    generator_params: dict = field(default_factory=dict)
    n_jobs: int | None = None
    verbose: int = 1


def _log(config: ReportConfig, message: str) -> None:
    if config.verbose:
        print(message, flush=True)


def _resolve_n_jobs(config: ReportConfig, n_runs: int) -> int:
    """Worker processes for ``n_runs`` runs: ``config.n_jobs``, or by default one
    per run up to twice the CPU count on a CPU (single-thread processes share
    cores without spin-waiting, so 3 runs on 2 cores finish in 1.5 run-times
    rather than 2) and 1 on a GPU."""
    if config.n_jobs is not None:
        if config.n_jobs == 0 or config.n_jobs < -1:
            raise ValueError(f"n_jobs must be -1 or a positive int; got {config.n_jobs}.")
        n_jobs = (os.cpu_count() or 1) if config.n_jobs == -1 else config.n_jobs
        return max(1, min(n_jobs, n_runs))
    if config.device != "cpu" and (config.device != "auto" or torch.cuda.is_available()):
        return 1
    return max(1, min(n_runs, 2 * (os.cpu_count() or 1)))


def _run(config: ReportConfig, variant: str, seed: int, data, references):
    """Fit and evaluate one (variant, seed); returns (row, generator, samples)."""
    generator, fit_s = _fit_variant(config, variant, seed, *data[:2])
    row, samples = _evaluate(generator, data, references, config, seed)
    return {"model": variant, "seed": seed, **row, "fit s": fit_s}, generator, samples


def _fit_variant(config: ReportConfig, variant: str, seed: int, X_train, y_train):
    params = {**VARIANTS[variant], **config.tokenizer_params}
    if config.augmentations is not None and params["ssl"] is not None:
        params["augmentations"] = tuple(config.augmentations)
    tokenizer = NCVQVAETokenizer(
        **params,
        max_epochs=config.max_epochs_stage1,
        device=config.device,
        random_state=seed,
        verbose=config.verbose,
    )
    generator = NCVQVAEGenerator(
        tokenizer,
        **config.generator_params,
        max_epochs=config.max_epochs_stage2,
        device=config.device,
        random_state=seed,
        verbose=config.verbose,
    )
    start = time.perf_counter()
    generator.fit(X_train, y_train)
    return generator, time.perf_counter() - start


def _evaluate(generator, data, references, config: ReportConfig, seed: int) -> tuple[dict, tuple]:
    X_train, y_train, X_test, y_test = data
    extractor, classifier = references
    tokenizer = generator.tokenizer_
    pooled = copy.copy(tokenizer).set_params(output="pooled")  # the thesis's probe features
    probe = linear_probe(pooled.transform(X_train), y_train, pooled.transform(X_test), y_test)
    n_generate = max(len(X_test), config.n_cas_samples)
    start = time.perf_counter()
    X_gen, y_gen = generator.sample(n_generate, random_state=seed)
    sample_s = time.perf_counter() - start
    row = {
        "SVM acc": probe["svm"],
        "KNN acc": probe["knn"],
        "FID": fid_score(X_test, X_gen[: len(X_test)], feature_extractor=extractor),
        "IS": inception_score(X_gen[: len(X_test)], classifier),
        "CAS": cas_score(X_gen, y_gen, X_test, y_test, classifier=classifier),
        "closer to train": closer_to_train_share(X_gen, X_train, X_test, random_state=seed),
        "DCR ratio": dcr_ratio(X_gen, X_train, X_test),
        "copied grids": copied_token_share(tokenizer.encode(X_gen), tokenizer.encode(X_train)),
        "sample s": sample_s,
    }
    return row, (X_gen, y_gen)


def _real_reference(data, references) -> dict:
    """The real-data row: the probe on raw z-normalised series, FID(train, test), IS, TRTR."""
    X_train, y_train, X_test, y_test = data
    extractor, classifier = references
    probe = linear_probe(znorm_flat(X_train), y_train, znorm_flat(X_test), y_test)
    return {
        "SVM acc": probe["svm"],
        "KNN acc": probe["knn"],
        "FID": fid_score(X_test, X_train, feature_extractor=extractor),
        "IS": inception_score(X_test, classifier),
        "CAS": cas_score(X_train, y_train, X_test, y_test, classifier=classifier),
    }


def _summarise(rows: list[dict]):
    frame = pd.DataFrame(rows)
    grouped = frame.groupby("model", sort=False)[COLUMNS]
    mean, std = grouped.mean(), grouped.std().fillna(0.0)
    table = mean.copy().astype(object)
    for column in COLUMNS:
        digits = 1 if column in ("fit s", "sample s") else 3
        table[column] = [
            ""
            if np.isnan(m)
            else (f"{m:.{digits}f}" if s == 0 else f"{m:.{digits}f} ± {s:.{digits}f}")
            for m, s in zip(mean[column], std[column])
        ]
    return frame, table


def _figures(config, data, fitted: dict, generated: dict) -> list[Path]:
    X_train, y_train, X_test, y_test = data
    out = config.output
    paths = []
    for variant, generator in fitted.items():
        tokenizer = generator.tokenizer_
        fig = plotting.plot_reconstructions(
            X_test,
            tokenizer.reconstruct(X_test),
            title=f"{variant}: test series vs reconstructions",
        )
        paths.append(plotting.save_figure(fig, out / f"reconstructions_{variant}.png"))
        X_gen, y_gen = generated[variant]
        fig = plotting.plot_samples_by_class(
            X_train, y_train, X_gen, y_gen, title=f"{variant}: real (train) vs generated"
        )
        paths.append(plotting.save_figure(fig, out / f"samples_{variant}.png"))
    histories1 = {v: g.tokenizer_.history_ for v, g in fitted.items()}
    histories2 = {v: g.history_ for v, g in fitted.items()}
    paths.append(
        plotting.save_figure(
            plotting.plot_training_curves(histories1, title="Stage 1 (tokenizer) training"),
            out / "training_curves_stage1.png",
        )
    )
    paths.append(
        plotting.save_figure(
            plotting.plot_training_curves(histories2, title="Stage 2 (prior) training"),
            out / "training_curves_stage2.png",
        )
    )
    usage = {}
    for variant, generator in fitted.items():
        tokens = generator.tokenizer_.encode(X_test).ravel()
        usage[variant] = np.bincount(tokens, minlength=generator.tokenizer_.n_codes_) / tokens.size
    paths.append(
        plotting.save_figure(
            plotting.plot_codebook_usage(usage, title="Codebook usage on the test split"),
            out / "codebook_usage.png",
        )
    )
    features = {v: g.tokenizer_.transform(X_test) for v, g in fitted.items()}
    paths.append(
        plotting.save_figure(
            plotting.plot_embeddings(features, y_test, title="PCA of pyramid features, test split"),
            out / "embeddings.png",
        )
    )
    return paths


def run_report(config: ReportConfig):
    """Fit, evaluate and plot every variant; write the results into ``config.output``.

    Returns
    -------
    table : pandas.DataFrame
        One row per model (mean ± std over seeds) plus the real-data reference
        row, columns ``SVM acc, KNN acc, FID, IS, CAS, fit s, sample s``.
    """
    unknown = set(config.variants) - set(VARIANTS)
    if unknown:
        raise ValueError(f"Unknown variants {sorted(unknown)}; choose from {sorted(VARIANTS)}.")
    runs = [(variant, seed) for variant in config.variants for seed in config.seeds]
    n_jobs = _resolve_n_jobs(config, len(runs))
    data = load_dataset(config.dataset)
    X_train, y_train, X_test, y_test = data
    config.output = Path(config.output)
    config.output.mkdir(parents=True, exist_ok=True)
    _log(
        config,
        f"{config.dataset}: train {X_train.shape}, test {X_test.shape}, "
        f"{len(np.unique(y_train))} classes; writing to {config.output}/",
    )
    _log(config, "fitting MiniRocket features and the reference classifier on real train data")
    # The real test split's MiniRocket features are computed once, for every run's FID.
    extractor = CachedTransform(make_feature_extractor(X_train, random_state=0))
    references = (
        extractor.remember(as_3d_float(X_test, name="X_test", dtype=np.float64)),
        make_classifier(X_train, y_train, random_state=0),
    )
    rows, fitted, generated = [], {}, {}
    if n_jobs == 1:
        results = (_run(config, variant, seed, data, references) for variant, seed in runs)
    else:
        # joblib's loky workers start with OMP_NUM_THREADS = cpu_count // n_jobs, which
        # torch honours there (see docs/scaling.rst)
        n_threads = max(1, (os.cpu_count() or 1) // n_jobs)
        _log(
            config,
            f"fitting {len(runs)} (variant, seed) runs in {n_jobs} processes, "
            f"{n_threads} torch thread(s) each",
        )
        quiet = copy.copy(config)
        quiet.verbose = 0  # progress bars of parallel workers would interleave
        results = Parallel(n_jobs=n_jobs, return_as="generator")(
            delayed(_run)(quiet, variant, seed, data, references) for variant, seed in runs
        )
    for i, (variant, seed) in enumerate(runs, start=1):
        if n_jobs == 1:
            _log(config, f"[{i}/{len(runs)}] {variant}, seed {seed}: fitting and evaluating")
        row, generator, samples = next(results)
        if n_jobs > 1:
            _log(config, f"[{i}/{len(runs)}] {variant}, seed {seed}: done in {row['fit s']:.0f} s")
        rows.append(row)
        if variant not in fitted:
            fitted[variant], generated[variant] = generator, samples
    rows.append(
        {"model": "real data (raw series)", "seed": np.nan, **_real_reference(data, references)}
    )
    frame, table = _summarise(rows)
    frame.to_csv(config.output / "results_per_seed.csv", index=False)
    table.to_csv(config.output / "results.csv")
    markdown = table.to_markdown()
    (config.output / "results.md").write_text(
        f"# {config.dataset}\n\nStage-1 epochs {config.max_epochs_stage1}, stage-2 epochs "
        f"{config.max_epochs_stage2}, seeds {list(config.seeds)}. FID/IS/CAS on the test split "
        f"(MiniRocket features); CAS trains on {max(len(X_test), config.n_cas_samples)} "
        "generated series; the last row is real data: the probe on the raw z-normalised "
        "series, FID(train, test), IS of the test split, and TRTR in the CAS column. Novelty "
        "of the generated series against the test split: 'closer to train' is the share "
        "nearer to the training set than to as many test series (0.5: new, 1: copies), "
        "'DCR ratio' their median distance to the nearest training series over the test "
        "split's (1: new, 0: copies), 'copied grids' the share of token grids identical to "
        "a training series' grid.\n\n" + markdown + "\n"
    )
    _log(config, "writing figures")
    _figures(config, data, fitted, generated)
    _log(config, "\n" + markdown)
    return table
