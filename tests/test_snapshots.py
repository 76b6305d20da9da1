"""Tests for centerloss.snapshots: the recording callback and the .npz round trip."""

import json

import keras
import numpy as np
import pytest
import reference

from centerloss import CenterLossModel
from centerloss.snapshots import FeatureSet, SnapshotCallback, Snapshots

NUM_CLASSES, FEATURE_DIM, INPUT_DIM = 3, 2, 4


class StandInModel(keras.Model):
    """A tiny (logits, features) model with a ``centers`` variable, like CenterLossModel."""

    def __init__(self):
        inputs = keras.Input((INPUT_DIM,))
        features = keras.layers.Dense(FEATURE_DIM)(inputs)
        logits = keras.layers.Dense(NUM_CLASSES)(features)
        super().__init__(inputs, [logits, features])
        self.centers = keras.Variable(np.zeros((NUM_CLASSES, FEATURE_DIM)), trainable=False)

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        logits, _ = y_pred
        return keras.ops.mean(
            keras.losses.sparse_categorical_crossentropy(y, logits, from_logits=True)
        )


class StepCenters(keras.callbacks.Callback):
    """Add 1 to every center after each epoch, so centers at epoch k equal k."""

    def on_epoch_end(self, epoch, logs=None):
        self.model.centers.assign(self.model.centers + 1.0)


def make_data(seed=0, n_train=60, n_test=30):
    rng = np.random.default_rng(seed)
    return (
        rng.normal(size=(n_train, INPUT_DIM)).astype("float32"),
        rng.integers(0, NUM_CLASSES, n_train),
        rng.normal(size=(n_test, INPUT_DIM)).astype("float32"),
        rng.integers(0, NUM_CLASSES, n_test),
    )


def fit(model, callback, data, epochs):
    x_train, y_train, x_test, y_test = data
    # StepCenters runs first, so the snapshot of epoch k sees the moved centers.
    return model.fit(
        x_train,
        y_train,
        validation_data=(x_test, y_test),
        epochs=epochs,
        batch_size=16,
        verbose=0,
        callbacks=[StepCenters(), callback],
    )


def new_run(data, **callback_args):
    keras.utils.set_random_seed(0)
    model = StandInModel()
    model.compile(optimizer="adam")
    return model, SnapshotCallback(
        *data, n_train=20, n_test=10, batch_size=8, class_names=["a", "b", "c"], **callback_args
    )


@pytest.fixture(scope="module")
def trained():
    data = make_data()
    model, callback = new_run(data)
    fit(model, callback, data, epochs=2)
    return model, callback, data


def test_records_epoch_zero_and_each_epoch(trained):
    _, callback, _ = trained
    snapshots = callback.snapshots
    assert len(snapshots) == 3
    np.testing.assert_array_equal(snapshots.epochs, [0, 1, 2])
    assert snapshots.train_features.shape == (3, 20, FEATURE_DIM)
    assert snapshots.test_features.shape == (3, 10, FEATURE_DIM)
    assert snapshots.train_features.dtype == np.float32
    assert snapshots.train_labels.shape == (20,) and snapshots.train_labels.dtype == np.int32
    assert snapshots.test_labels.shape == (10,)
    assert snapshots.centers.shape == (3, NUM_CLASSES, FEATURE_DIM)
    assert snapshots.centers.dtype == np.float32
    assert snapshots.class_names == ["a", "b", "c"]


def test_centers_are_recorded_at_their_epoch(trained):
    _, callback, _ = trained
    for epoch, centers in enumerate(callback.snapshots.centers):
        np.testing.assert_array_equal(centers, np.full((NUM_CLASSES, FEATURE_DIM), epoch))


def test_features_change_with_training(trained):
    features = trained[1].snapshots.train_features
    assert not np.allclose(features[0], features[-1])


def test_subset_is_fixed_and_seeded(trained):
    model, callback, data = trained
    x_train, y_train, x_test, y_test = data
    indices = callback.indices
    assert len(np.unique(indices["train"])) == 20 and len(np.unique(indices["test"])) == 10
    snapshots = callback.snapshots
    np.testing.assert_array_equal(snapshots.train_labels, y_train[indices["train"]])
    np.testing.assert_array_equal(snapshots.test_labels, y_test[indices["test"]])
    # The last record is of exactly those images, in that order.
    _, features = model.predict(x_train[indices["train"]], verbose=0)
    np.testing.assert_allclose(snapshots.train_features[-1], features, rtol=1e-5, atol=1e-6)
    # Same seed, same subset; another seed, another subset.
    np.testing.assert_array_equal(
        SnapshotCallback(*data, n_train=20, n_test=10).indices["train"], indices["train"]
    )
    other = SnapshotCallback(*data, n_train=20, n_test=10, seed=1).indices["train"]
    assert not np.array_equal(other, indices["train"])


