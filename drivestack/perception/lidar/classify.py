"""Step 6: class and score from shape and point statistics.

Each class has a size prior (:class:`~drivestack.perception.lidar.config.ClassPrior`) on the
fitted box's (length, width, height). A dimension may fall short of the prior mean (the far
side is often unseen, the bottom may be hidden) without cost down to ``min_lwh_m``; beyond
``[min, mean]`` it is penalised in units of the prior's standard deviation. The class with the
highest likelihood times its prior's ``choice_weight`` wins when its likelihood clears
``min_likelihood`` and the cluster has the class's minimum number of points; otherwise the
cluster is UNKNOWN. The score is a per-class logistic (Platt) calibration of the
log-likelihood, the log point count, the log range and the observed length
(:func:`score_features`), so that a score of p means about a fraction p of such boxes are right.

With ``thin_structure`` configured and the clusters' points given, thin vertical structures
(poles, posts, trunks: a small cross-section over the whole height, :func:`slice_width_height`)
are ruled out as Pedestrian and Cyclist before the class is chosen; with ``wide_top``, so are
clusters whose top is as wide as a vehicle (a van's or car's rear face seen without its roof,
:func:`top_width`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from drivestack.perception.lidar.box_fit import along_sight
from drivestack.perception.lidar.config import (
    ClassifyConfig,
    ClassPrior,
    ThinStructureConfig,
    WideTopConfig,
)
from drivestack.structures.labels import ObjectClass

CLASSES: tuple[ObjectClass, ...] = (ObjectClass.CAR, ObjectClass.PEDESTRIAN, ObjectClass.CYCLIST)
#: Likelihood columns (in :data:`CLASSES` order) that ``thin_structure`` can veto.
THIN_VETOED = (1, 2)
#: Horizontal directions over which a slice's diameter is taken (its largest projected
#: extent; at most ``1 - cos(pi / 16)`` = 2% short of the true diameter).
_DIRECTIONS = np.stack(
    [np.cos(np.arange(8) * np.pi / 8), np.sin(np.arange(8) * np.pi / 8)], axis=0
)  # (2, 8)
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
        end_face: ``(N,)`` bool, boxes whose class took them for an end face
            (:func:`end_face_mask`), to be completed by
            :func:`~drivestack.perception.lidar.box_fit.complete_end_faces`.
        min_length_width_m: ``(N, 2)`` the minimum (length, width) of each box's class prior
            (0 for UNKNOWN).
    """

    label: np.ndarray
    score: np.ndarray
    likelihood: np.ndarray
    features: np.ndarray
    end_face: np.ndarray
    min_length_width_m: np.ndarray


def _priors(cfg: ClassifyConfig) -> tuple[tuple[ObjectClass, ClassPrior], ...]:
    """The configured classes with their priors, in likelihood-column order."""
    out = ((CLASSES[0], cfg.car), (CLASSES[1], cfg.pedestrian), (CLASSES[2], cfg.cyclist))
    return out if cfg.truck is None else (*out, (LARGE_VEHICLE, cfg.truck))


def _seen_likelihood(size: np.ndarray, prior: ClassPrior) -> np.ndarray:
    """``(N,)`` likelihood of ``(N, 3)`` sizes taken as seen (length along the box length)."""
    mean = np.asarray(prior.mean_lwh_m)
    std = np.asarray(prior.std_lwh_m)
    low = np.asarray(prior.min_lwh_m)
    dev = (np.maximum(size - mean, 0.0) + np.maximum(low - size, 0.0)) / std
    return np.exp(-0.5 * np.sum(dev**2, axis=1))


def _end_face_likelihoods(
    size_lwh_m: np.ndarray, prior: ClassPrior
) -> tuple[np.ndarray, np.ndarray]:
    """``(N,)`` likelihood of ``(N, 3)`` sizes as seen and ``(N,)`` as an end face (0 where
    the box is deeper than ``prior.end_face_max_depth_m``): the face's length is the
    vehicle's width, its unseen length the prior's minimum."""
    size = np.asarray(size_lwh_m, dtype=np.float64).reshape(-1, 3)
    seen = _seen_likelihood(size, prior)
    face = np.zeros(len(size))
    is_face = size[:, 1] <= prior.end_face_max_depth_m
    if prior.end_face_max_depth_m > 0 and np.any(is_face):
        end_on = np.stack([np.full(len(size), prior.min_lwh_m[0]), size[:, 0], size[:, 2]], axis=1)[
            is_face
        ]
        face[is_face] = _seen_likelihood(end_on, prior)
    return seen, face


