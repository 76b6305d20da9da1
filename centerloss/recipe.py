"""One training recipe, shared by the command line and the notebooks.

``train`` fits one network with a given λ and records snapshots; ``compare``
trains the same network, from the same initial weights and data order,
with λ = 0 (softmax only) and with λ > 0, so that the only difference
between the two runs is center loss.
"""

from __future__ import annotations

from dataclasses import dataclass

import keras
import numpy as np

from centerloss.config import TrainingConfig
from centerloss.metrics import feature_metrics
from centerloss.model import AngularMarginModel, CenterLossModel
from centerloss.networks import build_network, feature_network
from centerloss.precision import dtype_policy
from centerloss.snapshots import SnapshotCallback, Snapshots

DEFAULTS = TrainingConfig()  # the classroom recipe


@dataclass
class Run:
    """The outcome of one training run.

    Attributes:
      lambda_: the λ it was trained with.
      model: the trained ``CenterLossModel``.
      history: ``History.history`` (per-epoch loss, softmax_loss, center_loss,
        accuracy and their ``val_`` twins on the snapshot's test subset, which
        is the whole test set when it has at most ``snapshot_size`` images).
      snapshots: features and centers of the snapshot subset per epoch.
      metrics: ``feature_metrics`` of the whole test set after training.
    """

    lambda_: float
    model: CenterLossModel
    history: dict
    snapshots: Snapshots
    metrics: dict

    @property
    def label(self):
        """A legend label: "softmax only (λ=0)", "softmax + center loss (λ=…)" or the head's."""
        return run_label(self.lambda_, getattr(self.model, "head", None))


def run_label(lambda_, head=None):
    """How figures and tables name a run trained with this λ (and margin head, if any)."""
    if head is not None:
        return head.label if lambda_ == 0 else f"{head.label} + center loss (λ={lambda_:g})"
    return "softmax only (λ=0)" if lambda_ == 0 else f"softmax + center loss (λ={lambda_:g})"


def build_model(data, config=DEFAULTS, lambda_=None, *, head=None, network_options=None):
    """The recipe's compiled ``CenterLossModel`` for ``data``, weights seeded by ``config.seed``.

    Args:
      data: a ``centerloss.data.Dataset``; its class count sets the softmax width.
      config: a ``TrainingConfig`` (network, feature_dim, alpha, epochs,
        batch_size, learning_rate, precision and steps_per_execution are used here).
      lambda_: overrides ``config.lambda_``.
      head: a ``centerloss.margins`` head (e.g. ``ArcFace(10)``): an
        ``AngularMarginModel`` on the same network without its softmax layer.
      network_options: passed to the network's builder, e.g.
        ``{"feature_activation": "relu"}``.

    Returns:
      The model, compiled with Adam whose rate decays from ``config.learning_rate``
      to 0 over ``config.epochs`` epochs (cosine); in float16, inside Keras's
      ``LossScaleOptimizer`` (see ``CenterLossModel``). Also seeds Keras's global RNG.
    """
    lambda_ = config.lambda_ if lambda_ is None else lambda_
    keras.utils.set_random_seed(config.seed)
    options = dict(
        feature_dim=config.feature_dim,
        input_shape=data.x_train.shape[1:],
        **(network_options or {}),
    )
    with dtype_policy(config.precision):
        if head is None:
            backbone = build_network(config.network, num_classes=len(data.class_names), **options)
        else:
            backbone = feature_network(config.network, **options)
    if head is None:
        model = CenterLossModel(backbone, lambda_=lambda_, alpha=config.alpha)
    else:
        model = AngularMarginModel(backbone, head, lambda_=lambda_, alpha=config.alpha)
    steps = config.epochs * int(np.ceil(len(data.x_train) / config.batch_size))
    model.compile(
        optimizer=keras.optimizers.Adam(
            keras.optimizers.schedules.CosineDecay(config.learning_rate, steps)
        ),
        steps_per_execution=config.steps_per_execution,
    )
    return model


def snapshot_recorder(data, config=DEFAULTS, *, validate=True):
    """The recipe's ``SnapshotCallback``: ``config.snapshot_size`` images of each split.

    ``config`` is any settings object with ``snapshot_size`` and ``seed`` (a
    ``TrainingConfig``, or ``reproduce``'s ``PaperSettings``). With
    ``validate=True`` (default) it also logs the ``val_`` metrics of its test
    subset, so ``fit`` needs no ``validation_data``.
    """
    return SnapshotCallback(
        data.x_train,
        data.y_train,
        data.x_test,
        data.y_test,
        n_train=config.snapshot_size,
        n_test=config.snapshot_size,
        seed=config.seed,
        class_names=list(data.class_names),
        validate=validate,
    )


