"""Cost of center loss, measured in one run (the machine is shared: read the ratios).

1. Training throughput of the default 2-D-bottleneck CNN with λ = 0 and λ > 0
   (same code path; goal: center loss costs ≤ 3 % extra step time).
2. ``update_centers`` time at 10 vs 100,000 classes, d = 512, batch 256
   (goal: ratio ≤ 1.2, i.e. the cost does not grow with the number of classes).

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


def update_seconds(num_classes, dim=512, batch=256, steps=200):
    rng = np.random.default_rng(0)
    centers = tf.Variable(rng.normal(size=(num_classes, dim)).astype(np.float32))
    features = tf.constant(rng.normal(size=(batch, dim)).astype(np.float32))
    labels = tf.constant(rng.integers(0, num_classes, batch).astype(np.int32))

    @tf.function
    def step():  # returns nothing: reading the variable back would copy all of it
        centerloss.update_centers(centers, features, labels, 0.5)

    step()
    samples = []
    for _ in range(5):
        start = time.perf_counter()
        for _ in range(steps):
            step()
        samples.append((time.perf_counter() - start) / steps)
    return statistics.median(samples)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3, help="epochs timed per setting")
    args = parser.parse_args()

    small, large = update_seconds(10), update_seconds(100_000)
    print("update_centers, d=512, batch 256 (median of 5 × 200 steps)")
    print(f"  10 classes:      {small * 1e6:8.1f} µs/step")
    print(f"  100,000 classes: {large * 1e6:8.1f} µs/step")
    print(f"  ratio 100k/10:   {large / small:8.2f}   (goal ≤ 1.2)")

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
