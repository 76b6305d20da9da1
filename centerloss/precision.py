"""Mixed precision: build a network under a Keras dtype policy, then restore the old one.

"bfloat16" and "float16" build layers with Keras's "mixed_bfloat16" and
"mixed_float16" policies: each layer computes in the narrow type while its
weights stay float32. The centers of ``CenterLossModel`` are float32 whatever
the policy (the features are cast to their type before eqs. 2-3).
"""

from __future__ import annotations

import contextlib

import keras

from centerloss.config import check_precision

POLICIES = {"float32": "float32", "bfloat16": "mixed_bfloat16", "float16": "mixed_float16"}
"""Keras dtype policy of each ``TrainingConfig.precision`` value."""


@contextlib.contextmanager
def dtype_policy(precision: str = "float32"):
    """Layers created inside this block use the policy of ``precision``.

    Keras reads its global policy when a layer is created, so a network built
    inside keeps the policy; the global one is restored on exit (also on
    error), so models built later, e.g. in the next notebook cell, are not
    changed behind the user's back.
    """
    policy = POLICIES[check_precision(precision)]
    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy(policy)
    try:
        yield
    finally:
        keras.config.set_dtype_policy(previous)
