"""Peak memory of ``sample(n)`` and of ``transform`` of one long series.

Usage::

    python benchmarks/memory.py sample 100000   # peak RSS increase against the result's size
    python benchmarks/memory.py long            # one series of length 20 000, batch_size=256
    python benchmarks/memory.py --smoke         # both, in seconds (CI)

A thread polls the process's resident memory every 5 ms during the call.
"""

from __future__ import annotations

import argparse
import os
import threading
import time

import _common  # benchmarks/ is the script's folder
import numpy as np


def rss():  # current RSS in MB
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


class Peak:
    def __enter__(self):
        self.base, self.peak, self.run = rss(), rss(), True

        def poll():
            while self.run:
                self.peak = max(self.peak, rss())
                time.sleep(0.005)

        self.t = threading.Thread(target=poll)
        self.t.start()
        return self

    def __exit__(self, *a):
        self.run = False
        self.t.join()


def sample(n: int, dataset: str = "GunPoint", decoder_steps: int = 1000) -> None:
    from skncvqvae import NCVQVAEGenerator, NCVQVAETokenizer

    X, y, _, _ = _common.load(dataset)
    tok = NCVQVAETokenizer(max_epochs=2, hidden_dim=16, random_state=0, device="cpu")
    small = dict(hidden_dim=32, n_layers=1, ff_dim=32, max_epochs=2)  # sampling's memory only
    gen = NCVQVAEGenerator(tok, **small, decoder_steps=decoder_steps, random_state=0, device="cpu")
    gen.fit(X, y)
    t0 = time.perf_counter()
    with Peak() as p:
        Xn, _ = gen.sample(n, random_state=0)
    print(
        f"sample n={n}: result {Xn.nbytes / 2**20:.0f} MB, peak increase {p.peak - p.base:.0f} MB ({(p.peak - p.base) / (Xn.nbytes / 2**20):.2f}x), {time.perf_counter() - t0:.1f} s"
    )


def long(L: int = 20000) -> None:
    from skncvqvae import NCVQVAETokenizer

    Xl = np.sin(np.linspace(0, 200, L))[None, None] + 0.1 * np.random.default_rng(
        0
    ).standard_normal((4, 1, L))
    tok = NCVQVAETokenizer(
        max_epochs=1, hidden_dim=16, batch_size=256, random_state=0, device="cpu"
    ).fit(Xl)
    t0 = time.perf_counter()
    with Peak() as p:
        tok.transform(Xl[:1])
    print(
        f"transform of one length-{L} series at batch_size=256: {time.perf_counter() - t0:.2f} s, peak increase {p.peak - p.base:.0f} MB"
    )


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("what", nargs="?", choices=["sample", "long"], default="sample")
    parser.add_argument("n", nargs="?", type=int, default=100_000, help="series to sample")
    _common.add_smoke_flag(parser)
    args = parser.parse_args(argv)
    _common.set_threads(1)
    if args.smoke:
        sample(200, _common.SMOKE_DATASET, decoder_steps=2)
        long(2000)
    elif args.what == "sample":
        sample(args.n)
    else:
        long()


if __name__ == "__main__":
    main()
