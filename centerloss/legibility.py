"""Can a student see the clusters? Measured on a drawn feature figure, in screen points.

A feature panel (:func:`centerloss.plots.plot_features` and every figure built
on it) draws one scatter per class, in class order, and then the class centers
as one scatter labelled "class centers", row j for class j. These functions
read those artists back after the figure is drawn and measure, through the
panel's own data-to-screen transforms and marker paths:

* :func:`hidden_shares` (:func:`worst_hidden_share` for a whole figure): the
  share of each class's points that lie under its center's marker (inside the
  marker's filled shape, or on its outline), so a center never hides the
  features it summarises;
* :func:`cluster_spans`: how large each class's core is on screen, in points
  (1/72 inch) at any resolution the figure is saved with.
"""

from __future__ import annotations

import numpy as np
from matplotlib.path import Path
from matplotlib.transforms import Affine2D

CENTERS_LABEL = "class centers"  # the label plots gives the centers' scatter


def feature_panels(fig):
    """The Axes of ``fig`` (subfigures included) that draw features and class centers."""
    return [ax for ax in fig.get_axes() if _centers(ax) is not None]


def worst_hidden_share(fig) -> float:
    """Draw ``fig`` and return the largest :func:`hidden_shares` over its feature panels."""
    fig.canvas.draw()
    return max(float(hidden_shares(ax).max()) for ax in feature_panels(fig))


def hidden_shares(ax) -> np.ndarray:
    """Share of each class's points hidden under that class's center marker.

    Args:
      ax: a drawn feature panel (call ``fig.canvas.draw()`` first, so that
        limits, layout and marker sizes are final).

    Returns:
      float array [C]: for class j, the fraction of its drawn points whose
      position lies inside center j's marker (when the marker has a visible
      face) or within half a line width of its outline.
    """
    centers, classes = _centers(ax), _class_points(ax)
    shares = []
    for index, points in enumerate(classes):
        outline, filled, half_width = _marker_outline(ax, centers, index)
        screen = ax.transData.transform(points)
        hidden = _near_outline(screen, outline, half_width)
        if filled:
            for polygon in outline:
                hidden |= Path(polygon).contains_points(screen)
        shares.append(hidden.mean() if len(points) else 0.0)
    return np.array(shares)


def cluster_spans(ax, share=0.9) -> np.ndarray:
    """On-screen size of each class's core: the ``share`` of its points nearest its center.

    Args:
      ax: a drawn feature panel, as for :func:`hidden_shares`.
      share: fraction of each class's points kept, those nearest its center.

    Returns:
      float array [C]: for class j, the larger of the x and y extents of the
      kept points, in points (1/72 inch: the same at every saving dpi).
    """
    centers, classes = _centers(ax), _class_points(ax)
    to_points = 72.0 / ax.figure.dpi
    spans = []
    for index, points in enumerate(classes):
        screen = ax.transData.transform(points)
        center = ax.transData.transform(centers.get_offsets()[index : index + 1])[0]
        distance = np.linalg.norm(screen - center, axis=1)
        kept = screen[distance <= np.quantile(distance, share)]
        spans.append(np.ptp(kept, axis=0).max() * to_points)
    return np.array(spans)


def _centers(ax):
    """The centers' scatter of a feature panel, or None."""
    found = [c for c in ax.collections if c.get_label() == CENTERS_LABEL]
    return found[-1] if found else None


def _class_points(ax):
    """Each class's drawn points [n_j, 2] in data units, in class order."""
    centers = _centers(ax)
    scatters = [
        c
        for c in ax.collections
        if c is not centers and not c.get_label().startswith("_") and len(c.get_offsets())
    ]
    if len(scatters) != len(centers.get_offsets()):
        raise ValueError(
            f"The panel draws {len(scatters)} classes but {len(centers.get_offsets())} centers; "
            "measure panels that draw every class with its center."
        )
    return [np.asarray(c.get_offsets(), dtype=np.float64) for c in scatters]


def _marker_outline(ax, centers, index):
    """Center ``index``'s marker on screen: (polygons [k, 2] px, has a face, half line width px)."""
    path = centers.get_paths()[index % len(centers.get_paths())]
    scales = centers.get_transforms()  # [1 or C, 3, 3], marker size in px (set when drawn)
    position = centers.get_offset_transform().transform(centers.get_offsets()[index])
    to_screen = Affine2D(scales[index % len(scales)]).translate(*position)
    polygons = path.transformed(to_screen).to_polygons(closed_only=False)
    faces = centers.get_facecolors()
    filled = len(faces) > 0 and faces[index % len(faces)][3] > 0
    widths = centers.get_linewidths()
    half_width = widths[index % len(widths)] * ax.figure.dpi / 72.0 / 2
    return polygons, filled, half_width


def _near_outline(points, polygons, half_width):
    """Mask [N]: points [N, 2] within ``half_width`` of an edge of the polygons."""
    near = np.zeros(len(points), bool)
    for polygon in polygons:
        starts, ends = polygon[:-1], polygon[1:]
        edges = ends - starts  # [k, 2]
        lengths = np.maximum((edges**2).sum(axis=1), 1e-12)
        # Projection of each point on each edge, clipped to the segment: [N, k].
        along = np.clip(
            ((points[:, None, :] - starts[None]) * edges[None]).sum(axis=2) / lengths, 0.0, 1.0
        )
        closest = starts[None] + along[..., None] * edges[None]
        near |= (np.linalg.norm(points[:, None, :] - closest, axis=2) <= half_width).any(axis=1)
    return near
