"""Oriented-box collision tests by separating axes (for the planner and the simulator)."""

from __future__ import annotations

from typing import Any

import numpy as np

from drivestack.core.arrays import check_same_dtype
from drivestack.kernels._common import check_boxes, check_pair
from drivestack.kernels.corners import _BEV_SIGNS, bev_corners

#: Largest ``N * M`` that :func:`boxes_overlap_bev` tests on the small-input NumPy path.
SMALL_PAIRS = 64


def _overlap(xp: Any, corners_a: Any, corners_b: Any, yaw_a: Any, yaw_b: Any) -> Any:
    """Separating-axis test on broadcastable operands: corners ``(..., 4, 2)``, yaws ``(...)``.

    The candidate axes are each box's length and width directions; boxes overlap unless one
    axis separates their projections (with a rounding slack, so touching counts as overlap).
    """
    ua_x, ua_y = xp.cos(yaw_a), xp.sin(yaw_a)
    ub_x, ub_y = xp.cos(yaw_b), xp.sin(yaw_b)
    shape = xp.broadcast_arrays(ua_x, ub_x)[0].shape
    axes_x = xp.stack([xp.broadcast_to(v, shape) for v in (ua_x, -ua_y, ub_x, -ub_y)], axis=-1)
    axes_y = xp.stack([xp.broadcast_to(v, shape) for v in (ua_y, ua_x, ub_y, ub_x)], axis=-1)
    # projections (..., 4 axes, 4 corners)
    proj_a = (
        corners_a[..., None, :, 0] * axes_x[..., None]
        + corners_a[..., None, :, 1] * axes_y[..., None]
    )
    proj_b = (
        corners_b[..., None, :, 0] * axes_x[..., None]
        + corners_b[..., None, :, 1] * axes_y[..., None]
    )
    lo_a, hi_a = xp.min(proj_a, axis=-1), xp.max(proj_a, axis=-1)
    lo_b, hi_b = xp.min(proj_b, axis=-1), xp.max(proj_b, axis=-1)
    scale = 1.0 + xp.maximum(xp.abs(lo_a), xp.abs(hi_a))
    slack = (1e-9 if corners_a.dtype == xp.float64 else 1e-5) * scale
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
    return _overlap(
        xp,
        bev_corners(xp, a)[:, None],
        bev_corners(xp, b)[None, :],
        a[:, 6][:, None],
        b[:, 6][None, :],
    )


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
    return _overlap(xp, bev_corners(xp, a), bev_corners(xp, b), a[:, 6], b[:, 6])


def _corners_numpy(boxes: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``(N, 4)`` BEV corner x and y of ``(N, 7)`` boxes and their yaw's cos and sin ``(N,)``,
    with exactly the arithmetic of :func:`bev_corners` (same operations, same order)."""
    signs = np.asarray(_BEV_SIGNS, dtype=boxes.dtype)
    lx = signs[None, :, 0] * boxes[:, 3:4]
    ly = signs[None, :, 1] * boxes[:, 4:5]
    c = np.cos(boxes[:, 6])[:, None]
    s = np.sin(boxes[:, 6])[:, None]
    x = boxes[:, 0:1] + c * lx - s * ly
    y = boxes[:, 1:2] + s * lx + c * ly
    return x, y, c[:, 0], s[:, 0]


def _overlap_small_numpy(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """:func:`_overlap` of validated NumPy ``a (N, 7)`` and ``b (M, 7)`` for small ``N * M``:
    the same separating-axis arithmetic element for element (so the same answer, bit for
    bit), with far fewer array operations (the generic path's per-call overhead dominates
    when one box is tested against a few)."""
    xa, ya, ca, sa = _corners_numpy(a)
    xb, yb, cb, sb = _corners_numpy(b)
    n, m = a.shape[0], b.shape[0]
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
    proj_b = xb[None, :, None, :] * axes_x[..., None] + yb[None, :, None, :] * axes_y[..., None]
    lo_a, hi_a = proj_a.min(axis=-1), proj_a.max(axis=-1)
    lo_b, hi_b = proj_b.min(axis=-1), proj_b.max(axis=-1)
    scale = 1.0 + np.maximum(np.abs(lo_a), np.abs(hi_a))
    slack = (1e-9 if a.dtype == np.float64 else 1e-5) * scale
    separated = (hi_a < lo_b - slack) | (hi_b < lo_a - slack)
    return ~separated.any(axis=-1)
