"""The package's one way of turning ``random_state`` into seeds.

An estimator derives one integer seed per call from its ``random_state``
(:func:`derive_seed`) and splits it into independent streams where it needs
several (:func:`spawn_seeds`). Module initialisation draws from torch's global
generator, so it runs inside :func:`seeded`, a fork of that generator's state.
Nothing here touches numpy's or torch's global state outside such a fork.
"""

from __future__ import annotations

import contextlib
import numbers

import numpy as np
import torch

__all__ = ["derive_seed", "seeded", "spawn_seeds"]


def derive_seed(random_state) -> int:
    """Turn a scikit-learn ``random_state`` into a 63-bit integer seed.

    ``None`` draws fresh entropy without touching numpy's global RNG; an int is
    used as is (so results are reproducible); a ``RandomState`` or
    ``Generator`` is advanced by one draw, as scikit-learn estimators do.
    """
    if random_state is None:
        return int(np.random.SeedSequence().generate_state(1, dtype=np.uint64)[0] >> 1)
    if isinstance(random_state, numbers.Integral) and not isinstance(random_state, bool):
        return int(random_state)
    if isinstance(random_state, np.random.RandomState):
        return int(random_state.randint(0, 2**31 - 1))
    if isinstance(random_state, np.random.Generator):
        return int(random_state.integers(0, 2**63 - 1))
    raise ValueError(
        f"random_state must be None, an int, a numpy RandomState or Generator; "
        f"got {random_state!r}."
    )


def spawn_seeds(seed: int, n: int) -> list[int]:
    """``n`` independent 31-bit seeds derived from ``seed`` (numpy ``SeedSequence``)."""
    return [int(s) for s in np.random.SeedSequence(seed).generate_state(n) >> 1]


@contextlib.contextmanager
def seeded(seed: int):
    """Seed torch's global generators inside a fork of their state, restored on exit.

    Module initialisation draws from torch's global generator; forking keeps
    the caller's CPU and CUDA states untouched while making the draw
    reproducible.
    """
    devices = list(range(torch.cuda.device_count())) if torch.cuda.is_available() else []
    with torch.random.fork_rng(devices=devices):
        torch.manual_seed(seed)
        yield
