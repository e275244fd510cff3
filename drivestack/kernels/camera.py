"""Camera geometry: projection with OpenCV distortion, frustum test, unprojection, 2D boxes of 3D boxes.

Camera frame: x right, y down, z forward (optical axis). Pixels: u right, v down, origin at
the top-left pixel's corner convention of the intrinsics. Distortion coefficients follow
OpenCV: ``(k1, k2, p1, p2[, k3[, k4, k5, k6]])``; an empty or all-zero vector means none.
Intrinsics are ``[[fx, skew, cx], [0, fy, cy], [0, 0, 1]]`` (skew supported, other forms
refused).
All functions accept NumPy, Torch or CuPy arrays (one library per call) and keep the input's
library, device and dtype.
"""

from __future__ import annotations

import math
import numbers
from typing import Any

import array_api_compat
import numpy as np

from drivestack.core.arrays import check_array, to_numpy
from drivestack.kernels._common import check_boxes, check_pair, check_points
from drivestack.kernels.corners import checked_box_corners
from drivestack.kernels.transform import check_rigid_kernel_matrix

# the 12 edges of a box as corner index pairs (corners: 0-3 bottom CCW, 4-7 top CCW)
_BOX_EDGES = (
    (0, 1),
    (1, 2),
    (2, 3),
    (3, 0),
    (4, 5),
    (5, 6),
    (6, 7),
    (7, 4),
    (0, 4),
    (1, 5),
    (2, 6),
    (3, 7),
)


def _check_intrinsics(intrinsics: Any) -> None:
    """``ValueError`` unless ``intrinsics`` is a ``(3, 3)`` finite float camera matrix
    ``[[fx, skew, cx], [0, fy, cy], [0, 0, 1]]`` with ``fx, fy > 0`` (``skew`` may be any
    value: it shears u by ``skew * y``). Reads the nine numbers on the host."""
    check_array(intrinsics, "intrinsics", (3, 3))
    k = np.asarray(to_numpy(intrinsics), dtype=np.float64)
    if not (k[0, 0] > 0 and k[1, 1] > 0):
        raise ValueError(
            f"intrinsics must have positive focal lengths, got fx={k[0, 0]}, fy={k[1, 1]}"
        )
    if k[1, 0] != 0 or k[2].tolist() != [0.0, 0.0, 1.0]:
        raise ValueError(
            "intrinsics must be [[fx, skew, cx], [0, fy, cy], [0, 0, 1]] (a pinhole camera "
            f"matrix), got K[1, 0]={k[1, 0]} and bottom row {k[2].tolist()}"
        )


def _check_image_size(width_px: Any, height_px: Any) -> None:
    """``ValueError`` unless both are positive whole numbers of pixels (ints, or floats with
    an integral value)."""
    for name, value in (("width_px", width_px), ("height_px", height_px)):
        number = float(value) if isinstance(value, numbers.Real) else float("nan")
        if isinstance(value, bool) or not (0.0 < number < float("inf") and number.is_integer()):
            raise ValueError(f"{name} must be a positive integer, got {value!r}")


def _check_min_depth(min_depth_m: float) -> None:
    """``ValueError`` unless ``min_depth_m`` is positive and finite (depths are clamped to it
    before the division by z: 0 or less would give inf or NaN pixels)."""
    if not 0.0 < min_depth_m < float("inf"):
        raise ValueError(f"min_depth_m must be positive and finite, got {min_depth_m}")


