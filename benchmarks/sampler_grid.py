"""Sampler settings of fitted generators: FID ratio, IS, CAS and novelty per temperature and guidance.

Usage::

    OMP_NUM_THREADS=1 python benchmarks/sampler_grid.py BasicMotions
    OMP_NUM_THREADS=1 python benchmarks/sampler_grid.py GunPoint ArrowHead \\
        --seeds 0 1 2 --temperatures 1 --guidance-scales 1 2 --draws 2
    OMP_NUM_THREADS=1 python benchmarks/sampler_grid.py BasicMotions --temperatures 1 \
        --guidance-scales 2 --param tokenizer__downsampled_width=16
    OMP_NUM_THREADS=1 python benchmarks/sampler_grid.py GunPoint --temperatures 1 \
        --guidance-scales 2 --prior batch_size=16
    OMP_NUM_THREADS=1 python benchmarks/sampler_grid.py GunPoint --seeds 0 --temperatures 1 \
        --guidance-scales 2 --draws 2 --last-weights
    OMP_NUM_THREADS=1 python benchmarks/sampler_grid.py GunPoint --temperatures 1 \
        --guidance-scales 2 --token-temperatures 1 1.5 2 --prior dropout=0.3
    OMP_NUM_THREADS=1 python benchmarks/sampler_grid.py --smoke   # seconds: tiny data and models

For each dataset and seed, fits ``NCVQVAEGenerator(random_state=seed)`` at the package
defaults (changed by ``--param``) on the train split, then, without refitting, samples
``--n-samples`` (1000) series ``--draws`` times (``random_state`` 0, 1, ...) for each
``choice_temperature`` x ``guidance_scale`` x ``temperature`` (``--token-temperatures``)
and scores them as the report does: MiniRocket features and classifier fitted on real
train data, FID of the first ``len(test)`` samples as a multiple of FID(train, test),
IS of the same samples, CAS of all of them, and their novelty (``closer``: share nearer
the train split than the test split, ``dcr``: DCR ratio, ``copied``: share of token
grids identical to a training grid; ``skncvqvae.metrics``). A row is the mean over the draws (CAS of one
generator moves by several points from draw to draw); the summary averages the rows
over seeds. Each ``--prior`` option trains one more prior on every fitted tokenizer,
with the given generator parameters changed, and scores it the same way (rows
``prior`` = the option's text; the generator fitted end to end is ``fitted``).
``--last-weights`` also scores the fitted generator with its prior's last training
step's weights in place of their average (``ema_decay``), row ``last weights``:
the same training, with and without the average (that prior is trained once
more with ``ema_decay=None``, see ``_common.last_weights_twin``).
"""

from __future__ import annotations

import argparse
import itertools
import time

import _common  # benchmarks/ is the script's folder
import numpy as np
from sklearn.base import clone

from skncvqvae import NCVQVAEGenerator
from skncvqvae.metrics import (
    cas_score,
    closer_to_train_share,
    copied_token_share,
    dcr_ratio,
    fid_score,
    inception_score,
    make_classifier,
    make_feature_extractor,
)

#: Series drawn per sampler setting and draw (``--n-samples``).
N_SAMPLES = 1000
#: The generator's default ``temperature`` (``--token-temperatures``).
TEMPERATURE = NCVQVAEGenerator().temperature


def _scores(gen, data, draw: int) -> tuple:
    """FID ratio, IS, CAS, novelty (closer, DCR ratio, copied grids) and seconds of one draw."""
    X_train, X_test, y_test, extractor, classifier, floor, n_samples = data
    start = time.perf_counter()
    X_gen, y_gen = gen.sample(n_samples, random_state=draw)
    sample_s = time.perf_counter() - start
    head = X_gen[: len(X_test)]
    tokens = gen.tokenizer_.encode(X_gen)
    return (
        fid_score(X_test, head, feature_extractor=extractor) / floor,
        inception_score(head, classifier),
        cas_score(X_gen, y_gen, X_test, y_test, classifier=classifier),
        closer_to_train_share(X_gen, X_train, X_test, random_state=draw),
        dcr_ratio(X_gen, X_train, X_test),
        copied_token_share(tokens, gen.tokenizer_.encode(X_train)),
        sample_s,
    )


def score(gen, data, temperatures, scales, draws: int, label: dict, tokens) -> list[dict]:
    """Rows of FID ratio, IS, CAS and novelty of ``gen`` per sampler setting, means over draws."""
    rows, default = [], gen.temperature
    for temperature, scale, token in itertools.product(temperatures, scales, tokens):
        gen.set_params(choice_temperature=temperature, guidance_scale=scale, temperature=token)
        scores = [_scores(gen, data, draw) for draw in range(draws)]
        fid, inception, cas, closer, dcr, copied, sample_s = np.mean(scores, axis=0)
        rows.append(
            dict(**label, T=temperature, g=scale, tau=token, fid=fid, IS=inception, cas=cas)
            | dict(closer=closer, dcr=dcr, copied=copied)
        )
        print(
            f"  {label['prior']}: T={temperature:g} g={scale:g} tau={token:g}: FIDx={fid:.2f} "
            f"IS={inception:.3f} CAS={cas:.3f} closer={closer:.3f} DCR={dcr:.3f} "
            f"copied={copied:.3f} (CAS draws {[round(s[2], 3) for s in scores]}; "
            f"{sample_s:.1f} s per {data[-1]})",
            flush=True,
        )
    gen.set_params(temperature=default)
    return rows


