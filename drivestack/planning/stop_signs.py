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
rests at most ``stop_gap_m + MOVE_OFF_ROOM_M`` before the line: the planners and the
simulated agents stop :func:`sign_stop_gap_m` before it (``idm.min_gap_m``, at most
``STOP_WINDOW_M - MOVE_OFF_ROOM_M`` = 2 m) and count standing within :data:`STOP_WINDOW_M`,
the ``no_stop_sign_violation`` metric's window (CARLA's fixed rule), whatever the gap.

**All-way stops** (kind ``all_way_stop``): first to stop, first to go.
:func:`route_sign_stops` gives such a stop every all-way line of its junction
(:func:`all_way_lines`: a map may draw one rule per junction or one per arm), and an
:class:`ArrivalOrder` per junction records, from the actors observed each step, when each
one came to a stop at one of them: standing (speed below :data:`FULL_STOP_SPEED_MPS`) on
the line's lane or one leading into it (:func:`on_lane`) with its front within the window
before the line. The
record is kept while the actor stands there, moves off and crosses the junction (its
centre within the junction's reach, :attr:`ArrivalOrder.reach_m`: the largest distance
between two of the lines or the longest lane leaving one, plus half its length, of its
line), and is dropped once it is farther or is no longer observed. An
actor released by its dwell at an all-way stop goes only when no actor recorded at
*another* of those lines came to a stop before it, or at the same time with a smaller id
(the ego's id, :data:`EGO_ACTOR_ID`, is the smallest: it goes first on a tie; a tie broken
by id is a total order, so four cars stopping at once cannot all wait for their right).
The planners feed the agents and the ego to the order (:meth:`StopSignRule.observe`); the simulated agents share one
order per junction with the ego in it (:mod:`drivestack.sim.agents`). Kind ``stop`` (two-way)
has no order: its line is released after the dwell alone.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
from dataclasses import dataclass, field

import numpy as np
import shapely

from drivestack.core.transforms import wrap_angle
from drivestack.planning.proposals import MOVE_OFF_ROOM_M
from drivestack.planning.reference_path import ReferencePath
from drivestack.planning.traffic_lights import (
    FRONT_TOLERANCE_M,
    same_stops,
    stations_on_path,
    stop_need_mps2,
)
from drivestack.structures._checks import check_number
from drivestack.structures.road_map import (
    Lane,
    RoadMap,
    StopSign,
    interpolate_polyline,
    project_to_polyline,
)

#: Below this speed (m/s) the ego stands still at a sign (CARLA leaderboard's RunningStop
#: ``SPEED_THRESHOLD``); the ``no_stop_sign_violation`` metric uses it too.
FULL_STOP_SPEED_MPS = 0.1
#: How far before a sign's line (m, front bumper) a full stop counts, for the metric and for
#: the planners and agents: their stop point is :func:`sign_stop_gap_m` (at most 2 m) before
#: the line and a standing plan rests within ``MOVE_OFF_ROOM_M`` (1 m) beyond it.
STOP_WINDOW_M = 3.0
#: How long (s) the planners stand at a sign before going on (``PDMParams.stop_sign_dwell_s``).
STOP_SIGN_DWELL_S = 1.0
#: The ego's id in an all-way stop's arrival order (:class:`ArrivalOrder`): agent ids are
#: non-empty, so it sorts first and the ego goes first on a tie.
EGO_ACTOR_ID = ""
#: How far past its stop line (m) an actor's way counts as in the junction where the map
#: marks no junctions (Lanelet2 draws a junction's crossing roads 20-40 m past the line of its
#: sample map's signed approaches; the synthetic junction's box ends 24 m past it): for the
#: conflict points of :mod:`drivestack.sim.give_way` and an all-way stop's reach
#: (:attr:`SignLine.exit_m`).
JUNCTION_REACH_M = 40.0
#: An actor is on a lane only with its heading this close to the lane's (a car crossing it
#: or driving the other way is not).
MAX_HEADING_ERROR_RAD = math.radians(60.0)


def sign_stop_gap_m(min_gap_m: float) -> float:
    """How far before a sign's line (m, front bumper) a planner or agent with IDM gap
    ``min_gap_m`` stops: the gap, at most ``STOP_WINDOW_M - MOVE_OFF_ROOM_M`` (a standing
    plan rests up to ``MOVE_OFF_ROOM_M`` behind its stop point, and must rest within the
    metric's window)."""
    return min(float(min_gap_m), STOP_WINDOW_M - MOVE_OFF_ROOM_M)


