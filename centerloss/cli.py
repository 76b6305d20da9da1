"""The command line: ``python -m centerloss demo`` (and ``--version``).

Parsing needs no TensorFlow: ``--help`` and a bad option answer at once. A
command imports TensorFlow quietly (``centerloss.runtime``) only once its
options are known.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from centerloss import runtime
from centerloss.config import TrainingConfig

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
    parser.add_argument(
        "--version",
        action="store_true",
        help="print the versions of centerloss, TensorFlow and Keras, and the accelerators found",
    )
    parser.add_argument(
        "--verbose",
        action="store_true",
        help=f"show TensorFlow's native start-up log (also: {runtime.VERBOSE_VARIABLE}=1)",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
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
    demo.set_defaults(run=_run_demo)
    return parser


def main(argv=None):
    """Entry point of ``python -m centerloss`` and the ``centerloss`` script."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.version:
        print(runtime.describe())
        return 0
    if args.command is None:
        parser.error("choose a command, e.g. `python -m centerloss demo`")
    runtime.import_tensorflow(verbose=args.verbose or None)
    from centerloss.data import DataError

    try:
        return args.run(args)
    except (DataError, ValueError) as error:
        print(f"centerloss: error: {error}", file=sys.stderr)
        return 2


def _run_demo(args):
    from centerloss.demo import run_demo

    return run_demo(args)
