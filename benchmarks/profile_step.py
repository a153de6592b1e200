"""Profile one training step of a module: time, FLOPs, fraction of peak, top kernels.

The modules are trained directly (no skorch, no data loading), on GunPoint's 50
z-normalised training series, with fused AdamW as the estimators use it, so that
the numbers are those of the arithmetic. Used to decide the speed changes in
``docs/benchmarks.md``::

    python benchmarks/profile_step.py --config thesis --profile   # stage 1, thesis settings
    python benchmarks/profile_step.py --config defaults           # stage 1, package defaults
    python benchmarks/profile_step.py --config prior --profile    # stage 2, package defaults
    python benchmarks/profile_step.py --smoke     # stage 1 and 2 defaults, one step each (CI)
"""

from __future__ import annotations

import argparse
import statistics
import time

import _common  # benchmarks/ is the script's folder
import torch

CONFIGS = {
    "thesis": dict(
        ssl="vibcreg",
        n_resnet_blocks=4,
        projector_dim=4096,
        augmentations=("window_warp", "amplitude_resize"),
    ),
    "defaults": dict(ssl="vibcreg", n_resnet_blocks=2, projector_dim=1024),
}


def _step_function(config: str):
    from aeon.datasets import load_classification

    from skncvqvae.nn import MaskGITPrior, NCVQVAEModule

    torch.manual_seed(0)
    if config == "prior":
        module = MaskGITPrior(45, torch.randn(32, 64), 2, hidden_dim=128, ff_dim=256)
        tokens = torch.randint(0, 32, (32, 45))
        labels = torch.randint(0, 2, (32,))
        generator = torch.Generator().manual_seed(0)

        def forward():
            return module(tokens, labels, generator)

    else:
        X, _ = load_classification("GunPoint", split="train")
        X = (X - X.mean(axis=-1, keepdims=True)) / X.std(axis=-1, keepdims=True)
        # the thesis's batch of 128 holds all 50 series; the defaults' batch is 32
        x = torch.tensor(X if config == "thesis" else X[:32], dtype=torch.float32)
        module = NCVQVAEModule(1, 150, **CONFIGS[config])

        def forward():
            return module(x)

    optimizer = torch.optim.AdamW(module.parameters(), lr=1e-3, weight_decay=1e-3, fused=True)

    def step():
        loss = forward().loss
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()

    return step


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", choices=["thesis", "defaults", "prior"], default="thesis")
    _common.add_threads_argument(parser)
    parser.add_argument("--steps", type=int, default=7)
    parser.add_argument("--profile", action="store_true", help="print torch.profiler's top kernels")
    _common.add_smoke_flag(parser)
    args = parser.parse_args(argv)
    _common.set_threads(args.threads)
    if args.smoke:  # the thesis's config differs from the defaults in its settings only
        args.steps, args.profile, warm_up = 1, True, 0
        configs = ["defaults", "prior"]
    else:
        warm_up, configs = 2, [args.config]
    peak = _common.peak_flops(torch, repeats=3 if args.smoke else 15)
    for config in configs:
        profile_config(config, args.steps, warm_up, args.profile, peak)


def profile_config(config: str, steps: int, warm_up: int, profile: bool, peak: float) -> None:
    """Time ``steps`` training steps of ``config`` after ``warm_up``, count their FLOPs,
    and print torch.profiler's top kernels of ``warm_up`` more steps (at least one)."""
    step = _step_function(config)
    for _ in range(warm_up):
        step()
    times = []
    for _ in range(steps):
        start = time.perf_counter()
        step()
        times.append(time.perf_counter() - start)
    seconds = statistics.median(times)

    from torch.utils.flop_counter import FlopCounterMode

    counter = FlopCounterMode(display=False)
    with counter:
        step()
    flops = counter.get_total_flops()
    print(
        f"{config}: {seconds:.3f} s per step (median of {steps}), "
        f"{flops / 1e9:.1f} GFLOP per step, {flops / seconds / 1e9:.1f} GFLOP/s, "
        f"{flops / seconds / peak:.2f} of the {peak / 1e9:.0f} GFLOP/s matmul peak"
    )
    by_op = counter.get_flop_counts()["Global"]
    for op, count in sorted(by_op.items(), key=lambda item: -item[1]):
        print(f"  {op}: {count / 1e9:.2f} GFLOP")
    if profile:
        from torch.profiler import ProfilerActivity, profile

        with profile(activities=[ProfilerActivity.CPU]) as prof:
            for _ in range(max(1, warm_up)):
                step()
        print(prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=20))


if __name__ == "__main__":
    main()
