"""OpenDRIVE XML -> road records: plan view, lane offsets, lane sections with their lanes
(widths, links, speeds, road-mark lane-change rules) and road links, as
:mod:`drivestack.ingest.maps.opendrive` builds lanes from them. Errors are
:class:`DataError` naming the file, the record (road, lane section, lane) and the field."""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from drivestack.core.errors import DataError
from drivestack.core.numbers import parse_int
from drivestack.ingest.maps._geometry import finite_number
from drivestack.ingest.maps.opendrive_geometry import KINDS, PlanViewRecord, reference_line

#: Road-mark types a vehicle may cross when the mark has no ``laneChange`` attribute.
CROSSABLE_MARKS = frozenset({"broken", "broken broken", "botts dots", "none"})
SPEED_UNITS_MPS = {"m/s": 1.0, "km/h": 1.0 / 3.6, "mph": 0.44704}


@dataclass(frozen=True)
class LaneRecord:
    lane_id: int
    lane_type: str
    predecessors: tuple[int, ...]
    successors: tuple[int, ...]
    width_starts_m: np.ndarray  # (K,) section offsets where each width record starts
    width_coeffs: np.ndarray  # (K, 4)
    speed_mps: float | None
    marks: tuple[tuple[float, str], ...]  # (section offset, lane change permitted) per mark


@dataclass(frozen=True)
class Section:
    s_start_m: float
    s_end_m: float
    lanes: dict[int, LaneRecord]


@dataclass(frozen=True)
class Link:
    element_type: str  # road | junction
    element_id: str
    contact_point: str | None  # start | end (roads)


@dataclass(frozen=True)
class Road:
    road_id: str
    length_m: float
    predecessor: Link | None
    successor: Link | None
    plan_view: list[PlanViewRecord]
    offset_starts_m: np.ndarray
    offset_coeffs: np.ndarray
    sections: list[Section]
    type_speeds: list[tuple[float, float | None]]  # (s, speed in force from s)
    left_hand: bool
    #: the junction the road lies in (``road@junction``: a connecting road), None for ``-1``
    junction: str | None = None

    def section_at(self, contact_point: str) -> int:
        return 0 if contact_point == "start" else len(self.sections) - 1


class Reader:
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
            return parse_int(text)
        except ValueError:
            raise DataError(
                f"not an integer lane id: {text!r}",
                path=self.path,
                record=record,
                field=f"{el.tag}@{attr}",
            ) from None

    def error(self, reason: str, record: str | None = None, field: str | None = None) -> DataError:
        return DataError(reason, path=self.path, record=record, field=field)


def _speed_mps(rd: Reader, el: ET.Element, record: str) -> float | None:
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


#: How far (m) a plan-view record's station may sit from where the previous one ends (and
#: the first from 0, the last's end from ``road@length``): OpenDRIVE's records chain end to
#: start; esmini's files agree to 1.5e-5 m. A larger gap would be bridged by clamping.
PLAN_VIEW_GAP_TOL_M = 0.01

#: How far (m) a plan-view record's ``x, y`` may sit from where the record before it ends
#: (integrated spirals and polynomials differ a little between tools; esmini's files agree to
#: 1.5e-5 m). A larger jump puts a step in every lane, which folds a lane's border back.
PLAN_VIEW_JUMP_TOL_M = 0.05


def _plan_view(
    rd: Reader, road: ET.Element, record: str, road_length_m: float
) -> list[PlanViewRecord]:
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
    order = sorted(range(len(out)), key=lambda i: out[i].s_m)
    _check_chained(rd, [out[i] for i in order], order, record, road_length_m)
    return [out[i] for i in order]


