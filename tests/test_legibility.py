"""Can a student see the clusters? Hidden points and cluster sizes, measured on drawn figures.

The demo's figures are measured on its own test features (seed 0, the committed
default): ``tests/data/demo_seed0_test_features.npz`` holds both runs' 1,000
recorded test features and centers at every epoch the demo draws (the
animation's 12 frames and the epoch grid's 6), written from
``python3 -m centerloss demo`` (float16 features: plotting needs no more).
"""

from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from centerloss import legibility, plots  # noqa: E402
from centerloss.recipe import run_label  # noqa: E402
from centerloss.snapshots import Snapshots  # noqa: E402

DEMO = Path(__file__).parent / "data" / "demo_seed0_test_features.npz"
DESIGN_HIDDEN = 0.05  # what the marker is designed to stay under, so that 10 % holds anywhere
MIN_SPAN = 15.0  # points on screen: the core of a center-loss cluster must be visible
NAMES = [str(digit) for digit in range(10)]


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def demo_runs():
    """{run label: Snapshots} of the demo's two runs at the epochs its figures draw."""
    with np.load(DEMO) as stored:
        arrays = dict(stored)
    runs = {}
    for key, lambda_ in (("softmax", 0.0), ("center_loss", 0.1)):
        features = arrays[f"{key}_features"].astype(np.float32)
        runs[run_label(lambda_)] = Snapshots(
            epochs=arrays["epochs"],
            train_features=features,
            train_labels=arrays["test_labels"],
            test_features=features,
            test_labels=arrays["test_labels"],
            centers=arrays[f"{key}_centers"],
            history={},
            class_names=NAMES,
        )
    return runs


def comparison(runs):
    """The demo's comparison.png: each run's last recorded test features and centers."""
    return plots.plot_comparison(
        {label: r.at(-1) for label, r in runs.items()},
        class_names=NAMES,
    )


def measured(fig):
    """{panel name: hidden shares [C]} of every feature panel of a drawn figure."""
    fig.canvas.draw()
    return {
        f"{ax.get_title().splitlines()[0]} #{number}": legibility.hidden_shares(ax)
        for number, ax in enumerate(legibility.feature_panels(fig))
    }


def one_panel(points, labels, centers, **center_style):
    """A 4 × 4 inch panel whose axes fill the figure: 1 data unit = 288 points = 4 dpi px."""
    fig = plt.figure(figsize=(4, 4), dpi=100)
    ax = fig.add_axes((0, 0, 1, 1), xlim=(0, 1), ylim=(0, 1))
    for class_id in np.unique(labels):
        ax.scatter(*points[labels == class_id].T, s=6, label=str(class_id))
    ax.scatter(*np.asarray(centers).T, label=legibility.CENTERS_LABEL, **center_style)
    fig.canvas.draw()
    return ax


def covered_share_by_grid(points_px, dot_radius, covered):
    """Reference: per point, the share of a fine grid over its dot where ``covered(xy)``."""
    steps = np.linspace(-1, 1, 41)
    grid = np.stack(np.meshgrid(steps, steps), axis=-1).reshape(-1, 2)
    grid = grid[np.linalg.norm(grid, axis=1) <= 1] * dot_radius  # [K, 2] px
    return np.array([covered(point + grid).mean() for point in points_px])


def test_hidden_shares_count_the_dots_half_covered_by_the_marker():
    """Markers of known size: a ring covers its stroke only, a filled dot its whole disc,
    and a dot is hidden once half of it is under the marker (a fine-grid reference)."""
    rng = np.random.default_rng(0)
    center = np.array([0.5, 0.5])
    points = center + rng.uniform(-0.03, 0.03, size=(2000, 2))
    labels = np.zeros(len(points), int)
    to_px = 100 / 72  # the panels are drawn at 100 dpi
    dot = np.sqrt(6) / 2 * to_px  # s=6 points² dots
    offsets = (points - center) * 400  # px from the center: 1 unit = 400 px
    radius, half_line = np.sqrt(100) / 2 * to_px, 3.0 / 2 * to_px  # s=100 pt², lw=3 pt

    def under_stroke(xy):
        return np.abs(np.linalg.norm(xy, axis=1) - radius) <= half_line

    def under_face(xy):
        return np.linalg.norm(xy, axis=1) <= radius + half_line

    for face, covered in (("none", under_stroke), ("red", under_face)):
        ax = one_panel(points, labels, [center], s=100, facecolors=face, linewidths=3)
        expected = np.mean(covered_share_by_grid(offsets, dot, covered) >= 0.5)
        assert legibility.hidden_shares(ax)[0] == pytest.approx(expected, abs=0.01)
        assert 0.1 < expected < 0.9  # the count is not trivially all or nothing


