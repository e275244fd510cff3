"""Step 7 (optional): de-duplication of overlapping boxes of one class.

A car whose returns break into two clusters (a band without returns between its rear face and
its roof, a dark panel, a partly occluded flank) gives two boxes of one class, each completed to
a full car by :func:`~drivestack.perception.lidar.box_fit.complete_far_side`, that overlap.
This step finds the pairs of returned boxes (score at least ``classify.min_score``) of one
known class whose completed BEV footprints overlap by at least ``min_overlap`` of the smaller
footprint (:func:`overlap_over_smaller_bev`, from the exact rotated IoU of
:func:`drivestack.kernels.box_iou_bev`) and joins them transitively into groups. With
``merge_clusters`` each group's clusters are pooled and one box is fitted, classified and
completed again: the two halves of a split car become one car, accepted when the pooled box is
still of the group's class (the classifier's size prior rules out e.g. two parked cars pooled
into one 9 m box) and scores at least ``classify.min_score``. A pooled car is completed along
the heading of its most elongated member (the pooled points of a rear face and a roof can look
wider than long; the rear face alone is a clear end face). Last, of any pair of boxes of one
class that still overlaps that much, the lower-scored box is suppressed (greedy by descending
score, like NMS).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from drivestack import kernels
from drivestack.perception.lidar.box_fit import (
    complete_end_faces,
    complete_far_side_along,
    fit_boxes,
    pooled_clusters,
)
from drivestack.perception.lidar.classify import classify
from drivestack.perception.lidar.config import BoxFitConfig, ClassifyConfig, DedupConfig
from drivestack.structures.labels import ObjectClass

UNKNOWN = int(ObjectClass.UNKNOWN)
CAR = int(ObjectClass.CAR)


def overlap_over_smaller_bev(boxes_a: np.ndarray, boxes_b: np.ndarray) -> np.ndarray:
    """``(N, M)`` BEV intersection area over the smaller footprint of ``(N, 7)`` x ``(M, 7)``.

    1 when one footprint lies inside the other, 0 when they are apart. The intersection comes
    from the exact rotated IoU: ``inter = iou * (area_a + area_b) / (1 + iou)``.
    """
    a = np.asarray(boxes_a, dtype=np.float64).reshape(-1, 7)
    b = np.asarray(boxes_b, dtype=np.float64).reshape(-1, 7)
    if len(a) == 0 or len(b) == 0:
        return np.zeros((len(a), len(b)))
    iou = np.asarray(kernels.box_iou_bev(a, b), dtype=np.float64)
    area_a, area_b = a[:, 3] * a[:, 4], b[:, 3] * b[:, 4]
    inter = iou * (area_a[:, None] + area_b[None, :]) / (1.0 + iou)
    smaller = np.maximum(np.minimum(area_a[:, None], area_b[None, :]), 1e-12)
    return np.clip(inter / smaller, 0.0, 1.0)


def _known_overlap(boxes: np.ndarray, label: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Indices ``(K,)`` of the boxes of a known class and ``(K, K)`` their overlap over the
    smaller footprint, 0 across classes and on the diagonal."""
    known = np.flatnonzero(label != UNKNOWN)
    overlap = overlap_over_smaller_bev(boxes[known], boxes[known])
    lab = label[known]
    same = lab[:, None] == lab[None, :]
    np.fill_diagonal(same, False)
    return known, np.where(same, overlap, 0.0)


def duplicate_groups(boxes: np.ndarray, label: np.ndarray, min_overlap: float) -> np.ndarray:
    """``(N,)`` group id of each of ``(N, 7)`` boxes with ``(N,)`` labels.

    Two boxes of one known class are linked when their footprints overlap by at least
    ``min_overlap`` of the smaller one; groups are the connected components (ids in
    ``[0, num_groups)``, in order of each group's first box). UNKNOWN boxes stay alone.
    """
    b = np.asarray(boxes, dtype=np.float64).reshape(-1, 7)
    lab = np.asarray(label, dtype=np.int64).reshape(len(b))
    known, overlap = _known_overlap(b, lab)
    i, j = np.nonzero(overlap >= min_overlap)
    if len(i) == 0:
        return np.arange(len(b), dtype=np.int64)
    graph = coo_matrix((np.ones(len(i)), (known[i], known[j])), shape=(len(b), len(b)))
    _, component = connected_components(graph, directed=False)
    # renumber by first member so the ids follow the input order
    _, first, inverse = np.unique(component, return_index=True, return_inverse=True)
    rank = np.empty(len(first), dtype=np.int64)
    rank[np.argsort(first, kind="stable")] = np.arange(len(first))
    return rank[inverse.reshape(-1)]


def suppress_overlaps(
    boxes: np.ndarray, label: np.ndarray, score: np.ndarray, min_overlap: float
) -> np.ndarray:
    """``(N,)`` bool keep mask: greedy by descending score (ties: lower index first), a box is
    dropped when a kept box of its class overlaps it by at least ``min_overlap`` of the smaller
    footprint. UNKNOWN boxes are always kept."""
    b = np.asarray(boxes, dtype=np.float64).reshape(-1, 7)
    lab = np.asarray(label, dtype=np.int64).reshape(len(b))
    known, overlap = _known_overlap(b, lab)
    keep = np.ones(len(b), dtype=bool)
    linked = overlap >= min_overlap
    if not linked.any():
        return keep
    s = np.asarray(score, dtype=np.float64).reshape(len(b))[known]
    kept = np.ones(len(known), dtype=bool)
    order = np.lexsort((np.arange(len(known)), -s))
    for position, k in enumerate(order):
        if kept[k]:
            later = order[position + 1 :]
            kept[later[linked[k, later]]] = False
    keep[known] = kept
    return keep


