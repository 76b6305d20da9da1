"""A finished run's result file, and the check that a kept run belongs to the job.

A finished run leaves ``snapshots_lambda-<λ>.npz`` in the job's folder: its
snapshots, metrics, time, precision and machine, compressed (about 0.2 MB a λ
on MNIST). That file alone is enough for ``--resume`` to keep the run.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

from centerloss.apps.outputs import data_summary
from centerloss.apps.reproduce import checkpoint
from centerloss.recipe import Run
from centerloss.snapshots import Snapshots

CHECKPOINT_FOLDER = "checkpoints"
RESULT_PATTERN = "snapshots_lambda-*.npz"


def result_path(output, lambda_) -> Path:
    """The result file of the run with ``lambda_`` in the job folder ``output``."""
    return Path(output) / RESULT_PATTERN.replace("*", f"{lambda_:g}")


@dataclasses.dataclass
class _Result:
    path: Path
    state: dict
    run: Run

    @property
    def lambda_(self):
        return self.run.lambda_


def load_result(path):
    """A finished run's result file as a :class:`_Result`; None for a checkpoint."""
    if path.parent.name == CHECKPOINT_FOLDER:
        return None
    try:
        state, arrays = checkpoint.load(path)
    except (KeyError, ValueError, OSError) as error:
        raise ValueError(
            f"{path} is not a result file of `reproduce` ({error}): move it out of the "
            "job's folder, or choose another --output."
        ) from error
    snapshots = Snapshots.from_arrays(arrays)
    run = Run(state["lambda"], None, snapshots.history, snapshots, state["metrics"])
    return _Result(path, state, run)


def read_result_state(path) -> dict:
    """The record a result file keeps besides the snapshots: settings, λ, data,
    step, seconds (training time), metrics, machine."""
    return checkpoint.load(path)[0]


def job_record(settings, lambda_, data):
    """What a run's files must agree on to belong to this job."""
    return {
        "settings": dataclasses.asdict(settings),
        "lambda": lambda_,
        "data": data_summary(data),
    }


def check_same_job(path, state, expected, *, finished=False):
    """Raise unless the run in ``path`` was trained as ``expected`` asks.

    A run depends on every setting but the other runs' λ: a job can add or drop
    a λ and keep the runs it has. A finished run may also have another
    precision (the λ added on a GPU in float32, say): the report says which.
    """
    ignored = ("lambdas", "precision") if finished else ("lambdas",)
    state, expected = json.loads(json.dumps(state)), json.loads(json.dumps(expected))
    for state_ in (state, expected):
        for key in ignored:
            state_["settings"].pop(key, None)
    # A kept run's λ need not be one asked for now.
    for key in ("settings", "data") if finished else ("settings", "lambda", "data"):
        if state[key] != expected[key]:
            raise ValueError(
                f"{path} was written with other {key} ({state[key]}) than asked for "
                f"now ({expected[key]}): resume with the same options, or start afresh "
                "in another --output."
            )
