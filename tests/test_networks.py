"""The two networks: outputs, widths, and the paper's LeNet++ layout."""

import keras
import numpy as np
import pytest

from centerloss.model import CenterLossModel
from centerloss.networks import NETWORKS, build_network, lenet_plus_plus


@pytest.mark.parametrize("name", sorted(NETWORKS))
@pytest.mark.parametrize("feature_dim", [2, 16])
def test_outputs_are_logits_and_features(name, feature_dim):
    model = build_network(name, feature_dim=feature_dim, num_classes=7)
    logits, features = model(np.zeros((3, 28, 28, 1), np.float32))
    assert tuple(logits.shape) == (3, 7)
    assert tuple(features.shape) == (3, feature_dim)


def test_lenet_plus_plus_is_the_papers_layout():
    model = lenet_plus_plus()
    convs = [layer for layer in model.layers if isinstance(layer, keras.layers.Conv2D)]
    assert [conv.filters for conv in convs] == [32, 32, 64, 64, 128, 128]
    assert all(conv.kernel_size == (5, 5) for conv in convs)
    assert sum(isinstance(layer, keras.layers.MaxPooling2D) for layer in model.layers) == 3
    assert (
        sum(isinstance(layer, keras.layers.PReLU) for layer in model.layers) == 7
    )  # 6 convs + FC 2
    dense = [layer.units for layer in model.layers if isinstance(layer, keras.layers.Dense)]
    assert dense == [2, 10]


def test_unknown_network_names_the_choices():
    with pytest.raises(ValueError, match="compact.*lenet"):
        build_network("resnet")


def test_compact_network_saves_and_loads_inside_the_model(tmp_path):
    model = CenterLossModel(build_network("compact"), lambda_=0.1)
    x = np.random.default_rng(0).random((4, 28, 28, 1)).astype(np.float32)
    model.save(tmp_path / "m.keras")
    loaded = keras.models.load_model(tmp_path / "m.keras")
    for a, b in zip(model.predict(x, verbose=0), loaded.predict(x, verbose=0), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
