"""Figures of deep features, class centers and training curves (matplotlib).

Every figure colours class j with tab10 colour j (mod 10), draws class centers
as black crosshairs on top of the features, and names classes in a legend, so a
class looks the same in every figure of a notebook. A crosshair is an × of four
thin ticks round an open middle: large enough to find at a glance, while the
points at the center and between the ticks stay in view
(:func:`centerloss.legibility.hidden_shares` measures what it covers). Functions
return the Figure (``animate_features`` returns the Animation) and never call
``plt.show()``; they work under the non-interactive Agg backend.

Feature plots need 2-D features (a bottleneck of width d=2, as in the paper's
MNIST figures). For wider features, project them to 2-D first, e.g. with
``sklearn.manifold.TSNE``; centers cannot be projected that way.

Units. Softmax alone lets features grow without bound (a hundred feature units
after training) while center loss keeps them near the origin (about ten), so
on raw shared axes one run is a dot and on separate axes sizes cannot be
compared. Every figure that compares runs or epochs therefore draws each run's
features *in units of its own inter-class separation*: divided by the mean
distance between its class means (:func:`in_separation_units`), so that
distance is 1 in every panel. Scaling only, no shift: the origin, where the
centers start and the softmax wedges meet, stays where it is. Cluster sizes
relative to the gaps between classes, which is what center loss changes, then
compare across panels. Each panel fits its own data (square limits around its
features and centers), so a compact run's clusters fill its panel instead of
a few points of axes stretched by another run's long tails; the tick labels
give each panel's extent in the same unit. The axis labels say
"units of mean class distance" and each panel title says how many feature
units one such unit is.
"""

from __future__ import annotations

import base64
import html
import itertools
import math
import os
import re
from dataclasses import dataclass
from pathlib import Path

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.animation import FuncAnimation, PillowWriter
from matplotlib.lines import Line2D
from matplotlib.patches import FancyArrowPatch
from matplotlib.path import Path as MarkerPath
from matplotlib.ticker import MaxNLocator

from centerloss.files import atomic_output, with_suffix
from centerloss.metrics import class_means, inter_class_separation
from centerloss.snapshots import Snapshots

CENTER_MARKER = MarkerPath(
    [(x * r, y * r) for x, y in ((1, 1), (1, -1), (-1, -1), (-1, 1)) for r in (0.5, 1)],
    [MarkerPath.MOVETO, MarkerPath.LINETO] * 4,
)
"""The center marker: an × of four diagonal ticks round an open middle."""
_POINT_SIZE = 6  # points²: small, so a thousand points per class stay legible
_POINT_ALPHA = 0.5  # overlapping classes stay visible through each other
# Centers: black crosshairs drawn on top. 12 points across, so over 8 screen
# pixels at every resolution the lessons show (68 dpi animation frames and up);
# four ticks round an open middle (half the width), so the densest part of a
# cluster, round its center, stays in view, and 0.8 points thick, a third of a
# point's dot (2.4 points), so a dot under a tick still shows on both sides of it
# (legibility.hidden_shares measures what the ticks cover). The ticks are
# diagonal: early in training a 2-D bottleneck often puts a whole class on a
# line along one axis (one feature near 0), and an upright + would lie on it.
CENTER_WIDTH = 12.0  # points (1/72 inch) across
_CENTER_STYLE = dict(
    marker=CENTER_MARKER,
    s=CENTER_WIDTH**2,
    facecolors="none",
    edgecolors="black",
    linewidths=0.8,
    zorder=3,
)
_END_MARKER = "o"  # where a center trajectory ends
_START_MARKER = "s"  # where a center trajectory starts
_PANEL_INCHES = 3.6
# The side-by-side headline: large enough that a trained center-loss cluster
# spans well over 15 points on screen.
_COMPARISON_INCHES = 5.0
_GRID_INCHES = 4.2  # a panel of the epoch and λ grids, its title and ticks included
_GRID_EPOCHS = 6  # default number of epochs of plot_epoch_grid
_GRID_COLUMNS = 2  # panels per row: a notebook shows them without shrinking the type
_MAX_FRAMES = 12  # default frame budget of animate_features: GIF and notebook stay small
ANIMATION_DPI = 68  # 12 two-panel frames and a poster: a ~1.5 MB player (lesson 03 < 3 MB)
UNITS = "units of mean class distance"  # axis unit of normalised figures
FEATURE_UNITS = "feature units"
# Lines of runs (not classes) in figures without class colours.
_RUN_COLORS = ("dimgray", "darkviolet", "goldenrod", "teal")


def class_color(class_id: int) -> tuple[float, float, float, float]:
    """The RGBA colour of class ``class_id`` in every figure (tab10, cycling after 10)."""
    return matplotlib.colormaps["tab10"](int(class_id) % 10)


