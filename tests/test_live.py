"""centerloss.live, headless: callbacks run inside fit, update per epoch, draw the record."""

import io
import sys
import types

import keras
import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.collections import PathCollection

from centerloss import CenterLossModel
from centerloss.live import LiveFeaturePlot, TrainingProgress, in_notebook
from centerloss.plots import UNITS
from centerloss.snapshots import SnapshotCallback

EPOCHS = 3
NUM_CLASSES = 3


def tiny_model(lambda_=0.1, steps_per_execution=1):
    """A two-layer backbone on 4-D inputs: fast enough to fit in a unit test."""
    keras.utils.set_random_seed(0)
    inputs = keras.Input((4,))
    features = keras.layers.Dense(2, name="features")(inputs)
    logits = keras.layers.Dense(NUM_CLASSES, name="logits")(features)
    model = CenterLossModel(keras.Model(inputs, [logits, features]), lambda_=lambda_)
    model.compile(optimizer=keras.optimizers.Adam(0.05), steps_per_execution=steps_per_execution)
    return model


def tiny_data(n=60):
    rng = np.random.default_rng(0)
    labels = np.arange(n) % NUM_CLASSES
    means = np.eye(NUM_CLASSES, 4) * 3
    return (means[labels] + rng.normal(size=(n, 4))).astype("float32"), labels


def fit(callbacks, epochs=EPOCHS, model=None):
    x, y = tiny_data()
    model = model or tiny_model()
    model.fit(
        x,
        y,
        batch_size=20,
        epochs=epochs,
        validation_data=(x, y),
        callbacks=callbacks,
        verbose=0,
    )
    return model


def recorder_for():
    x, y = tiny_data()
    return SnapshotCallback(x, y, x, y, n_train=30, n_test=30)


class Terminal(io.StringIO):
    """A stream that says it is a terminal, as sys.stdout is in a shell."""

    def isatty(self):
        return True


class Spy(keras.callbacks.Callback):
    """Remembers the live plot's line and title after each epoch (listed after it)."""

    def __init__(self, live):
        super().__init__()
        self.live, self.lines, self.titles = live, [], []

    def on_epoch_end(self, epoch, logs=None):
        self.lines.append(self.live.line)
        self.titles.append(self.live.figure.axes[0].get_title())


def test_not_in_notebook_under_pytest():
    assert not in_notebook()
    assert TrainingProgress().mode == "text"


def test_training_progress_one_line_rewritten_in_place():
    stream = Terminal()
    fit([TrainingProgress("λ=0.1", stream=stream)])
    text = stream.getvalue()
    # One update at the start and one per epoch, all on one terminal line.
    assert text.count("\r") == EPOCHS + 1 and text.count("\n") == 1 and text.endswith("\n")
    last = text.rstrip("\n").split("\r")[-1].rstrip()
    assert last.startswith(f"λ=0.1 · epoch {EPOCHS}/{EPOCHS} · loss ")
    assert "accuracy" in last and "val_accuracy" in last and last.endswith(" s")


def test_training_progress_in_a_log_file_writes_a_line_per_quarter():
    stream = io.StringIO()  # a file or pipe: no isatty()
    fit([TrainingProgress("λ=0.1", every_steps=1, stream=stream)], epochs=10)
    lines = stream.getvalue().splitlines()
    # ceil(10 / 4) = 3: epochs 3, 6, 9 and the last; no "\r", no step updates.
    assert "\r" not in stream.getvalue() and stream.getvalue().endswith("\n")
    assert [line.split(" · ")[1] for line in lines] == [
        f"epoch {epoch}/10" for epoch in (3, 6, 9, 10)
    ]


def test_training_progress_every_steps():
    stream = Terminal()
    fit([TrainingProgress(every_steps=2, stream=stream)], epochs=1)
    # 60 samples / batch 20 = 3 steps: step 2 once, then the epoch's end.
    assert "epoch 1/1, step 2/3 · loss" in stream.getvalue()

    # Keras reports once per call with steps_per_execution: here after steps 2 and 3.
    stream = Terminal()
    model = tiny_model(steps_per_execution=2)
    fit([TrainingProgress(every_steps=1, stream=stream)], epochs=1, model=model)
    assert [part.split(" · ")[0] for part in stream.getvalue().split("\r")[2:]] == [
        "epoch 1/1, step 2/3",
        "epoch 1/1, step 3/3",
        "epoch 1/1",
    ]
    with pytest.raises(ValueError, match="every_steps must be a positive integer"):
        TrainingProgress(every_steps=0)
    with pytest.raises(ValueError, match="mode must be one of"):
        TrainingProgress(mode="window")


