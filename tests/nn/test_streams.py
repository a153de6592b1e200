"""Stage 1 with a low- and a high-frequency token stream (``frequency_split``)."""

from __future__ import annotations

import pytest
import torch

from skncvqvae.nn import NCVQVAEModule
from skncvqvae.nn._streams import BandDecoder, BandEncoder, BandQuantizer, frequency_bands

from _helpers import TINY_MODEL

K = TINY_MODEL["codebook_size"]


def _module(split=1, seed=0, **kwargs):
    torch.manual_seed(seed)
    return NCVQVAEModule(1, 64, frequency_split=split, **{**TINY_MODEL, **kwargs})


def _series(n=6, seed=0):
    return torch.randn(n, 1, 64, generator=torch.Generator().manual_seed(seed))


def test_frequency_bands():
    assert frequency_bands(5, None) == ((0, 5),)
    assert frequency_bands(5, 1) == ((0, 1), (1, 5))
    assert frequency_bands(5, 4) == ((0, 4), (4, 5))
    for bad in (0, 5, 7):
        with pytest.raises(ValueError, match=r"frequency_split must be in \[1, 4\]"):
            frequency_bands(5, bad)


def test_module_rejects_a_split_without_two_streams():
    with pytest.raises(ValueError, match="frequency_split must be in"):
        _module(split=5)


def test_split_keeps_the_token_grid_and_doubles_the_ids():
    one, two = _module(split=None), _module(split=1)
    assert one.token_shape == two.token_shape
    assert (one.n_codes, two.n_codes) == (K, 2 * K)
    assert two.quantizer.embed.shape == (2 * K, TINY_MODEL["codebook_dim"])
    out = two(_series())
    assert out.indices.shape == (6, *two.token_shape)
    assert out.indices[:, :1].max() < K <= out.indices[:, 1:].min()
    assert out.indices[:, 1:].max() < 2 * K


def test_single_stream_module_keeps_its_parameter_names():
    # saved single-stream models name encoder.layers..., quantizer.embed, decoder.layers...
    names = set(_module(split=None).state_dict())
    assert {"encoder.layers.0.0.weight", "quantizer.embed", "decoder.layers.0.weight"} <= names
    names = set(_module(split=1).state_dict())
    assert {"encoder.encoders.1.layers.0.0.weight", "quantizer.quantizers.1.embed"} <= names


def test_streams_see_only_their_own_rows():
    torch.manual_seed(0)
    bands = frequency_bands(5, 2)
    encoder = BandEncoder(bands, 2, 8, 4, 1, 0).eval()
    decoder = BandDecoder(bands, 4, 8, 2, 1, 0, 9).eval()
    u = torch.randn(3, 2, 5, 9)
    v = u.clone()
    v[:, :, 2:] += torch.randn(3, 2, 3, 9)  # high rows changed
    z_u, z_v = encoder(u), encoder(v)
    assert torch.equal(z_u[:, :, :2], z_v[:, :, :2])
    assert not torch.allclose(z_u[:, :, 2:], z_v[:, :, 2:])
    w = z_u.clone()
    w[:, :, 2:] = torch.randn_like(w[:, :, 2:])
    assert torch.equal(decoder(z_u)[:, :, :2], decoder(w)[:, :, :2])
    assert decoder(z_u).shape == (3, 2, 5, 9)


def test_band_quantizer_ids_codes_and_commitment():
    torch.manual_seed(0)
    bands = frequency_bands(5, 1)
    quantizer = BandQuantizer(bands, K, 4, commitment_weight=1.0)
    z = torch.randn(8, 4, 5, 6)
    quantizer.train()
    quantizer(z, torch.Generator().manual_seed(0))  # initialises both codebooks
    quantizer.eval()
    out = quantizer(z)
    assert torch.equal(quantizer.codes_to_latent(out.indices), out.quantized)
    assert out.indices[:, 0].max() < K <= out.indices[:, 1:].min()
    # the row-weighted mean of the bands' losses: the mean over every position
    assert out.commitment_loss == pytest.approx(
        torch.nn.functional.mse_loss(z, out.quantized).item(), rel=1e-5
    )


def test_high_frequency_tokens_do_not_change_the_decoded_lowest_row():
    module = _module(split=1).eval()
    with torch.no_grad():
        _, idx = module.encode(_series())
        other = idx.clone()
        other[:, 1:] = K + (other[:, 1:] - K + 1) % K  # every high-frequency id changed
        decoded = [module.decoder(module.quantizer.codes_to_latent(i)) for i in (idx, other)]
    assert torch.equal(decoded[0][:, :, 0], decoded[1][:, :, 0])
    assert not torch.allclose(decoded[0][:, :, 1:], decoded[1][:, :, 1:])


def test_split_stage1_loss_falls():
    module = _module(split=1)
    x = _series(16)
    optimiser = torch.optim.AdamW(module.parameters(), lr=3e-3)
    generator = torch.Generator().manual_seed(0)
    losses = []
    for _ in range(40):
        out = module(x, generator)
        optimiser.zero_grad()
        out.loss.backward()
        optimiser.step()
        losses.append(out.terms["recon"].item())
    assert sum(losses[-5:]) < 0.7 * sum(losses[:5])
