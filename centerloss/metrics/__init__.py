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
* :func:`angular_spread`, :func:`angular_separation`, :func:`angular_ratio`
  (and :func:`angular_metrics`, all three): the same questions in degrees,
  for features compared by direction (the angular-margin losses, cosine
  verification).
* :func:`verification_roc_auc_score` and :func:`retrieval_precision_at_k`:
  open-set quality, for classes the network never saw, by cosine similarity
  or Euclidean distance (``metric=``, named as in scikit-learn).

Distances are Euclidean, in the features' own units. Arguments are
``features`` float [N, d], ``labels`` integer class ids [N] and ``centers``
float [C, d] indexed by class id (row j is the center of class j).

The functions live in three modules: ``features`` (the class-level numbers
above, and the argument checks), ``angles`` (their angular twins) and
``verification`` (open-set verification and retrieval).
"""

from __future__ import annotations

from centerloss.metrics.angles import (
    angular_metrics,
    angular_ratio,
    angular_separation,
    angular_spread,
    class_arcs,
    class_directions,
)
from centerloss.metrics.features import (
    center_lag,
    class_means,
    feature_metrics,
    inter_class_separation,
    intra_class_spread,
    nearest_center_accuracy_score,
    spread_ratio,
)
from centerloss.metrics.verification import (
    METRICS,
    retrieval_precision_at_k,
    verification_pairs,
    verification_roc_auc_score,
)

__all__ = [
    "METRICS",
    "angular_metrics",
    "angular_ratio",
    "angular_separation",
    "angular_spread",
    "class_arcs",
    "class_directions",
    "center_lag",
    "class_means",
    "feature_metrics",
    "inter_class_separation",
    "intra_class_spread",
    "nearest_center_accuracy_score",
    "retrieval_precision_at_k",
    "spread_ratio",
    "verification_pairs",
    "verification_roc_auc_score",
]
