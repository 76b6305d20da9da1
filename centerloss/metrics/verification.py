"""Open-set evaluation: verification and retrieval by cosine or Euclidean metric.

Face recognition (the paper's Sec. 4.3-4.5) meets identities at test time
that training never saw, so the classifier is useless there; what is left
is comparing deep features. Two ways to measure how well they compare:

* verification_roc_auc_score: are two samples the same class? Score pairs
  by how similar their features are; ROC AUC over same-class and
  different-class pairs (0.5 is chance, 1.0 perfect).
* retrieval_precision_at_k: among a sample's k most similar samples, the
  share with its own class.

"Similar" is metric="cosine" (the default; cosine similarity ignores
feature length, as the paper's face experiments do; a zero feature vector
has similarity 0 with everything) or metric="euclidean" (minus the
Euclidean distance, so that higher still means more alike; length counts).
"""

from __future__ import annotations

import numpy as np
from sklearn.metrics import pairwise_distances, roc_auc_score

from centerloss.config import check_positive_int
from centerloss.metrics.features import _check_features_labels

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
