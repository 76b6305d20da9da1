"""The job's outputs: Figure 3, the demo's figures, ``metrics.json`` and ``report.md``."""

from __future__ import annotations

from pathlib import Path

from centerloss import plots
from centerloss.apps.outputs import save_figure, save_figures, write_metrics_json
from centerloss.apps.reproduce.results import read_result_state, result_path
from centerloss.apps.reproduce.settings import CAFFE_RELEASE
from centerloss.files import atomic_output
from centerloss.live import duration_text
from centerloss.recipe import METRIC_COLUMNS

REPORT_NAME = "report.md"
LAMBDA_GRID = "lambdas.png"

PUBLISHED_ACCURACIES = (
    (
        "[KaiyangZhou/pytorch-center-loss](https://github.com/KaiyangZhou/pytorch-center-loss)",
        "softmax + center loss, its README's example log (epoch 30 of 100)",
        "0.9851",
    ),
)
"""Test accuracies of 2-D LeNet++-style networks on MNIST published by
re-implementations: (source, what was run, accuracy). The paper gives none
for Figure 3."""


def _published_accuracies(runs, data):
    """Report lines that set the runs' accuracies next to published ones (MNIST only)."""
    if data.name != "mnist":
        return []
    lines = [
        "## Next to the paper",
        "",
        "The paper gives no accuracy for Figure 3. Re-implementations with a 2-D feature "
        "layer report these test accuracies on the 10,000 MNIST test digits:",
        "",
        "| source | what | test accuracy |",
        "|---|---|---|",
    ]
    lines += [f"| {source} | {what} | {value} |" for source, what, value in PUBLISHED_ACCURACIES]
    lines += [
        f"| this job | {label} | {run.metrics['accuracy']:.4f} |" for label, run in runs.items()
    ]
    return [*lines, ""]


def write_outputs(runs, data, settings, output, *, command=""):
    """Figures, ``metrics.json``, snapshots and ``report.md`` of finished ``runs``.

    Returns:
      The file names written to ``output``.
    """
    output = Path(output)
    runs = dict(sorted(runs.items(), key=lambda item: item[1].lambda_))
    iterations = f"{settings.iterations:,} iterations"
    written = save_figures(
        headline_pair(runs),
        output,
        class_names=list(data.class_names),
        title=f"Test features after {iterations} ({data.name}, LeNet++)",
    )
    setting = f"{data.name}, LeNet++, {iterations}, α = {settings.alpha:g}"
    fig = plots.plot_lambda_grid(
        runs.values(),
        title=f"Test features, softmax + λ · center loss ({setting})",
        class_names=data.class_names,
        accuracy_digits=4,
        ncols=3,
    )
    save_figure(fig, output / LAMBDA_GRID)
    written.append(LAMBDA_GRID)
    # Each run's time, machine and precision, kept in its result file.
    records = {
        label: read_result_state(result_path(output, run.lambda_)) for label, run in runs.items()
    }
    written += [result_path(output, run.lambda_).name for run in runs.values()]
    write_metrics_json(
        output / "metrics.json",
        data,
        settings,
        runs,
        {
            label: {
                "precision": records[label]["settings"]["precision"],
                "training_seconds": round(records[label]["seconds"], 1),
                "machine": records[label]["machine"],
            }
            for label in runs
        },
    )
    written.append("metrics.json")
    with atomic_output(output / REPORT_NAME) as temporary:
        temporary.write_text(markdown_report(runs, data, settings, records, command))
    written.append(REPORT_NAME)
    return written


def headline_pair(runs):
    """The runs the side-by-side figures show: softmax alone and one λ > 0.

    That λ is the paper's 0.01 where the job has it, else the largest; with
    no λ = 0 run, or a single run, every run is shown.
    """
    by_lambda = {run.lambda_: label for label, run in runs.items()}
    others = [lam for lam in by_lambda if lam > 0]
    if 0 not in by_lambda or not others:
        return runs
    chosen = 0.01 if 0.01 in by_lambda else max(others)
    return {by_lambda[lam]: runs[by_lambda[lam]] for lam in (0.0, chosen)}


def _machine_text(info):
    return (
        f"{info['cpu']}, {info['usable_cpus']} usable of {info['cpu_count']} CPUs, "
        f"bfloat16 instructions: {', '.join(info['bf16_instructions']) or 'none'}; "
        f"GPU: {', '.join(info['gpus']) or 'none'}; TensorFlow {info['tensorflow']}, "
        f"Keras {info['keras']}, Python {info['python']}"
    )


