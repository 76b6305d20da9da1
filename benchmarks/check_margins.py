"""How far each lesson check stays from its bound, on every numeric path a student may meet.

A lesson's check cells assert its claims with margins. Those margins must hold
on any CPU, where oneDNN picks other kernels and 60 epochs of training end at
other weights, and on any seed, which changes a run as much. This script runs
each training lesson top to bottom (nbclient, a fresh kernel each time) on:

* ``default``: this machine's kernels, the committed parameters;
* ``capped``: oneDNN capped one instruction set lower (``ONEDNN_MAX_CPU_ISA``:
  AVX2 on an AVX-512 CPU, SSE41 on an AVX2 one);
* ``onednn-off``: ``TF_ENABLE_ONEDNN_OPTS=0``, TensorFlow's own kernels;
* ``seed1``, ``seed2``: the default kernels with another ``SEED`` (lesson 05
  trains seeds 0, 1 and 2 in every run, so it has no seed paths).

After the lesson's last cell it evaluates the values its checks compare
(:data:`CHECKS`: the same expressions as the check cells, on the lesson's own
variables) and prints, per check, its bound, its value on every path and the
worst one, as a Markdown table for ``docs/developing.md``. A check cell that
fails on a path does not stop the run: its cell error is reported.

    python3 benchmarks/check_margins.py                       # every lesson, every path
    python3 benchmarks/check_margins.py --lessons 02 --paths default onednn-off
"""

from __future__ import annotations

import argparse
import json
import operator
import os
import re
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LESSONS = {path.name[:2]: path for path in sorted((ROOT / "notebooks").glob("0[2-5]_*.ipynb"))}
HIDDEN = "legibility.worst_hidden_share"
WIDGETS = re.compile(r"import ipywidgets|Playground\(")
WIDTH = (
    "min(legibility.marker_widths(ax).min()"
    " for f in {figures} for ax in legibility.feature_panels(f))"
)

