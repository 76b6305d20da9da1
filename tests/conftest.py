import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
# Under pytest-xdist (README's test command runs two workers), each worker gets its
# share of the cores for TensorFlow's kernels, and so do the notebook kernels that
# nbval starts from it (they inherit the variable): two processes of one thread each
# keep both cores busier than one process of two, which leaves them idle between steps.
_WORKERS = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))
if _WORKERS > 1:
    os.environ.setdefault("TF_NUM_INTRAOP_THREADS", str(max(1, (os.cpu_count() or 1) // _WORKERS)))

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