def _distortion_terms(
    xp: Any, distortion: Any | None, like: Any, like_name: str
) -> tuple[Any, ...] | None:
    """``(k1, k2, p1, p2, k3, k4, k5, k6)`` as scalars-in-arrays, or None when there is none.

    ``distortion`` must come from ``like``'s library and device and have its dtype
    (``TypeError`` / ``ValueError`` naming both, as every other argument)."""
    if distortion is None:
        return None
    check_array(distortion, "distortion", (None,))
    check_pair(like, like_name, distortion, "distortion")
    count = distortion.shape[0]
    if count not in (0, 4, 5, 8):
        raise ValueError(
            f"distortion must have 0, 4, 5 or 8 coefficients (OpenCV order), got {count}"
        )
    if count == 0 or not bool(xp.any(distortion != 0)):
        return None
    dev = array_api_compat.device(like)
    full = xp.concat([distortion, xp.zeros((8 - count,), dtype=distortion.dtype, device=dev)])
    return tuple(full[i] for i in range(8))


def _monotonic_radius(terms: tuple[Any, ...], reach: float) -> float:
    """Largest undistorted radius ``r = |(x, y)| / z`` up to which the radial model
    ``r * radial(r^2)`` keeps increasing (and its denominator positive), searched up to
    ``reach``; ``inf`` when it does up to there.

    Beyond that radius a polynomial model folds back: a point far outside the field of view
    lands inside the image (k1=-0.35, k2=0.12, k3=-0.02 turn at r ~1.55, 57 deg off axis).
    The tangential terms (p1, p2) are left out of this bound. Host NumPy, float64: a grid of
    4097 samples, then bisection of the first bad interval."""
    k1, k2, _p1, _p2, k3, k4, k5, k6 = (float(t) for t in terms)

    def good(r: np.ndarray) -> np.ndarray:
        s = r * r
        num = 1.0 + s * (k1 + s * (k2 + s * k3))
        den = 1.0 + s * (k4 + s * (k5 + s * k6))
        d_num = k1 + s * (2.0 * k2 + s * 3.0 * k3)
        d_den = k4 + s * (2.0 * k5 + s * 3.0 * k6)
        # d/dr [r num / den] * den^2 = num den + 2 s (num' den - num den')
        slope = num * den + 2.0 * s * (d_num * den - num * d_den)
        return (den > 0.0) & (slope > 0.0)

    if not reach > 0.0:
        return float("inf")
    grid = np.linspace(0.0, reach, 4097)
    bad = np.flatnonzero(~good(grid))
    if bad.size == 0:
        return float("inf")
    lo, hi = float(grid[bad[0] - 1]) if bad[0] > 0 else 0.0, float(grid[bad[0]])
    for _ in range(60):
        mid = 0.5 * (lo + hi)
        if good(np.asarray(mid)):
            lo = mid
        else:
            hi = mid
    return lo


def _distort(xp: Any, x: Any, y: Any, terms: tuple[Any, ...]) -> tuple[Any, Any]:
    k1, k2, p1, p2, k3, k4, k5, k6 = terms
    r2 = x * x + y * y
    radial = (1 + r2 * (k1 + r2 * (k2 + r2 * k3))) / (1 + r2 * (k4 + r2 * (k5 + r2 * k6)))
    xd = x * radial + 2 * p1 * x * y + p2 * (r2 + 2 * x * x)
    yd = y * radial + p1 * (r2 + 2 * y * y) + 2 * p2 * x * y
    return xd, yd


def project_points(
    points_cam: Any, intrinsics: Any, distortion: Any | None = None, *, min_depth_m: float = 1e-6
) -> tuple[Any, Any]:
    """Project ``points_cam (N, 3)`` (camera frame) to pixels.

    Returns:
        ``uv_px (N, 2)`` and ``in_front (N,)`` bool (depth z >= ``min_depth_m``). Pixels of points
        behind the camera are not meaningful (their u, v are still finite: depth is clamped).

    Raises:
        ValueError: a bad shape, dtype or non-finite value (naming the argument), a focal
            length <= 0, or ``min_depth_m`` not positive and finite.
    """
    xp, x, y, in_front, terms = _checked_normalised(points_cam, intrinsics, distortion, min_depth_m)
    return _to_pixels(xp, x, y, intrinsics, terms), in_front