def test_a_stroke_thinner_than_a_dot_hides_none_and_a_thick_one_does():
    """Points strewn over a ring's stroke: a 0.8-point stroke leaves every 2.4-point dot half
    in view; a 3-point stroke hides the dots along it; a filled marker hides them all."""
    angle = np.linspace(0, 2 * np.pi, 200, endpoint=False)
    radius = np.sqrt(100) / 2 / 288  # the marker's radius, data units (1 unit = 288 points)
    points = 0.5 + radius * np.c_[np.cos(angle), np.sin(angle)]
    labels = np.zeros(len(points), int)
    thin = one_panel(points, labels, [[0.5, 0.5]], s=100, facecolors="none", linewidths=0.8)
    assert legibility.hidden_shares(thin)[0] == 0
    thick = one_panel(points, labels, [[0.5, 0.5]], s=100, facecolors="none", linewidths=3)
    assert legibility.hidden_shares(thick)[0] == 1
    inside = 0.5 + 0.5 * (points - 0.5)  # half way in: inside the ring, off its stroke
    filled = one_panel(inside, labels, [[0.5, 0.5]], s=100, facecolors="red", linewidths=0)
    assert legibility.hidden_shares(filled)[0] == 1
    hollow = one_panel(inside, labels, [[0.5, 0.5]], s=100, facecolors="none", linewidths=3)
    assert legibility.hidden_shares(hollow)[0] == 0


def test_another_class_center_on_a_cluster_hides_it_too():
    """A big filled marker of class 1 on class 0's cluster: class 0's points count as hidden."""
    rng = np.random.default_rng(2)
    points = np.r_[0.3 + rng.normal(0, 0.005, (100, 2)), 0.7 + rng.normal(0, 0.005, (100, 2))]
    labels = np.repeat([0, 1], 100)
    ax = one_panel(points, labels, [[0.7, 0.7], [0.3, 0.3]], s=900, facecolors="red")
    assert legibility.hidden_shares(ax).min() > 0.9


def test_the_center_marker_is_wide_enough_at_every_resolution_the_lessons_use():
    """At least 8 screen pixels across at 100 % zoom: notebook figures (100 dpi), the live
    plot (80 dpi) and the animation frames (68 dpi)."""
    features, labels = np.random.default_rng(1).normal(size=(30, 2)), np.arange(30) % 3
    fig = plots.plot_features(features, labels, centers=np.zeros((3, 2)))
    for dpi in (68, 80, 100):
        fig.set_dpi(dpi)
        fig.canvas.draw()
        widths = legibility.marker_widths(fig.axes[0])
        assert widths.min() >= 8, (dpi, widths)
        assert widths == pytest.approx(plots.CENTER_WIDTH * dpi / 72, rel=0.15)


def test_cluster_spans_are_in_points():
    """90 % of 100 points on a line nearest the center, 0.1 data units = 28.8 points long."""
    line = np.c_[np.linspace(0.4, 0.6, 101), np.full(101, 0.5)]
    ax = one_panel(line, np.zeros(101, int), [[0.5, 0.5]], s=4)
    assert legibility.cluster_spans(ax)[0] == pytest.approx(0.9 * 0.2 * 288, rel=0.02)
    ax.figure.set_dpi(200)  # points do not depend on the resolution
    ax.figure.canvas.draw()
    assert legibility.cluster_spans(ax)[0] == pytest.approx(0.9 * 0.2 * 288, rel=0.02)


def test_panels_are_found_and_mismatches_refused():
    features, labels = np.random.default_rng(1).normal(size=(30, 2)), np.arange(30) % 3
    fig = plots.plot_features(features, labels, centers=np.zeros((3, 2)))
    assert legibility.feature_panels(fig) == fig.axes[:1]
    assert legibility.feature_panels(plots.plot_features(features, labels)) == []
    fig = plots.plot_features(features, labels, centers=np.zeros((4, 2)))
    with pytest.raises(ValueError, match="3 classes but 4 centers"):
        legibility.hidden_shares(fig.axes[0])


def test_demo_comparison_hides_few_points_and_shows_the_clusters():
    runs = demo_runs()
    fig = comparison(runs)
    for panel, shares in measured(fig).items():
        assert shares.max() <= DESIGN_HIDDEN, (panel, shares.round(3))
    assert legibility.worst_hidden_share(fig) == max(s.max() for s in measured(fig).values())
    # At the saved size (points do not depend on the dpi), the center-loss run's
    # class cores are large enough to see their shape.
    center_loss = legibility.feature_panels(fig)[1]
    assert center_loss.get_title().startswith(run_label(0.1))
    spans = legibility.cluster_spans(center_loss)
    assert spans.min() >= MIN_SPAN, spans.round(1)


def test_demo_epoch_grid_and_every_animation_frame_hide_few_points():
    runs = demo_runs()
    for panel, shares in measured(plots.plot_epoch_grid(runs, class_names=NAMES)).items():
        assert shares.max() <= DESIGN_HIDDEN, ("epochs.png", panel, shares.round(3))
    animation = plots.animate_features(runs, class_names=NAMES, epochs=runs[run_label(0)].epochs)
    for position in animation.new_frame_seq():
        animation._func(position)
        for panel, shares in measured(animation._fig).items():
            assert shares.max() <= DESIGN_HIDDEN, (f"frame {position}", panel, shares.round(3))
    animation._draw_was_started = True  # drawn by hand above: no "never rendered" warning
