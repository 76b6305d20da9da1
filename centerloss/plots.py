"""Figures of deep features, class centers and training curves (matplotlib).

Every figure colours class j with tab10 colour j (mod 10), draws class centers
as large black-edged X markers in their class's colour, and names classes in a
legend, so a class looks the same in every figure of a notebook. Functions
return the Figure (``animate_features`` returns the Animation) and never call
``plt.show()``; they work under the non-interactive Agg backend.

Feature plots need 2-D features (a bottleneck of width d=2, as in the paper's
MNIST figures). For wider features, project them to 2-D first, e.g. with
``sklearn.manifold.TSNE``; centers cannot be projected that way.

Axis limits: ``plot_comparison``, ``plot_epoch_grid`` and ``animate_features``
use the same limits for every panel or frame (see :func:`feature_limits`), so
the eye compares cluster sizes honestly instead of chasing rescaled axes.
"""

from __future__ import annotations

import math
import os
from pathlib import Path

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.animation import FuncAnimation, PillowWriter
from matplotlib.lines import Line2D
from matplotlib.ticker import MaxNLocator

from centerloss.files import atomic_output, with_suffix
from centerloss.metrics import inter_class_separation
from centerloss.snapshots import Snapshots

CENTER_MARKER = "X"
_POINT_SIZE = 6  # points²: small, so a thousand points per class stay legible
_POINT_ALPHA = 0.5  # overlapping classes stay visible through each other
# Centers: big and black-edged to stand out, but with see-through faces,
# because a well-trained class cluster is smaller than the marker itself.
_CENTER_STYLE = dict(marker=CENTER_MARKER, s=180, edgecolors="black", linewidths=1.5, zorder=3)
_CENTER_FACE_ALPHA = 0.6
_PANEL_INCHES = 3.6
_GRID_EPOCHS = 8  # default number of panels of plot_epoch_grid


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


def plot_comparison(
    runs,
    suptitle="The same images' features after different training",
    class_names=None,
    share_axes=True,
):
    """Side-by-side feature scatters of several runs, on shared axis scales.

    Args:
      runs: dict mapping a panel title (e.g. "softmax + center loss (λ=0.1)")
        to (features [N, 2], labels [N], centers [C, 2] or None).
      suptitle: title of the whole figure.
      class_names: names indexed by class id; default the ids.
      share_axes: same x and y limits in every panel, so cluster sizes compare
        honestly; False lets each panel fit its own data.

    Returns:
      The Figure, one panel per run and one legend for all.
    """
    if not runs:
        raise ValueError("runs must map at least one panel title to (features, labels, centers).")
    lims = None
    if share_axes:
        lims = feature_limits(
            [
                array
                for features, _, centers in runs.values()
                for array in (features, centers)
                if array is not None
            ]
        )
    fig, axes = plt.subplots(
        1,
        len(runs),
        sharex=share_axes,
        sharey=share_axes,
        squeeze=False,
        figsize=(_PANEL_INCHES * len(runs) + 1.5, _PANEL_INCHES + 0.6),
        layout="constrained",
    )
    for ax, (name, (features, labels, centers)) in zip(axes[0], runs.items()):
        _draw_features(ax, features, labels, centers, class_names, lims, name)
    all_labels = np.concatenate([np.asarray(labels) for _, labels, _ in runs.values()])
    with_centers = any(centers is not None for _, _, centers in runs.values())
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
    return tuple((float(lo), float(hi)) for lo, hi in zip(low - pad, high + pad))