def _checked_normalised(
    points_cam: Any, intrinsics: Any, distortion: Any | None, min_depth_m: float
) -> tuple[Any, Any, Any, Any, tuple[Any, ...] | None]:
    """The argument checks :func:`project_points` and :func:`points_in_frustum` share, then
    ``(xp, x (N,), y (N,), in_front (N,), distortion terms)`` of :func:`_normalised`."""
    check_points(points_cam, "points_cam")
    xp = check_pair(points_cam, "points_cam", intrinsics, "intrinsics")
    _check_intrinsics(intrinsics)
    _check_min_depth(min_depth_m)
    terms = _distortion_terms(xp, distortion, points_cam, "points_cam")
    x, y, in_front = _normalised(xp, points_cam, min_depth_m)
    return xp, x, y, in_front, terms


def _normalised(xp: Any, points_cam: Any, min_depth_m: float) -> tuple[Any, Any, Any]:
    """Undistorted normalised coordinates ``x/z, y/z (N,)`` (depth clamped to ``min_depth_m``)
    and the ``in_front (N,)`` mask ``z >= min_depth_m``."""
    z = points_cam[:, 2]
    in_front = z >= min_depth_m
    safe_z = xp.where(in_front, z, xp.full_like(z, min_depth_m))
    return points_cam[:, 0] / safe_z, points_cam[:, 1] / safe_z, in_front


def _to_pixels(xp: Any, x: Any, y: Any, intrinsics: Any, terms: tuple[Any, ...] | None) -> Any:
    """Pixels ``(N, 2)`` of normalised coordinates ``x, y (N,)``, distorted by ``terms``."""
    if terms is not None:
        x, y = _distort(xp, x, y, terms)
    u = intrinsics[0, 0] * x + intrinsics[0, 1] * y + intrinsics[0, 2]
    v = intrinsics[1, 1] * y + intrinsics[1, 2]
    return xp.stack([u, v], axis=1)


def _reach(xp: Any, x: Any, y: Any, usable: Any) -> float:
    """Largest ``sqrt(x^2 + y^2)`` over the ``usable`` entries (0 when none; host float)."""
    r2 = xp.where(usable, x * x + y * y, xp.zeros_like(x))
    return math.sqrt(float(xp.max(r2))) if r2.shape[0] else 0.0


def points_in_frustum(
    points_cam: Any,
    intrinsics: Any,
    width_px: int,
    height_px: int,
    distortion: Any | None = None,
    *,
    min_depth_m: float = 0.1,
    max_depth_m: float = float("inf"),
) -> Any:
    """Mask ``(N,)``: in front of the camera within the depth range and inside the image.

    With ``distortion``, a point must also lie within the radial model's monotonic range
    (:func:`_monotonic_radius`): beyond it the polynomial folds far off-axis points back into
    the image (a point 63 deg off axis landed at u=1417 of 1632 px).

    ``ValueError`` when ``max_depth_m`` is NaN or below ``min_depth_m``, when ``width_px`` or
    ``height_px`` is not a positive integer (and as :func:`project_points`)."""
    if not max_depth_m >= min_depth_m:
        raise ValueError(f"max_depth_m must be >= min_depth_m, got {max_depth_m} and {min_depth_m}")
    _check_image_size(width_px, height_px)
    xp, x, y, in_front, terms = _checked_normalised(points_cam, intrinsics, distortion, min_depth_m)
    uv = _to_pixels(xp, x, y, intrinsics, terms)
    z = points_cam[:, 2]
    seen = (
        in_front
        & (z <= max_depth_m)
        & (uv[:, 0] >= 0)
        & (uv[:, 0] < width_px)
        & (uv[:, 1] >= 0)
        & (uv[:, 1] < height_px)
    )
    if terms is not None:
        limit = _monotonic_radius(terms, _reach(xp, x, y, seen))
        if limit < float("inf"):
            seen = seen & (x * x + y * y <= limit * limit)
    return seen


