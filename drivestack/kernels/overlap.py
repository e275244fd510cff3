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
    ca = bev_corners(xp, a)  # (N, 4, 2)
    cb = bev_corners(xp, b)  # (M, 4, 2)
    ua_x, ua_y = xp.cos(a[:, 6]), xp.sin(a[:, 6])  # box a's length axis; width axis = (-y, x)
    ub_x, ub_y = xp.cos(b[:, 6]), xp.sin(b[:, 6])
    # candidate axes (N, M, 4): a's two axes, then b's two axes, as x and y components
    n, m = a.shape[0], b.shape[0]
    ax_x = xp.stack(
        [
            xp.broadcast_to(ua_x[:, None], (n, m)),
            xp.broadcast_to(-ua_y[:, None], (n, m)),
            xp.broadcast_to(ub_x[None, :], (n, m)),
            xp.broadcast_to(-ub_y[None, :], (n, m)),
        ],
        axis=2,
    )
    ax_y = xp.stack(
        [
            xp.broadcast_to(ua_y[:, None], (n, m)),
            xp.broadcast_to(ua_x[:, None], (n, m)),
            xp.broadcast_to(ub_y[None, :], (n, m)),
            xp.broadcast_to(ub_x[None, :], (n, m)),
        ],
        axis=2,
    )
    # projections (N, M, 4 axes, 4 corners)
    proj_a = ca[:, None, None, :, 0] * ax_x[..., None] + ca[:, None, None, :, 1] * ax_y[..., None]
    proj_b = cb[None, :, None, :, 0] * ax_x[..., None] + cb[None, :, None, :, 1] * ax_y[..., None]
    lo_a, hi_a = xp.min(proj_a, axis=-1), xp.max(proj_a, axis=-1)
    lo_b, hi_b = xp.min(proj_b, axis=-1), xp.max(proj_b, axis=-1)
    scale = 1.0 + xp.maximum(xp.abs(lo_a), xp.abs(hi_a))
    slack = (1e-9 if a.dtype == xp.float64 else 1e-5) * scale
    separated = (hi_a < lo_b - slack) | (hi_b < lo_a - slack)
    return ~xp.any(separated, axis=-1)
