"""Tests for the sweep figures at the end of centerloss.plots (Agg backend)."""

import matplotlib

matplotlib.use("Agg")

from types import SimpleNamespace  # noqa: E402

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from centerloss import plots  # noqa: E402
from centerloss.snapshots import Snapshots  # noqa: E402


def run(scale, spread, n=30, seed=0):
    """Three clusters at scale × (0, 5), (5, 0), (-5, 0) with the given spread."""
    rng = np.random.default_rng(seed)
    centers = scale * np.array([[0.0, 5.0], [5.0, 0.0], [-5.0, 0.0]])
    labels = np.arange(n) % 3
    return centers[labels] + scale * spread * rng.normal(size=(n, 2)), labels, centers


def test_feature_grid_panels_captions_and_units():
    panels = {"λ = 0": run(100.0, 1.0), "λ = 0.1": run(1.0, 0.2), "λ = 1": run(0.01, 0.1)}
    captions = {"λ = 0": "ratio 0.30", "λ = 1": "ratio 0.05"}
    fig = plots.plot_feature_grid(panels, captions=captions, ncols=2, title="sweep")
    axes = [ax for ax in fig.axes if ax.get_visible()]
    assert len(fig.axes) == 4 and len(axes) == 3  # 2 × 2 grid, the fourth hidden
    assert [ax.get_title() for ax in axes] == list(panels)
    for ax, title in zip(axes, panels, strict=True):
        # 3 class scatters + 1 center scatter per panel.
        assert len(ax.collections) == 4
        assert ax.get_xlabel().startswith(f"feature 1 ({plots.UNITS})")
        assert ax.get_ylabel() == f"feature 2 ({plots.UNITS})"
        assert ax.get_xlabel().endswith(captions.get(title, f"({plots.UNITS})"))
    # Every panel in units of its own separation: the runs' scales (100 vs 0.01)
    # no longer matter, the centers land at the same place; each panel fits its
    # own points (square limits), so the tight runs' clusters fill their panels.
    expected = run(1.0, 0.0)[2] / np.mean([np.sqrt(50), np.sqrt(50), 10.0])
    for ax in axes:
        centers = ax.collections[-1].get_offsets()
        np.testing.assert_allclose(centers, expected, atol=0.15)
        points = np.concatenate([c.get_offsets() for c in ax.collections[:3]])
        (x0, x1), (y0, y1) = ax.get_xlim(), ax.get_ylim()
        assert x1 - x0 == pytest.approx(y1 - y0)
        assert (points > [x0, y0]).all() and (points < [x1, y1]).all()
        assert np.ptp(points, axis=0).max() > 0.8 * (x1 - x0)
    assert axes[0].get_xlim() != axes[2].get_xlim()
    assert fig._suptitle.get_text() == "sweep"
    assert len(fig.legends) == 1
    plt.close(fig)


def test_feature_grid_two_per_row_by_default_and_errors():
    fig = plots.plot_feature_grid({"a": run(1.0, 0.3), "b": run(2.0, 0.3)})
    assert len(fig.axes) == 2
    plt.close(fig)
    five = {f"λ = {k}": run(1.0, 0.3, seed=k) for k in range(5)}
    fig = plots.plot_feature_grid(five)
    assert len(fig.axes) == 6 and fig.axes[0].get_gridspec().get_geometry() == (3, 2)
    plt.close(fig)
    with pytest.raises(ValueError, match="panels must map at least one"):
        plots.plot_feature_grid({})
    features, labels, centers = run(1.0, 0.3)
    with pytest.raises(ValueError, match="features must be 2-D points"):
        plots.plot_feature_grid({"3-D": (np.c_[features, features[:, 0]], labels, centers)})


def trained_run(lambda_, scale, spread, ratio, accuracy, epochs=3):
    """An experiment.Run stand-in: recorded features that end as ``run(scale, spread)``."""
    features, labels, centers = run(scale, spread)
    recorded = np.repeat(features[None], epochs, axis=0)
    # Before the last epoch the centers sit at the origin: only the last one puts them out.
    centers = np.concatenate([np.zeros((epochs - 1, *centers.shape)), centers[None]])
    snapshots = Snapshots(
        epochs=np.arange(epochs),
        train_features=recorded,
        train_labels=labels,
        test_features=recorded,
        test_labels=labels,
        centers=centers,
        history={},
        class_names=["zero", "one", "two"],
    )
    metrics = {"spread_ratio": ratio, "accuracy": accuracy}
    return SimpleNamespace(lambda_=lambda_, snapshots=snapshots, metrics=metrics)


def test_lambda_grid_letters_captions_and_final_test_features():
    runs = [
        trained_run(0.0, 100.0, 1.0, 0.41234, 0.98765),
        trained_run(0.001, 1.0, 0.3, 0.2, 0.99),
        trained_run(0.1, 0.01, 0.1, 0.05, 0.9912345),
    ]
    fig = plots.plot_lambda_grid(runs, title="Figure 3", class_names=("zero", "one", "two"))
    fig.canvas.draw()
    axes = [ax for ax in fig.axes if ax.get_visible()]
    assert len(axes) == 3 and fig.axes[0].get_gridspec().get_geometry() == (2, 2)
    assert [ax.get_title() for ax in axes] == ["(a) λ = 0", "(b) λ = 0.001", "(c) λ = 0.1"]
    captions = [ax.get_xlabel().splitlines()[-1] for ax in axes]
    assert captions == [
        "intra/inter 0.412 · accuracy 0.988",
        "intra/inter 0.200 · accuracy 0.990",
        "intra/inter 0.050 · accuracy 0.991",
    ]
    assert fig.get_suptitle() == "Figure 3"
    assert [t.get_text() for t in fig.legends[0].get_texts()] == [
        "zero",
        "one",
        "two",
        "class center",
    ]
    # Each panel: the run's last recorded test features and centers, in separation units.
    expected = run(1.0, 0.0)[2] / np.mean([np.sqrt(50), np.sqrt(50), 10.0])
    for ax in axes:
        np.testing.assert_allclose(ax.collections[-1].get_offsets(), expected, atol=0.15)
    # reproduce's version: 4 accuracy digits, three panels to a row.
    fig = plots.plot_lambda_grid(runs, title="t", accuracy_digits=4, ncols=3)
    assert fig.axes[0].get_gridspec().get_geometry() == (1, 3)
    assert fig.axes[2].get_xlabel().endswith("intra/inter 0.050 · accuracy 0.9912")
    with pytest.raises(ValueError, match="at most 26 runs; got 27"):
        plots.plot_lambda_grid(runs * 9, title="too many")
    plt.close("all")
