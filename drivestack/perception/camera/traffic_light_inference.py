"""States of the lights a camera cannot read, inferred from the ones it reads.

A camera on the ego reads the lights that face it (those governing its route,
:mod:`drivestack.sim.perceived_lights`); every other light of the junction, e.g. the cross
road's, faces away and stays ``unknown``, so the planners forecast a cross car to drive on
through what is in fact its red. Real stacks infer such lights from the ones they see (Apollo's
and Autoware's map-based signal association: lights switched by one controller share a state;
a conflicting approach cannot be green while the ego's is). :class:`LightInference` does both,
each switched by :class:`~drivestack.perception.camera.traffic_light_state.InferUnseenConfig`:

1. **Same controller** (``same_controller``): lights with one
   :attr:`~drivestack.structures.traffic_light.TrafficLight.controller_id` (OpenDRIVE's
   ``<controller>``) switch together, so a light not read takes the state the camera read on
   a light of its controller; when two reads of one controller disagree, nothing is inferred
   from that controller. A controller whose lights have different cycles in the map
   (:func:`mixed_controllers`: a scenario gave only some of them one, or different ones)
   contradicts itself and is not used.
2. **Conflicting movement** (``conflicting_green``): when a light that governs the ego's
   route is read green, every light whose governed movement crosses the movement that green
   releases is inferred ``red``. Movements, not headings, decide (a main road may bend: its
   opposing approach can then come in at any angle, yet it shares the ego's green).
   Precomputed once per map and route (:func:`conflicting_lights`):

   - an approach's **through way** (:func:`through_way`) is the successor of its stop lane
     that goes on straight across the junction: with three ways out at least
     ``THROUGH_MAX_TURN_DEG`` apart in turn angle (a four-arm junction: right, on, left;
     a U-turn, more than ``U_TURN_DEG``, is not counted), the middle one, however far the
     road bends; otherwise the one turning least, when it turns at most
     ``THROUGH_MAX_TURN_DEG`` (none on a T-junction's side road). The turn angle is the
     heading change from the stop lane at its stop line to the successor's end;
   - the **reference way** of a route stop (a
     :class:`~drivestack.planning.traffic_lights.RouteLightStop`) is its stop lane's through
     way when the read light governs it (:func:`~drivestack.planning.traffic_lights.governs_way`;
     the route's way when the route itself goes on that way, :func:`route_way_lanes`: the
     successor and the route lanes after it in the same
     :attr:`~drivestack.structures.road_map.Lane.junction_id`), else the route's way (a
     light governing only the route's turn, or an approach with no through way);
   - another light's **movements** are the through ways of its stops that it governs; a
     light that governs none (turn-only: a T's side road, an arrow) has its governed turn
     ways instead. A light that governs a through way is never judged by its turn ways: an
     opposing permissive left turn shares the ego's green;
   - the light conflicts when one of its movements' centrelines enters the interior of one
     of the reference way's lane polygons (a right turn meeting it only at an edge does not).
     Opposing through ways run beside each other, bent or not: never inferred.

   A heading window is kept as a guard, not as the rule: a stop whose approach heading (at
   its line) is not ``min_crossing_deg``..``max_crossing_deg`` off the route stop's is
   skipped. Its lower bound keeps out the ego's own approach (a right arrow on the ego's lane
   starts inside the reference way yet may be green with it); its upper bound only drops
   inferences (an opposing turn-only light on a straight road), never makes a wrong one.
   Only a fresh green read counts: not a reading held over an unreadable frame, not yellow
   (its conflicting light may already be red-yellow).

Rules never override a light the camera gives a state (read this tick or held); a light
that both rules give different states gets none (``unknown``). Inferences are made from the
camera's reads only, never from another inference.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import shapely
from shapely.geometry import LineString

from drivestack.perception.camera.traffic_light_state import InferUnseenConfig
from drivestack.planning.traffic_lights import RouteLightStop, governs_way
from drivestack.structures.road_map import Lane, RoadMap, interpolate_polyline
from drivestack.structures.traffic_light import LaneStop, TrafficLight, check_state

#: Most route lanes after a stop lane counted as its way through one junction.
MAX_WAY_LANES = 8
#: The most a lone through way turns (degrees), and the least the three ways out of a
#: four-arm approach differ in turn angle for the middle one to be its through way.
THROUGH_MAX_TURN_DEG = 35.0
#: A way out turning more than this (degrees) is a U-turn: not one of an approach's three.
U_TURN_DEG = 170.0


def approach_heading_rad(lane: Lane, station_m: float) -> float:
    """The heading (rad) of ``lane``'s centreline at ``station_m`` (a stop line's station)."""
    _, yaw = interpolate_polyline(lane.centerline_m, [station_m])
    return float(yaw[0])


def heading_difference_deg(a_rad: float, b_rad: float) -> float:
    """The unsigned angle between two headings, degrees in [0, 180]."""
    d = math.remainder(a_rad - b_rad, 2.0 * math.pi)
    return abs(math.degrees(d))


def turn_deg(road_map: RoadMap, lane: Lane, station_m: float, successor: str) -> float:
    """The signed heading change (degrees in (-180, 180], left positive) from ``lane`` at
    ``station_m`` (its stop line) to the end of its successor ``successor``."""
    out = road_map.lane(successor).centerline_m
    end = math.atan2(out[-1, 1] - out[-2, 1], out[-1, 0] - out[-2, 0])
    d = math.degrees(math.remainder(end - approach_heading_rad(lane, station_m), 2.0 * math.pi))
    return 180.0 if d == -180.0 else d


def through_way(road_map: RoadMap, lane_id: str, station_m: float) -> str | None:
    """The successor of lane ``lane_id`` (stopped at ``station_m``) that goes straight on
    across the junction (module doc, rule 2), ``None`` when it has none: of exactly three
    ways out (U-turns, more than :data:`U_TURN_DEG`, left out) at least
    :data:`THROUGH_MAX_TURN_DEG` apart in turn angle, the middle one; otherwise the one
    turning least, if by at most :data:`THROUGH_MAX_TURN_DEG`."""
    lane = road_map.lane(lane_id)
    turns = sorted(
        (turn, succ)
        for succ in lane.successors
        if succ in road_map and abs(turn := turn_deg(road_map, lane, station_m, succ)) <= U_TURN_DEG
    )
    if not turns:
        return None
    if (
        len(turns) == 3
        and min(turns[1][0] - turns[0][0], turns[2][0] - turns[1][0]) >= THROUGH_MAX_TURN_DEG
    ):
        return turns[1][1]
    least, succ = min((abs(t), s) for t, s in turns)
    return succ if least <= THROUGH_MAX_TURN_DEG else None


def route_way_lanes(
    road_map: RoadMap, route_lanes: Sequence[str], stop_lane_id: str
) -> tuple[str, ...]:
    """The route's way through the junction past its stop on ``stop_lane_id``: the route's
    lane after it when that is a successor (``()`` when the route ends on the stop lane or
    changes lane off it), then the route's next lanes while they share that lane's
    non-``None`` ``junction_id`` (at most :data:`MAX_WAY_LANES`)."""
    order = list(dict.fromkeys(route_lanes))
    if stop_lane_id not in order:
        return ()
    i = order.index(stop_lane_id)
    if i + 1 >= len(order) or order[i + 1] not in road_map.lane(stop_lane_id).successors:
        return ()
    first = road_map.lane(order[i + 1])
    way = [first.lane_id]
    for lane_id in order[i + 2 : i + 1 + MAX_WAY_LANES]:
        if first.junction_id is None or road_map.lane(lane_id).junction_id != first.junction_id:
            break
        way.append(lane_id)
    return tuple(way)


def reference_way_lanes(
    road_map: RoadMap, route_lanes: Sequence[str], stop: RouteLightStop
) -> tuple[str, ...]:
    """The way through the junction that a green of route stop ``stop``'s light releases
    (module doc, rule 2): its stop lane's :func:`through_way` when the light governs it (the
    route's way, :func:`route_way_lanes`, when the route goes on that way), else the route's
    way (``()`` when the route has none)."""
    route_way = route_way_lanes(road_map, route_lanes, stop.lane_id)
    light = road_map.traffic_light(stop.light_id)
    lane_stop = light.stop_on(stop.lane_id)
    if lane_stop is None:  # pragma: no cover - route stops come from the map's lights
        return route_way
    through = through_way(road_map, stop.lane_id, lane_stop.station_m)
    if through is None or not governs_way(light, road_map.lane(stop.lane_id), through):
        return route_way
    return route_way if route_way[:1] == (through,) else (through,)


def light_movements(road_map: RoadMap, light: TrafficLight, stops: Sequence[LaneStop]) -> list[str]:
    """The ways across the junction that ``light`` releases from its stops ``stops`` (module
    doc, rule 2): the through ways it governs; when it governs none, its governed turn ways
    (every successor it governs)."""
    through: list[str] = []
    turns: list[str] = []
    for stop in stops:
        lane = road_map.lane(stop.lane_id)
        way = through_way(road_map, stop.lane_id, stop.station_m)
        if way is not None and governs_way(light, lane, way):
            through.append(way)
        turns.extend(
            succ
            for succ in lane.successors
            if succ in road_map and succ != way and governs_way(light, lane, succ)
        )
    return through or turns


def conflicting_lights(
    road_map: RoadMap,
    route_lanes: Sequence[str],
    route_stops: Sequence[RouteLightStop],
    min_crossing_deg: float = 45.0,
    max_crossing_deg: float = 135.0,
) -> dict[str, frozenset[str]]:
    """Route light id -> the ids of the lights whose movements cross the way a green of that
    light releases (module doc, rule 2: :func:`reference_way_lanes`, :func:`light_movements`),
    for the stops ``route_stops`` the route ``route_lanes`` passes
    (:func:`~drivestack.planning.traffic_lights.route_light_stops`); stops of other lights
    whose approach heading is not ``min_crossing_deg``..``max_crossing_deg`` off the route
    stop's are left out. A route light with no conflicting light maps to an empty set."""
    out: dict[str, set[str]] = {stop.light_id: set() for stop in route_stops}
    for rstop in route_stops:
        way = reference_way_lanes(road_map, route_lanes, rstop)
        if not way:
            continue
        areas = [road_map.lane(lane_id).polygon for lane_id in way]
        for area in areas:
            shapely.prepare(area)
        light = road_map.traffic_light(rstop.light_id)
        lane_stop = light.stop_on(rstop.lane_id)
        if lane_stop is None:  # pragma: no cover - route stops come from the map's lights
            continue
        heading = approach_heading_rad(road_map.lane(rstop.lane_id), lane_stop.station_m)
        for other in road_map.traffic_lights:
            if other.light_id == light.light_id or other.light_id in out[light.light_id]:
                continue
            stops = [
                stop
                for stop in other.stops
                if min_crossing_deg
                <= heading_difference_deg(
                    approach_heading_rad(road_map.lane(stop.lane_id), stop.station_m), heading
                )
                <= max_crossing_deg
            ]
            if stops and any(
                _enters(areas, LineString(road_map.lane(succ).centerline_m))
                for succ in light_movements(road_map, other, stops)
            ):
                out[light.light_id].add(other.light_id)
    return {light_id: frozenset(ids) for light_id, ids in out.items()}