def on_lane(lane: Lane, xy_m: np.ndarray, yaw_rad: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(M,)`` whether each of ``M`` actors (centres ``xy_m (M, 2)``, ``yaw_rad (M,)``) is on
    ``lane`` (centre in its polygon or on its edge, heading within
    :data:`MAX_HEADING_ERROR_RAD` of the lane's there) and ``(M,)`` its station along the
    lane's centreline."""
    station, _ = project_to_polyline(lane.centerline_m, xy_m)
    inside = shapely.intersects_xy(lane.polygon, xy_m[:, 0], xy_m[:, 1])
    if not np.any(inside):
        return inside, station
    _, heading = interpolate_polyline(lane.centerline_m, np.clip(station, 0.0, lane.length_m))
    aligned = np.abs(wrap_angle(yaw_rad - heading)) <= MAX_HEADING_ERROR_RAD
    return inside & aligned, station


@dataclass(frozen=True)
class SignLine:
    """Sign rule ``sign_id``'s stop line on ``lane`` (id ``lane_id``) at ``station_m`` along
    its centreline, whose point there is ``xy_m``; ``exit_m``: how far past the line the
    junction reaches, by :mod:`drivestack.sim.give_way`'s rule: to the end of the lanes
    leaving it (successors, linked either way) while they lie in the junction the first one
    is in (the longest such way), or, where the map marks no junction there,
    :data:`JUNCTION_REACH_M` past the line or to the end of the lane leaving it when that is
    farther; ``before``: the lanes leading into ``lane`` (a car standing at the line may have
    its centre on one)."""

    sign_id: str
    lane: Lane = field(compare=False, repr=False)
    lane_id: str
    station_m: float
    xy_m: tuple[float, float]
    exit_m: float = 0.0
    before: tuple[Lane, ...] = field(default=(), compare=False, repr=False)


def all_way_lines(road_map: RoadMap, sign: StopSign) -> tuple[SignLine, ...]:
    """The stop lines of the all-way stop that ``sign`` (an ``all_way_stop`` rule) belongs
    to, in (sign id, lane id) order: its own lines and those of every other ``all_way_stop``
    rule that stops traffic at the same junction. A map may draw one rule for the junction
    (Lanelet2) or one per arm (OpenDRIVE signals, the synthetic junction): two lines are of
    the same junction when lanes leaving them (successors, linked either way) cross or share
    a :attr:`~drivestack.structures.road_map.Lane.junction_id`, and so on, transitively."""
    lines: list[SignLine] = []
    for rule in road_map.stop_signs:
        if rule.kind != "all_way_stop" or not rule.stops_traffic:
            continue
        for stop in rule.stops:
            lane = road_map.lane(stop.lane_id)
            at = float(np.clip(stop.station_m, 0.0, lane.length_m))
            xy, _ = interpolate_polyline(lane.centerline_m, np.array([at]))
            point = (float(xy[0, 0]), float(xy[0, 1]))
            lines.append(SignLine(rule.sign_id, lane, lane.lane_id, at, point))
    succ: dict[str, set[str]] = {line.lane_id: set(line.lane.successors) for line in lines}
    pred: dict[str, set[str]] = {line.lane_id: set(line.lane.predecessors) for line in lines}
    for lane in road_map.lanes:
        for p in lane.predecessors:
            if p in succ:
                succ[p].add(lane.lane_id)
        for s in lane.successors:
            if s in pred:
                pred[s].add(lane.lane_id)
    after = [[road_map.lane(lane_id) for lane_id in sorted(succ[ln.lane_id])] for ln in lines]
    lines = [
        dataclasses.replace(
            line,
            exit_m=_exit_m(road_map, line, out),
            before=tuple(road_map.lane(p) for p in sorted(pred[line.lane_id]) if p in road_map),
        )
        for line, out in zip(lines, after, strict=True)
    ]
    group = list(range(len(lines)))  # union-find over the lines

    def root(k: int) -> int:
        while group[k] != k:
            group[k] = group[group[k]]
            k = group[k]
        return k

    for a, b in itertools.combinations(range(len(lines)), 2):
        if lines[a].sign_id == lines[b].sign_id or _meet(after[a], after[b]):
            group[root(a)] = root(b)
    mine = {root(k) for k, line in enumerate(lines) if line.sign_id == sign.sign_id}
    kept = [line for k, line in enumerate(lines) if root(k) in mine]
    return tuple(sorted(kept, key=lambda line: (line.sign_id, line.lane_id)))


def _exit_m(road_map: RoadMap, line: SignLine, out: list[Lane]) -> float:
    """:attr:`SignLine.exit_m` of ``line`` with ``out`` the lanes leaving it."""
    rest_m = line.lane.length_m - line.station_m
    reach = [rest_m]
    for lane in out:
        if lane.junction_id is None:
            reach.append(max(rest_m + lane.length_m, JUNCTION_REACH_M))
            continue
        length, current, seen = lane.length_m, lane, {lane.lane_id}
        while True:  # on through the same junction, by first successors
            nxt = [
                road_map.lane(s)
                for s in current.successors
                if s in road_map
                and s not in seen
                and road_map.lane(s).junction_id == lane.junction_id
            ]
            if not nxt:
                break
            current = nxt[0]
            seen.add(current.lane_id)
            length += current.length_m
        reach.append(rest_m + length)
    return max(reach)


def _meet(lanes_a: list[Lane], lanes_b: list[Lane]) -> bool:
    """Whether a lane of ``lanes_a`` and one of ``lanes_b`` share a junction id or cross."""
    for a in lanes_a:
        for b in lanes_b:
            if a.lane_id == b.lane_id or (
                a.junction_id is not None and a.junction_id == b.junction_id
            ):
                return True
            if a.polygon.intersects(b.polygon):
                return True
    return False


@dataclass(frozen=True)
class RouteSignStop:
    """Sign rule ``sign_id``'s (of ``kind``) stop line on route lane ``lane_id``, at
    ``station_m`` along the route's reference path; ``lines``: for an ``all_way_stop``, every
    line of its junction's all-way stop (:func:`all_way_lines`; the arrival order's),
    otherwise ``()``."""

    sign_id: str
    lane_id: str
    station_m: float
    kind: str
    lines: tuple[SignLine, ...] = field(default=(), compare=False, repr=False)


@dataclass(frozen=True)
class SignDecision:
    """One step's stop-sign decision: ``station_m`` of the line to stop at (on the reference
    path), its ``sign_id`` and the constant deceleration the plan stops at, all ``None`` when
    there is none."""

    station_m: float | None = None
    sign_id: str | None = None
    decel_mps2: float | None = None


NO_SIGN_STOP = SignDecision()


def order_key(stop: RouteSignStop) -> tuple[tuple[str, str], ...]:
    """Which all-way stop ``stop`` belongs to: its lines' (sign id, lane id) pairs (``()``
    for a two-way stop). Stops with the same key share an :class:`ArrivalOrder`."""
    return tuple((line.sign_id, line.lane_id) for line in stop.lines)


def _sign_key(stop: RouteSignStop) -> tuple[str, str]:
    return (stop.sign_id, stop.lane_id)


def route_sign_stops(
    road_map: RoadMap,
    route_lanes: list[str] | tuple[str, ...],
    reference: ReferencePath,
    all_way_cache: dict[str, tuple[SignLine, ...]] | None = None,
) -> tuple[RouteSignStop, ...]:
    """The stops of ``road_map``'s sign rules that stop traffic on ``route_lanes`` (module
    docstring) as stations on ``reference`` (the route's reference path), in station order
    (then sign id). ``all_way_cache``: an all-way rule's lines (:func:`all_way_lines`, which
    depend on the map alone) by sign id, kept across calls on the same map (a planner
    building its reference path again)."""
    cache = {} if all_way_cache is None else all_way_cache

    def lines_of(sign: StopSign) -> tuple[SignLine, ...]:
        if sign.kind != "all_way_stop":
            return ()
        if sign.sign_id not in cache:
            cache[sign.sign_id] = all_way_lines(road_map, sign)
        return cache[sign.sign_id]

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
            RouteSignStop(
                sign.sign_id,
                lane_id,
                float(s),
                sign.kind,
                lines_of(sign),
            )
            for (sign, _), s, keep in zip(found, station, on_lane, strict=True)
            if keep
        )
    return tuple(sorted(stops, key=lambda stop: (stop.station_m, stop.sign_id)))


@dataclass
class ArrivalOrder:
    """Stage: who came to a stop first at an all-way stop's ``lines`` (module docstring).
    ``observe(ids, xy_m, yaw_rad, speed_mps, length_m, timestamp_ns)`` records, from the
    actors seen at one time, when each came to a stop at one of the lines (standing with its
    front at most ``window_m`` before it and at most ``FRONT_TOLERANCE_M`` past it) and drops
    those that have crossed the junction or are no longer seen; :meth:`first_ahead` names an
    actor that goes before a given one; ``reset()`` forgets all. ``ValueError`` unless
    ``lines`` is non-empty and ``window_m > 0``."""

    lines: tuple[SignLine, ...]
    window_m: float = STOP_WINDOW_M
    # actor id -> (index of the line it came to a stop at, since when, ns)
    _arrived: dict[str, tuple[int, int]] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )

    def __post_init__(self) -> None:
        if not self.lines:
            raise ValueError("ArrivalOrder.lines must hold at least one SignLine, got none")
        check_number("ArrivalOrder.window_m", self.window_m, above=0.0)
        points = np.array([line.xy_m for line in self.lines], dtype=np.float64)
        gaps = np.linalg.norm(points[:, None, :] - points[None, :, :], axis=-1)
        self._points = points
        self._reach_m = max(float(gaps.max()), *(line.exit_m for line in self.lines))

    @property
    def reach_m(self) -> float:
        """How far the junction reaches (m): the largest distance between two of the lines'
        points, or the longest lane leaving one of them when longer. An actor that came to a
        stop is in the junction while its centre lies within this plus half its length of
        its line's point."""
        return self._reach_m

    @property
    def arrived(self) -> dict[str, tuple[int, int]]:
        """A copy of the records: actor id -> (line index, since when in ns)."""
        return dict(self._arrived)

    def reset(self) -> None:
        self._arrived.clear()

    def observe(
        self,
        ids: tuple[str, ...] | list[str],
        xy_m: np.ndarray,
        yaw_rad: np.ndarray,
        speed_mps: np.ndarray,
        length_m: np.ndarray,
        timestamp_ns: int,
    ) -> None:
        """Update the records from ``M`` actors seen at ``timestamp_ns``: ids, centres
        ``xy_m (M, 2)``, ``yaw_rad``, ``speed_mps`` and ``length_m (M,)``."""
        n = len(ids)
        xy = np.asarray(xy_m, dtype=np.float64).reshape(n, 2)
        yaw = np.asarray(yaw_rad, dtype=np.float64).reshape(n)
        speed = np.asarray(speed_mps, dtype=np.float64).reshape(n)
        half = 0.5 * np.asarray(length_m, dtype=np.float64).reshape(n)
        at = np.full(n, -1, dtype=np.int64)
        if n:
            for k, line in enumerate(self.lines):
                on, station = on_lane(line.lane, xy, yaw)
                for lane in line.before:  # its centre still on a lane leading in
                    on_before, station_before = on_lane(lane, xy, yaw)
                    use = on_before & ~on
                    station = np.where(use, station_before - lane.length_m, station)
                    on = on | on_before
                room = line.station_m - (station + half)
                here = on & (speed < FULL_STOP_SPEED_MPS) & (at < 0)
                here &= (room <= self.window_m) & (room >= -FRONT_TOLERANCE_M)
                at[here] = k
        kept: dict[str, tuple[int, int]] = {}
        for m, actor in enumerate(ids):
            old = self._arrived.get(actor)
            if at[m] >= 0:
                same = old is not None and old[0] == at[m]
                kept[actor] = old if same and old is not None else (int(at[m]), int(timestamp_ns))
            elif old is not None:
                off_m = float(np.hypot(*(xy[m] - self._points[old[0]])))
                if off_m <= self._reach_m + half[m]:
                    kept[actor] = old  # moving off, or crossing the junction
        self._arrived = kept

    def arrival(self, actor_id: str) -> tuple[int, int] | None:
        """``actor_id``'s record: (line index, since when in ns), ``None`` when it has none."""
        return self._arrived.get(actor_id)

    def line_of(self, lane_id: str) -> int:
        """The index of the line on lane ``lane_id`` (-1: none)."""
        return next((k for k, line in enumerate(self.lines) if line.lane_id == lane_id), -1)

    def first_ahead(self, actor_id: str, line: int, since_ns: int) -> str | None:
        """The first recorded actor (other than ``actor_id``) that came to a stop at another
        line than ``line`` before ``since_ns``, or at ``since_ns`` with a smaller id: it goes
        before an actor that came to a stop at ``line`` at ``since_ns``; ``None``: none."""
        ahead = [
            (t, other)
            for other, (k, t) in self._arrived.items()
            if other != actor_id and k != line and (t, other) < (since_ns, actor_id)
        ]
        return min(ahead)[1] if ahead else None

    def first_ahead_at(self, actor_id: str, lane_id: str, since_ns: int) -> str | None:
        """:meth:`first_ahead` for ``actor_id`` at the line on lane ``lane_id``, since its
        recorded arrival at that line (``since_ns`` when it has none there)."""
        line = self.line_of(lane_id)
        mine = self.arrival(actor_id)
        if mine is not None and mine[0] == line:
            since_ns = mine[1]
        return self.first_ahead(actor_id, line, since_ns)