# lesson -> [(check, expression on the lesson's variables, ">=" or "<=", bound)]
CHECKS = {
    "02": [
        (
            "softmax accuracy, both runs",
            "min(plain.metrics['accuracy'], center.metrics['accuracy'])",
            ">=",
            0.96,
        ),
        ("intra/inter ratio shrinks (×)", "improvement", ">=", 2.0),
        (
            "silhouette gain",
            "center.metrics['silhouette'] - plain.metrics['silhouette']",
            ">=",
            0.0,
        ),
        ("nearest-center accuracy, λ > 0", "center.metrics['nearest_center_accuracy']", ">=", 0.94),
        ("w_j · x accuracy, softmax only", "projection_accuracy", ">=", 0.75),
        (
            "points hidden under a center",
            f"max({HIDDEN}(f) for f in (headline, training_features, wedges))",
            "<=",
            0.10,
        ),
        (
            "center-loss cluster span (pt)",
            "legibility.cluster_spans(center_panel).min()",
            ">=",
            15.0,
        ),
        (
            "center marker width (px)",
            WIDTH.format(figures="(headline, training_features, wedges)"),
            ">=",
            8.0,
        ),
    ],
    "03": [
        ("center steps, last 3 ÷ first 3", "last / first", "<=", 0.5),
        (
            "ratio, last epoch ÷ epoch 1",
            "per_epoch[-1]['spread_ratio'] / per_epoch[1]['spread_ratio']",
            "<=",
            1.0,
        ),
        (
            "ratio, center loss ÷ softmax",
            "per_epoch[-1]['spread_ratio'] / softmax_ratio",
            "<=",
            0.7,
        ),
        ("points hidden under a center", "worst_hidden", "<=", 0.10),
        ("center marker width (px)", "narrowest_marker", ">=", 8.0),
    ],
    "04": [
        (
            "accuracy, every λ ≤ 0.1",
            "min(a for lam, a in accuracy.items() if lam <= 0.1)",
            ">=",
            0.95,
        ),
        (
            "ratio rise, one λ to the next (×)",
            "max(b / a for a, b in zip(ratio, ratio[1:]))",
            "<=",
            1.1,
        ),
        (
            "ratio, λ = 0.1 ÷ λ = 0",
            "by_lambda[0.1].metrics['spread_ratio'] / by_lambda[0].metrics['spread_ratio']",
            "<=",
            0.65,
        ),
        ("separation, λ = 1 ÷ λ = 0", "separation[-1] / separation[0]", "<=", 0.2),
        ("accuracy, λ = 1", "large['accuracy']", ">=", 0.93),
        ("ratio, λ = 1 ÷ λ = 0.1", "large['spread_ratio'] / best['spread_ratio']", "<=", 1.1),
        (
            "separation, λ = 1 ÷ λ = 0.1",
            "large['inter_class_separation'] / best['inter_class_separation']",
            "<=",
            1.0,
        ),
        (
            "lag after epoch 1, α = 0.01 ÷ α = 0.5",
            "early['α = 0.01'] / early['α = 0.5']",
            ">=",
            2.0,
        ),
        (
            "lag after epoch 1, α = 0.01 ÷ α = 0.1",
            "early['α = 0.01'] / early['α = 0.1']",
            ">=",
            1.0,
        ),
        ("lag after epoch 1, α = 0.1 ÷ α = 0.5", "early['α = 0.1'] / early['α = 0.5']", ">=", 1.0),
        (
            "lag at the end, α = 0.01 ÷ the next largest",
            "last['α = 0.01'] / max(v for k, v in last.items() if k != 'α = 0.01')",
            ">=",
            1.0,
        ),
        ("points hidden under a center", f"{HIDDEN}(figure3)", "<=", 0.10),
        ("center marker width (px)", WIDTH.format(figures="(figure3,)"), ">=", 8.0),
    ],
    "05": [
        (
            "accuracy on known digits, every run",
            "min(a.min() for a in accuracies.values())",
            ">=",
            0.95,
        ),
        (
            "held-out AUC, every run",
            "min(results['verification AUC', 'held-out', m][lam].min()"
            " for m in METRICS for lam in LAMBDAS)",
            ">=",
            0.75,
        ),
        (
            "held-out precision@k, every run",
            "min(results[f'precision@{K}', 'held-out', m][lam].min()"
            " for m in METRICS for lam in LAMBDAS)",
            ">=",
            0.8,
        ),
        (
            "known AUC − held-out AUC",
            "min((results['verification AUC', 'known', m][lam]"
            " - results['verification AUC', 'held-out', m][lam]).min()"
            " for m in METRICS for lam in LAMBDAS)",
            ">=",
            0.0,
        ),
        ("known ratio, center loss ÷ softmax", "(ratios[LAMBDA] / ratios[0.0]).max()", "<=", 0.8),
        (
            "known AUC gain from center loss",
            "min((results['verification AUC', 'known', m][LAMBDA]"
            " - results['verification AUC', 'known', m][0.0]).min() for m in METRICS)",
            ">=",
            0.0,
        ),
        (
            "held-out mean score change",
            "max(abs((v[LAMBDA] - v[0.0]).mean())"
            " for (n, s, m), v in results.items() if s == 'held-out')",
            "<=",
            0.05,
        ),
    ],
}