def _report_fit(name, seed, what, gen, fit_s) -> None:
    print(
        f"{name} seed {seed}{what}: fit {fit_s:.0f} s; prior {len(gen.history_)} epochs, "
        f"masked accuracy {gen.history_[-1]['masked_accuracy']:.3f}",
        flush=True,
    )


def run(
    name: str,
    seed: int,
    temperatures,
    scales,
    draws: int,
    params=None,
    priors=(),
    last_weights: bool = False,
    n_samples: int = N_SAMPLES,
    tokens=(TEMPERATURE,),
) -> list[dict]:
    """Fit a generator on ``name``'s train split and score it.

    Each entry of ``priors`` (a dict of generator parameters) also trains a
    prior again on the same fitted tokenizer (``refit_tokenizer=False``) with
    those parameters changed, scored the same way: prior settings compared
    without the tokenizer's seed-to-seed spread.
    """
    X_train, y_train, X_test, y_test = _common.load(name)
    extractor = make_feature_extractor(X_train, random_state=0)
    classifier = make_classifier(X_train, y_train, random_state=0)
    floor = fid_score(X_test, X_train, feature_extractor=extractor)
    data = (X_train, X_test, y_test, extractor, classifier, floor, n_samples)
    start = time.perf_counter()
    gen = NCVQVAEGenerator(random_state=seed, device="cpu").set_params(**(params or {}))
    gen.fit(X_train, y_train)
    _report_fit(name, seed, "", gen, time.perf_counter() - start)
    label = dict(dataset=name, seed=seed)
    grid = (temperatures, scales, draws)
    rows = score(gen, data, *grid, {**label, "prior": "fitted"}, tokens)
    if last_weights:
        start = time.perf_counter()
        last = _common.last_weights_twin(gen).fit(X_train, y_train)
        _report_fit(name, seed, " prior, last weights", last, time.perf_counter() - start)
        rows.extend(score(last, data, *grid, {**label, "prior": "last weights"}, tokens))
    for prior in priors:
        text = ",".join(f"{k}={v}" for k, v in prior.items())
        refit = clone(gen).set_params(tokenizer=gen.tokenizer_, refit_tokenizer=False, **prior)
        start = time.perf_counter()
        refit.fit(X_train, y_train)
        _report_fit(name, seed, f" prior {text}", refit, time.perf_counter() - start)
        rows.extend(score(refit, data, *grid, {**label, "prior": text}, tokens))
    return rows


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    _common.add_data_arguments(parser, ["GunPoint"], [0], positional=True)
    parser.add_argument("--temperatures", nargs="+", type=float, default=[1.0, 2.0, 4.0])
    parser.add_argument("--guidance-scales", nargs="+", type=float, default=[1.0, 2.0])
    parser.add_argument(
        "--token-temperatures",
        nargs="+",
        type=float,
        default=[TEMPERATURE],
        help="values of the generator's temperature",
    )
    parser.add_argument("--draws", type=int, default=1)
    parser.add_argument("--n-samples", type=int, default=N_SAMPLES, help="series per draw")
    _common.add_param_option(parser)
    _common.add_parameter_sets_option(
        parser,
        "--prior",
        "also train a prior again on each fitted tokenizer with these generator parameters "
        "(one prior per option)",
    )
    _common.add_last_weights_option(parser, "also score each fitted generator with")
    _common.add_smoke_flag(parser)
    args, params = _common.parse_args(parser, argv, _common.smoke_generator_params())
    if args.smoke:  # every row kind once
        args.n_samples, args.temperatures, args.guidance_scales = 40, [1.0], [1.0, 2.0]
        args.prior = args.prior or [{"batch_size": 16}]
        args.last_weights = True
    _common.set_threads(1)
    rows = []
    for name in args.datasets:
        for seed in args.seeds:
            rows.extend(
                run(
                    name,
                    seed,
                    args.temperatures,
                    args.guidance_scales,
                    args.draws,
                    params,
                    args.prior,
                    args.last_weights,
                    args.n_samples,
                    args.token_temperatures,
                )
            )
    import pandas as pd

    table = (
        pd.DataFrame(rows)
        .groupby(["dataset", "prior", "T", "g", "tau"], sort=False)[
            ["fid", "IS", "cas", "closer", "dcr", "copied"]
        ]
        .mean()
    )
    _common.print_table(table, f"Mean over seeds {args.seeds}:")


if __name__ == "__main__":
    main()
