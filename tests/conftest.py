import os
import re

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
# Under pytest-xdist (README's test command runs two workers), each worker gets its
# share of the cores for TensorFlow's kernels, and so do the notebook kernels that
# nbval starts from it (they inherit the variable): two processes of one thread each
# keep both cores busier than one process of two, which leaves them idle between steps.
_WORKERS = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))
if _WORKERS > 1:
    os.environ.setdefault("TF_NUM_INTRAOP_THREADS", str(max(1, (os.cpu_count() or 1) // _WORKERS)))

import matplotlib  # noqa: E402
import pytest  # noqa: E402
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


# The worked answers that share cached runs (tests/test_exercises.py): the playground's
# runs serve lessons 02, 03, 04 and 06.
_SHARED_RUNS = {"02": "playground", "03": "playground", "04": "playground", "06": "playground"}


@pytest.hookimpl(tryfirst=True)  # before xdist's own hook reads the groups
def pytest_collection_modifyitems(config, items):
    """Tests that share state run on one xdist worker (``--dist loadgroup``): a
    notebook's cells, in order in one kernel; a test module's, which share its
    fixtures; and the worked answers that share a cached run. Everything else is
    spread over the workers one group at a time."""
    for item in items:
        group = item.path.name
        lesson = re.match(r"test_(\d\d)_", item.name)
        if group == "test_exercises.py" and lesson:
            group = f"exercises {_SHARED_RUNS.get(lesson[1], lesson[1])}"
        item.add_marker(pytest.mark.xdist_group(group))
