#!/usr/bin/env python
"""Time stage-1 training of the thesis's own NC-VQVAE code on GunPoint (for throughput.py).

The reference is github.com/erlendlokna/Generative-SSL-VQVAE-modelling, checked
out unmodified at ``--repo`` (its code is not part of this package). Usage::

    python benchmarks/reference_stage1.py --repo PATH --ssl vibcreg --epochs 12 --threads 1
    python benchmarks/reference_stage1.py --smoke [--repo PATH]   # 2 epochs; no PATH: skipped

prints one JSON line with the median seconds per epoch (epochs after the first).
What is timed per epoch, using the reference's own code:
  * iterating its DataLoader built by `preprocessing.data_pipeline.build_data_pipeline`
    (AugUCRDataset + Augmenter: window_warp + amplitude_resize, then STFT/ISTFT round trip
    for SSL runs; plain UCRDataset for --ssl none), num_workers=0, batch 128, shuffle;
  * `Exp_SIAM_VQVAE.training_step` (VIbCReg / Barlow Twins) or `Exp_VQVAE.training_step`
    (--ssl none), which runs the forward pass + losses and steps the CosineAnnealingLR;
  * loss.backward() and the AdamW step from the reference's own `configure_optimizers`.
Not timed / bypassed: pytorch-lightning Trainer (replaced by a plain loop), wandb (no-op stub),
the downstream-evaluation epoch hooks (probes/t-SNE/UMAP), validation, and the 1%-probability
matplotlib reconstruction plot inside forward (plt replaced by a no-op mock).
"""

import argparse
import json
import os
import sys
import time
import types
from unittest import mock

import _common  # benchmarks/ is the script's folder
import numpy as np
import torch
import torch.nn as nn


# --------------------------------------------------------------------------------------------
# Stubs for heavy / missing dependencies that are only used for logging, evaluation or stage 2.
# --------------------------------------------------------------------------------------------
def _install_stubs():
    # pytorch_lightning: only LightningModule is needed (ExpBase subclasses it).
    pl = types.ModuleType("pytorch_lightning")

    class LightningModule(nn.Module):
        current_epoch = 0
        _ref_scheduler = None

        def lr_schedulers(self):
            return self._ref_scheduler

        @property
        def device(self):
            return next(self.parameters()).device

    pl.LightningModule = LightningModule
    sys.modules["pytorch_lightning"] = pl

    wandb = types.ModuleType("wandb")
    wandb.log = lambda *a, **k: None
    wandb.Image = lambda *a, **k: None
    wandb.finish = lambda *a, **k: None
    sys.modules["wandb"] = wandb

    umap = types.ModuleType("umap")
    umap.UMAP = object
    umap_plot = types.ModuleType("umap.plot")
    umap.plot = umap_plot
    sys.modules["umap"] = umap
    sys.modules["umap.plot"] = umap_plot

    sys.modules["seaborn"] = types.ModuleType("seaborn")

    xt = types.ModuleType("x_transformers")  # imported (unused) by models/stage1/vq.py
    xt.ContinuousTransformerWrapper = xt.Encoder = xt.Decoder = object
    sys.modules["x_transformers"] = xt

    sf = types.ModuleType("supervised_FCN")  # imported (unused in stage 1) by exp_vqvae.py
    sfl = types.ModuleType("supervised_FCN.example_pretrained_model_loading")
    sfl.load_pretrained_FCN = lambda *a, **k: None
    sf.example_pretrained_model_loading = sfl
    sys.modules["supervised_FCN"] = sf
    sys.modules["supervised_FCN.example_pretrained_model_loading"] = sfl


def _make_importer(UCRDatasetImporter, data_scaling=True):
    """Same preprocessing as UCRDatasetImporter.__init__, but from aeon instead of the UCR tsv."""
    import math

    from aeon.datasets import load_classification
    from sklearn.preprocessing import LabelEncoder

    Xtr, ytr = load_classification("GunPoint", split="train")
    Xte, yte = load_classification("GunPoint", split="test")
    imp = object.__new__(UCRDatasetImporter)
    imp.X_train = Xtr[:, 0, :].astype(np.float64)  # (50, 150), like df.iloc[:, 1:].values
    imp.X_test = Xte[:, 0, :].astype(np.float64)
    le = LabelEncoder()
    imp.Y_train = le.fit_transform(ytr.ravel())[:, None]
    imp.Y_test = le.transform(yte.ravel())[:, None]
    if data_scaling:
        mean = np.nanmean(imp.X_train)
        var = np.nanvar(imp.X_train)
        imp.X_train = (imp.X_train - mean) / math.sqrt(var)
        imp.X_test = (imp.X_test - mean) / math.sqrt(var)
    np.nan_to_num(imp.X_train, copy=False)
    np.nan_to_num(imp.X_test, copy=False)
    return imp