def size_likelihood(size_lwh_m: np.ndarray, prior: ClassPrior) -> np.ndarray:
    """``(N,)`` likelihood in (0, 1] of ``(N, 3)`` box sizes under one class prior (the better
    of the as-seen and, when the prior reads end faces, the end-face reading)."""
    return np.maximum(*_end_face_likelihoods(size_lwh_m, prior))


def end_face_mask(size_lwh_m: np.ndarray, prior: ClassPrior) -> np.ndarray:
    """``(N,)`` bool: boxes of ``(N, 3)`` sizes that ``prior`` reads as an end face (the
    end-face reading is the more likely one)."""
    seen, face = _end_face_likelihoods(size_lwh_m, prior)
    return face > seen


def class_likelihoods(size_lwh_m: np.ndarray, cfg: ClassifyConfig) -> np.ndarray:
    """``(N, K)`` :func:`size_likelihood` of ``(N, 3)`` box sizes under each configured class
    prior (Car, Pedestrian, Cyclist and, when configured, Truck)."""
    size = np.asarray(size_lwh_m, dtype=np.float64).reshape(-1, 3)
    priors = [p for _, p in _priors(cfg)]
    if len(size) == 0:
        return np.zeros((0, len(priors)))
    return np.stack([size_likelihood(size, p) for p in priors], axis=1)


