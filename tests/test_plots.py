"""Tests for centerloss.plots under the Agg backend: artists, labels, shared axes, GIFs."""

import base64
import io
import math
import re

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.patches import FancyArrowPatch  # noqa: E402
from PIL import Image  # noqa: E402

from centerloss import plots  # noqa: E402
from centerloss.metrics import inter_class_separation  # noqa: E402
from centerloss.plots.epochs import _frame_positions  # noqa: E402
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
    # Class j's points have tab10 colour j; the centers are hollow black rings on top.
    for class_id in range(3):
        np.testing.assert_allclose(
            ax.collections[class_id].get_facecolor()[0][:3], plots.class_color(class_id)[:3]
        )
    centers = ax.collections[3]
    assert centers.get_label() == "class centers" and len(centers.get_facecolor()) == 0
    np.testing.assert_allclose(centers.get_edgecolor()[0], [0, 0, 0, 1])
    assert centers.get_zorder() > ax.collections[0].get_zorder()


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


def drawn_points(ax, num_classes=3):
    """The class scatters' points of a feature panel [N, 2] and their labels [N]."""
    offsets = [ax.collections[class_id].get_offsets() for class_id in range(num_classes)]
    labels = np.concatenate([np.full(len(o), c) for c, o in enumerate(offsets)])
    return np.concatenate(offsets), labels


def test_in_separation_units():
    features, labels, centers = blobs()
    scaled, scaled_centers, scale = plots.in_separation_units(features * 7, labels, centers * 7)
    means = np.array([features[labels == c].mean(0) for c in range(3)]) * 7
    pairs = [np.linalg.norm(means[i] - means[j]) for i, j in ((0, 1), (0, 2), (1, 2))]
    assert scale == pytest.approx(np.mean(pairs))
    np.testing.assert_allclose(scaled * scale, features * 7)  # scaled, not shifted
    np.testing.assert_allclose(scaled_centers, centers * 7 / scale)
    with pytest.raises(ValueError, match="All class means coincide"):
        plots.in_separation_units(np.zeros((6, 2)), np.arange(6) % 3)


def test_plot_comparison_normalised_each_panel_fits_its_data():
    runs = {
        "softmax only (λ=0)": (blobs(spread=3.0)[0] * 20, *blobs(spread=3.0)[1:]),
        "softmax + center loss (λ=0.1)": blobs(spread=0.5, seed=1),
    }
    fig = plots.plot_comparison(runs, title="Compare", class_names=NAMES)
    fig.canvas.draw()
    left, right = fig.axes
    assert [ax.get_title().splitlines()[0] for ax in fig.axes] == list(runs)
    # Each title says what one unit is; the axis labels name the unit.
    assert left.get_title().splitlines()[1].startswith("1 unit = ")
    assert left.get_xlabel() == right.get_xlabel() == f"feature 1 ({plots.UNITS})"
    assert left.get_ylabel() == right.get_ylabel() == f"feature 2 ({plots.UNITS})"
    assert all(len(ax.collections) == 4 for ax in fig.axes)
    assert len(fig.legends) == 1 and legend_texts(fig.legends[0]) == NAMES + ["class center"]
    assert fig.get_suptitle() == "Compare"
    for ax in fig.axes:
        points, drawn_labels = drawn_points(ax)
        # Normalised: the drawn class means are 1 apart on average, whatever the run's scale.
        assert inter_class_separation(points, drawn_labels) == pytest.approx(1.0)
        # Square limits that fit the panel's own points, which fill most of them.
        (x0, x1), (y0, y1) = ax.get_xlim(), ax.get_ylim()
        assert x1 - x0 == pytest.approx(y1 - y0)
        assert (points[:, 0] > x0).all() and (points[:, 0] < x1).all()
        assert (points[:, 1] > y0).all() and (points[:, 1] < y1).all()
        assert np.ptp(points, axis=0).max() > 0.8 * (x1 - x0)
    # The tight run's panel is not the wide run's: the limits differ.
    assert left.get_xlim() != right.get_xlim()
    # share_axes=True puts both runs on the same limits, fitting both.
    fig = plots.plot_comparison(runs, share_axes=True)
    fig.canvas.draw()
    assert fig.axes[0].get_xlim() == fig.axes[1].get_xlim()
    assert fig.axes[0].get_ylim() == fig.axes[1].get_ylim()


