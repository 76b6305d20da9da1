"""The playground app, driven through its widgets as a student would."""

import base64
import html
import io
import re
import threading

import numpy as np
import pytest
from PIL import Image

from centerloss import legibility
from centerloss.apps.playground import Playground, Settings, runs, table
from centerloss.apps.playground import app as playground_app
from centerloss.data import DataError
from tests.reference import spread_ratio as reference_ratio

SHORT = Settings(epochs=2)  # the app's controls start here; runs take seconds


def png_size(data):
    with Image.open(io.BytesIO(data)) as image:
        return image.size


def count_redraws(app):
    """A list that grows by one each time the app's picture changes."""
    redraws = []
    app.image.observe(lambda change: redraws.append(change["new"]), names="value")
    return redraws


def press_train(app):
    app.train_button.click()
    app.wait(timeout=300)
    assert not app.training


def test_train_draws_every_epoch_and_shows_the_metrics():
    app = Playground(SHORT)
    redraws = count_redraws(app)
    app.lambda_.value = "0.1"
    press_train(app)

    run = app.runs[-1]
    assert run.settings == Settings(lambda_=0.1, epochs=2)
    assert not run.stopped and run.epochs_trained == 2
    # Epoch 0 (untrained) and each of the 2 epochs drawn live; the finished run's
    # picture is the last epoch's.
    assert len(redraws) == 3
    assert app.image.value == redraws[-1] != playground_app.poster()
    assert png_size(app.image.value) == (800, 368)
    # The table shows the run's test metrics; the status says it finished.
    for key in ("accuracy", "spread_ratio", "silhouette"):
        assert f">{run.metrics[key]:.3f}</td>" in app.table.value
    assert "trained in" in app.status.value
    assert not app.train_button.disabled and app.stop_button.disabled
    # The live ratio of the last epoch drawn is that of the recorded test features.
    features, labels = run.snapshots.test_features[-1], run.snapshots.test_labels
    assert np.isclose(table.spread_ratio(features, labels), reference_ratio(features, labels))
    # The clusters are not hidden under their center rings.
    assert legibility.worst_hidden_share(app.figure) < 0.1


def test_two_settings_side_by_side_and_the_cache():
    app = Playground(SHORT)
    for value in ("0", "0.1"):
        app.lambda_.value = value
        press_train(app)
    first, second = app.runs
    titles = [ax.get_title() for ax in legibility.feature_panels(app.figure)]
    assert titles[0].startswith("softmax only (λ=0)") and "center loss (λ=0.1)" in titles[1]
    assert app.table.value.count("<tr>") == 3  # header and one row per run on screen

    # Going back to λ = 0 trains nothing: the cached run is shown at once.
    trained = []
    app._thread = None
    original = playground_app.train_run
    playground_app.train_run = lambda *args, **kwargs: (
        trained.append(args) or original(*args, **kwargs)
    )
    try:
        app.lambda_.value = "0"
        app.train_button.click()
    finally:
        playground_app.train_run = original
    assert not trained and not app.training
    assert app.runs[-1] is first and app.runs[-2] is second
    assert "from the cache" in app.status.value
    titles = [ax.get_title() for ax in legibility.feature_panels(app.figure)]
    assert "center loss (λ=0.1)" in titles[0] and titles[1].startswith("softmax only (λ=0)")


def test_stop_ends_within_an_epoch_and_keeps_the_run():
    app = Playground(Settings(epochs=30))
    first_epoch = threading.Event()
    app.image.observe(
        lambda change: "epoch 1" in app.table.value and first_epoch.set(), names="value"
    )
    app.train_button.click()
    assert app.training and not app.stop_button.disabled
    assert first_epoch.wait(timeout=300)
    app.stop_button.click()
    app.wait(timeout=300)

    run = app.runs[-1]
    assert run.stopped and 1 <= run.epochs_trained <= 3
    assert len(run.snapshots.epochs) == run.epochs_trained + 1
    assert np.isfinite(run.metrics["spread_ratio"]) and run.metrics["accuracy"] > 0.2
    assert run.settings not in app.cache  # a stopped run is not the setting's result
    assert f"stopped after {run.epochs_trained} of 30 epochs" in app.status.value
    assert "(stopped at epoch" in app.table.value
    (panel,) = [ax for ax in legibility.feature_panels(app.figure)]
    assert panel.get_title().splitlines()[0].endswith(f"stopped at epoch {run.epochs_trained}")