# Numbers the lessons' prose quotes, kept with the checks so that the prose can give the
# range they take over the paths: lesson -> {name: expression (a number or a list)}
PROSE = {
    "02": {
        "accuracy λ=0, λ=0.1": "[plain.metrics['accuracy'], center.metrics['accuracy']]",
        "ratio λ=0, λ=0.1": "[plain.metrics['spread_ratio'], center.metrics['spread_ratio']]",
        "silhouette λ=0, λ=0.1": "[plain.metrics['silhouette'], center.metrics['silhouette']]",
        "nearest-center λ=0, λ=0.1": "[plain.metrics['nearest_center_accuracy'],"
        " center.metrics['nearest_center_accuracy']]",
        "w_j · x accuracy": "projection_accuracy",
    },
    "03": {
        "ratio per epoch, λ>0 (1, 5, last)": "[per_epoch[k]['spread_ratio'] for k in (1, 5, -1)]",
        "softmax ratio, last": "softmax_ratio",
    },
    "04": {
        "accuracy per λ": "[r.metrics['accuracy'] for r in lambda_runs]",
        "ratio per λ": "ratio",
        "silhouette per λ": "[r.metrics['silhouette'] for r in lambda_runs]",
        "nearest-center per λ": "[r.metrics['nearest_center_accuracy'] for r in lambda_runs]",
        "separation per λ": "separation",
        "lag after epoch 1 per α": "[lag[1] for lag in lags.values()]",
        "lag after the last epoch per α": "[lag[-1] for lag in lags.values()]",
        "α = 1 minus α = 0.5 lag, every epoch (min)": (
            "min(lags['α = 1'][1:] - lags['α = 0.5'][1:])"
        ),
        "ratio per α": "[r.metrics['spread_ratio'] for r in alpha_runs]",
        "accuracy per α": "[r.metrics['accuracy'] for r in alpha_runs]",
        "separation α = 0.01 ÷ α = 0.5": "alpha_runs[0].metrics['inter_class_separation']"
        " / alpha_runs[2].metrics['inter_class_separation']",
    },
    "05": {
        "known ratio per seed, λ=0": "ratios[0.0]",
        "known ratio per seed, λ>0": "ratios[LAMBDA]",
        "known accuracy per seed, λ=0": "accuracies[0.0]",
        "known accuracy per seed, λ>0": "accuracies[LAMBDA]",
        **{
            f"held-out {name} {metric}, per seed: λ=0, change": f"[results[{name!r}, 'held-out',"
            f" {metric!r}][0.0], results[{name!r}, 'held-out', {metric!r}][LAMBDA]"
            f" - results[{name!r}, 'held-out', {metric!r}][0.0]]"
            for name in ("verification AUC", "precision@5")
            for metric in ("cosine", "euclidean")
        },
        "known AUC cosine per seed, λ=0, λ>0": (
            "[results['verification AUC', 'known', 'cosine'][0.0],"
            " results['verification AUC', 'known', 'cosine'][LAMBDA]]"
        ),
    },
}


def capped_isa():
    """One instruction set below this CPU's: AVX2 on an AVX-512 CPU, SSE41 on an AVX2 one."""
    flags = Path("/proc/cpuinfo").read_text() if Path("/proc/cpuinfo").exists() else ""
    return "AVX2" if re.search(r"\bavx512f\b", flags) else "SSE41"


def paths():
    """{path name: (environment changes, parameter overrides)}."""
    return {
        "default": ({}, {}),
        "capped": ({"ONEDNN_MAX_CPU_ISA": capped_isa()}, {}),
        "onednn-off": ({"TF_ENABLE_ONEDNN_OPTS": "0"}, {}),
        "seed1": ({}, {"SEED": 1}),
        "seed2": ({}, {"SEED": 2}),
    }


