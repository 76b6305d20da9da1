"""The angular view: 2-D features by direction only, on the unit circle.

The losses of :mod:`centerloss.margins` see a feature only through its angle
to each class's weight direction. This view shows exactly that: every feature
x is drawn at x / ‖x‖, each class's weight direction w_j as a ray, and each
class's arc (where the middle 90 % of its samples lie, see
:func:`centerloss.metrics.class_arcs`) as a thick band outside the circle.
The empty stretches between neighbouring bands are the margins the losses
open between classes.
"""

from __future__ import annotations

import math

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.lines import Line2D

from centerloss.metrics.angles import class_arcs
from centerloss.plots.features import _scatter_by_class
from centerloss.plots.style import _GRID_COLUMNS, _GRID_INCHES, _figure_legend, class_color
from centerloss.plots.units import _as_points

_JITTER = 0.12  # dots lie at radius 1 − [0, 0.12): they would hide each other on one line
_ARC_RADIUS = 1.1
_RAY_RADIUS = 1.3
_LIMIT = 1.4


def draw_angular(ax, features, labels, directions=None, title=None, class_names=None):
    """Draw one angular view into ``ax``.

    Args:
      ax: the matplotlib Axes.
      features: float array [N, 2]; a zero feature has no direction and is
        drawn at the origin.
      labels: integer class ids [N].
      directions: optional float array [2, C], column j the weight of class j
        (any length; a margin head's ``kernel``, or a softmax layer's); drawn as rays.
      title: the panel's title.
      class_names: names indexed by class id.
    """
    features = _as_points(features, "features")
    labels = np.asarray(labels)
    norms = np.linalg.norm(features, axis=1, keepdims=True)
    unit = features / np.where(norms == 0, 1.0, norms)
    # A seeded radial jitter spreads the dots of one angle into a short line.
    radius = 1.0 - _JITTER * np.random.default_rng(0).random(len(unit))
    circle = np.linspace(0, 2 * math.pi, 361)
    ax.plot(np.cos(circle), np.sin(circle), color="lightgrey", linewidth=0.8, zorder=0)
    _scatter_by_class(ax, unit * radius[:, None], labels, class_names)
    # A zero feature (e.g. after a ReLU) has no direction: it is drawn at the
    # origin and left out of the arcs.
    directed = norms[:, 0] > 0
    arcs = {}
    if len(np.unique(labels[directed])) >= 2:  # arcs are measured from class directions
        arcs = class_arcs(features[directed], labels[directed])
    for class_id, (start, end) in arcs.items():
        arc = np.linspace(start, end, max(2, int(math.degrees(end - start))))
        ax.plot(
            _ARC_RADIUS * np.cos(arc),
            _ARC_RADIUS * np.sin(arc),
            color=class_color(class_id),
            linewidth=5,
            solid_capstyle="butt",
        )
    if directions is not None:
        directions = np.asarray(directions, dtype=float)
        directions = directions / np.linalg.norm(directions, axis=0)
        for class_id, (x, y) in enumerate(directions.T):
            ax.plot(
                [0, _RAY_RADIUS * x],
                [0, _RAY_RADIUS * y],
                color=class_color(class_id),
                linewidth=1.5,
                linestyle="--",
                zorder=3,
            )
    ax.set(
        xlim=(-_LIMIT, _LIMIT),
        ylim=(-_LIMIT, _LIMIT),
        xlabel="feature 1 / ‖x‖",
        ylabel="feature 2 / ‖x‖",
        title=title,
    )
    ax.set_aspect("equal")


def plot_angular_grid(panels, *, title=None, class_names=None, ncols=None):
    """One angular view per run, side by side, with one class legend.

    Args:
      panels: {panel title: FeatureSet or (features [N, 2], labels [N], centers, weights)};
        ``weights`` [2, C], the class weight directions, drawn as rays when given.
      title: the figure's title.
      class_names: names indexed by class id.
      ncols: panels per row (default up to 3).

    Returns:
      The Figure.
    """
    if not panels:
        raise ValueError("panels must map at least one title to (features, labels, ...).")
    ncols = min(ncols or max(_GRID_COLUMNS, 3), len(panels))
    nrows = math.ceil(len(panels) / ncols)
    inches = _GRID_INCHES
    fig, axes = plt.subplots(
        nrows,
        ncols,
        squeeze=False,
        figsize=(inches * ncols + 1.5, (inches + 0.4) * nrows),
        layout="constrained",
    )
    labels_seen, any_rays = [], False
    for ax, (name, panel) in zip(axes.flat, panels.items(), strict=False):
        features, labels, *rest = panel
        weights = rest[1] if len(rest) > 1 else None
        any_rays = any_rays or weights is not None
        draw_angular(ax, features, labels, weights, title=name, class_names=class_names)
        labels_seen.append(np.asarray(labels))
    for ax in axes.flat[len(panels) :]:
        ax.set_visible(False)
    # What the rays and the bands are, drawn as they are in the panels, in grey.
    extra = [
        Line2D([], [], color="grey", linewidth=5, label="arc: middle 90 %"),
        Line2D([], [], color="grey", linewidth=1.5, linestyle="--", label="class direction w_j"),
    ]
    _figure_legend(
        fig,
        np.unique(np.concatenate(labels_seen)),
        class_names,
        with_centers=False,
        extra=extra if any_rays else extra[:1],
    )
    if title:
        fig.suptitle(title)
    return fig
