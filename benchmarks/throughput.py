"""The speed report: throughput, fraction of the CPU's matmul peak, memory, scaling.

Every measurement runs in a fresh subprocess with ``--threads`` torch threads,
so that its peak resident memory is its own and nothing is shared between
rows. In each subprocess:

- **peak**: the FLOP/s of a float32 ``1024 x 1024 @ 1024 x 1024`` matmul
  (median of 15), timed in the same process just before the row;
- **FLOPs**: counted with ``torch.utils.flop_counter.FlopCounterMode`` over one
  call through the public API (a one-epoch ``fit``, ``transform`` or
  ``sample``), divided by the number of series. ``nn.TransformerEncoder``'s
  fused inference kernel, which FlopCounterMode does not see inside, is switched
  off while counting (the prior has its own encoder now; the switch is for
  timing older checkouts with the same script);
- **throughput**: training samples/s from the median epoch time of skorch's
  history (epochs after the first), series/s of ``transform`` and ``sample``;
- **fraction of peak** = FLOPs per series x series/s / peak. With
  ``--mixed-precision bf16`` the training rows and ``sample`` use the estimators'
  ``mixed_precision="bf16"`` (``sample``: the prior decodes in bf16, the decoder
  stays float32), and each row also times a bf16 matmul: "of bf16 peak" is the
  same FLOPs divided by that peak.

Tables::

    python benchmarks/throughput.py                  # stage 1, stage 2, sample, transform
    python benchmarks/throughput.py --table scaling  # series, length, channels; writes a PNG
    python benchmarks/throughput.py --reference REPO # + the thesis's code, checked out at REPO
    python benchmarks/throughput.py --mixed-precision bf16  # training rows under bf16 autocast
    python benchmarks/throughput.py --smoke          # seconds: one tiny row of each kind (CI)

The main table is on GunPoint's 50 training series: stage 1 at the package
defaults (naive, Barlow Twins, VIBCReg) and at the thesis's hyperparameters
(4 residual blocks, projector 4096, batch 128, window warp + amplitude
resize), stage 2 at the defaults, ``sample`` (1000 series) and ``transform``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

import _common  # benchmarks/ is the script's folder

THESIS = dict(
    n_resnet_blocks=4,
    projector_dim=4096,
    batch_size=128,
    augmentations=("window_warp", "amplitude_resize"),
)

MAIN = [
    dict(row="stage 1 naive, defaults", kind="fit", tokenizer=dict(ssl=None)),
    dict(row="stage 1 Barlow Twins, defaults", kind="fit", tokenizer=dict(ssl="barlowtwins")),
    dict(row="stage 1 VIBCReg, defaults", kind="fit", tokenizer=dict(ssl="vibcreg")),
    dict(row="stage 1 naive, thesis", kind="fit", tokenizer=dict(ssl=None, **THESIS)),
    dict(
        row="stage 1 Barlow Twins, thesis",
        kind="fit",
        tokenizer=dict(ssl="barlowtwins", **THESIS),
    ),
    dict(row="stage 1 VIBCReg, thesis", kind="fit", tokenizer=dict(ssl="vibcreg", **THESIS)),
    dict(row="stage 2 prior, defaults", kind="prior", tokenizer=dict(ssl="vibcreg")),
    dict(row="sample, defaults", kind="sample", tokenizer=dict(ssl="vibcreg"), n_out=1000),
    dict(row="transform, defaults", kind="transform", tokenizer=dict(ssl="vibcreg"), n_out=5000),
]

# Scaling: time per training epoch and per inference series, and peak memory, as the
# number of series, the length and the channels grow (random sines, VIBCReg defaults).
# The sample rows use a one-layer prior: the memory bound comes from the batching,
# and 100 000 series through the default prior take 20 minutes on one thread.
SMALL_PRIOR = dict(n_layers=1, hidden_dim=32, ff_dim=64, n_iterations=4)
SCALING = (
    [
        dict(row=f"fit n={n}", kind="fit", data=dict(n=n), tokenizer={}, axis="series", x=n)
        for n in (100, 1000, 10_000)
    ]
    + [
        dict(row=f"transform n={n}", kind="transform", data=dict(n=100), n_out=n, axis="series")
        | dict(tokenizer={}, x=n)
        for n in (1000, 10_000, 100_000)
    ]
    + [
        dict(row=f"sample n={n}", kind="sample", data=dict(n=100), n_out=n, axis="series")
        | dict(tokenizer={}, generator=SMALL_PRIOR, x=n)
        for n in (1000, 10_000, 100_000)
    ]
    + [
        dict(row=f"fit length={L}", kind="fit", data=dict(n=128, length=L), axis="length")
        | dict(tokenizer={}, x=L)
        for L in (128, 512, 1024, 2048, 4096)
    ]
    + [
        dict(row=f"fit channels={c}", kind="fit", data=dict(n=128, c=c), axis="channels")
        | dict(tokenizer={}, x=c)
        for c in (1, 4, 16)
    ]
)


# --smoke: one row of each kind on tiny random sines and models, 2 epochs.
_TINY = dict(
    data=dict(n=16, length=64),
    tokenizer={k: v for k, v in _common.smoke_tokenizer_params().items() if k != "max_epochs"},
    generator=SMALL_PRIOR,
)
SMOKE = [
    dict(row="fit, smoke", kind="fit", axis="series", x=16) | _TINY,
    dict(row="prior, smoke", kind="prior") | _TINY,
    dict(row="sample, smoke", kind="sample", n_out=64, axis="series", x=64) | _TINY,
    dict(row="transform, smoke", kind="transform", n_out=64, axis="series", x=64) | _TINY,
]


# -- one measurement, in its own process --------------------------------------------------
def _data(n=50, c=1, length=150, dataset="GunPoint"):
    import numpy as np

    if dataset and (n, c, length) == (50, 1, 150):
        from aeon.datasets import load_classification

        X, y = load_classification(dataset, split="train")
        return X.astype(np.float64), y
    rng = np.random.default_rng(0)
    t = np.linspace(0, 8 * np.pi, length)
    y = rng.integers(0, 2, n)
    freq = np.where(y[:, None, None] == 1, 1.5, 0.7) * rng.uniform(0.8, 1.2, (n, c, 1))
    X = np.sin(t * freq) + 0.1 * rng.normal(size=(n, c, length))
    return X, y.astype(str)


def _count_flops(torch, call) -> float:
    from torch.utils.flop_counter import FlopCounterMode

    counter = FlopCounterMode(display=False)
    torch.backends.mha.set_fastpath_enabled(False)
    try:
        with counter:
            call()
    finally:
        torch.backends.mha.set_fastpath_enabled(True)
    return float(counter.get_total_flops())


def _epoch_seconds(net) -> float:
    import numpy as np

    dur = list(net.history[:, "dur"])
    return float(np.median(dur[1:] if len(dur) > 1 else dur))


def measure(
    config: dict, epochs: int, threads: int, device: str, mixed_precision: str = "no"
) -> dict:
    import resource

    import numpy as np
    import torch

    _common.set_threads(threads)
    from skncvqvae import NCVQVAEGenerator, NCVQVAETokenizer

    X, y = _data(**config.get("data", {}))
    n = len(X)
    tok_params = dict(config["tokenizer"])
    kind = config["kind"]
    row = {"row": config["row"], "series": n, "length": X.shape[-1], "channels": X.shape[1]}
    peak = _common.peak_flops(torch) if device == "cpu" else float("nan")
    precision = None if mixed_precision == "no" else mixed_precision
    if mixed_precision == "bf16" and device == "cpu":
        # the matmul peak in the precision the training rows' matmuls run in
        row["bf16 peak GFLOP/s"] = _common.peak_flops(torch, dtype=torch.bfloat16) / 1e9

    def tokenizer(max_epochs):
        return NCVQVAETokenizer(
            **tok_params,
            max_epochs=max_epochs,
            device=device,
            mixed_precision=precision,
            random_state=0,
        )

    # decoder_steps=0: the prior and sample rows time stage 2 and sampling; the decoder's
    # fine-tuning (1000 steps by default) would otherwise run inside the counted prior fit.
    generator_params = {"decoder_steps": 0, **config.get("generator", {})}

    def generator(max_epochs_stage1, max_epochs):
        return NCVQVAEGenerator(
            tokenizer(max_epochs_stage1),
            **generator_params,
            max_epochs=max_epochs,
            device=device,
            mixed_precision=precision,
            random_state=0,
        )

    if kind == "fit":
        # FLOPs per series do not depend on n: count a one-epoch fit on at most 256.
        flops = _count_flops(torch, lambda: tokenizer(1).fit(X[:256])) / min(n, 256)
        rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        model = tokenizer(epochs).fit(X)
        seconds = _epoch_seconds(model.net_)
        row.update({"s/epoch": seconds, "series/s": n / seconds})
    elif kind == "prior":
        # Stage 2 alone: refit_tokenizer=False keeps a fitted stage 1.
        stage1 = tokenizer(2).fit(X)

        def stage2(max_epochs):
            return NCVQVAEGenerator(
                stage1,
                refit_tokenizer=False,
                **generator_params,
                max_epochs=max_epochs,
                device=device,
                mixed_precision=precision,
                random_state=0,
            )

        flops = _count_flops(torch, lambda: stage2(1).fit(X, y)) / n
        rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        model = stage2(epochs).fit(X, y)
        seconds = _epoch_seconds(model.net_)
        row.update({"s/epoch": seconds, "series/s": n / seconds})
    elif kind == "sample":
        model = generator(2, 2).fit(X, y)
        n_out = config["n_out"]
        flops = _count_flops(torch, lambda: model.sample(min(n_out, 200), random_state=0))
        flops /= min(n_out, 200)
        rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        start = time.perf_counter()
        model.sample(n_out, random_state=0)
        seconds = time.perf_counter() - start
        row.update({"series": n_out, "s": seconds, "series/s": n_out / seconds})
    elif kind == "transform":
        model = tokenizer(2).fit(X)
        n_out = config["n_out"]
        X_big = np.concatenate([X] * -(-n_out // n))[:n_out]
        flops = _count_flops(torch, lambda: model.transform(X_big[:1000])) / min(n_out, 1000)
        model.transform(X_big[:64])  # warm-up
        rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        start = time.perf_counter()
        model.transform(X_big)
        seconds = time.perf_counter() - start
        row.update({"series": n_out, "s": seconds, "series/s": n_out / seconds})
    else:
        raise ValueError(kind)
    peak_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    row["GFLOP/series"] = flops / 1e9
    row["GFLOP/s"] = flops * row["series/s"] / 1e9
    row["peak GFLOP/s"] = peak / 1e9
    row["of peak"] = flops * row["series/s"] / peak
    if "bf16 peak GFLOP/s" in row:
        row["of bf16 peak"] = flops * row["series/s"] / (row["bf16 peak GFLOP/s"] * 1e9)
    row["peak RSS MiB"] = peak_rss / 1024
    row["RSS growth MiB"] = (peak_rss - rss_before) / 1024
    if device.startswith("cuda"):
        row["peak CUDA MiB"] = torch.cuda.max_memory_allocated() / 2**20
    return row


# -- the driver ---------------------------------------------------------------------------
def _run_one(config: dict, args) -> dict:
    return _run_rows([config], args)[0]


def _run_rows(configs: list[dict], args) -> list[dict]:
    """Measure ``configs`` one after the other in one fresh process (normally one config)."""
    cmd = [
        sys.executable,
        __file__,
        "--one",
        json.dumps(configs),
        "--epochs",
        str(args.epochs),
        "--threads",
        str(args.threads),
        "--device",
        args.device,
        "--mixed-precision",
        args.mixed_precision,
    ]
    env = {**os.environ, "OMP_NUM_THREADS": str(args.threads)}
    out = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if out.returncode:
        names = ", ".join(config["row"] for config in configs)
        raise RuntimeError(f"{names} failed:\n{out.stderr[-3000:]}")
    return [json.loads(line) for line in out.stdout.strip().splitlines()[-len(configs) :]]


def _reference_rows(path: str, args) -> list[dict]:
    rows = []
    for ssl in ("none", "barlowtwins", "vibcreg"):
        script = str(Path(__file__).with_name("reference_stage1.py"))
        cmd = [sys.executable, script, "--repo", path, "--ssl", ssl, "--epochs", str(args.epochs)]
        cmd += ["--threads", str(args.threads)]
        env = {**os.environ, "OMP_NUM_THREADS": str(args.threads)}
        out = subprocess.run(cmd, capture_output=True, text=True, env=env, check=True)
        result = json.loads(out.stdout.strip().splitlines()[-1])
        name = {"none": "naive", "barlowtwins": "Barlow Twins", "vibcreg": "VIBCReg"}[ssl]
        seconds = result["median_s_per_epoch"]
        rows.append(
            {
                "row": f"reference stage 1 {name}, thesis",
                "s/epoch": seconds,
                "series/s": 50 / seconds,
            }
        )
    return rows


def _plot_scaling(frame, path: Path) -> None:
    import matplotlib
    import matplotlib.ticker

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(2, 3, figsize=(13, 7), constrained_layout=True)
    panels = [
        ("series", "fit", "s/epoch", "training epoch"),
        ("length", "fit", "s/epoch", "training epoch"),
        ("channels", "fit", "s/epoch", "training epoch"),
    ]
    for col, (axis, kind, metric, label) in enumerate(panels):
        part = frame[(frame["axis"] == axis) & (frame["kind"] == kind)]
        axes[0, col].loglog(part["x"], part[metric], "o-", label=label)
        axes[1, col].semilogx(part["x"], part["peak RSS MiB"], "o-", label=label)
        if axis == "series":
            for other in ("transform", "sample"):
                extra = frame[(frame["axis"] == axis) & (frame["kind"] == other)]
                axes[0, col].loglog(extra["x"], extra["s"], "s--", label=f"{other} (s)")
                axes[1, col].semilogx(extra["x"], extra["peak RSS MiB"], "s--", label=other)
        axes[0, col].set(xlabel=axis, ylabel="seconds", title=f"time vs {axis}")
        axes[1, col].set(xlabel=axis, ylabel="peak RSS (MiB)", title=f"memory vs {axis}")
        for ax in axes[:, col]:
            ax.grid(True, which="both", alpha=0.3)
            ax.legend(fontsize=8)
            ticks = sorted(frame.loc[frame["axis"] == axis, "x"].unique())
            ax.set_xticks(ticks, [f"{t:g}" for t in ticks])
            ax.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
    fig.savefig(path, dpi=110)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--table", choices=["main", "scaling"], default="main")
    parser.add_argument("--rows", nargs="+", help="only the rows whose name contains one of these")
    parser.add_argument("--epochs", type=int, default=6, help="training epochs per row")
    _common.add_threads_argument(parser)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--reference", help="checkout of the thesis's repository: adds its rows")
    parser.add_argument(
        "--mixed-precision",
        choices=["no", "bf16"],
        default="no",
        help="the estimators' mixed_precision (bf16 autocast) for the training rows and "
        "sample (the prior's decoding; the decoder stays float32); transform runs in float32",
    )
    parser.add_argument("--png", default="throughput_scaling.png")
    parser.add_argument(
        "--replot", help="redraw the PNG from the JSON lines a scaling run printed, and stop"
    )
    parser.add_argument("--one", help=argparse.SUPPRESS)
    _common.add_smoke_flag(parser)
    args = parser.parse_args(argv)
    if args.smoke:
        args.epochs, args.png = 2, f"{_common.output_dir()}/throughput_smoke.png"
    if args.one:  # a JSON list of configs, measured in this process, one JSON line each
        for config in json.loads(args.one):
            row = measure(config, args.epochs, args.threads, args.device, args.mixed_precision)
            print(json.dumps(row), flush=True)
        return

    import pandas as pd
    import torch

    if args.replot:
        lines = Path(args.replot).read_text().splitlines()
        frame = pd.DataFrame([json.loads(line) for line in lines if line.startswith("{")])
        _plot_scaling(frame, Path(args.png))
        print(f"wrote {args.png}")
        return
    print(
        f"# {platform.machine()}, {os.cpu_count()} CPUs, {args.threads} torch thread(s), "
        f"device {args.device}, torch {torch.__version__}, {args.epochs} epochs per fit row, "
        f"mixed precision {args.mixed_precision}",
        flush=True,
    )
    configs = SMOKE if args.smoke else MAIN if args.table == "main" else SCALING
    if args.rows:
        configs = [c for c in configs if any(r in c["row"] for r in args.rows)]
    # --smoke: all rows in one fresh process, whose imports take longer than the rows
    measured = _run_rows(configs, args) if args.smoke else (_run_one(c, args) for c in configs)
    rows = []
    for config, row in zip(configs, measured):
        rows.append({**row, **{k: config[k] for k in ("axis", "x", "kind") if k in config}})
        print(json.dumps(rows[-1]), flush=True)
    if args.reference:
        rows += _reference_rows(args.reference, args)
        ours = {r["row"]: r for r in rows}
        for name in ("naive", "Barlow Twins", "VIBCReg"):
            mine = ours.get(f"stage 1 {name}, thesis")
            theirs = ours.get(f"reference stage 1 {name}, thesis")
            if mine and theirs:
                theirs["speed-up of this package"] = theirs["s/epoch"] / mine["s/epoch"]
    frame = pd.DataFrame(rows)
    shown = frame.drop(columns=[c for c in ("axis", "x", "kind") if c in frame], errors="ignore")
    print(shown.to_markdown(index=False, floatfmt=".3g"))
    if args.table == "scaling" or args.smoke:
        _plot_scaling(frame, Path(args.png))
        print(f"wrote {args.png}")


if __name__ == "__main__":
    main()
