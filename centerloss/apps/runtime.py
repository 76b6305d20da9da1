"""TensorFlow, imported quietly, and what this machine offers it.

TensorFlow 2.21 writes several lines to file descriptor 2 while it starts
(the absl pre-init notice, the oneDNN notice, "Could not find cuda drivers",
sometimes "failed call to cuInit ... UNKNOWN ERROR (303)"), whatever
``TF_CPP_MIN_LOG_LEVEL`` says. Nothing is wrong when they appear, but a
newcomer reads "error". :func:`import_tensorflow` points descriptor 2 at a
temporary file only while TensorFlow imports and probes its devices, then
restores it, so warnings and errors that come later still reach the terminal.
Set ``CENTERLOSS_VERBOSE=1`` (or pass ``--verbose`` on the command line) to
see the start-up lines again, e.g. when the process dies inside the import
(an abort leaves no Python exception to replay the hidden lines with).
"""

from __future__ import annotations

import contextlib
import os
import platform
import sys
import tempfile
from collections.abc import Iterator
from importlib import metadata
from types import ModuleType

from centerloss import __version__

VERBOSE_VARIABLE = "CENTERLOSS_VERBOSE"


def import_tensorflow(verbose: bool | None = None) -> ModuleType:
    """Import TensorFlow and Keras, hiding their native start-up lines.

    Args:
      verbose: show the start-up lines; default: the ``CENTERLOSS_VERBOSE``
        environment variable is set to something other than "" or "0".

    Returns:
      The ``tensorflow`` module. If the import itself fails, the hidden lines
      are printed before the exception propagates, so nothing is lost.
    """
    if "tensorflow" in sys.modules:
        return sys.modules["tensorflow"]
    if verbose is None:
        verbose = os.environ.get(VERBOSE_VARIABLE, "") not in ("", "0")
    with contextlib.nullcontext() if verbose else _native_stderr_hidden():
        import keras  # noqa: F401  (Keras 3 starts TensorFlow's runtime too)
        import tensorflow as tf

        # Device discovery (cuInit and friends) logs on first use, not on import.
        tf.config.list_physical_devices()
    return tf


@contextlib.contextmanager
def _native_stderr_hidden() -> Iterator[None]:
    """Send file descriptor 2 to a temporary file; replay it if an error escapes."""
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as captured:
        os.dup2(captured.fileno(), 2)
        try:
            yield
        except BaseException:
            _restore(saved)
            captured.seek(0)
            sys.stderr.write(captured.read().decode(errors="replace"))
            raise
        _restore(saved)


def _restore(saved: int) -> None:
    sys.stderr.flush()
    os.dup2(saved, 2)
    os.close(saved)


def bf16_instructions() -> list[str]:
    """The CPU's bfloat16 instruction sets, e.g. ``["amx_bf16", "avx512_bf16"]``; [] if unknown."""
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("flags"):
                    return sorted(flag for flag in line.split() if "bf16" in flag)
    except OSError:
        pass
    return []


def cpu_model() -> str:
    """The CPU's model name, e.g. ``"AMD EPYC 9R14"``; the architecture if unknown."""
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine() -> dict:
    """What runs this process: CPU model and count, bfloat16 instructions, GPUs, versions.

    The record a job keeps with its results (``reproduce``'s result files),
    and what ``python -m centerloss --version`` prints (:func:`describe`).
    """
    tf = import_tensorflow()
    affinity = getattr(os, "sched_getaffinity", None)
    return {
        "cpu": cpu_model(),
        "cpu_count": os.cpu_count(),
        "usable_cpus": len(affinity(0)) if affinity else None,
        "bf16_instructions": bf16_instructions(),
        "gpus": [gpu.name for gpu in tf.config.list_physical_devices("GPU")],
        "centerloss": __version__,
        "tensorflow": tf.__version__,
        "keras": metadata.version("keras"),
        "python": platform.python_version(),
    }


def describe() -> str:
    """:func:`machine` as the lines ``python -m centerloss --version`` prints."""
    info = machine()
    bf16 = info["bf16_instructions"]
    lines = [
        f"centerloss {info['centerloss']}",
        f"TensorFlow {info['tensorflow']}, Keras {info['keras']}, Python {info['python']}",
        f"GPU: {', '.join(info['gpus']) or 'none found'}",
        f"CPU: {info['cpu']}, {info['usable_cpus'] or info['cpu_count']} usable cores",
        f"CPU bfloat16 instructions: {', '.join(bf16) if bf16 else 'none found'}"
        + (" (--precision bfloat16 is faster here)" if bf16 else ""),
    ]
    return "\n".join(lines)
