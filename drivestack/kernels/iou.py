"""Rotated IoU and generalised IoU of oriented boxes, in BEV and 3D.

Boxes are ``(N, 7)`` ``[x, y, z, length, width, height, yaw]`` (z = geometric centre); 3D
boxes rotate about z only. All four functions return ``(N, M)`` in the inputs' library,
device and dtype, for N or M = 0 too.

Routes: NumPy input takes the numba-compiled route (``impl="auto"``; ``impl="reference"``
forces the array reference). Torch and CuPy inputs run the array reference on their device.
Both routes prune pairs whose bounding circles do not meet (IoU 0) before exact clipping.

Precision: every route computes in float64 (float32 boxes are widened first, exactly) and
returns the input's dtype, so float32 thin boxes and map-scale positions keep their IoUs and
the routes agree. Pairs aligned within ``_polygon.ALIGNED_SIN`` are intersected as aligned
rectangles; intersections within rounding of 0 read 0 (touching boxes: IoU 0 either way).

Degenerate boxes (zero length or width) have zero area: IoU 0 against anything. When the
union is 0 the IoU is 0. GIoU uses the convex hull of the 8 BEV corners as the enclosing
shape (times the enclosing z-extent in 3D); GIoU = IoU - (C - U) / C, in [-1, 1].
"""

from __future__ import annotations

import math
from typing import Any

import array_api_compat
import numpy as np

from drivestack.kernels._common import (
    check_boxes,
    check_pair,
    compiled_route_for_numpy,
    magnitude_limit,
    tolerance,
    use_compiled_cpu_route,
)
from drivestack.kernels._pairs import circle_candidate_pairs
from drivestack.kernels._polygon import bev_intersection_area, hull_area
from drivestack.kernels.corners import bev_corners

_MODE_IOU_BEV, _MODE_IOU_3D, _MODE_GIOU_BEV, _MODE_GIOU_3D = 0, 1, 2, 3


def _z_overlap(xp: Any, a: Any, b: Any) -> Any:
    lo = xp.maximum(a[:, 2] - 0.5 * a[:, 5], b[:, 2] - 0.5 * b[:, 5])
    hi = xp.minimum(a[:, 2] + 0.5 * a[:, 5], b[:, 2] + 0.5 * b[:, 5])
    # at most the lower box's height (as the compiled route: rounding of thin boxes)
    return xp.clip(xp.minimum(hi - lo, xp.minimum(a[:, 5], b[:, 5])), min=0.0)


def _reference(xp: Any, a: Any, b: Any, mode: int) -> Any:
    """The array route: float64 arithmetic (float32 boxes widened exactly, as the compiled
    route and ``nms_bev``: float32 loses thin boxes and map-scale offsets), result in the
    input dtype."""
    dtype = a.dtype
    a = xp.astype(a, xp.float64, copy=False)
    b = xp.astype(b, xp.float64, copy=False)
    n, m = a.shape[0], b.shape[0]
    dev = array_api_compat.device(a)
    three_d = mode in (_MODE_IOU_3D, _MODE_GIOU_3D)
    if mode in (_MODE_GIOU_BEV, _MODE_GIOU_3D):
        ia = xp.reshape(xp.broadcast_to(xp.arange(n, device=dev)[:, None], (n, m)), (-1,))
        ib = xp.reshape(xp.broadcast_to(xp.arange(m, device=dev)[None, :], (n, m)), (-1,))
    else:
        ia, ib = circle_candidate_pairs(xp, a, b)
    pa = xp.take(a, ia, axis=0)
    pb = xp.take(b, ib, axis=0)
    inter = bev_intersection_area(xp, pa, pb)
    area_a = pa[:, 3] * pa[:, 4]
    area_b = pb[:, 3] * pb[:, 4]
    if three_d:
        inter = inter * _z_overlap(xp, pa, pb)
        union = area_a * pa[:, 5] + area_b * pb[:, 5] - inter
    else:
        union = area_a + area_b - inter
    positive = union > 0
    iou = xp.where(
        positive, inter / xp.where(positive, union, xp.ones_like(union)), xp.zeros_like(union)
    )
    values = iou
    if mode in (_MODE_GIOU_BEV, _MODE_GIOU_3D):
        # corners relative to the pair's midpoint (as the compiled route): absolute corners
        # at map coordinates would carry the position's rounding into the hull
        mid = 0.5 * (pa[:, :2] + pb[:, :2])
        rel_a = xp.concat([pa[:, :2] - mid, pa[:, 2:]], axis=1)
        rel_b = xp.concat([pb[:, :2] - mid, pb[:, 2:]], axis=1)
        hull = hull_area(xp, xp.concat([bev_corners(xp, rel_a), bev_corners(xp, rel_b)], axis=1))
        if three_d:
            top = xp.maximum(pa[:, 2] + 0.5 * pa[:, 5], pb[:, 2] + 0.5 * pb[:, 5])
            bottom = xp.minimum(pa[:, 2] - 0.5 * pa[:, 5], pb[:, 2] - 0.5 * pb[:, 5])
            hull = hull * (top - bottom)
        # the enclosing shape holds the union: rounding on slivers must not push GIoU above
        # its IoU (or above 1)
        hull = xp.maximum(hull, union)
        has_hull = hull > 0
        safe_hull = xp.where(has_hull, hull, xp.ones_like(hull))
        values = xp.where(has_hull, iou - (hull - union) / safe_hull, iou)
    out = xp.zeros((n * m,), dtype=dtype, device=dev)
    flat = ia * m + ib
    out[flat] = xp.astype(values, dtype, copy=False)
    return xp.reshape(out, (n, m))