def plot_center_trajectories(snapshots: Snapshots, ax=None, class_names=None):
    """Path of each class center over the recorded epochs.

    Args:
      snapshots: the record; its ``centers`` [E, C, 2] are drawn.
      ax: Axes to draw into; a new figure when None.
      class_names: names indexed by class id; default ``snapshots.class_names``.

    Returns:
      The Figure: one line per class from a start marker (o, first recorded
      epoch) to an end marker (X, last recorded epoch).
    """
    paths = _as_points(snapshots.centers, "centers")  # [E, C, 2]
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
    ax.scatter(
        paths[0, :, 0], paths[0, :, 1], marker="o", s=60, c=colors, edgecolors="black", zorder=3
    )
    ax.scatter(
        paths[-1, :, 0], paths[-1, :, 1], facecolors=_center_faces(len(colors)), **_CENTER_STYLE
    )
    first, last = snapshots.epochs[0], snapshots.epochs[-1]
    markers = [
        _marker_handle("o", f"start (epoch {first})", markersize=8),
        _marker_handle(CENTER_MARKER, f"end (epoch {last})"),
    ]
    ax.legend(
        handles=lines + markers, loc="center left", bbox_to_anchor=(1.02, 0.5), title="class center"
    )
    ax.set(
        title=f"Class centers moving, epochs {first} to {last}",
        xlabel="feature 1",
        ylabel="feature 2",
    )
    return fig


def plot_epoch_grid(snapshots: Snapshots, epochs=None, split="test", ncols=4, class_names=None):
    """Small multiples of the features at selected epochs, on fixed shared axes.

    Args:
      snapshots: the record.
      epochs: epoch numbers to show (values of ``snapshots.epochs``); default
        about 8 evenly spaced, including the first and the last.
      split: "train" or "test" subset.
      ncols: panels per row.
      class_names: names indexed by class id; default ``snapshots.class_names``.

    Returns:
      The Figure, one panel titled "epoch k" per selected epoch and one legend.
    """
    features, labels = snapshots.split(split)
    names = class_names or snapshots.class_names
    positions = _epoch_positions(snapshots, epochs)
    lims = feature_limits([features, snapshots.centers])
    ncols = min(ncols, len(positions))
    nrows = math.ceil(len(positions) / ncols)
    fig, axes = plt.subplots(
        nrows,
        ncols,
        sharex=True,
        sharey=True,
        squeeze=False,
        layout="constrained",
        figsize=(_PANEL_INCHES * 0.8 * ncols + 1.5, _PANEL_INCHES * 0.8 * nrows + 0.6),
    )
    for ax, position in zip(axes.flat, positions):
        _draw_features(
            ax,
            features[position],
            labels,
            snapshots.centers[position],
            names,
            lims,
            f"epoch {snapshots.epochs[position]}",
        )
        ax.label_outer()  # shared scales: tick labels on the outer panels suffice
    for unused in axes.flat[len(positions) :]:
        unused.remove()
    _figure_legend(fig, np.unique(labels), names, with_centers=True)
    fig.suptitle(f"{split.capitalize()} features during training")
    return fig


def animate_features(snapshots: Snapshots, split="test", interval=300, class_names=None):
    """Animation of the features and centers, one frame per recorded epoch.

    Frame k shows epoch ``snapshots.epochs[k]`` on fixed axes, so only the
    points move. The figure is closed before returning, so a notebook does
    not also display a stray static copy; the animation still renders. In a
    notebook show it with ``IPython.display.HTML(animation.to_jshtml())``, or
    write it with :func:`save_gif`.

    Args:
      snapshots: the record.
      split: "train" or "test" subset.
      interval: milliseconds between frames when played.
      class_names: names indexed by class id; default ``snapshots.class_names``.

    Returns:
      A ``matplotlib.animation.FuncAnimation`` with len(snapshots) frames.
      Keep a reference to it until it has been rendered.
    """
    features, labels = snapshots.split(split)
    names = class_names or snapshots.class_names
    lims = feature_limits([features, snapshots.centers])
    fig, ax = plt.subplots(figsize=(_PANEL_INCHES + 2, _PANEL_INCHES + 0.6), layout="constrained")
    _figure_legend(fig, np.unique(labels), names, with_centers=True)

    def draw_frame(position):
        ax.clear()  # redraw with the shared helper rather than keep a second drawing path
        _draw_features(
            ax,
            features[position],
            labels,
            snapshots.centers[position],
            names,
            lims,
            f"{split.capitalize()} features, epoch {snapshots.epochs[position]}",
        )

    animation = FuncAnimation(fig, draw_frame, frames=len(snapshots), interval=interval)
    plt.close(fig)
    return animation


