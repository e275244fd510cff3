"""Large vehicles seen in pieces joined into one cluster (HD map priors the frame may carry).

A box truck or a bus tens of metres away returns its flank and its end faces apart (the
windows, the gap between cab and body, the occluded stretches return nothing): the flank
comes out as one or more clusters and the end faces often chain to the hedges, walls and
poles of the verge beside them. No piece's box is the truck's: each is a few metres long,
its centre metres from the truck's. A vehicle stands on the drivable area and runs along its
lane, and a truck's or a bus's body is taller than any car: the pieces of such a body are

* the parts of clusters on the drivable area (a cluster's voxels inside it; the rest of the
  cluster is the verge's),
* that reach at least ``LargeVehicleJoinConfig.min_height_m`` above the ground under them,
* and whose centres have a lane heading (``LaneHeadingConfig``'s reach and lane agreement).

Such pieces along one lane direction (headings within ``LaneHeadingConfig.max_yaw_offset_deg``
modulo 180 degrees) are joined, nearest centres first, as long as the joined voxels fit a
``max_length_m`` x ``max_width_m`` rectangle (one legal truck or bus) whose length runs within
``max_yaw_offset_deg`` of the lane. A joined group of two or more pieces becomes one cluster
(its box is then fitted to all its points by the usual box fit); the verge parts of its
clusters stay clusters of their own; pieces left alone keep their clusters as they were.
"""

from __future__ import annotations

from collections.abc import Callable

import numba
import numpy as np

from drivestack.perception.lidar.cluster import Clusters
from drivestack.perception.lidar.config import LargeVehicleJoinConfig
from drivestack.perception.lidar.lane_heading import axis_offset_rad


def footprint_fits(
    xy_m: np.ndarray,
    lane_yaw_rad: float,
    max_yaw_offset_rad: float,
    yaw_step_rad: float,
    cfg: LargeVehicleJoinConfig,
) -> bool:
    """Whether ``(M, 2)`` points fit a ``cfg.max_length_m`` x ``cfg.max_width_m`` rectangle
    whose length axis is within ``max_yaw_offset_rad`` of ``lane_yaw_rad`` (tried every
    ``yaw_step_rad``, the lane's heading included)."""
    xy = np.ascontiguousarray(xy_m, dtype=np.float64).reshape(-1, 2)
    num_steps = int(np.floor(max_yaw_offset_rad / yaw_step_rad + 1e-9))
    yaw = lane_yaw_rad + yaw_step_rad * np.arange(-num_steps, num_steps + 1)
    return bool(_fits_any_yaw(xy, yaw, cfg.max_length_m, cfg.max_width_m))


@numba.njit(cache=True, nogil=True)
def _fits_any_yaw(
    xy: np.ndarray, yaw: np.ndarray, max_length_m: float, max_width_m: float
) -> bool:  # pragma: no cover - compiled
    """Whether ``(M, 2)`` points span at most ``max_length_m`` along and ``max_width_m``
    across one of the ``(Y,)`` headings (True for no points)."""
    for y in range(yaw.shape[0]):
        c, s = np.cos(yaw[y]), np.sin(yaw[y])
        lo_a, hi_a, lo_c, hi_c = np.inf, -np.inf, np.inf, -np.inf
        for i in range(xy.shape[0]):
            along = xy[i, 0] * c + xy[i, 1] * s
            across = xy[i, 1] * c - xy[i, 0] * s
            lo_a, hi_a = min(lo_a, along), max(hi_a, along)
            lo_c, hi_c = min(lo_c, across), max(hi_c, across)
        if xy.shape[0] == 0 or (hi_a - lo_a <= max_length_m and hi_c - lo_c <= max_width_m):
            return True
    return False


