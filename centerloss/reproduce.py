"""``python -m centerloss reproduce``: the paper's MNIST experiment (Sec. 4.1, Fig. 3).

Trains the paper's LeNet++ with the authors' published settings
(:class:`centerloss.paper.PaperSettings`) once per λ, from the same initial
weights and data order, then writes the demo's figures, ``metrics.json`` and
a Markdown report. It is a long job and behaves like one:

* progress with an ETA (one line updated in place on a terminal, a line per
  epoch otherwise);
* a checkpoint per run after every epoch (weights, centers, optimizer and
  metric state, snapshots so far, step), written atomically; the data order
  is a function of (seed, step), so it needs no saving;
* several training steps per call into TensorFlow, as ``fit`` runs them;
* ``resume=True`` continues from the checkpoints and gives the same weights,
  centers and numbers as an uninterrupted run; Ctrl-C finishes the current
  call (at most 32 steps), saves a checkpoint and says how to resume (a second Ctrl-C quits at
  once; then, as after a killed process, training resumes from the last
  epoch's checkpoint);
* a finished run leaves a small result file, ``snapshots_lambda-<λ>.npz``
  (its snapshots, metrics, time and machine), which is all ``resume`` needs
  to keep it: a sweep can be finished a few λ at a time, on other machines,
  with the checkpoints deleted in between (they do not belong in git).

Where this differs from the Caffe release (see docs/reproducing.md):
Algorithm 1 moves the centers by c_j ← c_j − α·Δc_j directly, while Caffe
feeds Δc_j to its solver (learning rate, momentum); centers start at 0 rather
than random; biases learn at the base rate (Caffe: twice it); each epoch is a
fresh seeded shuffle (Caffe reads its database in order).
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import math
import os
import signal
import sys
import threading
import time
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from centerloss import checkpoint, plots, runtime
from centerloss.data import Dataset, load_dataset
from centerloss.demo import save_figure, save_figures
from centerloss.experiment import (
    METRIC_COLUMNS,
    Run,
    evaluate_test_set,
    run_label,
    snapshot_recorder,
)
from centerloss.files import atomic_output
from centerloss.model import CenterLossModel
from centerloss.networks import lenet_plus_plus
from centerloss.paper import CAFFE_RELEASE, PaperSettings
from centerloss.precision import dtype_policy
from centerloss.snapshots import Snapshots

CHECKPOINT_FOLDER = "checkpoints"
RESULT_PATTERN = "snapshots_lambda-*.npz"
REPORT_NAME = "report.md"
LAMBDA_GRID = "lambdas.png"
STEPS_PER_CALL = 32
"""Training steps per call into TensorFlow, as ``compile(steps_per_execution=32)``
gives ``fit``: the same numbers, less time in Python."""


def caffe_inputs(images):
    """Images in [0, 1] scaled as the Caffe release feeds them: (255·x − 127.5) / 128."""
    return ((np.asarray(images, np.float32) * 255.0 - 127.5) * 0.0078125).astype(np.float32)


def reproduce(
    data: Dataset,
    settings: PaperSettings | None = None,
    output: str | os.PathLike = "reproduce-output",
    *,
    resume: bool = False,
    progress=None,
    on_step=None,
    steps_per_call: int = STEPS_PER_CALL,
):
    """Train LeNet++ once per λ of ``settings``, checkpointing every epoch.

    Args:
      data: the Dataset, images in [0, 1] (scaled here as Caffe does).
      settings: a :class:`PaperSettings`; default the authors' settings.
      output: folder; checkpoints go to ``output/checkpoints/``, each
        finished run's result file to ``output/snapshots_lambda-<λ>.npz``.
      resume: keep the finished runs in ``output`` (their result files, of
        any λ) and continue the others from their checkpoints (a run without
        one starts afresh). False refuses to overwrite an earlier job.
      progress: a :class:`Progress` (default: one on stdout).
      on_step: called as ``on_step(lambda_, step)`` after every call into
        TensorFlow, when the state is consistent; raising KeyboardInterrupt
        there saves a checkpoint first, as Ctrl-C does (tests use it to interrupt).
      steps_per_call: training steps per call into TensorFlow; the numbers do
        not depend on it (1 lets ``on_step`` see every step).

    Returns:
      {run label: ``experiment.Run``} of every finished run in ``output``
      (those of ``settings.lambdas`` and, on resume, any kept from earlier
      jobs), by increasing λ. Each run's ``metrics`` are ``feature_metrics``
      of the whole test set; a kept run has ``model=None``.
    """
    settings = settings or PaperSettings()
    output = Path(output)
    folder = output / CHECKPOINT_FOLDER
    paths = {lam: folder / f"lambda-{lam:g}.npz" for lam in settings.lambdas}
    existing = [path for path in paths.values() if path.exists()]
    existing += sorted(output.glob(RESULT_PATTERN))
    if existing and not resume:
        raise ValueError(
            f"{output} already holds a job ({existing[0].name}, ...): pass --resume "
            "to continue it, or choose another --output."
        )
    # A finished run whose checkpoint is still there restores from it (with its
    # model); one whose checkpoint is gone is kept from its result file.
    finished = {
        result.lambda_: result
        for result in map(_load_result, existing)
        if result is not None and not (result.lambda_ in paths and paths[result.lambda_].exists())
    }
    for run in finished.values():
        _check_same_job(run.path, run.state, _job(settings, run.lambda_, data), finished=True)
    folder.mkdir(parents=True, exist_ok=True)
    data = dataclasses.replace(
        data, x_train=caffe_inputs(data.x_train), x_test=caffe_inputs(data.x_test)
    )
    to_train = [lam for lam in settings.lambdas if lam not in finished]
    progress = progress or Progress(len(to_train) * settings.iterations)
    runs = {lam: run.run for lam, run in finished.items()}
    with _stop_on_ctrl_c() as stop:
        for lambda_ in to_train:
            trainer = _Trainer(
                data, settings, lambda_, paths[lambda_], progress, steps_per_call,
                result=result_path(output, lambda_),
            )  # fmt: skip
            runs[lambda_] = trainer.train(resume=resume, on_step=on_step, stop=stop)
    return {run.label: run for _, run in sorted(runs.items())}


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


def _load_result(path):
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


def _job(settings, lambda_, data):
    """What a run's files must agree on to belong to this job."""
    return {
        "settings": dataclasses.asdict(settings),
        "lambda": lambda_,
        "data": _data_summary(data),
    }


