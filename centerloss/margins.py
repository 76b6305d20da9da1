"""After center loss: softmax on the unit circle, with an angular margin.

Four losses that followed center loss replace the softmax layer W^T x + b by
cosines. The class weights w_j lose their length and their bias, so the logit
of class j only depends on θ_j, the angle between the feature x_i and w_j:

    cos θ_j = w_j^T x_i / (‖w_j‖ ‖x_i‖)

and the margin is applied to the target class y_i only (θ = θ_{y_i} below),
making its logit smaller than it would be, so that training must push θ
further down than plain softmax would:

    NormFace    s · cos θ_j                        for every class, target too
                (Wang et al. 2017, Sec. 3: x and w normalised, no bias, scale s)
    SphereFace  ‖x_i‖ · ψ(θ),  ψ(θ) = (−1)^k cos(mθ) − 2k  for θ ∈ [kπ/m, (k+1)π/m]
                (Liu et al. 2017, A-Softmax, Sec. 3: w normalised, x keeps its length,
                integer m; the other classes keep ‖x_i‖ · cos θ_j)
    CosFace     s · (cos θ − m)                    (Wang et al. 2018, LMCL, eq. 4)
    ArcFace     s · cos(θ + m)                     (Deng et al. 2019, eq. 3)

Each logit row then goes through softmax cross-entropy
(``centerloss.loss.softmax_loss``, eq. 1 of the center-loss paper). Without
labels (inference) the heads return the plain logits (no margin), whose arg
max is the prediction and whose cosines are what verification compares.

What each paper adds to make its loss train, and what is done here:

* SphereFace anneals: the target logit is (λ‖x‖cos θ + ‖x‖ψ(θ)) / (1 + λ)
  with λ = max(λ_min, base · (1 + γ·t)^(−power)) at training step t, from the
  authors' Caffe release (``margin_inner_product`` layer: base 1000, γ 0.12,
  power 1, λ_min 5). λ starts near 1000 (plain softmax, nearly) and falls to 5 within
  about 1,700 steps, where the target logit is (5‖x‖cos θ + ‖x‖ψ(θ)) / 6.
* ArcFace falls back where θ + m > π, there cos(θ + m) would rise again
  with θ: beyond θ = π − m the target logit is s · (cos θ − m·sin m), the
  fallback of the authors' release (InsightFace). It steps down by
  s · (cos m + m·sin m − 1) at θ = π − m and keeps decreasing after it.

The heads compute in float32 whatever the network's dtype policy.
"""

import math
import numbers

import keras
import numpy as np
import tensorflow as tf

# Square roots are taken of at least ε (sin²θ in ArcFace, ‖x‖² in SphereFace),
# so that a feature lying exactly on a class direction, or a zero feature,
# still gets a finite gradient.
_EPSILON = 1e-7


def cosines(features, kernel) -> tf.Tensor:
    """cos θ_j of every feature with every class direction.

    Args:
      features: float tensor [m, d], the deep features x_i.
      kernel: float tensor [d, C], column j the class weight w_j (any length).

    Returns:
      float32 tensor [m, C] in [−1, 1]. A zero feature has cosine 0 with every class.
    """
    x = tf.math.l2_normalize(tf.cast(features, tf.float32), axis=1)
    w = tf.math.l2_normalize(tf.cast(kernel, tf.float32), axis=0)
    return tf.clip_by_value(tf.matmul(x, w), -1.0, 1.0)


def _is_target(labels, num_classes):
    """[m, C]: 1 at (i, y_i), else 0; an out-of-range label gives a row of zeros, which
    the model's batch check then refuses."""
    return tf.one_hot(tf.reshape(tf.cast(labels, tf.int32), [-1]), num_classes)


