"""Settings of a training run, and the checks of each setting.

Nothing here imports TensorFlow, so the command line can show its help and
reject a bad option before TensorFlow starts.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass


def check_alpha(alpha: float, name: str = "alpha") -> float:
    """Return alpha (the centers' learning rate) as a float; ValueError unless it is in (0, 1].

    ``name`` is the name the caller knows the setting by, e.g. ``"--alpha"``
    on the command line; every check here prints it in its message.
    """
    if not _is_real(alpha) or not 0.0 < alpha <= 1.0:
        raise ValueError(
            f"{name} must be a number in (0, 1]: it is the centers' learning rate "
            f"in c_j ← c_j − α·Δc_j (Algorithm 1); got {alpha!r}. The paper uses 0.5."
        )
    return float(alpha)


def check_lambda(lambda_: float, name: str = "lambda_") -> float:
    """Return λ (the center-loss weight of eq. 4) as a float; ValueError unless finite and ≥ 0."""
    if not _is_real(lambda_) or not (lambda_ >= 0.0 and math.isfinite(lambda_)):
        raise ValueError(
            f"{name} must be a finite number >= 0: it weighs center loss in "
            f"L = L_S + λ·L_C (eq. 4), and 0 means softmax loss alone; got {lambda_!r}."
        )
    return float(lambda_)


PRECISIONS = ("float32", "bfloat16", "float16")
"""Valid ``TrainingConfig.precision`` values: float32, or mixed bfloat16 / float16."""


def check_precision(precision: str, name: str = "precision") -> str:
    """Raise ValueError unless ``precision`` is one of :data:`PRECISIONS`; return it."""
    if precision not in PRECISIONS:
        raise ValueError(
            f"{name} must be one of {', '.join(PRECISIONS)}; got {precision!r}. "
            "bfloat16 is faster on CPUs with BF16 instructions and on recent GPUs; "
            "float16 on GPUs."
        )
    return precision


def check_positive_int(value: int, name: str) -> int:
    """Return ``value`` as an int; ValueError unless it is an integer >= 1 (bools refused)."""
    if not _is_int(value) or value < 1:
        raise ValueError(f"{name} must be a positive integer; got {value!r}.")
    return int(value)


def check_positive_number(value: float, name: str) -> float:
    """Return ``value`` as a float; ValueError unless it is a finite number > 0 (bools refused)."""
    if not _is_real(value) or not (value > 0.0 and math.isfinite(value)):
        raise ValueError(f"{name} must be a finite number > 0; got {value!r}.")
    return float(value)


SEED_LIMIT = 2**32
"""Seeds are in [0, SEED_LIMIT): NumPy's and scikit-learn's ``random_state`` range."""


def check_seed(seed: int, name: str = "seed") -> int:
    """Return ``seed`` as an int; ValueError unless it is an integer in [0, 2³²)."""
    if not _is_int(seed) or not 0 <= seed < SEED_LIMIT:
        raise ValueError(
            f"{name} must be an integer from 0 to {SEED_LIMIT - 1}; got {seed!r}. "
            "The same seed gives the same numbers."
        )
    return int(seed)


@dataclass(frozen=True)
class TrainingConfig:
    """Settings of one training run. The defaults are the classroom settings.

    Attributes:
      network: "compact" (classroom default) or "lenet++" (the paper's net).
      feature_dim: width d of the feature layer (2 to plot it).
      epochs, batch_size: passes over the training set and images per step.
      learning_rate: Adam's initial rate, cosine-decayed to 0 over training.
      lambda_: λ of eq. (4), the center-loss weight of the "with" run.
      alpha: α of Algorithm 1, the centers' learning rate.
      seed: seeds weights, data order, dropout and snapshot subsets.
      snapshot_size: training and test images whose features are recorded
        each epoch.
      precision: "float32" (default: reproducible numbers), "bfloat16" or
        "float16": the network computes in that type (Keras's "mixed_…" dtype
        policies) while its weights and the centers stay float32.
      steps_per_execution: training steps per call into TensorFlow (Keras's
        ``compile`` option): the same numbers as 1, with fewer round trips
        through Python.

    The classroom recipe (compact CNN, 60 epochs of Adam with cosine decay
    from 5e-3, batch 64; see ``centerloss.networks.compact_cnn``) and how it
    was chosen: docs/recipe.md.

    Paper scale (Sec. 4.1; full MNIST, ``network="lenet++"``): see docs/reproducing.md.
    """

    network: str = "compact"
    feature_dim: int = 2
    epochs: int = 60
    batch_size: int = 64
    learning_rate: float = 5e-3
    lambda_: float = 0.1
    alpha: float = 0.5
    seed: int = 0
    snapshot_size: int = 1000
    precision: str = "float32"
    steps_per_execution: int = 32

    def __post_init__(self):
        check_lambda(self.lambda_)
        check_precision(self.precision)
        check_alpha(self.alpha)
        for name in ("feature_dim", "epochs", "batch_size", "snapshot_size", "steps_per_execution"):
            check_positive_int(getattr(self, name), name)
        check_positive_number(self.learning_rate, "learning_rate")
        check_seed(self.seed)


def _is_real(value: object) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def _is_int(value: object) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)
