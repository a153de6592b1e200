"""Loading train/test splits by aeon dataset name or from local files."""

from __future__ import annotations

from pathlib import Path

import numpy as np

__all__ = ["BUNDLED", "load_dataset"]

#: aeon's classification datasets shipped inside its wheel: ``load_classification``
#: reads them from aeon's data folder, offline.
BUNDLED = (
    "GunPoint",
    "ArrowHead",
    "ItalyPowerDemand",
    "BasicMotions",
    "UnitTest",
    "ACSF1",
    "OSULeaf",
    "JapaneseVowels",  # unequal lengths
    "PickupGestureWiimoteZ",  # unequal lengths
)


def load_dataset(name: str):
    """Return ``(X_train, y_train, X_test, y_test)`` for a dataset.

    Parameters
    ----------
    name : str
        One of :data:`BUNDLED` (offline); a path to an ``.npz`` file with arrays
        ``X_train, y_train, X_test, y_test``; a path prefix ``DIR/NAME`` of
        ``NAME_TRAIN.ts`` and ``NAME_TEST.ts`` files; or any other UCR/UEA
        name, which aeon downloads where a network exists.

    Returns
    -------
    X_train, y_train, X_test, y_test : ndarray
        ``X`` of shape (n_cases, n_channels, n_timepoints), float64. For a
        dataset of unequal lengths (JapaneseVowels, PickupGestureWiimoteZ) each
        ``X`` is a list of ``(n_channels, n_timepoints_i)`` arrays, which the
        estimators take with ``unequal_length="resample"`` or ``"pad"``.
    """
    path = Path(name)
    if path.suffix == ".npz":
        if not path.is_file():
            raise ValueError(f"No such file: {path}.")
        with np.load(path, allow_pickle=False) as data:
            missing = {"X_train", "y_train", "X_test", "y_test"} - set(data.files)
            if missing:
                raise ValueError(f"{path} lacks the arrays {sorted(missing)}.")
            return tuple(
                np.asarray(data[key]) for key in ("X_train", "y_train", "X_test", "y_test")
            )
    train_ts = path.parent / f"{path.name}_TRAIN.ts"
    if train_ts.is_file():
        from aeon.datasets import load_from_ts_file

        X_train, y_train = load_from_ts_file(str(train_ts))
        X_test, y_test = load_from_ts_file(str(path.parent / f"{path.name}_TEST.ts"))
        return np.asarray(X_train), y_train, np.asarray(X_test), y_test
    from aeon.datasets import load_classification  # bundled names load offline

    try:
        X_train, y_train = load_classification(name, split="train")
        X_test, y_test = load_classification(name, split="test")
    except Exception as exc:  # aeon raises several types for a failed download
        raise ValueError(
            f"Could not load dataset {name!r}: it is not bundled with aeon "
            f"({sorted(BUNDLED)}), not an .npz file and not a DIR/NAME prefix of "
            f"NAME_TRAIN.ts/NAME_TEST.ts files, and aeon could not fetch it ({exc})."
        ) from exc
    return X_train, y_train, X_test, y_test
