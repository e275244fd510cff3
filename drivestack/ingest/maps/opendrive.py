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
  ``linkedRoad`` in a ``type="direct"`` junction). A link counts only where it joins the end of
  one lane's drive to the start of the other's.
- **Lane changes** (``left_neighbor`` / ``right_neighbor``): to the adjacent lane on the same
  side of the centre lane, as the road mark on the border between them permits: its
  ``laneChange`` attribute (``both``, ``increase``: towards the higher lane id, ``decrease``,
  ``none``), else its type (``broken``, ``broken broken``, ``botts dots`` and ``none`` permit
  both ways; solid lines, curbs, grass and edges do not); a border without a road mark permits
  both, the standard's default. The mark in force halfway along the section decides.
- **Speed limits**: the lane's lowest ``<speed>`` record in the section, else the road
  ``<type>``'s ``<speed>`` in force at the section's start (``m/s``, ``km/h``, ``mph``; ``no
  limit`` / ``undefined`` count as none), else ``default_speed_limit_mps``.

Coordinates are the file's inertial x / y in metres (frame ``"world"``; the ``geoReference``
projection is not applied). Crosswalk objects, signals and stop lines are not read.

Malformed input is a :class:`DataError` naming the file, the record (road, lane section and
lane, junction connection) and the field: XML that does not parse, a root other than
``<OpenDRIVE>``, a missing or non-finite number, a plan-view record of an unknown shape or
non-positive length, a road without plan view or lanes, a link to a road, junction or lane
that does not exist, a lane given by ``<border>`` records (not read) or without ``<width>``.
"""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from drivestack.core.errors import DataError
from drivestack.ingest.maps._geometry import finite_number
from drivestack.ingest.maps.opendrive_geometry import (
    KINDS,
    PlanViewRecord,
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
#: Road-mark types a vehicle may cross when the mark has no ``laneChange`` attribute.
CROSSABLE_MARKS = frozenset({"broken", "broken broken", "botts dots", "none"})
SPEED_UNITS_MPS = {"m/s": 1.0, "km/h": 1.0 / 3.6, "mph": 0.44704}
MIN_LANE_WIDTH_M = 0.01

#: A lane end: road id, lane-section index, lane id, ``"start"`` or ``"end"`` of the section.
_End = tuple[str, int, int, str]


@dataclass(frozen=True)
class _LaneRecord:
    lane_id: int
    lane_type: str
    predecessors: tuple[int, ...]
    successors: tuple[int, ...]
    width_starts_m: np.ndarray  # (K,) section offsets where each width record starts
    width_coeffs: np.ndarray  # (K, 4)
    speed_mps: float | None
    marks: tuple[tuple[float, str], ...]  # (section offset, lane change permitted) per mark


@dataclass(frozen=True)
class _Section:
    s_start_m: float
    s_end_m: float
    lanes: dict[int, _LaneRecord]


@dataclass(frozen=True)
class _Link:
    element_type: str  # road | junction
    element_id: str
    contact_point: str | None  # start | end (roads)


@dataclass(frozen=True)
class _Road:
    road_id: str
    length_m: float
    junction: str
    predecessor: _Link | None
    successor: _Link | None
    plan_view: list[PlanViewRecord]
    offset_starts_m: np.ndarray
    offset_coeffs: np.ndarray
    sections: list[_Section]
    type_speeds: list[tuple[float, float | None]]  # (s, speed in force from s)
    left_hand: bool

    def section_at(self, contact_point: str) -> int:
        return 0 if contact_point == "start" else len(self.sections) - 1


class _Reader:
    """Field access that names the file and record in its errors."""

    def __init__(self, path: str) -> None:
        self.path = path

    def number(self, el: ET.Element, attr: str, record: str, default: float | None = None) -> float:
        text = el.get(attr)
        if text is None and default is not None:
            return default
        return finite_number(text, self.path, record, f"{el.tag}@{attr}")

    def text(self, el: ET.Element, attr: str, record: str) -> str:
        value = el.get(attr)
        if value is None or not value.strip():
            raise DataError("missing", path=self.path, record=record, field=f"{el.tag}@{attr}")
        return value.strip()

    def lane_id(self, el: ET.Element, attr: str, record: str) -> int:
        text = self.text(el, attr, record)
        try:
            return int(text)
        except ValueError:
            raise DataError(
                f"not an integer lane id: {text!r}",
                path=self.path,
                record=record,
                field=f"{el.tag}@{attr}",
            ) from None

    def error(self, reason: str, record: str | None = None, field: str | None = None) -> DataError:
        return DataError(reason, path=self.path, record=record, field=field)


def _speed_mps(rd: _Reader, el: ET.Element, record: str) -> float | None:
    """A ``<speed max unit>`` element in m/s; ``None`` for ``no limit`` / ``undefined``."""
    text = rd.text(el, "max", record)
    if text in ("no limit", "undefined"):
        return None
    unit = el.get("unit", "m/s")
    if unit not in SPEED_UNITS_MPS:
        raise rd.error(
            f"unknown speed unit {unit!r}; expected one of {sorted(SPEED_UNITS_MPS)}",
            record,
            "speed@unit",
        )
    value = rd.number(el, "max", record) * SPEED_UNITS_MPS[unit]
    if value <= 0.0:
        raise rd.error(f"speed limit must be positive, got {text}", record, "speed@max")
    return value


def _plan_view(rd: _Reader, road: ET.Element, record: str) -> list[PlanViewRecord]:
    out = []
    for i, geo in enumerate(road.findall("planView/geometry")):
        where = f"{record} planView geometry {i}"
        shape = next((child for child in geo if child.tag in KINDS), None)
        if shape is None:
            found = [child.tag for child in geo]
            raise rd.error(
                f"no line, arc, spiral, poly3 or paramPoly3 (found {found})", where, "geometry"
            )
        length = rd.number(geo, "length", where)
        if length <= 0.0:
            raise rd.error(f"length must be positive, got {length}", where, "geometry@length")
        params: tuple[float, ...]
        if shape.tag == "arc":
            params = (rd.number(shape, "curvature", where),)
        elif shape.tag == "spiral":
            params = (rd.number(shape, "curvStart", where), rd.number(shape, "curvEnd", where))
        elif shape.tag == "poly3":
            params = tuple(rd.number(shape, k, where) for k in "abcd")
        elif shape.tag == "paramPoly3":
            p_range = shape.get("pRange", "normalized")
            if p_range not in ("arcLength", "normalized"):
                raise rd.error(
                    f"pRange must be arcLength or normalized, got {p_range!r}",
                    where,
                    "paramPoly3@pRange",
                )
            coeffs = [rd.number(shape, f"{c}{axis}", where) for axis in "UV" for c in "abcd"]
            params = (*coeffs, length if p_range == "arcLength" else 1.0)
        else:
            params = ()
        out.append(
            PlanViewRecord(
                shape.tag,
                rd.number(geo, "s", where),
                rd.number(geo, "x", where),
                rd.number(geo, "y", where),
                rd.number(geo, "hdg", where),
                length,
                params,
            )
        )
    if not out:
        raise rd.error("no planView geometry", record, "planView")
    return sorted(out, key=lambda r: r.s_m)


def _cubics(rd: _Reader, elements: list[ET.Element], start: str, record: str) -> np.ndarray:
    """``(K, 5)`` rows ``start, a, b, c, d`` of polynomial records, sorted by start."""
    rows = [
        [rd.number(el, start, record), *(rd.number(el, k, record) for k in "abcd")]
        for el in elements
    ]
    arr = np.asarray(rows, dtype=np.float64).reshape(-1, 5)
    return arr[np.argsort(arr[:, 0], kind="stable")]


def _lane_change(rd: _Reader, mark: ET.Element, record: str) -> str:
    change = mark.get("laneChange")
    if change is not None:
        if change not in ("both", "increase", "decrease", "none"):
            raise rd.error(
                f"laneChange must be both, increase, decrease or none, got {change!r}",
                record,
                "roadMark@laneChange",
            )
        return change
    return "both" if mark.get("type", "none") in CROSSABLE_MARKS else "none"


def _lane(rd: _Reader, el: ET.Element, record: str) -> _LaneRecord:
    lane_id = rd.lane_id(el, "id", record)
    where = f"{record} lane {lane_id}"
    widths = _cubics(rd, el.findall("width"), "sOffset", where)
    if lane_id != 0 and len(widths) == 0:
        reason = (
            "lane borders given as <border> records are not read; give <width> records"
            if el.find("border") is not None
            else "no <width> record"
        )
        raise rd.error(reason, where, "width")
    speeds = [_speed_mps(rd, sp, where) for sp in el.findall("speed")]
    known = [s for s in speeds if s is not None]
    marks = sorted(
        (rd.number(m, "sOffset", where, default=0.0), _lane_change(rd, m, where))
        for m in el.findall("roadMark")
    )
    return _LaneRecord(
        lane_id,
        el.get("type", "none"),
        tuple(rd.lane_id(p, "id", where) for p in el.findall("link/predecessor")),
        tuple(rd.lane_id(s, "id", where) for s in el.findall("link/successor")),
        widths[:, 0],
        widths[:, 1:],
        min(known) if known else None,
        tuple(marks),
    )


def _sections(rd: _Reader, road: ET.Element, length_m: float, record: str) -> list[_Section]:
    elements = road.findall("lanes/laneSection")
    if not elements:
        raise rd.error("no lanes/laneSection", record, "lanes")
    starts = [rd.number(el, "s", f"{record} lane section {i}") for i, el in enumerate(elements)]
    order = sorted(range(len(elements)), key=lambda i: starts[i])
    out = []
    for rank, i in enumerate(order):
        where = f"{record} lane section {rank}"
        end = starts[order[rank + 1]] if rank + 1 < len(order) else length_m
        lanes: dict[int, _LaneRecord] = {}
        for side in ("left", "right"):
            for lane_el in elements[i].findall(f"{side}/lane"):
                lane = _lane(rd, lane_el, where)
                if (lane.lane_id > 0) != (side == "left") or lane.lane_id in lanes:
                    raise rd.error(
                        f"lane id {lane.lane_id} is {'repeated' if lane.lane_id in lanes else 'on the wrong side'}",
                        where,
                        f"{side}/lane@id",
                    )
                lanes[lane.lane_id] = lane
        out.append(_Section(starts[i], end, lanes))
    return out


def _link(rd: _Reader, el: ET.Element | None, record: str) -> _Link | None:
    if el is None:
        return None
    kind = el.get("elementType", "road")
    if kind not in ("road", "junction"):
        raise rd.error(
            f"elementType must be road or junction, got {kind!r}",
            record,
            f"link/{el.tag}@elementType",
        )
    contact = el.get("contactPoint")
    if kind == "road" and contact not in ("start", "end"):
        raise rd.error(
            f"contactPoint must be start or end, got {contact!r}",
            record,
            f"link/{el.tag}@contactPoint",
        )
    return _Link(kind, rd.text(el, "elementId", record), contact)


def _road(rd: _Reader, el: ET.Element, left_hand_default: bool) -> _Road:
    road_id = rd.text(el, "id", "road")
    record = f"road {road_id}"
    length = rd.number(el, "length", record)
    offsets = _cubics(rd, el.findall("lanes/laneOffset"), "s", record)
    type_speeds = []
    for t in el.findall("type"):
        speed = t.find("speed")
        type_speeds.append(
            (rd.number(t, "s", record), None if speed is None else _speed_mps(rd, speed, record))
        )
    rule = el.get("rule")
    if rule not in (None, "RHT", "LHT"):
        raise rd.error(f"rule must be RHT or LHT, got {rule!r}", record, "road@rule")
    return _Road(
        road_id,
        length,
        el.get("junction", "-1"),
        _link(rd, el.find("link/predecessor"), record),
        _link(rd, el.find("link/successor"), record),
        _plan_view(rd, el, record),
        offsets[:, 0],
        offsets[:, 1:],
        _sections(rd, el, length, record),
        sorted(type_speeds, key=lambda ts: ts[0]),
        left_hand_default if rule is None else rule == "LHT",
    )


class _LaneLinks:
    """Undirected joins between lane ends, checked against the roads they name."""

    def __init__(self, rd: _Reader, roads: dict[str, _Road]) -> None:
        self.rd = rd
        self.roads = roads
        self.joins: dict[_End, set[_End]] = defaultdict(set)

    def road(self, road_id: str, record: str, field: str) -> _Road:
        if road_id not in self.roads:
            raise self.rd.error(f"no road {road_id!r} in the file", record, field)
        return self.roads[road_id]

    def join(self, a: _End, b: _End, record: str, field: str) -> None:
        for road_id, section, lane_id, _ in (a, b):
            if lane_id not in self.roads[road_id].sections[section].lanes:
                raise self.rd.error(
                    f"road {road_id} lane section {section} has no lane {lane_id}", record, field
                )
        self.joins[a].add(b)
        self.joins[b].add(a)

    def within_roads(self) -> None:
        for road in self.roads.values():
            for k, section in enumerate(road.sections):
                for lane in section.lanes.values():
                    where = f"road {road.road_id} lane section {k} lane {lane.lane_id}"
                    self._lane_links(road, k, lane, "predecessor", where)
                    self._lane_links(road, k, lane, "successor", where)

    def _lane_links(self, road: _Road, k: int, lane: _LaneRecord, side: str, where: str) -> None:
        ids = lane.predecessors if side == "predecessor" else lane.successors
        if not ids:
            return
        first, last = 0, len(road.sections) - 1
        own_end = "start" if side == "predecessor" else "end"
        field = f"link/{side}@id"
        if (side == "predecessor" and k > first) or (side == "successor" and k < last):
            other = k - 1 if side == "predecessor" else k + 1
            other_end = "end" if side == "predecessor" else "start"
            for target in ids:
                self.join(
                    (road.road_id, k, lane.lane_id, own_end),
                    (road.road_id, other, target, other_end),
                    where,
                    field,
                )
            return
        link = road.predecessor if side == "predecessor" else road.successor
        if link is None or link.element_type != "road":
            return  # into a junction: its connections say where the lanes go
        assert link.contact_point is not None
        target_road = self.road(link.element_id, f"road {road.road_id}", f"link/{side}@elementId")
        section = target_road.section_at(link.contact_point)
        for target in ids:
            self.join(
                (road.road_id, k, lane.lane_id, own_end),
                (target_road.road_id, section, target, link.contact_point),
                where,
                field,
            )

    def junction(self, el: ET.Element) -> None:
        junction_id = self.rd.text(el, "id", "junction")
        for i, conn in enumerate(el.findall("connection")):
            where = f"junction {junction_id} connection {conn.get('id', i)}"
            incoming = self.road(
                self.rd.text(conn, "incomingRoad", where), where, "connection@incomingRoad"
            )
            attr = "linkedRoad" if conn.get("connectingRoad") is None else "connectingRoad"
            other = self.road(self.rd.text(conn, attr, where), where, f"connection@{attr}")
            contact = conn.get("contactPoint")
            if contact not in ("start", "end"):
                raise self.rd.error(
                    f"contactPoint must be start or end, got {contact!r}",
                    where,
                    "connection@contactPoint",
                )
            incoming_ends = [
                end
                for end, link in (("start", incoming.predecessor), ("end", incoming.successor))
                if link is not None
                and link.element_type == "junction"
                and link.element_id == junction_id
            ]
            if not incoming_ends:
                raise self.rd.error(
                    f"incoming road {incoming.road_id} does not link to junction {junction_id}",
                    where,
                    "connection@incomingRoad",
                )
            for ll in conn.findall("laneLink"):
                source = self.rd.lane_id(ll, "from", where)
                target = self.rd.lane_id(ll, "to", where)
                for end in incoming_ends:
                    self.join(
                        (incoming.road_id, incoming.section_at(end), source, end),
                        (other.road_id, other.section_at(contact), target, contact),
                        where,
                        "laneLink",
                    )


def _parse(path: Path) -> ET.Element:
    try:
        root = ET.parse(path).getroot()
    except ET.ParseError as exc:
        raise DataError(f"not well-formed XML: {exc}", path=str(path)) from None
    except OSError as exc:
        raise DataError(f"cannot read: {exc.strerror or exc}", path=str(path)) from None
    if root.tag != "OpenDRIVE":
        raise DataError(f"root element is <{root.tag}>, expected <OpenDRIVE>", path=str(path))
    return root


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

    def end(self, exit_end: bool) -> _End:
        """The section end where the lane's drive ends (``exit_end``) or begins."""
        at_end = self.forward == exit_end
        return (*self.key, "end" if at_end else "start")


