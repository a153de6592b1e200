"""What the novelty metrics give for series made without a generator: copies, jitter, SMOTE.

Usage::

    python benchmarks/novelty_baselines.py GunPoint ArrowHead ItalyPowerDemand --seeds 0 1 2
    python benchmarks/novelty_baselines.py --smoke   # seconds

The generator's samples are judged by ``closer_to_train_share`` (about 0.5: new,
1: copies) and ``dcr_ratio`` (about 1: new, 0: copies). This script scores, on the
same scale and with the same MiniRocket FID ratio, IS ratio and CAS / TRTR as
``sampler_grid.py``, ``--n-samples`` series (1000) made from the training split
without any model, so that the generator's numbers can be read against what a user
would otherwise do:

- ``copies``: training series drawn with replacement (the copying extreme);
- ``jitter s``: copies plus Gaussian noise of ``s`` times each series' standard
  deviation, per point;
- ``smote``: SMOTE's interpolation (Chawla et al. 2002) in the space of the
  series: ``x + u (x_nn - x)`` with ``x`` a training series, ``x_nn`` one of its
  ``k = 5`` nearest neighbours of the same class (Euclidean, z-normalised)
  and ``u ~ U(0, 1)``;
- ``real A``: half of the test split (the test split's other half stands in for
  the held-out set), the score of fresh real data.

Every other row uses the whole test split as the held-out set, as ``sampler_grid.py``
does. Labels are drawn in the training split's proportions; no torch model is fitted.
"""

from __future__ import annotations

import argparse

import _common  # benchmarks/ is the script's folder
import numpy as np

from skncvqvae.metrics import (
    cas_score,
    closer_to_train_share,
    dcr_ratio,
    fid_score,
    inception_score,
    make_classifier,
    make_feature_extractor,
)

#: Series made per baseline and seed (``--n-samples``).
N_SAMPLES = 1000
#: Noise levels of the ``jitter`` rows, as fractions of each series' standard deviation.
JITTER = (0.1, 0.3)
#: SMOTE's neighbours per series.
K_NEIGHBOURS = 5


def _flat_z(X: np.ndarray) -> np.ndarray:
    mean = X.mean(axis=-1, keepdims=True)
    std = X.std(axis=-1, keepdims=True)
    return ((X - mean) / np.where(std > 0, std, 1.0)).reshape(len(X), -1)


def smote(X: np.ndarray, y: np.ndarray, labels: np.ndarray, rng, k: int = K_NEIGHBOURS):
    """One SMOTE series per entry of ``labels``, from the training series ``X`` of each class."""
    out = np.empty((len(labels), *X.shape[1:]))
    for label in np.unique(labels):
        rows = np.flatnonzero(y == label)
        Z = _flat_z(X[rows])
        distances = ((Z[:, None] - Z[None]) ** 2).sum(-1)
        np.fill_diagonal(distances, np.inf)
        n_neighbours = min(k, len(rows) - 1)
        wanted = np.flatnonzero(labels == label)
        base = rng.integers(len(rows), size=len(wanted))
        if n_neighbours == 0:  # a class of one series: copies
            out[wanted] = X[rows[base]]
            continue
        neighbours = np.argsort(distances, axis=1)[:, :n_neighbours]
        partner = neighbours[base, rng.integers(n_neighbours, size=len(wanted))]
        u = rng.random(len(wanted))[:, None, None]
        out[wanted] = X[rows[base]] + u * (X[rows[partner]] - X[rows[base]])
    return out


def baselines(X: np.ndarray, y: np.ndarray, n: int, rng) -> dict:
    """``{name: (X_new, y_new)}`` of every baseline but ``real A``."""
    classes, counts = np.unique(y, return_counts=True)
    labels = rng.choice(classes, size=n, p=counts / counts.sum())
    picks = np.concatenate([rng.choice(np.flatnonzero(y == c), size=1) for c in labels])
    copies = X[picks]
    made = {"copies": (copies, labels)}
    scale = copies.std(axis=-1, keepdims=True)
    for s in JITTER:
        made[f"jitter {s:g}"] = (copies + s * scale * rng.standard_normal(copies.shape), labels)
    made["smote"] = (smote(X, y, labels, rng), labels)
    return made


def run(name: str, seed: int, n_samples: int) -> list[dict]:
    X_train, y_train, X_test, y_test = _common.load(name)
    extractor = make_feature_extractor(X_train, random_state=0)
    classifier = make_classifier(X_train, y_train, random_state=0)
    floor = fid_score(X_test, X_train, feature_extractor=extractor)
    real_is = inception_score(X_test, classifier)
    trtr = cas_score(X_train, y_train, X_test, y_test, classifier=classifier)
    rng = np.random.default_rng(seed)
    rows = []
    for label, (X_new, y_new) in baselines(X_train, y_train, n_samples, rng).items():
        head = X_new[: len(X_test)]
        row = dict(dataset=name, seed=seed, baseline=label)
        row["fid"] = fid_score(X_test, head, feature_extractor=extractor) / floor
        row["IS"] = inception_score(head, classifier) / real_is
        row["cas"] = cas_score(X_new, y_new, X_test, y_test, classifier=classifier) / trtr
        row["closer"] = closer_to_train_share(X_new, X_train, X_test, random_state=seed)
        row["dcr"] = dcr_ratio(X_new, X_train, X_test)
        rows.append(row)
    order = rng.permutation(len(X_test))
    X_a, X_b = X_test[order[: len(order) // 2]], X_test[order[len(order) // 2 :]]
    rows.append(
        dict(dataset=name, seed=seed, baseline="real A")
        | dict(fid=np.nan, IS=np.nan, cas=np.nan)
        | dict(
            closer=closer_to_train_share(X_a, X_train, X_b, random_state=seed),
            dcr=dcr_ratio(X_a, X_train, X_b),
        )
    )
    for row in rows:
        print(
            f"{name} seed {seed} {row['baseline']}: "
            + " ".join(f"{k}={row[k]:.3f}" for k in ("fid", "IS", "cas", "closer", "dcr")),
            flush=True,
        )
    return rows


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    _common.add_data_arguments(parser, ["GunPoint"], [0, 1, 2], positional=True)
    parser.add_argument("--n-samples", type=int, default=N_SAMPLES, help="series per baseline")
    _common.add_smoke_flag(parser)
    args = parser.parse_args(argv)
    if args.smoke:
        _common.smoke_setup(args, {}, {})
        args.n_samples = 40
    _common.set_threads(1)
    rows = [
        row
        for name in args.datasets
        for seed in args.seeds
        for row in run(name, seed, args.n_samples)
    ]
    import pandas as pd

    table = (
        pd.DataFrame(rows)
        .groupby(["dataset", "baseline"], sort=False)[["fid", "IS", "cas", "closer", "dcr"]]
        .mean()
    )
    _common.print_table(
        table, f"Mean over seeds {args.seeds} (FID / floor, IS / real, CAS / TRTR):"
    )


if __name__ == "__main__":
    main()
