"""Traffic-light stops for the planners: which stop line of the route the ego must stop at.
The simulator's ``idm`` agents obey lights with the same rule (:mod:`drivestack.sim.agents`).

Once per planner, :func:`route_light_stops` places every stop of the map's lights on the
route's lanes (:meth:`RoadMap.light_stops
<drivestack.structures.road_map.RoadMap.light_stops>`) as a station on the route's reference
path: the lane-centreline point at the stop's station, projected onto the path. A stop is
kept only when that projection lies on the route's own lane: the path passes the point within
the lane's half width there (where the route changes lane across a stop line, the lane the
path is in at the line keeps its stop; a lane the path has already left, or a part of the
path elsewhere, does not). :func:`path_light_stops` does the same for any polyline along
given lanes (an ``idm`` agent's lane path).

Which ways a light governs: a light may govern only some of the ways out of a stop's lane (a
turn arrow: CommonRoad's ``<direction>``, resolved by the reader to
:attr:`~drivestack.structures.traffic_light.LaneStop.next_lanes`; ``None``, every way out,
for every other light). A stop is placed on a route or path only when the lanes go on from
the stop's lane into a lane it governs (:func:`governs_way`): a route going straight past a
red left arrow does not stop there, one turning left does. A route that ends on the stop's
lane stops (it may go any way on), as does one changing lane off it; for a lane chain whose
way on is unknown (the agent forecast's, :mod:`~drivestack.planning.light_forecast`, ending
at a fork) a stop counts only when its light governs every way out.

Each step, :class:`LightStopRule` says which of those stops the ego must stop at: the first
one ahead whose light requires it (:class:`LightDecision`). With ``room`` the distance from
the ego's front bumper to the line (``front_offset_m`` ahead of the rear axle's station along
the path) and ``v`` the ego's speed, ``need = v^2 / (2 d)`` is the constant deceleration that
stops the front where the planners stop, ``d = max(room - stop_gap_m, room / 2)`` ahead
(:func:`stop_distance_m`: the planners' IDM standstill gap ``idm.min_gap_m`` before the line,
or halfway to it once nearer than twice the gap; 0 standing, infinite moving with no room
left). Per stop, in station order:

- passed (the front more than ``FRONT_TOLERANCE_M`` beyond the line): ignored;
- green or off: go;
- unknown: as the rule's ``unknown_light`` policy (:data:`UNKNOWN_LIGHT_POLICIES`) says.
  ``"go"`` (the default): go, right where the states are the truth, since the simulator
  reports unknown only for lights without a cycle (Lanelet2 and OpenDRIVE maps place lights
  without saying what they show) and recorded logs give no states at all. ``"yellow"``: as
  yellow below (stop when it can do so comfortably, else go), for a planner fed lights by
  perception (``drivestack sim --lights camera``), where unknown means "could not read it"
  and the light may well be red. Autoware's ``behavior_velocity_traffic_light_module`` is
  stricter still: every state but green (unknown included) is a stop unless its pass judge
  finds the ego cannot stop before the line; a light whose signal timed out is a stop, one
  never received a pass. ``"yellow"`` is that rule with the comfortable deceleration as the
  pass judge's limit (a misread red is not worth a hard stop from behind), and it goes on
  the same way through a light it could not stop for comfortably;
- yellow: stop when ``need <= comfort_decel_mps2`` (the planners' ``idm.comfort_decel_mps2``,
  3 m/s^2 by default); otherwise go (the amber rule of Apollo's and CARLA's planners, and of
  traffic law: proceed when you cannot stop safely);
- a stop state (:data:`~drivestack.structures.traffic_light.STOP_STATES`: red, red-yellow):
  stop when ``need <= stop_decel_mps2`` (``PDMParams.light_stop_decel_mps2``, 6 m/s^2 by
  default), also when the ego went on at this light's yellow: a short yellow turns red while
  the ego can still stop, and it stops then. Otherwise it is committed and carries on through
  the line (``LightDecision.committed`` names the light): a red that needs more than
  ``stop_decel_mps2`` is driven through, by design (braking harder risks being hit from
  behind and may not stop before the line anyway). The planners set ``hard_stop_decel_mps2``
  (their braking limit, 9 m/s^2 by default): then a stop state is also stopped for when the
  front can still come to rest at the line itself within that limit, ``v^2 / (2 room) <=
  hard_stop_decel_mps2`` (nuPlan's planners treat a red stop line as an obstacle and brake for
  it as hard as the vehicle allows): the plan stops ``hard_stop_gap_m`` short of the line at
  the limit, nearer than ``stop_gap_m`` (:meth:`LightStopRule.step`). A red that cannot be
  stopped for at the line even at the limit is still driven through, deliberately: stopping
  inside the junction is worse than clearing it. The simulator's ``idm`` agents, and the
  planners' forecast of other cars, keep the ``stop_decel_mps2`` rule.

A decision to stop is remembered per stop and holds while ``need <= max_decel_mps2`` (the
planners' braking limit, ``idm.max_decel_mps2``): the plan's braking lags the check, so
``need`` grows a little after the decision, and the ego must not brake and then give up
(with ``hard_stop_decel_mps2`` set, it holds while the front can rest within
``FRONT_TOLERANCE_M`` past the line at ``max_decel_mps2``). It
is forgotten when the ego passes the line or the light shows go. A go decision is not
remembered: each step decides afresh, and no go decision makes the ego brake harder than
``stop_decel_mps2`` (a fresh stop at red needs at most that).

The planners stop at the decision's constant deceleration ``LightDecision.decel_mps2 =
max(need, comfort_decel_mps2)``: every proposal's rollout follows the speed ``sqrt(2 decel
d)`` down to the stop point (:func:`~drivestack.planning.proposals.rollout`'s
``light_stop_station_m``), so the ego coasts until a comfortable stop (or, above the comfort
deceleration, the needed one) brings it to rest about ``idm.min_gap_m`` before the line; its
peak braking stays within about 1 m/s^2 of that deceleration (the ego's tracking lags the
plan by a tick).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

import numpy as np

from drivestack.planning.reference_path import ReferencePath
from drivestack.structures._checks import check_number
from drivestack.structures.road_map import (
    Lane,
    RoadMap,
    interpolate_polyline,
    polyline_stations,
    project_to_polyline,
)
from drivestack.structures.traffic_light import STOP_STATES, TrafficLight

#: How far (m) the ego's front may be past a stop line and still count as before it (a stop
#: that ends a little beyond the line still holds there).
FRONT_TOLERANCE_M = 0.5
#: The hardest constant deceleration (m/s^2) at which the planners (``PDMParams``' default) and
#: the simulator's ``idm`` agents decide to stop for a red or red-yellow light.
LIGHT_STOP_DECEL_MPS2 = 6.0
#: What :class:`LightStopRule` does at a light whose state is unknown (module docstring):
#: ``go``, or stop as at ``yellow``.
UNKNOWN_LIGHT_POLICIES = ("go", "yellow")
#: Rounding slack (m) for a stop at either end of the reference path (a line at the route's
#: last lane end projects onto the path's end up to rounding).
STATION_SLACK_M = 1e-6


@dataclass(frozen=True)
class RouteLightStop:
    """Light ``light_id``'s stop line on route lane ``lane_id``, at ``station_m`` along the
    route's reference path."""

    light_id: str
    lane_id: str
    station_m: float


