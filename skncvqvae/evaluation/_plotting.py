"""Figures for the ``skncvqvae report`` command, each on a fresh
:class:`matplotlib.figure.Figure` (no pyplot state); :func:`save_figure` writes a PNG.
2D collections ``(n_cases, n_timepoints)`` are read as univariate.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure
from sklearn.decomposition import PCA
from sklearn.manifold import TSNE
from sklearn.preprocessing import StandardScaler

__all__ = [
    "plot_codebook_usage",
    "plot_embeddings",
    "plot_reconstructions",
    "plot_samples_by_class",
    "plot_training_curves",
    "save_figure",
]

_MAX_CLASSES = 8
_NON_LOSS_KEYS = ("perplexity", "accuracy", "usage")


def _as_collection(X, name: str) -> np.ndarray:
    """Return ``X`` as a float array of shape (n_cases, n_channels, n_timepoints)."""
    X = np.asarray(X, dtype=float)
    if X.ndim == 2:
        X = X[:, np.newaxis, :]
    if X.ndim != 3 or 0 in X.shape:
        raise ValueError(
            f"{name} must be a non-empty array of shape (n_cases, n_channels, "
            f"n_timepoints) or (n_cases, n_timepoints); got shape {X.shape}."
        )
    return X


def _as_labels(y, n_cases: int, name: str) -> np.ndarray:
    """Return ``y`` as a 1D array of length ``n_cases``."""
    y = np.asarray(y).ravel()
    if len(y) != n_cases:
        raise ValueError(f"{name} has {len(y)} labels for {n_cases} series.")
    return y


def _truncate(n_total: int, n_max: int, what: str) -> tuple[int, str]:
    """Number of items shown out of ``n_total`` and a title note if truncated."""
    if n_total <= n_max:
        return n_total, ""
    return n_max, f" (first {n_max} of {n_total} {what})"


def _suptitle(fig: Figure, title: str | None, default: str, note: str = "") -> None:
    """Set the figure title (``title`` or ``default``) followed by ``note``."""
    fig.suptitle((default if title is None else title) + note)


def plot_reconstructions(
    X, X_hat, *, n_series: int = 4, max_channels: int = 4, title: str | None = None
) -> Figure:
    """Plot original series against their reconstructions.

    Parameters
    ----------
    X : ndarray of shape (n_cases, n_channels, n_timepoints)
        Original series.
    X_hat : ndarray of the same shape as ``X``
        Reconstructed series.
    n_series : int, default=4
        Number of cases shown (the first ones), one column each.
    max_channels : int, default=4
        Maximum number of channels shown, one row each.
    title : str, optional
        Figure title; a note is appended when channels are truncated.

    Returns
    -------
    fig : matplotlib.figure.Figure
        Grid of ``n_channels_shown x n_series_shown`` axes; originals are solid
        lines, reconstructions dashed.
    """
    X = _as_collection(X, "X")
    X_hat = _as_collection(X_hat, "X_hat")
    if X.shape != X_hat.shape:
        raise ValueError(f"X has shape {X.shape} but X_hat has shape {X_hat.shape}.")
    n_cols = max(1, min(n_series, X.shape[0]))
    n_rows, note = _truncate(X.shape[1], max_channels, "channels")
    fig = Figure(figsize=(3.2 * n_cols, 2.2 * n_rows + 0.6), layout="constrained")
    axes = fig.subplots(n_rows, n_cols, squeeze=False, sharex=True)
    t = np.arange(X.shape[2])
    for j in range(n_cols):
        for c in range(n_rows):
            ax = axes[c, j]
            ax.plot(t, X[j, c], color="C0", lw=1.2, label="original")
            ax.plot(t, X_hat[j, c], color="C1", lw=1.2, ls="--", label="reconstruction")
            if c == 0:
                ax.set_title(f"case {j}")
            if c == n_rows - 1:
                ax.set_xlabel("time")
            if j == 0:
                ax.set_ylabel("value" if n_rows == 1 else f"value (channel {c})")
    axes[0, 0].legend(fontsize="small")
    _suptitle(fig, title, "Reconstructions", note)
    return fig


def plot_samples_by_class(
    X_real, y_real, X_gen, y_gen, *, n_per_class: int = 5, title: str | None = None
) -> Figure:
    """Plot real and generated series side by side, one row per class.

    Parameters
    ----------
    X_real : ndarray of shape (n_real, n_channels, n_timepoints)
        Real series.
    y_real : array-like of shape (n_real,) or None
        Class labels of the real series; ignored when ``y_gen`` is None.
    X_gen : ndarray of shape (n_gen, n_channels, n_timepoints)
        Generated series.
    y_gen : array-like of shape (n_gen,) or None
        Class labels of the generated series (same label type as ``y_real``).
        None for unconditional generation: a single row "all" is drawn.
    n_per_class : int, default=5
        Maximum number of series overlaid per class and column.
    title : str, optional
        Figure title; notes are appended when classes are truncated (at most
        8 are shown) or when only the first channel is drawn.

    Returns
    -------
    fig : matplotlib.figure.Figure
        Grid of ``n_classes_shown x 2`` axes: real (left) and generated
        (right), with the same y-limits within a row.
    """
    X_real = _as_collection(X_real, "X_real")
    X_gen = _as_collection(X_gen, "X_gen")
    n_channels = max(X_real.shape[1], X_gen.shape[1])
    X_real, X_gen = X_real[:, 0], X_gen[:, 0]
    if y_gen is None:
        classes = np.array(["all"])
        masks_real = [np.ones(len(X_real), dtype=bool)]
        masks_gen = [np.ones(len(X_gen), dtype=bool)]
        note = ""
    else:
        y_real = _as_labels(y_real, len(X_real), "y_real")
        y_gen = _as_labels(y_gen, len(X_gen), "y_gen")
        classes = np.unique(np.concatenate([y_real, y_gen]))
        n_shown, note = _truncate(len(classes), _MAX_CLASSES, "classes")
        classes = classes[:n_shown]
        masks_real = [y_real == c for c in classes]
        masks_gen = [y_gen == c for c in classes]
    if n_channels > 1:
        note += f" (channel 0 of {n_channels})"
    n_rows = len(classes)
    fig = Figure(figsize=(9.0, 2.2 * n_rows + 0.6), layout="constrained")
    axes = fig.subplots(n_rows, 2, squeeze=False, sharex=True)
    for i, c in enumerate(classes):
        shown = []
        for ax, X, mask, kind, color in (
            (axes[i, 0], X_real, masks_real[i], "real", "C0"),
            (axes[i, 1], X_gen, masks_gen[i], "generated", "C1"),
        ):
            series = X[mask][:n_per_class]
            if len(series):
                ax.plot(series.T, color=color, lw=1.0, alpha=0.7)
            shown.append(series.ravel())
            ax.set_title(f"{c}: {kind} ({len(series)} of {mask.sum()})", fontsize="medium")
        axes[i, 0].set_ylabel("value" if y_gen is None else f"class {c}\nvalue")
        values = np.concatenate(shown)
        values = values[np.isfinite(values)]
        if values.size:
            lo, hi = values.min(), values.max()
            pad = 0.05 * (hi - lo) if hi > lo else 0.5
            for ax in axes[i]:
                ax.set_ylim(lo - pad, hi + pad)
    for ax in axes[-1]:
        ax.set_xlabel("time")
    _suptitle(fig, title, "Real vs generated samples", note)
    return fig


def plot_training_curves(
    histories: Mapping[str, Sequence[Mapping[str, float]]], *, title: str | None = None
) -> Figure:
    """Plot per-epoch training metrics, one subplot per metric.

    Parameters
    ----------
    histories : dict of str to list of dict
        Model name -> list of per-epoch dicts of floats (keys such as
        ``"loss"``, ``"recon"``, ``"commitment"``, ``"aug_recon"``, ``"ssl"``,
        ``"perplexity"``). A key missing from an epoch leaves a gap.
    title : str, optional
        Figure title.

    Returns
    -------
    fig : matplotlib.figure.Figure
        One axes per key found in any history (ordered by first appearance),
        one line per model (legend when several), x = epoch (from 1).
        Loss-like keys with only positive values use a log y-scale;
        perplexity, accuracy and usage keys stay linear.

    Raises
    ------
    ValueError
        If the histories contain no entries.
    """
    keys = list(dict.fromkeys(k for h in histories.values() for rec in h for k in rec))
    if not keys:
        raise ValueError("histories contain no per-epoch entries to plot.")
    n_cols = min(3, len(keys))
    n_rows = math.ceil(len(keys) / n_cols)
    fig = Figure(figsize=(4.0 * n_cols, 3.0 * n_rows + 0.6), layout="constrained")
    axes = fig.subplots(n_rows, n_cols, squeeze=False).ravel()
    for ax in axes[len(keys) :]:
        fig.delaxes(ax)
    for ax, key in zip(axes, keys):
        plotted = []
        for m, (name, history) in enumerate(histories.items()):
            points = [(e + 1, float(rec[key])) for e, rec in enumerate(history) if key in rec]
            if points:
                epochs, values = zip(*points)
                marker = "." if len(points) < 30 else None
                ax.plot(epochs, values, color=f"C{m}", marker=marker, label=name)
                plotted.extend(values)
        values = np.asarray(plotted)
        values = values[np.isfinite(values)]
        loss_like = not any(word in key.lower() for word in _NON_LOSS_KEYS)
        if loss_like and values.size and (values > 0).all():
            ax.set_yscale("log")
        ax.set_title(key)
        ax.set_xlabel("epoch")
        ax.set_ylabel(key)
        if len(histories) > 1:
            ax.legend(fontsize="small")
    _suptitle(fig, title, "Training curves")
    return fig


def plot_codebook_usage(
    histograms: Mapping[str, np.ndarray], *, title: str | None = None
) -> Figure:
    """Plot codebook usage as sorted bar charts, one subplot per model.

    Parameters
    ----------
    histograms : dict of str to ndarray of shape (n_codes,)
        Model name -> per-code frequencies (counts are normalised to sum 1).
    title : str, optional
        Figure title.

    Returns
    -------
    fig : matplotlib.figure.Figure
        One axes per model, side by side; codes sorted by descending
        frequency, with the perplexity ``exp(-sum p log p)`` and the number of
        used codes (``p > 0``) in each subplot title.

    Raises
    ------
    ValueError
        If a histogram is empty or has negative entries, or none is given.
    """
    if not histograms:
        raise ValueError("histograms is empty.")
    fig = Figure(figsize=(4.0 * len(histograms), 3.2), layout="constrained")
    axes = fig.subplots(1, len(histograms), squeeze=False)[0]
    for ax, (name, hist) in zip(axes, histograms.items()):
        p = np.asarray(hist, dtype=float).ravel()
        if p.size == 0 or (p < 0).any():
            raise ValueError(f"histogram of {name!r} must be non-empty and non-negative.")
        if p.sum() > 0:
            p = p / p.sum()
        p = np.sort(p)[::-1]
        used = p[p > 0]
        perplexity = float(np.exp(-np.sum(used * np.log(used))))
        ax.bar(np.arange(1, p.size + 1), p, width=1.0, color="C0", linewidth=0)
        ax.set_title(
            f"{name}\nperplexity {perplexity:.1f}, {used.size}/{p.size} codes used",
            fontsize="medium",
        )
        ax.set_xlabel("code rank")
        ax.set_ylabel("frequency")
        ax.set_xlim(0.5, p.size + 0.5)
    _suptitle(fig, title, "Codebook usage")
    return fig


def plot_embeddings(
    features: Mapping[str, np.ndarray],
    y,
    *,
    method: str = "pca",
    random_state: int | None = 0,
    title: str | None = None,
) -> Figure:
    """Scatter 2D embeddings of learned representations, coloured by class.

    Parameters
    ----------
    features : dict of str to ndarray of shape (n_cases, n_features)
        Model name -> representation of the same cases. Features are
        standardised before the embedding.
    y : array-like of shape (n_cases,)
        Class labels (strings or integers).
    method : {"pca", "tsne"}, default="pca"
        :class:`~sklearn.decomposition.PCA`, or
        :class:`~sklearn.manifold.TSNE` with perplexity ``min(30, n_cases - 1)``.
    random_state : int or None, default=0
        Seed of the embedding.
    title : str, optional
        Figure title.

    Returns
    -------
    fig : matplotlib.figure.Figure
        One scatter axes per model, side by side, with a class legend.

    Raises
    ------
    ValueError
        For an unknown ``method``, no feature arrays, or features whose
        number of rows does not match ``y``.
    """
    if method not in ("pca", "tsne"):
        raise ValueError(f"method must be 'pca' or 'tsne'; got {method!r}.")
    if not features:
        raise ValueError("features is empty.")
    y = np.asarray(y).ravel()
    classes = np.unique(y)
    axis_name = "PC" if method == "pca" else "t-SNE"
    fig = Figure(figsize=(4.2 * len(features), 4.0), layout="constrained")
    axes = fig.subplots(1, len(features), squeeze=False)[0]
    for ax, (name, F) in zip(axes, features.items()):
        F = np.asarray(F, dtype=float)
        if F.ndim != 2 or F.shape != (len(y), F.shape[1]) or F.shape[1] == 0:
            raise ValueError(
                f"features of {name!r} have shape {F.shape}; expected ({len(y)}, n_features)."
            )
        F = StandardScaler().fit_transform(F)
        if F.shape[1] < 2:
            F = np.hstack([F, np.zeros((len(F), 2 - F.shape[1]))])
        if method == "pca":
            Z = PCA(n_components=2, random_state=random_state).fit_transform(F)
        else:
            tsne = TSNE(n_components=2, perplexity=min(30, len(F) - 1), random_state=random_state)
            Z = tsne.fit_transform(F)
        for k, c in enumerate(classes):
            mask = y == c
            ax.scatter(Z[mask, 0], Z[mask, 1], s=12, color=f"C{k % 10}", alpha=0.8, label=str(c))
        ax.set_title(name)
        ax.set_xlabel(f"{axis_name} 1")
        ax.set_ylabel(f"{axis_name} 2")
    n_legend_cols = math.ceil(len(classes) / 10)
    axes[0].legend(title="class", fontsize="small", markerscale=1.5, ncols=n_legend_cols)
    _suptitle(fig, title, f"Embeddings ({'PCA' if method == 'pca' else 't-SNE'})")
    return fig


def save_figure(fig: Figure, path: str | Path, *, dpi: int = 120) -> Path:
    """Save a figure as a PNG file.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
        Figure to save; it is left open (Figure objects need no closing).
    path : str or Path
        Destination; ``.png`` is appended when it has no suffix. Parent
        directories are created.
    dpi : int, default=120
        Resolution; the image is ``figsize * dpi`` pixels.

    Returns
    -------
    path : Path
        The path written.

    Raises
    ------
    ValueError
        If ``path`` has a suffix other than ``.png``.
    """
    path = Path(path)
    if not path.suffix:
        path = path.with_suffix(".png")
    elif path.suffix.lower() != ".png":
        raise ValueError(f"save_figure writes PNG files; got suffix {path.suffix!r}.")
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=dpi, format="png")
    return path
