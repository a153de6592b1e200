"""Tests for skncvqvae._random: integer seeds from ``random_state``, spawned
seeds, and a seeded fork of torch's global generator."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from skncvqvae._random import derive_seed, seeded, spawn_seeds


def test_spawn_seeds_are_distinct_and_reproducible():
    seeds = spawn_seeds(0, 3)
    assert len(set(seeds)) == 3
    assert seeds == spawn_seeds(0, 3)
    assert seeds != spawn_seeds(1, 3)
    assert all(0 <= s < 2**31 for s in seeds)


def test_derive_seed_forms():
    assert derive_seed(7) == 7
    assert derive_seed(np.random.RandomState(0)) == derive_seed(np.random.RandomState(0))
    assert derive_seed(np.random.default_rng(0)) == derive_seed(np.random.default_rng(0))
    assert derive_seed(None) != derive_seed(None)
    state = np.random.get_state()
    derive_seed(None)
    assert np.array_equal(np.random.get_state()[1], state[1])
    with pytest.raises(ValueError, match="random_state must be"):
        derive_seed("seven")


def test_seeded_restores_the_global_torch_state():
    before = torch.get_rng_state()
    with seeded(0):
        a = torch.rand(3)
    with seeded(0):
        b = torch.rand(3)
    torch.testing.assert_close(a, b, rtol=0, atol=0)
    torch.testing.assert_close(torch.get_rng_state(), before, rtol=0, atol=0)
