"""Box generators and slow oracles for the kernel tests."""

from __future__ import annotations

import math

import numpy as np
import shapely


def random_boxes(
    rng: np.random.Generator, n: int, spread_m: float = 5.0, dtype: type = np.float64
) -> np.ndarray:
    boxes = np.zeros((n, 7))
    boxes[:, :2] = rng.uniform(-spread_m, spread_m, (n, 2))
    boxes[:, 2] = rng.uniform(-1.0, 1.0, n)
    boxes[:, 3:6] = rng.uniform(0.3, 5.0, (n, 3))
    boxes[:, 6] = rng.uniform(-math.pi, math.pi, n)
    return boxes.astype(dtype)


def shapely_polygons(boxes: np.ndarray) -> np.ndarray:
    """Footprints as shapely polygons, corners computed independently of the kernels."""
    polys = []
    for x, y, _z, length, width, _h, yaw in np.asarray(boxes, dtype=np.float64):
        c, s = math.cos(yaw), math.sin(yaw)
        pts = [
            (x + c * dx - s * dy, y + s * dx + c * dy)
            for dx, dy in (
                (length / 2, width / 2),
                (-length / 2, width / 2),
                (-length / 2, -width / 2),
                (length / 2, -width / 2),
            )
        ]
        polys.append(shapely.Polygon(pts))
    return np.array(polys, dtype=object)


def shapely_iou_bev(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    pa, pb = shapely_polygons(a), shapely_polygons(b)
    if len(pa) == 0 or len(pb) == 0:
        return np.zeros((len(pa), len(pb)))
    inter = shapely.area(shapely.intersection(pa[:, None], pb[None, :], grid_size=None))
    union = shapely.area(pa)[:, None] + shapely.area(pb)[None, :] - inter
    return np.where(union > 0, inter / np.where(union > 0, union, 1.0), 0.0)


def slow_greedy_nms(iou: np.ndarray, scores: np.ndarray, threshold: float) -> list[int]:
    order = np.argsort(-scores, kind="stable")
    keep: list[int] = []
    for i in order:
        if all(iou[i, k] <= threshold for k in keep):
            keep.append(int(i))
    return keep
