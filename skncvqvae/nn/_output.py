"""The one output type of every trainable module in :mod:`skncvqvae.nn`."""

from __future__ import annotations

from dataclasses import dataclass, field

import torch

__all__ = ["ModelOutput"]


@dataclass(frozen=True)
class ModelOutput:
    """What a training forward pass returns: the loss and its terms.

    Every module of the package computes its own loss, so that one skorch net
    (:class:`skncvqvae._training.SelfLossNet`) trains them all and records
    each term per epoch.

    Attributes
    ----------
    loss : Tensor
        Scalar to minimise.
    terms : dict of str to Tensor
        Detached scalars recorded per epoch (the module's ``TERMS``); ``"loss"``
        is the total.
    """

    loss: torch.Tensor
    terms: dict[str, torch.Tensor] = field(default_factory=dict)