def test_whole_split_when_smaller_than_n():
    data = make_data(n_train=15, n_test=5)
    callback = SnapshotCallback(*data, n_train=1000, n_test=1000)
    np.testing.assert_array_equal(callback.indices["train"], np.arange(15))
    np.testing.assert_array_equal(callback.indices["test"], np.arange(5))


def test_history_has_one_value_per_trained_epoch(trained):
    history = trained[1].snapshots.history
    assert set(history) == {"loss", "val_loss"}
    assert all(len(values) == 2 for values in history.values())
    assert all(isinstance(value, float) for values in history.values() for value in values)


def test_second_fit_continues_the_record():
    data = make_data(seed=1)
    model, callback = new_run(data)
    fit(model, callback, data, epochs=2)
    fit(model, callback, data, epochs=1)
    snapshots = callback.snapshots
    np.testing.assert_array_equal(snapshots.epochs, [0, 1, 2, 3])
    assert snapshots.test_features.shape[0] == 4
    np.testing.assert_array_equal(snapshots.centers[-1], np.full((NUM_CLASSES, FEATURE_DIM), 3))
    assert all(len(values) == 3 for values in snapshots.history.values())


def test_snapshots_before_fit_raises():
    with pytest.raises(RuntimeError, match="model.fit"):
        _ = SnapshotCallback(*make_data()).snapshots


def test_bad_labels_raise():
    x_train, y_train, x_test, y_test = make_data()
    with pytest.raises(ValueError, match="y_train must be integer class ids of shape"):
        SnapshotCallback(x_train, y_train[:5], x_test, y_test)
    with pytest.raises(ValueError, match="n_test must be a positive integer"):
        SnapshotCallback(x_train, y_train, x_test, y_test, n_test=0)


@pytest.mark.parametrize("name", ["run.npz", "run"])
def test_save_load_round_trip(trained, tmp_path, name):
    snapshots = trained[1].snapshots
    written = snapshots.save(tmp_path / name)
    assert written == tmp_path / "run.npz"
    assert sorted(path.name for path in tmp_path.iterdir()) == ["run.npz"]  # no temp left
    loaded = Snapshots.load(tmp_path / name)
    for field in (
        "epochs",
        "train_features",
        "train_labels",
        "test_features",
        "test_labels",
        "centers",
    ):
        expected, got = getattr(snapshots, field), getattr(loaded, field)
        np.testing.assert_array_equal(got, expected)
        assert got.dtype == expected.dtype
    assert loaded.history == snapshots.history
    assert loaded.class_names == snapshots.class_names


