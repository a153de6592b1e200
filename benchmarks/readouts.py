"""Readout study of the tokenizer: which features of a fitted model are worth using.

Fits each (training setting, dataset, seed) once, caches the continuous latent z, the
quantized latent z_q, the token ids and the standardised input of the train and test
splits, then probes 26 readouts with the linear-SVC protocol (MinMax scaling). This is
the study that chose ``output="pyramid"`` (readout "7k pyramid(1,2) z"); see
docs/benchmarks.md.

Usage (one process, one thread)::

    OMP_NUM_THREADS=1 python benchmarks/readouts.py fit A B C     # fit (cached), then report
    OMP_NUM_THREADS=1 python benchmarks/readouts.py report A B C
    OMP_NUM_THREADS=1 python benchmarks/readouts.py --smoke       # seconds: tiny data and models

The cache goes to ``$READOUT_CACHE`` (default ``readout_cache/``; ``--smoke``: a
temporary folder). The latents are read through the public API: the input
standardised with the fitted ``mean_`` and ``scale_``, then the fitted module's
``latent`` and ``encode`` (``net_.module_``, a :class:`skncvqvae.nn.NCVQVAEModule`);
every fit checks that they give what ``transform`` and ``encode`` give.
"""

from __future__ import annotations

import argparse
import os
import time

import _common  # benchmarks/ is the script's folder
import numpy as np
import torch

from skncvqvae import NCVQVAETokenizer
from skncvqvae.metrics import linear_probe

SETTINGS = {
    "A": dict(),
    "B": dict(augmentations=("window_warp", "amplitude_resize")),
    "C": dict(max_epochs=100),
}
# the readout study ran before max_epochs="auto" and output="pyramid" were defaults
BASE = dict(max_epochs=150, output="pooled")


def cache_path(cache, setting, ds, seed):
    return f"{cache}/{setting}_{ds}_{seed}.npz"


def latents(tok, X) -> dict:
    """``z``, ``zq``, ``idx`` and ``raw`` (the standardised input) of ``X`` under the fitted ``tok``.

    Batches of ``tok.batch_size`` rows, the last one padded to that size by
    repeating its last row (as the package's inference does, so that every row is
    computed in a batch of one shape), under ``torch.inference_mode``.
    """
    X = np.asarray(X, dtype=np.float64)
    X = X[:, None] if X.ndim == 2 else X
    if X.shape[1:] != (tok.n_channels_, tok.n_timepoints_):
        raise ValueError(f"series of shape {X.shape[1:]}; the tokenizer was fitted on others")
    x = torch.from_numpy(((X - tok.mean_[:, None]) / tok.scale_[:, None]).astype(np.float32))
    module = tok.net_.module_
    rows = tok.batch_size
    parts = []
    with torch.inference_mode():
        for start in range(0, len(x), rows):
            batch = x[start : start + rows]
            n = len(batch)
            batch = torch.cat([batch, batch[-1:].expand(rows - n, *batch.shape[1:])])
            z_q, idx = module.encode(batch)
            parts.append((module.latent(batch)[:n], z_q[:n], idx[:n]))
    z, z_q, idx = (torch.cat(t).numpy() for t in zip(*parts))
    return {"z": z, "zq": z_q, "idx": idx, "raw": x.numpy().reshape(len(x), -1)}


def check_latents(tok, X, out: dict) -> None:
    """The latents must give what the tokenizer's ``transform`` and ``encode`` give."""
    assert np.array_equal(out["idx"], tok.encode(X)), "token ids differ from encode"
    output = tok.output
    try:
        for name, readout in (
            ("pyramid", pyramid(out["z"], (1, 2))),
            ("pooled", pooled(out["zq"])),
        ):
            expected = tok.set_params(output=name).transform(X)
            assert np.allclose(readout, expected, atol=1e-5), f"{name} differs from transform"
    finally:
        tok.set_params(output=output)