def plot_features(
    features,
    labels,
    centers=None,
    ax=None,
    title=None,
    class_names=None,
    max_points=None,
    lims=None,
):
    """Scatter 2-D features coloured by class, with the class centers marked.

    Args:
      features: float array [N, 2].
      labels: integer class ids [N].
      centers: optional float array [C, 2]; row j is drawn in class j's colour.
      ax: Axes to draw into; a new figure when None.
      title: panel title; default "Deep features by class".
      class_names: names indexed by class id; default the ids.
      max_points: draw at most this many samples, a seeded (reproducible)
        random subset, to keep large sets readable and fast.
      lims: fixed ((xmin, xmax), (ymin, ymax)), e.g. from :func:`feature_limits`.

    Returns:
      The Figure.

    Raises:
      ValueError: if the features are not 2-D points (d != 2).
    """
    features, labels = np.asarray(features), np.asarray(labels)
    if max_points is not None and len(labels) > max_points:
        keep = np.sort(np.random.default_rng(0).choice(len(labels), max_points, replace=False))
        features, labels = features[keep], labels[keep]
    fig, ax = _figure_and_axes(ax)
    _draw_features(
        ax, features, labels, centers, class_names, lims, title or "Deep features by class"
    )
    ax.legend(
        handles=_legend_handles(np.unique(labels), class_names, centers is not None),
        loc="center left",
        bbox_to_anchor=(1.02, 0.5),
        title="class",
    )
    return fig


def in_separation_units(features, labels, centers=None):
    """Features (and centers) divided by the mean distance between class means.

    The scale of :func:`plot_comparison`, :func:`plot_epoch_grid` and
    :func:`animate_features`: after it, the mean distance between the class
    means of ``features`` is 1, whatever the run's feature magnitude. Scaling
    only (no shift), so the origin stays put.

    Args:
      features: float array [N, 2] (any width d works).
      labels: integer class ids [N]; at least 2 classes with distinct means.
      centers: optional float array [C, d], scaled by the same factor.

    Returns:
      (features / s [N, d], centers / s [C, d] or None, s), where s is
      :func:`centerloss.metrics.inter_class_separation` in feature units.

    Raises:
      ValueError: if all class means coincide (s = 0): there is no unit.
    """
    scale = inter_class_separation(features, labels)
    if not scale > 0:
        raise ValueError(
            "All class means coincide (mean distance between them is 0), so the features "
            "cannot be drawn in units of it; plot them with plot_features instead."
        )
    features = np.asarray(features, dtype=np.float64) / scale
    if centers is not None:
        centers = np.asarray(centers, dtype=np.float64) / scale
    return features, centers, scale


def plot_comparison(
    runs,
    suptitle="The same images' features after different training",
    class_names=None,
    share_axes=False,
    normalize=True,
):
    """Side-by-side feature scatters of several runs, each in its own separation units.

    Args:
      runs: dict mapping a panel title (e.g. "softmax + center loss (λ=0.1)")
        to (features [N, 2], labels [N], centers [C, 2] or None).
      suptitle: title of the whole figure.
      class_names: names indexed by class id; default the ids.
      share_axes: same x and y limits in every panel; False (default) lets
        each panel fit its own data, so a compact run's clusters are not
        squeezed by another run's long tails.
      normalize: divide each run's features and centers by that run's mean
        distance between class means (:func:`in_separation_units`), so cluster
        shapes *and* sizes compare across runs; each panel title gives the
        factor. False draws raw feature units (then shared axes shrink a
        small-featured run to a dot).

    Returns:
      The Figure, one panel per run and one legend for all.
    """
    if not runs:
        raise ValueError("runs must map at least one panel title to (features, labels, centers).")
    panels = {}
    for name, (features, labels, centers) in runs.items():
        if normalize:
            features, centers, scale = in_separation_units(features, labels, centers)
            name = f"{name}\n{_scale_note(scale)}"
        panels[name] = (features, labels, centers)
    # Square limits, like the animation's frames: equal-aspect panels fill their space.
    shared = _own_limits([run[::2] for run in panels.values()]) if share_axes else None
    fig, axes = plt.subplots(
        1,
        len(panels),
        sharex=share_axes,
        sharey=share_axes,
        squeeze=False,
        figsize=(_COMPARISON_INCHES * len(panels) + 1.5, _COMPARISON_INCHES + 0.8),
        layout="constrained",
    )
    units = UNITS if normalize else None
    for ax, (name, (features, labels, centers)) in zip(axes[0], panels.items(), strict=True):
        lims = shared or _own_limits([(features, centers)])
        _draw_features(ax, features, labels, centers, class_names, lims, name, units=units)
        if share_axes:
            ax.label_outer()
    all_labels = np.concatenate([np.asarray(labels) for _, labels, _ in panels.values()])
    with_centers = any(centers is not None for _, _, centers in panels.values())
    _figure_legend(fig, np.unique(all_labels), class_names, with_centers)
    fig.suptitle(suptitle)
    return fig


def feature_limits(snapshots_or_arrays, margin=0.05):
    """Axis limits that fit every point given, for figures whose axes must not jump.

    Args:
      snapshots_or_arrays: a :class:`Snapshots` (its train and test features
        and centers at all epochs), a numpy array of 2-D points [..., 2] (e.g.
        [E, n, 2]), or a list/tuple of these (several runs); None items are skipped.
      margin: extra room on each side, as a fraction of the data's range.

    Returns:
      ((xmin, xmax), (ymin, ymax)) as floats.
    """
    point_sets = _point_sets(snapshots_or_arrays)
    if not point_sets:
        raise ValueError("feature_limits needs at least one array of points; got none.")
    points = np.concatenate([array.reshape(-1, 2) for array in point_sets])
    low, high = points.min(axis=0), points.max(axis=0)
    # A zero range (e.g. all centers still at their initial zeros) gets unit room.
    pad = margin * np.where(high > low, high - low, 1.0)
    return tuple((float(lo), float(hi)) for lo, hi in zip(low - pad, high + pad, strict=True))


