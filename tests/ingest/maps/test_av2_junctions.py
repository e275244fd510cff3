"""Argoverse 2 junctions: the ``is_intersection`` lane segments, grouped into one junction
where they link to or touch each other (``"av2-junction-<smallest id>"``), on a hand-built
archive with two intersections and on the two real sensor-val log maps (SOURCES.md section
12), where a route by junctions is checked against the route by length."""

from __future__ import annotations

import itertools
import json
from pathlib import Path
from typing import Any

import pytest

from drivestack.core.errors import DataError
from drivestack.ingest.argoverse2 import read_av2_poses
from drivestack.ingest.maps import read_av2_road_map
from drivestack.structures.road_map import RoadMap, polyline_stations
from tests.ingest.maps.test_av2_road_map import _segment, _write


def _archive() -> dict[str, Any]:
    """Lane 10 (x 0..20, y 0..4) forks into intersection A: 11 straight on (x 20..30) and 12
    turning right, which touch along their common start edge but do not link to each other;
    11 leads to 13 (x 30..60) and into intersection B: 14 (x 60..70) and its left neighbour
    15 (y 4.5..8.5, 0.5 m apart: linked, not touching), then 16 (x 70..90) out of it."""
    lanes = [
        _segment(10, [(0.0, 4.0), (20.0, 4.0)], [(0.0, 0.0), (20.0, 0.0)], successors=(11, 12)),
        _segment(
            11,
            [(20.0, 4.0), (30.0, 4.0)],
            [(20.0, 0.0), (30.0, 0.0)],
            successors=(13,),
            is_intersection=True,
        ),
        _segment(
            12,
            [(20.0, 4.0), (26.0, -3.0)],
            [(20.0, 0.0), (22.0, -3.0)],
            is_intersection=True,
        ),
        _segment(13, [(30.0, 4.0), (60.0, 4.0)], [(30.0, 0.0), (60.0, 0.0)], successors=(14,)),
        _segment(
            14,
            [(60.0, 4.0), (70.0, 4.0)],
            [(60.0, 0.0), (70.0, 0.0)],
            neighbours=(15, None),
            successors=(16,),
            is_intersection=True,
        ),
        _segment(
            15,
            [(60.0, 8.5), (70.0, 8.5)],
            [(60.0, 4.5), (70.0, 4.5)],
            neighbours=(None, 14),
            is_intersection=True,
        ),
        _segment(16, [(70.0, 4.0), (90.0, 4.0)], [(70.0, 0.0), (90.0, 0.0)]),
    ]
    return {
        "lane_segments": {str(lane["id"]): lane for lane in lanes},
        "pedestrian_crossings": {},
        "drivable_areas": {},
    }


def test_intersection_segments_group_by_links_and_contact(tmp_path: Path) -> None:
    _write(tmp_path, _archive())
    m = read_av2_road_map(tmp_path)
    assert {lane.lane_id: lane.junction_id for lane in m.lanes} == {
        "10": None,
        "11": "av2-junction-11",
        "12": "av2-junction-11",  # touches 11, no link between them
        "13": None,
        "14": "av2-junction-14",
        "15": "av2-junction-14",  # linked to 14 as its neighbour, 0.5 m away
        "16": None,
    }
    assert all(lane.exit_junction_id is None for lane in m.lanes)
    # 10 -> 11 -> 13 -> 14 -> 16 enters A and B
    route = m.route("10", "16", cost="junctions")
    assert route == ["10", "11", "13", "14", "16"] and _entered(m, route) == 2


def test_a_map_without_intersections_marks_no_lane(tmp_path: Path) -> None:
    doc = _archive()
    for lane in doc["lane_segments"].values():
        lane["is_intersection"] = False
    _write(tmp_path, doc)
    assert all(lane.junction_id is None for lane in read_av2_road_map(tmp_path).lanes)


@pytest.mark.parametrize("value", [1, "true", None])
def test_a_non_boolean_is_intersection_is_refused(tmp_path: Path, value: object) -> None:
    doc = _archive()
    doc["lane_segments"]["12"]["is_intersection"] = value
    path = _write(tmp_path, doc)
    with pytest.raises(DataError) as info:
        read_av2_road_map(tmp_path)
    err = info.value
    assert (err.path, err.record, err.field) == (str(path), "lane segment 12", "is_intersection")
    assert "must be true or false" in str(err)


def _entered(m: RoadMap, route: list[str]) -> int:
    """Junctions a route enters, counted by hand: a step into a lane of another junction."""
    ids = [m.lane(i).junction_id for i in route]
    return sum(1 for a, b in itertools.pairwise(ids) if b is not None and b != a)


#: log -> (intersection segments, junctions): measured on the two sensor-val log maps
#: (conftest.AV2_LOGS, the av2_log fixture's logs)
REAL = {
    "7fab2350-7eaf-3b7e-a39d-6937a4c1bede": (73, 14),
    "adcf7d18-0510-35b0-a2fa-b4cea13a6d76": (61, 6),
}


@pytest.mark.data
def test_real_map_junctions(av2_log: Path) -> None:
    m = read_av2_road_map(av2_log / "map")
    (archive,) = (av2_log / "map").glob("log_map_archive_*.json")
    raw = json.loads(archive.read_text())["lane_segments"]
    in_intersection = {key for key, seg in raw.items() if seg["is_intersection"]}
    assert {lane.lane_id for lane in m.lanes if lane.junction_id} == in_intersection
    junctions = {lane.junction_id for lane in m.lanes} - {None}
    assert (len(in_intersection), len(junctions)) == REAL[av2_log.name]
    for junction in junctions:  # named after its smallest segment, which lies in it
        members = [int(lane.lane_id) for lane in m.lanes if lane.junction_id == junction]
        assert junction == f"av2-junction-{min(members)}"
    # a junction's segments link to or touch another of its segments (none stands alone)
    for lane in m.lanes:
        if lane.junction_id is None:
            continue
        others = [o for o in m.lanes if o.junction_id == lane.junction_id and o is not lane]
        linked = set(raw[lane.lane_id]["successors"] + raw[lane.lane_id]["predecessors"])
        assert not others or any(
            int(o.lane_id) in linked or o.polygon.intersects(lane.polygon) for o in others
        )


@pytest.mark.data
def test_real_map_route_by_junctions(av2_log: Path) -> None:
    """The ego's recorded drive: one junction, the same lanes by length and by junctions.
    On log 7fab2350 a route round a block: by length it enters 6 junctions, by junctions 5
    (18.3 m longer)."""
    m = read_av2_road_map(av2_log / "map")
    poses = read_av2_poses(av2_log / "city_SE3_egovehicle.feather")
    xy, yaw = poses.world_from_ego.translation[:, :2], poses.world_from_ego.yaw_rad
    start = m.nearest_lane(xy[0], float(yaw[0]))
    goal = m.nearest_lane(xy[-1], float(yaw[-1]))
    by_length = m.route(start, goal)
    assert m.route(start, goal, cost="junctions") == by_length
    assert _entered(m, by_length) == 1
    if av2_log.name.startswith("7fab2350"):
        by_length = m.route("38120363", "38120280")
        least = m.route("38120363", "38120280", cost="junctions")
        m.route_centerline(least)  # drivable
        assert (_entered(m, by_length), _entered(m, least)) == (6, 5)
        long_m, short_m = (polyline_stations(m.route_centerline(r))[-1] for r in (least, by_length))
        assert long_m > short_m
