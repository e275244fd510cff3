"""transform_points: apply a homogeneous rigid transform to a point set."""

from __future__ import annotations

from typing import Any

from drivestack.core.arrays import check_array, to_numpy
from drivestack.core.transforms import SE3, check_rigid_matrix
from drivestack.kernels._common import check_pair, check_points

#: Rigidity tolerance of a float64 / float32 ``dst_from_src`` (a float32 cast of an exact
#: rotation is orthonormal to ~1e-7 only).
_RIGID_TOL_F64, _RIGID_TOL_F32 = 1e-6, 1e-5


def transform_points(points: Any, dst_from_src: Any) -> Any:
    """Map ``points (N, 3)`` by ``dst_from_src (4, 4)`` (or ``(3, 4)``); returns ``(N, 3)``.

    Both arguments come from one array library (``TypeError`` otherwise) and share a dtype
    (``ValueError`` otherwise: nothing is cast silently). Output keeps library, device, dtype.

    ``dst_from_src`` must be rigid: its 3x3 block a proper rotation (``R^T R = I``,
    ``det R = +1``) and the last row of a ``(4, 4)`` ``[0, 0, 0, 1]``, within 1e-6 (float64)
    or 1e-5 (float32); ``ValueError`` otherwise (scaling, shear, a projective row). The test
    reads the 16 numbers on the host once per call (for a Torch or CuPy matrix, one small
    device-to-host copy).
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
    check_rigid_kernel_matrix(xp, dst_from_src, "dst_from_src")
    return xp.matmul(points, xp.matrix_transpose(dst_from_src[:3, :3])) + dst_from_src[:3, 3]


def check_rigid_kernel_matrix(xp: Any, matrix: Any, name: str) -> None:
    """``ValueError`` naming ``name`` unless the checked float ``matrix`` (``(4, 4)`` or
    ``(3, 4)``, any array library) is rigid within 1e-6 (float64) or 1e-5 (float32); reads
    its numbers on the host."""
    tol = _RIGID_TOL_F64 if matrix.dtype == xp.float64 else _RIGID_TOL_F32
    check_rigid_matrix(to_numpy(matrix), name, tol)


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
