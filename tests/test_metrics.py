"""Tests for centerloss.metrics against hand-worked cases and scikit-learn."""

import json
import math

import numpy as np
import pytest
import reference
from sklearn.metrics import silhouette_score

from centerloss import metrics

# Two classes of two points each:
#   class 0 at (0, 0) and (2, 0), mean (1, 0)
#   class 1 at (0, 4) and (2, 4), mean (1, 4)
# Every point is 1 from its class mean, and the means are 4 apart.
SQUARE = np.array([[0.0, 0.0], [2.0, 0.0], [0.0, 4.0], [2.0, 4.0]])
SQUARE_LABELS = np.array([0, 0, 1, 1])


def test_class_means_by_hand():
    classes, means = metrics.class_means(SQUARE, SQUARE_LABELS)
    np.testing.assert_array_equal(classes, [0, 1])
    np.testing.assert_allclose(means, [[1.0, 0.0], [1.0, 4.0]])


def test_class_means_sorted_and_for_present_classes_only():
    features = np.array([[5.0, 5.0], [1.0, 1.0], [3.0, 3.0], [5.0, 7.0]])
    classes, means = metrics.class_means(features, np.array([7, 2, 2, 7]))
    np.testing.assert_array_equal(classes, [2, 7])
    np.testing.assert_allclose(means, [[2.0, 2.0], [5.0, 6.0]])


def test_spread_separation_ratio_by_hand():
    assert metrics.intra_class_spread(SQUARE, SQUARE_LABELS) == pytest.approx(1.0)
    assert metrics.inter_class_separation(SQUARE, SQUARE_LABELS) == pytest.approx(4.0)
    assert metrics.spread_ratio(SQUARE, SQUARE_LABELS) == pytest.approx(0.25)


def test_separation_averages_all_pairs():
    # Means at (0,0), (3,0), (0,4): pair distances 3, 4 and 5, mean 4.
    features = np.array([[0.0, 0.0], [3.0, 0.0], [0.0, 4.0]])
    assert metrics.inter_class_separation(features, np.array([0, 1, 2])) == pytest.approx(4.0)
    assert metrics.intra_class_spread(features, np.array([0, 1, 2])) == 0.0


def test_spread_ratio_is_scale_invariant_and_others_scale():
    features = np.random.default_rng(0).normal(size=(60, 3))
    labels = np.arange(60) % 3
    scaled = 10.0 * features
    assert metrics.spread_ratio(scaled, labels) == pytest.approx(
        metrics.spread_ratio(features, labels)
    )
    assert metrics.intra_class_spread(scaled, labels) == pytest.approx(
        10.0 * metrics.intra_class_spread(features, labels)
    )


def test_spread_ratio_is_inf_when_class_means_coincide():
    features = np.array([[-1.0, 0.0], [1.0, 0.0], [0.0, -1.0], [0.0, 1.0]])
    assert metrics.spread_ratio(features, SQUARE_LABELS) == math.inf


@pytest.mark.parametrize(
    "centers, expected",
    [
        ([[1.0, 0.0], [1.0, 4.0]], 1.0),  # the class means
        ([[1.0, 4.0], [1.0, 0.0]], 0.0),  # swapped: everything nearest the wrong one
        # c0=(0,0), c1=(5,0): class 0 points are 0 and 2 from c0 (right); class 1
        # points (0,4), (2,4) are 4 and √20≈4.47 from c0 but √41 and 5 from c1 (wrong).
        ([[0.0, 0.0], [5.0, 0.0]], 0.5),
    ],
)
def test_nearest_center_accuracy_by_hand(centers, expected):
    assert metrics.nearest_center_accuracy_score(
        SQUARE, SQUARE_LABELS, np.array(centers)
    ) == pytest.approx(expected)


def test_nearest_center_accuracy_indexes_centers_by_class_id():
    # Only classes 1 and 2 present; row 0 is an unused center far away.
    centers = np.array([[100.0, 100.0], [1.0, 0.0], [1.0, 4.0]])
    assert metrics.nearest_center_accuracy_score(SQUARE, SQUARE_LABELS + 1, centers) == 1.0


