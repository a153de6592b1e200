"""Shared command-line code of the benchmark scripts; not a benchmark itself.

Every script in ``benchmarks/`` runs as ``python benchmarks/NAME.py`` (so this
folder is on ``sys.path``) and imports what it shares from here:

- arguments: :func:`add_data_arguments` (datasets and seeds),
  :func:`add_threads_argument`, :func:`add_param_option` (``--param KEY=VALUE``),
  :func:`add_parameter_sets_option` (``--FLAG KEY=VALUE,KEY=VALUE``, repeatable),
  :func:`add_run_options` (``--n-jobs``, ``--csv``) and :func:`add_smoke_flag`;
- the ``--smoke`` mode: :data:`SMOKE_DATASET`, the tiny model settings
  (:func:`smoke_tokenizer_params`, :func:`smoke_generator_params`),
  :func:`smoke_setup` and :func:`output_dir` (a temporary folder that is
  removed at exit);
- set-up and output: :func:`set_threads`, :func:`load`, :func:`environment`,
  :func:`print_table`;
- measurement helpers that several scripts use: :func:`peak_flops`,
  :func:`znorm`, :func:`last_weights_twin`.

Only the package's public API is used, here and in the scripts.
"""

from __future__ import annotations

import argparse
import atexit
import os
import platform
import shutil
import tempfile

from skncvqvae.cli import key_value

#: The dataset of ``--smoke`` runs: aeon's bundled UnitTest (20 training series of
#: length 24, 2 classes, 22 test series).
SMOKE_DATASET = "UnitTest"
#: The datasets the defaults were chosen on.
DEV_DATASETS = ["GunPoint", "ArrowHead", "ItalyPowerDemand", "BasicMotions"]

# Tiny models for --smoke: one or two epochs and steps, a few thousand weights.
_SMOKE_TOKENIZER = dict(
    hidden_dim=8,
    codebook_dim=8,
    codebook_size=8,
    n_resnet_blocks=1,
    projector_dim=16,
    max_epochs=1,
)
_SMOKE_PRIOR = dict(
    hidden_dim=16, ff_dim=16, n_layers=1, max_epochs=2, decoder_steps=2, n_iterations=2
)


# -- arguments ---------------------------------------------------------------------
def parameter_set(text: str) -> dict:
    """``"KEY=VALUE,KEY=VALUE"`` as a dict of parameters (``""``: no parameters)."""
    return dict(key_value(item) for item in text.split(",") if item)


def add_param_option(parser: argparse.ArgumentParser, what: str = "generator") -> None:
    """``--param KEY=VALUE`` (repeatable): estimator parameters, as a list of pairs."""
    hint = " (tokenizer__key=value for stage 1)" if what == "generator" else ""
    parser.add_argument(
        "--param",
        type=key_value,
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help=f"{what} parameter{hint}; repeatable",
    )


def add_parameter_sets_option(parser: argparse.ArgumentParser, flag: str, help: str) -> None:
    """``--FLAG KEY=VALUE[,KEY=VALUE...]`` (repeatable): a list of parameter dicts."""
    parser.add_argument(
        flag,
        type=parameter_set,
        action="append",
        default=[],
        metavar="KEY=VALUE[,KEY=VALUE...]",
        help=f"{help} (repeatable)",
    )


def add_last_weights_option(parser: argparse.ArgumentParser, help: str) -> None:
    """``--last-weights``: also use the fitted prior's last weights (see :func:`last_weights_twin`)."""
    parser.add_argument(
        "--last-weights",
        action="store_true",
        help=f"{help} the fitted prior's last training step's weights instead of their "
        "average (ema_decay)",
    )


def add_data_arguments(
    parser: argparse.ArgumentParser,
    datasets=None,
    seeds=(0, 1, 2),
    *,
    positional: bool = False,
) -> None:
    """``--datasets`` (or the positional ``datasets``) and ``--seeds``."""
    datasets = list(DEV_DATASETS if datasets is None else datasets)
    help_text = "aeon dataset names, .npz files or DIR/NAME prefixes of .ts files"
    if positional:
        parser.add_argument("datasets", nargs="*", default=datasets, help=help_text)
    else:
        parser.add_argument("--datasets", nargs="+", default=datasets, help=help_text)
    parser.add_argument("--seeds", nargs="+", type=int, default=list(seeds))


def add_threads_argument(parser: argparse.ArgumentParser, default: int = 1) -> None:
    parser.add_argument("--threads", type=int, default=default, help="torch threads")


def add_run_options(parser: argparse.ArgumentParser, n_jobs: int = 2) -> None:
    """``--n-jobs`` (worker processes, one torch thread each), ``--csv`` and ``--smoke``."""
    parser.add_argument("--n-jobs", type=int, default=n_jobs)
    parser.add_argument("--csv", default=None, help="also write per-run rows to this CSV")
    add_smoke_flag(parser)


def add_smoke_flag(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--smoke",
        action="store_true",
        help="a seconds-long run on tiny data and models (CI): checks that the script "
        "runs, its numbers mean nothing",
    )


