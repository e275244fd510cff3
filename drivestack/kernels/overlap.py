"""Oriented-box collision tests by separating axes (for the planner and the simulator)."""

from __future__ import annotations

from typing import Any

import array_api_compat
import numpy as np

from drivestack.core.arrays import check_same_dtype
from drivestack.kernels._common import check_boxes, check_pair

#: Largest ``N * M`` that :func:`boxes_overlap_bev` tests on the small-input NumPy path.
SMALL_PAIRS = 64


def _local_corners(xp: Any, boxes: Any) -> tuple[Any, Any, Any, Any]:
    """BEV corners of ``boxes (..., 7)`` relative to each box's centre, ``x, y (..., 4)``, and
    the yaw's cos and sin ``(...)`` (corners CCW from front-left, as :func:`bev_corners`)."""
    dev = array_api_compat.device(boxes)
    c = xp.cos(boxes[..., 6])
    s = xp.sin(boxes[..., 6])
    lx = boxes[..., 3:4] * xp.asarray([0.5, -0.5, -0.5, 0.5], dtype=boxes.dtype, device=dev)
    ly = boxes[..., 4:5] * xp.asarray([0.5, 0.5, -0.5, -0.5], dtype=boxes.dtype, device=dev)
    x = c[..., None] * lx - s[..., None] * ly
    y = s[..., None] * lx + c[..., None] * ly
    return x, y, c, s


def _overlap(xp: Any, a: Any, b: Any) -> Any:
    """Separating-axis test of broadcastable boxes ``a, b (..., 7)``: bool ``(...)``.

    The candidate axes are each box's length and width directions; boxes overlap unless one
    axis separates their projections (with a rounding slack, so touching counts as overlap).
    Everything is relative to ``a``'s centre, and the slack (1e-9 float64, 1e-5 float32) is
    relative to the boxes' sizes and offset there, not to their absolute position: float32
    boxes at map coordinates (1e5 m) read 5 m apart as touching before.
    """
    xa, ya, ca, sa = _local_corners(xp, a)
    xb, yb, cb, sb = _local_corners(xp, b)
    xb = (b[..., 0] - a[..., 0])[..., None] + xb
    yb = (b[..., 1] - a[..., 1])[..., None] + yb
    shape = xp.broadcast_arrays(ca, cb)[0].shape
    axes_x = xp.stack([xp.broadcast_to(v, shape) for v in (ca, -sa, cb, -sb)], axis=-1)
    axes_y = xp.stack([xp.broadcast_to(v, shape) for v in (sa, ca, sb, cb)], axis=-1)
    # projections (..., 4 axes, 4 corners)
    proj_a = xa[..., None, :] * axes_x[..., None] + ya[..., None, :] * axes_y[..., None]
    proj_b = xb[..., None, :] * axes_x[..., None] + yb[..., None, :] * axes_y[..., None]
    lo_a, hi_a = xp.min(proj_a, axis=-1), xp.max(proj_a, axis=-1)
    lo_b, hi_b = xp.min(proj_b, axis=-1), xp.max(proj_b, axis=-1)
    scale = 1.0 + xp.maximum(xp.maximum(hi_a, -lo_a), xp.maximum(hi_b, -lo_b))
    slack = (1e-9 if a.dtype == xp.float64 else 1e-5) * scale
    separated = (hi_a < lo_b - slack) | (hi_b < lo_a - slack)
    return ~xp.any(separated, axis=-1)


def boxes_overlap_bev(a: Any, b: Any) -> Any:
    """Boolean ``(N, M)``: do the BEV footprints of ``a (N, 7)`` and ``b (M, 7)`` overlap?

    Separating-axis test on the 4 edge normals of the two rectangles. Touching boxes
    (a shared edge or corner, within rounding) count as overlapping: the planner treats
    contact as a collision.
    """
    if (
        type(a) is np.ndarray
        and type(b) is np.ndarray
        and a.ndim == 2
        and b.ndim == 2
        and 0 < a.shape[0] * b.shape[0] <= SMALL_PAIRS
    ):
        # one box against a few (the simulator's collision and TTC checks): same checks and
        # same answer as below, without the array-API dispatch
        check_boxes(a, "a")
        check_boxes(b, "b")
        check_same_dtype(("a", a), ("b", b))
        return _overlap_small_numpy(a, b)
    check_boxes(a, "a")
    check_boxes(b, "b")
    xp = check_pair(a, "a", b, "b")
    return _overlap(xp, a[:, None, :], b[None, :, :])


