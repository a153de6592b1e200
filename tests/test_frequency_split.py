"""``frequency_split``: the tokenizer's two token streams and the generator's two-stream prior."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.utils._param_validation import InvalidParameterError

import skncvqvae
from skncvqvae import NCVQVAEGenerator, NCVQVAETokenizer

from _helpers import TINY_GENERATOR, one_torch_thread

TINY = {**NCVQVAETokenizer._get_test_params(), "max_epochs": 3}
K = TINY["codebook_size"]


@pytest.fixture(scope="module")
def split_tok(unit_test_data):
    X, _ = unit_test_data
    with one_torch_thread():
        return NCVQVAETokenizer(**TINY, frequency_split=2).fit(X)


@pytest.fixture(scope="module")
def split_gen(unit_test_data):
    X, y = unit_test_data
    tokenizer = NCVQVAETokenizer(**TINY, frequency_split=1)
    with one_torch_thread():
        return NCVQVAEGenerator(tokenizer, **TINY_GENERATOR).fit(X, y)


def test_tokens_of_each_stream_use_its_own_ids(split_tok, unit_test_data):
    X, _ = unit_test_data
    tokens = split_tok.encode(X)
    assert tokens.shape == (len(X), *split_tok.token_shape_)
    assert split_tok.n_codes_ == 2 * K
    assert split_tok.codebook_.shape == (2 * K, TINY["codebook_dim"])
    assert tokens[:, :2].min() >= 0 and tokens[:, :2].max() < K
    assert tokens[:, 2:].min() >= K and tokens[:, 2:].max() < 2 * K


def test_outputs_with_two_streams(split_tok, unit_test_data):
    X, _ = unit_test_data
    tok = split_tok
    hist = tok.set_params(output="histogram").transform(X)
    assert hist.shape == (len(X), 2 * K)
    np.testing.assert_allclose(hist.sum(1), 1.0)
    # each stream's rows: 2 of the 5 rows low, 3 high
    np.testing.assert_allclose(hist[:, :K].sum(1), 2 / 5)
    assert len(tok.get_feature_names_out()) == 2 * K
    assert tok.set_params(output="pyramid").transform(X).shape == (len(X), 6 * TINY["codebook_dim"])
    tok.set_params(output="pyramid")


def test_decode_round_trip_and_id_checks(split_tok, unit_test_data):
    X, _ = unit_test_data
    tokens = split_tok.encode(X)
    assert split_tok.decode(tokens).shape == X.shape
    np.testing.assert_array_equal(split_tok.encode(split_tok.decode(tokens)).shape, tokens.shape)
    bad = tokens.copy()
    bad[0, 0, 0] = K  # a high-frequency id on a low-frequency row
    with pytest.raises(ValueError, match=r"\[0, 8\) on rows 0-1"):
        split_tok.decode(bad)
    bad = tokens.copy()
    bad[0, 3, 0] = 0
    with pytest.raises(ValueError, match=r"\[8, 16\) on rows 2-4"):
        split_tok.decode(bad)


@pytest.mark.parametrize("split", [5, 8])
def test_split_beyond_the_rows_raises(unit_test_data, split):
    X, _ = unit_test_data
    with pytest.raises(InvalidParameterError, match="'frequency_split' parameter"):
        NCVQVAETokenizer(**TINY, frequency_split=split).fit(X)


def test_split_is_reproducible_and_saved(split_tok, unit_test_data, tmp_path):
    X, _ = unit_test_data
    with one_torch_thread():
        again = NCVQVAETokenizer(**TINY, frequency_split=2).fit(X)
    np.testing.assert_array_equal(again.transform(X), split_tok.transform(X))
    loaded = skncvqvae.load(split_tok.save(tmp_path / "tok.safetensors"))
    np.testing.assert_array_equal(loaded.encode(X), split_tok.encode(X))
    np.testing.assert_array_equal(loaded.reconstruct(X), split_tok.reconstruct(X))


def test_generator_prior_has_two_streams(split_gen):
    prior = split_gen.net_.module_
    width = split_gen.tokenizer_.token_shape_[1]
    assert prior.first_stream == (width, K)
    assert prior.codebook_size == 2 * K


def test_generator_samples_and_variations(split_gen, unit_test_data):
    X, y = unit_test_data
    X_new, y_new = split_gen.sample(12, random_state=0)
    assert X_new.shape == (12, *X.shape[1:]) and np.isfinite(X_new).all()
    again, _ = split_gen.sample(12, random_state=0)
    np.testing.assert_array_equal(again, X_new)
    X_var, y_var = split_gen.sample_variations(X[:5], y[:5], random_state=0)
    assert X_var.shape == X[:5].shape
    X_res, y_res = split_gen.fit_resample(X, y)
    assert len(X_res) >= len(X)


def test_generator_save_and_load(split_gen, tmp_path):
    loaded = skncvqvae.load(split_gen.save(tmp_path / "gen.safetensors"))
    np.testing.assert_array_equal(
        loaded.sample(6, random_state=3)[0], split_gen.sample(6, random_state=3)[0]
    )


def test_critic_needs_one_stream(unit_test_data):
    X, y = unit_test_data
    gen = NCVQVAEGenerator(
        NCVQVAETokenizer(**TINY, frequency_split=1), **{**TINY_GENERATOR, "critic_steps": 5}
    )
    with pytest.raises(ValueError, match="critic_steps > 0 needs a tokenizer of one token stream"):
        gen.fit(X, y)
