"""CommonRoad XML reader (formats 2018b and 2020a): lanelets, obstacles, planning problem.

Own parser on ``xml.etree.ElementTree`` (the files are local scenario data). Lanelets become
:class:`Lane` objects with id ``str(lanelet id)``; the centreline is the midline of the two
bounds; only ``drivingDir="same"`` adjacencies become neighbours. Speed limits come from
``<speedLimit>`` (2018b) or the referenced maximum-speed traffic signs (2020a: every
country's id in commonroad-io, :data:`SPEED_SIGNS`), the lowest when several apply (as
commonroad-io's ``TrafficSignInterpreter.speed_limit``); ``default_speed_limit_mps``
otherwise. Signs that carry a value but are no maximum (minimum speed, ends of limits,
weights: :data:`OTHER_VALUE_SIGNS`) are not read; any other id carrying a number is not read
either, with one warning per file naming it.

Drivability (:attr:`Lane.drivable`): a lanelet with a ``crosswalk`` type is a crosswalk; one
with any ``laneletType`` in ``NON_DRIVABLE_TYPES`` (``sidewalk``, ``bicycleLane``) takes that
type; one whose ``userOneWay`` / ``userBidirectional`` users name no motor vehicle
(:data:`VEHICLE_USERS`) becomes ``bicycleLane`` / ``sidewalk`` / ``rail`` by who may use it:
all of these are not drivable. Every other type is drivable (``busLane``, ``busStop``,
``shoulder``, ``parking``, ``border``, ``restricted``, ...): road surface a car may be on.

Planning problem: the file's only ``<planningProblem>``, or the one ``planning_problem``
names (a file with several and no choice is refused, naming them). Its initial state is the
ego's start; its initial ``<time>`` step is the run's t = 0, so obstacle states are at
``time_step * dt - initial time`` and light cycles are shifted likewise. Dynamic obstacles
become non-reactive replay agents; interval values are read at their midpoint and a
rectangle position at its centre. Static obstacles become agents that never move. Goal
states (:class:`GoalState`): the union of the position's rectangles, circles, polygons and
lanelets, and the time (converted to the run's seconds), orientation and velocity intervals;
:func:`goal_reached_time_s` says when states first reach one.

Traffic lights (``<trafficLight>``, 2020a) become :class:`TrafficLight` objects with id
``str(light id)`` in ``RoadMap.traffic_lights``, in file order:

- **Cycle**: the ``<cycleElement>`` phases, durations and the cycle's ``<timeOffset>`` (time
  steps) converted to seconds with the file's ``timeStepSize`` and rounded to the nanosecond
  (so ``30 * 0.1`` is 3 s and the phase boundaries fall on CommonRoad's integer steps);
  colours ``green``, ``yellow``, ``red``, ``redYellow`` -> ``red_yellow``, ``inactive`` ->
  ``off``. A light with ``<active>false</active>`` shows ``off`` all the time (a one-phase
  cycle); one without ``<cycle>`` has no cycle (state unknown).
- **Stops**: every light a lanelet references (its ``<trafficLightRef>`` and its
  ``<stopLine>``'s) stops traffic on that lanelet's lane at the lanelet's stop line: the
  station where the stop line's points meet the centreline
  (:mod:`drivestack.ingest.maps._stops`), or the lane's end when the lanelet has no stop line
  or its stop line no points (CommonRoad: the lanelet's end). A light no lanelet references
  is listed without stops.
- **Direction**: ``<direction>`` says which turns the light governs (``right``,
  ``straight``, ``left``, ``leftStraight``, ``straightRight``, ``leftRight``, ``all``;
  ``all`` when absent, CommonRoad's default). Each stop carries the ways out of its lanelet
  that the light governs (:attr:`LaneStop.next_lanes`): ``None`` for ``all``; otherwise the
  lanelet's successors that an intersection incoming listing the lanelet as an
  ``incomingLanelet`` names as ``successors<Turn>`` for one of those turns (``()`` when none
  of them leaves this lanelet: a left arrow a straight-only lanelet references governs no way
  out of it). Where a direction cannot be resolved the stop governs every way out
  (``None``, as before directions were read) and :attr:`CommonRoadScenario.light_notes`
  says so, one line per stop: the lanelet is no ``incomingLanelet`` of any intersection, or
  its incoming lists no successor for any of the direction's turns. (The files under
  ``../shared/data/commonroad`` give ``all`` or nothing: every stop there governs all.)

Stop, all-way-stop and yield signs become ``RoadMap.stop_signs``: a lanelet referencing a
stop sign (``206``, ``R1-1``, ``r2``; through its ``<stopLine>``'s ``trafficSignRef`` or its own)
stops at its stop line, or its end without one (:mod:`.commonroad_signs`).

Intersections (``<intersection>``, 2020a) become :class:`Intersection` objects
(:attr:`CommonRoadScenario.intersections`, file order): each ``<incoming>``'s
``incomingLanelet`` ids, its successors by turn (``successorsRight`` / ``Straight`` /
``Left``, each required to be a successor of one of its incoming lanelets), the incoming it
``isLeftOf`` and the ``<crossing>``'s ``crossingLanelet`` ids. The lanelets inside an
intersection (its incomings' successors) get :attr:`Lane.junction_id`
``"intersection-<id>"``, so ``RoadMap.route(cost="junctions")`` counts one intersection once
(crossing lanelets, crosswalks, are left unmarked). Only top-level ``<intersection>``
elements are intersections (``<scenarioTags>`` has an ``<intersection/>`` tag too); 2018b
files have none.
- **Position**: the light's ``<position>`` point, in the file's x / y (the map frame).

Malformed input is a :class:`DataError` naming the file, the record (lanelet, obstacle,
planning problem, traffic sign) and the field: a value that is not a finite number, a
negative initial time step, a goal interval ending before it starts, a goal shape of no
positive size (or a polygon of under 3 points), several planning problems without a choice or
a chosen id the file lacks (field ``planningProblem``), a
``timeStepSize`` that is not positive, a successor / predecessor / adjacent reference or a
goal lanelet that names no lanelet of the file, a ``trafficSignRef`` that names no traffic
sign of the file, a lanelet, obstacle or traffic sign without an id or repeating another's,
an adjacency ``drivingDir`` other than ``same`` / ``opposite``, a 2018b ``<obstacle>`` whose
``role`` is not ``dynamic`` / ``static``; for traffic lights a repeated or missing
id, a cycle without phases, an unknown colour, a duration that is not positive, an
``<active>`` that is not a boolean, a ``trafficLightRef`` naming no light of the file, a
stop line more than 0.5 m off its lanelet and a ``<direction>`` that is none of the seven
(record ``trafficLight <id>``, field ``direction``); for intersections a repeated or missing
intersection or incoming id, an intersection without incomings, an incoming without
``incomingLanelet``, a lanelet reference (``incomingLanelet``, ``successors<Turn>``,
``crossing/crossingLanelet``) naming no lanelet of the file, a ``successors<Turn>`` lanelet
that does not follow one of the incoming's lanelets or that it lists under two turns, a
lanelet inside two intersections, an ``incomingLanelet`` of two incomings (of one
intersection or two) or inside its own intersection (a successor of one of its incomings), and
an ``isLeftOf`` naming no incoming of its intersection, or its own (record ``intersection <id>
incoming <id>``, field the element's tag); a light with more than one ``<direction>``.
"""

