"""``reproduce``: the paper's settings, checkpoints, and resuming to the same result."""

import dataclasses
import io
import json
import os
import shutil
import signal

import keras
import numpy as np
import pytest

from centerloss.apps.cli import main
from centerloss.apps.reproduce import checkpoint
from centerloss.apps.reproduce.job import reproduce
from centerloss.apps.reproduce.report import headline_pair
from centerloss.apps.reproduce.results import CHECKPOINT_FOLDER
from centerloss.apps.reproduce.settings import PaperSettings
from centerloss.data import Dataset, load_embedded
from centerloss.live import TrainingProgress
from centerloss.networks import lenet_plus_plus
from centerloss.recipe import Run
from centerloss.snapshots import Snapshots

# 8 steps per epoch: the runs below cross epoch ends, and are cut mid-epoch.
TINY = PaperSettings(
    lambdas=(0.0, 0.1), iterations=20, batch_size=32, lr_steps=(10, 15), snapshot_size=40
)


@pytest.fixture(scope="module")
def tiny_data():
    data = load_embedded()
    return Dataset(
        data.x_train[:256],
        data.y_train[:256],
        data.x_test[:64],
        data.y_test[:64],
        data.class_names,
        "tiny",
    )


def quiet():
    return TrainingProgress(every_steps=1, mode="text", stream=io.StringIO())


def final_state(runs):
    return {
        label: (
            [keras.ops.convert_to_numpy(w) for w in run.model.weights],
            keras.ops.convert_to_numpy(run.model.centers),
            run.snapshots,
            run.metrics,
        )
        for label, run in runs.items()
    }


@pytest.fixture(scope="module")
def uninterrupted(tiny_data, tmp_path_factory):
    output = tmp_path_factory.mktemp("uninterrupted")
    return final_state(reproduce(tiny_data, TINY, output, progress=quiet()))


def stop_at(lambda_, step, action):
    """An ``on_step`` hook that calls ``action`` once, after the call that reaches ``step``."""
    fired = []

    def on_step(current_lambda, current_step):
        if current_lambda == lambda_ and current_step >= step and not fired:
            fired.append(current_step)
            action()

    return on_step


def assert_same(resumed, uninterrupted):
    assert list(resumed) == list(uninterrupted)
    for label, (weights, centers, snapshots, metrics) in resumed.items():
        ref_weights, ref_centers, ref_snapshots, ref_metrics = uninterrupted[label]
        assert np.abs(centers).max() > 0  # the centers did move
        np.testing.assert_allclose(centers, ref_centers, rtol=1e-6, atol=1e-7)
        for w, ref in zip(weights, ref_weights, strict=True):
            np.testing.assert_allclose(w, ref, rtol=1e-6, atol=1e-7)
        np.testing.assert_array_equal(snapshots.epochs, np.arange(4))  # 0, then 8, 16, 20 steps
        np.testing.assert_allclose(snapshots.centers, ref_snapshots.centers, rtol=1e-6, atol=1e-7)
        np.testing.assert_allclose(
            snapshots.test_features, ref_snapshots.test_features, rtol=1e-5, atol=1e-6
        )
        assert snapshots.history.keys() == ref_snapshots.history.keys()
        for key, values in snapshots.history.items():
            np.testing.assert_allclose(values, ref_snapshots.history[key], rtol=1e-5)
        assert metrics == pytest.approx(ref_metrics, rel=1e-5)


def checkpoint_files(output):
    return sorted(path.name for path in (output / CHECKPOINT_FOLDER).iterdir())