def plot_center_trajectories(
    snapshots: Snapshots, ax=None, class_names=None, normalize=False, time_unit="epoch"
):
    """Path of each class center over the recorded epochs (or update steps).

    Args:
      snapshots: the record; its ``centers`` [E, C, 2] are drawn.
      ax: Axes to draw into; a new figure when None.
      class_names: names indexed by class id; default ``snapshots.class_names``.
      normalize: draw in units of the mean distance between the class means
        of the last recorded epoch's test features (one factor for every
        epoch, so the paths keep their shape), to compare runs side by side.
      time_unit: what ``snapshots.epochs`` counts, for the title and legend:
        "epoch", or e.g. "step" when a center was recorded after every update.

    Returns:
      The Figure: one line per class from a start marker (square, first
      record) to an end marker (a dot, last record).
    """
    paths = _as_points(snapshots.centers, "centers")  # [E, C, 2]
    first, last = snapshots.epochs[0], snapshots.epochs[-1]
    title = f"Class centers moving, {time_unit}s {first} to {last}"
    units = None
    if normalize:
        _, _, scale = in_separation_units(snapshots.test_features[-1], snapshots.test_labels)
        paths, units = paths / scale, UNITS
        title += f"\n{_scale_note(scale)} ({time_unit} {last})"
    names = class_names or snapshots.class_names
    colors = [class_color(class_id) for class_id in range(paths.shape[1])]
    fig, ax = _figure_and_axes(ax)
    lines = [
        ax.plot(
            paths[:, class_id, 0],
            paths[:, class_id, 1],
            color=color,
            label=_class_name(class_id, names),
        )[0]
        for class_id, color in enumerate(colors)
    ]
    for marker, position in ((_START_MARKER, 0), (_END_MARKER, -1)):
        ax.scatter(
            paths[position, :, 0],
            paths[position, :, 1],
            marker=marker,
            s=40,
            c=colors,
            edgecolors="black",
            zorder=3,
        )
    markers = [
        _marker_handle(_START_MARKER, f"start ({time_unit} {first})"),
        _marker_handle(_END_MARKER, f"end ({time_unit} {last})"),
    ]
    ax.legend(
        handles=lines + markers, loc="center left", bbox_to_anchor=(1.02, 0.5), title="class center"
    )
    ax.set(title=title, xlabel=_axis_label(1, units), ylabel=_axis_label(2, units))
    return fig


def plot_epoch_grid(
    snapshots,
    epochs=None,
    split="test",
    ncols=None,
    class_names=None,
    title=None,
    normalize=True,
):
    """Small multiples of the features at selected epochs, one column block per run.

    Each panel is in units of its own epoch's mean class distance (see the
    module docstring) and fits its own data; each panel title gives its scale.

    Args:
      snapshots: a :class:`Snapshots`, or a dict {run label: Snapshots} of
        runs recorded at the same epochs (side by side, one labelled block
        each, so a row compares the runs at one epoch).
      epochs: epoch numbers to show (values of ``snapshots.epochs``); default
        6 spread out, first and last included.
      split: "train" or "test" subset.
      ncols: panels per row of each run's block; default 2 for one run and 1
        for several, so a notebook shows the figure without shrinking it.
      class_names: names indexed by class id; default the record's.
      title: figure title; default "<Split> features during training".
      normalize: False draws raw feature units.

    Returns:
      The Figure, one panel titled "epoch k ..." per selected epoch and run,
      and one legend.
    """
    runs = _as_runs(snapshots)
    record = next(iter(runs.values()))
    names = class_names or record.class_names
    positions = _epoch_positions(record, epochs, count=_GRID_EPOCHS)
    frames = _frames(runs, split, normalize)
    ncols = min(ncols or (_GRID_COLUMNS if len(runs) == 1 else 1), len(positions))
    rows_per_run = math.ceil(len(positions) / ncols)
    fig = plt.figure(
        layout="constrained",
        figsize=(_GRID_INCHES * ncols * len(runs) + 1.5, _GRID_INCHES * rows_per_run + 0.9),
    )
    subfigures = np.atleast_1d(fig.subfigures(1, len(runs)))
    for subfigure, (label, frame) in zip(subfigures, frames.items(), strict=True):
        axes = subfigure.subplots(rows_per_run, ncols, squeeze=False)
        for ax, position in zip(axes.flat, positions, strict=False):
            _draw_frame(ax, frame, position, names, f"epoch {record.epochs[position]}")
            ax.set(xlabel="", ylabel="")  # one label per figure axis instead (below)
        for unused in axes.flat[len(positions) :]:
            unused.remove()
        if label is not None:
            subfigure.suptitle(label, fontweight="bold")
    units = UNITS if normalize else None
    fig.supxlabel(_axis_label(1, units))
    fig.supylabel(_axis_label(2, units))
    _figure_legend(fig, np.unique(record.split(split)[1]), names, with_centers=True)
    fig.suptitle(title or f"{split.capitalize()} features during training")
    return fig


