"""Offline track scoring: a logistic model of "this track is a real object" from whole-track
features, for runners that write a whole sequence (KITTI result files).

KITTI's protocol ranks whole tracks by their mean score, so a tracker's figures depend on
how well that score separates true tracks from clutter. The mean detection score alone
misses evidence a whole track holds: a pedestrian track that moves several metres through
the world is rarely a pole, and a detection 40 m away is less reliable than one at 10 m.
:func:`track_features` measures each track; :func:`score_tracks` writes the model's logit
``bias + sum_k weights[k] * feature_k`` on every row of the track;
:func:`fit_logistic_track_scorer` fits the weights (L2-regularised logistic regression,
rows-weighted); ``tools/train_track_scorer.py`` fits them on labelled sequences and prints
the YAML block.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
from scipy.optimize import minimize

from drivestack.ingest.kitti_format import KittiObjects
from drivestack.tracking.refine import check_camera_poses

#: The features, in the column order of :func:`track_features`, and what each measures.
TRACK_FEATURES: dict[str, str] = {
    "mean_score": "mean of the track's row scores",
    "max_score": "highest row score of the track",
    "log_rows": "ln(number of rows)",
    "log_displacement_m": "ln(0.1 + distance in m between the first and last row's centres, "
    "bird's-eye view, in the world frame of the ego poses)",
    "median_range_m": "median bird's-eye distance of the rows from the camera, m",
    "median_width_m": "median box width, m",
    "median_length_m": "median box length, m",
    "log_box2d_height_px": "ln(median image box height in pixels, at least 1)",
}


def track_features(rows: KittiObjects, camera_poses: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Whole-track features of one sequence's result rows.

    Args:
        rows: ``N`` KITTI tracking rows (camera_rect frame) of one class.
        camera_poses: ``(F, 4, 4)`` camera_rect -> world ego pose per frame.

    Returns:
        ``(track_ids (T,), features (T, len(TRACK_FEATURES)))``, ids ascending, columns in
        the order of :data:`TRACK_FEATURES`.
    """
    ids, inverse = np.unique(rows.track_id, return_inverse=True)
    features = np.zeros((len(ids), len(TRACK_FEATURES)))
    if len(rows) == 0:
        return ids, features
    check_camera_poses(camera_poses, rows.frame, "track_features")
    poses = camera_poses[rows.frame]
    world = np.einsum("nij,nj->ni", poses[:, :3, :3], rows.location_m) + poses[:, :3, 3]
    bev_range = np.hypot(rows.location_m[:, 0], rows.location_m[:, 2])
    box2d_height = np.maximum(rows.box2d_xyxy_px[:, 3] - rows.box2d_xyxy_px[:, 1], 1.0)
    for t in range(len(ids)):
        i = np.flatnonzero(inverse == t)
        i = i[np.argsort(rows.frame[i], kind="stable")]
        # the camera-frame ground plane is x-z; world y is down in KITTI's pose convention
        displacement = float(np.hypot(*(world[i[-1], [0, 2]] - world[i[0], [0, 2]])))
        features[t] = (
            rows.score[i].mean(),
            rows.score[i].max(),
            np.log(len(i)),
            np.log(0.1 + displacement),
            np.median(bev_range[i]),
            np.median(rows.hwl_m[i, 1]),
            np.median(rows.hwl_m[i, 2]),
            np.log(np.median(box2d_height[i])),
        )
    return ids, features


def feature_columns(names: list[str] | tuple[str, ...]) -> np.ndarray:
    """Column indices of ``names`` in :func:`track_features`' output; ValueError naming an
    unknown feature and the known ones."""
    known = list(TRACK_FEATURES)
    unknown = [n for n in names if n not in TRACK_FEATURES]
    if unknown:
        raise ValueError(f"unknown track feature(s) {unknown}; known: {known}")
    return np.array([known.index(n) for n in names], dtype=np.int64)


def track_logits(
    rows: KittiObjects, camera_poses: np.ndarray, weights: dict[str, float], bias: float
) -> tuple[np.ndarray, np.ndarray]:
    """``(track_ids (T,), logit (T,))``: ``bias + sum weights[k] * feature_k`` per track."""
    ids, features = track_features(rows, camera_poses)
    names = list(weights)
    w = np.array([weights[n] for n in names])
    return ids, bias + features[:, feature_columns(names)] @ w


def score_tracks(
    rows: KittiObjects,
    camera_poses: np.ndarray,
    weights: dict[str, float],
    bias: float,
    min_mean_score: float | None = None,
) -> KittiObjects:
    """``rows`` with every row's score replaced by its track's logit (:func:`track_logits`).

    ``min_mean_score``: tracks whose mean row score is below it are dropped first
    (:func:`~drivestack.tracking.offline.drop_low_score_tracks`, the rule that picked the
    candidates a model was fitted on; ``None`` keeps all).
    """
    from drivestack.tracking.offline import drop_low_score_tracks  # (offline imports this)

    rows = drop_low_score_tracks(rows, min_mean_score)
    if len(rows) == 0:
        return rows
    ids, logit = track_logits(rows, camera_poses, weights, bias)
    return replace(rows, score=logit[np.searchsorted(ids, rows.track_id)])


def fit_logistic_track_scorer(
    features: np.ndarray,
    is_true: np.ndarray,
    sample_weight: np.ndarray,
    l2: float,
    names: list[str] | tuple[str, ...],
) -> tuple[dict[str, float], float]:
    """Fit ``P(true) = sigmoid(bias + features @ w)`` by weighted, L2-regularised maximum
    likelihood.

    Args:
        features: ``(T, K)`` one row per track, columns named by ``names``.
        is_true: ``(T,)`` bool, the track is a real object.
        sample_weight: ``(T,)`` non-negative weights (e.g. the track's row count: the protocol
            counts rows).
        l2: penalty on the squared weights of the standardised features (the bias is free).
        names: ``K`` feature names.

    Returns:
        ``(weights, bias)`` in the features' own units: ``{name: weight}`` and the intercept.
    """
    x = np.asarray(features, dtype=np.float64)
    y = np.asarray(is_true, dtype=np.float64)
    sw = np.asarray(sample_weight, dtype=np.float64)
    if x.ndim != 2 or x.shape[1] != len(names) or y.shape != (len(x),) or sw.shape != y.shape:
        raise ValueError(
            f"features {x.shape}, is_true {y.shape} and sample_weight {sw.shape} must be "
            f"(T, {len(names)}), (T,) and (T,)"
        )
    if not (y.any() and (1 - y).any()):
        raise ValueError("fitting needs both true and false tracks")
    mean, scale = x.mean(axis=0), x.std(axis=0)
    scale[scale == 0] = 1.0
    z = np.column_stack([np.ones(len(x)), (x - mean) / scale])
    total = sw.sum()

    def loss_and_grad(beta: np.ndarray) -> tuple[float, np.ndarray]:
        logit = z @ beta
        prob = 0.5 * (1 + np.tanh(0.5 * logit))
        loss = (sw * (np.logaddexp(0, logit) - y * logit)).sum() / total
        grad = z.T @ (sw * (prob - y)) / total
        loss += l2 * float(beta[1:] @ beta[1:])
        grad[1:] += 2 * l2 * beta[1:]
        return float(loss), grad

    beta = minimize(loss_and_grad, np.zeros(z.shape[1]), jac=True, method="L-BFGS-B").x
    w = beta[1:] / scale
    bias = float(beta[0] - w @ mean)
    return {n: float(v) for n, v in zip(names, w, strict=True)}, bias
