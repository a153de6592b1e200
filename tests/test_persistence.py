"""Tests for skncvqvae._persistence: ``save`` and ``load`` through safetensors,
the registry of estimator classes, and what loading imports."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
import torch

import skncvqvae
from skncvqvae import NCVQVAEGenerator, NCVQVAETokenizer, _persistence
from skncvqvae.metrics import FCNClassifier

from _helpers import TINY_GENERATOR, make_sines

TINY = NCVQVAETokenizer._get_test_params()
TINY_FCN = FCNClassifier._get_test_params()


def _tokenizer(**params):
    return NCVQVAETokenizer(**{**TINY, **params})


@pytest.mark.parametrize(
    "make",
    [
        lambda: (_tokenizer(output="tokens"), make_sines(n=12, length=32), None),
        lambda: (_tokenizer(hop_length=1), make_sines(n=12, length=32), None),
        lambda: (
            NCVQVAEGenerator(_tokenizer(max_epochs=3), **TINY_GENERATOR),
            make_sines(n=12, length=32),
            np.array([3, 7] * 6),
        ),
        lambda: (FCNClassifier(**TINY_FCN), make_sines(n=12, length=32), np.array(["x", "y"] * 6)),
    ],
    ids=["tokenizer", "tokenizer-hop-1", "generator", "fcn"],
)
def test_save_and_load_round_trip(make, tmp_path):
    estimator, X, y = make()
    estimator.fit(X, y)
    path = estimator.save(tmp_path / "model.safetensors")
    loaded = skncvqvae.load(path)
    assert type(loaded) is type(estimator)
    assert repr(loaded.get_params()) == repr(estimator.get_params())
    assert loaded.history_ == estimator.history_
    if isinstance(estimator, NCVQVAEGenerator):
        np.testing.assert_array_equal(
            loaded.sample(4, random_state=2)[0], estimator.sample(4, random_state=2)[0]
        )
        assert loaded.classes_.dtype == estimator.classes_.dtype
        assert len(estimator.decoder_loss_) == estimator.decoder_steps
        np.testing.assert_array_equal(loaded.decoder_loss_, estimator.decoder_loss_)
    elif isinstance(estimator, FCNClassifier):
        np.testing.assert_array_equal(loaded.predict_proba(X), estimator.predict_proba(X))
    else:
        np.testing.assert_array_equal(loaded.transform(X), estimator.transform(X))


def test_load_rejects_other_files(tmp_path):
    from safetensors.torch import save_file

    save_file({"w": torch.zeros(2)}, str(tmp_path / "other.safetensors"))
    with pytest.raises(ValueError, match="not a file written by skncvqvae"):
        skncvqvae.load(tmp_path / "other.safetensors")


def test_cuda_trained_model_loads_on_the_cpu(tmp_path):
    tok = _tokenizer().fit(make_sines(n=12, length=32))
    tok.save(tmp_path / "m.safetensors")
    import json

    from safetensors import safe_open
    from safetensors.torch import save_file

    with safe_open(str(tmp_path / "m.safetensors"), framework="pt") as f:
        meta, tensors = f.metadata(), {k: f.get_tensor(k) for k in f.keys()}
    header = json.loads(meta["skncvqvae"])
    header["estimator"]["params"]["device"] = "cuda"  # as saved from a GPU machine
    save_file(
        tensors, str(tmp_path / "gpu.safetensors"), metadata={"skncvqvae": json.dumps(header)}
    )
    if torch.cuda.is_available():
        pytest.skip("a GPU is available here")
    with pytest.warns(UserWarning, match="loaded on the CPU"):
        loaded = skncvqvae.load(tmp_path / "gpu.safetensors")
    np.testing.assert_array_equal(
        loaded.transform(make_sines(n=3, length=32)), tok.transform(make_sines(n=3, length=32))
    )


# -- the registry of classes ----------------------------------------------------------
def test_the_registry_holds_the_estimators():
    for cls in (NCVQVAETokenizer, NCVQVAEGenerator, FCNClassifier):
        assert _persistence._REGISTRY[cls.__name__] is cls


def test_load_finds_classes_in_the_registry_that_subclassing_fills(tmp_path, monkeypatch):
    """A subclass of ``BaseTorchEstimator`` is registered as it is defined
    (``__init_subclass__``) and ``load`` rebuilds it from there; a file naming a
    class that is not in the registry is refused."""
    monkeypatch.setattr(_persistence, "_REGISTRY", dict(_persistence._REGISTRY))

    class LocalTokenizer(NCVQVAETokenizer):
        pass

    assert _persistence._REGISTRY["LocalTokenizer"] is LocalTokenizer
    X = make_sines(n=8, length=32)
    tokenizer = LocalTokenizer(**TINY).fit(X)
    path = tokenizer.save(tmp_path / "local.safetensors")
    loaded = skncvqvae.load(path)
    assert type(loaded) is LocalTokenizer
    np.testing.assert_array_equal(loaded.transform(X), tokenizer.transform(X))
    del _persistence._REGISTRY["LocalTokenizer"]
    with pytest.raises(ValueError, match="unknown estimator class"):
        skncvqvae.load(path)


# -- what loading imports -----------------------------------------------------------------
def _fresh_python(code: str, *args: str):
    """The JSON value that ``code``, run in a fresh interpreter, prints on its last line."""
    result = subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, timeout=600
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.splitlines()[-1])


def test_loading_a_tokenizer_imports_neither_matplotlib_nor_the_evaluation(tmp_path):
    """Loading a saved tokenizer in a fresh interpreter imports neither matplotlib
    nor ``skncvqvae.evaluation`` (the report and its figures sit above the
    estimators).

    pandas: scikit-learn 1.9 itself imports pandas (where it is installed), so
    pandas may be imported only when a bare ``import sklearn`` in a fresh
    interpreter imports it too.
    """
    X = make_sines(n=8, length=32)
    path = NCVQVAETokenizer(**TINY).fit(X).save(tmp_path / "tokenizer.safetensors")
    loaded = _fresh_python(
        "import sys, json, skncvqvae; est = skncvqvae.load(sys.argv[1]); "
        "print(json.dumps([type(est).__name__, sorted(sys.modules)]))",
        str(path),
    )
    name, modules = loaded[0], set(loaded[1])
    assert name == "NCVQVAETokenizer"
    assert "matplotlib" not in modules
    assert not [m for m in modules if m.split(".")[:2] == ["skncvqvae", "evaluation"]]
    sklearn_modules = _fresh_python(
        "import sys, json, sklearn; print(json.dumps(sorted(sys.modules)))"
    )
    assert "pandas" not in modules or "pandas" in sklearn_modules
