"""Agent forecasts that stop at red lights: the planners' forecast of a car driving along its
lane towards a stop line whose light tells it to stop ends at that line.

The planners forecast other agents at constant velocity (or along their lane), so a car
approaching its own red light is forecast to drive on through the junction, and the ego may
brake at its green for a car that will stop. :func:`stop_forecasts_at_lights` clips such a
forecast at the line:

1. the agent's lane: :func:`~drivestack.prediction.forecast.lane_matches` (a vehicle moving
   forwards along its heading, its nearest lane running its way within
   ``LIGHT_LANE_DISTANCE_M`` and within ``LIGHT_LANE_HEADING_RAD`` of its heading), followed
   on through successors while a lane has exactly one (:func:`lane_chain`; after a fork the
   agent's way is unknown and a light beyond it is not looked at) far enough to cover its
   travel over the horizon;
2. the stop lines on that lane chain (:func:`~drivestack.planning.traffic_lights.path_light_stops`,
   as for the simulator's ``idm`` agents; a planner finds each chain's once) whose light
   governs the chain's way on (a turn arrow governs only some ways out of its lane,
   :func:`~drivestack.planning.traffic_lights.governs_way`; on the chain's last lane, where
   the agent's way on is unknown, only a light governing every way out is counted: an agent
   forecast to stop at a left arrow it may drive straight past would be a forecast the ego
   could trust wrongly) and the one it stops at: the ego's rule
   (:class:`~drivestack.planning.traffic_lights.LightStopRule`, fresh each step, with the
   agent's centre-to-front ``length / 2`` as front offset): the first line ahead whose light
   shows a stop state (red, red-yellow) it can stop before within ``stop_decel_mps2``, or
   yellow within ``comfort_decel_mps2`` (to the stop point ``stop_gap_m`` before the line);
   a line it cannot stop before is driven through, like a passed line or one at green, off
   or unknown;
3. its forecast (whatever model made it) is clipped where its centre has travelled ``room``,
   the distance from its front to the line along the lane: from the first step that reaches
   that travel on, the box stands there (position interpolated on the step's segment, the
   previous step's heading) with speed 0. Before it, the forecast is unchanged: the car is
   forecast to drive on at its speed and stop dead at the line, which is where it will be no
   later than the forecast (it brakes before the line), so a plan that keeps clear of the
   clipped box keeps clear of the car.

Agents with no matched lane, reversing, standing, past every line or facing a go state keep
their forecast exactly (the same arrays); with no light showing yellow or a stop state the
forecast is returned as given.
"""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np

from drivestack.planning.traffic_lights import LightStopRule, RouteLightStop, path_light_stops
from drivestack.prediction.forecast import Forecast, lane_matches
from drivestack.structures.boxes import Boxes3D
from drivestack.structures.road_map import Lane, RoadMap
from drivestack.structures.traffic_light import STOP_STATES

#: How far (m) an agent's centre may be from its lane's centreline to be matched to it.
LIGHT_LANE_DISTANCE_M = 3.0
#: How far (rad) an agent's heading may be off its lane's to be matched to it (30 degrees).
LIGHT_LANE_HEADING_RAD = math.radians(30.0)
#: Slowest speed (m/s) along its heading at which an agent's forecast is clipped (a standing
#: agent's forecast goes nowhere).
LIGHT_MIN_SPEED_MPS = 0.1
#: Most lanes a lane chain follows (a loop of single successors ends it sooner).
MAX_CHAIN_LANES = 32


def lane_chain(road_map: RoadMap, lane: Lane, need_m: float) -> tuple[str, ...]:
    """The lane ids from ``lane`` on through each lane's successor while it has exactly one
    (and it is not in the chain yet), until their length reaches ``need_m`` from ``lane``'s
    start or ``MAX_CHAIN_LANES`` lanes."""
    ids = [lane.lane_id]
    length_m = lane.length_m
    last = lane
    while length_m < need_m and len(ids) < MAX_CHAIN_LANES and len(last.successors) == 1:
        (succ,) = last.successors
        if succ in ids:
            break
        last = road_map.lane(succ)
        ids.append(succ)
        length_m += last.length_m
    return tuple(ids)


def chain_light_stops(road_map: RoadMap, lanes: tuple[str, ...]) -> tuple[RouteLightStop, ...]:
    """:func:`~drivestack.planning.traffic_lights.path_light_stops` along the joined
    centreline of the lane chain ``lanes`` (:func:`lane_chain`), a stop on its last lane
    kept only when its light governs every way out of that lane (``ends_governed=False``:
    the agent's way on is not known there)."""
    parts = [road_map.lane(lanes[0]).centerline_m]
    parts.extend(road_map.lane(lane_id).centerline_m[1:] for lane_id in lanes[1:])
    return path_light_stops(road_map, lanes, np.concatenate(parts), ends_governed=False)


