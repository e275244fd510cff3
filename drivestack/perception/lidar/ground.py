"""Step 3: ground segmentation.

Two methods behind one result type:

- :func:`segment_ground_zones`: a concentric-zone model in the spirit of Patchwork++ (Lee et
  al., 2022). The plane around the sensor is cut into zones of rings x sectors; in every bin a
  plane is fitted to the lowest points (seeds) by PCA and re-fitted to the points near it a few
  times; a bin is accepted as ground when its plane is upright, thin and not raised too far
  above the ground carried outwards ring by ring from the sensor (so hills are followed, while
  the flat top of a car is refused). Local planes follow slopes, crowns and kerbs that one
  plane cannot. Per-point passes are compiled (numba); the per-bin fits are one batched
  ``eigh`` over moment sums.
- :func:`segment_ground_ransac`: the single-plane RANSAC baseline (hypotheses scored on a
  subsample, the winner refined by least squares).

Either can be combined with a prior ground surface the frame carries (an HD map's ground
heights, :class:`PriorGround`), by ``cfg.prior_surface``: ``"override"`` measures every point
with a known prior height above the prior (vertically, in the world frame), ``"fill"`` only
the points outside the bins whose own plane was accepted; the fitted planes judge the rest.
"""

from __future__ import annotations

from dataclasses import dataclass

import numba
import numpy as np

from drivestack.core.errors import DataError
from drivestack.core.transforms import SE3
from drivestack.perception.lidar.config import GroundConfig
from drivestack.structures.sensor_frame import GroundSurface


@dataclass(frozen=True)
class GroundPlanes:
    """Local ground planes ``normal . p + offset = 0`` (unit normals, ``normal_z > 0``).

    Attributes:
        normal: ``(B, 3)`` per-bin reference normals: the bin's own plane when it passed the
            ground tests, else the one carried out from the ring inside it.
        offset_m: ``(B,)`` per-bin offsets.
        accepted: ``(B,)`` bool, the bin's own plane passed the ground tests.
        fallback_normal: ``(3,)`` one plane fitted to all accepted ground points, used outside
            the zones (inside the first ring, beyond the last).
        fallback_offset_m: offset of that plane.
    """

    normal: np.ndarray
    offset_m: np.ndarray
    accepted: np.ndarray
    fallback_normal: np.ndarray
    fallback_offset_m: float


@dataclass(frozen=True)
class GroundResult:
    """Per-point ground labels.

    Attributes:
        is_ground: ``(N,)`` bool.
        height_m: ``(N,)`` float32 signed distance above the local ground plane (the bin's
            reference plane, else the fallback plane).
        planes: the fitted planes (the RANSAC baseline has no bins, only the fallback plane).
    """

    is_ground: np.ndarray
    height_m: np.ndarray
    planes: GroundPlanes


@dataclass(frozen=True)
class PriorGround:
    """A prior ground surface seen from the sensor.

    Attributes:
        surface: ground z under world xy (NaN where unknown), e.g. an HD map's raster.
        world_from_sensor: pose of the sensor frame the points are in.
    """

    surface: GroundSurface
    world_from_sensor: SE3

    def height_above_m(self, xyz_m: np.ndarray) -> np.ndarray:
        """``(N,)`` float64 world-vertical height of ``(N, 3)`` sensor-frame points above the
        surface; NaN where the surface is unknown."""
        world = self.world_from_sensor.apply(np.asarray(xyz_m, dtype=np.float64).reshape(-1, 3))
        return np.asarray(world[:, 2] - self.surface.height_at(world[:, :2]))

    def ground_z_m(self, xy_m: np.ndarray, z_guess_m: np.ndarray) -> np.ndarray:
        """``(N,)`` sensor-frame z at which the sensor's vertical through ``(N, 2)`` sensor xy
        meets the surface (looked up under the world xy of ``(x, y, z_guess_m)``); NaN where
        unknown."""
        xy = np.asarray(xy_m, dtype=np.float64).reshape(-1, 2)
        xyz = np.concatenate([xy, np.asarray(z_guess_m, dtype=np.float64).reshape(-1, 1)], axis=1)
        world = self.world_from_sensor.apply(xyz)
        surface_z = self.surface.height_at(world[:, :2])
        row = self.world_from_sensor.rotation[2]
        lift = surface_z - self.world_from_sensor.translation[2] - xy @ row[:2]
        return np.asarray(lift / row[2])


