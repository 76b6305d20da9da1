"""Features during training: epochs as small multiples, a still, a live panel, an animation.

Every function here takes a :class:`~centerloss.snapshots.Snapshots` (or
``{run label: Snapshots}`` of runs recorded at the same epochs, drawn side by
side) and draws each panel in units of its own epoch's mean class distance
(:mod:`centerloss.plots.units`), fitting that epoch's features and centers:

- :func:`plot_epoch_grid`: a new figure of several epochs, one block per run;
- :func:`plot_epoch`: a new figure of one epoch, one panel per run (a still of
  the animation);
- :func:`draw_epoch`: one run at one epoch into an Axes you own (the live
  plot and the playground redraw with it);
- :func:`animate_features`: the runs side by side, one epoch per frame.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.animation import FuncAnimation

from centerloss.plots.features import _draw_features
from centerloss.plots.style import (
    _GRID_COLUMNS,
    _GRID_INCHES,
    _PANEL_INCHES,
    _axes_legend,
    _figure_legend,
)
from centerloss.plots.units import (
    UNITS,
    _as_points,
    _axis_label,
    _own_limits,
    _scale_note,
    in_separation_units,
)
from centerloss.snapshots import Snapshots

_GRID_EPOCHS = 6  # default number of epochs of plot_epoch_grid
_MAX_FRAMES = 12  # default frame budget of animate_features: GIF and notebook stay small
ANIMATION_DPI = 68  # the animation's resolution: keeps lesson 03's player small


def plot_epoch_grid(
    snapshots,
    epochs=None,
    split="test",
    ncols=None,
    class_names=None,
    title=None,
    normalize=True,
):
    """Small multiples of the features at selected epochs, one column block per run.

    Args:
      snapshots: a :class:`Snapshots`, or a dict {run label: Snapshots} of
        runs recorded at the same epochs (side by side, one labelled block
        each, so a row compares the runs at one epoch).
      epochs: epoch numbers to show (values of ``snapshots.epochs``); default
        6 spread out, first and last included.
      split: "train" or "test" subset.
      ncols: panels per row of each run's block; default 2 for one run and 1
        for several, so a notebook shows the figure without shrinking it.
      class_names: names indexed by class id; default the record's.
      title: figure title; default "<Split> features during training".
      normalize: False draws raw feature units.

    Returns:
      The Figure, one panel titled "epoch k" and its scale per selected epoch
      and run, and one legend.
    """
    runs = _as_runs(snapshots)
    record = next(iter(runs.values()))
    names = class_names or record.class_names
    positions = _epoch_positions(record, epochs, count=_GRID_EPOCHS)
    scaled = _scale_runs(runs, split, normalize)
    ncols = min(ncols or (_GRID_COLUMNS if len(runs) == 1 else 1), len(positions))
    rows_per_run = math.ceil(len(positions) / ncols)
    fig = plt.figure(
        layout="constrained",
        figsize=(_GRID_INCHES * ncols * len(runs) + 1.5, _GRID_INCHES * rows_per_run + 0.9),
    )
    subfigures = np.atleast_1d(fig.subfigures(1, len(runs)))
    for subfigure, (label, run) in zip(subfigures, scaled.items(), strict=True):
        axes = subfigure.subplots(rows_per_run, ncols, squeeze=False)
        for ax, position in zip(axes.flat, positions, strict=False):
            _draw_run_at(ax, run, position, names, f"epoch {record.epochs[position]}")
            ax.set(xlabel="", ylabel="")  # one label per figure axis instead (below)
        for unused in axes.flat[len(positions) :]:
            unused.remove()
        if label is not None:
            subfigure.suptitle(label, fontweight="bold")
    units = UNITS if normalize else None
    fig.supxlabel(_axis_label(1, units))
    fig.supylabel(_axis_label(2, units))
    _figure_legend(fig, np.unique(record.split(split)[1]), names, with_centers=True)
    fig.suptitle(title or f"{split.capitalize()} features during training")
    return fig


def plot_epoch(snapshots, epoch, split="test", class_names=None, normalize=True):
    """A new figure of one epoch, one panel per run: a still of :func:`animate_features`.

    Same units, axis limits and titles as the animation's frame of that epoch
    (lesson 03's slider is built on it). To draw into an Axes of your own,
    use :func:`draw_epoch`.

    Args:
      snapshots: a :class:`Snapshots`, or a dict {run label: Snapshots} of
        runs recorded at the same epochs.
      epoch: a recorded epoch number.
      split, class_names, normalize: as in :func:`animate_features`.

    Returns:
      The Figure, titled "<Split> features at epoch k", one panel per run and one legend.
    """
    runs = _as_runs(snapshots)
    record = next(iter(runs.values()))
    (position,) = _epoch_positions(record, [epoch])
    names = class_names or record.class_names
    fig, axes = _side_by_side_figure(runs, split, names)
    _draw_runs_at(fig, axes, _scale_runs(runs, split, normalize), position, epoch, split, names)
    return fig


def draw_epoch(
    ax,
    snapshots: Snapshots,
    epoch,
    split="test",
    class_names=None,
    normalize=True,
    title=None,
    legend=True,
):
    """Draw one run at one epoch into ``ax``, an Axes the caller owns, with a legend.

    The panel of :func:`plot_epoch` without its figure: units and limits as
    in :func:`animate_features` (it fits this epoch's features and centers).
    :class:`centerloss.live.LiveFeaturePlot` and the playground redraw their
    figures with this after every epoch.

    Args:
      ax: the Axes to draw into (cleared first by the caller if needed).
      snapshots: the record; ``epoch`` must be one of its epochs.
      split, class_names, normalize: as in :func:`animate_features`.
      title: the title's first line; default "<Split> features at epoch k".
      legend: draw the class legend right of the panel (False: a figure of
        several panels draws it once).

    Returns:
      ``ax``, titled ``title`` and the scale of its units.
    """
    names = class_names or snapshots.class_names
    (position,) = _epoch_positions(snapshots, [epoch])
    run = _scale_runs({None: snapshots}, split, normalize)[None]
    title = title or f"{split.capitalize()} features at epoch {epoch}"
    _draw_run_at(ax, run, position, names, title)
    if legend:
        _axes_legend(ax, np.unique(run.labels), names, with_centers=True)
    return ax


def animate_features(
    snapshots, split="test", interval=300, class_names=None, epochs=None, normalize=True
):
    """Animation of the features and centers of one or several runs, epoch by epoch.

    Several runs play side by side, synchronised: every frame shows the same
    epoch in every panel. Each panel fits its epoch's features and centers,
    so clusters stay readable while the features grow and tighten: the tick
    labels follow, and each panel title gives its scale. The figure is closed
    before returning, so a notebook does not also display a stray static copy;
    the animation still renders. In a notebook show it with
    ``IPython.display.HTML(plots.animation_html(animation))``, or write it
    with :func:`centerloss.plots.save_gif`.

    Args:
      snapshots: a :class:`Snapshots`, or a dict {run label: Snapshots} of
        runs recorded at the same epochs (e.g. λ = 0 and λ > 0).
      split: "train" or "test" subset.
      interval: milliseconds between frames when played.
      class_names: names indexed by class id; default the record's.
      epochs: epoch numbers to show; default every recorded epoch, or 12 of
        them, denser early (where most motion is), when more were recorded.
      normalize: False draws raw feature units.

    Returns:
      A ``matplotlib.animation.FuncAnimation``, one frame per selected epoch,
      drawn at :data:`ANIMATION_DPI`. Keep a reference to it until it has been rendered.
    """
    runs = _as_runs(snapshots)
    record = next(iter(runs.values()))
    names = class_names or record.class_names
    positions = _frame_positions(record, epochs)
    scaled = _scale_runs(runs, split, normalize)
    fig, axes = _side_by_side_figure(runs, split, names)
    fig.set_dpi(ANIMATION_DPI)

    def draw_frame(position):
        _draw_runs_at(fig, axes, scaled, position, record.epochs[position], split, names)

    # Lay the figure out once, on the last (trained) frame, then keep it:
    # re-running the constrained layout for every frame doubles the render time.
    draw_frame(positions[-1])
    fig.canvas.draw()
    fig.set_layout_engine("none")
    animation = FuncAnimation(fig, draw_frame, frames=positions, interval=interval)
    plt.close(fig)
    return animation


@dataclass
class _ScaledRun:
    """One run's features and centers at every recorded epoch, in drawn units."""

    features: np.ndarray  # [E, n, 2], drawn units
    labels: np.ndarray  # [n]
    centers: np.ndarray  # [E, C, 2], drawn units
    scales: np.ndarray | None  # [E] feature units per drawn unit; None: raw units
    lims: list  # [E] square axis limits, each fitting its epoch's features and centers


def _as_runs(snapshots):
    """{run label: Snapshots}; a lone Snapshots becomes {None: it}."""
    if isinstance(snapshots, Snapshots):
        return {None: snapshots}
    runs = dict(snapshots)
    if not runs or not all(isinstance(record, Snapshots) for record in runs.values()):
        raise ValueError(
            "Pass a Snapshots or a non-empty dict {run label: Snapshots}; "
            f"got {type(snapshots).__name__}."
        )
    epochs = [record.epochs for record in runs.values()]
    if any(not np.array_equal(epochs[0], other) for other in epochs[1:]):
        raise ValueError(
            "Runs shown side by side must be recorded at the same epochs, so every frame "
            "shows one epoch; train them for the same number of epochs."
        )
    return runs


def _scale_runs(runs, split, normalize):
    """{label: _ScaledRun}: every run in per-epoch units (when ``normalize``), with limits."""
    scaled = {}
    for label, record in runs.items():
        features, labels = record.split(split)
        features = _as_points(features, "features")
        centers = _as_points(record.centers, "centers")
        scales = None
        if normalize:
            scales = np.array([in_separation_units(epoch, labels)[2] for epoch in features])
            features, centers = features / scales[:, None, None], centers / scales[:, None, None]
        lims = [_own_limits([pair]) for pair in zip(features, centers, strict=True)]
        scaled[label] = _ScaledRun(features, labels, centers, scales, lims)
    return scaled


def _draw_run_at(ax, run, position, class_names, title):
    """One panel: a _ScaledRun at one recorded epoch, its scale under ``title``."""
    lines = [title]
    if run.scales is not None:
        lines.append(_scale_note(run.scales[position]))
    _draw_features(
        ax,
        run.features[position],
        run.labels,
        run.centers[position],
        class_names,
        run.lims[position],
        "\n".join(lines),
        units=UNITS if run.scales is not None else None,
    )


def _side_by_side_figure(runs, split, class_names):
    """(figure, axes [R]): empty panels for R runs in a row, and the class legend."""
    fig, axes = plt.subplots(
        1,
        len(runs),
        squeeze=False,
        figsize=(_PANEL_INCHES * len(runs) + 1.6, _PANEL_INCHES + 1.1),
        layout="constrained",
    )
    labels = next(iter(runs.values())).split(split)[1]
    _figure_legend(fig, np.unique(labels), class_names, with_centers=True)
    return fig, axes[0]


def _draw_runs_at(fig, axes, scaled, position, epoch, split, class_names):
    """(Re)draw every run's panel at one recorded epoch, and title the figure with it."""
    for index, (ax, (label, run)) in enumerate(zip(axes, scaled.items(), strict=True)):
        ax.clear()  # redraw with the shared helper rather than keep a second drawing path
        _draw_run_at(ax, run, position, class_names, label or f"{split.capitalize()} features")
        if index:
            ax.set_ylabel("")  # same units as the first panel
    fig.suptitle(f"{split.capitalize()} features at epoch {epoch}")


def _frame_positions(snapshots, epochs, max_frames=_MAX_FRAMES):
    """Snapshot indices of the animation's frames: as asked, all, or ``max_frames``
    of them, denser early."""
    if epochs is not None:
        return _epoch_positions(snapshots, epochs)
    if len(snapshots) <= max_frames:
        return np.arange(len(snapshots))
    # Epochs 0 (before training) and 1, then quadratic spacing: dense early,
    # where the features move most, sparser later.
    spaced = 1 + np.linspace(0.0, math.sqrt(len(snapshots) - 2), max_frames - 1) ** 2
    return np.unique(np.concatenate([[0], spaced.round().astype(int)]))


def _epoch_positions(snapshots, epochs, count=_GRID_EPOCHS):
    """Indices into the snapshot arrays of the requested epoch numbers
    (default ``count`` spread evenly, first and last included)."""
    if epochs is None:
        count = min(count, len(snapshots))
        return np.unique(np.linspace(0, len(snapshots) - 1, count).round().astype(int))
    recorded = list(snapshots.epochs)
    unknown = [epoch for epoch in epochs if epoch not in recorded]
    if unknown:
        raise ValueError(
            f"epochs {unknown} were not recorded; recorded epochs are "
            f"{recorded[0]} to {recorded[-1]}."
        )
    return np.array([recorded.index(epoch) for epoch in epochs])
