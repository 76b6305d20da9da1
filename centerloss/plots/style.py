"""How every figure looks: class colours, the center marker, point size, legends, sizes.

Class j is tab10 colour j (mod 10) and classes are named in a legend, so a
class looks the same in every figure of a notebook. Class centers are black
crosshairs drawn on top of the features: an × of four thin ticks round an open
middle, large enough to find at a glance, while the points at the center and
between the ticks stay in view (:func:`centerloss.legibility.hidden_shares`
measures what it covers).
"""

from __future__ import annotations

import matplotlib
import matplotlib.pyplot as plt
from matplotlib.lines import Line2D
from matplotlib.path import Path as MarkerPath

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
_GRID_COLUMNS = 2  # panels per row: a notebook shows them without shrinking the type
# Lines of runs (not classes) in figures without class colours.
_RUN_COLORS = ("dimgray", "darkviolet", "goldenrod", "teal")


def class_color(class_id: int) -> tuple[float, float, float, float]:
    """The RGBA colour of class ``class_id`` in every figure (tab10, cycling after 10)."""
    return matplotlib.colormaps["tab10"](int(class_id) % 10)


def _class_name(class_id, class_names):
    return str(class_names[class_id]) if class_names is not None else str(class_id)


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


def _axes_legend(ax, class_ids, class_names, with_centers):
    """The class legend right of one panel."""
    ax.legend(
        handles=_legend_handles(class_ids, class_names, with_centers),
        loc="center left",
        bbox_to_anchor=(1.02, 0.5),
        title="class",
    )


def _figure_legend(fig, class_ids, class_names, with_centers, extra=()):
    """One class legend right of all the panels of a figure; ``extra`` handles after the classes."""
    fig.legend(
        handles=[*_legend_handles(class_ids, class_names, with_centers), *extra],
        loc="outside right center",
        title="class",
    )


def _figure_and_axes(ax):
    """(ax's figure, ax), or a new one-panel figure with room for a legend on the right."""
    if ax is None:
        fig, ax = plt.subplots(figsize=(_PANEL_INCHES + 1.8, _PANEL_INCHES), layout="constrained")
    return ax.figure, ax