def _section_stations(road: _Road, section: _Section, step_m: float) -> np.ndarray:
    s0, s1 = section.s_start_m, section.s_end_m
    grid = np.linspace(s0, s1, max(2, math.ceil((s1 - s0) / step_m) + 1))
    kinks = [r.s_m for r in road.plan_view if s0 < r.s_m < s1]
    return np.unique(np.concatenate([grid, kinks]))


def _section_lanes(
    road: _Road, k: int, step_m: float, default_speed_limit_mps: float
) -> list[_Built]:
    section = road.sections[k]
    if section.s_end_m - section.s_start_m < 1e-6:
        return []
    s = _section_stations(road, section, step_m)
    x, y, hdg = reference_line(road.plan_view, s)
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
            outer_t = inner_t + sign * piecewise_cubic(lane.width_starts_m, lane.width_coeffs, ds)
            keep_type = lane.lane_type in VEHICLE_LANE_TYPES or lane.lane_type in OTHER_LANE_TYPES
            if keep_type and np.max(np.abs(outer_t - inner_t)) >= MIN_LANE_WIDTH_M:
                inner = offset_points(x, y, hdg, inner_t)
                outer = offset_points(x, y, hdg, outer_t)
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
    built: dict[tuple[str, int, int], _Built], roads: dict[str, _Road], b: _Built
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


