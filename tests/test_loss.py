"""The functional core against the NumPy reference of eqs. (1)-(4) and Algorithm 1."""

import numpy as np
import pytest
import reference
import tensorflow as tf

import centerloss

NUM_CLASSES, DIM = 7, 3


def random_batch(seed, m=32, num_classes=NUM_CLASSES, dim=DIM):
    """A batch with repeated labels and (for m small enough) absent classes."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, num_classes - 2, size=m).astype(np.int32)  # last 2 classes absent
    features = rng.normal(size=(m, dim)).astype(np.float32)
    centers = rng.normal(size=(num_classes, dim)).astype(np.float32)
    return features, labels, centers


@pytest.mark.parametrize("seed", range(5))
def test_center_loss_matches_reference(seed):
    features, labels, centers = random_batch(seed)
    got = centerloss.center_loss(features, labels, centers)
    assert got.shape == ()
    np.testing.assert_allclose(got, reference.center_loss(features, labels, centers), rtol=1e-5)


@pytest.mark.parametrize("seed", range(3))
def test_joint_loss_is_softmax_plus_lambda_center_loss(seed):
    features, labels, centers = random_batch(seed)
    logits = np.random.default_rng(seed).normal(scale=3.0, size=(32, NUM_CLASSES))
    softmax = reference.softmax_cross_entropy(logits, labels)  # eq. (1)
    centered = reference.center_loss(features, labels, centers)  # eq. (2)
    # bfloat16 logits, as a mixed-precision network gives: the loss is still float32.
    got = centerloss.joint_loss(
        tf.constant(logits, tf.bfloat16), features, labels, centers, lambda_=0.3
    )
    assert {name: value.dtype for name, value in got.items()} == dict.fromkeys(
        ("loss", "softmax_loss", "center_loss"), tf.float32
    )
    bf16_logits = tf.cast(tf.constant(logits, tf.bfloat16), tf.float64).numpy()
    np.testing.assert_allclose(
        got["softmax_loss"], reference.softmax_cross_entropy(bf16_logits, labels), rtol=1e-5
    )
    np.testing.assert_allclose(got["center_loss"], centered, rtol=1e-5)
    np.testing.assert_allclose(
        got["loss"],
        reference.softmax_cross_entropy(bf16_logits, labels) + 0.3 * centered,
        rtol=1e-5,
    )
    np.testing.assert_allclose(centerloss.softmax_loss(logits, labels), softmax, rtol=1e-5)


def test_gradient_reaches_features_only_and_matches_finite_differences():
    features, labels, centers = random_batch(1, m=8)
    x = tf.Variable(features.astype(np.float64))
    c = tf.Variable(centers.astype(np.float64))
    with tf.GradientTape() as tape:
        loss = centerloss.center_loss(x, labels, c)
    grad_x, grad_c = tape.gradient(loss, [x, c])
    assert grad_c is None
    np.testing.assert_allclose(
        grad_x, reference.center_loss_gradient(features, labels, centers), rtol=1e-5, atol=1e-7
    )
    eps, numeric = 1e-6, np.zeros_like(features, dtype=np.float64)
    for index in np.ndindex(features.shape):
        plus, minus = features.astype(np.float64), features.astype(np.float64)
        plus[index] += eps
        minus[index] -= eps
        numeric[index] = (
            reference.center_loss(plus, labels, centers)
            - reference.center_loss(minus, labels, centers)
        ) / (2 * eps)
    np.testing.assert_allclose(grad_x, numeric, rtol=1e-4, atol=1e-8)


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("alpha", [0.5, 1.0, 0.01])
def test_update_matches_reference_with_repeated_and_absent_labels(seed, alpha):
    features, labels, centers = random_batch(seed)
    variable = tf.Variable(centers)
    returned = centerloss.update_centers(variable, features, labels, alpha)
    assert returned is variable
    expected = reference.updated_centers(centers, features, labels, alpha)
    np.testing.assert_allclose(variable.numpy(), expected, rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(variable.numpy()[-2:], centers[-2:])  # absent classes


def test_all_samples_of_one_class():
    features = np.array([[1.0, 0.0], [3.0, 0.0], [2.0, 3.0]], np.float32)
    variable = tf.Variable(np.zeros((2, 2), np.float32))
    centerloss.update_centers(variable, features, np.zeros(3, np.int32), alpha=1.0)
    # Δc_0 = (3·0 − (6, 3)) / (1 + 3): the center moves 3/4 of the way to the mean (2, 1).
    np.testing.assert_allclose(variable.numpy(), [[1.5, 0.75], [0.0, 0.0]])


@pytest.mark.parametrize("mode", ["tf.function", "xla"])
def test_eager_graph_and_xla_agree(mode):
    features, labels, centers = random_batch(3, m=64)

    def step(variable, x, y):
        loss = centerloss.center_loss(x, y, variable)
        centerloss.update_centers(variable, x, y, 0.5)
        return loss

    eager_centers = tf.Variable(centers)
    eager_loss = step(eager_centers, features, labels)
    compiled_centers = tf.Variable(centers)
    compiled = tf.function(step, jit_compile=(mode == "xla"))
    compiled_loss = compiled(compiled_centers, tf.constant(features), tf.constant(labels))
    np.testing.assert_allclose(compiled_loss, eager_loss, rtol=1e-5)
    np.testing.assert_allclose(
        compiled_centers.numpy(), eager_centers.numpy(), rtol=1e-5, atol=1e-6
    )


def test_keras_variable_is_accepted():
    import keras

    features, labels, centers = random_batch(4)
    variable = keras.Variable(centers, trainable=False)
    centerloss.update_centers(variable, features, labels, 0.5)
    np.testing.assert_allclose(
        keras.ops.convert_to_numpy(variable),
        reference.updated_centers(centers, features, labels, 0.5),
        rtol=1e-5,
        atol=1e-6,
    )


@pytest.mark.parametrize("m, num_classes", [(1, 3), (50, 2), (300, 1000)])
def test_class_counts_match_a_loop(m, num_classes):
    labels = np.random.default_rng(m).integers(0, num_classes, m).astype(np.int32)
    expected = [sum(1 for other in labels if other == label) for label in labels]
    np.testing.assert_array_equal(centerloss.loss.class_counts(tf.constant(labels)), expected)


def test_update_matches_reference_on_a_large_batch_under_xla():
    # Many repeats per class: the counts n_j come from the sorted batch.
    features, labels, centers = random_batch(8, m=4096, num_classes=50, dim=4)
    variable = tf.Variable(centers)
    step = tf.function(
        lambda x, y: centerloss.update_centers(variable, x, y, 0.5), jit_compile=True
    )
    step(tf.constant(features), tf.constant(labels))
    expected = reference.updated_centers(centers, features, labels, 0.5)
    np.testing.assert_allclose(variable.numpy(), expected, rtol=1e-5, atol=1e-5)