def boxes_overlap_bev_pairs(a: Any, b: Any) -> Any:
    """Boolean ``(N,)``: does box ``a[i]`` overlap box ``b[i]`` (``a``, ``b``: ``(N, 7)``)?

    The element-wise form of :func:`boxes_overlap_bev` (same rule), for checking one agent
    against one ego pose per time step without building an N x N matrix.
    """
    check_boxes(a, "a")
    check_boxes(b, "b")
    if a.shape[0] != b.shape[0]:
        raise ValueError(
            f"a and b must have the same number of boxes, got {a.shape[0]} and {b.shape[0]}"
        )
    xp = check_pair(a, "a", b, "b")
    return _overlap(xp, a, b)


def _local_corners_numpy(
    boxes: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """:func:`_local_corners` of ``(N, 7)`` boxes (``(N, 4)``, ``(N,)``), with exactly its
    arithmetic (same operations, same order)."""
    c = np.cos(boxes[:, 6])
    s = np.sin(boxes[:, 6])
    lx = boxes[:, 3:4] * np.asarray([0.5, -0.5, -0.5, 0.5], dtype=boxes.dtype)
    ly = boxes[:, 4:5] * np.asarray([0.5, 0.5, -0.5, -0.5], dtype=boxes.dtype)
    x = c[:, None] * lx - s[:, None] * ly
    y = s[:, None] * lx + c[:, None] * ly
    return x, y, c, s


def _overlap_small_numpy(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """:func:`_overlap` of validated NumPy ``a (N, 7)`` and ``b (M, 7)`` for small ``N * M``:
    the same separating-axis arithmetic element for element (so the same answer, bit for
    bit), with far fewer array operations (the generic path's per-call overhead dominates
    when one box is tested against a few)."""
    xa, ya, ca, sa = _local_corners_numpy(a)
    xb, yb, cb, sb = _local_corners_numpy(b)
    n, m = a.shape[0], b.shape[0]
    # b's corners relative to each a's centre (N, M, 4)
    xb_rel = (b[None, :, 0] - a[:, None, 0])[..., None] + xb[None, :, :]
    yb_rel = (b[None, :, 1] - a[:, None, 1])[..., None] + yb[None, :, :]
    # axes (N, M, 4): a's length and width directions, then b's
    axes_x = np.empty((n, m, 4), dtype=a.dtype)
    axes_y = np.empty((n, m, 4), dtype=a.dtype)
    axes_x[:, :, 0] = ca[:, None]
    axes_x[:, :, 1] = -sa[:, None]
    axes_x[:, :, 2] = cb[None, :]
    axes_x[:, :, 3] = -sb[None, :]
    axes_y[:, :, 0] = sa[:, None]
    axes_y[:, :, 1] = ca[:, None]
    axes_y[:, :, 2] = sb[None, :]
    axes_y[:, :, 3] = cb[None, :]
    # projections (N, M, 4 axes, 4 corners)
    proj_a = xa[:, None, None, :] * axes_x[..., None] + ya[:, None, None, :] * axes_y[..., None]
    proj_b = xb_rel[:, :, None, :] * axes_x[..., None] + yb_rel[:, :, None, :] * axes_y[..., None]
    lo_a, hi_a = proj_a.min(axis=-1), proj_a.max(axis=-1)
    lo_b, hi_b = proj_b.min(axis=-1), proj_b.max(axis=-1)
    scale = 1.0 + np.maximum(np.maximum(hi_a, -lo_a), np.maximum(hi_b, -lo_b))
    slack = (1e-9 if a.dtype == np.float64 else 1e-5) * scale
    separated = (hi_a < lo_b - slack) | (hi_b < lo_a - slack)
    return ~separated.any(axis=-1)
