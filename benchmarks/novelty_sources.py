"""Where do copies come from: the decoder or the prior? Novelty of reconstructions and samples.

Usage::

    OMP_NUM_THREADS=1 python benchmarks/novelty_sources.py GunPoint ArrowHead --seeds 0 1 2
    OMP_NUM_THREADS=1 python benchmarks/novelty_sources.py --smoke   # seconds: tiny models

For each dataset and seed, fits ``NCVQVAEGenerator(random_state=seed,
decoder_steps=0)`` (stage 1 and the prior, no decoder fine-tuning), then fine-tunes
the decoder of a copy for the default ``decoder_steps``
(``tokenizer_.fine_tune_decoder``, as ``fit`` does): the same tokens and the same
prior, so the two rows differ by the decoder's fine-tuning alone. The test split is
cut in two halves, A and B. For each decoder the script scores, with
``closer_to_train_share`` (share nearer the train split than to as many series of
half B; about 0.5 = new) and ``dcr_ratio`` (median distance to the nearest training
series over half B's; about 1 = new):

- ``real A``: half A itself, the floor of fresh real data;
- ``recon A``: half A encoded and decoded, series the model never saw. A decoder
  that pulls every grid towards its training series scores near 1 here, whatever
  the prior does;
- ``samples``: ``--n-samples`` series drawn by ``sample`` at the default settings;

and the FID ratio (MiniRocket, over FID(train, test)) and CAS of the samples.
"""

from __future__ import annotations

import argparse
import copy
import time

import _common  # benchmarks/ is the script's folder
import numpy as np

from skncvqvae import NCVQVAEGenerator
from skncvqvae.metrics import (
    cas_score,
    closer_to_train_share,
    dcr_ratio,
    fid_score,
    make_classifier,
    make_feature_extractor,
)


def _novelty(X, X_train, X_b, seed) -> tuple[float, float]:
    return closer_to_train_share(X, X_train, X_b, random_state=seed), dcr_ratio(X, X_train, X_b)


def run(name: str, seed: int, params: dict, n_samples: int) -> list[dict]:
    X_train, y_train, X_test, y_test = _common.load(name)
    order = np.random.default_rng(seed).permutation(len(X_test))
    half_a, half_b = order[: len(order) // 2], order[len(order) // 2 :]
    X_a, X_b = X_test[half_a], X_test[half_b]
    extractor = make_feature_extractor(X_train, random_state=0)
    classifier = make_classifier(X_train, y_train, random_state=0)
    floor = fid_score(X_test, X_train, feature_extractor=extractor)
    start = time.perf_counter()
    plain = NCVQVAEGenerator(random_state=seed, device="cpu")
    plain.set_params(**{**params, "decoder_steps": 0}).fit(X_train, y_train)
    fit_s = time.perf_counter() - start
    steps = params.get("decoder_steps", NCVQVAEGenerator().decoder_steps)
    tuned = copy.deepcopy(plain).set_params(decoder_steps=steps)
    tuned.tokenizer_.fine_tune_decoder(X_train, n_steps=steps, random_state=seed)
    rows = []
    real = _novelty(X_a, X_train, X_b, seed)
    for label, gen in (("none", plain), (f"{tuned.decoder_steps} steps", tuned)):
        recon = gen.tokenizer_.reconstruct(X_a)
        X_gen, y_gen = gen.sample(n_samples, random_state=0)
        row = dict(dataset=name, seed=seed, fine_tuning=label)
        row["real A closer"], row["real A dcr"] = real
        row["recon A closer"], row["recon A dcr"] = _novelty(recon, X_train, X_b, seed)
        row["samples closer"], row["samples dcr"] = _novelty(X_gen, X_train, X_b, seed)
        row["fid"] = fid_score(X_test, X_gen[: len(X_test)], feature_extractor=extractor) / floor
        row["cas"] = cas_score(X_gen, y_gen, X_test, y_test, classifier=classifier)
        rows.append(row)
        print(
            f"{name} seed {seed} fine-tuning {label}: "
            + " ".join(f"{k}={v:.3f}" for k, v in row.items() if isinstance(v, float))
            + f" (fit of stage 1 and prior {fit_s:.0f} s)",
            flush=True,
        )
    return rows


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    _common.add_data_arguments(parser, ["GunPoint"], [0], positional=True)
    parser.add_argument("--n-samples", type=int, default=1000, help="series drawn per model")
    _common.add_param_option(parser)
    _common.add_smoke_flag(parser)
    args, params = _common.parse_args(parser, argv, _common.smoke_generator_params())
    if args.smoke:
        args.n_samples = 40
    _common.set_threads(1)
    rows = [
        row
        for name in args.datasets
        for seed in args.seeds
        for row in run(name, seed, params, args.n_samples)
    ]
    import pandas as pd

    table = pd.DataFrame(rows).drop(columns="seed").groupby(["dataset", "fine_tuning"]).mean()
    _common.print_table(table, f"Mean over seeds {args.seeds}:")


if __name__ == "__main__":
    main()
