"""Tests for skncvqvae.evaluation._plotting."""

from __future__ import annotations

import matplotlib.image
import numpy as np
import pytest
from matplotlib.figure import Figure
from threadpoolctl import threadpool_limits

from skncvqvae.evaluation import (
    plot_codebook_usage,
    plot_embeddings,
    plot_reconstructions,
    plot_samples_by_class,
    plot_training_curves,
    save_figure,
)

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.fixture
def rng():
    return np.random.default_rng(0)


@pytest.mark.parametrize(
    ("n_channels", "n_series", "expected_rows", "expected_cols"),
    [(1, 4, 1, 4), (3, 2, 3, 2), (6, 10, 4, 6)],
)
def test_plot_reconstructions_grid(rng, n_channels, n_series, expected_rows, expected_cols):
    X = rng.normal(size=(6, n_channels, 32))
    fig = plot_reconstructions(X, X + 0.1, n_series=n_series, title="recon")
    assert isinstance(fig, Figure)
    assert len(fig.axes) == expected_rows * expected_cols
    assert len(fig.axes[0].get_lines()) == 2
    assert fig.axes[0].get_lines()[1].get_linestyle() == "--"
    assert ("first 4 of 6 channels" in fig.get_suptitle()) == (n_channels > 4)


def test_plot_reconstructions_accepts_2d_and_checks_shapes(rng):
    X = rng.normal(size=(3, 20))
    assert len(plot_reconstructions(X, X).axes) == 3
    with pytest.raises(ValueError, match="X_hat has shape"):
        plot_reconstructions(X, X[:, :10])


def test_plot_samples_by_class_string_labels(rng):
    X_real = rng.normal(size=(12, 1, 24))
    y_real = np.array(["a", "b", "c"] * 4)
    X_gen = rng.normal(size=(9, 1, 24))
    y_gen = ["a", "b", "c"] * 3
    fig = plot_samples_by_class(X_real, y_real, X_gen, y_gen, n_per_class=2)
    assert len(fig.axes) == 3 * 2
    left, right = fig.axes[0], fig.axes[1]
    assert len(left.get_lines()) == 2
    assert left.get_ylim() == right.get_ylim()
    assert "channel" not in fig.get_suptitle()


def test_plot_samples_by_class_multivariate_int_labels_truncated(rng):
    X = rng.normal(size=(20, 3, 16))
    y = np.arange(20) % 10
    fig = plot_samples_by_class(X, y, X[:10], y[:10], title="samples")
    assert len(fig.axes) == 8 * 2
    assert "channel 0 of 3" in fig.get_suptitle()
    assert "first 8 of 10 classes" in fig.get_suptitle()


def test_plot_samples_by_class_unconditional(rng):
    X_real = rng.normal(size=(10, 2, 16))
    fig = plot_samples_by_class(X_real, None, rng.normal(size=(7, 2, 16)), None, n_per_class=3)
    assert len(fig.axes) == 2
    assert fig.axes[0].get_title().startswith("all")
    assert len(fig.axes[1].get_lines()) == 3


def test_plot_training_curves():
    histories = {
        "vqvae": [{"loss": 1.0 / (e + 1), "recon": 0.5, "perplexity": 10.0 + e} for e in range(5)],
        "ncvqvae": [{"loss": 2.0 / (e + 1), "ssl": -0.5 + e, "aug_recon": 0.3} for e in range(3)],
    }
    fig = plot_training_curves(histories, title="curves")
    titles = [ax.get_title() for ax in fig.axes]
    assert titles == ["loss", "recon", "perplexity", "ssl", "aug_recon"]
    scales = {ax.get_title(): ax.get_yscale() for ax in fig.axes}
    assert scales == {
        "loss": "log",
        "recon": "log",
        "perplexity": "linear",
        "ssl": "linear",
        "aug_recon": "log",
    }
    loss_ax = fig.axes[0]
    assert len(loss_ax.get_lines()) == 2
    assert loss_ax.get_legend() is not None
    assert list(loss_ax.get_lines()[1].get_xdata()) == [1, 2, 3]
    with pytest.raises(ValueError, match="no per-epoch entries"):
        plot_training_curves({"m": []})


def test_plot_codebook_usage():
    fig = plot_codebook_usage(
        {"a": np.array([0.5, 0.0, 0.25, 0.25]), "b": np.full(8, 1 / 8)}, title="codes"
    )
    assert len(fig.axes) == 2
    title_a = fig.axes[0].get_title()
    assert "3/4 codes used" in title_a
    assert f"perplexity {np.exp(-(0.5 * np.log(0.5) + 0.5 * np.log(0.25))):.1f}" in title_a
    assert "perplexity 8.0" in fig.axes[1].get_title()
    heights = [patch.get_height() for patch in fig.axes[0].patches]
    assert heights == sorted(heights, reverse=True)
    assert fig.axes[0].get_xlabel() == "code rank"


@pytest.mark.parametrize("method", ["pca", "tsne"])
def test_plot_embeddings(rng, method):
    y = np.array(["x", "y", "z"] * 6)
    features = {"m1": rng.normal(size=(18, 5)), "m2": rng.normal(size=(18, 1))}
    # Barnes-Hut t-SNE spins OpenMP threads; one thread is far faster on a shared box.
    with threadpool_limits(1):
        fig = plot_embeddings(features, y, method=method)
    assert len(fig.axes) == 2
    assert len(fig.axes[0].collections) == 3
    legend = fig.axes[0].get_legend()
    assert [t.get_text() for t in legend.get_texts()] == ["x", "y", "z"]


def test_plot_embeddings_errors(rng):
    with pytest.raises(ValueError, match="method must be"):
        plot_embeddings({"m": rng.normal(size=(5, 2))}, [0, 1, 0, 1, 0], method="umap")
    with pytest.raises(ValueError, match="expected"):
        plot_embeddings({"m": rng.normal(size=(4, 2))}, [0, 1, 0, 1, 0])


def test_save_figure_writes_png(tmp_path):
    fig = Figure(figsize=(3.0, 2.0))
    fig.subplots().plot([0, 1], [1, 0])
    path = save_figure(fig, tmp_path / "sub" / "dir" / "fig.png", dpi=50)
    assert path == tmp_path / "sub" / "dir" / "fig.png"
    assert path.read_bytes().startswith(PNG_SIGNATURE)
    image = matplotlib.image.imread(path)
    assert image.shape[:2] == (2 * 50, 3 * 50)


def test_save_figure_suffix(tmp_path, rng):
    fig = plot_reconstructions(rng.normal(size=(2, 1, 8)), rng.normal(size=(2, 1, 8)))
    path = save_figure(fig, tmp_path / "recon")
    assert path.suffix == ".png" and path.read_bytes().startswith(PNG_SIGNATURE)
    with pytest.raises(ValueError, match="PNG"):
        save_figure(fig, tmp_path / "recon.pdf")