def plot_epoch(snapshots, epoch, split="test", class_names=None, normalize=True):
    """One epoch of one or several runs side by side: a still of :func:`animate_features`.

    Same units and axis limits as the animation at that epoch (lesson 03's
    slider is built on it).

    Args:
      snapshots: a :class:`Snapshots`, or a dict {run label: Snapshots} of
        runs recorded at the same epochs.
      epoch: a recorded epoch number.
      split, class_names, normalize: as in :func:`animate_features`.

    Returns:
      The Figure, one panel per run and one legend.
    """
    runs = _as_runs(snapshots)
    record = next(iter(runs.values()))
    (position,) = _epoch_positions(record, [epoch])
    names = class_names or record.class_names
    fig, axes = _frame_figure(runs, split, names)
    frames = _frames(runs, split, normalize)
    _draw_frames(fig, axes, frames, position, epoch, split, names)
    return fig


def draw_epoch(
    ax,
    snapshots: Snapshots,
    epoch,
    split="test",
    class_names=None,
    normalize=True,
    title=None,
    legend=True,
):
    """Draw one run's features and centers at one epoch into ``ax``, with a legend.

    Units and limits as in :func:`animate_features` (the panel fits this
    epoch's features and centers). :class:`centerloss.live.LiveFeaturePlot`
    redraws its figure with this after every epoch.

    Args:
      ax: the Axes to draw into (cleared first by the caller if needed).
      snapshots: the record; ``epoch`` must be one of its epochs.
      split, class_names, normalize: as in :func:`animate_features`.
      title: the title's first line; default "Test features at epoch k".
      legend: draw the class legend right of the panel (False: a figure of
        several panels draws it once).

    Returns:
      ``ax``, titled ``title`` and the scale of its units.
    """
    names = class_names or snapshots.class_names
    (position,) = _epoch_positions(snapshots, [epoch])
    frame = _frames({None: snapshots}, split, normalize)[None]
    title = title or f"{split.capitalize()} features at epoch {epoch}"
    _draw_frame(ax, frame, position, names, title)
    if not legend:
        return ax
    ax.legend(
        handles=_legend_handles(np.unique(frame.labels), names, with_centers=True),
        loc="center left",
        bbox_to_anchor=(1.02, 0.5),
        title="class",
    )
    return ax


def animate_features(
    snapshots, split="test", interval=300, class_names=None, epochs=None, normalize=True
):
    """Animation of the features and centers of one or several runs, epoch by epoch.

    Several runs play side by side, synchronised: every frame shows the same
    epoch in every panel. Each panel is in units of its epoch's mean class
    distance (module docstring) and fits that epoch's features and centers,
    so clusters stay readable while the features grow and tighten: the tick
    labels follow, and each panel title gives its scale. The figure is closed before returning, so a
    notebook does not also display a stray static copy; the animation still
    renders. In a notebook show it with
    ``IPython.display.HTML(animation.to_jshtml())``, or write it with
    :func:`save_gif`.

    Args:
      snapshots: a :class:`Snapshots`, or a dict {run label: Snapshots} of
        runs recorded at the same epochs (e.g. λ = 0 and λ > 0).
      split: "train" or "test" subset.
      interval: milliseconds between frames when played.
      class_names: names indexed by class id; default the record's.
      epochs: epoch numbers to show; default every recorded epoch, or 12 of
        them, denser early (where most motion is), when more were recorded.
      normalize: False draws raw feature units.

    Returns:
      A ``matplotlib.animation.FuncAnimation``, one frame per selected epoch.
      Keep a reference to it until it has been rendered.
    """
    runs = _as_runs(snapshots)
    record = next(iter(runs.values()))
    names = class_names or record.class_names
    positions = _frame_positions(record, epochs)
    frames = _frames(runs, split, normalize)
    fig, axes = _frame_figure(runs, split, names)
    fig.set_dpi(ANIMATION_DPI)

    def draw_frame(position):
        _draw_frames(fig, axes, frames, position, record.epochs[position], split, names)

    # Lay the figure out once, on the last (trained) frame, then keep it:
    # re-running the constrained layout for every frame doubles the render time.
    draw_frame(positions[-1])
    fig.canvas.draw()
    fig.set_layout_engine("none")
    animation = FuncAnimation(fig, draw_frame, frames=positions, interval=interval)
    plt.close(fig)
    return animation