def test_ctrl_c_mid_epoch_then_resume_gives_the_uninterrupted_result(
    tiny_data, uninterrupted, tmp_path
):
    # A real SIGINT, as Ctrl-C sends: the call finishes, a checkpoint is saved. Calls of 3
    # steps in 8-step epochs end at steps 3, 6, 8, 11, 14, ...: mid-epoch, and a short call.
    ctrl_c = stop_at(0.1, 13, lambda: os.kill(os.getpid(), signal.SIGINT))
    handler = signal.getsignal(signal.SIGINT)
    with pytest.raises(KeyboardInterrupt):
        reproduce(tiny_data, TINY, tmp_path, progress=quiet(), on_step=ctrl_c, steps_per_call=3)
    state, _ = checkpoint.load(tmp_path / CHECKPOINT_FOLDER / "lambda-0.1.npz")
    assert state["step"] == 14 and state["metrics"] is None
    assert checkpoint_files(tmp_path) == ["lambda-0.1.npz", "lambda-0.npz"]  # no temporaries
    assert signal.getsignal(signal.SIGINT) == handler  # Ctrl-C's handler restored
    resumed = reproduce(tiny_data, TINY, tmp_path, resume=True, progress=quiet())
    assert_same(final_state(resumed), uninterrupted)


def test_crash_resumes_from_the_last_epoch_checkpoint(tiny_data, uninterrupted, tmp_path):
    def crash():  # like a killed process: nothing is saved at the crash
        raise RuntimeError("killed")

    with pytest.raises(RuntimeError, match="killed"):
        reproduce(
            tiny_data,
            TINY,
            tmp_path,
            progress=quiet(),
            on_step=stop_at(0.0, 13, crash),
            steps_per_call=3,
        )
    state, _ = checkpoint.load(tmp_path / CHECKPOINT_FOLDER / "lambda-0.npz")
    assert state["step"] == 8  # the end of the first epoch
    assert checkpoint_files(tmp_path) == ["lambda-0.npz"]
    resumed = reproduce(tiny_data, TINY, tmp_path, resume=True, progress=quiet())
    assert_same(final_state(resumed), uninterrupted)


def test_steps_per_call_changes_speed_not_numbers(tiny_data, uninterrupted, tmp_path):
    # The reference ran 32 steps per call (whole 8-step epochs); this one step per call.
    one_by_one = reproduce(tiny_data, TINY, tmp_path, progress=quiet(), steps_per_call=1)
    assert_same(final_state(one_by_one), uninterrupted)


def test_the_progress_line_counts_steps_not_calls_and_says_the_time_left():
    # The trainer drives the lessons' progress line as fit does: after each call into
    # TensorFlow (here 3 steps), with the index of the call's last step in the epoch.
    progress = TrainingProgress(every_steps=1, mode="text", stream=io.StringIO())
    progress.set_params({"epochs": 3, "steps": 8})
    progress.on_train_begin()
    progress.on_epoch_begin(0)
    for last in (2, 5):
        progress.on_train_batch_end(last, {"loss": 1.0, "accuracy": 0.5})
    assert "epoch 1/3, step 6/8" in progress.line and progress.line.endswith(" left")
    progress.on_train_batch_end(7, {"loss": 1.0, "accuracy": 0.5})
    progress.on_epoch_end(0, {"loss": 1.0, "accuracy": 0.5})
    assert "epoch 1/3 · loss 1.000" in progress.line and progress.line.endswith(" left")
    for epoch in (1, 2):
        progress.on_epoch_begin(epoch)
        progress.on_epoch_end(epoch, {"loss": 1.0, "accuracy": 0.5})
    assert "epoch 3/3" in progress.line and not progress.line.endswith(" left")  # done


def test_existing_checkpoints_need_resume_and_the_same_settings(tiny_data, tmp_path):
    settings = PaperSettings(lambdas=(0.1,), iterations=2, batch_size=32, snapshot_size=10)
    reproduce(tiny_data, settings, tmp_path, progress=quiet())
    with pytest.raises(ValueError, match="--resume"):
        reproduce(tiny_data, settings, tmp_path, progress=quiet())
    other = PaperSettings(lambdas=(0.1,), iterations=2, batch_size=32, snapshot_size=10, seed=1)
    with pytest.raises(ValueError, match="same options"):
        reproduce(tiny_data, other, tmp_path, resume=True, progress=quiet())