T = TypeVar("T")


def _light_key(stop: RouteLightStop) -> tuple[str, str]:
    return (stop.light_id, stop.lane_id)


def same_stops(
    old_stops: Sequence[T], old_indices: Iterable[int], new_stops: Sequence[T],
    key: Callable[[T], tuple[str, str]],
) -> set[int]:  # fmt: skip
    """The indices into ``new_stops`` of the stops ``old_indices`` picks from ``old_stops``,
    matched by ``key`` (the stops of one route on a reference path built again)."""
    wanted = {key(old_stops[i]) for i in old_indices}
    return {i for i, stop in enumerate(new_stops) if key(stop) in wanted}


@dataclass(frozen=True)
class LightDecision:
    """One step's light decision: ``station_m`` of the stop line to stop at (on the reference
    path) and its ``light_id``, both ``None`` when there is none; ``committed``: the lights
    ahead showing yellow or a stop state that the ego carries on through (it cannot stop
    before their line comfortably, or at red within the hard deceleration); ``decel_mps2``:
    the constant deceleration the plan stops at (``max(need, comfort_decel_mps2)``), ``None``
    without a stop."""

    station_m: float | None = None
    light_id: str | None = None
    committed: tuple[str, ...] = ()
    decel_mps2: float | None = None
    # how far before the line the plan stops (None: the rule's ``stop_gap_m``; less for a
    # stop at the hard deceleration that has no room for the full gap)
    stop_gap_m: float | None = None