def plot_softmax_weights(
    runs,
    suptitle="Why softmax makes wedges: its weight vectors (arrows) and the features",
    class_names=None,
):
    """Features, centers and the softmax layer's weight vector of each class.

    The softmax layer scores class j as w_j · x + b_j, so the class whose
    weight vector points most along a feature wins: classes fill wedges
    around their w_j, and moving a feature further out along w_j only makes
    softmax more confident (the IJCV 2019 version of the paper draws this).
    Arrows start at the origin in class j's colour; a panel's arrows share one
    length factor (only directions and relative lengths matter), chosen so the
    longest reaches the features' 95th-percentile radius.

    Args:
      runs: dict mapping a panel title to (features [N, 2], labels [N],
        centers [C, 2] or None, weights [2, C]); ``weights`` is the softmax
        layer's kernel, column j = w_j (e.g.
        ``model.backbone.get_layer("logits").get_weights()[0]``).
      suptitle: title of the whole figure.
      class_names: names indexed by class id; default the ids.

    Returns:
      The Figure of :func:`plot_comparison` (units of mean class distance,
      each panel fitting its own data and arrows) with one arrow (a
      ``FancyArrowPatch``) per class added.
    """
    fig = plot_comparison(
        {name: run[:3] for name, run in runs.items()}, suptitle=suptitle, class_names=class_names
    )
    for ax, (features, labels, _, weights) in zip(fig.axes, runs.values(), strict=True):
        weights = _as_points(np.asarray(weights).T, "weights transposed")  # [C, 2], row j = w_j
        features, _, _ = in_separation_units(features, labels)
        reach = np.percentile(np.linalg.norm(features, axis=1), 95)
        tips = weights * reach / np.linalg.norm(weights, axis=1).max()
        lims = _square(feature_limits([tips, np.array([ax.get_xlim(), ax.get_ylim()]).T], 0.0))
        ax.set(xlim=lims[0], ylim=lims[1])  # the panel's data and its arrows
        for class_id, tip in enumerate(tips):
            ax.add_patch(
                FancyArrowPatch(
                    (0.0, 0.0),
                    tuple(tip),
                    arrowstyle="-|>",
                    mutation_scale=16,
                    linewidth=2.5,
                    color=class_color(class_id),
                    zorder=4,
                )
            )
    return fig


def plot_intra_class_distances(
    runs, bins=40, title="Distance of each feature to its own class mean", ax=None
):
    """Histograms of each sample's distance to its class mean, one per run, overlaid.

    Distances are in units of the run's own mean class distance, as in
    :func:`plot_comparison`, so the histogram's mean (dashed line, in the
    legend) is exactly the run's intra/inter ratio
    (:func:`centerloss.metrics.spread_ratio`). The class *mean* of the
    features, not the learned center, is the reference, because a
    softmax-only run's centers are not trained to sit among the features.

    Args:
      runs: dict mapping a run label to a tuple whose first two items are
        features [N, d] and labels [N] (the tuples of :func:`plot_comparison`
        work as they are).
      bins: number of bins, shared by all runs.
      title: axes title.
      ax: Axes to draw into; a new figure when None.

    Returns:
      The Figure: one filled step histogram (a patch) and one dashed mean line
      per run.
    """
    distances = {}
    for label, (features, labels, *_) in runs.items():
        features, _, _ = in_separation_units(features, labels)
        classes, means = class_means(features, labels)
        own_mean = means[np.searchsorted(classes, labels)]
        distances[label] = np.linalg.norm(features - own_mean, axis=1)
    edges = np.histogram_bin_edges(np.concatenate(list(distances.values())), bins=bins)
    fig, ax = _figure_and_axes(ax)
    for (label, values), color in zip(distances.items(), itertools.cycle(_RUN_COLORS)):
        ax.hist(values, bins=edges, histtype="stepfilled", alpha=0.35, color=color, label=label)
        ax.axvline(
            values.mean(),
            color=color,
            linestyle="--",
            linewidth=2,
            label=f"mean {values.mean():.3f} (intra/inter ratio)",
        )
    ax.set(
        title=title,
        xlabel=f"distance to own class mean ({UNITS})",
        ylabel="samples per bin",
    )
    ax.legend()
    return fig


def animation_html(animation) -> str:
    """The animation as matplotlib's JavaScript player that also reads without JavaScript.

    ``animation.to_jshtml()`` leaves the player's image empty until its script
    runs, so where scripts do not run (GitHub, a notebook opened in JupyterLab
    before it is run or trusted) it shows a broken image. Here the last frame
    (the trained state) is the image's initial picture, and the scrubber
    starts at the end to match; with JavaScript the player takes over as
    usual. Show it with ``IPython.display.HTML(...)``.

    Returns:
      The HTML, one frame larger than ``to_jshtml()``'s.
    """
    html = animation.to_jshtml()
    frames = re.findall(r'frames\[\d+\] = "(data:image/\w+;base64,[^"]*)"', html)
    player = re.search(r'<img id="_anim_img\w*"', html)
    if not frames or player is None:
        raise RuntimeError("matplotlib's to_jshtml() player has an unknown layout.")
    poster = frames[-1].replace("\\\n", "")  # the JS string continues lines with "\"
    html = f'{html[: player.end()]} src="{poster}" alt="last frame"{html[player.end() :]}'
    # The scrubber at the last frame too, where the poster is (the script moves both).
    last = len(frames) - 1
    return re.sub(
        r'(<input id="_anim_slider\w*"[^>]*?)max="1" step="1" value="0"',
        rf'\g<1>max="{last}" step="1" value="{last}"',
        html,
        count=1,
    )


def widget_with_text(widget, text: str, png: bytes | None = None) -> dict:
    """A display bundle of an ipywidgets ``widget`` whose plain-text fallback is ``text``.

    Where widgets cannot render (GitHub, a notebook not yet run) the notebook
    shows the text instead of the widget's repr. With ``png`` (PNG bytes),
    the fallback is the text above that picture (as HTML, which GitHub and an
    untrusted notebook in JupyterLab show). Show the bundle with
    ``IPython.display.display(bundle, raw=True)``, or return it from a
    ``_repr_mimebundle_``.
    """
    bundle = {**widget._repr_mimebundle_(), "text/plain": text}
    if png is not None:
        picture = base64.b64encode(png).decode("ascii")
        bundle["text/html"] = (
            f"<p>{html.escape(text)}</p>"
            f'<img src="data:image/png;base64,{picture}" alt="{html.escape(text)}">'
        )
    return bundle


