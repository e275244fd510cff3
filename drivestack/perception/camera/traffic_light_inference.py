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
   from that controller.
2. **Conflicting approach** (``conflicting_green``): when a light that governs the ego's
   route is read green, every light whose governed way through the junction crosses the
   route's way is inferred ``red``. Precomputed once per map and route
   (:func:`conflicting_lights`): for each stop the route passes (a
   :class:`~drivestack.planning.traffic_lights.RouteLightStop`), the route's way through the
   junction is the lanes after the stop lane (the route's next lane, a successor, and the
   route lanes after it in the same :attr:`~drivestack.structures.road_map.Lane.junction_id`);
   another light conflicts with it when one of its stops (a) approaches at a heading
   ``min_crossing_deg``..``max_crossing_deg`` off the route's at its line (headings of the
   stop lanes at their stop stations: crossing, not opposing, since opposing traffic may
   share a green with a permissive left turn, nor the same approach) and (b) has a way out it
   governs (a successor of its stop lane that
   :func:`~drivestack.planning.traffic_lights.governs_way`) whose centreline enters the
   interior of one of the route's way lanes' polygons (a right turn that only meets the
   route's lanes at an edge does not). Only a fresh green read counts: not a reading held
   over an unreadable frame, not yellow (its conflicting light may already be red-yellow).

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
from drivestack.structures.traffic_light import check_state

#: Most route lanes after a stop lane counted as its way through one junction.
MAX_WAY_LANES = 8


def approach_heading_rad(lane: Lane, station_m: float) -> float:
    """The heading (rad) of ``lane``'s centreline at ``station_m`` (a stop line's station)."""
    _, yaw = interpolate_polyline(lane.centerline_m, [station_m])
    return float(yaw[0])


def heading_difference_deg(a_rad: float, b_rad: float) -> float:
    """The unsigned angle between two headings, degrees in [0, 180]."""
    d = math.remainder(a_rad - b_rad, 2.0 * math.pi)
    return abs(math.degrees(d))


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


def conflicting_lights(
    road_map: RoadMap,
    route_lanes: Sequence[str],
    route_stops: Sequence[RouteLightStop],
    min_crossing_deg: float = 45.0,
    max_crossing_deg: float = 135.0,
) -> dict[str, frozenset[str]]:
    """Route light id -> the ids of the lights whose governed ways cross the route's way
    past that light's stops (module doc, rule 2), for the stops ``route_stops`` the route
    ``route_lanes`` passes (:func:`~drivestack.planning.traffic_lights.route_light_stops`).
    A route light with no crossing light maps to an empty set."""
    out: dict[str, set[str]] = {stop.light_id: set() for stop in route_stops}
    for rstop in route_stops:
        way = route_way_lanes(road_map, route_lanes, rstop.lane_id)
        if not way:
            continue
        areas = [road_map.lane(lane_id).polygon for lane_id in way]
        for area in areas:
            shapely.prepare(area)
        light = road_map.traffic_light(rstop.light_id)
        lane_stop = light.stop_on(rstop.lane_id)
        if lane_stop is None:  # pragma: no cover - route stops come from the map's lights
            continue
        ego_lane = road_map.lane(rstop.lane_id)
        heading = approach_heading_rad(ego_lane, lane_stop.station_m)
        for other in road_map.traffic_lights:
            if other.light_id == light.light_id or other.light_id in out[light.light_id]:
                continue
            for stop in other.stops:
                lane = road_map.lane(stop.lane_id)
                angle = heading_difference_deg(approach_heading_rad(lane, stop.station_m), heading)
                if not min_crossing_deg <= angle <= max_crossing_deg:
                    continue
                if any(
                    governs_way(other, lane, succ)
                    and _enters(areas, LineString(road_map.lane(succ).centerline_m))
                    for succ in lane.successors
                    if succ in road_map
                ):
                    out[light.light_id].add(other.light_id)
                    break
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


class LightInference:
    """``infer(reads, reported) -> {light_id: state}``: the states of ``road_map``'s lights
    that the camera gives none, inferred from its reads this tick (module doc). Built once per
    map and route: ``route_lanes`` and its light stops ``route_stops``; ``config`` switches
    the rules and bounds the crossing angle. Holds no state between ticks."""

    def __init__(
        self,
        road_map: RoadMap,
        route_lanes: Sequence[str],
        route_stops: Sequence[RouteLightStop],
        config: InferUnseenConfig,
    ) -> None:
        self.config = config
        self.controllers = controller_groups(road_map) if config.same_controller else {}
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
