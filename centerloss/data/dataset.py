"""The common layout every loader returns, and what can be done with it.

:class:`Dataset`: images float32 in [0, 1] shaped (N, 28, 28, 1), labels int32
shaped (N,), whatever the source. :func:`_make_dataset` (through
:func:`_normalise`) is the single place that brings raw arrays into that layout;
:func:`subsample` and :func:`select_classes` cut a Dataset down. A source that is
missing or broken raises :class:`DataError`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from sklearn.model_selection import train_test_split

DIGIT_NAMES = tuple(str(digit) for digit in range(10))

SPLIT_KEYS = ("x_train", "y_train", "x_test", "y_test")
"""Array names used throughout, as Keras writes them in ``mnist.npz``."""

IMAGE_SIDE = 28
NUM_CLASSES = 10


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
