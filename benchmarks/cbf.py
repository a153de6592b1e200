"""Write the Cylinder-Bell-Funnel dataset (Saito, 1994) to an ``.npz`` file.

A 3-class synthetic dataset that no default of the package was chosen on, at the
size users bring when they want augmentation: by default 30 training series (10
per class, the UCR archive's CBF split size) and 900 test series of length 128.
Each series is ``(6 + eta) * shape(t) + eps(t)`` with ``eta, eps ~ N(0, 1)`` and
the shape on ``[a, b]``, ``a ~ U[16, 32]``, ``b - a ~ U[32, 96]``: a plateau
(cylinder), a ramp up (bell) or a ramp down (funnel), zero elsewhere::

    python benchmarks/cbf.py /tmp/cbf.npz
    OMP_NUM_THREADS=1 python benchmarks/sampler_grid.py /tmp/cbf.npz --seeds 0 1 2 \\
        --temperatures 1 --guidance-scales 2 --draws 2
    python benchmarks/cbf.py --smoke   # a small file in a temporary folder, loaded back (CI)

Every script that loads datasets with :func:`skncvqvae.evaluation.load_dataset`
takes the file's path as a dataset name.
"""

from __future__ import annotations

import argparse

import _common  # benchmarks/ is the script's folder
import numpy as np

CLASSES = ("cylinder", "bell", "funnel")


def make_cbf(n_per_class: int, length: int = 128, *, rng: np.random.Generator):
    """``(X, y)``: ``X`` of shape ``(3 * n_per_class, 1, length)``, ``y`` the class names."""
    t = np.arange(length, dtype=np.float64)
    X, y = [], []
    for name in CLASSES:
        for _ in range(n_per_class):
            a = rng.uniform(16, 32)
            b = a + rng.uniform(32, 96)
            inside = (t >= a) & (t <= b)
            if name == "cylinder":
                shape = inside.astype(np.float64)
            elif name == "bell":
                shape = inside * (t - a) / (b - a)
            else:
                shape = inside * (b - t) / (b - a)
            X.append((6 + rng.standard_normal()) * shape + rng.standard_normal(length))
            y.append(name)
    order = rng.permutation(len(y))
    return np.stack(X)[order, None, :], np.asarray(y)[order]


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("path", nargs="?", help="the .npz file to write")
    parser.add_argument("--train-per-class", type=int, default=10)
    parser.add_argument("--test-per-class", type=int, default=300)
    parser.add_argument("--length", type=int, default=128)
    parser.add_argument("--seed", type=int, default=0)
    _common.add_smoke_flag(parser)
    args = parser.parse_args(argv)
    if args.smoke:
        args.path = f"{_common.output_dir()}/cbf.npz"
        args.train_per_class, args.test_per_class = 2, 3
    if not args.path:
        parser.error("the following arguments are required: path")
    rng = np.random.default_rng(args.seed)
    X_train, y_train = make_cbf(args.train_per_class, args.length, rng=rng)
    X_test, y_test = make_cbf(args.test_per_class, args.length, rng=rng)
    np.savez(args.path, X_train=X_train, y_train=y_train, X_test=X_test, y_test=y_test)
    print(f"{args.path}: train {X_train.shape}, test {X_test.shape}")
    if args.smoke:  # the arrays that skncvqvae.evaluation.load_dataset reads
        with np.load(args.path, allow_pickle=False) as data:
            assert np.array_equal(data["X_test"], X_test) and np.array_equal(
                data["y_train"], y_train
            )


if __name__ == "__main__":
    main()
