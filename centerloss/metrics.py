"""How compact and how separated learned features are, as numbers.

Center loss (Wen et al., ECCV 2016) aims at deep features that are *compact*
within a class and *separated* between classes. The scatter plots show it;
these functions measure it, so runs (e.g. a sweep over λ) can be compared:

* :func:`intra_class_spread`: mean distance of a sample to its class mean.
* :func:`inter_class_separation`: mean distance between class means.
* :func:`spread_ratio`: the two divided; dimensionless and scale-invariant,
  so it is fair across runs whose features have different magnitudes.
* :func:`nearest_center_accuracy_score`: how often the nearest learned center
  is the sample's own, i.e. how well the centers alone classify.
* :func:`center_lag`: how far the learned centers are from their classes'
  feature means (centers follow moving features with delay α sets).
* :func:`feature_metrics`: all of the above plus softmax accuracy and the
  silhouette score, as one JSON-serialisable dict.
* :func:`verification_roc_auc_score` and :func:`retrieval_precision_at_k`:
  open-set quality, for classes the network never saw, by cosine similarity
  or Euclidean distance (``metric=``, named as in scikit-learn).

Distances are Euclidean, in the features' own units. Arguments are
``features`` float [N, d], ``labels`` integer class ids [N] and ``centers``
float [C, d] indexed by class id (row j is the center of class j).
"""

from __future__ import annotations

import math

import numpy as np
from sklearn.metrics import (
    accuracy_score,
    pairwise_distances,
    pairwise_distances_argmin,
    roc_auc_score,
    silhouette_score,
)

from centerloss.config import check_positive_int


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


# --------------------------------------------------------------------------
# Open-set evaluation: verification and retrieval by cosine or Euclidean metric
# --------------------------------------------------------------------------
#
# Face recognition (the paper's Sec. 4.3-4.5) meets identities at test time
# that training never saw, so the classifier is useless there; what is left
# is comparing deep features. Two ways to measure how well they compare:
#
# * verification_roc_auc_score: are two samples the same class? Score pairs
#   by how similar their features are; ROC AUC over same-class and
#   different-class pairs (0.5 is chance, 1.0 perfect).
# * retrieval_precision_at_k: among a sample's k most similar samples, the
#   share with its own class.
#
# "Similar" is metric="cosine" (the default; cosine similarity ignores
# feature length, as the paper's face experiments do; a zero feature vector
# has similarity 0 with everything) or metric="euclidean" (minus the
# Euclidean distance, so that higher still means more alike; length counts).

METRICS = ("cosine", "euclidean")


def verification_pairs(
    features,
    labels,
    n_pairs: int | None = 3000,
    random_state: int = 0,
    metric: str = "cosine",
) -> tuple[np.ndarray, np.ndarray]:
    """Same-class and different-class pairs of samples, scored by similarity.

    Args:
      features: float array [N, d].
      labels: integer class ids [N]; at least 2 classes, one of them with 2
        or more samples.
      n_pairs: how many same-class pairs to draw, and as many different-class
        pairs (so the two kinds are balanced). Pairs are drawn with
        replacement: the first sample uniformly among those that have a
        partner of the kind wanted, the second uniformly among its partners.
        None uses every unordered pair once instead (N(N-1)/2 of them; exact,
        but unbalanced and O(N²)).
      random_state: seed of the draw; the same seed gives the same pairs.

      metric: "cosine" (score = cosine similarity) or "euclidean"
        (score = minus the Euclidean distance, in feature units).

    Returns:
      (y_true, y_score), the arguments of ``sklearn.metrics.roc_auc_score``
      and ``roc_curve``: y_true int [P], 1 for a same-class pair and 0 for a
      different-class pair (same-class pairs first); y_score float [P], the
      pair's similarity: cosine in [-1, 1], or -distance <= 0. Higher means
      more alike either way.
    """
    features, labels = _check_features_labels(features, labels)
    _check_metric(metric)
    if n_pairs is None:
        first, second = np.triu_indices(len(labels), k=1)
        same = labels[first] == labels[second]
        order = np.argsort(~same, kind="stable")  # same-class pairs first
        first, second, same = first[order], second[order], same[order]
    else:
        check_positive_int(n_pairs, "n_pairs")
        rng = np.random.default_rng(random_state)
        # Sort samples by class: class c then occupies the slice
        # sorted_index[start[c] : start[c] + count[c]].
        sorted_index = np.argsort(labels, kind="stable")
        _, inverse, count = np.unique(labels, return_inverse=True, return_counts=True)
        start = np.concatenate([[0], np.cumsum(count)[:-1]])
        rank = np.empty(len(labels), dtype=np.int64)  # position of a sample in its class
        rank[sorted_index] = np.arange(len(labels)) - start[inverse[sorted_index]]
        if count.max() < 2:
            raise ValueError(
                "labels must have at least one class with 2 or more samples to form "
                "same-class pairs; every class has a single sample."
            )
        # Same-class: a sample of a class with >= 2 members, then one of the others.
        anchors = rng.choice(np.flatnonzero(count[inverse] >= 2), size=n_pairs)
        c = inverse[anchors]
        offset = 1 + rng.integers(0, count[c] - 1)  # 1..count-1 places further on
        same_second = sorted_index[start[c] + (rank[anchors] + offset) % count[c]]
        # Different-class: any sample, then any of the N - count[c] others.
        others = rng.integers(0, len(labels), size=n_pairs)
        c = inverse[others]
        pick = rng.integers(0, len(labels) - count[c])
        diff_second = sorted_index[np.where(pick < start[c], pick, pick + count[c])]
        first = np.concatenate([anchors, others])
        second = np.concatenate([same_second, diff_second])
        same = np.arange(2 * n_pairs) < n_pairs
    if metric == "cosine":
        unit = _unit_rows(features)
        scores = np.clip(np.einsum("ij,ij->i", unit[first], unit[second]), -1.0, 1.0)
    else:
        scores = -np.linalg.norm(features[first] - features[second], axis=1)
    return same.astype(np.int64), scores


