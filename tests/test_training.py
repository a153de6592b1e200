"""The skorch training layer and the seeding helpers shared by both stages."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
import torch

from conftest import TINY, make_sines
from skncvqvae import NCVQVAEGenerator, NCVQVAETokenizer
from skncvqvae._training import epoch_terms, seeded, spawn_seeds
from skncvqvae.metrics import fid_score


def test_spawn_seeds_are_distinct_and_reproducible():
    seeds = spawn_seeds(0, 3)
    assert len(set(seeds)) == 3
    assert seeds == spawn_seeds(0, 3)
    assert seeds != spawn_seeds(1, 3)
    assert all(0 <= s < 2**31 for s in seeds)


def test_seeded_restores_the_global_torch_state():
    before = torch.get_rng_state()
    with seeded(0):
        a = torch.rand(3)
    with seeded(0):
        b = torch.rand(3)
    torch.testing.assert_close(a, b, rtol=0, atol=0)
    torch.testing.assert_close(torch.get_rng_state(), before, rtol=0, atol=0)


def test_net_keeps_only_a_cpu_generator_state_between_fits():
    X = make_sines(n=16, length=32)
    tok = NCVQVAETokenizer(**TINY).fit(X)
    assert not hasattr(tok.net_, "generator_")
    state = tok.net_.generator_state_
    assert state.device.type == "cpu" and state.dtype == torch.uint8
    # partial_fit continues the augmentation stream instead of replaying it
    tok.net_.partial_fit(((X - tok.mean_[:, None]) / tok.scale_[:, None]).astype(np.float32))
    assert not torch.equal(state, tok.net_.generator_state_)
    restored = pickle.loads(pickle.dumps(tok))
    np.testing.assert_array_equal(restored.transform(X), tok.transform(X))


def test_epoch_terms_reads_the_history():
    X = make_sines(n=16, length=32)
    tok = NCVQVAETokenizer(**TINY).fit(X)
    rows = epoch_terms(tok.net_, ("loss", "recon"))
    assert len(rows) == TINY["max_epochs"]
    assert rows == [{"loss": h["loss"], "recon": h["recon"]} for h in tok.history_]


def test_minirocket_metrics_leave_numpy_global_rng_and_torch_threads():
    X = make_sines(n=12, length=32)
    np.random.seed(123)
    expected = np.random.rand()
    np.random.seed(123)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        fid_score(X, X + 0.5)
        assert torch.get_num_threads() == 1
    finally:
        torch.set_num_threads(threads)
    assert np.random.rand() == expected


def test_generator_n_features_in_follows_sklearn():
    X = make_sines(n=12, length=32)
    gen = NCVQVAEGenerator(NCVQVAETokenizer(**TINY), hidden_dim=16, n_layers=1, max_epochs=1,
                           random_state=0)
    assert gen.fit(X).n_features_in_ == X.shape[1]
    assert gen.fit(X[:, 0, :]).n_features_in_ == X.shape[2]


def test_histogram_output_is_normalised_token_counts():
    X = make_sines(n=12, length=32)
    tok = NCVQVAETokenizer(**TINY, output="histogram").fit(X)
    tokens = tok.encode(X).reshape(len(X), -1)
    expected = np.stack([np.bincount(t, minlength=tok.codebook_size) for t in tokens]) / tokens.shape[1]
    np.testing.assert_allclose(tok.transform(X), expected, rtol=0, atol=1e-12)


def test_object_array_of_strings_is_rejected():
    X = np.array([["1", "2", "3", "4", "5", "6", "7", "8"]] * 3, dtype=object)
    with pytest.raises(ValueError, match="strings"):
        NCVQVAETokenizer(**TINY).fit(X)


@pytest.mark.parametrize("output", ["pooled", "tokens"])
def test_transform_of_a_row_does_not_depend_on_the_other_rows(output):
    X = make_sines(n=23, length=64)
    tok = NCVQVAETokenizer(**{**TINY, "hidden_dim": 16, "batch_size": 8}, output=output).fit(X)
    full = tok.transform(X)
    for rows in (slice(0, 1), slice(3, 11), slice(5, 23)):
        np.testing.assert_array_equal(tok.transform(X[rows]), full[rows])
    np.testing.assert_array_equal(tok.reconstruct(X[2:3]), tok.reconstruct(X)[2:3])