from __future__ import annotations

import math
import warnings
import xml.etree.ElementTree as ET
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import numpy.typing as npt
import shapely
from shapely.geometry import LineString, Point, Polygon
from shapely.geometry.base import BaseGeometry

from drivestack.core.errors import DataError
from drivestack.ingest.maps._geometry import (
    centerline_from_bounds,
    check_unique_ids,
    dedup,
    finite_number,
    lane_checks,
)
from drivestack.ingest.maps._stops import station_on_lane, stop_station_m
from drivestack.ingest.maps.commonroad_signs import read_stop_signs
from drivestack.sim.agents import AgentSpec, ReplayTrack
from drivestack.structures.labels import ObjectClass
from drivestack.structures.road_map import NON_DRIVABLE_TYPES, Lane, RoadMap
from drivestack.structures.traffic_light import LaneStop, SignalCycle, SignalPhase, TrafficLight

#: CommonRoad maximum-speed sign ids over all of commonroad-io's countries (``MAX_SPEED`` of its
#: ``TrafficSignID<Country>`` tables; the ids do not collide with another country's other signs):
#: Germany / China / Italy ``274`` and the German speed-zone start ``274.1`` (a maximum too,
#: which commonroad-io's ``TrafficSignInterpreter`` does not count), USA / Puerto Rico ``R2-1``,
#: Argentina ``R15``, France ``B14``, Spain ``r301``, Belgium ``C43``, Croatia ``B31``, Greece
#: ``Ρ-32`` (Greek capital rho), Russia ``3.24``. ``additionalValue`` is the limit in m/s.
SPEED_SIGNS = frozenset(
    {"274", "274.1", "R2-1", "R15", "B14", "r301", "C43", "B31", "Ρ-32", "3.24"}
)
#: Sign ids that carry a number but are no maximum speed (Germany: speed-zone end, minimum
#: speed and its end, end of a limit, end of all limits; weight, width, height, length; Spain:
#: weight, height): read as nothing, without a warning.
OTHER_VALUE_SIGNS = frozenset(
    {"274.2", "275", "279", "278", "282", "262", "263", "264", "265", "266", "r107", "r205"}
)
_TYPES = {
    "car": ObjectClass.CAR,
    "truck": ObjectClass.TRUCK,
    "bus": ObjectClass.BUS,
    "bicycle": ObjectClass.CYCLIST,
    "pedestrian": ObjectClass.PEDESTRIAN,
    "motorcycle": ObjectClass.MOTORCYCLE,
    "priorityVehicle": ObjectClass.CAR,
    "parkedVehicle": ObjectClass.CAR,
    "taxi": ObjectClass.CAR,
    "train": ObjectClass.OTHER_VEHICLE,
    "constructionZone": ObjectClass.BARRIER,
    "roadBoundary": ObjectClass.BARRIER,
    "building": ObjectClass.BARRIER,
    "pillar": ObjectClass.BARRIER,
    "median_strip": ObjectClass.BARRIER,
}
#: CommonRoad road users (``userOneWay`` / ``userBidirectional``) that are motor vehicles: a
#: lanelet whose users include none of them is not drivable.
VEHICLE_USERS = frozenset(
    {"vehicle", "car", "truck", "bus", "taxi", "priorityVehicle", "motorcycle"}
)
#: The lane type of a lanelet only other users may use, first match: ``NON_DRIVABLE_TYPES``.
_NON_VEHICLE_USERS = (("bicycle", "bicycleLane"), ("pedestrian", "sidewalk"), ("train", "rail"))
#: Every road user CommonRoad names in ``userOneWay`` / ``userBidirectional``; another is an
#: error (a typo would otherwise close a road to vehicles).
KNOWN_USERS = VEHICLE_USERS | {user for user, _ in _NON_VEHICLE_USERS}
#: CommonRoad traffic-light colours -> drivestack signal states (``SIGNAL_STATES``).
LIGHT_STATES = {
    "green": "green",
    "yellow": "yellow",
    "red": "red",
    "redYellow": "red_yellow",
    "inactive": "off",
}
_BOOLEANS = {"true": True, "1": True, "false": False, "0": False}
#: The turns of an intersection incoming, in the order of its ``successors<Turn>`` elements.
TURNS: tuple[str, ...] = ("right", "straight", "left")
#: CommonRoad traffic-light ``<direction>`` -> the turns it governs (``None``: every way out).
LIGHT_DIRECTIONS: dict[str, tuple[str, ...] | None] = {
    "right": ("right",),
    "straight": ("straight",),
    "left": ("left",),
    "leftStraight": ("left", "straight"),
    "straightRight": ("straight", "right"),
    "leftRight": ("left", "right"),
    "all": None,
}


@dataclass(frozen=True)
class Incoming:
    """One ``<incoming>`` of an intersection: its id, its ``incomingLanelet`` ids, the lanelet
    ids of its successors by turn (``successors["right" | "straight" | "left"]``, each a
    successor of one of its incoming lanelets; ``()`` where the file lists none) and the
    incoming it ``isLeftOf`` (``None`` when not given)."""

    incoming_id: str
    lanelets: tuple[str, ...]
    successors: dict[str, tuple[str, ...]]
    is_left_of: str | None = None


@dataclass(frozen=True)
class Intersection:
    """One ``<intersection>``: its id, incomings and crossing lanelets (``<crossing>``'s
    ``crossingLanelet`` ids; ``()`` without)."""

    intersection_id: str
    incomings: tuple[Incoming, ...]
    crossings: tuple[str, ...] = ()

    @property
    def junction_id(self) -> str:
        """The :attr:`Lane.junction_id` of its lanes: ``"intersection-<id>"``."""
        return f"intersection-{self.intersection_id}"


