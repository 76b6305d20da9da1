"""The angular-margin heads against a NumPy reference written from each paper's formula."""

import math
import re

import keras
import numpy as np
import pytest
import reference
import tensorflow as tf

from centerloss import AngularMarginModel
from centerloss.loss import softmax_loss
from centerloss.margins import (
    ArcFace,
    CosFace,
    NormFace,
    SphereFace,
    sphereface_lambda,
    sphereface_psi,
)
from centerloss.networks import compact_cnn, feature_network

NUM_CLASSES, DIM = 5, 3

HEADS = {
    "normface": (lambda: NormFace(NUM_CLASSES, scale=8.0), dict(scale=8.0)),
    "cosface": (lambda: CosFace(NUM_CLASSES, scale=8.0, margin=0.3), dict(scale=8.0, margin=0.3)),
    "arcface": (lambda: ArcFace(NUM_CLASSES, scale=8.0, margin=0.5), dict(scale=8.0, margin=0.5)),
    "sphereface": (lambda: SphereFace(NUM_CLASSES, margin=4), dict(margin=4)),
}


def batch(seed, m=16):
    rng = np.random.default_rng(seed)
    features = rng.normal(size=(m, DIM)) * rng.uniform(0.5, 3.0, size=(m, 1))
    labels = rng.integers(0, NUM_CLASSES, size=m).astype(np.int32)
    kernel = rng.normal(size=(DIM, NUM_CLASSES))
    return features, labels, kernel


def built(name, kernel):
    head = HEADS[name][0]()
    head.build((None, kernel.shape[0]))
    head.kernel.assign(kernel.astype(np.float32))
    return head


def settings(name, step):
    result = {"loss": name, **HEADS[name][1]}
    if name == "sphereface":
        # The layer counts steps from 0; the Caffe schedule from 1.
        lam = 5.0 if step is None else max(5.0, 1000.0 / (1 + 0.12 * (step + 1)))
        result["sphere_lambda"] = lam
    return result


def loss_and_gradients(head, features, labels, step=None):
    features = tf.constant(features, tf.float32)
    with tf.GradientTape() as tape:
        tape.watch(features)
        loss = softmax_loss(head(features, labels=labels, step=step), labels)
    return (loss, *tape.gradient(loss, [features, head.kernel]))


@pytest.mark.parametrize("name", list(HEADS))
@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("step", [None, 0, 50])
def test_loss_and_gradients_match_reference(name, seed, step):
    features, labels, kernel = batch(seed)
    head = built(name, kernel)
    loss, grad_features, grad_kernel = loss_and_gradients(head, features, labels, step)
    options = settings(name, step)

    def of_features(f):
        return reference.margin_loss(f, labels, kernel, **options)

    def of_kernel(k):
        return reference.margin_loss(features, labels, k, **options)

    np.testing.assert_allclose(loss, of_features(features), rtol=1e-5)
    np.testing.assert_allclose(
        grad_features, reference.numerical_gradient(of_features, features), atol=1e-4, rtol=1e-3
    )
    np.testing.assert_allclose(
        grad_kernel, reference.numerical_gradient(of_kernel, kernel), atol=1e-4, rtol=1e-3
    )


def features_at_angles(thetas, kernel_direction, norm=2.0):
    """2-D features at angles θ from the unit direction [2]."""
    base = math.atan2(kernel_direction[1], kernel_direction[0])
    return norm * np.stack([np.cos(base + thetas), np.sin(base + thetas)], axis=1)


@pytest.mark.parametrize("name", list(HEADS))
def test_edge_angles_near_zero_and_near_pi(name):
    """θ of 0.01 rad and π − 0.01 to the target; exactly 0 and π give finite gradients."""
    kernel = np.array([[1.0, 0.0, -0.6], [0.0, 1.0, -0.8]])  # 3 classes in 2-D
    thetas = np.array([0.01, 0.05, math.pi - 0.05, math.pi - 0.01, 2.0])
    features = features_at_angles(thetas, kernel[:, 0])
    labels = np.zeros(len(thetas), np.int32)
    head = {
        "normface": NormFace(3, scale=8.0),
        "cosface": CosFace(3, scale=8.0, margin=0.3),
        "arcface": ArcFace(3, scale=8.0, margin=0.5),
        "sphereface": SphereFace(3, margin=4),
    }[name]
    head.build((None, 2))
    head.kernel.assign(kernel.astype(np.float32))
    options = settings(name, None)

    def of_features(f):
        return reference.margin_loss(f, labels, kernel, **options)

    loss, grad_features, _ = loss_and_gradients(head, features, labels)
    np.testing.assert_allclose(loss, of_features(features), rtol=1e-4)
    np.testing.assert_allclose(
        grad_features, reference.numerical_gradient(of_features, features), atol=2e-3, rtol=2e-2
    )
    exact = features_at_angles(np.array([0.0, math.pi]), kernel[:, 0])
    loss, grad_features, grad_kernel = loss_and_gradients(head, exact, np.zeros(2, np.int32))
    for value in (loss, grad_features, grad_kernel):
        assert np.isfinite(np.asarray(value)).all(), name