def _enters(areas: list[shapely.Polygon], line: LineString) -> bool:
    """Whether ``line`` meets the interior of one of ``areas`` (not only an edge)."""
    return any(area.intersects(line) and not area.touches(line) for area in areas)


def controller_groups(road_map: RoadMap) -> dict[str, tuple[str, ...]]:
    """Controller id -> the ids of its lights (map order), for the lights that name one."""
    groups: dict[str, list[str]] = {}
    for light in road_map.traffic_lights:
        if light.controller_id is not None:
            groups.setdefault(light.controller_id, []).append(light.light_id)
    return {cid: tuple(ids) for cid, ids in groups.items()}


def mixed_controllers(road_map: RoadMap) -> dict[str, tuple[str, ...]]:
    """Controller id -> the ids of its lights, for the controllers whose lights do not all
    have the same :attr:`~drivestack.structures.traffic_light.TrafficLight.cycle` (some
    ``None``, or cycles that differ in phases, offset or switches): the map contradicts
    itself, since one controller switches its lights together."""
    groups = controller_groups(road_map)
    return {
        cid: ids
        for cid, ids in groups.items()
        if len({road_map.traffic_light(i).cycle for i in ids}) > 1
    }


class LightInference:
    """``infer(reads, reported) -> {light_id: state}``: the states of ``road_map``'s lights
    that the camera gives none, inferred from its reads this tick (module doc). Built once per
    map and route: ``route_lanes`` and its light stops ``route_stops``; ``config`` switches
    the rules and bounds the crossing angle. The controllers whose lights' cycles differ in
    ``road_map`` (:func:`mixed_controllers`; pass the map with the scenario's cycles) are
    not used. Holds no state between ticks."""

    def __init__(
        self,
        road_map: RoadMap,
        route_lanes: Sequence[str],
        route_stops: Sequence[RouteLightStop],
        config: InferUnseenConfig,
    ) -> None:
        self.config = config
        mixed = mixed_controllers(road_map)
        self.controllers = (
            {cid: ids for cid, ids in controller_groups(road_map).items() if cid not in mixed}
            if config.same_controller
            else {}
        )
        self.conflicts = (
            conflicting_lights(
                road_map,
                route_lanes,
                route_stops,
                config.min_crossing_deg,
                config.max_crossing_deg,
            )
            if config.conflicting_green
            else {}
        )

    def infer(self, reads: Mapping[str, str], reported: Mapping[str, str]) -> dict[str, str]:
        """Light id -> inferred state for each light not read in a state this tick whose
        ``reported`` state (what the camera gives the planner, holds included; a light not
        listed counts as ``unknown``) is ``unknown`` and that the rules give one state.
        ``reads``: light id -> the state the camera read this tick (fresh, not held;
        ``unknown`` reads are ignored). ``ValueError`` for a state not in
        :data:`~drivestack.structures.traffic_light.SIGNAL_STATES`."""
        fresh = {
            light_id: check_state(state, f"LightInference read of {light_id!r}")
            for light_id, state in reads.items()
        }
        fresh = {light_id: s for light_id, s in fresh.items() if s != "unknown"}
        votes: dict[str, set[str]] = {}
        for ids in self.controllers.values():
            seen = {fresh[i] for i in ids if i in fresh}
            if len(seen) == 1:
                (state,) = seen
                for i in ids:
                    votes.setdefault(i, set()).add(state)
        for light_id, crossing in self.conflicts.items():
            if fresh.get(light_id) == "green":
                for i in crossing:
                    votes.setdefault(i, set()).add("red")
        return {
            light_id: next(iter(states))
            for light_id, states in votes.items()
            if len(states) == 1
            and light_id not in fresh
            and reported.get(light_id, "unknown") == "unknown"
        }