def save_gif(animation, path: str | os.PathLike, fps: int = 4, dpi: int = 72) -> Path:
    """Write an animation as a GIF, atomically.

    Args:
      animation: e.g. from :func:`animate_features`.
      path: file name; ".gif" is appended when it has another suffix.
      fps: frames per second.
      dpi: pixels per inch; 72 keeps a 20-frame side-by-side GIF under 1 MB.

    Returns:
      The path written. A crash mid-write leaves any earlier file intact.
    """
    path = with_suffix(path, ".gif")
    with atomic_output(path) as temporary:
        animation.save(temporary, writer=PillowWriter(fps=fps), dpi=dpi)
    return path


def plot_metric_curves(xs, metrics, xlabel, title, ax=None, ylabel=None):
    """Curves of metrics against a parameter, e.g. feature metrics against λ.

    Args:
      xs: parameter values [P].
      metrics: dict mapping a metric name to its P values.
      xlabel, title: axis label and title.
      ax: Axes to draw into; a new figure when None.
      ylabel: y axis label; default the metric's name when there is one
        metric, else "value".

    Returns:
      The Figure. For λ values spread over decades, including 0, follow with
      ``fig.axes[0].set_xscale("symlog", linthresh=smallest_nonzero_lambda)``.
    """
    fig, ax = _figure_and_axes(ax)
    for name, values in metrics.items():
        if len(values) != len(xs):
            raise ValueError(
                f"metrics[{name!r}] must have one value per x ({len(xs)}); got {len(values)}."
            )
        ax.plot(xs, values, marker="o", label=name)
    if ylabel is None:
        ylabel = next(iter(metrics)) if len(metrics) == 1 else "value"
    ax.set(xlabel=xlabel, ylabel=ylabel, title=title)
    ax.grid(alpha=0.3)
    ax.legend()
    return fig


def plot_history(history, keys=("softmax_loss", "center_loss", "accuracy")):
    """Per-epoch training curves, train and validation, one panel per metric.

    Args:
      history: ``History.history`` (dict of metric name to per-epoch values),
        the ``History`` object ``fit`` returns, or ``Snapshots.history``.
      keys: metrics to plot; ``val_<key>`` is added to its panel when present.

    Returns:
      The Figure.
    """
    history = getattr(history, "history", history)
    missing = [key for key in keys if key not in history]
    if missing:
        raise ValueError(
            f"history has no {missing}; it has {sorted(history)}. Pick keys from those."
        )
    fig, axes = plt.subplots(
        1,
        len(keys),
        squeeze=False,
        layout="constrained",
        figsize=(_PANEL_INCHES * len(keys), _PANEL_INCHES),
    )
    for ax, key in zip(axes[0], keys, strict=True):
        curves = {"train": history[key]}
        if f"val_{key}" in history:
            curves["validation"] = history[f"val_{key}"]
        epochs = np.arange(1, len(history[key]) + 1)
        plot_metric_curves(epochs, curves, xlabel="epoch", title=key, ax=ax, ylabel=key)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))  # no "epoch 1.5"
    fig.suptitle("Training curves")
    return fig


# --------------------------------------------------------------------------
# Shared drawing helpers
# --------------------------------------------------------------------------


def _draw_features(ax, features, labels, centers, class_names, lims, title, units=None):
    """Scatter features [N, 2] with one collection per class, then centers [C, 2] as one."""
    features = _as_points(features, "features")
    labels = np.asarray(labels)
    if labels.shape != features.shape[:1]:
        raise ValueError(
            f"labels must have shape [N] = ({len(features)},) like the features; "
            f"got shape {labels.shape}."
        )
    for class_id in np.unique(labels):
        points = features[labels == class_id]
        ax.scatter(
            points[:, 0],
            points[:, 1],
            s=_POINT_SIZE,
            alpha=_POINT_ALPHA,
            color=class_color(class_id),
            linewidths=0,
            label=_class_name(class_id, class_names),
        )
    if centers is not None:
        centers = _as_points(centers, "centers")
        # Drawn last and on top, so no point hides a center.
        ax.scatter(
            centers[:, 0],
            centers[:, 1],
            label="class centers",
            **_CENTER_STYLE,
        )
    if lims is not None:
        ax.set(xlim=lims[0], ylim=lims[1])
    # Equal scales on both axes: a round cluster must look round. A panel without
    # given limits widens its data limits instead of shrinking its box, so panels
    # that each fit their own data stay the same size side by side.
    ax.set_aspect("equal", adjustable="box" if lims is not None else "datalim")
    ax.set(xlabel=_axis_label(1, units), ylabel=_axis_label(2, units), title=title)


def _axis_label(axis, units):
    """ "feature 1", or "feature 1 (units of ...)" for normalised figures."""
    return f"feature {axis}" if units is None else f"feature {axis} ({units})"