def test_save_replaces_and_failed_save_leaves_old_file(trained, tmp_path, monkeypatch):
    snapshots = trained[1].snapshots
    path = snapshots.save(tmp_path / "run.npz")
    before = path.read_bytes()

    def crash(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(np, "savez_compressed", crash)
    with pytest.raises(OSError, match="disk full"):
        snapshots.save(path)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["run.npz"]


def test_metrics_per_epoch(trained):
    results = trained[1].snapshots.metrics(split="train")
    assert len(results) == 3
    assert "nearest_center_accuracy" in results[0] and "silhouette" in results[0]
    json.dumps(results)
    with pytest.raises(ValueError, match="split must be one of"):
        trained[1].snapshots.metrics(split="validation")


def recorded_at(epochs=(0, 1, 3, 6)):
    """A Snapshots recorded at ``epochs`` whose arrays say their position: value k at the k-th."""
    count = len(epochs)
    positions = np.arange(count, dtype=np.float32)[:, None, None]
    return Snapshots(
        epochs=np.array(epochs),
        train_features=np.ones((count, 5, FEATURE_DIM), np.float32) * positions,
        train_labels=np.arange(5, dtype=np.int32) % NUM_CLASSES,
        test_features=-np.ones((count, 4, FEATURE_DIM), np.float32) * positions,
        test_labels=np.arange(4, dtype=np.int32) % NUM_CLASSES,
        centers=10 * np.ones((count, NUM_CLASSES, FEATURE_DIM), np.float32) * positions,
        history={},
        class_names=["a", "b", "c"],
    )


def test_at_hands_out_one_epoch_as_a_feature_set():
    record = recorded_at()
    last = record.at()  # default: the last recorded epoch, test split
    assert isinstance(last, FeatureSet) and isinstance(last, tuple) and last.weights is None
    np.testing.assert_array_equal(last.features, record.test_features[-1])
    np.testing.assert_array_equal(last.labels, record.test_labels)
    np.testing.assert_array_equal(last.centers, record.centers[-1])
    features, labels, centers, weights = record.at(-1)  # unpacks like a tuple
    np.testing.assert_array_equal(features, -3)
    # A non-negative epoch is an epoch number, not a position: epoch 3 is the third record.
    at_three = record.at(3, split="train")
    np.testing.assert_array_equal(at_three.features, 2)
    np.testing.assert_array_equal(at_three.labels, record.train_labels)
    np.testing.assert_array_equal(at_three.centers, 20)
    np.testing.assert_array_equal(record.at(np.int64(0)).features, 0)
    # Negative: counted back from the last record.
    np.testing.assert_array_equal(record.at(-2).centers, 20)
    np.testing.assert_array_equal(record.at(-4).centers, 0)


def test_at_rejects_epochs_that_were_not_recorded():
    record = recorded_at()
    with pytest.raises(ValueError, match=r"epoch 2 was not recorded; recorded epochs are 0 to 6"):
        record.at(2)
    with pytest.raises(ValueError, match=r"epoch=-5 counts back past the first record"):
        record.at(-5)
    with pytest.raises(ValueError, match="split must be one of"):
        record.at(-1, split="validation")


def test_feature_set_defaults_and_tuple_equivalence():
    features, labels = np.zeros((2, 2)), np.array([0, 1])
    panel = FeatureSet(features, labels)
    assert panel.centers is None and panel.weights is None
    assert FeatureSet(*(features, labels, None)) == panel  # a plain tuple builds the same
    with_weights = panel._replace(weights=np.eye(2))
    assert with_weights.weights is not None and with_weights[:2] == panel[:2]


def centerloss_run(data, **callback_args):
    """A real CenterLossModel (λ = 0.3) on the toy data, with its SnapshotCallback."""
    keras.utils.set_random_seed(0)
    inputs = keras.Input((INPUT_DIM,))
    features = keras.layers.Dense(FEATURE_DIM)(inputs)
    backbone = keras.Model(inputs, [keras.layers.Dense(NUM_CLASSES)(features), features])
    model = CenterLossModel(backbone, lambda_=0.3, alpha=0.5)
    model.compile(optimizer="adam")
    return model, SnapshotCallback(*data, n_train=20, n_test=1000, batch_size=8, **callback_args)


def test_validate_logs_val_metrics_of_the_test_subset():
    data = make_data(seed=2)
    _, _, x_test, y_test = data
    model, callback = centerloss_run(data, validate=True)
    history = model.fit(
        data[0], data[1], epochs=2, batch_size=16, verbose=0, callbacks=[callback]
    ).history
    keys = ("val_loss", "val_softmax_loss", "val_center_loss", "val_accuracy")
    assert set(keys) <= set(history) and set(keys) <= set(callback.snapshots.history)
    # The last epoch's values, recomputed from scratch with the NumPy reference.
    logits, features = (np.asarray(out) for out in model(x_test, training=False))
    centers = keras.ops.convert_to_numpy(model.centers)
    softmax = reference.softmax_cross_entropy(logits.astype(np.float64), y_test)
    center = reference.center_loss(features.astype(np.float64), y_test, centers)
    expected = (softmax + 0.3 * center, softmax, center, np.mean(logits.argmax(1) == y_test))
    for key, value in zip(keys, expected, strict=True):
        assert history[key][-1] == pytest.approx(value, rel=1e-5), key
        assert callback.snapshots.history[key][-1] == history[key][-1]
    # Recorded features are those of the whole (30-image) test set, batches of 8 and 6: the
    # same to float32 rounding (a batch of another size may take another kernel, and a
    # feature near 0 differs by more than rtol of itself).
    np.testing.assert_allclose(callback.snapshots.test_features[-1], features, rtol=1e-5, atol=1e-6)


def test_validate_off_adds_no_val_keys():
    data = make_data(seed=3)
    model, callback = centerloss_run(data)
    history = model.fit(data[0], data[1], epochs=1, verbose=0, callbacks=[callback]).history
    assert not any(key.startswith("val_") for key in history)


def test_validate_needs_lambda():
    data = make_data()
    model, callback = new_run(data, validate=True)
    with pytest.raises(AttributeError, match="needs model.lambda_"):
        model.fit(data[0], data[1], epochs=1, verbose=0, callbacks=[callback])
