"""Box corners in 3D and in the bird's-eye view."""

from __future__ import annotations

from typing import Any

import array_api_compat

from drivestack.core.arrays import namespace
from drivestack.kernels._common import check_boxes

# Unit-box corner signs (length axis, width axis), counter-clockwise seen from above,
# starting at the front-left corner.
_BEV_SIGNS = ((0.5, 0.5), (-0.5, 0.5), (-0.5, -0.5), (0.5, -0.5))


def bev_corners(xp: Any, boxes: Any) -> Any:
    """``(N, 4, 2)`` BEV corners of validated ``(N, 7)`` boxes (CCW from front-left)."""
    dev = array_api_compat.device(boxes)
    signs = xp.asarray(_BEV_SIGNS, dtype=boxes.dtype, device=dev)
    local = signs[None, :, :] * xp.stack([boxes[:, 3], boxes[:, 4]], axis=1)[:, None, :]
    c = xp.cos(boxes[:, 6])[:, None]
    s = xp.sin(boxes[:, 6])[:, None]
    x = boxes[:, 0:1] + c * local[..., 0] - s * local[..., 1]
    y = boxes[:, 1:2] + s * local[..., 0] + c * local[..., 1]
    return xp.stack([x, y], axis=2)


def box_corners(boxes: Any) -> Any:
    """Corners ``(N, 8, 3)`` of ``boxes (N, 7)`` ``[x, y, z, l, w, h, yaw]`` (z = centre).

    Corners 0–3 are the bottom face (z - h/2), 4–7 the top face, each counter-clockwise seen
    from above starting at the front-left corner (+length/2, +width/2).
    """
    check_boxes(boxes, "boxes")
    return checked_box_corners(namespace(boxes), boxes)


def checked_box_corners(xp: Any, boxes: Any) -> Any:
    """:func:`box_corners` of validated ``(N, 7)`` boxes (for callers that checked them)."""
    bev = bev_corners(xp, boxes)
    bottom = boxes[:, 2:3] - 0.5 * boxes[:, 5:6]
    top = boxes[:, 2:3] + 0.5 * boxes[:, 5:6]
    n = boxes.shape[0]
    z = xp.concat([xp.broadcast_to(bottom, (n, 4)), xp.broadcast_to(top, (n, 4))], axis=1)
    xy = xp.concat([bev, bev], axis=1)
    return xp.concat([xy, z[..., None]], axis=2)
