"""``"fashion-mnist"``: full Fashion-MNIST 60,000 / 10,000 from the Debian
package ``dataset-fashion-mnist``, via Keras, or a local folder."""

from __future__ import annotations

import os
import warnings
from pathlib import Path

from centerloss.data.dataset import DataError, Dataset
from centerloss.data.keras_download import _download
from centerloss.data.local_files import _load_local

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
