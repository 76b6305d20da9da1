"""The paper's equations: center loss and the center update.

Wen, Zhang, Li, Qiao, "A Discriminative Feature Learning Approach for Deep Face
Recognition", ECCV 2016. Notation follows the paper: a mini-batch of m deep
features x_i (shape [m, d]) with labels y_i, and one center c_j per class
(shape [num_classes, d]).

    (2)  L_C  = 1/2 · Σ_i ‖x_i − c_{y_i}‖²            center loss
    (3)  ∂L_C/∂x_i = x_i − c_{y_i}                    its gradient (features only)
         Δc_j = Σ_i δ(y_i = j)·(c_j − x_i) / (1 + Σ_i δ(y_i = j))
    (4)  L    = L_S + λ · L_C                          joint loss (L_S: softmax loss)
    Algorithm 1:  c_j ← c_j − α · Δc_j                 α ∈ (0, 1]: the centers' learning rate

Like the authors' Caffe layer and every Keras loss, L_C here is averaged over
the batch (1/(2m) instead of 1/2), so λ does not have to change with the batch
size. Everything here is plain TensorFlow: it runs eagerly, inside
``tf.function`` and with ``jit_compile=True``.
"""

import tensorflow as tf

from centerloss import checks


def center_loss(features, labels, centers):
    """Center loss L_C of a batch, eq. (2) averaged over the batch.

    Args:
      features: float tensor [m, d], the deep features x_i.
      labels: integer tensor [m], class ids y_i in [0, num_classes).
      centers: tensor or variable [num_classes, d], the class centers c_j.

    Returns:
      Scalar float tensor 1/(2m) · Σ_i ‖x_i − c_{y_i}‖² (squared feature units).
      Its gradient reaches ``features`` only: the centers are not learned by
      back-propagation but by ``update_centers`` (Algorithm 1).
    """
    centers = checks.unwrap_variable(centers)
    features, labels = checks.check_batch(features, labels, centers)
    # The centers follow their own rule (eq. 3 and Algorithm 1), not the optimizer.
    batch_centers = tf.stop_gradient(tf.gather(centers, labels))
    squared_distances = tf.reduce_sum(tf.square(features - batch_centers), axis=1)
    return 0.5 * tf.reduce_mean(squared_distances)


def center_deltas(features, labels, centers):
    """Per-sample terms of Δc_j in eq. (3).

    Returns a float tensor [m, d] whose row i is (c_{y_i} − x_i) / (1 + n_{y_i}),
    n_j being the number of samples of class j in the batch. Summing the rows
    that share a label gives Δc_j exactly, repeated labels included.

    The counts n_{y_i} come from comparing the batch's labels with each other,
    O(m²) for m ≤ a few thousand, instead of a histogram over all classes, so the
    cost grows with the batch and not with num_classes; and unlike
    ``tf.unique`` it has static shapes, which XLA needs.
    """
    same_class = tf.equal(labels[:, tf.newaxis], labels[tf.newaxis, :])
    counts = tf.reduce_sum(tf.cast(same_class, features.dtype), axis=1, keepdims=True)
    return (tf.gather(centers, labels) - features) / (1.0 + counts)


def update_centers(centers, features, labels, alpha):
    """Algorithm 1's center step: c_j ← c_j − α · Δc_j, in place.

    Args:
      centers: ``tf.Variable`` (or Keras Variable) [num_classes, d], updated in place.
      features: float tensor [m, d].
      labels: integer tensor [m] in [0, num_classes).
      alpha: Python float in (0, 1], the centers' learning rate.

    Returns:
      ``centers``. Classes absent from the batch are unchanged. A batch that is
      rejected (labels out of range, non-finite features) raises where
      TensorFlow can raise (eagerly and in graphs) and, under XLA, where asserts
      are dropped, leaves the centers unchanged instead of writing NaN.
      Cost: one gather and one scatter of m rows, O(m·d + m²), whatever
      num_classes is.
    """
    checks.check_alpha(alpha)
    variable = checks.unwrap_variable(centers)
    features, labels = checks.check_batch(features, labels, variable)
    # The static row count: tf.shape(variable) would read, and so copy, all centers.
    ok = checks.batch_is_valid(features, labels, variable.shape[0])
    # Under XLA the asserts above are no-ops: route a bad batch to a zero update
    # of row 0 so that nothing changes and nothing reads out of bounds.
    safe_labels = tf.where(ok, labels, tf.zeros_like(labels))
    safe_features = tf.where(ok, features, tf.zeros_like(features))
    deltas = center_deltas(safe_features, safe_labels, variable)
    step = tf.where(ok, alpha * deltas, tf.zeros_like(deltas))
    # scatter_sub adds up rows that share an index: the Σ over i of eq. (3).
    variable.scatter_sub(tf.IndexedSlices(step, safe_labels))
    return centers
