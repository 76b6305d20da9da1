"""The paper's equations: center loss and the center update.

Wen, Zhang, Li, Qiao, "A Discriminative Feature Learning Approach for Deep Face
Recognition", ECCV 2016. Notation follows the paper: a mini-batch of m deep
features x_i (shape [m, d]) with labels y_i, and one center c_j per class
(shape [num_classes, d]).

    (1)  L_S  = −Σ_i log softmax(W^T x_i + b)_{y_i}    softmax loss
    (2)  L_C  = 1/2 · Σ_i ‖x_i − c_{y_i}‖²            center loss
    (3)  ∂L_C/∂x_i = x_i − c_{y_i}                    its gradient (features only)
         Δc_j = Σ_i δ(y_i = j)·(c_j − x_i) / (1 + Σ_i δ(y_i = j))
    (4)  L    = L_S + λ · L_C                          joint loss (L_S: softmax loss)
    Algorithm 1:  c_j ← c_j − α · Δc_j                 α ∈ (0, 1]: the centers' learning rate

Like the authors' Caffe layers and every Keras loss, L_S and L_C here are
averaged over the batch (1/m and 1/(2m) instead of 1 and 1/2), so λ does not
have to change with the batch size. Everything here is plain TensorFlow: it runs eagerly, inside
``tf.function`` and with ``jit_compile=True``.
"""

import tensorflow as tf

from centerloss import checks


def softmax_loss(logits, labels) -> tf.Tensor:
    """Softmax loss L_S of a batch, eq. (1) averaged over the batch.

    Args:
      logits: float tensor [m, num_classes], W^T x_i + b (any float dtype;
        computed in float32, so a bfloat16 or float16 network loses nothing here).
      labels: integer tensor [m], class ids y_i.

    Returns:
      Scalar float32 tensor, the mean cross-entropy in nats.
    """
    # Plain TF rather than a keras.losses object, which would also divide by
    # the replica count behind the caller's back.
    return tf.reduce_mean(
        tf.nn.sparse_softmax_cross_entropy_with_logits(
            labels=labels, logits=tf.cast(logits, tf.float32)
        )
    )


def joint_loss(logits, features, labels, centers, lambda_: float) -> dict[str, tf.Tensor]:
    """The joint loss of eq. (4) and its two terms, for one batch.

    Args:
      logits: float tensor [m, num_classes].
      features: float tensor [m, d], the deep features x_i.
      labels: integer tensor [m].
      centers: tensor or variable [num_classes, d].
      lambda_: λ ≥ 0, the weight of center loss.

    Returns:
      ``{"loss": L_S + λ·L_C, "softmax_loss": L_S, "center_loss": L_C}``,
      scalar float tensors (the names Keras logs them under).
    """
    softmax = softmax_loss(logits, labels)  # L_S, eq. (1)
    centered = center_loss(features, labels, centers)  # L_C, eq. (2)
    return {
        "loss": softmax + lambda_ * centered,  # eq. (4)
        "softmax_loss": softmax,
        "center_loss": centered,
    }


def center_loss(features, labels, centers) -> tf.Tensor:
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


def class_counts(labels: tf.Tensor) -> tf.Tensor:
    """n_{y_i} for every sample: how many labels of the batch equal ``labels[i]``.

    Args:
      labels: integer tensor [m].

    Returns:
      Integer tensor [m] (the labels' dtype). Cost O(m log m), whatever
      num_classes is: one sort, then run lengths of the sorted labels. Static
      shapes throughout, so it runs under XLA.
    """
    order = tf.argsort(labels, stable=True)
    sorted_labels = tf.gather(labels, order)
    # Equal labels form one run of the sorted batch; its length is their n_j.
    run_starts = tf.concat(
        [
            tf.ones_like(sorted_labels[:1]),
            tf.cast(tf.not_equal(sorted_labels[1:], sorted_labels[:-1]), labels.dtype),
        ],
        axis=0,
    )
    run = tf.cumsum(run_starts) - 1
    run_lengths = tf.math.unsorted_segment_sum(tf.ones_like(labels), run, tf.size(labels))
    # Back from sorted order to the batch's order.
    return tf.scatter_nd(order[:, tf.newaxis], tf.gather(run_lengths, run), tf.shape(labels))


def center_deltas(features: tf.Tensor, labels: tf.Tensor, centers) -> tf.Tensor:
    """Per-sample terms of Δc_j in eq. (3).

    Returns a float tensor [m, d] whose row i is (c_{y_i} − x_i) / (1 + n_{y_i}),
    n_j being the number of samples of class j in the batch (``class_counts``).
    Summing the rows that share a label gives Δc_j exactly, repeated labels
    included. The cost grows with the batch, O(m·d + m log m), not with
    num_classes.
    """
    counts = tf.cast(class_counts(labels), features.dtype)[:, tf.newaxis]
    return (tf.gather(centers, labels) - features) / (1.0 + counts)


def update_centers(centers, features, labels, alpha: float):
    """Algorithm 1's center step: c_j ← c_j − α · Δc_j, in place.

    Args:
      centers: ``tf.Variable`` (or Keras Variable) [num_classes, d], updated in place.
      features: float tensor [m, d].
      labels: integer tensor [m] in [0, num_classes) (any shape holding one
        label per example, e.g. [m, 1], is accepted).
      alpha: Python float in (0, 1], the centers' learning rate.

    Returns:
      ``centers``. Classes absent from the batch are unchanged. A batch that is
      rejected (labels out of range, non-finite features) raises where
      TensorFlow can raise (eagerly and in graphs) and, under XLA, where asserts
      are dropped, leaves the centers unchanged instead of writing NaN.
      Cost: one gather and one scatter of m rows and a sort of the m labels,
      O(m·d + m log m), whatever num_classes is.
    """
    checks.check_alpha(alpha)
    variable = checks.unwrap_variable(centers)
    features, labels = checks.check_batch(features, labels, variable)
    # The static row count: tf.shape(variable) would read, and so copy, all centers.
    valid = checks.batch_is_valid(features, labels, variable.shape[0])
    apply_center_step(variable, features, labels, alpha, valid)
    return centers


def apply_center_step(centers, features, labels, alpha: float, valid) -> None:
    """c_j ← c_j − α · Δc_j on a checked batch, only where ``valid`` is true.

    The unchecked core of ``update_centers``, for callers that validate the
    batch themselves (``CenterLossModel`` also rejects a non-finite loss).

    Args:
      centers: ``tf.Variable`` [num_classes, d], updated in place.
      features: float tensor [m, d] in the centers' dtype.
      labels: int32 tensor [m].
      alpha: the centers' learning rate in (0, 1].
      valid: scalar bool tensor; when false the centers do not change at all.
    """
    # Under XLA asserts are no-ops: route a bad batch to a zero update of
    # row 0 so that nothing changes and nothing reads out of bounds.
    safe_labels = tf.where(valid, labels, tf.zeros_like(labels))
    safe_features = tf.where(valid, features, tf.zeros_like(features))
    deltas = center_deltas(safe_features, safe_labels, centers)
    step = tf.where(valid, alpha * deltas, tf.zeros_like(deltas))
    # scatter_sub adds up rows that share an index: the Σ over i of eq. (3).
    centers.scatter_sub(tf.IndexedSlices(step, safe_labels))
