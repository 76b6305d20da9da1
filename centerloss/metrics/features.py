"""Compactness and separation of features by class: class means, spread,
separation and their ratio, nearest-center accuracy, center lag and
:func:`feature_metrics`, which gathers them; and the argument checks, which
:mod:`centerloss.metrics.verification` shares."""

from __future__ import annotations

import math

import numpy as np
from sklearn.metrics import (
    accuracy_score,
    pairwise_distances,
    pairwise_distances_argmin,
    silhouette_score,
)


def class_means(features, labels) -> tuple[np.ndarray, np.ndarray]:
    """Mean feature of each class present in ``labels``.

    Args:
      features: float array [N, d].
      labels: integer class ids [N]; at least 2 distinct classes.

    Returns:
      (classes [K], means [K, d]): the sorted distinct labels and, row for row,
      the mean feature of that class (float64, feature units).
    """
    features, labels = _check_features_labels(features, labels)
    classes, means, _ = _class_means(features, labels)
    return classes, means


def nearest_center_accuracy_score(features, labels, centers) -> float:
    """Fraction of samples whose nearest center (Euclidean) is their own class's.

    Args:
      features: float array [N, d].
      labels: integer class ids [N], each in [0, C).
      centers: float array [C, d]; row j is the center of class j.

    Returns:
      Accuracy in [0, 1] of classifying each sample by its nearest center.
      Ties go to the lower class id (so all-equal centers, as at
      initialisation, predict class 0 for everything).
    """
    features, labels = _check_features_labels(features, labels)
    centers = _check_centers(centers, features, labels)
    nearest = pairwise_distances_argmin(features, centers)
    return float(accuracy_score(labels, nearest))


def center_lag(features, labels, centers) -> float:
    """Mean distance from each present class's center to its class's feature mean.

    The centers chase features that move while the network trains; with a
    small α (Algorithm 1) they fall behind. Divide by
    :func:`inter_class_separation` for a scale-free lag.

    Args:
      features: float array [N, d].
      labels: integer class ids [N], each in [0, C); at least 2 classes.
      centers: float array [C, d]; row j is the center of class j.

    Returns:
      The mean over the K classes in ``labels`` of ‖c_j − mean_j‖, in feature
      units; 0 when every center sits on its class mean.
    """
    features, labels = _check_features_labels(features, labels)
    centers = _check_centers(centers, features, labels)
    classes, means, _ = _class_means(features, labels)
    return float(np.linalg.norm(centers[classes] - means, axis=1).mean())


def intra_class_spread(features, labels) -> float:
    """Mean over samples of the distance from each sample to its class mean.

    Args:
      features: float array [N, d].
      labels: integer class ids [N]; at least 2 distinct classes.

    Returns:
      Mean distance in feature units; 0 when every class is a single point.
    """
    features, labels = _check_features_labels(features, labels)
    _, means, inverse = _class_means(features, labels)
    return _intra_class_spread(features, means, inverse)


def inter_class_separation(features, labels) -> float:
    """Mean Euclidean distance between class means, over all K(K-1)/2 pairs.

    Args:
      features: float array [N, d].
      labels: integer class ids [N]; K >= 2 distinct classes.

    Returns:
      Mean pairwise distance between the K class means, in feature units.
    """
    features, labels = _check_features_labels(features, labels)
    _, means, _ = _class_means(features, labels)
    return _inter_class_separation(means)


def spread_ratio(features, labels) -> float:
    """intra_class_spread / inter_class_separation; smaller means more compact.

    Dimensionless and scale-invariant: multiplying all features by a constant
    leaves it unchanged, so runs with different feature magnitudes (softmax
    alone tends to grow them) compare fairly.

    Args:
      features: float array [N, d].
      labels: integer class ids [N]; at least 2 distinct classes.

    Returns:
      The ratio (>= 0); ``inf`` when all class means coincide.
    """
    features, labels = _check_features_labels(features, labels)
    _, means, inverse = _class_means(features, labels)
    return _ratio(_intra_class_spread(features, means, inverse), _inter_class_separation(means))