def test_silhouette_by_hand():
    # Each point: a = 2 (its classmate), b = (4 + √20) / 2, s = (b - a) / b.
    b = (4.0 + math.sqrt(20.0)) / 2.0
    result = metrics.feature_metrics(SQUARE, SQUARE_LABELS)
    assert result["silhouette"] == pytest.approx((b - 2.0) / b)


@pytest.mark.parametrize("sample_size", [None, 20, 500])
def test_silhouette_matches_sklearn(sample_size):
    rng = np.random.default_rng(1)
    labels = np.arange(50) % 3
    features = rng.normal(size=(50, 2)) + 3.0 * labels[:, None]
    got = metrics.feature_metrics(
        features, labels, silhouette_sample_size=sample_size, random_state=4
    )["silhouette"]
    subsample = sample_size if sample_size is not None and sample_size < 50 else None
    assert got == pytest.approx(
        silhouette_score(features, labels, sample_size=subsample, random_state=4)
    )


def test_feature_metrics_keys_values_and_json():
    logits = np.array([[2.0, 0.0], [0.0, 1.0], [0.0, 3.0], [0.0, 1.0]])  # 3 of 4 right
    centers = np.array([[1.0, 0.0], [1.0, 4.0]])
    result = metrics.feature_metrics(SQUARE, SQUARE_LABELS, centers=centers, logits=logits)
    assert list(result) == [
        "accuracy",
        "nearest_center_accuracy",
        "intra_class_spread",
        "inter_class_separation",
        "spread_ratio",
        "silhouette",
    ]
    assert all(type(value) is float for value in result.values())
    assert result["accuracy"] == pytest.approx(0.75)
    assert result["nearest_center_accuracy"] == 1.0
    assert result["spread_ratio"] == pytest.approx(0.25)
    json.dumps(result)


def test_feature_metrics_omits_what_was_not_given():
    assert set(metrics.feature_metrics(SQUARE, SQUARE_LABELS)) == {
        "intra_class_spread",
        "inter_class_separation",
        "spread_ratio",
        "silhouette",
    }


@pytest.mark.parametrize(
    "features, labels, match",
    [
        (np.zeros(4), SQUARE_LABELS, "features must be a 2-D array"),
        (SQUARE, SQUARE_LABELS[:, None], "labels must be a 1-D array"),
        (SQUARE, SQUARE_LABELS.astype(float), "labels must be integer"),
        (SQUARE, SQUARE_LABELS[:3], "same length"),
        (SQUARE, np.zeros(4, dtype=int), "at least 2 classes"),
        (np.where(SQUARE == 2.0, np.nan, SQUARE), SQUARE_LABELS, "features must be finite"),
    ],
)
def test_bad_features_or_labels_raise(features, labels, match):
    for function in (
        metrics.class_means,
        metrics.intra_class_spread,
        metrics.inter_class_separation,
        metrics.spread_ratio,
        metrics.feature_metrics,
    ):
        with pytest.raises(ValueError, match=match):
            function(features, labels)


@pytest.mark.parametrize(
    "centers, match",
    [
        (np.zeros((2, 3)), r"centers must be a 2-D array \[C, d\] with d=2"),
        (np.zeros(2), "centers must be a 2-D array"),
        (np.zeros((1, 2)), r"labels must be class ids in \[0, 1\)"),
    ],
)
def test_bad_centers_raise(centers, match):
    with pytest.raises(ValueError, match=match):
        metrics.nearest_center_accuracy_score(SQUARE, SQUARE_LABELS, centers)
    with pytest.raises(ValueError, match=match):
        metrics.feature_metrics(SQUARE, SQUARE_LABELS, centers=centers)


def test_bad_logits_raise():
    with pytest.raises(ValueError, match=r"logits must be a 2-D array \[N, C\] with N=4"):
        metrics.feature_metrics(SQUARE, SQUARE_LABELS, logits=np.zeros((3, 2)))


# ------------------------------------------ open-set: verification and retrieval


def unit_vectors(degrees):
    """2-D unit vectors at the given angles: cosine similarity = cos(angle between)."""
    radians = np.deg2rad(degrees)
    return np.c_[np.cos(radians), np.sin(radians)]