def test_plot_comparison_takes_feature_sets_and_plain_tuples_alike():
    features, labels, centers = blobs()
    record = make_snapshots()
    panels = {
        "feature set": plots.FeatureSet(features, labels, centers),
        "snapshots.at": record.at(-1),
        "tuple": (features, labels, centers),
        "no centers": (features, labels),
    }
    fig = plots.plot_comparison(panels, title="Inputs")
    fig.canvas.draw()
    assert [ax.get_title().splitlines()[0] for ax in fig.axes] == list(panels)
    assert [len(ax.collections) for ax in fig.axes] == [4, 4, 4, 3]  # classes (+ centers)
    np.testing.assert_allclose(drawn_points(fig.axes[0])[0], drawn_points(fig.axes[2])[0])
    scale = inter_class_separation(record.test_features[-1], record.test_labels)
    np.testing.assert_allclose(
        fig.axes[1].collections[-1].get_offsets(), record.centers[-1] / scale, rtol=1e-5
    )


def test_plot_comparison_raw_units_unshared_axes_differ():
    runs = {"wide": blobs(spread=3.0), "tight": (blobs()[0] * 0.1, *blobs()[1:])}
    fig = plots.plot_comparison(runs, share_axes=False, normalize=False)
    fig.canvas.draw()
    assert fig.axes[0].get_xlim() != fig.axes[1].get_xlim()
    assert fig.axes[0].get_title() == "wide" and fig.axes[0].get_xlabel() == "feature 1"
    np.testing.assert_allclose(drawn_points(fig.axes[1])[0].max(), (blobs()[0] * 0.1).max())
    # Panels of differently shaped data are the same size, both at equal scales.
    tall = {"wide": blobs(), "tall": (blobs()[0] * [1.0, 4.0], *blobs()[1:])}
    fig = plots.plot_comparison(tall, share_axes=False, normalize=False)
    fig.canvas.draw()
    boxes = [ax.get_position() for ax in fig.axes[:2]]
    assert boxes[0].width == pytest.approx(boxes[1].width)
    assert boxes[0].height == pytest.approx(boxes[1].height)
    for ax in fig.axes[:2]:
        (x0, x1), (y0, y1) = ax.get_xlim(), ax.get_ylim()
        box = ax.get_window_extent()
        assert (y1 - y0) / (x1 - x0) == pytest.approx(box.height / box.width, rel=1e-3)


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
    assert ax.get_xlabel() == "feature 1"
    # Centers recorded after every update step say so.
    fig = plots.plot_center_trajectories(snapshots, time_unit="step")
    ax = fig.axes[0]
    assert legend_texts(ax.get_legend())[-2:] == ["start (step 0)", f"end (step {EPOCHS - 1})"]
    assert ax.get_title() == f"Class centers moving, steps 0 to {EPOCHS - 1}"


def test_plot_center_trajectories_normalised_by_the_last_epoch():
    snapshots = make_snapshots()
    fig = plots.plot_center_trajectories(snapshots, normalize=True)
    ax = fig.axes[0]
    scale = inter_class_separation(snapshots.test_features[-1], snapshots.test_labels)
    np.testing.assert_allclose(ax.lines[1].get_xydata(), snapshots.centers[:, 1] / scale, rtol=1e-6)
    assert plots.UNITS in ax.get_xlabel() and f"{scale:.3g}" in ax.get_title()


