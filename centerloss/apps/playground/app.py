"""The playground: train center loss in seconds, watch it live, compare two settings.

One cell shows the whole app::

    from centerloss.apps.playground import Playground
    Playground()

Pick the loss (softmax, center loss, or a margin head: NormFace,
SphereFace, CosFace, ArcFace, with their s and m), λ, α, the number of
epochs, the data set and the seed, press **Train**: the compact 2-D network
of the lessons trains on 4,000 images and the test features and class
centers are redrawn after every epoch, in the units the lessons use (each
panel in units of its own mean class distance). The **angular** view shows
the same features by direction only, on the unit circle, with the class
weight directions as dashed rays; switching the view redraws at once. The
run before stays on the left, so two settings compare side by side, each
with its test accuracy, intra/inter ratio and silhouette. Finished runs are
kept by their settings: choosing a setting again shows it at once. **Stop**
ends a run within one epoch and keeps what it trained.

The same runs without widgets: :func:`train_run` (the benchmark and the
lessons' worked answers use it).
"""

from __future__ import annotations

import html
import io
import math
import threading
from importlib import resources

import numpy as np
from matplotlib.figure import Figure

from centerloss import plots
from centerloss.apps.playground.runs import (
    HEAD_DEFAULTS,
    LOSSES,
    PAPER_LAMBDAS,
    PlaygroundRun,
    Settings,
    datasets_available,
    train_run,
)
from centerloss.apps.playground.table import live_row, metrics_row, table_html
from centerloss.plots.style import _axes_legend

POSTER = "playground.png"  # a finished comparison, shown before the first run
VIEWS = ("Euclidean", "angular")  # the view toggle's options


