"""The command line: ``python -m centerloss demo``."""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import time
from pathlib import Path

from centerloss import plots
from centerloss.data import DataError, load_dataset
from centerloss.experiment import TrainingConfig, compare, metrics_table
from centerloss.files import atomic_output

DEFAULTS = TrainingConfig()

DEMO_HELP = """\
Train the same small network twice on MNIST digits, once with softmax loss
alone (λ=0) and once with softmax + λ·center loss (Wen et al., ECCV 2016),
then write figures and numbers that show the difference.

With no options it uses the 5,000 MNIST images shipped with the package
(4,000 to train, 1,000 to test; no download) and takes a few minutes on a
laptop CPU. Files written to the output folder:
  comparison.png            test features of both runs side by side, centers marked
  trajectories.png          how each class center moved over the epochs
  epochs.png                small multiples of the center-loss run at chosen epochs
  features_over_epochs.gif  animation of the center-loss run, epoch by epoch
  metrics.json              settings, per-epoch history and final test metrics
  snapshots_*.npz           recorded features and centers (centerloss.snapshots)

Paper-scale run (full MNIST, the paper's LeNet++; ~280 s per epoch and run on a
2-core CPU, so about 3 hours for both runs; minutes on a GPU):
  python -m centerloss demo --dataset mnist --network lenet++ --epochs 20 --batch-size 128 --learning-rate 1e-3
"""


def build_parser():
    parser = argparse.ArgumentParser(
        prog="python -m centerloss",
        description="Center loss (Wen et al., ECCV 2016) for TensorFlow / Keras.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    demo = commands.add_parser(
        "demo",
        help="train without and with center loss and plot the features",
        description=DEMO_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    demo.add_argument(
        "--dataset",
        default="embedded",
        metavar="NAME_OR_PATH",
        help="embedded (default: 5,000 MNIST digits, offline), mnist (60,000; downloads "
        "11 MB once), fashion-mnist, or a folder with the four MNIST IDX files or mnist.npz",
    )
    demo.add_argument(
        "--network",
        default=DEFAULTS.network,
        choices=["compact", "lenet++"],
        help="compact (default, fast on a CPU) or lenet++ (the paper's network)",
    )
    demo.add_argument(
        "--epochs",
        type=int,
        default=DEFAULTS.epochs,
        help=f"passes over the training images (default {DEFAULTS.epochs})",
    )
    demo.add_argument(
        "--lambda",
        dest="lambda_",
        type=float,
        default=DEFAULTS.lambda_,
        help=f"λ, weight of center loss in the second run (default {DEFAULTS.lambda_})",
    )
    demo.add_argument(
        "--alpha",
        type=float,
        default=DEFAULTS.alpha,
        help=f"α in (0, 1], the centers' learning rate (default {DEFAULTS.alpha})",
    )
    demo.add_argument(
        "--batch-size",
        type=int,
        default=DEFAULTS.batch_size,
        help=f"images per training step (default {DEFAULTS.batch_size})",
    )
    demo.add_argument(
        "--learning-rate",
        type=float,
        default=DEFAULTS.learning_rate,
        help=f"Adam's initial learning rate (default {DEFAULTS.learning_rate})",
    )
    demo.add_argument(
        "--seed",
        type=int,
        default=DEFAULTS.seed,
        help="random seed; the same seed gives the same numbers (default 0)",
    )
    demo.add_argument(
        "--output",
        type=Path,
        default=Path("centerloss-output"),
        help="folder for figures and metrics (default ./centerloss-output)",
    )
    demo.add_argument("--quiet", action="store_true", help="no progress bars")
    return parser


def main(argv=None):
    """Entry point of ``python -m centerloss`` and the ``centerloss`` script."""
    args = build_parser().parse_args(argv)
    try:
        return run_demo(args)
    except (DataError, ValueError) as error:
        print(f"centerloss: error: {error}", file=sys.stderr)
        return 2


def run_demo(args):
    # Files only, no windows: chosen here, not at import, so that importing
    # this module leaves a notebook's backend alone.
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    config = TrainingConfig(
        network=args.network,
        epochs=args.epochs,
        batch_size=args.batch_size,
        learning_rate=args.learning_rate,
        lambda_=args.lambda_,
        alpha=args.alpha,
        seed=args.seed,
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

    names = list(data.class_names)
    plain, center = runs.values()
    written = []

    def save(fig, name):
        with atomic_output(args.output / name) as temporary:
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
            suptitle=f"Test features after {config.epochs} epochs ({data.name})",
            class_names=names,
        ),
        "comparison.png",
    )
    fig, axes = plt.subplots(1, 2, figsize=(14, 5.5), layout="constrained")
    for ax, (label, run) in zip(axes, runs.items()):
        plots.plot_center_trajectories(run.snapshots, ax=ax, class_names=names)
        ax.set_title(f"Center trajectories: {label}")
    save(fig, "trajectories.png")
    save(plots.plot_epoch_grid(center.snapshots, class_names=names), "epochs.png")
    plots.save_gif(
        plots.animate_features(center.snapshots, class_names=names),
        args.output / "features_over_epochs.gif",
    )
    written.append("features_over_epochs.gif")
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
