"""One run of the paper's experiment: LeNet++ with one λ, trained step by step.

The loop is ``fit``'s, written out so that a run can stop at any call into
TensorFlow and resume bit for bit: the data order is a function of (seed,
step), and a checkpoint after every epoch holds the weights, centers,
optimizer and metric state and the snapshots so far.
"""

from __future__ import annotations

import math
import time

import keras
import numpy as np
import tensorflow as tf

from centerloss import pipeline
from centerloss.apps import runtime
from centerloss.apps.reproduce import checkpoint
from centerloss.apps.reproduce.results import check_same_job, job_record
from centerloss.model import CenterLossModel
from centerloss.networks import lenet_plus_plus
from centerloss.precision import dtype_policy
from centerloss.recipe import Run, evaluate_test_set, run_label, snapshot_recorder
from centerloss.snapshots import Snapshots

STEPS_PER_CALL = 32
"""Training steps per call into TensorFlow, as ``compile(steps_per_execution=32)``
gives ``fit``: the same numbers, less time in Python."""


def caffe_inputs(images):
    """Images in [0, 1] scaled as the Caffe release feeds them: (255·x − 127.5) / 128."""
    return ((np.asarray(images, np.float32) * 255.0 - 127.5) * 0.0078125).astype(np.float32)


class Trainer:
    """One run: LeNet++ with one λ, trained step by step from its checkpoint."""

    def __init__(
        self, data, settings, lambda_, path, progress, steps_per_call=STEPS_PER_CALL, *, result
    ):
        self.data, self.settings, self.lambda_, self.path = data, settings, lambda_, path
        self.result = result
        self.progress, self.steps_per_call = progress, steps_per_call
        # Same seed for every λ: the runs start from the same weights.
        keras.utils.set_random_seed(settings.seed)
        with dtype_policy(settings.precision):
            backbone = lenet_plus_plus(
                num_classes=len(data.class_names),
                input_shape=data.x_train.shape[1:],
                caffe=True,
                weight_decay=settings.weight_decay,
            )
        self.model = CenterLossModel(backbone, lambda_=lambda_, alpha=settings.alpha)
        schedule = keras.optimizers.schedules.PiecewiseConstantDecay(
            # The optimizer reads its step count before incrementing it: 0-based, like Caffe.
            [step - 1 for step in settings.lr_steps],
            [settings.learning_rate_at(step) for step in (0, *settings.lr_steps)],
        )
        self.model.compile(
            optimizer=keras.optimizers.SGD(schedule, momentum=settings.momentum),
            steps_per_execution=steps_per_call,
        )
        self.model.optimizer.build(self.model.trainable_variables)
        # Validation is a pass over the whole test set per epoch (see below).
        self.recorder = snapshot_recorder(data, settings, validate=False)
        self.recorder.set_model(self.model)
        self.model.make_train_function()
        self.steps_per_epoch = len(data.x_train) // settings.batch_size
        if self.steps_per_epoch == 0:
            raise ValueError(
                f"batch size {settings.batch_size} exceeds the {len(data.x_train)} training images."
            )
        self.step, self.seconds, self.earlier, self.metrics = 0, 0.0, None, None
        self._started = time.perf_counter()
        self._shuffle = (None, None)  # (epoch, its shuffle), computed once per epoch

    @property
    def label(self):
        return run_label(self.lambda_)

    def train(self, resume, on_step, stop):
        if resume and self.path.exists():
            self._restore()
        else:
            self.recorder.on_train_begin()  # epoch 0: the untrained features
        finished_before = self.metrics is not None
        self._started = time.perf_counter() - self.seconds
        to_train = self.step < self.settings.iterations
        if to_train:
            # The progress line is a Keras callback, called here as fit calls it.
            self.progress.label = self.label
            epochs = math.ceil(self.settings.iterations / self.steps_per_epoch)
            self.progress.set_params({"epochs": epochs, "steps": self.steps_per_epoch})
            self.progress.on_train_begin()
        while self.step < self.settings.iterations:
            epoch, position = divmod(self.step, self.steps_per_epoch)
            if position == 0:
                self.model.reset_metrics()  # training logs are means over one epoch
            self.progress.on_epoch_begin(epoch)
            epoch_end = (epoch + 1) * self.steps_per_epoch
            logs = self.train_steps(min(epoch_end, self.settings.iterations), on_step, stop)
            self._end_epoch(epoch, logs)
            self._checkpoint()
        if to_train:
            self.progress.on_train_end()
        if self.metrics is None:
            self.metrics = evaluate_test_set(self.model, self.data, seed=self.settings.seed)
            self._checkpoint()
        if not (finished_before and self.result.exists()):  # else it is there, machine and all
            # Compressed: about 0.2 MB per λ on MNIST, small enough to commit with the report.
            state = {**self._state(), "machine": runtime.machine()}
            checkpoint.save(self.result, state, self.snapshots.to_arrays(), compressed=True)
        return Run(self.lambda_, self.model, self.snapshots.history, self.snapshots, self.metrics)

    def train_steps(self, until, on_step=None, stop=None):
        """Train from ``self.step`` up to step ``until``, which lies within this epoch.

        Each call into TensorFlow runs up to ``steps_per_call`` steps, as
        ``fit`` does with ``steps_per_execution``: the same numbers, fewer
        round trips through Python. Ctrl-C and ``on_step`` are looked at after
        every call.

        Returns:
          The training logs after the last step (means over the epoch so far).
        """
        epoch, position = divmod(self.step, self.steps_per_epoch)
        size = self.settings.batch_size
        indices = self._order(epoch)[position * size : (position + until - self.step) * size]
        batches = iter(
            pipeline.without_autotune(  # its iterator ends without a stall
                tf.data.Dataset.from_tensor_slices(
                    (self.data.x_train[indices], self.data.y_train[indices])
                )
                .batch(size, drop_remainder=True)
                .prefetch(tf.data.AUTOTUNE)  # the next batch is cut while this one trains
            )
        )
        while self.step < until:
            logs = self.model.train_function(batches)
            logs = {name: float(value) for name, value in logs.items()}
            self.step = min(self.step + self.steps_per_call, until)
            self.progress.on_train_batch_end(self.step - epoch * self.steps_per_epoch - 1, logs)
            try:
                if on_step is not None:
                    on_step(self.lambda_, self.step)
                if stop is not None and stop.is_set():
                    raise KeyboardInterrupt
            except KeyboardInterrupt:
                self._checkpoint()  # between two calls, the state is consistent
                raise
        return logs

    def _checkpoint(self):
        self.seconds = time.perf_counter() - self._started
        self._save()

    def _order(self, epoch):
        """The epoch's shuffle of the training images: a function of (seed, epoch) only.

        The last images of each shuffle (fewer than a batch) are left out, so
        every step has the same shape.
        """
        if self._shuffle[0] != epoch:
            rng = np.random.default_rng([self.settings.seed, epoch])
            self._shuffle = (epoch, rng.permutation(len(self.data.y_train)))
        return self._shuffle[1]

    def _end_epoch(self, epoch, logs):
        evaluated = self.model.evaluate(
            self.data.x_test, self.data.y_test, batch_size=500, verbose=0, return_dict=True
        )
        logs = {**logs, **{f"val_{name}": value for name, value in evaluated.items()}}
        self.recorder.on_epoch_end(self.step // self.steps_per_epoch, logs)
        self.progress.on_epoch_end(epoch, logs)

    @property
    def snapshots(self) -> Snapshots:
        """Snapshots of earlier sessions (from the checkpoint) followed by this session's."""
        try:
            recorded = self.recorder.snapshots
        except RuntimeError:  # nothing recorded since the resume yet
            recorded = None
        return concatenate_snapshots(self.earlier, recorded)

    def _state(self):
        return {
            **job_record(self.settings, self.lambda_, self.data),
            "step": self.step,
            "seconds": self.seconds,
            "metrics": self.metrics,
        }

    def _save(self):
        arrays = {
            **checkpoint.pack_list("weights", self.model.get_weights()),
            **checkpoint.pack_list(
                "optimizer", [v.numpy() for v in self.model.optimizer.variables]
            ),
            **checkpoint.pack_list("metrics", [v.numpy() for v in _metric_variables(self.model)]),
            **self.snapshots.to_arrays("snapshots"),
        }
        checkpoint.save(self.path, self._state(), arrays)

    def _restore(self):
        state, arrays = checkpoint.load(self.path)
        check_same_job(self.path, state, job_record(self.settings, self.lambda_, self.data))
        self.model.set_weights(checkpoint.unpack_list("weights", arrays))
        for variable, value in zip(
            self.model.optimizer.variables, checkpoint.unpack_list("optimizer", arrays), strict=True
        ):
            variable.assign(value)
        for variable, value in zip(
            _metric_variables(self.model), checkpoint.unpack_list("metrics", arrays), strict=True
        ):
            variable.assign(value)
        self.earlier = Snapshots.from_arrays(arrays, "snapshots")
        self.step, self.seconds, self.metrics = state["step"], state["seconds"], state["metrics"]


def concatenate_snapshots(earlier: Snapshots | None, later: Snapshots | None) -> Snapshots:
    """One record from two sessions of the same run; ``later``'s epochs follow ``earlier``'s.

    ``later`` was recorded after a resume, so it has no epoch 0 and one
    history value per recorded epoch.
    """
    if earlier is None or later is None:
        if earlier is None and later is None:
            raise ValueError("No snapshots recorded in either session.")
        return earlier if later is None else later
    history = {
        key: list(earlier.history.get(key, [math.nan] * (len(earlier) - 1)))
        + list(later.history.get(key, [math.nan] * len(later)))
        for key in {**earlier.history, **later.history}
    }
    return Snapshots(
        epochs=np.arange(len(earlier) + len(later)),
        train_features=np.concatenate([earlier.train_features, later.train_features]),
        train_labels=earlier.train_labels,
        test_features=np.concatenate([earlier.test_features, later.test_features]),
        test_labels=earlier.test_labels,
        centers=np.concatenate([earlier.centers, later.centers]),
        history=history,
        class_names=earlier.class_names,
    )


def _metric_variables(model):
    return [variable for metric in model.metrics for variable in metric.variables]
