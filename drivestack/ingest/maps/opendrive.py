"""OpenDRIVE reader (``.xodr``, versions 1.4 to 1.8): roads' lanes -> a :class:`RoadMap`.

Geometry (:mod:`drivestack.ingest.maps.opendrive_geometry`): each road's reference line
(``line``, ``arc``, ``spiral``, ``poly3``, ``paramPoly3``) is sampled at most ``step_m`` apart
(plus every plan-view record's start, where the curvature may jump); the lane offset
(``<laneOffset>``) shifts the centre lane, and each lane's ``<width>`` polynomials stack the
lanes outwards from it. Elevation and superelevation are not read (the map is 2D).

Lanes, one :class:`Lane` per lane of each lane section, with id
``"<road id>_<section index>_<lane id>"`` (quote it in YAML: ``lane: "3_0_-1"``):

- **Which**: vehicle lanes keep their OpenDRIVE type as ``lane_type`` (``driving``,
  ``entry``, ``exit``, ``onRamp``, ``offRamp``, ``connectingRamp``, ``bidirectional``,
  ``slipLane``, ``mwyEntry``, ``mwyExit``); ``sidewalk`` / ``walking`` lanes become ``sidewalk``
  / ``walkway`` and ``biking`` lanes ``bicycle_lane``, kept out of the drivable area and never
  linked to vehicle lanes. Shoulders, borders, medians, parking, curbs, ``none`` and the other
  types are not lanes a route may use and are left out (their widths still place the lanes
  beyond them), as are lanes narrower than 1 cm over their whole section.
- **Direction**: right-hand traffic (the default, ``rule="RHT"``) drives the right lanes
  (negative ids) along the reference line and the left lanes against it; ``rule="LHT"`` the
  other way round. The lane's centreline and bounds run in its driving direction.
- **Successors** follow the lane links (``<link><predecessor|successor id>``) between lane
  sections and, at a road's ends, into the road its ``<link>`` names (at that road's
  ``contactPoint``), and a junction's ``<connection>`` lane links (``connectingRoad``, or
  ``linkedRoad`` in a ``type="direct"`` junction, as the standard has it; a direct junction's
  ``connectingRoad`` alone is read as its linked road, as libOpenDRIVE reads it). A link
  counts only where it joins the end of one lane's drive to the start of the other's.
- **Lane changes** (``left_neighbor`` / ``right_neighbor``): to the adjacent lane on the same
  side of the centre lane, as the road mark on the border between them permits: its
  ``laneChange`` attribute (``both``, ``increase``: towards the higher lane id, ``decrease``,
  ``none``), else its type (``broken``, ``broken broken``, ``botts dots`` and ``none`` permit
  both ways; solid lines, curbs, grass and edges do not); a border without a road mark permits
  both, the standard's default. The mark in force halfway along the section decides.
- **Speed limits**: the lane's lowest ``<speed>`` record in the section, else the road
  ``<type>``'s ``<speed>`` in force at the section's start (``m/s``, ``km/h``, ``mph``; ``no
  limit`` / ``undefined`` count as none), else ``default_speed_limit_mps``.
- **Junctions** (what ``RoadMap.route(cost="junctions")``, OpenSCENARIO's
  ``leastIntersections``, counts): the lanes of a connecting road (``road@junction`` not
  ``-1``) lie in that junction (``junction_id``). A ``type="direct"`` junction (OpenDRIVE
  1.7: entries and exits where roads meet end to end, with no connecting roads) has no lanes
  of its own: the lanes whose drive ends at a road end its connections name (incoming or
  linked road) get it as ``exit_junction_id``, so driving on across it passes one junction,
  as esmini's router counts a pass through any junction.

Traffic lights (``RoadMap.traffic_lights``): each dynamic signal (``<signal dynamic="yes">``)
is a light with the signal's id, stopping the vehicle lanes of its road's lane section at its
``s`` that drive in its ``orientation`` (and lie in its ``<validity>`` lane ranges), at the
station where the road's ``s`` is the signal's, and the lanes its ``<signalReference>`` s name
likewise; no cycle (state unknown); its ``controller_id`` the ``<controller>`` whose
``<control signalId>`` names it (signals that switch together); see
:mod:`drivestack.ingest.maps._opendrive_signals`.

Coordinates are the file's inertial x / y in metres (frame ``"world"``; the ``geoReference``
projection is not applied). Crosswalk objects, static signals (signs) and stop lines are not
read.

Malformed input is a :class:`DataError` naming the file, the record (road, lane section and
lane, junction connection) and the field: XML that does not parse, a root other than
``<OpenDRIVE>``, a missing or non-finite number, a plan-view record of an unknown shape or
non-positive length, a road without plan view or lanes, a link to a road, junction or lane
that does not exist, a road whose ``junction`` names no junction of the file, a
``type="direct"`` junction (which has no roads of its own) or a junction the road links to (an
incoming road), a repeated junction id, a junction ``type`` other than ``default``,
``direct``, ``virtual`` and ``crossing``, a direct junction's ``linkedRoad`` that does not link
to the junction at its ``contactPoint``, a connection whose ``connectingRoad`` and
``linkedRoad`` name different roads, a ``linkedRoad`` alone in a junction that is not
``type="direct"`` (neither esmini nor libOpenDRIVE reads it there), a lane given by ``<border>`` records (not read) or without ``<width>``, a
negative width, lane ids with a gap, a lane section off its road, a ``singleSide`` lane
section (not read), a dynamic signal off its road, with an unknown ``orientation`` or a
repeated id, a ``signalReference`` to a signal the file does not have, a repeated
``<controller>`` id or one whose ``<control signalId>`` is no dynamic signal of the file (or a
signal another controller controls already).

:func:`parse_opendrive` keeps the parsed file (:class:`OpenDriveNetwork`): its ``road_map()``
is :func:`read_opendrive`'s map, and ``locate()`` turns an OpenDRIVE lane position (road,
lane, s, t) into a lane and a station on it, as the OpenSCENARIO reader needs.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from drivestack.ingest.maps._geometry import lane_checks
from drivestack.ingest.maps._opendrive_links import LaneEnd, LaneLinks
from drivestack.ingest.maps._opendrive_records import (
    Reader,
    Road,
    Section,
    check_road_links,
    parse_file,
    read_roads,
)
from drivestack.ingest.maps._opendrive_signals import (
    SignalPlacement,
    read_controllers,
    read_signals,
    traffic_lights,
)
from drivestack.ingest.maps.opendrive_geometry import (
    offset_points,
    piecewise_cubic,
    reference_line,
)
from drivestack.structures.road_map import Lane, RoadMap

#: OpenDRIVE lane types a vehicle drives on (kept as the lane's ``lane_type``).
VEHICLE_LANE_TYPES = frozenset(
    {
        "driving",
        "entry",
        "exit",
        "onRamp",
        "offRamp",
        "connectingRamp",
        "bidirectional",
        "slipLane",
        "mwyEntry",
        "mwyExit",
    }
)
#: Other OpenDRIVE lane types kept as non-drivable lanes, with drivestack's type for them.
OTHER_LANE_TYPES = {"sidewalk": "sidewalk", "walking": "walkway", "biking": "bicycle_lane"}
MIN_LANE_WIDTH_M = 0.01


@dataclass(frozen=True)
class _Built:
    """One lane section's lane before linking: geometry in its driving direction."""

    key: tuple[str, int, int]
    forward: bool
    lane_type: str
    centerline_m: np.ndarray
    left_m: np.ndarray
    right_m: np.ndarray
    speed_mps: float

    @property
    def lane_id(self) -> str:
        return "_".join(str(k) for k in self.key)

    @property
    def vehicle(self) -> bool:
        return self.lane_type in VEHICLE_LANE_TYPES

    def end(self, exit_end: bool) -> LaneEnd:
        """The section end where the lane's drive ends (``exit_end``) or begins."""
        at_end = self.forward == exit_end
        return (*self.key, "end" if at_end else "start")


