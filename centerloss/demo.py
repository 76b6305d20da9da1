"""``python -m centerloss demo``: train with and without center loss, write figures."""

from __future__ import annotations

import dataclasses
import json
import time
from pathlib import Path

from centerloss import plots
from centerloss.data import load_dataset
from centerloss.experiment import TrainingConfig, metrics_table, run_label, train
from centerloss.files import atomic_output
from centerloss.live import TrainingProgress


def run_demo(args):
    """Run the demo for parsed command-line ``args``; return the exit code.

    ``args`` have passed ``centerloss.cli``'s checks (λ > 0, the output folder
    exists and is writable) before TensorFlow was imported.
    """
    config = TrainingConfig(
        network=args.network,
        epochs=args.epochs,
        batch_size=args.batch_size,
        learning_rate=args.learning_rate,
        lambda_=args.lambda_,
        alpha=args.alpha,
        seed=args.seed,
        precision=args.precision,
    )
    data = load_dataset(args.dataset, seed=args.seed)
    print(f"Data: {data.name}, {len(data.x_train):,} training / {len(data.x_test):,} test images")
    print(f"Settings: {config}")
    started = time.perf_counter()
    lambdas = (0.0, config.lambda_)  # as experiment.compare: same weights and batches
    runs = {}
    for number, lambda_ in enumerate(lambdas, start=1):
        label = run_label(lambda_)
        print(f"\nRun {number}/{len(lambdas)}: {label}", flush=True)
        progress = [] if args.quiet else [TrainingProgress(label)]
        run = train(data, config, lambda_=lambda_, callbacks=progress)
        runs[run.label] = run
    seconds = time.perf_counter() - started

    plain, center = runs.values()
    written = save_figures(
        runs,
        args.output,
        class_names=list(data.class_names),
        title=f"Test features after {_epochs(config.epochs)} ({data.name})",
    )
    for key, run in zip(("softmax", "center_loss"), (plain, center), strict=True):
        run.snapshots.save(args.output / f"snapshots_{key}.npz")
        written.append(f"snapshots_{key}.npz")
    report = {
        "dataset": data.name,
        "settings": dataclasses.asdict(config),
        "training_seconds": round(seconds, 1),
        "runs": {
            label: {"lambda": run.lambda_, "test_metrics": run.metrics, "history": run.history}
            for label, run in runs.items()
        },
    }
    with atomic_output(args.output / "metrics.json") as temporary:
        temporary.write_text(json.dumps(report, indent=2))
    written.append("metrics.json")

    print(f"\nTest-set metrics after {_epochs(config.epochs)} ({seconds:.0f} s of training):")
    print(metrics_table(runs))
    ratio = center.metrics["spread_ratio"] / plain.metrics["spread_ratio"]
    print(
        f"\nCenter loss made the classes {1 / ratio:.1f}× more compact relative to their "
        "separation (intra/inter ratio)."
    )
    print(f"Wrote {', '.join(written)} to {args.output}/")
    return 0


def save_figures(runs, output, *, class_names, title):
    """Write the figures of a comparison to the folder ``output``, atomically.

    Every figure draws each run in units of its own mean distance between
    class means (see :mod:`centerloss.plots`), so sizes and shapes compare.

    Args:
      runs: {label: ``experiment.Run``} recorded at the same epochs, softmax
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


def _epochs(count):
    """ "1 epoch", "25 epochs"."""
    return f"{count} epoch{'s' if count != 1 else ''}"
