"""One-file training checkpoints: named arrays plus a JSON state, written atomically.

A checkpoint is a ``.npz`` file: the arrays under their names and the state
(a JSON-serialisable dict) as one string. It is written through
``files.atomic_output``, so a process killed while saving leaves the previous
checkpoint intact, never half of a new one.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np

from centerloss.files import atomic_output

_STATE_KEY = "__state__"


def save(
    path: str | os.PathLike, state: dict, arrays: dict[str, np.ndarray], *, compressed=False
) -> Path:
    """Write ``state`` and ``arrays`` to ``path`` (a ``.npz`` name), replacing it atomically.

    ``compressed`` zips the arrays: smaller, slower to write (for files kept, not
    for the checkpoint rewritten every epoch).
    """
    path = Path(path)
    if _STATE_KEY in arrays:
        raise ValueError(f"{_STATE_KEY!r} is reserved for the state; rename that array.")
    # An open file: np.savez would append ".npz" to a file name without it.
    with atomic_output(path) as temporary, open(temporary, "wb") as file:
        write = np.savez_compressed if compressed else np.savez
        write(file, **arrays, **{_STATE_KEY: json.dumps(state)})
    return path


def load(path: str | os.PathLike) -> tuple[dict, dict[str, np.ndarray]]:
    """(state, arrays) of a checkpoint written by :func:`save`."""
    with np.load(path) as stored:
        arrays = {name: stored[name] for name in stored.files if name != _STATE_KEY}
        state = json.loads(stored[_STATE_KEY].item())
    return state, arrays


def pack_list(prefix: str, values) -> dict[str, np.ndarray]:
    """{"prefix/0": values[0], ...}: a list of arrays (e.g. weights) as checkpoint entries."""
    return {f"{prefix}/{index}": np.asarray(value) for index, value in enumerate(values)}


def unpack_list(prefix: str, arrays: dict[str, np.ndarray]) -> list[np.ndarray]:
    """The list :func:`pack_list` stored under ``prefix``, in its order."""
    count = sum(name.startswith(f"{prefix}/") for name in arrays)
    return [arrays[f"{prefix}/{index}"] for index in range(count)]
