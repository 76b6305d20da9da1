"""Figures of deep features, class centers and training curves (matplotlib).

One module per figure family; every public name is importable from here
(``plots.plot_features``, ``plots.UNITS``, ...):

- :mod:`~centerloss.plots.units`: the unit every comparing figure draws in,
  each panel's mean distance between class means (explained there, once), and
  axis limits: ``in_separation_units``, ``feature_limits``, ``UNITS``.
- :mod:`~centerloss.plots.style`: class colours, the center crosshair, legends.
- :mod:`~centerloss.plots.features`: one panel of features and centers
  (``plot_features``), from plain arrays.
- :mod:`~centerloss.plots.grids`: runs side by side from ``{title: FeatureSet}``:
  a row (``plot_comparison``), a grid (``plot_feature_grid``), the paper's
  Figure 3 from trained runs (``plot_lambda_grid``), softmax weight vectors
  (``plot_softmax_weights``).
- :mod:`~centerloss.plots.angular`: the angular view of 2-D features, on the
  unit circle with class rays and arcs (``plot_angular_grid``, ``draw_angular``).
- :mod:`~centerloss.plots.epochs`: a :class:`~centerloss.snapshots.Snapshots`
  over training: small multiples (``plot_epoch_grid``), one epoch
  (``plot_epoch``, ``draw_epoch``), an animation (``animate_features``).
- :mod:`~centerloss.plots.trajectories`: the paths of the class centers, of
  one run (``plot_center_trajectories``) or several (``plot_trajectory_comparison``).
- :mod:`~centerloss.plots.curves`: metrics against a parameter, training
  curves, distances to the class means.
- :mod:`~centerloss.plots.display`: the animation as HTML, widgets with a
  text fallback, GIFs.

A panel's input is a :class:`~centerloss.snapshots.FeatureSet`
``(features, labels, centers, weights=None)``; ``Snapshots.at(epoch)`` hands one
out, and a plain tuple works the same. Functions return the Figure
(``animate_features`` the Animation) and never call ``plt.show()``; they work
under the non-interactive Agg backend.
"""

from centerloss.plots.angular import draw_angular, plot_angular_grid
from centerloss.plots.curves import plot_history, plot_intra_class_distances, plot_metric_curves
from centerloss.plots.display import animation_html, save_gif, widget_with_text
from centerloss.plots.epochs import (
    ANIMATION_DPI,
    animate_features,
    draw_epoch,
    plot_epoch,
    plot_epoch_grid,
)
from centerloss.plots.features import plot_features
from centerloss.plots.grids import (
    plot_comparison,
    plot_feature_grid,
    plot_lambda_grid,
    plot_softmax_weights,
)
from centerloss.plots.style import CENTER_MARKER, CENTER_WIDTH, class_color
from centerloss.plots.trajectories import plot_center_trajectories, plot_trajectory_comparison
from centerloss.plots.units import FEATURE_UNITS, UNITS, feature_limits, in_separation_units
from centerloss.snapshots import FeatureSet

__all__ = [
    "ANIMATION_DPI",
    "CENTER_MARKER",
    "CENTER_WIDTH",
    "FEATURE_UNITS",
    "UNITS",
    "FeatureSet",
    "animate_features",
    "animation_html",
    "class_color",
    "draw_angular",
    "draw_epoch",
    "feature_limits",
    "in_separation_units",
    "plot_angular_grid",
    "plot_center_trajectories",
    "plot_comparison",
    "plot_epoch",
    "plot_epoch_grid",
    "plot_feature_grid",
    "plot_features",
    "plot_history",
    "plot_intra_class_distances",
    "plot_lambda_grid",
    "plot_metric_curves",
    "plot_softmax_weights",
    "plot_trajectory_comparison",
    "save_gif",
    "widget_with_text",
]