def _scale_note(scale):
    """How many feature units one drawn unit is, for a panel title."""
    return f"1 unit = {scale:.3g} {FEATURE_UNITS}"


def _legend_handles(class_ids, class_names, with_centers):
    """Legend entries: one dot per class (bigger than the points) and the center marker."""
    handles = [
        Line2D(
            [],
            [],
            linestyle="none",
            marker="o",
            markersize=7,
            color=class_color(class_id),
            label=_class_name(class_id, class_names),
        )
        for class_id in class_ids
    ]
    if with_centers:
        handles.append(_center_handle("class center"))
    return handles


def _center_handle(label):
    """The legend entry of the center crosshairs, drawn as in the panels."""
    return Line2D(
        [],
        [],
        linestyle="none",
        marker=CENTER_MARKER,
        markersize=CENTER_WIDTH,
        markerfacecolor="none",
        markeredgecolor="black",
        markeredgewidth=_CENTER_STYLE["linewidths"],
        label=label,
    )


def _marker_handle(marker, label, markersize=7):
    """A grey, black-edged legend entry for a marker drawn in every class's colour."""
    return Line2D(
        [],
        [],
        linestyle="none",
        marker=marker,
        markersize=markersize,
        markerfacecolor="lightgrey",
        markeredgecolor="black",
        label=label,
    )


def _figure_legend(fig, class_ids, class_names, with_centers):
    fig.legend(
        handles=_legend_handles(class_ids, class_names, with_centers),
        loc="outside right center",
        title="class",
    )


def _figure_and_axes(ax):
    if ax is None:
        fig, ax = plt.subplots(figsize=(_PANEL_INCHES + 1.8, _PANEL_INCHES), layout="constrained")
    return ax.figure, ax


def _class_name(class_id, class_names):
    return str(class_names[class_id]) if class_names is not None else str(class_id)


def _as_points(array, name):
    """``array`` as a float array of 2-D points [..., 2]; a clear error for other widths."""
    array = np.asarray(array, dtype=np.float64)
    if array.ndim < 2 or array.shape[-1] != 2:
        raise ValueError(
            f"{name} must be 2-D points, shape [..., 2]; got shape {array.shape}. "
            "These figures draw a width-2 bottleneck directly; for wider features, "
            "project to 2-D first (e.g. sklearn.manifold.TSNE) and plot the projection."
        )
    return array


def _point_sets(item):
    """Flatten a Snapshots / array / list-or-tuple of them into arrays of points [..., 2]."""
    if item is None:
        return []
    if isinstance(item, Snapshots):
        return _point_sets([item.train_features, item.test_features, item.centers])
    if isinstance(item, (list, tuple)):
        return [array for element in item for array in _point_sets(element)]
    return [_as_points(item, "feature_limits' arrays")]


@dataclass
class _Frames:
    """One run's features and centers at every recorded epoch, ready to draw."""

    features: np.ndarray  # [E, n, 2], drawn units
    labels: np.ndarray  # [n]
    centers: np.ndarray  # [E, C, 2], drawn units
    scales: np.ndarray | None  # [E] feature units per drawn unit; None: raw units
    lims: list  # [E] square axis limits, each fitting its epoch's features and centers


def _as_runs(snapshots):
    """{run label: Snapshots}; a lone Snapshots becomes {None: it}."""
    if isinstance(snapshots, Snapshots):
        return {None: snapshots}
    runs = dict(snapshots)
    if not runs or not all(isinstance(record, Snapshots) for record in runs.values()):
        raise ValueError(
            "Pass a Snapshots or a non-empty dict {run label: Snapshots}; "
            f"got {type(snapshots).__name__}."
        )
    epochs = [record.epochs for record in runs.values()]
    if any(not np.array_equal(epochs[0], other) for other in epochs[1:]):
        raise ValueError(
            "Runs shown side by side must be recorded at the same epochs, so every frame "
            "shows one epoch; train them for the same number of epochs."
        )
    return runs


def _frames(runs, split, normalize):
    """{label: _Frames}: per-epoch units (when ``normalize``) and limits of every run."""
    frames = {}
    for label, record in runs.items():
        features, labels = record.split(split)
        features = _as_points(features, "features")
        centers = _as_points(record.centers, "centers")
        scales = None
        if normalize:
            scales = np.array([in_separation_units(epoch, labels)[2] for epoch in features])
            features, centers = features / scales[:, None, None], centers / scales[:, None, None]
        lims = [_own_limits([pair]) for pair in zip(features, centers, strict=True)]
        frames[label] = _Frames(features, labels, centers, scales, lims)
    return frames


def _own_limits(runs):
    """Square limits fitting every (features [N, 2], centers [C, 2] or None) in ``runs``."""
    return _square(feature_limits([array for pair in runs for array in pair if array is not None]))


def _square(lims):
    """Limits widened to a square around their middle: every panel then has the
    same shape (equal aspect), so panels and frames line up in one layout."""
    middles = [(low + high) / 2 for low, high in lims]
    half = max(high - low for low, high in lims) / 2
    return tuple((middle - half, middle + half) for middle in middles)


