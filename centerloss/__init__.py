"""Center Loss (Wen et al., ECCV 2016) for TensorFlow 2 / Keras 3."""

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

from centerloss.loss import center_loss, update_centers  # noqa: E402

__all__ = ["center_loss", "update_centers"]
__version__ = "0.1.0"
