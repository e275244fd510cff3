"""Lanelet2 OSM reader: lanelets -> lanes, crosswalk lanelets -> crosswalks, stop lines.

Nodes' WGS84 lat/lon (and height: an ``ele`` tag, 0 m without) are projected to a local
metric frame, metres east/north of an origin (by default the first node; height 0) as
Lanelet2's ``LocalCartesianProjector`` (GeographicLib ``LocalCartesian``) does: geodetic ->
ECEF on the WGS84 ellipsoid -> local east-north-up at the origin, keeping east and north
(:func:`project_latlon`; within 1e-8 m of Lanelet2 1.2.3 over tens of km). The up
coordinate is dropped: a point 1 km from the origin lies ~8 cm below its tangent plane. The right bound gives the direction; the left bound is reversed when it runs
the other way, and both are reversed if the left bound lies on the right.

Traffic rules follow Lanelet2's ``GenericTrafficRules`` for vehicles:

- **Direction**: a vehicle lanelet tagged ``one_way=no`` (or ``one_way:vehicle=no``) is
  driven both ways: it becomes two lanes, the lanelet's id and ``"<id>-reverse"`` (bounds
  swapped and reversed). Other lanelets are one lane in their own direction.
- **Who may drive**: with any ``participant:*`` tag, only the participants tagged yes
  (vehicles: ``participant:vehicle`` or ``participant:vehicle:*``), as Lanelet2 overrides
  the subtype; else the subtype (``road``, ``highway``, ``play_street``, ``exit``, none).
  Crosswalks, walkways, bicycle lanes, rails and the like are kept as lanes (their own
  ``lane_type``; a road-subtype lanelet closed to vehicles is a ``bicycle_lane`` when bicycles
  may use it, else a ``walkway``) but never linked to vehicle lanes, so a car route cannot
  enter them.
- **Successors** share the end nodes of both bounds with a lanelet's start nodes.
- **Lane changes**: a neighbour shares a bound way, running the same way, and the bound's
  markings permit the change: ``line_thin`` / ``line_thick`` with subtype ``dashed`` (both
  ways), ``dashed_solid`` (to the right of the way's direction), ``solid_dashed`` (to the
  left), or an explicit ``lane_change`` / ``lane_change:left`` / ``lane_change:right`` tag.
  Solid lines, curbs, fences, road borders and ``virtual`` lines do not (Lanelet2's
  ``canChangeLane``).
- **Speed limits**, first found of:
  1. a ``speed_limit`` regulatory element the lanelet references (Lanelet2's
     ``GermanVehicle::speedLimit``: the first one in member order): its ``sign_type`` tag, else
     the ``subtype`` of the first traffic sign it ``refers`` to, read as a German sign
     (``de274`` 30 km/h, ``de274-N`` N km/h, ``de274_1`` 30 km/h zone, ``de274_1-20``
     20 km/h zone, ``de310`` 50 km/h: Lanelet2's ``trafficSignToVelocity``) or as a speed;
  2. the lanelet's ``speed_limit`` tag (Autoware's convention);
  3. ``default_speed_limit_mps`` (13.89 m/s, 50 km/h): drivestack's default differs from
     Lanelet2's German vehicle defaults by subtype and location (``GermanVehicle``: urban
     road 50 km/h, nonurban road 100 km/h, ``highway`` 130 km/h not mandatory,
     ``play_street`` 7 km/h), which are not read: give a ``speed_limit`` where it matters.
  A speed is a number with an optional unit (``km/h`` by default as in Lanelet2; ``kmh``,
  ``kph``, ``m/s``, ``mps``, ``mph``). A speed-limit element that no lanelet references is
  not read, as in Lanelet2.

Traffic lights (``RoadMap.traffic_lights``): one :class:`TrafficLight` per
``type=regulatory_element``, ``subtype=traffic_light`` relation, in file order, with the
relation's id as its id. The regulatory element, not a light way it ``refers`` to, is the
light: it is what lanelets reference and what holds the stop line, and one element may refer
to several light ways (signal heads showing the same signal, e.g. either side of a road).

- **Stops**: on the lanes of every lanelet that references the element (a ``relation``
  member, role ``regulatory_element``), at the station where its ``ref_line`` (stop line)
  meets the lane's centreline (:mod:`drivestack.ingest.maps._stops`), or at the lane's end when it has no
  ``ref_line`` (Lanelet2: the lanelet's end). A two-way lanelet's two lanes face opposite
  ways: the light stops each lane whose stop station lies in the half of the lane it drives
  towards (station at least half the lane's length; a stop line across the lanelet's end is
  met at the end of the lanelet's own direction and at the start of ``<id>-reverse``, which
  has left it behind, and a stop line halfway, within 1 µm, stops both); without a ``ref_line`` only
  the lanelet's own direction, at its end.
- **Cycle**: none (Lanelet2 does not say what a light shows: its state is unknown).
- **Position**: the first node of the first light way it ``refers`` to (none without one).

Stop, all-way-stop and yield signs (``RoadMap.stop_signs``): one
:class:`~drivestack.structures.road_map.StopSign` per ``type=regulatory_element`` relation of
``subtype=right_of_way`` or ``all_way_stop`` (Lanelet2's ``RightOfWay`` and ``AllWayStop``), in
file order, with the relation's id as its id; ``fallback=yes`` (a rule for when the junction's
lights are out of order) is kept as ``StopSign.fallback``.

- **right_of_way**: its ``yield`` lanelets stop at its one ``ref_line`` (the first; Lanelet2's
  ``RightOfWay::stopLine``), or at their end without one; its ``right_of_way`` lanelets have
  priority and get no stop. Its kind is ``stop`` when a traffic sign it ``refers`` to is a stop
  sign (the sign way's ``subtype``, :data:`STOP_SIGN_TYPES`: ``de206``, ``usR1-1``, Autoware's
  ``stop_sign``), else ``yield`` (``de205``, the ``de301`` / ``de306`` priority signs of the
  crossing road, or no sign).
- **all_way_stop**: kind ``all_way_stop``; its ``yield`` lanelets stop each at its own
  ``ref_line`` (the n-th line for the n-th lanelet), or every one at its end when the element
  has no ``ref_line`` (Lanelet2's ``AllWayStop``: one line per lanelet, or none).
- **Stations** as a light's: where the line meets each lane of the lanelet, only the
  direction of a two-way lanelet that drives towards it (:func:`_lane_stops`). A line more
  than 0.5 m off a lanelet is a :class:`DataError` for a rule the planners stop at (``stop``,
  ``all_way_stop``, not ``fallback``); for the others, kept but not acted on, that lanelet
  stops at its end, as without a line (the shared example's element 45236 reuses its
  junction's light line, which lies on its ``right_of_way`` lanelets, not its ``yield`` ones).

The shared ``mapping_example.osm`` has two ``right_of_way`` elements, both ``fallback=yes``
yields (signs ``de205`` and ``de301``) on its signalised junction: nothing there stops a car.

Malformed input (a node, way or relation without an id or repeating another's, a node
without ``lat``, an unknown node, way or relation referenced by a lanelet or regulatory
element (other ways and relations may refer to elements an extract left out), a speed limit
that is not a positive
speed, a traffic light's ``ref_line`` or ``refers`` naming an unknown way or node, a stop line
more than 0.5 m off a lanelet that references it; for a sign rule a ``yield`` /
``right_of_way`` member that is no lanelet (field ``member yield``), a ``ref_line`` or ``refers``
naming no way, a stop line off its lanelet, an all-way stop whose ``ref_line`` count is neither 0
nor its ``yield`` count (field ``ref_line``)) is a :class:`DataError` naming the file, the
node / relation and the field. An OpenDRIVE file (root ``<OpenDRIVE>``) is refused, naming
:func:`read_opendrive`.
"""