# Class 0 at 0° and 10°, class 1 at 25° and 45°. Angles between pairs:
#   same class:      (0°,10°) 10   (25°,45°) 20
#   different class: (0°,25°) 25   (0°,45°) 45   (10°,25°) 15   (10°,45°) 35
# Smaller angle = higher cosine similarity.
FAN = unit_vectors([0.0, 10.0, 25.0, 45.0])
FAN_LABELS = np.array([0, 0, 1, 1])


def test_verification_auc_every_pair_by_hand():
    # Same-class angle 10 beats all 4 different-class angles; 20 beats 25, 45, 35
    # but not 15: 7 of the 8 (same, different) comparisons are won.
    auc = metrics.verification_roc_auc_score(FAN, FAN_LABELS, n_pairs=None)
    assert auc == pytest.approx(7 / 8)


def test_verification_auc_perfect_and_chance():
    # Classes along orthogonal axes, with different lengths: every same-class pair
    # has cosine 1, every different-class pair cosine 0 (length is ignored).
    features = np.array([[1.0, 0.0], [3.0, 0.0], [0.5, 0.0], [0.0, 2.0], [0.0, 1.0]])
    labels = np.array([0, 0, 0, 1, 1])
    assert metrics.verification_roc_auc_score(features, labels) == 1.0
    assert metrics.verification_roc_auc_score(features, labels, n_pairs=None) == 1.0
    # All features identical: every pair scores 1, so same and different tie: chance.
    assert metrics.verification_roc_auc_score(np.ones((6, 3)), np.arange(6) % 2) == 0.5


def test_verification_pairs_balanced_valid_and_seeded():
    rng = np.random.default_rng(0)
    labels = np.repeat([0, 1, 2], [2, 5, 30])  # unequal classes
    features = rng.normal(size=(len(labels), 4))
    y_true, y_score = metrics.verification_pairs(features, labels, n_pairs=500)
    np.testing.assert_array_equal(y_true, np.repeat([1, 0], 500))
    assert y_score.shape == (1000,) and np.all(np.abs(y_score) <= 1.0)
    again = metrics.verification_pairs(features, labels, n_pairs=500)
    np.testing.assert_array_equal(y_score, again[1])
    other_seed = metrics.verification_pairs(features, labels, n_pairs=500, random_state=1)
    assert not np.array_equal(y_score, other_seed[1])
    # Every drawn pair is two distinct samples of the kind claimed: recover them
    # from their scores against the exhaustive list.
    all_true, all_score = metrics.verification_pairs(features, labels, n_pairs=None)
    score_kind = dict(zip(np.round(all_score, 12), all_true, strict=True))
    assert all(score_kind[round(s, 12)] == t for s, t in zip(y_score, y_true, strict=True))


def test_verification_sampled_auc_close_to_exact():
    rng = np.random.default_rng(1)
    labels = np.arange(300) % 3
    features = rng.normal(size=(300, 5)) + 1.5 * np.eye(5)[labels]
    exact = metrics.verification_roc_auc_score(features, labels, n_pairs=None)
    sampled = metrics.verification_roc_auc_score(features, labels, n_pairs=5000)
    assert 0.6 < exact < 0.95
    assert sampled == pytest.approx(exact, abs=0.02)


def test_retrieval_precision_at_k_by_hand():
    # k=1: nearest of 0° is 10° (same), of 10° is 0° (same), of 25° is 10° (15° away,
    # different), of 45° is 25° (same): 3/4.
    assert metrics.retrieval_precision_at_k(FAN, FAN_LABELS, k=1) == pytest.approx(0.75)
    # k=2: each query's two nearest are one same-class and one other: exactly 1/2.
    assert metrics.retrieval_precision_at_k(FAN, FAN_LABELS, k=2) == pytest.approx(0.5)
    # k=3 = N-1: everything else; each has 1 of 3 in its class.
    assert metrics.retrieval_precision_at_k(FAN, FAN_LABELS, k=3) == pytest.approx(1 / 3)


