"""Where a generator loses the class: the prior's rows given real low-frequency rows.

Usage::

    OMP_NUM_THREADS=1 python benchmarks/row_oracle.py OSULeaf --seeds 0
    OMP_NUM_THREADS=1 python benchmarks/row_oracle.py OSULeaf --seeds 0 \\
        --param tokenizer__frequency_split=1
    OMP_NUM_THREADS=1 python benchmarks/row_oracle.py --smoke   # seconds: tiny data and models

For each dataset and seed this fits ``NCVQVAEGenerator`` (with the ``--param`` values) on
the train split and scores, with the report's MiniRocket features and classifier (FID /
floor and CAS, as ``sampler_grid.py``; 1000 series each):

- ``samples``: series drawn from scratch (``sample``);
- ``low rows given``: the grids of the training series (each repeated in turn) with the
  lowest ``--rows`` frequency rows kept and every other row drawn by the prior given them
  and the series' class. With ``tokenizer__frequency_split=k`` and ``--rows k`` these are
  the low-frequency stream, and the prior draws the high-frequency stream as it does when
  sampling; for a one-stream tokenizer the same rows are kept and the rest drawn in one
  decoding. A CAS near the reconstructions' says the prior draws the upper rows well and
  loses the class in the low rows; a low one, that it loses it in the upper rows.
- held-out masked accuracy of the prior per part, on the test split's grids (its true
  classes, 4 random masks each): the low rows with half of them masked and every upper
  row hidden, and the upper rows with half of them masked and the low rows given.
"""

from __future__ import annotations

import argparse
import time

import _common  # benchmarks/ is the script's folder
import numpy as np
import torch

from skncvqvae import NCVQVAEGenerator
from skncvqvae.metrics import cas_score, fid_score, make_classifier, make_feature_extractor

N_SAMPLES = 1000


def _accuracy(prior, grids, labels, part, hide, seed: int) -> float:
    """Masked accuracy on half of ``part``'s positions, ``hide`` positions also masked."""
    generator = torch.Generator().manual_seed(seed)
    scores = torch.rand(grids.shape, generator=generator)
    scores = torch.where(part, scores, torch.full_like(scores, 2.0))
    n_mask = max(1, int(part.sum()) // 2)
    target = scores.argsort(dim=1).argsort(dim=1) < n_mask
    inputs = torch.where(target | hide, prior.mask_id, grids)
    with torch.no_grad():
        predicted = prior.logits(inputs, labels).argmax(-1)
    return float((predicted[target] == grids[target]).float().mean())


def run(name: str, seed: int, params: dict, n_rows: int, n_samples: int) -> list[dict]:
    X_train, y_train, X_test, y_test = _common.load(name)
    extractor = make_feature_extractor(X_train, random_state=0)
    classifier = make_classifier(X_train, y_train, random_state=0)
    floor = fid_score(X_test, X_train, feature_extractor=extractor)
    start = time.perf_counter()
    gen = NCVQVAEGenerator(random_state=seed, device="cpu").set_params(**params)
    gen.fit(X_train, y_train)
    fit_s = time.perf_counter() - start
    tokenizer, prior = gen.tokenizer_, gen.net_.module_.eval()
    height, width = tokenizer.token_shape_
    low = torch.arange(height * width) < n_rows * width

    def scores(X_gen, y_gen) -> dict:
        return dict(
            fid=fid_score(X_test, X_gen[: len(X_test)], feature_extractor=extractor) / floor,
            cas=cas_score(X_gen, y_gen, X_test, y_test, classifier=classifier),
        )

    rows = []
    X_gen, y_gen = gen.sample(n_samples, random_state=seed)
    rows.append(dict(dataset=name, seed=seed, what="samples", **scores(X_gen, y_gen)))
    # real low rows of the training series, the rest drawn
    order = np.resize(np.arange(len(X_train)), n_samples)
    grids = torch.as_tensor(tokenizer.encode(X_train).reshape(len(X_train), -1))[order]
    start_grids = torch.where(low, grids, prior.mask_id)
    class_ids = np.searchsorted(gen.classes_, np.asarray(y_train)[order])
    X_given = np.empty((n_samples, *X_train.shape[1:]))
    gen._generate_into(X_given, class_ids, seed, start_tokens=start_grids)
    given = scores(X_given, np.asarray(y_train)[order])
    rows.append(dict(dataset=name, seed=seed, what=f"low {n_rows} rows given", **given))
    # reconstructions of the training series: the decoder's bound on the same scale
    recon = tokenizer.reconstruct(X_train)[order]
    rows.append(
        dict(dataset=name, seed=seed, what="reconstructions", **scores(recon, y_train[order]))
    )
    test_grids = torch.as_tensor(tokenizer.encode(X_test).reshape(len(X_test), -1))
    labels = torch.as_tensor(np.searchsorted(gen.classes_, np.asarray(y_test)))
    none = torch.zeros_like(low)
    acc_low = np.mean([_accuracy(prior, test_grids, labels, low, ~low, s) for s in range(4)])
    acc_up = np.mean([_accuracy(prior, test_grids, labels, ~low, none, s) for s in range(4)])
    print(
        f"{name} seed {seed}: fit {fit_s:.0f} s; grid {height} x {width}; held-out masked "
        f"accuracy, low rows {acc_low:.3f}, upper rows given the low {acc_up:.3f}",
        flush=True,
    )
    for row in rows:
        row.update(acc_low=acc_low, acc_up=acc_up)
        print(f"  {row['what']}: FIDx={row['fid']:.2f} CAS={row['cas']:.3f}", flush=True)
    return rows


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    _common.add_data_arguments(parser, ["OSULeaf"], [0], positional=True)
    parser.add_argument("--rows", type=int, default=1, help="low frequency rows given")
    parser.add_argument("--n-samples", type=int, default=N_SAMPLES, help="series per score")
    _common.add_param_option(parser)
    _common.add_smoke_flag(parser)
    args, params = _common.parse_args(parser, argv, _common.smoke_generator_params())
    if args.smoke:
        args.n_samples = 40
    _common.set_threads(1)
    rows = []
    for name in args.datasets:
        for seed in args.seeds:
            rows.extend(run(name, seed, params, args.rows, args.n_samples))
    import pandas as pd

    table = pd.DataFrame(rows).groupby(["dataset", "what"], sort=False)[
        ["fid", "cas", "acc_low", "acc_up"]
    ]
    _common.print_table(table.mean(), f"Mean over seeds {args.seeds}:")


if __name__ == "__main__":
    main()
