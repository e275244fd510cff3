"""points_in_boxes: which points lie inside which oriented 3D boxes."""

from __future__ import annotations

from typing import Any

import numpy as np

from drivestack.kernels._common import check_boxes, check_pair, check_points, use_compiled_cpu_route

#: The closed faces' slack, in machine epsilons of the inputs' dtype times the point's
#: box-centred coordinates (|dx| + |dy| across, |dz| up): a box's own corners, computed in
#: its dtype, test inside (float32 yaw pi/2 put half of them ~1e-7 m outside).
FACE_SLACK_EPS = 4.0


def points_in_boxes(points: Any, boxes: Any, *, impl: str = "auto") -> Any:
    """Boolean ``(N, M)``: point n lies in box m (closed box: the surface counts as inside).

    Args:
        points: ``(N, 3)`` in the boxes' frame.
        boxes: ``(M, 7)`` ``[x, y, z, l, w, h, yaw]``, same library and dtype.

    Closed within rounding: a point counts when its box-axis coordinates are within
    ``FACE_SLACK_EPS`` epsilons of its box-centred offsets (``|dx| + |dy|``, ``|dz|``) of the
    faces, so a box's own corners test inside when the box is near the origin. The rounding of
    the positions themselves is not covered: it grows with the distance from the origin, so a
    box's own corners may test outside by about an epsilon of that distance (float64: ~1e-15
    m at 10 m, ~1e-11 m at 1e5 m; float32: ~4 mm at 1e5 m); use a local origin far out.

    The compiled CPU route buckets points in a coarse xy grid once and visits only the cells
    under each box; the array reference tests every pair in the box's own axes.
    """
    check_points(points)
    check_boxes(boxes, "boxes")
    xp = check_pair(points, "points", boxes, "boxes")
    slack_eps = FACE_SLACK_EPS * float(xp.finfo(points.dtype).eps)
    if use_compiled_cpu_route(points, impl):
        from drivestack.kernels import _numba_kernels

        extent = float(np.max(boxes[:, 3:5])) if boxes.shape[0] else 1.0
        cell_m = min(max(extent, 1.0), 8.0)
        return _numba_kernels.points_in_boxes(
            np.ascontiguousarray(points),
            np.ascontiguousarray(boxes, dtype=points.dtype),
            cell_m,
            slack_eps,
        )
    dx = points[:, 0][:, None] - boxes[:, 0][None, :]
    dy = points[:, 1][:, None] - boxes[:, 1][None, :]
    dz = points[:, 2][:, None] - boxes[:, 2][None, :]
    c = xp.cos(boxes[:, 6])[None, :]
    s = xp.sin(boxes[:, 6])[None, :]
    local_x = c * dx + s * dy
    local_y = -s * dx + c * dy
    across = slack_eps * (xp.abs(dx) + xp.abs(dy))
    return (
        (xp.abs(local_x) <= 0.5 * boxes[:, 3][None, :] + across)
        & (xp.abs(local_y) <= 0.5 * boxes[:, 4][None, :] + across)
        & (xp.abs(dz) <= 0.5 * boxes[:, 5][None, :] + slack_eps * xp.abs(dz))
    )
