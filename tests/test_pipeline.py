"""centerloss.pipeline: arrays as tf.data batches without the autotuner, and fit's use of them.

The stall itself (seconds of no CPU at every epoch's end) is measured by
``benchmarks/bench_peer.py`` (CPU use while training); these tests check what
removes it: every dataset that ``fit``, ``evaluate`` and ``predict`` build from
arrays has autotuning off, and trains exactly as Keras's own pipeline does.
"""

import inspect

import keras
import numpy as np
import pytest
import tensorflow as tf

from centerloss import CenterLossModel, pipeline
from centerloss.networks import compact_cnn


def epochs_of(dataset, count=2):
    """The batches of ``count`` passes over ``dataset``, as lists of NumPy arrays."""
    return [[tuple(np.asarray(part) for part in batch) for batch in dataset] for _ in range(count)]


def test_every_example_once_per_epoch_in_batches_the_last_short():
    keras.utils.set_random_seed(0)
    x = np.arange(10, dtype=np.float32).reshape(10, 1) * 10
    y = np.arange(10)
    for epoch in epochs_of(pipeline.array_dataset(x, y, batch_size=4, shuffle=True)):
        assert [len(labels) for _, labels in epoch] == [4, 4, 2]
        images = np.concatenate([images for images, _ in epoch])
        labels = np.concatenate([labels for _, labels in epoch])
        assert sorted(labels) == list(range(10))
        np.testing.assert_array_equal(images[:, 0], labels * 10)  # pairs stay together


def test_shuffle_is_a_permutation_that_the_global_seed_repeats():
    x, y = np.zeros((64, 1), np.float32), np.arange(64)

    def order(**options):
        keras.utils.set_random_seed(3)
        dataset = pipeline.array_dataset(x, y, batch_size=64, **options)
        return epochs_of(dataset, 1)[0][0][1].tolist()

    shuffled = order(shuffle=True)
    assert shuffled != list(range(64)) and sorted(shuffled) == list(range(64))
    assert order(shuffle=True) == shuffled
    assert order() == list(range(64))


def test_x_alone_gives_batches_of_x():
    x = np.ones((5, 3), np.float32)
    (batch,) = list(pipeline.array_dataset(x, batch_size=8))
    assert batch.shape == (5, 3)


def test_the_datasets_have_autotuning_off():
    x, y = np.zeros((4, 1), np.float32), np.zeros(4, np.int32)
    assert pipeline.array_dataset(x, y).options().autotune.enabled is False
    assert pipeline.without_autotune(tf.data.Dataset.range(3)).options().autotune.enabled is False
    assert tf.data.Dataset.range(3).options().autotune.enabled is None  # unset: on


def test_weights_come_as_a_third_element():
    x, y = np.zeros((4, 1), np.float32), np.array([0, 1, 1, 1])
    (batch,) = list(pipeline.array_dataset(x, y, batch_size=4, class_weight={0: 3.0, 1: 1.0}))
    np.testing.assert_array_equal(batch[2], [3.0, 1.0, 1.0, 1.0])


def test_a_count_mismatch_is_refused_with_both_counts():
    with pytest.raises(ValueError, match="(?s)'x' sizes: 4.*'y' sizes: 3"):
        pipeline.array_dataset(np.zeros((4, 1)), np.zeros(3))


def captured_calls(monkeypatch, method):
    """Replace keras.Model's ``method`` with a recorder of the arguments it gets."""
    calls = []

    def record(self, **kwargs):
        calls.append(kwargs)

    record.__signature__ = inspect.signature(getattr(keras.Model, method))  # what is bound to
    monkeypatch.setattr(keras.Model, method, record)
    return calls


@pytest.fixture(scope="module")
def model():
    keras.utils.set_random_seed(0)
    model = CenterLossModel(compact_cnn(), lambda_=0.1)
    model.compile(optimizer="adam")
    return model


def test_fit_evaluate_and_predict_turn_arrays_into_such_datasets(model, monkeypatch):
    x, y = np.zeros((10, 28, 28, 1), np.float32), np.zeros(10, np.int32)
    fits = captured_calls(monkeypatch, "fit")
    model.fit(x, y, 4, 3, validation_data=(x[:6], y[:6]))  # batch_size and epochs by position
    (call,) = fits
    assert call["epochs"] == 3 and call["batch_size"] is None and call["y"] is None
    assert call["shuffle"] is False  # the dataset shuffles itself
    for name, sizes in (("x", [4, 4, 2]), ("validation_data", [4, 2])):
        assert call[name].options().autotune.enabled is False
        assert [len(labels) for _, labels in call[name]] == sizes
    evaluations = captured_calls(monkeypatch, "evaluate")
    model.evaluate(x, y, batch_size=8)
    assert [len(labels) for _, labels in evaluations[0]["x"]] == [8, 2]
    predictions = captured_calls(monkeypatch, "predict")
    model.predict(x)
    assert [len(images) for images in predictions[0]["x"]] == [10]  # Keras's default batch: 32


@pytest.mark.parametrize(
    "options",
    [
        {"validation_split": 0.2},
        {"steps_per_epoch": 2},
    ],
    ids=lambda options: next(iter(options)),
)
def test_what_only_keras_serves_stays_with_keras(model, monkeypatch, options):
    x, y = np.zeros((10, 28, 28, 1), np.float32), np.zeros(10, np.int32)
    fits = captured_calls(monkeypatch, "fit")
    model.fit(x, y, **options)
    assert fits[0]["x"] is x and fits[0]["y"] is y


def test_fit_on_arrays_trains_as_keras_own_pipeline_does(tiny_data):
    # The reference is Keras's own array pipeline (keras.Model.fit): the same shuffles.
    x, y = tiny_data

    def trained(fit):
        keras.utils.set_random_seed(0)
        model = CenterLossModel(compact_cnn(), lambda_=0.1, alpha=0.5)
        model.compile(optimizer="adam")
        history = fit(model, x, y, batch_size=16, epochs=2, verbose=0)
        return history.history, model.get_weights()

    ours, keras_own = trained(CenterLossModel.fit), trained(keras.Model.fit)
    for name in ("loss", "center_loss", "accuracy"):
        np.testing.assert_allclose(ours[0][name], keras_own[0][name], rtol=1e-5)
    for mine, theirs in zip(ours[1], keras_own[1], strict=True):
        np.testing.assert_allclose(mine, theirs, rtol=1e-4, atol=1e-6)


@pytest.fixture(scope="module")
def tiny_data():
    rng = np.random.default_rng(0)
    return rng.random((48, 28, 28, 1), dtype=np.float32), rng.integers(0, 10, 48).astype(np.int32)
