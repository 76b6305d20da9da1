import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import matplotlib  # noqa: E402
import tensorflow as tf  # noqa: E402

# Agg for this process only: an MPLBACKEND variable would be inherited by the
# notebook kernels that nbval starts in the same run, and hide their figures.
matplotlib.use("Agg")

# Two logical CPUs so MirroredStrategy can be tested without a GPU. This must
# happen before TensorFlow initialises its devices, i.e. before any test runs.
tf.config.set_logical_device_configuration(
    tf.config.list_physical_devices("CPU")[0],
    [tf.config.LogicalDeviceConfiguration(), tf.config.LogicalDeviceConfiguration()],
)