NO_LIGHT_STOP = LightDecision()


def stop_distance_m(room_m: float, stop_gap_m: float) -> float:
    """Where the planners stop, as the distance ahead of the front bumper: ``stop_gap_m``
    before a line ``room_m`` ahead, or halfway to it when it is nearer than twice the gap
    (``max(room - gap, room / 2)``; <= 0 past the line)."""
    return max(room_m - stop_gap_m, 0.5 * room_m)


def stop_need_mps2(speed2: float, room_m: float, stop_gap_m: float) -> float:
    """The constant deceleration that stops the ego at squared speed ``speed2`` at
    :func:`stop_distance_m` (0 standing; infinite moving with no room left)."""
    d = stop_distance_m(room_m, stop_gap_m)
    return speed2 / (2.0 * d) if d > 0.0 else (0.0 if speed2 == 0.0 else math.inf)


def lane_half_width_m(lane: Lane, points_m: np.ndarray) -> np.ndarray:
    """``(M,)`` half width of ``lane`` at ``(M, 2)`` points on its centreline: the distance to
    the nearer of its two boundaries."""
    _, left = project_to_polyline(lane.left_boundary_m, points_m)
    _, right = project_to_polyline(lane.right_boundary_m, points_m)
    return np.minimum(np.abs(left), np.abs(right))


def route_light_stops(
    road_map: RoadMap, route_lanes: list[str] | tuple[str, ...], reference: ReferencePath
) -> tuple[RouteLightStop, ...]:
    """The stops of ``road_map``'s lights on ``route_lanes`` as stations on ``reference`` (the
    route's reference path), in station order (then light id):
    :func:`path_light_stops` on its points."""
    return path_light_stops(road_map, route_lanes, reference.xy_m, reference.length_m)


def path_light_stops(
    road_map: RoadMap,
    lanes: list[str] | tuple[str, ...],
    path_m: np.ndarray,
    length_m: float | None = None,
    *,
    ends_governed: bool = True,
) -> tuple[RouteLightStop, ...]:
    """The stops of ``road_map``'s lights on ``lanes`` as stations on the polyline ``path_m
    (N, 2)`` that runs along them (a route's reference path, a simulated agent's lane path),
    in station order (then light id): each lane stop whose light governs the way the lanes
    go on (:func:`governs_way`, with ``ends_governed`` for a stop on the last lane), its
    centreline point projected onto the path, kept when the path passes it within the lane's
    half width there and within the path's stations ``[0, length_m]`` (``length_m``: the
    path's length, :func:`~drivestack.structures.road_map.polyline_stations`' last when not
    given)."""
    if length_m is None:
        length_m = float(polyline_stations(path_m)[-1])
    order = list(dict.fromkeys(lanes))
    stops: list[RouteLightStop] = []
    for i, lane_id in enumerate(order):
        found = road_map.light_stops(lane_id)
        if not found:
            continue
        lane = road_map.lane(lane_id)
        next_lane = order[i + 1] if i + 1 < len(order) else None
        found = [
            (light, s)
            for light, s in found
            if governs_way(light, lane, next_lane, ends_governed=ends_governed)
        ]
        if not found:
            continue
        station, on_lane = stations_on_path(lane, [s for _, s in found], path_m, length_m)
        stops.extend(
            RouteLightStop(light.light_id, lane_id, float(s))
            for (light, _), s, keep in zip(found, station, on_lane, strict=True)
            if keep
        )
    return tuple(sorted(stops, key=lambda stop: (stop.station_m, stop.light_id)))


def stations_on_path(
    lane: Lane, stations_m: list[float], path_m: np.ndarray, length_m: float
) -> tuple[np.ndarray, np.ndarray]:
    """Where stop lines at ``stations_m (K,)`` along ``lane``'s centreline lie on the polyline
    ``path_m (N, 2)`` of length ``length_m`` running along the lane: ``(K,)`` stations on the
    path (the centreline points projected onto it) and ``(K,)`` bool, whether the path passes
    each point within the lane's half width there and within its stations ``[0, length_m]``
    (the stop is on the path's own lane; the rule of :func:`path_light_stops`, which the stop
    signs' :func:`~drivestack.planning.stop_signs.route_sign_stops` shares)."""
    xy, _ = interpolate_polyline(lane.centerline_m, stations_m)
    station, lateral = project_to_polyline(path_m, xy)
    on_lane = (np.abs(lateral) <= lane_half_width_m(lane, xy)) & (
        (station >= -STATION_SLACK_M) & (station <= length_m + STATION_SLACK_M)
    )
    return station, on_lane