def _check_same_job(path, state, expected, *, finished=False):
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


class _Trainer:
    """One run: LeNet++ with one λ, trained step by step from its checkpoint."""

    def __init__(
        self, data, settings, lambda_, path, progress, steps_per_call=STEPS_PER_CALL, *, result
    ):
        self.data, self.settings, self.lambda_, self.path = data, settings, lambda_, path
        self.result = result
        self.progress, self.steps_per_call = progress, steps_per_call
        # Same seed for every λ: the runs start from the same weights.
        keras.utils.set_random_seed(settings.seed)
        with dtype_policy(settings.precision):
            backbone = lenet_plus_plus(
                num_classes=len(data.class_names),
                input_shape=data.x_train.shape[1:],
                caffe=True,
                weight_decay=settings.weight_decay,
            )
        self.model = CenterLossModel(backbone, lambda_=lambda_, alpha=settings.alpha)
        schedule = keras.optimizers.schedules.PiecewiseConstantDecay(
            # The optimizer reads its step count before incrementing it: 0-based, like Caffe.
            [step - 1 for step in settings.lr_steps],
            [settings.learning_rate_at(step) for step in (0, *settings.lr_steps)],
        )
        self.model.compile(
            optimizer=keras.optimizers.SGD(schedule, momentum=settings.momentum),
            steps_per_execution=steps_per_call,
        )
        self.model.optimizer.build(self.model.trainable_variables)
        # Validation is a pass over the whole test set per epoch (see below).
        self.recorder = snapshot_recorder(data, settings, validate=False)
        self.recorder.set_model(self.model)
        self.model.make_train_function()
        self.steps_per_epoch = len(data.x_train) // settings.batch_size
        if self.steps_per_epoch == 0:
            raise ValueError(
                f"batch size {settings.batch_size} exceeds the {len(data.x_train)} training images."
            )
        self.step, self.seconds, self.earlier, self.metrics = 0, 0.0, None, None
        self._started = time.perf_counter()
        self._shuffle = (None, None)  # (epoch, its shuffle), computed once per epoch

    @property
    def label(self):
        return run_label(self.lambda_)

    def train(self, resume, on_step, stop):
        if resume and self.path.exists():
            self._restore()
        else:
            self.recorder.on_train_begin()  # epoch 0: the untrained features
        finished_before = self.metrics is not None
        self.progress.start_run(self.label, self.step)
        self._started = time.perf_counter() - self.seconds
        while self.step < self.settings.iterations:
            if self.step % self.steps_per_epoch == 0:
                self.model.reset_metrics()  # training logs are means over one epoch
            epoch_end = (self.step // self.steps_per_epoch + 1) * self.steps_per_epoch
            logs = self.train_steps(min(epoch_end, self.settings.iterations), on_step, stop)
            self._end_epoch(logs)
            self._checkpoint()
        if self.metrics is None:
            self.metrics = evaluate_test_set(self.model, self.data, seed=self.settings.seed)
            self._checkpoint()
        if not (finished_before and self.result.exists()):  # else it is there, machine and all
            # Compressed: about 0.2 MB per λ on MNIST, small enough to commit with the report.
            state = {**self._state(), "machine": runtime.machine()}
            checkpoint.save(self.result, state, self.snapshots.to_arrays(), compressed=True)
        self.progress.end_run(self.label, self.metrics, self.seconds)
        return Run(self.lambda_, self.model, self.snapshots.history, self.snapshots, self.metrics)

    def train_steps(self, until, on_step=None, stop=None):
        """Train from ``self.step`` up to step ``until``, which lies within this epoch.

        Each call into TensorFlow runs up to ``steps_per_call`` steps, as
        ``fit`` does with ``steps_per_execution``: the same numbers, fewer
        round trips through Python. Ctrl-C and ``on_step`` are looked at after
        every call.

        Returns:
          The training logs after the last step (means over the epoch so far).
        """
        epoch, position = divmod(self.step, self.steps_per_epoch)
        size = self.settings.batch_size
        indices = self._order(epoch)[position * size : (position + until - self.step) * size]
        batches = iter(
            tf.data.Dataset.from_tensor_slices(
                (self.data.x_train[indices], self.data.y_train[indices])
            )
            .batch(size, drop_remainder=True)
            .prefetch(tf.data.AUTOTUNE)  # the next batch is cut while this one trains, as in fit
        )
        while self.step < until:
            logs = self.model.train_function(batches)
            logs = {name: float(value) for name, value in logs.items()}
            self.step = min(self.step + self.steps_per_call, until)
            self.progress.update(self.step, logs)
            try:
                if on_step is not None:
                    on_step(self.lambda_, self.step)
                if stop is not None and stop.is_set():
                    raise KeyboardInterrupt
            except KeyboardInterrupt:
                self._checkpoint()  # between two calls, the state is consistent
                raise
        return logs

    def _checkpoint(self):
        self.seconds = time.perf_counter() - self._started
        self._save()

    def _order(self, epoch):
        """The epoch's shuffle of the training images: a function of (seed, epoch) only.

        The last images of each shuffle (fewer than a batch) are left out, so
        every step has the same shape.
        """
        if self._shuffle[0] != epoch:
            rng = np.random.default_rng([self.settings.seed, epoch])
            self._shuffle = (epoch, rng.permutation(len(self.data.y_train)))
        return self._shuffle[1]

    def _end_epoch(self, logs):
        evaluated = self.model.evaluate(
            self.data.x_test, self.data.y_test, batch_size=500, verbose=0, return_dict=True
        )
        logs = {**logs, **{f"val_{name}": value for name, value in evaluated.items()}}
        self.recorder.on_epoch_end(self.step // self.steps_per_epoch, logs)
        self.progress.end_epoch(self.step, logs)

    @property
    def snapshots(self) -> Snapshots:
        """Snapshots of earlier sessions (from the checkpoint) followed by this session's."""
        try:
            recorded = self.recorder.snapshots
        except RuntimeError:  # nothing recorded since the resume yet
            recorded = None
        return concatenate_snapshots(self.earlier, recorded)

    def _state(self):
        return {
            **_job(self.settings, self.lambda_, self.data),
            "step": self.step,
            "seconds": self.seconds,
            "metrics": self.metrics,
        }

    def _save(self):
        arrays = {
            **checkpoint.pack_list("weights", self.model.get_weights()),
            **checkpoint.pack_list(
                "optimizer", [v.numpy() for v in self.model.optimizer.variables]
            ),
            **checkpoint.pack_list("metrics", [v.numpy() for v in _metric_variables(self.model)]),
            **self.snapshots.to_arrays("snapshots"),
        }
        checkpoint.save(self.path, self._state(), arrays)

    def _restore(self):
        state, arrays = checkpoint.load(self.path)
        _check_same_job(self.path, state, _job(self.settings, self.lambda_, self.data))
        self.model.set_weights(checkpoint.unpack_list("weights", arrays))
        for variable, value in zip(
            self.model.optimizer.variables, checkpoint.unpack_list("optimizer", arrays), strict=True
        ):
            variable.assign(value)
        for variable, value in zip(
            _metric_variables(self.model), checkpoint.unpack_list("metrics", arrays), strict=True
        ):
            variable.assign(value)
        self.earlier = Snapshots.from_arrays(arrays, "snapshots")
        self.step, self.seconds, self.metrics = state["step"], state["seconds"], state["metrics"]


def concatenate_snapshots(earlier: Snapshots | None, later: Snapshots | None) -> Snapshots:
    """One record from two sessions of the same run; ``later``'s epochs follow ``earlier``'s.

    ``later`` was recorded after a resume, so it has no epoch 0 and one
    history value per recorded epoch.
    """
    if earlier is None or later is None:
        if earlier is None and later is None:
            raise ValueError("No snapshots recorded in either session.")
        return earlier if later is None else later
    history = {
        key: list(earlier.history.get(key, [math.nan] * (len(earlier) - 1)))
        + list(later.history.get(key, [math.nan] * len(later)))
        for key in {**earlier.history, **later.history}
    }
    return Snapshots(
        epochs=np.arange(len(earlier) + len(later)),
        train_features=np.concatenate([earlier.train_features, later.train_features]),
        train_labels=earlier.train_labels,
        test_features=np.concatenate([earlier.test_features, later.test_features]),
        test_labels=earlier.test_labels,
        centers=np.concatenate([earlier.centers, later.centers]),
        history=history,
        class_names=earlier.class_names,
    )


def _metric_variables(model):
    return [variable for metric in model.metrics for variable in metric.variables]


PUBLISHED_ACCURACIES = (
    (
        "[KaiyangZhou/pytorch-center-loss](https://github.com/KaiyangZhou/pytorch-center-loss)",
        "softmax + center loss, its README's example log (epoch 30 of 100)",
        "0.9851",
    ),
)
"""Test accuracies of 2-D LeNet++-style networks on MNIST published by
re-implementations: (source, what was run, accuracy). The paper gives none
for Figure 3."""


def _published_accuracies(runs, data):
    """Report lines that set the runs' accuracies next to published ones (MNIST only)."""
    if data.name != "mnist":
        return []
    lines = [
        "## Next to the paper",
        "",
        "The paper gives no accuracy for Figure 3. Re-implementations with a 2-D feature "
        "layer report these test accuracies on the 10,000 MNIST test digits:",
        "",
        "| source | what | test accuracy |",
        "|---|---|---|",
    ]
    lines += [f"| {source} | {what} | {value} |" for source, what, value in PUBLISHED_ACCURACIES]
    lines += [
        f"| this job | {label} | {run.metrics['accuracy']:.4f} |" for label, run in runs.items()
    ]
    return [*lines, ""]


def _data_summary(data):
    return {"name": data.name, "train": len(data.x_train), "test": len(data.x_test)}


@contextlib.contextmanager
def _stop_on_ctrl_c():
    """Yield an Event that the first Ctrl-C sets; the training loop checks it
    between steps, saves and stops. A second Ctrl-C raises KeyboardInterrupt at
    once. Only the main thread can handle signals; elsewhere Ctrl-C is unchanged."""
    stop = threading.Event()

    def handle(signum, frame):
        if stop.is_set():
            raise KeyboardInterrupt
        stop.set()
        print(
            "\nCtrl-C: saving a checkpoint after this step (press again to quit at once).",
            file=sys.stderr,
            flush=True,
        )

    in_main = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGINT, handle) if in_main else None
    try:
        yield stop
    finally:
        if previous is not None:
            signal.signal(signal.SIGINT, previous)


class Progress:
    """Progress of the whole job, with an ETA from this session's speed.

    On a terminal, one line rewritten in place after every step; otherwise
    (a log file), one line per epoch.

    Args:
      total_steps: steps of all runs together.
      stream: where to write (default stdout).
      every: seconds between in-place updates.
    """

    def __init__(self, total_steps, stream=None, every=0.5):
        self.total_steps = total_steps
        self.stream = stream or sys.stdout
        self.live = self.stream.isatty()
        self.every = every
        self.done_before = 0  # steps of finished runs
        self.session_steps, self.session_started = 0, time.perf_counter()
        self.label, self.step, self.last_drawn = "", 0, 0.0

    def start_run(self, label, step):
        self.label, self.step = label, step
        self._write(f"{label}: starting at step {step:,}" if step else f"{label}: training")

    def update(self, step, logs):
        self.session_steps += step - self.step
        self.step = step
        now = time.perf_counter()
        if self.live and now - self.last_drawn >= self.every:
            self.last_drawn = now
            self.stream.write("\r" + self._line(logs) + "\033[K")
            self.stream.flush()

    def end_epoch(self, step, logs):
        line = self._line(logs) + (
            f" | test accuracy {logs['val_accuracy']:.4f}" if "val_accuracy" in logs else ""
        )
        self._write(line)

    def end_run(self, label, metrics, seconds):
        self.done_before += self.step
        self._write(
            f"{label}: done, test accuracy {metrics['accuracy']:.4f}, intra/inter ratio "
            f"{metrics['spread_ratio']:.4f} ({_duration(seconds)} of training)"
        )

    def _line(self, logs):
        elapsed = time.perf_counter() - self.session_started
        rate = self.session_steps / elapsed if elapsed > 0 else 0.0
        left = self.total_steps - self.done_before - self.step
        eta = _duration(left / rate) if rate > 0 else "?"
        return (
            f"{self.label} step {self.step:,}: loss {logs['loss']:.4f}, "
            f"accuracy {logs['accuracy']:.4f} | {rate:.1f} steps/s, ETA {eta}"
        )

    def _write(self, line):
        self.stream.write(
            ("\r" if self.live else "") + line + ("\033[K" if self.live else "") + "\n"
        )
        self.stream.flush()


def _duration(seconds):
    minutes, seconds = divmod(int(round(seconds)), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{seconds:02d}" if hours else f"{minutes}:{seconds:02d}"


def run_reproduce(args):
    """Run ``python -m centerloss reproduce`` for parsed ``args``; return the exit code."""
    settings = PaperSettings(
        lambdas=tuple(args.lambdas),
        alpha=args.alpha,
        iterations=args.iterations,
        seed=args.seed,
        precision=args.precision,
    )
    data = load_dataset(args.dataset, seed=args.seed)
    print(f"Data: {data.name}, {len(data.x_train):,} training / {len(data.x_test):,} test images")
    print(f"Settings: {settings}", flush=True)
    try:
        runs = reproduce(data, settings, args.output, resume=args.resume)
    except KeyboardInterrupt:
        print(
            f"\nStopped; the checkpoints are in {args.output / CHECKPOINT_FOLDER}/. "
            f"Continue with:\n  {_resume_command(args.argv)}",
            file=sys.stderr,
        )
        return 130
    lambdas = [run.lambda_ for run in runs.values()]
    settings = dataclasses.replace(settings, lambdas=tuple(lambdas))
    command = job_command(args.argv, lambdas)
    written = write_outputs(runs, data, settings, args.output, command=command)
    print(f"Wrote {', '.join(written)} to {args.output}/")
    return 0


def job_command(arguments, lambdas):
    """The command that gives the finished job in one go: ``arguments`` with
    ``--lambdas`` set to every finished λ (in place, else appended) and without
    ``--resume``. A sweep finished a few λ at a time reports the same command as
    one uninterrupted job.
    """
    words, kept = list(arguments), []
    while words:
        word = words.pop(0)
        if word == "--lambdas":
            while words and not words[0].startswith("--"):
                words.pop(0)
            kept.append(None)  # where the λ go
        elif word != "--resume":
            kept.append(word)
    if None not in kept:
        kept.append(None)
    place = kept.index(None)
    kept[place : place + 1] = ["--lambdas", *(f"{lam:g}" for lam in lambdas)]
    return "python -m centerloss " + " ".join(kept)


def _resume_command(arguments):
    return "python -m centerloss " + " ".join(
        [*arguments, *([] if "--resume" in arguments else ["--resume"])]
    )


def write_outputs(runs, data, settings, output, *, command=""):
    """Figures, ``metrics.json``, snapshots and ``report.md`` of finished ``runs``.

    Returns:
      The file names written to ``output``.
    """
    output = Path(output)
    runs = dict(sorted(runs.items(), key=lambda item: item[1].lambda_))
    iterations = f"{settings.iterations:,} iterations"
    written = save_figures(
        headline_pair(runs),
        output,
        class_names=list(data.class_names),
        title=f"Test features after {iterations} ({data.name}, LeNet++)",
    )
    setting = f"{data.name}, LeNet++, {iterations}, α = {settings.alpha:g}"
    fig = plots.plot_lambda_grid(
        runs.values(),
        title=f"Test features, softmax + λ · center loss ({setting})",
        class_names=data.class_names,
        accuracy_digits=4,
        ncols=3,
    )
    save_figure(fig, output / LAMBDA_GRID)
    written.append(LAMBDA_GRID)
    # Each run's time, machine and precision, kept in its result file.
    records = {
        label: read_result_state(result_path(output, run.lambda_)) for label, run in runs.items()
    }
    written += [result_path(output, run.lambda_).name for run in runs.values()]
    report = {
        "dataset": _data_summary(data),
        "settings": dataclasses.asdict(settings),
        "runs": {
            label: {
                "lambda": run.lambda_,
                "precision": records[label]["settings"]["precision"],
                "training_seconds": round(records[label]["seconds"], 1),
                "machine": records[label]["machine"],
                "test_metrics": run.metrics,
                "history": run.history,
            }
            for label, run in runs.items()
        },
    }
    with atomic_output(output / "metrics.json") as temporary:
        temporary.write_text(json.dumps(report, indent=2))
    written.append("metrics.json")
    with atomic_output(output / REPORT_NAME) as temporary:
        temporary.write_text(markdown_report(runs, data, settings, records, command))
    written.append(REPORT_NAME)
    return written


def headline_pair(runs):
    """The runs the side-by-side figures show: softmax alone and one λ > 0.

    That λ is the paper's 0.01 where the job has it, else the largest; with
    no λ = 0 run, or a single run, every run is shown.
    """
    by_lambda = {run.lambda_: label for label, run in runs.items()}
    others = [lam for lam in by_lambda if lam > 0]
    if 0 not in by_lambda or not others:
        return runs
    chosen = 0.01 if 0.01 in by_lambda else max(others)
    return {by_lambda[lam]: runs[by_lambda[lam]] for lam in (0.0, chosen)}


def _machine_text(info):
    return (
        f"{info['cpu']}, {info['usable_cpus']} usable of {info['cpu_count']} CPUs, "
        f"bfloat16 instructions: {', '.join(info['bf16_instructions']) or 'none'}; "
        f"GPU: {', '.join(info['gpus']) or 'none'}; TensorFlow {info['tensorflow']}, "
        f"Keras {info['keras']}, Python {info['python']}"
    )


def markdown_report(runs, data, settings, records, command):
    """The job's report as Markdown: settings, data, machines, times, metrics, figures.

    Args:
      records: {run label: the state in its result file} (seconds, machine,
        precision).
    """
    labels = list(runs)
    precisions = {records[label]["settings"]["precision"] for label in labels}
    machines = list(dict.fromkeys(_machine_text(records[label]["machine"]) for label in labels))
    letters = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    images = settings.iterations * settings.batch_size
    lines = [
        f"# Center loss on {data.name}: the paper's MNIST experiment (LeNet++)",
        "",
        f"Command: `{command}`",
        "",
        "## Settings",
        "",
        f"The authors' published MNIST settings ({CAFFE_RELEASE}): LeNet++ "
        "(5×5 convs 32,32 / 64,64 / 128,128 with PReLU, max-pools, a 2-D feature layer, "
        'softmax layer without bias, Caffe\'s "xavier" initialisation, inputs scaled to '
        f"[−1, 1]); batch {settings.batch_size}; SGD, learning rate {settings.learning_rate:g}, "
        f"momentum {settings.momentum:g}, weight decay {settings.weight_decay:g}, learning rate "
        f"×{settings.lr_factor:g} at iterations {', '.join(f'{s:,}' for s in settings.lr_steps)}; "
        f"{settings.iterations:,} iterations per run; α = {settings.alpha:g}; "
        f"λ ∈ {{{', '.join(f'{lam:g}' for lam in settings.lambdas)}}}; seed {settings.seed}; "
        + (
            f"precision {precisions.pop()}." if len(precisions) == 1 else "precision per run below."
        ),
        "",
        f"Data: {data.name}, {len(data.x_train):,} training and {len(data.x_test):,} test "
        f"images; each run sees {images:,} training images "
        f"({images / len(data.x_train):.1f} epochs), a fresh seeded shuffle per epoch.",
        "",
        "## Machine and time",
        "",
        *(f"Machine {letter}: {text}." for letter, text in zip(letters, machines, strict=False)),
        "",
        "| run | machine | precision | training time | images/s |",
        "|---|---|---|---|---|",
    ]
    for label in labels:
        record = records[label]
        letter = letters[machines.index(_machine_text(record["machine"]))]
        seconds = record["seconds"]
        lines.append(
            f"| {label} | {letter} | {record['settings']['precision']} | {_duration(seconds)} "
            f"| {images / seconds:,.0f} |"
        )
    lines += [
        "",
        "Training time includes the per-epoch test-set evaluation and snapshots; a resumed "
        "job adds up its sessions. It depends on what else ran on the machine meanwhile.",
        "",
        f"## Test-set results ({len(data.x_test):,} images)",
        "",
        "| metric | " + " | ".join(labels) + " |",
        "|---|" + "---|" * len(labels),
    ]
    for key, name in METRIC_COLUMNS.items():
        lines.append(
            f"| {name} | "
            + " | ".join(f"{runs[label].metrics[key]:.4f}" for label in labels)
            + " |"
        )
    plain = next((run for run in runs.values() if run.lambda_ == 0), None)
    if plain is not None:
        lines.append("")
        for run in runs.values():
            if run.lambda_ > 0:
                ratio = run.metrics["spread_ratio"] / plain.metrics["spread_ratio"]
                lines.append(
                    f"With λ = {run.lambda_:g} the test set's intra/inter ratio is {ratio:.2f}× "
                    "the softmax-only run's (lower: more compact classes, as in Figure 3)."
                )
    lines += [
        "",
        "Intra/inter ratio: mean distance of a feature to its class mean over the mean "
        "distance between class means (lower is more compact); silhouette on 2,000 test "
        "features (higher is better clustered); see `centerloss.metrics.feature_metrics`.",
        "",
        *_published_accuracies(runs, data),
        "## Figures",
        "",
        "The paper's Figure 3: each run's test features after the last iteration, each panel "
        "in its own separation units (mean distance between class means = 1), with the "
        "intra/inter ratio and softmax accuracy under it:",
        "",
        f"![Test features for each λ]({LAMBDA_GRID})",
        "",
        "Test features at the end of "
        + (
            "each run"
            if len(headline_pair(runs)) == len(runs)
            else "softmax alone and " + list(headline_pair(runs))[-1]
        )
        + ", class centers marked:",
        "",
        "![Test features of each run](comparison.png)",
        "",
        "How the class centers moved, epoch by epoch:",
        "",
        "![Center trajectories](trajectories.png)",
        "",
        "Both runs at chosen epochs, one row per run (epoch 0, before training, has its own zoom):",
        "",
        "![Features at chosen epochs](epochs.png)",
        "",
        "## Differences from the Caffe release",
        "",
        "- Algorithm 1 moves the centers directly, c_j ← c_j − α·Δc_j; the Caffe release "
        "passes Δc_j to its solver as the centers' gradient, so there the step is scaled "
        "by the learning rate and smoothed by momentum.",
        '- Centers start at 0 (Caffe: random, "xavier" filler).',
        "- Biases learn at the base learning rate (Caffe: twice it, `lr_mult: 2`).",
        "- Every epoch is a fresh seeded shuffle with the last partial batch left out "
        "(Caffe reads its database in order).",
        "",
    ]
    return "\n".join(lines)
