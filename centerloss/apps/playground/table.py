"""The playground's metrics table: one row per run on screen, as HTML with a fixed layout."""

from __future__ import annotations

import html
import math

from centerloss.metrics import spread_ratio
from centerloss.recipe import METRIC_COLUMNS

METRICS = ("accuracy", "spread_ratio", "silhouette")  # keys of feature_metrics shown
TABLE_STYLE = "table-layout: fixed; width: 960px"
RUN_COLUMN = "55%"  # the run's label and state; the metrics share the rest
_CELL = "padding: 2px 12px; white-space: nowrap"


def metrics_row(settings, metrics, run=None, state="finished"):
    """One table row: the run's label with its state on a second line, then the metrics."""
    if run is not None and run.stopped:
        state = f"stopped at epoch {run.epochs_trained}"
    # The state has a line of its own, so a row keeps its height and width as it changes.
    cells = {"run": f"{settings.label}\n({state})"}
    for key in METRICS:
        value = metrics.get(key)
        cells[METRIC_COLUMNS[key]] = "…" if value is None or math.isnan(value) else f"{value:.3f}"
    return cells


def live_row(settings, snapshots):
    """Metrics of the test images drawn so far (silhouette only once a run ends)."""
    features, labels, _, _ = snapshots.at(-1)
    accuracy = snapshots.history.get("val_accuracy", [math.nan])
    metrics = {
        "accuracy": accuracy[-1] if accuracy else math.nan,
        "spread_ratio": spread_ratio(features, labels),
    }
    return metrics_row(
        settings, metrics, state=f"training: epoch {int(snapshots.epochs[-1])} of {settings.epochs}"
    )


def table_html(rows):
    if not rows:
        return ""
    # The run's name left-aligned, the numbers right-aligned under their titles.
    align = ["left"] + ["right"] * (len(rows[0]) - 1)
    # Fixed column widths: the table keeps its layout while a run's label grows
    # ("training: epoch k of n") and shrinks again, instead of re-wrapping.
    columns = f'<col style="width: {RUN_COLUMN}">' + "<col>" * (len(rows[0]) - 1)
    head = "".join(
        f'<th style="{_CELL}; text-align: {side}">{html.escape(title)}</th>'
        for title, side in zip(rows[0], align, strict=True)
    )
    body = "".join(
        "<tr>"
        + "".join(
            f'<td style="{_CELL}; text-align: {side}">'
            f"{html.escape(value).replace(chr(10), '<br>')}</td>"
            for value, side in zip(row.values(), align, strict=True)
        )
        + "</tr>"
        for row in rows
    )
    return f'<table style="{TABLE_STYLE}">{columns}<tr>{head}</tr>{body}</table>'