def _draw_frame(ax, frame, position, class_names, title):
    """One panel: a run's features and centers at one recorded epoch."""
    lines = [title]
    if frame.scales is not None:
        lines.append(_scale_note(frame.scales[position]))
    _draw_features(
        ax,
        frame.features[position],
        frame.labels,
        frame.centers[position],
        class_names,
        frame.lims[position],
        "\n".join(lines),
        units=UNITS if frame.scales is not None else None,
    )


def _frame_figure(runs, split, class_names):
    """(figure, axes [R]) for one epoch of R runs side by side, with the class legend."""
    fig, axes = plt.subplots(
        1,
        len(runs),
        squeeze=False,
        figsize=(_PANEL_INCHES * len(runs) + 1.6, _PANEL_INCHES + 1.1),
        layout="constrained",
    )
    labels = next(iter(runs.values())).split(split)[1]
    _figure_legend(fig, np.unique(labels), class_names, with_centers=True)
    return fig, axes[0]


def _draw_frames(fig, axes, frames, position, epoch, split, class_names):
    """Draw (or redraw) every run's panel at one recorded epoch, and the frame title."""
    for index, (ax, (label, frame)) in enumerate(zip(axes, frames.items(), strict=True)):
        ax.clear()  # redraw with the shared helper rather than keep a second drawing path
        _draw_frame(ax, frame, position, class_names, label or f"{split.capitalize()} features")
        if index:
            ax.set_ylabel("")  # same units as the first panel
    fig.suptitle(f"{split.capitalize()} features at epoch {epoch}")


def _frame_positions(snapshots, epochs, max_frames=_MAX_FRAMES):
    """Snapshot indices of the frames: as asked, all, or ``max_frames`` denser early."""
    if epochs is not None:
        return _epoch_positions(snapshots, epochs)
    if len(snapshots) <= max_frames:
        return np.arange(len(snapshots))
    # Epochs 0 (before training) and 1, then quadratic spacing: dense early,
    # where the features move most, sparser later.
    spaced = 1 + np.linspace(0.0, math.sqrt(len(snapshots) - 2), max_frames - 1) ** 2
    return np.unique(np.concatenate([[0], spaced.round().astype(int)]))


def _epoch_positions(snapshots, epochs, count=_GRID_EPOCHS):
    """Indices into the snapshot arrays of the requested epoch numbers (default ~8 spread)."""
    if epochs is None:
        count = min(count, len(snapshots))
        return np.unique(np.linspace(0, len(snapshots) - 1, count).round().astype(int))
    recorded = list(snapshots.epochs)
    unknown = [epoch for epoch in epochs if epoch not in recorded]
    if unknown:
        raise ValueError(
            f"epochs {unknown} were not recorded; recorded epochs are "
            f"{recorded[0]} to {recorded[-1]}."
        )
    return np.array([recorded.index(epoch) for epoch in epochs])


# --------------------------------------------------------------------------
# Sweeps: one panel per setting (lesson 04's λ grid)
# --------------------------------------------------------------------------


def plot_feature_grid(panels, captions=None, ncols=None, suptitle=None, class_names=None):
    """The paper's Figure 3 layout: one feature panel per run, in a grid.

    Each run's features and centers are divided by that run's inter-class
    separation (mean distance between its class means,
    :func:`in_separation_units`), so every panel shows its classes one unit
    apart on average and each panel fits its own data: the eye compares
    cluster *shapes and relative sizes* across runs whose raw feature scales
    differ by orders of magnitude (center loss shrinks them), and a compact
    run's clusters fill its panel.

    Args:
      panels: dict mapping a panel title (e.g. "λ = 0.1") to
        (features [N, 2], labels [N], centers [C, 2] or None).
      captions: optional dict, panel title → text written under that panel
        (e.g. its intra/inter ratio and accuracy).
      ncols: panels per row; default 2, so a notebook shows the panels
        without shrinking their type.
      suptitle: title of the whole figure.
      class_names: names indexed by class id; default the ids.

    Returns:
      The Figure, with one legend for all panels.
    """
    if not panels:
        raise ValueError("panels must map at least one title to (features, labels, centers).")
    captions = captions or {}
    scaled = {}
    for title, (features, labels, centers) in panels.items():
        features = _as_points(features, "features")
        features, centers, _ = in_separation_units(features, labels, centers)
        scaled[title] = (features, np.asarray(labels), centers)
    ncols = min(ncols or _GRID_COLUMNS, len(scaled))
    nrows = math.ceil(len(scaled) / ncols)
    fig, axes = plt.subplots(
        nrows,
        ncols,
        squeeze=False,
        figsize=(_GRID_INCHES * ncols + 1.5, (_GRID_INCHES + 0.5) * nrows),
        layout="constrained",
    )
    for ax, (title, (features, labels, centers)) in zip(axes.flat, scaled.items(), strict=False):
        lims = _own_limits([(features, centers)])
        _draw_features(ax, features, labels, centers, class_names, lims, title, units=UNITS)
        if title in captions:
            ax.set_xlabel(f"{ax.get_xlabel()}\n{captions[title]}")
    for ax in axes.flat[len(scaled) :]:
        ax.set_visible(False)
    all_labels = np.concatenate([labels for _, labels, _ in scaled.values()])
    with_centers = any(centers is not None for _, _, centers in scaled.values())
    _figure_legend(fig, np.unique(all_labels), class_names, with_centers)
    if suptitle:
        fig.suptitle(suptitle)
    return fig