def test_the_metrics_table_keeps_its_layout_while_a_run_trains():
    """Fixed column widths and no wrapping: a growing run label cannot re-flow the table."""
    metrics = {"accuracy": 0.9, "spread_ratio": 0.2, "silhouette": 0.5}
    finished = table.metrics_row(SHORT, metrics)
    training = table.metrics_row(SHORT, metrics, state="training: epoch 1 of 6")
    assert finished["run"].endswith("\n(finished)")  # the state on a line of its own
    for rows in ([finished], [finished, training]):
        page = table.table_html(rows)
        assert f'style="{table.TABLE_STYLE}"' in page and "table-layout: fixed" in page
        assert page.count("<br>") == len(rows)
        assert re.findall(r"<col[^>]*>", page)[0] == f'<col style="width: {table.RUN_COLUMN}">'
        cells = re.findall(r"<t[hd] style=\"([^\"]+)\"", page)
        assert cells and all("white-space: nowrap" in style for style in cells)


def test_the_data_sets_offered_are_those_on_this_machine(monkeypatch, tmp_path):
    monkeypatch.setattr(runs, "FASHION_SYSTEM_DIR", tmp_path / "absent")
    monkeypatch.setattr(runs, "mnist_is_local", lambda: False)
    assert runs.datasets_available() == ["embedded"]
    monkeypatch.setattr(runs, "FASHION_SYSTEM_DIR", tmp_path)
    monkeypatch.setattr(runs, "mnist_is_local", lambda: True)
    assert runs.datasets_available() == ["embedded", "mnist", "fashion-mnist"]
    assert Playground(SHORT).dataset.options == ("embedded", "mnist", "fashion-mnist")


@pytest.mark.parametrize(
    ("control", "value", "message"),
    [
        ("lambda_", "-1", "λ must be a number ≥ 0, e.g. 0.1; got '-1'."),
        ("lambda_", "a lot", "λ must be a number ≥ 0, e.g. 0.1; got 'a lot'."),
        ("lambda_", "inf", "λ must be a number ≥ 0, e.g. 0.1; got 'inf'."),
        ("lambda_", "nan", "λ must be a number ≥ 0, e.g. 0.1; got 'nan'."),
        ("seed", -3, "seed must be an integer from 0 to"),
    ],
)
def test_a_bad_setting_shows_the_library_message_and_trains_nothing(control, value, message):
    app = Playground(SHORT)
    picture = app.image.value
    getattr(app, control).value = value
    app.train_button.click()
    assert not app.training and not app.runs
    assert html.escape(message) in app.status.value and "#b00020" in app.status.value
    assert "Traceback" not in app.status.value
    assert app.image.value == picture and not app.train_button.disabled


def test_an_error_while_training_is_shown_in_the_app(monkeypatch):
    def missing(name, seed=0):
        raise DataError("Fashion-MNIST is not installed. Install it with: apt-get install ...")

    monkeypatch.setattr(runs, "playground_data", missing)
    app = Playground(SHORT)
    press_train(app)
    assert "DataError: Fashion-MNIST is not installed" in app.status.value
    assert not app.runs and not app.cache and not app.train_button.disabled


def test_without_a_kernel_the_cell_shows_a_finished_comparison_and_a_sentence():
    bundle = Playground()._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in bundle
    assert bundle["text/plain"].startswith("The playground runs in a live notebook")
    assert "<p>The playground runs in a live notebook" in bundle["text/html"]
    image = re.search(r'src="data:image/png;base64,([^"]+)"', bundle["text/html"]).group(1)
    assert base64.b64decode(image) == playground_app.poster()
    assert png_size(playground_app.poster()) == (800, 368)  # the app's own figure


