"""What the programs write: figures (PNG, GIF) and ``metrics.json``, each all or nothing.

The demo and ``reproduce`` write the same files in the same layout, so a
comparison of their runs reads the same wherever it came from.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

from centerloss import plots
from centerloss.files import atomic_output


def data_summary(data):
    """{"name", "train", "test"}: which data set, and how many images of each split."""
    return {"name": data.name, "train": len(data.x_train), "test": len(data.x_test)}


def write_metrics_json(path, data, settings, runs, per_run=None):
    """Write ``metrics.json``: the data, the settings, and each run's test metrics and history.

    Args:
      path: the file to write (atomically).
      data: the ``Dataset`` trained on.
      settings: the dataclass of settings (``TrainingConfig``, ``PaperSettings``).
      runs: {label: ``recipe.Run``}.
      per_run: {label: dict} of more fields for a run (training time, machine,
        precision), placed after its λ.
    """
    per_run = per_run or {}
    report = {
        "dataset": data_summary(data),
        "settings": dataclasses.asdict(settings),
        "runs": {
            label: {
                "lambda": run.lambda_,
                **per_run.get(label, {}),
                "test_metrics": run.metrics,
                "history": run.history,
            }
            for label, run in runs.items()
        },
    }
    with atomic_output(path) as temporary:
        temporary.write_text(json.dumps(report, indent=2))


def save_figures(runs, output, *, class_names, title):
    """Write the figures of a comparison to the folder ``output``, atomically.

    Every figure draws each run in units of its own mean distance between
    class means (see :mod:`centerloss.plots`), so sizes and shapes compare.

    Args:
      runs: {label: ``recipe.Run``} recorded at the same epochs, softmax
        only first.
      output: an existing folder.
      class_names: names indexed by class id.
      title: title of the side-by-side figure.

    Returns:
      The names written: comparison.png (each run's final test features side
      by side), trajectories.png (one panel per run), epochs.png (small
      multiples, one labelled column per run) and features_over_epochs.gif (the
      runs side by side, one epoch per frame).
    """
    # Files only, no windows: chosen here, not at import, so that importing
    # this module leaves a notebook's backend alone.
    import matplotlib

    matplotlib.use("Agg")

    output = Path(output)
    records = {label: run.snapshots for label, run in runs.items()}
    written = []

    def save(fig, name):
        save_figure(fig, output / name)
        written.append(name)

    save(
        plots.plot_comparison(
            {label: record.at(-1) for label, record in records.items()},
            title=title,
            class_names=class_names,
        ),
        "comparison.png",
    )
    save(
        plots.plot_trajectory_comparison(
            {f"Center trajectories: {label}": record for label, record in records.items()},
            class_names=class_names,
        ),
        "trajectories.png",
    )
    save(plots.plot_epoch_grid(records, class_names=class_names), "epochs.png")
    plots.save_gif(
        plots.animate_features(records, class_names=class_names),
        output / "features_over_epochs.gif",
        dpi=90,
    )
    written.append("features_over_epochs.gif")
    return written


def save_figure(fig, path):
    """Write ``fig`` to ``path`` at the demo's resolution, all or nothing, then close it."""
    import matplotlib.pyplot as plt

    with atomic_output(path) as temporary:
        fig.savefig(temporary, dpi=110, bbox_inches="tight")
    plt.close(fig)
