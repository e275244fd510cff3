"""nuPlan's driving-direction compliance: how far the ego's centre went backwards along the
baseline (centreline) of the lane it is in, over a sliding window of about one second.

As nuplan-devkit does (checked against its source):

- ``nuplan/planning/metrics/evaluation_metrics/common/driving_direction_compliance.py``
  (``DrivingDirectionComplianceStatistics._extract_metric`` and ``compute``): per sample the
  progress along the baseline of the lane the centre is in, ``0`` at the first sample, at a
  sample in no lane (which keeps the previous lane and station: re-entering the same lane
  measures from where the ego left it) and at the first two samples in another lane (the
  first resets the station, the second has none before it to subtract); a sample whose
  station on the baseline is exactly 0 also counts 0 (nuPlan tests the station's truth
  value). The window sums ``n + 1`` samples,
  ``progress[max(0, i - n) : i + 1]`` with ``n = int(time_horizon / mean sample interval)``
  (1.1 s at 10 Hz); the score is 1 below 2 m backwards, 0.5 below 6 m, else 0 (the
  ``driving_direction_compliance`` config: thresholds 2 / 6 m, ``time_horizon`` 1 s);
- ``.../common/ego_lane_change.py``: the lanes come from ``get_route`` of the ego's centres;
- ``nuplan/planning/metrics/utils/route_extractor.py``: ``get_route`` keeps the lanes of the
  previous sample that still contain the centre, else (one previous lane) its successors that
  do, else searches the map afresh; ``remove_extra_lane_connectors`` then narrows, from the
  last sample back, a sample's several lanes to the next sample's (when they are among them)
  or to the next lane's predecessors; the metric reads the first lane of each sample;
  ``get_distance_of_closest_baseline_point_to_its_start``: the station is the projection on
  the baseline clamped to its ends.

drivestack's maps differ from nuPlan's where noted: they have no separate lane-connector and
intersection layers, so a fresh search returns every drivable lane that covers the centre
(nuPlan: one lane, else all lane connectors there), those heading within 90 degrees of the ego
first (a two-way Lanelet2 lanelet is two lanes on one area, which nuPlan's maps never have),
and nuPlan's "stay in a lane connector within 5 m" filter for intersections is not applied.
"""

from __future__ import annotations

import numpy as np
import shapely

from drivestack.structures.road_map import RoadMap

COMPLIANT_M = 2.0  # driving_direction_compliance_threshold
VIOLATION_M = 6.0  # driving_direction_violation_threshold
TIME_HORIZON_S = 1.0  # time_horizon


def ego_driven_lanes(
    road_map: RoadMap, centers_m: np.ndarray, yaws_rad: np.ndarray
) -> list[list[str]]:
    """nuPlan's ``get_route`` of the ego's ``(T, 2)`` centres: per sample the ids of the
    drivable lanes it is assigned to (empty where it is in none), narrowed by
    :func:`remove_extra_lanes`; ``yaws_rad (T,)`` order a fresh search (see the module
    docstring)."""
    route: list[list[str]] = []
    current: list[str] = []
    for (x, y), yaw in zip(np.asarray(centers_m, dtype=np.float64), yaws_rad, strict=True):
        point = shapely.Point(x, y)
        if current:
            current = [i for i in current if road_map.lane(i).polygon.covers(point)] or (
                [
                    s
                    for s in road_map.lane(current[0]).successors
                    if road_map.lane(s).drivable and road_map.lane(s).polygon.covers(point)
                ]
                if len(current) == 1
                else []
            )
        if not current:
            current = _lanes_covering(road_map, (float(x), float(y)), float(yaw))
        route.append(current)
    return remove_extra_lanes(road_map, route)


def _lanes_covering(road_map: RoadMap, point: tuple[float, float], yaw_rad: float) -> list[str]:
    """The drivable lanes covering ``point``: those heading within 90 degrees of ``yaw_rad``
    first, each group in map order."""
    covering = [i for i in road_map.lanes_at(point) if road_map.lane(i).drivable]
    if len(covering) < 2:
        return covering
    along = set(road_map.lanes_at(point, yaw_rad))
    return [i for i in covering if i in along] + [i for i in covering if i not in along]