from __future__ import annotations

import math
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
from shapely.geometry import LineString

from drivestack.core.errors import DataError
from drivestack.ingest.maps._geometry import (
    centerline_from_bounds,
    check_unique_ids,
    dedup,
    finite_number,
    lane_checks,
)
from drivestack.ingest.maps._stops import station_on_lane, stop_station_m
from drivestack.structures.road_map import Lane, RoadMap, StopSign
from drivestack.structures.traffic_light import LaneStop, TrafficLight

#: WGS84 ellipsoid: equatorial radius (m) and flattening.
EARTH_RADIUS_M = 6378137.0
WGS84_FLATTENING = 1 / 298.257223563
#: A stop line this close to a two-way lanelet's middle counts as halfway (stops both ways):
#: projected coordinates carry rounding of ~1e-9 m.
HALFWAY_TOLERANCE_M = 1e-6
#: Suffix of the lane id of a two-way lanelet driven against its own direction.
REVERSE_SUFFIX = "-reverse"
#: Lanelet subtypes vehicles may use without a ``participant:vehicle`` tag (Lanelet2).
VEHICLE_SUBTYPES = frozenset({"", "road", "highway", "play_street", "exit"})
#: Metres per second of one unit of a ``speed_limit`` value (Lanelet2's units; km/h default).
SPEED_UNITS_MPS = {
    "": 1 / 3.6,
    "km/h": 1 / 3.6,
    "kmh": 1 / 3.6,
    "kph": 1 / 3.6,
    "m/s": 1.0,
    "mps": 1.0,
    "mph": 0.44704,
}
#: (bound type, subtype) -> the sides a lane change across it may go to, relative to the way's
#: own direction (Lanelet2 ``GenericTrafficRules`` for vehicles); anything else: none.
_MARKING_CHANGES = {
    ("line_thin", "dashed"): frozenset({"left", "right"}),
    ("line_thick", "dashed"): frozenset({"left", "right"}),
    ("line_thin", "dashed_solid"): frozenset({"right"}),
    ("line_thick", "dashed_solid"): frozenset({"right"}),
    ("line_thin", "solid_dashed"): frozenset({"left"}),
    ("line_thick", "solid_dashed"): frozenset({"left"}),
}
#: German traffic-sign types Lanelet2 reads as speed limits (``trafficSignToVelocity``), km/h.
GERMAN_SPEED_SIGNS_KMH = {"de274": 30.0, "de310": 50.0, "de274_1": 30.0, "de274_1-20": 20.0} | {
    f"de274-{kmh}": float(kmh)
    for kmh in (5, 10, 20, 30, 40, 50, 60, 70, 80, 90, 100, 110, 120, 130)
}
#: Traffic-sign types (a sign way's ``subtype``) that make a ``right_of_way`` element a stop
#: sign: the German ``de206`` (Lanelet2's ``<country><id>`` form), the US MUTCD ``usR1-1`` and
#: Autoware's ``stop_sign``; compared without case.
STOP_SIGN_TYPES = frozenset({"de206", "usr1-1", "stop_sign"})
_SPEED = re.compile(r"^\s*([+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)\s*(\S*)\s*$", re.ASCII)
_YES = {"yes", "true", "1"}
_NO = {"no", "false", "0"}


