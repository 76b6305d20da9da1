"""Keras wiring: train any (logits, features) model with softmax + λ · center loss."""

import keras
import tensorflow as tf

from centerloss import checks, pipeline
from centerloss.loss import apply_center_step, joint_loss
from centerloss.margins import AngularHead

# Why the last training step refused its batch (0: it did not; 1 and 2 are
# checks.batch_problem's codes). Kept in a variable so that fit can raise on
# the host whatever compiled the step.
NON_FINITE_LOSS = 3
_PROBLEMS = {
    checks.LABEL_OUT_OF_RANGE: (
        "labels must be class ids in [0, {num_classes}); the batch had a label outside "
        "that range. Check num_classes and that the labels are 0-based."
    ),
    checks.NON_FINITE_FEATURES: (
        "features must be finite; the batch gave NaN or inf features. Check the input "
        "data for NaN or inf values, and the learning rate."
    ),
    NON_FINITE_LOSS: (
        "the loss is not finite (NaN or inf) although the batch is valid: training "
        "diverged. Lower the learning rate or λ."
    ),
}


@keras.saving.register_keras_serializable(package="centerloss")
class CenterLossModel(keras.Model):
    """Wraps a backbone whose outputs are (logits, features) for ``model.fit``.

    Each training step follows the paper's Algorithm 1: minimise
    L = L_S + λ·L_C (eq. 4) with the compiled optimizer, then move the centers
    with c_j ← c_j − α·Δc_j (eq. 3) from the same batch's features. The centers
    are a non-trainable weight, like BatchNormalization's moving statistics:
    they are saved in ``.keras`` files and restored with the model, and
    ``model.trainable = False`` (before ``compile``) freezes them too. With
    ``lambda_=0`` the step is plain softmax training (the centers are still
    tracked, so both runs can be plotted the same way).

    A batch that cannot be trained on (a label outside [0, num_classes),
    NaN or inf features, or a non-finite loss) changes nothing: no weight,
    no optimizer slot or iteration count, no center; and ``fit`` raises an
    error saying what was wrong: ``tf.errors.InvalidArgumentError`` in graph
    mode and under XLA (``jit_compile=True``, where TensorFlow drops its own
    asserts and the step itself refuses the batch), ``ValueError`` for a bad
    batch with ``run_eagerly=True``.

    float16: when the backbone computes in float16 (built under the
    ``mixed_float16`` policy, e.g. inside ``centerloss.precision.dtype_policy("float16")``,
    even if this model is created outside it), ``compile`` wraps the optimizer in
    Keras's ``LossScaleOptimizer``, as Keras's own ``compile`` does for a model
    that has the policy itself, so that small float16 gradients do not
    underflow to zero. An optimizer that is already a ``LossScaleOptimizer`` is
    used as it is, and ``compile(..., auto_scale_loss=False)`` opts out. A
    saved model loads with the optimizer it was saved with: wrapped once, or
    not at all if it opted out.
    float32 and bfloat16 need no scaling and get none. The centers and center
    distances stay float32 under any policy.

    Args:
      backbone: a ``keras.Model`` mapping images to ``(logits [m, C], features [m, d])``.
      lambda_: λ ≥ 0, the weight of center loss in eq. (4).
      alpha: α in (0, 1], the centers' learning rate in Algorithm 1.
      num_classes, feature_dim: C and d; read from the backbone's outputs when
        it is a functional model, required otherwise.

    Logged metrics (``History.history``, ``val_`` too): ``loss`` (the joint
    loss L plus any regularization penalties of the backbone: what the
    optimizer minimises), ``softmax_loss`` (L_S), ``center_loss`` (L_C) and
    ``accuracy``. Labels are integer class ids, one per example. Compile with
    just an optimizer: ``model.compile(optimizer="adam")``.
    """

    def __init__(
        self,
        backbone: keras.Model,
        lambda_: float = 0.0,
        alpha: float = 0.5,
        num_classes: int | None = None,
        feature_dim: int | None = None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.backbone = backbone
        self.lambda_ = checks.check_lambda(lambda_)
        self.alpha = checks.check_alpha(alpha)
        self.num_classes, self.feature_dim = self._output_widths(backbone, num_classes, feature_dim)
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
        # A plain tf.Variable: training state, not a model weight (not saved in
        # .keras files). Every replica computes the same value.
        self._problem = tf.Variable(
            0, trainable=False, aggregation=tf.VariableAggregation.ONLY_FIRST_REPLICA
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

    def compile(
        self,
        optimizer="rmsprop",
        loss=None,
        loss_weights=None,
        metrics=None,
        weighted_metrics=None,
        **kwargs,
    ):
        """``keras.Model.compile`` with the losses and metrics built in.

        The loss is fixed by eq. (4), L = L_S + λ·L_C with λ = ``lambda_``; the
        logged metrics are fixed too (see the class docstring). Passing
        ``loss``, ``loss_weights``, ``metrics`` or ``weighted_metrics`` raises
        ``ValueError`` rather than being ignored. Every other argument
        (``jit_compile``, ``steps_per_execution``, ``run_eagerly``,
        ``auto_scale_loss``, ...) is Keras's. When the backbone computes in
        float16, the optimizer is wrapped in ``keras.optimizers.LossScaleOptimizer``
        unless it is one already or ``auto_scale_loss=False``.
        """
        given = {
            "loss": loss,
            "loss_weights": loss_weights,
            "metrics": metrics,
            "weighted_metrics": weighted_metrics,
        }
        given = [name for name, value in given.items() if value is not None]
        if given:
            raise ValueError(
                f"CenterLossModel.compile does not take {', '.join(given)}: the loss is "
                "softmax + λ·center loss (eq. 4), set by CenterLossModel(lambda_=...), and "
                "loss, softmax_loss, center_loss and accuracy are always logged. Compile "
                'with just an optimizer, e.g. model.compile(optimizer="adam"); for other '
                "metrics, call the model on held-out data (model.predict) or use a callback."
            )
        optimizer = keras.optimizers.get(optimizer)
        self._auto_scale_loss = bool(kwargs.get("auto_scale_loss", True))
        if (
            self._auto_scale_loss
            and not isinstance(optimizer, keras.optimizers.LossScaleOptimizer)
            and _computes_in_float16(self)
        ):
            # Keras's compile wraps only a model whose own policy is mixed_float16;
            # a backbone built under the policy and wrapped outside it needs it too.
            optimizer = keras.optimizers.LossScaleOptimizer(optimizer, name="loss_scale_optimizer")
        super().compile(optimizer=optimizer, **kwargs)

    def get_compile_config(self):
        """Keras's, plus ``auto_scale_loss``: a model that opted out loads without scaling."""
        config = super().get_compile_config()
        if config:
            config["auto_scale_loss"] = self._auto_scale_loss
        return config

    def compile_from_config(self, config):
        """Compile as the saved model was (``keras.models.load_model`` calls this)."""
        self.compile(**keras.saving.deserialize_keras_object(config))
        if self.built:
            self.optimizer.build(self.trainable_variables)  # so the saved slots load

    def train_step(self, data):
        x, labels = _unpack(data)
        with tf.GradientTape() as tape:
            logits, features = self(x, training=True)
            loss_logits = self._loss_logits(logits, features, labels, training=True)
            losses, features, labels = self._joint_losses(labels, loss_logits, features)
            # Log what is optimised: regularization penalties included, as Keras does.
            losses["loss"] = losses["loss"] + tf.add_n([0.0, *self.losses])
            # The optimizer sums gradients over replicas: scale each replica's share.
            total = losses["loss"] / tf.distribute.get_strategy().num_replicas_in_sync
            # In float16, LossScaleOptimizer (see compile) scales here and unscales the gradients.
            total = self.optimizer.scale_loss(total)
        valid = self._check_step(features, labels, losses["loss"])
        if self.trainable_variables:
            gradients = tape.gradient(total, self.trainable_variables)
            self._apply_gradients_if(valid, gradients)
        if self.trainable:  # like BatchNormalization: a frozen model keeps its statistics
            self._update_centers(features, labels, valid)
        return self._log(losses, labels, logits)

    def test_step(self, data):
        x, labels = _unpack(data)
        logits, features = self(x, training=False)
        loss_logits = self._loss_logits(logits, features, labels, training=False)
        losses, _, labels = self._joint_losses(labels, loss_logits, features)
        return self._log(losses, labels, logits)

    def make_train_function(self, force=False):
        """Keras's train function, followed by a host-side check of the step.

        Under XLA the step cannot raise; it records why it refused a batch
        instead, and this raises that reason once the step has run.
        """
        if self.train_function is not None and not force:
            return self.train_function
        super().make_train_function(force=force)  # sets self.train_function
        train_function = self.train_function

        def checked_train_function(iterator):
            outputs = train_function(iterator)
            self._raise_if_batch_refused()
            return outputs

        self.train_function = checked_train_function
        return checked_train_function

    # NumPy arrays train through centerloss.pipeline: Keras's own array pipeline
    # stalls for seconds at every epoch's end (see that module).
    def fit(self, *args, **kwargs):
        return super().fit(**pipeline.keras_arguments(keras.Model.fit, args, kwargs))

    def evaluate(self, *args, **kwargs):
        return super().evaluate(**pipeline.keras_arguments(keras.Model.evaluate, args, kwargs))

    def predict(self, *args, **kwargs):
        return super().predict(**pipeline.keras_arguments(keras.Model.predict, args, kwargs))

    def export(
        self, filepath, format="tf_saved_model", verbose=None, input_signature=None, **kwargs
    ):
        """``keras.Model.export``: an inference artifact serving ``(logits, features)``.

        By default the input signature is that of a functional backbone's
        ``keras.Input``, any batch size; pass ``input_signature`` for a
        subclassed backbone.
        """
        inputs = getattr(self.backbone, "inputs", None)
        if input_signature is None and inputs:
            specs = [tf.TensorSpec((None, *x.shape[1:]), x.dtype, name=x.name) for x in inputs]
            input_signature = [specs[0] if len(specs) == 1 else specs]
        return super().export(
            filepath, format=format, verbose=verbose, input_signature=input_signature, **kwargs
        )

    def _loss_logits(self, logits, features, labels, training):
        """The logits that softmax loss (eq. 1) sees; the model's own here.

        ``AngularMarginModel`` puts its margin on the target class instead.
        """
        return logits

    def _joint_losses(self, labels, logits, features):
        """Eq. (1), (2), (4) of a batch; also the checked features and labels [m]."""
        # Validate first: the checked tensors carry the asserts, so a bad batch
        # stops the step before any weight or center changes.
        features, labels = checks.check_batch(features, labels, self.centers.value)
        losses = joint_loss(logits, features, labels, self.centers, self.lambda_)
        return losses, features, labels

    def _check_step(self, features, labels, loss):
        """Scalar bool: train on this batch. Records why not in ``self._problem``.

        Once a batch is refused, later steps of the same ``train_function``
        call (``steps_per_execution`` > 1) are refused too, so the model stays
        as it was before the bad batch until ``fit`` raises.
        """
        problem = checks.batch_problem(features, labels, self.num_classes)
        problem = tf.where(
            tf.logical_and(tf.equal(problem, 0), tf.logical_not(tf.math.is_finite(loss))),
            NON_FINITE_LOSS,
            problem,
        )
        replica = tf.distribute.get_replica_context()
        if replica is not None and replica.num_replicas_in_sync > 1:
            # One verdict for the global batch: every replica skips, or none.
            problem = tf.reduce_max(replica.all_gather(problem[tf.newaxis], axis=0))
        previous = self._problem.read_value()
        problem = tf.where(previous > 0, previous, problem)
        self._problem.assign(problem)
        return tf.equal(problem, 0)

    def _apply_gradients_if(self, valid, gradients):
        """``optimizer.apply`` only when ``valid``: no slot or iteration changes otherwise."""
        variables = self.trainable_variables
        if tf.__internal__.distribute.strategy_supports_no_merge_call():
            tf.cond(valid, lambda: self.optimizer.apply(gradients, variables), lambda: None)
            return

        # MirroredStrategy's optimizer step calls merge_call, which a cond in
        # replica context cannot hold: branch in cross-replica context, as
        # keras.optimizers.LossScaleOptimizer does. The gradients travel as
        # arguments so that each replica applies its own.
        def cross_replica(strategy, valid, gradients):
            def apply():
                strategy.extended.call_for_each_replica(
                    self.optimizer.apply, args=(gradients, variables)
                )

            valid = strategy.experimental_local_results(valid)[0]
            tf.cond(valid, apply, lambda: None)

        tf.distribute.get_replica_context().merge_call(cross_replica, args=(valid, gradients))

    def _update_centers(self, features, labels, valid):
        """Algorithm 1's center step on the global batch, whatever the replica count."""
        replica = tf.distribute.get_replica_context()
        if replica is not None and replica.num_replicas_in_sync > 1:
            # n_j in eq. (3) counts the whole global batch: gather it on every replica.
            features = replica.all_gather(features, axis=0)
            labels = replica.all_gather(labels, axis=0)
        apply_center_step(
            checks.unwrap_variable(self.centers),
            tf.stop_gradient(features),
            labels,
            self.alpha,
            valid,
        )

    def _raise_if_batch_refused(self):
        problem = int(self._problem.numpy())
        if problem:
            self._problem.assign(0)  # the next fit starts afresh
            message = _PROBLEMS[problem].format(num_classes=self.num_classes)
            raise tf.errors.InvalidArgumentError(
                None,
                None,
                f"CenterLossModel refused a training batch: {message} Nothing was "
                "changed by that batch (weights, optimizer state and centers are as before it).",
            )

    def _log(self, losses, labels, logits):
        for name, value in losses.items():
            self._trackers[name].update_state(value)
        self._accuracy.update_state(labels, logits)
        return {metric.name: metric.result() for metric in self.metrics}

    @staticmethod
    def _output_widths(backbone, num_classes, feature_dim):
        """(C, d) from the backbone's two outputs (logits, features), or as given."""
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


@keras.saving.register_keras_serializable(package="centerloss")
class AngularMarginModel(CenterLossModel):
    """A feature network with an angular-margin head (``centerloss.margins``), for ``model.fit``.

    ``model(x)`` returns ``(logits, features)`` like ``CenterLossModel``: the
    head's plain logits (s · cos θ_j, no margin; their arg max is the
    prediction) and the features. Training minimises softmax loss on the
    head's margin logits, plus λ · center loss (eq. 4) when ``lambda_`` > 0:
    CosFace and ArcFace were compared with, and combined with, center loss in
    their papers. Everything else is ``CenterLossModel``'s: ``compile(optimizer)``,
    the logged metrics (``softmax_loss`` is the margin loss; ``accuracy`` is
    that of the plain logits), a refused bad batch, float16 loss scaling,
    ``.keras`` saving. The centers are tracked with α whatever λ is, so the
    same plots work.

    Args:
      backbone: a ``keras.Model`` mapping images to features [m, d]
        (``centerloss.networks.feature_network``).
      head: a ``centerloss.margins`` head (``NormFace``, ``SphereFace``,
        ``CosFace`` or ``ArcFace``), not used by another model.
      lambda_: λ ≥ 0, the weight of center loss (default 0: the margin loss alone).
      alpha: α in (0, 1], the centers' learning rate.
    """

    def __init__(self, backbone, head, lambda_=0.0, alpha=0.5, **kwargs):
        if not isinstance(head, AngularHead):
            raise TypeError(
                "head must be one of centerloss.margins' heads (NormFace, SphereFace, CosFace, "
                f"ArcFace), e.g. ArcFace(num_classes=10); got {type(head).__name__}."
            )
        width = _feature_width(backbone)
        super().__init__(
            backbone, lambda_, alpha, num_classes=head.num_classes, feature_dim=width, **kwargs
        )
        self.head = head
        if not head.built:
            head.build((None, self.feature_dim))

    @staticmethod
    def _output_widths(backbone, num_classes, feature_dim):
        return num_classes, feature_dim

    def call(self, inputs, training=None):
        features = self.backbone(inputs, training=training)
        return self.head(features), features

    def _loss_logits(self, logits, features, labels, training):
        # The margin goes on the target class; SphereFace anneals by the step
        # count while training and uses its final weight in evaluation.
        step = self.optimizer.iterations if training else None
        return self.head(features, labels=labels, step=step)

    def get_config(self):
        config = super().get_config()
        for key in ("num_classes", "feature_dim"):
            del config[key]  # read from the head and the backbone
        return {**config, "head": keras.saving.serialize_keras_object(self.head)}

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        config["head"] = keras.saving.deserialize_keras_object(config["head"])
        return super().from_config(config)


def _feature_width(backbone):
    """d, the width of a feature network's single output [m, d]."""
    outputs = getattr(backbone, "outputs", None)
    if outputs is None or len(outputs) != 1 or len(outputs[0].shape) != 2:
        raise ValueError(
            "backbone must be a functional model with one output, the features [m, d]; "
            "build it with centerloss.networks.feature_network, or take the feature layer "
            "of a (logits, features) network: keras.Model(net.inputs, net.outputs[1])."
        )
    return int(outputs[0].shape[-1])


def _computes_in_float16(model):
    """True when ``model`` or any layer inside it computes in float16 (e.g. mixed_float16)."""
    return any(layer.compute_dtype == "float16" for layer in model._flatten_layers())


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