def fit_one(cache, setting, ds, seed, params=None):
    path = cache_path(cache, setting, ds, seed)
    if os.path.exists(path):
        return
    Xtr, ytr, Xte, yte = _common.load(ds)
    os.makedirs(cache, exist_ok=True)
    params = {**BASE, **SETTINGS[setting], **(params or {})}
    tok = NCVQVAETokenizer(random_state=seed, device="cpu", **params)
    t0 = time.perf_counter()
    tok.fit(Xtr)
    fit_s = time.perf_counter() - t0
    out = {}
    for split, X in (("tr", Xtr), ("te", Xte)):
        split_latents = latents(tok, X)
        check_latents(tok, X, split_latents)
        out.update({f"{key}_{split}": value for key, value in split_latents.items()})
    np.savez_compressed(
        path,
        fit_s=fit_s,
        ytr=np.asarray(ytr).astype(str),
        yte=np.asarray(yte).astype(str),
        codebook_size=tok.codebook_size,
        **out,
    )
    print(
        f"fitted {setting} {ds} seed={seed} in {fit_s:.1f}s grid={out['z_tr'].shape[1:]}",
        flush=True,
    )


# ---- readouts: g is (n, D, H, W) -------------------------------------------------
def pooled(g):  # concat(mean over H,W ; max over H,W) -> 2D
    return np.concatenate([g.mean((2, 3)), g.max((2, 3))], 1)


def row(g):  # per frequency row: concat(mean over W (D,H flattened), max over W) -> 2DH
    n = len(g)
    return np.concatenate([g.mean(3).reshape(n, -1), g.max(3).reshape(n, -1)], 1)


def row_std(g):  # per row mean, max, std over W -> 3DH
    n = len(g)
    return np.concatenate(
        [g.mean(3).reshape(n, -1), g.max(3).reshape(n, -1), g.std(3).reshape(n, -1)], 1
    )


def pyramid(
    g, levels=(1, 2, 4)
):  # for each level, each segment of W: [mean over (H,seg), max over (H,seg)]
    feats = []
    for k in levels:
        k = min(k, g.shape[3])  # no empty segments on narrow grids
        for seg in np.array_split(np.arange(g.shape[3]), k):
            s = g[..., seg]
            feats += [s.mean((2, 3)), s.max((2, 3))]
    return np.concatenate(feats, 1)


def column(g):  # per time column: concat(mean over H (D,W flattened), max over H) -> 2DW
    n = len(g)
    return np.concatenate([g.mean(2).reshape(n, -1), g.max(2).reshape(n, -1)], 1)


def row_pyramid(g):
    return np.concatenate([row(g), pyramid(g)], 1)


def pooled_std(g):
    return np.concatenate([g.mean((2, 3)), g.max((2, 3)), g.std((2, 3))], 1)


def hist(idx, K):
    flat = idx.reshape(len(idx), -1)
    c = np.zeros((len(flat), K))
    for k in range(K):
        c[:, k] = (flat == k).mean(1)
    return c


def flat(g):
    return g.reshape(len(g), -1)


def of(readout, grid: str, *args):
    """Features ``readout(grid, *args)`` of a cached array (``"z"``, ``"zq"``, ``"raw"``)."""
    return lambda d, s: readout(d[f"{grid}_{s}"], *args)


def histogram(d, s):
    return hist(d[f"idx_{s}"], int(d["codebook_size"]))


def row_mean(g):
    return g.mean(3).reshape(len(g), -1)


# each readout concatenates the features of its parts
READOUTS = {
    "1 pooled z_q (baseline)": [of(pooled, "zq")],
    "2 row z_q": [of(row, "zq")],
    "3 pyramid z_q": [of(pyramid, "zq")],
    "4a pooled z": [of(pooled, "z")],
    "4b row z": [of(row, "z")],
    "4c pyramid z": [of(pyramid, "z")],
    "5 row z + row z_q": [of(row, "z"), of(row, "zq")],
    "6 hist + pooled z_q": [histogram, of(pooled, "zq")],
    "7a row+pyramid z_q": [of(row_pyramid, "zq")],
    "7b row+pyramid z": [of(row_pyramid, "z")],
    "7c row mean/max/std z": [of(row_std, "z")],
    "7d pooled mean/max/std z": [of(pooled_std, "z")],
    "7e flat grid z": [of(flat, "z")],
    "7f flat grid z_q": [of(flat, "zq")],
    "7g pyramid(1,2,4,8) z": [of(pyramid, "z", (1, 2, 4, 8))],
    "7h row z + pyramid z_q": [of(row, "z"), of(pyramid, "zq")],
    "7i pooled z + pooled z_q": [of(pooled, "z"), of(pooled, "zq")],
    "7j column z (mean,max over H per W)": [of(column, "z")],
    "7k pyramid(1,2) z": [of(pyramid, "z", (1, 2))],
    "7l row z mean only": [of(row_mean, "z")],
    "7m row z + column z": [of(row, "z"), of(column, "z")],
    "7n pooled z + flat z_q": [of(pooled, "z"), of(flat, "zq")],
    "7o pooled z + hist": [of(pooled, "z"), histogram],
    "ref raw series (input, standardised)": [of(flat, "raw")],
    "ref raw + pooled z": [of(flat, "raw"), of(pooled, "z")],
    "ref raw + row z": [of(flat, "raw"), of(row, "z")],
}


