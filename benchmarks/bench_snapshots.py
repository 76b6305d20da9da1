"""Cost of the recipe's per-epoch extras, relative to a bare training epoch.

The extras are everything ``recipe.train`` does each epoch besides training:
the features of ``snapshot_size`` training and test images and the ``val_``
metrics. Two ways, timed in the same ``fit``, interleaved epoch by epoch
(their order alternates), so a CPU that speeds up or slows down affects both:

  * now:    ``SnapshotCallback(validate=True)``: one compiled forward pass over
            both subsets, validation taken from it                (goal ≤ 15 %)
  * before: ``fit(validation_data=test set)`` + one ``predict`` per subset, as
            the recipe did until it was changed (emulated: evaluate + 2 × predict)

Prints, for each, the extras' time as a percentage of the bare epoch: the
ratio of the best (shortest) times over the epochs, and the median of the
per-epoch ratios. The first epoch (tracing) is left out.

Usage: python benchmarks/bench_snapshots.py [--epochs 8]
"""

import argparse
import dataclasses
import time

import keras
import numpy as np

from centerloss.data import load_dataset
from centerloss.recipe import DEFAULTS, build_model, snapshot_recorder


class Interleaved(keras.callbacks.Callback):
    """Times each training epoch, then both ways of doing the extras."""

    def __init__(self, data, recorder):
        super().__init__()
        self.data, self.recorder = data, recorder
        self.seconds = {"train": [], "now": [], "before": []}

    def on_train_begin(self, logs=None):
        self.recorder.set_model(self.model)
        self.recorder.on_train_begin()
        test = self.recorder._labels["test"]  # noqa: SLF001 (the same subsets, for "before")
        self.subsets = [self.data.x_train[self.recorder.indices["train"]]]
        self.subsets.append(self.data.x_test[self.recorder.indices["test"]])
        assert len(test) == len(self.subsets[1])

    def on_epoch_begin(self, epoch, logs=None):
        self.started = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        self.seconds["train"].append(time.perf_counter() - self.started)
        ways = {"now": lambda: self.recorder.on_epoch_end(epoch, dict(logs)), "before": self.before}
        for name in sorted(ways, reverse=epoch % 2 == 1):
            started = time.perf_counter()
            ways[name]()
            self.seconds[name].append(time.perf_counter() - started)

    def before(self):
        self.model.evaluate(
            self.data.x_test, self.data.y_test, batch_size=DEFAULTS.batch_size, verbose=0
        )
        for images in self.subsets:
            self.model.predict(images, batch_size=500, verbose=0)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=8, help="epochs timed (plus one warm-up)")
    args = parser.parse_args()
    data = load_dataset("embedded")
    config = dataclasses.replace(DEFAULTS, epochs=args.epochs + 1)
    model = build_model(data, config)
    timer = Interleaved(data, snapshot_recorder(data, config))
    model.fit(
        data.x_train,
        data.y_train,
        batch_size=config.batch_size,
        epochs=config.epochs,
        callbacks=[timer],
        verbose=0,
    )
    train = np.array(timer.seconds["train"][1:])
    print(
        f"bare training epoch ({len(data.x_train)} images): best {train.min():.2f} s, "
        f"median {np.median(train):.2f} s over {len(train)} epochs"
    )
    for name in ("now", "before"):
        extras = np.array(timer.seconds[name][1:])
        print(
            f"extras {name:6s}: best {extras.min():.3f} s = {extras.min() / train.min():6.1%} "
            f"of the best epoch; median of per-epoch ratios {np.median(extras / train):6.1%}"
            + ("   (goal ≤ 15 %)" if name == "now" else "")
        )


if __name__ == "__main__":
    main()
