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


# --- Angular-margin losses, written from the papers' formulas, one sample at a time. ---


def _angle(x, w):
    cos = np.dot(x, w) / (np.linalg.norm(x) * np.linalg.norm(w))
    return np.arccos(np.clip(cos, -1.0, 1.0))


def margin_logits(features, labels, kernel, loss, scale=None, margin=None, sphere_lambda=None):
    """Logits [m, C] of NormFace, CosFace, ArcFace or SphereFace, margin on each target class.

    NormFace: s cos θ_j. CosFace: target s (cos θ − m). ArcFace: target s cos(θ + m), and
    s (cos θ − m sin m) once θ > π − m (InsightFace's fallback). SphereFace: ‖x‖ cos θ_j,
    target ‖x‖ (λ cos θ + ψ(θ)) / (1 + λ), ψ(θ) = (−1)^k cos(mθ) − 2k on [kπ/m, (k+1)π/m].
    """
    m_samples, num_classes = len(labels), kernel.shape[1]
    logits = np.zeros((m_samples, num_classes))
    for i in range(m_samples):
        x = features[i]
        for j in range(num_classes):
            theta = _angle(x, kernel[:, j])
            if loss == "sphereface":
                value = np.linalg.norm(x) * np.cos(theta)
            else:
                value = scale * np.cos(theta)
            if j == labels[i]:
                if loss == "cosface":
                    value = scale * (np.cos(theta) - margin)
                elif loss == "arcface":
                    if theta + margin <= np.pi:
                        value = scale * np.cos(theta + margin)
                    else:
                        value = scale * (np.cos(theta) - margin * np.sin(margin))
                elif loss == "sphereface":
                    k = min(int(np.floor(margin * theta / np.pi)), margin - 1)
                    psi = (-1) ** k * np.cos(margin * theta) - 2 * k
                    lam = sphere_lambda
                    value = np.linalg.norm(x) * (lam * np.cos(theta) + psi) / (1 + lam)
            logits[i, j] = value
    return logits


def margin_loss(features, labels, kernel, **settings):
    """The batch mean of softmax cross-entropy on :func:`margin_logits`."""
    return softmax_cross_entropy(margin_logits(features, labels, kernel, **settings), labels)


def numerical_gradient(function, array, step=1e-6):
    """Central differences of a scalar ``function`` of ``array``, in float64."""
    array = np.array(array, dtype=np.float64)
    gradient = np.zeros_like(array)
    for index in np.ndindex(array.shape):
        plus, minus = array.copy(), array.copy()
        plus[index] += step
        minus[index] -= step
        gradient[index] = (function(plus) - function(minus)) / (2 * step)
    return gradient


def angular_spread_and_separation(features, labels):
    """Angular spread and separation in degrees, class by class with explicit loops."""
    classes = sorted(set(labels.tolist()))
    directions = {}
    for c in classes:
        units = [f / np.linalg.norm(f) for f in features[labels == c]]
        mean = np.sum(units, axis=0)
        directions[c] = mean / np.linalg.norm(mean)
    angles = []
    for f, y in zip(features, labels, strict=True):
        cos = np.dot(f, directions[y]) / np.linalg.norm(f)
        angles.append(np.degrees(np.arccos(min(1.0, max(-1.0, cos)))))
    nearest = []
    for c in classes:
        others = [
            np.degrees(np.arccos(min(1.0, max(-1.0, np.dot(directions[c], directions[o])))))
            for o in classes
            if o != c
        ]
        nearest.append(min(others))
    return float(np.mean(angles)), float(np.mean(nearest))
