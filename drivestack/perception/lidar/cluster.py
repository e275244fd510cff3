"""Step 4: clustering of non-ground points with a range-adaptive link distance.

Points are first voxelised (``drivestack.kernels.voxel_downsample``: one centroid per occupied
voxel), then two voxels are linked when they are closer than
``link(range) = clip(max(base_distance_m, distance_per_range * range), None, max_distance_m)``
of the nearer one (height differences weighted by ``vertical_link_scale``); clusters are the
connected components. Near the sensor, where points are
dense, the short base distance keeps neighbouring objects apart; far away, where the beams
spread, the longer distance keeps one object in one piece.
With ``oversize_link_scale`` > 0, the voxels of a component over ``max_points`` (a wall or
hedge chained to the cars and people beside it) are linked again at that fraction of their
link distance, and the parts within the size limits are kept.

The components come from one compiled pass (numba): voxels are binned into cubic cells of
edge ``base_distance_m`` (a dense cell table); each cell compares its voxels with those of the
cells within its largest link distance (each pair once) and joins linked voxels in a
union-find forest.
"""

from __future__ import annotations

from dataclasses import dataclass

import numba
import numpy as np

from drivestack import kernels
from drivestack.perception.lidar.config import ClusterConfig


@dataclass(frozen=True)
class Clusters:
    """Clustered voxel centroids.

    Attributes:
        xyz_m: ``(K, 3)`` float64 voxel centroids of the input points.
        label: ``(K,)`` int64 cluster id in ``[0, num_clusters)``, or -1 for voxels in clusters
            that were too small or too large.
        num_clusters: number of kept clusters.
    """

    xyz_m: np.ndarray
    label: np.ndarray
    num_clusters: int

    def grouped(self) -> tuple[np.ndarray, np.ndarray]:
        """Centroids grouped by cluster: ``(M, 3)`` points and ``(C + 1,)`` bounds, cluster
        ``i`` being ``points[bounds[i]:bounds[i + 1]]`` (voxels of dropped clusters left out)."""
        kept = np.flatnonzero(self.label >= 0)
        order = kept[np.argsort(self.label[kept], kind="stable")]
        bounds = np.searchsorted(self.label[order], np.arange(self.num_clusters + 1))
        return self.xyz_m[order], bounds


_MAX_DENSE_CELLS = 50_000_000


def link_distance_m(range_m: np.ndarray, cfg: ClusterConfig) -> np.ndarray:
    """``(N,)`` link distance at planar range ``range_m``."""
    return np.minimum(
        np.maximum(cfg.base_distance_m, cfg.distance_per_range * range_m), cfg.max_distance_m
    )


def cluster_points(xyz_m: np.ndarray, cfg: ClusterConfig) -> Clusters:
    """Cluster ``(N, 3)`` non-ground points (sensor frame, origin at the sensor).

    Returns:
        :class:`Clusters` over the voxel centroids; clusters with fewer than ``cfg.min_points``
        or more than ``cfg.max_points`` voxels are dropped (label -1). Cluster ids are ordered
        by their first voxel (in ``voxel_downsample`` order), so the result is deterministic.
    """
    xyz = np.asarray(xyz_m)
    if len(xyz) == 0:
        return Clusters(np.zeros((0, 3)), np.zeros(0, dtype=np.int64), 0)
    vox = np.asarray(kernels.voxel_downsample(xyz, cfg.voxel_size_m), dtype=np.float64)
    link = link_distance_m(np.hypot(vox[:, 0], vox[:, 1]), cfg)
    component = _components(vox, link, cfg)
    if cfg.oversize_link_scale > 0:
        component = _split_oversize(vox, link, component, cfg)
    sizes = np.bincount(component, minlength=len(vox))
    ok = (sizes >= cfg.min_points) & (sizes <= cfg.max_points)
    # component ids are the smallest voxel index of the component: renumber kept ones in order
    roots = np.flatnonzero(ok)
    rank = np.full(len(vox), -1, dtype=np.int64)
    rank[roots] = np.arange(len(roots))
    return Clusters(vox, rank[component], len(roots))


