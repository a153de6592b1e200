"""Tests for skncvqvae.evaluation (report, datasets) and the ``skncvqvae report`` command line."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from skncvqvae import cli, evaluation
from skncvqvae.evaluation import BUNDLED, ReportConfig, load_dataset, run_report
from skncvqvae.evaluation import _report as report
from skncvqvae.evaluation._report import COLUMNS

from _helpers import TINY_MODEL, TINY_PRIOR

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
VARIANTS = ("naive", "barlowtwins", "vibcreg")
TINY_ARGS = [
    "--tokenizer-param",
    "hidden_dim=8",
    "--tokenizer-param",
    "codebook_dim=8",
    "--tokenizer-param",
    "n_resnet_blocks=0",
    "--tokenizer-param",
    "projector_dim=16",
    "--generator-param",
    "hidden_dim=32",
    "--generator-param",
    "n_layers=1",
    "--generator-param",
    "decoder_steps=2",
]
TINY_TOKENIZER = TINY_MODEL


def _png_files(variants):
    names = [f"reconstructions_{v}.png" for v in variants] + [f"samples_{v}.png" for v in variants]
    return names + [
        "training_curves_stage1.png",
        "training_curves_stage2.png",
        "codebook_usage.png",
        "embeddings.png",
    ]


def _check_png(path: Path) -> None:
    import matplotlib.image

    assert path.is_file(), path
    assert path.read_bytes()[:8] == PNG_SIGNATURE, path
    image = matplotlib.image.imread(path)
    assert image.ndim == 3 and image.shape[2] in (3, 4), path
    assert image.shape[0] >= 100 and image.shape[1] >= 100, (path, image.shape)
    assert np.ptp(image[..., :3]) > 0, f"{path} is a blank image"


def _write_npz(path: Path, n_train=16, n_test=12, n_channels=1, length=32, seed=0):
    rng = np.random.default_rng(seed)
    t = np.arange(length)

    def make(n):
        y = np.array(["up", "down"] * (n // 2))
        sign = np.where(y == "up", 1.0, -1.0)[:, None, None]
        X = sign * np.sin(2 * np.pi * t / 8)[None, None] + 0.3 * rng.standard_normal(
            (n, n_channels, length)
        )
        return X, y

    X_train, y_train = make(n_train)
    X_test, y_test = make(n_test)
    np.savez(path, X_train=X_train, y_train=y_train, X_test=X_test, y_test=y_test)
    return X_train, y_train, X_test, y_test


# -- the full command --------------------------------------------------------------
@pytest.fixture(scope="module")
def cli_report(tmp_path_factory):
    """``skncvqvae report`` on UnitTest with tiny models: (return code, output folder, stdout, stderr)."""
    import contextlib
    import io

    from _helpers import one_torch_thread

    output = tmp_path_factory.mktemp("report")
    out, err = io.StringIO(), io.StringIO()
    with one_torch_thread(), contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = cli.main(
            [
                "report",
                "--dataset",
                "UnitTest",
                "--max-epochs",
                "2",
                "--seeds",
                "0",
                "--output",
                str(output),
                "--n-cas-samples",
                "40",
                *TINY_ARGS,
                "--quiet",
            ]
        )
    return code, output, out.getvalue(), err.getvalue()


def test_cli_report_returns_zero_and_is_quiet(cli_report):
    code, _, stdout, stderr = cli_report
    assert code == 0, stderr
    assert stdout == ""


def test_cli_report_writes_every_file(cli_report):
    _, output, _, _ = cli_report
    expected = {"results.csv", "results.md", "results_per_seed.csv", *_png_files(VARIANTS)}
    written = {p.name for p in output.iterdir()}
    assert expected <= written, sorted(expected - written)
    for name in _png_files(VARIANTS):
        _check_png(output / name)


def test_cli_report_results_table(cli_report):
    _, output, _, _ = cli_report
    table = pd.read_csv(output / "results.csv", index_col=0)
    assert list(table.columns) == COLUMNS
    assert list(table.columns[:5]) == ["SVM acc", "KNN acc", "FID", "IS", "CAS"]
    assert list(table.columns[5:]) == [
        *("closer to train", "DCR ratio", "copied grids"),
        *("fit s", "sample s"),
    ]
    assert list(table.index) == [*VARIANTS, "real data (raw series)"]
    models = table.loc[list(VARIANTS)]
    assert models.notna().all().all()
    for column in ("SVM acc", "KNN acc", "CAS", "closer to train", "copied grids"):
        assert models[column].between(0, 1).all(), column
    assert (models["FID"] >= 0).all() and (models["DCR ratio"] >= 0).all()
    assert (models["IS"] >= 1 - 1e-6).all()
    assert (models[["fit s", "sample s"]] >= 0).all().all()
    real = table.loc["real data (raw series)"]
    assert np.isfinite(real[["FID", "IS", "CAS"]].astype(float)).all()
    assert 0 <= real["CAS"] <= 1
    # the raw-series probe: what the tokenizer's features are compared with
    assert real[["SVM acc", "KNN acc"]].astype(float).between(0, 1).all()
    assert real[["fit s", "sample s", "closer to train", "DCR ratio", "copied grids"]].isna().all()


def test_cli_report_per_seed_and_markdown(cli_report):
    _, output, _, _ = cli_report
    per_seed = pd.read_csv(output / "results_per_seed.csv")
    assert {"model", "seed", *COLUMNS} <= set(per_seed.columns)
    assert per_seed["model"].tolist() == [*VARIANTS, "real data (raw series)"]
    assert per_seed["seed"].iloc[:3].tolist() == [0, 0, 0]
    markdown = (output / "results.md").read_text()
    assert markdown.startswith("# UnitTest")
    assert "Stage-1 epochs 2, stage-2 epochs 2" in markdown
    assert "CAS trains on 40 generated series" in markdown
    rows = [line for line in markdown.splitlines() if line.startswith("|")]
    header = [cell.strip() for cell in rows[0].strip("|").split("|")]
    assert header == ["model", *COLUMNS]
    assert [row.strip("|").split("|")[0].strip() for row in rows[2:]] == [
        *VARIANTS,
        "real data (raw series)",
    ]


def test_run_report_npz_two_seeds_with_progress(tmp_path, capsys):
    """One variant, two seeds, an .npz dataset, progress printed (verbose=1)."""
    from _helpers import one_torch_thread

    data_path = tmp_path / "toy.npz"
    _write_npz(data_path)
    config = ReportConfig(
        dataset=str(data_path),
        variants=("naive",),
        seeds=(0, 1),
        max_epochs_stage1=2,
        max_epochs_stage2=2,
        n_cas_samples=12,
        device="cpu",
        output=tmp_path / "out",
        tokenizer_params=TINY_TOKENIZER,
        generator_params={**TINY_PRIOR, "decoder_steps": 2},
        n_jobs=2,
        verbose=1,
    )
    with one_torch_thread():
        table = run_report(config)
    stdout = capsys.readouterr().out
    assert "[1/2] naive, seed 0" in stdout and "[2/2] naive, seed 1" in stdout
    assert "in 2 processes, 1 torch thread(s) each" in stdout
    assert "train (16, 1, 32), test (12, 1, 32), 2 classes" in stdout
    assert list(table.columns) == COLUMNS
    assert list(table.index) == ["naive", "real data (raw series)"]
    assert "±" in table.loc["naive", "fit s"]  # mean ± std over the two seeds
    per_seed = pd.read_csv(tmp_path / "out" / "results_per_seed.csv")
    assert per_seed["model"].tolist() == ["naive", "naive", "real data (raw series)"]
    assert per_seed["seed"].iloc[:2].tolist() == [0, 1]
    written = {p.name for p in (tmp_path / "out").iterdir()}
    assert {"reconstructions_naive.png", "samples_naive.png"} <= written
    assert not any("barlowtwins" in name or "vibcreg" in name for name in written)
    _check_png(tmp_path / "out" / "samples_naive.png")


def test_run_report_parallel_equals_serial(tmp_path):
    """Worker processes (1 torch thread each) give the serial 1-thread results."""
    from _helpers import one_torch_thread

    data_path = tmp_path / "toy.npz"
    _write_npz(data_path)
    tables = []
    for n_jobs in (1, 2):
        config = ReportConfig(
            dataset=str(data_path),
            variants=("naive", "vibcreg"),
            max_epochs_stage1=2,
            max_epochs_stage2=2,
            n_cas_samples=12,
            device="cpu",
            output=tmp_path / f"out{n_jobs}",
            tokenizer_params=TINY_TOKENIZER,
            generator_params={**TINY_PRIOR, "decoder_steps": 2},
            n_jobs=n_jobs,
            verbose=0,
        )
        with one_torch_thread():
            run_report(config)
        per_seed = pd.read_csv(config.output / "results_per_seed.csv")
        tables.append(per_seed.drop(columns=["fit s", "sample s"]))
    pd.testing.assert_frame_equal(tables[0], tables[1])


@pytest.mark.parametrize("n_jobs", [0, -2])
def test_run_report_rejects_bad_n_jobs(tmp_path, n_jobs):
    data_path = tmp_path / "toy.npz"
    _write_npz(data_path)
    config = ReportConfig(dataset=str(data_path), output=tmp_path / "out", n_jobs=n_jobs)
    with pytest.raises(ValueError, match="n_jobs must be -1 or a positive int"):
        run_report(config)


# -- errors ------------------------------------------------------------------------------
@pytest.fixture
def no_network(monkeypatch):
    """Make aeon's downloader fail as it does offline."""
    import aeon.datasets

    def offline(*args, **kwargs):
        raise ConnectionError("no network")

    monkeypatch.setattr(aeon.datasets, "load_classification", offline)


