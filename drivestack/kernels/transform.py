"""transform_points: apply a homogeneous rigid transform to a point set."""

from __future__ import annotations

from typing import Any

from drivestack.core.arrays import check_array
from drivestack.core.transforms import SE3
from drivestack.kernels._common import check_pair, check_points


def transform_points(points: Any, dst_from_src: Any) -> Any:
    """Map ``points (N, 3)`` by ``dst_from_src (4, 4)`` (or ``(3, 4)``); returns ``(N, 3)``.

    Both arguments come from one array library (``TypeError`` otherwise) and share a dtype
    (``ValueError`` otherwise: nothing is cast silently). Output keeps library, device, dtype.
    """
    check_points(points)
    if not hasattr(dst_from_src, "shape"):
        raise TypeError(_not_a_matrix_message(dst_from_src))
    if tuple(dst_from_src.shape) not in ((4, 4), (3, 4)):
        raise ValueError(
            f"dst_from_src must have shape (4, 4) or (3, 4), got {tuple(dst_from_src.shape)}"
        )
    check_array(dst_from_src, "dst_from_src", tuple(dst_from_src.shape))
    xp = check_pair(points, "points", dst_from_src, "dst_from_src")
    return xp.matmul(points, xp.matrix_transpose(dst_from_src[:3, :3])) + dst_from_src[:3, 3]


def _not_a_matrix_message(dst_from_src: object) -> str:
    """The ``TypeError`` text for a transform that is not an array (an ``SE3`` gets the calls
    that do take it)."""
    message = f"dst_from_src must be a (4, 4) or (3, 4) array, got {type(dst_from_src).__name__}"
    if isinstance(dst_from_src, SE3):
        message += (
            "; pass dst_from_src.as_matrix() (float64: cast it to the points' dtype), "
            "or map NumPy points with dst_from_src.apply(points)"
        )
    return message