def test_retrieval_ignores_length_and_excludes_the_query():
    # Scaling a feature does not change its direction, so nothing changes.
    scaled = FAN * np.array([[1.0], [5.0], [0.1], [30.0]])
    assert metrics.retrieval_precision_at_k(scaled, FAN_LABELS, k=1) == pytest.approx(0.75)
    # Two tight classes: perfect, and a query never counts itself.
    features = np.array([[1.0, 0.0], [1.0, 0.01], [0.0, 1.0], [0.01, 1.0]])
    assert metrics.retrieval_precision_at_k(features, FAN_LABELS, k=1) == 1.0


def test_retrieval_chunks_agree_with_one_block(monkeypatch):
    rng = np.random.default_rng(2)
    features, labels = rng.normal(size=(50, 3)), np.arange(50) % 4
    whole = metrics.retrieval_precision_at_k(features, labels, k=4)
    monkeypatch.setattr(metrics.verification, "_QUERY_CHUNK", 7)
    assert metrics.retrieval_precision_at_k(features, labels, k=4) == whole


@pytest.mark.parametrize("k", [0, -1, 4, 2.5, True])
def test_retrieval_rejects_bad_k(k):
    with pytest.raises(ValueError, match="k must be"):
        metrics.retrieval_precision_at_k(FAN, FAN_LABELS, k=k)


@pytest.mark.parametrize("n_pairs", [0, -5, 10.0, "100"])
def test_verification_rejects_bad_n_pairs(n_pairs):
    with pytest.raises(ValueError, match="n_pairs must be a positive integer"):
        metrics.verification_roc_auc_score(FAN, FAN_LABELS, n_pairs=n_pairs)


def test_verification_needs_a_same_class_pair():
    with pytest.raises(ValueError, match="2 or more samples"):
        metrics.verification_roc_auc_score(FAN, np.array([0, 1, 2, 3]))


@pytest.mark.parametrize(
    "score",
    [
        lambda f, y: metrics.verification_roc_auc_score(f, y),
        lambda f, y: metrics.retrieval_precision_at_k(f, y, k=1),
    ],
)
def test_open_set_metrics_reject_bad_features_and_labels(score):
    with pytest.raises(ValueError, match="at least 2 classes"):
        score(FAN, np.zeros(4, dtype=int))
    with pytest.raises(ValueError, match="finite"):
        score(np.where(np.eye(4, 2) > 0, np.nan, FAN), FAN_LABELS)
    with pytest.raises(ValueError, match="same length"):
        score(FAN, FAN_LABELS[:3])
    with pytest.raises(ValueError, match="integer class ids"):
        score(FAN, FAN_LABELS.astype(float))


# Two classes on one ray from the origin: cosine cannot tell them apart (every
# similarity is 1), Euclidean distance can (same class 1 apart, others 8-10).
RAY = np.array([[1.0, 0.0], [2.0, 0.0], [10.0, 0.0], [11.0, 0.0]])
RAY_LABELS = np.array([0, 0, 1, 1])


def test_verification_euclidean_uses_length_cosine_does_not():
    auc = metrics.verification_roc_auc_score
    assert auc(RAY, RAY_LABELS, n_pairs=None, metric="euclidean") == 1.0
    assert auc(RAY, RAY_LABELS, n_pairs=None, metric="cosine") == 0.5  # all ties
    # Every pair scored by minus its distance, checked pair by pair.
    y_true, y_score = metrics.verification_pairs(RAY, RAY_LABELS, n_pairs=None, metric="euclidean")
    expected = {(1, -1.0), (0, -9.0), (0, -10.0), (0, -8.0), (0, -9.0), (1, -1.0)}
    assert set(zip(y_true.tolist(), y_score.tolist(), strict=True)) == expected
    assert sorted(y_score.tolist()) == [-10.0, -9.0, -9.0, -8.0, -1.0, -1.0]


def test_verification_sampled_euclidean_pairs_score_their_distance():
    rng = np.random.default_rng(3)
    features, labels = rng.normal(size=(40, 3)), np.arange(40) % 3
    cosine = metrics.verification_pairs(features, labels, n_pairs=50, random_state=4)
    euclid = metrics.verification_pairs(
        features, labels, n_pairs=50, random_state=4, metric="euclidean"
    )
    np.testing.assert_array_equal(cosine[0], euclid[0])  # same pairs, other score
    assert (euclid[1] < 0).all() and not np.allclose(euclid[1], -np.abs(cosine[1]))