def test_plot_center_trajectories_from_plain_arrays():
    """A lesson draws centers [E, C, 2] without building a Snapshots."""
    snapshots = make_snapshots()
    fig = plots.plot_center_trajectories(snapshots.centers, time_unit="step", class_names=NAMES)
    ax = fig.axes[0]
    for class_id, line in enumerate(ax.lines):
        np.testing.assert_allclose(line.get_xydata(), snapshots.centers[:, class_id])
    assert ax.get_title() == f"Class centers moving, steps 0 to {EPOCHS - 1}"
    assert legend_texts(ax.get_legend()) == NAMES + ["start (step 0)", f"end (step {EPOCHS - 1})"]
    unnamed = plots.plot_center_trajectories(snapshots.centers).axes[0]
    assert legend_texts(unnamed.get_legend())[:3] == ["0", "1", "2"]
    with pytest.raises(ValueError, match="pass the Snapshots instead of its centers"):
        plots.plot_center_trajectories(snapshots.centers, normalize=True)


def test_plot_trajectory_comparison_one_panel_per_run_on_shared_axes():
    wide, tight = make_snapshots(), make_snapshots()
    tight.test_features[:] *= 0.1
    tight.centers[:] *= 0.1
    runs = {"Center trajectories: wide": wide, "Center trajectories: tight": tight}
    fig = plots.plot_trajectory_comparison(runs, class_names=NAMES)
    fig.canvas.draw()
    assert len(fig.axes) == 2 and len(fig.legends) == 0
    scales = [inter_class_separation(*record.at(-1)[:2]) for record in runs.values()]
    for ax, (title, record), scale in zip(fig.axes, runs.items(), scales, strict=True):
        # The key, then the scale line of plot_center_trajectories(normalize=True).
        assert ax.get_title() == f"{title}\n1 unit = {scale:.3g} feature units (epoch {EPOCHS - 1})"
        for class_id, line in enumerate(ax.lines):
            np.testing.assert_allclose(
                line.get_xydata(), record.centers[:, class_id] / scale, rtol=1e-5
            )
        assert legend_texts(ax.get_legend())[:3] == NAMES  # each panel keeps its legend
        assert ax.get_xlabel() == f"feature 1 ({plots.UNITS})"
    # Shared axes: the same limits in both panels, in the same (normalised) unit.
    left, right = fig.axes
    assert left.get_shared_x_axes().joined(left, right)
    assert left.get_shared_y_axes().joined(left, right)
    assert left.get_xlim() == right.get_xlim() and left.get_ylim() == right.get_ylim()
    assert fig.get_figwidth() == pytest.approx(13.0) and fig.get_figheight() == pytest.approx(5.5)
    # Raw units: the title's last line is the one-run title.
    raw = plots.plot_trajectory_comparison({"a": wide}, normalize=False)
    assert raw.axes[0].get_title() == f"a\nClass centers moving, epochs 0 to {EPOCHS - 1}"
    with pytest.raises(ValueError, match="at least one panel title"):
        plots.plot_trajectory_comparison({})


def panel_axes(fig):
    """The feature panels of a figure (its subfigures' included), row by row."""
    return [ax for ax in fig.axes if ax.collections]


def test_plot_epoch_grid_default_epochs():
    fig = plots.plot_epoch_grid(make_snapshots())
    fig.canvas.draw()
    axes = panel_axes(fig)
    titles = [ax.get_title().splitlines()[0] for ax in axes]
    assert len(titles) == 6
    assert titles[0] == "epoch 0" and titles[-1] == f"epoch {EPOCHS - 1}"
    assert len(set(titles)) == 6
    assert all(ax.get_title().splitlines()[1].startswith("1 unit = ") for ax in axes)
    # Two panels per row, so a notebook shows them without shrinking the type.
    assert len({round(ax.get_position().y0, 3) for ax in axes}) == 3
    assert fig.get_figwidth() < 10
    # Square limits, each fitting its own panel's points.
    assert all(np.ptp(ax.get_xlim()) == pytest.approx(np.ptp(ax.get_ylim())) for ax in axes)
    for ax in axes:
        points, _ = drawn_points(ax)
        (x0, x1), (y0, y1) = ax.get_xlim(), ax.get_ylim()
        assert (points > [x0, y0]).all() and (points < [x1, y1]).all()
        assert np.ptp(points, axis=0).max() > 0.5 * (x1 - x0)
    assert all(len(ax.collections) == 4 for ax in axes)
    assert len(fig.legends) == 1 and fig.get_suptitle()
    # One axis label per figure axis, naming the unit.
    assert fig._supxlabel.get_text() == f"feature 1 ({plots.UNITS})"
    assert fig._supylabel.get_text() == f"feature 2 ({plots.UNITS})"