def feature_metrics(
    features,
    labels,
    centers=None,
    logits=None,
    silhouette_sample_size: int | None = 2000,
    random_state: int = 0,
) -> dict[str, float]:
    """All feature-quality numbers for one set of features, as plain floats.

    Args:
      features: float array [N, d].
      labels: integer class ids [N]; at least 2 distinct classes.
      centers: optional float array [C, d], row j the center of class j.
      logits: optional float array [N, C], the classifier's outputs.
      silhouette_sample_size: when N is larger, the silhouette score (O(N²)
        memory and time) is computed on this many samples; None uses all.
      random_state: seed of that subsample, so the score is reproducible.

    Returns:
      A dict, in this order, with keys
      "accuracy" (argmax of logits vs labels; only when logits are given),
      "nearest_center_accuracy" (only when centers are given),
      "intra_class_spread", "inter_class_separation" (feature units),
      "spread_ratio" (dimensionless) and "silhouette" (in [-1, 1], higher is
      better clustered). Values are Python floats, so ``json.dumps`` works.
    """
    features, labels = _check_features_labels(features, labels)
    results = {}
    if logits is not None:
        logits = _check_logits(logits, labels)
        results["accuracy"] = float(accuracy_score(labels, logits.argmax(axis=1)))
    if centers is not None:
        results["nearest_center_accuracy"] = nearest_center_accuracy_score(
            features, labels, centers
        )
    _, means, inverse = _class_means(features, labels)
    spread = _intra_class_spread(features, means, inverse)
    separation = _inter_class_separation(means)
    results["intra_class_spread"] = spread
    results["inter_class_separation"] = separation
    results["spread_ratio"] = _ratio(spread, separation)
    # sample_size only when it subsamples: sklearn's check rejects labels with
    # as many classes as samples, and a full-size "sample" would only reshuffle.
    subsample = (
        silhouette_sample_size
        if silhouette_sample_size is not None and len(labels) > silhouette_sample_size
        else None
    )
    results["silhouette"] = float(
        silhouette_score(features, labels, sample_size=subsample, random_state=random_state)
    )
    return results


# --------------------------------------------------------------------------
# Computation on validated arrays
# --------------------------------------------------------------------------


def _class_means(features, labels):
    """(classes [K], means [K, d], inverse [N]) where classes[inverse] == labels."""
    classes, inverse = np.unique(labels, return_inverse=True)
    sums = np.zeros((len(classes), features.shape[1]))
    np.add.at(sums, inverse, features)
    return classes, sums / np.bincount(inverse)[:, None], inverse


def _intra_class_spread(features, means, inverse):
    return float(np.linalg.norm(features - means[inverse], axis=1).mean())


def _inter_class_separation(means):
    upper = np.triu_indices(len(means), k=1)  # each unordered pair once
    return float(pairwise_distances(means)[upper].mean())


def _ratio(spread, separation):
    return spread / separation if separation > 0 else math.inf


# --------------------------------------------------------------------------
# Input validation: each error names the argument, the expectation and the value
# --------------------------------------------------------------------------


def _check_features_labels(features, labels):
    """Return features as float64 [N, d] and labels as an int array [N]."""
    features = np.asarray(features, dtype=np.float64)
    labels = np.asarray(labels)
    if features.ndim != 2:
        raise ValueError(
            f"features must be a 2-D array [N, d] (one row per sample); got shape {features.shape}."
        )
    if labels.ndim != 1:
        raise ValueError(
            f"labels must be a 1-D array [N] of class ids; got shape {labels.shape}. "
            "Pass integer class ids, not one-hot rows (use labels.ravel() for [N, 1])."
        )
    if not np.issubdtype(labels.dtype, np.integer):
        raise ValueError(f"labels must be integer class ids; got dtype {labels.dtype}.")
    if len(labels) != len(features):
        raise ValueError(
            f"features and labels must have the same length N; got {len(features)} "
            f"features and {len(labels)} labels."
        )
    if not np.isfinite(features).all():
        raise ValueError("features must be finite; got NaN or inf (did training diverge?).")
    num_classes = len(np.unique(labels))
    if num_classes < 2:
        raise ValueError(
            f"labels must contain at least 2 classes to compare classes; got {num_classes}."
        )
    return features, labels


def _check_centers(centers, features, labels):
    """Return centers as float64 [C, d] matching the features' width and the labels."""
    centers = np.asarray(centers, dtype=np.float64)
    if centers.ndim != 2 or centers.shape[1] != features.shape[1]:
        raise ValueError(
            f"centers must be a 2-D array [C, d] with d={features.shape[1]} like the "
            f"features; got shape {centers.shape}."
        )
    if labels.min() < 0 or labels.max() >= len(centers):
        raise ValueError(
            f"labels must be class ids in [0, {len(centers)}) to index centers of shape "
            f"{centers.shape}; got labels from {labels.min()} to {labels.max()}."
        )
    return centers


def _check_logits(logits, labels):
    """Return logits as an array [N, C] with one row per label."""
    logits = np.asarray(logits)
    if logits.ndim != 2 or len(logits) != len(labels):
        raise ValueError(
            f"logits must be a 2-D array [N, C] with N={len(labels)} like the labels; "
            f"got shape {logits.shape}."
        )
    return logits
