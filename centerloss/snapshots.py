"""Record how the deep features and class centers move during training.

:class:`SnapshotCallback` is passed to ``model.fit``. Before the first epoch
and after every epoch it computes the features of a fixed, seeded subset of
training and test images and copies the class centers, so the figures in
:mod:`centerloss.plots` can replay training epoch by epoch. The result is a
:class:`Snapshots`, which saves to and loads from one ``.npz`` file and hands
out any epoch as a :class:`FeatureSet`, what a feature panel draws::

    callback = SnapshotCallback(x_train, y_train, x_test, y_test, class_names=names)
    model.fit(x_train, y_train, epochs=10, callbacks=[callback])
    callback.snapshots.save("run.npz")
    plots.plot_comparison({"my run": callback.snapshots.at(-1)})  # the last epoch
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import keras
import numpy as np
import tensorflow as tf

from centerloss.config import check_positive_int
from centerloss.files import atomic_output, with_suffix
from centerloss.loss import joint_loss
from centerloss.metrics import feature_metrics

SPLITS = ("train", "test")
_ARRAY_FIELDS = (
    "epochs",
    "train_features",
    "train_labels",
    "test_features",
    "test_labels",
    "centers",
)
_JSON_FIELDS = ("history", "class_names")


class FeatureSet(NamedTuple):
    """Features of some images, their labels and the class centers: one feature panel.

    The dict-of-panels figures of :mod:`centerloss.plots` take ``{title: FeatureSet}``;
    being a tuple, a plain ``(features, labels, centers)`` works there too.
    :meth:`Snapshots.at` hands one out for any recorded epoch.

    Attributes:
      features: float array [N, d] (d = 2 to draw it).
      labels: integer class ids [N].
      centers: float array [C, d], row j the center of class j; None: no centers.
      weights: the softmax layer's kernel [d, C], column j = w_j, for
        :func:`centerloss.plots.plot_softmax_weights`; None elsewhere.
    """

    features: np.ndarray
    labels: np.ndarray
    centers: np.ndarray | None = None
    weights: np.ndarray | None = None


@dataclass(eq=False)  # eq=False: `==` on arrays is elementwise
class Snapshots:
    """Features and centers of a fixed image subset, recorded at E epochs.

    Attributes:
      epochs: int array [E]; 0 is before training, then 1, 2, ...
      train_features: float32 [E, n_train, d], features of the same training
        images at each recorded epoch.
      train_labels: int32 [n_train], their class ids.
      test_features: float32 [E, n_test, d], likewise for test images.
      test_labels: int32 [n_test].
      centers: float32 [E, C, d], the class centers at each recorded epoch.
      history: Keras logs per trained epoch, keyed by metric name (``loss``,
        ``val_accuracy``, ...); epoch 0 has none, so each list has E - 1
        values (NaN where a metric was not logged that epoch).
      class_names: C names, indexed by class id.
    """

    epochs: np.ndarray
    train_features: np.ndarray
    train_labels: np.ndarray
    test_features: np.ndarray
    test_labels: np.ndarray
    centers: np.ndarray
    history: dict[str, list[float]]
    class_names: list[str]

    def __len__(self) -> int:
        """Number of recorded epochs E (including epoch 0)."""
        return len(self.epochs)

    def split(self, split: str = "test") -> tuple[np.ndarray, np.ndarray]:
        """(features [E, n, d], labels [n]) of the "train" or "test" subset."""
        if split not in SPLITS:
            raise ValueError(f"split must be one of {SPLITS}; got {split!r}.")
        return getattr(self, f"{split}_features"), getattr(self, f"{split}_labels")

    def at(self, epoch: int = -1, split: str = "test") -> FeatureSet:
        """The features, labels and centers of ``split`` at one recorded epoch.

        Args:
          epoch: a recorded epoch number (a value of ``epochs``), or a negative
            index counting back from the last record: -1 (default) is the last
            recorded epoch, -2 the one before.
          split: "train" or "test" subset.

        Returns:
          FeatureSet(features [n, d], labels [n], centers [C, d]), no weights.
        """
        features, labels = self.split(split)
        epoch = int(epoch)
        if epoch < 0:
            if -epoch > len(self):
                raise ValueError(
                    f"epoch={epoch} counts back past the first record: {len(self)} epochs "
                    f"were recorded, so use -1 to -{len(self)}, or an epoch number."
                )
            position = epoch
        else:
            (matches,) = np.nonzero(self.epochs == epoch)
            if not len(matches):
                raise ValueError(
                    f"epoch {epoch} was not recorded; recorded epochs are "
                    f"{self.epochs[0]} to {self.epochs[-1]} (or -1 for the last)."
                )
            position = matches[0]
        return FeatureSet(features[position], labels, self.centers[position])

    def metrics(self, split: str = "test") -> list[dict[str, float]]:
        """:func:`centerloss.metrics.feature_metrics` at each recorded epoch.

        Returns:
          E dicts, one per entry of ``epochs``, computed from that epoch's
          features of ``split`` and its centers (no "accuracy": logits are
          not recorded; see ``history`` for it).
        """
        features, labels = self.split(split)
        return [
            feature_metrics(epoch_features, labels, centers=epoch_centers)
            for epoch_features, epoch_centers in zip(features, self.centers, strict=True)
        ]

    def to_arrays(self, prefix: str = "") -> dict[str, np.ndarray]:
        """All fields as named arrays, ``history`` and ``class_names`` as JSON strings.

        Args:
          prefix: put before every name as ``"prefix/name"``, so the
            snapshots can share a file with other arrays (a checkpoint).
        """
        # JSON strings load back without pickle, which np.load refuses by default.
        fields = {name: getattr(self, name) for name in _ARRAY_FIELDS}
        fields.update({name: np.asarray(json.dumps(getattr(self, name))) for name in _JSON_FIELDS})
        return {_key(prefix, name): value for name, value in fields.items()}

    @classmethod
    def from_arrays(cls, arrays, prefix: str = "") -> Snapshots:
        """The snapshots :meth:`to_arrays` stored under ``prefix`` in ``arrays``
        (a dict or an open ``.npz``); other entries are ignored."""
        values = {name: arrays[_key(prefix, name)] for name in _ARRAY_FIELDS}
        values.update(
            {name: json.loads(arrays[_key(prefix, name)].item()) for name in _JSON_FIELDS}
        )
        return cls(**values)

    def save(self, path: str | os.PathLike) -> Path:
        """Write all fields to one compressed ``.npz`` file, atomically.

        Args:
          path: file name; ``.npz`` is appended when it has another suffix
            (as ``numpy.savez`` does), so ``load`` finds it under either name.

        Returns:
          The path written. A crash mid-write leaves any earlier file intact.
        """
        path = with_suffix(path, ".npz")
        with atomic_output(path) as temporary:
            np.savez_compressed(temporary, **self.to_arrays())
        return path

    @classmethod
    def load(cls, path: str | os.PathLike) -> Snapshots:
        """Read a file written by :meth:`save` (``.npz`` appended as there)."""
        with np.load(with_suffix(path, ".npz")) as stored:
            return cls.from_arrays(stored)


def _key(prefix, name):
    return f"{prefix}/{name}" if prefix else name


class SnapshotCallback(keras.callbacks.Callback):
    """Record features and centers of fixed image subsets at every epoch.

    The model must map images to ``(logits [N, C], features [N, d])`` and have
    ``centers`` [C, d], as ``CenterLossModel`` does. Epoch 0 is recorded when
    the first ``fit`` begins, then one snapshot per finished epoch. Calling
    ``fit`` again with the same callback continues the record (epoch numbers
    keep counting), so a notebook can train in stages.

    Both subsets go through the network together, in one compiled inference
    pass per epoch (traced once per model), so recording costs one forward
    pass over ``n_train + n_test`` images and no ``predict`` set-up.

    Args:
      x_train, y_train, x_test, y_test: the image arrays [N, ...] and integer
        labels [N] to draw the subsets from.
      n_train, n_test: subset sizes; a whole split when it is smaller.
      seed: seeds the subsets, drawn once without replacement; their sorted
        indices are ``indices["train"]`` and ``indices["test"]``.
      class_names: C names for the figures; default "0", "1", ...
      batch_size: images per compiled forward call.
      validate: also write ``val_loss`` (L_S + λ·L_C, eq. 4), ``val_softmax_loss``,
        ``val_center_loss`` and ``val_accuracy`` of the test subset into each
        epoch's logs, from the same forward pass. Use it instead of ``fit``'s
        ``validation_data`` (which would compute the test features a second
        time); callbacks after this one and ``History`` see the ``val_`` keys.
        The model must have ``lambda_``, as ``CenterLossModel`` does. The losses
        are means over the whole subset; the centers are those at the epoch's end.

    After training, :attr:`snapshots` holds the record.
    """

    def __init__(
        self,
        x_train,
        y_train,
        x_test,
        y_test,
        n_train: int = 1000,
        n_test: int = 1000,
        seed: int = 0,
        class_names=None,
        batch_size: int = 500,
        validate: bool = False,
    ):
        super().__init__()
        given = {"train": (x_train, y_train, n_train), "test": (x_test, y_test, n_test)}
        # Independent streams: the test subset does not change with n_train.
        rngs = dict(zip(SPLITS, np.random.default_rng(seed).spawn(len(SPLITS)), strict=True))
        self.indices, self._x, self._labels = {}, {}, {}
        for split, (x, y, n) in given.items():
            self.indices[split], self._x[split], self._labels[split] = _draw_subset(
                rngs[split], x, y, n, split
            )
        self.class_names = None if class_names is None else [str(name) for name in class_names]
        self.batch_size = check_positive_int(batch_size, "batch_size")
        self.validate = bool(validate)
        # Both subsets, stacked once as tensors of batch_size images (the last
        # may be shorter): each epoch then feeds them straight to the network.
        images = np.concatenate([self._x[split] for split in SPLITS]).astype(np.float32)
        self._batches = [
            tf.constant(images[start : start + self.batch_size])
            for start in range(0, len(images), self.batch_size)
        ]
        self._forward = None  # compiled on first use, per model (see set_model)
        self._features = {split: [] for split in SPLITS}
        self._centers = []
        self._history = {}

    def set_model(self, model):
        super().set_model(model)
        self._forward = None

    def on_train_begin(self, logs=None):
        # A later fit starts where the last one ended, which is already recorded.
        if not self._centers:
            self._record()

    def on_epoch_end(self, epoch, logs=None):
        # Keras restarts `epoch` at 0 on every fit; our own count keeps going.
        logits = self._record()
        if self.validate and logs is not None:
            logs.update(self._validation_logs(logits))
        self._append_logs(logs or {})

    @property
    def snapshots(self) -> Snapshots:
        """Everything recorded so far as a :class:`Snapshots`."""
        if not self._centers:
            raise RuntimeError("Nothing recorded yet: pass this callback to model.fit first.")
        centers = np.stack(self._centers)
        class_names = self.class_names or [str(c) for c in range(centers.shape[1])]
        return Snapshots(
            epochs=np.arange(len(self._centers)),
            train_features=np.stack(self._features["train"]),
            train_labels=self._labels["train"],
            test_features=np.stack(self._features["test"]),
            test_labels=self._labels["test"],
            centers=centers,
            history={key: list(values) for key, values in self._history.items()},
            class_names=list(class_names),
        )

    def _record(self):
        """Append this epoch's features and centers; return the test subset's logits [n, C]."""
        if self._forward is None:
            model = self.model
            # reduce_retracing: the shorter last batch adds one trace, not one per call.
            self._forward = tf.function(lambda x: model(x, training=False), reduce_retracing=True)
        outputs = [self._forward(batch) for batch in self._batches]
        logits = np.concatenate([np.asarray(out[0]) for out in outputs])
        features = np.concatenate([np.asarray(out[1]) for out in outputs]).astype(np.float32)
        n_train = len(self._labels["train"])
        self._features["train"].append(features[:n_train])
        self._features["test"].append(features[n_train:])
        self._centers.append(_model_centers(self.model))
        return logits[n_train:]

    def _validation_logs(self, logits):
        """val_ metrics of the test subset, named like CenterLossModel's."""
        lambda_ = getattr(self.model, "lambda_", None)
        if lambda_ is None:
            raise AttributeError(
                "SnapshotCallback(validate=True) computes val_loss = L_S + λ·L_C and needs "
                "model.lambda_; train a centerloss.CenterLossModel, or pass validate=False."
            )
        labels = self._labels["test"]
        losses = joint_loss(logits, self._features["test"][-1], labels, self._centers[-1], lambda_)
        return {
            **{f"val_{name}": float(value) for name, value in losses.items()},
            "val_accuracy": float(np.mean(logits.argmax(axis=1) == labels)),
        }

    def _append_logs(self, logs):
        logged_epochs = len(self._centers) - 2  # epoch 0 has no logs; this epoch's come now
        # A metric that first appears now (e.g. val_ in a second fit) gets NaN
        # for the earlier epochs; one missing now gets NaN, so lists stay aligned.
        for key in logs:
            self._history.setdefault(key, [math.nan] * logged_epochs)
        for key, values in self._history.items():
            values.append(float(logs.get(key, math.nan)))


def _draw_subset(rng, x, y, n, split):
    """(indices [k], images [k, ...], labels int32 [k]) for k = min(n, N) images.

    Indices are drawn without replacement and sorted; copying just the subset
    keeps the callback from holding on to the whole data set.
    """
    x, y = np.asarray(x), np.asarray(y)
    if y.ndim != 1 or len(y) != len(x):
        raise ValueError(
            f"y_{split} must be integer class ids of shape [N] with N={len(x)} like "
            f"x_{split}; got shape {y.shape}."
        )
    check_positive_int(n, f"n_{split}")
    indices = (
        np.arange(len(x)) if n >= len(x) else np.sort(rng.choice(len(x), size=n, replace=False))
    )
    return indices, x[indices], y[indices].astype(np.int32)


def _model_centers(model):
    centers = getattr(model, "centers", None)
    if centers is None:
        raise AttributeError(
            "SnapshotCallback records model.centers, but this model has none; "
            "train a centerloss.CenterLossModel (lambda_=0 for softmax alone)."
        )
    return keras.ops.convert_to_numpy(centers).astype(np.float32)