def _section_stations(road: Road, section: Section, step_m: float) -> np.ndarray:
    s0, s1 = section.s_start_m, section.s_end_m
    grid = np.linspace(s0, s1, max(2, math.ceil((s1 - s0) / step_m) + 1))
    kinks = [r.s_m for r in road.plan_view if s0 < r.s_m < s1]
    return np.unique(np.concatenate([grid, kinks]))


def _check_border_runs_forward(
    road: Road,
    border_m: np.ndarray,
    hdg_rad: np.ndarray,
    s_m: np.ndarray,
    record: np.ndarray,
    rd: Reader,
    where: str,
) -> None:
    """``DataError`` naming the lane (``where``), the station and the plan-view geometry there
    when the ``(N, 2)`` lane border, offset from the reference line whose headings at the
    stations ``s_m`` are ``hdg_rad``, runs backwards there: the border lies past the centre of
    the reference line's curve (offset times curvature at least 1), a curve too tight for the
    lanes' widths, which folds the lane over itself. ``record``: ``(N,)`` each station's
    plan-view record (:func:`_station_records`). Only steps within one record are checked: a
    square corner between records (a heading step) folds its inner border too, and such maps
    are drawn and driven (:data:`~drivestack.structures.road_map.MAX_VERTEX_TURN_RAD`)."""
    step = np.diff(border_m, axis=0)
    along = step[:, 0] * np.cos(hdg_rad[:-1]) + step[:, 1] * np.sin(hdg_rad[:-1])
    back = np.flatnonzero((along < -1e-9) & (record[:-1] == record[1:]))
    if not len(back):
        return
    geo = int(record[back[0]])
    kind = road.plan_view[geo].kind
    article = "an" if kind == "arc" else "a"
    raise rd.error(
        f"its border runs backwards at s {float(s_m[back[0]]):.2f} m: it lies past the centre "
        f"of the reference line's curve there (planView geometry {geo}, {article} {kind}; "
        "offset times curvature reaches 1), a curve too tight for the lane widths",
        where,
        "width",
    )