def _components(vox: np.ndarray, link: np.ndarray, cfg: ClusterConfig) -> np.ndarray:
    """``(K,)`` connected-component id (smallest voxel index of the component) of ``(K, 3)``
    voxel centroids linked within ``(K,)`` distances ``link``."""
    # height differences count vertical_link_scale times: link in the scaled space
    scaled = vox if cfg.vertical_link_scale == 1 else vox * [1.0, 1.0, cfg.vertical_link_scale]
    cell = np.floor(scaled / cfg.base_distance_m).astype(np.int64)
    cell -= cell.min(axis=0)
    extent = cell.max(axis=0) + 1
    num_cells = int(np.prod(extent))
    if num_cells > _MAX_DENSE_CELLS:
        raise ValueError(
            f"cluster: {num_cells} cells of {cfg.base_distance_m} m; crop the points (roi) or raise base_distance_m"
        )
    key = (cell[:, 0] * extent[1] + cell[:, 1]) * extent[2] + cell[:, 2]
    order = np.argsort(key, kind="stable")
    sorted_key = key[order]
    first = np.flatnonzero(np.concatenate([[True], sorted_key[1:] != sorted_key[:-1]]))
    # dense cell -> slot table; slot s holds voxels order[bounds[s]:bounds[s + 1]]
    table = np.full(num_cells, -1, dtype=np.int32)
    table[sorted_key[first]] = np.arange(len(first), dtype=np.int32)
    bounds = np.append(first, len(vox))
    component = _components_kernel(
        np.ascontiguousarray(scaled), link, cell, extent, table, bounds, order, cfg.base_distance_m
    )
    return np.asarray(component)


def _split_oversize(
    vox: np.ndarray, link: np.ndarray, component: np.ndarray, cfg: ClusterConfig
) -> np.ndarray:
    """``(K,)`` component ids with the voxels of components above ``cfg.max_points`` re-linked
    at ``link * cfg.oversize_link_scale`` (ids stay the smallest voxel index of each part)."""
    sizes = np.bincount(component, minlength=len(vox))
    big = np.flatnonzero(sizes[component] > cfg.max_points)
    if len(big) == 0:
        return component
    out = component.copy()
    # ``big`` is sorted, so the smallest index of a part maps to its smallest global index
    out[big] = big[_components(vox[big], link[big] * cfg.oversize_link_scale, cfg)]
    return out


