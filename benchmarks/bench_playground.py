"""The playground's targets, measured in one run on this machine.

Presses Train in a fresh ``Playground`` for the default length at λ = 0 and
then λ = 0.1, ``--rounds`` times (the two settings take turns), and prints:
  * seconds per run, press to finished picture, live drawing included:
    best and median per λ, and the first press (TensorFlow warming up)   (goal: ≤ 20 s)
  * intra/inter ratio at λ = 0.1 ÷ λ = 0 on the test images              (goal: ≤ 0.6)
  * test accuracy of both runs

With ``--poster PATH`` it also writes the app's picture after the first
round: the finished comparison the app shows before its first run
(``centerloss/assets/playground.png``).

With ``--losses`` it then presses Train for center loss and each margin loss
in turn, ``--rounds`` times, and prints each loss's seconds per run ÷ center
loss's from the same round (goal: about 1, "about the same time"), and its
test accuracy.

Usage: python benchmarks/bench_playground.py [--rounds 3] [--poster PATH] [--losses]
"""

import argparse
import statistics
import time

from centerloss.apps.playground import Playground, Settings
from centerloss.apps.playground.runs import HEAD_DEFAULTS


def press_train(app, **values):
    """Set the app's widgets (e.g. ``lambda_="0.1"``, ``loss="arcface"``), press Train, wait."""
    for widget, value in values.items():
        getattr(app, widget).value = value  # a loss fills in its own s, m and λ
    started = time.perf_counter()
    app.train()
    app.wait()
    seconds = time.perf_counter() - started
    if "trained in" not in app.status.value:
        raise RuntimeError(f"The run did not finish: {app.status.value}")
    return seconds, app.runs[-1]


def compare_losses(rounds):
    """Seconds of each margin loss ÷ center loss's in the same round, and accuracies."""
    ratios = {loss: [] for loss in HEAD_DEFAULTS}
    accuracy = {}
    for _ in range(rounds):
        app = Playground(Settings())
        reference, _ = press_train(app, loss="center loss")
        for loss in ratios:
            spent, run = press_train(app, loss=loss)
            ratios[loss].append(spent / reference)
            accuracy[loss] = run.metrics["accuracy"]
    print("seconds per run ÷ center loss's, same round (goal: about 1):")
    for loss, values in ratios.items():
        print(
            f"  {loss:<10} best {min(values):.2f}, median {statistics.median(values):.2f}"
            f"   test accuracy {accuracy[loss]:.3f}"
        )


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3, help="runs per λ (interleaved)")
    parser.add_argument("--poster", help="write the first round's comparison picture here")
    parser.add_argument("--losses", action="store_true", help="time the margin losses too")
    args = parser.parse_args()
    seconds = {"0": [], "0.1": []}
    runs = {}
    for round_ in range(args.rounds):
        app = Playground(Settings())  # a fresh app: nothing cached
        for lambda_ in seconds:
            spent, runs[lambda_] = press_train(app, lambda_=lambda_)
            seconds[lambda_].append(spent)
        if round_ == 0 and args.poster:
            with open(args.poster, "wb") as file:
                file.write(app.image.value)
    first = seconds["0"][0]
    print(f"playground, {Settings().epochs} epochs (the default), seconds per run:")
    print(f"  first press (TensorFlow warming up): {first:5.1f} s")
    for lambda_, values in seconds.items():
        later = values[1:] if lambda_ == "0" and len(values) > 1 else values
        print(
            f"  λ = {lambda_:3s}  best {min(later):5.1f} s, "
            f"median {statistics.median(later):5.1f} s   (goal ≤ 20 s; {len(later)} runs)"
        )
    plain, center = (runs[key].metrics for key in ("0", "0.1"))
    print(
        f"intra/inter ratio λ=0.1 ÷ λ=0: {center['spread_ratio'] / plain['spread_ratio']:.3f}"
        f" ({center['spread_ratio']:.3f} / {plain['spread_ratio']:.3f}; goal ≤ 0.6)"
    )
    print(f"test accuracy: λ=0 {plain['accuracy']:.3f}, λ=0.1 {center['accuracy']:.3f}")
    if args.losses:
        compare_losses(args.rounds)


if __name__ == "__main__":
    main()
