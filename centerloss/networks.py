"""Networks with a narrow feature layer, returning (logits, features).

Both take 28×28×1 images and end in a d-wide feature layer (d = 2 by default,
so the features can be plotted) followed by a linear softmax layer. Wrap either
in ``centerloss.CenterLossModel`` to train it with center loss.
"""

import keras
from keras import layers


def lenet_plus_plus(
    feature_dim=2,
    num_classes=10,
    input_shape=(28, 28, 1),
    name="lenet_pp",
    *,
    caffe=False,
    weight_decay=0.0,
):
    """The paper's LeNet++ (Wen et al. 2016, Fig. 2 and Table 1).

    conv 5×5 (32, 32) → max-pool → (64, 64) → max-pool → (128, 128) → max-pool
    → FC ``feature_dim`` → FC ``num_classes``, PReLU after every conv and after the
    feature layer. About 1.2 M weights, several times the compact CNN's cost per
    image: use it for paper-scale runs (``python -m centerloss reproduce``), not in class.

    Args:
      caffe: False (default) uses Keras's defaults. True builds the net of the
        authors' Caffe release (``mnist_example/mnist_train_test.prototxt``):
        weights drawn by Caffe's "xavier" filler (uniform ±√(3/fan_in), Keras's
        "lecun_uniform"), PReLU slopes starting at Caffe's 0.25 instead of 0,
        the last pool 3×3 with stride 2 (same 3×3 output), and a softmax layer
        without bias.
      weight_decay: Caffe's ``weight_decay``: an L2 penalty
        weight_decay/2 · ‖w‖² on every kernel and PReLU slope (biases are
        exempt, as there), so that its gradient weight_decay · w is the term
        Caffe adds to each gradient. 0 (default): none.

    Returns:
      Functional ``keras.Model``: images [m, 28, 28, 1] → (logits [m, C], features [m, d]).
    """
    regularizer = keras.regularizers.L2(weight_decay / 2) if weight_decay else None
    weights = dict(kernel_regularizer=regularizer)
    slopes = dict(alpha_regularizer=regularizer)
    if caffe:
        weights["kernel_initializer"] = "lecun_uniform"
        slopes["alpha_initializer"] = keras.initializers.Constant(0.25)

    def convs(x, filters, pool):
        for _ in range(2):
            x = layers.Conv2D(filters, 5, padding="same", **weights)(x)
            x = layers.PReLU(shared_axes=[1, 2], **slopes)(x)
        return layers.MaxPooling2D(pool, strides=2)(x)

    inputs = keras.Input(input_shape)
    x = inputs
    for filters, pool in ((32, 2), (64, 2), (128, 3 if caffe else 2)):
        x = convs(x, filters, pool)
    return _head(
        inputs,
        layers.Flatten()(x),
        feature_dim,
        num_classes,
        name,
        dense_options=weights,
        prelu_options=slopes,
        logits_bias=not caffe,
    )


def compact_cnn(
    feature_dim=2,
    num_classes=10,
    input_shape=(28, 28, 1),
    name="compact_cnn",
    *,
    feature_activation="prelu",
    logits_bias=True,
):
    """A small CNN with the same narrow feature layer, for classrooms.

    random shift ±5 % (training only) → conv 3×3 16 → pool → conv 3×3 32 → pool
    → dropout 0.25 → FC 128 → FC ``feature_dim`` (PReLU) → FC ``num_classes``,
    PReLU after every conv and FC. About 210 k weights. The shift augmentation
    and dropout keep it from overfitting small samples such as the 4,000
    embedded digits; docs/recipe.md says how the recipe was chosen.

    Args:
      feature_activation: "prelu" (default), "relu" or "linear", after the
        feature layer. A ReLU there confines the features to the positive
        quadrant (lesson 07 shows what that does to angles).
      logits_bias: False drops the softmax layer's bias b_j.

    Returns:
      Functional ``keras.Model``: images [m, 28, 28, 1] → (logits [m, C], features [m, d]).
    """
    inputs = keras.Input(input_shape)
    # Active only in training (fit); identity in evaluate/predict.
    x = layers.RandomTranslation(0.05, 0.05, fill_mode="constant")(inputs)
    for filters in (16, 32):
        x = layers.Conv2D(filters, 3, padding="same")(x)
        x = layers.PReLU(shared_axes=[1, 2])(x)
        x = layers.MaxPooling2D(2)(x)
    x = layers.Dropout(0.25)(layers.Flatten()(x))
    x = layers.PReLU()(layers.Dense(128)(x))
    return _head(
        inputs,
        x,
        feature_dim,
        num_classes,
        name,
        feature_activation=feature_activation,
        logits_bias=logits_bias,
    )


def _head(
    inputs,
    x,
    feature_dim,
    num_classes,
    name,
    dense_options=None,
    prelu_options=None,
    logits_bias=True,
    feature_activation="prelu",
):
    # The PReLU'd bottleneck is what the paper plots and what center loss pulls
    # together; the softmax layer sees only these d numbers.
    dense_options, prelu_options = dense_options or {}, prelu_options or {}
    x = layers.Dense(feature_dim, **dense_options)(x)
    if feature_activation == "prelu":
        features = layers.PReLU(name="features", **prelu_options)(x)
    elif feature_activation in ("relu", "linear"):
        features = layers.Activation(feature_activation, name="features")(x)
    elif feature_activation == "batchnorm":
        features = layers.BatchNormalization(name="features")(x)
    else:
        raise ValueError(
            f'feature_activation must be "prelu", "relu" or "linear"; got {feature_activation!r}.'
        )
    logits = layers.Dense(num_classes, use_bias=logits_bias, name="logits", **dense_options)(
        features
    )
    return keras.Model(inputs, [logits, features], name=name)


NETWORKS = {"compact": compact_cnn, "lenet++": lenet_plus_plus}


def build_network(
    name="compact", feature_dim=2, num_classes=10, input_shape=(28, 28, 1), **options
):
    """Build one of ``NETWORKS`` by name ("compact" or "lenet++").

    ``options`` go to the builder, e.g. ``feature_activation="relu"`` for the compact CNN.
    """
    if name not in NETWORKS:
        raise ValueError(f"network must be one of {sorted(NETWORKS)}; got {name!r}.")
    return NETWORKS[name](
        feature_dim=feature_dim, num_classes=num_classes, input_shape=input_shape, **options
    )


def feature_network(name="compact", feature_dim=2, input_shape=(28, 28, 1), **options):
    """One of ``NETWORKS`` without its softmax layer: images [m, ...] → features [m, d].

    The backbone of ``centerloss.AngularMarginModel``, whose margin head
    replaces the softmax layer. Built with the same seed, its weights are
    those of ``build_network``'s network up to the feature layer, so runs
    with and without a margin head start alike.
    """
    network = build_network(name, feature_dim=feature_dim, input_shape=input_shape, **options)
    return keras.Model(network.inputs, network.get_layer("features").output, name=network.name)
