import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("MPLBACKEND", "Agg")

import tensorflow as tf  # noqa: E402

# Two logical CPUs so MirroredStrategy can be tested without a GPU. This must
# happen before TensorFlow initialises its devices, i.e. before any test runs.
tf.config.set_logical_device_configuration(
    tf.config.list_physical_devices("CPU")[0],
    [tf.config.LogicalDeviceConfiguration(), tf.config.LogicalDeviceConfiguration()])
