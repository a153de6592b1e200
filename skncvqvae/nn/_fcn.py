"""The FCN classifier network (Wang et al., 2017), as used in TimeVQVAE's evaluation."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ._output import ModelOutput

__all__ = ["FCN_TERMS", "FCNModule"]

FCN_TERMS = ("loss", "accuracy")


class FCNModule(nn.Module):
    """Three conv blocks, global average pooling and a linear head.

    Blocks of ``Conv1d`` with 'same' padding (128, 256 and 128 filters with
    kernels 8, 5 and 3), ``BatchNorm1d`` and ReLU. 'same' padding is explicit
    zero padding (left ``(k - 1) // 2``, the rest on the right, as
    ``padding="same"`` does) to avoid torch's warning for even kernels.

    Parameters
    ----------
    n_channels : int
        Input channels.
    n_classes : int
        Number of classes (the width of the logits).
    """

    def __init__(self, n_channels: int = 1, n_classes: int = 2):
        super().__init__()
        blocks = []
        in_ch = n_channels
        for out_ch, kernel in ((128, 8), (256, 5), (128, 3)):
            left = (kernel - 1) // 2
            blocks += [
                nn.ConstantPad1d((left, kernel - 1 - left), 0.0),
                nn.Conv1d(in_ch, out_ch, kernel),
                nn.BatchNorm1d(out_ch),
                nn.ReLU(),
            ]
            in_ch = out_ch
        self.body = nn.Sequential(*blocks)
        self.head = nn.Linear(in_ch, n_classes)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """``(B, C, L) -> (B, 128)``: globally average-pooled last block."""
        return self.body(x).mean(dim=-1)

    def logits(self, x: torch.Tensor) -> torch.Tensor:
        """``(B, C, L) -> (B, n_classes)``."""
        return self.head(self.features(x))

    def forward(
        self, x: torch.Tensor, labels: torch.Tensor, generator: torch.Generator | None = None
    ) -> ModelOutput:
        """Cross-entropy of the logits against ``labels`` (``generator`` is unused)."""
        logits = self.logits(x)
        loss = F.cross_entropy(logits, labels)
        accuracy = (logits.argmax(-1) == labels).float().mean()
        return ModelOutput(loss=loss, terms={"loss": loss.detach(), "accuracy": accuracy})
