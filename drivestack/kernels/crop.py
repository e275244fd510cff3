"""Point crops: axis-aligned box and radial range. Both return a boolean mask ``(N,)``."""

from __future__ import annotations

from typing import Any

import array_api_compat
import numpy as np

from drivestack.core.arrays import namespace
from drivestack.kernels._common import check_points


def _as_bounds(xp: Any, value: Any, like: Any, name: str, *, lower: bool) -> Any:
    """The 3 bounds ``value`` in ``like``'s dtype and device, rounded inwards where that dtype
    cannot hold them exactly (a lower bound up, an upper one down), so that a float32 point
    just outside a float64 bound stays outside (1.0 against 1.00000001 was kept)."""
    try:
        exact = np.asarray([float(v) for v in value], dtype=np.float64)
    except (TypeError, ValueError, RuntimeError) as exc:  # torch raises RuntimeError
        raise ValueError(f"{name} must be 3 numbers (x, y, z), got {value!r}") from exc
    if exact.shape != (3,):
        raise ValueError(f"{name} must have 3 values (x, y, z), got shape {exact.shape}")
    if np.isnan(exact).any():
        raise ValueError(f"{name} contains NaN")
    size = like.element_size() if hasattr(like, "element_size") else like.dtype.itemsize
    dtype = np.dtype({2: np.float16, 4: np.float32, 8: np.float64}[size])
    with np.errstate(over="ignore"):  # a bound past the dtype's range becomes +-inf
        held = exact.astype(dtype)
    moved = held.astype(np.float64) < exact if lower else held.astype(np.float64) > exact
    towards = np.full(3, np.inf if lower else -np.inf, dtype=dtype)
    held = np.where(moved, np.nextafter(held, towards), held)
    return xp.asarray(held, dtype=like.dtype, device=array_api_compat.device(like))


def crop_box(points: Any, min_xyz_m: Any, max_xyz_m: Any) -> Any:
    """Mask ``(N,)`` of ``points (N, 3)`` with ``min_xyz_m <= p <= max_xyz_m`` on every axis.

    Bounds are 3 numbers (sequences or arrays; ``±inf`` leaves an axis open). Inclusive on
    both ends, exactly: a bound the points' dtype cannot hold is rounded inwards. The mask
    is in the points' library and device.
    """
    check_points(points)
    xp = namespace(points)
    lo = _as_bounds(xp, min_xyz_m, points, "min_xyz_m", lower=True)
    hi = _as_bounds(xp, max_xyz_m, points, "max_xyz_m", lower=False)
    if bool(xp.any(lo > hi)):
        raise ValueError(
            f"min_xyz_m must be <= max_xyz_m on every axis, got {min_xyz_m} > {max_xyz_m}"
        )
    # column by column: a reduction over the short axis of an (N, 3) array is ~5x slower
    x, y, z = points[:, 0], points[:, 1], points[:, 2]
    return (x >= lo[0]) & (x <= hi[0]) & (y >= lo[1]) & (y <= hi[1]) & (z >= lo[2]) & (z <= hi[2])


def crop_range(points: Any, min_range_m: float, max_range_m: float, *, planar: bool = False) -> Any:
    """Mask ``(N,)`` of points whose distance from the origin lies in ``[min_range_m, max_range_m]``.

    ``planar=True`` measures the xy distance only (the usual LiDAR range in BEV). The squared
    range of a huge finite coordinate (1e30) overflows to ``inf``, which is beyond any finite
    ``max_range_m``: the right answer, so NumPy's overflow warning is silenced (CuPy and torch
    give the same ``inf`` without one).
    """
    check_points(points)
    if not (0.0 <= min_range_m <= max_range_m):
        raise ValueError(f"need 0 <= min_range_m <= max_range_m, got {min_range_m}, {max_range_m}")
    with np.errstate(over="ignore"):
        range_sq = points[:, 0] * points[:, 0] + points[:, 1] * points[:, 1]
        if not planar:
            range_sq = range_sq + points[:, 2] * points[:, 2]
    return (range_sq >= min_range_m * min_range_m) & (range_sq <= max_range_m * max_range_m)