def features(d, split: str, readout: str):
    return np.concatenate([part(d, split) for part in READOUTS[readout]], 1)


def report(cache, settings, datasets, seeds):
    fit_rows = []
    for setting in settings:
        res, fits, dims = {}, {}, {}
        for ds in datasets:
            for seed in seeds:
                p = cache_path(cache, setting, ds, seed)
                if not os.path.exists(p):
                    continue
                d = dict(np.load(p))
                fits.setdefault(ds, []).append(float(d["fit_s"]))
                for name in READOUTS:
                    Ftr, Fte = features(d, "tr", name), features(d, "te", name)
                    dims.setdefault(name, {})[ds] = Ftr.shape[1]
                    acc = linear_probe(Ftr, d["ytr"], Fte, d["yte"])["svm"]
                    res.setdefault(name, {}).setdefault(ds, []).append(acc)
        if not res:
            continue
        print(
            f"\n### Setting {setting}: {SETTINGS[setting] or 'defaults'} (linear SVC test acc, mean ± std over seeds)\n"
        )
        print("| readout | " + " | ".join(datasets) + " | mean | n_features (GP/AH/IPD/BM) |")
        print("|---|" + "---|" * (len(datasets) + 2))
        for name in READOUTS:
            cells, means = [], []
            for ds in datasets:
                a = res[name].get(ds)
                if a:
                    cells.append(
                        f"{np.mean(a):.3f} ± {np.std(a):.3f} (n={len(a)})"
                        if len(a) < 3
                        else f"{np.mean(a):.3f} ± {np.std(a):.3f}"
                    )
                    means.append(np.mean(a))
                else:
                    cells.append("–")
            mean = f"{np.mean(means):.3f}" if len(means) == len(datasets) else "–"
            print(
                f"| {name} | "
                + " | ".join(cells)
                + f" | {mean} | "
                + "/".join(str(dims[name].get(ds, "-")) for ds in datasets)
                + " |"
            )
        fit_rows.append((setting, {ds: fits.get(ds, []) for ds in datasets}))
    print("\n### Fit seconds (1 torch thread, shared 2-core machine)\n")
    print("| setting | " + " | ".join(datasets) + " |")
    print("|---|" + "---|" * len(datasets))
    for setting, f in fit_rows:
        print(
            f"| {setting} | "
            + " | ".join(
                f"{np.mean(v):.1f} ± {np.std(v):.1f} {[round(x) for x in v]}" if v else "–"
                for v in f.values()
            )
            + " |"
        )
    print(
        "\nreference: raw SVC 0.887/0.783/0.974/0.600 (mean 0.811); MiniRocket+RidgeCV 1.000/0.897/0.965/1.000 (mean 0.966)"
    )


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("mode", nargs="?", choices=["fit", "report"], default="report")
    parser.add_argument("settings", nargs="*", default=["A"], help=f"of {sorted(SETTINGS)}")
    _common.add_data_arguments(parser)
    _common.add_smoke_flag(parser)
    args = parser.parse_args(argv)
    unknown = sorted(set(args.settings) - set(SETTINGS))
    if unknown:
        parser.error(f"unknown settings {unknown}; choose from {sorted(SETTINGS)}")
    cache, params = os.environ.get("READOUT_CACHE", "readout_cache"), {}
    if args.smoke:
        args.mode, args.settings, cache = "fit", ["A"], _common.output_dir()
        params = _common.smoke_setup(args, {}, _common.smoke_tokenizer_params())
    _common.set_threads(1)
    if args.mode == "fit":
        for setting in args.settings:
            for seed in args.seeds:  # seed-major so that every dataset gets seed 0 early
                for ds in args.datasets:
                    fit_one(cache, setting, ds, seed, params)
    report(cache, args.settings, args.datasets, args.seeds)


if __name__ == "__main__":
    main()