def markdown_report(runs, data, settings, records, command):
    """The job's report as Markdown: settings, data, machines, times, metrics, figures.

    Args:
      records: {run label: the state in its result file} (seconds, machine,
        precision).
    """
    labels = list(runs)
    precisions = {records[label]["settings"]["precision"] for label in labels}
    machines = list(dict.fromkeys(_machine_text(records[label]["machine"]) for label in labels))
    letters = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    images = settings.iterations * settings.batch_size
    lines = [
        f"# Center loss on {data.name}: the paper's MNIST experiment (LeNet++)",
        "",
        f"Command: `{command}`",
        "",
        "## Settings",
        "",
        f"The authors' published MNIST settings ({CAFFE_RELEASE}): LeNet++ "
        "(5×5 convs 32,32 / 64,64 / 128,128 with PReLU, max-pools, a 2-D feature layer, "
        'softmax layer without bias, Caffe\'s "xavier" initialisation, inputs scaled to '
        f"[−1, 1]); batch {settings.batch_size}; SGD, learning rate {settings.learning_rate:g}, "
        f"momentum {settings.momentum:g}, weight decay {settings.weight_decay:g}, learning rate "
        f"×{settings.lr_factor:g} at iterations {', '.join(f'{s:,}' for s in settings.lr_steps)}; "
        f"{settings.iterations:,} iterations per run; α = {settings.alpha:g}; "
        f"λ ∈ {{{', '.join(f'{lam:g}' for lam in settings.lambdas)}}}; seed {settings.seed}; "
        + (
            f"precision {precisions.pop()}." if len(precisions) == 1 else "precision per run below."
        ),
        "",
        f"Data: {data.name}, {len(data.x_train):,} training and {len(data.x_test):,} test "
        f"images; each run sees {images:,} training images "
        f"({images / len(data.x_train):.1f} epochs), a fresh seeded shuffle per epoch.",
        "",
        "## Machine and time",
        "",
        *(f"Machine {letter}: {text}." for letter, text in zip(letters, machines, strict=False)),
        "",
        "| run | machine | precision | training time | images/s |",
        "|---|---|---|---|---|",
    ]
    for label in labels:
        record = records[label]
        letter = letters[machines.index(_machine_text(record["machine"]))]
        seconds = record["seconds"]
        lines.append(
            f"| {label} | {letter} | {record['settings']['precision']} | {duration_text(seconds)} "
            f"| {images / seconds:,.0f} |"
        )
    lines += [
        "",
        "Training time includes the per-epoch test-set evaluation and snapshots; a resumed "
        "job adds up its sessions. It depends on what else ran on the machine meanwhile.",
        "",
        f"## Test-set results ({len(data.x_test):,} images)",
        "",
        "| metric | " + " | ".join(labels) + " |",
        "|---|" + "---|" * len(labels),
    ]
    for key, name in METRIC_COLUMNS.items():
        lines.append(
            f"| {name} | "
            + " | ".join(f"{runs[label].metrics[key]:.4f}" for label in labels)
            + " |"
        )
    plain = next((run for run in runs.values() if run.lambda_ == 0), None)
    if plain is not None:
        lines.append("")
        for run in runs.values():
            if run.lambda_ > 0:
                ratio = run.metrics["spread_ratio"] / plain.metrics["spread_ratio"]
                lines.append(
                    f"With λ = {run.lambda_:g} the test set's intra/inter ratio is {ratio:.2f}× "
                    "the softmax-only run's (lower: more compact classes, as in Figure 3)."
                )
    lines += [
        "",
        "Intra/inter ratio: mean distance of a feature to its class mean over the mean "
        "distance between class means (lower is more compact); silhouette on 2,000 test "
        "features (higher is better clustered); see `centerloss.metrics.feature_metrics`.",
        "",
        *_published_accuracies(runs, data),
        "## Figures",
        "",
        "The paper's Figure 3: each run's test features after the last iteration, each panel "
        "in its own separation units (mean distance between class means = 1), with the "
        "intra/inter ratio and softmax accuracy under it:",
        "",
        f"![Test features for each λ]({LAMBDA_GRID})",
        "",
        "Test features at the end of "
        + (
            "each run"
            if len(headline_pair(runs)) == len(runs)
            else "softmax alone and " + list(headline_pair(runs))[-1]
        )
        + ", class centers marked:",
        "",
        "![Test features of each run](comparison.png)",
        "",
        "How the class centers moved, epoch by epoch:",
        "",
        "![Center trajectories](trajectories.png)",
        "",
        "Both runs at chosen epochs, one row per run (epoch 0, before training, has its own zoom):",
        "",
        "![Features at chosen epochs](epochs.png)",
        "",
        "## Differences from the Caffe release",
        "",
        "- Algorithm 1 moves the centers directly, c_j ← c_j − α·Δc_j; the Caffe release "
        "passes Δc_j to its solver as the centers' gradient, so there the step is scaled "
        "by the learning rate and smoothed by momentum.",
        '- Centers start at 0 (Caffe: random, "xavier" filler).',
        "- Biases learn at the base learning rate (Caffe: twice it, `lr_mult: 2`).",
        "- Every epoch is a fresh seeded shuffle with the last partial batch left out "
        "(Caffe reads its database in order).",
        "",
    ]
    return "\n".join(lines)
