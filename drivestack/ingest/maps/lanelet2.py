"""Lanelet2 OSM reader: lanelets -> lanes, crosswalk lanelets -> crosswalks, stop lines.

Nodes' WGS84 lat/lon are projected to a local metric frame (metres east/north of an origin,
by default the first node) with an equirectangular projection on the WGS84 equatorial
radius: ``x = R cos(lat0) (lon - lon0)``, ``y = R (lat - lat0)`` (under 1 cm error per 100 m
at map scale). The right bound gives the direction; the left bound is reversed when it runs
the other way, and both are reversed if the left bound lies on the right. Successors share
the end nodes of both bounds with a lanelet's start nodes; neighbours share a bound way.
Speed limits: the ``speed_limit`` tag (km/h) when present, else ``default_speed_limit_mps``.
"""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from shapely.geometry import LineString

from drivestack.core.errors import DataError
from drivestack.ingest.maps._geometry import centerline_from_bounds, dedup
from drivestack.structures.road_map import Lane, RoadMap

EARTH_RADIUS_M = 6378137.0


@dataclass(frozen=True)
class _Bound:
    way: str
    nodes: list[str]


def project_latlon(
    lat_deg: np.ndarray, lon_deg: np.ndarray, origin_deg: tuple[float, float]
) -> np.ndarray:
    """``(N,)`` lat/lon in degrees -> ``(N, 2)`` metres east/north of ``origin_deg = (lat0, lon0)``."""
    lat0, lon0 = origin_deg
    x = EARTH_RADIUS_M * math.cos(math.radians(lat0)) * np.radians(np.asarray(lon_deg) - lon0)
    y = EARTH_RADIUS_M * np.radians(np.asarray(lat_deg) - lat0)
    return np.stack([x, y], axis=1)


def read_lanelet2(
    path: str | Path,
    origin_deg: tuple[float, float] | None = None,
    default_speed_limit_mps: float = 13.89,
) -> RoadMap:
    p = Path(path)
    try:
        root = ET.parse(p).getroot()
    except (OSError, ET.ParseError) as exc:
        raise DataError(f"cannot parse XML: {exc}", path=str(p)) from exc
    ids, lat, lon = [], [], []
    for node in root.iter("node"):
        try:
            ids.append(node.get("id", ""))
            lat.append(float(node.get("lat", "nan")))
            lon.append(float(node.get("lon", "nan")))
        except ValueError as exc:
            raise DataError(
                f"bad coordinate: {exc}",
                path=str(p),
                record=f"node {node.get('id')}",
                field="lat/lon",
            ) from exc
    if not ids:
        raise DataError("no nodes", path=str(p))
    origin = origin_deg or (lat[0], lon[0])
    xy = project_latlon(np.asarray(lat), np.asarray(lon), origin)
    node_xy = dict(zip(ids, xy, strict=True))
    ways: dict[str, list[str]] = {}
    way_tags: dict[str, dict[str, str]] = {}
    for way in root.iter("way"):
        wid = way.get("id", "")
        ways[wid] = [nd.get("ref", "") for nd in way.findall("nd")]
        way_tags[wid] = {t.get("k", ""): t.get("v", "") for t in way.findall("tag")}

    def coords(nodes: list[str], record: str) -> np.ndarray:
        missing = [n for n in nodes if n not in node_xy]
        if missing:
            raise DataError(f"unknown node {missing[0]}", path=str(p), record=record, field="nd")
        return np.asarray([node_xy[n] for n in nodes])

    raw = []
    for rel in root.iter("relation"):
        tags = {t.get("k", ""): t.get("v", "") for t in rel.findall("tag")}
        if tags.get("type") != "lanelet":
            continue
        rid = rel.get("id", "")
        record = f"relation {rid}"
        members = {
            m.get("role"): m.get("ref", "") for m in rel.findall("member") if m.get("type") == "way"
        }
        if "left" not in members or "right" not in members:
            raise DataError(
                "lanelet needs a left and a right way", path=str(p), record=record, field="member"
            )
        for role in ("left", "right"):
            if members[role] not in ways:
                raise DataError(
                    f"unknown way {members[role]}",
                    path=str(p),
                    record=record,
                    field=f"member {role}",
                )
        left = _Bound(members["left"], list(ways[members["left"]]))
        right = _Bound(members["right"], list(ways[members["right"]]))
        lxy, rxy = coords(left.nodes, record), coords(right.nodes, record)
        if np.linalg.norm(lxy[0] - rxy[0]) + np.linalg.norm(lxy[-1] - rxy[-1]) > np.linalg.norm(
            lxy[-1] - rxy[0]
        ) + np.linalg.norm(lxy[0] - rxy[-1]):
            left.nodes.reverse()
            lxy = lxy[::-1]
        direction = rxy[-1] - rxy[0]
        mid_offset = lxy[len(lxy) // 2] - rxy[len(rxy) // 2]
        if (
            direction[0] * mid_offset[1] - direction[1] * mid_offset[0] < 0
        ):  # "left" lies on the right
            left.nodes.reverse()
            right.nodes.reverse()
            lxy, rxy = lxy[::-1], rxy[::-1]
        raw.append((rid, tags, left, right, dedup(lxy), dedup(rxy)))
    starts: dict[tuple[str, str], list[str]] = {}
    for rid, _, left, right, _, _ in raw:
        starts.setdefault((left.nodes[0], right.nodes[0]), []).append(rid)
    by_left_way = {left.way: rid for rid, _, left, _, _, _ in raw}
    by_right_way = {right.way: rid for rid, _, _, right, _, _ in raw}
    preds: dict[str, list[str]] = {}
    succs: dict[str, list[str]] = {}
    for rid, _, left, right, _, _ in raw:
        succs[rid] = [s for s in starts.get((left.nodes[-1], right.nodes[-1]), []) if s != rid]
        for s in succs[rid]:
            preds.setdefault(s, []).append(rid)
    lanes, crosswalks = [], []
    for rid, tags, left, right, lxy, rxy in raw:
        subtype = tags.get("subtype", "road")
        speed = default_speed_limit_mps
        if "speed_limit" in tags:
            try:
                speed = float(tags["speed_limit"].split()[0]) / 3.6
            except ValueError as exc:
                raise DataError(
                    "not a number", path=str(p), record=f"relation {rid}", field="speed_limit"
                ) from exc
        if len(lxy) < 2 or len(rxy) < 2:
            raise DataError(
                "a bound has fewer than 2 distinct points",
                path=str(p),
                record=f"relation {rid}",
                field="member",
            )
        lane = Lane(
            rid,
            centerline_from_bounds(lxy, rxy),
            lxy,
            rxy,
            speed,
            successors=tuple(succs[rid]),
            predecessors=tuple(preds.get(rid, [])),
            left_neighbor=by_right_way.get(left.way) if by_right_way.get(left.way) != rid else None,
            right_neighbor=by_left_way.get(right.way)
            if by_left_way.get(right.way) != rid
            else None,
            lane_type=subtype,
        )
        lanes.append(lane)
        if subtype == "crosswalk":
            crosswalks.append(lane.polygon)
    stop_lines = [
        LineString(coords(ways[w], f"way {w}"))
        for w, t in way_tags.items()
        if t.get("type") == "stop_line" and len(ways[w]) >= 2
    ]
    return RoadMap(
        tuple(lanes),
        tuple(crosswalks),
        tuple(stop_lines),
        frame="world",
        source=f"lanelet2:{p.name}",
    )