def run_lesson(lesson, overrides, out):
    """Execute one lesson with parameter overrides in this process; write its check values."""
    import nbformat
    from nbclient import NotebookClient

    notebook = nbformat.read(LESSONS[lesson], as_version=4)
    # Widget cells (lesson 02's playground, lesson 03's slider) check nothing, and nbclient
    # now and then waits forever after one (jupyter/nbclient#312): leave them out.
    notebook.cells = [c for c in notebook.cells if not WIDGETS.search(c.source)]
    parameters = next(c for c in notebook.cells if c.cell_type == "code")
    for name, value in overrides.items():
        parameters.source, count = re.subn(
            rf"^{name} = .*$", f"{name} = {value!r}", parameters.source, flags=re.M
        )
        if not count:
            raise SystemExit(f"lesson {lesson} has no parameter {name}")
    expressions = {name: expression for name, expression, _, _ in CHECKS[lesson]}
    notebook.cells.append(
        nbformat.v4.new_code_cell(
            "import json as _json\n"
            f"_checks = {{name: float(eval(e)) for name, e in {expressions!r}.items()}}\n"
            "_prose = {name: np.asarray(eval(e)).tolist()"
            f" for name, e in {PROSE[lesson]!r}.items()}}\n"
            "print('CHECKS ' + _json.dumps({'values': _checks, 'prose': _prose}))"
        )
    )
    started = time.perf_counter()
    client = NotebookClient(
        notebook,
        timeout=1800,
        allow_errors=True,
        resources={"metadata": {"path": str(ROOT / "notebooks")}},
    )
    client.execute()
    errors = [
        f"cell {index}: {output.ename}: {output.evalue[:200]}"
        for index, cell in enumerate(notebook.cells)
        if cell.cell_type == "code"
        for output in cell.get("outputs", [])
        if output.output_type == "error"
    ]
    text = "".join(
        o.get("text", "") for o in notebook.cells[-1].outputs if o.output_type == "stream"
    )
    measured = json.loads(text.split("CHECKS ", 1)[1]) if "CHECKS " in text else {}
    Path(out).write_text(
        json.dumps(
            {
                "values": measured.get("values", {}),
                "prose": measured.get("prose", {}),
                "errors": errors or ([] if measured else ["the check values were not computed"]),
                "seconds": time.perf_counter() - started,
            }
        )
    )


def table(results):
    """Markdown: check, bound, worst value and its path, every path's value."""
    compare = {">=": operator.ge, "<=": operator.le}
    present = {name for by_path in results.values() for name in by_path}
    names = [name for name in paths() if name in present]
    lines = [
        "| lesson | check | bound | worst | on | " + " | ".join(names) + " |",
        "|---|---|---|---|---|" + "---|" * len(names),
    ]
    for lesson, by_path in results.items():
        for check, _, op, bound in CHECKS[lesson]:
            values = {p: by_path[p]["values"].get(check) if p in by_path else None for p in names}
            measured = {p: v for p, v in values.items() if v is not None}
            pick = min if op == ">=" else max
            worst_path = pick(measured, key=measured.get) if measured else "-"
            worst = measured.get(worst_path)
            mark = "" if worst is None or compare[op](worst, bound) else " ✗"
            cells = " | ".join("-" if values[p] is None else f"{values[p]:.3g}" for p in names)
            lines.append(
                f"| {lesson} | {check} | {op} {bound:g} | "
                f"{'-' if worst is None else f'{worst:.3g}'}{mark} | {worst_path} | {cells} |"
            )
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lessons", nargs="+", default=list(CHECKS), choices=list(CHECKS))
    parser.add_argument("--paths", nargs="+", default=list(paths()), choices=list(paths()))
    parser.add_argument("--out", default="check-margins.json", help="where the values are kept")
    parser.add_argument("--one", nargs=2, help=argparse.SUPPRESS)  # lesson, JSON overrides
    args = parser.parse_args(argv)
    if args.one:
        return run_lesson(args.one[0], json.loads(args.one[1]), args.out)
    out = Path(args.out)
    results = json.loads(out.read_text()) if out.exists() else {}
    for lesson in args.lessons:
        for name in args.paths:
            env, overrides = paths()[name]
            if lesson == "05" and "SEED" in overrides:
                continue  # lesson 05 trains seeds 0, 1 and 2 on every path
            single = out.with_suffix(f".{lesson}.{name}.json")
            subprocess.run(
                [
                    sys.executable,
                    __file__,
                    "--one",
                    lesson,
                    json.dumps(overrides),
                    "--out",
                    str(single),
                ],
                env={**os.environ, **env},
                check=True,
            )
            result = json.loads(single.read_text())
            single.unlink()
            results.setdefault(lesson, {})[name] = result
            out.write_text(json.dumps(results, indent=1))
            status = "; ".join(result["errors"]) or "all checks pass"
            print(f"lesson {lesson} on {name}: {result['seconds']:.0f} s, {status}", flush=True)
    print(table({lesson: results[lesson] for lesson in args.lessons if lesson in results}))


if __name__ == "__main__":
    main()
