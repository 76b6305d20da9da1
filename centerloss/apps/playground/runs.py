"""Playground runs without widgets: their settings, the data they use, and training one.

:func:`train_run` trains one run as the app does (the benchmark and the
lessons' worked answers use it); :class:`Settings` is what a run is trained
with, and finished runs are cached by it.
"""

from __future__ import annotations

import dataclasses
import threading
import time

import keras

from centerloss.config import (
    TrainingConfig,
    check_alpha,
    check_lambda,
    check_positive_int,
    check_seed,
)
from centerloss.data import (  # DATASETS: the named sources, what Settings.dataset takes
    DATASETS,
    FASHION_SYSTEM_DIR,
    Dataset,
    load_dataset,
    mnist_is_local,
    subsample,
)
from centerloss.recipe import run_label, snapshot_recorder, train

EPOCHS = 6
"""Default run length: short enough to watch live (``benchmarks/bench_playground.py``
times it), long enough for λ = 0.1 to make the classes clearly more compact than λ = 0."""
BATCH_SIZE = 32  # twice the lessons' number of steps per epoch: short runs need the steps

TRAIN_SIZE, TEST_SIZE = 4000, 1000  # images per run: the embedded digits' split
SNAPSHOT_SIZE = 500  # test images drawn each epoch (the metrics use all of them)
PAPER_LAMBDAS = ("0", "0.001", "0.01", "0.1", "1")  # Figure 3's λ values, offered first


@dataclasses.dataclass(frozen=True)
class Settings:
    """What one playground run is trained with; runs are cached by it.

    Attributes:
      dataset: "embedded" (MNIST digits shipped with the package), "mnist"
        (the full MNIST, once README's first command has downloaded its data
        package) or "fashion-mnist" (the Debian package); from the last two,
        4,000 / 1,000 images are drawn, stratified.
      lambda_: λ of eq. (4), ≥ 0; 0 is softmax alone.
      alpha: α of Algorithm 1, in (0, 1].
      epochs: passes over the 4,000 training images.
      seed: seeds the data split, the weights and the batch order.
    """

    dataset: str = "embedded"
    lambda_: float = 0.1
    alpha: float = 0.5
    epochs: int = EPOCHS
    seed: int = 0

    def __post_init__(self):
        check_lambda(self.lambda_, "λ")
        check_positive_int(self.epochs, "epochs")
        check_seed(self.seed)
        check_alpha(self.alpha, "α")
        if self.dataset not in DATASETS:
            raise ValueError(
                f"dataset must be one of {', '.join(map(repr, DATASETS))}; got {self.dataset!r}."
            )

    def config(self) -> TrainingConfig:
        """The lessons' recipe (compact CNN, Adam with cosine decay from 5e-3) at this length,
        in batches of :data:`BATCH_SIZE`."""
        return TrainingConfig(
            epochs=self.epochs,
            batch_size=BATCH_SIZE,
            lambda_=self.lambda_,
            alpha=self.alpha,
            seed=self.seed,
            snapshot_size=SNAPSHOT_SIZE,
        )

    @property
    def label(self) -> str:
        """E.g. "softmax + center loss (λ=0.1) · α=0.5 · 6 epochs · embedded · seed 0"."""
        return (
            f"{run_label(self.lambda_)} · α={self.alpha:g} · {self.epochs} epochs · "
            f"{self.dataset} · seed {self.seed}"
        )


@dataclasses.dataclass
class PlaygroundRun:
    """One playground run, finished or stopped.

    Attributes:
      settings: the :class:`Settings` it was trained with.
      snapshots: test features and centers of :data:`SNAPSHOT_SIZE` test
        images at every epoch (epoch 0 untrained).
      metrics: ``feature_metrics`` of all 1,000 test images after the last
        epoch trained (accuracy, spread_ratio, silhouette, ...).
      epochs_trained: epochs run; fewer than ``settings.epochs`` when stopped
        (a stopped epoch counts when it had begun).
      stopped: True when Stop ended it early.
      seconds: training time, live drawing included.
    """

    settings: Settings
    snapshots: object
    metrics: dict
    epochs_trained: int
    stopped: bool
    seconds: float


def datasets_available() -> list[str]:
    """The playground's data sets on this machine, in :data:`DATASETS` order: "embedded";
    "mnist" once its data package is downloaded (README's first command); "fashion-mnist"
    where the Debian package is installed."""
    present = {
        "embedded": True,
        "mnist": mnist_is_local(),
        "fashion-mnist": FASHION_SYSTEM_DIR.is_dir(),
    }
    return [name for name in DATASETS if present[name]]


_DATA = {}  # (name, seed) -> Dataset: loaded once per kernel


def playground_data(name: str, seed: int = 0) -> Dataset:
    """The 4,000 / 1,000 images a playground run trains and tests on."""
    if (name, seed) not in _DATA:
        data = load_dataset(name, seed=seed)
        _DATA[name, seed] = subsample(data, TRAIN_SIZE, TEST_SIZE, seed=seed)
    return _DATA[name, seed]


class _Watch(keras.callbacks.Callback):
    """Calls ``on_epoch(snapshots)`` after each recorded epoch; stops when ``stop`` is set."""

    def __init__(self, recorder, on_epoch, stop):
        super().__init__()
        self.recorder, self.on_epoch, self.stop = recorder, on_epoch, stop
        self.epochs = 0

    def on_train_begin(self, logs=None):
        self.on_epoch(self.recorder.snapshots)  # epoch 0: the untrained features

    def on_train_batch_end(self, batch, logs=None):
        if self.stop.is_set():
            self.model.stop_training = True  # Keras ends the epoch after this call

    def on_epoch_end(self, epoch, logs=None):
        self.epochs = epoch + 1
        self.on_epoch(self.recorder.snapshots)


def train_run(settings: Settings, on_epoch=None, stop: threading.Event | None = None):
    """Train one playground run.

    Args:
      settings: a :class:`Settings`.
      on_epoch: called with the ``Snapshots`` so far before training and after
        every epoch (the app redraws there).
      stop: when this event is set, training ends after the current call into
        TensorFlow (at most 32 steps, under one epoch) and the run keeps what it trained.

    Returns:
      A :class:`PlaygroundRun`.
    """
    started = time.perf_counter()
    stop = stop or threading.Event()
    data = playground_data(settings.dataset, settings.seed)
    config = settings.config()
    recorder = snapshot_recorder(data, config)
    watch = _Watch(recorder, on_epoch or (lambda snapshots: None), stop)
    run = train(data, config, recorder=recorder, callbacks=[watch])
    return PlaygroundRun(
        settings=settings,
        snapshots=run.snapshots,
        metrics=run.metrics,
        epochs_trained=watch.epochs,
        stopped=stop.is_set() and watch.epochs < settings.epochs,
        seconds=time.perf_counter() - started,
    )
