"""``python -m centerloss reproduce``: train the runs of the job, then write its outputs."""

from __future__ import annotations

import contextlib
import dataclasses
import os
import signal
import sys
import threading
from pathlib import Path

from centerloss.apps.reproduce.report import write_outputs
from centerloss.apps.reproduce.results import (
    CHECKPOINT_FOLDER,
    RESULT_PATTERN,
    check_same_job,
    job_record,
    load_result,
    result_path,
)
from centerloss.apps.reproduce.settings import PaperSettings
from centerloss.apps.reproduce.trainer import STEPS_PER_CALL, Trainer, caffe_inputs
from centerloss.data import Dataset, load_dataset
from centerloss.live import TrainingProgress, duration_text


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
      progress: a :class:`centerloss.live.TrainingProgress` shown for every
        run (default: one on stdout, updated after every call into TensorFlow).
      on_step: called as ``on_step(lambda_, step)`` after every call into
        TensorFlow, when the state is consistent; raising KeyboardInterrupt
        there saves a checkpoint first, as Ctrl-C does (tests use it to interrupt).
      steps_per_call: training steps per call into TensorFlow; the numbers do
        not depend on it (1 lets ``on_step`` see every step).

    Returns:
      {run label: ``recipe.Run``} of every finished run in ``output``
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
        for result in map(load_result, existing)
        if result is not None and not (result.lambda_ in paths and paths[result.lambda_].exists())
    }
    for run in finished.values():
        check_same_job(run.path, run.state, job_record(settings, run.lambda_, data), finished=True)
    folder.mkdir(parents=True, exist_ok=True)
    data = dataclasses.replace(
        data, x_train=caffe_inputs(data.x_train), x_test=caffe_inputs(data.x_test)
    )
    to_train = [lam for lam in settings.lambdas if lam not in finished]
    progress = progress or TrainingProgress(every_steps=1)
    runs = {lam: run.run for lam, run in finished.items()}
    with _stop_on_ctrl_c() as stop:
        for lambda_ in to_train:
            trainer = Trainer(
                data, settings, lambda_, paths[lambda_], progress, steps_per_call,
                result=result_path(output, lambda_),
            )  # fmt: skip
            run = runs[lambda_] = trainer.train(resume=resume, on_step=on_step, stop=stop)
            print(
                f"{run.label}: done, test accuracy {run.metrics['accuracy']:.4f}, intra/inter "
                f"ratio {run.metrics['spread_ratio']:.4f} "
                f"({duration_text(trainer.seconds)} of training)",
                file=progress.stream or sys.stdout,
                flush=True,
            )
    return {run.label: run for _, run in sorted(runs.items())}


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