def _distortion_residual(
    xp: Any, x: Any, y: Any, xd: Any, yd: Any, terms: tuple[Any, ...]
) -> tuple[Any, Any]:
    """``distort(x, y) - (xd, yd)`` in the normalised image plane (OpenCV's model)."""
    k1, k2, p1, p2, k3, k4, k5, k6 = terms
    r2 = x * x + y * y
    radial = (1 + r2 * (k1 + r2 * (k2 + r2 * k3))) / (1 + r2 * (k4 + r2 * (k5 + r2 * k6)))
    gx = x * radial + 2 * p1 * x * y + p2 * (r2 + 2 * x * x) - xd
    gy = y * radial + p1 * (r2 + 2 * y * y) + 2 * p2 * x * y - yd
    return gx, gy


def _undistort(
    xp: Any, xd: Any, yd: Any, terms: tuple[Any, ...], iterations: int
) -> tuple[Any, Any]:
    """Undistorted ``(x, y)`` of distorted normalised points ``(xd, yd)`` (each ``(N,)``):
    Newton's method on the distortion from ``(xd, yd)``, each step halved (up to 30 times)
    until the residual falls, at most ``iterations`` steps. A plain fixed-point iteration
    (OpenCV's) does not converge far off axis: with k1 -0.3, k2 0.1 a point at 1.6 z to the
    side came back at 1.28 z after 20 steps. Entries that never converge keep their last
    value (the caller checks the residual)."""
    k1, k2, p1, p2, k3, k4, k5, k6 = terms
    x, y = xd, yd
    # converged: a residual at rounding level of the dtype (float32 stalls near 1e-8)
    close = 1e-15 if xd.dtype == xp.float64 else 1e-7
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        gx, gy = _distortion_residual(xp, x, y, xd, yd, terms)
        err = xp.abs(gx) + xp.abs(gy)
        stalled = xp.zeros_like(err, dtype=xp.bool)
        for _ in range(iterations):
            if x.shape[0] == 0 or not bool(xp.any((err > close) & ~stalled)):
                break
            r2 = x * x + y * y
            num = 1 + r2 * (k1 + r2 * (k2 + r2 * k3))
            den = 1 + r2 * (k4 + r2 * (k5 + r2 * k6))
            radial = num / den
            d_radial = (
                (k1 + r2 * (2 * k2 + r2 * 3 * k3)) * den - num * (k4 + r2 * (2 * k5 + r2 * 3 * k6))
            ) / (den * den)  # d radial / d r2
            a = radial + 2 * x * x * d_radial + 2 * p1 * y + 6 * p2 * x
            b = 2 * x * y * d_radial + 2 * p1 * x + 2 * p2 * y
            c = 2 * x * y * d_radial + 2 * p1 * x + 2 * p2 * y
            d = radial + 2 * y * y * d_radial + 6 * p1 * y + 2 * p2 * x
            det = a * d - b * c
            sx, sy = (d * gx - b * gy) / det, (a * gy - c * gx) / det
            scale = xp.ones_like(x)
            done = ~(err > close) | stalled
            improved = xp.zeros_like(stalled)
            for _ in range(30):  # halve each step until its residual falls
                nx, ny = x - scale * sx, y - scale * sy
                ngx, ngy = _distortion_residual(xp, nx, ny, xd, yd, terms)
                nerr = xp.abs(ngx) + xp.abs(ngy)
                take = ~done & (nerr < err)
                x, y = xp.where(take, nx, x), xp.where(take, ny, y)
                gx, gy = xp.where(take, ngx, gx), xp.where(take, ngy, gy)
                err = xp.where(take, nerr, err)
                done = done | take
                improved = improved | take
                if bool(xp.all(done)):
                    break
                scale = xp.where(done, scale, scale / 2)
            # no halving lowered the residual: as close as this dtype gets (or stuck)
            stalled = stalled | (~improved & (err > close))
    return x, y