def test_settings_check_every_value():
    with pytest.raises(ValueError, match="α must be a number in"):
        Settings(alpha=1.5)
    with pytest.raises(ValueError, match="dataset must be"):
        Settings(dataset="cifar")
    with pytest.raises(ValueError, match="epochs must be a positive integer"):
        Settings(epochs=0)
    assert Settings(lambda_=0.01).label == (
        "softmax + center loss (λ=0.01) · α=0.5 · 6 epochs · embedded · seed 0"
    )


# -- the loss selector and the angular view ------------------------------------


def test_settings_fill_in_each_loss_defaults():
    # The softmax / center-loss runs are those of before: same λ, same recipe.
    assert Settings() == Settings(lambda_=0.1, loss="center loss")
    assert Settings().config() == Settings(lambda_=0.1).config()
    assert Settings().head() is None
    assert Settings(loss="softmax") == Settings(loss="softmax", lambda_=0)
    assert Settings(loss="softmax").label == (
        "softmax only (λ=0) · α=0.5 · 6 epochs · embedded · seed 0"
    )
    # A head's s and m default per loss; equal runs have equal (cacheable) settings.
    arcface = Settings(loss="arcface")
    assert arcface == Settings(loss="arcface", lambda_=0.0, scale=16.0, margin=0.1)
    assert arcface.config() == Settings(lambda_=0).config()  # the same recipe, λ = 0
    assert arcface.label == "ArcFace (s=16, m=0.1) · 6 epochs · embedded · seed 0"
    assert Settings(loss="cosface", lambda_=0.01, scale=10).label == (
        "CosFace (s=10, m=0.1) + center loss (λ=0.01) · α=0.5 · 6 epochs · embedded · seed 0"
    )
    sphereface = Settings(loss="sphereface")
    assert (sphereface.scale, sphereface.margin) == (None, 4)
    assert Settings(loss="normface").margin is None
    # A fresh head per call, with the settings' parameters.
    head = arcface.head()
    assert head is not arcface.head() and (head.scale, head.margin) == (16.0, 0.1)
    assert type(sphereface.head()).__name__ == "SphereFace"


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        (dict(loss="triplet"), "loss must be one of 'softmax', 'center loss', 'normface'"),
        (dict(loss="ArcFace"), "loss must be one of"),
        (dict(loss="softmax", lambda_=0.1), 'λ must be 0 with loss "softmax"'),
        (dict(loss="arcface", lambda_=-1.0), "λ must be a finite number >= 0"),
        (dict(scale=16.0), "scale (s) is a parameter of normface, cosface, arcface; loss 'center"),
        (dict(loss="softmax", margin=0.1), "margin (m) is a parameter of sphereface, cosface, arc"),
        (dict(loss="normface", margin=0.1), "margin (m) is a parameter of sphereface"),
        (dict(loss="sphereface", scale=16.0), "scale (s) is a parameter of normface"),
        (dict(loss="normface", scale=0), "scale must be a finite number > 0"),
        (dict(loss="cosface", scale=float("inf")), "scale must be a finite number > 0"),
        (dict(loss="arcface", scale="16"), "scale must be a finite number > 0"),
        (dict(loss="cosface", margin=-0.1), "margin must be a number in [0, 2)"),
        (dict(loss="arcface", margin=2.0), "margin must be a number in [0, 1.5708)"),
        (dict(loss="sphereface", margin=2.5), "margin must be an integer >= 1"),
        (dict(loss="sphereface", margin=0), "margin must be an integer >= 1"),
    ],
)
def test_settings_refuse_a_bad_loss_or_parameter(settings, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        Settings(**settings)


@pytest.mark.parametrize("loss", ["normface", "sphereface", "cosface", "arcface"])
def test_each_head_trains_a_short_run(loss):
    run = runs.train_run(Settings(loss=loss, epochs=1))
    assert not run.stopped and run.epochs_trained == 1
    for key in ("accuracy", "spread_ratio", "silhouette"):
        assert np.isfinite(run.metrics[key]), key
    assert run.metrics["accuracy"] > 0.2  # 10 classes: chance is 0.1
    # The class weights of epoch 0 (the heads' evenly spread directions) and epoch 1.
    assert run.weights.shape == (2, 2, 10)
    angles = np.degrees(np.arctan2(run.weights[0, 1], run.weights[0, 0])) % 360
    assert np.allclose(angles, np.arange(10) * 36.0, atol=1e-4)
    assert not np.allclose(run.weights[0], run.weights[1])  # trained


def dashed_rays(ax):
    return [line for line in ax.get_lines() if line.get_linestyle() == "--"]


def test_the_angular_view_and_the_view_toggle(monkeypatch):
    app = Playground(Settings(epochs=1))
    app.view.value = "angular"  # before any run: the poster stays
    assert app.image.value == playground_app.poster()
    redraws = count_redraws(app)
    app.loss.value = "softmax"
    press_train(app)  # drawn live in the angular view, epoch 0 (zero features) included
    assert len(redraws) == 2
    app.loss.value = "arcface"
    press_train(app)
    softmax, arcface = app.runs
    assert arcface.settings == Settings(loss="arcface", epochs=1)
    left, right = [ax for ax in app.figure.get_axes() if ax.get_title()]
    assert left.get_title() == "softmax only (λ=0), α=0.5, epoch 1"
    assert right.get_title() == "ArcFace (s=16, m=0.1), epoch 1"
    for ax, run in ((left, softmax), (right, arcface)):
        assert ax.get_xlabel() == "feature 1 / ‖x‖" and ax.get_aspect() == 1.0
        # One ray per class along its weight: the softmax layer's, the head's.
        rays = dashed_rays(ax)
        assert len(rays) == 10
        ends = np.array([ray.get_xydata()[1] for ray in rays]).T
        weights = run.weights[-1]
        assert np.allclose(
            ends / np.linalg.norm(ends, axis=0), weights / np.linalg.norm(weights, axis=0)
        )
    assert not legibility.feature_panels(app.figure)  # no centers in the angular view

    # Switching the view redraws the same runs at once, without training.
    monkeypatch.setattr(playground_app, "train_run", lambda *args, **kwargs: pytest.fail("trained"))
    before = len(redraws)
    app.view.value = "Euclidean"
    assert len(redraws) == before + 1 and app.runs == [softmax, arcface]
    titles = [ax.get_title() for ax in legibility.feature_panels(app.figure)]
    assert titles[0].startswith("softmax only (λ=0), α=0.5, epoch 1")
    assert titles[1].startswith("ArcFace (s=16, m=0.1), epoch 1")
    assert not any(dashed_rays(ax) for ax in app.figure.get_axes())
    app.view.value = "angular"
    assert len(redraws) == before + 2 and len(dashed_rays(app.figure.get_axes()[1])) == 10


def test_the_loss_controls():
    app = Playground(SHORT)
    assert app.loss.value == "center loss" and app.scale.disabled and app.margin.disabled
    app.loss.value = "sphereface"
    assert app.scale.disabled and not app.margin.disabled and app.margin.value == 4
    assert app.settings() == Settings(loss="sphereface", epochs=2)  # m = 4.0 typed: the int 4
    app.loss.value = "cosface"
    assert not app.scale.disabled and not app.margin.disabled and app.margin.value == 0.1
    app.scale.value, app.margin.value, app.lambda_.value = 10.0, 0.2, "0.01"
    assert app.settings() == Settings(
        loss="cosface", scale=10.0, margin=0.2, lambda_=0.01, epochs=2
    )
    app.loss.value = "softmax"  # λ is 0 and cannot be changed
    assert app.lambda_.disabled and app.lambda_.value == "0"
    assert app.settings() == Settings(loss="softmax", epochs=2)
    app.loss.value = "center loss"
    assert not app.lambda_.disabled and app.lambda_.value == "0.1"
    assert app.settings() == SHORT


@pytest.mark.parametrize(
    ("loss", "control", "value", "message"),
    [
        ("arcface", "scale", -1.0, "scale must be a finite number > 0"),
        ("arcface", "margin", 2.0, "margin must be a number in [0, 1.5708)"),
        ("sphereface", "margin", 2.5, "margin must be an integer >= 1"),
    ],
)
def test_a_bad_head_parameter_shows_the_head_message(loss, control, value, message):
    app = Playground(SHORT)
    app.loss.value = loss
    getattr(app, control).value = value
    app.train_button.click()
    assert not app.training and not app.runs
    assert html.escape(message) in app.status.value and "#b00020" in app.status.value
