"""Stop signs for the planners: stop at the line, stand, then go.

Once per planner, :func:`route_sign_stops` places the stops of the map's sign rules that stop
traffic (:attr:`StopSign.stops_traffic <drivestack.structures.road_map.StopSign.stops_traffic>`:
kinds ``stop`` and ``all_way_stop``, no ``fallback`` rule; ``yield`` rules are read and kept
but not acted on) on the route's lanes as stations on the route's reference path, by the
traffic lights' rule (:func:`~drivestack.planning.traffic_lights.stations_on_path`: kept
where the path passes the line's lane-centreline point within the lane's half width).

Each step, :class:`StopSignRule` says which of those lines the plan stops at
(:class:`SignDecision`): the first one ahead that is not *released*. A line is released once
the ego has stood still (speed below :data:`FULL_STOP_SPEED_MPS`) with its front bumper at
most ``window_m`` before the line (and at most ``FRONT_TOLERANCE_M`` past it) for ``dwell_s``
(the observations' times; standing counts from the first observation standing there, and
starts over when the ego moves); a line whose front the ego has passed by more than
``FRONT_TOLERANCE_M`` is behind it. After the release the ego goes: PDM's collision and TTC
scoring decide when crossing traffic leaves room, the IDM baseline (nuPlan's) just goes.
``reset()`` forgets the releases and the standing times.

The stop is a traffic light's stop (the same law and stop point, ``stop_gap_m`` =
``idm.min_gap_m`` before the line: :func:`~drivestack.planning.traffic_lights.stop_distance_m`):
every proposal's rollout follows the constant-deceleration speed to it
(:func:`~drivestack.planning.proposals.rollout`'s ``light_stop_*`` arguments), at
``decel_mps2 = max(need, comfort_decel_mps2)``, at most ``max_decel_mps2`` (``need`` the
constant deceleration that stops the front at the stop point: a sign is always stopped for,
as hard as the planner brakes; one it cannot stop before is run, and is then behind it).
The rollout keeps a proposal standing within
:data:`~drivestack.planning.proposals.MOVE_OFF_ROOM_M` of the stop point, so a standing ego
rests at most ``stop_gap_m + MOVE_OFF_ROOM_M`` before the line: ``window_m`` must reach that
far (``PDMParams`` checks it), or a resting ego would never be released.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from drivestack.planning.reference_path import ReferencePath
from drivestack.planning.traffic_lights import (
    FRONT_TOLERANCE_M,
    same_stops,
    stations_on_path,
    stop_need_mps2,
)
from drivestack.structures._checks import check_number
from drivestack.structures.road_map import RoadMap

#: Below this speed (m/s) the ego stands still at a sign (CARLA leaderboard's RunningStop
#: ``SPEED_THRESHOLD``); the ``no_stop_sign_violation`` metric uses it too.
FULL_STOP_SPEED_MPS = 0.1
#: How far before a sign's line (m, front bumper) a full stop counts, for the metric and as
#: the planners' default ``PDMParams.stop_sign_window_m``: the planners' stop point is
#: ``idm.min_gap_m`` (2 m) before the line and a standing plan rests within 1 m beyond it.
STOP_WINDOW_M = 3.0
#: How long (s) the planners stand at a sign before going on (``PDMParams.stop_sign_dwell_s``).
STOP_SIGN_DWELL_S = 1.0


@dataclass(frozen=True)
class RouteSignStop:
    """Sign rule ``sign_id``'s (of ``kind``) stop line on route lane ``lane_id``, at
    ``station_m`` along the route's reference path."""

    sign_id: str
    lane_id: str
    station_m: float
    kind: str


@dataclass(frozen=True)
class SignDecision:
    """One step's stop-sign decision: ``station_m`` of the line to stop at (on the reference
    path), its ``sign_id`` and the constant deceleration the plan stops at, all ``None`` when
    there is none."""

    station_m: float | None = None
    sign_id: str | None = None
    decel_mps2: float | None = None


NO_SIGN_STOP = SignDecision()


def _sign_key(stop: RouteSignStop) -> tuple[str, str]:
    return (stop.sign_id, stop.lane_id)


