"""Tests for skncvqvae._accelerate: training through Hugging Face Accelerate
(``use_accelerator``); see ``docs/scaling.rst``."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from skncvqvae import NCVQVAEGenerator, NCVQVAETokenizer

from _helpers import TINY_GENERATOR, make_two_class

TINY = NCVQVAETokenizer._get_test_params()


def test_fit_through_accelerate():
    accelerate = pytest.importorskip("accelerate")
    from skncvqvae import use_accelerator
    from skncvqvae._accelerate import AcceleratedSelfLossNet

    X, _ = make_two_class(n=20, length=24)
    accelerator = accelerate.Accelerator(cpu=True, device_placement=False)
    with use_accelerator(accelerator):
        tokenizer = NCVQVAETokenizer(**TINY).fit(X)
    assert isinstance(tokenizer.net_, AcceleratedSelfLossNet)
    assert tokenizer.net_.accelerator is accelerator
    assert all(math.isfinite(epoch["loss"]) for epoch in tokenizer.history_)
    assert len(tokenizer.history_) == TINY["max_epochs"]
    # unwrapped after training; on one CPU process the same numbers as without accelerate
    assert type(tokenizer.net_.module_).__name__ == "NCVQVAEModule"
    plain = NCVQVAETokenizer(**TINY).fit(X)
    assert type(plain.net_).__name__ == "SelfLossNet"
    np.testing.assert_array_equal(tokenizer.transform(X), plain.transform(X))

    # a resumed fit trains through the accelerator again
    with use_accelerator(accelerator):
        tokenizer.set_params(warm_start=True, max_epochs=3).fit(X)
    assert len(tokenizer.history_) == 3
    assert np.isfinite(tokenizer.transform(X)).all()


def test_generator_fits_under_bf16_mixed_precision():
    """bf16 autocast on the CPU: the quantizer and IterNorm keep float32 statistics."""
    accelerate = pytest.importorskip("accelerate")
    from accelerate.state import AcceleratorState

    from skncvqvae import use_accelerator

    X, y = make_two_class(n=20, length=24)
    # Accelerate keeps one process-wide state: an Accelerator made earlier in this
    # process (another test) fixes its precision unless the state is reset.
    AcceleratorState._reset_state(reset_partial_state=True)
    try:
        accelerator = accelerate.Accelerator(
            cpu=True, mixed_precision="bf16", device_placement=False
        )
        with use_accelerator(accelerator):
            generator = NCVQVAEGenerator(
                NCVQVAETokenizer(**{**TINY, "ssl": "vibcreg"}), **TINY_GENERATOR
            ).fit(X, y)
    finally:
        AcceleratorState._reset_state(reset_partial_state=True)
    tokenizer = generator.tokenizer_
    assert all(math.isfinite(epoch["loss"]) for epoch in tokenizer.history_)
    assert all(math.isfinite(epoch["loss"]) for epoch in generator.history_)
    assert tokenizer.net_.module_.quantizer.embed.dtype == torch.float32
    X_new, _ = generator.sample(4, random_state=0)
    assert X_new.shape == (4, 1, X.shape[-1]) and np.isfinite(X_new).all()


def test_use_accelerator_checks_the_accelerator():
    accelerate = pytest.importorskip("accelerate")
    from skncvqvae import use_accelerator

    with pytest.raises(ValueError, match="device_placement=False"):
        with use_accelerator(accelerate.Accelerator(cpu=True)):
            pass
    with pytest.raises(TypeError, match="accelerate.Accelerator"):
        with use_accelerator("cuda"):
            pass


def test_early_stopping_through_accelerate():
    """The early-stopping loop reads the interrupt flag of any net class, and checks."""
    accelerate = pytest.importorskip("accelerate")
    from skncvqvae import use_accelerator

    X, y = make_two_class(n=20, length=24)
    accelerator = accelerate.Accelerator(cpu=True, device_placement=False)
    with use_accelerator(accelerator):
        gen = NCVQVAEGenerator(NCVQVAETokenizer(**TINY), early_stopping=True, **TINY_GENERATOR).fit(
            X, y
        )
    assert len(gen.validation_scores_) >= 1
    assert gen.best_validation_score_ == gen.validation_scores_.min()
    assert gen.sample(2, random_state=0)[0].shape == (2, 1, 24)
