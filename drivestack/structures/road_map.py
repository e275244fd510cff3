"""RoadMap: lanes (centreline and boundaries), crosswalks, stop lines, traffic lights and the
drivable area.

Polylines are ``(N, 2)`` float64 arrays of metres in the map ``frame``. Lanes run in the
direction of their centreline; "left" is the left side when driving along it. Geometry
queries use shapely 2 (STRtree for nearest lane, unary union for the drivable area); the
Frenet projection is plain NumPy and vectorised over query points.
"""

from __future__ import annotations

import functools
import heapq
import itertools
import math
import numbers
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import TypeVar, cast

import numpy as np
import numpy.typing as npt
import shapely
from shapely.geometry import LineString, Polygon
from shapely.strtree import STRtree

from drivestack.core.frames import check_frame
from drivestack.core.value_equality import ArrayValueEquality
from drivestack.structures._checks import _all_finite, as_array, check_number
from drivestack.structures.traffic_light import LaneStop, TrafficLight

#: Steepest lane-change blend :meth:`RoadMap.route_centerline` builds (against the target lane):
#: 3.5 m sideways needs at least 6 m along the lanes.
MAX_LANE_CHANGE_ANGLE_RAD = math.radians(30.0)

#: How long a lane change of :meth:`RoadMap.route_centerline` takes at the speed limit of the
#: lane left (s), per lane crossed: its blend is this long at that speed, so that driving it
#: at that speed takes at most ``5.77 * 3.5 / T^2`` (1.3 m/s^2) sideways for a 3.5 m change
#: (:func:`lane_change_offset`), and :data:`MIN_LANE_CHANGE_LENGTH_M` at least.
LANE_CHANGE_DURATION_S = 4.0
#: Shortest lane-change blend (m per lane crossed) :meth:`RoadMap.route_centerline` plans
#: where the lanes have room for it (the fixed blend it planned at every speed before).
MIN_LANE_CHANGE_LENGTH_M = 20.0

#: How far past a lane's end a traffic light's stop may lie (map rounding) before it is refused.
STOP_STATION_TOLERANCE_M = 0.5

#: What :meth:`RoadMap.route` may minimise: ``"length"`` (metres), ``"time"`` (seconds at
#: each lane's speed limit) or ``"junctions"`` (junctions entered, then metres).
ROUTE_COSTS = ("length", "time", "junctions")

NON_DRIVABLE_TYPES = frozenset(
    {"crosswalk", "walkway", "sidewalk", "bicycle_lane", "bicycleLane", "stairs", "rail"}
)


class LaneChangeRoomError(ValueError):
    """A lane change of a route that :meth:`RoadMap.route_centerline` cannot build: the lanes
    leave no room for a blend within ``MAX_LANE_CHANGE_ANGLE_RAD``. ``step`` is the route step
    ``(from_lane, to_lane)`` into the blend's target lane."""

    def __init__(self, message: str, step: tuple[str, str]) -> None:
        super().__init__(message)
        self.step = step


def _query_point(point_m: npt.ArrayLike, yaw_rad: float | None) -> np.ndarray:
    """``point_m`` as a finite ``(2,)`` array; ``ValueError`` naming the argument for another
    shape or a NaN / infinite coordinate, and for a ``yaw_rad`` that is not finite."""
    p = np.asarray(point_m, dtype=np.float64)
    if p.shape != (2,):
        raise ValueError(
            f"point_m must be one (x, y) point of shape (2,), got shape {p.shape}"
            + (" (query one point at a time)" if p.ndim == 2 and p.shape[-1] == 2 else "")
        )
    if not np.all(np.isfinite(p)):
        raise ValueError(f"point_m must be finite, got {p.tolist()}")
    if yaw_rad is not None:
        check_number("yaw_rad", yaw_rad)
    return p


def _query_points(points_m: npt.ArrayLike, where: str = "points_m") -> np.ndarray:
    """``points_m`` as finite ``(M, 2)`` float64 points (a single ``(2,)`` point as ``(1, 2)``,
    no points as ``(0, 2)``): the check every public query taking points runs, O(1) on the
    shape plus one finiteness test. ``ValueError`` naming ``where``, the shape and what is
    expected; an ``(M, 3)`` array (x, y, z) is refused, never cut into wrong (x, y) pairs."""
    pts = as_array(points_m, where, (None, 2), np.float64)
    if pts.ndim != 2 or pts.shape[1] != 2:
        if pts.shape == (2,):
            return pts[None]
        if pts.size == 0:
            return pts.reshape(0, 2)
        raise ValueError(
            f"{where} must be (M, 2) points (x, y) or one (2,) point, got shape {pts.shape}"
            + (" (drop z: points[..., :2])" if pts.ndim and pts.shape[-1] == 3 else "")
        )
    if pts.size and not _all_finite(pts):
        row = int(np.flatnonzero(~np.isfinite(pts).all(axis=1))[0])
        raise ValueError(
            f"{where} must be finite, got {pts[row].tolist()} at row {row} (of {len(pts)})"
        )
    return pts


def _polyline(
    value: npt.ArrayLike, where: str, *, distinct: bool = True, copy: bool = True
) -> np.ndarray:
    """``value`` as a finite ``(N>=2, 2)`` float64 polyline; ``ValueError`` naming ``where``,
    the shape or the first bad vertex otherwise.

    ``distinct``: repeated consecutive vertices (zero-length segments, whose direction is
    undefined) are dropped, and fewer than 2 distinct vertices are refused. ``copy``: the
    result is a read-only copy; without it the result may be ``value`` itself (unchanged,
    flags included) when nothing was converted or dropped.
    """
    given = value
    arr = (
        value
        if type(value) is np.ndarray and value.dtype == np.float64
        else as_array(value, where, (None, 2), np.float64)
    )
    if arr.ndim != 2 or arr.shape[1] != 2 or arr.shape[0] < 2:
        hint = (
            " (x, y only: drop z with polyline[:, :2])"
            if arr.ndim == 2 and arr.shape[1] == 3
            else ""
        )
        raise ValueError(f"{where} must be an (N>=2, 2) polyline, got shape {arr.shape}{hint}")
    if not _all_finite(arr):
        row = int(np.flatnonzero(~np.isfinite(arr).all(axis=1))[0])
        raise ValueError(
            f"{where} contains NaN or infinite coordinates (vertex {row}: {arr[row].tolist()})"
        )
    if distinct:
        keep = np.ones(len(arr), dtype=bool)
        keep[1:] = np.any(np.diff(arr, axis=0) != 0.0, axis=1)  # drop repeated vertices
        if not keep.all():
            arr = arr[keep]
            if arr.shape[0] < 2:
                raise ValueError(f"{where} has fewer than 2 distinct points")
    if copy and arr is given:
        arr = arr.copy()
    if arr is not given:
        arr.setflags(write=False)
    return arr


#: Sharpest turn between consecutive segments a lane centreline, a reference path or an
#: agent's path may make (:func:`check_no_cusp`): a sharper one turns the path back on itself
#: (a cusp), which no vehicle drives and which folds the lane's area into a sliver. 170, not
#: less: a lane offset from an OpenDRIVE reference line with square corners folds 157 deg at
#: the corner (tests/sim/test_openscenario_routes.py's detour road), and such maps drive.
MAX_VERTEX_TURN_RAD = math.radians(170.0)

#: Segments no longer than this (m) are left out of :func:`first_cusp`'s turns (their turn
#: joins the next segment's): a CommonRoad midline folded back held two vertices 6e-5 m
#: apart at the fold, which split its 179 deg turn into two under 170.
CUSP_MIN_SEGMENT_M = 1e-3


def first_cusp(
    polyline_m: np.ndarray, max_turn_rad: float = MAX_VERTEX_TURN_RAD
) -> tuple[int, float] | None:
    """The first vertex where a finite ``(N, 2)`` polyline turns by more than
    ``max_turn_rad`` between its segments before and after it, as its row in ``polyline_m``
    and the turn (rad, in ``[0, pi]``); None when there is none. Repeated and nearly repeated
    vertices are skipped: the turn is measured between segments longer than
    :data:`CUSP_MIN_SEGMENT_M`, so a fold cannot hide behind a 0.1 mm step that splits its turn
    in two. O(N)."""
    d = np.diff(polyline_m, axis=0)
    moving = np.flatnonzero(np.hypot(d[:, 0], d[:, 1]) > CUSP_MIN_SEGMENT_M)
    if len(moving) < 2:
        return None
    a, b = d[moving[:-1]], d[moving[1:]]
    turn = np.abs(np.arctan2(a[:, 0] * b[:, 1] - a[:, 1] * b[:, 0], np.einsum("ij,ij->i", a, b)))
    hit = np.flatnonzero(turn > max_turn_rad)
    if not len(hit):
        return None
    return int(moving[hit[0] + 1]), float(turn[hit[0]])


def check_no_cusp(polyline_m: np.ndarray, where: str) -> None:
    """``ValueError`` naming ``where``, the vertex (its row in ``polyline_m``) and its turn
    when the finite ``(N, 2)`` polyline turns back on itself by more than
    :data:`MAX_VERTEX_TURN_RAD` at a vertex (:func:`first_cusp`)."""
    cusp = first_cusp(polyline_m)
    if cusp is None:
        return
    i, turn_rad = cusp
    raise ValueError(
        f"{where} turns back on itself at vertex {i} {polyline_m[i].tolist()} (a cusp: a turn "
        f"of {math.degrees(turn_rad):.1f} deg between the segments before and after it, more "
        f"than {math.degrees(MAX_VERTEX_TURN_RAD):.0f}): a lane or path must run one way; "
        "split it where it turns back"
    )