def _gathered(
    xyz_m: np.ndarray, bounds: np.ndarray, which: np.ndarray, caller: str
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The points of clusters ``which`` (``(K,)`` indices into ``(C + 1,)`` ``bounds`` of the
    grouped ``(M, 3)`` points, each non-empty): ``(P, 3)`` points in cluster order, ``(P,)``
    the position in ``which`` of each point's cluster and ``(K,)`` each cluster's first row."""
    start, stop = bounds[which], bounds[which + 1]
    counts = stop - start
    if np.any(counts < 1):
        raise ValueError(f"{caller}: empty cluster")
    owner = np.repeat(np.arange(len(which)), counts)  # (P,)
    index = (
        np.arange(int(counts.sum())) - np.repeat(np.cumsum(counts) - counts, counts) + start[owner]
    )
    return np.asarray(xyz_m, dtype=np.float64)[index], owner, np.cumsum(counts) - counts


def _group_diameters(owner: np.ndarray, xy: np.ndarray, num: int) -> np.ndarray:
    """``(num,)`` largest horizontal diameter (over :data:`_DIRECTIONS`) of the ``(P, 2)``
    points of each group ``owner (P,)`` in ``[0, num)``, ``owner`` sorted; 0 for no points."""
    out = np.zeros(num)
    if len(owner) == 0:
        return out
    proj = xy @ _DIRECTIONS  # (P, 8)
    group_start = np.flatnonzero(np.r_[True, owner[1:] != owner[:-1]])
    extent = np.maximum.reduceat(proj, group_start) - np.minimum.reduceat(proj, group_start)
    out[owner[group_start]] = extent.max(axis=1)
    return out


def slice_width_height(
    xyz_m: np.ndarray, bounds: np.ndarray, which: np.ndarray, slice_height_m: float
) -> tuple[np.ndarray, np.ndarray]:
    """Cross-section width and height of some clusters.

    Args:
        xyz_m: ``(M, 3)`` cluster points grouped by cluster, cluster ``i`` being
            ``xyz_m[bounds[i]:bounds[i + 1]]`` (:meth:`Clusters.grouped`).
        bounds: ``(C + 1,)`` cluster bounds.
        which: ``(K,)`` indices of the clusters to measure (each non-empty).
        slice_height_m: thickness of the horizontal slices, from each cluster's lowest point.

    Returns:
        ``(K,)`` width_m: the largest horizontal diameter of one slice's points over the
        cluster's slices (a pole: its diameter at every height; a person: the torso);
        ``(K,)`` height_m: the vertical spread of the cluster's points.
    """
    which = np.asarray(which, dtype=np.int64).reshape(-1)
    if len(which) == 0:
        return np.zeros(0), np.zeros(0)
    pts, owner, first = _gathered(xyz_m, bounds, which, "slice_width_height")
    return _slice_width_height_of(pts, owner, first, slice_height_m)


def _slice_width_height_of(
    pts: np.ndarray, owner: np.ndarray, first: np.ndarray, slice_height_m: float
) -> tuple[np.ndarray, np.ndarray]:
    """:func:`slice_width_height` of the ``K`` clusters :func:`_gathered` gave (``K >= 1``)."""
    z_low = np.minimum.reduceat(pts[:, 2], first)
    height = np.maximum.reduceat(pts[:, 2], first) - z_low
    layer = np.floor((pts[:, 2] - z_low[owner]) / slice_height_m).astype(np.int64)
    order = np.lexsort((layer, owner))
    owner, layer = owner[order], layer[order]
    new_group = np.ones(len(order), dtype=bool)
    new_group[1:] = (owner[1:] != owner[:-1]) | (layer[1:] != layer[:-1])
    group = np.cumsum(new_group) - 1  # (P,) slice of each point, sorted
    slice_width = _group_diameters(group, pts[order, :2], int(group[-1]) + 1)  # (G,)
    width = np.zeros(len(first))
    np.maximum.at(width, owner[new_group], slice_width)
    return width, height


def top_width(
    xyz_m: np.ndarray, bounds: np.ndarray, which: np.ndarray, band_m: float
) -> np.ndarray:
    """``(K,)`` largest horizontal diameter of the points within ``band_m`` of the highest
    point of each of clusters ``which`` (``(K,)`` indices into the ``(C + 1,)`` ``bounds`` of
    the grouped ``(M, 3)`` points ``xyz_m``, each non-empty): a vehicle's roof edge or
    tailgate spans its width, a person's head and shoulders well under a metre. One point
    alone in the band: 0."""
    which = np.asarray(which, dtype=np.int64).reshape(-1)
    if len(which) == 0:
        return np.zeros(0)
    pts, owner, first = _gathered(xyz_m, bounds, which, "top_width")
    return _top_width_of(pts, owner, first, band_m)


def _top_width_of(
    pts: np.ndarray, owner: np.ndarray, first: np.ndarray, band_m: float
) -> np.ndarray:
    """:func:`top_width` of the ``K`` clusters :func:`_gathered` gave (``K >= 1``)."""
    z_top = np.maximum.reduceat(pts[:, 2], first)
    top = pts[:, 2] >= z_top[owner] - band_m
    return _group_diameters(owner[top], pts[top, :2], len(first))


def thin_structure_mask(
    xyz_m: np.ndarray, bounds: np.ndarray, which: np.ndarray, cfg: ThinStructureConfig
) -> np.ndarray:
    """``(K,)`` bool: clusters ``which`` that are thin vertical structures under ``cfg``
    (width under ``min_width_m`` or under ``min_width_to_height`` times the height)."""
    width, height = slice_width_height(xyz_m, bounds, which, cfg.slice_height_m)
    return _thin(width, height, cfg)


def _thin(width_m: np.ndarray, height_m: np.ndarray, cfg: ThinStructureConfig) -> np.ndarray:
    return (width_m < cfg.min_width_m) | (width_m < cfg.min_width_to_height * height_m)


def wide_top_mask(
    xyz_m: np.ndarray, bounds: np.ndarray, which: np.ndarray, cfg: WideTopConfig
) -> np.ndarray:
    """``(K,)`` bool: clusters ``which`` whose top ``cfg.band_m`` is at least
    ``cfg.min_width_m`` across (:func:`top_width`): a vehicle's end face, not a person."""
    return top_width(xyz_m, bounds, which, cfg.band_m) >= cfg.min_width_m


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


def classify(
    boxes: np.ndarray,
    num_points: np.ndarray,
    cfg: ClassifyConfig,
    xyz_m: np.ndarray | None = None,
    bounds: np.ndarray | None = None,
    vetoed: np.ndarray | None = None,
) -> Classification:
    """Classify ``(N, 7)`` fitted boxes (sensor frame, before any completion) of clusters with
    ``(N,)`` points (voxels) each.

    With the clusters' grouped points ``xyz_m`` ``(M, 3)`` and ``bounds`` ``(N + 1,)`` (as
    :meth:`Clusters.grouped` gives them), the Pedestrian and Cyclist likelihoods of thin
    vertical structures (:func:`thin_structure_mask`, with ``cfg.thin_structure`` enabled) and
    of boxes across the line of sight from the sensor at the origin whose cluster has a
    vehicle-wide top (a vehicle's end face: :func:`wide_top_mask`, with ``cfg.wide_top``
    enabled) are set to 0, for the clusters where one of them reaches ``min_likelihood``;
    without the points, no veto.
    ``vetoed`` ``(N,)`` bool (e.g. :func:`~drivestack.perception.lidar.overhang.overhang_mask`)
    sets every likelihood of the selected boxes to 0: they are UNKNOWN.
    """
    boxes = np.asarray(boxes, dtype=np.float64).reshape(-1, 7)
    size = boxes[:, 3:6]
    points = np.asarray(num_points, dtype=np.float64).reshape(-1)
    if len(points) != len(size):
        raise ValueError(f"classify: {len(size)} boxes but {len(points)} point counts")
    classes = _priors(cfg)
    priors = [p for _, p in classes]
    likelihood = class_likelihoods(size, cfg)
    enough = (
        np.stack([points >= p.min_points for p in priors], axis=1)
        if len(size)
        else np.zeros((0, len(priors)), bool)
    )
    vetoes = cfg.thin_structure.enabled or cfg.wide_top.enabled
    if vetoes and xyz_m is not None and bounds is not None and len(size):
        bounds = np.asarray(bounds, dtype=np.int64).reshape(-1)
        if len(bounds) != len(size) + 1:
            raise ValueError(f"classify: {len(size)} boxes but {len(bounds)} cluster bounds")
        cols = np.array(THIN_VETOED)
        which = np.flatnonzero(np.any(likelihood[:, cols] >= cfg.min_likelihood, axis=1))
        vetoed_small = np.zeros(len(which), dtype=bool)
        if len(which):  # the clusters' points gathered once for both vetoes
            caller = "slice_width_height" if cfg.thin_structure.enabled else "top_width"
            pts, owner, first = _gathered(xyz_m, bounds, which, caller)
        if cfg.thin_structure.enabled and len(which):
            width, height = _slice_width_height_of(
                pts, owner, first, cfg.thin_structure.slice_height_m
            )
            vetoed_small |= _thin(width, height, cfg.thin_structure)
        if cfg.wide_top.enabled and len(which):  # an end face runs across the line of sight
            across = ~along_sight(boxes[which])
            top = _top_width_of(pts, owner, first, cfg.wide_top.band_m)  # (each on its own)
            vetoed_small |= across & (top >= cfg.wide_top.min_width_m)
        likelihood[np.ix_(which[vetoed_small], cols)] = 0.0
    if vetoed is not None:
        vetoed = np.asarray(vetoed, dtype=bool).reshape(-1)
        if len(vetoed) != len(size):
            raise ValueError(f"classify: {len(size)} boxes but {len(vetoed)} veto flags")
        likelihood[vetoed] = 0.0
    masked = np.where(enough, likelihood, 0.0)
    choice = masked * np.array([p.choice_weight for p in priors])
    best = np.argmax(choice, axis=1) if len(size) else np.zeros(0, dtype=np.int64)
    best_likelihood = masked[np.arange(len(size)), best]
    known = best_likelihood >= cfg.min_likelihood
    class_ids = np.array([int(c) for c, _ in classes], dtype=np.int64)
    label = np.where(known, class_ids[best], int(ObjectClass.UNKNOWN)).astype(np.int64)
    features = score_features(boxes, points, best_likelihood)
    weights = np.array([p.score_weights for p in priors])[best]  # (N, 5)
    logit = np.einsum("nk,nk->n", features, weights)
    score = 1.0 / (1.0 + np.exp(-logit))
    end_face = np.zeros(len(size), dtype=bool)
    minimum = np.zeros((len(size), 2))
    for column, prior in enumerate(priors):
        chosen = known & (best == column)
        minimum[chosen] = prior.min_lwh_m[:2]
        if prior.end_face_max_depth_m > 0 and np.any(chosen):
            end_face[chosen] = end_face_mask(size[chosen], prior)
    return Classification(label, score, likelihood, features, end_face, minimum)


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
    x = np.asarray(features, dtype=np.float64)
    if x.ndim != 2 or x.shape[1] != 5:
        raise ValueError(f"fit_score_weights: features must be (N, 5), got shape {x.shape}")
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