def _smoke_without_repo() -> None:
    """``--smoke`` without a checkout: the stubs and the data import, no reference code."""

    class UCRDatasetImporter:  # stands in for the reference's class (only its instance is made)
        pass

    _install_stubs()
    importer = _make_importer(UCRDatasetImporter)
    assert importer.X_train.shape == (50, 150) and importer.Y_test.shape == (150, 1)
    print(json.dumps({"impl": "reference", "skipped": "--smoke without --repo"}))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--ssl", choices=["vibcreg", "barlowtwins", "none"], default="vibcreg")
    ap.add_argument("--epochs", type=int, default=12)
    ap.add_argument("--seed", type=int, default=0)
    _common.add_threads_argument(ap)
    ap.add_argument("--repo", help="checkout of the thesis's repository (required)")
    _common.add_smoke_flag(ap)
    args = ap.parse_args(argv)
    _common.set_threads(args.threads)
    if args.smoke:
        args.epochs = 2
        if not args.repo:
            _smoke_without_repo()
            return
    if not args.repo:
        ap.error("the following arguments are required: --repo")
    sys.path.insert(0, os.path.abspath(args.repo))

    _install_stubs()
    import warnings

    warnings.filterwarnings("ignore")

    import experiments.exp_siam_vqvae as exp_siam_mod
    import experiments.exp_vqvae as exp_vqvae_mod
    from preprocessing.data_pipeline import build_data_pipeline
    from preprocessing.preprocess_ucr import UCRDatasetImporter
    from utils import get_root_dir, load_yaml_param_settings

    # no-op the (1%-probability) reconstruction plot that is only sent to wandb
    exp_siam_mod.plt = mock.MagicMock()
    exp_vqvae_mod.plt = mock.MagicMock()
    exp_siam_mod.plt.subplots.return_value = (
        mock.MagicMock(),
        [mock.MagicMock(), mock.MagicMock()],
    )
    exp_vqvae_mod.plt.subplots.return_value = (mock.MagicMock(), mock.MagicMock())

    # ---- reference config (configs/config.yaml) + the overrides used by experiments1.py ----
    config = load_yaml_param_settings(get_root_dir().joinpath("configs", "config.yaml"))
    ssl = "" if args.ssl == "none" else args.ssl
    config["dataset"]["dataset_name"] = "GunPoint"
    config["dataset"]["num_workers"] = 0
    config["trainer_params"]["max_epochs"]["stage1"] = args.epochs
    config["augmentations"]["time_augs"] = ["window_warp", "amplitude_resize"]  # STAGE1_AUGS
    config["VQVAE"]["aug_recon_rate"] = 0.1  # AUG_RECON_RATE
    config["VQVAE"]["orthogonal_reg_weight"] = 0
    config["SSL"]["stage1_method"] = ssl
    batch_size = config["dataset"]["batch_sizes"]["stage1"]  # 128

    np.random.seed(args.seed)  # noqa: NPY002 (the reference draws its augmentations from it)
    torch.manual_seed(args.seed)

    importer = _make_importer(UCRDatasetImporter, config["dataset"]["data_scaling"])
    # experiments1.py: augmented loader for SSL runs, plain loader for the naive VQ-VAE
    train_loader = build_data_pipeline(
        batch_size, importer, config, augment=(ssl != ""), kind="train"
    )
    train_loader.pin_memory = False  # CPU only (pin_memory is a no-op without CUDA anyway)

    torch.manual_seed(args.seed)  # as in train_ssl_vqvae / train_vqvae
    input_length = train_loader.dataset.X.shape[-1]
    n_train = len(train_loader.dataset)
    if ssl:
        exp = exp_siam_mod.Exp_SIAM_VQVAE(input_length, config=config, n_train_samples=n_train)
    else:
        exp = exp_vqvae_mod.Exp_VQVAE(input_length, config=config, n_train_samples=n_train)
    exp.train()
    opt_cfg = exp.configure_optimizers()
    opt, sched = opt_cfg["optimizer"], opt_cfg["lr_scheduler"]
    exp._ref_scheduler = sched
    n_params = sum(p.numel() for p in exp.parameters() if p.requires_grad)

    epoch_times = []
    last_loss = None
    for epoch in range(args.epochs):
        exp.current_epoch = epoch
        t0 = time.perf_counter()
        for batch_idx, batch in enumerate(train_loader):
            # Lightning automatic optimisation: training_step -> zero_grad -> backward -> step
            out = exp.training_step(batch, batch_idx)
            opt.zero_grad()
            out["loss"].backward()
            opt.step()
            last_loss = float(out["loss"].detach())
        epoch_times.append(time.perf_counter() - t0)
        print(f"# epoch {epoch}: {epoch_times[-1]:.3f}s loss={last_loss:.4f}", file=sys.stderr)

    print(
        json.dumps(
            {
                "impl": "reference",
                "ssl": args.ssl,
                "median_s_per_epoch": float(np.median(epoch_times[1:] or epoch_times)),
                "epochs": [round(t, 4) for t in epoch_times],
                "n_params": int(n_params),
                "final_loss": last_loss,
                "torch_threads": torch.get_num_threads(),
            }
        )
    )


if __name__ == "__main__":
    main()
