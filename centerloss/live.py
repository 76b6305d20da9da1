"""Watch training: one progress display, and a live feature plot, while ``fit`` runs.

Keras prints a log line (or a progress bar) per epoch, 50 lines for two
25-epoch runs. These callbacks replace that with ONE display updated in place
(pass ``verbose=0`` to ``fit`` so Keras prints nothing itself):

* :class:`TrainingProgress`: a single line, "epoch 7/25 · loss 0.412 ·
  accuracy 0.931 · ...". In Jupyter (also under nbconvert and nbval) it is a
  display updated through an IPython display handle; in a terminal it is one
  line rewritten with a carriage return; written to a file or a pipe (a log,
  CI), it is a plain line at every quarter of the epochs, so a log holds a
  few lines per run, not one per update.
* :class:`LiveFeaturePlot`: the 2-D features and class centers, redrawn after
  every epoch, with the progress line as the figure's title, so a class
  watches the clusters form. It draws what a
  :class:`centerloss.snapshots.SnapshotCallback` records, which must come
  *before* it in the callback list (Keras calls callbacks in list order)::

      recorder = SnapshotCallback(x_train, y_train, x_test, y_test)
      live = LiveFeaturePlot(recorder, label="λ=0.1")
      model.fit(x, y, epochs=25, callbacks=[recorder, live], verbose=0)

Neither opens a window: the figure is a bare ``matplotlib.figure.Figure``
(no pyplot), rendered to PNG only for a notebook display; headless it is kept
up to date in :attr:`LiveFeaturePlot.figure` without being rendered.
"""

from __future__ import annotations

import io
import sys
import time

import keras
from matplotlib.figure import Figure

from centerloss import plots
from centerloss.config import check_positive_int
from centerloss.snapshots import SnapshotCallback

_MODES = ("notebook", "text")
# Logged values shown, when present, in this order.
_KEYS = ("loss", "accuracy", "val_accuracy")


def in_notebook() -> bool:
    """True inside a Jupyter kernel (JupyterLab, nbconvert, nbval), False in a terminal."""
    try:
        from IPython import get_ipython
    except ImportError:  # IPython is optional outside notebooks
        return False
    shell = get_ipython()
    return shell is not None and getattr(shell, "kernel", None) is not None


