"""Training and sampling throughput, and peak memory, on random data.

Each configuration runs in a fresh subprocess (so that its peak resident
memory is its own) with ``--threads`` torch threads. Stage-1 throughput is
samples per second of one training epoch (median over epochs after the first,
from skorch's per-epoch ``dur``); stage-2 sampling throughput is generated
series per second, decoding to data space included.

Usage::

    python benchmarks/throughput.py                 # the default grid
    python benchmarks/throughput.py --grid length   # 128 ... 4096 time points
    python benchmarks/throughput.py --grid cases    # 100 ... 10 000 series
    python benchmarks/throughput.py --grid channels # 1 ... 16 channels
    python benchmarks/throughput.py --device cuda   # on a GPU
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys

GRIDS = {
    "default": [dict(n=50, c=1, length=150, ssl=s) for s in (None, "barlowtwins", "vibcreg")],
    "length": [dict(n=128, c=1, length=L, ssl="barlowtwins") for L in (128, 512, 1024, 2048, 4096)],
    "cases": [dict(n=n, c=1, length=150, ssl="barlowtwins") for n in (100, 1000, 10000)],
    "channels": [dict(n=128, c=c, length=150, ssl="barlowtwins") for c in (1, 4, 16)],
}


def measure(
    n: int, c: int, length: int, ssl, epochs: int, device: str, threads: int, sample: bool
) -> dict:
    import resource
    import time

    import numpy as np
    import torch

    torch.set_num_threads(threads)
    from skncvqvae import NCVQVAEGenerator, NCVQVAETokenizer

    rng = np.random.default_rng(0)
    t = np.linspace(0, 8 * np.pi, length)
    X = np.sin(t[None, None, :] * rng.uniform(0.5, 2, (n, c, 1))) + 0.1 * rng.normal(
        size=(n, c, length)
    )
    y = rng.integers(0, 2, n)
    tok = NCVQVAETokenizer(ssl=ssl, max_epochs=epochs, device=device, random_state=0)
    row = dict(n=n, channels=c, length=length, ssl=str(ssl))
    if sample:
        gen = NCVQVAEGenerator(tok, max_epochs=epochs, device=device, random_state=0).fit(X, y)
        tok = gen.tokenizer_
        n_new = 1000
        start = time.perf_counter()
        gen.sample(n_new)
        row["sample/s"] = n_new / (time.perf_counter() - start)
        prior_dur = gen.net_.history[:, "dur"]
        row["prior samples/s"] = n / float(np.median(prior_dur[1:] or prior_dur))
    else:
        tok.fit(X)
    dur = tok.net_.history[:, "dur"]
    row["train samples/s"] = n / float(np.median(dur[1:] or dur))
    start = time.perf_counter()
    tok.transform(X)
    row["transform samples/s"] = n / (time.perf_counter() - start)
    row["peak RSS MiB"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    if device.startswith("cuda"):
        row["peak CUDA MiB"] = torch.cuda.max_memory_allocated() / 2**20
    return row


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--grid", choices=sorted(GRIDS), default="default")
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--sample", action="store_true", help="also fit a prior and time sampling")
    parser.add_argument("--one", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.one:
        config = json.loads(args.one)
        print(
            json.dumps(
                measure(
                    **config,
                    epochs=args.epochs,
                    device=args.device,
                    threads=args.threads,
                    sample=args.sample,
                )
            )
        )
        return

    import pandas as pd
    import torch

    print(
        f"# {platform.machine()} {platform.processor()}, {os.cpu_count()} CPUs, "
        f"{args.threads} torch threads, device {args.device}, torch {torch.__version__}, "
        f"{args.epochs} epochs per configuration"
    )
    rows = []
    for config in GRIDS[args.grid]:
        cmd = [
            sys.executable,
            __file__,
            "--one",
            json.dumps(config),
            "--epochs",
            str(args.epochs),
            "--threads",
            str(args.threads),
            "--device",
            args.device,
        ]
        if args.sample:
            cmd.append("--sample")
        out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
        rows.append(json.loads(out.strip().splitlines()[-1]))
        print(rows[-1], flush=True)
    print(pd.DataFrame(rows).round(1).to_markdown(index=False))


if __name__ == "__main__":
    main()
