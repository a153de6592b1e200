"""Saving fitted estimators without pickle: ``estimator.save(path)`` and :func:`load`.

One ``.safetensors`` file: the modules' weights and generator states as tensors;
as JSON metadata the version, class, parameters, fitted attributes and what rebuilds
each net (module arguments, history, schedule step). Loading runs no code from the file.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import torch
from safetensors import safe_open
from safetensors.torch import save_file
from sklearn.utils.validation import check_is_fitted
from skorch.history import History

from ._training import resolve_device, restore_training_state, training_state
from ._version import __version__

__all__ = ["load", "register", "save"]

FORMAT = "skncvqvae.safetensors/1"

#: The estimator classes that files may name, by class name; filled by
#: :func:`register` (``BaseTorchEstimator`` registers every subclass).
_REGISTRY: dict[str, type] = {}


def register(cls: type) -> type:
    """Let saved files name ``cls``: :func:`load` rebuilds estimators of registered classes only."""
    _REGISTRY[cls.__name__] = cls
    return cls


def _is_estimator(value) -> bool:
    return _REGISTRY.get(type(value).__name__) is type(value)


# -- JSON encoding of parameters and fitted attributes -------------------------------
def _encode(value):
    """A JSON-able form of ``value``; arrays, tuples and estimators are tagged."""
    if _is_estimator(value):
        return {"__estimator__": type(value).__name__, "params": _encode(_params(value))}
    if isinstance(value, np.ndarray):
        return {"__array__": value.tolist(), "dtype": value.dtype.str}
    if isinstance(value, torch.Tensor):
        return {"__tensor_shape__": list(value.shape)}
    if isinstance(value, tuple):
        return {"__tuple__": [_encode(v) for v in value]}
    if isinstance(value, list):
        return [_encode(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _encode(v) for k, v in value.items()}
    if isinstance(value, np.generic):
        return value.item()
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    raise TypeError(f"cannot save a value of type {type(value).__name__}: {value!r}")


def _decode(value):
    if isinstance(value, list):
        return [_decode(v) for v in value]
    if not isinstance(value, dict):
        return value
    if "__estimator__" in value:
        return _estimator_class(value["__estimator__"])(**_decode(value["params"]))
    if "__array__" in value:
        dtype = np.dtype(value["dtype"])
        if dtype.kind == "O":
            return np.asarray(value["__array__"], dtype=object)
        return np.asarray(value["__array__"], dtype=dtype)
    if "__tensor_shape__" in value:
        return torch.zeros(value["__tensor_shape__"])
    if "__tuple__" in value:
        return tuple(_decode(v) for v in value["__tuple__"])
    return {k: _decode(v) for k, v in value.items()}


def _params(estimator) -> dict:
    params = estimator.get_params(deep=False)
    if not (params.get("random_state") is None or isinstance(params["random_state"], int)):
        warnings.warn(
            f"{type(estimator).__name__}.random_state is a {type(params['random_state']).__name__}, "
            "which cannot be saved; the loaded estimator has random_state=None.",
            UserWarning,
            stacklevel=4,
        )
        params["random_state"] = None
    return params


def _estimator_class(name: str):
    if name not in _REGISTRY:
        raise ValueError(f"the file holds an unknown estimator class {name!r}.")
    return _REGISTRY[name]


# -- estimators <-> (tensors, JSON) ---------------------------------------------------
def _fitted_attributes(estimator) -> dict:
    return {
        k: v
        for k, v in vars(estimator).items()
        if k.endswith("_") and not k.startswith("_") and k != "net_" and not _is_estimator(v)
    }


def _collect(estimator, prefix: str, tensors: dict) -> dict:
    """Add ``estimator``'s tensors under ``prefix``; return its JSON description."""
    net = estimator.net_
    for name, tensor in net.module_.state_dict().items():
        tensors[f"{prefix}module.{name}"] = tensor.detach().cpu().contiguous()
    if getattr(net, "generator_state_", None) is not None:
        tensors[f"{prefix}generator_state"] = net.generator_state_.cpu().contiguous()
    step, trained = training_state(net)
    for name, tensor in (trained or {}).items():
        tensors[f"{prefix}trained.{name}"] = tensor.detach().cpu().contiguous()
    nested = {
        k: _collect(v, f"{prefix}{k}.", tensors)
        for k, v in vars(estimator).items()
        if k.endswith("_") and _is_estimator(v)
    }
    return {
        "class": type(estimator).__name__,
        "params": _encode(_params(estimator)),
        "fitted": _encode(_fitted_attributes(estimator)),
        "build": _encode(net.build_args_),
        "history": net.history.to_list(),
        "schedule_step": step,
        "nested": nested,
    }