@dataclass(frozen=True)
class GoalState:
    """One ``<goalState>`` of the planning problem, in the map frame and in seconds of the run
    (the planning problem's initial time step is t = 0). A part the file leaves open is
    ``None``. ``area``: the union of its ``<position>`` shapes (``rectangle``, ``circle``,
    ``polygon``, and the polygons of its ``lanelet`` refs); ``time_s``, ``yaw_rad``,
    ``speed_mps``: closed intervals (``<exact>`` gives a zero-width one). ``yaw_rad`` is an
    angle interval: ``(start, end)`` with ``end >= start`` counter-clockwise, ``end - start >=
    2 pi`` any heading."""

    area: BaseGeometry | None = None
    time_s: tuple[float, float] | None = None
    yaw_rad: tuple[float, float] | None = None
    speed_mps: tuple[float, float] | None = None

    def reached(
        self,
        time_s: npt.ArrayLike,
        x_m: npt.ArrayLike,
        y_m: npt.ArrayLike,
        yaw_rad: npt.ArrayLike,
        speed_mps: npt.ArrayLike,
    ) -> np.ndarray:
        """``(T,)`` states -> ``(T,)`` bool: the state is inside every part given (the
        position on the area's boundary counts as inside; intervals closed, 1e-9 slack)."""
        t = np.asarray(time_s, dtype=np.float64)
        ok = np.ones(t.shape, dtype=bool)
        if self.area is not None:
            ok &= shapely.covers(self.area, shapely.points(np.asarray(x_m), np.asarray(y_m)))
        if self.time_s is not None:
            ok &= (t >= self.time_s[0] - 1e-9) & (t <= self.time_s[1] + 1e-9)
        if self.speed_mps is not None:
            v = np.asarray(speed_mps, dtype=np.float64)
            ok &= (v >= self.speed_mps[0] - 1e-9) & (v <= self.speed_mps[1] + 1e-9)
        if self.yaw_rad is not None:
            start, end = self.yaw_rad
            if end - start < 2 * math.pi:
                ahead = np.mod(np.asarray(yaw_rad, dtype=np.float64) - start, 2 * math.pi)
                ok &= (ahead <= end - start + 1e-9) | (ahead >= 2 * math.pi - 1e-9)
        return ok


def goal_reached_time_s(
    goals: tuple[GoalState, ...],
    time_s: npt.ArrayLike,
    x_m: npt.ArrayLike,
    y_m: npt.ArrayLike,
    yaw_rad: npt.ArrayLike,
    speed_mps: npt.ArrayLike,
) -> float | None:
    """The first of the ``(T,)`` states that reaches one of ``goals`` (CommonRoad: a goal
    region is reached when any of its goal states is), as its time; ``None`` when none does
    or there are no goals."""
    t = np.asarray(time_s, dtype=np.float64)
    hit = np.zeros(t.shape, dtype=bool)
    for goal in goals:
        hit |= goal.reached(t, x_m, y_m, yaw_rad, speed_mps)
    return float(t[np.argmax(hit)]) if hit.any() else None


@dataclass(frozen=True)
class CommonRoadScenario:
    """One file's map, obstacles and planning problem; ``intersections`` as read
    (:class:`Intersection`, file order); ``light_notes`` one line per traffic-light stop whose
    ``<direction>`` could not be resolved and so governs every way out of its lanelet
    (module docstring)."""

    benchmark_id: str
    version: str
    dt_s: float
    road_map: RoadMap
    agents: tuple[AgentSpec, ...]
    ego_initial: tuple[float, float, float, float]  # x_m, y_m, yaw_rad, speed_mps
    goal_lanelets: tuple[str, ...]
    n_dynamic_obstacles: int
    n_static_obstacles: int
    intersections: tuple[Intersection, ...] = ()
    light_notes: tuple[str, ...] = ()
    #: The planning problem read (its id) and its goal states (:class:`GoalState`, file order).
    planning_problem_id: str = ""
    goal_states: tuple[GoalState, ...] = ()
    #: The planning problem's initial time step in seconds: the obstacles' and lights' times
    #: are shifted by it, so the run's t = 0 is that step.
    initial_time_s: float = 0.0


def _float(el: ET.Element | None, path: str, record: str, field: str) -> float:
    """A CommonRoad value: ``<exact>``, the midpoint of ``<intervalStart>``/``<intervalEnd>``
    (``DataError`` for an end below the start), or the element's own text."""
    if el is None:
        raise DataError("missing", path=path, record=record, field=field)
    exact = el.find("exact")
    if exact is not None and exact.text is not None:
        return finite_number(exact.text, path, record, field)
    lo, hi = el.find("intervalStart"), el.find("intervalEnd")
    if lo is not None and hi is not None and lo.text is not None and hi.text is not None:
        start = finite_number(lo.text, path, record, field)
        end = finite_number(hi.text, path, record, field)
        if end < start:  # as a goal's interval
            raise DataError(
                f"intervalEnd {end} is below intervalStart {start}",
                path=path,
                record=record,
                field=field,
            )
        return 0.5 * (start + end)
    if el.text is not None and el.text.strip():
        return finite_number(el.text, path, record, field)
    raise DataError("no exact value or interval", path=path, record=record, field=field)


def _point_list(el: ET.Element, path: str, record: str, field: str) -> np.ndarray:
    """``el``'s ``<point>`` children as ``(N, 2)`` (``N >= 0``, finite coordinates)."""
    pts = [
        (
            finite_number(p.findtext("x"), path, record, f"{field} point {i} x"),
            finite_number(p.findtext("y"), path, record, f"{field} point {i} y"),
        )
        for i, p in enumerate(el.findall("point"))
    ]
    return np.asarray(pts, dtype=np.float64).reshape(-1, 2)


def _points(el: ET.Element | None, path: str, record: str, field: str) -> np.ndarray:
    """A bound's ``<point>`` list as ``(N, 2)`` (at least 2 points, finite coordinates)."""
    if el is None:
        raise DataError("missing", path=path, record=record, field=field)
    arr = _point_list(el, path, record, field)
    if len(arr) < 2:
        raise DataError("needs at least 2 finite points", path=path, record=record, field=field)
    return dedup(arr)


def _position(el: ET.Element | None, path: str, record: str) -> tuple[float, float]:
    if el is None:
        raise DataError("missing", path=path, record=record, field="position")
    point = el.find("point")
    if point is None:
        point = el.find("rectangle/center")
    if point is None:
        point = el.find("circle/center")
    if point is None:
        raise DataError("no point, rectangle or circle", path=path, record=record, field="position")
    return (
        finite_number(point.findtext("x"), path, record, "position x"),
        finite_number(point.findtext("y"), path, record, "position y"),
    )


