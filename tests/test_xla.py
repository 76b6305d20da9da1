"""A batch the model cannot train on changes nothing, in graph mode and under XLA.

TensorFlow drops its asserts under XLA (``jit_compile=True``, which Keras's
default "auto" picks on a GPU), so the step itself must refuse the batch and
``fit`` must raise on the host.
"""

import keras
import numpy as np
import pytest
import tensorflow as tf

from centerloss.model import CenterLossModel

M, INPUTS, NUM_CLASSES = 20, 5, 4
GOOD_Y = np.array([0, 1, 2, 2, 3] * 4, np.int32)


def tiny_backbone():
    keras.utils.set_random_seed(0)
    inputs = keras.Input((INPUTS,))
    features = keras.layers.Dense(3)(inputs)
    return keras.Model(inputs, [keras.layers.Dense(NUM_CLASSES)(features), features])


def good_x():
    return np.random.default_rng(0).normal(size=(M, INPUTS)).astype(np.float32)


def bad_batch(case):
    x, y = good_x(), GOOD_Y.copy()
    if case == "label too large":
        y[7] = NUM_CLASSES
    elif case == "negative label":
        y[3] = -1
    elif case == "NaN input":
        x[3, 2] = np.nan
    elif case == "inf input":
        x[0, 0] = np.inf
    elif case == "diverging loss":
        # Finite features (~1e30) whose squared distance to the centers overflows.
        x = np.full_like(x, 1e30)
    return x, y


EXPECTED = {
    "label too large": "labels must be class ids in \\[0, 4\\)",
    "negative label": "labels must be class ids in \\[0, 4\\)",
    "NaN input": "finite",
    "inf input": "finite",
    "diverging loss": "loss is not finite",
}


def state(model):
    """Every number a training step may change: weights (centers too) and optimizer slots."""
    variables = [*model.weights, *model.optimizer.variables]
    return [keras.ops.convert_to_numpy(v).copy() for v in variables]


def trained_model(jit_compile, steps_per_execution=1, batch_size=M):
    model = CenterLossModel(tiny_backbone(), lambda_=0.1, alpha=0.5)
    model.compile(
        optimizer=keras.optimizers.Adam(0.01),
        jit_compile=jit_compile,
        steps_per_execution=steps_per_execution,
    )
    model.fit(good_x(), GOOD_Y, batch_size=batch_size, epochs=1, shuffle=False, verbose=0)
    return model


@pytest.mark.parametrize("jit_compile", [True, False], ids=["xla", "graph"])
def test_each_bad_batch_raises_and_changes_nothing(jit_compile):
    # One model meets every bad batch in turn (one compilation): each must
    # raise and leave weights, centers, Adam's moments and iterations as they were.
    model = trained_model(jit_compile)
    assert model.optimizer.iterations.numpy() == 1
    before = state(model)
    assert len(before) > 4  # weights, centers, Adam's moments, iterations
    for case, expected in EXPECTED.items():
        x, y = bad_batch(case)
        with pytest.raises(tf.errors.InvalidArgumentError, match=expected):
            model.fit(x, y, batch_size=M, epochs=1, verbose=0)
        for old, new in zip(before, state(model), strict=True):
            np.testing.assert_array_equal(new, old, err_msg=case)
    # The model is not poisoned: a good batch trains it again.
    model.fit(good_x(), GOOD_Y, batch_size=M, epochs=1, verbose=0)
    assert model.optimizer.iterations.numpy() == 2
    after = state(model)
    assert all(np.isfinite(value).all() for value in after)
    assert not np.array_equal(after[0], before[0])


def test_xla_refuses_the_rest_of_a_multi_step_execution():
    # steps_per_execution=4 runs four batches in one compiled call: the bad
    # first batch must not let the three good ones after it train the model.
    model = trained_model(jit_compile=True, steps_per_execution=4, batch_size=5)
    before = state(model)
    y = GOOD_Y.copy()
    y[0] = 9
    with pytest.raises(tf.errors.InvalidArgumentError, match="labels must be class ids"):
        model.fit(good_x(), y, batch_size=5, epochs=1, shuffle=False, verbose=0)
    for old, new in zip(before, state(model), strict=True):
        np.testing.assert_array_equal(new, old)
