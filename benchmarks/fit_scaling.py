"""Time per stage of the default generator fit, for 50-1000 series and lengths 128-1500.

A default fit of 1000 series of 1500 points takes hours on two cores, so this script does
not run the default budgets. For each size it fits ``NCVQVAEGenerator(random_state=SEED)``
at the package defaults except for short budgets, measures the seconds per optimisation
step of each stage from that fit, and multiplies them by the steps the ``"auto"`` budgets
give at that size:

- **stage 1**: the median skorch epoch duration after the first epoch, over the steps per
  epoch, times the tokenizer's ``"auto"`` steps inside the generator;
- **prior**: the same for the MaskGIT prior and its ``"auto"`` steps;
- **decoder**: the time of ``fine_tune_decoder`` in that fit over its steps, times the
  default ``decoder_steps``;
- **encode**: the timed encoding of the training set, counted once.

The estimate is checked against a full default fit at the GunPoint size (``--check``:
minutes). Data are Cylinder-Bell-Funnel series (``benchmarks/cbf.py``) of the given
length (the time does not depend on the values). Run it on an
otherwise idle machine.

Usage::

    python benchmarks/fit_scaling.py --threads 2
    python benchmarks/fit_scaling.py --threads 2 --series 50 --lengths 150 --check
    python benchmarks/fit_scaling.py --smoke     # seconds: tiny data and models (CI)
"""

from __future__ import annotations

import argparse
import math
import time

import _common  # benchmarks/ is the script's folder
import numpy as np
from cbf import make_cbf

SEED = 0
#: Short budgets of the measuring fit: at least this many optimisation steps per stage.
MEASURE_STEPS = dict(stage1=40, prior=60, decoder=30)


def _data(n_series: int, length: int):
    """``n_series`` Cylinder-Bell-Funnel series of ``length`` points and their classes."""
    X, y = make_cbf(math.ceil(n_series / 3), length, rng=np.random.default_rng(SEED))
    return X[:n_series], y[:n_series]


def _steps(n_fit: int, batch_size: int, budget) -> int:
    """Optimisation steps of an ``"auto"`` budget on ``n_fit`` series."""
    from skncvqvae._base import auto_epochs

    return auto_epochs(n_fit, batch_size, budget) * math.ceil(n_fit / batch_size)


def _per_step(history, steps_per_epoch: int) -> float:
    """Median seconds per step over the epochs after the first (the first carries warm-up)."""
    durations = [row["dur"] for row in history]
    return float(np.median(durations[1:] if len(durations) > 1 else durations)) / steps_per_epoch


def measure(n_series: int, length: int, params: dict, measure_steps: dict) -> dict:
    """Seconds per step of each stage at this size, and the default budgets' estimate."""
    from skncvqvae import NCVQVAEGenerator, NCVQVAETokenizer

    X, y = _data(n_series, length)
    default = NCVQVAEGenerator(random_state=SEED, device="cpu").set_params(**params)
    batch = default.batch_size
    tokenizer_batch = (default.tokenizer or default._default_tokenizer()).batch_size
    per_epoch = math.ceil(n_series / batch)
    tokenizer_per_epoch = math.ceil(n_series / tokenizer_batch)
    budgets = dict(
        stage1=_steps(n_series, tokenizer_batch, default._stage1_budget()),
        prior=_steps(n_series, batch, default._auto_budget),
        decoder=default.decoder_steps,
    )
    short = dict(
        tokenizer__max_epochs=max(3, math.ceil(measure_steps["stage1"] / tokenizer_per_epoch)),
        max_epochs=max(3, math.ceil(measure_steps["prior"] / per_epoch)),
        decoder_steps=measure_steps["decoder"],
    )
    gen = NCVQVAEGenerator(random_state=SEED, device="cpu").set_params(**{**params, **short})
    decoder_s = []
    fine_tune = NCVQVAETokenizer.fine_tune_decoder

    def timed(self, *args, **kwargs):
        start = time.perf_counter()
        try:
            return fine_tune(self, *args, **kwargs)
        finally:
            decoder_s.append(time.perf_counter() - start)

    NCVQVAETokenizer.fine_tune_decoder = timed
    try:
        gen.fit(X, y)
    finally:
        NCVQVAETokenizer.fine_tune_decoder = fine_tune
    start = time.perf_counter()
    gen.tokenizer_.encode(X)
    encode = time.perf_counter() - start
    decoder_s = sum(decoder_s)
    per_step = dict(
        stage1=_per_step(gen.tokenizer_.net_.history, tokenizer_per_epoch),
        prior=_per_step(gen.net_.history, per_epoch),
        decoder=decoder_s / max(short["decoder_steps"], 1),
    )
    seconds = {stage: per_step[stage] * budgets[stage] for stage in budgets}
    return dict(
        series=n_series,
        length=length,
        grid="x".join(str(v) for v in gen.tokenizer_.token_shape_),
        **{f"{stage} steps": budgets[stage] for stage in budgets},
        **{f"{stage} ms/step": 1000 * per_step[stage] for stage in per_step},
        **{f"{stage} s": seconds[stage] for stage in seconds},
        **{"encode s": encode, "total s": sum(seconds.values()) + encode},
    )


def check(n_series: int, length: int, params: dict) -> float:
    """Seconds of one full default fit at this size (the estimate's check)."""
    from skncvqvae import NCVQVAEGenerator

    X, y = _data(n_series, length)
    gen = NCVQVAEGenerator(random_state=SEED, device="cpu").set_params(**params)
    start = time.perf_counter()
    gen.fit(X, y)
    return time.perf_counter() - start


def main(argv=None) -> None:
    import pandas as pd

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--series", nargs="+", type=int, default=[50, 200, 1000])
    parser.add_argument("--lengths", nargs="+", type=int, default=[128, 512, 1500])
    parser.add_argument(
        "--check", action="store_true", help="also fit each size at the default budgets"
    )
    _common.add_threads_argument(parser, default=2)
    _common.add_param_option(parser)
    _common.add_smoke_flag(parser)
    args = parser.parse_args(argv)
    params = dict(args.param)
    measure_steps = MEASURE_STEPS
    if args.smoke:
        args.series, args.lengths = [12], [32]
        params = {**_common.smoke_generator_params(), **params}
        params.pop("max_epochs", None)
        params.pop("decoder_steps", None)
        measure_steps = dict(stage1=2, prior=2, decoder=2)
    threads = _common.set_threads(args.threads)
    print(_common.environment(threads=threads, params=params), flush=True)
    rows = []
    for n_series in args.series:
        for length in args.lengths:
            row = measure(n_series, length, params, measure_steps)
            if args.check:
                row["full fit s"] = check(n_series, length, params)
            print(row, flush=True)
            rows.append(row)
    frame = pd.DataFrame(rows).set_index(["series", "length"])
    _common.print_table(frame, "estimated default fit time per stage", digits=1)


if __name__ == "__main__":
    main()