class Playground:
    """The playground app (ipywidgets). Show it as a cell's last expression.

    Args:
      settings: the controls' starting values; default :class:`Settings`.

    Attributes:
      loss, scale, margin, lambda_, alpha, epochs, dataset, seed: the controls
        (λ takes any number typed in, and offers Figure 3's values; s and m are
        enabled only for the losses that have them, λ not for "softmax").
      view: the Euclidean / angular toggle; switching redraws without training.
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
        self.loss = widgets.Dropdown(options=list(LOSSES), value=settings.loss, description="loss")
        # s and m keep the values of the settings given; a change of loss puts
        # the new loss's defaults in (SphereFace's m = 4 means nothing to ArcFace).
        # Plain number fields, not bounded ones: a bounded field would clamp a bad
        # value silently, the head's own check says what is wrong with it.
        self.scale = widgets.FloatText(
            value=settings.scale or HEAD_DEFAULTS["normface"]["scale"],
            description="s",
            layout=widgets.Layout(width="150px"),
        )
        self.margin = widgets.FloatText(
            value=settings.margin or HEAD_DEFAULTS["arcface"]["margin"],
            step=0.05,
            description="m",
            layout=widgets.Layout(width="150px"),
        )
        self.view = widgets.ToggleButtons(options=list(VIEWS), value=VIEWS[0], description="view")
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
        self.loss.observe(lambda _: self._loss_changed(), names="value")
        self.view.observe(lambda _: self.redraw(), names="value")
        self._enable_parameters()
        self.widget = widgets.VBox(
            [
                widgets.HBox([self.loss, self.scale, self.margin, self.view]),
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
        self._live = None  # (settings, snapshots, weights) of the run in training
        # The training thread redraws after each epoch, the view toggle from the
        # kernel's thread: one figure, drawn by one of them at a time.
        self._drawing = threading.Lock()
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
        loss = self.loss.value
        parameters = HEAD_DEFAULTS.get(loss, {})
        scale = self.scale.value if "scale" in parameters else None
        margin = self.margin.value if "margin" in parameters else None
        if loss == "sphereface" and float(margin).is_integer():
            margin = int(margin)  # the text field holds a float; SphereFace takes an integer
        lambda_ = 0.0
        if loss != "softmax":  # its λ field is disabled: softmax alone
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
            loss=loss,
            scale=scale,
            margin=margin,
        )

    def _loss_changed(self):
        """Put the new loss's default s, m and λ in, and enable the controls it uses."""
        loss = self.loss.value
        defaults = Settings(loss=loss)
        for name in ("scale", "margin"):
            if getattr(defaults, name) is not None:
                getattr(self, name).value = getattr(defaults, name)
        self.lambda_.value = f"{defaults.lambda_:g}"
        self._enable_parameters()

    def _enable_parameters(self):
        parameters = HEAD_DEFAULTS.get(self.loss.value, {})
        self.scale.disabled = "scale" not in parameters
        self.margin.disabled = "margin" not in parameters
        self.lambda_.disabled = self.loss.value == "softmax"

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

    def redraw(self):
        """Draw the runs on screen again in the chosen view; trains nothing."""
        if self.runs or self._live is not None:  # else the poster stays
            self._draw(live=self._live)

    def _train(self, settings):
        def on_epoch(snapshots, weights):
            self._live = (settings, snapshots, weights)
            self._draw(live=self._live)

        try:
            run = train_run(settings, on_epoch=on_epoch, stop=self._stop)
        except Exception as error:  # shown in the app: a thread's traceback would go unseen
            self._live = None
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
        self._live = None
        if not self.runs or self.runs[-1] is not run:
            self.runs.append(run)
        self._draw()
        self._set_status(f"{html.escape(run.settings.label)}: {note}.")

    def _panels(self, live):
        """[(settings, snapshots, weights, metrics row, stopped) or None] for the left and
        right panel."""
        finished = [
            (
                run.settings,
                run.snapshots,
                run.weights,
                metrics_row(run.settings, run.metrics, run),
                run.stopped,
            )
            for run in self.runs
        ]
        if live is not None:
            settings, snapshots, weights = live
            finished.append((settings, snapshots, weights, live_row(settings, snapshots), False))
        panels = finished[-2:]
        return [None] * (2 - len(panels)) + panels

    def _draw(self, live=None):
        """Redraw the figure and the table: previous run left, current (or live) run right."""
        with self._drawing:
            panels = self._panels(live)
            self.figure.clear()
            axes = self.figure.subplots(1, 2)
            self.figure.subplots_adjust(left=0.07, right=0.85, wspace=0.35, top=0.86, bottom=0.12)
            for side, (ax, panel) in enumerate(zip(axes, panels, strict=True)):
                if panel is None:
                    ax.set_axis_off()
                    ax.text(0.5, 0.5, "Your previous run\nstays here to compare.", ha="center")
                    continue
                settings, snapshots, weights, _, stopped = panel
                epoch = int(snapshots.epochs[-1])
                when = f"stopped at epoch {epoch}" if stopped else f"epoch {epoch}"
                title = f"{_run_title(settings)}, {when}"
                if self.view.value == "angular":
                    _draw_angular(ax, snapshots, weights, title, legend=side == 1)
                else:
                    plots.draw_epoch(ax, snapshots, epoch, title=title, legend=side == 1)
            buffer = io.BytesIO()
            self.figure.savefig(buffer, format="png", dpi=80)
            self.image.value = buffer.getvalue()
            self.table.value = table_html([panel[3] for panel in panels if panel is not None])

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


def _run_title(settings):
    """A panel's title: the loss, and α where center loss moves the centers."""
    if settings.is_head and settings.lambda_ == 0:
        return settings.name
    return f"{settings.name}, α={settings.alpha:g}"


def _draw_angular(ax, snapshots, weights, title, legend):
    """The angular view of the last recorded epoch, the class weights as rays.

    Args:
      snapshots: the run's ``Snapshots``; its last test features [n, 2] are drawn.
      weights: float [E, 2, C], the class weights per recorded epoch (the last
        is drawn), or None: no rays.
    """
    features, labels, _, _ = snapshots.at(-1)
    # An untrained PReLU is a ReLU: some features are exactly 0, drawn at the
    # origin (no direction), and left out of the arcs by draw_angular.
    rays = None if weights is None else weights[-1]
    plots.draw_angular(ax, features, labels, rays, title=title, class_names=snapshots.class_names)
    if legend:
        _axes_legend(ax, np.unique(labels), snapshots.class_names, with_centers=False)


_NO_KERNEL = (
    "The playground runs in a live notebook: run this cell to train your own settings. "
    "The picture shows a finished comparison of λ = 0 and λ = 0.1."
)


def poster() -> bytes:
    """The PNG shown before the first run: the app after λ = 0, then λ = 0.1, default settings."""
    return (resources.files("centerloss.apps.playground") / "assets" / POSTER).read_bytes()