def remove_extra_lanes(road_map: RoadMap, route: list[list[str]]) -> list[list[str]]:
    """nuPlan's ``remove_extra_lane_connectors`` on lane ids: walking from the last sample
    back, a sample with several lanes takes the next sample's lanes when it has more and they
    are all among its own (also when the next sample has none, as nuPlan's ``all([])`` reads),
    then, still having several and the next sample being in a lane, keeps those of them that
    are predecessors of the next sample's first lane (when any are)."""
    backwards = [list(lanes) for lanes in route[::-1]]
    for ind, lanes in enumerate(route[::-1]):
        if ind == 0 or len(lanes) <= 1:
            continue
        after = backwards[ind - 1]
        if len(lanes) > len(after) and all(i in lanes for i in after):
            backwards[ind] = after
        if after:
            incoming = set(road_map.lane(after[0]).predecessors)
            keep = [i for i in lanes if i in incoming]
            if keep:
                backwards[ind] = keep
    return backwards[::-1]


def baseline_progress_m(
    road_map: RoadMap, centers_m: np.ndarray, route: list[list[str]]
) -> np.ndarray:
    """``(T,)`` nuPlan's per-sample progress along the baseline of the first lane of each
    sample of ``route`` (:func:`ego_driven_lanes`); see the module docstring for the zeros."""
    centers = np.asarray(centers_m, dtype=np.float64)
    progress = np.zeros(len(route))
    prev_lane = route[0][0] if route and route[0] else None
    prev_station: float | None = None
    baseline: shapely.LineString | None = None  # prev_lane's, built once per stay in it
    for k, lanes in enumerate(route):
        if not lanes:
            continue
        if prev_lane is not None and lanes[0] == prev_lane:
            if baseline is None:
                baseline = shapely.LineString(road_map.lane(prev_lane).centerline_m)
            station = float(baseline.project(shapely.Point(centers[k])))
            if prev_station is not None and station:
                progress[k] = station - prev_station
            prev_station = station
        else:
            prev_station = None
            prev_lane = lanes[0]
            baseline = None
    return progress


def window_samples(timestamp_ns: np.ndarray, horizon_s: float = TIME_HORIZON_S) -> int:
    """nuPlan's ``n_horizon = int(time_horizon * 1e6 / mean(diff(time_us)))`` (the window sums
    ``n + 1`` samples); 0 for fewer than two samples."""
    if len(timestamp_ns) < 2:
        return 0
    mean_us = float(np.mean(np.diff(np.asarray(timestamp_ns, dtype=np.int64) // 1000)))
    return int(horizon_s * 1e6 / mean_us)


def max_backward_progress_m(progress_m: np.ndarray, n_horizon: int) -> float:
    """``abs(min)`` over samples ``i`` of ``sum(progress[max(0, i - n_horizon) : i + 1])``
    (>= 0: the first window sums the first sample's 0)."""
    if len(progress_m) == 0:
        return 0.0
    cum = np.concatenate([[0.0], np.cumsum(progress_m)])
    idx = np.arange(len(progress_m))
    sums = cum[idx + 1] - cum[np.maximum(0, idx - n_horizon)]
    return float(max(0.0, -np.min(sums)))


def direction_score(backwards_m: float) -> float:
    """1 below ``COMPLIANT_M`` backwards, 0.5 below ``VIOLATION_M``, else 0."""
    if backwards_m < COMPLIANT_M:
        return 1.0
    return 0.5 if backwards_m < VIOLATION_M else 0.0


def driving_direction_compliance(
    road_map: RoadMap, centers_m: np.ndarray, yaws_rad: np.ndarray, timestamp_ns: np.ndarray
) -> tuple[float, float]:
    """``(score, max backwards m)`` of the ego's ``(T, 2)`` box centres and ``(T,)`` headings
    at ``(T,)`` int64 timestamps (already checked: finite, strictly increasing)."""
    route = ego_driven_lanes(road_map, centers_m, yaws_rad)
    progress = baseline_progress_m(road_map, centers_m, route)
    backwards = max_backward_progress_m(progress, window_samples(timestamp_ns))
    return direction_score(backwards), backwards


__all__ = [
    "COMPLIANT_M",
    "TIME_HORIZON_S",
    "VIOLATION_M",
    "baseline_progress_m",
    "direction_score",
    "driving_direction_compliance",
    "ego_driven_lanes",
    "max_backward_progress_m",
    "remove_extra_lanes",
    "window_samples",
]