def _speed_signs(root: ET.Element, path: str) -> dict[str, float]:
    """Speed-limit traffic sign id -> its value in m/s (:data:`SPEED_SIGNS`; the lowest when
    one sign has several speed elements). ``DataError`` for a sign without an id or with
    another sign's. Elements of another id that carry a number and are not known
    (:data:`OTHER_VALUE_SIGNS`) are not read: one warning per file names them."""
    check_unique_ids(root.iter("trafficSign"), "trafficSign", path)
    out: dict[str, float] = {}
    unknown: dict[str, str] = {}  # element id -> the first sign carrying it
    for sign in root.iter("trafficSign"):
        record = f"trafficSign {sign.get('id')}"
        for element in sign.findall("trafficSignElement"):
            element_id = element.findtext("trafficSignID", "").strip()
            value = element.findtext("additionalValue")
            if not value or not value.strip():
                continue
            if element_id in SPEED_SIGNS:
                speed = finite_number(value, path, record, "additionalValue")
                if speed <= 0.0:
                    raise DataError(
                        f"a speed limit must be > 0 m/s, got {speed}",
                        path=path,
                        record=record,
                        field="additionalValue",
                    )
                key = sign.get("id", "")
                out[key] = min(speed, out.get(key, math.inf))
            elif element_id not in OTHER_VALUE_SIGNS and _is_number(value):
                unknown.setdefault(element_id, record)
    if unknown:
        listed = ", ".join(f"{eid!r} ({where})" for eid, where in unknown.items())
        warnings.warn(
            f"{path}: traffic sign element ids {listed} carry a value but are no known "
            "maximum-speed sign (commonroad-io's MAX_SPEED ids); not read as speed limits",
            stacklevel=3,
        )
    return out


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _ref(
    r: ET.Element, ids: set[str | None], path: str, record: str, tag: str, kind: str = "lanelet"
) -> str:
    """The id (of a lanelet, or another ``kind``) a reference element names (``DataError``
    when the file has no such ``kind``)."""
    ref = r.get("ref")
    if ref not in ids:
        raise DataError(f"refers to unknown {kind} {ref!r}", path=path, record=record, field=tag)
    return str(ref)


def _refs(
    el: ET.Element, tag: str, ids: set[str | None], path: str, record: str
) -> tuple[str, ...]:
    """The lanelet ids of ``el``'s ``<tag ref=...>`` children (successors, predecessors)."""
    return tuple(_ref(r, ids, path, record, tag) for r in el.findall(tag))


def _neighbour(
    el: ET.Element, tag: str, ids: set[str | None], path: str, record: str
) -> str | None:
    """A same-direction adjacent lanelet (opposite-direction ones are not lane-change targets)."""
    adj = el.find(tag)
    if adj is None:
        return None
    ref = _ref(adj, ids, path, record, tag)
    direction = adj.get("drivingDir")
    if direction not in ("same", "opposite"):
        raise DataError(
            f"must be same or opposite, got {direction!r}",
            path=path,
            record=record,
            field=f"{tag}@drivingDir",
        )
    return ref if direction == "same" else None


def _lanes(
    root: ET.Element, path: str, default_speed_mps: float
) -> tuple[list[Lane], list[Polygon]]:
    signs = _speed_signs(root, path)
    sign_ids: set[str | None] = {sign.get("id") for sign in root.iter("trafficSign")}
    raw = root.findall("lanelet")
    check_unique_ids(raw, "lanelet", path)
    ids = {el.get("id") for el in raw}
    lanes, crosswalks = [], []
    for el in raw:
        lid = el.get("id")
        record = f"lanelet {lid}"
        left = _points(el.find("leftBound"), path, record, "leftBound")
        right = _points(el.find("rightBound"), path, record, "rightBound")
        limits = []  # every limit that applies: the lowest wins (commonroad-io's speed_limit)
        limit = el.findtext("speedLimit")
        if limit is not None:
            value = finite_number(limit, path, record, "speedLimit")
            if value > 0.0:  # 0 (or less): no limit given, never below a sign's
                limits.append(value)
        for ref in el.findall("trafficSignRef"):
            sign = _ref(ref, sign_ids, path, record, "trafficSignRef", "traffic sign")
            if sign in signs:
                limits.append(signs[sign])
        speed = min(limits, default=default_speed_mps)
        lane_type = _lane_type(el, path, record)

        successors = _refs(el, "successor", ids, path, record)
        predecessors = _refs(el, "predecessor", ids, path, record)
        left_neighbor = _neighbour(el, "adjacentLeft", ids, path, record)
        right_neighbor = _neighbour(el, "adjacentRight", ids, path, record)
        with lane_checks(path, record):
            lane = Lane(
                str(lid),
                centerline_from_bounds(left, right),
                left,
                right,
                speed,
                successors=successors,
                predecessors=predecessors,
                left_neighbor=left_neighbor,
                right_neighbor=right_neighbor,
                lane_type=lane_type,
            )
        lanes.append(lane)
        if lane_type == "crosswalk":
            crosswalks.append(lane.polygon)
    return lanes, crosswalks


def _lane_type(el: ET.Element, path: str, record: str) -> str:
    """A lanelet's :attr:`Lane.lane_type`: ``crosswalk`` when one of its ``laneletType``s is;
    else its first ``laneletType`` that is not drivable (``NON_DRIVABLE_TYPES``: ``sidewalk``,
    ``bicycleLane``); else, when its ``userOneWay`` / ``userBidirectional`` users name no motor
    vehicle (:data:`VEHICLE_USERS`), the type of who may use it (``bicycleLane``, ``sidewalk``,
    ``rail``); else its first ``laneletType`` (``road`` without)."""
    types = [t.text.strip() for t in el.findall("laneletType") if t.text and t.text.strip()]
    if "crosswalk" in types:
        return "crosswalk"
    closed = next((t for t in types if t in NON_DRIVABLE_TYPES), None)
    if closed is not None:
        return closed
    users = {
        (u.text or "").strip()
        for tag in ("userOneWay", "userBidirectional")
        for u in el.findall(tag)
    } - {""}
    unknown = sorted(users - KNOWN_USERS)
    if unknown:
        raise DataError(
            f"unknown road user {unknown[0]!r} (CommonRoad's: {', '.join(sorted(KNOWN_USERS))})",
            path=path,
            record=record,
            field="userOneWay / userBidirectional",
        )
    if users and not users & VEHICLE_USERS:
        for user, lane_type in _NON_VEHICLE_USERS:
            if user in users:
                return lane_type
        return "sidewalk"  # CommonRoad has no other road user
    return types[0] if types else "road"


