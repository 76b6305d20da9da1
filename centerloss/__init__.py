"""Center Loss (Wen et al., ECCV 2016) for TensorFlow 2 / Keras 3."""

import os

# TensorFlow's C++ start-up chatter (CUDA probing, oneDNN notices) drowns a
# student's first cell; keep warnings and errors.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from centerloss.loss import center_loss, update_centers  # noqa: E402

__all__ = ["center_loss", "update_centers"]
__version__ = "0.1.0"
