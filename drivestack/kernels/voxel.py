"""voxel_downsample: one centroid per occupied voxel."""

from __future__ import annotations

from typing import Any

import array_api_compat
import numpy as np

from drivestack.core.arrays import namespace
from drivestack.kernels._common import check_points, use_compiled_cpu_route


def voxel_downsample(
    points: Any, voxel_size_m: float, *, impl: str = "auto", return_inverse: bool = False
) -> Any:
    """Centroids ``(K, 3)`` of the points in each occupied voxel of edge ``voxel_size_m``.

    Voxel index = ``floor(p / voxel_size_m)`` per axis (grid anchored at the origin, computed
    in the input dtype). Output rows follow the order in which each voxel first appears in
    ``points``; sums are accumulated in float64 and the result cast back to the input dtype.
    With ``return_inverse=True`` also returns ``voxel_of_point (N,)`` int64: each point's row
    in the output (so per-voxel results map back to points).
    """
    check_points(points)
    if not (voxel_size_m > 0.0) or voxel_size_m == float("inf"):
        raise ValueError(f"voxel_size_m must be a positive finite number, got {voxel_size_m}")
    xp = namespace(points)
    _check_voxel_indices(xp, points, voxel_size_m)
    if use_compiled_cpu_route(points, impl):
        from drivestack.kernels import _numba_kernels

        size = points.dtype.type(voxel_size_m)
        centroids, inverse = _numba_kernels.voxel_centroids(np.ascontiguousarray(points), size)
        centroids = centroids.astype(points.dtype)
        return (centroids, inverse) if return_inverse else centroids
    n = points.shape[0]
    dev = array_api_compat.device(points)
    if n == 0:
        empty = xp.zeros((0, 3), dtype=points.dtype, device=dev)
        return (empty, xp.zeros((0,), dtype=xp.int64, device=dev)) if return_inverse else empty
    size = xp.asarray(voxel_size_m, dtype=points.dtype, device=dev)
    index = xp.astype(xp.floor(points / size), xp.int64)
    index = index - xp.min(index, axis=0)
    extent = xp.max(index, axis=0) + 1
    if float(extent[0]) * float(extent[1]) * float(extent[2]) >= 2.0**62:
        raise ValueError(
            "voxel grid too large for int64 keys: points span too far for this voxel size"
        )
    key = (index[:, 0] * extent[1] + index[:, 1]) * extent[2] + index[:, 2]
    _, voxel_of_point = xp.unique_inverse(key)
    by_voxel = xp.argsort(voxel_of_point, stable=True)
    sorted_voxel = xp.take(voxel_of_point, by_voxel)
    is_first = xp.concat(
        [xp.ones((1,), dtype=xp.bool, device=dev), sorted_voxel[1:] != sorted_voxel[:-1]]
    )
    starts = xp.nonzero(is_first)[0]
    ends = xp.concat([starts[1:], xp.asarray([n], dtype=starts.dtype, device=dev)])
    coords = xp.astype(xp.take(points, by_voxel, axis=0), xp.float64)
    # offsets from each voxel's first point: a running sum of absolute map coordinates
    # (4.2e6 m) would leave its rounding (~1e-4 m at 3e5 points) in every difference
    first = xp.take(coords, starts, axis=0)  # (K, 3)
    rel = coords - xp.take(first, sorted_voxel, axis=0)
    csum = xp.concat(
        [xp.zeros((1, 3), dtype=xp.float64, device=dev), xp.cumulative_sum(rel, axis=0)]
    )
    sums = xp.take(csum, ends, axis=0) - xp.take(csum, starts, axis=0)
    counts = xp.astype(ends - starts, xp.float64)[:, None]
    centroids = xp.astype(first + sums / counts, points.dtype)
    first_point = xp.take(by_voxel, starts)  # stable sort: the first point of each voxel
    order = xp.argsort(first_point)
    centroids = xp.take(centroids, order, axis=0)
    if not return_inverse:
        return centroids
    row_of_sorted_voxel = xp.argsort(order)  # inverse permutation
    return centroids, xp.astype(xp.take(row_of_sorted_voxel, voxel_of_point), xp.int64)


def _check_voxel_indices(xp: Any, points: Any, voxel_size_m: float) -> None:
    """``ValueError`` when ``voxel_size_m`` is 0 or inf in the points' dtype, or a voxel index
    ``floor(p / voxel_size_m)`` would not fit in int64 (distinct voxels would then merge)."""
    finite = voxel_size_m <= float(xp.finfo(points.dtype).max)
    size = float(xp.asarray(voxel_size_m, dtype=points.dtype)) if finite else 0.0
    if size == 0.0:
        raise ValueError(
            f"voxel_size_m={voxel_size_m} is not a positive finite {points.dtype} number"
        )
    if points.shape[0] == 0:
        return
    reach = max(float(xp.max(points)), -float(xp.min(points)))
    if reach / size >= 2.0**62:
        raise ValueError(
            f"voxel_size_m={voxel_size_m} is too small for points reaching {reach:g} m: "
            "voxel indices would overflow int64"
        )
