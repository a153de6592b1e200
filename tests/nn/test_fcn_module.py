"""FCNModule: shapes, the loss it returns, and its features."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from skncvqvae.nn import FCN_TERMS, FCNModule, ModelOutput


@pytest.mark.parametrize("length", [1, 7, 32])
def test_shapes_for_any_length(length):
    torch.manual_seed(0)
    module = FCNModule(n_channels=3, n_classes=4).eval()
    x = torch.randn(5, 3, length)
    assert module.features(x).shape == (5, 128)
    assert module.logits(x).shape == (5, 4)


def test_forward_returns_the_cross_entropy_and_accuracy():
    torch.manual_seed(0)
    module = FCNModule(n_channels=1, n_classes=3).eval()
    x, labels = torch.randn(6, 1, 16), torch.tensor([0, 1, 2, 0, 1, 2])
    out = module(x, labels)
    assert isinstance(out, ModelOutput)
    assert set(out.terms) == set(FCN_TERMS)
    logits = module.logits(x)
    torch.testing.assert_close(out.loss, F.cross_entropy(logits, labels))
    expected = (logits.argmax(-1) == labels).float().mean()
    torch.testing.assert_close(out.terms["accuracy"], expected)
    assert not out.terms["loss"].requires_grad and out.loss.requires_grad


def test_same_padding_keeps_the_length():
    module = FCNModule(n_channels=1, n_classes=2)
    x = torch.randn(2, 1, 9)
    assert module.body(x).shape == (2, 128, 9)