def polyline_stations(polyline_m: npt.ArrayLike) -> np.ndarray:
    """``(N, 2)`` polyline (``N >= 2``, finite) -> ``(N,)`` cumulative arc length from its
    first point (m); a repeated vertex repeats its station. ``ValueError`` naming
    ``polyline_m`` for another shape or a NaN / infinite vertex."""
    return _stations_of(_polyline(polyline_m, "polyline_m", distinct=False, copy=False))


def _stations_of(polyline_m: np.ndarray) -> np.ndarray:
    """:func:`polyline_stations` of a checked polyline."""
    seg = np.linalg.norm(np.diff(polyline_m, axis=0), axis=1)
    return np.concatenate([[0.0], np.cumsum(seg)])


#: Checked polylines and their stations for read-only polylines (lane centrelines, agent
#: paths) by ``id``, with the array itself so that an id is never mistaken for a later
#: array's: the simulator asks for the same few paths every tick.
_STATIONS_CACHE: dict[int, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}
_STATIONS_CACHE_SIZE = 512


def _checked_polyline(polyline_m: npt.ArrayLike, where: str) -> tuple[np.ndarray, np.ndarray]:
    """``polyline_m`` checked by :func:`_polyline` (repeated vertices dropped, no copy when
    none is) and its stations, memoised for read-only arrays that own their data (which
    cannot change); the results must not be modified."""
    cached = (
        type(polyline_m) is np.ndarray
        and not polyline_m.flags.writeable
        and polyline_m.flags.owndata
    )
    if cached:
        hit = _STATIONS_CACHE.get(id(polyline_m))
        if hit is not None and hit[0] is polyline_m:
            return hit[1], hit[2]
    line = _polyline(polyline_m, where, distinct=False, copy=False)
    seg = np.linalg.norm(np.diff(line, axis=0), axis=1)  # the stations' segments, as
    if not seg.all():  # polyline_stations: a zero one is a repeated vertex, dropped
        line = _polyline(line, where, copy=False)
        seg = np.linalg.norm(np.diff(line, axis=0), axis=1)
    stations = np.concatenate([[0.0], np.cumsum(seg)])
    if not cached:
        return line, stations
    if len(_STATIONS_CACHE) >= _STATIONS_CACHE_SIZE:
        _STATIONS_CACHE.clear()
    _STATIONS_CACHE[id(polyline_m)] = (cast(np.ndarray, polyline_m), line, stations)
    return line, stations


def project_to_polyline(
    polyline_m: npt.ArrayLike, points_m: npt.ArrayLike
) -> tuple[np.ndarray, np.ndarray]:
    """Frenet coordinates of ``(M, 2)`` points (or one ``(2,)`` point) on an ``(N, 2)``
    polyline (``N >= 2`` distinct vertices; repeated vertices are skipped).

    Returns ``station_m (M,)`` (arc length of the closest point; extrapolated linearly
    before the start and past the end, so it may be negative or exceed the length) and
    ``lateral_m (M,)`` (signed distance, positive on the left of the driving direction: the
    offset across the closest segment; for a point whose closest point is an inner joint's
    vertex, outside a bend, its distance from the vertex, on the side of the vertex's
    pseudo-normal (:func:`_joint_side`): (2, -0.01) on (0, 0)-(1, 0)-(1, 1) is -1.00005,
    where the segment's line alone said -0.01).
    Ties between equally close segments go to the lowest segment index. ``ValueError`` naming
    ``polyline_m`` / ``points_m`` for another shape (an ``(M, 3)`` array included) or a NaN /
    infinite coordinate.
    """
    polyline_m, stations = _checked_polyline(polyline_m, "polyline_m")
    pts = _query_points(points_m)
    a = polyline_m[:-1]
    d = np.diff(polyline_m, axis=0)
    seg_len = np.linalg.norm(d, axis=1)
    rel = pts[:, None, :] - a[None, :, :]  # (M, S, 2)
    t = np.einsum("msk,sk->ms", rel, d) / (seg_len**2)[None, :]
    n_seg = d.shape[0]
    lo = np.zeros(n_seg)
    hi = np.ones(n_seg)
    lo[0] = -np.inf
    hi[-1] = np.inf
    t_c = np.clip(t, lo, hi)
    # the closest segment is chosen with ends clamped (extension lines never win)
    closest = a[None] + np.clip(t, 0.0, 1.0)[..., None] * d[None]
    dist_sq = np.sum((pts[:, None, :] - closest) ** 2, axis=2)
    idx = np.argmin(dist_sq, axis=1)
    rows = np.arange(pts.shape[0])
    ti = t_c[rows, idx]
    station = stations[idx] + ti * seg_len[idx]
    cross = d[idx, 0] * rel[rows, idx, 1] - d[idx, 1] * rel[rows, idx, 0]
    lateral = cross / seg_len[idx]
    # closest to an inner joint's vertex (past the segment's end, or before its start): the
    # distance from the vertex, on the side the segment (else its neighbour there) gives
    traw = t[rows, idx]
    past = (traw > 1.0) & (idx < n_seg - 1)
    before = (traw < 0.0) & (idx > 0)
    at_joint = np.flatnonzero(past | before)
    if at_joint.size:
        j = idx[at_joint]
        nb = np.where(past[at_joint], j + 1, j - 1)
        vertex = np.where(past[at_joint][:, None], a[nb], a[j])
        side = _joint_side(pts[at_joint] - vertex, d[j], seg_len[j], d[nb], seg_len[nb])
        lateral[at_joint] = side * np.sqrt(dist_sq[at_joint, j]) + 0.0
    return station, lateral


def _joint_side(
    w: np.ndarray, d_a: np.ndarray, len_a: np.ndarray, d_b: np.ndarray, len_b: np.ndarray
) -> np.ndarray:
    """``(K,)`` +1 (left) / -1 (right) of points ``w (K, 2)`` (from a joint's vertex) whose
    closest point is that vertex, between segments ``d_a`` and ``d_b (K, 2)`` of lengths
    ``len_a``, ``len_b``: the side of the vertex's pseudo-normal (the sum of the two
    segments' left unit normals), so the sign changes only where the distance is 0, also past
    a bend sharper than 90 degrees; then that of ``d_a``'s normal (a reversal, where the two
    cancel), then left. (The arithmetic of :func:`_project_points`, element by element.)"""
    na_x, na_y = -d_a[:, 1] / len_a, d_a[:, 0] / len_a
    nb_x, nb_y = -d_b[:, 1] / len_b, d_b[:, 0] / len_b
    along = w[:, 0] * (na_x + nb_x) + w[:, 1] * (na_y + nb_y)
    own = w[:, 0] * na_x + w[:, 1] * na_y
    return np.where(along != 0.0, np.sign(along), np.where(own != 0.0, np.sign(own), 1.0))


