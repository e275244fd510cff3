"""Oriented-box collision tests by separating axes (for the planner and the simulator)."""

from __future__ import annotations

from typing import Any

from drivestack.kernels._common import check_boxes, check_pair
from drivestack.kernels.corners import bev_corners


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
