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
import numpy as np

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
from centerloss.margins import HEADS
from centerloss.recipe import run_label, snapshot_recorder, train

EPOCHS = 6
"""Default run length: short enough to watch live (``benchmarks/bench_playground.py``
times it), long enough for λ = 0.1 to make the classes clearly more compact than λ = 0."""
BATCH_SIZE = 32  # twice the lessons' number of steps per epoch: short runs need the steps

TRAIN_SIZE, TEST_SIZE = 4000, 1000  # images per run: the embedded digits' split
SNAPSHOT_SIZE = 500  # test images drawn each epoch (the metrics use all of them)
PAPER_LAMBDAS = ("0", "0.001", "0.01", "0.1", "1")  # Figure 3's λ values, offered first

LOSSES = ("softmax", "center loss", *HEADS)
"""What ``Settings.loss`` takes: softmax alone, softmax + λ·center loss, or one of the
angular-margin heads of :mod:`centerloss.margins` (each may add λ·center loss)."""
HEAD_DEFAULTS = {  # s and m of a head when Settings leaves them None
    "normface": {"scale": 16.0},
    "sphereface": {"margin": 4},  # the paper's m; it has no s (logits keep ‖x‖)
    "cosface": {"scale": 16.0, "margin": 0.1},
    "arcface": {"scale": 16.0, "margin": 0.1},
}
# The heads keep the recipe's Adam from 5e-3: at the playground's batch 32 and 6
# epochs (seed 0, embedded digits) 2e-3 trained them no better, NormFace 0.78 vs 0.86
# test accuracy, CosFace 0.86 vs 0.89, ArcFace 0.83 vs 0.89, SphereFace 0.92 vs 0.95
# (seed 1, NormFace: 0.78 at both rates); softmax alone reaches 0.94.
NUM_CLASSES = 10  # every playground data set has 10 classes