def save_gif(animation, path: str | os.PathLike, fps: int = 4) -> Path:
    """Write an animation as a GIF, atomically.

    Args:
      animation: e.g. from :func:`animate_features`.
      path: file name; ".gif" is appended when it has another suffix.
      fps: frames per second.

    Returns:
      The path written. A crash mid-write leaves any earlier file intact.
    """
    path = with_suffix(path, ".gif")
    with atomic_output(path) as temporary:
        animation.save(temporary, writer=PillowWriter(fps=fps))
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
    for ax, key in zip(axes[0], keys):
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


def _draw_features(ax, features, labels, centers, class_names, lims, title):
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
            facecolors=_center_faces(len(centers)),
            label="class centers",
            **_CENTER_STYLE,
        )
    if lims is not None:
        ax.set(xlim=lims[0], ylim=lims[1])
    ax.set(xlabel="feature 1", ylabel="feature 2", title=title)


def _center_faces(num_classes):
    """Face colours [C, 4] of the center markers: the class colours, see-through."""
    return [(*class_color(class_id)[:3], _CENTER_FACE_ALPHA) for class_id in range(num_classes)]


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
        handles.append(_marker_handle(CENTER_MARKER, "class center"))
    return handles


def _marker_handle(marker, label, markersize=12):
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


def _epoch_positions(snapshots, epochs):
    """Indices into the snapshot arrays of the requested epoch numbers (default ~8 spread)."""
    if epochs is None:
        count = min(_GRID_EPOCHS, len(snapshots))
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
    :func:`centerloss.metrics.inter_class_separation`), so every panel shows
    its classes one unit apart on average and all panels share the same axes:
    the eye compares cluster *shapes and relative sizes* across runs whose raw
    feature scales differ by orders of magnitude (center loss shrinks them).

    Args:
      panels: dict mapping a panel title (e.g. "λ = 0.1") to
        (features [N, 2], labels [N], centers [C, 2] or None).
      captions: optional dict, panel title → text written under that panel
        (e.g. its intra/inter ratio and accuracy).
      ncols: panels per row; default all in one row.
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
        unit = inter_class_separation(features, labels)
        scaled[title] = (
            features / unit,
            np.asarray(labels),
            None if centers is None else _as_points(centers, "centers") / unit,
        )
    lims = feature_limits(
        [array for features, _, centers in scaled.values() for array in (features, centers)]
    )
    ncols = ncols or len(scaled)
    nrows = math.ceil(len(scaled) / ncols)
    fig, axes = plt.subplots(
        nrows,
        ncols,
        squeeze=False,
        sharex=True,
        sharey=True,
        figsize=(_PANEL_INCHES * 0.85 * ncols + 1.5, (_PANEL_INCHES * 0.85 + 0.9) * nrows),
        layout="constrained",
    )
    for ax, (title, (features, labels, centers)) in zip(axes.flat, scaled.items(), strict=False):
        _draw_features(ax, features, labels, centers, class_names, lims, title)
        ax.set_aspect("equal", adjustable="box")
        xlabel = "feature 1 ÷ separation"
        if title in captions:
            xlabel += "\n" + captions[title]
        ax.set(xlabel=xlabel, ylabel="feature 2 ÷ separation")
    for ax in axes.flat[len(scaled) :]:
        ax.set_visible(False)
    all_labels = np.concatenate([labels for _, labels, _ in scaled.values()])
    with_centers = any(centers is not None for _, _, centers in scaled.values())
    _figure_legend(fig, np.unique(all_labels), class_names, with_centers)
    if suptitle:
        fig.suptitle(suptitle)
    return fig