# -- the smoke mode ----------------------------------------------------------------
def smoke_tokenizer_params() -> dict:
    """``NCVQVAETokenizer`` parameters of a tiny, one-epoch model."""
    return dict(_SMOKE_TOKENIZER)


def smoke_generator_params() -> dict:
    """``NCVQVAEGenerator`` parameters (``tokenizer__*`` included) of a tiny, short fit."""
    nested = {f"tokenizer__{key}": value for key, value in _SMOKE_TOKENIZER.items()}
    return {**nested, **_SMOKE_PRIOR}


def smoke_setup(
    args: argparse.Namespace, params: dict, smoke_params: dict, name: str = "rows"
) -> dict:
    """Make ``args`` a smoke run: one seed of :data:`SMOKE_DATASET`, in this process, any
    CSV in :func:`output_dir`; returns ``params`` over the tiny ``smoke_params``."""
    args.datasets, args.seeds = [SMOKE_DATASET], [0]
    if "n_jobs" in args:
        args.n_jobs = 1
    if "csv" in args:
        args.csv = f"{output_dir()}/{name}.csv"
    return {**smoke_params, **params}


def parse_args(parser: argparse.ArgumentParser, argv, smoke_params: dict, name: str = "rows"):
    """``(args, params)``: the parsed command line and its ``--param`` dict, made a smoke
    run (:func:`smoke_setup`) under ``--smoke``."""
    args = parser.parse_args(argv)
    params = dict(args.param)
    if args.smoke:
        params = smoke_setup(args, params, smoke_params, name)
    return args, params


_output_dir: str | None = None


def output_dir() -> str:
    """A temporary folder for the files of a smoke run, removed when the process exits."""
    global _output_dir
    if _output_dir is None:
        _output_dir = tempfile.mkdtemp(prefix="skncvqvae-benchmark-")
        atexit.register(shutil.rmtree, _output_dir, ignore_errors=True)
    return _output_dir


# -- set-up and output ---------------------------------------------------------------
def set_threads(threads: int | None = 1) -> int:
    """Run torch with ``threads`` threads (``None``: leave its default); returns the count."""
    import torch

    if threads is not None:
        torch.set_num_threads(threads)
    return torch.get_num_threads()


def load(name: str):
    """``(X_train, y_train, X_test, y_test)`` of a dataset (``skncvqvae.evaluation.load_dataset``)."""
    from skncvqvae.evaluation import load_dataset

    return load_dataset(name)


def environment(**details) -> str:
    """A ``# machine, CPUs, versions; details`` line that heads a benchmark's output."""
    import sklearn
    import torch

    extra = "".join(f"; {key} {value}" for key, value in details.items())
    return (
        f"# {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, torch "
        f"{torch.__version__}, {torch.get_num_threads()} torch thread(s), scikit-learn "
        f"{sklearn.__version__}{extra}"
    )


def print_table(frame, title: str | None = None, digits: int | None = 3, **markdown) -> None:
    """Print a pandas frame as a Markdown table, under ``title`` when given."""
    if title:
        print(f"\n{title}")
    print((frame if digits is None else frame.round(digits)).to_markdown(**markdown), flush=True)


# -- measurement helpers --------------------------------------------------------------
def peak_flops(torch, repeats: int = 15, dtype=None) -> float:
    """FLOP/s of a ``1024 x 1024 @ 1024 x 1024`` matmul: the median of ``repeats`` timings."""
    import time

    a, b = torch.randn(1024, 1024, dtype=dtype), torch.randn(1024, 1024, dtype=dtype)
    for _ in range(3):
        a @ b
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        a @ b
        times.append(time.perf_counter() - start)
    times.sort()
    return 2 * 1024**3 / times[len(times) // 2]


def znorm(X):
    """Each series (and channel) of ``X (..., n_timepoints)`` to mean 0 and std 1."""
    return (X - X.mean(-1, keepdims=True)) / (X.std(-1, keepdims=True) + 1e-8)


def last_weights_twin(gen):
    """An unfitted generator whose ``fit`` gives the fitted ``gen`` with its prior's last weights.

    ``gen`` samples from the average of its prior's weights (``ema_decay``). The
    average never feeds back into training, so fitting a prior again on the same
    fitted tokenizer (``refit_tokenizer=False``, decoder already fine-tuned:
    ``decoder_steps=0``) with the same ``random_state`` and ``ema_decay=None``
    trains the same prior and keeps its last training step's weights. Its
    ``sample``, ``fit_resample`` and ``sample_variations`` then draw exactly what
    ``gen``'s would draw from those weights. The package has no public way to
    read the last weights of a fitted prior, so this costs one more prior fit.
    """
    from sklearn.base import clone

    return clone(gen).set_params(
        tokenizer=gen.tokenizer_,
        refit_tokenizer=False,
        decoder_steps=0,
        ema_decay=None,
        warm_start=False,
    )
