"""Argoverse 2 vector map (``map/log_map_archive_*.json``) -> :class:`RoadMap`.

One lane per ``lane_segments`` record, with the segment's id as a string (``"38109167"``),
in the AV2 city frame (frame ``"world"``, as the rest of drivestack's AV2 code names it: the
ego poses of ``city_SE3_egovehicle.feather`` are ``world_from_ego``). Polylines keep x / y
(the z of the ``{x, y, z}`` vertices is dropped: the map is 2D).

- **Geometry**: the left and right boundaries, both in the direction of travel as AV2 stores
  them, and the centreline halfway between them at equal arc-length fractions
  (:func:`~drivestack.ingest.maps._geometry.centerline_from_bounds`, the rule av2-api's
  ``compute_midpoint_line`` follows with a fixed number of points).
- **Lane types**: ``VEHICLE`` -> ``"road"``; ``BUS`` -> ``"bus_lane"``, drivable (paved road
  that buses, and in US cities cars turning right, drive on; part of the drivable area, so a
  route may use it: filter on ``lane_type`` to keep a car out); ``BIKE`` -> ``"bicycle_lane"``,
  one of :data:`~drivestack.structures.road_map.NON_DRIVABLE_TYPES` (kept out of the drivable
  area and of routes), and, as in the other readers, never linked to vehicle or bus lanes.
- **Successors / predecessors**: the union of each segment's ``successors`` and its
  successors' ``predecessors`` (AV2 log maps often list a link on one side only), so both
  directions always agree. Log maps are cropped to 100 m around the drive: a reference to a
  segment that is not in the file is dropped, not an error, as is a link between a bicycle
  lane and a vehicle / bus lane; :func:`read_av2_road_map_counted` counts both (the two
  sensor-val logs of the shared data: 35 and 46 references outside the crop, 7 and 4
  bicycle / vehicle links, 0 and 105 links listed on one side only).
- **Lane changes** (``left_neighbor`` / ``right_neighbor``, left as seen along the lane, as
  in :class:`RoadMap` and the Lanelet2 / OpenDRIVE readers): the file's
  ``left_neighbor_id`` / ``right_neighbor_id`` when (1) that segment is in the file, (2) it
  names this segment back as its neighbour on the other side (AV2 also lists the oncoming
  lane beyond the centre line as a "neighbour"; it never names the lane back), (3) both are
  drivable or both are bicycle lanes, and (4) this segment's mark on that side permits the
  change (:data:`LANE_CHANGE_SIDES`): dashed lines both ways; ``DASH_SOLID_*`` /
  ``SOLID_DASH_*`` from the dashed side only, read as Lanelet2 reads ``dashed_solid``: the
  first word is the left part along the direction of travel; an unmarked boundary
  (``NONE``) both ways except where either segment lies in an intersection
  (``is_intersection``); solid lines, ``SOLID_BLUE`` and ``UNKNOWN`` never.
- **Junctions** (:attr:`Lane.junction_id`, what ``RoadMap.route(cost="junctions")`` counts):
  AV2 has no junction ids, only each segment's ``is_intersection``. The intersection segments
  are grouped into junctions: two are one junction when one names the other as a successor,
  predecessor or neighbour, or when their lane areas touch or overlap, and so on transitively;
  each group is junction ``"av2-junction-<its smallest segment id>"`` (bicycle segments
  too). Links alone would split one crossing into pieces (its turning and straight segments
  rarely link to each other, they cross); on the two sensor-val logs of the shared data the
  61 and 73 intersection segments form 6 and 14 junctions (44 and 66 groups by links alone),
  the same with areas within 1 m of each other counted as touching. Other segments get None.
- **Crosswalks**: each ``pedestrian_crossings`` record's polygon between ``edge1`` and
  ``edge2`` (``edge2`` reversed first when it runs against ``edge1``).
- **Speed limits**: AV2 maps carry none; every lane gets ``default_speed_limit_mps``.
- **Drivable area**: the map's ``drivable_areas`` (:func:`read_av2_drivable_area`) as
  ``RoadMap.extra_drivable_areas``, so ``RoadMap.drivable_area`` is the paved road, not only
  the lanes' union (on log adcf7d18 a car turning across a lane edge was 0.32 m outside the
  lanes and inside AV2's drivable area).
- Not read: stop lines (AV2 has none).

Malformed input is a :class:`DataError` naming the archive file, the record (``lane segment
<id>`` / ``pedestrian crossing <id>``) and the field: a record that is not an object, a
missing field, a value of the wrong type (an id that is not an integer, a boundary that is
not a list of ``{x, y, z}`` vertices), a coordinate that is not finite, a boundary with fewer
than 2 distinct points, boundaries whose midline collapses to a point (one of them runs
backwards), an unknown ``lane_type`` or mark type, and a record whose ``id`` differs from its
key. A ``default_speed_limit_mps`` that is not a positive speed is a ``ValueError``. A folder
without a map archive, a file that is not JSON or lacks a layer is a ``DataError`` from
:func:`~drivestack.ingest.maps.av2_archive.read_av2_map_archive`.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import shapely
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from shapely.geometry import Polygon

from drivestack.core.errors import DataError
from drivestack.ingest.maps._geometry import centerline_from_bounds, dedup, lane_checks
from drivestack.ingest.maps.av2_archive import read_av2_map_archive
from drivestack.ingest.maps.av2_drivable import drivable_area_of
from drivestack.structures.road_map import NON_DRIVABLE_TYPES, Lane, RoadMap

#: AV2 ``lane_type`` -> drivestack ``lane_type``.
LANE_TYPES = {"VEHICLE": "road", "BUS": "bus_lane", "BIKE": "bicycle_lane"}
_BOTH = frozenset({"left", "right"})
_NONE: frozenset[str] = frozenset()
#: AV2 lane mark type of a lane's boundary on ``side`` -> the sides the lane may change to
#: across it (``"NONE"``, unmarked, is handled apart: both, outside intersections).
LANE_CHANGE_SIDES = {
    "DASHED_WHITE": _BOTH,
    "DASHED_YELLOW": _BOTH,
    "DOUBLE_DASH_WHITE": _BOTH,
    "DOUBLE_DASH_YELLOW": _BOTH,
    # dashed on the left part, solid on the right: crossable from the lane on its left
    "DASH_SOLID_WHITE": frozenset({"right"}),
    "DASH_SOLID_YELLOW": frozenset({"right"}),
    # solid on the left part, dashed on the right: crossable from the lane on its right
    "SOLID_DASH_WHITE": frozenset({"left"}),
    "SOLID_DASH_YELLOW": frozenset({"left"}),
    "SOLID_WHITE": _NONE,
    "SOLID_YELLOW": _NONE,
    "DOUBLE_SOLID_WHITE": _NONE,
    "DOUBLE_SOLID_YELLOW": _NONE,
    "SOLID_BLUE": _NONE,
    "UNKNOWN": _NONE,
    "NONE": _BOTH,
}
#: Fields every ``lane_segments`` record has.
LANE_FIELDS = (
    "id",
    "is_intersection",
    "lane_type",
    "left_lane_boundary",
    "right_lane_boundary",
    "left_lane_mark_type",
    "right_lane_mark_type",
    "successors",
    "predecessors",
    "left_neighbor_id",
    "right_neighbor_id",
)
_OTHER_SIDE = {"left": "right", "right": "left"}


@dataclass(frozen=True)
class Av2LinkCounts:
    """Links of an AV2 log map that :func:`read_av2_road_map` left out.

    Attributes:
        outside_crop: successor / predecessor / neighbour references to segments that are not
            in the file (the log map is cropped around the drive).
        bike_vehicle: successor / predecessor links between a bicycle lane and a vehicle or
            bus lane (each pair counted once).
        predecessors_added: predecessor links the file lists only as a successor, or the other
            way round (added so that both directions agree).
        neighbours_dropped: in-file neighbour references not kept as lane changes (oncoming
            lanes, marks that forbid the change, bicycle / vehicle pairs).
    """

    outside_crop: int
    bike_vehicle: int
    predecessors_added: int
    neighbours_dropped: int


@dataclass(frozen=True)
class _Segment:
    """One validated ``lane_segments`` record."""

    lane_id: int
    is_intersection: bool
    lane_type: str
    left_m: np.ndarray
    right_m: np.ndarray
    marks: dict[str, str]
    successors: tuple[int, ...]
    predecessors: tuple[int, ...]
    neighbours: dict[str, int | None]

    @property
    def drivable(self) -> bool:
        return LANE_TYPES[self.lane_type] not in NON_DRIVABLE_TYPES


class _Reader:
    """Validation helpers bound to one archive file."""

    def __init__(self, path: Path) -> None:
        self.path = str(path)

    def error(self, message: str, record: str | None, field: str | None) -> DataError:
        return DataError(message, path=self.path, record=record, field=field)

    def integer(self, value: object, record: str, field: str) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.error(
                f"must be an integer id, got {type(value).__name__} {value!r}", record, field
            )
        return value

    def ids(self, value: object, record: str, field: str) -> tuple[int, ...]:
        if not isinstance(value, list):
            raise self.error(
                f"must be a list of integer ids, got {type(value).__name__}", record, field
            )
        return tuple(self.integer(v, record, f"{field}[{i}]") for i, v in enumerate(value))

    def polyline(self, value: object, record: str, field: str) -> np.ndarray:
        """``(K, 2)`` xy of a list of ``{x, y, z}`` vertices, repeated points dropped, K >= 2."""
        if not isinstance(value, list):
            raise self.error(
                f"must be a list of {{x, y, z}} vertices, got {type(value).__name__}", record, field
            )
        xy = np.empty((len(value), 2))
        for i, vertex in enumerate(value):
            if not isinstance(vertex, dict):
                raise self.error(
                    f"vertex {i} must be an {{x, y, z}} object, got {type(vertex).__name__}",
                    record,
                    field,
                )
            for j, axis in enumerate(("x", "y")):
                v = vertex.get(axis)
                if isinstance(v, bool) or not isinstance(v, int | float):
                    raise self.error(
                        f"vertex {i}: {axis} must be a number, got {v!r}", record, field
                    )
                if not math.isfinite(v):
                    raise self.error(f"vertex {i}: {axis} is not finite ({v!r})", record, field)
                xy[i, j] = v
        xy = dedup(xy)
        if len(xy) < 2:
            raise self.error(
                f"needs at least 2 distinct points, got {len(xy)} ({len(value)} vertices)",
                record,
                field,
            )
        return xy

    def choice(self, value: object, known: dict[str, Any], record: str, field: str) -> str:
        if not isinstance(value, str) or value not in known:
            raise self.error(f"unknown value {value!r} (known: {', '.join(known)})", record, field)
        return value

    def record(self, key: str, value: object, kind: str) -> tuple[str, dict[str, Any]]:
        """``(record name, record)`` of a layer entry: an object whose ``id`` is its key."""
        record = f"{kind} {key}"
        if not isinstance(value, dict):
            raise self.error(f"must be an object, got {type(value).__name__}", record, None)
        if "id" not in value:
            raise self.error("missing", record, "id")
        if str(self.integer(value["id"], record, "id")) != key:
            raise self.error(f"id {value['id']} differs from its key {key!r}", record, "id")
        return record, value

    def segment(self, key: str, value: object) -> _Segment:
        record, rec = self.record(key, value, "lane segment")
        for name in LANE_FIELDS:
            if name not in rec:
                raise self.error("missing", record, name)
        if not isinstance(rec["is_intersection"], bool):
            raise self.error(
                f"must be true or false, got {rec['is_intersection']!r}", record, "is_intersection"
            )
        neighbours: dict[str, int | None] = {}
        for side in ("left", "right"):
            field = f"{side}_neighbor_id"
            n = rec[field]
            neighbours[side] = None if n is None else self.integer(n, record, field)
        return _Segment(
            lane_id=rec["id"],
            is_intersection=rec["is_intersection"],
            lane_type=self.choice(rec["lane_type"], LANE_TYPES, record, "lane_type"),
            left_m=self.polyline(rec["left_lane_boundary"], record, "left_lane_boundary"),
            right_m=self.polyline(rec["right_lane_boundary"], record, "right_lane_boundary"),
            marks={
                side: self.choice(
                    rec[f"{side}_lane_mark_type"],
                    LANE_CHANGE_SIDES,
                    record,
                    f"{side}_lane_mark_type",
                )
                for side in ("left", "right")
            },
            successors=self.ids(rec["successors"], record, "successors"),
            predecessors=self.ids(rec["predecessors"], record, "predecessors"),
            neighbours=neighbours,
        )

    def crosswalk(self, key: str, value: object) -> Polygon:
        record, rec = self.record(key, value, "pedestrian crossing")
        for name in ("edge1", "edge2"):
            if name not in rec:
                raise self.error("missing", record, name)
        edge1 = self.polyline(rec["edge1"], record, "edge1")
        edge2 = self.polyline(rec["edge2"], record, "edge2")
        if np.dot(edge1[-1] - edge1[0], edge2[-1] - edge2[0]) < 0.0:
            edge2 = edge2[::-1]
        poly = Polygon(np.concatenate([edge1, edge2[::-1]]))
        return poly if poly.is_valid else poly.buffer(0)


def _layer(value: object, reader: _Reader, layer: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise reader.error(
            f"must be an object keyed by id, got {type(value).__name__}", None, layer
        )
    return value


def _may_change(seg: _Segment, other: _Segment, side: str) -> bool:
    """Whether a vehicle on ``seg`` may change to ``other``, its neighbour on ``side``."""
    if other.neighbours[_OTHER_SIDE[side]] != seg.lane_id:
        return False  # the oncoming lane: AV2 names it a neighbour one way only
    if seg.drivable != other.drivable:
        return False
    mark = seg.marks[side]
    if mark == "NONE" and (seg.is_intersection or other.is_intersection):
        return False
    return side in LANE_CHANGE_SIDES[mark]


def _junctions(segs: dict[int, _Segment], lanes: dict[str, Lane]) -> dict[str, str]:
    """Lane id -> junction id of every intersection segment: the groups of intersection
    segments joined by links (successor, predecessor, neighbour) or touching lane areas, each
    named after its smallest segment id (see the module docstring)."""
    ids = sorted(i for i, seg in segs.items() if seg.is_intersection)
    if not ids:
        return {}
    index = {lane_id: k for k, lane_id in enumerate(ids)}
    pairs = [
        (index[i], index[other])
        for i in ids
        for other in (*segs[i].successors, *segs[i].predecessors, *segs[i].neighbours.values())
        if other in index
    ]
    polygons = [lanes[str(i)].polygon for i in ids]
    touching = shapely.STRtree(polygons).query(polygons, predicate="intersects")
    rows = np.concatenate([np.array([a for a, _ in pairs], dtype=np.intp), touching[0]])
    cols = np.concatenate([np.array([b for _, b in pairs], dtype=np.intp), touching[1]])
    graph = coo_matrix((np.ones(len(rows)), (rows, cols)), shape=(len(ids), len(ids)))
    _, group = connected_components(graph, directed=False)
    smallest: dict[int, int] = {}
    for k, lane_id in enumerate(ids):  # ascending ids: a group's first is its smallest
        smallest.setdefault(int(group[k]), lane_id)
    return {str(i): f"av2-junction-{smallest[int(group[k])]}" for k, i in enumerate(ids)}


def read_av2_road_map_counted(
    map_dir: str | Path, default_speed_limit_mps: float = 13.89
) -> tuple[RoadMap, Av2LinkCounts]:
    """:func:`read_av2_road_map` and the counts of the links it left out."""
    speed = float(default_speed_limit_mps)
    if not (math.isfinite(speed) and speed > 0.0):
        raise ValueError(f"default_speed_limit_mps must be a positive speed, got {speed}")
    archive = read_av2_map_archive(map_dir)
    path = archive.path
    raw_lanes = archive.layer("lane_segments", lambda layer: layer)
    raw_crossings = archive.layer("pedestrian_crossings", lambda layer: layer)
    reader = _Reader(path)
    segs = {
        s.lane_id: s
        for s in (
            reader.segment(str(k), v) for k, v in _layer(raw_lanes, reader, "lane_segments").items()
        )
    }
    crosswalks = tuple(
        reader.crosswalk(str(k), v)
        for k, v in _layer(raw_crossings, reader, "pedestrian_crossings").items()
    )
    counts: Counter[str] = Counter()
    links: set[tuple[int, int]] = set()  # (from, to) successor links, both sides of the file
    listed: Counter[tuple[int, int]] = Counter()
    for seg in segs.values():
        for a, b in [(seg.lane_id, s) for s in seg.successors] + [
            (p, seg.lane_id) for p in seg.predecessors
        ]:
            if a not in segs or b not in segs:
                counts["outside_crop"] += 1
                continue
            listed[(a, b)] += 1
            if segs[a].drivable != segs[b].drivable:
                continue
            links.add((a, b))
    counts["bike_vehicle"] = sum(1 for a, b in listed if segs[a].drivable != segs[b].drivable)
    counts["predecessors_added"] = sum(1 for pair in links if listed[pair] == 1)
    successors: dict[int, list[int]] = {i: [] for i in segs}
    predecessors: dict[int, list[int]] = {i: [] for i in segs}
    for a, b in sorted(links):
        successors[a].append(b)
        predecessors[b].append(a)
    lanes = []
    for seg in segs.values():
        kept: dict[str, str | None] = {}
        for side in ("left", "right"):
            n = seg.neighbours[side]
            kept[side] = None
            if n is None:
                continue
            if n not in segs:
                counts["outside_crop"] += 1
            elif _may_change(seg, segs[n], side):
                kept[side] = str(n)
            else:
                counts["neighbours_dropped"] += 1
        centerline = centerline_from_bounds(seg.left_m, seg.right_m)
        if len(centerline) < 2:
            raise reader.error(
                "the boundaries' midline collapses to one point (does one boundary run backwards?)",
                f"lane segment {seg.lane_id}",
                "left_lane_boundary/right_lane_boundary",
            )
        with lane_checks(reader.path, f"lane segment {seg.lane_id}"):
            lane = Lane(
                str(seg.lane_id),
                centerline,
                seg.left_m,
                seg.right_m,
                speed,
                successors=tuple(str(s) for s in successors[seg.lane_id]),
                predecessors=tuple(str(p) for p in predecessors[seg.lane_id]),
                left_neighbor=kept["left"],
                right_neighbor=kept["right"],
                lane_type=LANE_TYPES[seg.lane_type],
            )
        lanes.append(lane)
    junction_of = _junctions(segs, {lane.lane_id: lane for lane in lanes})
    area = drivable_area_of(archive)
    road_map = RoadMap(
        tuple(lanes),
        crosswalks,
        frame="world",
        source=f"av2:{path.name}",
        extra_drivable_areas=tuple(getattr(area, "geoms", (area,))),
    ).with_junctions(junction_of)
    return road_map, Av2LinkCounts(
        outside_crop=counts["outside_crop"],
        bike_vehicle=counts["bike_vehicle"],
        predecessors_added=counts["predecessors_added"],
        neighbours_dropped=counts["neighbours_dropped"],
    )


def read_av2_road_map(map_dir: str | Path, default_speed_limit_mps: float = 13.89) -> RoadMap:
    """The lanes and crosswalks of an AV2 log's ``map/`` folder as a :class:`RoadMap` in the
    city frame (``"world"``), every lane at ``default_speed_limit_mps`` (see the module
    docstring for the rules; :func:`read_av2_road_map_counted` also says which links it left
    out)."""
    return read_av2_road_map_counted(map_dir, default_speed_limit_mps)[0]
