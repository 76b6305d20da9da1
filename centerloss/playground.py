"""The playground: train center loss in seconds, watch it live, compare two settings.

One cell shows the whole app::

    from centerloss.playground import Playground
    Playground()

Pick λ, α, the number of epochs, the data set and the seed, press **Train**:
the compact 2-D network of the lessons trains on 4,000 images and the test
features and class centers are redrawn after every epoch, in the units the
lessons use (each panel in units of its own mean class distance). The run
before stays on the left, so two settings compare side by side, each with
its test accuracy, intra/inter ratio and silhouette. Finished runs are kept by
their settings: choosing a setting again shows it at once. **Stop** ends a
run within one epoch and keeps what it trained.

The same runs without widgets: :func:`train_run` (the benchmark and the
lessons' worked answers use it).
"""

from __future__ import annotations

import dataclasses
import html
import io
import math
import threading
import time
from importlib import resources

import keras
from matplotlib.figure import Figure

from centerloss import plots
from centerloss.config import (
    TrainingConfig,
    check_alpha,
    check_lambda,
    check_positive_int,
    check_seed,
)
from centerloss.data import (
    FASHION_SYSTEM_DIR,
    Dataset,
    load_dataset,
    mnist_is_local,
    subsample,
)
from centerloss.experiment import (
    METRIC_COLUMNS,
    build_model,
    evaluate_test_set,
    run_label,
    snapshot_recorder,
)
from centerloss.metrics import spread_ratio

EPOCHS = 6
"""Default run length: about 20 s on a 2-core CPU, live drawing included
(``benchmarks/bench_playground.py``), long enough for λ = 0.1 to make the
classes clearly more compact than λ = 0 (intra/inter ratio 0.58×, seed 0)."""
BATCH_SIZE = 32  # twice the lessons' number of steps per epoch: short runs need the steps

TRAIN_SIZE, TEST_SIZE = 4000, 1000  # images per run: the embedded digits' split
SNAPSHOT_SIZE = 500  # test images drawn each epoch (the metrics use all of them)
DATASETS = ("embedded", "mnist", "fashion-mnist")  # what Settings.dataset takes
PAPER_LAMBDAS = ("0", "0.001", "0.01", "0.1", "1")  # Figure 3's λ values, offered first
POSTER = "playground.png"  # a finished comparison, shown before the first run

_METRICS = ("accuracy", "spread_ratio", "silhouette")  # keys of feature_metrics shown


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
    model = build_model(data, config)
    recorder = snapshot_recorder(data, config)
    watch = _Watch(recorder, on_epoch or (lambda snapshots: None), stop)
    model.fit(
        data.x_train,
        data.y_train,
        batch_size=config.batch_size,
        epochs=config.epochs,
        callbacks=[recorder, watch],
        verbose=0,
    )
    return PlaygroundRun(
        settings=settings,
        snapshots=recorder.snapshots,
        metrics=evaluate_test_set(model, data, seed=settings.seed),
        epochs_trained=watch.epochs,
        stopped=stop.is_set() and watch.epochs < settings.epochs,
        seconds=time.perf_counter() - started,
    )