def test_unknown_dataset_cli_returns_2(no_network, tmp_path, capsys):
    output = tmp_path / "out"
    code = cli.main(["report", "--dataset", "NoSuchDataset123", "--output", str(output), "--quiet"])
    assert code == 2
    captured = capsys.readouterr()
    assert "NoSuchDataset123" in captured.err
    assert "error" in captured.err
    assert not output.exists()  # nothing half-done


def test_unknown_dataset_run_report_raises(no_network, tmp_path):
    with pytest.raises(ValueError, match="NoSuchDataset123.*no network"):
        run_report(ReportConfig(dataset="NoSuchDataset123", output=tmp_path / "out", verbose=0))


def test_unknown_variant_raises(tmp_path):
    with pytest.raises(ValueError, match="bogus"):
        run_report(
            ReportConfig(
                dataset="UnitTest", variants=("naive", "bogus"), output=tmp_path, verbose=0
            )
        )


def test_cli_rejects_unknown_variant(capsys):
    with pytest.raises(SystemExit) as info:
        cli.main(["report", "--variants", "bogus"])
    assert info.value.code == 2
    assert "bogus" in capsys.readouterr().err


def test_cli_needs_a_command(capsys):
    with pytest.raises(SystemExit) as info:
        cli.main([])
    assert info.value.code == 2


