"""CenterLossModel: Algorithm 1 inside model.fit, saving, and MirroredStrategy."""

import functools

import keras
import numpy as np
import pytest
import reference
import tensorflow as tf

from centerloss.model import CenterLossModel

NUM_CLASSES, DIM, INPUTS, M = 4, 2, 5, 24


def linear_backbone(seed=0):
    """features = x A + b (d = 2), logits = features W + v: gradients are easy to write by hand."""
    keras.utils.set_random_seed(seed)
    inputs = keras.Input((INPUTS,))
    features = keras.layers.Dense(DIM, name="features")(inputs)
    logits = keras.layers.Dense(NUM_CLASSES, name="logits")(features)
    return keras.Model(inputs, [logits, features])


def data(seed=0, m=M):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(m, INPUTS)).astype(np.float32)
    y = np.concatenate([[0, 0, 0, 1, 1, 2], rng.integers(0, 3, m - 6)]).astype(
        np.int32
    )  # class 3 absent
    return x, y


def numpy_weights(model):
    return [keras.ops.convert_to_numpy(w).copy() for w in model.weights]


def one_full_batch_step(lambda_, alpha=0.5, lr=0.1, centers=None):
    model = CenterLossModel(linear_backbone(), lambda_=lambda_, alpha=alpha)
    if centers is not None:
        model.centers.assign(centers)
    model.compile(optimizer=keras.optimizers.SGD(lr))
    x, y = data()
    logits, features = (keras.ops.convert_to_numpy(t) for t in model(x))
    history = model.fit(x, y, batch_size=M, epochs=1, shuffle=False, verbose=0).history
    return model, x, y, logits, features, history


def test_one_step_is_algorithm_1():
    centers0 = np.random.default_rng(5).normal(size=(NUM_CLASSES, DIM)).astype(np.float32)
    lam, alpha, lr = 0.3, 0.5, 0.1
    model, x, y, logits, features, history = one_full_batch_step(lam, alpha, lr, centers0)
    # Logged losses are those of the batch before the step: eq. (1), eq. (2), eq. (4).
    softmax = reference.softmax_cross_entropy(logits, y)
    center = reference.center_loss(features, y, centers0)
    np.testing.assert_allclose(history["softmax_loss"][0], softmax, rtol=1e-5)
    np.testing.assert_allclose(history["center_loss"][0], center, rtol=1e-5)
    np.testing.assert_allclose(history["loss"][0], softmax + lam * center, rtol=1e-5)
    assert 0.0 <= history["accuracy"][0] <= 1.0
    # The centers moved by eq. (3) from the features computed before the weight update.
    np.testing.assert_allclose(
        keras.ops.convert_to_numpy(model.centers),
        reference.updated_centers(centers0, features, y, alpha),
        rtol=1e-5,
        atol=1e-6,
    )


def test_lambda_adds_exactly_the_center_loss_gradient():
    centers0 = np.random.default_rng(6).normal(size=(NUM_CLASSES, DIM)).astype(np.float32)
    lam, lr = 0.7, 0.1
    with_cl, x, y, _, features, _ = one_full_batch_step(lam, lr=lr, centers=centers0)
    without, *_ = one_full_batch_step(0.0, lr=lr, centers=centers0)
    # Only the feature layer's kernel A and bias b feel L_C: dL_C/dA = x^T (f - c_y) / m (eq. 3).
    dfeatures = reference.center_loss_gradient(features, y, centers0)
    kernel_difference = (
        layer_weights(with_cl, "features")[0] - layer_weights(without, "features")[0]
    )
    bias_difference = layer_weights(with_cl, "features")[1] - layer_weights(without, "features")[1]
    np.testing.assert_allclose(kernel_difference, -lr * lam * x.T @ dfeatures, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(bias_difference, -lr * lam * dfeatures.sum(0), rtol=1e-4, atol=1e-6)
    # The softmax layer's weights get the same update either way.
    for a, b in zip(
        layer_weights(with_cl, "logits"), layer_weights(without, "logits"), strict=True
    ):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    assert np.abs(kernel_difference).max() > 1e-3  # the test has teeth


def layer_weights(model, name):
    return [keras.ops.convert_to_numpy(w) for w in model.backbone.get_layer(name).weights]


def test_lambda_zero_is_plain_softmax_through_the_same_path():
    model, *_, history = one_full_batch_step(0.0)
    assert {"loss", "softmax_loss", "center_loss", "accuracy"} <= set(history)
    np.testing.assert_allclose(history["loss"], history["softmax_loss"])
    assert np.abs(keras.ops.convert_to_numpy(model.centers)).sum() > 0  # centers still tracked


def test_centers_are_a_non_trainable_weight():
    model = CenterLossModel(linear_backbone(), lambda_=0.1)
    assert any(w is model.centers for w in model.non_trainable_weights)
    assert all(w is not model.centers for w in model.trainable_weights)
    assert tuple(model.centers.shape) == (NUM_CLASSES, DIM)


def test_validation_metrics_are_logged_without_moving_centers():
    model = CenterLossModel(linear_backbone(), lambda_=0.1)
    model.compile(optimizer="adam")
    x, y = data()
    model.fit(x, y, epochs=1, verbose=0)
    before = keras.ops.convert_to_numpy(model.centers).copy()
    results = model.evaluate(x, y, return_dict=True, verbose=0)
    assert set(results) == {"loss", "softmax_loss", "center_loss", "accuracy"}
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(model.centers), before)