def _restore(description: dict, prefix: str, tensors: dict, device: str):
    estimator = _estimator_class(description["class"])(**_decode(description["params"]))
    for name, value in _decode(description["fitted"]).items():
        setattr(estimator, name, value)
    for name, nested in description["nested"].items():
        setattr(estimator, name, _restore(nested, f"{prefix}{name}.", tensors, device))
    if device is None:
        try:
            net_device = resolve_device(estimator.device)
        except ValueError:
            warnings.warn(
                f"The saved {description['class']} asks for device={estimator.device!r}, which "
                "is not available here; it is loaded on the CPU.",
                UserWarning,
                stacklevel=3,
            )
            net_device = "cpu"
    else:
        net_device = resolve_device(device)
    build = _decode(description["build"])
    net = estimator._make_net(build, net_device)
    net.initialize()
    state = {
        k[len(prefix) + len("module.") :]: v
        for k, v in tensors.items()
        if k.startswith(f"{prefix}module.")
    }
    net.module_.load_state_dict(state)
    net.module_.to(net_device).eval()
    net.history = History(description["history"])
    # A resumed fit trains on from the saved trained weights, not the module's average.
    trained = {
        k[len(prefix) + len("trained.") :]: v.to(net_device)
        for k, v in tensors.items()
        if k.startswith(f"{prefix}trained.")
    }
    restore_training_state(net, description["schedule_step"], trained)
    net.generator_state_ = tensors.get(f"{prefix}generator_state")
    net.build_args_ = build
    estimator.net_ = net
    return estimator


# -- public functions ----------------------------------------------------------------
def save(estimator, path) -> Path:
    """Write a fitted estimator to ``path`` (a ``.safetensors`` file); see :func:`load`."""
    check_is_fitted(estimator)
    tensors: dict = {}
    description = _collect(estimator, "", tensors)
    header = {"format": FORMAT, "version": __version__, "estimator": description}
    path = Path(path)
    save_file(tensors, str(path), metadata={"skncvqvae": json.dumps(header)})
    return path


def load(path, *, device: str | None = None):
    """Load an estimator written by ``estimator.save(path)``.

    Loading reads JSON and tensors only (``safetensors``): no code from the
    file is run, so files of unknown origin are safe to load, unlike pickle
    and joblib files, which can run arbitrary code.

    Parameters
    ----------
    path : str or path-like
        The ``.safetensors`` file.
    device : str or None, default=None
        Device of the loaded nets. ``None`` uses the estimator's ``device``
        parameter, or the CPU (with a warning) when that device is not
        available here, so a model trained on a GPU loads on a CPU-only machine.

    Returns
    -------
    estimator : NCVQVAETokenizer, NCVQVAEGenerator or FCNClassifier
        Fitted, with the same parameters, attributes, weights and training
        history; ``transform``/``sample`` give the results of the saved one,
        and ``warm_start=True`` continues its training.

    Raises
    ------
    ValueError
        If the file is not a skncvqvae file or was written by a newer,
        incompatible format.
    """
    with safe_open(str(path), framework="pt", device="cpu") as handle:
        metadata = handle.metadata() or {}
        if "skncvqvae" not in metadata:
            raise ValueError(f"{path} is not a file written by skncvqvae's save().")
        header = json.loads(metadata["skncvqvae"])
        tensors = {key: handle.get_tensor(key) for key in handle.keys()}
    if header.get("format") != FORMAT:
        raise ValueError(
            f"{path} has the format {header.get('format')!r}, written by skncvqvae "
            f"{header.get('version')}; this version ({__version__}) reads {FORMAT!r}."
        )
    if header.get("version") != __version__:
        warnings.warn(
            f"{path} was written by skncvqvae {header.get('version')}; loading it with "
            f"{__version__}.",
            UserWarning,
            stacklevel=2,
        )
    return _restore(header["estimator"], "", tensors, device)
