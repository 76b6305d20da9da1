"""float16 scales the loss on every path that takes a precision (issue 24).

Keras's ``compile`` adds ``LossScaleOptimizer`` only when the compiled model has
the ``mixed_float16`` policy; the recipe builds its backbone under the policy
and wraps it in ``CenterLossModel`` outside, so ``CenterLossModel.compile``
adds the scaling itself when its backbone computes in float16.
"""

import dataclasses

import keras
import numpy as np
import pytest
from keras.optimizers import LossScaleOptimizer

from centerloss.apps import demo
from centerloss.apps.cli import main
from centerloss.apps.reproduce.trainer import Trainer
from centerloss.data import Dataset, load_embedded
from centerloss.model import CenterLossModel
from centerloss.precision import dtype_policy
from centerloss.recipe import DEFAULTS, build_model, train
from tests.test_precision import DIM, INPUTS, NUM_CLASSES, M, data, weights

# The logits are the last Dense's output times TINY (exact in float16): the
# softmax's gradient, |p - y| / M < 0.03, times TINY is below half of float16's
# smallest subnormal (2^-24, about 6e-8), so without loss scaling it rounds to 0
# and no weight gets a gradient; with Keras's initial scale (2^15) it is ~1e-3.
TINY = 2.0**-20
RATE = 2.0**16  # the true gradients are ~1e-7: steps of ~5e-3


class _Stop(Exception):
    """Ends a command-line run once its first model is trained (no figures needed)."""


@pytest.fixture(scope="module")
def small_data():
    data = load_embedded()
    return Dataset(
        data.x_train[:128],  # reproduce's batch (128) needs one batch at least
        data.y_train[:128],
        data.x_test[:20],
        data.y_test[:20],
        data.class_names,
        "small",
    )


@pytest.fixture
def mnist_file(small_data, tmp_path):
    """``small_data`` as an MNIST-format .npz, which ``--dataset`` accepts."""
    path = tmp_path / "mnist.npz"
    np.savez(
        path,
        x_train=(small_data.x_train[..., 0] * 255).astype(np.uint8),
        y_train=small_data.y_train,
        x_test=(small_data.x_test[..., 0] * 255).astype(np.uint8),
        y_test=small_data.y_test,
    )
    return path


def assert_scales_the_loss(model):
    assert isinstance(model.optimizer, LossScaleOptimizer), (
        f"float16 model trains with {type(model.optimizer).__name__}, not LossScaleOptimizer"
    )
    assert not isinstance(model.optimizer.inner_optimizer, LossScaleOptimizer)  # wrapped once


def test_build_model_scales_the_loss_in_float16_only(small_data):
    model = build_model(small_data, dataclasses.replace(DEFAULTS, precision="float16"))
    assert model.backbone.dtype_policy.name == "mixed_float16"
    assert_scales_the_loss(model)
    assert isinstance(model.optimizer.inner_optimizer, keras.optimizers.Adam)
    for precision in ("float32", "bfloat16"):  # unchanged: no scaling needed
        other = build_model(small_data, dataclasses.replace(DEFAULTS, precision=precision))
        assert isinstance(other.optimizer, keras.optimizers.Adam)
        assert not isinstance(other.optimizer, LossScaleOptimizer)


def test_train_scales_the_loss_in_float16(small_data):
    config = dataclasses.replace(
        DEFAULTS, precision="float16", epochs=1, batch_size=32, snapshot_size=10
    )
    run = train(small_data, config)
    assert_scales_the_loss(run.model)
    assert np.isfinite(run.history["loss"]).all()
    assert int(run.model.optimizer.iterations.numpy()) == 4  # every step was taken


def test_demo_command_scales_the_loss_in_float16(mnist_file, tmp_path, monkeypatch):
    runs = []

    def first_run_only(*args, **kwargs):
        runs.append(train(*args, **kwargs))
        raise _Stop

    monkeypatch.setattr(demo, "train", first_run_only)
    argv = ["demo", "--dataset", str(mnist_file), "--epochs", "1", "--batch-size", "32"]
    with pytest.raises(_Stop):
        main([*argv, "--precision", "float16", "--output", str(tmp_path / "out"), "--quiet"])
    (run,) = runs
    assert run.model.backbone.get_layer("features").compute_dtype == "float16"
    assert_scales_the_loss(run.model)


def test_reproduce_command_scales_the_loss_in_float16(mnist_file, tmp_path, monkeypatch):
    # LeNet++ in float16 trains very slowly on a CPU: stop each run as it starts.
    models = []

    def model_only(trainer, *args, **kwargs):
        models.append(trainer.model)
        raise _Stop

    monkeypatch.setattr(Trainer, "train", model_only)
    argv = ["reproduce", "--dataset", str(mnist_file), "--iterations", "2", "--lambdas", "0.01"]
    with pytest.raises(_Stop):
        main([*argv, "--precision", "float16", "--output", str(tmp_path / "out")])
    (model,) = models
    assert model.backbone.compute_dtype == "float16"
    assert_scales_the_loss(model)
    assert isinstance(model.optimizer.inner_optimizer, keras.optimizers.SGD)


