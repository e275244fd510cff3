"""Argoverse 2 vector map -> RoadMap: a hand-built archive (links, lane changes by mark type,
cropped references, crosswalks, every malformed-record error) and the two real AV2 logs of
SOURCES.md section 12 (lane graph, directions, the ego's drive on its lanes)."""

from __future__ import annotations

import json
import math
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from drivestack.core.errors import DataError
from drivestack.ingest.argoverse2 import read_av2_poses
from drivestack.ingest.maps import read_av2_road_map
from drivestack.ingest.maps.av2_lanes import read_av2_lanes
from drivestack.ingest.maps.av2_road_map import Av2LinkCounts, read_av2_road_map_counted
from drivestack.structures.road_map import interpolate_polyline


def _line(*xy: tuple[float, float]) -> list[dict[str, float]]:
    return [{"x": x, "y": y, "z": 0.5} for x, y in xy]


def _segment(
    lane_id: int,
    left: list[tuple[float, float]],
    right: list[tuple[float, float]],
    *,
    lane_type: str = "VEHICLE",
    marks: tuple[str, str] = ("SOLID_WHITE", "SOLID_WHITE"),
    neighbours: tuple[int | None, int | None] = (None, None),
    successors: tuple[int, ...] = (),
    predecessors: tuple[int, ...] = (),
    is_intersection: bool = False,
) -> dict[str, Any]:
    return {
        "id": lane_id,
        "is_intersection": is_intersection,
        "lane_type": lane_type,
        "left_lane_boundary": _line(*left),
        "right_lane_boundary": _line(*right),
        "left_lane_mark_type": marks[0],
        "right_lane_mark_type": marks[1],
        "successors": list(successors),
        "predecessors": list(predecessors),
        "left_neighbor_id": neighbours[0],
        "right_neighbor_id": neighbours[1],
    }


#: Lanes 1 (y 0..4) and 2 (y 4..8) run +x over x 0..20 with a dashed line between them; lane 3
#: continues lane 1 (x 20..40; the link is listed on lane 1 only); lane 4 is a bicycle lane
#: (y -2..0) right of lane 1 that "continues" into lane 3; lane 5 (y 8..12) is the oncoming
#: lane (-x) beyond lane 2, which AV2 names lane 2's left neighbour; 98 and 99 lie outside the
#: crop.
def _archive() -> dict[str, Any]:
    lanes = [
        _segment(
            1,
            [(0.0, 4.0), (20.0, 4.0)],
            [(0.0, 0.0), (10.0, 0.0), (20.0, 0.0)],
            marks=("DASHED_WHITE", "SOLID_WHITE"),
            neighbours=(2, 4),
            successors=(3, 99),
            predecessors=(98,),
        ),
        _segment(
            2,
            [(0.0, 8.0), (20.0, 8.0)],
            [(0.0, 4.0), (20.0, 4.0)],
            marks=("DASHED_YELLOW", "DASHED_WHITE"),
            neighbours=(5, 1),
        ),
        _segment(3, [(20.0, 4.0), (40.0, 4.0)], [(20.0, 0.0), (40.0, 0.0)]),
        _segment(
            4,
            [(0.0, 0.0), (20.0, 0.0)],
            [(0.0, -2.0), (20.0, -2.0)],
            lane_type="BIKE",
            neighbours=(1, None),
            successors=(3,),
        ),
        _segment(
            5,
            [(20.0, 8.0), (0.0, 8.0)],
            [(20.0, 12.0), (0.0, 12.0)],
            lane_type="BUS",
            marks=("DASHED_YELLOW", "SOLID_WHITE"),
            neighbours=(2, None),
        ),
    ]
    crossings = {
        "7": {
            "id": 7,
            "edge1": _line((5.0, -3.0), (5.0, 13.0)),
            "edge2": _line((8.0, 13.0), (8.0, -3.0)),
        }
    }
    return {
        "lane_segments": {str(lane["id"]): lane for lane in lanes},
        "pedestrian_crossings": crossings,
        "drivable_areas": {},
    }


