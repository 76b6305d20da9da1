"""Input validation shared by the loss, the Keras wiring and the article's API.

Every error names the argument, what was expected and what came, and says how
to fix it. Shape problems that TensorFlow knows statically fail when the graph
is built; value problems (label range, non-finite features) fail when the batch
runs: as ``ValueError`` eagerly, as ``tf.errors.InvalidArgumentError`` inside a
``tf.function``.
"""

import keras
import tensorflow as tf

# The scalar checks need no TensorFlow; they live with the settings they check.
from centerloss.config import check_alpha, check_lambda  # noqa: F401


def check_batch(features, labels, centers) -> tuple[tf.Tensor, tf.Tensor]:
    """Validate one batch against the centers and return (features, labels) tensors.

    Args:
      features: float tensor-like [m, d].
      labels: integer tensor-like holding one class id per example: [m], [m, 1],
        or a shape TensorFlow does not know until run time (a ``tf.data``
        pipeline through ``tf.numpy_function``). Their count is checked
        against m when the batch runs.
      centers: tensor or variable [num_classes, d].

    Returns:
      features cast to the centers' dtype, labels as int32 [m]; in graph mode
      both carry the runtime asserts (label count and range, finite features)
      as control dependencies.
    """
    features = tf.convert_to_tensor(features)
    labels = tf.convert_to_tensor(labels)
    if not features.dtype.is_floating:
        raise TypeError(
            f"features must be a float tensor [batch, d]; got dtype {features.dtype.name}. "
            "Cast them, e.g. tf.cast(features, tf.float32)."
        )
    if not labels.dtype.is_integer:
        raise TypeError(
            f"labels must be integer class ids; got dtype {labels.dtype.name}. "
            "Pass sparse labels as integers, e.g. y.astype('int32') "
            "(not one-hot, not floats)."
        )
    if features.shape.rank != 2:
        raise ValueError(
            f"features must have rank 2, shape [batch, d]; got shape {features.shape}. "
            "Flatten them or take the bottleneck layer's output."
        )
    labels = _one_label_per_example(labels)
    num_classes, width = centers.shape
    if features.shape[1] is not None and features.shape[1] != width:
        raise ValueError(
            f"features have width d={features.shape[1]} but centers have width {width} "
            f"(centers shape [{num_classes}, {width}]). Make the feature layer and the "
            "centers the same width."
        )
    if not features.shape[:1].is_compatible_with(labels.shape[:1]):
        raise ValueError(
            f"features and labels must have the same batch size; got "
            f"{features.shape[0]} features and {labels.shape[0]} labels."
        )
    features = tf.cast(features, centers.dtype)
    labels = tf.cast(labels, tf.int32)
    if tf.executing_eagerly():
        _raise_if_bad_values(features, labels, num_classes)
        return features, labels
    out_of_range = tf.logical_or(labels < 0, labels >= num_classes)
    asserts = [
        tf.debugging.assert_equal(
            tf.shape(features)[0],
            tf.shape(labels)[0],
            message="features and labels must have the same batch size (labels must hold "
            "one integer class id per example); counts of features, then labels:",
        ),
        # tf.debugging.Assert rather than assert_less: it prints the offending
        # labels, not the first three of the batch.
        tf.debugging.Assert(
            tf.logical_not(tf.reduce_any(out_of_range)),
            [
                f"labels must be class ids in [0, {num_classes}); got",
                tf.boolean_mask(labels, out_of_range),
                "Check num_classes and that the labels are 0-based.",
            ],
            summarize=10,
        ),
        tf.debugging.assert_all_finite(
            features,
            message="features must be finite (no NaN or inf); "
            "check the learning rate and the input data",
        ),
    ]
    with tf.control_dependencies(asserts):
        return tf.identity(features), tf.identity(labels)


def _one_label_per_example(labels):
    """Labels as a vector [m]: any shape whose non-batch dimensions are all 1, or unknown."""
    shape = labels.shape
    if shape.rank == 0 or (shape.rank is not None and any(n not in (1, None) for n in shape[1:])):
        raise ValueError(
            f"labels must hold one integer class id per example, shape [batch] or "
            f"[batch, 1]; got shape {shape}. One-hot labels? Pass np.argmax(y, axis=-1)."
        )
    if shape.rank == 1:
        return labels
    # Unknown rank or trailing 1s: the count is checked against the features at run time.
    return tf.reshape(labels, [-1])


def unwrap_variable(centers):
    """The ``tf.Variable`` inside a Keras Variable; anything else unchanged."""
    return centers.value if isinstance(centers, keras.Variable) else centers


LABEL_OUT_OF_RANGE, NON_FINITE_FEATURES = 1, 2
"""Codes of ``batch_problem``; 0 means the batch is valid."""


def batch_problem(features, labels, num_classes) -> tf.Tensor:
    """Scalar int32 tensor: why a batch cannot be used, as a tensor that XLA can compute.

    0 when every label is in [0, num_classes) and every feature is finite;
    else ``LABEL_OUT_OF_RANGE`` (checked first) or ``NON_FINITE_FEATURES``.
    """
    in_range = tf.logical_and(labels >= 0, labels < tf.cast(num_classes, labels.dtype))
    return tf.where(
        tf.reduce_all(in_range),
        tf.where(tf.reduce_all(tf.math.is_finite(features)), 0, NON_FINITE_FEATURES),
        LABEL_OUT_OF_RANGE,
    )


def batch_is_valid(features, labels, num_classes) -> tf.Tensor:
    """Scalar bool tensor: all labels in [0, num_classes) and all features finite."""
    return tf.equal(batch_problem(features, labels, num_classes), 0)


def _raise_if_bad_values(features, labels, num_classes):
    if labels.shape[0] != features.shape[0]:
        raise ValueError(
            f"features and labels must have the same batch size; got "
            f"{features.shape[0]} features and {labels.shape[0]} labels. Labels must "
            "hold one integer class id per example."
        )
    bad = tf.logical_or(labels < 0, labels >= num_classes)
    if tf.reduce_any(bad):
        raise ValueError(
            f"labels must be class ids in [0, {num_classes}); got "
            f"{tf.boolean_mask(labels, bad).numpy().tolist()[:10]}. Check num_classes "
            "and that the labels are 0-based."
        )
    if not tf.reduce_all(tf.math.is_finite(features)):
        raise ValueError(
            "features must be finite; got NaN or inf. The centers were not changed. "
            "Check the learning rate and the input data."
        )
