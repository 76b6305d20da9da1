"""The article's TF1 API, kept working for its readers.

The Chinese blog article this project grew from (a TF1 tutorial on center
loss; not shipped here) shows ``get_center_loss(features, labels, alpha,
num_classes)`` for TF1 graph mode. This module keeps its signature and
semantics so that the article's training snippet runs under
``tf.compat.v1`` with one changed import::

    from centerloss.article import get_center_loss

Two flaws of the article are fixed in the docs, not by changing its numbers:

* Its docstring calls ``alpha`` "the weight of center loss". It is not: α is the
  centers' learning rate in c_j ← c_j − α·Δc_j (Algorithm 1). The weight is λ.
* Its total loss is ``cross_entropy + center_loss``, with no λ. Write
  ``cross_entropy + lambda_ * center_loss`` (eq. 4); the paper's MNIST figures
  use λ between 0.001 and 1.

What it gets right is kept: the centers are a non-trainable variable moved by
their own update op, and the update divides by 1 + n_j with repeated labels
summed, exactly eq. (3). Its loss is ``reduce_mean`` over batch *and* feature
dimensions, which equals 2/d · L_C of ``centerloss.center_loss`` (1/(2m)·Σ‖x−c‖²).
"""

import tensorflow as tf

from centerloss import checks
from centerloss.loss import center_deltas


def get_center_loss(features, labels, alpha: float, num_classes: int):
    """The article's center loss for ``tf.compat.v1`` graph mode.

    Args:
      features: float tensor [batch_size, feature_dim] (static feature_dim).
      labels: integer tensor [batch_size], class ids in [0, num_classes).
      alpha: the centers' learning rate α in (0, 1] (NOT the loss weight;
        the article's docstring is wrong about this).
      num_classes: number of classes.

    Returns:
      (center_loss, centers, centers_update_op):
      center_loss: scalar, mean of (x − c_y)² over batch and features
        (= 2/d · L_C). Add it to the softmax loss with a weight λ.
      centers: the non-trainable variable 'centers' [num_classes, feature_dim],
        created with ``tf.compat.v1.get_variable`` (zeros) in the current
        variable scope.
      centers_update_op: run it with each training step to apply
        c_j ← c_j − α·Δc_j. It refuses (raises) on out-of-range labels or
        non-finite features instead of corrupting the centers.

    Raises:
      RuntimeError: called eagerly (TF2's default); this is a graph-mode API.
      ValueError: the feature width is not known statically, or a 'centers'
        variable already exists in the current variable scope.
    """
    if tf.executing_eagerly():
        raise RuntimeError(
            "get_center_loss is the article's TF1 graph-mode API: eagerly it would make a "
            "fresh zero 'centers' variable at every call. Build the graph first (inside "
            "`with tf.Graph().as_default():`, run with tf.compat.v1.Session), or in TF2 code "
            "use centerloss.CenterLossModel, or centerloss.center_loss and "
            "centerloss.update_centers with a tf.Variable."
        )
    checks.check_alpha(alpha)
    if features.shape.rank != 2 or features.shape[1] is None:
        raise ValueError(
            f"get_center_loss needs features of shape [batch_size, feature_dim] with the "
            f"width known when the graph is built; got shape {features.shape}. Give it "
            "statically, e.g. tf.compat.v1.placeholder(tf.float32, [None, 2]) or "
            "features = tf.ensure_shape(features, [None, feature_dim])."
        )
    try:
        centers = tf.compat.v1.get_variable(
            "centers",
            [num_classes, features.shape[1]],
            dtype=tf.float32,
            initializer=tf.compat.v1.constant_initializer(0),
            trainable=False,
        )
    except ValueError as exc:
        if "already exists" not in str(exc):
            raise
        scope = tf.compat.v1.get_variable_scope().name or "the root scope"
        raise ValueError(
            f"get_center_loss was already called in this graph: a 'centers' variable "
            f"exists in {scope}. Give each call its own scope, "
            "`with tf.compat.v1.variable_scope('head_a'):`, or share the centers with "
            "`with tf.compat.v1.variable_scope(tf.compat.v1.get_variable_scope(), "
            "reuse=True):`."
        ) from exc
    features, labels = checks.check_batch(features, labels, centers)
    centers_batch = tf.gather(centers, labels)
    center_loss = tf.reduce_mean(tf.square(features - centers_batch))
    diff = alpha * center_deltas(features, labels, centers)
    centers_update_op = tf.compat.v1.scatter_sub(centers, labels, diff)
    return center_loss, centers, centers_update_op
