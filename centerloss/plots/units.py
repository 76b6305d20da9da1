"""The unit of the feature figures, and axis limits.

Softmax alone lets features grow without bound (a hundred feature units
after training) while center loss keeps them near the origin (about ten), so
on raw shared axes one run is a dot and on separate axes sizes cannot be
compared. Every figure that compares runs or epochs therefore draws each
panel's features *in units of its own inter-class separation*: divided by the
mean distance between its class means (:func:`in_separation_units`), so that
distance is 1 in every panel. Scaling only, no shift: the origin, where the
centers start and the softmax wedges meet, stays where it is. Cluster sizes
relative to the gaps between classes, which is what center loss changes, then
compare across panels. Each panel fits its own data (square limits around its
features and centers), so a compact run's clusters fill its panel instead of
a few points of axes stretched by another run's long tails; the tick labels
give each panel's extent in the same unit. The axis labels say
"units of mean class distance" (:data:`UNITS`) and each panel title says how
many feature units one such unit is.

This is the one place the unit is explained; the figures' docstrings point here.
"""

from __future__ import annotations

import numpy as np

from centerloss.metrics import inter_class_separation
from centerloss.snapshots import Snapshots

UNITS = "units of mean class distance"  # axis unit of normalised figures
FEATURE_UNITS = "feature units"


def in_separation_units(features, labels, centers=None):
    """Features (and centers) divided by the mean distance between class means.

    After it, the mean distance between the class means of ``features`` is 1,
    whatever the run's feature magnitude (see the module docstring). Scaling
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


def _axis_label(axis, units):
    """ "feature 1", or "feature 1 (units of ...)" for normalised figures."""
    return f"feature {axis}" if units is None else f"feature {axis} ({units})"


def _scale_note(scale):
    """How many feature units one drawn unit is, for a panel title."""
    return f"1 unit = {scale:.3g} {FEATURE_UNITS}"


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


def _own_limits(panels):
    """Square limits fitting every (features [N, 2], centers [C, 2] or None) in ``panels``."""
    return _square(
        feature_limits([array for pair in panels for array in pair if array is not None])
    )


def _square(lims):
    """Limits widened to a square around their middle: every panel then has the
    same shape (equal aspect), so panels and frames line up in one layout."""
    middles = [(low + high) / 2 for low, high in lims]
    half = max(high - low for low, high in lims) / 2
    return tuple((middle - half, middle + half) for middle in middles)