def _station_records(road: Road, s_m: np.ndarray) -> np.ndarray:
    """``(N,)`` the plan-view record (index into ``road.plan_view``, sorted by ``s``) of each
    station: the last one starting at or before it, as :func:`reference_line` assigns them."""
    starts = np.array([r.s_m for r in road.plan_view])
    return np.clip(np.searchsorted(starts, s_m, side="right") - 1, 0, len(starts) - 1)


def _section_lanes(
    road: Road, k: int, step_m: float, default_speed_limit_mps: float, rd: Reader
) -> list[_Built]:
    section = road.sections[k]
    if section.s_end_m - section.s_start_m < 1e-6:
        return []
    s = _section_stations(road, section, step_m)
    x, y, hdg = reference_line(road.plan_view, s)
    record = _station_records(road, s)
    centre_t = piecewise_cubic(road.offset_starts_m, road.offset_coeffs, s)
    ds = s - section.s_start_m
    road_speed = next(
        (speed for start, speed in reversed(road.type_speeds) if start <= section.s_start_m + 1e-9),
        None,
    )
    out = []
    for sign in (1, -1):
        inner_t = centre_t
        for lane_id in sorted((i for i in section.lanes if i * sign > 0), key=abs):
            lane = section.lanes[lane_id]
            width = piecewise_cubic(lane.width_starts_m, lane.width_coeffs, ds)
            if np.min(width) < -1e-6:
                raise rd.error(
                    f"negative width {np.min(width):.3f} m at s {s[np.argmin(width)]:.2f} m",
                    f"road {road.road_id} lane section {k} lane {lane_id}",
                    "width",
                )
            outer_t = inner_t + sign * width
            keep_type = lane.lane_type in VEHICLE_LANE_TYPES or lane.lane_type in OTHER_LANE_TYPES
            if keep_type and np.max(np.abs(outer_t - inner_t)) >= MIN_LANE_WIDTH_M:
                inner = offset_points(x, y, hdg, inner_t)
                outer = offset_points(x, y, hdg, outer_t)
                where = f"road {road.road_id} lane section {k} lane {lane_id}"
                _check_border_runs_forward(road, inner, hdg, s, record, rd, where)
                _check_border_runs_forward(road, outer, hdg, s, record, rd, where)
                forward = (lane_id < 0) != road.left_hand
                high, low = (inner, outer) if sign < 0 else (outer, inner)  # larger t is left
                left, right = (high, low) if forward else (low[::-1], high[::-1])
                centre = 0.5 * (inner + outer)
                speed = lane.speed_mps or road_speed or default_speed_limit_mps
                out.append(
                    _Built(
                        (road.road_id, k, lane_id),
                        forward,
                        lane.lane_type
                        if lane.lane_type in VEHICLE_LANE_TYPES
                        else OTHER_LANE_TYPES[lane.lane_type],
                        centre if forward else centre[::-1],
                        left,
                        right,
                        speed,
                    )
                )
            inner_t = outer_t
    return out


