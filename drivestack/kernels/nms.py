"""Rotated non-maximum suppression in the bird's-eye view."""

from __future__ import annotations

from typing import Any

import numpy as np

from drivestack.core.arrays import check_array, from_numpy_like, to_numpy
from drivestack.kernels._common import check_boxes, check_pair, tolerance, use_compiled_cpu_route
from drivestack.kernels._pairs import circle_candidate_pairs
from drivestack.kernels._polygon import bev_intersection_area


def _greedy_over_pairs(
    order: np.ndarray, ia: np.ndarray, ib: np.ndarray, over: np.ndarray, n: int
) -> np.ndarray:
    """Greedy keep set given the pairs whose IoU exceeds the threshold (host NumPy)."""
    ia, ib = ia[over], ib[over]
    src = np.concatenate([ia, ib])
    dst = np.concatenate([ib, ia])
    by_src = np.argsort(src, kind="stable")
    src, dst = src[by_src], dst[by_src]
    starts = np.searchsorted(src, np.arange(n + 1))
    suppressed = np.zeros(n, dtype=bool)
    keep: list[int] = []
    for i in order.tolist():
        if suppressed[i]:
            continue
        keep.append(i)
        suppressed[dst[starts[i] : starts[i + 1]]] = True
    return np.asarray(keep, dtype=np.int64)


def nms_bev(boxes: Any, scores: Any, iou_threshold: float, *, impl: str = "auto") -> Any:
    """Greedy rotated NMS: indices ``(K,)`` int64 of the kept boxes, by descending score.

    Args:
        boxes: ``(N, 7)`` ``[x, y, z, l, w, h, yaw]``.
        scores: ``(N,)`` same library and dtype as ``boxes``.
        iou_threshold: a box is suppressed by a kept, higher-ranked box when their BEV IoU
            is strictly greater than this.

    Ranking: descending score, ties broken by lower index (stable). The keep set equals the
    plain greedy loop's; only pairs whose bounding circles meet are tested. The result is
    in the input's library and device.

    Precision: every route computes the IoUs in float64 (float32 boxes are widened first,
    exactly), so the compiled CPU route and the array reference keep the same boxes for
    float32 input as for float64. Every route evaluates a pair with its lower index first, and
    intersections within rounding of 0 read 0: edge-touching boxes do not suppress each other
    at ``iou_threshold`` 0 on any route (IoU 6.9e-18 one way suppressed them on one route).

    Raises:
        TypeError: ``boxes`` and ``scores`` come from different array libraries.
        ValueError: a shape or dtype is wrong (``scores`` must have ``boxes``' dtype), a
            value is NaN, or ``iou_threshold`` is outside ``[0, 1]``.
    """
    check_boxes(boxes, "boxes")
    check_array(scores, "scores", (boxes.shape[0],))
    xp = check_pair(boxes, "boxes", scores, "scores")
    if not 0.0 <= float(iou_threshold) <= 1.0 or iou_threshold != iou_threshold:
        raise ValueError(f"iou_threshold must be in [0, 1], got {iou_threshold}")
    n = boxes.shape[0]
    host_scores = np.asarray(to_numpy(scores), dtype=np.float64)
    order = np.argsort(-host_scores, kind="stable")
    if n == 0:
        return from_numpy_like(np.zeros(0, dtype=np.int64), boxes)
    if use_compiled_cpu_route(boxes, impl):
        from drivestack.kernels import _numba_kernels

        keep = _numba_kernels.nms_bev(
            np.ascontiguousarray(boxes, dtype=np.float64),
            order,
            float(iou_threshold),
            tolerance(xp, np.float64),
        )
        return keep
    boxes = xp.astype(boxes, xp.float64, copy=False)  # float64 IoUs, as the compiled route
    ia, ib = circle_candidate_pairs(xp, boxes, boxes)
    upper = ia < ib
    ia, ib = ia[upper], ib[upper]
    pa, pb = xp.take(boxes, ia, axis=0), xp.take(boxes, ib, axis=0)
    inter = bev_intersection_area(xp, pa, pb)
    union = pa[:, 3] * pa[:, 4] + pb[:, 3] * pb[:, 4] - inter
    positive = union > 0
    # inter / union > threshold, the compiled route's comparison (not inter > threshold * union)
    over = positive & (inter / xp.where(positive, union, xp.ones_like(union)) > iou_threshold)
    keep = _greedy_over_pairs(
        order, to_numpy(ia).astype(np.int64), to_numpy(ib).astype(np.int64), to_numpy(over), n
    )
    return from_numpy_like(keep, boxes)