@dataclass(frozen=True)
class _Bound:
    way: str
    nodes: tuple[str, ...]
    inverted: bool  # runs against the way's node order


@dataclass(frozen=True)
class _Directed:
    """One driving direction of a lanelet."""

    lane_id: str
    relation: str
    tags: dict[str, str]
    left: _Bound
    right: _Bound
    left_xy: np.ndarray
    right_xy: np.ndarray
    vehicle: bool

    def reversed(self) -> _Directed:
        """The same lanelet driven the other way (bounds swapped and reversed)."""
        return _Directed(
            self.lane_id + REVERSE_SUFFIX,
            self.relation,
            self.tags,
            _Bound(self.right.way, self.right.nodes[::-1], not self.right.inverted),
            _Bound(self.left.way, self.left.nodes[::-1], not self.left.inverted),
            self.right_xy[::-1],
            self.left_xy[::-1],
            self.vehicle,
        )


def _ecef_m(lat_deg: np.ndarray, lon_deg: np.ndarray, height_m: np.ndarray) -> np.ndarray:
    """``(N,)`` WGS84 geodetic coordinates -> ``(N, 3)`` earth-centred earth-fixed metres."""
    e2 = WGS84_FLATTENING * (2 - WGS84_FLATTENING)
    phi, lam = np.radians(lat_deg), np.radians(lon_deg)
    sin_phi, cos_phi = np.sin(phi), np.cos(phi)
    n = EARTH_RADIUS_M / np.sqrt(1 - e2 * sin_phi**2)  # prime vertical radius of curvature
    return np.stack(
        [
            (n + height_m) * cos_phi * np.cos(lam),
            (n + height_m) * cos_phi * np.sin(lam),
            (n * (1 - e2) + height_m) * sin_phi,
        ],
        axis=1,
    )


def project_latlon(
    lat_deg: npt.ArrayLike,
    lon_deg: npt.ArrayLike,
    origin_deg: tuple[float, float],
    height_m: npt.ArrayLike | None = None,
) -> np.ndarray:
    """``(N,)`` WGS84 lat/lon in degrees (and heights above the ellipsoid, 0 m when ``None``)
    -> ``(N, 2)`` metres east/north of ``origin_deg = (lat0, lon0)`` (height 0) in its local
    tangent (east-north-up) frame: geodetic -> ECEF -> ENU, as GeographicLib's
    ``LocalCartesian`` and so Lanelet2's ``LocalCartesianProjector``."""
    lat = np.asarray(lat_deg, dtype=np.float64).reshape(-1)
    lon = np.asarray(lon_deg, dtype=np.float64).reshape(-1)
    h = np.zeros_like(lat) if height_m is None else np.asarray(height_m, dtype=np.float64)
    lat0, lon0 = origin_deg
    origin = _ecef_m(np.array([lat0]), np.array([lon0]), np.zeros(1))
    d = _ecef_m(lat, lon, np.broadcast_to(h, lat.shape)) - origin
    phi0, lam0 = math.radians(lat0), math.radians(lon0)
    east = -math.sin(lam0) * d[:, 0] + math.cos(lam0) * d[:, 1]
    north = (
        -math.sin(phi0) * math.cos(lam0) * d[:, 0]
        - math.sin(phi0) * math.sin(lam0) * d[:, 1]
        + math.cos(phi0) * d[:, 2]
    )
    return np.stack([east, north], axis=1)