def unproject_pixels(
    uv_px: Any,
    depth_m: Any,
    intrinsics: Any,
    distortion: Any | None = None,
    *,
    iterations: int = 50,
) -> Any:
    """Camera-frame points ``(N, 3)`` of pixels ``uv_px (N, 2)`` at depths ``depth_m (N,)`` (z).

    Distortion is inverted by Newton's method (:func:`_undistort`; OpenCV's
    ``undistortPoints`` iterates a fixed point, which does not converge far off axis), at most
    ``iterations`` steps; the result is then distorted again and must land on its pixel (to
    1e-9 of the normalised image plane, 1e-5 in float32: 1e-6 px at a 1000 px focal length)
    within the model's monotonic range (:func:`_monotonic_radius`). ``ValueError`` naming
    ``distortion`` and the first pixel where it does not: a pixel no point in front of the
    lens maps to (strong barrel distortion far off axis), where a wrong point came back
    without a word.
    """
    check_array(uv_px, "uv_px", (None, 2))
    check_array(depth_m, "depth_m", (uv_px.shape[0],))
    xp = check_pair(uv_px, "uv_px", intrinsics, "intrinsics")
    check_pair(uv_px, "uv_px", depth_m, "depth_m")  # float32 pixels stay float32 points
    _check_intrinsics(intrinsics)
    fx, fy, skew, cx, cy = (
        intrinsics[0, 0],
        intrinsics[1, 1],
        intrinsics[0, 1],
        intrinsics[0, 2],
        intrinsics[1, 2],
    )
    yd = (uv_px[:, 1] - cy) / fy
    xd = (uv_px[:, 0] - cx - skew * yd) / fx
    x, y = xd, yd
    terms = _distortion_terms(xp, distortion, uv_px, "uv_px")
    if terms is not None:
        x, y = _undistort(xp, xd, yd, terms, iterations)
        tol = 1e-5 if uv_px.dtype == xp.float32 else 1e-9
        with np.errstate(over="ignore", invalid="ignore"):
            gx, gy = _distortion_residual(xp, x, y, xd, yd, terms)
            bad = ~(xp.abs(gx) + xp.abs(gy) <= tol)  # NaN too
            limit = _monotonic_radius(terms, _reach(xp, x, y, ~bad))
            if limit < float("inf"):  # a folded-back solution: another point maps there
                bad = bad | (x * x + y * y > limit * limit)
        if bool(xp.any(bad)):
            first = int(xp.argmax(xp.astype(bad, xp.int32)))
            u, v = (float(c) for c in uv_px[first])
            raise ValueError(
                f"distortion cannot be inverted at {int(xp.sum(xp.astype(bad, xp.int32)))} "
                f"pixel(s) of uv_px (first: row {first}, ({u:.1f}, {v:.1f}) px): no point "
                "within the model's monotonic range maps there"
            )
    return xp.stack([x * depth_m, y * depth_m, depth_m], axis=1)