def tiny_backbone(seed=0):
    """Dense features, then logits scaled by TINY; built under the float16 policy."""
    keras.utils.set_random_seed(seed)
    with dtype_policy("float16"):
        inputs = keras.Input((INPUTS,))
        features = keras.layers.Dense(DIM, name="features")(inputs)
        logits = keras.layers.Dense(NUM_CLASSES, name="dense")(features)
        logits = keras.layers.Rescaling(TINY, name="logits")(logits)
        return keras.Model(inputs, [logits, features])


def plain_keras(optimizer, **compile_args):
    """Plain Keras on the same network: built and compiled under mixed_float16."""
    net = tiny_backbone()
    with dtype_policy("float16"):
        plain = keras.Model(net.inputs, net.outputs[0])
        plain.compile(
            optimizer=optimizer,
            loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
            **compile_args,
        )
    return plain


def test_underflowing_float16_step_moves_the_weights_as_plain_keras_does():
    x, y = data()
    # Wrapped outside the policy, as build_model and a user's own code do.
    ours = CenterLossModel(tiny_backbone(), lambda_=0.0)
    ours.compile(optimizer=keras.optimizers.SGD(RATE))
    plain = plain_keras(keras.optimizers.SGD(RATE))
    assert isinstance(plain.optimizer, LossScaleOptimizer)  # Keras's own float16 recipe
    unscaled = plain_keras(keras.optimizers.SGD(RATE), auto_scale_loss=False)
    start = weights(ours)
    for model in (plain, unscaled):
        for a, b in zip(start, weights(model), strict=True):
            np.testing.assert_array_equal(a, b)
    for model in (ours, plain, unscaled):
        model.fit(x, y, batch_size=M, epochs=1, shuffle=False, verbose=0)
    # Without scaling the gradients underflow: float16 loses the whole step.
    for w0, w in zip(start, weights(unscaled), strict=True):
        np.testing.assert_array_equal(w, w0)
    for w0, w_ours, w_plain in zip(start, weights(ours), weights(plain), strict=True):
        step_plain = w_plain - w0
        assert np.abs(step_plain).max() > 1e-3  # the scaled step is visible
        assert np.abs(w_ours - w0).max() > 1e-3, "the float16 step was lost to underflow"
        np.testing.assert_allclose(w_ours - w0, step_plain, rtol=0.05, atol=2e-4)


def test_own_float16_backbone_scales_once_and_the_choice_is_kept(tmp_path):
    x, y = data()
    model = CenterLossModel(tiny_backbone(), lambda_=0.1)
    model.compile(optimizer="adam")
    assert_scales_the_loss(model)
    # An explicit LossScaleOptimizer is kept as it is; auto_scale_loss=False is Keras's opt-out.
    given = LossScaleOptimizer(keras.optimizers.Adam(), initial_scale=2.0**10)
    model.compile(optimizer=given)
    assert model.optimizer is given
    model.compile(optimizer="adam", auto_scale_loss=False)
    assert isinstance(model.optimizer, keras.optimizers.Adam)
    # A saved float16 model comes back with the same loss scaling, wrapped once.
    model.compile(optimizer=keras.optimizers.Adam(0.01))
    model.fit(x, y, batch_size=8, epochs=1, shuffle=False, verbose=0)
    model.save(tmp_path / "m.keras")
    loaded = keras.models.load_model(tmp_path / "m.keras")
    assert_scales_the_loss(loaded)
    for a, b in zip(model.optimizer.variables, loaded.optimizer.variables, strict=True):
        np.testing.assert_array_equal(keras.ops.convert_to_numpy(a), keras.ops.convert_to_numpy(b))
    loaded.fit(x, y, batch_size=8, epochs=1, shuffle=False, verbose=0)
    assert int(loaded.optimizer.iterations.numpy()) == 2 * M // 8
    # So does one that opted out (its saved optimizer state fits only the unwrapped one).
    model.compile(optimizer=keras.optimizers.Adam(0.01), auto_scale_loss=False)
    model.fit(x, y, batch_size=8, epochs=1, shuffle=False, verbose=0)
    model.save(tmp_path / "unscaled.keras")
    loaded = keras.models.load_model(tmp_path / "unscaled.keras")
    assert isinstance(loaded.optimizer, keras.optimizers.Adam)
    assert int(loaded.optimizer.iterations.numpy()) == M // 8
