"""The authors' published MNIST settings (Sec. 4.1), as ``reproduce`` uses them.

They come from the authors' Caffe release, github.com/ydwen/caffe-face,
``mnist_example/mnist_solver.prototxt`` and ``mnist_train_test.prototxt``.
Nothing here imports TensorFlow, so the command line can show them in its help.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from centerloss.config import check_alpha, check_lambda, check_positive_int, check_precision

CAFFE_RELEASE = "github.com/ydwen/caffe-face, mnist_example/"
FIGURE_3_LAMBDAS = (0.001, 0.01, 0.1, 1.0)
"""The λ values of the paper's Figure 3."""


@dataclass(frozen=True)
class PaperSettings:
    """Settings of a paper-scale run; the defaults are the authors' MNIST settings.

    Attributes:
      lambdas: λ of each run (eq. 4), trained one after the other from the
        same initial weights and data order; 0 is softmax alone.
      alpha: α of Algorithm 1, the centers' learning rate.
      iterations: training steps per run (10,000 of 128 images: 21.3 epochs
        of the 60,000 MNIST training images).
      batch_size: images per step.
      learning_rate, momentum: SGD's; the rate is multiplied by ``lr_factor``
        at each iteration in ``lr_steps`` (Caffe's "multistep" policy).
      weight_decay: L2 weight decay on kernels and PReLU slopes, as Caffe adds it.
      seed: seeds the initial weights, the data order and the snapshot subsets.
      snapshot_size: training and test images whose features are recorded
        after every epoch.
      precision: "float32", "bfloat16" or "float16" (see ``centerloss.precision``).
    """

    lambdas: tuple[float, ...] = (0.0, 0.01)
    alpha: float = 0.5
    iterations: int = 10_000
    batch_size: int = 128
    learning_rate: float = 0.01
    momentum: float = 0.9
    weight_decay: float = 5e-4
    lr_steps: tuple[int, ...] = (5_000, 8_000)
    lr_factor: float = 0.8
    seed: int = 0
    snapshot_size: int = 1000
    precision: str = "float32"

    def __post_init__(self):
        # Lists from JSON or argparse become tuples, so settings compare equal.
        object.__setattr__(self, "lambdas", tuple(check_lambda(lam) for lam in self.lambdas))
        object.__setattr__(self, "lr_steps", tuple(self.lr_steps))
        if not self.lambdas or len(set(self.lambdas)) != len(self.lambdas):
            raise ValueError(f"lambdas must be one or more distinct values; got {self.lambdas}.")
        check_alpha(self.alpha)
        check_precision(self.precision)
        for name in ("iterations", "batch_size", "snapshot_size"):
            check_positive_int(getattr(self, name), name)
        for step in self.lr_steps:
            check_positive_int(step, "each of lr_steps")
        if list(self.lr_steps) != sorted(set(self.lr_steps)):
            raise ValueError(f"lr_steps must increase; got {self.lr_steps}.")
        for name, ok, bounds in (
            ("learning_rate", self.learning_rate > 0, "> 0"),
            ("lr_factor", self.lr_factor > 0, "> 0"),
            ("momentum", 0 <= self.momentum < 1, "in [0, 1)"),
            ("weight_decay", self.weight_decay >= 0, ">= 0"),
        ):
            if not (ok and math.isfinite(getattr(self, name))):
                raise ValueError(f"{name} must be a number {bounds}; got {getattr(self, name)!r}.")

    def learning_rate_at(self, step: int) -> float:
        """SGD's learning rate at 0-based ``step``: Caffe's "multistep" policy."""
        return self.learning_rate * self.lr_factor ** sum(step >= s for s in self.lr_steps)
