"""The PyTorch port that ``bench_peer.py`` times ours against (run by a torch environment's python).

LeNet++ or the compact CNN, with center loss as the most used PyTorch port writes
it: a dense batch × classes distance matrix, and the centers as a parameter moved
by their own SGD (learning rate α, the gradient divided by λ so that λ weighs only
the network's loss). The same SGD (momentum 0.9, batch 128 or 64) as ours.

Usage: python torch_port.py NETWORK LAMBDA IMAGES.npz
Prints one JSON line: {"images_per_second": ...} of one timed epoch after a warm-up.
"""

import json
import os
import sys
import time

import numpy as np
import torch
from torch import nn
from torch.nn import functional

BATCH = {"lenet++": 128, "compact": 64}


def prelu_conv(inputs, outputs, kernel):
    return [nn.Conv2d(inputs, outputs, kernel, padding=kernel // 2), nn.PReLU(outputs)]


def trunk(network):
    """Images [m, 1, 28, 28] → features [m, 2], as ``centerloss.networks`` builds them."""
    if network == "lenet++":
        layers = []
        for inputs, outputs, pool in ((1, 32, 2), (32, 64, 2), (64, 128, 3)):
            layers += prelu_conv(inputs, outputs, 5) + prelu_conv(outputs, outputs, 5)
            layers.append(nn.MaxPool2d(pool, 2))  # 28 → 14 → 7 → 3, as Keras's
        return nn.Sequential(*layers, nn.Flatten(), nn.Linear(128 * 3 * 3, 2), nn.PReLU())
    return nn.Sequential(
        *prelu_conv(1, 16, 3),
        nn.MaxPool2d(2),
        *prelu_conv(16, 32, 3),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Dropout(0.25),
        nn.Linear(32 * 7 * 7, 128),
        nn.PReLU(),
        nn.Linear(128, 2),
        nn.PReLU(),
    )


def main(network, lambda_, path):
    torch.manual_seed(0)
    torch.set_num_threads(os.cpu_count())
    data = np.load(path)
    x = torch.tensor(data["x"].reshape(-1, 1, 28, 28), dtype=torch.float32)
    y = torch.tensor(data["y"], dtype=torch.long)
    features_of = trunk(network)
    logits_of = nn.Linear(2, 10)
    centers = nn.Parameter(torch.zeros(10, 2))
    optimizer = torch.optim.SGD(
        [*features_of.parameters(), *logits_of.parameters()], lr=0.01, momentum=0.9
    )
    center_optimizer = torch.optim.SGD([centers], lr=0.5)
    batch = BATCH[network]

    def center_loss(features, labels):
        # ‖x‖² + ‖c‖² − 2 x·c, for every class
        squares = features.pow(2).sum(1, keepdim=True) + centers.pow(2).sum(1)
        distances = squares - 2 * features @ centers.t()
        mask = functional.one_hot(labels, 10).float()
        return (distances * mask).clamp(1e-12, 1e12).sum() / len(labels) / 2

    def epoch(count):
        order = torch.randperm(count)
        for start in range(0, count, batch):
            index = order[start : start + batch]
            features = features_of(x[index])
            loss = functional.cross_entropy(logits_of(features), y[index])
            if lambda_:
                loss = loss + lambda_ * center_loss(features, y[index])
            optimizer.zero_grad()
            center_optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            if lambda_:
                centers.grad /= lambda_
                center_optimizer.step()

    epoch(min(512, len(x)))  # warm up
    start = time.perf_counter()
    epoch(len(x))
    print(json.dumps({"images_per_second": len(x) / (time.perf_counter() - start)}))


if __name__ == "__main__":
    main(sys.argv[1], float(sys.argv[2]), sys.argv[3])