class PolylineIndex:
    """``P`` polylines (``(N_p, 2)`` each) prepared once for many :meth:`project` calls.

    Holds all polylines' segments in order (polyline p's are ``first_segment[p]`` on):
    ``start_m``, ``delta_m (S, 2)``, ``length_m (S,)``, start station ``station_m (S,)``
    and ``heading_rad (S,)``, and each polyline's vertex ``stations_m[p] (N_p,)``.

    :meth:`project` gives, bit for bit, what :func:`project_to_polyline` gives for each point
    on its polyline (the same operations in the same order, compiled), for points on
    different polylines in one call. The index keeps read-only copies of the polylines,
    which must be finite, each segment's squared length positive and finite (no repeated
    vertex).
    """

    def __init__(self, polylines_m: Sequence[npt.ArrayLike]) -> None:
        polys = [np.array(p, dtype=np.float64) for p in polylines_m]
        if not polys:
            raise ValueError("polylines_m is empty")
        for p, poly in enumerate(polys):
            if poly.ndim != 2 or poly.shape[1] != 2 or poly.shape[0] < 2:
                raise ValueError(
                    f"polylines_m[{p}] must be an (N>=2, 2) polyline, got shape {poly.shape}"
                )
            if not np.all(np.isfinite(poly)):
                raise ValueError(f"polylines_m[{p}] contains NaN or infinite coordinates")
            length_sq = np.linalg.norm(np.diff(poly, axis=0), axis=1) ** 2
            if not np.all((length_sq > 0.0) & np.isfinite(length_sq)):
                raise ValueError(
                    f"polylines_m[{p}] has a segment of zero (a repeated vertex), underflowing "
                    "or overflowing squared length"
                )
            poly.setflags(write=False)
        self.polylines_m = polys
        self.stations_m = [polyline_stations(p) for p in polys]
        self.start_m = np.ascontiguousarray(np.concatenate([p[:-1] for p in polys]))
        self.delta_m = np.concatenate([np.diff(p, axis=0) for p in polys])
        self.length_m = np.linalg.norm(self.delta_m, axis=1)
        self._length_sq = self.length_m**2
        self.station_m = np.concatenate([s[:-1] for s in self.stations_m])
        self.heading_rad = np.arctan2(self.delta_m[:, 1], self.delta_m[:, 0])
        self.n_segments = np.array([len(p) - 1 for p in polys], dtype=np.int64)
        self.first_segment = np.concatenate([[0], np.cumsum(self.n_segments)[:-1]])
        self._vertices_m = np.concatenate(polys)
        self._vertex_station_m = np.concatenate(self.stations_m)

    def __len__(self) -> int:
        return len(self.polylines_m)

    def project(
        self, points_m: npt.ArrayLike, polyline: npt.ArrayLike = 0
    ) -> tuple[np.ndarray, np.ndarray]:
        """``station_m (M,)`` and ``lateral_m (M,)`` of ``(M, 2)`` finite points on the
        polylines ``polyline`` (one index for all, or ``(M,)`` one per point), each exactly
        as :func:`project_to_polyline` on its polyline."""
        pts = np.ascontiguousarray(_query_points(points_m))
        which = self._which(polyline, len(pts))
        return _compiled(_project_points)(
            pts,
            which,
            self.first_segment,
            self.n_segments,
            self.start_m,
            self.delta_m,
            self.length_m,
            self._length_sq,
            self.station_m,
        )

    def interpolate(
        self, station_m: npt.ArrayLike, polyline: npt.ArrayLike = 0
    ) -> tuple[np.ndarray, np.ndarray]:
        """``xy_m (M, 2)`` and ``yaw_rad (M,)`` at ``station_m (M,)`` along the polylines
        ``polyline`` (one index for all, or ``(M,)`` one per station), each exactly as
        :func:`interpolate_polyline` on its polyline (extrapolated along the first / last
        segment outside it)."""
        s = np.ascontiguousarray(station_m, dtype=np.float64).reshape(-1)
        which = self._which(polyline, len(s))
        return _compiled(_interpolate_points)(
            s,
            which,
            self.first_segment,
            self.n_segments,
            self._vertices_m,
            self._vertex_station_m,
            self.heading_rad,
        )

    def heading_at(self, station_m: float, polyline: int) -> float:
        """The heading (rad) of polyline ``polyline`` at ``station_m``, exactly as
        :func:`interpolate_polyline`'s (the first / last segment's outside the polyline)."""
        return float(self.interpolate([station_m], polyline)[1][0])

    @cached_property
    def _segment_tree(self) -> STRtree:
        """STRtree of all segments (index ``j`` is segment ``j``)."""
        ends = np.stack([self.start_m, self.start_m + self.delta_m], axis=1)
        return STRtree(shapely.linestrings(ends))

    def project_near(
        self, points_m: npt.ArrayLike, radius_m: float
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Frenet coordinates of finite ``(M, 2)`` points on every polyline that comes within
        ``radius_m`` (> 0) of them, in time linear in the points (and the segments near
        them), not in the polylines' length.

        Returns ``point (K,)``, ``polyline (K,)`` (indices; sorted by point, then polyline),
        ``station_m (K,)`` and ``lateral_m (K,)`` for the ``K`` pairs whose polyline has a
        segment within ``radius_m`` of the point, each exactly as :func:`project_to_polyline`
        on that polyline: the segments searched (those whose bounding box meets the square
        of half-side ``radius_m`` around the point) hold the closest segment and every
        segment as close, so the projection is the same, bit for bit, with the same
        arithmetic. Pairs farther apart are left out.
        """
        check_number("radius_m", radius_m, above=0.0)
        pts = _query_points(points_m)
        half = radius_m * (1.0 + 1e-9) + 1e-9  # (box rounding: never miss a segment within)
        boxes = shapely.box(pts[:, 0] - half, pts[:, 1] - half, pts[:, 0] + half, pts[:, 1] + half)
        q, j = self._segment_tree.query(boxes)
        # project_to_polyline's arithmetic, pair by pair (its (M, S) arrays, sparse)
        d, a = self.delta_m[j], self.start_m[j]
        rx, ry = pts[q, 0] - a[:, 0], pts[q, 1] - a[:, 1]
        t = (rx * d[:, 0] + ry * d[:, 1]) / self._length_sq[j]
        tc = np.clip(t, 0.0, 1.0)
        dist_sq = (pts[q, 0] - (a[:, 0] + tc * d[:, 0])) ** 2 + (
            pts[q, 1] - (a[:, 1] + tc * d[:, 1])
        ) ** 2
        poly = np.searchsorted(self.first_segment, j, side="right") - 1
        # per (point, polyline): the closest segment, the lowest index on ties
        order = np.lexsort((j, dist_sq, poly, q))
        q, j, poly, t, dist_sq = q[order], j[order], poly[order], t[order], dist_sq[order]
        rx, ry = rx[order], ry[order]
        first = np.ones(len(q), dtype=bool)
        first[1:] = (q[1:] != q[:-1]) | (poly[1:] != poly[:-1])
        keep = first & (dist_sq <= radius_m * radius_m)  # a partial search beyond the radius
        q, j, poly, t, rx, ry = q[keep], j[keep], poly[keep], t[keep], rx[keep], ry[keep]
        dist_sq = dist_sq[keep]
        lo = self.first_segment[poly]
        hi = lo + self.n_segments[poly] - 1
        past = (t > 1.0) & (j < hi)
        before = (t < 0.0) & (j > lo)
        t = np.where(j > lo, np.maximum(t, 0.0), t)  # extrapolate only before the first /
        t = np.where(j < hi, np.minimum(t, 1.0), t)  # past the last
        d = self.delta_m[j]
        station = self.station_m[j] + t * self.length_m[j]
        cross = d[:, 0] * ry - d[:, 1] * rx
        lateral = cross / self.length_m[j]
        at_joint = np.flatnonzero(past | before)  # as project_to_polyline: from the vertex
        if at_joint.size:
            jj = j[at_joint]
            nb = np.where(past[at_joint], jj + 1, jj - 1)
            vertex = np.where(past[at_joint][:, None], self.start_m[nb], self.start_m[jj])
            w = pts[q[at_joint]] - vertex
            side = _joint_side(
                w, self.delta_m[jj], self.length_m[jj], self.delta_m[nb], self.length_m[nb]
            )
            lateral[at_joint] = side * np.sqrt(dist_sq[at_joint]) + 0.0
        return q.astype(np.int64), poly.astype(np.int64), station, lateral

    def _which(self, polyline: npt.ArrayLike, m: int) -> np.ndarray:
        """``polyline`` as ``(m,)`` checked indices."""
        which = np.ascontiguousarray(np.broadcast_to(np.asarray(polyline, dtype=np.int64), (m,)))
        if m and (which.min() < 0 or which.max() >= len(self)):
            raise ValueError(f"polyline indices must be in [0, {len(self)}), got {which.tolist()}")
        return which


_Kernel = Callable[..., tuple[np.ndarray, np.ndarray]]


@functools.cache
def _compiled(kernel: _Kernel) -> _Kernel:
    """``kernel`` compiled, once (numba is imported on the first use of a
    :class:`PolylineIndex`, not with the road map)."""
    from numba import njit

    compiled: _Kernel = njit(cache=True)(kernel)
    return compiled


def _interpolate_points(
    station, which, first, count, vertices, vertex_station, heading
):  # pragma: no cover - compiled
    """:func:`interpolate_polyline`'s arithmetic, station by station (``station (M,)`` on
    polyline ``which (M,)``, whose vertices are ``first[p] + p`` to ``first[p] + p +
    count[p]``): the segment by ``searchsorted(stations, s, side="right") - 1`` clamped to
    the first / last one (NaN sorts last), then the point at its fraction."""
    m = station.shape[0]
    xy, yaw = np.empty((m, 2)), np.empty(m)
    for q in range(m):
        p, s = which[q], station[q]
        v0, n = first[p] + p, count[p] + 1
        i = np.searchsorted(vertex_station[v0 : v0 + n], s, side="right") - 1
        i = min(max(i, 0), n - 2)
        a, b = v0 + i, v0 + i + 1
        t = (s - vertex_station[a]) / (vertex_station[b] - vertex_station[a])
        xy[q, 0] = vertices[a, 0] + t * (vertices[b, 0] - vertices[a, 0])
        xy[q, 1] = vertices[a, 1] + t * (vertices[b, 1] - vertices[a, 1])
        yaw[q] = heading[first[p] + i]
    return xy, yaw


def _project_points(
    pts, which, first, count, start, delta, length, length_sq, station
):  # pragma: no cover - compiled
    """:func:`project_to_polyline`'s arithmetic, point by point (``pts (M, 2)`` on polyline
    ``which (M,)``, whose segments are ``first[p]`` to ``first[p] + count[p] - 1``): the
    closest segment with its end clamped (the first one on ties), then the station
    extrapolated before the first / past the last segment."""
    m = pts.shape[0]
    station_out, lateral_out = np.empty(m), np.empty(m)
    for q in range(m):
        px, py = pts[q, 0], pts[q, 1]
        lo, hi = first[which[q]], first[which[q]] + count[which[q]]
        best, best_j, best_t, best_rx, best_ry = np.inf, -1, 0.0, 0.0, 0.0
        for j in range(lo, hi):
            rx, ry = px - start[j, 0], py - start[j, 1]
            t = (rx * delta[j, 0] + ry * delta[j, 1]) / length_sq[j]
            tc = min(max(t, 0.0), 1.0)
            ex = px - (start[j, 0] + tc * delta[j, 0])
            ey = py - (start[j, 1] + tc * delta[j, 1])
            dist_sq = ex * ex + ey * ey
            if best_j < 0 or dist_sq < best:
                best, best_j, best_t, best_rx, best_ry = dist_sq, j, t, rx, ry
        j = best_j
        t = best_t
        past = t > 1.0 and j < hi - 1
        before = t < 0.0 and j > lo
        if j > lo:
            t = max(t, 0.0)
        if j < hi - 1:
            t = min(t, 1.0)
        station_out[q] = station[j] + t * length[j]
        cross = delta[j, 0] * best_ry - delta[j, 1] * best_rx
        lateral_out[q] = cross / length[j]
        if past or before:  # closest to an inner joint's vertex: the distance from it
            nb = j + 1 if past else j - 1
            v = nb if past else j  # the joint's vertex starts the later segment
            wx, wy = px - start[v, 0], py - start[v, 1]
            na_x, na_y = -delta[j, 1] / length[j], delta[j, 0] / length[j]
            nb_x, nb_y = -delta[nb, 1] / length[nb], delta[nb, 0] / length[nb]
            along = wx * (na_x + nb_x) + wy * (na_y + nb_y)
            own = wx * na_x + wy * na_y
            if along != 0.0:
                side = 1.0 if along > 0.0 else -1.0
            elif own != 0.0:
                side = 1.0 if own > 0.0 else -1.0
            else:
                side = 1.0
            lateral_out[q] = side * np.sqrt(best) + 0.0
    return station_out, lateral_out


def interpolate_polyline(
    polyline_m: npt.ArrayLike, station_m: npt.ArrayLike
) -> tuple[np.ndarray, np.ndarray]:
    """Points and headings at finite ``station_m (M,)`` (or one station) along an ``(N, 2)``
    polyline (``N >= 2`` distinct vertices; repeated vertices are skipped).

    Returns ``xy_m (M, 2)`` and ``yaw_rad (M,)`` (segment heading); stations outside
    ``[0, length]`` extrapolate along the first / last segment. ``ValueError`` naming
    ``polyline_m`` / ``station_m`` for another shape or a NaN / infinite value.
    """
    polyline_m, stations = _checked_polyline(polyline_m, "polyline_m")
    s = as_array(station_m, "station_m", (None,), np.float64).reshape(-1)
    if s.size and not _all_finite(s):
        bad = int(np.flatnonzero(~np.isfinite(s))[0])
        raise ValueError(f"station_m must be finite, got {s[bad]} at index {bad}")
    return _interpolate(polyline_m, stations, s)


def _interpolate(
    polyline_m: np.ndarray, stations: np.ndarray, s: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """:func:`interpolate_polyline` of a :func:`_checked_polyline` polyline and its stations
    at finite ``(M,)`` stations ``s`` (nothing checked again)."""
    idx = np.clip(np.searchsorted(stations, s, side="right") - 1, 0, len(stations) - 2)
    d = polyline_m[idx + 1] - polyline_m[idx]
    seg_len = stations[idx + 1] - stations[idx]
    t = (s - stations[idx]) / seg_len
    xy = polyline_m[idx] + t[:, None] * d
    return xy, np.arctan2(d[:, 1], d[:, 0])


#: Most points :func:`resample_polyline` makes (a step far too small for the polyline is refused).
MAX_RESAMPLE_POINTS = 10_000_000


def resample_polyline(polyline_m: npt.ArrayLike, step_m: float) -> np.ndarray:
    """``(n, 2)`` evenly spaced points (spacing at most ``step_m`` > 0, metres) along an
    ``(N, 2)`` polyline (``N >= 2`` distinct vertices), ends kept. ``ValueError`` naming
    ``polyline_m`` or ``step_m`` for a bad polyline, a step that is not a finite positive
    number, or one giving more than :data:`MAX_RESAMPLE_POINTS` points."""
    check_number("step_m", step_m, above=0.0)
    polyline_m, stations = _checked_polyline(polyline_m, "polyline_m")
    count = stations[-1] / step_m
    if not count <= MAX_RESAMPLE_POINTS:
        raise ValueError(
            f"step_m {step_m!r} cuts the {stations[-1]:g} m polyline into more than "
            f"{MAX_RESAMPLE_POINTS} points: use a larger step"
        )
    n = max(2, math.ceil(count) + 1)  # (finite stations: a finite count, checked above)
    xy, _ = _interpolate(polyline_m, stations, np.linspace(0.0, stations[-1], n))
    return xy


_EDGE_CHUNK_SEGMENTS = 8
"""Segments per boundary piece in :meth:`RoadMap._drivable_edges` (few: a query measures
only the pieces near it)."""

_EDGE_SEARCH_M = 5.0
"""Half-side of the square first searched around a point in :func:`_nearest_distance`."""


def _edge_distance_within(
    tree: STRtree, edges: np.ndarray, query: np.ndarray, xy: np.ndarray, half_m: np.ndarray
) -> np.ndarray:
    """``(N,)`` least ``shapely.distance`` from each point to the edges whose envelope meets
    the square of half-side ``half_m`` ``(N,)`` around it (``inf`` where none does)."""
    boxes = shapely.box(xy[:, 0] - half_m, xy[:, 1] - half_m, xy[:, 0] + half_m, xy[:, 1] + half_m)
    qi, ei = tree.query(boxes)
    best = np.full(len(query), np.inf)
    np.minimum.at(best, qi, shapely.distance(query[qi], edges[ei]))
    return best


def _nearest_distance(
    tree: STRtree, edges: np.ndarray, query: np.ndarray, xy: np.ndarray
) -> np.ndarray:
    """``(N,)`` distance of ``N`` finite points (``query``, shapely, and ``xy`` ``(N, 2)``)
    to the nearest of the LineStrings ``edges`` (indexed by ``tree``): exactly the minimum of
    ``shapely.distance`` over all of them.

    Every edge within distance ``d`` of a point has its envelope within the square of
    half-side ``d`` around it, so the least distance among the edges meeting a square of
    half-side ``h`` is the exact minimum whenever it is at most ``h``. First ``h`` =
    :data:`_EDGE_SEARCH_M`; a point whose least distance found is larger takes ``h`` = its
    nearest edge's distance from the tree's nearest-neighbour search (plus rounding slack),
    so no edge can be left out by the search's rounded envelope distances.
    """
    best = _edge_distance_within(tree, edges, query, xy, np.full(len(query), _EDGE_SEARCH_M))
    far = np.flatnonzero(best > _EDGE_SEARCH_M)
    if len(far):
        (qi, _), d = tree.query_nearest(query[far], return_distance=True)
        bound = np.full(len(far), np.inf)
        np.minimum.at(bound, qi, d)
        half = bound * (1.0 + 1e-9) + 1e-9
        best[far] = _edge_distance_within(tree, edges, query[far], xy[far], half)
    return best


@dataclass(frozen=True, eq=False)
class Lane(ArrayValueEquality):
    """One lane: ``centerline_m (N, 2)``, ``left_boundary_m (L, 2)``, ``right_boundary_m (R, 2)``.

    ``junction_id``: the junction (intersection) the lane lies in, None outside one or where
    the map does not say (a non-empty string; lanes with the same id are one junction): what
    :meth:`RoadMap.route`'s ``cost="junctions"`` counts. :meth:`RoadMap.with_junctions` sets it.
    ``exit_junction_id``: a junction with no lanes of its own that a vehicle passes where it
    leaves this lane for any of its successors (an OpenDRIVE ``type="direct"`` junction, where
    roads meet end to end); None where the lane's end is at no such junction. It too counts
    as a junction entered.

    ``ValueError`` naming the lane and field for a bad polyline or value, and the vertex for a
    centreline that turns back on itself (a cusp: :func:`check_no_cusp`).
    """

    lane_id: str
    centerline_m: np.ndarray
    left_boundary_m: np.ndarray
    right_boundary_m: np.ndarray
    speed_limit_mps: float = 13.89
    successors: tuple[str, ...] = ()
    predecessors: tuple[str, ...] = ()
    left_neighbor: str | None = None
    right_neighbor: str | None = None
    lane_type: str = "road"  # a NON_DRIVABLE_TYPES type is kept out of the drivable area
    junction_id: str | None = None
    exit_junction_id: str | None = None

    def __post_init__(self) -> None:
        where = f"Lane {self.lane_id!r}"
        for name in ("junction_id", "exit_junction_id"):
            value = getattr(self, name)
            if value is not None and not (isinstance(value, str) and value):
                raise ValueError(
                    f"{where}.{name} must be a non-empty string or None, got {value!r}"
                )
        for name in ("centerline_m", "left_boundary_m", "right_boundary_m"):
            line = getattr(self, name)
            if name == "centerline_m":  # (vertex indices as given, repeated ones included)
                line = _polyline(line, f"{where}.{name}", distinct=False, copy=False)
                check_no_cusp(line, f"{where}.{name}")
            object.__setattr__(self, name, _polyline(line, f"{where}.{name}"))
        value = self.speed_limit_mps
        if isinstance(value, bool | np.bool_) or not isinstance(value, numbers.Real):
            raise ValueError(f"{where}.speed_limit_mps must be a number, got {value!r}")
        speed = float(value)
        if not (speed > 0.0 and math.isfinite(speed)):
            raise ValueError(f"{where}.speed_limit_mps must be positive, got {speed}")
        object.__setattr__(self, "speed_limit_mps", speed)
        object.__setattr__(self, "successors", tuple(str(s) for s in self.successors))
        object.__setattr__(self, "predecessors", tuple(str(s) for s in self.predecessors))

    @property
    def drivable(self) -> bool:
        return self.lane_type not in NON_DRIVABLE_TYPES

    @cached_property
    def length_m(self) -> float:
        return float(polyline_stations(self.centerline_m)[-1])

    @cached_property
    def polygon(self) -> Polygon:
        """Area between the boundaries (left boundary forward, right boundary backward)."""
        ring = np.concatenate([self.left_boundary_m, self.right_boundary_m[::-1]])
        poly = Polygon(ring)
        return poly if poly.is_valid else poly.buffer(0)

    def project(self, points_m: npt.ArrayLike) -> tuple[np.ndarray, np.ndarray]:
        """``(M, 2)`` points (or one ``(2,)`` point) -> Frenet ``station_m (M,)``, ``lateral_m
        (M,)`` on the centreline (:func:`project_to_polyline`, which checks the points)."""
        return project_to_polyline(self.centerline_m, points_m)


def _areas(value: object) -> tuple[Polygon, ...]:
    """``RoadMap.extra_drivable_areas`` as a tuple of valid shapely Polygons with finite
    coordinates; ``TypeError`` / ``ValueError`` naming the first bad index. Vectorized: a map's
    hundreds of polygons are checked in milliseconds."""
    where = "RoadMap.extra_drivable_areas"
    if not isinstance(value, (tuple, list)):
        raise TypeError(
            f"{where} must be a tuple or list of shapely Polygons, got {type(value).__name__}"
        )
    areas = tuple(value)
    for i, area in enumerate(areas):
        if not isinstance(area, Polygon):
            raise TypeError(f"{where}[{i}] must be a shapely Polygon, got {type(area).__name__}")
    if not areas:
        return areas
    arr = np.array(areas, dtype=object)
    coords, index = shapely.get_coordinates(arr, return_index=True)
    bad = index[~np.isfinite(coords).all(axis=1)]
    if len(bad):
        raise ValueError(f"{where}[{int(bad[0])}] contains NaN or infinite coordinates")
    invalid = np.flatnonzero(~shapely.is_valid(arr))
    if len(invalid):
        i = int(invalid[0])
        raise ValueError(
            f"{where}[{i}] is not a valid polygon: {shapely.is_valid_reason(areas[i])}"
        )
    return areas


#: The kinds of a :class:`StopSign` rule: a stop sign (come to a full stop at the line, then
#: go when the way is clear), an all-way stop (every approach stops; who goes first is the
#: order of arrival) and a yield sign (give way; no stop needed).
STOP_SIGN_KINDS = ("stop", "all_way_stop", "yield")
#: The kinds the planners stop for and the ``no_stop_sign_violation`` metric checks.
STOPPING_SIGN_KINDS = frozenset({"stop", "all_way_stop"})


@dataclass(frozen=True)
class StopSign:
    """A sign rule ``sign_id`` of ``kind`` (one of :data:`STOP_SIGN_KINDS`) for the lanes it
    governs: each stop (:class:`~drivestack.structures.traffic_light.LaneStop`, every way out
    governed: ``next_lanes`` None) names a lane and the station of its stop line on that
    lane's centreline (the lane's end where the map draws no line). ``lines``: the stop
    lines as the map draws them, ``(K, 2)`` LineStrings in the map frame (empty where it
    draws none). ``fallback``: a rule that applies only when the junction's lights are out
    of order (Lanelet2's ``fallback=yes``): kept, not acted on. ``ValueError`` / ``TypeError``
    naming the rule and field for a bad value (the lanes are :class:`RoadMap`'s to check)."""

    sign_id: str
    kind: str
    stops: tuple[LaneStop, ...]
    lines: tuple[LineString, ...] = ()
    fallback: bool = False

    def __post_init__(self) -> None:
        if not isinstance(self.sign_id, str) or not self.sign_id:
            raise TypeError(f"StopSign.sign_id must be a non-empty str, got {self.sign_id!r}")
        where = f"StopSign {self.sign_id!r}"
        if self.kind not in STOP_SIGN_KINDS:
            raise ValueError(f"{where}.kind must be one of {STOP_SIGN_KINDS}, got {self.kind!r}")
        object.__setattr__(self, "stops", tuple(self.stops))
        object.__setattr__(self, "lines", tuple(self.lines))
        for i, stop in enumerate(self.stops):
            if not isinstance(stop, LaneStop):
                raise TypeError(f"{where}.stops[{i}] must be a LaneStop, got {type(stop).__name__}")
            if stop.next_lanes is not None:
                raise ValueError(
                    f"{where}.stops[{i}]: a sign governs every way out of its lane "
                    f"(next_lanes None), got {list(stop.next_lanes)}"
                )
        for i, line in enumerate(self.lines):
            if not isinstance(line, LineString):
                raise TypeError(
                    f"{where}.lines[{i}] must be a shapely LineString, got {type(line).__name__}"
                )
        if not isinstance(self.fallback, bool):
            raise TypeError(f"{where}.fallback must be a bool, got {self.fallback!r}")

    @property
    def lane_ids(self) -> tuple[str, ...]:
        """The lanes the rule governs, in stop order."""
        return tuple(stop.lane_id for stop in self.stops)

    @property
    def stops_traffic(self) -> bool:
        """Whether traffic must come to a full stop at its lines: a ``stop`` or
        ``all_way_stop`` rule that is no ``fallback`` (what the planners and the
        ``no_stop_sign_violation`` metric act on)."""
        return self.kind in STOPPING_SIGN_KINDS and not self.fallback


_Rule = TypeVar("_Rule", TrafficLight, StopSign)


def _stops_on_lane(rules: Sequence[_Rule], lane_id: str) -> list[tuple[_Rule, float]]:
    """The ``rules`` (lights or sign rules) that stop traffic on lane ``lane_id``, each with
    the station of its stop line there, in station order (then the order of ``rules``)."""
    found = [
        (rule, stop.station_m) for rule in rules for stop in rule.stops if stop.lane_id == lane_id
    ]
    return sorted(found, key=lambda pair: pair[1])


@dataclass(frozen=True, eq=False)
class RoadMap(ArrayValueEquality):
    """Lanes keyed by id, crosswalk polygons and stop lines, in ``frame``.

    ``extra_drivable_areas``: polygons drivable beyond the lanes' own (an Argoverse 2 map's
    ``drivable_areas``: the paved road around and between its lane segments);
    :attr:`drivable_area` is their union with the drivable lanes' polygons.

    ``traffic_lights``: the lights and where each stops traffic on the lanes it controls
    (:class:`~drivestack.structures.traffic_light.TrafficLight`); ``ValueError`` for a
    repeated light id, a stop on an unknown lane or beyond the lane's end (0.5 m tolerance;
    such a stop is moved to the end).

    ``stop_signs``: the stop, all-way-stop and yield sign rules and where each stops traffic
    on its lanes (:class:`StopSign`), checked as the lights' stops (a repeated sign id, a
    stop on an unknown lane or beyond its end is a ``ValueError``).
    """

    lanes: tuple[Lane, ...]
    crosswalks: tuple[Polygon, ...] = ()
    stop_lines: tuple[LineString, ...] = ()
    frame: str = "world"
    source: str = ""
    extra_drivable_areas: tuple[Polygon, ...] = ()
    traffic_lights: tuple[TrafficLight, ...] = ()
    stop_signs: tuple[StopSign, ...] = ()
    _by_id: dict[str, Lane] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        check_frame(self.frame, argument="RoadMap.frame")
        object.__setattr__(self, "lanes", tuple(self.lanes))
        by_id: dict[str, Lane] = {}
        for lane in self.lanes:
            if lane.lane_id in by_id:
                raise ValueError(f"RoadMap: duplicate lane id {lane.lane_id!r}")
            by_id[lane.lane_id] = lane
        for lane in self.lanes:
            refs = [*lane.successors, *lane.predecessors, lane.left_neighbor, lane.right_neighbor]
            for ref in refs:
                if ref is not None and ref not in by_id:
                    raise ValueError(
                        f"RoadMap: lane {lane.lane_id!r} refers to unknown lane {ref!r}"
                    )
        object.__setattr__(self, "_by_id", by_id)
        object.__setattr__(self, "crosswalks", tuple(self.crosswalks))
        object.__setattr__(self, "stop_lines", tuple(self.stop_lines))
        object.__setattr__(self, "extra_drivable_areas", _areas(self.extra_drivable_areas))
        object.__setattr__(self, "traffic_lights", self._checked_lights(self.traffic_lights))
        object.__setattr__(self, "stop_signs", self._checked_signs(self.stop_signs))

    def _checked_lights(self, lights: Iterable[TrafficLight]) -> tuple[TrafficLight, ...]:
        """``lights`` as a tuple, each stop on a known lane and within it (a stop up to
        :data:`STOP_STATION_TOLERANCE_M` past the lane's end is moved to the end)."""
        checked: list[TrafficLight] = []
        seen: set[str] = set()
        for light in lights:
            if not isinstance(light, TrafficLight):
                raise TypeError(
                    f"RoadMap.traffic_lights must hold TrafficLight, got {type(light).__name__}"
                )
            if light.light_id in seen:
                raise ValueError(f"RoadMap: duplicate traffic light id {light.light_id!r}")
            seen.add(light.light_id)
            stops = self._checked_stops(f"traffic light {light.light_id!r}", light.stops)
            checked.append(replace(light, stops=stops))
        return tuple(checked)

    def _checked_signs(self, signs: Iterable[StopSign]) -> tuple[StopSign, ...]:
        """``signs`` as a tuple, checked as :meth:`_checked_lights` checks lights."""
        checked: list[StopSign] = []
        seen: set[str] = set()
        for sign in signs:
            if not isinstance(sign, StopSign):
                raise TypeError(f"RoadMap.stop_signs must hold StopSign, got {type(sign).__name__}")
            if sign.sign_id in seen:
                raise ValueError(f"RoadMap: duplicate stop sign id {sign.sign_id!r}")
            seen.add(sign.sign_id)
            stops = self._checked_stops(f"{sign.kind} sign {sign.sign_id!r}", sign.stops)
            checked.append(replace(sign, stops=stops))
        return tuple(checked)

    def _checked_stops(self, owner: str, stops: Iterable[LaneStop]) -> tuple[LaneStop, ...]:
        """``owner``'s (a light's, a sign's) ``stops``, each on a known lane and within it (a
        stop up to :data:`STOP_STATION_TOLERANCE_M` past the lane's end moved to the end);
        ``ValueError`` naming ``owner``, the lane and the station otherwise."""
        out: list[LaneStop] = []
        for stop in stops:
            if stop.lane_id not in self._by_id:
                raise ValueError(f"RoadMap: {owner} stops traffic on unknown lane {stop.lane_id!r}")
            length = self._by_id[stop.lane_id].length_m
            if stop.station_m > length + STOP_STATION_TOLERANCE_M:
                raise ValueError(
                    f"RoadMap: {owner}: stop at station {stop.station_m:.2f} m is beyond the "
                    f"end of lane {stop.lane_id!r} ({length:.2f} m long)"
                )
            out.append(replace(stop, station_m=min(stop.station_m, length)))
        return tuple(out)

    def traffic_light(self, light_id: str) -> TrafficLight:
        """The light with id ``light_id`` (``KeyError`` naming it when there is none)."""
        for light in self.traffic_lights:
            if light.light_id == light_id:
                return light
        raise KeyError(f"RoadMap has no traffic light {light_id!r}")

    def light_stops(self, lane_id: str) -> list[tuple[TrafficLight, float]]:
        """The lights that stop traffic on lane ``lane_id``, each with the station (m from the
        lane's start) of its stop line, in station order."""
        return _stops_on_lane(self.traffic_lights, lane_id)

    def sign_stops(self, lane_id: str) -> list[tuple[StopSign, float]]:
        """The sign rules (:attr:`stop_signs`, every kind) that stop traffic on lane
        ``lane_id``, each with the station of its stop line there, in station order (then
        map order)."""
        return _stops_on_lane(self.stop_signs, lane_id)

    def __len__(self) -> int:
        return len(self.lanes)

    def lane(self, lane_id: str) -> Lane:
        """The lane with id ``lane_id`` (``KeyError`` when there is none; lane ids are strings,
        so ``lane(42440)`` says so when ``"42440"`` exists)."""
        try:
            return self._by_id[lane_id]
        except (KeyError, TypeError):
            hint = ""
            if not isinstance(lane_id, str) and str(lane_id) in self._by_id:
                hint = f" (lane ids are strings: use {str(lane_id)!r})"
            raise KeyError(f"RoadMap has no lane {lane_id!r}{hint}") from None

    def with_junctions(self, junction_of: Mapping[str, str]) -> RoadMap:
        """This map with :attr:`Lane.junction_id` set from ``junction_of`` (lane id -> junction
        id; lanes it does not name keep theirs). ``KeyError`` naming a lane the map does not
        have, ``ValueError`` for a junction id that is not a non-empty string."""
        for lane_id in junction_of:
            self.lane(lane_id)
        lanes = tuple(
            replace(lane, junction_id=junction_of[lane.lane_id])
            if lane.lane_id in junction_of
            else lane
            for lane in self.lanes
        )
        return replace(self, lanes=lanes)

    def is_route_step(self, from_lane: str, to_lane: str) -> bool:
        """Whether a route may go from ``from_lane`` straight to ``to_lane``: a successor, or a
        left / right neighbour (a lane change)."""
        lane = self.lane(from_lane)
        return to_lane in lane.successors or to_lane in (lane.left_neighbor, lane.right_neighbor)

    def check_route(self, lane_ids: Iterable[str]) -> list[str]:
        """``lane_ids`` as a list, checked to be a drivable sequence: known lanes, at least one,
        each the successor or a left / right neighbour of the one before (``ValueError`` naming
        the first pair that is not; ``KeyError`` for an unknown lane)."""
        ids = list(lane_ids)
        if not ids:
            raise ValueError("a route needs at least one lane")
        for lane_id in ids:
            self.lane(lane_id)
        for i, (a, b) in enumerate(itertools.pairwise(ids)):
            if not self.is_route_step(a, b):
                raise ValueError(
                    f"route lanes {i} -> {i + 1}: lane {b!r} is neither a successor nor a "
                    f"left/right neighbour of lane {a!r}"
                )
        return ids

    def __contains__(self, lane_id: object) -> bool:
        return lane_id in self._by_id

    @cached_property
    def drivable_area(self) -> Polygon:
        """Union of the drivable lanes' polygons and :attr:`extra_drivable_areas` (a Polygon
        or MultiPolygon)."""
        lanes = [lane.polygon for lane in self.lanes if lane.drivable]
        return shapely.unary_union([*lanes, *self.extra_drivable_areas])

    @cached_property
    def _drivable_boundary(self) -> shapely.Geometry:
        area = self.drivable_area
        shapely.prepare(area)
        return area

    @cached_property
    def _tree(self) -> STRtree:
        return STRtree([LineString(lane.centerline_m) for lane in self.lanes])

    @cached_property
    def _area_tree(self) -> STRtree:
        """STRtree of the lanes' areas (index ``i`` is lane ``i``)."""
        return STRtree([lane.polygon for lane in self.lanes])

    @cached_property
    def _drivable_edges(self) -> tuple[STRtree, np.ndarray] | None:
        """The drivable area's boundary (exterior and interior rings of every polygon part) cut
        into LineStrings of at most ``_EDGE_CHUNK_SEGMENTS`` segments, in ring order (so each
        segment has the same end points, in the same order, as in the polygon), with an STRtree
        over them; ``None`` when the area is empty or not made of polygons (the plain shapely
        route is used then)."""
        parts = shapely.get_parts(self.drivable_area)
        if len(parts) == 0 or not np.all(shapely.get_type_id(parts) == 3):  # 3: Polygon
            return None
        chunks = []
        for ring in shapely.get_rings(parts):
            xy = shapely.get_coordinates(ring)
            n_seg = len(xy) - 1
            chunks += [
                xy[i : min(i + _EDGE_CHUNK_SEGMENTS, n_seg) + 1]
                for i in range(0, n_seg, _EDGE_CHUNK_SEGMENTS)
            ]
        edges = shapely.linestrings(
            np.concatenate(chunks),
            indices=np.repeat(np.arange(len(chunks)), [len(c) for c in chunks]),
        )
        return STRtree(edges), edges

    def distance_outside_drivable_m(self, points_m: npt.ArrayLike) -> np.ndarray:
        """``(M, 2)`` finite points (or one ``(2,)`` point) -> ``(M,)`` distance to the drivable
        area (0 inside); ``ValueError`` naming ``points_m`` for another shape (``(M, 3)``
        included) or a NaN / infinite coordinate.

        For a point outside the area this is the distance to the area's boundary, found among
        the few boundary pieces nearest it (an STRtree), so the cost does not grow with the
        map; the value is the one ``shapely.distance(drivable_area, point)`` gives, bit for bit
        (GEOS takes both as the minimum of the same point-to-segment distances). A point on the
        boundary (by GEOS's exact point-in-area test, as in ``shapely.distance``) gets 0, where
        the point-to-segment formula may round to a tiny non-zero.

        ``ValueError`` naming the map's :attr:`source` when it has no drivable area (no drivable
        lane and no :attr:`extra_drivable_areas`), whatever the points (none included): every
        point is outside an empty area by an undefined distance (shapely's NaN, which passes
        ``<=`` / ``>`` tests silently), so there is nothing to measure against.
        """
        area = self._drivable_boundary
        if area.is_empty:
            named = f" {self.source!r}" if self.source else ""
            raise ValueError(
                f"RoadMap{named} has no drivable area (no drivable lane and no "
                "extra_drivable_areas): the distance outside it is undefined"
            )
        pts = _query_points(points_m)
        inside = shapely.intersects_xy(area, pts[:, 0], pts[:, 1])  # interior or boundary
        out = np.zeros(len(pts))
        if np.all(inside):
            return out
        outside = ~inside
        xy = pts[outside]
        query = shapely.points(xy)
        edges = self._drivable_edges
        if edges is None:
            out[outside] = shapely.distance(area, query)
        else:
            out[outside] = _nearest_distance(*edges, query, xy)
        return out

    def nearest_lane(
        self, point_m: npt.ArrayLike, yaw_rad: float | None = None, max_distance_m: float = 50.0
    ) -> str:
        """Id of the lane whose centreline is closest to ``point_m`` ``(2,)`` (a lane whose area
        covers the point comes first).

        With ``yaw_rad``, lanes whose heading at the projection differs by more than 90 degrees
        are skipped (so the ego is never matched to the oncoming lane). Raises ``LookupError``
        when none lies within ``max_distance_m`` (saying so when lanes that near were skipped
        only for their heading), ``ValueError`` for a point that is not one finite ``(x, y)``
        or a yaw that is not finite.
        """
        p = _query_point(point_m, yaw_rad)
        check_number("max_distance_m", max_distance_m, at_least=0.0)
        candidates = self._tree.query(shapely.Point(p).buffer(max_distance_m))
        best: tuple[float, int, str] | None = None
        facing_away = 0
        for i in candidates:
            lane = self.lanes[int(i)]
            station, _ = lane.project(p[None])
            s = float(np.clip(station[0], 0.0, lane.length_m))
            xy, heading = interpolate_polyline(lane.centerline_m, [s])
            dist = float(np.hypot(*(xy[0] - p)))
            if (
                yaw_rad is not None
                and abs(math.remainder(float(heading[0]) - yaw_rad, 2 * math.pi)) > math.pi / 2
            ):
                facing_away += dist <= max_distance_m
                continue
            inside = 1.0 if lane.polygon.covers(shapely.Point(p)) else 0.0
            key = (dist - 1e3 * inside, int(i), lane.lane_id)  # containing lanes first
            if best is None or key < best:
                best = key
        if best is None or best[0] > max_distance_m:
            if facing_away:
                raise LookupError(
                    f"no lane heading within 90 deg of yaw_rad {yaw_rad} within "
                    f"{max_distance_m} m of {p.tolist()} ({facing_away} lanes nearby face the "
                    "other way)"
                )
            raise LookupError(f"no lane within {max_distance_m} m of {p.tolist()}")
        return best[2]

    def lanes_at(self, point_m: npt.ArrayLike, yaw_rad: float | None = None) -> list[str]:
        """Ids of the lanes whose area covers ``point_m`` ``(2,)`` (heading within 90 degrees
        of ``yaw_rad`` when given), in map order. Overlapping lanes (a fork) all count.
        ``ValueError`` for a point that is not one finite ``(x, y)`` or a yaw that is not
        finite."""
        p = _query_point(point_m, yaw_rad)
        point = shapely.Point(p)
        out = []
        # by the lanes' areas, not their centrelines near the point: a wide lane covers
        # points far from its centreline
        for i in sorted(int(i) for i in self._area_tree.query(point)):
            lane = self.lanes[i]
            if not lane.polygon.covers(point):
                continue
            if yaw_rad is not None:
                station, _ = lane.project(p[None])
                _, heading = interpolate_polyline(
                    lane.centerline_m, np.clip(station, 0.0, lane.length_m)
                )
                if abs(math.remainder(float(heading[0]) - yaw_rad, 2 * math.pi)) > math.pi / 2:
                    continue
            out.append(lane.lane_id)
        return out

    def route(
        self,
        start_lane: str,
        goal_lane: str,
        lane_change_cost_m: float = 50.0,
        *,
        drivable_only: bool = True,
        cost: str = "length",
    ) -> list[str]:
        """Cheapest lane sequence from ``start_lane`` to ``goal_lane`` (Dijkstra).

        With ``cost="length"`` (the default) moving to a successor costs the current lane's
        length; moving to a left/right neighbour costs ``lane_change_cost_m`` (a finite number
        >= 0, else ``ValueError``). With ``cost="time"`` every step costs that length over the
        current lane's :attr:`Lane.speed_limit_mps` (seconds at the limit; a lane change the
        time to drive ``lane_change_cost_m`` there). With ``cost="junctions"`` (OpenSCENARIO's
        ``leastIntersections``, counted as esmini counts it) the route enters as few junctions
        as it can, and of those routes takes the one cheapest by length: a step (successor or
        lane change) into a lane whose :attr:`Lane.junction_id` is set and differs from the
        current lane's enters a junction (lanes of one junction in a row count once; the start
        lane counts none), and so does a successor step from a lane whose
        :attr:`Lane.exit_junction_id` is set. Where the map marks no junction (every
        ``junction_id`` and ``exit_junction_id`` None) that is the ``"length"`` route. What the
        map readers mark, by source:

        - OpenDRIVE: ``junction_id`` on the lanes of a junction's connecting roads (the road's
          ``junction`` attribute); ``exit_junction_id`` on the lanes that end at a
          ``type="direct"`` junction (it has no connecting roads: each pass counts one).
        - Argoverse 2: ``junction_id`` on the ``is_intersection`` lane segments, those linked
          to or touching each other one junction (``"av2-junction-<smallest segment id>"``).
        - Lanelet2: none (Lanelet2 has no junction element), so the cost is the length.
        - CommonRoad: ``junction_id`` from the ``<intersection>`` elements (the reader's
          docstring says which lanelets).
        - The synthetic maps: ``junction_id`` ``"junction"`` on the connectors of the
          four-way intersection (the lanes in its box); none on the others.

        :meth:`with_junctions` sets ``junction_id`` from any source.
        Another ``cost`` is a ``ValueError`` naming it.
        The route is always one :meth:`route_centerline` (and so the planners) can drive: a
        lane change whose blend has no room there (:class:`LaneChangeRoomError`) is left out
        and the search repeated (that step is then left out of the whole search, also where
        another route would have room for it). With ``drivable_only`` (the default) the route
        keeps to drivable lanes (:attr:`Lane.drivable`: no sidewalks, crosswalks, ...).
        Raises ``LookupError`` when no such route exists (naming the lane changes left out),
        ``KeyError`` for an unknown lane.
        """
        if cost not in ROUTE_COSTS:
            raise ValueError(f"cost: unknown route cost {cost!r}; expected one of {ROUTE_COSTS}")
        return self._cheapest_route(
            [start_lane], [goal_lane], lane_change_cost_m, drivable_only, cost=cost
        )

    def route_from(
        self,
        point_m: npt.ArrayLike,
        yaw_rad: float,
        goal_lanes: Iterable[str],
        lane_change_cost_m: float = 50.0,
        *,
        max_distance_m: float = 50.0,
        drivable_only: bool = True,
    ) -> list[str]:
        """Cheapest route (as :meth:`route`) from a pose to any of ``goal_lanes``.

        The route may start on any lane whose area covers ``point_m`` ``(2,)`` with a heading
        within 90 degrees of ``yaw_rad`` (:meth:`lanes_at`: at a fork every branch, so the
        branch that leads to a goal is found); when none covers it, on the nearest such lane
        within ``max_distance_m`` (:meth:`nearest_lane`). Routes from every start lane to
        every goal lane compete on cost (ties: the lowest lane id first). Raises
        ``LookupError`` naming the start lanes and goals tried when none is reachable (or no
        lane is near), ``ValueError`` for a bad point, yaw or an empty ``goal_lanes``.
        """
        if isinstance(goal_lanes, str):
            raise TypeError(f"goal_lanes must be a list of lane ids, got str {goal_lanes!r}")
        goals = list(goal_lanes)
        if not goals:
            raise ValueError("goal_lanes: needs at least one goal lane")
        starts = self.lanes_at(point_m, yaw_rad) or [
            self.nearest_lane(point_m, yaw_rad, max_distance_m)
        ]
        return self._cheapest_route(starts, goals, lane_change_cost_m, drivable_only)

    def _cheapest_route(
        self,
        starts: list[str],
        goals: list[str],
        lane_change_cost_m: float,
        drivable_only: bool,
        *,
        cost: str = "length",
    ) -> list[str]:
        """:meth:`route` from any of ``starts`` to any of ``goals`` by ``cost``."""
        check_number("lane_change_cost_m", lane_change_cost_m, at_least=0.0)
        for lane_id in (*starts, *goals):
            self.lane(lane_id)
        tried = (
            f"lane {goals[0]!r} is not reachable from lane {starts[0]!r}"
            if len(starts) == 1 and len(goals) == 1
            else f"none of goal lanes {goals} is reachable from start lanes {starts}"
        )
        if drivable_only:
            off = [i for i in dict.fromkeys((*starts, *goals)) if not self._by_id[i].drivable]
            starts = [i for i in starts if self._by_id[i].drivable]
            goals = [i for i in goals if self._by_id[i].drivable]
            if not starts or not goals:
                raise LookupError(
                    f"{tried}: lanes {off} are not drivable (drivable_only=False routes over "
                    "non-drivable lanes)"
                )
        skipped: list[tuple[str, str]] = []
        while True:
            path = self._dijkstra(
                starts, set(goals), lane_change_cost_m, drivable_only, skipped, cost=cost
            )
            if path is None:
                over = " over drivable lanes" if drivable_only else ""
                left_out = (
                    f" (lane changes left out for want of room: {skipped})" if skipped else ""
                )
                raise LookupError(tried + over + left_out)
            try:
                self.route_centerline(path)
            except LaneChangeRoomError as exc:
                skipped.append(exc.step)
                continue
            return path

    def _dijkstra(
        self,
        starts: list[str],
        goals: set[str],
        lane_change_cost_m: float,
        drivable_only: bool,
        skipped: list[tuple[str, str]],
        *,
        cost: str = "length",
    ) -> list[str] | None:
        """Cheapest lane sequence from any of ``starts`` to any of ``goals`` without the
        ``skipped`` steps (None when there is none). A route's cost is the pair (junctions
        entered, length or time), compared in that order; junctions count only with
        ``cost="junctions"`` and time (each step's length over the current lane's speed limit)
        only with ``cost="time"``."""
        zero = (0.0, 0.0)
        dist = dict.fromkeys(starts, zero)
        prev: dict[str, str] = {}
        heap: list[tuple[tuple[float, float], str]] = sorted((zero, s) for s in dist)
        by_time, by_junctions = cost == "time", cost == "junctions"
        while heap:
            so_far, lane_id = heapq.heappop(heap)
            if so_far > dist[lane_id]:
                continue
            if lane_id in goals:
                path = [lane_id]
                while path[-1] in prev:
                    path.append(prev[path[-1]])
                return path[::-1]
            lane = self._by_id[lane_id]
            # (next lane, cost, whether the step passes the lane's exit junction)
            passes = lane.exit_junction_id is not None
            steps: list[tuple[str, float, bool]] = [
                (s, lane.length_m, passes) for s in lane.successors
            ]
            steps += [
                (n, lane_change_cost_m, False)
                for n in (lane.left_neighbor, lane.right_neighbor)
                if n is not None
            ]
            if by_time:
                steps = [(n, c / lane.speed_limit_mps, p) for n, c, p in steps]
            for nxt, step_cost, passed in steps:
                if (drivable_only and not self._by_id[nxt].drivable) or ((lane_id, nxt) in skipped):
                    continue
                entered = self._by_id[nxt].junction_id
                junction = by_junctions and (
                    passed or (entered is not None and entered != lane.junction_id)
                )
                new = (so_far[0] + float(junction), so_far[1] + step_cost)
                if new < dist.get(nxt, (math.inf, math.inf)):
                    dist[nxt] = new
                    prev[nxt] = lane_id
                    heapq.heappush(heap, (new, nxt))
        return None

    def reachable_lanes(self, start_lane: str) -> set[str]:
        """Lanes reachable from ``start_lane`` through successors and neighbours."""
        seen = {start_lane}
        todo = [start_lane]
        while todo:
            lane = self.lane(todo.pop())
            for nxt in (*lane.successors, lane.left_neighbor, lane.right_neighbor):
                if nxt is not None and nxt not in seen:
                    seen.add(nxt)
                    todo.append(nxt)
        return seen

    def route_centerline(
        self,
        lane_ids: Iterable[str],
        lane_change_length_m: float | None = None,
        *,
        start_station_m: float | None = None,
    ) -> np.ndarray:
        """Concatenated centreline ``(N, 2)`` along a route of lane ids.

        The route is checked first (:meth:`check_route`: ``ValueError`` naming the first pair
        of lanes that are not connected). A step to a left/right neighbour is a lane change:
        the current lane is left at the middle of its remaining part and the route joins its
        target lane ``lane_change_length_m`` further on, per lane crossed, along a smooth blend
        (:func:`lane_change_offset`: the sideways offset from the target lane eases from the
        lane left to 0 with zero slope and curvature at both ends, so a 3.5 m change over
        ``L`` metres bends at most ``5.77 * 3.5 / L^2`` 1/m). ``lane_change_length_m`` None:
        :data:`LANE_CHANGE_DURATION_S` of driving at the speed limit of the lane left, at
        least :data:`MIN_LANE_CHANGE_LENGTH_M` (111 m at 100 km/h: 1.3 m/s^2 sideways at that
        speed, where a fixed 20 m blend slowed the planners to about 8 m/s for its bends).
        ``start_station_m``: the station on the route's first lane where the drive starts
        (the ego's, clipped to the lane): a lane change from the first lane begins there (the
        planners change lanes from where the ego is) instead of midway along the lane.

        When the target lane is shorter than the blend, the blend continues into the route's
        following lanes (successor steps); when the route ends too soon, the current lane is
        left earlier instead (back to where the route came onto it), so the blend keeps its
        length wherever the lanes allow it, and is shortened where they do not. A blend
        steeper than ``MAX_LANE_CHANGE_ANGLE_RAD`` on average (the lanes are too short) is a
        ``ValueError`` (:class:`LaneChangeRoomError`) naming both lanes; :meth:`route` never
        returns a route with one.
        """
        ids = self.check_route(lane_ids)
        if lane_change_length_m is not None:
            check_number("lane_change_length_m", lane_change_length_m, above=0.0)
        if start_station_m is not None:
            check_number("start_station_m", start_station_m)
        pieces: list[np.ndarray] = []
        start_station = 0.0
        i = 0
        while i < len(ids):
            lane = self.lane(ids[i])
            if start_station >= lane.length_m:  # a lane-change blend passed over this lane
                start_station -= lane.length_m
                i += 1
                continue
            nxt = self.lane(ids[i + 1]) if i + 1 < len(ids) else None
            if nxt is None or nxt.lane_id in lane.successors:
                pieces.append(_piece(lane, start_station, lane.length_m))
                start_station = 0.0
                i += 1
                continue
            leave = 0.5 * (start_station + lane.length_m)
            if i == 0 and start_station_m is not None:
                leave = min(max(start_station_m, start_station), lane.length_m)
            blend_m = (
                max(LANE_CHANGE_DURATION_S * lane.speed_limit_mps, MIN_LANE_CHANGE_LENGTH_M)
                if lane_change_length_m is None
                else lane_change_length_m
            )
            line, start_station, i = self._lane_change(ids, i, start_station, leave, blend_m)
            pieces.append(line)
        return _polyline(np.concatenate(pieces), "route centreline")

    def _lane_change(
        self, ids: list[str], i: int, start_station: float, leave_station: float, blend_m: float
    ) -> tuple[np.ndarray, float, int]:
        """A lane change from route lane ``ids[i]`` (the route on it from ``start_station``),
        leaving it at ``leave_station`` or earlier where the route ends too soon: the piece of
        ``ids[i]`` before it and the blend (its last point excluded), the station where the
        route rejoins the target lane ``ids[k]`` (past its end when the blend runs on into the
        following lanes) and ``k``. Consecutive lane changes (``ids[i]`` to ``ids[k]`` through
        neighbours) are one blend of ``blend_m`` per lane, straight to ``ids[k]``, so that the
        lanes between need no length of their own."""
        k = i + 1
        while k + 1 < len(ids) and ids[k + 1] not in self.lane(ids[k]).successors:
            k += 1
        blend_m *= k - i
        lane, nxt = self.lane(ids[i]), self.lane(ids[k])
        target = self._successor_line(ids, k)
        reach = float(polyline_stations(target)[-1])
        end_station = leave_station
        line = _piece(lane, start_station, end_station)
        s_next = float(project_to_polyline(target, line[-1:])[0][0])
        short = s_next + blend_m - reach
        if short > 0.0 and end_station > start_station:  # leave earlier: the route ends soon
            end_station = max(start_station, end_station - short)
            line = _piece(lane, start_station, end_station)
            s_next = float(project_to_polyline(target, line[-1:])[0][0])
        join = float(np.clip(s_next + blend_m, 0.0, reach - 1e-3))
        lateral = float(project_to_polyline(target, line[-1:])[1][0])
        if math.atan2(abs(lateral), join - s_next) > MAX_LANE_CHANGE_ANGLE_RAD:
            raise LaneChangeRoomError(
                f"lane change from lane {lane.lane_id!r} to lane {nxt.lane_id!r}: the route leaves "
                f"{max(join - s_next, 0.0):.1f} m to move {abs(lateral):.1f} m sideways (a blend of "
                f"{blend_m:.0f} m wanted); continue the route past lane {nxt.lane_id!r} or change "
                "lanes where the lanes are longer",
                (ids[k - 1], ids[k]),
            )
        n = max(math.ceil(join - s_next), 2)  # a point about every metre
        u = np.arange(n + 1) / n
        centre, _ = interpolate_polyline(target, s_next + u * (join - s_next))
        # the left normal from the points' own central differences: turning smoothly round
        # the target lane's vertices (its segments' headings step at each)
        tangent = np.gradient(centre, axis=0)
        normal = np.stack([-tangent[:, 1], tangent[:, 0]], axis=1)
        normal /= np.linalg.norm(normal, axis=1, keepdims=True)
        blend = centre + (lateral * lane_change_offset(u))[:, None] * normal
        return np.concatenate([line, blend[1:-1]]), join, k

    def _successor_line(self, ids: list[str], j: int) -> np.ndarray:
        """The centreline of route lane ``ids[j]`` and of the lanes after it reached by
        successor steps (the stretch a lane-change blend onto ``ids[j]`` may run over)."""
        line = [self.lane(ids[j]).centerline_m]
        for a, b in zip(ids[j:], ids[j + 1 :], strict=False):
            if b not in self.lane(a).successors:
                break
            line.append(self.lane(b).centerline_m)
        return _polyline(np.concatenate(line), "route lanes' centreline")


def lane_change_offset(u: npt.ArrayLike) -> np.ndarray:
    """The share ``(M,)`` of a lane change's sideways offset still left at blend fractions
    ``u (M,)`` in ``[0, 1]`` (clipped): ``1 - (10 u^3 - 15 u^4 + 6 u^5)``, the quintic easing
    from 1 to 0 whose first and second derivatives vanish at both ends (the blend leaves and
    joins the lanes without a kink or a jump in curvature). Its steepest slope is ``15 / 8``
    (at ``u = 1/2``) and its largest second derivative ``10 / sqrt(3)`` (at ``u = 1/2 -+
    sqrt(3) / 6``): an offset ``D`` eased over ``L`` metres bends at most about
    ``5.77 D / L^2``."""
    t = np.clip(np.asarray(u, dtype=np.float64), 0.0, 1.0)
    return 1.0 - t**3 * (10.0 - 15.0 * t + 6.0 * t**2)


def _piece(lane: Lane, start_station: float, end_station: float) -> np.ndarray:
    """The part of ``lane``'s centreline between two stations (its vertices in between kept)."""
    _, stations = _checked_polyline(lane.centerline_m, "centerline_m")
    inner = stations[(stations > start_station) & (stations < end_station)]
    line, _ = interpolate_polyline(lane.centerline_m, [start_station, *inner, end_station])
    return line