def test_live_plot_redraws_every_epoch_headless():
    recorder = recorder_for()
    stream = Terminal()
    live = LiveFeaturePlot(recorder, label="center loss", stream=stream)
    spy = Spy(live)
    figures_before = plt.get_fignums()
    fit([recorder, live, spy])
    assert plt.get_fignums() == figures_before  # no pyplot figure, so no window
    # Updated once per epoch, each time with the epoch the recorder just recorded.
    assert [title.splitlines()[0] for title in spy.titles] == [
        f"Test features at epoch {epoch}" for epoch in range(1, EPOCHS + 1)
    ]
    assert [line.split(" · ")[1] for line in spy.lines] == [
        f"epoch {epoch}/{EPOCHS}" for epoch in range(1, EPOCHS + 1)
    ]
    # The final figure: the progress line as its title, points per class, the centers.
    ax = live.figure.axes[0]
    assert live.figure.get_suptitle() == live.line.replace(" · ", "\n", 1)
    assert live.line.startswith(f"center loss · epoch {EPOCHS}/{EPOCHS}")
    scatters = [c for c in ax.collections if isinstance(c, PathCollection)]
    assert len(scatters) == NUM_CLASSES + 1
    record = recorder.snapshots
    np.testing.assert_allclose(
        np.concatenate([s.get_offsets() for s in scatters[:NUM_CLASSES]]).shape,
        record.test_features[-1].shape,
    )
    assert UNITS in ax.get_xlabel() and UNITS in ax.get_ylabel()
    assert [t.get_text() for t in ax.get_legend().get_texts()][-1] == "class center"
    assert "\r" in stream.getvalue()  # headless: the progress line went to the terminal


def test_live_plot_points_are_the_recorded_features_in_separation_units():
    from centerloss.metrics import inter_class_separation

    recorder = recorder_for()
    live = LiveFeaturePlot(recorder, stream=io.StringIO())
    fit([recorder, live])
    record = recorder.snapshots
    features, labels = record.test_features[-1], record.test_labels
    scale = inter_class_separation(features, labels)
    first_class = live.figure.axes[0].collections[0].get_offsets()
    np.testing.assert_allclose(first_class, features[labels == 0] / scale, rtol=1e-5)


def test_live_plot_needs_the_recorder_first():
    recorder = recorder_for()
    live = LiveFeaturePlot(recorder, stream=io.StringIO())
    with pytest.raises(RuntimeError, match=r"callbacks=\[recorder, live\]"):
        fit([live, recorder])
    with pytest.raises(TypeError, match="SnapshotCallback"):
        LiveFeaturePlot(object())


def test_live_plot_continues_over_a_second_fit():
    recorder = recorder_for()
    live = LiveFeaturePlot(recorder, stream=io.StringIO())
    model = fit([recorder, live], epochs=1)
    fit([recorder, live], epochs=1, model=model)
    assert live.figure.axes[0].get_title().startswith("Test features at epoch 2")


def test_notebook_mode_updates_one_display(monkeypatch):
    """In Jupyter: one display created, then updated in place once per epoch."""
    calls = []

    class Handle:
        def update(self, obj):
            calls.append(("update", obj))

    def display(obj, display_id=False):
        assert display_id is True
        calls.append(("display", obj))
        return Handle()

    fake = types.ModuleType("IPython.display")
    fake.display = display
    fake.Image = lambda data, format: ("png", data[:8])
    monkeypatch.setitem(sys.modules, "IPython.display", fake)
    recorder = recorder_for()
    fit([recorder, LiveFeaturePlot(recorder, mode="notebook")])
    assert [kind for kind, _ in calls] == ["display"] + ["update"] * EPOCHS
    assert all(obj == ("png", b"\x89PNG\r\n\x1a\n") for _, obj in calls)
    calls.clear()
    fit([TrainingProgress("run", mode="notebook")])
    assert [kind for kind, _ in calls] == ["display"] + ["update"] * EPOCHS
    assert repr(calls[-1][1]).startswith(f"run · epoch {EPOCHS}/{EPOCHS} · loss")
