"""Step 6: class and score from shape and point statistics.

Each class has a size prior (:class:`~drivestack.perception.lidar.config.ClassPrior`) on the
fitted box's (length, width, height). A dimension may fall short of the prior mean (the far
side is often unseen, the bottom may be hidden) without cost down to ``min_lwh_m``; beyond
``[min, mean]`` it is penalised in units of the prior's standard deviation. The class with the highest likelihood wins when it clears
``min_likelihood`` and the cluster has the class's minimum number of points; otherwise the
cluster is UNKNOWN. The score is a per-class logistic (Platt) calibration of the
log-likelihood, the log point count, the log range and the observed length
(:func:`score_features`), so that a score of p means about a fraction p of such boxes are right.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from drivestack.perception.lidar.config import ClassifyConfig, ClassPrior
from drivestack.structures.labels import ObjectClass

CLASSES: tuple[ObjectClass, ...] = (ObjectClass.CAR, ObjectClass.PEDESTRIAN, ObjectClass.CYCLIST)
#: The optional fourth class (``ClassifyConfig.truck``): large vehicles.
LARGE_VEHICLE = ObjectClass.TRUCK


@dataclass(frozen=True)
class Classification:
    """Per-box class decision.

    Attributes:
        label: ``(N,)`` int64 :class:`ObjectClass` values (UNKNOWN when nothing fits).
        score: ``(N,)`` float64 calibrated confidence in ``(0, 1)``.
        likelihood: ``(N, K)`` size likelihood of Car, Pedestrian, Cyclist (and Truck when
            the config has that prior).
        features: ``(N, 5)`` the :func:`score_features` the score was computed from.
    """

    label: np.ndarray
    score: np.ndarray
    likelihood: np.ndarray
    features: np.ndarray


def _priors(cfg: ClassifyConfig) -> tuple[tuple[ObjectClass, ClassPrior], ...]:
    """The configured classes with their priors, in likelihood-column order."""
    out = ((CLASSES[0], cfg.car), (CLASSES[1], cfg.pedestrian), (CLASSES[2], cfg.cyclist))
    return out if cfg.truck is None else (*out, (LARGE_VEHICLE, cfg.truck))


def size_likelihood(size_lwh_m: np.ndarray, prior: ClassPrior) -> np.ndarray:
    """``(N,)`` likelihood in (0, 1] of ``(N, 3)`` box sizes under one class prior."""
    size = np.asarray(size_lwh_m, dtype=np.float64).reshape(-1, 3)
    mean = np.asarray(prior.mean_lwh_m)
    std = np.asarray(prior.std_lwh_m)
    low = np.asarray(prior.min_lwh_m)
    dev = (np.maximum(size - mean, 0.0) + np.maximum(low - size, 0.0)) / std
    return np.exp(-0.5 * np.sum(dev**2, axis=1))


def score_features(boxes: np.ndarray, num_points: np.ndarray, likelihood: np.ndarray) -> np.ndarray:
    """``(N, 5)`` ``[1, log(likelihood), log(num_points), log(range_m), observed_length_m]``."""
    range_m = np.hypot(boxes[:, 0], boxes[:, 1])
    return np.stack(
        [
            np.ones(len(boxes)),
            np.log(np.maximum(likelihood, 1e-12)),
            np.log(np.maximum(num_points, 1.0)),
            np.log(np.maximum(range_m, 1.0)),
            boxes[:, 3],
        ],
        axis=1,
    )


def classify(boxes: np.ndarray, num_points: np.ndarray, cfg: ClassifyConfig) -> Classification:
    """Classify ``(N, 7)`` fitted boxes (sensor frame, before any completion) of clusters with
    ``(N,)`` points (voxels) each."""
    boxes = np.asarray(boxes, dtype=np.float64).reshape(-1, 7)
    size = boxes[:, 3:6]
    points = np.asarray(num_points, dtype=np.float64).reshape(-1)
    if len(points) != len(size):
        raise ValueError(f"classify: {len(size)} boxes but {len(points)} point counts")
    classes = _priors(cfg)
    priors = [p for _, p in classes]
    likelihood = (
        np.stack([size_likelihood(size, p) for p in priors], axis=1)
        if len(size)
        else np.zeros((0, len(priors)))
    )
    enough = (
        np.stack([points >= p.min_points for p in priors], axis=1)
        if len(size)
        else np.zeros((0, len(priors)), bool)
    )
    masked = np.where(enough, likelihood, 0.0)
    best = np.argmax(masked, axis=1) if len(size) else np.zeros(0, dtype=np.int64)
    best_likelihood = masked[np.arange(len(size)), best]
    known = best_likelihood >= cfg.min_likelihood
    class_ids = np.array([int(c) for c, _ in classes], dtype=np.int64)
    label = np.where(known, class_ids[best], int(ObjectClass.UNKNOWN)).astype(np.int64)
    features = score_features(boxes, points, best_likelihood)
    weights = np.array([p.score_weights for p in priors])[best]  # (N, 5)
    logit = np.einsum("nk,nk->n", features, weights)
    score = 1.0 / (1.0 + np.exp(-logit))
    return Classification(label, score, likelihood, features)


def fit_score_weights(
    features: np.ndarray, is_true: np.ndarray, l2: float = 1e-2, iterations: int = 50
) -> np.ndarray:
    """Platt calibration: logistic-regression weights ``(5,)`` for ``score_weights``.

    Args:
        features: ``(N, 5)`` :func:`score_features` of one class's detections.
        is_true: ``(N,)`` bool, whether each detection matched a label.
        l2: ridge penalty (keeps separable data finite).
        iterations: Newton steps.
    """
    x = np.asarray(features, dtype=np.float64).reshape(-1, 5)
    y = np.asarray(is_true, dtype=np.float64).reshape(-1)
    if len(x) != len(y) or len(x) == 0:
        raise ValueError(
            f"fit_score_weights: need matching non-empty inputs, got {len(x)} and {len(y)}"
        )
    w = np.zeros(5)
    for _ in range(iterations):
        p = 1.0 / (1.0 + np.exp(-(x @ w)))
        gradient = x.T @ (p - y) + l2 * w
        hessian = (x * (p * (1 - p))[:, None]).T @ x + l2 * np.eye(5)
        w -= np.linalg.solve(hessian, gradient)
    return w
