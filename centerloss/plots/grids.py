"""Runs side by side: one feature panel per run, in a row or a grid.

:func:`plot_comparison` (a row, the lessons' headline), :func:`plot_feature_grid`
(a grid, the paper's Figure 3 layout) and :func:`plot_lambda_grid` (Figure 3
from trained runs) are one drawing, :func:`_panel_grid`; :func:`plot_softmax_weights`
adds the softmax weight vectors to the row. Each panel is a
:class:`~centerloss.snapshots.FeatureSet` (or a plain tuple
``(features, labels, centers)``), drawn in units of its own mean class
distance (see :mod:`centerloss.plots.units`).
"""

from __future__ import annotations

import math
import string

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.patches import FancyArrowPatch

from centerloss.plots.features import _draw_features
from centerloss.plots.style import (
    _COMPARISON_INCHES,
    _GRID_COLUMNS,
    _GRID_INCHES,
    _figure_legend,
    class_color,
)
from centerloss.plots.units import (
    UNITS,
    _as_points,
    _own_limits,
    _scale_note,
    _square,
    feature_limits,
    in_separation_units,
)
from centerloss.snapshots import FeatureSet


def plot_comparison(
    panels,
    *,
    title="The same images' features after different training",
    class_names=None,
    share_axes=False,
    normalize=True,
):
    """Side-by-side feature scatters of several runs, in a row.

    Args:
      panels: dict mapping a panel title (e.g. "softmax + center loss (λ=0.1)")
        to a FeatureSet (features [N, 2], labels [N], centers [C, 2] or None),
        e.g. ``snapshots.at(-1)``.
      title: title of the whole figure.
      class_names: names indexed by class id; default the ids.
      share_axes: same x and y limits in every panel; False (default) lets
        each panel fit its own data, so a compact run's clusters are not
        squeezed by another run's long tails.
      normalize: draw each run in units of its own mean distance between class
        means (:mod:`centerloss.plots.units`), so cluster shapes *and* sizes
        compare across runs; each panel title gives the factor. False draws
        raw feature units (then shared axes shrink a small-featured run to a dot).

    Returns:
      The Figure, one panel per run and one legend for all.
    """
    return _panel_grid(
        panels,
        ncols=len(panels),
        inches=_COMPARISON_INCHES,
        row_extra=0.8,
        title=title,
        class_names=class_names,
        share_axes=share_axes,
        normalize=normalize,
        scale_notes=normalize,
    )


def plot_feature_grid(panels, *, captions=None, ncols=None, title=None, class_names=None):
    """The paper's Figure 3 layout: one feature panel per run, in a grid.

    Each panel is in units of its own mean class distance
    (:mod:`centerloss.plots.units`) and fits its own data: the eye compares
    cluster *shapes and relative sizes* across runs whose raw feature scales
    differ by orders of magnitude (center loss shrinks them).

    Args:
      panels: dict mapping a panel title (e.g. "λ = 0.1") to a FeatureSet
        (features [N, 2], labels [N], centers [C, 2] or None).
      captions: optional dict, panel title → text written under that panel
        (e.g. its intra/inter ratio and accuracy).
      ncols: panels per row; default 2, so a notebook shows the panels
        without shrinking their type.
      title: title of the whole figure; default none.
      class_names: names indexed by class id; default the ids.

    Returns:
      The Figure, with one legend for all panels.
    """
    return _panel_grid(
        panels,
        ncols=ncols or _GRID_COLUMNS,
        inches=_GRID_INCHES,
        row_extra=0.5,
        title=title,
        class_names=class_names,
        captions=captions,
    )


def plot_lambda_grid(runs, *, title, class_names=None, accuracy_digits=3, ncols=None):
    """The paper's Figure 3 from trained runs: final test features, one panel per λ.

    Panels are titled "(a) λ = 0", "(b) λ = 0.001", ... in the order of
    ``runs`` and captioned "intra/inter 0.123 · accuracy 0.987" (the runs'
    test metrics); drawn by :func:`plot_feature_grid`.

    Args:
      runs: ``experiment.Run``-like objects (``lambda_``, ``snapshots``,
        ``metrics`` with "spread_ratio" and "accuracy"), at most 26.
      title: title of the whole figure.
      class_names: names indexed by class id; default the ids.
      accuracy_digits: decimals of the accuracy in the captions.
      ncols: panels per row; default 2.

    Returns:
      The Figure.
    """
    runs = list(runs)
    if len(runs) > len(string.ascii_lowercase):
        raise ValueError(
            f"plot_lambda_grid letters its panels (a) to (z), so at most 26 runs; got {len(runs)}."
        )
    panels, captions = {}, {}
    for letter, run in zip(string.ascii_lowercase, runs, strict=False):
        panel = f"({letter}) λ = {run.lambda_:g}"
        panels[panel] = run.snapshots.at(-1)
        captions[panel] = (
            f"intra/inter {run.metrics['spread_ratio']:.3f} · "
            f"accuracy {run.metrics['accuracy']:.{accuracy_digits}f}"
        )
    return plot_feature_grid(
        panels,
        captions=captions,
        ncols=ncols,
        title=title,
        class_names=None if class_names is None else list(class_names),
    )


