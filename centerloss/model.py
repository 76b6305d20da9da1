"""Keras wiring: train any (logits, features) model with softmax + λ · center loss."""

import keras
import tensorflow as tf

from centerloss import checks
from centerloss.loss import center_loss, update_centers


@keras.saving.register_keras_serializable(package="centerloss")
class CenterLossModel(keras.Model):
    """Wraps a backbone whose outputs are (logits, features) for ``model.fit``.

    Each training step follows the paper's Algorithm 1: minimise
    L = L_S + λ·L_C (eq. 4) with the compiled optimizer, then move the centers
    with c_j ← c_j − α·Δc_j (eq. 3) from the same batch's features. The centers
    are a non-trainable weight, like BatchNormalization's moving statistics:
    they are saved in ``.keras`` files and restored with the model. With
    ``lambda_=0`` the step is plain softmax training (the centers are still
    tracked, so both runs can be plotted the same way).

    Args:
      backbone: a ``keras.Model`` mapping images to ``(logits [m, C], features [m, d])``.
      lambda_: λ ≥ 0, the weight of center loss in eq. (4).
      alpha: α in (0, 1], the centers' learning rate in Algorithm 1.
      num_classes, feature_dim: C and d; read from the backbone's outputs when
        it is a functional model, required otherwise.

    Logged metrics (``History.history``, ``val_`` too): ``loss`` (the joint
    loss L), ``softmax_loss`` (L_S), ``center_loss`` (L_C) and ``accuracy``.
    Labels are integer class ids; compile with just an optimizer:
    ``model.compile(optimizer="adam")``.
    """

    def __init__(
        self, backbone, lambda_=0.0, alpha=0.5, num_classes=None, feature_dim=None, **kwargs
    ):
        super().__init__(**kwargs)
        self.backbone = backbone
        self.lambda_ = checks.check_lambda(lambda_)
        self.alpha = checks.check_alpha(alpha)
        self.num_classes, self.feature_dim = _output_widths(backbone, num_classes, feature_dim)
        # "only_first_replica": every replica computes the same update from the
        # all-gathered batch (see _update_centers), so one copy's value is the truth.
        self.centers = self.add_weight(
            shape=(self.num_classes, self.feature_dim),
            initializer="zeros",
            trainable=False,
            autocast=False,
            aggregation="only_first_replica",
            name="centers",
        )
        # All weights exist once a functional backbone does: nothing is left to build.
        self.built = backbone.built
        self._trackers = {
            name: keras.metrics.Mean(name=name) for name in ("loss", "softmax_loss", "center_loss")
        }
        self._accuracy = keras.metrics.SparseCategoricalAccuracy(name="accuracy")

    def call(self, inputs, training=None):
        return self.backbone(inputs, training=training)

    @property
    def metrics(self):
        return [*self._trackers.values(), self._accuracy]

    def train_step(self, data):
        x, labels = _unpack(data)
        with tf.GradientTape() as tape:
            logits, features = self(x, training=True)
            losses = self._joint_losses(labels, logits, features)
            total = losses["loss"] + tf.add_n([0.0, *self.losses])
            # The optimizer sums gradients over replicas: scale each replica's share.
            total /= tf.distribute.get_strategy().num_replicas_in_sync
        gradients = tape.gradient(total, self.trainable_variables)
        self.optimizer.apply(gradients, self.trainable_variables)
        self._update_centers(features, labels)
        return self._log(losses, labels, logits)

    def test_step(self, data):
        x, labels = _unpack(data)
        logits, features = self(x, training=False)
        return self._log(self._joint_losses(labels, logits, features), labels, logits)

    def _joint_losses(self, labels, logits, features):
        # Validate first: the checked tensors carry the asserts, so a bad batch
        # stops the step before any weight or center changes.
        features, labels = checks.check_batch(features, labels, self.centers.value)
        # L_S, eq. (1), batch mean. Plain TF rather than a keras.losses object,
        # which would also divide by the replica count behind our back.
        softmax = tf.reduce_mean(
            tf.nn.sparse_softmax_cross_entropy_with_logits(
                labels=labels, logits=tf.cast(logits, tf.float32)
            )
        )
        centered = center_loss(features, labels, self.centers)  # L_C, eq. (2), batch mean
        joint = softmax + self.lambda_ * centered  # eq. (4)
        return {"loss": joint, "softmax_loss": softmax, "center_loss": centered}

    def _update_centers(self, features, labels):
        """Algorithm 1's center step on the global batch, whatever the replica count."""
        replica = tf.distribute.get_replica_context()
        if replica is not None and replica.num_replicas_in_sync > 1:
            # n_j in eq. (3) counts the whole global batch: gather it on every replica.
            features = replica.all_gather(features, axis=0)
            labels = replica.all_gather(tf.reshape(labels, [-1]), axis=0)
        update_centers(self.centers, tf.stop_gradient(features), labels, self.alpha)

    def _log(self, losses, labels, logits):
        for name, value in losses.items():
            self._trackers[name].update_state(value)
        self._accuracy.update_state(labels, logits)
        return {metric.name: metric.result() for metric in self.metrics}

    def get_config(self):
        return {
            **super().get_config(),
            "backbone": keras.saving.serialize_keras_object(self.backbone),
            "lambda_": self.lambda_,
            "alpha": self.alpha,
            "num_classes": self.num_classes,
            "feature_dim": self.feature_dim,
        }

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        config["backbone"] = keras.saving.deserialize_keras_object(config["backbone"])
        return cls(**config)


def _output_widths(backbone, num_classes, feature_dim):
    outputs = getattr(backbone, "outputs", None)
    if outputs is not None:
        if len(outputs) != 2:
            raise ValueError(
                f"backbone must have two outputs, (logits, features); it has {len(outputs)}. "
                "Return the bottleneck features as a second output."
            )
        num_classes = num_classes or outputs[0].shape[-1]
        feature_dim = feature_dim or outputs[1].shape[-1]
    if not num_classes or not feature_dim:
        raise ValueError(
            "num_classes and feature_dim are needed for a backbone without symbolic "
            "outputs (a subclassed model); pass them, e.g. num_classes=10, feature_dim=2."
        )
    return int(num_classes), int(feature_dim)


def _unpack(data):
    x, labels, sample_weight = keras.utils.unpack_x_y_sample_weight(data)
    if labels is None:
        raise ValueError("CenterLossModel needs labels to train: pass (x, y) to fit/evaluate.")
    if sample_weight is not None:
        raise ValueError(
            "CenterLossModel does not take sample_weight or class_weight: center loss "
            "(eq. 2) weighs every sample equally. Resample the data instead."
        )
    return x, labels