@dataclasses.dataclass(frozen=True)
class Settings:
    """What one playground run is trained with; runs are cached by it.

    Attributes:
      dataset: "embedded" (MNIST digits shipped with the package), "mnist"
        (the full MNIST, once README's first command has downloaded its data
        package) or "fashion-mnist" (the Debian package); from the last two,
        4,000 / 1,000 images are drawn, stratified.
      lambda_: λ of eq. (4), ≥ 0; 0 is softmax alone. None (default): 0.1 for
        "center loss", 0 for the others ("softmax" takes only 0).
      alpha: α of Algorithm 1, in (0, 1].
      epochs: passes over the 4,000 training images.
      seed: seeds the data split, the weights and the batch order.
      loss: one of :data:`LOSSES`: "softmax", "center loss" (softmax + λ·center
        loss, the default), or a margin head, "normface", "sphereface",
        "cosface" or "arcface", trained on a linear feature layer (plus
        λ·center loss when λ > 0); every loss with the same recipe.
      scale: s of "normface", "cosface" and "arcface" (logits s·cos θ); None:
        :data:`HEAD_DEFAULTS`. The other losses take None only.
      margin: m of "cosface" and "arcface" (a float: cosine resp. radians)
        and "sphereface" (an integer ≥ 1); None: :data:`HEAD_DEFAULTS`. The
        other losses take None only.

    None values are replaced by the loss's defaults, so equal runs have equal
    settings: ``Settings(loss="arcface") == Settings(loss="arcface", scale=16.0, margin=0.1,
    lambda_=0.0)``. s and m are checked by the head itself (its ValueError).
    """

    dataset: str = "embedded"
    lambda_: float | None = None
    alpha: float = 0.5
    epochs: int = EPOCHS
    seed: int = 0
    loss: str = "center loss"
    scale: float | None = None
    margin: float | int | None = None

    def __post_init__(self):
        if self.loss not in LOSSES:
            raise ValueError(
                f"loss must be one of {', '.join(map(repr, LOSSES))}; got {self.loss!r}."
            )
        # frozen: the defaults are filled in with object.__setattr__
        if self.lambda_ is None:
            object.__setattr__(self, "lambda_", 0.1 if self.loss == "center loss" else 0.0)
        object.__setattr__(self, "lambda_", check_lambda(self.lambda_, "λ"))
        if self.loss == "softmax" and self.lambda_ != 0:
            raise ValueError(
                f'λ must be 0 with loss "softmax" (softmax alone); got {self.lambda_:g}. '
                'Choose loss "center loss" for λ > 0.'
            )
        check_positive_int(self.epochs, "epochs")
        check_seed(self.seed)
        check_alpha(self.alpha, "α")
        if self.dataset not in DATASETS:
            raise ValueError(
                f"dataset must be one of {', '.join(map(repr, DATASETS))}; got {self.dataset!r}."
            )
        self._check_head_parameters()

    def _check_head_parameters(self):
        """Refuse s and m where the loss has none, fill in the defaults, let the head check them."""
        defaults = HEAD_DEFAULTS.get(self.loss, {})
        for name, meaning in (("scale", "s"), ("margin", "m")):
            if getattr(self, name) is not None and name not in defaults:
                users = [loss for loss, params in HEAD_DEFAULTS.items() if name in params]
                raise ValueError(
                    f"{name} ({meaning}) is a parameter of {', '.join(users)}; loss "
                    f"{self.loss!r} has none, so leave it None; got {getattr(self, name)!r}."
                )
        for name, default in defaults.items():
            if getattr(self, name) is None:
                object.__setattr__(self, name, default)
        if self.is_head:
            head = self.head()  # its own checks: ValueError for a bad s or m
            for name in defaults:
                object.__setattr__(self, name, getattr(head, name))  # float, int for SphereFace

    @property
    def is_head(self) -> bool:
        """True for the margin heads (normface, sphereface, cosface, arcface)."""
        return self.loss in HEADS

    def head(self, num_classes: int = NUM_CLASSES):
        """A fresh margin head (unbuilt Keras layer) for these settings; None for
        "softmax" and "center loss"."""
        if not self.is_head:
            return None
        parameters = {name: getattr(self, name) for name in HEAD_DEFAULTS[self.loss]}
        return HEADS[self.loss](num_classes, **parameters)

    def config(self) -> TrainingConfig:
        """The lessons' recipe (compact CNN, Adam with cosine decay from 5e-3) at this length,
        in batches of :data:`BATCH_SIZE`; λ is the loss's (the head is :meth:`head`)."""
        return TrainingConfig(
            epochs=self.epochs,
            batch_size=BATCH_SIZE,
            lambda_=self.lambda_,
            alpha=self.alpha,
            seed=self.seed,
            snapshot_size=SNAPSHOT_SIZE,
        )

    @property
    def name(self) -> str:
        """The loss as figures name it, e.g. "softmax + center loss (λ=0.1)",
        "ArcFace (s=16, m=0.1)" or "CosFace (s=16, m=0.1) + center loss (λ=0.01)"."""
        return run_label(self.lambda_, self.head())

    @property
    def label(self) -> str:
        """E.g. "softmax + center loss (λ=0.1) · α=0.5 · 6 epochs · embedded · seed 0", or
        "ArcFace (s=16, m=0.1) · 6 epochs · embedded · seed 0" (a head: α only where λ > 0)."""
        parts = [self.name]
        if not self.is_head or self.lambda_ > 0:  # α moves the centers of center loss
            parts.append(f"α={self.alpha:g}")
        parts += [f"{self.epochs} epochs", self.dataset, f"seed {self.seed}"]
        return " · ".join(parts)


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
      weights: float32 [E, d, C], the class weights w_j at each epoch of
        ``snapshots`` (column j of the head's kernel, or of the softmax
        layer's): the angular view draws their directions as rays.
    """

    settings: Settings
    snapshots: object
    metrics: dict
    epochs_trained: int
    stopped: bool
    seconds: float
    weights: np.ndarray | None = None


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
    """Calls ``on_epoch(snapshots, weights)`` after each recorded epoch; stops when
    ``stop`` is set.

    ``weights`` [E, d, C] are the class weights at each recorded epoch: a copy
    of a 2 × 10 kernel, microseconds against an epoch of training.
    """

    def __init__(self, recorder, on_epoch, stop):
        super().__init__()
        self.recorder, self.on_epoch, self.stop = recorder, on_epoch, stop
        self.epochs = 0
        self.weights = []

    def _kernel(self):
        head = getattr(self.model, "head", None)  # an AngularMarginModel's
        return head.kernel if head is not None else self.model.backbone.get_layer("logits").kernel

    def _record(self):
        self.weights.append(keras.ops.convert_to_numpy(self._kernel()).copy())
        self.on_epoch(self.recorder.snapshots, np.stack(self.weights))

    def on_train_begin(self, logs=None):
        self._record()  # epoch 0: the untrained features

    def on_train_batch_end(self, batch, logs=None):
        if self.stop.is_set():
            self.model.stop_training = True  # Keras ends the epoch after this call

    def on_epoch_end(self, epoch, logs=None):
        self.epochs = epoch + 1
        self._record()


def train_run(settings: Settings, on_epoch=None, stop: threading.Event | None = None):
    """Train one playground run.

    Args:
      settings: a :class:`Settings`. A margin head is built fresh for the run
        and trained on a linear feature layer (a PReLU starts as a ReLU and
        would squeeze the features into one quadrant, where angles say little).
      on_epoch: called with the ``Snapshots`` so far and the class weights so
        far (float32 [E, d, C], see :attr:`PlaygroundRun.weights`) before
        training and after every epoch (the app redraws there).
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
    watch = _Watch(recorder, on_epoch or (lambda snapshots, weights: None), stop)
    options = {}
    if settings.is_head:
        options = dict(
            head=settings.head(len(data.class_names)),
            network_options={"feature_activation": "linear"},
        )
    run = train(data, config, recorder=recorder, callbacks=[watch], **options)
    return PlaygroundRun(
        settings=settings,
        snapshots=run.snapshots,
        metrics=run.metrics,
        epochs_trained=watch.epochs,
        stopped=stop.is_set() and watch.epochs < settings.epochs,
        seconds=time.perf_counter() - started,
        weights=np.stack(watch.weights),
    )