def verification_roc_auc_score(
    features,
    labels,
    n_pairs: int | None = 3000,
    random_state: int = 0,
    metric: str = "cosine",
) -> float:
    """ROC AUC of telling same-class from different-class pairs by feature similarity.

    The open-set test of the paper's face experiments (LFW, YTF): no
    classifier, only "are these two the same identity?", decided by how
    similar their features are. Pairs come from :func:`verification_pairs`.

    Args:
      features: float array [N, d].
      labels: integer class ids [N]; at least 2 classes, one of them with 2
        or more samples.
      n_pairs: same-class pairs drawn, and as many different-class pairs;
        None scores every pair (exact).
      random_state: seed of the pair draw.
      metric: "cosine" (cosine similarity) or "euclidean" (Euclidean distance).

    Returns:
      The area under the ROC curve, in [0, 1]: the chance that a random
      same-class pair is more similar than a random different-class pair
      (ties count half). 0.5 is chance, 1.0 perfect.
    """
    y_true, y_score = verification_pairs(
        features, labels, n_pairs=n_pairs, random_state=random_state, metric=metric
    )
    return float(roc_auc_score(y_true, y_score))


def retrieval_precision_at_k(features, labels, k: int = 5, metric: str = "cosine") -> float:
    """Mean share of each sample's k most similar other samples that share its class.

    Every sample queries all the others; neighbours are ranked by cosine
    similarity or by Euclidean distance (the query itself excluded; ties go
    to the lower index).

    Args:
      features: float array [N, d].
      labels: integer class ids [N]; at least 2 classes.
      k: neighbours per query, 1 <= k <= N - 1.
      metric: "cosine" (most similar first) or "euclidean" (nearest first).

    Returns:
      Precision@k in [0, 1], averaged over all N queries. A class with
      fewer than k + 1 samples cannot reach 1.0.
    """
    features, labels = _check_features_labels(features, labels)
    check_positive_int(k, "k")
    _check_metric(metric)
    if k > len(labels) - 1:
        raise ValueError(
            f"k must be at most N - 1 = {len(labels) - 1} (each query excludes itself); got k={k}."
        )
    unit = _unit_rows(features)
    hits = 0
    for begin in range(0, len(labels), _QUERY_CHUNK):  # bounded memory for large N
        rows = np.arange(begin, min(begin + _QUERY_CHUNK, len(labels)))
        similarity = (
            unit[rows] @ unit.T
            if metric == "cosine"
            else -pairwise_distances(features[rows], features, metric="euclidean")
        )
        similarity[np.arange(len(rows)), rows] = -np.inf  # never retrieve itself
        nearest = np.argsort(-similarity, axis=1, kind="stable")[:, :k]
        hits += int((labels[nearest] == labels[rows, None]).sum())
    return hits / (k * len(labels))


_QUERY_CHUNK = 1024


def _check_metric(metric):
    if metric not in METRICS:
        raise ValueError(f"metric must be one of {METRICS}; got {metric!r}.")


def _unit_rows(features):
    """Rows scaled to length 1; all-zero rows stay zero."""
    norms = np.linalg.norm(features, axis=1, keepdims=True)
    return features / np.where(norms > 0, norms, 1.0)