def parse_speed_limit_mps(value: str, path: str, record: str, field: str = "speed_limit") -> float:
    """A Lanelet2 speed (``"50"``, ``"50 km/h"``, ``"30mph"``, ``"13.9 m/s"``) in m/s;
    ``DataError`` at ``field`` for an unknown unit or a speed that is not a positive finite
    number."""
    match = _SPEED.match(value)
    if match is None:
        raise DataError(f"not a speed: {value!r}", path=path, record=record, field=field)
    unit = match.group(2).lower()
    if unit not in SPEED_UNITS_MPS:
        known = ", ".join(u for u in SPEED_UNITS_MPS if u)
        raise DataError(
            f"unknown unit {match.group(2)!r} in {value!r} (known: {known}; none means km/h)",
            path=path,
            record=record,
            field=field,
        )
    speed = float(match.group(1)) * SPEED_UNITS_MPS[unit]
    if not (math.isfinite(speed) and speed > 0.0):
        raise DataError(
            f"must be a positive speed, got {value!r}",
            path=path,
            record=record,
            field=field,
        )
    return speed


def regulatory_speed_limit_mps(
    rel: ET.Element, way_tags: dict[str, dict[str, str]], path: str
) -> float:
    """The speed of a ``speed_limit`` regulatory element (see the module docstring), in m/s;
    ``DataError`` naming the relation and ``sign_type`` or ``refers`` when it gives none."""
    record = f"relation {rel.get('id', '')}"
    tags = _element_tags(rel)
    if "sign_type" in tags:
        value, field = tags["sign_type"], "sign_type"
    else:
        signs = [
            m.get("ref", "")
            for m in rel.findall("member")
            if m.get("type") == "way" and m.get("role") == "refers"
        ]
        if not signs or signs[0] not in way_tags:
            raise DataError(
                "a speed limit needs a sign_type tag or a traffic sign it refers to",
                path=path,
                record=record,
                field="refers",
            )
        value, field = way_tags[signs[0]].get("subtype", ""), "refers"
    if value.strip().lower() in GERMAN_SPEED_SIGNS_KMH:
        return GERMAN_SPEED_SIGNS_KMH[value.strip().lower()] / 3.6
    return parse_speed_limit_mps(value, path, record, field)


def _element_tags(element: ET.Element) -> dict[str, str]:
    """An OSM element's tags as a dict."""
    return {t.get("k", ""): t.get("v", "") for t in element.findall("tag")}


def _flag(tags: dict[str, str], key: str) -> bool | None:
    """A yes/no tag as a bool (``None`` when absent or neither)."""
    value = tags.get(key, "").strip().lower()
    return True if value in _YES else False if value in _NO else None


def _is_vehicle(tags: dict[str, str]) -> bool:
    """Whether vehicles may drive on a lanelet with these tags (Lanelet2's overriding rule:
    once any ``participant:*`` tag is set, the subtype no longer counts and only the
    participants tagged yes may use it)."""
    participants = {k: v for k, v in tags.items() if k.startswith("participant:")}
    if participants:
        return any(
            _flag(participants, k) is True
            for k in participants
            if k == "participant:vehicle" or k.startswith("participant:vehicle:")
        )
    return tags.get("subtype", "road") in VEHICLE_SUBTYPES


def _lane_type(tags: dict[str, str], vehicle: bool) -> str:
    """The lane's ``lane_type``: the subtype, except a road-like lanelet that vehicles may not
    use (``participant:*`` tags without vehicles), which is a ``bicycle_lane`` when bicycles
    may use it, else a ``walkway`` (non-drivable types of :class:`RoadMap`)."""
    subtype = tags.get("subtype", "road")
    if vehicle or subtype not in VEHICLE_SUBTYPES:
        return subtype
    return "bicycle_lane" if _flag(tags, "participant:bicycle") is True else "walkway"


def _is_two_way(tags: dict[str, str]) -> bool:
    """Whether vehicles may drive a lanelet against its direction (``one_way=no``)."""
    for key in ("one_way:vehicle", "one_way"):
        one_way = _flag(tags, key)
        if one_way is not None:
            return not one_way
    return False


def lane_change_sides(tags: dict[str, str], inverted: bool) -> frozenset[str]:
    """The sides (``"left"``, ``"right"``) a vehicle may change lanes to across a bound with
    way ``tags``, for a lane using the bound with ``inverted`` direction."""
    both = _flag(tags, "lane_change")
    if both is not None:
        sides = frozenset({"left", "right"}) if both else frozenset()
    elif "lane_change:left" in tags or "lane_change:right" in tags:
        sides = frozenset(
            side for side in ("left", "right") if _flag(tags, f"lane_change:{side}") is True
        )
    else:
        sides = _MARKING_CHANGES.get((tags.get("type", ""), tags.get("subtype", "")), frozenset())
    if inverted:
        swap = {"left": "right", "right": "left"}
        sides = frozenset(swap[s] for s in sides)
    return sides


