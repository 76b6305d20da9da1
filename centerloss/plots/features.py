"""One panel of deep features: points coloured by class, class centers on top.

Feature plots need 2-D features (a bottleneck of width d=2, as in the paper's
MNIST figures). For wider features, project them to 2-D first, e.g. with
``sklearn.manifold.TSNE``; centers cannot be projected that way.
:func:`_draw_features` draws the panel of every feature figure in the package.
"""

from __future__ import annotations

import numpy as np

from centerloss.plots.style import (
    _CENTER_STYLE,
    _POINT_ALPHA,
    _POINT_SIZE,
    _axes_legend,
    _class_name,
    _figure_and_axes,
    class_color,
)
from centerloss.plots.units import _as_points, _axis_label


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

    Draws in the features' own units (no scaling); see
    :func:`centerloss.plots.plot_comparison` for runs side by side.

    Args:
      features: float array [N, 2].
      labels: integer class ids [N].
      centers: optional float array [C, 2]; drawn as black crosshairs.
      ax: Axes to draw into; a new figure when None.
      title: panel title; default "Deep features by class".
      class_names: names indexed by class id; default the ids.
      max_points: draw at most this many samples, a seeded (reproducible)
        random subset, to keep large sets readable and fast.
      lims: fixed ((xmin, xmax), (ymin, ymax)), e.g. from
        :func:`centerloss.plots.feature_limits`.

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
    _axes_legend(ax, np.unique(labels), class_names, centers is not None)
    return fig


def _draw_features(ax, features, labels, centers, class_names, lims, title, units=None):
    """Scatter features [N, 2] with one collection per class, then centers [C, 2] as one.

    ``lims`` None lets the panel fit its data; ``units`` names the axis unit
    (:data:`centerloss.plots.UNITS`), None for raw feature units.
    """
    features = _as_points(features, "features")
    labels = np.asarray(labels)
    if labels.shape != features.shape[:1]:
        raise ValueError(
            f"labels must have shape [N] = ({len(features)},) like the features; "
            f"got shape {labels.shape}."
        )
    _scatter_by_class(ax, features, labels, class_names)
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


def _scatter_by_class(ax, points, labels, class_names=None):
    """Scatter points [N, 2] as one collection per class, in the class colours."""
    for class_id in np.unique(labels):
        members = points[labels == class_id]
        ax.scatter(
            members[:, 0],
            members[:, 1],
            s=_POINT_SIZE,
            alpha=_POINT_ALPHA,
            color=class_color(class_id),
            linewidths=0,
            label=_class_name(class_id, class_names),
        )