def governs_way(
    light: TrafficLight,
    lane: Lane,
    next_lane: str | None,
    *,
    ends_governed: bool = True,
) -> bool:
    """Whether ``light``'s stop on ``lane`` applies to a path that leaves ``lane`` into
    ``next_lane`` (the path's lane after it; ``None`` where the path ends on ``lane``)
    (module docstring, *Which ways a light governs*): a stop whose light governs every way
    out (:attr:`LaneStop.next_lanes` None) always applies; otherwise a path into a successor
    of ``lane`` obeys it when that successor is one of ``next_lanes``, a path that changes
    lane off ``lane`` (``next_lane`` a neighbour, not a successor) always, and a path that
    ends on ``lane`` when ``ends_governed`` (a route, an agent's lanes: it stops where it
    must) or, without it (a way on unknown past a fork), when the light governs every
    successor of ``lane``. ``False`` for a light with no stop on ``lane``."""
    stop = light.stop_on(lane.lane_id)
    if stop is None:
        return False
    if stop.next_lanes is None:
        return True
    if next_lane is None:
        return ends_governed or all(s in stop.next_lanes for s in lane.successors)
    if next_lane not in lane.successors:
        return True  # a lane change off the stop lane: its way out is not the path's
    return stop.governs(next_lane)


def check_unknown_light(name: str, value: object) -> None:
    """``ValueError`` naming ``name`` unless ``value`` is one of
    :data:`UNKNOWN_LIGHT_POLICIES`."""
    if value not in UNKNOWN_LIGHT_POLICIES:
        raise ValueError(
            f"{name} must be one of {', '.join(UNKNOWN_LIGHT_POLICIES)}, got {value!r}"
        )