def test_cli_bad_key_value(capsys):
    with pytest.raises(SystemExit) as info:
        cli.main(["report", "--tokenizer-param", "hidden_dim"])
    assert info.value.code == 2
    assert "KEY=VALUE" in capsys.readouterr().err


# -- datasets ---------------------------------------------------------------------------
def test_load_npz(tmp_path):
    path = tmp_path / "data.npz"
    expected = _write_npz(path, n_train=10, n_test=6, n_channels=2, length=20)
    loaded = load_dataset(str(path))
    assert len(loaded) == 4
    X_train, y_train, X_test, y_test = loaded
    assert X_train.shape == (10, 2, 20) and X_test.shape == (6, 2, 20)
    assert y_train.shape == (10,) and y_test.shape == (6,)
    for got, want in zip(loaded, expected):
        np.testing.assert_array_equal(got, want)
    assert set(y_train) == {"up", "down"}


def test_load_npz_missing_array(tmp_path):
    path = tmp_path / "bad.npz"
    np.savez(path, X_train=np.zeros((2, 1, 8)), y_train=np.array([0, 1]))
    with pytest.raises(ValueError, match="X_test"):
        load_dataset(str(path))


def test_load_npz_missing_file(tmp_path):
    with pytest.raises(ValueError, match="No such file"):
        load_dataset(str(tmp_path / "absent.npz"))