def _neighbours(
    built: dict[tuple[str, int, int], _Built], roads: dict[str, Road], b: _Built
) -> tuple[str | None, str | None]:
    """Left and right neighbour a vehicle in lane ``b`` may change to (see the module doc)."""
    road_id, k, lane_id = b.key
    section = roads[road_id].sections[k]
    half = 0.5 * (section.s_end_m - section.s_start_m)
    out: list[str | None] = []
    for step in (1, -1) if b.forward else (-1, 1):  # left, then right
        other = lane_id + step
        target = built.get((road_id, k, other))
        if other == 0 or target is None or not (b.vehicle and target.vehicle):
            out.append(None)
            continue
        inner = min(lane_id, other, key=abs)  # the border is the inner lane's outer border
        marks = section.lanes[inner].marks
        change = next(
            (c for start, c in reversed(marks) if start <= half), marks[0][1] if marks else "both"
        )
        wanted = "increase" if step > 0 else "decrease"
        out.append(target.lane_id if change in ("both", wanted) else None)
    return out[0], out[1]


@dataclass(frozen=True)
class LanePosition:
    """A place on a lane of an OpenDRIVE map: the lane's id, the station along its centreline
    in its driving direction, and the offset left of it in that direction."""

    lane_id: str
    station_m: float
    offset_m: float


@dataclass(frozen=True)
class OpenDriveNetwork:
    """An OpenDRIVE file parsed once (:func:`parse_opendrive`): its roads and lane links, from
    which :meth:`road_map` builds lanes and :meth:`locate` places OpenDRIVE lane positions."""

    path: Path
    roads: dict[str, Road]
    links: LaneLinks
    signals: tuple[SignalPlacement, ...] = ()
    #: dynamic signal id -> the id of the ``<controller>`` that switches it
    controllers: dict[str, str] = field(default_factory=dict)

    def road_map(self, step_m: float = 1.0, default_speed_limit_mps: float = 13.89) -> RoadMap:
        """The lanes as a :class:`RoadMap` (see the module docstring; ``step_m``: the largest
        spacing of the lane polylines' points)."""
        if not (step_m > 0.0 and math.isfinite(step_m)):
            raise ValueError(f"step_m must be positive, got {step_m}")
        rd = Reader(str(self.path))
        built = {
            b.key: b
            for road in self.roads.values()
            for k in range(len(road.sections))
            for b in _section_lanes(road, k, step_m, default_speed_limit_mps, rd)
        }
        lanes = [self._lane(b, built) for b in built.values()]
        if not lanes:
            raise rd.error("no vehicle, sidewalk or bicycle lanes")
        vehicle_lanes = {
            lane.lane_id: lane for b, lane in zip(built.values(), lanes, strict=True) if b.vehicle
        }
        return RoadMap(
            tuple(lanes),
            frame="world",
            source=f"opendrive:{self.path.name}",
            traffic_lights=tuple(
                traffic_lights(self.signals, self.roads, vehicle_lanes, self.controllers)
            ),
        )

    def _exit_junction(self, b: _Built) -> str | None:
        """The ``type="direct"`` junction at the road end where ``b``'s drive ends, if any."""
        road_id, k, _, end = b.end(exit_end=True)
        if k != self.roads[road_id].section_at(end):
            return None  # the lane ends inside its road, at another lane section
        return self.links.direct_ends.get((road_id, end))

    def _lane(self, b: _Built, built: dict[tuple[str, int, int], _Built]) -> Lane:
        left, right = _neighbours(built, self.roads, b)
        successors = self._linked(b, built, exit_end=True)
        predecessors = self._linked(b, built, exit_end=False)
        road_id, k, lane_id = b.key
        with lane_checks(str(self.path), f"road {road_id} lane section {k} lane {lane_id}"):
            return Lane(
                b.lane_id,
                b.centerline_m,
                b.left_m,
                b.right_m,
                b.speed_mps,
                successors=successors,
                predecessors=predecessors,
                left_neighbor=left,
                right_neighbor=right,
                lane_type=b.lane_type,
                junction_id=self.roads[road_id].junction,
                exit_junction_id=self._exit_junction(b),
            )

    def _linked(
        self, b: _Built, built: dict[tuple[str, int, int], _Built], exit_end: bool
    ) -> tuple[str, ...]:
        """The lanes joined to ``b``'s exit (successors) or entry (predecessors) whose own entry
        (exit) is there, of the same kind (vehicle or not)."""
        out = set()
        for road_id, k, lane_id, end in self.links.joins.get(b.end(exit_end), ()):
            other = built.get((road_id, k, lane_id))
            if (
                other is not None
                and other.end(not exit_end)[3] == end
                and other.vehicle == b.vehicle
            ):
                out.add(other.lane_id)
        return tuple(sorted(out))

    def locate(
        self, road_map: RoadMap, road_id: str, lane_id: int, s_m: float, t_offset_m: float = 0.0
    ) -> LanePosition:
        """An OpenDRIVE lane position (road, lane id, station ``s_m`` along the road's reference
        line, ``t_offset_m`` from the lane's centre towards the reference line's left, as
        OpenSCENARIO's ``LanePosition`` gives it) on ``road_map`` (:meth:`road_map`'s).

        ``DataError`` naming the road when it does not exist, ``s_m`` is off it, or the lane is
        not one of the map's at that station.
        """
        rd = Reader(str(self.path))
        record = f"road {road_id}"
        if road_id not in self.roads:
            raise rd.error(f"no road {road_id!r} in the file", record, "road@id")
        road = self.roads[road_id]
        if not -1e-6 <= s_m <= road.length_m + 1e-6:
            raise rd.error(f"s {s_m} m is off the road (length {road.length_m:.2f} m)", record, "s")
        k = max(i for i, sec in enumerate(road.sections) if sec.s_start_m <= s_m + 1e-9)
        key = f"{road_id}_{k}_{lane_id}"
        if key not in road_map:
            raise rd.error(
                f"lane {lane_id} at s {s_m} m (lane section {k}) is not a lane of the map "
                "(no such lane, or one of a type the map leaves out)",
                record,
                "lane",
            )
        x, y, _ = reference_line(road.plan_view, [s_m])
        lane = road_map.lane(key)
        station, _ = lane.project(np.array([[x[0], y[0]]]))
        forward = (lane_id < 0) != road.left_hand
        station_m = min(max(float(station[0]), 0.0), lane.length_m)  # rounding at the ends
        return LanePosition(key, station_m, t_offset_m if forward else -t_offset_m)