def test_plot_epoch_grid_epoch_zero_is_visible():
    """Epoch 0's points are tiny and far from the centers at 0: its own limits show them."""
    snapshots = make_snapshots()
    snapshots.test_features[0] = 0.001 * snapshots.test_features[1] + 0.01
    snapshots.centers[0] = 0.0
    fig = plots.plot_epoch_grid(snapshots, epochs=[0, 5])
    zero = panel_axes(fig)[0]
    points, _ = drawn_points(zero)
    (x0, x1), (y0, y1) = zero.get_xlim(), zero.get_ylim()
    # The points spread over a good part of the panel, not one pixel under an X.
    assert np.ptp(points[:, 0]) > 0.2 * (x1 - x0) or np.ptp(points[:, 1]) > 0.2 * (y1 - y0)
    assert (points[:, 0] > x0).all() and (points[:, 1] < y1).all()


def test_plot_epoch_grid_selected_epochs_and_runs():
    fig = plots.plot_epoch_grid(make_snapshots(), epochs=[0, 3, 9], split="train", ncols=2)
    fig.canvas.draw()
    titles = [ax.get_title().splitlines()[0] for ax in panel_axes(fig)]
    assert titles == ["epoch 0", "epoch 3", "epoch 9"]
    with pytest.raises(ValueError, match=r"epochs \[12\] were not recorded"):
        plots.plot_epoch_grid(make_snapshots(), epochs=[0, 12])
    runs = {"λ=0": make_snapshots(), "λ=0.1": make_snapshots()}
    fig = plots.plot_epoch_grid(runs, epochs=[0, 2, 4, 9], title="Both")
    assert [sub.get_suptitle() for sub in fig.subfigs] == list(runs)
    assert len(panel_axes(fig)) == 8 and fig.get_suptitle() == "Both"
    # The runs side by side, one column each: a row compares them at one epoch.
    assert all(len(sub.axes) == 4 and sub.axes[0].get_gridspec().ncols == 1 for sub in fig.subfigs)
    assert fig.get_figwidth() < 10


def test_plot_epoch_two_runs_same_epoch():
    runs = {"λ=0": make_snapshots(), "λ=0.1": make_snapshots()}
    fig = plots.plot_epoch(runs, 4, class_names=NAMES)
    assert [ax.get_title().splitlines()[0] for ax in fig.axes] == list(runs)
    assert fig.get_suptitle() == "Test features at epoch 4"
    assert plots.plot_epoch(runs, 0).get_suptitle() == "Test features at epoch 0"
    shorter = make_snapshots(epochs=4)
    with pytest.raises(ValueError, match="same epochs"):
        plots.plot_epoch({"a": make_snapshots(), "b": shorter}, 1)


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
    fig = animation._fig
    ax = fig.axes[0]
    assert fig.get_suptitle() == f"Test features at epoch {frames - 1}"  # last frame drawn
    assert ax.get_title().splitlines()[0] == "Test features"
    assert plots.UNITS in ax.get_xlabel()
    assert len(ax.collections) == 4 and len(fig.legends) == 1