def _check_format(root: ET.Element, path: str) -> None:
    """``DataError`` unless ``root`` is a Lanelet2 OSM document."""
    if root.tag == "OpenDRIVE":
        raise DataError(
            "this is an OpenDRIVE file; read_lanelet2 reads Lanelet2 OSM maps "
            "(read it with drivestack.ingest.maps.read_opendrive)",
            path=path,
        )
    if root.tag != "osm":
        raise DataError(f"root element is <{root.tag}>, expected <osm>", path=path)


def _nodes(root: ET.Element, path: str) -> tuple[list[str], np.ndarray, np.ndarray, np.ndarray]:
    """Node ids, their lat / lon in degrees and heights in m (``ele`` tag, 0 without)."""
    ids: list[str] = []
    lat: list[float] = []
    lon: list[float] = []
    height: list[float] = []
    for node in root.iter("node"):
        ids.append(node.get("id", ""))
        record = f"node {node.get('id')}"
        for name, values, limit in (("lat", lat, 90.0), ("lon", lon, 180.0)):
            degrees = finite_number(node.get(name), path, record, name)
            if abs(degrees) > limit:
                raise DataError(
                    f"must be within [-{limit:g}, {limit:g}] degrees, got {degrees:g}",
                    path=path,
                    record=record,
                    field=name,
                )
            values.append(degrees)
        ele = next((t.get("v") for t in node.findall("tag") if t.get("k") == "ele"), None)
        height.append(0.0 if ele is None else finite_number(ele, path, record, "ele"))
    if not ids:
        raise DataError("no nodes", path=path)
    return ids, np.asarray(lat), np.asarray(lon), np.asarray(height)


def _check_references(root: ET.Element, path: str) -> None:
    """``DataError`` naming the relation when a lanelet or regulatory-element relation (what
    this reader reads) has a ``member`` of no known kind or naming a node, way or relation the
    file does not have: a lanelet's missing speed limit or traffic light would be dropped
    silently. Other ways and relations may refer to elements the file leaves out (an extract
    cut from a larger map keeps such references); nothing here reads them. The lanelets'
    bounds and the lights' ways are checked where they are read, naming their role."""
    ids = {kind: {el.get("id") for el in root.iter(kind)} for kind in ("node", "way", "relation")}
    for rel in root.iter("relation"):
        kind_tag = next((t.get("v") for t in rel.findall("tag") if t.get("k") == "type"), None)
        if kind_tag not in ("lanelet", "regulatory_element"):
            continue
        for member in rel.findall("member"):
            kind = member.get("type")
            if kind not in ids:
                raise DataError(
                    f"must be node, way or relation, got {kind!r}",
                    path=path,
                    record=f"relation {rel.get('id')}",
                    field="member@type",
                )
            if member.get("ref") not in ids[kind]:
                raise DataError(
                    f"unknown {kind} {member.get('ref', '')}",
                    path=path,
                    record=f"relation {rel.get('id')}",
                    field=f"member {member.get('role', '')}".strip(),
                )


