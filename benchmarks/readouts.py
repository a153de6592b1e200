"""Readout study of the tokenizer: which features of a fitted model are worth using.

Fits each (training setting, dataset, seed) once, caches the continuous latent z, the
quantized latent z_q, the token ids and the standardised input of the train and test
splits, then probes 26 readouts with the linear-SVC protocol (MinMax scaling). This is
the study that chose ``output="pyramid"`` (readout "7k pyramid(1,2) z"); see
docs/benchmarks.md.

Usage (one process, one thread)::

    OMP_NUM_THREADS=1 python benchmarks/readouts.py fit A B C     # fit (cached), then report
    OMP_NUM_THREADS=1 python benchmarks/readouts.py report A B C

The cache goes to ``$READOUT_CACHE`` (default ``readout_cache/``).
"""

import os
import sys
import time

import numpy as np
import torch

from skncvqvae import NCVQVAETokenizer
from skncvqvae.evaluation import linear_probe, load_dataset
from skncvqvae.nn import stft

torch.set_num_threads(1)

CACHE = os.environ.get("READOUT_CACHE", "readout_cache")
DATASETS = ["GunPoint", "ArrowHead", "ItalyPowerDemand", "BasicMotions"]
SEEDS = [0, 1, 2]
SETTINGS = {
    "A": dict(),
    "B": dict(augmentations=("window_warp", "amplitude_resize")),
    "C": dict(max_epochs=100),
}
# the readout study ran before max_epochs="auto" and output="pyramid" were defaults
BASE = dict(max_epochs=150, output="pooled")


def cache_path(setting, ds, seed):
    return f"{CACHE}/{setting}_{ds}_{seed}.npz"


