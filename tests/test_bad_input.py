"""Every bad input raises an error naming the argument, and never touches the centers."""

import keras
import numpy as np
import pytest
import tensorflow as tf

import centerloss
from centerloss.model import CenterLossModel

CENTERS = np.arange(12, dtype=np.float32).reshape(4, 3)
GOOD_X = np.ones((5, 3), np.float32)
GOOD_Y = np.array([0, 1, 1, 2, 3], np.int32)

BAD_BATCHES = {
    # name: (features, labels, error type, words the message must contain)
    "label too large": (
        GOOD_X,
        np.array([0, 1, 4, 2, 3], np.int32),
        ValueError,
        ["labels", "[0, 4)", "4"],
    ),
    "negative label": (
        GOOD_X,
        np.array([0, -1, 1, 2, 3], np.int32),
        ValueError,
        ["labels", "[0, 4)"],
    ),
    "float labels": (
        GOOD_X,
        GOOD_Y.astype(np.float32),
        TypeError,
        ["labels", "integer", "float32"],
    ),
    "rank-3 features": (
        np.ones((5, 3, 1), np.float32),
        GOOD_Y,
        ValueError,
        ["features", "rank 2", "(5, 3, 1)"],
    ),
    "batch sizes differ": (
        np.ones((4, 3), np.float32),
        GOOD_Y,
        ValueError,
        ["same batch size", "4", "5"],
    ),
    "width differs": (np.ones((5, 2), np.float32), GOOD_Y, ValueError, ["width", "2", "3"]),
    "NaN features": (
        np.where(np.eye(5, 3) > 0, np.nan, 1.0).astype(np.float32),
        GOOD_Y,
        ValueError,
        ["finite"],
    ),
    "inf features": (np.full((5, 3), np.inf, np.float32), GOOD_Y, ValueError, ["finite"]),
    "integer features": (np.ones((5, 3), np.int32), GOOD_Y, TypeError, ["features", "float"]),
}


@pytest.mark.parametrize("case", BAD_BATCHES)
def test_eager_errors_name_the_problem_and_leave_centers_unchanged(case):
    features, labels, error, words = BAD_BATCHES[case]
    variable = tf.Variable(CENTERS)
    with pytest.raises(error) as info:
        centerloss.update_centers(variable, features, labels, 0.5)
    for word in words:
        assert word in str(info.value)
    with pytest.raises(error):
        centerloss.center_loss(features, labels, CENTERS)
    np.testing.assert_array_equal(variable.numpy(), CENTERS)


STATIC_CASES = [
    "float labels",
    "rank-3 features",
    "width differs",
    "batch sizes differ",
    "integer features",
]


@pytest.mark.parametrize("case", STATIC_CASES)
def test_static_shape_problems_fail_when_the_graph_is_built(case):
    features, labels, error, words = BAD_BATCHES[case]
    variable = tf.Variable(CENTERS)
    step = tf.function(lambda x, y: centerloss.update_centers(variable, x, y, 0.5).read_value())
    with pytest.raises(error) as info:
        step.get_concrete_function(
            tf.TensorSpec(features.shape, features.dtype), tf.TensorSpec(labels.shape, labels.dtype)
        )
    assert words[0] in str(info.value)


RUNTIME_CASES = ["label too large", "negative label", "NaN features", "inf features"]


@pytest.mark.parametrize("case", RUNTIME_CASES)
def test_graph_mode_raises_at_run_time_and_leaves_centers_unchanged(case):
    features, labels, _, words = BAD_BATCHES[case]
    variable = tf.Variable(CENTERS)
    step = tf.function(lambda x, y: centerloss.update_centers(variable, x, y, 0.5).read_value())
    with pytest.raises(tf.errors.InvalidArgumentError) as info:
        step(features, labels)
    assert words[0] in str(info.value)
    np.testing.assert_array_equal(variable.numpy(), CENTERS)


@pytest.mark.parametrize("case", RUNTIME_CASES)
def test_xla_drops_asserts_but_still_leaves_centers_unchanged(case):
    features, labels, _, _ = BAD_BATCHES[case]
    variable = tf.Variable(CENTERS)
    step = tf.function(
        lambda x, y: centerloss.update_centers(variable, x, y, 0.5).read_value(), jit_compile=True
    )
    step(features, labels)
    np.testing.assert_array_equal(variable.numpy(), CENTERS)
    step(GOOD_X, GOOD_Y)  # and a good batch after it still updates
    assert not np.array_equal(variable.numpy(), CENTERS)


@pytest.mark.parametrize("alpha", [0, -0.1, 1.5, float("nan"), "0.5", None, True])
def test_alpha_outside_unit_interval(alpha):
    variable = tf.Variable(CENTERS)
    with pytest.raises(ValueError, match=r"alpha must be a number in \(0, 1\].*learning rate"):
        centerloss.update_centers(variable, GOOD_X, GOOD_Y, alpha)
    np.testing.assert_array_equal(variable.numpy(), CENTERS)


def tiny_backbone(num_classes=4, dim=3):
    inputs = keras.Input((5,))
    features = keras.layers.Dense(dim)(inputs)
    return keras.Model(inputs, [keras.layers.Dense(num_classes)(features), features])


@pytest.mark.parametrize("lambda_", [-0.1, float("inf"), float("nan"), "1"])
def test_model_rejects_bad_lambda(lambda_):
    with pytest.raises(ValueError, match="lambda_ must be a finite number >= 0"):
        CenterLossModel(tiny_backbone(), lambda_=lambda_)