def sphereface_psi(cos_theta, margin: int) -> tf.Tensor:
    """ψ(θ) = (−1)^k cos(mθ) − 2k for θ ∈ [kπ/m, (k+1)π/m] (SphereFace, A-Softmax).

    Monotonically decreasing from 1 at θ = 0 to −(2m − 1) at θ = π, so the
    margin never rewards a larger angle.

    Args:
      cos_theta: float tensor, cos θ in [−1, 1].
      margin: the integer m ≥ 1 (1 gives ψ(θ) = cos θ).

    Returns:
      float tensor like ``cos_theta``. cos(mθ) is the Chebyshev polynomial
      T_m(cos θ), as in the authors' Caffe layer, so the gradient stays finite
      at θ = 0 and θ = π.
    """
    # T_0 = 1, T_1 = c, T_{n+1} = 2c·T_n − T_{n−1}: cos(mθ) without arccos.
    previous, chebyshev = tf.ones_like(cos_theta), cos_theta
    for _ in range(margin - 1):
        previous, chebyshev = chebyshev, 2.0 * cos_theta * chebyshev - previous
    # k is piecewise constant in θ: no gradient flows through it.
    theta = tf.acos(tf.clip_by_value(tf.stop_gradient(cos_theta), -1.0, 1.0))
    k = tf.minimum(tf.floor(margin * theta / math.pi), margin - 1.0)
    sign = 1.0 - 2.0 * tf.math.floormod(k, 2.0)  # (−1)^k
    return sign * chebyshev - 2.0 * k


def sphereface_lambda(step, base=1000.0, gamma=0.12, power=1.0, lambda_min=5.0) -> tf.Tensor:
    """SphereFace's annealing weight λ = max(λ_min, base · (1 + γ·t)^(−power)) at step t ≥ 1.

    The defaults are the authors' Caffe release; ``step`` is the number of
    training steps taken so far plus one, as that layer counts.
    """
    step = tf.cast(step, tf.float32)
    return tf.maximum(lambda_min, base * tf.pow(1.0 + gamma * step, -power))


@keras.saving.register_keras_serializable(package="centerloss")
class SpreadDirections(keras.initializers.Initializer):
    """Initial class directions [d, C], unit length and spread out.

    In 2-D they are evenly spaced, 360°/C apart (class j at j·360°/C). Random
    directions in 2-D often start several classes a few degrees apart, and
    their features then fight over one stretch of the circle for many epochs.
    For d > 2 the directions are drawn uniformly on the sphere (random normal
    columns, normalised): in high dimensions random directions are already
    nearly orthogonal.
    """

    def __init__(self, seed=None):
        self.seed = seed

    def __call__(self, shape, dtype=None):
        dimension, num_classes = shape
        if dimension == 2:
            angles = 2 * np.pi * np.arange(num_classes) / num_classes
            return keras.ops.convert_to_tensor(
                np.stack([np.cos(angles), np.sin(angles)]), dtype=dtype
            )
        draws = keras.random.normal(shape, seed=self.seed, dtype=dtype)
        return draws / keras.ops.norm(draws, axis=0, keepdims=True)

    def get_config(self):
        return {"seed": self.seed}


class AngularHead(keras.layers.Layer):
    """Base of the margin heads: class directions W [d, C], no bias.

    ``head(features)`` returns the plain logits [m, C] (no margin: predictions
    and inference); ``head(features, labels)`` the training logits, with the
    margin on each row's target class. Subclasses say what the logits are.

    Args:
      num_classes: C, the number of classes.
    """

    def __init__(self, num_classes: int, **kwargs):
        kwargs.setdefault("dtype", "float32")  # cosines and margins need float32
        super().__init__(**kwargs)
        if (
            not isinstance(num_classes, numbers.Integral)
            or isinstance(num_classes, bool)
            or num_classes < 2
        ):
            raise ValueError(f"num_classes must be an integer >= 2; got {num_classes!r}.")
        self.num_classes = int(num_classes)

    def build(self, features_shape):
        self.kernel = self.add_weight(
            shape=(features_shape[-1], self.num_classes),
            initializer=SpreadDirections(),
            name="kernel",
        )

    def call(self, features, labels=None, step=None):
        """Logits [m, C] of ``features`` [m, d]; the target margin on when ``labels`` [m] are given.

        ``step``: training steps taken so far (SphereFace's annealing reads it;
        None means training has ended: the final λ).
        """
        features = tf.cast(features, tf.float32)
        cos_theta = cosines(features, self.kernel)
        logits = self.plain_logits(cos_theta, features)
        if labels is None:
            return logits
        is_target = _is_target(labels, self.num_classes)
        target = self.target_logit(tf.reduce_sum(cos_theta * is_target, axis=1), features, step)
        # Column y_i of row i becomes the target logit; every other logit stays as it is.
        return logits + is_target * (target[:, tf.newaxis] - logits)

    def plain_logits(self, cos_theta, features):
        """Logits without margin, [m, C]: s · cos θ_j unless a subclass says otherwise."""
        return self.scale * cos_theta

    def target_logit(self, cos_theta, features, step):
        """The target class's logit with the margin, [m], from its cos θ [m]."""
        raise NotImplementedError

    def get_config(self):
        return {**super().get_config(), "num_classes": self.num_classes}

    @property
    def label(self) -> str:
        """How figures and tables name a run with this head, e.g. "ArcFace (s=16, m=0.2)"."""
        settings = ", ".join(f"{key}={value:g}" for key, value in self._settings().items())
        return f"{type(self).__name__} ({settings})"

    def _settings(self):
        return {"s": self.scale}


