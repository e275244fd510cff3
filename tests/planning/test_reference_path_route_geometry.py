"""ReferencePath geometry: a route's speed limits in time and memory linear in its length,
equal to projecting every point on every route lane; cusps refused."""

from __future__ import annotations

import dataclasses
import tracemalloc

import numpy as np
import pytest

from drivestack.ingest.maps.synthetic import build_synthetic_map, straight_road
from drivestack.planning.reference_path import ReferencePath
from drivestack.structures.road_map import RoadMap, resample_polyline


def _route_on_every_lane(road_map: RoadMap, lane_ids: list[str]) -> ReferencePath:
    """The definition, by brute force: each resampled route point projected on every route
    lane; the lane it is on (station within 0.5 m of the lane) with the least |lateral|, the
    first in route order on ties, gives its limit (the first lane's when it is on none)."""
    xy = resample_polyline(road_map.route_centerline(lane_ids), 1.0)
    best = np.full(len(xy), np.inf)
    limit = np.full(len(xy), road_map.lane(lane_ids[0]).speed_limit_mps)
    for lane_id in lane_ids:
        lane = road_map.lane(lane_id)
        s, d = lane.project(xy)
        on = (s >= -0.5) & (s <= lane.length_m + 0.5) & (np.abs(d) < best)
        best = np.where(on, np.abs(d), best)
        limit = np.where(on, lane.speed_limit_mps, limit)
    return ReferencePath.from_polyline(xy, limit, 1.0)


def _distinct_limits(road_map: RoadMap) -> RoadMap:
    """``road_map`` with lane ``k`` limited to ``10 + k`` m/s (every lane a different limit)."""
    lanes = [
        dataclasses.replace(lane, speed_limit_mps=10.0 + k) for k, lane in enumerate(road_map.lanes)
    ]
    return RoadMap(tuple(lanes))


def _check_route(road_map: RoadMap, lane_ids: list[str]) -> None:
    got = ReferencePath.from_route(road_map, lane_ids)
    want = _route_on_every_lane(road_map, lane_ids)
    for name in ("xy_m", "station_m", "yaw_rad", "curvature_1pm", "speed_limit_mps"):
        np.testing.assert_array_equal(getattr(got, name), getattr(want, name), err_msg=name)


def test_intersection_routes_take_the_limits_of_the_lanes_they_lie_on() -> None:
    road_map = _distinct_limits(build_synthetic_map("intersection"))
    checked = 0
    for lane in road_map.lanes:
        route = [lane.lane_id]
        while road_map.lane(route[-1]).successors and len(route) < 5:
            route.append(road_map.lane(route[-1]).successors[0])
        _check_route(road_map, route)
        checked += len(route) > 1
    assert checked >= 8  # routes through the junction, over lanes of different limits


def test_lane_change_blend_points_take_the_nearer_lane() -> None:
    road_map = _distinct_limits(straight_road(length_m=300.0, n_lanes=3))
    ids = [lane.lane_id for lane in road_map.lanes]
    _check_route(road_map, ids[:2])
    _check_route(road_map, ids[:3])  # two lane changes, one blend over three lanes
    limits = ReferencePath.from_route(road_map, ids[:2]).speed_limit_mps
    assert set(np.unique(limits)) == {10.0, 11.0}  # both lanes' limits along the route


def test_real_map_routes_match_the_brute_force(shared_data) -> None:  # type: ignore[no-untyped-def]
    from drivestack.ingest.maps import read_lanelet2

    road_map = _distinct_limits(read_lanelet2(shared_data / "lanelet2/mapping_example.osm"))
    routes = 0
    for lane in road_map.lanes[::7]:
        route = [lane.lane_id]
        while road_map.lane(route[-1]).successors and len(route) < 6:
            route.append(road_map.lane(route[-1]).successors[0])
        if not all(road_map.lane(lane_id).drivable for lane_id in route):
            continue
        _check_route(road_map, route)
        routes += 1
    assert routes >= 20


def test_a_long_route_is_built_in_memory_linear_in_its_length() -> None:
    """Projecting every point on the whole lane took (points x segments) arrays: 5.2 km of
    straight road at 1 m, about 430 MB at once; now a few MB."""
    road_map = straight_road(length_m=5200.0)
    tracemalloc.start()
    try:
        path = ReferencePath.from_route(road_map, ["road_0"])
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert path.length_m == pytest.approx(5200.0)
    assert np.all(path.speed_limit_mps == road_map.lane("road_0").speed_limit_mps)
    assert peak < 32e6, f"peak {peak / 1e6:.0f} MB"


def test_a_cusp_is_refused_naming_the_polyline_and_vertex() -> None:
    with pytest.raises(
        ValueError, match=r"^polyline_m turns back on itself at vertex 1 \[10\.0, 0\.0\]"
    ):
        ReferencePath.from_polyline([[0.0, 0.0], [10.0, 0.0], [0.0, 0.01]], 10.0)
    corner = ReferencePath.from_polyline([[0.0, 0.0], [10.0, 0.0], [10.0, 10.0]], 10.0)
    assert corner.length_m == pytest.approx(20.0, abs=0.3)  # a right angle is a road's bend
