"""A local folder of the four standard IDX files (each optionally gzipped) or a
Keras-style ``mnist.npz``, or the path of an .npz file."""

from __future__ import annotations

import os
import zipfile
import zlib
from pathlib import Path

import numpy as np

from centerloss.data.dataset import SPLIT_KEYS, DataError, Dataset, _make_dataset
from centerloss.data.idx import read_idx

NPZ_NAME = "mnist.npz"

IDX_FILES = {
    "x_train": "train-images-idx3-ubyte",
    "y_train": "train-labels-idx1-ubyte",
    "x_test": "t10k-images-idx3-ubyte",
    "y_test": "t10k-labels-idx1-ubyte",
}
"""Standard IDX file name (without the optional ``.gz``) for each array."""

_LOCAL_HINT = (
    "put the four IDX files "
    + ", ".join(f"{stem}[.gz]" for stem in IDX_FILES.values())
    + f" or a Keras {NPZ_NAME} in one folder and pass that folder "
    "(or the .npz file) as the path"
)


def _load_local(path: str | os.PathLike, class_names: tuple[str, ...], name: str) -> Dataset:
    """Load a folder of IDX files / mnist.npz, or an .npz file."""
    return _make_dataset(*_read_local(path), class_names, name)


def _read_local(path: str | os.PathLike) -> tuple[dict[str, np.ndarray], dict[str, str]]:
    """Read the four arrays of a folder of IDX files / mnist.npz, or an .npz file."""
    path = Path(path).expanduser()
    if path.is_file():
        return _read_npz(path)
    if not path.is_dir():
        raise DataError(f"{path} does not exist; {_LOCAL_HINT}.")
    found = {key: _find_idx(path, stem) for key, stem in IDX_FILES.items()}
    if all(found.values()):
        arrays = {key: read_idx(file) for key, file in found.items()}
        return arrays, {key: str(file) for key, file in found.items()}
    if (path / NPZ_NAME).is_file():
        return _read_npz(path / NPZ_NAME)
    missing = [f"{IDX_FILES[key]}[.gz]" for key, file in found.items() if not file]
    raise DataError(
        f"No MNIST-format data in {path}: missing {', '.join(missing)} "
        f"and no {NPZ_NAME}; {_LOCAL_HINT}."
    )


def _find_idx(folder: Path, stem: str) -> Path | None:
    """Return folder/stem or folder/stem.gz, whichever exists, else None."""
    for candidate in (folder / stem, folder / f"{stem}.gz"):
        if candidate.is_file():
            return candidate
    return None


def _read_npz(path: Path) -> tuple[dict[str, np.ndarray], dict[str, str]]:
    """Read the four arrays of a Keras-style .npz; also return their sources."""
    # np.load silently returns a bare array for .npy data, so check for zip.
    if not zipfile.is_zipfile(path):
        raise DataError(f"{path} is not an .npz (zip) archive; {_LOCAL_HINT}.")
    try:
        with np.load(path, allow_pickle=False) as npz:
            missing = [key for key in SPLIT_KEYS if key not in npz.files]
            if missing:
                raise DataError(
                    f"{path} lacks the arrays {', '.join(missing)} "
                    f"(has {', '.join(npz.files) or 'none'}); expected "
                    f"{', '.join(SPLIT_KEYS)} as Keras writes {NPZ_NAME}."
                )
            arrays = {key: npz[key] for key in SPLIT_KEYS}
    except (OSError, ValueError, EOFError, zipfile.BadZipFile, zlib.error) as exc:
        raise DataError(f"{path} is a broken .npz archive ({exc}).") from exc
    return arrays, {key: f"{path}[{key}]" for key in SPLIT_KEYS}
