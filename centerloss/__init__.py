"""Center Loss (Wen et al., ECCV 2016) for TensorFlow 2 / Keras 3.

The public surface, importable from the package itself::

    import centerloss
    centerloss.CenterLossModel(backbone, lambda_=0.1, alpha=0.5)   # the Keras wiring
    centerloss.softmax_loss(logits, labels)                         # eq. (1)
    centerloss.center_loss(features, labels, centers)               # eq. (2)
    centerloss.joint_loss(logits, features, labels, centers, lambda_)  # eq. (4)
    centerloss.update_centers(centers, features, labels, alpha)     # eq. (3), Algorithm 1

The package has three layers, and each imports only the ones above it:

* **the paper's core**: ``loss`` (eqs. 1-4 and Algorithm 1, with their numbers),
  ``margins`` (the angular-margin losses that followed: NormFace, SphereFace,
  CosFace, ArcFace), ``model`` (``CenterLossModel`` and ``AngularMarginModel``,
  the Keras wiring), ``checks`` (input
  validation) and ``article`` (the TF1 API of the article this project grew
  from, with its two flaws fixed);
* **the library the lessons import**: ``config`` (``TrainingConfig``), ``data``
  (``load_dataset``), ``networks``, ``recipe`` (the classroom recipe: ``train``,
  ``compare``), ``snapshots``, ``metrics``, ``plots``, ``live``, ``legibility``,
  ``precision`` and ``files``;
* **the programs** in ``centerloss.apps``: the command line, the demo,
  ``reproduce`` and the playground. The library never imports them.

Names are loaded on first use, so ``import centerloss`` is cheap and
``python -m centerloss --help`` needs no TensorFlow.
"""

import importlib
import os
import sys

# TensorFlow's C++ start-up chatter (CUDA probing, oneDNN notices) drowns a
# student's first cell; keep warnings and errors.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
# TensorFlow 2.21 prints some of it regardless. Under Jupyter, ipykernel copies
# everything written to file descriptor 2 into the cell; point that descriptor
# back at the terminal that runs Jupyter, where native logs went before
# ipykernel 6. Python's own warnings (sys.stderr) still show in the cell.
if getattr(sys.stderr, "_original_stdstream_copy", None) is not None:
    os.dup2(sys.stderr._original_stdstream_copy, 2)

__version__ = "0.1.0"

_EXPORTS = {
    "AngularMarginModel": "centerloss.model",
    "CenterLossModel": "centerloss.model",
    "center_loss": "centerloss.loss",
    "joint_loss": "centerloss.loss",
    "softmax_loss": "centerloss.loss",
    "update_centers": "centerloss.loss",
}
_SUBMODULES = (
    "article",
    "config",
    "data",
    "live",
    "loss",
    "margins",
    "metrics",
    "model",
    "networks",
    "plots",
    "recipe",
    "snapshots",
)
__all__ = [*_EXPORTS, *_SUBMODULES]


def __getattr__(name):
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    if name in _SUBMODULES:
        return importlib.import_module(f"centerloss.{name}")
    raise AttributeError(f"module 'centerloss' has no attribute {name!r}")


def __dir__():
    return sorted([*globals(), *__all__])