class Playground:
    """The playground app (ipywidgets). Show it as a cell's last expression.

    Args:
      settings: the controls' starting values; default :class:`Settings`.

    Attributes:
      lambda_, alpha, epochs, dataset, seed: the controls (λ takes any number
        typed in, and offers Figure 3's values).
      train_button, stop_button: the buttons; ``train()`` and ``stop()`` do the same.
      figure: the matplotlib Figure drawn after every epoch: the previous run
        on the left, the current one on the right.
      image: that figure as a PNG, the widget the app shows.
      table: the runs' metrics (HTML), status: what the app is doing, or the
        error that stopped it.
      runs: the runs shown, oldest first (the last two are on screen).
      cache: finished runs by their :class:`Settings`.
    """

    def __init__(self, settings: Settings | None = None):
        import ipywidgets as widgets

        settings = settings or Settings()
        self.lambda_ = widgets.Combobox(
            value=f"{settings.lambda_:g}",
            options=list(PAPER_LAMBDAS),
            ensure_option=False,
            description="λ",
            placeholder="any number ≥ 0",
            layout=widgets.Layout(width="170px"),
        )
        self.alpha = widgets.SelectionSlider(
            options=sorted({0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, settings.alpha}),
            value=settings.alpha,
            description="α",
        )
        self.epochs = widgets.IntSlider(
            value=settings.epochs, min=1, max=max(30, settings.epochs), description="epochs"
        )
        self.dataset = widgets.Dropdown(
            options=datasets_available(), value=settings.dataset, description="data"
        )
        self.seed = widgets.IntText(
            value=settings.seed, description="seed", layout=widgets.Layout(width="150px")
        )
        self.train_button = widgets.Button(description="Train", button_style="primary", icon="play")
        self.stop_button = widgets.Button(description="Stop", icon="stop", disabled=True)
        self.status = widgets.HTML()
        self.image = widgets.Image(format="png", value=poster())
        self.table = widgets.HTML()
        self.train_button.on_click(lambda _: self.train())
        self.stop_button.on_click(lambda _: self.stop())
        self.widget = widgets.VBox(
            [
                widgets.HBox([self.lambda_, self.alpha, self.epochs]),
                widgets.HBox([self.dataset, self.seed, self.train_button, self.stop_button]),
                self.status,
                self.image,
                self.table,
            ]
        )
        self.runs: list[PlaygroundRun] = []
        self.cache: dict[Settings, PlaygroundRun] = {}
        self._stop = threading.Event()
        self._thread = None
        # A fixed layout: the constrained one, recomputed at every redraw, would
        # double the time a redraw takes.
        self.figure = Figure(figsize=(10.0, 4.6))
        self._set_status(
            "The picture is a finished comparison of λ = 0 and λ = 0.1. "
            "Choose λ and α, then press <b>Train</b>."
        )

    # -- what the buttons do -------------------------------------------------

    def settings(self) -> Settings:
        """The controls' values as :class:`Settings`; ValueError names a bad one."""
        text = self.lambda_.value.strip()
        try:
            lambda_ = float(text)
        except ValueError:
            lambda_ = math.nan
        if not (math.isfinite(lambda_) and lambda_ >= 0):  # a word, a sign, inf: one message
            raise ValueError(f"λ must be a number ≥ 0, e.g. 0.1; got {text!r}.")
        return Settings(
            dataset=self.dataset.value,
            lambda_=lambda_,
            alpha=self.alpha.value,
            epochs=self.epochs.value,
            seed=self.seed.value,
        )

    @property
    def training(self) -> bool:
        """True while a run is training."""
        return self._thread is not None and self._thread.is_alive()

    def train(self):
        """Train the controls' setting in the background, or show it at once if cached."""
        if self.training:
            return
        try:
            settings = self.settings()
        except ValueError as error:
            self._set_status(html.escape(str(error)), error=True)
            return
        if settings in self.cache:
            self._finish(self.cache[settings], "shown from the cache: no training needed")
            return
        self._stop.clear()
        self._busy(True)
        self._set_status(f"Training {html.escape(settings.label)} …")
        self._thread = threading.Thread(target=self._train, args=(settings,), daemon=True)
        self._thread.start()

    def stop(self):
        """End the run in training within one epoch; it keeps what it trained."""
        self._stop.set()

    def wait(self, timeout: float | None = None):
        """Block until the run in training (if any) has finished; for scripts and tests."""
        if self._thread is not None:
            self._thread.join(timeout)

    # -- training and drawing ------------------------------------------------

    def _train(self, settings):
        def on_epoch(snapshots):
            self._draw(live=(settings, snapshots))

        try:
            run = train_run(settings, on_epoch=on_epoch, stop=self._stop)
        except Exception as error:  # shown in the app: a thread's traceback would go unseen
            self._set_status(f"{type(error).__name__}: {html.escape(str(error))}", error=True)
            self._draw()
        else:
            if run.stopped:
                note = f"stopped after {run.epochs_trained} of {settings.epochs} epochs"
            else:
                self.cache[settings] = run
                note = f"trained in {run.seconds:.0f} s"
            self._finish(run, note)
        finally:
            self._busy(False)

    def _finish(self, run, note):
        if not self.runs or self.runs[-1] is not run:
            self.runs.append(run)
        self._draw()
        self._set_status(f"{html.escape(run.settings.label)}: {note}.")

    def _panels(self, live):
        """[(settings, snapshots, metrics row, stopped) or None] for the left and right panel."""
        finished = [
            (run.settings, run.snapshots, _row(run.settings, run.metrics, run), run.stopped)
            for run in self.runs
        ]
        if live is not None:
            settings, snapshots = live
            finished.append((settings, snapshots, _live_row(settings, snapshots), False))
        panels = finished[-2:]
        return [None] * (2 - len(panels)) + panels

    def _draw(self, live=None):
        """Redraw the figure and the table: previous run left, current (or live) run right."""
        panels = self._panels(live)
        self.figure.clear()
        axes = self.figure.subplots(1, 2)
        self.figure.subplots_adjust(left=0.07, right=0.85, wspace=0.35, top=0.86, bottom=0.12)
        for side, (ax, panel) in enumerate(zip(axes, panels, strict=True)):
            if panel is None:
                ax.set_axis_off()
                ax.text(0.5, 0.5, "Your previous run\nstays here to compare.", ha="center")
                continue
            settings, snapshots, _, stopped = panel
            epoch = int(snapshots.epochs[-1])
            when = f"stopped at epoch {epoch}" if stopped else f"epoch {epoch}"
            plots.draw_epoch(
                ax,
                snapshots,
                epoch,
                title=f"{run_label(settings.lambda_)}, α={settings.alpha:g}, {when}",
                legend=side == 1,
            )
        buffer = io.BytesIO()
        self.figure.savefig(buffer, format="png", dpi=80)
        self.image.value = buffer.getvalue()
        self.table.value = _table([panel[2] for panel in panels if panel is not None])

    def _busy(self, busy):
        self.train_button.disabled = busy
        self.stop_button.disabled = not busy

    def _set_status(self, text, error=False):
        color = "#b00020" if error else "inherit"
        self.status.value = f'<span style="color: {color}">{text}</span>'

    # -- display -------------------------------------------------------------

    def _repr_mimebundle_(self, **kwargs):
        # The widget where a kernel runs it; elsewhere (GitHub, a notebook not
        # run or not trusted) a finished comparison and one sentence.
        return plots.widget_with_text(self.widget, _NO_KERNEL, png=poster())