def _size(el: ET.Element, path: str, record: str) -> tuple[float, float]:
    """An obstacle's length and width (m) from its rectangle or circle shape."""
    rect = el.find("shape/rectangle")
    if rect is not None:
        length = finite_number(rect.findtext("length"), path, record, "shape/rectangle/length")
        width = finite_number(rect.findtext("width"), path, record, "shape/rectangle/width")
    elif el.find("shape/circle") is not None:
        radius = finite_number(
            el.findtext("shape/circle/radius"), path, record, "shape/circle/radius"
        )
        length = width = 2 * radius
    else:
        raise DataError("no rectangle or circle size", path=path, record=record, field="shape")
    if not (length > 0 and width > 0):
        raise DataError(
            f"size must be positive, got {length} x {width} m",
            path=path,
            record=record,
            field="shape",
        )
    return length, width


def _time_step_s(root: ET.Element, path: str) -> float:
    """The file's ``timeStepSize`` (s; 0.1 when absent), a positive finite number."""
    dt = finite_number(root.get("timeStepSize", "0.1"), path, None, "timeStepSize")
    if dt <= 0:
        raise DataError(f"must be positive, got {dt}", path=path, field="timeStepSize")
    return dt


def _steps_s(steps: float, dt_s: float) -> float:
    """A number of time steps in seconds, rounded to the nanosecond (drivestack's time
    resolution): ``30`` steps of ``0.1`` s are 3.0 s, not ``3.0000000000000004``."""
    return round(steps * dt_s, 9)


def _cycle(light: ET.Element, dt_s: float, path: str, record: str) -> SignalCycle | None:
    """A light's ``<cycle>`` in seconds (``None`` when it has none)."""
    cycle = light.find("cycle")
    if cycle is None:
        return None
    phases = []
    for i, element in enumerate(cycle.findall("cycleElement")):
        where = f"cycle/cycleElement {i}"
        steps = _float(element.find("duration"), path, record, f"{where}/duration")
        duration_s = _steps_s(steps, dt_s)
        if duration_s <= 0:
            raise DataError(
                f"must be positive, got {steps:g} time steps",
                path=path,
                record=record,
                field=f"{where}/duration",
            )
        colour = (element.findtext("color") or "").strip()
        if colour not in LIGHT_STATES:
            reason = (
                f"unknown colour {colour!r}; known: {list(LIGHT_STATES)}" if colour else "missing"
            )
            raise DataError(reason, path=path, record=record, field=f"{where}/color")
        phases.append(SignalPhase(LIGHT_STATES[colour], duration_s))
    if not phases:
        raise DataError("no cycleElement", path=path, record=record, field="cycle")
    offset = cycle.find("timeOffset")
    offset_steps = 0.0 if offset is None else _float(offset, path, record, "cycle/timeOffset")
    return SignalCycle(tuple(phases), _steps_s(offset_steps, dt_s))


def _light(el: ET.Element, dt_s: float, path: str) -> TrafficLight:
    """A ``<trafficLight>`` without its stops: id, cycle (a one-phase ``off`` cycle when it is
    not active) and position."""
    lid = el.get("id")
    if not lid:
        raise DataError("missing", path=path, record="trafficLight", field="id")
    record = f"trafficLight {lid}"
    cycle = _cycle(el, dt_s, path, record)
    active = el.findtext("active")
    active = "true" if active is None else active.strip()
    if active.lower() not in _BOOLEANS:
        raise DataError(
            f"must be true or false, got {active!r}", path=path, record=record, field="active"
        )
    if not _BOOLEANS[active.lower()]:
        period_s = cycle.period_s if cycle is not None else dt_s
        cycle = SignalCycle((SignalPhase("off", period_s),))
    where = el.find("position")
    position = None if where is None else _position(where, path, record)
    return TrafficLight(lid, (), cycle, position)


def _incoming(
    el: ET.Element, by_id: dict[str, Lane], ids: set[str | None], path: str, record: str
) -> Incoming:
    """An ``<incoming>`` (its ``isLeftOf`` checked by the caller): lanelet references that
    name lanelets of the file (``ids``), successors that follow one of its incoming
    lanelets."""
    lanelets = _refs(el, "incomingLanelet", ids, path, record)
    if not lanelets:
        raise DataError("no incomingLanelet", path=path, record=record, field="incomingLanelet")
    leaving = {succ for lanelet in lanelets for succ in by_id[lanelet].successors}
    successors: dict[str, tuple[str, ...]] = {}
    for turn in TURNS:
        tag = f"successors{turn.capitalize()}"
        refs = _refs(el, tag, ids, path, record)
        for ref in refs:
            if ref not in leaving:
                raise DataError(
                    f"lanelet {ref} is no successor of the incoming lanelets {list(lanelets)}",
                    path=path,
                    record=record,
                    field=tag,
                )
            # one way out is one turn: a light's direction would govern it for both
            other = next((t for t, got in successors.items() if ref in got), None)
            if other is not None:
                raise DataError(
                    f"lanelet {ref} is listed as successors{other.capitalize()} too: a "
                    "successor is one turn",
                    path=path,
                    record=record,
                    field=tag,
                )
        successors[turn] = tuple(dict.fromkeys(refs))
    left_of = el.find("isLeftOf")
    return Incoming(
        str(el.get("id")),
        lanelets,
        successors,
        None if left_of is None else str(left_of.get("ref")),
    )