def _roads(root: ET.Element, rd: _Reader) -> dict[str, _Road]:
    header = root.find("header")
    left_hand = header is not None and header.get("rule") == "LHT"  # not in the standard
    roads: dict[str, _Road] = {}
    for el in root.findall("road"):
        road = _road(rd, el, left_hand)
        if road.road_id in roads:
            raise rd.error("repeated road id", f"road {road.road_id}", "road@id")
        roads[road.road_id] = road
    if not roads:
        raise rd.error("no <road> elements")
    return roads


@dataclass(frozen=True)
class LanePosition:
    """A place on a lane of :func:`read_opendrive`'s map: the lane's id, the station along its
    centreline in its driving direction, and the offset left of it in that direction."""

    lane_id: str
    station_m: float
    offset_m: float


def locate_lane_position(
    path: str | Path,
    road_map: RoadMap,
    road_id: str,
    lane_id: int,
    s_m: float,
    t_offset_m: float = 0.0,
) -> LanePosition:
    """An OpenDRIVE lane position (road, lane id, station ``s_m`` along the road's reference
    line, ``t_offset_m`` from the lane's centre towards the reference line's left, as
    OpenSCENARIO's ``LanePosition`` gives it) on ``road_map`` (read from the same ``path``).

    ``DataError`` naming the road when it does not exist, ``s_m`` is off it, or the lane is not
    one of the map's at that station.
    """
    p = Path(path)
    rd = _Reader(str(p))
    roads = _roads(_parse(p), rd)
    record = f"road {road_id}"
    if road_id not in roads:
        raise rd.error(f"no road {road_id!r} in the file", record, "road@id")
    road = roads[road_id]
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