def _check_scale(scale):
    if (
        not isinstance(scale, numbers.Real)
        or isinstance(scale, bool)
        or not (math.isfinite(scale) and scale > 0)
    ):
        raise ValueError(
            f"scale must be a finite number > 0: it is s, the radius of the circle the "
            f"normalised features are put on (logits s·cos θ); got {scale!r}. NormFace, "
            "CosFace and ArcFace use s = 16 to 64; on 10 classes in 2-D, about 10."
        )
    return float(scale)


def _check_margin(margin, upper, meaning):
    if (
        not isinstance(margin, numbers.Real)
        or isinstance(margin, bool)
        or not (math.isfinite(margin) and 0 <= margin < upper)
    ):
        raise ValueError(f"margin must be a number in [0, {upper:g}): {meaning}; got {margin!r}.")
    return float(margin)


@keras.saving.register_keras_serializable(package="centerloss")
class NormFace(AngularHead):
    """Normalised softmax: logits s · cos θ_j, no margin (NormFace, Wang et al. 2017).

    Args:
      num_classes: C.
      scale: s > 0. Normalised logits lie in [−s, s]; with s = 1 softmax cannot
        get confident and training stalls (the paper's point), so s must be large
        enough: about 10 for 10 classes.
    """

    def __init__(self, num_classes: int, scale: float = 10.0, **kwargs):
        super().__init__(num_classes, **kwargs)
        self.scale = _check_scale(scale)

    def target_logit(self, cos_theta, features, step):
        return self.scale * cos_theta  # no margin: the target is one class among others

    def get_config(self):
        return {**super().get_config(), "scale": self.scale}


@keras.saving.register_keras_serializable(package="centerloss")
class CosFace(AngularHead):
    """Additive cosine margin: target logit s · (cos θ − m) (CosFace / LMCL, eq. 4).

    Args:
      num_classes: C.
      scale: s > 0.
      margin: m in [0, 2): subtracted from the target's cosine. The paper uses
        0.35 on faces (512-D); 10 classes in 2-D have room for far less.
    """

    def __init__(self, num_classes: int, scale: float = 10.0, margin: float = 0.1, **kwargs):
        super().__init__(num_classes, **kwargs)
        self.scale = _check_scale(scale)
        self.margin = _check_margin(margin, 2.0, "it is subtracted from a cosine in [−1, 1]")

    def target_logit(self, cos_theta, features, step):
        return self.scale * (cos_theta - self.margin)  # eq. (4)

    def get_config(self):
        return {**super().get_config(), "scale": self.scale, "margin": self.margin}

    def _settings(self):
        return {"s": self.scale, "m": self.margin}


