"""Our ``fit`` against the PyTorch port, and against what a matmul gets, measured in one run.

Variants, each trained on the same real MNIST digits (the embedded 5,000), with the
same batch and optimizer (SGD, momentum 0.9; batch 128 for LeNet++, 64 for the
compact CNN), float32:

* ``ours``: ``CenterLossModel.fit`` on NumPy arrays, as a user calls it (its
  pipeline has tf.data's autotuning off, ``centerloss.pipeline``);
* ``keras arrays``: the same model through Keras's own array pipeline
  (autotuning on), the stall that ``centerloss.pipeline`` removes;
* ``torch``: the PyTorch port, with center loss written as the most used port
  writes it (a dense batch × classes distance matrix; centers as a parameter
  moved by their own SGD). It runs in its own virtual environment
  (``--torch-python``, default ``$TORCH_PYTHON``); without one the script skips it.

Each network is timed without (λ = 0) and with center loss (λ = 0.01). The variants
take turns, ``--rounds`` times, one epoch of ``--images`` images each; the script
prints best-of-N and median images/s, and as ratios:

* ours ÷ torch (goal: ≥ 1.0 on a 2-core CPU);
* ours ÷ keras arrays (what the pipeline gains);
* the share of a square float32 matmul's FLOP/s that training reaches (a training
  image costs about 3 forward passes of multiply-adds, 2 FLOP each);
* CPU use: process CPU time ÷ (cores × wall time) while ours trains (goal: ≥ 0.9,
  i.e. no idle phases).

Usage: python benchmarks/bench_peer.py [--rounds 3] [--images 2560] [--torch-python PATH]
"""

import argparse
import json
import os
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from centerloss.data import load_embedded
from centerloss.model import CenterLossModel
from centerloss.networks import compact_cnn, lenet_plus_plus

BATCH = {"lenet++": 128, "compact": 64}
LAMBDAS = (0.0, 0.01)


def build(network, lambda_):
    keras.utils.set_random_seed(0)
    backbone = lenet_plus_plus(caffe=True) if network == "lenet++" else compact_cnn()
    model = CenterLossModel(backbone, lambda_=lambda_, alpha=0.5)
    model.compile(optimizer=keras.optimizers.SGD(0.01, momentum=0.9))
    return model


def forward_flop(model):
    """FLOP of one image's forward pass: 2 per multiply-add of every conv and dense layer."""
    total = 0
    for layer in model.backbone.layers:
        if isinstance(layer, keras.layers.Conv2D):
            _, height, width, channels = layer.output.shape
            total += height * width * channels * np.prod(layer.kernel.shape[:-1])
        elif isinstance(layer, keras.layers.Dense):
            total += np.prod(layer.kernel.shape)
    return 2 * int(total)


def matmul_flops(size=2048, repeats=10):
    """Best FLOP/s of a square float32 matmul (TensorFlow, this process's threads)."""
    a = tf.random.normal((size, size))
    tf.linalg.matmul(a, a).numpy()
    best = 0.0
    for _ in range(repeats):
        start = time.perf_counter()
        tf.linalg.matmul(a, a).numpy()
        best = max(best, 2 * size**3 / (time.perf_counter() - start))
    return best


def time_epoch(fit, count):
    """(images/s, CPU use) of one call of ``fit``; CPU use is CPU time ÷ (cores × wall)."""
    wall, cpu = time.perf_counter(), time.process_time()
    fit()
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    return count / wall, cpu / (wall * os.cpu_count())


def torch_epoch(python, network, lambda_, images):
    """Images/s of one timed epoch of the PyTorch port (``torch_port.py``) on the
    images saved at ``images`` (an .npz file), in the torch environment's python."""
    output = subprocess.run(
        [python, str(Path(__file__).with_name("torch_port.py")), network, str(lambda_), images],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(output.stdout.splitlines()[-1])["images_per_second"]


def summary(values):
    return max(values), statistics.median(values)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3, help="timed epochs per variant")
    parser.add_argument("--images", type=int, default=2560, help="images per timed epoch")
    parser.add_argument("--networks", nargs="+", default=["lenet++", "compact"], choices=BATCH)
    parser.add_argument(
        "--torch-python",
        default=os.environ.get("TORCH_PYTHON"),
        help="the python of a virtual environment with torch (default: $TORCH_PYTHON)",
    )
    args = parser.parse_args()
    torch_python = args.torch_python
    if not (torch_python and Path(torch_python).exists()):
        torch_python = None
        print("PyTorch: no --torch-python (or $TORCH_PYTHON) given; the port is skipped.")

    data = load_embedded()
    x, y = data.x_train[: args.images], data.y_train[: args.images]
    shared = tempfile.TemporaryDirectory()
    images = str(Path(shared.name) / "images.npz")  # the port trains on the same digits
    np.savez(images, x=x, y=y)
    flops = matmul_flops()
    print(f"{os.cpu_count()} cores; float32 matmul 2048²: {flops / 1e9:.0f} GFLOP/s")

    for network in args.networks:
        for lambda_ in LAMBDAS:
            compare(network, lambda_, x, y, args.rounds, flops, torch_python, images)


def compare(network, lambda_, x, y, rounds, flops, torch_python, images):
    """Time the variants on one network and λ, interleaved, and print the ratios."""
    batch = BATCH[network]
    model = build(network, lambda_)
    per_image = 3 * forward_flop(model)  # the forward pass and two backward products
    variants = {
        "ours": lambda: model.fit(x, y, batch_size=batch, epochs=1, verbose=0),
        "keras arrays": lambda: keras.Model.fit(model, x, y, batch_size=batch, verbose=0),
    }
    for fit in variants.values():
        fit()  # trace and warm up
    speeds = {name: [] for name in [*variants, *(["torch"] if torch_python else [])]}
    use = []
    for _ in range(rounds):
        for name, fit in variants.items():
            speed, cpu = time_epoch(fit, len(x))
            speeds[name].append(speed)
            if name == "ours":
                use.append(cpu)
        if torch_python:
            speeds["torch"].append(torch_epoch(torch_python, network, lambda_, images))
    print(f"\n{network}, λ = {lambda_}, batch {batch}, {per_image / 1e6:.0f} MFLOP an image")
    best = {name: summary(values) for name, values in speeds.items()}
    for name, (fastest, median) in best.items():
        print(f"  {name:13s} best {fastest:6.0f}  median {median:6.0f} images/s")
    for other in [name for name in best if name != "ours"]:
        ratios = [ours / theirs for ours, theirs in zip(best["ours"], best[other], strict=True)]
        print(f"  ours ÷ {other}: best {ratios[0]:.2f}, median {ratios[1]:.2f}")
    print(f"  ours, share of the matmul's FLOP/s: {best['ours'][0] * per_image / flops:.2f}")
    print(f"  ours, CPU use: min {min(use):.2f}, median {statistics.median(use):.2f} (goal ≥ 0.9)")


if __name__ == "__main__":
    main()