@dataclass(frozen=True)
class Deduplicated:
    """Boxes after de-duplication (all ``(K, ...)``, sensor frame).

    Attributes:
        boxes: ``(K, 7)`` completed boxes.
        label: ``(K,)`` int64 classes.
        score: ``(K,)`` float64 scores.
        features: ``(K, 5)`` score features.
        num_merged: how many pooled boxes replaced two or more boxes.
    """

    boxes: np.ndarray
    label: np.ndarray
    score: np.ndarray
    features: np.ndarray
    num_merged: int


def deduplicate(
    xyz_m: np.ndarray,
    bounds: np.ndarray,
    ground_z_m: np.ndarray,
    raw_boxes: np.ndarray,
    boxes: np.ndarray,
    label: np.ndarray,
    score: np.ndarray,
    features: np.ndarray,
    cfg: DedupConfig,
    box_fit: BoxFitConfig,
    classify_cfg: ClassifyConfig,
) -> Deduplicated:
    """Merge split clusters and suppress the remaining same-class overlaps (module docstring).

    Args:
        xyz_m: ``(M, 3)`` cluster points grouped by cluster; ``bounds`` ``(C + 1,)`` delimits them.
        ground_z_m: ``(C,)`` ground height under each cluster.
        raw_boxes: ``(C, 7)`` fitted boxes of the clusters (before completion).
        boxes: ``(C, 7)`` completed boxes of the clusters; ``label``, ``score`` ``(C,)`` and
            ``features`` ``(C, 5)`` their classification.
        cfg: the overlap threshold and whether to pool clusters.
        box_fit, classify_cfg: to fit and classify pooled clusters like any other.
    """
    raw_boxes = np.asarray(raw_boxes, dtype=np.float64).reshape(-1, 7)
    boxes = np.asarray(boxes, dtype=np.float64).reshape(-1, 7)
    label = np.asarray(label, dtype=np.int64)
    score = np.asarray(score, dtype=np.float64)
    features = np.asarray(features, dtype=np.float64).reshape(-1, 5)
    num_merged = 0
    # only boxes that would be returned take part: fragments under the score threshold are
    # dropped later anyway and must not be pooled into a new, higher-scored box
    candidate = np.where(score >= classify_cfg.min_score, label, UNKNOWN)
    if cfg.merge_clusters and len(boxes) > 1:
        group = duplicate_groups(boxes, candidate, cfg.min_overlap)
        sizes = np.bincount(group)
        multi = np.flatnonzero(sizes > 1)
        if len(multi):
            members = [np.flatnonzero(group == g) for g in multi]
            pooled, pooled_bounds = pooled_clusters(np.asarray(xyz_m), np.asarray(bounds), members)
            ground = np.array([np.min(ground_z_m[m]) for m in members])
            raw = fit_boxes(pooled, pooled_bounds, ground, box_fit)
            cls = classify(raw, np.diff(pooled_bounds), classify_cfg, pooled, pooled_bounds)
            # the halves were completed one by one; the most elongated one (a face rather than
            # a blob, whose heading is least ambiguous) gives the heading
            aspect = raw_boxes[:, 3] / np.maximum(raw_boxes[:, 4], 1e-6)
            heading = np.array([boxes[m[np.argmax(aspect[m])], 6] for m in members])
            done = complete_far_side_along(raw, cls.label == CAR, heading, box_fit)
            if np.any(cls.end_face):
                done = complete_end_faces(done, cls.end_face, cls.min_length_width_m)
            # kept when still of the group's class and still returned (else the halves stay,
            # and the suppression below keeps the better one)
            accepted = (cls.label == label[[m[0] for m in members]]) & (
                cls.score >= classify_cfg.min_score
            )
            replaced = np.zeros(len(boxes), dtype=bool)
            # a pooled box takes the place of its group's first member
            slot = np.arange(len(boxes), dtype=np.float64)
            extra_slot = []
            for k in np.flatnonzero(accepted):
                replaced[members[k]] = True
                extra_slot.append(float(members[k][0]) - 0.5)
            num_merged = len(extra_slot)
            if num_merged:
                pick = np.flatnonzero(accepted)
                order = np.argsort(
                    np.concatenate([slot[~replaced], np.asarray(extra_slot)]), kind="stable"
                )
                boxes = np.concatenate([boxes[~replaced], done[pick]])[order]
                label = np.concatenate([label[~replaced], cls.label[pick]])[order]
                score = np.concatenate([score[~replaced], cls.score[pick]])[order]
                features = np.concatenate([features[~replaced], cls.features[pick]])[order]
    candidate = np.where(score >= classify_cfg.min_score, label, UNKNOWN)
    keep = suppress_overlaps(boxes, candidate, score, cfg.min_overlap)
    return Deduplicated(boxes[keep], label[keep], score[keep], features[keep], num_merged)