def _intersections(root: ET.Element, lanes: list[Lane], path: str) -> list[Intersection]:
    """The file's ``<intersection>`` elements (top-level ones: ``scenarioTags`` has an
    ``<intersection>`` tag too)."""
    elements = root.findall("intersection")
    check_unique_ids(elements, "intersection", path)
    check_unique_ids(
        [inc for el in elements for inc in el.findall("incoming")], "intersection incoming", path
    )
    by_id = {lane.lane_id: lane for lane in lanes}
    ids: set[str | None] = set(by_id)
    out = []
    for el in elements:
        iid = str(el.get("id"))
        record = f"intersection {iid}"
        incomings = tuple(
            _incoming(inc, by_id, ids, path, f"{record} incoming {inc.get('id')}")
            for inc in el.findall("incoming")
        )
        if not incomings:
            raise DataError("no incoming", path=path, record=record, field="incoming")
        mine = {inc.incoming_id for inc in incomings}
        inside = {succ for inc in incomings for turn in TURNS for succ in inc.successors[turn]}
        for inc in incomings:
            for lanelet in inc.lanelets:
                if lanelet in inside:  # the way in and a way out of one intersection
                    raise DataError(
                        f"lanelet {lanelet} is a successor of an incoming of this intersection "
                        "(inside it): an incoming lanelet leads into the intersection",
                        path=path,
                        record=f"{record} incoming {inc.incoming_id}",
                        field="incomingLanelet",
                    )
            if inc.is_left_of == inc.incoming_id:
                raise DataError(
                    "refers to its own incoming",
                    path=path,
                    record=f"{record} incoming {inc.incoming_id}",
                    field="isLeftOf",
                )
            if inc.is_left_of is not None and inc.is_left_of not in mine:
                raise DataError(
                    f"refers to unknown incoming {inc.is_left_of!r} (this intersection's: "
                    f"{sorted(mine)})",
                    path=path,
                    record=f"{record} incoming {inc.incoming_id}",
                    field="isLeftOf",
                )
        crossings = tuple(
            _ref(r, ids, path, record, "crossing/crossingLanelet")
            for r in el.findall("crossing/crossingLanelet")
        )
        out.append(Intersection(iid, incomings, crossings))
    return out


def _junctions(intersections: list[Intersection], path: str) -> dict[str, str]:
    """Lanelet id -> ``"intersection-<id>"`` for the lanelets inside an intersection (its
    incomings' successors); ``DataError`` for a lanelet inside two, or an incoming lanelet of
    two incomings."""
    junction_of: dict[str, str] = {}
    for section in intersections:
        for inc in section.incomings:
            for turn in TURNS:
                for lanelet in inc.successors[turn]:
                    other = junction_of.setdefault(lanelet, section.junction_id)
                    if other != section.junction_id:
                        raise DataError(
                            f"lanelet {lanelet} is inside intersection "
                            f"{other.removeprefix('intersection-')} too",
                            path=path,
                            record=f"intersection {section.intersection_id} incoming "
                            f"{inc.incoming_id}",
                            field=f"successors{turn.capitalize()}",
                        )
    # a lanelet leads into one intersection by one incoming: a light's direction on it would
    # have two meanings
    incoming_of: dict[str, str] = {}  # lanelet -> the record of the incoming listing it
    for section in intersections:
        for inc in section.incomings:
            here = f"intersection {section.intersection_id} incoming {inc.incoming_id}"
            for lanelet in dict.fromkeys(inc.lanelets):
                first = incoming_of.setdefault(lanelet, here)
                if first != here:
                    raise DataError(
                        f"lanelet {lanelet} is an incomingLanelet of {first} too: a lanelet "
                        "leads into one intersection, by one incoming",
                        path=path,
                        record=here,
                        field="incomingLanelet",
                    )
    return junction_of


def _direction(el: ET.Element, path: str) -> str:
    """A light's ``<direction>`` (``all`` when absent, CommonRoad's default)."""
    found = el.findall("direction")
    if len(found) > 1:
        raise DataError(
            f"{len(found)} <direction> elements; a light has at most one",
            path=path,
            record=f"trafficLight {el.get('id')}",
            field="direction",
        )
    text = el.findtext("direction")
    direction = "all" if text is None else text.strip()
    if direction not in LIGHT_DIRECTIONS:
        raise DataError(
            f"unknown direction {direction!r}; known: {list(LIGHT_DIRECTIONS)}",
            path=path,
            record=f"trafficLight {el.get('id')}",
            field="direction",
        )
    return direction


def _next_lanes(
    light_id: str,
    direction: str,
    lane: Lane,
    intersections: list[Intersection],
    notes: list[str],
) -> tuple[str, ...] | None:
    """The ways out of ``lane`` that light ``light_id`` showing ``direction`` governs
    (:attr:`LaneStop.next_lanes`): ``None`` for ``all``; else the lane's successors that
    are successors by those turns of an incoming listing the lane. ``None`` too, with a
    line in ``notes``, where that cannot be resolved: the lane is no incoming lanelet of an
    intersection, or its incoming lists no successor for any of the turns."""
    turns = LIGHT_DIRECTIONS[direction]
    if turns is None:
        return None
    incomings = [
        inc
        for section in intersections
        for inc in section.incomings
        if lane.lane_id in inc.lanelets
    ]
    where = f"trafficLight {light_id} (direction {direction}) on lanelet {lane.lane_id}"
    if not incomings:
        notes.append(f"{where}: the lanelet is no incomingLanelet of an intersection; governs all")
        return None
    by_turn = {succ for inc in incomings for turn in turns for succ in inc.successors[turn]}
    if not by_turn:
        names = ", ".join(f"successors{t.capitalize()}" for t in turns)
        listed = ", ".join(inc.incoming_id for inc in incomings)
        notes.append(f"{where}: incoming {listed} lists no {names}; governs all")
        return None
    return tuple(succ for succ in lane.successors if succ in by_turn)


def _lanelet_stop_m(el: ET.Element, lane: Lane, path: str, record: str) -> float:
    """Station of a lanelet's stop line on its lane: where its points meet the centreline, or
    the lane's end when it has no stop line or no points."""
    stop_line = el.find("stopLine")
    line = None if stop_line is None else _point_list(stop_line, path, record, "stopLine")
    if line is None or len(line) == 0:
        return lane.length_m
    station = stop_station_m(lane.centerline_m, line)
    on_lane = station_on_lane(lane, station)
    if on_lane is None:
        raise DataError(
            f"lies off the lanelet: station {station:.2f} m on a lane {lane.length_m:.2f} m long",
            path=path,
            record=record,
            field="stopLine",
        )
    return on_lane


def _stop_at(el: ET.Element, lane: Lane, path: str) -> tuple[float, LineString | None]:
    """Lanelet ``el``'s stop station on its ``lane`` (:func:`_lanelet_stop_m`) and its stop
    line (``None`` without one of two or more points)."""
    record = f"lanelet {el.get('id')}"
    station = _lanelet_stop_m(el, lane, path, record)
    stop_line = el.find("stopLine")
    points = None if stop_line is None else _point_list(stop_line, path, record, "stopLine")
    line = None if points is None or len(dedup(points)) < 2 else LineString(points)
    return station, line


