"""Reference path: the route's centreline resampled at a fixed spacing, with Frenet queries."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
import numpy.typing as npt

from drivestack.structures._checks import _all_finite, as_array, check_number
from drivestack.structures.road_map import (
    PolylineIndex,
    RoadMap,
    check_no_cusp,
    polyline_stations,
    project_to_polyline,
    resample_polyline,
)

CURVATURE_WINDOW = 5  # points (metres at the default 1 m step) the speed profile averages


def smooth_same(values: np.ndarray, window: int) -> np.ndarray:
    """``(N,)`` moving average of ``values (N,)`` over ``min(window, N)`` points, zero-padded
    at the ends (``np.convolve(..., mode="same")``, whose output has ``max(N, window)``
    points: the window is cut to ``N`` so the output keeps ``N``)."""
    n = min(window, len(values))
    return np.convolve(values, np.ones(n) / n, mode="same")


def finite_stations(value: npt.ArrayLike, name: str) -> np.ndarray:
    """``value`` as a float64 array of any shape; ``ValueError`` naming ``name``, the first
    non-finite value and its index (a tuple for more than one dimension) for a NaN or an
    infinity. One finiteness pass: the planners query stations every step."""
    s = np.asarray(value, dtype=np.float64)
    if s.size and not _all_finite(s):
        flat = int(np.flatnonzero(~np.isfinite(s))[0])
        where = flat if s.ndim == 1 else tuple(int(i) for i in np.unravel_index(flat, s.shape))
        at = "" if s.ndim == 0 else f" at index {where}"
        raise ValueError(f"{name} must be finite (metres), got {s.reshape(-1)[flat]}{at}")
    return s


def _speed_limits(value: npt.ArrayLike, n_points: int, n_rows: int) -> np.ndarray:
    """``speed_limit_mps`` of :meth:`ReferencePath.from_polyline` as a finite positive
    ``(n_points,)`` or ``(n_rows,)`` array (one limit broadcast to ``n_points``)."""
    limit = as_array(value, "speed_limit_mps", (None,), np.float64)
    if limit.ndim == 0:
        check_number("speed_limit_mps", float(limit), above=0.0)
        return np.full(n_points, float(limit))
    if limit.ndim != 1 or len(limit) not in (n_points, n_rows):
        rows = f" or ({n_rows},) for the polyline's rows" if n_rows != n_points else ""
        raise ValueError(
            f"speed_limit_mps must be one limit or one per point, ({n_points},) for the "
            f"resampled points{rows}, got shape {limit.shape}"
        )
    bad = np.flatnonzero(~(np.isfinite(limit) & (limit > 0.0)))
    if len(bad):
        raise ValueError(
            f"speed_limit_mps must be finite and > 0 (m/s), got {limit[bad[0]]} at index {bad[0]}"
        )
    return limit.copy()


#: How far (m) from a route point a route lane may lie to give it its speed limit
#: (:func:`_route_speed_limits`): well past the widest lane-change blend between lanes.
ROUTE_LANE_SEARCH_M = 25.0

#: How far (m) before a lane's start and past its end a point still counts as on it.
ROUTE_LANE_END_SLACK_M = 0.5


def _route_speed_limits(road_map: RoadMap, lane_ids: list[str], xy_m: np.ndarray) -> np.ndarray:
    """``(N,)`` speed limit at each route point ``xy_m (N, 2)``: the limit of the route lane
    it lies closest to sideways (``|lateral_m|`` of :func:`project_to_polyline`; the first
    such lane in route order on ties) among the lanes it is on (station within
    :data:`ROUTE_LANE_END_SLACK_M` of the lane's ends) and that come within
    :data:`ROUTE_LANE_SEARCH_M` of it; the first lane's limit where there is none.

    Linear in the route's length: each point is projected only on the lanes near it
    (:meth:`PolylineIndex.project_near`), exactly as on the whole lane."""
    lanes = [road_map.lane(lane_id) for lane_id in dict.fromkeys(lane_ids)]  # route order
    index = PolylineIndex([lane.centerline_m for lane in lanes])
    point, which, station, lateral = index.project_near(xy_m, ROUTE_LANE_SEARCH_M)
    length = np.array([lane.length_m for lane in lanes])[which]
    on = (station >= -ROUTE_LANE_END_SLACK_M) & (station <= length + ROUTE_LANE_END_SLACK_M)
    point, which, off = point[on], which[on], np.abs(lateral[on])
    order = np.lexsort((which, off, point))  # per point: least |lateral|, then route order
    point, which = point[order], which[order]
    first = np.ones(len(point), dtype=bool)
    first[1:] = point[1:] != point[:-1]
    limit = np.full(len(xy_m), lanes[0].speed_limit_mps)
    limit[point[first]] = np.array([lane.speed_limit_mps for lane in lanes])[which[first]]
    return limit


@dataclass(frozen=True)
class ReferencePath:
    """``xy_m (N, 2)`` points every ``step_m`` with ``station_m (N,)``, ``yaw_rad (N,)``,
    ``curvature_1pm (N,)`` and ``speed_limit_mps (N,)`` (the limit of the lane each point lies on)."""

    xy_m: np.ndarray
    station_m: np.ndarray
    yaw_rad: np.ndarray
    curvature_1pm: np.ndarray
    speed_limit_mps: np.ndarray

    @classmethod
    def from_polyline(
        cls, polyline_m: npt.ArrayLike, speed_limit_mps: npt.ArrayLike, step_m: float = 1.0
    ) -> ReferencePath:
        """``polyline_m (N, 2)`` (metres, ``N >= 2`` distinct vertices; repeated vertices are
        skipped) resampled every ``step_m`` (> 0) metres, with ``speed_limit_mps``: one limit
        (m/s, > 0) for the whole path, or one per point, ``(n,)`` for the ``n`` resampled
        points or ``(N,)`` for the polyline's rows, spread evenly along the path.

        ``ValueError`` naming ``polyline_m``, ``step_m`` or ``speed_limit_mps`` for another
        shape, a NaN / infinite value, a step or a limit that is not positive, and naming
        ``polyline_m`` and the vertex for a cusp (a turn back of more than
        :data:`~drivestack.structures.road_map.MAX_VERTEX_TURN_RAD` at a vertex, which
        resampling would cut into a short sharp loop: :func:`check_no_cusp`).
        """
        xy = resample_polyline(polyline_m, step_m)  # (checks the polyline's shape and values)
        check_no_cusp(np.asarray(polyline_m, dtype=np.float64), "polyline_m")
        return cls._resampled(xy, speed_limit_mps, np.shape(polyline_m)[0])

    @classmethod
    def _resampled(
        cls, xy: np.ndarray, speed_limit_mps: npt.ArrayLike, n_rows: int
    ) -> ReferencePath:
        """:meth:`from_polyline` of the points ``xy (n, 2)`` it resampled from a polyline of
        ``n_rows`` rows."""
        station = polyline_stations(xy)
        d = np.diff(xy, axis=0)
        seg_yaw = np.arctan2(d[:, 1], d[:, 0])
        yaw = np.concatenate([seg_yaw, seg_yaw[-1:]])
        dyaw = np.diff(np.unwrap(yaw))
        ds = np.maximum(np.diff(station), 1e-9)
        curv = np.concatenate([dyaw / ds, [0.0]])
        limit = _speed_limits(speed_limit_mps, len(xy), n_rows)
        if limit.shape != (len(xy),):
            limit = np.interp(station, np.linspace(0.0, station[-1], len(limit)), limit)
        return cls(xy, station, yaw, curv, limit)

    @classmethod
    def from_route(
        cls,
        road_map: RoadMap,
        lane_ids: list[str],
        step_m: float = 1.0,
        *,
        start_station_m: float | None = None,
    ) -> ReferencePath:
        """Centreline along ``lane_ids`` with each point's lane speed limit; ``ValueError``
        naming the lane for a lane that is not drivable (:attr:`Lane.drivable`: a sidewalk,
        crosswalk, ...) or not in ``road_map``, as for a route ``route_centerline`` refuses.
        ``start_station_m``: where on the first lane the drive starts, for
        :meth:`~drivestack.structures.road_map.RoadMap.route_centerline` (a lane change from
        the first lane begins there)."""
        for i, lane_id in enumerate(lane_ids):
            try:
                road_map.lane(lane_id)
            except KeyError as exc:  # the map's lookup error, as the route's ValueError
                raise ValueError(f"route lane {i}: {exc.args[0]}") from None
        line = road_map.route_centerline(lane_ids, start_station_m=start_station_m)
        for lane_id in lane_ids:
            lane = road_map.lane(lane_id)
            if not lane.drivable:
                raise ValueError(
                    f"route lane {lane_id!r} is a {lane.lane_type!r} lane, not drivable: plan "
                    "along drivable lanes (RoadMap.route keeps to them)"
                )
        xy = resample_polyline(line, step_m)
        limit = _route_speed_limits(road_map, lane_ids, xy)
        return cls._resampled(resample_polyline(xy, step_m), limit, len(xy))

    @property
    def length_m(self) -> float:
        return float(self.station_m[-1])

    def project(self, points_m: npt.ArrayLike) -> tuple[np.ndarray, np.ndarray]:
        """``(M, 2)`` -> ``station_m (M,)``, ``lateral_m (M,)`` (positive left)."""
        return project_to_polyline(self.xy_m, points_m)

    def pose_at(
        self, station_m: npt.ArrayLike, offset_m: npt.ArrayLike = 0.0
    ) -> tuple[np.ndarray, np.ndarray]:
        """Points ``(..., 2)`` and headings ``(...)`` at stations (broadcast with lateral offsets).

        Stations outside the path extrapolate along the first / last segment. ``ValueError``
        naming ``station_m`` / ``offset_m`` and the first bad index for a NaN or infinite value.
        """
        s = finite_stations(station_m, "station_m")
        seg = self.segments
        i = np.searchsorted(self.station_m, s, side="right") - 1
        np.clip(i, 0, len(self.station_m) - 2, out=i)
        t = s - self.station_m[i]
        yaw = seg[2][i]
        cos, sin = seg[0][i], seg[1][i]
        off = finite_stations(offset_m, "offset_m")
        x = self.xy_m[i, 0] + t * cos - off * sin
        y = self.xy_m[i, 1] + t * sin + off * cos
        return np.stack([x, y], axis=-1), yaw

    @cached_property
    def segments(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Per segment: unit direction cos, sin and heading."""
        d = np.diff(self.xy_m, axis=0)
        yaw = np.arctan2(d[:, 1], d[:, 0])
        return np.cos(yaw), np.sin(yaw), yaw

    def lane_limits_ahead(self, ahead_m: float) -> np.ndarray:
        """``(N,)`` the lowest lane speed limit (m/s) from each point to ``ahead_m`` (>= 0)
        beyond it, the first point at or past ``point + ahead_m`` included (a lower limit
        begins somewhere after the last point before it). With ``ahead_m`` the distance from
        a vehicle's reference point to its front bumper, a point's limit is the one the
        vehicle keeps with its reference point there: it enters a slower lane with its
        front. ``speed_limit_mps`` for ``ahead_m = 0``."""
        check_number("ahead_m", ahead_m, at_least=0.0)
        lane = self.speed_limit_mps.copy()
        if ahead_m > 0.0:
            n = len(self.station_m)
            last = np.searchsorted(self.station_m, self.station_m + ahead_m, side="left")
            last = np.minimum(last, n - 1)
            index = np.arange(n)
            for step in range(1, int(np.max(last - index)) + 1):
                lane = np.minimum(lane, self.speed_limit_mps[np.minimum(index + step, last)])
        return lane

    def speed_limits(self, max_lat_accel_mps2: float = 2.5, ahead_m: float = 0.0) -> np.ndarray:
        """``(N,)`` the highest speed allowed at each point itself, before braking for what
        is ahead: the lane limit up to ``ahead_m`` beyond the point (:meth:`lane_limits_ahead`)
        and the bend's ``sqrt(a_lat / |kappa|)``, the speed whose lateral acceleration on the
        path's curvature is ``max_lat_accel_mps2`` (> 0; ``|kappa|`` averaged over ``min(5,
        N)`` points centred on each, zeros past the ends). :meth:`speed_profile` slows for
        these ahead; :class:`~drivestack.planning.proposals.SpeedDrops` brakes for them."""
        check_number("max_lat_accel_mps2", max_lat_accel_mps2, above=0.0)
        curv = np.maximum(smooth_same(np.abs(self.curvature_1pm), CURVATURE_WINDOW), 1e-6)
        return np.minimum(self.lane_limits_ahead(ahead_m), np.sqrt(max_lat_accel_mps2 / curv))

    def speed_profile(
        self, max_lat_accel_mps2: float = 2.5, decel_mps2: float = 1.5, ahead_m: float = 0.0
    ) -> np.ndarray:
        """``(N,)`` highest speed to drive at each point: :meth:`speed_limits` (the lane limit
        up to ``ahead_m`` beyond the point, the bend's lateral-acceleration limit), and early
        enough to slow at ``decel_mps2`` for what is ahead: ``v_i^2 <= v_j^2 + 2 b (s_j -
        s_i)`` for every point ``j`` ahead. Any ``N >= 2`` works, also a route shorter than
        the averaging window."""
        return self.braking_profile(self.speed_limits(max_lat_accel_mps2, ahead_m), decel_mps2)

    def braking_profile(self, limits_mps: np.ndarray, decel_mps2: float = 1.5) -> np.ndarray:
        """``(N,)`` the per-point limits ``limits_mps (N,)`` (e.g. :meth:`speed_limits`,
        not modified), lowered early enough to slow at ``decel_mps2`` for what is ahead:
        ``v_i^2 <= v_j^2 + 2 b (s_j - s_i)`` for every point ``j`` ahead
        (:meth:`speed_profile`'s backward pass, for a caller that has the limits already)."""
        v = np.array(limits_mps, dtype=np.float64)
        if v.shape != self.station_m.shape:
            raise ValueError(
                f"limits_mps: shape {v.shape}, expected {self.station_m.shape} (one per point)"
            )
        ds = np.diff(self.station_m)
        for i in range(len(v) - 2, -1, -1):  # backward pass: v_i^2 <= v_{i+1}^2 + 2 b ds
            v[i] = min(v[i], float(np.sqrt(v[i + 1] ** 2 + 2.0 * decel_mps2 * ds[i])))
        return v

    @cached_property
    def tangent_yaw_rad(self) -> np.ndarray:
        """``(N,)`` heading of the path at each point, unwrapped (continuous): the mean of
        the headings of the segments before and after it (at the ends, of its one segment);
        linear between points, it is the path's heading at every station, turning smoothly
        round each vertex."""
        seg = np.unwrap(self.segments[2])
        return np.concatenate([seg[:1], 0.5 * (seg[:-1] + seg[1:]), seg[-1:]])

    @cached_property
    def smoothed_curvature_1pm(self) -> np.ndarray:
        """``(N,)`` signed curvature (1/m, positive turning left) at each point: the turn at
        the point over the segment before it (0 at the first point), averaged over
        ``min(5, N)`` points centred on each (zeros past the ends), as the speed profile
        averages ``|kappa|``: what a vehicle steers to follow the path (a feed-forward, see
        :mod:`~drivestack.planning.proposals`)."""
        at_point = np.concatenate([[0.0], self.curvature_1pm[:-1]])
        return smooth_same(at_point, CURVATURE_WINDOW)

    def speed_limit_at(self, station_m: npt.ArrayLike) -> np.ndarray:
        """Speed limits (m/s) at stations of any shape, interpolated between points and held
        at the first / last point's outside the path; ``ValueError`` naming ``station_m`` and
        the first bad index for a NaN or infinite station."""
        return np.interp(
            finite_stations(station_m, "station_m"), self.station_m, self.speed_limit_mps
        )

    def window_slice(self, start_m: float, end_m: float) -> slice:
        """Index range of the points between two stations (at least two points: the two
        around ``start_m`` when no point lies between them, clamped to the path's ends).
        ``ValueError`` naming ``start_m`` / ``end_m`` for a NaN or infinite station, or for
        ``start_m > end_m``."""
        check_number("ReferencePath window start_m", start_m)
        check_number("ReferencePath window end_m", end_m)
        if start_m > end_m:
            raise ValueError(
                f"ReferencePath window start_m must be <= end_m, got start_m {start_m!r} and "
                f"end_m {end_m!r} (reversed bounds)"
            )
        idx = np.flatnonzero((self.station_m >= start_m) & (self.station_m <= end_m))
        if len(idx) < 2:
            i = int(np.clip(np.searchsorted(self.station_m, start_m), 1, len(self.station_m) - 1))
            return slice(i - 1, i + 1)
        return slice(int(idx[0]), int(idx[-1]) + 1)

    def window(self, start_m: float, end_m: float) -> ReferencePath:
        """The part between two stations (at least two points), stations restarted at 0."""
        sl = self.window_slice(start_m, end_m)
        return ReferencePath(
            self.xy_m[sl],
            self.station_m[sl] - self.station_m[sl.start],
            self.yaw_rad[sl],
            self.curvature_1pm[sl],
            self.speed_limit_mps[sl],
        )