def test_keras_round_trip_and_resume(tmp_path):
    x, y = data()
    model = CenterLossModel(linear_backbone(), lambda_=0.2, alpha=0.4)
    model.compile(optimizer=keras.optimizers.Adam(0.01))
    model.fit(x, y, batch_size=8, epochs=2, shuffle=False, verbose=0)
    path = tmp_path / "model.keras"
    model.save(path)
    loaded = keras.models.load_model(path)
    assert isinstance(loaded, CenterLossModel)
    assert (loaded.lambda_, loaded.alpha) == (0.2, 0.4)
    np.testing.assert_array_equal(
        keras.ops.convert_to_numpy(loaded.centers), keras.ops.convert_to_numpy(model.centers)
    )
    for a, b in zip(model.predict(x, verbose=0), loaded.predict(x, verbose=0), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-6)
    # Training resumes from the same centers (and optimizer state): both continue identically.
    model.fit(x, y, batch_size=8, epochs=1, shuffle=False, verbose=0)
    loaded.fit(x, y, batch_size=8, epochs=1, shuffle=False, verbose=0)
    np.testing.assert_allclose(
        keras.ops.convert_to_numpy(loaded.centers),
        keras.ops.convert_to_numpy(model.centers),
        rtol=1e-5,
        atol=1e-6,
    )


def test_get_config_round_trip():
    model = CenterLossModel(linear_backbone(), lambda_=0.05, alpha=0.9, name="clm")
    clone = CenterLossModel.from_config(model.get_config())
    assert (clone.lambda_, clone.alpha, clone.num_classes, clone.feature_dim) == (0.05, 0.9, 4, 2)
    assert clone.name == "clm"


@functools.cache
def mirrored_strategy():
    """One MirroredStrategy over two logical CPUs for the whole module.

    Two strategy objects in one process hand out the same collective keys, and
    TensorFlow then mixes up the collectives of different models.
    """
    devices = [d.name for d in tf.config.list_logical_devices("CPU")]
    assert len(devices) >= 2, "conftest.py should have made two logical CPUs"
    return tf.distribute.MirroredStrategy(devices[:2])


def train_under(strategy, epochs=2):
    x, y = data(m=64)
    with strategy.scope():
        model = CenterLossModel(linear_backbone(seed=3), lambda_=0.5, alpha=0.5)
        model.compile(optimizer=keras.optimizers.SGD(0.1))
    history = model.fit(x, y, batch_size=16, epochs=epochs, shuffle=False, verbose=0).history
    return numpy_weights(model), keras.ops.convert_to_numpy(model.centers), history


def test_mirrored_strategy_gives_the_same_centers_as_one_device():
    one_weights, one_centers, one_history = train_under(tf.distribute.get_strategy())
    two_weights, two_centers, two_history = train_under(mirrored_strategy())
    np.testing.assert_allclose(two_centers, one_centers, rtol=1e-5, atol=1e-6)
    for a, b in zip(one_weights, two_weights, strict=True):
        np.testing.assert_allclose(b, a, rtol=1e-5, atol=1e-6)
    for key in ("loss", "softmax_loss", "center_loss"):
        np.testing.assert_allclose(two_history[key], one_history[key], rtol=1e-5)


def test_subclassed_backbone_needs_explicit_widths():
    class Sub(keras.Model):
        def __init__(self):
            super().__init__()
            self.f = keras.layers.Dense(DIM)
            self.logit = keras.layers.Dense(NUM_CLASSES)

        def call(self, x):
            features = self.f(x)
            return self.logit(features), features

    with pytest.raises(ValueError, match="num_classes and feature_dim"):
        CenterLossModel(Sub())
    model = CenterLossModel(Sub(), lambda_=0.1, num_classes=NUM_CLASSES, feature_dim=DIM)
    model.compile(optimizer="sgd")
    x, y = data()
    model.fit(x, y, verbose=0)
    assert np.isfinite(keras.ops.convert_to_numpy(model.centers)).all()


