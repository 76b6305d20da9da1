"""``reproduce``'s training loop against ``CenterLossModel.fit``, measured in one run.

The same LeNet++ (the paper's, λ = 0.01), data, batch 128, optimizer (SGD with
the paper's schedule) and precision, three ways:

* ``fit``: Keras's own loop, ``compile(steps_per_execution=32)``;
* ``reproduce``: ``reproduce``'s loop, 32 steps per call into TensorFlow (its default);
* ``reproduce, 1 step/call``: the same loop one step per call.

Goal: ``reproduce`` ≥ 0.95× the images/s of ``fit``. The variants take turns,
``--rounds`` times, each training ``--steps`` new steps of one long epoch (the
per-epoch test pass and checkpoint are left out of every variant); the script
prints best-of-N and median and their ratios, for float32 and bfloat16.

Usage: python benchmarks/bench_reproduce.py [--rounds 3] [--steps 32] [--dataset mnist]
       [--precision float32 bfloat16]
"""

import argparse
import dataclasses
import statistics
import tempfile
import time
from pathlib import Path

import keras

from centerloss.apps import runtime
from centerloss.apps.reproduce.settings import PaperSettings
from centerloss.apps.reproduce.trainer import Trainer, caffe_inputs
from centerloss.data import load_dataset
from centerloss.model import CenterLossModel
from centerloss.networks import lenet_plus_plus
from centerloss.precision import dtype_policy


def fit_variant(data, settings):
    """One ``fit`` epoch per round over the round's images, as the recipe compiles it."""
    keras.utils.set_random_seed(settings.seed)
    with dtype_policy(settings.precision):
        backbone = lenet_plus_plus(caffe=True, weight_decay=settings.weight_decay)
    model = CenterLossModel(backbone, lambda_=settings.lambdas[0], alpha=settings.alpha)
    schedule = keras.optimizers.schedules.PiecewiseConstantDecay(
        [step - 1 for step in settings.lr_steps],
        [settings.learning_rate_at(step) for step in (0, *settings.lr_steps)],
    )
    model.compile(
        optimizer=keras.optimizers.SGD(schedule, momentum=settings.momentum),
        steps_per_execution=32,
    )
    x, y = caffe_inputs(data.x_train), data.y_train

    def train(first, last):
        size = settings.batch_size
        model.fit(
            x[first * size : last * size], y[first * size : last * size], batch_size=size,
            epochs=1, shuffle=True, verbose=0,
        )  # fmt: skip

    return train


def reproduce_variant(data, settings, steps_per_call, folder):
    """``reproduce``'s loop, trained from step ``first`` to ``last`` of its one epoch."""
    trainer = Trainer(
        data, settings, settings.lambdas[0], folder / f"{steps_per_call}.npz",
        keras.callbacks.Callback(), steps_per_call,  # a progress line that shows nothing
        result=folder / f"result-{steps_per_call}.npz",
    )  # fmt: skip

    def train(first, last):
        trainer.step = first
        trainer.train_steps(last)

    return train


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3, help="timed spans per variant")
    parser.add_argument("--steps", type=int, default=32, help="training steps per timed span")
    parser.add_argument("--dataset", default="mnist", help="load_dataset name (default mnist)")
    parser.add_argument(
        "--precision", nargs="+", default=["float32", "bfloat16"], help="precisions to measure"
    )
    args = parser.parse_args()
    raw = load_dataset(args.dataset)
    spans = args.rounds + 1  # one to trace and warm up
    size = PaperSettings().batch_size
    if len(raw.x_train) < spans * args.steps * size:
        parser.error(f"{args.dataset} has too few images for {spans} spans of {args.steps} steps")
    scaled = dataclasses.replace(raw, x_train=caffe_inputs(raw.x_train))  # as reproduce feeds it
    print(f"{raw.name}: {spans} spans of {args.steps} steps × {size} images; ", end="")
    print(f"CPU BF16 instructions: {', '.join(runtime.bf16_instructions()) or 'none'}")
    for precision in args.precision:
        settings = PaperSettings(
            lambdas=(0.01,), iterations=spans * args.steps, precision=precision
        )
        with tempfile.TemporaryDirectory() as folder:
            variants = {
                "fit": fit_variant(raw, settings),
                "reproduce": reproduce_variant(scaled, settings, 32, Path(folder)),
                "reproduce, 1 step/call": reproduce_variant(scaled, settings, 1, Path(folder)),
            }
            speeds = {name: [] for name in variants}
            for span in range(spans):
                first, last = span * args.steps, (span + 1) * args.steps
                for name, train in variants.items():
                    start = time.perf_counter()
                    train(first, last)
                    if span:  # the first span traces and warms up
                        speeds[name].append(args.steps * size / (time.perf_counter() - start))
        best = {name: max(s) for name, s in speeds.items()}
        median = {name: statistics.median(s) for name, s in speeds.items()}
        print(f"\n{precision}: images/s, best of {args.rounds} / median")
        for name in variants:
            print(f"  {name:24s} {best[name]:7.0f} / {median[name]:7.0f}")
        for name in ("reproduce", "reproduce, 1 step/call"):
            print(
                f"  {name} ÷ fit: {best[name] / best['fit']:.2f} (best), "
                f"{median[name] / median['fit']:.2f} (median)"
            )
    print("\nGoal: reproduce ÷ fit ≥ 0.95.")


if __name__ == "__main__":
    main()
