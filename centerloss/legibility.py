"""Can a student see the clusters? Measured on a drawn feature figure, in screen points.

A feature panel (:func:`centerloss.plots.plot_features` and every figure built
on it) draws one scatter per class, in class order, and then the class centers
as one scatter labelled "class centers", row j for class j. These functions
read those artists back after the figure is drawn and measure, through the
panel's own data-to-screen transforms and marker paths:

* :func:`hidden_shares` (:func:`worst_hidden_share` for a whole figure): the
  share of each class's points whose dot is at least half covered by a center
  marker, any class's (by its face, if it has one, or by its stroke: a hollow
  marker covers only its stroke), so the centers never hide the features they
  summarise;
* :func:`marker_widths`: how wide each center marker is on screen, in pixels at
  the figure's resolution (what a notebook shows at 100 % zoom), so a student
  can find it;
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
    """Share of each class's points hidden under a center marker.

    A point is hidden when at least half of its dot lies under the ink of a
    center marker: inside a marker's face (if it has one) or under its stroke.
    A stroke narrower than a dot leaves the dot in view on both sides; a filled
    marker or a thick stroke covers it. Every center marker counts, not only the
    class's own: in a crowded panel another class's center can sit on a cluster.

    Args:
      ax: a drawn feature panel (call ``fig.canvas.draw()`` first, so that
        limits, layout and marker sizes are final).

    Returns:
      float array [C]: for class j, the fraction of its drawn points with at
      least half of their dot under some center marker's ink.
    """
    centers, classes = _centers(ax), _class_points(ax)
    markers = [_marker_outline(ax, centers, index) for index in range(len(classes))]
    shares = []
    for points, radius in zip(classes, _dot_radii(ax), strict=True):
        screen = ax.transData.transform(points)  # [N, 2] px
        samples = (screen[:, None, :] + radius * _DISC[None]).reshape(-1, 2)  # [N * K, 2]
        covered = np.zeros(len(samples), bool)
        for outline, filled, half_width in markers:
            covered |= _near_outline(samples, outline, half_width)
            if filled:
                for polygon in outline:
                    covered |= Path(polygon).contains_points(samples)
        hidden = covered.reshape(len(points), len(_DISC)).mean(axis=1) >= 0.5
        shares.append(hidden.mean() if len(points) else 0.0)
    return np.array(shares)


def marker_widths(ax) -> np.ndarray:
    """Width of each center marker on screen, stroke included.

    Args:
      ax: a drawn feature panel, as for :func:`hidden_shares`.

    Returns:
      float array [C]: for center j, the smaller of its marker's x and y
      extents in pixels at the figure's dpi: its size in a notebook at 100 %
      zoom, where a figure is shown at its own resolution.
    """
    centers = _centers(ax)
    widths = []
    for index in range(len(centers.get_offsets())):
        outline, _, half_width = _marker_outline(ax, centers, index)
        corners = np.concatenate(outline)
        widths.append(np.ptp(corners, axis=0).min() + 2 * half_width)
    return np.array(widths)


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


def _sunflower(count):
    """``count`` evenly spread points [count, 2] in the unit disc (Vogel's spiral)."""
    index = np.arange(count) + 0.5
    angle = index * np.pi * (3 - np.sqrt(5))  # the golden angle
    return np.sqrt(index / count)[:, None] * np.c_[np.cos(angle), np.sin(angle)]


_DISC = _sunflower(48)  # where a dot's coverage is sampled, in units of its radius


def _dot_radii(ax):
    """Each class's dot radius on screen, px (its scatter's marker size is an area in points²)."""
    to_pixels = ax.figure.dpi / 72.0
    return [np.sqrt(c.get_sizes()[0]) / 2 * to_pixels for c in _class_scatters(ax)]


def _centers(ax):
    """The centers' scatter of a feature panel, or None."""
    found = [c for c in ax.collections if c.get_label() == CENTERS_LABEL]
    return found[-1] if found else None


def _class_scatters(ax):
    """Each class's scatter, in class order."""
    centers = _centers(ax)
    return [
        c
        for c in ax.collections
        if c is not centers and not c.get_label().startswith("_") and len(c.get_offsets())
    ]


def _class_points(ax):
    """Each class's drawn points [n_j, 2] in data units, in class order."""
    centers, scatters = _centers(ax), _class_scatters(ax)
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