def route_sign_stops(
    road_map: RoadMap, route_lanes: list[str] | tuple[str, ...], reference: ReferencePath
) -> tuple[RouteSignStop, ...]:
    """The stops of ``road_map``'s sign rules that stop traffic on ``route_lanes`` (module
    docstring) as stations on ``reference`` (the route's reference path), in station order
    (then sign id)."""
    stops: list[RouteSignStop] = []
    for lane_id in dict.fromkeys(route_lanes):
        found = [(sign, s) for sign, s in road_map.sign_stops(lane_id) if sign.stops_traffic]
        if not found:
            continue
        lane = road_map.lane(lane_id)
        station, on_lane = stations_on_path(
            lane, [s for _, s in found], reference.xy_m, reference.length_m
        )
        stops.extend(
            RouteSignStop(sign.sign_id, lane_id, float(s), sign.kind)
            for (sign, _), s, keep in zip(found, station, on_lane, strict=True)
            if keep
        )
    return tuple(sorted(stops, key=lambda stop: (stop.station_m, stop.sign_id)))


@dataclass
class StopSignRule:
    """Stage: ``step(station_m, speed_mps, timestamp_ns) -> SignDecision`` (the rule in the
    module docstring) for the route stops ``stops`` (:func:`route_sign_stops`); ``reset()``
    forgets the releases. ``front_offset_m``: rear axle to front bumper; ``stop_gap_m``: how
    far before the line the plan stops; ``window_m``: how far before the line a standing ego
    counts as stopped at it; ``dwell_s``: how long it stands before the line is released;
    ``comfort_decel_mps2`` / ``max_decel_mps2``: the gentlest and hardest constant deceleration
    of the stop. ``ValueError`` naming the field unless ``0 < comfort <= max``, ``stop_gap_m
    >= 0``, ``window_m > stop_gap_m`` and ``dwell_s >= 0`` (finite numbers)."""

    stops: tuple[RouteSignStop, ...]
    front_offset_m: float
    comfort_decel_mps2: float
    max_decel_mps2: float
    stop_gap_m: float = 0.0
    window_m: float = STOP_WINDOW_M
    dwell_s: float = STOP_SIGN_DWELL_S
    # indices of ``stops`` released, and since when (ns) the ego has stood at each other
    _released: set[int] = field(default_factory=set, init=False, repr=False, compare=False)
    _standing_since_ns: dict[int, int] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )

    def __post_init__(self) -> None:
        for name in ("comfort_decel_mps2", "max_decel_mps2"):
            check_number(f"StopSignRule.{name}", getattr(self, name), above=0.0)
        if self.comfort_decel_mps2 > self.max_decel_mps2:
            raise ValueError(
                f"StopSignRule.comfort_decel_mps2 = {self.comfort_decel_mps2!r} must be at most "
                f"max_decel_mps2 = {self.max_decel_mps2!r}"
            )
        check_number("StopSignRule.stop_gap_m", self.stop_gap_m, at_least=0.0)
        check_number("StopSignRule.window_m", self.window_m, above=self.stop_gap_m)
        check_number("StopSignRule.dwell_s", self.dwell_s, at_least=0.0)

    @property
    def released(self) -> tuple[str, ...]:
        """The ids of the signs whose lines have been released, in station order."""
        return tuple(self.stops[i].sign_id for i in sorted(self._released))

    def reset(self) -> None:
        self._released.clear()
        self._standing_since_ns.clear()

    def carry_from(self, old: StopSignRule) -> None:
        """Take over ``old``'s releases and standing times (a rule for the same route on a
        reference path built again, its stations moved): by sign and lane, not by index."""
        self._released = same_stops(old.stops, old._released, self.stops, _sign_key)
        for i, since_ns in old._standing_since_ns.items():
            for j in same_stops(old.stops, (i,), self.stops, _sign_key):
                self._standing_since_ns[j] = since_ns

    def step(self, station_m: float, speed_mps: float, timestamp_ns: int) -> SignDecision:
        """The line to stop at with the ego's rear axle at ``station_m`` along the path,
        driving at ``speed_mps``, observed at ``timestamp_ns``."""
        if not self.stops:
            return NO_SIGN_STOP
        front_m = station_m + self.front_offset_m
        speed = max(float(speed_mps), 0.0)
        dwell_ns = round(self.dwell_s * 1e9)
        for i, stop in enumerate(self.stops):
            room_m = stop.station_m - front_m
            if i in self._released or room_m < -FRONT_TOLERANCE_M:
                continue  # released, or behind the ego
            if speed < FULL_STOP_SPEED_MPS and room_m <= self.window_m:
                since = self._standing_since_ns.setdefault(i, int(timestamp_ns))
                if int(timestamp_ns) - since >= dwell_ns:
                    self._released.add(i)
                    self._standing_since_ns.pop(i, None)
                    continue
            else:
                self._standing_since_ns.pop(i, None)
            need = stop_need_mps2(speed * speed, room_m, self.stop_gap_m)
            decel = min(max(need, self.comfort_decel_mps2), self.max_decel_mps2)
            return SignDecision(stop.station_m, stop.sign_id, decel)
        return NO_SIGN_STOP