def _check_chained(
    rd: Reader,
    records: list[PlanViewRecord],
    file_index: list[int],
    record: str,
    road_length_m: float,
) -> None:
    """``DataError`` naming the geometry (its index in the file) whose ``s`` does not start
    where the record before it by ``s`` ends (the first at 0), naming that one too, or whose
    ``x, y`` is not where that one ends, or the road whose ``length`` is not where
    the last record ends: a gap or overlap would otherwise be clamped over silently (a lane
    bridging it with one straight chord)."""
    end_m, before = 0.0, "the road starts at s 0 m"
    previous, previous_index = records[0], file_index[0]
    for rec, i in zip(records, file_index, strict=True):
        if abs(rec.s_m - end_m) > PLAN_VIEW_GAP_TOL_M:
            raise rd.error(
                f"starts at s {rec.s_m:g} m, but {before} (the records must chain end to "
                f"start within {PLAN_VIEW_GAP_TOL_M} m)",
                f"{record} planView geometry {i}",
                "geometry@s",
            )
        if end_m > 0.0:
            x, y, _ = reference_line([previous], [end_m])
            jump_m = math.hypot(rec.x_m - float(x[0]), rec.y_m - float(y[0]))
            if jump_m > PLAN_VIEW_JUMP_TOL_M:
                raise rd.error(
                    f"starts at x, y ({rec.x_m:g}, {rec.y_m:g}), {jump_m:.3g} m from where "
                    f"geometry {previous_index} ends ({float(x[0]):g}, {float(y[0]):g}): the "
                    f"reference line must run on without a jump (within {PLAN_VIEW_JUMP_TOL_M} "
                    "m)",
                    f"{record} planView geometry {i}",
                    "geometry@x/y",
                )
        end_m = rec.s_m + rec.length_m
        before = f"geometry {i}, the one before it by s, ends at s {end_m:g} m"
        previous, previous_index = rec, i
    if abs(road_length_m - end_m) > PLAN_VIEW_GAP_TOL_M:
        raise rd.error(
            f"length {road_length_m:g} m, but its plan view ends at s {end_m:g} m (within "
            f"{PLAN_VIEW_GAP_TOL_M} m)",
            record,
            "road@length",
        )


def _cubics(rd: Reader, elements: list[ET.Element], start: str, record: str) -> np.ndarray:
    """``(K, 5)`` rows ``start, a, b, c, d`` of polynomial records, sorted by start."""
    rows = [
        [rd.number(el, start, record), *(rd.number(el, k, record) for k in "abcd")]
        for el in elements
    ]
    arr = np.asarray(rows, dtype=np.float64).reshape(-1, 5)
    return arr[np.argsort(arr[:, 0], kind="stable")]


def _lane_change(rd: Reader, mark: ET.Element, record: str) -> str:
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


def _lane(rd: Reader, el: ET.Element, record: str) -> LaneRecord:
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
    return LaneRecord(
        lane_id,
        el.get("type", "none"),
        tuple(rd.lane_id(p, "id", where) for p in el.findall("link/predecessor")),
        tuple(rd.lane_id(s, "id", where) for s in el.findall("link/successor")),
        widths[:, 0],
        widths[:, 1:],
        min(known) if known else None,
        tuple(marks),
    )


def _sections(rd: Reader, road: ET.Element, length_m: float, record: str) -> list[Section]:
    elements = road.findall("lanes/laneSection")
    if not elements:
        raise rd.error("no lanes/laneSection", record, "lanes")
    starts = [rd.number(el, "s", f"{record} lane section {i}") for i, el in enumerate(elements)]
    order = sorted(range(len(elements)), key=lambda i: starts[i])
    out = []
    for rank, i in enumerate(order):
        where = f"{record} lane section {rank}"
        end = starts[order[rank + 1]] if rank + 1 < len(order) else length_m
        if not -1e-6 <= starts[i] <= length_m + 1e-6:
            raise rd.error(
                f"starts at s {starts[i]} m, off the road (length {length_m} m)",
                where,
                "laneSection@s",
            )
        if elements[i].get("singleSide", "false") == "true":
            raise rd.error(
                "singleSide lane sections are not read (the standard leaves the other side's "
                "lanes open)",
                where,
                "laneSection@singleSide",
            )
        lanes: dict[int, LaneRecord] = {}
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
            _check_numbering(rd, [i for i in lanes if (i > 0) == (side == "left")], side, where)
        out.append(Section(starts[i], end, lanes))
    return out


