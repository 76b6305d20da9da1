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


def check_batch(features, labels, centers):
    """Validate one batch against the centers and return (features, labels) tensors.

    Args:
      features: float tensor-like [m, d].
      labels: integer tensor-like [m] (or [m, 1], as Keras sometimes passes them).
      centers: tensor or variable [num_classes, d].

    Returns:
      features cast to the centers' dtype, labels as int32 [m]; in graph mode
      both carry the runtime asserts (label range, finite features) as control
      dependencies.
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
    if labels.shape.rank == 2 and labels.shape[1] == 1:
        labels = tf.squeeze(labels, axis=1)
    if labels.shape.rank != 1:
        raise ValueError(f"labels must have shape [batch]; got shape {labels.shape}.")
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
    asserts = [
        tf.debugging.assert_equal(
            tf.shape(features)[0],
            tf.shape(labels)[0],
            message="features and labels must have the same batch size",
        ),
        tf.debugging.assert_non_negative(
            labels, message=f"labels must be class ids in [0, {num_classes})"
        ),
        tf.debugging.assert_less(
            labels,
            tf.cast(num_classes, tf.int32),
            message=f"labels must be class ids in [0, {num_classes})",
        ),
        tf.debugging.assert_all_finite(
            features,
            message="features must be finite (no NaN or inf); "
            "check the learning rate and the input data",
        ),
    ]
    with tf.control_dependencies(asserts):
        return tf.identity(features), tf.identity(labels)


def unwrap_variable(centers):
    """The ``tf.Variable`` inside a Keras Variable; anything else unchanged."""
    return centers.value if isinstance(centers, keras.Variable) else centers


def batch_is_valid(features, labels, num_classes):
    """Scalar bool tensor: all labels in [0, num_classes) and all features finite."""
    in_range = tf.logical_and(labels >= 0, labels < tf.cast(num_classes, labels.dtype))
    return tf.logical_and(tf.reduce_all(in_range), tf.reduce_all(tf.math.is_finite(features)))


def _raise_if_bad_values(features, labels, num_classes):
    if labels.shape[0] != features.shape[0]:
        raise ValueError(
            f"features and labels must have the same batch size; got "
            f"{features.shape[0]} features and {labels.shape[0]} labels."
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
