"""Clusters with something just above the cluster height band (part of a tree, gantry or wall).

Clustering sees only the non-ground points between ``cluster.min_height_above_ground_m`` and
``cluster.max_height_above_ground_m``. Nothing hangs just above a vehicle's roof (bridges and
gantries clear the tallest vehicles), while a tree's foliage, a sign gantry or a building wall
goes on above the band. :func:`overhang_mask` finds the clusters whose footprint holds points
in a thin band above the limit (:class:`~drivestack.perception.lidar.config.OverhangConfig`);
the classifier then makes them UNKNOWN.
"""

from __future__ import annotations

import numba
import numpy as np

from drivestack.perception.lidar.config import OverhangConfig


def overhang_mask(
    boxes: np.ndarray,
    xyz_m: np.ndarray,
    height_m: np.ndarray,
    max_height_m: float,
    cfg: OverhangConfig,
    candidates: np.ndarray | None = None,
) -> np.ndarray:
    """Which clusters have points just above the height band inside their footprint.

    Args:
        boxes: ``(C, 7)`` fitted boxes ``[x, y, z, l, w, h, yaw]`` of the clusters (sensor
            frame, before any far-side completion).
        xyz_m: ``(N, 3)`` the scan's points.
        height_m: ``(N,)`` each point's height above the local ground.
        max_height_m: the band's upper limit (``cluster.max_height_above_ground_m``).
        cfg: ``band_m``: thickness of the band above the limit; 0 disables the test.
        candidates: ``(C,)`` bool, the boxes to test (e.g. those of a plausible class size:
            the test is the costly part); None tests all.

    Returns:
        ``(C,)`` bool: clusters whose BEV footprint holds a point with height in
        ``(max_height_m, max_height_m + band_m]``.
    """
    boxes = np.asarray(boxes, dtype=np.float64).reshape(-1, 7)
    out = np.zeros(len(boxes), dtype=bool)
    if not cfg.enabled or len(boxes) == 0:
        return out
    height = np.asarray(height_m).reshape(-1)
    xyz = np.asarray(xyz_m)
    if xyz.ndim != 2 or xyz.shape[1] != 3 or len(height) != len(xyz):
        raise ValueError(
            f"overhang_mask: need (N, 3) points and (N,) heights, got {xyz.shape} and {height.shape}"
        )
    test = np.ones(len(boxes), dtype=bool)
    if candidates is not None:
        test = np.asarray(candidates, dtype=bool).reshape(len(boxes))
    above = np.flatnonzero((height > max_height_m) & (height <= max_height_m + cfg.band_m))
    if len(above) == 0 or not np.any(test):
        return out
    pts = np.ascontiguousarray(xyz[above, :2], dtype=np.float64)  # (P, 2)
    return _any_point_inside(pts, np.ascontiguousarray(boxes), test)


@numba.njit(cache=True, nogil=True)
def _any_point_inside(
    pts: np.ndarray, boxes: np.ndarray, test: np.ndarray
) -> np.ndarray:  # pragma: no cover - compiled
    """``(C,)`` whether any of the ``(P, 2)`` points lies in each tested box's BEV footprint."""
    out = np.zeros(boxes.shape[0], dtype=np.bool_)
    for k in range(boxes.shape[0]):
        if not test[k]:
            continue
        x, y, length, width, yaw = boxes[k, 0], boxes[k, 1], boxes[k, 3], boxes[k, 4], boxes[k, 6]
        radius = 0.5 * np.hypot(length, width)
        cos, sin = np.cos(yaw), np.sin(yaw)
        for i in range(pts.shape[0]):
            dx, dy = pts[i, 0] - x, pts[i, 1] - y
            if abs(dx) > radius or abs(dy) > radius:
                continue
            if abs(cos * dx + sin * dy) <= 0.5 * length and abs(cos * dy - sin * dx) <= 0.5 * width:
                out[k] = True
                break
    return out