_NO_KERNEL = (
    "The playground runs in a live notebook: run this cell to train your own settings. "
    "The picture shows a finished comparison of λ = 0 and λ = 0.1."
)


def poster() -> bytes:
    """The PNG shown before the first run: the app after λ = 0, then λ = 0.1, default settings."""
    return (resources.files("centerloss") / "assets" / POSTER).read_bytes()


def _row(settings, metrics, run=None, state="finished"):
    """One table row: the run's label with its state on a second line, then the metrics."""
    if run is not None and run.stopped:
        state = f"stopped at epoch {run.epochs_trained}"
    # The state has a line of its own, so a row keeps its height and width as it changes.
    cells = {"run": f"{settings.label}\n({state})"}
    for key in _METRICS:
        value = metrics.get(key)
        cells[METRIC_COLUMNS[key]] = "…" if value is None or math.isnan(value) else f"{value:.3f}"
    return cells


def _live_row(settings, snapshots):
    """Metrics of the test images drawn so far (silhouette only once a run ends)."""
    features, labels, _, _ = snapshots.at(-1)
    accuracy = snapshots.history.get("val_accuracy", [math.nan])
    metrics = {
        "accuracy": accuracy[-1] if accuracy else math.nan,
        "spread_ratio": spread_ratio(features, labels),
    }
    return _row(
        settings, metrics, state=f"training: epoch {int(snapshots.epochs[-1])} of {settings.epochs}"
    )


def _table(rows):
    if not rows:
        return ""
    # The run's name left-aligned, the numbers right-aligned under their titles.
    align = ["left"] + ["right"] * (len(rows[0]) - 1)
    # Fixed column widths: the table keeps its layout while a run's label grows
    # ("training: epoch k of n") and shrinks again, instead of re-wrapping.
    columns = f'<col style="width: {_RUN_COLUMN}">' + "<col>" * (len(rows[0]) - 1)
    head = "".join(
        f'<th style="{_CELL}; text-align: {side}">{html.escape(title)}</th>'
        for title, side in zip(rows[0], align, strict=True)
    )
    body = "".join(
        "<tr>"
        + "".join(
            f'<td style="{_CELL}; text-align: {side}">'
            f"{html.escape(value).replace(chr(10), '<br>')}</td>"
            for value, side in zip(row.values(), align, strict=True)
        )
        + "</tr>"
        for row in rows
    )
    return f'<table style="{_TABLE}">{columns}<tr>{head}</tr>{body}</table>'


_TABLE = "table-layout: fixed; width: 960px"
_RUN_COLUMN = "55%"  # the run's label and state; the metrics share the rest
_CELL = "padding: 2px 12px; white-space: nowrap"