def on_road(
    label: np.ndarray,
    clusters: np.ndarray,
    xyz_m: np.ndarray,
    on_drivable_of: Callable[[np.ndarray], np.ndarray],
) -> np.ndarray:
    """``(K,)`` bool: the voxels of the given clusters on the drivable area; False for every
    other voxel (the map is asked only about the given clusters' voxels).

    Args:
        label: ``(K,)`` the voxels' cluster ids (-1: none).
        clusters: ``(C',)`` the ids of the clusters to place (-1 ignored).
        xyz_m: ``(K, 3)`` voxels.
        on_drivable_of: ``(M, 3)`` points -> ``(M,)`` bool, inside the drivable area.
    """
    road = np.zeros(len(label), dtype=bool)
    ids = np.asarray(clusters, dtype=np.int64)
    # sized for both: a chosen id may have no voxel in ``label`` (join_large_vehicles asks
    # about the low voxels of clusters whose ids may reach past the low voxels' largest)
    chosen = np.zeros(max(int(label.max(initial=-1)), int(ids.max(initial=-1))) + 2, dtype=bool)
    chosen[ids[ids >= 0]] = True
    look = np.flatnonzero(chosen[label])  # -1 indexes the last entry, never chosen
    if len(look):
        road[look] = np.asarray(on_drivable_of(xyz_m[look]), dtype=bool)
    return road


def hull_xy(xy_m: np.ndarray) -> np.ndarray:
    """``(H, 2)`` the vertices of the convex hull of ``(M, 2)`` points, counter-clockwise
    (for points on one line, its two ends; for one point, itself).

    A footprint's extent along any direction is reached at a hull vertex, so
    :func:`footprint_fits` gives the same answer for the hull as for all the points (up to the
    last bit of a projection: a point on a hull edge may project an ulp past its ends).
    """
    xy = np.asarray(xy_m, dtype=np.float64).reshape(-1, 2)
    if len(xy) < 3:
        return xy
    ordered = xy[np.lexsort((xy[:, 1], xy[:, 0]))]
    return ordered[_monotone_chain(ordered)]


@numba.njit(cache=True, nogil=True)
def _monotone_chain(xy: np.ndarray) -> np.ndarray:  # pragma: no cover - compiled
    """Indices of the hull vertices of ``(M, 2)`` points sorted by x then y (Andrew's
    monotone chain; points on an edge are left out)."""
    n = xy.shape[0]
    hull = np.empty(2 * n, dtype=np.int64)
    k = 0
    for start, stop, step in ((0, n, 1), (n - 2, -1, -1)):
        floor = k + 1 if step < 0 else 2  # the upper chain may not pop the lower one
        for i in range(start, stop, step):
            while k >= floor:
                a, b = hull[k - 2], hull[k - 1]
                cross = (xy[b, 0] - xy[a, 0]) * (xy[i, 1] - xy[a, 1]) - (xy[b, 1] - xy[a, 1]) * (
                    xy[i, 0] - xy[a, 0]
                )
                if cross > 0.0:
                    break
                k -= 1
            hull[k] = i
            k += 1
    return hull[: max(k - 1, 1)]


def join_pieces(
    piece_xy_m: list[np.ndarray],
    lane_yaw_rad: np.ndarray,
    max_yaw_offset_rad: float,
    yaw_step_rad: float,
    cfg: LargeVehicleJoinConfig,
) -> np.ndarray:
    """``(P,)`` group id (the smallest piece index of its group) of P pieces joined along
    their lanes.

    Pairs of pieces whose ``(P,)`` lane headings agree within ``max_yaw_offset_rad`` (modulo
    pi) and whose centres are no farther apart than the footprint's diagonal are taken nearest
    centres first; two groups are joined when their ``(M_i, 2)`` points together fit the
    footprint (:func:`footprint_fits`) at the heading of the group with the smaller id. Each
    group is carried as the vertices of its convex hull (:func:`hull_xy`): the same answers
    from a few dozen points instead of every voxel.
    """
    num = len(piece_xy_m)
    group = np.arange(num)
    if num < 2:
        return group
    centre = np.array([xy.mean(axis=0) for xy in piece_xy_m])
    hull = [hull_xy(xy) for xy in piece_xy_m]  # by group id (the group's smallest piece)
    a, b = np.triu_indices(num, k=1)
    distance = np.hypot(*(centre[a] - centre[b]).T)
    # two pieces in one footprint have their centres in it: no farther apart than its diagonal
    near = distance <= np.hypot(cfg.max_length_m, cfg.max_width_m)
    agree = axis_offset_rad(lane_yaw_rad[a], lane_yaw_rad[b], np.pi) <= max_yaw_offset_rad
    keep = near & agree
    a, b = a[keep], b[keep]
    order = np.argsort(distance[keep], kind="stable")
    for i, j in zip(a[order], b[order], strict=True):
        gi, gj = group[i], group[j]
        if gi == gj:
            continue
        first, second = min(gi, gj), max(gi, gj)
        xy = np.concatenate([hull[first], hull[second]])
        if footprint_fits(xy, float(lane_yaw_rad[first]), max_yaw_offset_rad, yaw_step_rad, cfg):
            group[group == second] = first
            hull[first] = hull_xy(xy)
    return group


