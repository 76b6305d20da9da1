"""Mixed precision: float16 (with loss scaling) and bfloat16 train as plain Keras does."""

import keras
import numpy as np
import pytest

from centerloss.model import CenterLossModel

M, INPUTS, NUM_CLASSES, DIM = 32, 5, 4, 2
POLICIES = ["mixed_float16", "mixed_bfloat16"]


@pytest.fixture(params=POLICIES)
def policy(request):
    keras.mixed_precision.set_global_policy(request.param)
    yield request.param
    keras.mixed_precision.set_global_policy("float32")


def backbone(seed=0):
    keras.utils.set_random_seed(seed)
    inputs = keras.Input((INPUTS,))
    features = keras.layers.Dense(DIM, name="features")(inputs)
    return keras.Model(inputs, [keras.layers.Dense(NUM_CLASSES, name="logits")(features), features])


def data(seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(M, INPUTS)).astype(np.float32)
    return x, rng.integers(0, NUM_CLASSES, M).astype(np.int32)


def weights(model):
    return [keras.ops.convert_to_numpy(w).astype(np.float32) for w in model.trainable_weights]


def test_one_sgd_step_moves_the_weights_as_plain_keras_does(policy):
    x, y = data()
    ours = CenterLossModel(backbone(), lambda_=0.0)
    ours.compile(optimizer=keras.optimizers.SGD(0.5))
    net = backbone()  # the same initial weights
    plain = keras.Model(net.inputs, net.outputs[0])
    plain.compile(
        optimizer=keras.optimizers.SGD(0.5),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    )
    start = weights(ours)
    for a, b in zip(start, weights(plain), strict=True):
        np.testing.assert_array_equal(a, b)
    ours.fit(x, y, batch_size=M, epochs=1, shuffle=False, verbose=0)
    plain.fit(x, y, batch_size=M, epochs=1, shuffle=False, verbose=0)
    for w0, w_ours, w_plain in zip(start, weights(ours), weights(plain), strict=True):
        step_plain = w_plain - w0
        assert np.abs(step_plain).max() > 1e-3  # the step is visible at this precision
        np.testing.assert_allclose(w_ours - w0, step_plain, rtol=0.05, atol=2e-3)


def test_a_few_steps_lower_the_loss_and_centers_stay_float32(policy):
    x, y = data()
    model = CenterLossModel(backbone(), lambda_=0.1, alpha=0.5)
    model.compile(optimizer=keras.optimizers.SGD(0.5))
    assert model.centers.dtype == "float32"
    history = model.fit(x, y, batch_size=8, epochs=4, shuffle=False, verbose=0).history
    assert history["loss"][-1] < 0.9 * history["loss"][0]
    assert model.centers.dtype == "float32"
    centers = keras.ops.convert_to_numpy(model.centers)
    assert np.isfinite(centers).all() and np.abs(centers).max() > 0
