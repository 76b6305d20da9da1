"""Independent NumPy reference of the paper's equations, written from the paper.

Deliberately loop-based and plain: it shares no code with ``centerloss``.
"""

import numpy as np


def center_loss(features, labels, centers):
    """Eq. (2) averaged over the batch: 1/(2m) Σ_i ||x_i - c_{y_i}||²."""
    m = len(labels)
    return sum(0.5 * np.sum((features[i] - centers[labels[i]]) ** 2) for i in range(m)) / m


def center_loss_gradient(features, labels, centers):
    """Eq. (3), first part, for the batch-averaged loss: (x_i - c_{y_i}) / m."""
    return (features - centers[labels]) / len(labels)


def updated_centers(centers, features, labels, alpha):
    """Eq. (3) Δc_j and Algorithm 1's c_j - α Δc_j, class by class."""
    new = np.array(centers, dtype=np.float64, copy=True)
    for j in range(len(centers)):
        members = labels == j
        n_j = members.sum()
        delta = (centers[j] - features[members]).sum(axis=0) / (1.0 + n_j)
        new[j] = centers[j] - alpha * delta
    return new


def softmax_cross_entropy(logits, labels):
    """Eq. (1) averaged over the batch."""
    shifted = logits - logits.max(axis=1, keepdims=True)
    log_p = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    return -log_p[np.arange(len(labels)), labels].mean()


def spread_ratio(features, labels):
    """Intra/inter ratio: mean distance of a sample to its class mean, divided by
    the mean distance between two class means over all pairs."""
    classes = sorted(set(int(label) for label in labels))
    means = {j: features[labels == j].mean(axis=0) for j in classes}
    spread = np.mean(
        [np.linalg.norm(x - means[int(y)]) for x, y in zip(features, labels, strict=True)]
    )
    pairs = [(a, b) for i, a in enumerate(classes) for b in classes[i + 1 :]]
    separation = np.mean([np.linalg.norm(means[a] - means[b]) for a, b in pairs])
    return spread / separation