def _accepted_bin(xy_m: np.ndarray, planes: GroundPlanes, cfg: GroundConfig) -> np.ndarray:
    """``(N,)`` bool: the ``(N, 2+)`` sensor-frame position lies in a bin whose own plane was
    accepted (never for a plane set without bins)."""
    if not len(planes.accepted) or not len(xy_m):
        return np.zeros(len(xy_m), dtype=bool)
    xyz = np.zeros((len(xy_m), 3))
    xyz[:, :2] = np.asarray(xy_m)[:, :2]
    bins = _bin_index(xyz, _layout(cfg))
    out = bins >= 0
    out[out] = planes.accepted[bins[out]]
    return out


def _prior_used(
    prior_value: np.ndarray, xy_m: np.ndarray, planes: GroundPlanes, cfg: GroundConfig
) -> np.ndarray:
    """``(N,)`` bool: where ``cfg.prior_surface`` takes the prior over the fitted planes."""
    use = np.isfinite(prior_value)
    if cfg.prior_surface == "fill":
        use &= ~_accepted_bin(xy_m, planes, cfg)
    return use


def _require(prior: PriorGround | None) -> PriorGround:
    """``prior``, or a DataError (a ValueError) saying the config asks for one."""
    if prior is None:
        raise DataError(
            "ground.prior_surface is on but no prior ground surface was given (the frame "
            "carries no ground_surface, or no world_from_ego pose)"
        )
    return prior


def ground_z_at(
    xy_m: np.ndarray,
    planes: GroundPlanes,
    cfg: GroundConfig,
    accepted_only: bool = False,
    prior: PriorGround | None = None,
) -> np.ndarray:
    """``(N,)`` height of the ground under ``(N, 2)`` sensor-frame positions.

    Uses the bin's reference plane (bins as laid out by ``cfg``), else the fallback plane.
    With ``accepted_only``, only a bin's own accepted plane: in a bin whose plane was carried
    out from the ring inside it (extrapolated, possibly far off on a slope or a crest), the
    fallback plane through all the accepted ground points. With ``cfg.prior_surface`` on, the
    ``prior`` surface where it is known (``"fill"``: outside accepted bins).
    """
    xy = np.asarray(xy_m, dtype=np.float64).reshape(-1, 2)
    normal = np.broadcast_to(planes.fallback_normal, (len(xy), 3)).copy()
    offset = np.full(len(xy), planes.fallback_offset_m)
    if len(planes.accepted):
        bins = _bin_index(np.concatenate([xy, np.zeros((len(xy), 1))], axis=1), _layout(cfg))
        use = bins >= 0
        if accepted_only:
            use[use] = planes.accepted[bins[use]]
        normal[use] = planes.normal[bins[use]]
        offset[use] = planes.offset_m[bins[use]]
    z = -(normal[:, 0] * xy[:, 0] + normal[:, 1] * xy[:, 1] + offset) / normal[:, 2]
    if cfg.prior_surface != "off":
        prior_z = _require(prior).ground_z_m(xy, z)
        use = _prior_used(prior_z, xy, planes, cfg)
        z[use] = prior_z[use]
    return z


def with_prior(
    result: GroundResult, xyz_m: np.ndarray, prior: PriorGround, cfg: GroundConfig
) -> GroundResult:
    """``result`` with the heights (and ground labels) of ``(N, 3)`` sensor-frame points
    measured above the ``prior`` surface where ``cfg.prior_surface`` takes it."""
    prior_h = prior.height_above_m(xyz_m)
    use = _prior_used(prior_h, np.asarray(xyz_m), result.planes, cfg)
    height = result.height_m.copy()
    height[use] = prior_h[use]
    is_ground = result.is_ground.copy()
    is_ground[use] = height[use] < cfg.distance_threshold_m
    return GroundResult(is_ground, height, result.planes)


