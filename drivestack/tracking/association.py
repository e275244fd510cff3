"""Association of predicted tracks with detections: affinity matrices and matching."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
from scipy.optimize import linear_sum_assignment

from drivestack import kernels
from drivestack.tracking.config import AssociationConfig


def affinity_matrix(metric: str, tracks: np.ndarray, detections: np.ndarray) -> np.ndarray:
    """``(T, 7)`` predicted boxes x ``(D, 7)`` detections -> ``(T, D)`` affinity (higher = closer).

    IoU-type metrics come from :mod:`drivestack.kernels`; distances are negated (metres).
    """
    t, d = tracks.shape[0], detections.shape[0]
    if t == 0 or d == 0:
        return np.zeros((t, d))
    if metric == "giou_3d":
        return np.asarray(kernels.box_giou_3d(tracks, detections))
    if metric == "giou_bev":
        return np.asarray(kernels.box_giou_bev(tracks, detections))
    if metric == "iou_3d":
        return np.asarray(kernels.box_iou_3d(tracks, detections))
    if metric == "iou_bev":
        return np.asarray(kernels.box_iou_bev(tracks, detections))
    if metric in ("distance_3d", "distance_bev"):
        k = 3 if metric == "distance_3d" else 2
        return -np.asarray(kernels.center_distances(tracks[:, :k], detections[:, :k]))
    raise ValueError(f"unknown association metric {metric!r}")


def load_kernels(metrics: Iterable[str]) -> None:
    """Load the compiled kernels behind ``metrics`` (one tiny call each), so that a timed
    tracking loop measures steady-state throughput: the first compiled call in a process
    imports numba and loads its cached machine code (about 1-2 s)."""
    box = np.array([[0.0, 0.0, 0.0, 1.0, 1.0, 1.0, 0.0]])
    for metric in sorted(set(metrics)):
        affinity_matrix(metric, box, box)


#: Affinity given to pairs below the threshold by :func:`match` with ``gated=True``.
GATED_AFFINITY = -1e9


def match(
    affinity: np.ndarray, threshold: float, method: str = "hungarian", gated: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    """Match rows (tracks) to columns (detections) with ``affinity >= threshold``.

    ``hungarian``: maximum total affinity (:func:`scipy.optimize.linear_sum_assignment`),
    pairs below the threshold dropped afterwards (AB3DMOT's rule). The assignment pairs every
    row or every column, so an unreachable pair can take the place of a valid one: with
    centre distances, a track 0.01 m from detection A and 4 m from B, next to a track 22 m from
    A and 27 m from B, gets B (4 + 22 < 0.01 + 27) and loses A. With ``gated``, pairs below
    the threshold get :data:`GATED_AFFINITY` before the assignment, which then maximises the
    number of valid pairs and their total affinity among those. ``greedy``: repeatedly take
    the highest remaining pair (ties: lower row, then lower column first).

    Returns:
        ``(rows (K,), cols (K,))`` int64, sorted by row.
    """
    t, d = affinity.shape
    if t == 0 or d == 0:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty
    if method == "hungarian":
        scored = np.where(affinity >= threshold, affinity, GATED_AFFINITY) if gated else affinity
        rows, cols = linear_sum_assignment(-scored)
        keep = affinity[rows, cols] >= threshold
        return rows[keep].astype(np.int64), cols[keep].astype(np.int64)
    if method != "greedy":
        raise ValueError(f"unknown matching method {method!r}")
    flat = -affinity.ravel()
    order = np.argsort(flat, kind="stable")
    r_used = np.zeros(t, dtype=bool)
    c_used = np.zeros(d, dtype=bool)
    rows_l, cols_l = [], []
    for k in order:
        if -flat[k] < threshold:
            break
        r, c = divmod(int(k), d)
        if r_used[r] or c_used[c]:
            continue
        r_used[r] = c_used[c] = True
        rows_l.append(r)
        cols_l.append(c)
        if len(rows_l) == min(t, d):
            break
    rows_a = np.array(rows_l, dtype=np.int64)
    cols_a = np.array(cols_l, dtype=np.int64)
    o = np.argsort(rows_a, kind="stable")
    return rows_a[o], cols_a[o]


def associate(
    cfg: AssociationConfig, tracks: np.ndarray, detections: np.ndarray, scores: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Tracks ``(T, 7)`` x detections ``(D, 7)`` with scores ``(D,)`` -> matched ``(rows, cols)``.

    With ``cfg.two_stage``, detections scoring at least ``cfg.high_score`` are matched first
    (``cfg.threshold``), then the remaining tracks against the low-scoring detections
    (``cfg.second_threshold``).
    """
    aff = affinity_matrix(cfg.metric, tracks, detections)
    if not cfg.two_stage:
        return match(aff, cfg.threshold, cfg.method, cfg.gated)
    high = np.flatnonzero(scores >= cfg.high_score)
    low = np.flatnonzero(scores < cfg.high_score)
    r1, c1 = match(aff[:, high], cfg.threshold, cfg.method, cfg.gated)
    c1 = high[c1]
    free = np.setdiff1d(np.arange(tracks.shape[0]), r1)
    r2, c2 = match(aff[np.ix_(free, low)], cfg.second_threshold, cfg.method, cfg.gated)
    rows = np.concatenate([r1, free[r2]])
    cols = np.concatenate([c1, low[c2]])
    o = np.argsort(rows, kind="stable")
    return rows[o], cols[o]