def test_animate_two_runs_side_by_side_synchronised(tmp_path):
    runs = {"softmax only (λ=0)": make_snapshots(), "center loss (λ=0.1)": make_snapshots()}
    animation = plots.animate_features(runs, epochs=[0, 2, 9])
    fig = animation._fig
    suptitles, panel_titles = [], []
    for position in animation.new_frame_seq():
        animation._func(position)
        suptitles.append(fig.get_suptitle())
        panel_titles.append([ax.get_title().splitlines()[0] for ax in fig.axes])
    assert suptitles == [
        "Test features at epoch 0",
        "Test features at epoch 2",
        "Test features at epoch 9",
    ]
    assert all(titles == list(runs) for titles in panel_titles)
    path = plots.save_gif(animation, tmp_path / "both.gif")
    with Image.open(path) as gif:
        assert gif.n_frames == 3 and gif.size[0] > 1.8 * gif.size[1]  # two panels wide


def test_animation_html_shows_the_last_frame_without_javascript():
    animation = plots.animate_features(make_snapshots(epochs=3), class_names=NAMES)
    html = plots.animation_html(animation)
    # The player's frames, as matplotlib writes them (JS strings continued with "\").
    frames = [
        frame.replace("\\\n", "")
        for frame in re.findall(r'frames\[\d+\] = "(data:image/png;base64,[^"]*)"', html)
    ]
    assert len(frames) == 3
    image = re.search(r'<img id="_anim_img\w+" src="([^"]+)" alt="last frame">', html)
    assert image is not None and image.group(1) == frames[-1]
    # The scrubber sits at the last frame too, where the poster is.
    slider = re.search(r'<input id="_anim_slider\w+"[^>]*>', html, re.DOTALL).group(0)
    assert 'max="2"' in slider and 'value="2"' in slider
    with Image.open(io.BytesIO(base64.b64decode(frames[-1].split(",", 1)[1]))) as poster:
        assert poster.size[0] > 100  # a real picture
    assert html.count("<script") == animation.to_jshtml().count("<script")  # player unchanged


def test_widget_with_text_replaces_only_the_plain_text():
    class Widget:
        def _repr_mimebundle_(self, **kwargs):
            return {
                "application/vnd.jupyter.widget-view+json": {"model_id": "x"},
                "text/plain": "W()",
            }

    bundle = plots.widget_with_text(Widget(), "run the notebook to use the slider")
    assert bundle == {
        "application/vnd.jupyter.widget-view+json": {"model_id": "x"},
        "text/plain": "run the notebook to use the slider",
    }


def test_default_frames_are_capped_and_dense_early():
    positions = _frame_positions(make_snapshots(epochs=76), None)
    assert len(positions) == 12 and positions[0] == 0 and positions[-1] == 75  # the budget
    gaps = np.diff(positions)
    assert list(positions[:2]) == [0, 1] and gaps[0] < gaps[-1] / 4  # dense early
    assert list(_frame_positions(make_snapshots(epochs=5), None)) == [0, 1, 2, 3, 4]


def test_plot_softmax_weights_one_arrow_per_class():
    features, labels, centers = blobs()
    weights = centers.T  # [2, C]: w_j points at class j
    fig = plots.plot_softmax_weights({"softmax": (features, labels, centers, weights)})
    ax = fig.axes[0]
    arrows = [p for p in ax.patches if isinstance(p, FancyArrowPatch)]
    assert len(arrows) == 3
    for class_id, arrow in enumerate(arrows):
        (x0, y0), (x1, y1) = arrow._posA_posB
        assert (x0, y0) == (0.0, 0.0)
        direction = np.array([x1, y1]) / np.hypot(x1, y1)
        np.testing.assert_allclose(direction, centers[class_id] / 5.0, atol=1e-9)
        np.testing.assert_allclose(arrow.get_facecolor()[:3], plots.class_color(class_id)[:3])
    assert plots.UNITS in ax.get_xlabel() and fig.get_suptitle()
    # A FeatureSet carries the weights; one without them is refused by name.
    fig = plots.plot_softmax_weights(
        {"softmax": plots.FeatureSet(features, labels, weights=weights)}, title="Wedges"
    )
    assert fig.get_suptitle() == "Wedges" and len(fig.axes[0].patches) == 3
    with pytest.raises(ValueError, match=r"panels \['bare'\] have no weights"):
        plots.plot_softmax_weights({"bare": (features, labels, centers)})