def test_resume_keeps_finished_runs_when_lambdas_are_added(tiny_data, tmp_path):
    settings = PaperSettings(lambdas=(0.0, 0.1), iterations=2, batch_size=32, snapshot_size=10)
    first = reproduce(tiny_data, settings, tmp_path, progress=quiet())
    trained = []
    more = PaperSettings(lambdas=(0.0, 0.05, 0.1), iterations=2, batch_size=32, snapshot_size=10)
    runs = reproduce(
        tiny_data, more, tmp_path, resume=True, progress=quiet(),
        on_step=lambda lambda_, step: trained.append(lambda_),
    )  # fmt: skip
    assert set(trained) == {0.05}  # only the new λ trained
    assert [run.lambda_ for run in runs.values()] == [0.0, 0.05, 0.1]
    for label, run in first.items():
        assert runs[label].metrics == run.metrics


def test_side_by_side_figures_show_softmax_alone_and_the_papers_lambda():
    runs = {f"λ={lam:g}": Run(lam, None, {}, None, {}) for lam in (0.0, 0.001, 0.01, 0.1)}
    assert list(headline_pair(runs)) == ["λ=0", "λ=0.01"]
    del runs["λ=0.01"]
    assert list(headline_pair(runs)) == ["λ=0", "λ=0.1"]  # else the largest λ
    del runs["λ=0"]
    assert list(headline_pair(runs)) == ["λ=0.001", "λ=0.1"]  # no softmax-only run: all


def test_caffe_lenet_plus_plus_is_the_authors_net():
    model = lenet_plus_plus(caffe=True, weight_decay=5e-4)
    logits = model.get_layer("logits")
    assert not logits.use_bias
    pools = [layer for layer in model.layers if isinstance(layer, keras.layers.MaxPooling2D)]
    assert [pool.pool_size for pool in pools] == [(2, 2), (2, 2), (3, 3)]
    assert all(pool.strides == (2, 2) for pool in pools)
    prelus = [layer for layer in model.layers if isinstance(layer, keras.layers.PReLU)]
    for prelu in prelus:
        np.testing.assert_allclose(keras.ops.convert_to_numpy(prelu.alpha), 0.25)
    # Caffe's "xavier": uniform in ±sqrt(3 / fan_in); conv2 has fan_in 5·5·32 = 800.
    conv2 = [layer for layer in model.layers if isinstance(layer, keras.layers.Conv2D)][1]
    kernel = keras.ops.convert_to_numpy(conv2.kernel)
    limit = np.sqrt(3 / 800)
    assert np.abs(kernel).max() <= limit and np.abs(kernel).max() > 0.9 * limit
    # Weight decay: 5e-4/2 · Σ w² over kernels and PReLU slopes, not biases.
    weights = [
        keras.ops.convert_to_numpy(w)
        for layer in model.layers
        for w in layer.trainable_weights
        if "bias" not in w.path
    ]
    expected = 2.5e-4 * sum(float(np.sum(w.astype(np.float64) ** 2)) for w in weights)
    model(np.zeros((1, 28, 28, 1), np.float32))
    total = sum(float(keras.ops.convert_to_numpy(loss)) for loss in model.losses)
    assert total == pytest.approx(expected, rel=1e-4)


def test_learning_rate_follows_caffes_multistep_policy():
    settings = PaperSettings()
    rates = [settings.learning_rate_at(step) for step in (0, 4999, 5000, 7999, 8000, 9999)]
    assert rates == pytest.approx([0.01, 0.01, 0.008, 0.008, 0.0064, 0.0064])


def command_line(folder):
    """``reproduce``'s first arguments: 2 iterations on a tiny mnist.npz written to ``folder``."""
    data = load_embedded()
    np.savez(
        folder / "mnist.npz",
        x_train=(data.x_train[:128, ..., 0] * 255).astype(np.uint8),
        y_train=data.y_train[:128],
        x_test=(data.x_test[:50, ..., 0] * 255).astype(np.uint8),
        y_test=data.y_test[:50],
    )
    return ["reproduce", "--dataset", str(folder / "mnist.npz"), "--iterations", "2"]