def split_clusters(
    grouped_m: np.ndarray, bounds: np.ndarray, which: np.ndarray, cfg: ClusterConfig
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Re-cluster the voxels of clusters ``which`` at ``cfg.base_distance_m``.

    Args:
        grouped_m: ``(M, 3)`` voxel centroids grouped by cluster, cluster ``i`` being
            ``grouped_m[bounds[i]:bounds[i + 1]]`` (:meth:`Clusters.grouped`).
        bounds: ``(C + 1,)`` cluster bounds.
        which: ``(K,)`` indices of the clusters to re-cluster.

    Returns:
        ``(M', 3)`` grouped voxels, ``(C' + 1,)`` bounds and ``(C',)`` the index of the input
        cluster each output cluster comes from. A cluster of ``which`` that falls into at
        least two parts of ``cfg.min_points`` voxels or more is replaced, where it was, by
        those parts in order of their first voxel (smaller parts dropped); every other
        cluster is kept as it was.
    """
    bounds = np.asarray(bounds, dtype=np.int64)
    counts = np.diff(bounds)
    parts: dict[int, list[np.ndarray]] = {}
    for c in np.asarray(which, dtype=np.int64).reshape(-1):
        vox = grouped_m[bounds[c] : bounds[c + 1]]
        if len(vox) < 2 * cfg.min_points:
            continue
        component = _components(vox, np.full(len(vox), cfg.base_distance_m), cfg)
        roots, sizes = np.unique(component, return_counts=True)  # roots: first voxels, sorted
        big = roots[sizes >= cfg.min_points]
        if len(big) >= 2:
            parts[int(c)] = [vox[component == r] for r in big]
    if not parts:
        return grouped_m, bounds, np.arange(len(counts))
    pieces: list[np.ndarray] = []
    source: list[int] = []
    for index in range(len(counts)):
        for piece in parts.get(index, [grouped_m[bounds[index] : bounds[index + 1]]]):
            pieces.append(piece)
            source.append(index)
    sizes_out = np.array([len(p) for p in pieces], dtype=np.int64)
    return (
        np.concatenate(pieces),
        np.concatenate([[0], np.cumsum(sizes_out)]),
        np.array(source, dtype=np.int64),
    )


@numba.njit(cache=True, nogil=True)
def _find(parent: np.ndarray, i: int) -> int:  # pragma: no cover - compiled
    root = i
    while parent[root] != root:
        root = parent[root]
    while parent[i] != root:
        nxt = parent[i]
        parent[i] = root
        i = nxt
    return root


@numba.njit(cache=True, nogil=True)
def _union(parent: np.ndarray, i: int, j: int) -> None:  # pragma: no cover - compiled
    """Join the components of ``i`` and ``j`` under the smaller root."""
    ri = _find(parent, i)
    rj = _find(parent, j)
    if ri < rj:
        parent[rj] = ri
    elif rj < ri:
        parent[ri] = rj


@numba.njit(cache=True, nogil=True)
def _linked(
    xyz: np.ndarray, link: np.ndarray, i: int, j: int
) -> bool:  # pragma: no cover - compiled
    """Whether voxels ``i`` and ``j`` lie closer than the smaller of their link distances."""
    limit = min(link[i], link[j])
    dx = xyz[i, 0] - xyz[j, 0]
    dy = xyz[i, 1] - xyz[j, 1]
    dz = xyz[i, 2] - xyz[j, 2]
    return dx * dx + dy * dy + dz * dz < limit * limit


@numba.njit(cache=True, nogil=True)
def _cell_root(
    parent: np.ndarray, order: np.ndarray, bounds: np.ndarray, c: int
) -> int:  # pragma: no cover - compiled
    """The root of cell ``c``'s voxels when they all share one component, else -1."""
    root = _find(parent, order[bounds[c]])
    for t in range(bounds[c] + 1, bounds[c + 1]):
        if _find(parent, order[t]) != root:
            return -1
    return root


@numba.njit(cache=True, nogil=True)
def _components_kernel(
    xyz: np.ndarray,
    link: np.ndarray,
    cell: np.ndarray,
    extent: np.ndarray,
    table: np.ndarray,
    bounds: np.ndarray,
    order: np.ndarray,
    cell_size: float,
) -> np.ndarray:  # pragma: no cover - compiled
    """Component id (the smallest member index) of each voxel.

    Each cell's own pairs are checked first; then each cell compares its voxels with those of
    the cells in the lexicographically forward half of its neighbourhood, as far as its largest
    link distance reaches, so every candidate pair is checked at most once. Against a cell whose
    voxels already lie in one component, a voxel of that component is not checked and any other
    stops at its first link: the pairs left out could join nothing new, so the components are
    those of checking every pair, ids included (a union keeps the smaller root).
    """
    n = xyz.shape[0]
    parent = np.arange(n)
    num_cells = bounds.shape[0] - 1
    # each cell's own pairs first, so that most cells lie in one component before their
    # neighbours look at them
    for a in range(num_cells):
        for t in range(bounds[a], bounds[a + 1]):
            for u in range(t + 1, bounds[a + 1]):
                if _linked(xyz, link, order[t], order[u]):
                    _union(parent, order[t], order[u])
    whole = np.zeros(num_cells, dtype=np.bool_)  # cell known to lie in one component
    for a in range(num_cells):
        lo_a = bounds[a]
        hi_a = bounds[a + 1]
        first = order[lo_a]
        cx0 = cell[first, 0]
        cy0 = cell[first, 1]
        cz0 = cell[first, 2]
        reach_link = 0.0
        for t in range(lo_a, hi_a):
            reach_link = max(reach_link, link[order[t]])
        reach = int(np.ceil(reach_link / cell_size))
        for dx in range(0, reach + 1):
            cx = cx0 + dx
            if cx >= extent[0]:
                break
            for dy in range(-reach if dx > 0 else 0, reach + 1):
                cy = cy0 + dy
                if cy < 0 or cy >= extent[1]:
                    continue
                for dz in range(-reach if (dx > 0 or dy > 0) else 1, reach + 1):
                    cz = cz0 + dz
                    if cz < 0 or cz >= extent[2]:
                        continue
                    b = table[(cx * extent[1] + cy) * extent[2] + cz]
                    if b < 0:
                        continue
                    if not whole[b]:
                        whole[b] = _cell_root(parent, order, bounds, b) >= 0
                    for t in range(lo_a, hi_a):
                        i = order[t]
                        if whole[b] and _find(parent, i) == _find(parent, order[bounds[b]]):
                            continue  # under b's one root already: nothing to join
                        for u in range(bounds[b], bounds[b + 1]):
                            j = order[u]
                            if _linked(xyz, link, i, j):
                                _union(parent, i, j)
                                if whole[b]:
                                    break  # one link joins i to all of b
    out = np.empty(n, dtype=np.int64)
    for i in range(n):
        out[i] = _find(parent, i)
    return out
