"""Give way at a stop sign: when a simulated ``idm`` agent that has stood at its sign may go.

A stop sign's line released (:class:`~drivestack.planning.stop_signs.StopSignRule`: stood
still for the dwell), an ``idm`` agent goes only when the priority road is clear
(:mod:`drivestack.sim.agents`). A simple, deterministic gap-acceptance rule:

- **Where paths cross** (once, when the scenario is built: :func:`sign_conflicts`): the
  *junction part* of the agent's path runs from the sign's line through the junction: to the
  end of the lanes after the sign's lane that lie in the junction (:attr:`Lane.junction_id
  <drivestack.structures.road_map.Lane.junction_id>` of the next lane, where the map marks
  junctions: OpenDRIVE, Argoverse 2, CommonRoad, the synthetic junction); on a map that marks
  none (Lanelet2), :data:`~drivestack.planning.stop_signs.JUNCTION_REACH_M` past the line or to the end of the lane
  after the sign's lane when that is farther; never past the path's end. Every other
  drivable lane of the map whose centreline meets that part is a
  *crossing lane* (a crossing, or a merge where it ends where the agent's lane ends); the
  *conflict point* is where its centreline first meets the part, along the agent's path.
  The agent's own lanes, the lanes that leave one of them (beside its path, or on from its
  last lane) and any lane the path meets only at the line are not crossing lanes: who drives
  there is ahead of or behind the agent, IDM's business.
- **Who may come** (:class:`Approach`): an actor on a crossing lane, or on a lane leading
  into it through predecessors whose end is less than :data:`LOOKBACK_M` before the
  conflict point; *on* a lane means its centre in the lane's polygon (its edge included: at
  the seam of two lanes it is on both), its heading within
  :data:`~drivestack.planning.stop_signs.MAX_HEADING_ERROR_RAD` of the lane's
  (:func:`~drivestack.planning.stop_signs.on_lane`). Its distance to the conflict point is
  measured along that lane chain from its centre.
- **Who has priority**: an actor that still has a stop line of a sign that stops traffic
  (:attr:`~drivestack.structures.road_map.StopSign.stops_traffic`) between its front and the
  conflict point must stop there itself: it does not hold the agent up here. Nor does one
  whose rear has left the conflict point behind by more than half the agent's width. At an
  all-way stop the arrival order decides among those that stop
  (:class:`~drivestack.planning.stop_signs.ArrivalOrder`, one per rule shared by the agents,
  the ego in it: :mod:`drivestack.sim.agents`): an agent released by its dwell also waits
  while an actor that came to a stop at another line of the rule before it (or at the same
  time with a smaller id; the ego's is the smallest) still stands there, moves off or
  crosses the junction, whether or not its line is still ahead of it.
- **The gap** (:func:`blocking_actor`): the agent waits while an actor with priority has its
  front within half the agent's width of the conflict point (it is there) or would reach it
  at its current speed in less than :data:`GAP_S` (a standing actor never reaches it).
  Lights are not looked at: a car coming to its red holds the agent up until it is slow
  enough.

Once the way is clear the agent goes, and keeps going whoever comes later (the decision is
taken at the line, not inside the junction). The ego counts as any other actor.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import numpy as np
import shapely
from shapely.geometry import LineString
from shapely.ops import substring

from drivestack.planning.stop_signs import JUNCTION_REACH_M as JUNCTION_REACH_M  # (re-exported)
from drivestack.planning.stop_signs import RouteSignStop, on_lane
from drivestack.planning.traffic_lights import FRONT_TOLERANCE_M
from drivestack.structures.road_map import (
    Lane,
    RoadMap,
    polyline_stations,
    project_to_polyline,
)

#: The gap (s) an agent at its stop sign accepts: it waits for an actor with priority that
#: would reach the conflict point sooner at its current speed.
GAP_S = 4.0
#: How far (m) before a conflict point the lanes leading to it are watched (an actor farther
#: away reaches it within :data:`GAP_S` only above 37.5 m/s).
LOOKBACK_M = 150.0


@dataclass(frozen=True)
class Approach:
    """A lane ``lane`` leading to a conflict point: the point lies ``end_m`` along its
    centreline's stations (past its end for a lane before the crossing lane: continued along
    successors); ``sign_m``: how far before the point the nearest stop line of a sign that
    stops traffic lies on the way from this lane to it (``inf``: none)."""

    lane: Lane
    end_m: float
    sign_m: float


@dataclass(frozen=True)
class Conflict:
    """Crossing lane ``lane_id``'s centreline meets the agent's path at ``station_m`` (along
    the agent's path) and ``xy_m``; ``approaches``: the lanes to watch, the crossing lane
    first (:func:`sign_conflicts`)."""

    lane_id: str
    station_m: float
    xy_m: tuple[float, float]
    approaches: tuple[Approach, ...]


def sign_conflicts(
    road_map: RoadMap,
    lanes: list[str] | tuple[str, ...],
    path_m: np.ndarray,
    stop: RouteSignStop,
    preds: dict[str, set[str]] | None = None,
) -> tuple[Conflict, ...]:
    """The conflict points of the junction part of ``path_m`` (an agent's path along
    ``lanes``) behind sign stop ``stop`` (one of the path's sign stops), in station order
    along the path (then lane id): module docstring. ``preds``: the map's
    :func:`lane_predecessors` (worked out here when not given)."""
    order = list(dict.fromkeys(lanes))
    k = order.index(stop.lane_id)
    end_m = _junction_end_m(road_map, order[k + 1 :], path_m, stop.station_m)
    if end_m <= stop.station_m:
        return ()
    part = substring(LineString(path_m), stop.station_m, end_m)
    lo_x, lo_y, hi_x, hi_y = part.bounds
    own = set(order)
    preds = lane_predecessors(road_map) if preds is None else preds
    found: list[Conflict] = []
    for lane in road_map.lanes:
        if lane.lane_id in own or not lane.drivable or own & preds[lane.lane_id]:
            continue  # its own, not for cars, or leaving one of its own lanes beside its path
        c = lane.centerline_m
        if c[:, 0].max() < lo_x or c[:, 0].min() > hi_x:
            continue
        if c[:, 1].max() < lo_y or c[:, 1].min() > hi_y:
            continue
        met = part.intersection(LineString(c))
        if met.is_empty:
            continue
        points = shapely.get_coordinates(met)
        station, _ = project_to_polyline(path_m, points)
        first = int(np.argmin(station))
        if station[first] <= stop.station_m + 1e-6:
            continue  # it meets the path only at the line: a lane beside the sign's
        point = points[first]
        on_lane, _ = project_to_polyline(c, point[None, :])
        at = float(np.clip(on_lane[0], 0.0, lane.length_m))
        found.append(
            Conflict(
                lane.lane_id,
                float(station[first]),
                (float(point[0]), float(point[1])),
                _approaches(road_map, preds, lane, at),
            )
        )
    return tuple(sorted(found, key=lambda c: (c.station_m, c.lane_id)))


def _junction_end_m(
    road_map: RoadMap, after: list[str], path_m: np.ndarray, line_m: float
) -> float:
    """Where the junction part of ``path_m`` that starts at its stop line (station
    ``line_m``) ends, ``after`` the lanes of the path after the sign's lane (module
    docstring)."""
    length = float(polyline_stations(path_m)[-1])
    if not after:
        return min(line_m, length)
    junction = road_map.lane(after[0]).junction_id
    inside = [after[0]]
    if junction is not None:
        inside += itertools.takewhile(
            lambda lane_id: road_map.lane(lane_id).junction_id == junction, after[1:]
        )
    end, _ = project_to_polyline(path_m, road_map.lane(inside[-1]).centerline_m[-1:])
    end_m = float(end[0])
    if junction is None:
        end_m = max(end_m, line_m + JUNCTION_REACH_M)
    return min(end_m, length)


def lane_predecessors(road_map: RoadMap) -> dict[str, set[str]]:
    """Each lane's predecessors: those it names and the lanes that name it as a successor (a
    map may give the link one way only)."""
    preds = {lane.lane_id: set(lane.predecessors) for lane in road_map.lanes}
    for lane in road_map.lanes:
        for succ in lane.successors:
            preds[succ].add(lane.lane_id)
    return preds


def _approaches(
    road_map: RoadMap, preds: dict[str, set[str]], lane: Lane, at_m: float
) -> tuple[Approach, ...]:
    """The lanes to watch for a conflict point ``at_m`` along ``lane``: ``lane``, then its
    predecessors (``preds``: :func:`lane_predecessors`) breadth first (in id order) while their
    end lies less than :data:`LOOKBACK_M` before the point, each lane once."""
    out: list[Approach] = []
    seen = {lane.lane_id}
    todo = [(lane, at_m, math.inf)]
    while todo:
        current, end_m, sign_m = todo.pop(0)
        lines = [
            end_m - s
            for sign, s in road_map.sign_stops(current.lane_id)
            if sign.stops_traffic and s <= end_m
        ]
        sign_m = min([sign_m, *lines])
        out.append(Approach(current, end_m, sign_m))
        if end_m >= LOOKBACK_M:
            continue  # its predecessors end (its start lies) too far before the point
        for pred_id in sorted(preds[current.lane_id]):
            if pred_id in seen:
                continue
            seen.add(pred_id)
            pred = road_map.lane(pred_id)
            todo.append((pred, pred.length_m + end_m, sign_m))
    return tuple(out)


def blocking_actor(
    conflicts: tuple[Conflict, ...],
    xy_m: np.ndarray,
    yaw_rad: np.ndarray,
    speed_mps: np.ndarray,
    length_m: np.ndarray,
    clear_m: float,
) -> int | None:
    """The first of ``M`` actors (centres ``xy_m (M, 2)``, ``yaw_rad``, ``speed_mps`` and
    ``length_m (M,)``) that holds up an agent waiting at its sign with ``conflicts``
    (module docstring; ``clear_m``: half the agent's width), ``None`` when the way is clear.
    Lanes shared by several conflicts are looked at once."""
    if not conflicts or len(xy_m) == 0:
        return None
    where: dict[str, tuple[np.ndarray, np.ndarray]] = {}  # lane id -> (on it, station)
    blocked = np.zeros(len(xy_m), dtype=bool)
    for conflict in conflicts:
        for approach in conflict.approaches:
            lane = approach.lane
            if lane.lane_id not in where:
                where[lane.lane_id] = on_lane(lane, xy_m, yaw_rad)
            on, station = where[lane.lane_id]
            centre_m = approach.end_m - station
            front_m = centre_m - 0.5 * length_m
            rear_m = centre_m + 0.5 * length_m
            priority = front_m < approach.sign_m - FRONT_TOLERANCE_M
            there = (front_m <= clear_m) & (rear_m >= -clear_m)
            coming = (front_m > clear_m) & (front_m < GAP_S * speed_mps)
            blocked |= on & priority & (there | coming)
    hits = np.flatnonzero(blocked)
    return int(hits[0]) if len(hits) else None