def project_boxes_to_image(
    boxes: Any,
    camera_from_boxes: Any,
    intrinsics: Any,
    width_px: int,
    height_px: int,
    distortion: Any | None = None,
    *,
    min_depth_m: float = 0.1,
    clip: bool = True,
) -> tuple[Any, Any]:
    """2D boxes ``(N, 4)`` ``(x1, y1, x2, y2)`` px of 3D ``boxes (N, 7)`` and a ``visible (N,)`` mask.

    Args:
        boxes: ``[x, y, z, l, w, h, yaw]`` in the frame ``camera_from_boxes`` maps from.
        camera_from_boxes: ``(4, 4)`` transform into the camera frame.
        clip: clip the 2D box to the image.

    ``camera_from_boxes`` must be rigid (as ``transform_points``); every array argument comes
    from ``boxes``' library and has its dtype (errors name the arguments given here). With
    ``distortion``, corners beyond the radial model's monotonic range are projected at its
    edge (see :func:`points_in_frustum`).

    Edges that cross the near plane (z = ``min_depth_m``) are cut there, so a box partly behind
    the camera gets the 2D box of its visible part. ``visible`` is False for boxes entirely
    behind the near plane or (with ``clip``) entirely outside the image; their rows are zeros.
    """
    check_boxes(boxes, "boxes")
    check_array(camera_from_boxes, "camera_from_boxes", (4, 4))
    check_array(intrinsics, "intrinsics", (3, 3))
    xp = check_pair(boxes, "boxes", camera_from_boxes, "camera_from_boxes")
    check_pair(boxes, "boxes", intrinsics, "intrinsics")
    check_rigid_kernel_matrix(xp, camera_from_boxes, "camera_from_boxes")
    _check_intrinsics(intrinsics)
    _check_min_depth(min_depth_m)
    _check_image_size(width_px, height_px)
    terms = _distortion_terms(xp, distortion, boxes, "boxes")
    n = boxes.shape[0]
    dev = array_api_compat.device(boxes)
    corners = checked_box_corners(xp, boxes)  # (N, 8, 3)
    rot = camera_from_boxes[:3, :3]
    cam = (
        corners[..., 0:1] * rot[:, 0]
        + corners[..., 1:2] * rot[:, 1]
        + corners[..., 2:3] * rot[:, 2]
        + camera_from_boxes[:3, 3]
    )
    edges = xp.asarray(_BOX_EDGES, device=dev)
    start = xp.take(cam, edges[:, 0], axis=1)  # (N, 12, 3)
    end = xp.take(cam, edges[:, 1], axis=1)
    dz = end[..., 2] - start[..., 2]
    crosses = ((start[..., 2] - min_depth_m) * (end[..., 2] - min_depth_m)) < 0
    t = xp.where(
        crosses,
        (min_depth_m - start[..., 2]) / xp.where(crosses, dz, xp.ones_like(dz)),
        xp.zeros_like(dz),
    )
    cut = start + t[..., None] * (end - start)
    candidates = xp.concat([cam, cut], axis=1)  # (N, 20, 3)
    usable = xp.concat([cam[..., 2] >= min_depth_m, crosses], axis=1)  # (N, 20)
    x, y, _ = _normalised(xp, xp.reshape(candidates, (-1, 3)), min_depth_m * 0.999)
    if terms is not None:
        # beyond the model's monotonic range a corner would fold back into the image: it is
        # projected at the range's edge along its own direction (as far out as the model
        # reaches, outside the image for a calibration that covers it)
        limit = _monotonic_radius(terms, _reach(xp, x, y, xp.reshape(usable, (-1,))))
        if limit < float("inf"):
            r = xp.sqrt(x * x + y * y)
            one = xp.ones_like(r)
            shrink = xp.where(r > limit, limit / xp.where(r > limit, r, one), one)
            x, y = x * shrink, y * shrink
    uv = xp.reshape(_to_pixels(xp, x, y, intrinsics, terms), (n, 20, 2))
    big = xp.asarray(float("inf"), dtype=boxes.dtype, device=dev)
    lo = xp.min(xp.where(usable[..., None], uv, big), axis=1)
    hi = xp.max(xp.where(usable[..., None], uv, -big), axis=1)
    visible = xp.any(usable, axis=1)
    if clip:
        zero = xp.zeros_like(lo[:, 0])
        lo = xp.stack(
            [xp.clip(lo[:, 0], zero, zero + width_px), xp.clip(lo[:, 1], zero, zero + height_px)],
            axis=1,
        )
        hi = xp.stack(
            [xp.clip(hi[:, 0], zero, zero + width_px), xp.clip(hi[:, 1], zero, zero + height_px)],
            axis=1,
        )
        visible = visible & (hi[:, 0] > lo[:, 0]) & (hi[:, 1] > lo[:, 1])
    out = xp.concat([lo, hi], axis=1)
    return xp.where(visible[:, None], out, xp.zeros_like(out)), visible
