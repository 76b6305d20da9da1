"""Keras's own copies: ``keras.datasets.<module>.load_data()`` (a download, or
Keras's cache) and the folder that cache lives in."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from centerloss.data.dataset import SPLIT_KEYS, DataError, Dataset, _make_dataset
from centerloss.data.local_files import _LOCAL_HINT


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


def _keras_cache_dir() -> Path:
    """Folder where ``keras.utils.get_file`` keeps downloaded datasets."""
    # Mirrors Keras: $KERAS_HOME, else ~/.keras (Keras itself falls back to
    # /tmp/.keras when the home folder is not writable).
    home = os.environ.get("KERAS_HOME") or Path.home() / ".keras"
    return Path(home) / "datasets"