def test_margin_is_on_the_target_class_only():
    features, labels, kernel = batch(0)
    for name in ("cosface", "arcface", "sphereface"):
        head = built(name, kernel)
        plain = np.asarray(head(features))
        margin = np.asarray(head(features, labels=labels))
        target = np.eye(NUM_CLASSES, dtype=bool)[labels]
        np.testing.assert_array_equal(margin[~target], plain[~target])
        assert (margin[target] < plain[target]).all(), name  # a margin makes the target harder


def test_normface_has_no_margin_and_plain_logits_are_scaled_cosines():
    features, labels, kernel = batch(1)
    head = built("normface", kernel)
    plain = np.asarray(head(features))
    np.testing.assert_array_equal(np.asarray(head(features, labels=labels)), plain)
    cos = (features / np.linalg.norm(features, axis=1, keepdims=True)) @ (
        kernel / np.linalg.norm(kernel, axis=0)
    )
    np.testing.assert_allclose(plain, 8.0 * cos, rtol=1e-5, atol=1e-6)


def test_sphereface_psi_is_continuous_and_decreasing():
    thetas = np.linspace(0.0, math.pi, 2001)
    for m in (1, 2, 3, 4):
        psi = np.asarray(sphereface_psi(tf.constant(np.cos(thetas), tf.float32), m))
        assert (np.diff(psi) < 1e-5).all(), m
        assert abs(psi[0] - 1.0) < 1e-5 and abs(psi[-1] + (2 * m - 1)) < 1e-4, m
    np.testing.assert_allclose(sphereface_psi(tf.constant([0.3]), 1), [0.3], rtol=1e-6)


def test_sphereface_lambda_follows_the_caffe_schedule():
    for step in (1, 10, 100, 10_000):
        expected = max(5.0, 1000.0 * (1 + 0.12 * step) ** -1.0)
        np.testing.assert_allclose(sphereface_lambda(step), expected, rtol=1e-6)


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda: CosFace(10, scale=0), "scale must be a finite number > 0"),
        (lambda: NormFace(10, scale=float("nan")), "scale must be"),
        (lambda: CosFace(10, margin=-0.1), "margin must be a number in [0, 2)"),
        (lambda: ArcFace(10, margin=2.0), "margin must be a number in [0, 1.5708)"),
        (lambda: SphereFace(10, margin=1.5), "margin must be an integer >= 1"),
        (lambda: SphereFace(10, lambda_min=-1), "lambda_min must be"),
        (lambda: ArcFace(1), "num_classes must be an integer >= 2"),
    ],
)
def test_bad_settings_are_refused_with_the_reason(make, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        make()


def test_model_refuses_a_head_it_cannot_use():
    with pytest.raises(TypeError, match="head must be one of"):
        AngularMarginModel(feature_network(feature_dim=2), keras.layers.Dense(10))
    with pytest.raises(ValueError, match="one output, the features"):
        AngularMarginModel(compact_cnn(feature_dim=2), ArcFace(10))


@pytest.fixture(scope="module")
def tiny_data():
    rng = np.random.default_rng(0)
    x = rng.uniform(size=(64, 28, 28, 1)).astype("float32")
    y = (np.arange(64) % 4).astype("int32")
    return x, y


@pytest.mark.parametrize("name", ["arcface", "sphereface"])
def test_fit_save_and_load(tmp_path, tiny_data, name):
    x, y = tiny_data
    keras.utils.set_random_seed(0)
    head = ArcFace(4, scale=8.0, margin=0.2) if name == "arcface" else SphereFace(4, margin=2)
    model = AngularMarginModel(feature_network(feature_dim=2), head, lambda_=0.01)
    model.compile(optimizer="adam")
    history = model.fit(x, y, epochs=2, batch_size=16, verbose=0)
    assert set(history.history) == {"loss", "softmax_loss", "center_loss", "accuracy"}
    assert int(model.optimizer.iterations) == 8
    assert np.abs(np.asarray(model.centers)).sum() > 0  # the centers moved
    path = tmp_path / "model.keras"
    model.save(path)
    restored = keras.models.load_model(path)
    assert type(restored.head) is type(head) and restored.head.get_config() == head.get_config()
    for got, want in zip(
        restored(x[:8], training=False), model(x[:8], training=False), strict=True
    ):
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
    restored.fit(x, y, epochs=1, batch_size=16, verbose=0)  # and trains on


def test_a_bad_label_changes_nothing(tiny_data):
    x, y = tiny_data
    keras.utils.set_random_seed(0)
    model = AngularMarginModel(feature_network(feature_dim=2), CosFace(4))
    model.compile(optimizer="adam")
    before = [np.asarray(w).copy() for w in model.weights]
    bad = y.copy()
    bad[3] = 7
    with pytest.raises(tf.errors.InvalidArgumentError, match="labels must be class ids"):
        model.fit(x[:16], bad[:16], batch_size=16, epochs=1, verbose=0)
    for old, new in zip(before, model.weights, strict=True):
        np.testing.assert_array_equal(old, np.asarray(new))
