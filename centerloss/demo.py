"""``python -m centerloss demo``: train with and without center loss, write figures."""

from __future__ import annotations

import dataclasses
import json
import time
from pathlib import Path

from centerloss import plots
from centerloss.data import load_dataset
from centerloss.experiment import TrainingConfig, compare, metrics_table
from centerloss.files import atomic_output


def run_demo(args):
    """Run the demo for parsed command-line ``args``; return the exit code."""
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
    if config.lambda_ == 0:
        raise ValueError("--lambda must be > 0: the demo compares λ=0 with your λ.")
    data = load_dataset(args.dataset, seed=args.seed)
    args.output.mkdir(parents=True, exist_ok=True)
    print(f"Data: {data.name}, {len(data.x_train):,} training / {len(data.x_test):,} test images")
    print(f"Settings: {config}")
    started = time.perf_counter()
    print(f"\nTraining twice: λ=0, then λ={config.lambda_:g} ...", flush=True)
    runs = compare(data, config, verbose=0 if args.quiet else 2)
    seconds = time.perf_counter() - started

    plain, center = runs.values()
    written = save_figures(
        runs,
        args.output,
        class_names=list(data.class_names),
        suptitle=f"Test features after {config.epochs} epochs ({data.name})",
    )
    for key, run in zip(("softmax", "center_loss"), (plain, center)):
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

    print(f"\nTest-set metrics after {config.epochs} epochs ({seconds:.0f} s of training):")
    print(metrics_table(runs))
    ratio = center.metrics["spread_ratio"] / plain.metrics["spread_ratio"]
    print(
        f"\nCenter loss made the classes {1 / ratio:.1f}× more compact relative to their "
        "separation (intra/inter ratio)."
    )
    print(f"Wrote {', '.join(written)} to {args.output}/")
    return 0


def save_figures(runs, output, *, class_names, suptitle):
    """Write the figures of a comparison to the folder ``output``, atomically.

    Args:
      runs: {label: ``experiment.Run``}, softmax only first; the last run is
        the one shown epoch by epoch.
      output: an existing folder.
      class_names: names indexed by class id.
      suptitle: title of the side-by-side figure.

    Returns:
      The names written: comparison.png (each run's final test features),
      trajectories.png (one panel per run), epochs.png and
      features_over_epochs.gif (the last run's features epoch by epoch).
    """
    # Files only, no windows: chosen here, not at import, so that importing
    # this module leaves a notebook's backend alone.
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    output = Path(output)
    written = []

    def save(fig, name):
        with atomic_output(output / name) as temporary:
            fig.savefig(temporary, dpi=110, bbox_inches="tight")
        plt.close(fig)
        written.append(name)

    save(
        plots.plot_comparison(
            {
                label: (
                    run.snapshots.test_features[-1],
                    run.snapshots.test_labels,
                    run.snapshots.centers[-1],
                )
                for label, run in runs.items()
            },
            suptitle=suptitle,
            class_names=class_names,
        ),
        "comparison.png",
    )
    fig, axes = plt.subplots(
        1, len(runs), figsize=(7 * len(runs), 5.5), squeeze=False, layout="constrained"
    )
    for ax, (label, run) in zip(axes[0], runs.items(), strict=True):
        plots.plot_center_trajectories(run.snapshots, ax=ax, class_names=class_names)
        ax.set_title(f"Center trajectories: {label}")
    save(fig, "trajectories.png")
    last = list(runs.values())[-1]
    save(plots.plot_epoch_grid(last.snapshots, class_names=class_names), "epochs.png")
    plots.save_gif(
        plots.animate_features(last.snapshots, class_names=class_names),
        output / "features_over_epochs.gif",
    )
    written.append("features_over_epochs.gif")
    return written
