"""Cost of center loss, measured in one run (the machine is shared: read the ratios).

1. Training throughput of the default 2-D-bottleneck CNN with λ = 0 and λ > 0
   (same code path; goal: center loss costs ≤ 3 % extra step time).
2. ``update_centers`` time at 10 vs 100,000 classes, d = 512, batch 256
   (goal: ratio ≤ 1.2, i.e. the cost does not grow with the number of classes).
3. ``update_centers`` time per sample at batch m = 16,384 vs m = 1,024, d = 128,
   10,000 classes (goal: ratio ≤ 1.5, i.e. counting n_j is not O(m²); a global
   batch of 16,384 is 32 GPUs × 512 under MirroredStrategy, which all-gathers it).

Usage: python benchmarks/bench_core.py [--rounds 3]
"""

import argparse
import statistics
import time

import keras
import numpy as np
import tensorflow as tf

import centerloss
from centerloss.data import load_embedded
from centerloss.model import CenterLossModel
from centerloss.networks import compact_cnn


def epoch_seconds(model, x, y, batch_size):
    start = time.perf_counter()
    model.fit(x, y, batch_size=batch_size, epochs=1, verbose=0)
    return time.perf_counter() - start


def training_throughput(rounds, batch_size=64):
    data = load_embedded()
    x, y = data.x_train, data.y_train
    models = {}
    for lambda_ in (0.0, 0.1):
        keras.utils.set_random_seed(0)
        models[lambda_] = CenterLossModel(compact_cnn(), lambda_=lambda_, alpha=0.5)
        models[lambda_].compile(optimizer="adam")
        epoch_seconds(models[lambda_], x, y, batch_size)  # trace and warm up
    times = {lambda_: [] for lambda_ in models}
    for _ in range(rounds):  # interleave so that load on the machine hits both alike
        for lambda_, model in models.items():
            times[lambda_].append(epoch_seconds(model, x, y, batch_size))
    return {lambda_: len(x) / statistics.median(t) for lambda_, t in times.items()}


def update_seconds(num_classes, dim=512, batch=256, steps=200, rounds=5):
    """Seconds per ``update_centers`` step: (best, median) of ``rounds`` × ``steps``."""
    rng = np.random.default_rng(0)
    centers = tf.Variable(rng.normal(size=(num_classes, dim)).astype(np.float32))
    features = tf.constant(rng.normal(size=(batch, dim)).astype(np.float32))
    labels = tf.constant(rng.integers(0, num_classes, batch).astype(np.int32))

    @tf.function
    def step():  # returns nothing: reading the variable back would copy all of it
        centerloss.update_centers(centers, features, labels, 0.5)

    step()
    samples = []
    for _ in range(rounds):
        start = time.perf_counter()
        for _ in range(steps):
            step()
        samples.append((time.perf_counter() - start) / steps)
    return min(samples), statistics.median(samples)


def large_batch_per_sample(rounds, small=1_024, large=16_384, dim=128, num_classes=10_000):
    """(best, median) seconds per sample at each batch size, the two interleaved."""
    samples = {small: [], large: []}
    for _ in range(rounds):  # interleaved: load on the machine hits both alike
        for batch in samples:
            best, _ = update_seconds(
                num_classes, dim, batch, steps=max(2, 20_000 // batch), rounds=3
            )
            samples[batch].append(best / batch)
    return {batch: (min(s), statistics.median(s)) for batch, s in samples.items()}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3, help="epochs timed per setting")
    args = parser.parse_args()

    (small, _), (large, _) = update_seconds(10), update_seconds(100_000)
    print("update_centers, d=512, batch 256 (best of 5 × 200 steps)")
    print(f"  10 classes:      {small * 1e6:8.1f} µs/step")
    print(f"  100,000 classes: {large * 1e6:8.1f} µs/step")
    print(f"  ratio 100k/10:   {large / small:8.2f}   (goal ≤ 1.2)")

    per_sample = large_batch_per_sample(args.rounds)
    (small_best, small_median), (large_best, large_median) = per_sample.values()
    print(f"update_centers, d=128, 10,000 classes, time per sample ({args.rounds} rounds)")
    for batch, (best, median) in per_sample.items():
        print(f"  m = {batch:6,}: best {best * 1e9:8.1f} ns, median {median * 1e9:8.1f} ns")
    print(
        f"  ratio m=16,384 / m=1,024: best {large_best / small_best:.2f}, "
        f"median {large_median / small_median:.2f}   (goal ≤ 1.5)"
    )

    speed = training_throughput(args.rounds)
    overhead = speed[0.0] / speed[0.1] - 1
    print(
        "training throughput, compact CNN, embedded MNIST, batch 64 "
        f"(median of {args.rounds} epochs)"
    )
    print(f"  λ = 0   (softmax only):       {speed[0.0]:7.0f} images/s")
    print(f"  λ = 0.1 (softmax + center):   {speed[0.1]:7.0f} images/s")
    print(f"  extra step time with center loss: {overhead * 100:+.1f} %   (goal ≤ 3 %)")


if __name__ == "__main__":
    main()