@dataclass
class LightStopRule:
    """Stage: ``step(traffic_lights, station_m, speed_mps) -> LightDecision`` (the rule in the
    module docstring) for the route stops ``stops`` (:func:`route_light_stops`); ``reset()``
    forgets the decisions made. ``front_offset_m``: rear axle to front bumper;
    ``comfort_decel_mps2``: the comfortable deceleration (yellow); ``stop_decel_mps2``: the
    hardest allowed when deciding to stop for a stop state; ``max_decel_mps2``: the hardest
    the planner brakes at, up to which a decision to stop holds (``ValueError`` unless
    ``0 < comfort_decel_mps2 <= stop_decel_mps2 <= max_decel_mps2`` and ``stop_gap_m >= 0``);
    ``stop_gap_m``: how far before the line the planners stop (:func:`stop_distance_m`);
    ``unknown_light``: the policy for a light whose state is unknown, one of
    :data:`UNKNOWN_LIGHT_POLICIES` (``ValueError`` otherwise): ``"go"``, or ``"yellow"``
    (decided as a yellow light); ``hard_stop_decel_mps2``: ``None`` (the rule above), or the
    planner's braking limit up to which a stop state is still stopped for when the front can
    come to rest at the line (``ValueError`` unless ``stop_decel_mps2 <= hard_stop_decel_mps2
    <= max_decel_mps2``; module docstring)."""

    stops: tuple[RouteLightStop, ...]
    front_offset_m: float
    comfort_decel_mps2: float
    stop_decel_mps2: float
    max_decel_mps2: float
    stop_gap_m: float = 0.0
    unknown_light: str = "go"
    hard_stop_decel_mps2: float | None = None
    # indices of ``stops`` the ego decided to stop at
    _stopping: set[int] = field(default_factory=set, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        names = ("comfort_decel_mps2", "stop_decel_mps2", "max_decel_mps2")
        for name in names:
            check_number(f"LightStopRule.{name}", getattr(self, name), above=0.0)
        for low, high in itertools.pairwise(names):
            if getattr(self, low) > getattr(self, high):
                raise ValueError(
                    f"LightStopRule.{low} = {getattr(self, low)!r} must be at most "
                    f"{high} = {getattr(self, high)!r}"
                )
        check_number("LightStopRule.stop_gap_m", self.stop_gap_m, at_least=0.0)
        check_unknown_light("LightStopRule.unknown_light", self.unknown_light)
        hard = self.hard_stop_decel_mps2
        if hard is not None:
            check_number("LightStopRule.hard_stop_decel_mps2", hard, above=0.0)
            if not self.stop_decel_mps2 <= hard <= self.max_decel_mps2:
                raise ValueError(
                    f"LightStopRule.hard_stop_decel_mps2 = {hard!r} must lie between "
                    f"stop_decel_mps2 = {self.stop_decel_mps2!r} and max_decel_mps2 = "
                    f"{self.max_decel_mps2!r}"
                )

    def reset(self) -> None:
        self._stopping.clear()

    def carry_from(self, old: LightStopRule) -> None:
        """Take over ``old``'s decisions to stop (a rule for the same route on a reference
        path built again, its stations moved): by light and lane, not by index."""
        self._stopping = same_stops(old.stops, old._stopping, self.stops, _light_key)

    def step(
        self, traffic_lights: tuple[tuple[str, str], ...], station_m: float, speed_mps: float
    ) -> LightDecision:
        """The stop line to stop at for lights showing ``traffic_lights`` (``(light_id,
        state)`` pairs as ``Observation.traffic_lights``; a light not listed is unknown), the
        ego's rear axle at ``station_m`` along the path, driving at ``speed_mps``."""
        if not self.stops:
            return NO_LIGHT_STOP
        states = dict(traffic_lights)
        front_m = station_m + self.front_offset_m
        v2 = max(float(speed_mps), 0.0) ** 2
        committed: list[str] = []
        for i, stop in enumerate(self.stops):
            room_m = stop.station_m - front_m
            state = states.get(stop.light_id, "unknown")
            if state == "unknown" and self.unknown_light == "yellow":
                state = "yellow"
            if room_m < -FRONT_TOLERANCE_M or not (state == "yellow" or state in STOP_STATES):
                self._stopping.discard(i)  # passed, or the light shows go
                continue
            need = stop_need_mps2(v2, room_m, self.stop_gap_m)
            stops_here = (
                need <= self.comfort_decel_mps2
                or (i in self._stopping and need <= self.max_decel_mps2)
                or (state in STOP_STATES and need <= self.stop_decel_mps2)
            )
            if stops_here:
                self._stopping.add(i)
                decel = max(need, self.comfort_decel_mps2)
                return LightDecision(stop.station_m, stop.light_id, tuple(committed), decel)
            if state in STOP_STATES and self.hard_stop_decel_mps2 is not None:
                hard = self._hard_stop(i, v2, room_m, committed)
                if hard is not None:
                    return hard
            self._stopping.discard(i)  # yellow it cannot stop for comfortably, or red beyond
            committed.append(stop.light_id)
        return LightDecision(committed=tuple(committed))

    def _hard_stop(
        self, i: int, v2: float, room_m: float, committed: list[str]
    ) -> LightDecision | None:
        """The stop at a stop state that needs more than the usual rule allows, or None (go):
        a fresh one when the front can rest at the line within ``hard_stop_decel_mps2``, a
        held one (decided before) while it can within ``FRONT_TOLERANCE_M`` past the line at
        ``max_decel_mps2``. The plan brakes at the limit to rest ``v^2 / (2 limit)`` ahead,
        the rest of the room (up to ``stop_gap_m``) its gap to the line; a held stop whose rest
        at the limit lies past the line (within the tolerance) asks to rest at the line, which
        takes more than the limit (``v^2 / (2 room)``): the vehicle model's own braking bound
        caps what it gets, and it comes to rest up to the tolerance past the line."""
        assert self.hard_stop_decel_mps2 is not None
        limit = self.max_decel_mps2 if i in self._stopping else self.hard_stop_decel_mps2
        reach_m = room_m + (FRONT_TOLERANCE_M if i in self._stopping else 0.0)
        if reach_m <= 0.0 or v2 > 2.0 * limit * reach_m:
            return None
        stop = self.stops[i]
        gap_m = min(max(room_m - v2 / (2.0 * limit), 0.0), self.stop_gap_m)
        distance_m = stop_distance_m(room_m, gap_m)
        decel = v2 / (2.0 * distance_m) if distance_m > 0.0 else limit
        self._stopping.add(i)
        return LightDecision(
            stop.station_m,
            stop.light_id,
            tuple(committed),
            max(decel, self.comfort_decel_mps2),
            gap_m,
        )