def _directed(
    rel: ET.Element,
    tags: dict[str, str],
    ways: dict[str, list[str]],
    coords: dict[str, np.ndarray],
    path: str,
) -> _Directed:
    """A lanelet relation in its own direction (right bound's), left bound on the left."""
    rid = rel.get("id", "")
    record = f"relation {rid}"
    members = {
        m.get("role"): m.get("ref", "") for m in rel.findall("member") if m.get("type") == "way"
    }
    if "left" not in members or "right" not in members:
        raise DataError(
            "lanelet needs a left and a right way", path=path, record=record, field="member"
        )
    for role in ("left", "right"):
        if members[role] not in ways:
            raise DataError(
                f"unknown way {members[role]}", path=path, record=record, field=f"member {role}"
            )
    left = _Bound(members["left"], tuple(ways[members["left"]]), False)
    right = _Bound(members["right"], tuple(ways[members["right"]]), False)
    for bound in (left, right):
        missing = [n for n in bound.nodes if n not in coords]
        if missing:
            raise DataError(f"unknown node {missing[0]}", path=path, record=record, field="nd")
    lxy = np.asarray([coords[n] for n in left.nodes]).reshape(-1, 2)
    rxy = np.asarray([coords[n] for n in right.nodes]).reshape(-1, 2)
    if len(dedup(lxy)) < 2 or len(dedup(rxy)) < 2:
        raise DataError(
            "a bound has fewer than 2 distinct points", path=path, record=record, field="member"
        )
    if np.linalg.norm(lxy[0] - rxy[0]) + np.linalg.norm(lxy[-1] - rxy[-1]) > np.linalg.norm(
        lxy[-1] - rxy[0]
    ) + np.linalg.norm(lxy[0] - rxy[-1]):
        left = _Bound(left.way, left.nodes[::-1], True)
        lxy = lxy[::-1]
    direction = rxy[-1] - rxy[0]
    mid_offset = lxy[len(lxy) // 2] - rxy[len(rxy) // 2]
    if direction[0] * mid_offset[1] - direction[1] * mid_offset[0] < 0:  # "left" lies on the right
        left = _Bound(left.way, left.nodes[::-1], not left.inverted)
        right = _Bound(right.way, right.nodes[::-1], True)
        lxy, rxy = lxy[::-1], rxy[::-1]
    return _Directed(rid, rid, tags, left, right, dedup(lxy), dedup(rxy), _is_vehicle(tags))


def _successors(lanes: list[_Directed]) -> dict[str, list[str]]:
    """Lane id -> the lanes that start where it ends (same road users, another lanelet)."""
    starts: dict[tuple[str, str], list[_Directed]] = {}
    for d in lanes:
        starts.setdefault((d.left.nodes[0], d.right.nodes[0]), []).append(d)
    return {
        d.lane_id: [
            s.lane_id
            for s in starts.get((d.left.nodes[-1], d.right.nodes[-1]), [])
            if s.relation != d.relation and s.vehicle == d.vehicle
        ]
        for d in lanes
    }


def _neighbours(
    lanes: list[_Directed], way_tags: dict[str, dict[str, str]]
) -> dict[str, tuple[str | None, str | None]]:
    """Lane id -> (left, right) lane-change targets: vehicle lanes sharing a bound way that
    runs the same way, where the bound's markings permit the change."""
    by_left = {(d.left.way, d.left.nodes): d for d in lanes if d.vehicle}
    by_right = {(d.right.way, d.right.nodes): d for d in lanes if d.vehicle}
    out: dict[str, tuple[str | None, str | None]] = {}
    for d in lanes:
        left = by_right.get((d.left.way, d.left.nodes))
        right = by_left.get((d.right.way, d.right.nodes))
        ok_left = (
            left is not None
            and d.vehicle
            and left.relation != d.relation
            and "left" in lane_change_sides(way_tags.get(d.left.way, {}), d.left.inverted)
        )
        ok_right = (
            right is not None
            and d.vehicle
            and right.relation != d.relation
            and "right" in lane_change_sides(way_tags.get(d.right.way, {}), d.right.inverted)
        )
        out[d.lane_id] = (
            left.lane_id if ok_left and left is not None else None,
            right.lane_id if ok_right and right is not None else None,
        )
    return out


def _way_points(way: str, nodes: list[str], coords: dict[str, np.ndarray], path: str) -> np.ndarray:
    """A way's nodes as ``(N, 2)`` points (``DataError`` naming the way for an unknown node)."""
    missing = [n for n in nodes if n not in coords]
    if missing:
        raise DataError(f"unknown node {missing[0]}", path=path, record=f"way {way}", field="nd")
    return np.asarray([coords[n] for n in nodes], dtype=np.float64).reshape(-1, 2)


def _stop_line(way: str, nodes: list[str], coords: dict[str, np.ndarray], path: str) -> LineString:
    """A ``stop_line`` way as a line (``DataError`` naming the way for an unknown node)."""
    return LineString(_way_points(way, nodes, coords, path))


def _member_way(rel: ET.Element, role: str, ways: dict[str, list[str]], path: str) -> str | None:
    """The first way member of ``rel`` with ``role`` (``None`` when it has none; ``DataError``
    naming the relation and role when the way is not in the file)."""
    refs = [m.get("ref", "") for m in rel.findall("member") if m.get("role") == role]
    if not refs:
        return None
    if refs[0] not in ways:
        raise DataError(
            f"unknown way {refs[0]}", path=path, record=f"relation {rel.get('id', '')}", field=role
        )
    return refs[0]


def _lane_stops(
    element: str, stop_line: np.ndarray | None, lanelet: str, lanes: list[Lane], path: str
) -> list[LaneStop]:
    """Where the regulatory element ``element`` (a light, a sign rule) stops the ``lanes`` of
    lanelet ``lanelet`` (its own direction first, then ``<id>-reverse`` for a two-way lanelet;
    see the module docstring)."""
    if stop_line is None:
        return [LaneStop(lanes[0].lane_id, lanes[0].length_m)]
    stops = []
    for lane in lanes:
        station = stop_station_m(lane.centerline_m, stop_line)
        if len(lanes) > 1 and station < 0.5 * lane.length_m - HALFWAY_TOLERANCE_M:
            continue  # the other direction's stop line: this one drives away from it
        on_lane = station_on_lane(lane, station)
        if on_lane is None:
            raise DataError(
                f"the stop line lies off lanelet {lanelet}: station {station:.2f} m on lane "
                f"{lane.lane_id!r}, {lane.length_m:.2f} m long",
                path=path,
                record=f"relation {element}",
                field="ref_line",
            )
        stops.append(LaneStop(lane.lane_id, on_lane))
    return stops


def _traffic_lights(
    elements: dict[str, ET.Element],
    referenced_by: dict[str, list[str]],
    lanes_of: dict[str, list[Lane]],
    ways: dict[str, list[str]],
    coords: dict[str, np.ndarray],
    path: str,
) -> list[TrafficLight]:
    """One light per traffic-light regulatory element (id -> relation), stopping the lanes
    (``lanes_of`` a lanelet relation id) of the lanelets ``referenced_by`` it."""
    lights = []
    for rid, rel in elements.items():
        line_way = _member_way(rel, "ref_line", ways, path)
        stop_line = None if line_way is None else _line_points(rid, line_way, ways, coords, path)
        head = _member_way(rel, "refers", ways, path)
        position = None
        if head is not None and ways[head]:
            x, y = _way_points(head, ways[head][:1], coords, path)[0]
            position = (float(x), float(y))
        stops = [
            stop
            for lanelet in referenced_by.get(rid, [])
            for stop in _lane_stops(rid, stop_line, lanelet, lanes_of[lanelet], path)
        ]
        lights.append(TrafficLight(rid, tuple(stops), None, position))
    return lights


def _line_points(
    rid: str, way: str, ways: dict[str, list[str]], coords: dict[str, np.ndarray], path: str
) -> np.ndarray:
    """Stop line ``way`` of element ``rid`` as ``(K >= 1, 2)`` points (``DataError`` naming the
    relation and ``ref_line`` for a line without nodes)."""
    points = _way_points(way, ways[way], coords, path)
    if len(points) == 0:
        raise DataError(
            "the stop line has no nodes", path=path, record=f"relation {rid}", field="ref_line"
        )
    return points


def _sign_rule(
    rel: ET.Element,
    tags: dict[str, str],
    lanes_of: dict[str, list[Lane]],
    ways: dict[str, list[str]],
    way_tags: dict[str, dict[str, str]],
    coords: dict[str, np.ndarray],
    path: str,
) -> StopSign:
    """One ``right_of_way`` or ``all_way_stop`` element as a :class:`StopSign` (module
    docstring)."""
    rid = rel.get("id", "")
    record = f"relation {rid}"
    members = rel.findall("member")
    for m in members:
        if m.get("role") in ("yield", "right_of_way") and m.get("ref", "") not in lanes_of:
            raise DataError(
                f"{m.get('type')} {m.get('ref', '')} is no lanelet",
                path=path,
                record=record,
                field=f"member {m.get('role')}",
            )
    lanelets = list(dict.fromkeys(m.get("ref", "") for m in members if m.get("role") == "yield"))
    line_ways = [m.get("ref", "") for m in members if m.get("role") == "ref_line"]
    signs = [m.get("ref", "") for m in members if m.get("role") == "refers"]
    for way in (*line_ways, *signs):
        if way not in ways:
            role = "ref_line" if way in line_ways else "refers"
            raise DataError(f"unknown way {way}", path=path, record=record, field=role)
    lines = [_line_points(rid, w, ways, coords, path) for w in line_ways]
    if tags.get("subtype") == "all_way_stop":
        kind = "all_way_stop"
        if lines and len(lines) != len(lanelets):
            raise DataError(
                f"an all-way stop needs one ref_line per yield lanelet or none (Lanelet2's "
                f"AllWayStop), got {len(lines)} for {len(lanelets)} lanelets",
                path=path,
                record=record,
                field="ref_line",
            )
        per_lanelet: list[np.ndarray | None] = list(lines) if lines else [None] * len(lanelets)
    else:
        stop = any(way_tags[w].get("subtype", "").strip().lower() in STOP_SIGN_TYPES for w in signs)
        kind = "stop" if stop else "yield"
        per_lanelet = [lines[0] if lines else None] * len(lanelets)
    fallback = _flag(tags, "fallback") is True
    acted_on = kind != "yield" and not fallback
    stops: list[LaneStop] = []
    for lanelet, line in zip(lanelets, per_lanelet, strict=True):
        try:
            stops += _lane_stops(rid, line, lanelet, lanes_of[lanelet], path)
        except DataError:
            if acted_on:
                raise
            # a rule no one stops for, whose line misses this lanelet: at its end, as
            # without a line (module docstring)
            stops += _lane_stops(rid, None, lanelet, lanes_of[lanelet], path)
    drawn = tuple(LineString(line) for line in lines if len(line) >= 2)
    return StopSign(rid, kind, tuple(stops), drawn, fallback)


def read_lanelet2(
    path: str | Path,
    origin_deg: tuple[float, float] | None = None,
    default_speed_limit_mps: float = 13.89,
) -> RoadMap:
    """Parse one Lanelet2 OSM file into a :class:`RoadMap` (see the module docstring)."""
    p = Path(path)
    try:
        root = ET.parse(p).getroot()
    except (OSError, ET.ParseError) as exc:
        raise DataError(f"cannot parse XML: {exc}", path=str(p)) from exc
    _check_format(root, str(p))
    for kind in ("node", "way", "relation"):
        check_unique_ids(root.iter(kind), kind, str(p))
    ids, lat, lon, height = _nodes(root, str(p))
    origin = origin_deg or (float(lat[0]), float(lon[0]))
    node_xy = dict(zip(ids, project_latlon(lat, lon, origin, height), strict=True))
    ways: dict[str, list[str]] = {}
    way_tags: dict[str, dict[str, str]] = {}
    for way in root.iter("way"):
        wid = way.get("id", "")
        ways[wid] = [nd.get("ref", "") for nd in way.findall("nd")]
        way_tags[wid] = _element_tags(way)
    lanelet_relations: list[tuple[ET.Element, dict[str, str]]] = []
    speed_limit_elements: dict[str, ET.Element] = {}
    light_elements: dict[str, ET.Element] = {}
    sign_elements: list[tuple[ET.Element, dict[str, str]]] = []
    for rel in root.iter("relation"):
        tags = _element_tags(rel)
        if tags.get("type") == "regulatory_element" and tags.get("subtype") in (
            "right_of_way",
            "all_way_stop",
        ):
            sign_elements.append((rel, tags))
        if tags.get("type") == "lanelet":
            lanelet_relations.append((rel, tags))
        elif (tags.get("type"), tags.get("subtype")) == ("regulatory_element", "speed_limit"):
            speed_limit_elements[rel.get("id", "")] = rel
        elif (tags.get("type"), tags.get("subtype")) == ("regulatory_element", "traffic_light"):
            light_elements[rel.get("id", "")] = rel
    directed: list[_Directed] = []
    regulatory_speed_mps: dict[str, float] = {}
    lights_on: dict[str, list[str]] = {}  # light element -> the lanelets that reference it
    for rel, tags in lanelet_relations:
        lanelet = _directed(rel, tags, ways, node_xy, str(p))
        members = (m.get("ref", "") for m in rel.findall("member") if m.get("type") == "relation")
        for ref in dict.fromkeys(members):
            if ref in light_elements:
                lights_on.setdefault(ref, []).append(lanelet.relation)
        limits = [
            m.get("ref", "")
            for m in rel.findall("member")
            if m.get("type") == "relation" and m.get("ref", "") in speed_limit_elements
        ]
        if limits:
            regulatory_speed_mps[lanelet.relation] = regulatory_speed_limit_mps(
                speed_limit_elements[limits[0]], way_tags, str(p)
            )
        directed.append(lanelet)
        if lanelet.vehicle and _is_two_way(tags):
            directed.append(lanelet.reversed())
    succs = _successors(directed)
    preds: dict[str, list[str]] = {}
    for lane_id, nexts in succs.items():
        for s in nexts:
            preds.setdefault(s, []).append(lane_id)
    neighbours = _neighbours(directed, way_tags)
    lanes, crosswalks = [], []
    lanes_of: dict[str, list[Lane]] = {}
    for d in directed:
        record = f"relation {d.relation}"
        speed = default_speed_limit_mps
        if d.relation in regulatory_speed_mps:
            speed = regulatory_speed_mps[d.relation]
        elif "speed_limit" in d.tags:
            speed = parse_speed_limit_mps(d.tags["speed_limit"], str(p), record)
        subtype = _lane_type(d.tags, d.vehicle)
        with lane_checks(str(p), record):
            lane = Lane(
                d.lane_id,
                centerline_from_bounds(d.left_xy, d.right_xy),
                d.left_xy,
                d.right_xy,
                speed,
                successors=tuple(succs[d.lane_id]),
                predecessors=tuple(preds.get(d.lane_id, [])),
                left_neighbor=neighbours[d.lane_id][0],
                right_neighbor=neighbours[d.lane_id][1],
                lane_type=subtype,
            )
        lanes.append(lane)
        lanes_of.setdefault(d.relation, []).append(lane)
        if subtype == "crosswalk" and d.lane_id == d.relation:
            crosswalks.append(lane.polygon)
    stop_lines = [
        _stop_line(w, ways[w], node_xy, str(p))
        for w, t in way_tags.items()
        if t.get("type") == "stop_line" and len(ways[w]) >= 2
    ]
    lights = _traffic_lights(light_elements, lights_on, lanes_of, ways, node_xy, str(p))
    _check_references(root, str(p))
    signs = [
        _sign_rule(rel, tags, lanes_of, ways, way_tags, node_xy, str(p))
        for rel, tags in sign_elements
    ]
    return RoadMap(
        tuple(lanes),
        tuple(crosswalks),
        tuple(stop_lines),
        frame="world",
        source=f"lanelet2:{p.name}",
        traffic_lights=tuple(lights),
        stop_signs=tuple(signs),
    )
