"""Training speed of the networks, measured in one run (the machine is shared: read the ratios).

1. LeNet++ in ``CenterLossModel`` (λ = 0.01) vs the same backbone trained by
   plain Keras ``compile(loss=...)`` / ``fit`` on its logits
   (goal: ratio ≥ 0.97, i.e. center loss costs nothing measurable).
2. LeNet++ in ``CenterLossModel`` under ``--precision bfloat16`` vs float32
   (goal: ≥ 1.4× on CPUs with BF16 instructions; the script prints which the CPU has).
3. The compact CNN's images/s (float32, batch 64), with the recipe's
   ``steps_per_execution=32`` vs one step per call into TensorFlow
   (goal: ≥ 1.2×; the numbers are the same, ``tests/test_recipe.py``).

Every variant trains ``--images`` images per timed epoch; the variants take
turns, ``--rounds`` times, and the script prints best-of-N and median.
All use the paper's optimizer (SGD, momentum 0.9) and batch 128 for LeNet++.

Usage: python benchmarks/bench_training.py [--rounds 3] [--images 2560]
"""

import argparse
import statistics
import time

import keras

from centerloss.apps import runtime
from centerloss.data import load_embedded
from centerloss.model import CenterLossModel
from centerloss.networks import compact_cnn, lenet_plus_plus
from centerloss.precision import dtype_policy


def sgd():
    return keras.optimizers.SGD(0.01, momentum=0.9)


def center_loss_lenet(precision):
    keras.utils.set_random_seed(0)
    with dtype_policy(precision):
        backbone = lenet_plus_plus(caffe=True, weight_decay=5e-4)
    model = CenterLossModel(backbone, lambda_=0.01, alpha=0.5)
    model.compile(optimizer=sgd())
    return model


def plain_keras_lenet():
    keras.utils.set_random_seed(0)
    backbone = lenet_plus_plus(caffe=True, weight_decay=5e-4)
    model = keras.Model(backbone.inputs, backbone.outputs[0])  # the logits only
    model.compile(
        optimizer=sgd(),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
    )
    return model


def compact(steps_per_execution):
    keras.utils.set_random_seed(0)
    model = CenterLossModel(compact_cnn(), lambda_=0.1, alpha=0.5)
    model.compile(optimizer="adam", steps_per_execution=steps_per_execution)
    return model


def images_per_second(models, x, y, rounds):
    """{name: (best, median) images/s}; one warm-up epoch each, then interleaved rounds."""
    speeds = {name: [] for name in models}
    for model, batch_size in models.values():
        model.fit(x, y, batch_size=batch_size, epochs=1, verbose=0)  # trace and warm up
    for _ in range(rounds):
        for name, (model, batch_size) in models.items():
            start = time.perf_counter()
            model.fit(x, y, batch_size=batch_size, epochs=1, verbose=0)
            speeds[name].append(len(x) / (time.perf_counter() - start))
    return {name: (max(s), statistics.median(s)) for name, s in speeds.items()}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3, help="timed epochs per variant")
    parser.add_argument("--images", type=int, default=2560, help="images per timed epoch")
    args = parser.parse_args()
    bf16 = runtime.bf16_instructions()
    print(f"CPU bfloat16 instructions: {', '.join(bf16) if bf16 else 'none found'}")

    data = load_embedded()
    x, y = data.x_train[: args.images], data.y_train[: args.images]
    models = {
        "plain Keras, float32": (plain_keras_lenet(), 128),
        "CenterLossModel, float32": (center_loss_lenet("float32"), 128),
        "CenterLossModel, bfloat16": (center_loss_lenet("bfloat16"), 128),
        "compact CNN, 1 step per call": (compact(1), 64),
        "compact CNN, 32 steps per call": (compact(32), 64),
    }
    speed = images_per_second(models, x, y, args.rounds)
    print(f"images/s, {len(x):,} images per epoch, {args.rounds} interleaved rounds:")
    for name, (best, median) in speed.items():
        print(f"  {name:32s} best {best:7.0f}, median {median:7.0f}")
    for title, numerator, denominator, goal in (
        ("CenterLossModel / plain Keras (LeNet++)", "CenterLossModel, float32",
         "plain Keras, float32", "≥ 0.97"),
        ("bfloat16 / float32 (LeNet++)", "CenterLossModel, bfloat16",
         "CenterLossModel, float32", "≥ 1.4"),
        ("32 / 1 steps per call (compact CNN)", "compact CNN, 32 steps per call",
         "compact CNN, 1 step per call", "≥ 1.2"),
    ):  # fmt: skip
        (top, middle), (bottom, base) = speed[numerator], speed[denominator]
        print(f"{title}: best {top / bottom:.2f}, median {middle / base:.2f}   (goal {goal})")


if __name__ == "__main__":
    main()