def test_load_ts_prefix(tmp_path):
    header = (
        "@problemName Toy\n@timeStamps false\n@missing false\n@univariate true\n"
        "@equalLength true\n@seriesLength 5\n@classLabel true a b\n@data\n"
    )
    (tmp_path / "Toy_TRAIN.ts").write_text(header + "1,2,3,4,5:a\n5,4,3,2,1:b\n0,0,1,0,0:a\n")
    (tmp_path / "Toy_TEST.ts").write_text(header + "1,1,1,1,1:b\n2,2,2,2,2:a\n")
    X_train, y_train, X_test, y_test = load_dataset(str(tmp_path / "Toy"))
    assert X_train.shape == (3, 1, 5) and X_test.shape == (2, 1, 5)
    assert list(y_train) == ["a", "b", "a"] and list(y_test) == ["b", "a"]
    np.testing.assert_array_equal(X_train[1, 0], [5, 4, 3, 2, 1])


def test_load_bundled():
    assert "UnitTest" in BUNDLED and "GunPoint" in BUNDLED
    X_train, y_train, X_test, y_test = load_dataset("UnitTest")
    assert X_train.shape == (20, 1, 24) and X_test.shape == (22, 1, 24)
    assert len(y_train) == 20 and len(y_test) == 22


def test_load_bundled_through_aeons_data_folder():
    """Names without a loader of their own come from aeon's data folder, offline."""
    X_train, y_train, X_test, y_test = load_dataset("ACSF1")
    assert X_train.shape == (100, 1, 1460) and X_test.shape == (100, 1, 1460)
    assert len(set(y_train)) == 10
    X_train, *_ = load_dataset("JapaneseVowels")  # unequal lengths: a list of arrays
    assert len(X_train) == 270 and {x.shape[0] for x in X_train} == {12}
    assert len({x.shape[1] for x in X_train}) > 1


def test_npz_through_the_cli_plumbing(tmp_path, monkeypatch):
    path = tmp_path / "data.npz"
    _write_npz(path)
    configs = []
    monkeypatch.setattr(evaluation, "run_report", lambda config: configs.append(config))
    assert cli.main(["report", "--dataset", str(path), "--quiet"]) == 0
    assert load_dataset(configs[0].dataset)[0].shape == (16, 1, 32)


# -- argument plumbing -----------------------------------------------------------------------
@pytest.fixture
def captured_config(monkeypatch):
    """Replace run_report by a stub that records the ReportConfig main builds."""
    configs = []

    def fake_run_report(config):
        configs.append(config)
        return None

    monkeypatch.setattr(evaluation, "run_report", fake_run_report)
    return configs


def test_max_epochs_two_values(captured_config):
    assert cli.main(["report", "--variants", "naive", "--max-epochs", "2", "3"]) == 0
    (config,) = captured_config
    assert isinstance(config, ReportConfig)
    assert config.variants == ("naive",)
    assert config.max_epochs_stage1 == 2
    assert config.max_epochs_stage2 == 3


def test_max_epochs_one_value_sets_both(captured_config):
    assert cli.main(["report", "--max-epochs", "5"]) == 0
    assert (captured_config[0].max_epochs_stage1, captured_config[0].max_epochs_stage2) == (5, 5)


def test_max_epochs_three_values_rejected(captured_config, capsys):
    assert cli.main(["report", "--max-epochs", "1", "2", "3"]) == 2
    assert captured_config == []
    assert "--max-epochs" in capsys.readouterr().err


