"""Rigid transforms in 3D (SE3) and 2D (SE2), batched, NumPy float64.

A transform named ``dst_from_src`` maps points expressed in ``src`` into ``dst``:
``points_dst = dst_from_src.apply(points_src)``; composition reads right to left:
``a_from_c = a_from_b.compose(b_from_c)`` (also ``a_from_b @ b_from_c``).

Both classes are immutable and may hold a batch of transforms (leading ``batch_shape``).
``apply`` accepts either one point set per transform (``points.ndim == len(batch_shape) + 2``,
e.g. a single transform and ``(N, 3)`` points) or element-wise points that broadcast
against the batch (``(..., 3)``).

Quaternions are scalar-first ``(w, x, y, z)`` as in nuScenes and Argoverse 2.

Rigidity is checked where a transform is made: :class:`SE3` refuses a rotation block that is
not a proper rotation (``R^T R = I`` and ``det R = +1`` within 1e-6, one 3x3 test per
transform), and :meth:`SE3.from_matrix` also a homogeneous last row other than
``[0, 0, 0, 1]``; :meth:`SE2.from_matrix` applies the same checks in 2D. Operations on valid
transforms (compose, inverse, apply) stay valid and are not re-checked. A transform keeps
copies of the caller's writeable arrays (never freezing or sharing them); a read-only array
(another transform's) is kept as it is (:func:`~drivestack.core.arrays.read_only`). Raw
matrices given to the kernels (:func:`~drivestack.kernels.transform_points`) are checked
there by :func:`check_rigid_matrix`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from drivestack.core.arrays import read_only
from drivestack.core.value_equality import ArrayValueEquality

FloatArray = npt.NDArray[np.float64]

_ORTHONORMAL_TOL = 1e-6
#: Below this deviation of ``R^T R`` from I a rotation's transpose is its inverse to rounding
#: (:meth:`SE3.inverse`).
_EXACT_ROTATION_TOL = 1e-12


def _as_float_array(value: npt.ArrayLike, name: str) -> FloatArray:
    arr = np.asarray(value, dtype=np.float64)
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} contains NaN or infinite values")
    return arr


def _apply_affine(rotation: FloatArray, translation: FloatArray, points: FloatArray) -> FloatArray:
    """Apply ``rotation (B..., D, D)`` and ``translation (B..., D)`` to points.

    ``points`` is ``(B..., N, D)`` (one set per transform) or ``(..., D)`` broadcasting with B.
    """
    batch_ndim = rotation.ndim - 2
    try:
        if points.ndim == batch_ndim + 2:
            return np.einsum("...ij,...nj->...ni", rotation, points) + translation[..., None, :]
        return np.einsum("...ij,...j->...i", rotation, points) + translation
    except ValueError:  # only the shapes can disagree: say which layouts are accepted
        batch, d = rotation.shape[:-2], rotation.shape[-1]
        sets = ", ".join([*map(str, batch), "N", str(d)])
        raise ValueError(
            f"points of shape {points.shape} do not fit a batch of {batch} transforms: give "
            f"one point set per transform, ({sets}), or points whose leading dimensions "
            f"broadcast with the batch {batch}, (..., {d})"
        ) from None


def yaw_to_rotation_matrix(yaw_rad: npt.ArrayLike) -> FloatArray:
    """``(...,)`` yaw about +z (counter-clockwise from +x) to ``(..., 3, 3)`` rotation matrices."""
    yaw = np.asarray(yaw_rad, dtype=np.float64)
    c, s = np.cos(yaw), np.sin(yaw)
    rot = np.zeros((*yaw.shape, 3, 3))
    rot[..., 0, 0] = c
    rot[..., 0, 1] = -s
    rot[..., 1, 0] = s
    rot[..., 1, 1] = c
    rot[..., 2, 2] = 1.0
    return rot


def nearest_rotation(matrices: npt.ArrayLike) -> FloatArray:
    """``(..., 3, 3)`` proper rotations nearest (Frobenius) to ``(..., 3, 3)`` matrices: the SVD
    projection ``U V^T``, with the last singular direction flipped where that would be a
    reflection. Exact for matrices that already are rotations up to rounding."""
    m = np.asarray(matrices, dtype=np.float64)
    u, _, vt = np.linalg.svd(m)
    sign = np.ones((*m.shape[:-2], 3))
    sign[..., 2] = np.sign(np.linalg.det(u @ vt))
    return (u * sign[..., None, :]) @ vt


def wrap_angle(angle_rad: npt.ArrayLike) -> FloatArray:
    """Wrap angles into ``[-pi, pi)``."""
    a = np.asarray(angle_rad, dtype=np.float64)
    r = (a + np.pi) % (2.0 * np.pi) - np.pi
    # the modulo rounds to 2 pi for angles a hair below -pi (and odd multiples of it): fold
    # that +pi to -pi; every other result is already in range and left as it is
    if r.ndim:
        np.subtract(r, 2.0 * np.pi, out=r, where=r >= np.pi)
    elif r >= np.pi:
        r = r - 2.0 * np.pi
    return r


def quaternion_to_rotation_matrix(quaternion_wxyz: npt.ArrayLike) -> FloatArray:
    """``(..., 4)`` quaternions ``(w, x, y, z)`` (normalised here) to ``(..., 3, 3)`` matrices."""
    q = _as_float_array(quaternion_wxyz, "quaternion_wxyz")
    if q.shape[-1:] != (4,):
        raise ValueError(f"quaternion_wxyz must have shape (..., 4), got {q.shape}")
    norm = np.linalg.norm(q, axis=-1, keepdims=True)
    if np.any(norm < 1e-12):
        raise ValueError("quaternion_wxyz has a zero-norm quaternion")
    w, x, y, z = np.moveaxis(q / norm, -1, 0)
    rot = np.empty((*q.shape[:-1], 3, 3))
    rot[..., 0, 0] = 1 - 2 * (y * y + z * z)
    rot[..., 0, 1] = 2 * (x * y - w * z)
    rot[..., 0, 2] = 2 * (x * z + w * y)
    rot[..., 1, 0] = 2 * (x * y + w * z)
    rot[..., 1, 1] = 1 - 2 * (x * x + z * z)
    rot[..., 1, 2] = 2 * (y * z - w * x)
    rot[..., 2, 0] = 2 * (x * z - w * y)
    rot[..., 2, 1] = 2 * (y * z + w * x)
    rot[..., 2, 2] = 1 - 2 * (x * x + y * y)
    return rot


def rotation_matrix_to_quaternion(rotation: npt.ArrayLike) -> FloatArray:
    """``(..., 3, 3)`` rotation matrices to ``(..., 4)`` unit quaternions ``(w, x, y, z)``, w >= 0.

    Uses the numerically stable branch on the largest diagonal term (Shepperd's method).
    """
    r = _as_float_array(rotation, "rotation")
    if r.shape[-2:] != (3, 3):
        raise ValueError(f"rotation must have shape (..., 3, 3), got {r.shape}")
    flat = r.reshape(-1, 3, 3)
    out = np.empty((flat.shape[0], 4))
    trace = np.trace(flat, axis1=1, axis2=2)
    diag = np.diagonal(flat, axis1=1, axis2=2)
    choice = np.argmax(np.concatenate([trace[:, None], diag], axis=1), axis=1)
    for i, (m, c) in enumerate(zip(flat, choice, strict=True)):
        if c == 0:
            s = np.sqrt(1.0 + trace[i]) * 2.0
            out[i] = [
                0.25 * s,
                (m[2, 1] - m[1, 2]) / s,
                (m[0, 2] - m[2, 0]) / s,
                (m[1, 0] - m[0, 1]) / s,
            ]
        elif c == 1:
            s = np.sqrt(1.0 + m[0, 0] - m[1, 1] - m[2, 2]) * 2.0
            out[i] = [
                (m[2, 1] - m[1, 2]) / s,
                0.25 * s,
                (m[0, 1] + m[1, 0]) / s,
                (m[0, 2] + m[2, 0]) / s,
            ]
        elif c == 2:
            s = np.sqrt(1.0 + m[1, 1] - m[0, 0] - m[2, 2]) * 2.0
            out[i] = [
                (m[0, 2] - m[2, 0]) / s,
                (m[0, 1] + m[1, 0]) / s,
                0.25 * s,
                (m[1, 2] + m[2, 1]) / s,
            ]
        else:
            s = np.sqrt(1.0 + m[2, 2] - m[0, 0] - m[1, 1]) * 2.0
            out[i] = [
                (m[1, 0] - m[0, 1]) / s,
                (m[0, 2] + m[2, 0]) / s,
                (m[1, 2] + m[2, 1]) / s,
                0.25 * s,
            ]
    out *= np.where(out[:, :1] < 0, -1.0, 1.0)
    out /= np.linalg.norm(out, axis=1, keepdims=True)
    return out.reshape(*r.shape[:-2], 4)


def _is_proper_rotation(rot: FloatArray, tol: float = _ORTHONORMAL_TOL) -> bool:
    """``R^T R = I`` within tolerance and ``det R > 0`` for ``(..., 3, 3)`` matrices.

    The determinant is expanded by cofactors (no LAPACK call, no ``np.cross``): a single
    transform is checked in a few microseconds, which matters in per-frame hot paths.
    """
    if rot.shape == (3, 3):  # one transform: plain floats beat a dozen tiny NumPy calls
        (a, b, c), (d, e, f), (g, h, i) = rot.tolist()
        # the Gram matrix R^T R of the columns (a, d, g), (b, e, h), (c, f, i), written out
        if not (
            abs(a * a + d * d + g * g - 1.0) <= tol
            and abs(b * b + e * e + h * h - 1.0) <= tol
            and abs(c * c + f * f + i * i - 1.0) <= tol
            and abs(a * b + d * e + g * h) <= tol
            and abs(a * c + d * f + g * i) <= tol
            and abs(b * c + e * f + h * i) <= tol
        ):
            return False
        return a * (e * i - f * h) - b * (d * i - f * g) + c * (d * h - e * g) > 0
    gram = np.swapaxes(rot, -1, -2) @ rot
    if not np.max(np.abs(gram - np.eye(3))) <= tol:
        return False
    r = rot
    det = (
        r[..., 0, 0] * (r[..., 1, 1] * r[..., 2, 2] - r[..., 1, 2] * r[..., 2, 1])
        - r[..., 0, 1] * (r[..., 1, 0] * r[..., 2, 2] - r[..., 1, 2] * r[..., 2, 0])
        + r[..., 0, 2] * (r[..., 1, 0] * r[..., 2, 1] - r[..., 1, 1] * r[..., 2, 0])
    )
    return bool(np.min(det) > 0)


def _bottom_row_error(matrix: FloatArray, name: str, tol: float, size: int = 4) -> str | None:
    """The message for ``(..., size, size)`` homogeneous matrices (4 in 3D, 3 in 2D) whose
    last row is not ``[0, ..., 0, 1]`` within ``tol`` (None when every one is, or the
    matrices have another shape, e.g. ``(..., 3, 4)``)."""
    if matrix.shape[-2:] != (size, size) or matrix.size == 0:
        return None
    last = size - 1
    expected = (0.0,) * last + (1.0,)
    if matrix.ndim == 2:  # one matrix: plain floats, a few microseconds
        bottom = matrix[last].tolist()
        if all(abs(v - w) <= tol for v, w in zip(bottom, expected, strict=True)):
            return None
        first, where = 0, ""
        rows = [bottom]
    else:
        off = np.abs(matrix[..., last, :] - np.array(expected))
        if np.max(off) <= tol:  # NaN fails the test too
            return None
        rows = matrix[..., last, :].reshape(-1, size).tolist()
        first = int(np.argmax(np.max(off.reshape(-1, size), axis=1)))
        index = tuple(int(i) for i in np.unravel_index(first, matrix.shape[:-2]))
        where = f" (matrix {index})"
    row_text = "[" + ", ".join(str(int(v)) for v in expected) + "]"
    return (
        f"{name} must have last row {row_text} within {tol:g} (a rigid transform), got "
        f"{rows[first]}{where}"
    )


def check_rigid_matrix(matrix: npt.ArrayLike, name: str, tol: float = _ORTHONORMAL_TOL) -> None:
    """``ValueError`` naming ``name`` unless ``matrix`` (``(4, 4)`` or ``(3, 4)``, any float
    dtype, host NumPy) is a rigid transform: rotation block ``R^T R = I`` and ``det R > 0``
    within ``tol``, last row ``[0, 0, 0, 1]`` within ``tol`` for ``(4, 4)``. A 3x3 test (a few
    microseconds), for kernels that take raw matrices."""
    m = np.asarray(matrix, dtype=np.float64)
    message = _bottom_row_error(m, name, tol)
    if message is not None:
        raise ValueError(message)
    if not _is_proper_rotation(m[:3, :3], tol):
        raise ValueError(
            f"{name} is not a rigid transform: its 3x3 block {m[:3, :3].tolist()} is not a "
            f"rotation (R^T R = I and det R = +1 within {tol:g}); scaling or shear is not "
            "supported: apply such a matrix with a matmul of your own"
        )


def _common_batch(
    first: tuple[str, FloatArray, int], second: tuple[str, FloatArray, int], expected: str
) -> tuple[int, ...]:
    """The broadcast batch shape of two ``(name, array, trailing core dims)`` arguments of a
    transform; ``ValueError`` naming both, their shapes and ``expected`` when none exists."""
    (name_a, a, core_a), (name_b, b, core_b) = first, second
    batch_a, batch_b = a.shape[: a.ndim - core_a], b.shape[: b.ndim - core_b]
    try:
        return np.broadcast_shapes(batch_a, batch_b)
    except ValueError:
        raise ValueError(
            f"{name_a} {a.shape} and {name_b} {b.shape} have batch shapes {batch_a} and "
            f"{batch_b} that do not broadcast; expected {expected}"
        ) from None


def _check_compose(left: SE3 | SE2, right: object) -> None:
    """``left.compose(right)``'s argument checks, shared by :class:`SE3` and :class:`SE2`:
    ``TypeError`` unless ``right`` is of ``left``'s class, ``ValueError`` when their batch
    shapes do not broadcast."""
    kind = type(left).__name__
    if not isinstance(right, type(left)):
        raise TypeError(
            f"{kind}.compose takes an {kind}, got {type(right).__name__}"
            + (
                f"; build one with {kind}.from_matrix(m)"
                if isinstance(right, np.ndarray | list | tuple)
                else ""
            )
        )
    if left.batch_shape != right.batch_shape:
        try:
            np.broadcast_shapes(left.batch_shape, right.batch_shape)
        except ValueError:
            raise ValueError(
                f"{kind}.compose: batch shapes {left.batch_shape} and {right.batch_shape} "
                "do not broadcast"
            ) from None


def _valid_se3(rotation: FloatArray, translation: FloatArray) -> SE3:
    """An ``SE3`` of arrays derived from valid transforms (same batch shape, proper
    rotations, finite), made read-only and adopted without :class:`SE3`'s checks."""
    rotation.setflags(write=False)
    translation.setflags(write=False)
    se3 = object.__new__(SE3)
    object.__setattr__(se3, "rotation", rotation)
    object.__setattr__(se3, "translation", translation)
    return se3


@dataclass(frozen=True, eq=False)
class SE3(ArrayValueEquality):
    """Rigid 3D transform(s): ``rotation (B..., 3, 3)``, ``translation (B..., 3)``, float64."""

    rotation: FloatArray
    translation: FloatArray = field(default_factory=lambda: np.zeros(3))

    def __post_init__(self) -> None:
        rot = _as_float_array(self.rotation, "rotation")
        trans = _as_float_array(self.translation, "translation")
        if rot.shape[-2:] != (3, 3):
            raise ValueError(f"rotation must have shape (..., 3, 3), got {rot.shape}")
        if trans.shape[-1:] != (3,):
            raise ValueError(f"translation must have shape (..., 3), got {trans.shape}")
        if rot.size and not _is_proper_rotation(rot):
            raise ValueError("rotation is not a proper orthonormal matrix (R^T R != I or det < 0)")
        if rot.shape[:-2] != trans.shape[:-1]:
            batch = _common_batch(
                ("rotation", rot, 2),
                ("translation", trans, 1),
                "rotation (B..., 3, 3) and translation (B..., 3) (or (3,) for all)",
            )
            if rot.shape[:-2] != batch:
                rot = np.broadcast_to(rot, (*batch, 3, 3)).copy()
            trans = np.broadcast_to(trans, (*batch, 3)).copy()
        # frozen; the caller's own arrays (or views of them) are copied, never frozen or shared
        object.__setattr__(self, "rotation", read_only(rot, self.rotation))
        object.__setattr__(self, "translation", read_only(trans, self.translation))

    # -- constructors -------------------------------------------------------------------------
    @classmethod
    def identity(cls, batch_shape: tuple[int, ...] = ()) -> SE3:
        return cls(
            np.broadcast_to(np.eye(3), (*batch_shape, 3, 3)).copy(), np.zeros((*batch_shape, 3))
        )

    @classmethod
    def from_matrix(cls, matrix: npt.ArrayLike) -> SE3:
        """From ``(..., 4, 4)`` homogeneous or ``(..., 3, 4)`` ``[R|t]`` matrices.

        Raises:
            ValueError: another shape, a non-finite value, a last row other than
                ``[0, 0, 0, 1]`` (within 1e-6), or a rotation block that is not a proper
                rotation (scale, shear, reflection).
        """
        m = _as_float_array(matrix, "matrix")
        if m.ndim < 2 or m.shape[-2:] not in ((4, 4), (3, 4)):
            raise ValueError(f"matrix must have shape (..., 4, 4) or (..., 3, 4), got {m.shape}")
        message = _bottom_row_error(m, "matrix", _ORTHONORMAL_TOL)
        if message is not None:
            raise ValueError(message)
        return cls(m[..., :3, :3], m[..., :3, 3])

    @classmethod
    def from_quaternion(cls, quaternion_wxyz: npt.ArrayLike, translation: npt.ArrayLike) -> SE3:
        rotation = quaternion_to_rotation_matrix(quaternion_wxyz)
        rotation.setflags(write=False)  # made here: SE3 keeps it without a copy
        return cls(rotation, _as_float_array(translation, "translation"))

    @classmethod
    def from_xyz_yaw(cls, xyz: npt.ArrayLike, yaw_rad: npt.ArrayLike) -> SE3:
        """From ``(..., 3)`` positions and ``(...,)`` yaw angles about +z (the batch shapes
        broadcast); ``ValueError`` naming the argument otherwise."""
        position = _as_float_array(xyz, "xyz")
        yaw = _as_float_array(yaw_rad, "yaw_rad")
        if position.shape[-1:] != (3,):
            raise ValueError(f"xyz must have shape (..., 3), got {position.shape}")
        try:
            np.broadcast_shapes(position.shape[:-1], yaw.shape)
        except ValueError:
            raise ValueError(
                f"xyz {position.shape} and yaw_rad {yaw.shape} do not broadcast: expected xyz "
                "(B..., 3) and yaw_rad (B...,) (or one of them for all)"
            ) from None
        rotation = yaw_to_rotation_matrix(yaw)
        rotation.setflags(write=False)  # made here: SE3 keeps it without a copy
        return cls(rotation, position)

    # -- accessors ----------------------------------------------------------------------------
    @property
    def batch_shape(self) -> tuple[int, ...]:
        return tuple(self.rotation.shape[:-2])

    def __len__(self) -> int:
        if not self.batch_shape:
            raise TypeError("a single SE3 has no length")
        return self.batch_shape[0]

    def __bool__(self) -> bool:
        """A transform is always truthy (``pose or default`` must not call ``len``)."""
        return True

    def __getitem__(self, index: int | slice | np.ndarray) -> SE3:
        if not self.batch_shape:
            raise TypeError("a single SE3 cannot be indexed")
        return SE3(self.rotation[index], self.translation[index])

    def as_matrix(self) -> FloatArray:
        """``(B..., 4, 4)`` homogeneous matrices."""
        m = np.zeros((*self.batch_shape, 4, 4))
        m[..., :3, :3] = self.rotation
        m[..., :3, 3] = self.translation
        m[..., 3, 3] = 1.0
        return m

    def as_quaternion(self) -> FloatArray:
        """``(B..., 4)`` quaternions ``(w, x, y, z)`` with ``w >= 0``."""
        return rotation_matrix_to_quaternion(self.rotation)

    @property
    def yaw_rad(self) -> FloatArray:
        """Heading of the x axis projected on the xy plane, in ``[-pi, pi)``."""
        return wrap_angle(np.arctan2(self.rotation[..., 1, 0], self.rotation[..., 0, 0]))

    # -- algebra ------------------------------------------------------------------------------
    def compose(self, other: SE3) -> SE3:
        """``a_from_c = a_from_b.compose(b_from_c)``; batch shapes broadcast.

        ``TypeError`` unless ``other`` is an ``SE3`` (a 4x4 matrix: ``SE3.from_matrix``)."""
        _check_compose(self, other)
        rot = np.einsum("...ij,...jk->...ik", self.rotation, other.rotation)
        trans = np.einsum("...ij,...j->...i", self.rotation, other.translation) + self.translation
        return _valid_se3(rot, trans)  # a product of proper rotations is one: not re-checked

    def __matmul__(self, other: SE3) -> SE3:
        return self.compose(other)

    def inverse(self) -> SE3:
        """``src_from_dst`` of ``dst_from_src``: ``T.inverse() @ T`` is the identity to
        rounding. The rotation's transpose where it is orthonormal to 1e-12; a rotation the
        constructor accepted as nearly orthonormal (to 1e-6: one read from a text file of 7
        decimals) is inverted exactly, as its transpose would leave ``T @ T.inverse()`` off by
        up to 1e-6 of the translation (metres at map coordinates)."""
        rot_t = np.swapaxes(self.rotation, -1, -2)
        off = np.abs(np.einsum("...ij,...jk->...ik", rot_t, self.rotation) - np.eye(3))
        inexact = off.max(axis=(-2, -1), initial=0.0) > _EXACT_ROTATION_TOL
        rot_inv = rot_t
        if np.any(inexact):
            rot_inv = np.where(inexact[..., None, None], np.linalg.inv(self.rotation), rot_t)
        trans = -np.einsum("...ij,...j->...i", rot_inv, self.translation)
        return _valid_se3(rot_inv, trans)

    def apply(self, points: npt.ArrayLike) -> FloatArray:
        """Map points into the destination frame (see the module docstring for shapes)."""
        p = np.asarray(points, dtype=np.float64)
        if p.shape[-1:] != (3,):
            raise ValueError(f"points must have shape (..., 3), got {p.shape}")
        return _apply_affine(self.rotation, self.translation, p)

    def rotate(self, vectors: npt.ArrayLike) -> FloatArray:
        """Rotate direction vectors (no translation); same shapes as :meth:`apply`."""
        v = np.asarray(vectors, dtype=np.float64)
        return _apply_affine(self.rotation, np.zeros_like(self.translation), v)

    def rotate_xy(self, vectors_xy: npt.ArrayLike) -> FloatArray:
        """Rotate planar direction vectors ``(..., 2)`` (taken as ``(x, y, 0)``) and keep the
        xy part ``(..., 2)``: :meth:`rotate` of ``(x, y, 0)`` without the z column, whose terms
        are products with an exact zero and leave every sum unchanged."""
        v = np.asarray(vectors_xy, dtype=np.float64)
        if v.shape[-1:] != (2,):
            raise ValueError(f"vectors_xy must have shape (..., 2), got {v.shape}")
        return _apply_affine(
            self.rotation[..., :2, :2], np.zeros_like(self.translation[..., :2]), v
        )

    def to_se2(self) -> SE2:
        """Planar part: xy translation and yaw."""
        return SE2(self.yaw_rad, self.translation[..., :2])

    def allclose(self, other: SE3, atol: float = 1e-9) -> bool:
        """Rotations and translations equal within the absolute ``atol`` (no relative part:
        NumPy's default ``rtol`` 1e-5 let poses 50 m apart pass at map coordinates)."""
        if not isinstance(other, SE3):
            raise TypeError(f"SE3.allclose needs an SE3, got {type(other).__name__}")
        return bool(
            np.allclose(self.rotation, other.rotation, rtol=0.0, atol=atol)
            and np.allclose(self.translation, other.translation, rtol=0.0, atol=atol)
        )


def require_single_se3(value: object, argument: str) -> SE3:
    """``value`` when it is one :class:`SE3`: ``TypeError`` naming ``argument`` otherwise (with
    how to build one from a 4x4 matrix), ``ValueError`` for a batch of them."""
    if not isinstance(value, SE3):
        hint = (
            "; build one with SE3.from_matrix(m) from a 4x4 matrix"
            if isinstance(value, np.ndarray | list | tuple)
            else ""
        )
        raise TypeError(f"{argument} must be an SE3, got {type(value).__name__}{hint}")
    if value.batch_shape:
        raise ValueError(
            f"{argument} must be a single SE3, got a batch of shape {value.batch_shape}"
        )
    return value


@dataclass(frozen=True, eq=False)
class SE2(ArrayValueEquality):
    """Rigid 2D transform(s): ``yaw_rad (B...,)`` and ``translation (B..., 2)``, float64."""

    yaw_rad: FloatArray
    translation: FloatArray

    def __post_init__(self) -> None:
        yaw = wrap_angle(_as_float_array(self.yaw_rad, "yaw_rad"))
        trans = _as_float_array(self.translation, "translation")
        if trans.shape[-1:] != (2,):
            raise ValueError(f"translation must have shape (..., 2), got {trans.shape}")
        shape = _common_batch(
            ("yaw_rad", yaw, 0),
            ("translation", trans, 1),
            "yaw_rad (B...,) and translation (B..., 2) (or (2,) for all)",
        )
        yaw = np.broadcast_to(yaw, shape).copy()
        trans = np.broadcast_to(trans, (*shape, 2)).copy()
        yaw.setflags(write=False)
        trans.setflags(write=False)
        object.__setattr__(self, "yaw_rad", yaw)
        object.__setattr__(self, "translation", trans)

    @classmethod
    def identity(cls, batch_shape: tuple[int, ...] = ()) -> SE2:
        return cls(np.zeros(batch_shape), np.zeros((*batch_shape, 2)))

    @classmethod
    def from_matrix(cls, matrix: npt.ArrayLike) -> SE2:
        """From ``(..., 3, 3)`` homogeneous matrices.

        Raises:
            ValueError: another shape, a non-finite value, a last row other than
                ``[0, 0, 1]`` (within 1e-6), or a 2x2 block that is not a proper rotation
                (scale, shear, reflection): the checks of :meth:`SE3.from_matrix`.
        """
        m = _as_float_array(matrix, "matrix")
        if m.ndim < 2 or m.shape[-2:] != (3, 3):
            raise ValueError(f"matrix must have shape (..., 3, 3), got {m.shape}")
        message = _bottom_row_error(m, "matrix", _ORTHONORMAL_TOL, size=3)
        if message is not None:
            raise ValueError(message)
        if m.size:
            rot = np.zeros((*m.shape[:-2], 3, 3))  # the 2x2 block as a rotation about +z
            rot[..., :2, :2] = m[..., :2, :2]
            rot[..., 2, 2] = 1.0
            if not _is_proper_rotation(rot):
                raise ValueError(
                    "matrix is not a rigid transform: its 2x2 block is not a rotation (R^T R = "
                    f"I and det R = +1 within {_ORTHONORMAL_TOL:g}); scaling, shear or "
                    "reflection is not supported"
                )
        return cls(np.arctan2(m[..., 1, 0], m[..., 0, 0]), m[..., :2, 2])

    @property
    def batch_shape(self) -> tuple[int, ...]:
        return tuple(self.yaw_rad.shape)

    @property
    def rotation(self) -> FloatArray:
        """``(B..., 2, 2)`` rotation matrices."""
        c, s = np.cos(self.yaw_rad), np.sin(self.yaw_rad)
        return np.stack([np.stack([c, -s], -1), np.stack([s, c], -1)], -2)

    def as_matrix(self) -> FloatArray:
        m = np.zeros((*self.batch_shape, 3, 3))
        m[..., :2, :2] = self.rotation
        m[..., :2, 2] = self.translation
        m[..., 2, 2] = 1.0
        return m

    def compose(self, other: SE2) -> SE2:
        """``a_from_c = a_from_b.compose(b_from_c)``; batch shapes broadcast. ``TypeError``
        unless ``other`` is an ``SE2``, ``ValueError`` when the batch shapes do not broadcast."""
        _check_compose(self, other)
        trans = np.einsum("...ij,...j->...i", self.rotation, other.translation) + self.translation
        return SE2(self.yaw_rad + other.yaw_rad, trans)

    def __matmul__(self, other: SE2) -> SE2:
        return self.compose(other)

    def inverse(self) -> SE2:
        rot_t = np.swapaxes(self.rotation, -1, -2)
        return SE2(-self.yaw_rad, -np.einsum("...ij,...j->...i", rot_t, self.translation))

    def apply(self, points: npt.ArrayLike) -> FloatArray:
        p = np.asarray(points, dtype=np.float64)
        if p.shape[-1:] != (2,):
            raise ValueError(f"points must have shape (..., 2), got {p.shape}")
        return _apply_affine(self.rotation, self.translation, p)

    def to_se3(self, z_m: float = 0.0) -> SE3:
        xyz = np.concatenate([self.translation, np.full((*self.batch_shape, 1), z_m)], axis=-1)
        return SE3.from_xyz_yaw(xyz, self.yaw_rad)

    def allclose(self, other: SE2, atol: float = 1e-9) -> bool:
        """Yaws (wrapped) and translations equal within the absolute ``atol``."""
        if not isinstance(other, SE2):
            raise TypeError(f"SE2.allclose needs an SE2, got {type(other).__name__}")
        dyaw = wrap_angle(self.yaw_rad - other.yaw_rad)
        return bool(
            np.allclose(dyaw, 0.0, rtol=0.0, atol=atol)
            and np.allclose(self.translation, other.translation, rtol=0.0, atol=atol)
        )