def join_large_vehicles(
    clusters: Clusters,
    height_m: np.ndarray,
    on_drivable_of: Callable[[np.ndarray], np.ndarray],
    lane_yaw_of: Callable[[np.ndarray], np.ndarray],
    max_yaw_offset_rad: float,
    yaw_step_rad: float,
    cfg: LargeVehicleJoinConfig,
) -> Clusters:
    """The clusters with the on-road pieces of large vehicles joined (see the module).

    Args:
        clusters: the clustered voxels (sensor frame).
        height_m: ``(K,)`` height of each voxel above the ground under it.
        on_drivable_of: ``(M, 3)`` points -> ``(M,)`` bool, inside the drivable area; asked
            only about clusters that reach ``cfg.min_height_m`` (:func:`on_road`).
        lane_yaw_of: ``(P, 3)`` piece centres -> ``(P,)`` lane heading (rad, sensor frame;
            NaN: none).
        max_yaw_offset_rad: the pieces' lane headings' and the footprint's tolerance.
        yaw_step_rad: the footprint's heading step.
        cfg: the least body height and the footprint.

    Returns:
        :class:`Clusters` over the same voxels: each joined group (two or more pieces) one
        cluster, the off-road rest of its clusters one cluster each when it keeps at least
        one voxel; every other cluster as it was. Ids ordered by first voxel.
    """
    label = np.asarray(clusters.label)
    vox = clusters.xyz_m
    high = np.asarray(height_m) >= cfg.min_height_m
    high_road = on_road(np.where(high, label, -1), np.unique(label[high]), vox, on_drivable_of)
    tall = np.unique(label[high_road])  # clusters with a voxel on the road that high
    if len(tall) < 2:
        return clusters
    road = high_road | on_road(np.where(high, -1, label), tall, vox, on_drivable_of)
    members = _members(label, road, tall)
    centre = np.array([vox[m].mean(axis=0) for m in members])
    yaw = np.asarray(lane_yaw_of(centre), dtype=np.float64)
    led = np.flatnonzero(np.isfinite(yaw))
    group = join_pieces(
        [vox[members[p], :2] for p in led], yaw[led], max_yaw_offset_rad, yaw_step_rad, cfg
    )
    joined = np.flatnonzero(np.bincount(group, minlength=len(led)) >= 2)
    if len(joined) == 0:
        return clusters
    out = label.copy()
    next_id = clusters.num_clusters
    for g in joined:
        for p in led[group == g]:
            out[members[p]] = next_id
        next_id += 1
    return renumbered(vox, out)


def _members(label: np.ndarray, chosen: np.ndarray, clusters: np.ndarray) -> list[np.ndarray]:
    """Per id of the sorted ``(C',)`` ``clusters``: the indices of its voxels where the
    ``(K,)`` mask ``chosen`` holds, ascending (one sort, not a pass over every voxel per id)."""
    idx = np.flatnonzero(chosen & np.isin(label, clusters))
    idx = idx[np.argsort(label[idx], kind="stable")]
    bounds = np.searchsorted(label[idx], clusters, side="left")
    ends = np.searchsorted(label[idx], clusters, side="right")
    return [idx[s:e] for s, e in zip(bounds, ends, strict=True)]


def renumbered(xyz_m: np.ndarray, label: np.ndarray) -> Clusters:
    """:class:`Clusters` of ``(K, 3)`` voxels with ``(K,)`` ids (-1: none; the others need not
    be consecutive) renumbered ``0 .. C - 1`` in the order of each cluster's first voxel."""
    kept = np.flatnonzero(label >= 0)
    ids, first = np.unique(label[kept], return_index=True)
    rank = np.empty(len(ids), dtype=np.int64)
    rank[np.argsort(kept[first], kind="stable")] = np.arange(len(ids))
    out = np.full(len(label), -1, dtype=np.int64)
    out[kept] = rank[np.searchsorted(ids, label[kept])]
    return Clusters(xyz_m, out, len(ids))
