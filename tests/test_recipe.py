"""Tests for centerloss.recipe: the recipe's model, recorder and one short run."""

import dataclasses

import numpy as np
import pytest

from centerloss import CenterLossModel
from centerloss.data import Dataset
from centerloss.recipe import DEFAULTS, build_model, snapshot_recorder, train


@pytest.fixture(scope="module")
def tiny():
    """60 training and 20 test random 28×28 images of 3 classes."""
    rng = np.random.default_rng(0)
    return Dataset(
        x_train=rng.random((60, 28, 28, 1), dtype=np.float32),
        y_train=(np.arange(60) % 3).astype(np.int32),
        x_test=rng.random((20, 28, 28, 1), dtype=np.float32),
        y_test=(np.arange(20) % 3).astype(np.int32),
        class_names=("a", "b", "c"),
        name="tiny",
    )


def test_build_model_is_compiled_seeded_and_sized(tiny):
    config = dataclasses.replace(DEFAULTS, alpha=0.25, seed=3)
    model = build_model(tiny, config, lambda_=0.7)
    assert isinstance(model, CenterLossModel) and model.optimizer is not None
    assert (model.lambda_, model.alpha) == (0.7, 0.25)
    assert (model.num_classes, model.feature_dim) == (3, config.feature_dim)
    assert build_model(tiny, config).lambda_ == config.lambda_
    # The same seed gives the same initial weights; another seed does not.
    again, other = build_model(tiny, config), build_model(tiny, dataclasses.replace(config, seed=4))
    for a, b in zip(model.get_weights(), again.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
    assert not all(
        np.array_equal(a, b) for a, b in zip(model.get_weights(), other.get_weights(), strict=True)
    )
    # Learning rate: cosine decay from config.learning_rate to 0 over all steps.
    steps = config.epochs * int(np.ceil(60 / config.batch_size))
    schedule = model.optimizer.get_config()["learning_rate"]
    assert schedule["class_name"] == "CosineDecay"
    assert schedule["config"]["initial_learning_rate"] == config.learning_rate
    assert schedule["config"]["decay_steps"] == steps
    assert schedule["config"]["alpha"] == 0.0  # decays all the way to 0


def test_snapshot_recorder_validates_on_the_test_subset(tiny):
    recorder = snapshot_recorder(tiny, dataclasses.replace(DEFAULTS, snapshot_size=10))
    assert recorder.validate
    assert len(recorder.indices["train"]) == 10 and len(recorder.indices["test"]) == 10
    assert recorder.class_names == ["a", "b", "c"]


def test_train_logs_val_metrics_without_validation_data(tiny):
    run = train(tiny, dataclasses.replace(DEFAULTS, epochs=2, batch_size=30), lambda_=0.1)
    for key in ("loss", "softmax_loss", "center_loss", "accuracy"):
        assert len(run.history[key]) == 2 and len(run.history[f"val_{key}"]) == 2
    # val_accuracy of the last epoch is the accuracy on the (whole, 20-image) test set.
    assert run.history["val_accuracy"][-1] == pytest.approx(run.metrics["accuracy"])
    assert run.snapshots.history["val_loss"] == run.history["val_loss"]
    assert run.snapshots.test_features.shape == (3, 20, DEFAULTS.feature_dim)


def test_steps_per_execution_changes_speed_not_numbers(tiny):
    # 60 images in batches of 8: 8 steps per epoch, so 3 steps per call leaves a
    # short last call in every epoch.
    config = dataclasses.replace(DEFAULTS, epochs=2, batch_size=8)
    runs = {
        spe: train(tiny, dataclasses.replace(config, steps_per_execution=spe), lambda_=0.1)
        for spe in (1, 3)
    }
    assert runs[3].model.steps_per_execution == 3
    for a, b in zip(runs[1].model.get_weights(), runs[3].model.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)  # centers included
    assert runs[1].history == runs[3].history
    with pytest.raises(ValueError, match="steps_per_execution must be a positive integer"):
        dataclasses.replace(DEFAULTS, steps_per_execution=0)
