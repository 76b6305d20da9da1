"""Tests for centerloss.plots under the Agg backend: artists, labels, shared axes, GIFs."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from PIL import Image  # noqa: E402

from centerloss import plots  # noqa: E402
from centerloss.snapshots import Snapshots  # noqa: E402

NAMES = ["zero", "one", "two"]
EPOCHS = 10


def blobs(n=30, spread=1.0, seed=0):
    """Three 2-D clusters around (0, 5), (5, 0), (-5, 0): features, labels, centers."""
    rng = np.random.default_rng(seed)
    centers = np.array([[0.0, 5.0], [5.0, 0.0], [-5.0, 0.0]])
    labels = np.arange(n) % 3
    return centers[labels] + spread * rng.normal(size=(n, 2)), labels, centers


def make_snapshots(epochs=EPOCHS):
    """Clusters tightening and drifting outwards over the epochs."""
    runs = [blobs(spread=2.0 / (k + 1)) for k in range(epochs)]
    features = np.stack([f * (1 + 0.1 * k) for k, (f, _, _) in enumerate(runs)])
    centers = np.stack([c * (1 + 0.1 * k) for k, (_, _, c) in enumerate(runs)])
    return Snapshots(
        epochs=np.arange(epochs),
        train_features=features.astype("float32"),
        train_labels=runs[0][1].astype("int32"),
        test_features=features[:, :12],
        test_labels=runs[0][1][:12].astype("int32"),
        centers=centers.astype("float32"),
        history={"loss": [1.0 / k for k in range(1, epochs)]},
        class_names=NAMES,
    )


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def assert_labelled(ax):
    assert ax.get_title() and ax.get_xlabel() and ax.get_ylabel()


def legend_texts(legend):
    return [text.get_text() for text in legend.get_texts()]


def test_plot_features_artists_and_labels():
    features, labels, centers = blobs()
    fig = plots.plot_features(features, labels, centers, class_names=NAMES)
    fig.canvas.draw()
    ax = fig.axes[0]
    assert len(ax.collections) == 4  # one per class + the centers
    assert legend_texts(ax.get_legend()) == NAMES + ["class center"]
    assert_labelled(ax)
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("feature 1", "feature 2")
    # Class j's points and center share tab10 colour j.
    for class_id in range(3):
        np.testing.assert_allclose(
            ax.collections[class_id].get_facecolor()[0][:3], plots.class_color(class_id)[:3]
        )
        np.testing.assert_allclose(
            ax.collections[3].get_facecolor()[class_id][:3], plots.class_color(class_id)[:3]
        )


def test_plot_features_into_given_axes_with_limits_and_max_points():
    features, labels, _ = blobs(n=90)
    fig, ax = plt.subplots()
    returned = plots.plot_features(features, labels, ax=ax, max_points=30, lims=((-1, 1), (-2, 2)))
    assert returned is fig
    assert len(ax.collections) == 3  # no centers given
    assert sum(len(c.get_offsets()) for c in ax.collections) == 30
    assert ax.get_xlim() == (-1, 1) and ax.get_ylim() == (-2, 2)
    assert legend_texts(ax.get_legend()) == ["0", "1", "2"]


def test_plot_features_rejects_wide_features():
    with pytest.raises(ValueError, match=r"features must be 2-D points.*TSNE"):
        plots.plot_features(np.zeros((6, 5)), np.arange(6) % 3)
    with pytest.raises(ValueError, match="labels must have shape"):
        plots.plot_features(np.zeros((6, 2)), np.arange(5))


def test_plot_comparison_shares_limits_and_legend():
    runs = {
        "softmax only (λ=0)": blobs(spread=3.0),
        "softmax + center loss (λ=0.1)": blobs(spread=0.5, seed=1),
    }
    fig = plots.plot_comparison(runs, suptitle="Compare", class_names=NAMES)
    fig.canvas.draw()
    left, right = fig.axes
    assert left.get_xlim() == right.get_xlim() and left.get_ylim() == right.get_ylim()
    assert [ax.get_title() for ax in fig.axes] == list(runs)
    assert all(len(ax.collections) == 4 for ax in fig.axes)
    assert len(fig.legends) == 1 and legend_texts(fig.legends[0]) == NAMES + ["class center"]
    assert fig.get_suptitle() == "Compare"
    # The shared limits fit every point of both runs.
    (x0, x1), (y0, y1) = left.get_xlim(), left.get_ylim()
    for features, _, _ in runs.values():
        assert (features[:, 0] > x0).all() and (features[:, 0] < x1).all()
        assert (features[:, 1] > y0).all() and (features[:, 1] < y1).all()


def test_plot_comparison_unshared_axes_differ():
    runs = {"wide": blobs(spread=3.0), "tight": (blobs()[0] * 0.1, *blobs()[1:])}
    fig = plots.plot_comparison(runs, share_axes=False)
    fig.canvas.draw()
    assert fig.axes[0].get_xlim() != fig.axes[1].get_xlim()


def test_feature_limits_with_margin():
    points = np.array([[0.0, 0.0], [10.0, 20.0]])
    assert plots.feature_limits(points, margin=0.1) == ((-1.0, 11.0), (-2.0, 22.0))
    # Several runs: the union. A zero range still gets room.
    limits = plots.feature_limits([points, np.array([[30.0, 0.0]]), None], margin=0.0)
    assert limits == ((0.0, 30.0), (0.0, 20.0))
    assert plots.feature_limits(np.zeros((3, 2)), margin=0.5) == ((-0.5, 0.5), (-0.5, 0.5))


def test_feature_limits_cover_all_epochs_of_snapshots():
    snapshots = make_snapshots()
    (x0, x1), (y0, y1) = plots.feature_limits(snapshots)
    for array in (snapshots.train_features, snapshots.test_features, snapshots.centers):
        assert x0 <= array[..., 0].min() and array[..., 0].max() <= x1
        assert y0 <= array[..., 1].min() and array[..., 1].max() <= y1
    with pytest.raises(ValueError, match="2-D points"):
        plots.feature_limits(np.zeros((4, 3)))


def test_plot_center_trajectories():
    snapshots = make_snapshots()
    fig = plots.plot_center_trajectories(snapshots)
    fig.canvas.draw()
    ax = fig.axes[0]
    assert len(ax.lines) == 3
    np.testing.assert_allclose(ax.lines[1].get_xydata(), snapshots.centers[:, 1])
    assert len(ax.collections) == 2  # start markers, end markers
    assert legend_texts(ax.get_legend()) == NAMES + ["start (epoch 0)", f"end (epoch {EPOCHS - 1})"]
    assert_labelled(ax)


def test_plot_epoch_grid_default_epochs():
    fig = plots.plot_epoch_grid(make_snapshots())
    fig.canvas.draw()
    titles = [ax.get_title() for ax in fig.axes]
    assert len(titles) == 8
    assert titles[0] == "epoch 0" and titles[-1] == f"epoch {EPOCHS - 1}"
    assert len(set(titles)) == 8
    assert len({(ax.get_xlim(), ax.get_ylim()) for ax in fig.axes}) == 1
    assert all(len(ax.collections) == 4 for ax in fig.axes)
    assert len(fig.legends) == 1 and fig.get_suptitle()
    # Shared scales: only the outer panels carry axis labels.
    for ax in fig.axes:
        spec = ax.get_subplotspec()
        assert bool(ax.get_xlabel()) == spec.is_last_row()
        assert bool(ax.get_ylabel()) == spec.is_first_col()


def test_plot_epoch_grid_selected_epochs():
    fig = plots.plot_epoch_grid(make_snapshots(), epochs=[0, 3, 9], split="train", ncols=2)
    fig.canvas.draw()
    assert [ax.get_title() for ax in fig.axes] == ["epoch 0", "epoch 3", "epoch 9"]
    with pytest.raises(ValueError, match=r"epochs \[12\] were not recorded"):
        plots.plot_epoch_grid(make_snapshots(), epochs=[0, 12])


def test_animate_features_and_save_gif(tmp_path):
    frames = 4
    snapshots = make_snapshots(epochs=frames)
    animation = plots.animate_features(snapshots, class_names=NAMES)
    assert len(list(animation.new_frame_seq())) == frames
    path = plots.save_gif(animation, tmp_path / "features", fps=5)
    assert path == tmp_path / "features.gif"
    assert [p.name for p in tmp_path.iterdir()] == ["features.gif"]  # no temp left
    with Image.open(path) as gif:
        assert gif.n_frames == frames
    ax = animation._fig.axes[0]
    assert ax.get_title() == f"Test features, epoch {frames - 1}"  # last frame drawn
    assert ax.get_xlim() == pytest.approx(
        plots.feature_limits([snapshots.test_features, snapshots.centers])[0]
    )
    assert len(ax.collections) == 4 and len(animation._fig.legends) == 1


def test_plot_metric_curves():
    fig = plots.plot_metric_curves(
        [0, 0.01, 0.1],
        {"spread_ratio": [0.9, 0.5, 0.2], "silhouette": [0.1, 0.4, 0.7]},
        xlabel="λ",
        title="Metrics against λ",
    )
    fig.canvas.draw()
    ax = fig.axes[0]
    assert len(ax.lines) == 2 and all(line.get_marker() == "o" for line in ax.lines)
    assert legend_texts(ax.get_legend()) == ["spread_ratio", "silhouette"]
    assert_labelled(ax)
    with pytest.raises(ValueError, match=r"metrics\['silhouette'\] must have one value per x"):
        plots.plot_metric_curves([0, 1], {"silhouette": [0.1]}, xlabel="λ", title="t")


def test_plot_history():
    history = {
        "softmax_loss": [2.0, 1.0, 0.5],
        "val_softmax_loss": [2.1, 1.2, 0.8],
        "center_loss": [3.0, 1.0, 0.2],
        "accuracy": [0.3, 0.6, 0.8],
    }
    fig = plots.plot_history(history)
    fig.canvas.draw()
    assert [ax.get_title() for ax in fig.axes] == ["softmax_loss", "center_loss", "accuracy"]
    assert [len(ax.lines) for ax in fig.axes] == [2, 1, 1]
    assert legend_texts(fig.axes[0].get_legend()) == ["train", "validation"]
    np.testing.assert_array_equal(fig.axes[0].lines[0].get_xdata(), [1, 2, 3])
    assert all(ax.get_xlabel() == "epoch" and ax.get_ylabel() for ax in fig.axes)
    with pytest.raises(ValueError, match=r"history has no \['center_loss'\]"):
        plots.plot_history({"softmax_loss": [1.0]}, keys=("softmax_loss", "center_loss"))