def train(
    data,
    config=DEFAULTS,
    lambda_=None,
    verbose=0,
    callbacks=(),
    *,
    recorder=None,
    head=None,
    network_options=None,
):
    """Train one network on ``data`` (a ``centerloss.data.Dataset``).

    The one training path of the lessons, the demo and the playground; what
    they do besides training (a progress line, a live plot, a Stop button)
    they pass in as Keras callbacks.

    Args:
      data: the Dataset; its class count sets the softmax width.
      config: a ``TrainingConfig``.
      lambda_: overrides ``config.lambda_`` (``compare`` passes 0 and λ).
      verbose: Keras's fit verbosity (1: progress bar, 2: a line per epoch).
      callbacks: extra Keras callbacks, called after the recorder.
      recorder: the ``SnapshotCallback`` that records the run; default
        :func:`snapshot_recorder` ``(data, config)``. Build it yourself to hand
        it to a callback that draws what it records (``LiveFeaturePlot``).
      head, network_options: see :func:`build_model` (a margin head, e.g.
        ``ArcFace(10, scale=10, margin=0.1)``, trains instead of the softmax layer).

    Returns:
      A ``Run``. The same config and data give the same numbers on one machine.
    """
    lambda_ = config.lambda_ if lambda_ is None else lambda_
    model = build_model(data, config, lambda_=lambda_, head=head, network_options=network_options)
    if recorder is None:
        recorder = snapshot_recorder(data, config)
    history = model.fit(
        data.x_train,
        data.y_train,
        batch_size=config.batch_size,
        epochs=config.epochs,
        callbacks=[recorder, *callbacks],
        verbose=verbose,
    )
    metrics = evaluate_test_set(model, data, seed=config.seed)
    return Run(lambda_, model, history.history, recorder.snapshots, metrics)


def evaluate_test_set(model, data, seed=0):
    """``feature_metrics`` of ``model`` on the whole test set of ``data``.

    Args:
      model: a trained ``CenterLossModel`` (or any model with ``centers`` that
        maps images to ``(logits, features)``).
      data: a ``centerloss.data.Dataset``.
      seed: ``random_state`` of the silhouette's subsample.

    Returns:
      The dict of :func:`centerloss.metrics.feature_metrics`, accuracy included.
    """
    # Plain calls, not predict: predict traces a new function for every new
    # model, and a sweep of runs would get TensorFlow's retracing warnings.
    outputs = [
        model(data.x_test[start : start + 500], training=False)
        for start in range(0, len(data.x_test), 500)
    ]
    logits, features = (np.concatenate([np.asarray(out[k]) for out in outputs]) for k in (0, 1))
    return feature_metrics(
        features,
        data.y_test,
        centers=keras.ops.convert_to_numpy(model.centers),
        logits=logits,
        random_state=seed,
    )


def compare(data, config=DEFAULTS, verbose=0):
    """Train without (λ = 0) and with (λ = ``config.lambda_``) center loss.

    Returns:
      {run label: Run}, the softmax-only run first. Both runs start from the
      same weights and see the batches in the same order.
    """
    runs = [train(data, config, lambda_=lam, verbose=verbose) for lam in (0.0, config.lambda_)]
    return {run.label: run for run in runs}


METRIC_COLUMNS = {
    "accuracy": "softmax accuracy",
    "nearest_center_accuracy": "nearest-center accuracy",
    "intra_class_spread": "intra-class spread",
    "inter_class_separation": "inter-class separation",
    "spread_ratio": "intra/inter ratio",
    "silhouette": "silhouette",
}


def metrics_table(runs):
    """A plain-text table of each run's test metrics, one row per metric."""
    width = max(len(name) for name in METRIC_COLUMNS.values())
    labels = list(runs)
    column = max(len(label) for label in labels)
    lines = [" " * width + " | " + " | ".join(label.rjust(column) for label in labels)]
    lines.append("-" * len(lines[0]))
    for key, name in METRIC_COLUMNS.items():
        values = [runs[label].metrics[key] for label in labels]
        lines.append(
            name.ljust(width) + " | " + " | ".join(f"{value:.4f}".rjust(column) for value in values)
        )
    return "\n".join(lines)
