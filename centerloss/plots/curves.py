"""Curves and histograms: metrics against a parameter, training curves, distances to class means."""

from __future__ import annotations

import itertools

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.ticker import MaxNLocator

from centerloss.metrics import class_means
from centerloss.plots.style import _PANEL_INCHES, _RUN_COLORS, _figure_and_axes
from centerloss.plots.units import UNITS, in_separation_units


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


def plot_history(
    history, keys=("softmax_loss", "center_loss", "accuracy"), *, title="Training curves"
):
    """Per-epoch training curves, train and validation, one panel per metric.

    Args:
      history: ``History.history`` (dict of metric name to per-epoch values),
        the ``History`` object ``fit`` returns, or ``Snapshots.history``.
      keys: metrics to plot; ``val_<key>`` is added to its panel when present.
      title: title of the whole figure.

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
    fig.suptitle(title)
    return fig


def plot_intra_class_distances(
    runs, bins=40, title="Distance of each feature to its own class mean", ax=None
):
    """Histograms of each sample's distance to its class mean, one per run, overlaid.

    Distances are in units of the run's own mean class distance
    (:mod:`centerloss.plots.units`), so the histogram's mean (dashed line, in
    the legend) is exactly the run's intra/inter ratio
    (:func:`centerloss.metrics.spread_ratio`). The class *mean* of the
    features, not the learned center, is the reference, because a
    softmax-only run's centers are not trained to sit among the features.

    Args:
      runs: dict mapping a run label to a FeatureSet, or any tuple whose
        first two items are features [N, d] and labels [N].
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
