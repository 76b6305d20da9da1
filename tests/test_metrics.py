"""Tests for centerloss.metrics against hand-worked cases and scikit-learn."""

import json
import math

import numpy as np
import pytest
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
        metrics.spread_ratio(features, labels))
    assert metrics.intra_class_spread(scaled, labels) == pytest.approx(
        10.0 * metrics.intra_class_spread(features, labels))


def test_spread_ratio_is_inf_when_class_means_coincide():
    features = np.array([[-1.0, 0.0], [1.0, 0.0], [0.0, -1.0], [0.0, 1.0]])
    assert metrics.spread_ratio(features, SQUARE_LABELS) == math.inf


@pytest.mark.parametrize("centers, expected", [
    ([[1.0, 0.0], [1.0, 4.0]], 1.0),  # the class means
    ([[1.0, 4.0], [1.0, 0.0]], 0.0),  # swapped: everything nearest the wrong one
    # c0=(0,0), c1=(5,0): class 0 points are 0 and 2 from c0 (right); class 1
    # points (0,4), (2,4) are 4 and √20≈4.47 from c0 but √41 and 5 from c1 (wrong).
    ([[0.0, 0.0], [5.0, 0.0]], 0.5),
])
def test_nearest_center_accuracy_by_hand(centers, expected):
    assert metrics.nearest_center_accuracy_score(
        SQUARE, SQUARE_LABELS, np.array(centers)) == pytest.approx(expected)


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
    got = metrics.feature_metrics(features, labels, silhouette_sample_size=sample_size,
                                  random_state=4)["silhouette"]
    subsample = sample_size if sample_size is not None and sample_size < 50 else None
    assert got == pytest.approx(
        silhouette_score(features, labels, sample_size=subsample, random_state=4))


def test_feature_metrics_keys_values_and_json():
    logits = np.array([[2.0, 0.0], [0.0, 1.0], [0.0, 3.0], [0.0, 1.0]])  # 3 of 4 right
    centers = np.array([[1.0, 0.0], [1.0, 4.0]])
    result = metrics.feature_metrics(SQUARE, SQUARE_LABELS, centers=centers, logits=logits)
    assert list(result) == ["accuracy", "nearest_center_accuracy", "intra_class_spread",
                            "inter_class_separation", "spread_ratio", "silhouette"]
    assert all(type(value) is float for value in result.values())
    assert result["accuracy"] == pytest.approx(0.75)
    assert result["nearest_center_accuracy"] == 1.0
    assert result["spread_ratio"] == pytest.approx(0.25)
    json.dumps(result)


def test_feature_metrics_omits_what_was_not_given():
    assert set(metrics.feature_metrics(SQUARE, SQUARE_LABELS)) == {
        "intra_class_spread", "inter_class_separation", "spread_ratio", "silhouette"}


@pytest.mark.parametrize("features, labels, match", [
    (np.zeros(4), SQUARE_LABELS, "features must be a 2-D array"),
    (SQUARE, SQUARE_LABELS[:, None], "labels must be a 1-D array"),
    (SQUARE, SQUARE_LABELS.astype(float), "labels must be integer"),
    (SQUARE, SQUARE_LABELS[:3], "same length"),
    (SQUARE, np.zeros(4, dtype=int), "at least 2 classes"),
    (np.where(SQUARE == 2.0, np.nan, SQUARE), SQUARE_LABELS, "features must be finite"),
])
def test_bad_features_or_labels_raise(features, labels, match):
    for function in (metrics.class_means, metrics.intra_class_spread,
                     metrics.inter_class_separation, metrics.spread_ratio,
                     metrics.feature_metrics):
        with pytest.raises(ValueError, match=match):
            function(features, labels)


@pytest.mark.parametrize("centers, match", [
    (np.zeros((2, 3)), r"centers must be a 2-D array \[C, d\] with d=2"),
    (np.zeros(2), "centers must be a 2-D array"),
    (np.zeros((1, 2)), r"labels must be class ids in \[0, 1\)"),
])
def test_bad_centers_raise(centers, match):
    with pytest.raises(ValueError, match=match):
        metrics.nearest_center_accuracy_score(SQUARE, SQUARE_LABELS, centers)
    with pytest.raises(ValueError, match=match):
        metrics.feature_metrics(SQUARE, SQUARE_LABELS, centers=centers)


def test_bad_logits_raise():
    with pytest.raises(ValueError, match=r"logits must be a 2-D array \[N, C\] with N=4"):
        metrics.feature_metrics(SQUARE, SQUARE_LABELS, logits=np.zeros((3, 2)))