def segment_ground(
    xyz_m: np.ndarray, cfg: GroundConfig, prior: PriorGround | None = None
) -> GroundResult:
    """Ground labels of ``(N, 3)`` sensor-frame points by ``cfg.method``, combined with the
    ``prior`` surface as ``cfg.prior_surface`` says (DataError, a ValueError, when on and
    ``prior`` is None)."""
    if cfg.method == "zones":
        result = segment_ground_zones(xyz_m, cfg)
    else:
        result = segment_ground_ransac(xyz_m, cfg)
    if cfg.prior_surface == "off":
        return result
    return with_prior(result, xyz_m, _require(prior), cfg)


# --------------------------------------------------------------------------------------------
# concentric-zone model


@dataclass(frozen=True)
class _ZoneLayout:
    edges_m: np.ndarray  # (Z+1,) zone boundaries in range
    rings: np.ndarray  # (Z,)
    sectors: np.ndarray  # (Z,)
    first_bin: np.ndarray  # (Z,) index of the zone's first bin
    num_bins: int


def _layout(cfg: GroundConfig) -> _ZoneLayout:
    edges = np.array([*cfg.zone_min_range_m, cfg.max_range_m], dtype=np.float64)
    rings = np.asarray(cfg.zone_rings, dtype=np.int64)
    sectors = np.asarray(cfg.zone_sectors, dtype=np.int64)
    per_zone = rings * sectors
    first = np.concatenate([[0], np.cumsum(per_zone)[:-1]])
    return _ZoneLayout(edges, rings, sectors, first, int(per_zone.sum()))


def _bin_index(xyz: np.ndarray, layout: _ZoneLayout) -> np.ndarray:
    """``(N,)`` int64 bin of each ``(N, 3)`` point; -1 outside the zones."""
    return _bin_index_kernel(
        np.ascontiguousarray(xyz), layout.edges_m, layout.rings, layout.sectors, layout.first_bin
    )


@numba.njit(cache=True, nogil=True)
def _bin_index_kernel(
    xyz: np.ndarray, edges: np.ndarray, rings: np.ndarray, sectors: np.ndarray, first: np.ndarray
) -> np.ndarray:  # pragma: no cover - compiled
    n = xyz.shape[0]
    nz = rings.shape[0]
    out = np.empty(n, dtype=np.int64)
    two_pi = 2.0 * np.pi
    for i in range(n):
        x = float(xyz[i, 0])
        y = float(xyz[i, 1])
        r = np.sqrt(x * x + y * y)
        out[i] = -1
        if r < edges[0] or r >= edges[nz]:
            continue
        z = 0
        while z + 1 < nz and r >= edges[z + 1]:
            z += 1
        ring = int((r - edges[z]) / (edges[z + 1] - edges[z]) * rings[z])
        ring = min(ring, rings[z] - 1)
        sector = int((np.arctan2(y, x) + np.pi) / two_pi * sectors[z])
        sector = min(sector, sectors[z] - 1)
        out[i] = first[z] + ring * sectors[z] + sector
    return out


@numba.njit(cache=True, nogil=True)
def _height_kernel(
    xyz: np.ndarray,
    bins: np.ndarray,
    normal: np.ndarray,
    offset: np.ndarray,
    fallback_normal: np.ndarray,
    fallback_offset: float,
) -> np.ndarray:  # pragma: no cover - compiled
    """Signed height of each point above its bin's plane (the fallback plane outside the bins)."""
    n = xyz.shape[0]
    out = np.empty(n, dtype=np.float32)
    for i in range(n):
        b = bins[i]
        x = float(xyz[i, 0])
        y = float(xyz[i, 1])
        z = float(xyz[i, 2])
        if b >= 0:
            out[i] = normal[b, 0] * x + normal[b, 1] * y + normal[b, 2] * z + offset[b]
        else:
            out[i] = (
                fallback_normal[0] * x
                + fallback_normal[1] * y
                + fallback_normal[2] * z
                + fallback_offset
            )
    return out


