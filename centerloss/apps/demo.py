"""``python -m centerloss demo``: train with and without center loss, write figures."""

from __future__ import annotations

import time

from centerloss.apps.outputs import save_figures, write_metrics_json
from centerloss.data import load_dataset
from centerloss.live import TrainingProgress
from centerloss.recipe import TrainingConfig, metrics_table, run_label, train


def run_demo(args):
    """Run the demo for parsed command-line ``args``; return the exit code.

    ``args`` have passed ``centerloss.apps.cli``'s checks (λ > 0, the output folder
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
    lambdas = (0.0, config.lambda_)  # as recipe.compare: same weights and batches
    runs, seconds = {}, {}
    for number, lambda_ in enumerate(lambdas, start=1):
        label = run_label(lambda_)
        print(f"\nRun {number}/{len(lambdas)}: {label}", flush=True)
        progress = [] if args.quiet else [TrainingProgress(label)]
        started = time.perf_counter()
        runs[label] = train(data, config, lambda_=lambda_, callbacks=progress)
        seconds[label] = time.perf_counter() - started

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
    write_metrics_json(
        args.output / "metrics.json",
        data,
        config,
        runs,
        {label: {"training_seconds": round(time_, 1)} for label, time_ in seconds.items()},
    )
    written.append("metrics.json")

    total = sum(seconds.values())
    print(f"\nTest-set metrics after {_epochs(config.epochs)} ({total:.0f} s of training):")
    print(metrics_table(runs))
    ratio = center.metrics["spread_ratio"] / plain.metrics["spread_ratio"]
    print(
        f"\nCenter loss made the classes {1 / ratio:.1f}× more compact relative to their "
        "separation (intra/inter ratio)."
    )
    print(f"Wrote {', '.join(written)} to {args.output}/")
    return 0


def _epochs(count):
    """ "1 epoch", "25 epochs"."""
    return f"{count} epoch{'s' if count != 1 else ''}"
