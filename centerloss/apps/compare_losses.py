"""``python -m centerloss compare-losses``: which loss is better, over seeds and on strangers.

Trains softmax, center loss, NormFace, CosFace and ArcFace (lesson 07's five,
at lesson 07's settings) on the embedded digits, for each seed, twice:

* **2-D, all ten digits**: test accuracy, the intra/inter ratio, the angular
  spread, separation and ratio, and verification AUC by cosine;
* **32-D, digits 0-7** (lesson 05's open-set test): test accuracy on the known
  digits, and verification AUC and precision@5 by cosine on every image of
  the digits 8 and 9, which training never saw.

Writes ``results.json`` (every number, per seed) and ``results.md`` (mean ±
standard deviation over seeds, and how many seeds each loss won) to the output folder.
"""

from __future__ import annotations

import dataclasses
import json
import time

import numpy as np

from centerloss.data import load_dataset, select_classes
from centerloss.files import atomic_output
from centerloss.live import TrainingProgress
from centerloss.margins import ArcFace, CosFace, NormFace
from centerloss.metrics import (
    angular_metrics,
    retrieval_precision_at_k,
    spread_ratio,
    verification_roc_auc_score,
)
from centerloss.recipe import TrainingConfig, train

KNOWN, HELD_OUT = list(range(8)), [8, 9]
SCALE, MARGIN, ANGULAR_LEARNING_RATE, LAMBDA = 16.0, 0.1, 2e-3, 0.1
LOSSES = {  # name: (λ, head factory or None); lesson 07's settings
    "softmax": (0.0, None),
    "center loss": (LAMBDA, None),
    "NormFace": (0.0, lambda classes: NormFace(classes, scale=SCALE)),
    "CosFace": (0.0, lambda classes: CosFace(classes, scale=SCALE, margin=MARGIN)),
    "ArcFace": (0.0, lambda classes: ArcFace(classes, scale=SCALE, margin=MARGIN)),
}
# Higher is better for every score but the ratios and the spread.
LOWER_IS_BETTER = {"intra_inter_ratio", "angular_spread", "angular_ratio"}


def train_loss(name, data, config, quiet=False):
    """Train loss ``name`` of :data:`LOSSES` on ``data``; the angular heads on a linear
    feature layer with Adam from 2e-3 (lesson 07, "What 2-D does to these losses")."""
    lambda_, make_head = LOSSES[name]
    options = {}
    if make_head is not None:
        config = dataclasses.replace(config, learning_rate=ANGULAR_LEARNING_RATE)
        options = {"feature_activation": "linear"}
    return train(
        data,
        config,
        lambda_=lambda_,
        head=make_head(len(data.class_names)) if make_head else None,
        network_options=options,
        callbacks=[] if quiet else [TrainingProgress(name)],
    )


def _features(model, images):
    return np.asarray(model(images, training=False)[1])


def closed_set_scores(run, data, seed):
    """2-D scores of one run on the test split of ``data``."""
    features = _features(run.model, data.x_test)
    angles = angular_metrics(features, data.y_test)
    return {
        "accuracy": run.metrics["accuracy"],
        "intra_inter_ratio": spread_ratio(features, data.y_test),
        "angular_spread": angles["angular_spread"],
        "angular_ratio": angles["angular_ratio"],
        "verification_auc": verification_roc_auc_score(features, data.y_test, random_state=seed),
    }


def open_set_scores(run, held_images, held_labels, seed):
    """32-D scores of one run on the digits it never saw."""
    features = _features(run.model, held_images)
    return {
        "accuracy_known": run.metrics["accuracy"],
        "held_out_auc": verification_roc_auc_score(features, held_labels, random_state=seed),
        "held_out_precision_at_5": retrieval_precision_at_k(features, held_labels, k=5),
    }


def compare(seeds, epochs, quiet=False):
    """{"2-D": {loss: {score: [per seed]}}, "32-D, held-out 8 and 9": {...}}."""
    results = {"2-D": {}, "32-D, held-out 8 and 9": {}}
    for seed in seeds:
        data = load_dataset("embedded", seed=seed)
        known = select_classes(data, KNOWN)
        held = select_classes(data, HELD_OUT)
        held_images = np.concatenate([held.x_train, held.x_test])
        held_labels = np.concatenate([held.y_train, held.y_test])
        config = TrainingConfig(epochs=epochs, seed=seed, snapshot_size=100)
        for name in LOSSES:
            flat = train_loss(name, data, config, quiet)
            wide = train_loss(name, known, dataclasses.replace(config, feature_dim=32), quiet)
            for part, scores in (
                ("2-D", closed_set_scores(flat, data, seed)),
                ("32-D, held-out 8 and 9", open_set_scores(wide, held_images, held_labels, seed)),
            ):
                table = results[part].setdefault(name, {})
                for score, value in scores.items():
                    table.setdefault(score, []).append(float(value))
    return results


def markdown(results, seeds, epochs):
    """The results as Markdown tables: mean ± standard deviation, and seeds won."""
    lines = [
        f"Seeds {', '.join(map(str, seeds))}; {epochs} epochs per run; mean ± standard "
        "deviation over the seeds, and in brackets on how many seeds the loss had the best "
        "score of the five. Made by `python -m centerloss compare-losses`.",
    ]
    for part, table in results.items():
        scores = list(next(iter(table.values())))
        lines += ["", f"**{part}**", "", "| loss | " + " | ".join(scores) + " |"]
        lines.append("|---" * (len(scores) + 1) + "|")
        for name, row in table.items():
            cells = []
            for score in scores:
                values = np.array(row[score])
                everyone = np.array([table[other][score] for other in table])
                best = everyone.min(axis=0) if score in LOWER_IS_BETTER else everyone.max(axis=0)
                spread = f" ± {values.std(ddof=1):.3f}" if len(values) > 1 else ""
                cells.append(f"{values.mean():.3f}{spread} ({int((values == best).sum())})")
            lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def run_compare_losses(args):
    """The command: train, then write results.json and results.md to ``args.output``."""
    started = time.perf_counter()
    results = compare(args.seeds, args.epochs, quiet=args.quiet)
    args.output.mkdir(parents=True, exist_ok=True)
    report = {
        "seeds": args.seeds,
        "epochs": args.epochs,
        "settings": {"scale": SCALE, "margin": MARGIN, "lambda": LAMBDA},
        "results": results,
    }
    with atomic_output(args.output / "results.json") as temporary:
        temporary.write_text(json.dumps(report, indent=2))
    text = markdown(results, args.seeds, args.epochs)
    with atomic_output(args.output / "results.md") as temporary:
        temporary.write_text(text)
    print(text)
    print(f"Written to {args.output} in {time.perf_counter() - started:.0f} s.")
    return 0