@numba.njit(cache=True, nogil=True)
def _lowest_mean_kernel(
    z: np.ndarray, bins: np.ndarray, num_bins: int, k: int
) -> np.ndarray:  # pragma: no cover
    """``(B,)`` mean of the ``k`` lowest ``z`` of each bin (0 for empty bins)."""
    count = np.zeros(num_bins + 1, dtype=np.int64)
    for b in bins:
        count[b + 1] += 1
    start = np.cumsum(count)
    fill = start[:-1].copy()
    bucket = np.empty(z.shape[0])
    for i in range(z.shape[0]):
        bucket[fill[bins[i]]] = z[i]
        fill[bins[i]] += 1
    out = np.zeros(num_bins)
    for b in range(num_bins):
        lo = start[b]
        hi = start[b + 1]
        if hi > lo:
            low = np.sort(bucket[lo:hi])[:k]
            out[b] = low.mean()
    return out


@numba.njit(cache=True, nogil=True)
def _moments_kernel(
    xyz: np.ndarray, bins: np.ndarray, member: np.ndarray, num_bins: int
) -> np.ndarray:  # pragma: no cover
    """``(B, 10)`` per-bin count, sums of x, y, z and of xx, xy, xz, yy, yz, zz of members."""
    out = np.zeros((num_bins, 10))
    for i in range(xyz.shape[0]):
        if not member[i]:
            continue
        b = bins[i]
        x = xyz[i, 0]
        y = xyz[i, 1]
        z = xyz[i, 2]
        out[b, 0] += 1.0
        out[b, 1] += x
        out[b, 2] += y
        out[b, 3] += z
        out[b, 4] += x * x
        out[b, 5] += x * y
        out[b, 6] += x * z
        out[b, 7] += y * y
        out[b, 8] += y * z
        out[b, 9] += z * z
    return out


@numba.njit(cache=True, nogil=True)
def _near_plane_kernel(
    xyz: np.ndarray, bins: np.ndarray, normal: np.ndarray, offset: np.ndarray, threshold: float
) -> np.ndarray:  # pragma: no cover - compiled
    """Points below ``threshold`` above their bin's plane (bins with a zero normal: none)."""
    out = np.zeros(xyz.shape[0], dtype=np.bool_)
    for i in range(xyz.shape[0]):
        b = bins[i]
        if normal[b, 2] == 0.0:
            continue
        d = (
            normal[b, 0] * xyz[i, 0]
            + normal[b, 1] * xyz[i, 1]
            + normal[b, 2] * xyz[i, 2]
            + offset[b]
        )
        out[i] = d < threshold
    return out


def _fit_planes(
    xyz: np.ndarray, bins: np.ndarray, member: np.ndarray, num_bins: int
) -> tuple[np.ndarray, ...]:
    """PCA plane per bin from the ``member`` points of ``(N, 3)`` float64 ``xyz``.

    Returns ``count (B,)``, ``mean (B, 3)``, ``normal (B, 3)`` (z >= 0), ``offset (B,)``,
    ``eigval (B, 3)`` (covariance eigenvalues, ascending, m^2: the first is the thickness
    across the plane, the second the spread along its narrower in-plane direction). Bins with
    < 3 points get a zero normal.
    """
    m = _moments_kernel(xyz, bins, member, num_bins)
    count = m[:, 0]
    safe = np.maximum(count, 1.0)
    mean = m[:, 1:4] / safe[:, None]
    second = m[:, [4, 5, 6, 5, 7, 8, 6, 8, 9]].reshape(-1, 3, 3) / safe[:, None, None]
    cov = second - mean[:, :, None] * mean[:, None, :]
    eigval, eigvec = np.linalg.eigh(cov)
    normal = eigvec[:, :, 0]
    normal = normal * np.where(normal[:, 2:3] < 0, -1.0, 1.0)
    normal[count < 3] = 0.0
    offset = -np.einsum("bk,bk->b", normal, mean)
    return count, mean, normal, offset, np.maximum(eigval, 0.0)