class TrainingProgress(keras.callbacks.Callback):
    """One progress line, updated in place while ``fit`` runs.

    The line reads "<label> · epoch k/E · loss … · accuracy … · val_accuracy …
    · 12 s · 0:30 left" (the ``val_`` values once validation has run; the time
    left, at this run's speed so far, until the last epoch ends). It is updated at
    the end of every epoch and, with ``every_steps``, every that many
    training steps.

    Args:
      label: run name at the start of the line, e.g. "softmax only (λ=0)".
      every_steps: also update every this many steps (batches); None: per
        epoch only.
      mode: "notebook" (an IPython display updated in place), "text" (one
        line on ``stream``, rewritten with "\\r" on a terminal; on a file or
        pipe, a line at every quarter of the epochs) or None: "notebook"
        inside a Jupyter kernel, else "text".
      stream: where "text" mode writes; default ``sys.stdout``.

    After training, :attr:`line` is the last line shown.
    """

    def __init__(self, label=None, *, every_steps=None, mode=None, stream=None):
        super().__init__()
        if mode is None:
            mode = "notebook" if in_notebook() else "text"
        if mode not in _MODES:
            raise ValueError(f"mode must be one of {_MODES} or None (automatic); got {mode!r}.")
        self.label = label
        self.every_steps = (
            None if every_steps is None else check_positive_int(every_steps, "every_steps")
        )
        self.mode = mode
        self.stream = stream
        self.line = ""
        self._width = 0  # length of the last text line, to pad over it
        self._terminal = True  # text mode: rewrite one line (a tty) or log lines
        self._handle = None  # the IPython display handle, once shown
        self._epoch = 0
        self._updates = 0
        self._logs = {}
        self._started = None
        self._first_step = None  # where this session's training began, for the time left

    def on_train_begin(self, logs=None):
        self._started = time.perf_counter()
        self._epoch = 0
        self._first_step = None
        stream = self.stream or sys.stdout
        self._terminal = hasattr(stream, "isatty") and stream.isatty()
        self._show(self._progress(step=None))

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch
        if self._first_step is None:  # fit(initial_epoch=...) or a resumed loop starts later
            self._first_step = epoch * (self.params.get("steps") or 0)
        self._updates = 0  # step updates shown in this epoch

    def on_train_batch_end(self, batch, logs=None):
        # With steps_per_execution > 1, Keras calls this once per call, with the
        # call's last step index (past the epoch's end on a short last call):
        # update whenever a multiple of every_steps was passed.
        steps = min(batch + 1, self.params.get("steps") or batch + 1)
        if self.every_steps and steps // self.every_steps > self._updates:
            self._updates = steps // self.every_steps
            self._logs = {**self._logs, **(logs or {})}
            self._show(self._progress(step=steps))

    def on_epoch_end(self, epoch, logs=None):
        self._epoch = epoch + 1
        self._logs = dict(logs or {})
        self._show(self._progress(step=None), epoch_end=True)

    def on_train_end(self, logs=None):
        if self.mode == "text" and self._terminal:
            self._write("\n")  # keep the final line; later output starts below it

    def _progress(self, step):
        """The progress line for the current state."""
        epochs = self.params.get("epochs", "?")
        parts = [self.label] if self.label else []
        position = f"epoch {self._epoch}/{epochs}"
        if step is not None:
            position = (
                f"epoch {self._epoch + 1}/{epochs}, step {step}/{self.params.get('steps', '?')}"
            )
        parts.append(position)
        parts += [f"{key} {float(self._logs[key]):.3f}" for key in _KEYS if key in self._logs]
        elapsed = time.perf_counter() - self._started
        parts.append(f"{elapsed:.0f} s")
        left = self._seconds_left(step, elapsed)
        if left is not None:
            parts.append(f"{duration_text(left)} left")
        return " · ".join(parts)

    def _seconds_left(self, step, elapsed):
        """Seconds to the last epoch's end at this session's speed; None before the first
        step, once done, or when ``params`` has no step count."""
        epochs, steps = self.params.get("epochs"), self.params.get("steps")
        if not (epochs and steps and self._first_step is not None):
            return None
        done = self._epoch * steps + (step or 0)  # step: within the epoch under way
        if done <= self._first_step or done >= epochs * steps:
            return None
        return (epochs * steps - done) * elapsed / (done - self._first_step)

    def _show(self, line, epoch_end=False):
        self.line = line
        if self.mode == "notebook":
            self._display(_Text(line))
        elif self._terminal:
            # Pad over a longer previous line; "\r" returns to the line's start.
            self._write("\r" + line.ljust(self._width))
            self._width = len(line)
        elif epoch_end and self._at_quarter():
            # A file or pipe keeps every "\r" update: write a few whole lines.
            self._write(line + "\n")

    def _at_quarter(self):
        """True when the epoch just ended completes a quarter of the run, or is the last."""
        epochs = self.params.get("epochs") or 1
        stride = -(-epochs // 4)  # ceil: at most 4 lines, the last at the final epoch
        return self._epoch % stride == 0 or self._epoch == epochs

    def _display(self, obj):
        """Show ``obj`` once, then replace it in place (IPython display handle)."""
        from IPython.display import display

        if self._handle is None:
            self._handle = display(obj, display_id=True)
        else:
            self._handle.update(obj)

    def _write(self, text):
        stream = self.stream or sys.stdout
        stream.write(text)
        stream.flush()


class LiveFeaturePlot(TrainingProgress):
    """The 2-D features and centers, redrawn after every epoch while ``fit`` runs.

    Draws the latest snapshot of ``recorder`` (features of its fixed test or
    training images, and the centers) in units of that epoch's mean class
    distance, like :func:`centerloss.plots.plot_epoch`, with the progress line
    of :class:`TrainingProgress` as the figure title. In Jupyter the figure
    is one display, updated in place; headless ("text" mode) the progress line
    goes to the terminal and the figure is only kept in :attr:`figure`.

    Args:
      recorder: the :class:`~centerloss.snapshots.SnapshotCallback` of the same
        ``fit``, listed before this callback.
      label: run name, shown in the title and the progress line.
      split: "test" or "train": which recorded images to draw.
      every_steps: also update the title every this many steps (the points
        change once per epoch, when the recorder records).
      mode, stream: as in :class:`TrainingProgress`.
      dpi: resolution of the notebook image.

    After training, :attr:`figure` shows the last recorded epoch.
    """

    def __init__(
        self,
        recorder,
        label=None,
        *,
        split="test",
        every_steps=None,
        mode=None,
        stream=None,
        dpi=80,
    ):
        super().__init__(label, every_steps=every_steps, mode=mode, stream=stream)
        if not isinstance(recorder, SnapshotCallback):
            raise TypeError(
                "recorder must be the SnapshotCallback passed to the same fit (listed before "
                f"LiveFeaturePlot); got {type(recorder).__name__}."
            )
        self.recorder = recorder
        self.split = split
        self.dpi = dpi
        # A bare Figure, not pyplot: nothing registers with a GUI, no window opens.
        self.figure = Figure(figsize=(6.2, 5.0), layout="constrained")
        self._ax = self.figure.add_subplot()
        self._drawn = 0  # snapshots drawn so far

    def on_train_begin(self, logs=None):
        # A later fit continues the record: its last snapshot is drawn again.
        self._redraw(new=False)
        super().on_train_begin(logs)

    def on_epoch_end(self, epoch, logs=None):
        self._redraw(new=True)
        super().on_epoch_end(epoch, logs)

    def _redraw(self, new):
        """Draw the recorder's newest snapshot; a clear error when it has not recorded."""
        try:
            record = self.recorder.snapshots
        except RuntimeError:  # nothing recorded yet
            record = None
        if record is None or (new and len(record) <= self._drawn):
            raise RuntimeError(
                "LiveFeaturePlot found no new snapshot: list the SnapshotCallback before "
                "it, callbacks=[recorder, live], so that the recorder records first."
            )
        self._drawn = len(record)
        self._ax.clear()
        plots.draw_epoch(self._ax, record, int(record.epochs[-1]), split=self.split)

    def _show(self, line, epoch_end=False):
        self.line = line
        # The run's name on a line of its own, so the progress fits the width.
        title = line.replace(" · ", "\n", 1) if self.label else line
        self.figure.suptitle(title, fontsize="medium")
        if self.mode == "text":
            super()._show(line, epoch_end)
        else:
            buffer = io.BytesIO()
            self.figure.savefig(buffer, format="png", dpi=self.dpi)
            # Lay out once: re-running the constrained layout every epoch
            # costs more than drawing the points.
            self.figure.set_layout_engine("none")
            from IPython.display import Image

            self._display(Image(data=buffer.getvalue(), format="png"))


def duration_text(seconds):
    """ "0:42", "12:05" or "1:02:05" for a number of seconds."""
    minutes, seconds = divmod(int(round(seconds)), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{seconds:02d}" if hours else f"{minutes}:{seconds:02d}"


class _Text:
    """Plain text for IPython's display: shown as is, without quotes."""

    def __init__(self, text):
        self.text = text

    def __repr__(self):
        return self.text
