"""Input pipelines for ``fit``: arrays as ``tf.data`` datasets that never stall.

``fit`` makes a new ``tf.data`` iterator every epoch (and ``evaluate`` one per
call) and destroys the old one. With tf.data's autotuning on, its default and
what Keras's own pipeline for NumPy arrays gets, that destruction waits for the
autotuner's thread (``Model::OptimizeLoop``) to wake from a timed wait:
seconds with no CPU in use at every epoch's end.
The datasets built here are Keras's own, with autotuning off: the same batches
and shuffles, and Keras's prefetch still cuts the next batch while this one trains.
``docs/benchmarks.md`` shows the stall, the stack that causes it and what the
fix gains.

``CenterLossModel.fit``, ``evaluate`` and ``predict`` use :func:`array_dataset`
for NumPy arrays by themselves. A dataset of your own gets the same fix from
:func:`without_autotune`::

    model.fit(centerloss.pipeline.without_autotune(my_dataset), epochs=10)
"""

import inspect

import numpy as np
import tensorflow as tf

# Keras's own array pipeline (not public API, but the one fit uses for arrays): the
# batches and shuffles stay exactly Keras's; only the autotuning changes.
from keras.src.trainers.data_adapters.array_data_adapter import ArrayDataAdapter


def pipeline_options() -> tf.data.Options:
    """``tf.data.Options`` with autotuning off (a new object: options are mutable)."""
    options = tf.data.Options()
    options.autotune.enabled = False
    return options


def without_autotune(dataset: tf.data.Dataset) -> tf.data.Dataset:
    """``dataset`` with tf.data's autotuning off, so that ending an epoch never stalls."""
    return dataset.with_options(pipeline_options())


def _takes(x, y=None) -> bool:
    """Whether :func:`array_dataset` takes these inputs: NumPy arrays or tensors, not a
    dataset, a generator or a dict of named inputs (those go to Keras as they are)."""
    inputs = (x,) if y is None else (x, y)
    return all(isinstance(value, np.ndarray | tf.Tensor) for value in inputs)


def array_dataset(
    x, y=None, *, batch_size: int = 32, shuffle=False, sample_weight=None, class_weight=None
) -> tf.data.Dataset:
    """The batches that ``fit`` would cut from arrays, as a dataset with autotuning off.

    Keras's own array pipeline builds them, so they are exactly Keras's: the same
    batches, the same shuffle (drawn from TensorFlow's global seed, which
    ``keras.utils.set_random_seed`` sets), sample and class weights included. Only
    its autotuning is turned off.

    Args:
      x: inputs, an array [N, ...].
      y: labels [N], or None (``predict``).
      batch_size: examples per batch; the last batch may be short.
      shuffle: False, True (a permutation for each new iterator; Keras's draws the
        same one every epoch once the global seed is set) or "batch" (shuffle
        within batches, as Keras does for HDF5-like data).
      sample_weight, class_weight: as ``fit`` takes them.

    Returns:
      A ``tf.data.Dataset`` of ``x``, ``(x, y)`` or ``(x, y, sample_weight)`` batches.
    """
    adapter = ArrayDataAdapter(
        x,
        y,
        sample_weight=sample_weight,
        batch_size=batch_size,
        shuffle=shuffle,
        class_weight=class_weight,
    )
    # The batch count, which Keras reads from its adapter, told to the dataset itself:
    # else fit would learn it only by running out of data in the first epoch.
    batches = adapter.get_tf_dataset().apply(
        tf.data.experimental.assert_cardinality(adapter.num_batches)
    )
    return without_autotune(batches)


def keras_arguments(method, args, kwargs) -> dict:
    """The arguments of a call to ``keras.Model`` ``method`` (``fit``, ``evaluate`` or
    ``predict``) by name, with NumPy ``x`` (and ``y``, sample and class weights) and
    ``validation_data`` as :func:`array_dataset` batches.

    What only ``fit`` itself does is left to it, inputs unchanged: ``validation_split``,
    a step count, named (dict) inputs, and the cached validation data that ``fit``
    passes to ``evaluate``.
    """
    bound = inspect.signature(method).bind(None, *args, **kwargs)
    bound.apply_defaults()
    call = dict(bound.arguments)
    del call["self"]
    call.update(call.pop("kwargs", {}))
    x, y = call["x"], call.get("y")
    keras_only = (
        call.get("steps_per_epoch") is not None
        or call.get("steps") is not None
        or call.get("validation_split")
        or call.get("_use_cached_eval_dataset")
    )
    if keras_only or not _takes(x, y):
        return call
    batch_size = call["batch_size"] or 32  # Keras's default
    weights = {name: call.get(name) for name in ("sample_weight", "class_weight")}
    call["x"] = array_dataset(
        x, y, batch_size=batch_size, shuffle=call.get("shuffle", False), **weights
    )
    # A dataset is batched, shuffled and weighted already; Keras warns when it gets these.
    empty = {"y": None, "batch_size": None, "shuffle": False, **dict.fromkeys(weights)}
    call.update({name: value for name, value in empty.items() if name in call})
    validation = call.get("validation_data")
    if isinstance(validation, tuple) and len(validation) == 2 and _takes(*validation):
        call["validation_data"] = array_dataset(
            *validation, batch_size=call["validation_batch_size"] or batch_size
        )
        call["validation_batch_size"] = None
    return call