@dataclass
class StopSignRule:
    """Stage: ``step(station_m, speed_mps, timestamp_ns) -> SignDecision`` (the rule in the
    module docstring) for the route stops ``stops`` (:func:`route_sign_stops`), after
    ``observe(...)`` of the other actors where the route has all-way stops; ``reset()``
    forgets the releases, standing times and arrival orders. ``front_offset_m``: rear axle to front bumper; ``stop_gap_m``: how
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
    # the arrival order of each all-way stop among ``stops`` (by :func:`order_key`)
    _orders: dict[tuple[tuple[str, str], ...], ArrivalOrder] = field(
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
        for stop in self.stops:
            if stop.lines and order_key(stop) not in self._orders:
                self._orders[order_key(stop)] = ArrivalOrder(stop.lines, self.window_m)

    @property
    def orders(self) -> dict[tuple[tuple[str, str], ...], ArrivalOrder]:
        """The arrival order of each all-way stop on the route, by :func:`order_key` (a copy
        of the mapping; the orders themselves are the rule's)."""
        return dict(self._orders)

    @property
    def released(self) -> tuple[str, ...]:
        """The ids of the signs whose lines have been released, in station order."""
        return tuple(self.stops[i].sign_id for i in sorted(self._released))

    def reset(self) -> None:
        self._released.clear()
        self._standing_since_ns.clear()
        for order in self._orders.values():
            order.reset()

    def carry_from(self, old: StopSignRule) -> None:
        """Take over ``old``'s releases, standing times and arrival orders (a rule for the
        same route on a reference path built again, its stations moved): by sign and lane,
        not by index."""
        self._released = same_stops(old.stops, old._released, self.stops, _sign_key)
        for i, since_ns in old._standing_since_ns.items():
            for j in same_stops(old.stops, (i,), self.stops, _sign_key):
                self._standing_since_ns[j] = since_ns
        for key, order in old._orders.items():
            if key in self._orders:
                self._orders[key] = order

    def observe(
        self,
        ids: tuple[str, ...] | list[str],
        xy_m: np.ndarray,
        yaw_rad: np.ndarray,
        speed_mps: np.ndarray,
        length_m: np.ndarray,
        timestamp_ns: int,
    ) -> None:
        """Feed the all-way stops' arrival orders the actors seen at ``timestamp_ns``
        (:meth:`ArrivalOrder.observe`): the agents and the ego, as :data:`EGO_ACTOR_ID` (its
        arrival is measured as the simulated agents measure it, so both sides agree on who
        came first; without it, when the rule began counting its dwell). Call before
        :meth:`step` at the same time; nothing to do without all-way stops."""
        for order in self._orders.values():
            order.observe(ids, xy_m, yaw_rad, speed_mps, length_m, timestamp_ns)

    def waiting_for(self, i: int, since_ns: int) -> str | None:
        """The actor the ego, standing at stop ``i`` since ``since_ns``, lets go first at an
        all-way stop (:meth:`ArrivalOrder.first_ahead`); ``None`` for a two-way stop."""
        stop = self.stops[i]
        order = self._orders.get(order_key(stop))
        if order is None:
            return None
        return order.first_ahead_at(EGO_ACTOR_ID, stop.lane_id, since_ns)

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
                stood = int(timestamp_ns) - since >= dwell_ns
                if stood and self.waiting_for(i, since) is None:
                    self._released.add(i)
                    self._standing_since_ns.pop(i, None)
                    continue
            else:
                self._standing_since_ns.pop(i, None)
            need = stop_need_mps2(speed * speed, room_m, self.stop_gap_m)
            decel = min(max(need, self.comfort_decel_mps2), self.max_decel_mps2)
            return SignDecision(stop.station_m, stop.sign_id, decel)
        return NO_SIGN_STOP