def test_model_rejects_bad_alpha():
    with pytest.raises(ValueError, match="alpha"):
        CenterLossModel(tiny_backbone(), alpha=2.0)


def test_model_rejects_backbone_without_two_outputs():
    inputs = keras.Input((5,))
    with pytest.raises(ValueError, match="two outputs"):
        CenterLossModel(keras.Model(inputs, keras.layers.Dense(4)(inputs)))


@pytest.mark.parametrize(
    "case, labels",
    [
        ("label too large", np.array([0, 1, 9, 2, 3] * 4, np.int32)),
        ("NaN input", np.array([0, 1, 2, 2, 3] * 4, np.int32)),
    ],
)
def test_fit_on_a_bad_batch_raises_and_changes_nothing(case, labels):
    model = CenterLossModel(tiny_backbone(), lambda_=0.1, alpha=0.5)
    model.compile(optimizer="sgd")
    x = np.random.default_rng(0).normal(size=(20, 5)).astype(np.float32)
    model.fit(x, np.array([0, 1, 2, 2, 3] * 4, np.int32), epochs=1, verbose=0)
    before = [keras.ops.convert_to_numpy(w).copy() for w in model.weights]
    if case == "NaN input":
        x[3, 2] = np.nan
    with pytest.raises(tf.errors.InvalidArgumentError, match="labels must be class ids|finite"):
        model.fit(x, labels, batch_size=20, epochs=1, verbose=0)
    after = [keras.ops.convert_to_numpy(w) for w in model.weights]
    for old, new in zip(before, after, strict=True):
        np.testing.assert_array_equal(old, new)


def test_fit_rejects_float_labels_and_sample_weights():
    model = CenterLossModel(tiny_backbone(), lambda_=0.1)
    model.compile(optimizer="sgd")
    x = np.zeros((8, 5), np.float32)
    with pytest.raises(TypeError, match="labels must be integer class ids"):
        model.fit(x, np.zeros(8, np.float32), verbose=0)
    with pytest.raises(ValueError, match="sample_weight"):
        model.fit(x, np.zeros(8, np.int32), sample_weight=np.ones(8), verbose=0)


def test_graph_mode_label_error_shows_the_offending_labels():
    variable = tf.Variable(CENTERS)
    step = tf.function(lambda x, y: centerloss.update_centers(variable, x, y, 0.5).read_value())
    labels = np.array([0, 1, 2, 3, 9, 0, -2], np.int32)
    with pytest.raises(tf.errors.InvalidArgumentError) as info:
        step(np.ones((7, 3), np.float32), labels)
    message = str(info.value)
    assert "labels must be class ids in [0, 4)" in message
    assert "[9 -2]" in message  # the bad ones, not the first three of the batch


@pytest.mark.parametrize("shape", [(5, 4), (5, 1, 2)])
def test_labels_with_more_than_one_value_per_example_are_refused(shape):
    with pytest.raises(ValueError, match=r"one integer class id per example.*argmax"):
        centerloss.center_loss(GOOD_X, np.zeros(shape, np.int32), CENTERS)


def untyped_labels(x, y, batch_size):
    """A tf.data pipeline whose labels come back from numpy_function: static rank unknown."""
    dataset = tf.data.Dataset.from_tensor_slices((x, y)).batch(batch_size)
    return dataset.map(lambda a, b: (a, tf.numpy_function(lambda v: v, [b], tf.int32)))


def test_fit_accepts_labels_of_unknown_rank_and_of_shape_m_1():
    x = np.random.default_rng(0).normal(size=(20, 5)).astype(np.float32)
    y = np.array([0, 1, 2, 2, 3] * 4, np.int32)
    runs = {}
    for name in ("vector", "unknown rank", "then [m, 1]"):
        keras.utils.set_random_seed(0)
        model = CenterLossModel(tiny_backbone(), lambda_=0.1, alpha=0.5)
        model.compile(optimizer="sgd")
        if name == "unknown rank":
            dataset = untyped_labels(x, y, 5)
            assert dataset.element_spec[1].shape.rank is None
            model.fit(dataset, epochs=2, verbose=0)
        else:
            model.fit(x, y, batch_size=5, epochs=1, shuffle=False, verbose=0)
            labels = y[:, None] if name == "then [m, 1]" else y
            model.fit(x, labels, batch_size=5, shuffle=False, verbose=0)
            model.evaluate(x, y[:, None], verbose=0)
        runs[name] = keras.ops.convert_to_numpy(model.centers)
    np.testing.assert_allclose(runs["unknown rank"], runs["vector"], rtol=1e-6)
    np.testing.assert_allclose(runs["then [m, 1]"], runs["vector"], rtol=1e-6)


def test_unknown_rank_labels_with_the_wrong_count_fail_at_run_time():
    x = np.zeros((20, 5), np.float32)
    model = CenterLossModel(tiny_backbone(), lambda_=0.1)
    model.compile(optimizer="sgd")
    before = keras.ops.convert_to_numpy(model.centers).copy()
    with pytest.raises(tf.errors.InvalidArgumentError, match="one integer class id per example"):
        model.fit(untyped_labels(x, np.zeros((20, 2), np.int32), 5), verbose=0)
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(model.centers), before)