def _check_numbering(rd: Reader, ids: list[int], side: str, where: str) -> None:
    """A side's lanes are numbered 1, 2, ... outwards (-1, -2, ... on the right), no gap."""
    if sorted(abs(i) for i in ids) != list(range(1, len(ids) + 1)):
        raise rd.error(
            f"the {side} lanes are numbered {sorted(ids, key=abs)}: expected "
            f"{'' if side == 'left' else '-'}1 outwards without gaps",
            where,
            f"{side}/lane@id",
        )


def _link(rd: Reader, el: ET.Element | None, record: str) -> Link | None:
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
    return Link(kind, rd.text(el, "elementId", record), contact)


def _road(rd: Reader, el: ET.Element, left_hand_default: bool) -> Road:
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
    junction = el.get("junction", "-1").strip()
    if not junction:
        raise rd.error("empty: a junction id, or -1 for none", record, "road@junction")
    return Road(
        road_id,
        length,
        _link(rd, el.find("link/predecessor"), record),
        _link(rd, el.find("link/successor"), record),
        _plan_view(rd, el, record, length),
        offsets[:, 0],
        offsets[:, 1:],
        _sections(rd, el, length, record),
        sorted(type_speeds, key=lambda ts: ts[0]),
        left_hand_default if rule is None else rule == "LHT",
        None if junction == "-1" else junction,
    )


def parse_file(
    path: Path, root_tag: str = "OpenDRIVE", error: type[DataError] = DataError
) -> ET.Element:
    """The root element of the XML file ``path``; ``error`` (a :class:`DataError` class)
    naming the file when it cannot be read, is not well-formed XML or its root element is not
    ``<root_tag>``."""
    try:
        root = ET.parse(path).getroot()
    except ET.ParseError as exc:
        raise error(f"not well-formed XML: {exc}", path=str(path)) from None
    except OSError as exc:
        raise error(f"cannot read: {exc.strerror or exc}", path=str(path)) from None
    if root.tag != root_tag:
        raise error(f"root element is <{root.tag}>, expected <{root_tag}>", path=str(path))
    return root


def read_roads(root: ET.Element, rd: Reader) -> dict[str, Road]:
    header = root.find("header")
    left_hand = header is not None and header.get("rule") == "LHT"  # not in the standard
    roads: dict[str, Road] = {}
    for el in root.findall("road"):
        road = _road(rd, el, left_hand)
        if road.road_id in roads:
            raise rd.error("repeated road id", f"road {road.road_id}", "road@id")
        roads[road.road_id] = road
    if not roads:
        raise rd.error("no <road> elements")
    return roads


def check_road_links(rd: Reader, roads: dict[str, Road], junctions: dict[str, str]) -> None:
    """``DataError`` for a road link, or a road's ``junction`` attribute, naming a road or
    junction the file does not have (``junctions``: id -> ``type``), and for a road that
    lies in a junction (``junction``) it cannot lie in: a ``type="direct"`` one (it has no
    roads of its own), or one it links to as an incoming road (``link`` to that junction)."""
    for road in roads.values():
        sides = (("predecessor", road.predecessor), ("successor", road.successor))
        if road.junction is not None:
            if road.junction not in junctions:
                raise rd.error(
                    f"no junction {road.junction!r} in the file",
                    f"road {road.road_id}",
                    "road@junction",
                )
            if junctions[road.junction] == "direct":
                raise rd.error(
                    f"junction {road.junction!r} is a direct junction, which has no roads of "
                    "its own: the roads it joins link to it and lie in no junction "
                    '(junction="-1")',
                    f"road {road.road_id}",
                    "road@junction",
                )
            for side, link in sides:
                if (
                    link is not None
                    and link.element_type == "junction"
                    and link.element_id == road.junction
                ):
                    raise rd.error(
                        f"the road lies in junction {road.junction!r} and links to it as its "
                        f"{side} (an incoming road): a road inside a junction links to roads",
                        f"road {road.road_id}",
                        "road@junction",
                    )
        for side, link in sides:
            if link is None:
                continue
            known = roads if link.element_type == "road" else junctions
            if link.element_id not in known:
                raise rd.error(
                    f"no {link.element_type} {link.element_id!r} in the file",
                    f"road {road.road_id}",
                    f"link/{side}@elementId",
                )