def test_retrieval_euclidean_by_hand_and_against_a_loop():
    assert metrics.retrieval_precision_at_k(RAY, RAY_LABELS, k=1, metric="euclidean") == 1.0
    # Cosine: all ties, the lowest other index wins: queries 0, 1 hit; 2, 3 miss.
    assert metrics.retrieval_precision_at_k(RAY, RAY_LABELS, k=1) == 0.5
    rng = np.random.default_rng(5)
    features, labels = rng.normal(size=(30, 2)), np.arange(30) % 3
    hits = 0
    for i in range(30):
        distance = [
            np.linalg.norm(features[i] - features[j]) if j != i else np.inf for j in range(30)
        ]
        hits += sum(labels[j] == labels[i] for j in np.argsort(distance, kind="stable")[:4])
    assert metrics.retrieval_precision_at_k(
        features, labels, k=4, metric="euclidean"
    ) == pytest.approx(hits / (4 * 30))


@pytest.mark.parametrize(
    "function",
    [
        metrics.verification_pairs,
        metrics.verification_roc_auc_score,
        metrics.retrieval_precision_at_k,
    ],
)
def test_unknown_metric_raises(function):
    with pytest.raises(ValueError, match="metric must be one of"):
        function(RAY, RAY_LABELS, metric="manhattan")


def test_center_lag_by_hand():
    # Class 0 mean (1, 0), class 2 mean (0, 4); class 1 absent and ignored.
    features = np.array([[0.0, 0.0], [2.0, 0.0], [0.0, 4.0]])
    labels = np.array([0, 0, 2])
    centers = np.array([[1.0, 3.0], [50.0, 50.0], [0.0, 0.0]])  # 3 and 4 away
    assert metrics.center_lag(features, labels, centers) == pytest.approx(3.5)
    on_means = np.array([[1.0, 0.0], [9.0, 9.0], [0.0, 4.0]])
    assert metrics.center_lag(features, labels, on_means) == 0.0
    with pytest.raises(ValueError, match="centers must be a 2-D array"):
        metrics.center_lag(features, labels, centers[:, :1])


# --- Angular twins ---------------------------------------------------------


def test_angular_metrics_match_reference_on_random_features():
    from centerloss.metrics import angular_metrics, angular_ratio

    rng = np.random.default_rng(3)
    labels = rng.integers(0, 6, size=300)
    features = rng.normal(size=(300, 5)) + 2.0 * np.eye(6, 5)[labels]
    spread, separation = reference.angular_spread_and_separation(features, labels)
    got = angular_metrics(features, labels)
    np.testing.assert_allclose(got["angular_spread"], spread, rtol=1e-9)
    np.testing.assert_allclose(got["angular_separation"], separation, rtol=1e-9)
    np.testing.assert_allclose(angular_ratio(features, labels), spread / separation, rtol=1e-9)


def test_angular_metrics_of_evenly_spread_classes_are_exact():
    from centerloss.metrics import angular_separation, angular_spread

    # 10 classes 36° apart; each has two samples at ±5° of its direction, any length.
    directions = np.radians(36.0 * np.arange(10))
    angles = np.concatenate([directions - np.radians(5), directions + np.radians(5)])
    lengths = np.linspace(0.5, 4.0, 20)
    features = lengths[:, None] * np.stack([np.cos(angles), np.sin(angles)], axis=1)
    labels = np.tile(np.arange(10), 2)
    np.testing.assert_allclose(angular_spread(features, labels), 5.0, rtol=1e-9)
    np.testing.assert_allclose(angular_separation(features, labels), 36.0, rtol=1e-9)


def test_angular_metrics_refuse_features_without_a_direction():
    from centerloss.metrics import angular_spread

    features = np.array([[1.0, 0.0], [0.0, 0.0], [0.0, 1.0], [0.0, 2.0]])
    with pytest.raises(ValueError, match="non-zero to have a direction"):
        angular_spread(features, np.array([0, 0, 1, 1]))
    opposite = np.array([[1.0, 0.0], [-1.0, 0.0], [0.0, 1.0], [0.0, 2.0]])
    with pytest.raises(ValueError, match="no mean direction"):
        angular_spread(opposite, np.array([0, 0, 1, 1]))
