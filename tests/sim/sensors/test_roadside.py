"""Roadside objects of the sensor scene stand beside the road, never on it."""

from __future__ import annotations

import numpy as np
import pytest
import shapely

from drivestack.ingest.maps.synthetic import build_synthetic_map, straight_road
from drivestack.sim.sensors import SensorScene
from drivestack.sim.sensors.roadside import outward_normals, points_at
from drivestack.sim.sensors.scene import Material


def _footprint(box: tuple[float, ...]) -> shapely.Polygon:
    x, y, _, length, width, _, yaw = box
    c, s = np.cos(yaw), np.sin(yaw)
    half = np.array([[1, 1], [-1, 1], [-1, -1], [1, -1]]) * [length / 2, width / 2]
    return shapely.Polygon(np.array([x, y]) + half @ np.array([[c, s], [-s, c]]))


def test_points_and_outward_normals_along_a_square():
    square = shapely.Polygon([(0, 0), (10, 0), (10, 10), (0, 10)])
    line = np.asarray(square.exterior.coords)  # counter-clockwise, 40 m
    points, tangents = points_at(line, np.array([4.0, 12.0, 25.0, 39.0, 50.0]))
    np.testing.assert_allclose(points, [[4, 0], [10, 2], [5, 10], [0, 1], [0, 0]])
    np.testing.assert_allclose(tangents, [[1, 0], [0, 1], [-1, 0], [0, -1], [0, -1]])
    normals = outward_normals(square, points[:4], tangents[:4])
    np.testing.assert_allclose(normals, [[0, -1], [1, 0], [0, 1], [-1, 0]])
    # the other way round (clockwise) the tangents flip but the normals still point out
    points, tangents = points_at(line[::-1], np.array([1.0, 11.0]))
    np.testing.assert_allclose(outward_normals(square, points, tangents), [[-1, 0], [0, 1]])


@pytest.mark.parametrize(
    "road_map",
    [straight_road(), build_synthetic_map("curved"), build_synthetic_map("intersection")],
    ids=["straight", "curved", "intersection"],
)
def test_poles_and_buildings_stay_off_the_drivable_area(road_map):
    area = road_map.drivable_area
    scene = SensorScene.from_road_map(road_map, seed=0)
    poles = [o.box for o in scene.static_objects if o.material == Material.POLE]
    buildings = [o.box for o in scene.static_objects if o.material == Material.BUILDING]
    curbs = [o.box for o in scene.static_objects if o.material == Material.CURB]
    assert poles and curbs
    for box in poles:
        assert shapely.distance(area, _footprint(box)) >= 0.5
    for box in buildings:
        assert shapely.distance(area, _footprint(box)) >= 3.0
    for a in range(len(buildings)):
        for b in range(a):
            assert not _footprint(buildings[a]).intersects(_footprint(buildings[b]))
    # curbs are chords of the boundary: both ends on it
    for x, y, _, length, _, _, yaw in curbs:
        for sign in (-1.0, 1.0):
            end = (x + sign * length / 2 * np.cos(yaw), y + sign * length / 2 * np.sin(yaw))
            assert shapely.distance(area.boundary, shapely.Point(end)) < 1e-6


def test_straight_road_has_poles_on_both_sides_all_along():
    road_map = straight_road()
    area = road_map.drivable_area
    scene = SensorScene.from_road_map(road_map, seed=0)
    poles = np.array([o.box[:2] for o in scene.static_objects if o.material == Material.POLE])
    minx, miny, maxx, maxy = area.bounds
    beside = (poles[:, 0] > minx) & (poles[:, 0] < maxx)
    # beside the carriageway (not past its ends): 1.5 m outside one edge or the other
    below = np.isclose(poles[beside, 1], miny - 1.5)
    above = np.isclose(poles[beside, 1], maxy + 1.5)
    assert np.all(below | above) and below.sum() >= 5 and above.sum() >= 5