def fit_one(setting, ds, seed):
    path = cache_path(setting, ds, seed)
    if os.path.exists(path):
        return
    Xtr, ytr, Xte, yte = load_dataset(ds)
    os.makedirs(CACHE, exist_ok=True)
    tok = NCVQVAETokenizer(random_state=seed, device="cpu", **{**BASE, **SETTINGS[setting]})
    t0 = time.perf_counter()
    tok.fit(Xtr)
    fit_s = time.perf_counter() - t0
    m = tok.net_.module_.eval()

    def enc(xb):
        z = m.encoder(stft(xb, m.n_fft))
        q = m.quantizer(z)
        return z, q.quantized, q.indices

    out = {}
    with torch.no_grad():
        for split, X in (("tr", Xtr), ("te", Xte)):
            z, zq, idx = (torch.cat(t) for t in zip(*tok._map_batches(enc, tok._prepare(X))))
            out[f"z_{split}"], out[f"zq_{split}"], out[f"idx_{split}"] = (
                z.numpy(),
                zq.numpy(),
                idx.numpy(),
            )
            out[f"raw_{split}"] = tok._prepare(X).numpy().reshape(len(X), -1)
    np.savez_compressed(
        path,
        fit_s=fit_s,
        ytr=np.asarray(ytr).astype(str),
        yte=np.asarray(yte).astype(str),
        codebook_size=tok.codebook_size,
        **out,
    )
    print(
        f"fitted {setting} {ds} seed={seed} in {fit_s:.1f}s grid={tuple(z.shape[1:])}", flush=True
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


READOUTS = {
    "1 pooled z_q (baseline)": lambda d, s: pooled(d[f"zq_{s}"]),
    "2 row z_q": lambda d, s: row(d[f"zq_{s}"]),
    "3 pyramid z_q": lambda d, s: pyramid(d[f"zq_{s}"]),
    "4a pooled z": lambda d, s: pooled(d[f"z_{s}"]),
    "4b row z": lambda d, s: row(d[f"z_{s}"]),
    "4c pyramid z": lambda d, s: pyramid(d[f"z_{s}"]),
    "5 row z + row z_q": lambda d, s: np.concatenate([row(d[f"z_{s}"]), row(d[f"zq_{s}"])], 1),
    "6 hist + pooled z_q": lambda d, s: np.concatenate(
        [hist(d[f"idx_{s}"], int(d["codebook_size"])), pooled(d[f"zq_{s}"])], 1
    ),
    "7a row+pyramid z_q": lambda d, s: row_pyramid(d[f"zq_{s}"]),
    "7b row+pyramid z": lambda d, s: row_pyramid(d[f"z_{s}"]),
    "7c row mean/max/std z": lambda d, s: row_std(d[f"z_{s}"]),
    "7d pooled mean/max/std z": lambda d, s: pooled_std(d[f"z_{s}"]),
    "7e flat grid z": lambda d, s: flat(d[f"z_{s}"]),
    "7f flat grid z_q": lambda d, s: flat(d[f"zq_{s}"]),
    "7g pyramid(1,2,4,8) z": lambda d, s: pyramid(d[f"z_{s}"], (1, 2, 4, 8)),
    "7h row z + pyramid z_q": lambda d, s: np.concatenate(
        [row(d[f"z_{s}"]), pyramid(d[f"zq_{s}"])], 1
    ),
    "7i pooled z + pooled z_q": lambda d, s: np.concatenate(
        [pooled(d[f"z_{s}"]), pooled(d[f"zq_{s}"])], 1
    ),
    "7j column z (mean,max over H per W)": lambda d, s: column(d[f"z_{s}"]),
    "7k pyramid(1,2) z": lambda d, s: pyramid(d[f"z_{s}"], (1, 2)),
    "7l row z mean only": lambda d, s: d[f"z_{s}"].mean(3).reshape(len(d[f"z_{s}"]), -1),
    "7m row z + column z": lambda d, s: np.concatenate([row(d[f"z_{s}"]), column(d[f"z_{s}"])], 1),
    "7n pooled z + flat z_q": lambda d, s: np.concatenate(
        [pooled(d[f"z_{s}"]), flat(d[f"zq_{s}"])], 1
    ),
    "7o pooled z + hist": lambda d, s: np.concatenate(
        [pooled(d[f"z_{s}"]), hist(d[f"idx_{s}"], int(d["codebook_size"]))], 1
    ),
    "ref raw series (input, standardised)": lambda d, s: d[f"raw_{s}"],
    "ref raw + pooled z": lambda d, s: np.concatenate([d[f"raw_{s}"], pooled(d[f"z_{s}"])], 1),
    "ref raw + row z": lambda d, s: np.concatenate([d[f"raw_{s}"], row(d[f"z_{s}"])], 1),
}


def report(settings):
    fit_rows = []
    for setting in settings:
        res, fits, dims = {}, {}, {}
        for ds in DATASETS:
            for seed in SEEDS:
                p = cache_path(setting, ds, seed)
                if not os.path.exists(p):
                    continue
                d = dict(np.load(p))
                fits.setdefault(ds, []).append(float(d["fit_s"]))
                for name, f in READOUTS.items():
                    Ftr, Fte = f(d, "tr"), f(d, "te")
                    dims.setdefault(name, {})[ds] = Ftr.shape[1]
                    acc = linear_probe(Ftr, d["ytr"], Fte, d["yte"])["svm"]
                    res.setdefault(name, {}).setdefault(ds, []).append(acc)
        if not res:
            continue
        print(
            f"\n### Setting {setting}: {SETTINGS[setting] or 'defaults'} (linear SVC test acc, mean ± std over seeds)\n"
        )
        print("| readout | " + " | ".join(DATASETS) + " | mean | n_features (GP/AH/IPD/BM) |")
        print("|---|" + "---|" * (len(DATASETS) + 2))
        for name in READOUTS:
            cells, means = [], []
            for ds in DATASETS:
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
            mean = f"{np.mean(means):.3f}" if len(means) == len(DATASETS) else "–"
            print(
                f"| {name} | "
                + " | ".join(cells)
                + f" | {mean} | "
                + "/".join(str(dims[name].get(ds, "-")) for ds in DATASETS)
                + " |"
            )
        fit_rows.append((setting, {ds: fits.get(ds, []) for ds in DATASETS}))
    print("\n### Fit seconds (1 torch thread, shared 2-core machine)\n")
    print("| setting | " + " | ".join(DATASETS) + " |")
    print("|---|" + "---|" * len(DATASETS))
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


if __name__ == "__main__":
    mode, settings = sys.argv[1], sys.argv[2:] or ["A"]
    if mode == "fit":
        for setting in settings:
            for seed in SEEDS:  # seed-major so that every dataset gets seed 0 early
                for ds in DATASETS:
                    fit_one(setting, ds, seed)
    report(settings)