def _elevation_test(
    layout: _ZoneLayout,
    cfg: GroundConfig,
    candidate: np.ndarray,
    mean: np.ndarray,
    normal: np.ndarray,
    offset: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Accept candidate bins ring by ring, outwards, when their mean is at most
    ``cfg.max_elevation_m`` above the ground carried out from the ring inside.

    The innermost ring is compared with the nominal road plane ``z = -sensor_height_m``. Each
    bin's *reference* plane is its own plane when accepted, else the reference of the
    inner-ring bin at the same angle, so the road is followed up and down hills while a flat
    car roof or hood (lowest points far above the road next to it) is refused.

    Returns:
        ``accepted (B,)`` and every bin's reference plane ``normal (B, 3)``, ``offset (B,)``.
    """
    accepted = np.zeros(layout.num_bins, dtype=bool)
    ref_normal = np.zeros((layout.num_bins, 3))
    ref_offset = np.zeros(layout.num_bins)
    prev: np.ndarray | None = None  # bin ids of the previous ring
    for z in range(len(layout.rings)):
        sectors = int(layout.sectors[z])
        lo, hi = layout.edges_m[z], layout.edges_m[z + 1]
        width = (hi - lo) / layout.rings[z]
        angle = (np.arange(sectors) + 0.5) / sectors * 2.0 * np.pi - np.pi
        for r in range(int(layout.rings[z])):
            ids = layout.first_bin[z] + r * sectors + np.arange(sectors)
            centre_r = lo + (r + 0.5) * width
            xy = np.stack([centre_r * np.cos(angle), centre_r * np.sin(angle)], axis=1)
            has = candidate[ids]
            xy[has] = mean[ids[has], :2]
            if prev is None:
                inner_n = np.broadcast_to(np.array([0.0, 0.0, 1.0]), (sectors, 3))
                inner_d = np.full(sectors, cfg.sensor_height_m)
            else:
                inner = prev[
                    np.minimum(
                        ((angle + np.pi) / (2 * np.pi) * len(prev)).astype(np.int64), len(prev) - 1
                    )
                ]
                inner_n, inner_d = ref_normal[inner], ref_offset[inner]
            ground_z = (
                -(inner_n[:, 0] * xy[:, 0] + inner_n[:, 1] * xy[:, 1] + inner_d) / inner_n[:, 2]
            )
            ok = has & (mean[ids, 2] - ground_z <= cfg.max_elevation_m)
            accepted[ids] = ok
            ref_normal[ids] = np.where(ok[:, None], normal[ids], inner_n)
            ref_offset[ids] = np.where(ok, offset[ids], inner_d)
            prev = ids
    return accepted, ref_normal, ref_offset


def fit_subsample(xyz_m: np.ndarray, bins: np.ndarray, stride: int) -> np.ndarray:
    """Indices of the points in a zone (``bins (N,) >= 0``) that the planes are fitted to:
    about one in ``stride`` of ``(N, 3)`` points, chosen by :func:`coordinate_hash` (a hash of
    each point's coordinates in millimetres), so the choice depends on the points and not on
    their order (every ``stride``-th index did: a cloud and the same points reversed, shuffled,
    or a merged sweep's "current, past" order were fitted on different subsets and gave
    different boxes). Every zone point for ``stride <= 1``; equal points are kept or left out
    together."""
    if stride <= 1:
        return np.flatnonzero(bins >= 0)
    return np.flatnonzero((bins >= 0) & _hash_picks(coordinate_hash(xyz_m, bins), stride))


def _hash_picks(h: np.ndarray, stride: int) -> np.ndarray:
    """``(N,)`` bool: the points :func:`fit_subsample` keeps of hashes ``h (N,)`` (about one
    in ``stride``, > 1)."""
    return (h >> np.uint64(40)) % np.uint64(stride) == 0


def coordinate_hash(xyz_m: np.ndarray, bins: np.ndarray | None = None) -> np.ndarray:
    """``(N,)`` uint64 hash of each of ``(N, 3)`` points' coordinates floored to millimetres:
    a function of the point alone (equal points hash alike), whatever the order of the points.
    Points with ``bins (N,) < 0`` (outside the zones, possibly not finite) get 0; without
    ``bins`` every point is hashed (its coordinates must be finite and within 9e12 m)."""
    xyz = np.ascontiguousarray(xyz_m)
    if bins is None:
        bins = np.zeros(len(xyz), dtype=np.int64)
    return _hash_kernel(xyz, np.asarray(bins))


@numba.njit(cache=True, nogil=True)
def _hash_kernel(xyz: np.ndarray, bins: np.ndarray) -> np.ndarray:  # pragma: no cover
    out = np.zeros(len(bins), dtype=np.uint64)
    m0 = np.uint64(0x9E3779B97F4A7C15)
    m1 = np.uint64(0xC2B2AE3D27D4EB4F)
    m2 = np.uint64(0x165667B19E3779F9)
    for i in range(len(bins)):
        if bins[i] < 0:
            continue
        # zone points are finite and within the zones' range: millimetres fit an int64
        h = np.uint64(np.int64(np.floor(xyz[i, 0] * 1000.0))) * m0
        h += np.uint64(np.int64(np.floor(xyz[i, 1] * 1000.0))) * m1
        h += np.uint64(np.int64(np.floor(xyz[i, 2] * 1000.0))) * m2
        h ^= h >> np.uint64(29)
        h *= m0
        out[i] = h
    return out


def segment_ground_zones(xyz_m: np.ndarray, cfg: GroundConfig) -> GroundResult:
    """Concentric-zone local plane fit (Patchwork++-like).

    Args:
        xyz_m: ``(N, 3)`` points in the sensor frame (z up; the road is near
            ``z = -cfg.sensor_height_m``).
        cfg: zone layout and tests.

    Returns:
        :class:`GroundResult`. Points in bins whose own plane failed the tests or had too few
        points are judged against the plane carried out from the ring inside; points outside
        the zones against the fallback plane.
    """
    xyz_in = np.asarray(xyz_m)
    n = len(xyz_in)
    layout = _layout(cfg)
    nb = layout.num_bins
    if n == 0:
        empty = np.zeros(0)
        planes = GroundPlanes(
            np.zeros((nb, 3)),
            np.zeros(nb),
            np.zeros(nb, bool),
            np.array([0.0, 0.0, 1.0]),
            cfg.sensor_height_m,
        )
        return GroundResult(np.zeros(0, bool), empty.astype(np.float32), planes)
    bins = _bin_index(xyz_in, layout)
    in_zone = fit_subsample(xyz_in, bins, cfg.fit_stride)
    zb = bins[in_zone]
    pts = np.ascontiguousarray(xyz_in[in_zone], dtype=np.float64)
    z = pts[:, 2]

    # Seeds: points below the mean height of each bin's lowest points + seed_height_m.
    lowest_mean = _lowest_mean_kernel(z, zb, nb, cfg.num_lowest_points)
    member = z < lowest_mean[zb] + cfg.seed_height_m

    for _ in range(max(cfg.num_iterations, 1)):
        count, mean, normal, offset, eigval = _fit_planes(pts, zb, member, nb)
        member = _near_plane_kernel(pts, zb, normal, offset, cfg.distance_threshold_m)

    candidate = (
        (count >= cfg.min_points_per_bin)
        & (normal[:, 2] >= cfg.min_normal_z)
        & (eigval[:, 0] <= cfg.max_flatness_m2)
        & (eigval[:, 1] >= cfg.min_spread_m**2)
    )
    accepted, ref_normal, ref_offset = _elevation_test(layout, cfg, candidate, mean, normal, offset)

    # One fallback plane through the accepted ground points (or the nominal road plane).
    good = member & accepted[zb]
    if np.count_nonzero(good) >= 3:
        _, _, fb_normal, fb_offset, _ = _fit_planes(pts, np.zeros(len(pts), np.int64), good, 1)
        fallback_normal, fallback_offset = fb_normal[0], float(fb_offset[0])
        if fallback_normal[2] < cfg.min_normal_z:
            fallback_normal, fallback_offset = np.array([0.0, 0.0, 1.0]), cfg.sensor_height_m
    else:
        fallback_normal, fallback_offset = np.array([0.0, 0.0, 1.0]), cfg.sensor_height_m

    height = _height_kernel(
        np.ascontiguousarray(xyz_in), bins, ref_normal, ref_offset, fallback_normal, fallback_offset
    )
    is_ground = height < cfg.distance_threshold_m
    planes = GroundPlanes(ref_normal, ref_offset, accepted, fallback_normal, fallback_offset)
    return GroundResult(is_ground, height, planes)


# --------------------------------------------------------------------------------------------
# single-plane RANSAC baseline


def segment_ground_ransac(xyz_m: np.ndarray, cfg: GroundConfig) -> GroundResult:
    """One plane for the whole scan by RANSAC (seeded, vectorised over hypotheses).

    Hypotheses from random point triples of the scan's lower half are kept when upright
    (``normal_z >= cfg.min_normal_z``), scored by inlier count on about
    ``cfg.ransac_sample_size`` points and the best one is refined by a least-squares (PCA) fit
    to its inliers among all points. The result depends on the points, not on their order: the
    scoring sample is :func:`fit_subsample`'s hash subsample, and the triples are drawn from
    the lower half put in :func:`coordinate_hash` order (ties by coordinates), so the same
    points shuffled get the same plane and the same labels, point for point.
    """
    xyz = np.asarray(xyz_m, dtype=np.float64)
    n = len(xyz)
    nominal = np.array([0.0, 0.0, 1.0]), cfg.sensor_height_m
    if n < 3:
        height = xyz @ nominal[0] + nominal[1]
        return GroundResult(
            np.abs(height) < cfg.distance_threshold_m, height.astype(np.float32), _single(*nominal)
        )
    rng = np.random.default_rng(cfg.ransac_seed)
    # Hypotheses from the low half of the scan (the road is below the sensor).
    h = coordinate_hash(xyz)
    order = np.lexsort((xyz[:, 2], xyz[:, 1], xyz[:, 0], h))
    low = order[xyz[order, 2] < np.median(xyz[:, 2])]
    if len(low) < 3:
        low = order
    tri = xyz[low[rng.integers(0, len(low), size=(cfg.ransac_iterations, 3))]]
    normal = np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0])
    norm = np.linalg.norm(normal, axis=1)
    valid = norm > 1e-9
    normal = normal / np.where(valid, norm, 1.0)[:, None]
    normal *= np.where(normal[:, 2:3] < 0, -1.0, 1.0)
    valid &= normal[:, 2] >= cfg.min_normal_z
    if not np.any(valid):
        best_normal, best_offset = nominal
    else:
        normal = normal[valid]
        offset = -np.einsum("hk,hk->h", normal, tri[valid, 0])
        # fit_subsample's choice over every point, on the hashes already made
        stride = n // min(cfg.ransac_sample_size, n)
        sample = xyz if stride <= 1 else xyz[_hash_picks(h, stride)]
        inliers = np.abs(sample @ normal.T + offset) < cfg.distance_threshold_m
        best = int(np.argmax(inliers.sum(axis=0)))
        best_normal, best_offset = normal[best], float(offset[best])
        member = np.abs(xyz @ best_normal + best_offset) < cfg.distance_threshold_m
        if np.count_nonzero(member) >= 3:
            _, _, fit_normal, fit_offset, _ = _fit_planes(xyz, np.zeros(n, np.int64), member, 1)
            if fit_normal[0, 2] >= cfg.min_normal_z:
                best_normal, best_offset = fit_normal[0], float(fit_offset[0])
    height = xyz @ best_normal + best_offset
    return GroundResult(
        np.abs(height) < cfg.distance_threshold_m,
        height.astype(np.float32),
        _single(best_normal, best_offset),
    )


def _single(normal: np.ndarray, offset_m: float) -> GroundPlanes:
    """A plane set with no bins: the one plane is the fallback."""
    return GroundPlanes(
        np.zeros((0, 3)),
        np.zeros(0),
        np.zeros(0, dtype=bool),
        np.asarray(normal, float),
        float(offset_m),
    )
