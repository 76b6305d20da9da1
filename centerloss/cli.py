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
from centerloss.config import PRECISIONS, TrainingConfig
from centerloss.paper import FIGURE_3_LAMBDAS, PaperSettings

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

Paper scale (full MNIST, the paper's LeNet++ and the authors' settings, with
checkpoints and --resume): see `python -m centerloss reproduce --help`.
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
    _add_precision_option(demo)
    demo.set_defaults(run=_run_demo)
    _add_reproduce_command(commands)
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


PAPER = PaperSettings()

REPRODUCE_HELP = f"""\
Reproduce the paper's MNIST experiment (Sec. 4.1, Figure 3) with the authors'
published settings (their Caffe release; see README.md): LeNet++,
batch {PAPER.batch_size}, SGD with learning rate {PAPER.learning_rate:g} and momentum
{PAPER.momentum:g}, weight decay {PAPER.weight_decay:g}, learning rate ×{PAPER.lr_factor:g} at
iterations {", ".join(f"{s:,}" for s in PAPER.lr_steps)}; {PAPER.iterations:,} iterations per λ;
α = {PAPER.alpha:g}. One run per λ, from the same initial weights and data order.

It checkpoints after every epoch into OUTPUT/checkpoints/. Ctrl-C saves and
stops; run the same command with --resume to continue (also after a crash):
the result is the same as an uninterrupted run. Writes the demo's figures,
metrics.json, snapshots_lambda-*.npz and report.md to the output folder.

Full MNIST (downloads 11 MB once), the paper's λ = 0 vs 0.01:
  python -m centerloss reproduce --dataset mnist
Offline, Fashion-MNIST (apt-get install dataset-fashion-mnist), bfloat16:
  python -m centerloss reproduce --dataset fashion-mnist --precision bfloat16
Figure 3's λ sweep: --lambdas {" ".join(f"{lam:g}" for lam in FIGURE_3_LAMBDAS)}
"""


def _add_precision_option(command):
    command.add_argument(
        "--precision",
        default="float32",
        choices=PRECISIONS,
        help="float32 (default: reproducible numbers), bfloat16 (faster on CPUs with "
        "BF16 instructions, see --version) or float16 (GPUs); centers stay float32",
    )


def _add_reproduce_command(commands):
    reproduce = commands.add_parser(
        "reproduce",
        help="the paper's MNIST experiment with the authors' settings (long, resumable)",
        description=REPRODUCE_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    reproduce.add_argument(
        "--dataset",
        default="mnist",
        metavar="NAME_OR_PATH",
        help="mnist (default: 60,000 / 10,000; downloads once), fashion-mnist, or a folder "
        "with the four MNIST IDX files or mnist.npz",
    )
    reproduce.add_argument(
        "--lambdas",
        type=float,
        nargs="+",
        default=list(PAPER.lambdas),
        metavar="λ",
        help="one run per λ (default: "
        + " ".join(f"{lam:g}" for lam in PAPER.lambdas)
        + "; the paper's Figure 3: "
        + " ".join(f"{lam:g}" for lam in FIGURE_3_LAMBDAS)
        + ")",
    )
    reproduce.add_argument(
        "--alpha", type=float, default=PAPER.alpha, help=f"α (default {PAPER.alpha:g})"
    )
    reproduce.add_argument(
        "--iterations",
        type=int,
        default=PAPER.iterations,
        help=f"training steps per run (default {PAPER.iterations:,})",
    )
    reproduce.add_argument(
        "--seed", type=int, default=PAPER.seed, help=f"random seed (default {PAPER.seed})"
    )
    reproduce.add_argument(
        "--output",
        type=Path,
        default=Path("reproduce-output"),
        help="folder for checkpoints, figures and the report (default ./reproduce-output)",
    )
    reproduce.add_argument(
        "--resume", action="store_true", help="continue the job whose checkpoints are in --output"
    )
    _add_precision_option(reproduce)
    reproduce.set_defaults(run=_run_reproduce)


def _run_reproduce(args):
    from centerloss.reproduce import run_reproduce

    return run_reproduce(args)