def plot_softmax_weights(
    panels,
    *,
    title="Why softmax makes wedges: its weight vectors (arrows) and the features",
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
      panels: dict mapping a panel title to a FeatureSet with ``weights``, the
        softmax layer's kernel [2, C], column j = w_j (e.g.
        ``snapshots.at(-1)._replace(weights=model.backbone.get_layer("logits")
        .get_weights()[0])``); a tuple (features, labels, centers, weights) works too.
      title: title of the whole figure.
      class_names: names indexed by class id; default the ids.

    Returns:
      The Figure of :func:`plot_comparison` with one arrow (a
      ``FancyArrowPatch``) per class added to each panel.
    """
    panels = _feature_sets(panels)
    missing = [name for name, panel in panels.items() if panel.weights is None]
    if missing:
        raise ValueError(f"panels {missing} have no weights; give each FeatureSet its weights.")
    fig = plot_comparison(
        {name: panel._replace(weights=None) for name, panel in panels.items()},
        title=title,
        class_names=class_names,
    )
    for ax, (features, labels, _, weights) in zip(fig.axes, panels.values(), strict=True):
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


def _panel_grid(
    panels,
    *,
    ncols,
    inches,
    row_extra,
    title,
    class_names,
    captions=None,
    share_axes=False,
    normalize=True,
    scale_notes=False,
):
    """One feature panel per entry of ``panels``, ``ncols`` to a row, one legend for all.

    Args:
      inches, row_extra: a panel's width in inches; a row is ``inches + row_extra`` high.
      captions: {panel title: text} written under those panels.
      share_axes: one set of limits fitting every panel (else each fits its own).
      normalize: each panel in units of its own mean class distance.
      scale_notes: add "1 unit = ... feature units" to each panel title.
    """
    if not panels:
        raise ValueError("panels must map at least one title to (features, labels, centers).")
    captions = captions or {}
    drawn = {}
    for name, (features, labels, centers, _) in _feature_sets(panels).items():
        features = _as_points(features, "features")
        heading = name
        if normalize:
            features, centers, scale = in_separation_units(features, labels, centers)
            if scale_notes:
                heading = f"{name}\n{_scale_note(scale)}"
        drawn[name] = (heading, features, np.asarray(labels), centers)
    # Square limits, like the animation's frames: equal-aspect panels fill their space.
    shared = _own_limits([(f, c) for _, f, _, c in drawn.values()]) if share_axes else None
    ncols = min(ncols, len(drawn))
    nrows = math.ceil(len(drawn) / ncols)
    fig, axes = plt.subplots(
        nrows,
        ncols,
        sharex=share_axes,
        sharey=share_axes,
        squeeze=False,
        figsize=(inches * ncols + 1.5, (inches + row_extra) * nrows),
        layout="constrained",
    )
    units = UNITS if normalize else None
    for ax, (name, (heading, features, labels, centers)) in zip(
        axes.flat, drawn.items(), strict=False
    ):
        lims = shared or _own_limits([(features, centers)])
        _draw_features(ax, features, labels, centers, class_names, lims, heading, units=units)
        if name in captions:
            ax.set_xlabel(f"{ax.get_xlabel()}\n{captions[name]}")
        if share_axes:
            ax.label_outer()
    for ax in axes.flat[len(drawn) :]:
        ax.set_visible(False)
    all_labels = np.concatenate([labels for _, _, labels, _ in drawn.values()])
    with_centers = any(centers is not None for *_, centers in drawn.values())
    _figure_legend(fig, np.unique(all_labels), class_names, with_centers)
    if title:
        fig.suptitle(title)
    return fig


def _feature_sets(panels):
    """{title: FeatureSet} from a dict of FeatureSets or plain tuples."""
    return {name: FeatureSet(*panel) for name, panel in panels.items()}
