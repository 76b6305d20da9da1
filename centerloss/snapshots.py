"""Record how the deep features and class centers move during training.

:class:`SnapshotCallback` is passed to ``model.fit``. Before the first epoch
and after every epoch it computes the features of a fixed, seeded subset of
training and test images and copies the class centers, so the figures in
:mod:`centerloss.plots` can replay training epoch by epoch. The result is a
:class:`Snapshots`, which saves to and loads from one ``.npz`` file::

    callback = SnapshotCallback(x_train, y_train, x_test, y_test, class_names=names)
    model.fit(x_train, y_train, epochs=10, callbacks=[callback])
    callback.snapshots.save("run.npz")
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass
from pathlib import Path

import keras
import numpy as np

from centerloss.config import check_positive_int
from centerloss.files import atomic_output, with_suffix
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
            for epoch_features, epoch_centers in zip(features, self.centers)
        ]

    def save(self, path: str | os.PathLike) -> Path:
        """Write all fields to one ``.npz`` file, atomically.

        Args:
          path: file name; ``.npz`` is appended when it has another suffix
            (as ``numpy.savez`` does), so ``load`` finds it under either name.

        Returns:
          The path written. A crash mid-write leaves any earlier file intact.
        """
        path = with_suffix(path, ".npz")
        arrays = {name: getattr(self, name) for name in _ARRAY_FIELDS}
        # JSON strings load back without pickle, which np.load refuses by default.
        texts = {name: json.dumps(getattr(self, name)) for name in _JSON_FIELDS}
        with atomic_output(path) as temporary:
            np.savez_compressed(temporary, **arrays, **texts)
        return path

    @classmethod
    def load(cls, path: str | os.PathLike) -> Snapshots:
        """Read a file written by :meth:`save` (``.npz`` appended as there)."""
        with np.load(with_suffix(path, ".npz")) as stored:
            arrays = {name: stored[name] for name in _ARRAY_FIELDS}
            texts = {name: json.loads(stored[name].item()) for name in _JSON_FIELDS}
        return cls(**arrays, **texts)


class SnapshotCallback(keras.callbacks.Callback):
    """Record features and centers of fixed image subsets at every epoch.

    The model's ``predict`` must return ``(logits [N, C], features [N, d])``
    and the model must have ``centers`` [C, d], as ``CenterLossModel`` does.
    Epoch 0 is recorded when the first ``fit`` begins, then one snapshot per
    finished epoch. Calling ``fit`` again with the same callback continues the
    record (epoch numbers keep counting), so a notebook can train in stages.

    Args:
      x_train, y_train, x_test, y_test: the image arrays [N, ...] and integer
        labels [N] to draw the subsets from.
      n_train, n_test: subset sizes; a whole split when it is smaller.
      seed: seeds the subsets, drawn once without replacement; their sorted
        indices are ``indices["train"]`` and ``indices["test"]``.
      class_names: C names for the figures; default "0", "1", ...
      batch_size: ``predict`` batch size.

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
    ):
        super().__init__()
        given = {"train": (x_train, y_train, n_train), "test": (x_test, y_test, n_test)}
        # Independent streams: the test subset does not change with n_train.
        rngs = dict(zip(SPLITS, np.random.default_rng(seed).spawn(len(SPLITS))))
        self.indices, self._x, self._labels = {}, {}, {}
        for split, (x, y, n) in given.items():
            self.indices[split], self._x[split], self._labels[split] = _draw_subset(
                rngs[split], x, y, n, split
            )
        self.class_names = None if class_names is None else [str(name) for name in class_names]
        self.batch_size = batch_size
        self._features = {split: [] for split in SPLITS}
        self._centers = []
        self._history = {}

    def on_train_begin(self, logs=None):
        # A later fit starts where the last one ended, which is already recorded.
        if not self._centers:
            self._record()

    def on_epoch_end(self, epoch, logs=None):
        # Keras restarts `epoch` at 0 on every fit; our own count keeps going.
        self._append_logs(logs or {})
        self._record()

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
        for split in SPLITS:
            _, features = self.model.predict(self._x[split], batch_size=self.batch_size, verbose=0)
            self._features[split].append(np.asarray(features, dtype=np.float32))
        self._centers.append(_model_centers(self.model))

    def _append_logs(self, logs):
        logged_epochs = len(self._centers) - 1  # epoch 0 has no logs
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