def test_plot_intra_class_distances_mean_is_the_spread_ratio():
    from centerloss.metrics import spread_ratio

    runs = {"wide": blobs(spread=3.0), "tight": blobs(spread=0.5, seed=1)}
    fig = plots.plot_intra_class_distances(runs)
    ax = fig.axes[0]
    assert len(ax.patches) == 2 and len(ax.lines) == 2  # a histogram and a mean line per run
    for line, (features, labels, _) in zip(ax.lines, runs.values(), strict=True):
        assert line.get_xdata()[0] == pytest.approx(spread_ratio(features, labels))
    assert legend_texts(ax.get_legend())[0] == "wide"
    assert plots.UNITS in ax.get_xlabel()
    assert_labelled(ax)


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
    assert fig.get_suptitle() == "Training curves"
    titled = plots.plot_history(history, keys=("accuracy",), title="Training curves: λ=0.1")
    assert titled.get_suptitle() == "Training curves: λ=0.1"
    with pytest.raises(ValueError, match=r"history has no \['center_loss'\]"):
        plots.plot_history({"softmax_loss": [1.0]}, keys=("softmax_loss", "center_loss"))


# --- The angular view ---------------------------------------------------------


def _circle_features(rng, per_class=200, width_degrees=20.0, zeros=0):
    """10 classes 36° apart, angles uniform within ±width/2, lengths 0.5-5; ``zeros``
    all-zero features appended to class 0."""
    labels = np.repeat(np.arange(10), per_class)
    offsets = rng.uniform(-width_degrees / 2, width_degrees / 2, len(labels))
    angles = np.radians(36.0 * labels + offsets)
    lengths = rng.uniform(0.5, 5.0, len(labels))
    features = lengths[:, None] * np.stack([np.cos(angles), np.sin(angles)], axis=1)
    features = np.concatenate([features, np.zeros((zeros, 2))])
    return features, np.concatenate([labels, np.zeros(zeros, int)])


def test_class_arcs_cover_the_middle_of_each_class():
    from centerloss.metrics import class_arcs

    features, labels = _circle_features(np.random.default_rng(0))
    arcs = class_arcs(features, labels, coverage=0.9)
    for class_id, (start, end) in arcs.items():
        middle = np.degrees((start + end) / 2)
        assert abs((middle - 36.0 * class_id + 180) % 360 - 180) < 1.0  # around its direction
        assert np.degrees(end - start) == pytest.approx(18.0, abs=1.0)  # 90 % of ±10°
    # across the ±180° seam: class 5 sits at 180°
    assert -math.pi < arcs[5][0] <= math.pi and arcs[5][1] > math.pi


def test_angular_view_draws_rays_and_arcs_outside_the_dots():
    features, labels = _circle_features(np.random.default_rng(1), zeros=5)
    directions = np.stack(
        [np.cos(np.radians(36.0 * np.arange(10))), np.sin(np.radians(36.0 * np.arange(10)))]
    )
    fig = plots.plot_angular_grid(
        {"with rays": (features, labels, None, directions), "without": (features, labels)},
        title="angular",
    )
    with_rays, without = fig.axes[:2]
    assert with_rays.get_title() == "with rays" and fig.get_suptitle() == "angular"
    bands = [line for line in with_rays.get_lines() if line.get_linewidth() >= 5]
    rays = [line for line in with_rays.get_lines() if line.get_linestyle() == "--"]
    assert len(bands) == 10 and len(rays) == 10
    assert not [line for line in without.get_lines() if line.get_linestyle() == "--"]
    dots = np.concatenate([np.hypot(*c.get_offsets().T) for c in with_rays.collections])
    assert dots.max() <= 1.0 and min(np.hypot(*b.get_data()).min() for b in bands) > 1.0
    assert (dots == 0).sum() == 5  # the zero features, at the origin
    plt.close(fig)
