"""Command line: ``skncvqvae report --dataset GunPoint``."""

from __future__ import annotations

import argparse
import ast
import sys
from pathlib import Path

from . import evaluation
from ._base import prefer_numba_workqueue
from .nn import AUGMENTATIONS

__all__ = ["main"]


def key_value(text: str) -> tuple[str, object]:
    """``"KEY=VALUE"`` as ``(key, value)``, the value a Python literal where it parses as one
    (the type of ``--tokenizer-param``, ``--generator-param`` and the benchmarks' parameters)."""
    key, sep, value = text.partition("=")
    if not sep or not key:
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE, got {text!r}")
    try:
        return key, ast.literal_eval(value)
    except (ValueError, SyntaxError):
        return key, value


def _epochs(text: str):
    if text == "auto":
        return text
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an int or 'auto', got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"epochs must be >= 1, got {value}")
    return value


def build_parser() -> argparse.ArgumentParser:
    defaults = evaluation.ReportConfig()
    parser = argparse.ArgumentParser(prog="skncvqvae", description="NC-VQVAE for time series.")
    commands = parser.add_subparsers(dest="command", required=True)
    report = commands.add_parser(
        "report",
        help="train naive TimeVQVAE and NC-VQVAE variants on a dataset and compare them",
        description=(
            "Fit naive TimeVQVAE, Barlow Twins and VIBCReg NC-VQVAE (stages 1 and 2) on the "
            "train split; report linear-probe accuracy (SVM, KNN), FID, IS and CAS on the test "
            "split, fit and sampling time; write the table (CSV, Markdown) and figures."
        ),
    )
    report.add_argument(
        "--dataset",
        default=defaults.dataset,
        help="aeon dataset name (GunPoint, ArrowHead, ItalyPowerDemand, BasicMotions, "
        "UnitTest, ACSF1 and OSULeaf are bundled and work offline), an .npz file with "
        "X_train, y_train, X_test, y_test, or a DIR/NAME prefix of NAME_TRAIN.ts and "
        "NAME_TEST.ts files",
    )
    report.add_argument(
        "--variants",
        nargs="+",
        default=list(defaults.variants),
        choices=sorted(evaluation.VARIANTS),
    )
    report.add_argument("--seeds", nargs="+", type=int, default=list(defaults.seeds))
    report.add_argument(
        "--max-epochs",
        nargs="+",
        type=_epochs,
        metavar=("STAGE1", "STAGE2"),
        default=[defaults.max_epochs_stage1, defaults.max_epochs_stage2],
        help="training epochs of stage 1 and stage 2, an int or 'auto' (the estimators' "
        "defaults, a budget that adapts to the dataset size); one value sets both; the "
        "thesis used 1000 for stage 1",
    )
    report.add_argument(
        "--augmentations",
        nargs="+",
        choices=sorted(AUGMENTATIONS),
        default=None,
        help="augmentations of the SSL variants (default: the tokenizer's default)",
    )
    report.add_argument(
        "--n-cas-samples",
        type=int,
        default=defaults.n_cas_samples,
        help="generated series the CAS classifier trains on",
    )
    report.add_argument("--device", default=defaults.device, help='"auto", "cpu", "cuda", ...')
    report.add_argument("--output", type=Path, default=defaults.output, help="output folder")
    report.add_argument(
        "--tokenizer-param",
        type=key_value,
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="extra NCVQVAETokenizer parameter (repeatable)",
    )
    report.add_argument(
        "--generator-param",
        type=key_value,
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="extra NCVQVAEGenerator parameter (repeatable)",
    )
    report.add_argument(
        "--n-jobs",
        type=int,
        default=defaults.n_jobs,
        help="worker processes for the (variant, seed) runs, -1 for one per CPU; by "
        "default one per run up to twice the CPU count on a CPU, 1 on a GPU",
    )
    report.add_argument("--quiet", action="store_true", help="no progress output")
    return parser


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    # MiniRocket (numba) and the fits share a process when the runs are sequential
    prefer_numba_workqueue()
    if len(args.max_epochs) > 2:
        print("--max-epochs takes one or two values", file=sys.stderr)
        return 2
    stage1, stage2 = (args.max_epochs * 2)[:2]
    config = evaluation.ReportConfig(
        dataset=args.dataset,
        variants=tuple(args.variants),
        seeds=tuple(args.seeds),
        max_epochs_stage1=stage1,
        max_epochs_stage2=stage2,
        augmentations=None if args.augmentations is None else tuple(args.augmentations),
        n_cas_samples=args.n_cas_samples,
        device=args.device,
        output=args.output,
        tokenizer_params=dict(args.tokenizer_param),
        generator_params=dict(args.generator_param),
        n_jobs=args.n_jobs,
        verbose=0 if args.quiet else 1,
    )
    try:
        evaluation.run_report(config)
    except ValueError as exc:
        print(f"skncvqvae report: error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