def _write(folder: Path, doc: dict[str, Any]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "log_map_archive_log0____PIT_city_1.json"
    path.write_text(json.dumps(doc))
    return path


def test_lane_graph_hand_built(tmp_path: Path) -> None:
    _write(tmp_path / "map", _archive())
    road_map, counts = read_av2_road_map_counted(tmp_path / "map")
    assert road_map.frame == "world"
    assert road_map.source == "av2:log_map_archive_log0____PIT_city_1.json"
    assert [lane.lane_id for lane in road_map.lanes] == ["1", "2", "3", "4", "5"]
    one, two, three, bike, bus = road_map.lanes
    # cropped references (99, 98) dropped; the one-sided link 1 -> 3 listed on both lanes
    assert one.successors == ("3",) and one.predecessors == ()
    assert three.predecessors == ("1",) and three.successors == ()
    # the bicycle lane is never linked to vehicle lanes
    assert bike.successors == () and one.right_neighbor is None and bike.left_neighbor is None
    # dashed line between 1 and 2: both ways; lane 5 runs the other way (it names lane 2 as
    # its own left neighbour, not its right one) and is no lane change
    assert (one.left_neighbor, two.right_neighbor) == ("2", "1")
    assert two.left_neighbor is None and bus.left_neighbor is None
    assert [lane.lane_type for lane in road_map.lanes] == [
        "road",
        "road",
        "road",
        "bicycle_lane",
        "bus_lane",
    ]
    assert [lane.drivable for lane in road_map.lanes] == [True, True, True, False, True]
    assert counts == Av2LinkCounts(
        outside_crop=2, bike_vehicle=1, predecessors_added=1, neighbours_dropped=4
    )
    np.testing.assert_allclose(one.centerline_m, [[0.0, 2.0], [10.0, 2.0], [20.0, 2.0]])
    np.testing.assert_allclose(bus.centerline_m, [[20.0, 10.0], [0.0, 10.0]])
    np.testing.assert_allclose(one.right_boundary_m, [[0.0, 0.0], [10.0, 0.0], [20.0, 0.0]])
    assert {lane.speed_limit_mps for lane in road_map.lanes} == {13.89}
    assert road_map.route("2", "3") == ["2", "1", "3"]
    with pytest.raises(LookupError):
        road_map.route("4", "3")  # a bicycle lane is no start for a car route


def test_crosswalk_polygon_and_speed_limit(tmp_path: Path) -> None:
    _write(tmp_path / "map", _archive())
    road_map = read_av2_road_map(tmp_path / "map", default_speed_limit_mps=11.18)
    assert {lane.speed_limit_mps for lane in road_map.lanes} == {11.18}
    (crosswalk,) = road_map.crosswalks
    assert crosswalk.is_valid
    assert crosswalk.area == pytest.approx(3.0 * 16.0)  # edge2 runs against edge1: reversed
    assert crosswalk.bounds == pytest.approx((5.0, -3.0, 8.0, 13.0))


def test_drivable_area_includes_the_maps_drivable_areas(tmp_path: Path) -> None:
    doc = _archive()
    lanes_only = read_av2_road_map(_write(tmp_path / "a", doc).parent)
    # a paved square reaching 5 m beyond the lanes on every side (AV2's drivable_areas)
    lo_x, lo_y, hi_x, hi_y = lanes_only.drivable_area.bounds
    square = [
        (lo_x - 5, lo_y - 5),
        (hi_x + 5, lo_y - 5),
        (hi_x + 5, hi_y + 5),
        (lo_x - 5, hi_y + 5),
    ]
    doc["drivable_areas"] = {
        "9": {"id": 9, "area_boundary": [{"x": x, "y": y, "z": 0.0} for x, y in square]}
    }
    paved = read_av2_road_map(_write(tmp_path / "b", doc).parent)
    beside = [[lo_x - 2.0, lo_y - 2.0]]  # off every lane, on the paved square
    assert lanes_only.distance_outside_drivable_m(beside)[0] > 1.0
    assert paved.distance_outside_drivable_m(beside)[0] == 0.0
    assert paved.distance_outside_drivable_m([[lo_x - 7.0, lo_y - 5.0]])[0] == pytest.approx(2.0)
    assert len(paved.extra_drivable_areas) == 1


@pytest.mark.parametrize(
    ("mark", "intersection", "one_left", "two_right"),
    [
        ("DASHED_WHITE", False, "2", "1"),
        ("DOUBLE_DASH_YELLOW", False, "2", "1"),
        ("SOLID_WHITE", False, None, None),
        ("DOUBLE_SOLID_YELLOW", False, None, None),
        ("UNKNOWN", False, None, None),
        # dashed part on the left along travel: lane 2 (left of the line) may cross it
        ("DASH_SOLID_WHITE", False, None, "1"),
        ("SOLID_DASH_WHITE", False, "2", None),
        ("NONE", False, "2", "1"),
        ("NONE", True, None, None),  # unmarked inside an intersection: no change
        ("DASHED_WHITE", True, "2", "1"),
    ],
)
def test_lane_change_by_mark_type(
    tmp_path: Path, mark: str, intersection: bool, one_left: str | None, two_right: str | None
) -> None:
    doc = _archive()
    one, two = doc["lane_segments"]["1"], doc["lane_segments"]["2"]
    one["left_lane_mark_type"] = two["right_lane_mark_type"] = mark
    two["is_intersection"] = intersection
    _write(tmp_path / "map", doc)
    road_map = read_av2_road_map(tmp_path / "map")
    assert road_map.lane("1").left_neighbor == one_left
    assert road_map.lane("2").right_neighbor == two_right


def _set(layer: str, key: str, field: str, value: object) -> Any:
    def change(doc: dict[str, Any]) -> None:
        doc[layer][key][field] = value

    return change


def _drop(key: str, field: str) -> Any:
    def change(doc: dict[str, Any]) -> None:
        del doc["lane_segments"][key][field]

    return change


def _vertex(key: str, field: str, index: int, axis: str, value: object) -> Any:
    def change(doc: dict[str, Any]) -> None:
        doc["lane_segments"][key][field][index][axis] = value

    return change


LANES = "lane_segments"
CROSSINGS = "pedestrian_crossings"


@pytest.mark.parametrize(
    ("change", "record", "field", "words"),
    [
        (_drop("2", "left_lane_boundary"), "lane segment 2", "left_lane_boundary", "missing"),
        (_drop("3", "successors"), "lane segment 3", "successors", "missing"),
        (
            _set(LANES, "2", "right_lane_boundary", _line((0.0, 4.0))),
            "lane segment 2",
            "right_lane_boundary",
            "at least 2 distinct points",
        ),
        (
            _set(LANES, "3", "left_lane_boundary", _line((1.0, 1.0), (1.0, 1.0))),
            "lane segment 3",
            "left_lane_boundary",
            "at least 2 distinct points",
        ),
        (
            _vertex("1", "left_lane_boundary", 1, "y", float("nan")),
            "lane segment 1",
            "left_lane_boundary",
            "not finite",
        ),
        (
            _vertex("1", "right_lane_boundary", 0, "x", float("inf")),
            "lane segment 1",
            "right_lane_boundary",
            "not finite",
        ),
        (
            _vertex("1", "right_lane_boundary", 2, "x", "20.0"),
            "lane segment 1",
            "right_lane_boundary",
            "must be a number",
        ),
        (
            _set(LANES, "1", "left_lane_boundary", {"x": 0.0, "y": 0.0}),
            "lane segment 1",
            "left_lane_boundary",
            "must be a list",
        ),
        (
            _set(LANES, "1", "left_lane_boundary", [[0.0, 4.0], [20.0, 4.0]]),
            "lane segment 1",
            "left_lane_boundary",
            "vertex 0",
        ),
        (
            _set(LANES, "3", "right_lane_boundary", _line((40.0, 4.0), (20.0, 4.0))),
            "lane segment 3",
            "left_lane_boundary/right_lane_boundary",
            "collapses",
        ),
        (_set(LANES, "1", "successors", "3"), "lane segment 1", "successors", "list"),
        (_set(LANES, "1", "successors", [3.0]), "lane segment 1", "successors[0]", "integer"),
        (
            _set(LANES, "2", "left_neighbor_id", "5"),
            "lane segment 2",
            "left_neighbor_id",
            "integer",
        ),
        (_set(LANES, "3", "lane_type", "TRAM"), "lane segment 3", "lane_type", "unknown value"),
        (
            _set(LANES, "3", "left_lane_mark_type", "ZIGZAG"),
            "lane segment 3",
            "left_lane_mark_type",
            "unknown value",
        ),
        (_set(LANES, "3", "is_intersection", "no"), "lane segment 3", "is_intersection", "true or"),
        (_set(LANES, "3", "id", 33), "lane segment 3", "id", "differs from its key"),
        (_set(LANES, "3", "id", True), "lane segment 3", "id", "integer"),
        (_set(CROSSINGS, "7", "edge1", _line((5.0, -3.0))), "pedestrian crossing 7", "edge1", "2"),
    ],
)
def test_malformed_records_name_file_record_and_field(
    tmp_path: Path, change: Any, record: str, field: str, words: str
) -> None:
    doc = _archive()  # a fresh document each call
    change(doc)
    path = _write(tmp_path / "map", doc)
    with pytest.raises(DataError, match=words) as info:
        read_av2_road_map(tmp_path / "map")
    assert (info.value.path, info.value.record, info.value.field) == (str(path), record, field)


def test_malformed_layers_and_missing_archive(tmp_path: Path) -> None:
    doc = _archive()
    doc["lane_segments"]["3"] = [1, 2]
    path = _write(tmp_path / "a", doc)
    with pytest.raises(DataError, match="must be an object") as info:
        read_av2_road_map(tmp_path / "a")
    assert (info.value.path, info.value.record) == (str(path), "lane segment 3")
    doc = _archive()
    doc["pedestrian_crossings"] = []
    path = _write(tmp_path / "b", doc)
    with pytest.raises(DataError, match="keyed by id") as info:
        read_av2_road_map(tmp_path / "b")
    assert (info.value.path, info.value.field) == (str(path), "pedestrian_crossings")
    doc = _archive()
    del doc["pedestrian_crossings"]
    _write(tmp_path / "c", doc)
    with pytest.raises(DataError, match="pedestrian_crossings"):
        read_av2_road_map(tmp_path / "c")
    with pytest.raises(DataError, match="no log_map_archive"):
        read_av2_road_map(tmp_path / "empty")
    with pytest.raises(ValueError, match="default_speed_limit_mps"):
        read_av2_road_map(tmp_path / "a", default_speed_limit_mps=0.0)


@settings(max_examples=30, deadline=None)
@given(
    yaw=st.floats(-math.pi, math.pi),
    width=st.floats(2.0, 6.0),
    length=st.floats(5.0, 80.0),
    left_n=st.integers(2, 6),
    right_n=st.integers(2, 6),
    origin=st.tuples(st.floats(-5e3, 5e3), st.floats(-5e3, 5e3)),
)
def test_straight_lane_centreline_property(
    yaw: float, width: float, length: float, left_n: int, right_n: int, origin: tuple[float, float]
) -> None:
    """A straight lane at any pose: the centreline runs from the boundaries' start midpoint to
    their end midpoint along the travel direction, with the left boundary at +width / 2."""
    along = np.array([math.cos(yaw), math.sin(yaw)])
    left_dir = np.array([-along[1], along[0]])
    o = np.array(origin)

    def boundary(offset: float, n: int) -> list[tuple[float, float]]:
        s = np.linspace(0.0, length, n)
        pts = o + s[:, None] * along + offset * left_dir
        return [(float(x), float(y)) for x, y in pts]

    doc = {
        "lane_segments": {
            "1": _segment(1, boundary(width / 2, left_n), boundary(-width / 2, right_n))
        },
        "pedestrian_crossings": {},
        "drivable_areas": {},
    }
    with tempfile.TemporaryDirectory() as folder:
        _write(Path(folder), doc)
        lane = read_av2_road_map(folder).lane("1")
    np.testing.assert_allclose(lane.centerline_m[0], o, atol=1e-6)
    np.testing.assert_allclose(lane.centerline_m[-1], o + length * along, atol=1e-6)
    assert lane.length_m == pytest.approx(length, abs=1e-6)
    _, heading = interpolate_polyline(lane.centerline_m, [0.5 * length])
    assert abs(math.remainder(float(heading[0]) - yaw, 2 * math.pi)) < 1e-6
    _, lateral = lane.project(lane.left_boundary_m)
    np.testing.assert_allclose(lateral, width / 2, atol=1e-6)


@pytest.mark.data
def test_real_map_lane_graph(av2_log: Path) -> None:
    road_map = read_av2_road_map(av2_log / "map")
    (archive,) = (av2_log / "map").glob("log_map_archive_*.json")
    raw = json.loads(archive.read_text())
    assert len(road_map) == len(raw["lane_segments"])  # 183 and 199 lanes
    assert len(road_map.crosswalks) == len(raw["pedestrian_crossings"])
    assert all(c.is_valid and c.area > 10.0 for c in road_map.crosswalks)
    for lane in road_map.lanes:
        for s in lane.successors:
            assert lane.lane_id in road_map.lane(s).predecessors
            # a successor starts where its lane ends (AV2 boundaries share their end points)
            gap = np.linalg.norm(lane.centerline_m[-1] - road_map.lane(s).centerline_m[0])
            assert gap < 0.1
        for p in lane.predecessors:
            assert lane.lane_id in road_map.lane(p).successors
        if lane.left_neighbor is not None:
            assert road_map.lane(lane.left_neighbor).right_neighbor == lane.lane_id
        if lane.right_neighbor is not None:
            assert road_map.lane(lane.right_neighbor).left_neighbor == lane.lane_id
        # the left boundary lies left of the centreline, the right one right of it
        assert np.all(lane.project(lane.left_boundary_m)[1] > 0.0)
        assert np.all(lane.project(lane.right_boundary_m)[1] < 0.0)


@pytest.mark.data
def test_real_map_centrelines_run_in_travel_direction(av2_log: Path) -> None:
    road_map = read_av2_road_map(av2_log / "map")
    directions = read_av2_lanes(av2_log / "map")
    mids, headings = [], []
    for lane in road_map.lanes:
        c = lane.centerline_m
        d = np.diff(c, axis=0)
        mids.append(0.5 * (c[1:] + c[:-1]))
        headings.append(np.arctan2(d[:, 1], d[:, 0]))
    reference = directions.heading_rad(np.concatenate(mids), 0.0, np.deg2rad(10.0))
    known = ~np.isnan(reference)  # NaN where lanes cross (intersections)
    assert known.sum() > 500
    off = np.abs(
        np.remainder(reference[known] - np.concatenate(headings)[known] + np.pi, 2 * np.pi) - np.pi
    )
    assert np.all(off < np.deg2rad(10.0))


@pytest.mark.data
def test_real_ego_drive_on_lanes_and_route(av2_log: Path) -> None:
    road_map = read_av2_road_map(av2_log / "map")
    poses = read_av2_poses(av2_log / "city_SE3_egovehicle.feather")
    xy = poses.world_from_ego.translation[:, :2]
    yaw = poses.world_from_ego.yaw_rad
    on_lane = 0
    driven: set[str] = set()  # lanes under the ego
    for p, y in zip(xy, yaw, strict=True):
        best = math.inf
        for lane_id in road_map.lanes_at(p, float(y)):
            lane = road_map.lane(lane_id)
            if not lane.drivable:
                continue
            station, _ = lane.project(p[None])
            _, heading = interpolate_polyline(
                lane.centerline_m, np.clip(station, 0.0, lane.length_m)
            )
            best = min(best, abs(math.remainder(float(heading[0]) - float(y), 2 * math.pi)))
            driven.add(lane_id)
        on_lane += best < math.radians(30.0)
    # measured: 100% of the 2706 / 2637 poses lie on a drivable lane heading within 30 deg of
    # the ego's (median 1.7 / 0.4 deg); the bound leaves a little room
    assert on_lane / len(xy) >= 0.98
    start = road_map.nearest_lane(xy[0], float(yaw[0]))  # the lane under the ego
    goal = road_map.nearest_lane(xy[-1], float(yaw[-1]))
    route = road_map.route(start, goal)
    assert route[0] == start and route[-1] == goal and len(route) >= 3
    assert set(route) <= driven  # the route follows the lanes the ego drove
    assert road_map.route_centerline(route).shape[0] > len(route)


def test_a_log_folder_instead_of_its_map_folder_points_to_the_map(tmp_path: Path) -> None:
    _write(tmp_path / "log" / "map", _archive())
    with pytest.raises(DataError, match=r"this is a log folder: its map is in .*log/map"):
        read_av2_road_map(tmp_path / "log")
    with pytest.raises(DataError, match=r"no log_map_archive_\*\.json$"):
        read_av2_road_map(tmp_path)  # neither a map nor a log folder: no hint
