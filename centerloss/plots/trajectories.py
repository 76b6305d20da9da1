"""Where the class centers went: one path per class, from the origin to the end of training."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from centerloss.plots.style import (
    _END_MARKER,
    _START_MARKER,
    _class_name,
    _figure_and_axes,
    _marker_handle,
    class_color,
)
from centerloss.plots.units import UNITS, _as_points, _axis_label, _scale_note, in_separation_units
from centerloss.snapshots import Snapshots


def plot_center_trajectories(
    centers, ax=None, class_names=None, normalize=False, time_unit="epoch"
):
    """Path of each class center over the recorded epochs (or update steps).

    Args:
      centers: the centers at each record, float array [E, C, 2], recorded at
        0, 1, ..., E-1; or a :class:`Snapshots`, whose ``centers``,
        ``epochs`` and ``class_names`` are used.
      ax: Axes to draw into; a new figure when None.
      class_names: names indexed by class id; default the Snapshots' or the ids.
      normalize: draw in units of the mean distance between the class means
        of the last recorded epoch's test features (one factor for every
        epoch, so the paths keep their shape; :mod:`centerloss.plots.units`),
        to compare runs side by side. Needs a Snapshots.
      time_unit: what the records count, for the title and legend: "epoch",
        or e.g. "step" when a center was recorded after every update.

    Returns:
      The Figure: one line per class from a start marker (square, first
      record) to an end marker (a dot, last record).
    """
    record = centers if isinstance(centers, Snapshots) else None
    paths = _as_points(centers if record is None else record.centers, "centers")  # [E, C, 2]
    times = np.arange(len(paths)) if record is None else record.epochs
    first, last = times[0], times[-1]
    title = f"Class centers moving, {time_unit}s {first} to {last}"
    units = None
    if normalize:
        if record is None:
            raise ValueError(
                "normalize=True measures the unit on the last epoch's test features: "
                "pass the Snapshots instead of its centers, or normalize=False."
            )
        final = record.at(-1)
        _, _, scale = in_separation_units(final.features, final.labels)
        paths, units = paths / scale, UNITS
        title += f"\n{_scale_note(scale)} ({time_unit} {last})"
    names = class_names or (None if record is None else record.class_names)
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
    for marker, position in ((_START_MARKER, 0), (_END_MARKER, -1)):
        ax.scatter(
            paths[position, :, 0],
            paths[position, :, 1],
            marker=marker,
            s=40,
            c=colors,
            edgecolors="black",
            zorder=3,
        )
    markers = [
        _marker_handle(_START_MARKER, f"start ({time_unit} {first})"),
        _marker_handle(_END_MARKER, f"end ({time_unit} {last})"),
    ]
    ax.legend(
        handles=lines + markers, loc="center left", bbox_to_anchor=(1.02, 0.5), title="class center"
    )
    ax.set(title=title, xlabel=_axis_label(1, units), ylabel=_axis_label(2, units))
    return fig


def plot_trajectory_comparison(runs, *, class_names=None, normalize=True):
    """The center paths of several runs side by side, one panel each, on shared axes.

    Args:
      runs: dict mapping a panel title (e.g. "softmax only (λ=0)") to that
        run's :class:`Snapshots` (or its centers [E, C, 2] when not ``normalize``).
      class_names: names indexed by class id; default each record's.
      normalize: each run in units of its own mean class distance at its last
        epoch, as in :func:`plot_center_trajectories`.

    Returns:
      The Figure: panels titled with their key, over the scale of their units
      when normalised, each with :func:`plot_center_trajectories`' paths and legend.
    """
    if not runs:
        raise ValueError("runs must map at least one panel title to a Snapshots.")
    fig, axes = plt.subplots(
        1,
        len(runs),
        figsize=(6.5 * len(runs), 5.5),
        squeeze=False,
        sharex=True,
        sharey=True,
        layout="constrained",
    )
    for ax, (name, record) in zip(axes[0], runs.items(), strict=True):
        plot_center_trajectories(record, ax=ax, class_names=class_names, normalize=normalize)
        ax.set_title(f"{name}\n{ax.get_title().splitlines()[-1]}")
    return fig
