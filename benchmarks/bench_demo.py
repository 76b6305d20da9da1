"""Targets of the demo, measured in one run on this machine.

Runs ``python -m centerloss demo`` with its defaults twice (same seed) and prints:
  * test accuracy without and with center loss        (goal: both ≥ 0.97)
  * intra/inter ratio with ÷ without center loss         (goal: ≤ 0.45)
  * wall time of the whole demo, start-up included       (goal: ≤ 180 s on 2 CPU cores)
  * whether the second run reproduced the first's metrics (goal: identical)

Usage: python benchmarks/bench_demo.py [--runs 2] [extra demo flags...]
"""

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def run_demo(output, extra):
    start = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "centerloss", "demo", "--quiet", "--output", str(output), *extra],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    seconds = time.perf_counter() - start
    report = json.loads((output / "metrics.json").read_text())
    return seconds, {label: run["test_metrics"] for label, run in report["runs"].items()}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=2, help="demo runs (2 checks reproducibility)")
    args, extra = parser.parse_known_args()
    results = []
    with tempfile.TemporaryDirectory() as folder:
        for index in range(args.runs):
            results.append(run_demo(Path(folder) / f"run{index}", extra))
    seconds, metrics = results[0]
    plain, center = metrics.values()
    ratio = center["spread_ratio"] / plain["spread_ratio"]
    print(f"demo wall time:                {seconds:6.1f} s      (goal ≤ 180 s)")
    for label, values in metrics.items():
        print(f"test accuracy, {label:32s} {values['accuracy']:.4f}  (goal ≥ 0.97)")
    print(f"intra/inter ratio with ÷ without: {ratio:.3f}     (goal ≤ 0.45)")
    if len(results) > 1:
        same = all(other == metrics for _, other in results[1:])
        print(
            f"same seed, same metrics:       {'yes' if same else 'NO'}   "
            f"(wall times {', '.join(f'{s:.0f} s' for s, _ in results)})"
        )


if __name__ == "__main__":
    main()