def light_stop_travel_m(
    agents: Boxes3D,
    road_map: RoadMap,
    traffic_lights: tuple[tuple[str, str], ...],
    horizon_s: float,
    *,
    comfort_decel_mps2: float,
    stop_decel_mps2: float,
    max_decel_mps2: float,
    stop_gap_m: float,
    chain_stops: dict[tuple[str, ...], tuple[RouteLightStop, ...]] | None = None,
) -> dict[int, float]:
    """``{agent row: metres its centre may travel}`` for the agents that stop at a light
    (steps 1-2 of the module docstring), the travel being the distance from the front to the
    line along the lane (> 0). ``traffic_lights``: ``(light_id, state)`` pairs as
    ``Observation.traffic_lights``; the decelerations and gap as :class:`LightStopRule`'s.
    ``agents`` must be in the map's frame. ``chain_stops``: a cache of
    :func:`chain_light_stops` by lane chain for ``road_map``, kept by the caller across steps
    (a planner's, filled as chains come up)."""
    states = dict(traffic_lights)
    if not road_map.traffic_lights or not any(
        s == "yellow" or s in STOP_STATES for s in states.values()
    ):
        return {}
    if chain_stops is None:
        chain_stops = {}
    out: dict[int, float] = {}
    for match in lane_matches(
        agents, road_map, min_speed_mps=LIGHT_MIN_SPEED_MPS,
        max_lane_distance_m=LIGHT_LANE_DISTANCE_M, max_heading_error_rad=LIGHT_LANE_HEADING_RAD,
    ):  # fmt: skip
        if match.speed_mps <= 0.0:
            continue  # reversing
        half_length_m = 0.5 * float(agents.size_m[match.index, 0])
        need_m = match.station_m + half_length_m + match.speed_mps * horizon_s
        lanes = lane_chain(road_map, match.lane, need_m)
        stops = chain_stops.get(lanes)
        if stops is None:
            stops = chain_stops[lanes] = chain_light_stops(road_map, lanes)
        if not stops:
            continue
        rule = LightStopRule(
            stops,
            half_length_m,
            comfort_decel_mps2=comfort_decel_mps2,
            stop_decel_mps2=stop_decel_mps2,
            max_decel_mps2=max_decel_mps2,
            stop_gap_m=stop_gap_m,
        )
        decision = rule.step(traffic_lights, match.station_m, match.speed_mps)
        if decision.station_m is not None:
            out[match.index] = decision.station_m - (match.station_m + half_length_m)
    return out


def clip_forecast(forecast: Forecast, travel_m: dict[int, float]) -> Forecast:
    """``forecast`` with agent ``i``'s boxes stopped where its centre has travelled
    ``travel_m[i]`` (> 0) along its forecast path, speed 0 from that step on (step 3 of the
    module docstring); other agents' rows unchanged. ``forecast`` itself when nothing is
    clipped."""
    boxes, speed = forecast.boxes, forecast.speed_mps
    copied = False
    for i, limit_m in travel_m.items():
        xy = boxes[i, :, :2]
        travelled = np.concatenate([[0.0], np.cumsum(np.hypot(*np.diff(xy, axis=0).T))])
        reached = np.flatnonzero(travelled >= limit_m)
        if reached.size == 0 or reached[0] == 0:
            continue  # it does not reach the line within the horizon (the line is ahead)
        if not copied:
            boxes, speed, copied = boxes.copy(), speed.copy(), True
        j = int(reached[0])
        step_m = travelled[j] - travelled[j - 1]
        frac = (limit_m - travelled[j - 1]) / step_m
        stop_xy = xy[j - 1] + frac * (xy[j] - xy[j - 1])
        boxes[i, j:, :2] = stop_xy
        boxes[i, j:, 6] = boxes[i, j - 1, 6]
        speed[i, j:] = 0.0
    return replace(forecast, boxes=boxes, speed_mps=speed) if copied else forecast


def stop_forecasts_at_lights(
    forecast: Forecast,
    agents: Boxes3D,
    road_map: RoadMap,
    traffic_lights: tuple[tuple[str, str], ...],
    *,
    comfort_decel_mps2: float,
    stop_decel_mps2: float,
    max_decel_mps2: float,
    stop_gap_m: float,
    chain_stops: dict[tuple[str, ...], tuple[RouteLightStop, ...]] | None = None,
) -> Forecast:
    """``forecast (A, T+1)`` of ``agents`` (its rows, in the map's frame), each agent that
    stops at a light (:func:`light_stop_travel_m`) clipped at the line
    (:func:`clip_forecast`); ``forecast`` itself when none is. ``chain_stops``: as
    :func:`light_stop_travel_m`'s."""
    travel = light_stop_travel_m(
        agents, road_map, traffic_lights, forecast.n_steps * forecast.dt_s,
        comfort_decel_mps2=comfort_decel_mps2, stop_decel_mps2=stop_decel_mps2,
        max_decel_mps2=max_decel_mps2, stop_gap_m=stop_gap_m, chain_stops=chain_stops,
    )  # fmt: skip
    return clip_forecast(forecast, travel) if travel else forecast