def _traffic_lights(
    root: ET.Element,
    lanes: list[Lane],
    dt_s: float,
    path: str,
    intersections: list[Intersection],
    notes: list[str],
) -> list[TrafficLight]:
    """The file's traffic lights, each stopping the lanelets that reference it for the ways
    out its direction governs (unresolved directions noted in ``notes``)."""
    elements = root.findall("trafficLight")
    read = [_light(el, dt_s, path) for el in elements]
    check_unique_ids(elements, "trafficLight", path)
    directions = {str(el.get("id")): _direction(el, path) for el in elements}
    stops: dict[str, list[LaneStop]] = {light.light_id: [] for light in read}
    ids: set[str | None] = set(stops)
    by_id = {lane.lane_id: lane for lane in lanes}
    for el in root.findall("lanelet"):
        record = f"lanelet {el.get('id')}"
        refs = [
            _ref(r, ids, path, record, "trafficLightRef", "traffic light")
            for r in el.findall("trafficLightRef")
        ] + [
            _ref(r, ids, path, record, "stopLine/trafficLightRef", "traffic light")
            for r in el.findall("stopLine/trafficLightRef")
        ]
        if refs:
            lane = by_id[str(el.get("id"))]
            station = _lanelet_stop_m(el, lane, path, record)
            for ref in dict.fromkeys(refs):
                ways = _next_lanes(ref, directions[ref], lane, intersections, notes)
                stops[ref].append(LaneStop(lane.lane_id, station, ways))
    return [replace(light, stops=tuple(stops[light.light_id])) for light in read]


def _interval(
    el: ET.Element | None, path: str, record: str, field: str
) -> tuple[float, float] | None:
    """A goal state's ``<exact>`` or ``<intervalStart>``/``<intervalEnd>`` as ``(lo, hi)``
    (``None`` without the element; ``DataError`` for ``hi < lo``)."""
    if el is None:
        return None
    exact = el.find("exact")
    if exact is not None:
        value = finite_number(exact.text, path, record, field)
        return value, value
    lo = finite_number(el.findtext("intervalStart"), path, record, f"{field}/intervalStart")
    hi = finite_number(el.findtext("intervalEnd"), path, record, f"{field}/intervalEnd")
    if hi < lo:
        raise DataError(
            f"intervalEnd {hi} is below intervalStart {lo}", path=path, record=record, field=field
        )
    return lo, hi


def _shape(el: ET.Element, path: str, record: str, field: str) -> Polygon:
    """A CommonRoad ``rectangle`` (``length``, ``width``, ``orientation`` default 0, ``center``),
    ``circle`` (``radius``, ``center``) or ``polygon`` (``point``s) as a polygon."""
    if el.tag == "polygon":
        points = _point_list(el, path, record, field)
        shape = Polygon(points) if len(points) >= 3 else Polygon()
        if shape.is_empty or not shape.is_valid:
            raise DataError(
                "needs at least 3 points making a valid polygon",
                path=path,
                record=record,
                field=field,
            )
        return shape
    centre = el.find("center")
    cx = finite_number(
        None if centre is None else centre.findtext("x"), path, record, f"{field}/center/x"
    )
    cy = finite_number(
        None if centre is None else centre.findtext("y"), path, record, f"{field}/center/y"
    )
    if el.tag == "circle":
        radius = finite_number(el.findtext("radius"), path, record, f"{field}/radius")
        if radius <= 0:
            raise DataError(
                f"must be positive, got {radius}", path=path, record=record, field=f"{field}/radius"
            )
        return Point(cx, cy).buffer(radius, 64)
    length = finite_number(el.findtext("length"), path, record, f"{field}/length")
    width = finite_number(el.findtext("width"), path, record, f"{field}/width")
    if not (length > 0 and width > 0):
        raise DataError(
            f"size must be positive, got {length} x {width} m",
            path=path,
            record=record,
            field=field,
        )
    yaw_text = el.findtext("orientation")
    yaw = 0.0 if yaw_text is None else finite_number(yaw_text, path, record, f"{field}/orientation")
    c, s = math.cos(yaw), math.sin(yaw)
    corners = np.array([[1, 1], [-1, 1], [-1, -1], [1, -1]]) * [length / 2, width / 2]
    rotated = corners @ np.array([[c, s], [-s, c]])
    return Polygon(rotated + np.array([cx, cy]))


def _goal_states(
    problem: ET.Element, road_map: RoadMap, dt_s: float, start_s: float, path: str
) -> tuple[GoalState, ...]:
    """The planning problem's ``<goalState>``s (:class:`GoalState`; times in s after
    ``start_s``, the initial time step)."""
    record = f"planningProblem {problem.get('id')}"
    lane_ids: set[str | None] = {lane.lane_id for lane in road_map.lanes}
    out = []
    for i, goal in enumerate(problem.findall("goalState")):
        where = f"goalState {i}"
        position = goal.find("position")
        area = None
        if position is not None:
            shapes = [
                _shape(el, path, record, f"{where}/position/{el.tag}")
                for el in position
                if el.tag in ("rectangle", "circle", "polygon")
            ]
            shapes += [
                road_map.lane(_ref(r, lane_ids, path, record, "goalState/position/lanelet")).polygon
                for r in position.findall("lanelet")
            ]
            if not shapes:
                raise DataError(
                    "no rectangle, circle, polygon or lanelet",
                    path=path,
                    record=record,
                    field=f"{where}/position",
                )
            area = shapely.unary_union(shapes)
        steps = _interval(goal.find("time"), path, record, f"{where}/time")
        if steps is not None and _steps_s(steps[1], dt_s) < start_s:
            warnings.warn(
                f"{path}: {record}: field {where}/time: the goal's time ends at step "
                f"{steps[1]:g}, before the initial state's ({start_s / dt_s:g}): it can never "
                "be reached (goal_reached will be false)",
                stacklevel=3,
            )
        out.append(
            GoalState(
                area,
                None
                if steps is None
                else (_steps_s(steps[0], dt_s) - start_s, _steps_s(steps[1], dt_s) - start_s),
                _interval(goal.find("orientation"), path, record, f"{where}/orientation"),
                _interval(goal.find("velocity"), path, record, f"{where}/velocity"),
            )
        )
    return tuple(out)


def _planning_problem(root: ET.Element, path: str, chosen: str | int | None) -> ET.Element:
    """The planning problem to read: the file's only one, or ``chosen`` (its id). ``DataError``
    (field ``planningProblem``) for a file without one, for several without ``chosen``
    (naming their ids) and for a ``chosen`` id the file lacks."""
    problems = root.findall("planningProblem")
    ids = [str(p.get("id")) for p in problems]
    if not problems:
        raise DataError("no planningProblem", path=path, field="planningProblem")
    if chosen is None:
        if len(problems) > 1:
            raise DataError(
                f"{len(problems)} planning problems (ids {ids}); choose one: "
                "read_commonroad(..., planning_problem=<id>), in a scenario "
                "map.params.planning_problem: <id>",
                path=path,
                field="planningProblem",
            )
        return problems[0]
    if str(chosen) not in ids:
        raise DataError(
            f"no planning problem {str(chosen)!r} (the file's: {ids})",
            path=path,
            field="planningProblem",
        )
    return problems[ids.index(str(chosen))]


