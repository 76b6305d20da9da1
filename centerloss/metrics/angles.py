"""Compactness and separation measured in angles, for features compared by cosine.

The angular-margin losses (``centerloss.margins``) care only about a feature's
direction, and verification compares features by cosine similarity. These are
the angular twins of the Euclidean spread, separation and ratio in
:mod:`centerloss.metrics.features`. A class's *direction* is the mean of its
unit-length features, normalised again (its mean direction on the circle or sphere).

* :func:`angular_spread`: mean angle between a sample and its class's direction.
* :func:`angular_separation`: mean, over classes, of the angle from a class's
  direction to the nearest other class's direction (in 2-D with 10 evenly spread
  classes, 36°).
* :func:`angular_ratio`: the two divided; below 0.5 every sample is on
  average nearer its own class's direction than halfway to the next class.

Angles are in degrees. Arguments: ``features`` float [N, d], ``labels`` integer class ids [N].
"""

from __future__ import annotations

import math

import numpy as np

from centerloss.metrics.features import _check_features_labels, _ratio


def class_directions(features, labels) -> tuple[np.ndarray, np.ndarray]:
    """Each class's mean direction: (classes [K], unit vectors [K, d]).

    Raises ValueError when a class's unit features cancel out (no mean direction).
    """
    features, labels = _check_features_labels(features, labels)
    classes, directions, _ = _class_directions(_unit(features), labels)
    return classes, directions


def angular_spread(features, labels) -> float:
    """Mean angle (degrees) between each sample and its class's mean direction."""
    features, labels = _check_features_labels(features, labels)
    unit = _unit(features)
    _, directions, inverse = _class_directions(unit, labels)
    return _spread(unit, directions, inverse)


def angular_separation(features, labels) -> float:
    """Mean over classes of the angle (degrees) to the nearest other class's direction."""
    features, labels = _check_features_labels(features, labels)
    _, directions, _ = _class_directions(_unit(features), labels)
    return _separation(directions)


def angular_ratio(features, labels) -> float:
    """:func:`angular_spread` / :func:`angular_separation`; dimensionless, lower is better."""
    return angular_metrics(features, labels)["angular_ratio"]


def angular_metrics(features, labels) -> dict[str, float]:
    """The three numbers above as a dict of Python floats: "angular_spread",
    "angular_separation" (degrees) and "angular_ratio"."""
    features, labels = _check_features_labels(features, labels)
    unit = _unit(features)
    _, directions, inverse = _class_directions(unit, labels)
    spread, separation = _spread(unit, directions, inverse), _separation(directions)
    return {
        "angular_spread": spread,
        "angular_separation": separation,
        "angular_ratio": _ratio(spread, separation),
    }


def _unit(features):
    norms = np.linalg.norm(features, axis=1, keepdims=True)
    if (norms == 0).any():
        raise ValueError(
            "features must be non-zero to have a direction; a zero feature vector has no angle."
        )
    return features / norms


def _class_directions(unit, labels):
    classes, inverse = np.unique(labels, return_inverse=True)
    sums = np.zeros((len(classes), unit.shape[1]))
    np.add.at(sums, inverse, unit)
    lengths = np.linalg.norm(sums, axis=1, keepdims=True)
    if (lengths < 1e-9 * np.bincount(inverse)[:, None]).any():
        raise ValueError(
            "a class's features point in opposite directions that cancel out, so it has "
            "no mean direction; its angular spread is undefined."
        )
    return classes, sums / lengths, inverse


def _angles(cosines):
    return np.degrees(np.arccos(np.clip(cosines, -1.0, 1.0)))


def _spread(unit, directions, inverse):
    return float(_angles(np.sum(unit * directions[inverse], axis=1)).mean())


def _separation(directions):
    angles = _angles(directions @ directions.T)
    np.fill_diagonal(angles, np.inf)
    return float(angles.min(axis=1).mean())


def class_arcs(features, labels, coverage: float = 0.9) -> dict[int, tuple[float, float]]:
    """The arc of the circle each class's 2-D features cover, as (start, end) angles.

    Args:
      features: float array [N, 2].
      labels: integer class ids [N].
      coverage: share of each class's samples inside its arc, the central ones
        around the class's mean direction (0.9: the 5th to the 95th percentile
        of their angles from it), so that a few strays do not stretch it.

    Returns:
      {class id: (start, end)} in radians, counter-clockwise from start to
      end, start in (−π, π] and end = start + the arc's width.
    """
    features, labels = _check_features_labels(features, labels)
    if features.shape[1] != 2:
        raise ValueError(f"class arcs need 2-D features [N, 2]; got shape {features.shape}.")
    if not 0 < coverage <= 1:
        raise ValueError(f"coverage must be in (0, 1]; got {coverage!r}.")
    unit = _unit(features)
    classes, directions, inverse = _class_directions(unit, labels)
    arcs = {}
    for k, class_id in enumerate(classes):
        middle = math.atan2(directions[k, 1], directions[k, 0])
        points = unit[inverse == k]
        # Angles from the class's direction, in (−π, π]: no wrap-around at ±180°.
        offsets = np.angle(np.exp(1j * (np.arctan2(points[:, 1], points[:, 0]) - middle)))
        low, high = np.quantile(offsets, [(1 - coverage) / 2, (1 + coverage) / 2])
        start = float(np.angle(np.exp(1j * (middle + low))))
        arcs[int(class_id)] = (start, start + float(high - low))
    return arcs
