"""IDX, the file format of MNIST and Fashion-MNIST: one file per array, optionally gzipped."""

from __future__ import annotations

import gzip
import math
import os
import struct
import zlib
from pathlib import Path

import numpy as np

from centerloss.data.dataset import DataError

_GZIP_MAGIC = b"\x1f\x8b"
_IDX_UINT8 = 0x08  # the only IDX element type MNIST-format files use


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
