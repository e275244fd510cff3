"""boxes_overlap_bev: oriented-box collision test by separating axes (for the planner)."""

from __future__ import annotations

from typing import Any

from drivestack.kernels._common import check_boxes, check_pair
from drivestack.kernels.corners import bev_corners


def boxes_overlap_bev(a: Any, b: Any) -> Any:
    """Boolean ``(N, M)``: do the BEV footprints of ``a (N, 7)`` and ``b (M, 7)`` overlap?

    Separating-axis test on the 4 edge normals of the two rectangles. Touching boxes
    (a shared edge or corner, within rounding) count as overlapping: the planner treats
    contact as a collision.
    """
    check_boxes(a, "a")
    check_boxes(b, "b")
    xp = check_pair(a, "a", b, "b")
    ca = bev_corners(xp, a)[:, None, :, :]  # (N, 1, 4, 2)
    cb = bev_corners(xp, b)[None, :, :, :]  # (1, M, 4, 2)
    n, m = a.shape[0], b.shape[0]
    ca = xp.broadcast_to(ca, (n, m, 4, 2))
    cb = xp.broadcast_to(cb, (n, m, 4, 2))

    def axes_of(yaw: Any) -> Any:
        c, s = xp.cos(yaw), xp.sin(yaw)
        return xp.stack([xp.stack([c, s], axis=-1), xp.stack([-s, c], axis=-1)], axis=-2)  # (..., 2, 2)

    axes = xp.concat(
        [
            xp.broadcast_to(axes_of(a[:, 6])[:, None], (n, m, 2, 2)),
            xp.broadcast_to(axes_of(b[:, 6])[None, :], (n, m, 2, 2)),
        ],
        axis=2,
    )  # (N, M, 4, 2)
    proj_a = xp.sum(ca[:, :, None, :, :] * axes[:, :, :, None, :], axis=-1)  # (N, M, 4 axes, 4 corners)
    proj_b = xp.sum(cb[:, :, None, :, :] * axes[:, :, :, None, :], axis=-1)
    scale = 1.0 + xp.max(xp.abs(proj_a), axis=-1)
    slack = 1e-9 * scale if a.dtype == xp.float64 else 1e-5 * scale
    separated = (xp.max(proj_a, axis=-1) < xp.min(proj_b, axis=-1) - slack) | (
        xp.max(proj_b, axis=-1) < xp.min(proj_a, axis=-1) - slack
    )
    return ~xp.any(separated, axis=-1)
