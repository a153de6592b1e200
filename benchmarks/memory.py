"""Peak memory of ``sample(n)`` and of ``transform`` of one long series.

Usage::

    python benchmarks/memory.py sample 100000   # peak RSS increase against the result's size
    python benchmarks/memory.py long            # one series of length 20 000, batch_size=256

A thread polls the process's resident memory every 5 ms during the call.
"""

import os
import sys
import threading
import time

import numpy as np
import torch
from aeon.datasets import load_gunpoint

from skncvqvae import NCVQVAEGenerator, NCVQVAETokenizer

torch.set_num_threads(1)


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


what = sys.argv[1]
X, y = load_gunpoint(split="train")
if what == "sample":
    n = int(sys.argv[2])
    tok = NCVQVAETokenizer(max_epochs=2, hidden_dim=16, random_state=0, device="cpu")
    gen = NCVQVAEGenerator(
        tok, hidden_dim=32, n_layers=1, ff_dim=32, max_epochs=2, random_state=0, device="cpu"
    ).fit(X, y)
    t0 = time.perf_counter()
    with Peak() as p:
        Xn, _ = gen.sample(n, random_state=0)
    print(
        f"sample n={n}: result {Xn.nbytes / 2**20:.0f} MB, peak increase {p.peak - p.base:.0f} MB ({(p.peak - p.base) / (Xn.nbytes / 2**20):.2f}x), {time.perf_counter() - t0:.1f} s"
    )
else:
    L = 20000
    Xl = np.sin(np.linspace(0, 200, L))[None, None] + 0.1 * np.random.default_rng(
        0
    ).standard_normal((4, 1, L))
    tok = NCVQVAETokenizer(
        max_epochs=1, hidden_dim=16, batch_size=256, random_state=0, device="cpu"
    ).fit(Xl)
    t0 = time.perf_counter()
    with Peak() as p:
        f = tok.transform(Xl[:1])
    print(
        f"transform of one length-{L} series at batch_size=256: {time.perf_counter() - t0:.2f} s, peak increase {p.peak - p.base:.0f} MB"
    )
