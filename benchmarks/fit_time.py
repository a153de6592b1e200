"""Wall time of a default generator fit, the figure issue 8's time target is about.

Times ``NCVQVAEGenerator(random_state=SEED, **params).fit`` on a dataset's train split
with ``torch.set_num_threads(THREADS)``, each stage as the sum of its skorch epoch
durations, and the rest (the decoder's fine-tuning, ``decoder_steps``, and encoding). Run it on an otherwise idle machine.

Usage::

    python benchmarks/fit_time.py --threads 2
    python benchmarks/fit_time.py --threads 1 --param quality=high
    python benchmarks/fit_time.py --smoke     # seconds: tiny data and models (CI)
"""

from __future__ import annotations

import argparse
import time

import _common  # benchmarks/ is the script's folder


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default="GunPoint")
    _common.add_threads_argument(parser)
    parser.add_argument("--seed", type=int, default=0)
    _common.add_param_option(parser)
    _common.add_smoke_flag(parser)
    args = parser.parse_args(argv)
    params = dict(args.param)
    if args.smoke:
        args.dataset = _common.SMOKE_DATASET
        params = {**_common.smoke_generator_params(), **params}

    from skncvqvae import NCVQVAEGenerator

    _common.set_threads(args.threads)
    X, y, _, _ = _common.load(args.dataset)
    gen = NCVQVAEGenerator(random_state=args.seed, device="cpu").set_params(**params)
    start = time.perf_counter()
    gen.fit(X, y)
    total = time.perf_counter() - start
    stage1 = sum(row["dur"] for row in gen.tokenizer_.net_.history)
    stage2 = sum(row["dur"] for row in gen.net_.history)
    print(
        f"{args.dataset}, {args.threads} thread(s), params {params}: fit {total:.1f} s; "
        f"stage 1 {stage1:.1f} s ({len(gen.tokenizer_.history_)} epochs, "
        f"{gen.tokenizer_.n_steps_} steps), prior {stage2:.1f} s ({len(gen.history_)} epochs, "
        f"{gen.n_steps_} steps), the rest (decoder fine-tuning, {len(gen.decoder_loss_)} "
        f"steps, and encoding) {total - stage1 - stage2:.1f} s"
    )


if __name__ == "__main__":
    main()