def read_opendrive(
    path: str | Path, *, step_m: float = 1.0, default_speed_limit_mps: float = 13.89
) -> RoadMap:
    """An OpenDRIVE ``.xodr`` file -> :class:`RoadMap` (see the module docstring for the rules;
    ``step_m``: the largest spacing of the lane polylines' points)."""
    if not (step_m > 0.0 and math.isfinite(step_m)):
        raise ValueError(f"step_m must be positive, got {step_m}")
    p = Path(path)
    root = _parse(p)
    rd = _Reader(str(p))
    roads = _roads(root, rd)
    links = _LaneLinks(rd, roads)
    links.within_roads()
    for el in root.findall("junction"):
        links.junction(el)

    built = {
        b.key: b
        for road in roads.values()
        for k in range(len(road.sections))
        for b in _section_lanes(road, k, step_m, default_speed_limit_mps)
    }

    def linked(b: _Built, exit_end: bool) -> tuple[str, ...]:
        out = set()
        for road_id, k, lane_id, end in links.joins.get(b.end(exit_end), ()):
            other = built.get((road_id, k, lane_id))
            if (
                other is not None
                and other.end(not exit_end)[3] == end
                and (other.vehicle == b.vehicle)
            ):
                out.add(other.lane_id)
        return tuple(sorted(out))

    lanes = []
    for b in built.values():
        left, right = _neighbours(built, roads, b)
        lanes.append(
            Lane(
                b.lane_id,
                b.centerline_m,
                b.left_m,
                b.right_m,
                b.speed_mps,
                successors=linked(b, True),
                predecessors=linked(b, False),
                left_neighbor=left,
                right_neighbor=right,
                lane_type=b.lane_type,
            )
        )
    if not lanes:
        raise rd.error("no vehicle, sidewalk or bicycle lanes")
    return RoadMap(tuple(lanes), frame="world", source=f"opendrive:{p.name}")