def test_command_line_end_to_end(tmp_path, capsys):
    output = tmp_path / "out"
    argv = command_line(tmp_path)
    assert main([*argv, "--lambdas", "0", "0.01", "--output", str(output)]) == 0
    assert {path.name for path in output.iterdir()} == {
        CHECKPOINT_FOLDER,
        "comparison.png",
        "lambdas.png",
        "trajectories.png",
        "epochs.png",
        "features_over_epochs.gif",
        "metrics.json",
        "snapshots_lambda-0.npz",
        "snapshots_lambda-0.01.npz",
        "report.md",
    }
    report = (output / "report.md").read_text()
    assert "| intra/inter ratio |" in report and "Caffe" in report
    assert "softmax + center loss (λ=0.01)" in capsys.readouterr().out
    # A finished job resumes to the same outputs without training again.
    assert main([*argv, "--lambdas", "0", "0.01", "--output", str(output), "--resume"]) == 0


def test_a_sweep_finished_a_lambda_at_a_time_reports_as_one_job(tmp_path, capsys):
    """λ = 0 finished, its checkpoints deleted (as after a commit to git or a move to
    another machine), then λ = 0.01 added: the same report as one uninterrupted job."""
    argv = command_line(tmp_path)
    whole, pieces = tmp_path / "whole", tmp_path / "pieces"
    assert main([*argv, "--lambdas", "0", "0.01", "--output", str(whole)]) == 0
    assert main([*argv, "--lambdas", "0", "--output", str(pieces)]) == 0
    shutil.rmtree(pieces / CHECKPOINT_FOLDER)
    assert main([*argv, "--lambdas", "0.01", "--output", str(pieces)]) != 0
    assert "pass --resume" in capsys.readouterr().err
    assert main([*argv, "--lambdas", "0.01", "--output", str(pieces), "--resume"]) == 0

    def report(folder):
        text = (folder / "report.md").read_text().replace(str(folder), "OUTPUT")
        # Times and machines differ between any two jobs; the rest must not.
        start, end = text.index("## Machine and time"), text.index("## Test-set results")
        return text[:start] + text[end:]

    def metrics(folder):
        stored = json.loads((folder / "metrics.json").read_text())
        for run in stored["runs"].values():
            del run["training_seconds"], run["machine"]
        return stored

    assert report(pieces) == report(whole)
    assert "--lambdas 0 0.01 --output OUTPUT`" in report(pieces)
    kept, fresh = metrics(pieces), metrics(whole)
    assert kept.keys() == fresh.keys() and kept["settings"] == fresh["settings"]
    for label, run in fresh["runs"].items():
        assert kept["runs"][label]["test_metrics"] == pytest.approx(run["test_metrics"], rel=1e-5)
        for key, values in run["history"].items():
            assert kept["runs"][label]["history"][key] == pytest.approx(values, rel=1e-5)
    assert list(kept["runs"]) == ["softmax only (λ=0)", "softmax + center loss (λ=0.01)"]
    for name in ("snapshots_lambda-0.npz", "snapshots_lambda-0.01.npz"):
        stored, trained = Snapshots.load(pieces / name), Snapshots.load(whole / name)
        np.testing.assert_allclose(stored.test_features, trained.test_features, rtol=1e-5)
        np.testing.assert_allclose(stored.centers, trained.centers, rtol=1e-5, atol=1e-7)


def test_a_kept_run_must_come_from_the_same_settings(tiny_data, tmp_path):
    settings = PaperSettings(lambdas=(0.0,), iterations=2, batch_size=32, snapshot_size=10)
    reproduce(tiny_data, settings, tmp_path, progress=quiet())
    shutil.rmtree(tmp_path / CHECKPOINT_FOLDER)
    other_alpha = dataclasses.replace(settings, lambdas=(0.1,), alpha=0.3)
    with pytest.raises(ValueError, match="snapshots_lambda-0.npz was written with other settings"):
        reproduce(tiny_data, other_alpha, tmp_path, resume=True, progress=quiet())
    assert not (tmp_path / CHECKPOINT_FOLDER / "lambda-0.1.npz").exists()  # nothing trained
    # Another precision is allowed for a finished run: the report says which.
    bfloat16 = dataclasses.replace(settings, lambdas=(0.1,), precision="bfloat16")
    runs = reproduce(tiny_data, bfloat16, tmp_path, resume=True, progress=quiet())
    assert [run.lambda_ for run in runs.values()] == [0.0, 0.1]
    assert runs["softmax only (λ=0)"].model is None  # kept from its result file
