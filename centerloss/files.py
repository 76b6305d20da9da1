"""File helpers: suffixes and all-or-nothing writes."""

from __future__ import annotations

import contextlib
import os
import uuid
from pathlib import Path


def with_suffix(path: str | os.PathLike, suffix: str) -> Path:
    """``path`` as a Path, with ``suffix`` appended unless it already ends so.

    Appends rather than replaces, like ``numpy.savez``: "run.v2" -> "run.v2.npz".
    """
    path = Path(path)
    return path if path.suffix == suffix else path.with_name(path.name + suffix)


@contextlib.contextmanager
def atomic_output(path: str | os.PathLike):
    """Yield a temporary path beside ``path``; on success it replaces ``path``.

    Writers that pick the format from the file name still work: the temporary
    name keeps the suffix. On error the temporary file is removed and ``path``
    is left as it was, so a crash never leaves a half-written file behind.
    """
    path = Path(path)
    # Same folder: os.replace is atomic only within one file system.
    temporary = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.tmp{path.suffix}")
    try:
        yield temporary
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)