#: OpenDRIVE's junction types (``e_junction_type``, 1.8; ``default`` when not given).
JUNCTION_TYPES = ("default", "direct", "virtual", "crossing")


def parse_opendrive(path: str | Path) -> OpenDriveNetwork:
    """Parse and check an OpenDRIVE ``.xodr`` file (errors as the module docstring says)."""
    p = Path(path)
    root = parse_file(p)
    rd = Reader(str(p))
    roads = read_roads(root, rd)
    junctions: dict[str, str] = {}  # id -> type
    for el in root.findall("junction"):
        junction_id = rd.text(el, "id", "junction")
        if junction_id in junctions:
            raise rd.error("repeated junction id", f"junction {junction_id}", "junction@id")
        kind = el.get("type", "default")
        if kind not in JUNCTION_TYPES:
            raise rd.error(
                f"unknown junction type {kind!r}; expected one of {list(JUNCTION_TYPES)}",
                f"junction {junction_id}",
                "junction@type",
            )
        junctions[junction_id] = kind
    check_road_links(rd, roads, junctions)
    links = LaneLinks(rd, roads)
    links.within_roads()
    for el in root.findall("junction"):
        links.junction(el)
    signals = read_signals(root, rd, roads)
    return OpenDriveNetwork(p, roads, links, signals, read_controllers(root, rd))


def read_opendrive(
    path: str | Path, *, step_m: float = 1.0, default_speed_limit_mps: float = 13.89
) -> RoadMap:
    """An OpenDRIVE ``.xodr`` file -> :class:`RoadMap` (see the module docstring for the rules;
    ``step_m``: the largest spacing of the lane polylines' points)."""
    return parse_opendrive(path).road_map(step_m, default_speed_limit_mps)
