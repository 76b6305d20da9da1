"""The article's get_center_loss in tf.compat.v1 graph mode, against the NumPy reference."""

import numpy as np
import pytest
import reference
import tensorflow as tf

from centerloss.article import get_center_loss

tf1 = tf.compat.v1
NUM_CLASSES, DIM = 5, 3


def batches(n, m=16, seed=0):
    rng = np.random.default_rng(seed)
    for _ in range(n):
        yield rng.normal(size=(m, DIM)).astype(np.float32), rng.integers(0, NUM_CLASSES - 1, m)


def dense(inputs, units, name):
    """A TF1 fully connected layer (tf.compat.v1.layers is gone with Keras 3)."""
    kernel = tf1.get_variable(
        name + "_kernel",
        [inputs.shape[1], units],
        initializer=tf1.glorot_uniform_initializer(seed=0),
    )
    return tf.matmul(inputs, kernel)


def test_article_snippet_runs_with_one_changed_import():
    alpha, lambda_ = 0.5, 0.1
    graph = tf.Graph()
    with graph.as_default():
        # The article's training snippet, with the missing λ of eq. (4) added.
        images = tf1.placeholder(tf.float32, [None, 4])
        labels = tf1.placeholder(tf.int64, [None])
        features = dense(images, DIM, "features")
        logits = dense(features, NUM_CLASSES, "logits")
        cross_entropy = tf.reduce_mean(
            tf.nn.sparse_softmax_cross_entropy_with_logits(logits=logits, labels=labels)
        )
        center_loss, centers, centers_update_op = get_center_loss(
            features, labels, alpha, NUM_CLASSES
        )
        total_loss = cross_entropy + lambda_ * center_loss
        train_op = tf1.train.GradientDescentOptimizer(0.1).minimize(total_loss)
        assert centers not in tf1.trainable_variables()
        with tf1.Session() as sess:
            sess.run(tf1.global_variables_initializer())
            rng = np.random.default_rng(1)
            for _ in range(3):
                batch_images = rng.normal(size=(16, 4)).astype(np.float32)
                batch_labels = rng.integers(0, NUM_CLASSES, 16)
                feed = {images: batch_images, labels: batch_labels}
                old_centers, batch_features, loss = sess.run([centers, features, center_loss], feed)
                # reduce_mean over batch and features = 2/d · L_C (see compat's docstring).
                np.testing.assert_allclose(
                    loss,
                    2 / DIM * reference.center_loss(batch_features, batch_labels, old_centers),
                    rtol=1e-5,
                )
                sess.run(centers_update_op, feed)
                np.testing.assert_allclose(
                    sess.run(centers),
                    reference.updated_centers(old_centers, batch_features, batch_labels, alpha),
                    rtol=1e-5,
                    atol=1e-6,
                )
                sess.run([train_op, total_loss], feed)


def test_bad_labels_are_refused_without_touching_centers():
    graph = tf.Graph()
    with graph.as_default():
        features = tf1.placeholder(tf.float32, [None, DIM])
        labels = tf1.placeholder(tf.int32, [None])
        _, centers, update = get_center_loss(features, labels, 0.5, NUM_CLASSES)
        with tf1.Session() as sess:
            sess.run(tf1.global_variables_initializer())
            x, y = next(batches(1))
            sess.run(update, {features: x, labels: y})
            before = sess.run(centers)
            with pytest.raises(tf.errors.InvalidArgumentError, match="labels must be class ids"):
                sess.run(update, {features: x, labels: np.full(16, NUM_CLASSES)})
            bad = x.copy()
            bad[0, 0] = np.nan
            with pytest.raises(tf.errors.InvalidArgumentError, match="finite"):
                sess.run(update, {features: bad, labels: y})
            np.testing.assert_array_equal(sess.run(centers), before)


def test_alpha_is_validated_as_a_learning_rate():
    with tf.Graph().as_default():
        features = tf1.placeholder(tf.float32, [None, DIM])
        with pytest.raises(ValueError, match="learning rate"):
            get_center_loss(features, tf1.placeholder(tf.int32, [None]), 1.5, NUM_CLASSES)


def test_eager_call_says_it_is_a_graph_mode_api():
    with pytest.raises(RuntimeError, match="graph-mode API.*tf.Graph"):
        get_center_loss(tf.zeros((4, DIM)), tf.zeros(4, tf.int32), 0.5, NUM_CLASSES)


def test_second_call_in_one_graph_says_to_use_a_variable_scope():
    with tf.Graph().as_default():
        features = tf1.placeholder(tf.float32, [None, DIM])
        labels = tf1.placeholder(tf.int32, [None])
        get_center_loss(features, labels, 0.5, NUM_CLASSES)
        with pytest.raises(ValueError, match="already called.*variable_scope.*reuse=True"):
            get_center_loss(features, labels, 0.5, NUM_CLASSES)
        # Both ways out that the message names work.
        with tf1.variable_scope("second_head"):
            _, other, _ = get_center_loss(features, labels, 0.5, NUM_CLASSES)
        with tf1.variable_scope(tf1.get_variable_scope(), reuse=True):
            _, shared, _ = get_center_loss(features, labels, 0.5, NUM_CLASSES)
        assert other.name == "second_head/centers:0" and shared.name == "centers:0"


def test_unknown_feature_width_says_to_give_it_statically():
    with tf.Graph().as_default():
        features = tf1.placeholder(tf.float32, [None, None])
        with pytest.raises(ValueError, match="width known.*ensure_shape"):
            get_center_loss(features, tf1.placeholder(tf.int32, [None]), 0.5, NUM_CLASSES)