def test_defaults(captured_config):
    assert cli.main(["report"]) == 0
    config, defaults = captured_config[0], ReportConfig()
    assert config.dataset == "GunPoint"
    assert config.variants == defaults.variants == VARIANTS
    assert config.seeds == defaults.seeds
    assert config.max_epochs_stage1 == defaults.max_epochs_stage1
    assert config.max_epochs_stage2 == defaults.max_epochs_stage2
    assert config.augmentations is None
    assert config.n_cas_samples == defaults.n_cas_samples
    assert config.device == "auto"
    assert Path(config.output) == defaults.output
    assert config.tokenizer_params == {} and config.generator_params == {}
    assert config.verbose == 1


def test_all_options(captured_config, tmp_path):
    argv = [
        "report",
        "--dataset",
        "ArrowHead",
        "--variants",
        "barlowtwins",
        "vibcreg",
        "--seeds",
        "3",
        "4",
        "--augmentations",
        "gaussian_noise",
        "window_warp",
        "--n-cas-samples",
        "77",
        "--device",
        "cpu",
        "--output",
        str(tmp_path / "o"),
        "--tokenizer-param",
        "hidden_dim=8",
        "--tokenizer-param",
        "ssl_weight=0.5",
        "--tokenizer-param",
        "augmentations=('flip',)",
        "--tokenizer-param",
        "device=cuda:1",
        "--generator-param",
        "prior_input=tokens",
        "--generator-param",
        "guidance_scale=2",
        "--quiet",
    ]
    assert cli.main(argv) == 0
    config = captured_config[0]
    assert config.dataset == "ArrowHead"
    assert config.variants == ("barlowtwins", "vibcreg")
    assert config.seeds == (3, 4)
    assert config.augmentations == ("gaussian_noise", "window_warp")
    assert config.n_cas_samples == 77
    assert config.device == "cpu"
    assert Path(config.output) == tmp_path / "o"
    assert config.tokenizer_params == {
        "hidden_dim": 8,
        "ssl_weight": 0.5,
        "augmentations": ("flip",),
        "device": "cuda:1",
    }
    assert config.generator_params == {"prior_input": "tokens", "guidance_scale": 2}
    assert config.verbose == 0


def test_build_parser_parse_args():
    args = cli.build_parser().parse_args(
        ["report", "--variants", "naive", "--max-epochs", "2", "3"]
    )
    assert args.command == "report"
    assert args.variants == ["naive"]
    assert args.max_epochs == [2, 3]
    assert args.quiet is False


def test_run_report_value_error_becomes_exit_code_2(monkeypatch, capsys):
    def failing(config):
        raise ValueError("something specific went wrong")

    monkeypatch.setattr(evaluation, "run_report", failing)
    assert cli.main(["report", "--quiet"]) == 2
    assert "something specific went wrong" in capsys.readouterr().err


def test_tokenizer_params_reach_the_models(monkeypatch, tmp_path):
    """_fit_variant builds the tokenizer and generator from the config."""
    seen = {}

    def fake_fit(self, X, y=None):
        seen["generator"] = self
        raise RuntimeError("stop")

    monkeypatch.setattr(report.NCVQVAEGenerator, "fit", fake_fit)
    config = ReportConfig(
        max_epochs_stage1=4,
        max_epochs_stage2=6,
        augmentations=("gaussian_noise",),
        device="cpu",
        tokenizer_params={"hidden_dim": 8},
        generator_params={"n_layers": 1},
        verbose=0,
    )
    with pytest.raises(RuntimeError, match="stop"):
        report._fit_variant(config, "vibcreg", 7, np.zeros((4, 1, 16)), np.array([0, 1, 0, 1]))
    gen = seen["generator"]
    assert (
        gen.max_epochs == 6 and gen.n_layers == 1 and gen.random_state == 7 and gen.device == "cpu"
    )
    tok = gen.tokenizer
    assert tok.ssl == "vibcreg" and tok.max_epochs == 4 and tok.hidden_dim == 8
    assert tuple(tok.augmentations) == ("gaussian_noise",)
    assert tok.random_state == 7 and tok.device == "cpu"
    with pytest.raises(RuntimeError, match="stop"):
        report._fit_variant(config, "naive", 7, np.zeros((4, 1, 16)), np.array([0, 1, 0, 1]))
    assert seen["generator"].tokenizer.ssl is None