def test_logged_loss_includes_regularization_penalties():
    # What the optimizer minimises is what Keras logs: L + the backbone's penalties.
    keras.utils.set_random_seed(0)
    inputs = keras.Input((INPUTS,))
    features = keras.layers.Dense(
        DIM, kernel_regularizer=keras.regularizers.L2(0.5), name="features"
    )(inputs)
    logits = keras.layers.Dense(NUM_CLASSES, name="logits")(features)
    model = CenterLossModel(keras.Model(inputs, [logits, features]), lambda_=0.3)
    model.compile(optimizer=keras.optimizers.SGD(0.1))
    x, y = data()
    kernel = layer_weights(model, "features")[0]
    out_logits, out_features = (keras.ops.convert_to_numpy(t) for t in model(x))
    history = model.fit(x, y, batch_size=M, epochs=1, shuffle=False, verbose=0).history
    penalty = 0.5 * np.sum(kernel.astype(np.float64) ** 2)
    joint = reference.softmax_cross_entropy(out_logits, y) + 0.3 * reference.center_loss(
        out_features, y, np.zeros((NUM_CLASSES, DIM))
    )
    assert penalty > 0.1  # the test has teeth
    np.testing.assert_allclose(history["loss"][0], joint + penalty, rtol=1e-5)
    np.testing.assert_allclose(
        history["softmax_loss"][0] + 0.3 * history["center_loss"][0], joint, rtol=1e-5
    )


def test_trainable_false_freezes_weights_and_centers():
    model = CenterLossModel(linear_backbone(), lambda_=0.5, alpha=0.5)
    model.trainable = False
    model.compile(optimizer=keras.optimizers.SGD(0.1))
    before = numpy_weights(model)
    x, y = data()
    history = model.fit(x, y, batch_size=8, epochs=1, verbose=0).history
    assert np.isfinite(history["loss"]).all()
    for old, new in zip(before, numpy_weights(model), strict=True):
        np.testing.assert_array_equal(new, old)
    # Unfrozen (and recompiled, as Keras requires), the centers move again.
    model.trainable = True
    model.compile(optimizer=keras.optimizers.SGD(0.1))
    model.fit(x, y, batch_size=8, epochs=1, verbose=0)
    assert np.abs(keras.ops.convert_to_numpy(model.centers)).max() > 0


def test_export_serves_logits_and_features(tmp_path):
    model = CenterLossModel(linear_backbone(), lambda_=0.1)
    model.compile(optimizer="adam")
    x, y = data()
    model.fit(x, y, epochs=1, verbose=0)
    model.export(tmp_path / "served", verbose=False)
    served = tf.saved_model.load(str(tmp_path / "served"))
    logits, features = served.serve(tf.constant(x[:7]))
    want_logits, want_features = model.predict(x[:7], verbose=0)
    np.testing.assert_allclose(logits.numpy(), want_logits, rtol=1e-6)
    np.testing.assert_allclose(features.numpy(), want_features, rtol=1e-6)


@pytest.mark.parametrize(
    "given",
    [
        {"loss": "sparse_categorical_crossentropy"},
        {"metrics": ["accuracy"]},
        {"loss_weights": [1.0, 0.0]},
        {"weighted_metrics": ["accuracy"]},
    ],
)
def test_compile_refuses_losses_and_metrics_with_a_clear_error(given):
    model = CenterLossModel(linear_backbone(), lambda_=0.1)
    with pytest.raises(ValueError, match=f"does not take {next(iter(given))}.*lambda_"):
        model.compile(optimizer="adam", **given)


def test_saved_model_comes_back_compiled(tmp_path, recwarn):
    model = CenterLossModel(linear_backbone(), lambda_=0.1)
    model.compile(optimizer=keras.optimizers.Adam(0.01), steps_per_execution=2)
    x, y = data()
    model.fit(x, y, epochs=1, verbose=0)
    model.save(tmp_path / "m.keras")
    loaded = keras.models.load_model(tmp_path / "m.keras")
    assert not [w for w in recwarn if "compile" in str(w.message)]
    assert loaded.steps_per_execution == 2
    np.testing.assert_allclose(
        keras.ops.convert_to_numpy(loaded.optimizer.iterations),
        keras.ops.convert_to_numpy(model.optimizer.iterations),
    )


def test_mirrored_strategy_refuses_a_diverging_batch_on_every_replica():
    # Two replicas: the verdict is global, and the optimizer step is skipped in
    # cross-replica context (the path MirroredStrategy takes).
    with mirrored_strategy().scope():
        model = CenterLossModel(linear_backbone(), lambda_=0.1, alpha=0.5)
        model.compile(optimizer=keras.optimizers.Adam(0.01))
    x, y = data(m=M)
    model.fit(x, y, batch_size=M, epochs=1, verbose=0)
    before = [*numpy_weights(model), *map(keras.ops.convert_to_numpy, model.optimizer.variables)]
    x[: M // 2] = 1e30  # only the first replica's half diverges
    with pytest.raises(tf.errors.InvalidArgumentError, match="loss is not finite"):
        model.fit(x, y, batch_size=M, epochs=1, shuffle=False, verbose=0)
    after = [*numpy_weights(model), *map(keras.ops.convert_to_numpy, model.optimizer.variables)]
    for old, new in zip(before, after, strict=True):
        np.testing.assert_array_equal(new, old)