def _goals(problem: ET.Element, ids: set[str | None], path: str) -> tuple[str, ...]:
    """The planning problem's goal lanelet ids (each must be a lanelet of the file)."""
    record = f"planningProblem {problem.get('id')}"
    return tuple(
        _ref(r, ids, path, record, "goalState/position/lanelet")
        for r in problem.findall("goalState/position/lanelet")
    )


def _obstacle(
    el: ET.Element, dt_s: float, path: str, static: bool, start_s: float = 0.0
) -> AgentSpec:
    """An obstacle as a replay agent, its times ``start_s`` earlier (the planning problem's
    initial time step is the run's t = 0)."""
    oid = el.get("id", "?")
    record = f"obstacle {oid}"
    kind = el.findtext("type", "unknown").strip()
    label = _TYPES.get(kind, ObjectClass.UNKNOWN)
    length, width = _size(el, path, record)
    states = [el.find("initialState")]
    states += el.findall("trajectory/state")
    t, x, y, yaw, v = [], [], [], [], []
    for st in states:
        if st is None:
            raise DataError("missing", path=path, record=record, field="initialState")
        px, py = _position(st.find("position"), path, record)
        step = _float(st.find("time"), path, record, "time")
        if step < 0:
            raise DataError(
                f"must be a time step >= 0, got {step:g}", path=path, record=record, field="time"
            )
        t.append(_steps_s(step, dt_s) - start_s)
        x.append(px)
        y.append(py)
        yaw.append(_float(st.find("orientation"), path, record, "orientation"))
        vel = st.find("velocity")
        v.append(_float(vel, path, record, "velocity") if vel is not None else 0.0)
    if static:
        t = [0.0, 1e6]
        x, y, yaw, v = x[:1] * 2, y[:1] * 2, yaw[:1] * 2, [0.0, 0.0]
    track = ReplayTrack(
        np.asarray(t), np.asarray(x), np.asarray(y), np.unwrap(np.asarray(yaw)), np.asarray(v)
    )
    if np.any(np.diff(track.time_s) <= 0):
        raise DataError("time steps must increase", path=path, record=record, field="time")
    height = 1.75 if label == ObjectClass.PEDESTRIAN else 1.5
    return AgentSpec(f"cr{oid}", label, (length, width, height), "replay", replay=track)


def read_commonroad(
    path: str | Path,
    default_speed_limit_mps: float = 13.89,
    planning_problem: str | int | None = None,
) -> CommonRoadScenario:
    """Parse one CommonRoad XML file (2018b or 2020a). ``planning_problem``: the id of the
    ``<planningProblem>`` to read, needed when the file has several (``DataError`` naming
    them otherwise). Its initial state's ``<time>`` step is the run's t = 0: obstacles and
    light cycles are shifted by it."""
    p = Path(path)
    try:
        root = ET.parse(p).getroot()
    except (OSError, ET.ParseError) as exc:
        raise DataError(f"cannot parse XML: {exc}", path=str(p)) from exc
    if root.tag != "commonRoad":
        raise DataError(f"root element is <{root.tag}>, expected <commonRoad>", path=str(p))
    version = root.get("commonRoadVersion", "")
    dt = _time_step_s(root, str(p))
    lanes, crosswalks = _lanes(root, str(p), default_speed_limit_mps)
    intersections = _intersections(root, lanes, str(p))
    junction_of = _junctions(intersections, str(p))
    notes: list[str] = []
    lights = _traffic_lights(root, lanes, dt, str(p), intersections, notes)
    by_id = {lane.lane_id: lane for lane in lanes}
    signs = read_stop_signs(root, str(p), lambda el: _stop_at(el, by_id[str(el.get("id"))], str(p)))
    problem = _planning_problem(root, str(p), planning_problem)
    init = problem.find("initialState")
    record = f"planningProblem {problem.get('id')}"
    if init is None:
        raise DataError("missing", path=str(p), record=record, field="initialState")
    time_el = init.find("time")
    start_steps = 0.0 if time_el is None else _float(time_el, str(p), record, "initialState/time")
    if start_steps < 0:
        raise DataError(
            f"must be a time step >= 0, got {start_steps:g}",
            path=str(p),
            record=record,
            field="initialState/time",
        )
    start_s = _steps_s(start_steps, dt)
    if start_s:
        lights = [
            light
            if light.cycle is None
            else replace(light, cycle=replace(light.cycle, offset_s=light.cycle.offset_s - start_s))
            for light in lights
        ]
    road_map = RoadMap(
        tuple(lanes),
        tuple(crosswalks),
        frame="world",
        source=f"commonroad:{p.name}",
        traffic_lights=tuple(lights),
        stop_signs=tuple(signs),
    ).with_junctions(junction_of)
    by_role: dict[str, list[ET.Element]] = {"dynamic": [], "static": []}
    for o in root.findall("obstacle"):  # 2018b: one element, its role says which
        role = (o.findtext("role") or "").strip()
        if role not in by_role:
            reason = f"must be dynamic or static, got {role!r}" if role else "missing"
            raise DataError(reason, path=str(p), record=f"obstacle {o.get('id')}", field="role")
        by_role[role].append(o)
    dynamic = root.findall("dynamicObstacle") + by_role["dynamic"]
    static = root.findall("staticObstacle") + by_role["static"]
    check_unique_ids(dynamic + static, "obstacle", str(p))
    agents = [_obstacle(o, dt, str(p), False, start_s) for o in dynamic] + [
        _obstacle(o, dt, str(p), True) for o in static
    ]
    ex, ey = _position(init.find("position"), str(p), record)
    ego = (
        ex,
        ey,
        _float(init.find("orientation"), str(p), record, "orientation"),
        _float(init.find("velocity"), str(p), record, "velocity"),
    )
    lane_ids: set[str | None] = {lane.lane_id for lane in lanes}
    goals = _goals(problem, lane_ids, str(p))
    return CommonRoadScenario(
        root.get("benchmarkID", p.stem),
        version,
        dt,
        road_map,
        tuple(agents),
        ego,
        goals,
        len(dynamic),
        len(static),
        tuple(intersections),
        tuple(notes),
        str(problem.get("id")),
        _goal_states(problem, road_map, dt, start_s, str(p)),
        start_s,
    )