@keras.saving.register_keras_serializable(package="centerloss")
class ArcFace(AngularHead):
    """Additive angular margin: target logit s · cos(θ + m) (ArcFace, eq. 3).

    Where θ + m > π, cos(θ + m) would grow again with θ; there (θ > π − m)
    the target logit is s · (cos θ − m·sin m) instead (InsightFace's
    fallback): it keeps decreasing, a step below s · cos(θ + m) at θ = π − m.

    Args:
      num_classes: C.
      scale: s > 0.
      margin: m in [0, π/2) radians, added to the target's angle. The paper uses
        0.5 (28.6°) on faces; 10 classes in 2-D are 36° apart at best.
    """

    def __init__(self, num_classes: int, scale: float = 10.0, margin: float = 0.1, **kwargs):
        super().__init__(num_classes, **kwargs)
        self.scale = _check_scale(scale)
        self.margin = _check_margin(
            margin, math.pi / 2, "it is an angle in radians added to the target's angle"
        )

    def target_logit(self, cos_theta, features, step):
        # cos(θ + m) = cos θ cos m − sin θ sin m, with sin θ = √(1 − cos²θ) ≥ 0
        # (θ ∈ [0, π]); clipped so that θ = 0 has a finite gradient.
        sin_theta = tf.sqrt(tf.maximum(1.0 - tf.square(cos_theta), _EPSILON))
        cos_theta_plus_m = cos_theta * math.cos(self.margin) - sin_theta * math.sin(self.margin)
        fallback = cos_theta - self.margin * math.sin(self.margin)
        beyond = cos_theta < math.cos(math.pi - self.margin)  # θ > π − m
        return self.scale * tf.where(beyond, fallback, cos_theta_plus_m)  # eq. (3)

    def get_config(self):
        return {**super().get_config(), "scale": self.scale, "margin": self.margin}

    def _settings(self):
        return {"s": self.scale, "m": self.margin}


@keras.saving.register_keras_serializable(package="centerloss")
class SphereFace(AngularHead):
    """Multiplicative angular margin: target logit ‖x‖ · ψ(θ) (SphereFace, A-Softmax).

    The features keep their length: logits are ‖x‖ · cos θ_j, and no scale s.
    In training the target logit is annealed from plain softmax towards
    A-Softmax, (λ‖x‖cos θ + ‖x‖ψ(θ)) / (1 + λ), with λ from
    :func:`sphereface_lambda` at the step the model passes in.

    Args:
      num_classes: C.
      margin: the integer m ≥ 1 (the paper's 4); θ is multiplied by it.
      base, gamma, power, lambda_min: the annealing schedule (the authors' values).
    """

    def __init__(
        self,
        num_classes: int,
        margin: int = 4,
        base: float = 1000.0,
        gamma: float = 0.12,
        power: float = 1.0,
        lambda_min: float = 5.0,
        **kwargs,
    ):
        super().__init__(num_classes, **kwargs)
        if not isinstance(margin, numbers.Integral) or isinstance(margin, bool) or margin < 1:
            raise ValueError(
                f"margin must be an integer >= 1: SphereFace multiplies the target's angle "
                f"by it (cos mθ); got {margin!r}. The paper uses 4."
            )
        for name, value in (("base", base), ("gamma", gamma), ("power", power)):
            if not isinstance(value, numbers.Real) or not (math.isfinite(value) and value >= 0):
                raise ValueError(f"{name} must be a finite number >= 0; got {value!r}.")
        if not isinstance(lambda_min, numbers.Real) or not (
            math.isfinite(lambda_min) and lambda_min >= 0
        ):
            raise ValueError(
                f"lambda_min must be a finite number >= 0 (0: pure A-Softmax at the end); "
                f"got {lambda_min!r}."
            )
        self.margin = int(margin)
        self.schedule = dict(base=base, gamma=gamma, power=power, lambda_min=lambda_min)

    def plain_logits(self, cos_theta, features):
        return _norms(features)[:, tf.newaxis] * cos_theta  # ‖x‖ cos θ_j = ŵ_j^T x

    def target_logit(self, cos_theta, features, step):
        if step is None:
            weight = tf.constant(float(self.schedule["lambda_min"]))
        else:
            weight = sphereface_lambda(tf.cast(step, tf.float32) + 1.0, **self.schedule)
        norms = _norms(features)
        psi = sphereface_psi(cos_theta, self.margin)
        return norms * (weight * cos_theta + psi) / (1.0 + weight)

    def get_config(self):
        return {**super().get_config(), "margin": self.margin, **self.schedule}

    def _settings(self):
        return {"m": self.margin}


def _norms(features):
    """‖x_i‖ [m], with a finite gradient at a zero feature."""
    return tf.sqrt(tf.maximum(tf.reduce_sum(tf.square(features), axis=1), _EPSILON**2))


HEADS = {"normface": NormFace, "sphereface": SphereFace, "cosface": CosFace, "arcface": ArcFace}
"""The heads by name, as the playground and the command line know them."""