_FLOAT64_TOLERANCE = 256.0 * float(np.finfo(np.float64).eps)  # tolerance(np, np.float64)
_FLOAT64_LIMIT = magnitude_limit(np.float64)


def _is_valid_float64_boxes(boxes: Any) -> bool:
    """Plain non-empty ``(N, 7)`` float64 NumPy boxes, finite, sizes >= 0, positions and sizes
    within the magnitude limit: what the checks below accept, tested in one pass (small
    inputs, e.g. a tracker's few tracks x detections, are dominated by the generic checks'
    per-call cost)."""
    return (
        type(boxes) is np.ndarray
        and boxes.dtype == np.float64
        and boxes.ndim == 2
        and boxes.shape[1] == 7
        and boxes.shape[0] > 0
        # a finite sum proves every value finite (a non-finite sum takes the checked path)
        and math.isfinite(np.add.reduce(boxes, axis=None))
        and bool(np.minimum.reduce(boxes[:, 3:6], axis=None) >= 0.0)
        and bool(np.maximum.reduce(np.abs(boxes[:, :6]), axis=None) <= _FLOAT64_LIMIT)
    )


def _dispatch(a: Any, b: Any, mode: int, impl: str) -> Any:
    if (
        impl == "auto"
        and _is_valid_float64_boxes(a)
        and _is_valid_float64_boxes(b)
        and compiled_route_for_numpy()
    ):
        # the compiled route below with the same arguments, so the same values; anything
        # else (other dtypes or libraries, empty or invalid input) takes the checked path
        from drivestack.kernels import _numba_kernels

        return _numba_kernels.pairwise_overlap(
            np.ascontiguousarray(a), np.ascontiguousarray(b), mode, _FLOAT64_TOLERANCE
        )
    check_boxes(a, "boxes_a")
    check_boxes(b, "boxes_b")
    xp = check_pair(a, "boxes_a", b, "boxes_b")
    if use_compiled_cpu_route(a, impl):
        from drivestack.kernels import _numba_kernels

        tol = tolerance(xp, np.float64)
        out = _numba_kernels.pairwise_overlap(
            np.ascontiguousarray(a, dtype=np.float64),
            np.ascontiguousarray(b, dtype=np.float64),
            mode,
            tol,
        )
        return out.astype(a.dtype, copy=False)
    return _reference(xp, a, b, mode)


def box_iou_bev(boxes_a: Any, boxes_b: Any, *, impl: str = "auto") -> Any:
    """Exact rotated BEV IoU ``(N, M)`` of ``boxes_a (N, 7)`` and ``boxes_b (M, 7)``."""
    return _dispatch(boxes_a, boxes_b, _MODE_IOU_BEV, impl)


def box_iou_3d(boxes_a: Any, boxes_b: Any, *, impl: str = "auto") -> Any:
    """3D IoU ``(N, M)``: BEV intersection x z-overlap / union of volumes (yaw-only boxes)."""
    return _dispatch(boxes_a, boxes_b, _MODE_IOU_3D, impl)


def box_giou_bev(boxes_a: Any, boxes_b: Any, *, impl: str = "auto") -> Any:
    """Generalised BEV IoU ``(N, M)`` in [-1, 1]; enclosing shape = hull of the 8 corners."""
    return _dispatch(boxes_a, boxes_b, _MODE_GIOU_BEV, impl)


def box_giou_3d(boxes_a: Any, boxes_b: Any, *, impl: str = "auto") -> Any:
    """Generalised 3D IoU ``(N, M)`` in [-1, 1]; enclosing volume = BEV hull x z-extent."""
    return _dispatch(boxes_a, boxes_b, _MODE_GIOU_3D, impl)
