"""RoadMap and the polyline helpers: hand-computed Frenet projections and map queries."""

from __future__ import annotations

import math

import numpy as np
import pytest
from shapely.geometry import LineString, Polygon

from drivestack.ingest.maps.synthetic import straight_road
from drivestack.structures.road_map import (
    Lane,
    RoadMap,
    interpolate_polyline,
    polyline_stations,
    project_to_polyline,
)


def test_frenet_on_a_straight_lane() -> None:
    line = np.array([[0.0, 0.0], [4.0, 0.0], [10.0, 0.0]])
    s, d = project_to_polyline(line, [[3.0, 2.0], [7.5, -1.0], [-2.0, 1.0], [12.0, 0.5]])
    np.testing.assert_allclose(
        s, [3.0, 7.5, -2.0, 12.0]
    )  # extrapolated before the start and past the end
    np.testing.assert_allclose(d, [2.0, -1.0, 1.0, 0.5])


def test_frenet_on_a_circular_lane() -> None:
    radius = 10.0
    ang = np.linspace(0.0, 1.5 * math.pi, 2001)  # counter-clockwise: the centre is on the left
    line = radius * np.stack([np.cos(ang), np.sin(ang)], axis=1)
    theta = 1.0
    pts = np.array(
        [
            [8.0 * math.cos(theta), 8.0 * math.sin(theta)],
            [12.0 * math.cos(theta), 12.0 * math.sin(theta)],
        ]
    )
    s, d = project_to_polyline(line, pts)
    # station = R * theta, up to the polyline's chord error (segments of 0.024 m here)
    np.testing.assert_allclose(s, radius * theta, atol=2e-3)
    np.testing.assert_allclose(d, [2.0, -2.0], atol=1e-4)
    np.testing.assert_allclose(polyline_stations(line)[-1], 1.5 * math.pi * radius, rtol=1e-6)


def test_interpolate_round_trip() -> None:
    line = np.array([[0.0, 0.0], [3.0, 4.0], [3.0, 10.0]])
    xy, yaw = interpolate_polyline(line, [2.5, 5.0, 8.0])
    np.testing.assert_allclose(xy, [[1.5, 2.0], [3.0, 4.0], [3.0, 7.0]])
    np.testing.assert_allclose(yaw, [math.atan2(4, 3), math.pi / 2, math.pi / 2])
    s, d = project_to_polyline(line, xy)
    np.testing.assert_allclose(s, [2.5, 5.0, 8.0])
    np.testing.assert_allclose(d, 0.0, atol=1e-12)


def test_straight_road_queries() -> None:
    road = straight_road(length_m=600.0, n_lanes=2, lane_width_m=3.5)
    assert road.drivable_area.area == pytest.approx(600.0 * 7.0)
    assert road.nearest_lane((50.0, 1.0)) == "road_0"
    assert road.nearest_lane((50.0, 5.0)) == "road_1"
    with pytest.raises(LookupError):
        road.nearest_lane((50.0, 1.0), yaw_rad=math.pi)  # no lane runs westward
    np.testing.assert_allclose(
        road.distance_outside_drivable_m([[0.0, -1.0], [0.0, 3.0], [0.0, 9.0]]), [1.0, 0.0, 2.0]
    )
    assert road.route("road_0", "road_1") == ["road_0", "road_1"]
    assert road.lanes_at((50.0, 3.5)) == ["road_0", "road_1"]  # on the marking: both
    assert road.lanes_at((50.0, 1.0), yaw_rad=0.0) == ["road_0"]
    assert road.lanes_at((50.0, 1.0), yaw_rad=math.pi) == [] and road.lanes_at((50.0, -2.0)) == []
    with pytest.raises(KeyError):
        road.route("road_1", "missing")
    s, d = road.lane("road_1").project([[10.0, 6.0]])
    np.testing.assert_allclose([s[0], d[0]], [110.0, 0.75])


def test_route_follows_successors_and_rejects_unreachable() -> None:
    a = Lane(
        "a",
        [[0.0, 0.0], [10.0, 0.0]],
        [[0.0, 1.5], [10.0, 1.5]],
        [[0.0, -1.5], [10.0, -1.5]],
        successors=("b",),
    )
    b = Lane(
        "b",
        [[10.0, 0.0], [20.0, 0.0]],
        [[10.0, 1.5], [20.0, 1.5]],
        [[10.0, -1.5], [20.0, -1.5]],
        predecessors=("a",),
    )
    c = Lane("c", [[0.0, 5.0], [10.0, 5.0]], [[0.0, 6.5], [10.0, 6.5]], [[0.0, 3.5], [10.0, 3.5]])
    road = RoadMap((a, b, c))
    assert road.route("a", "b") == ["a", "b"]
    with pytest.raises(LookupError, match="not reachable"):
        road.route("b", "a")
    with pytest.raises(LookupError):
        road.route("a", "c")
    np.testing.assert_allclose(
        road.route_centerline(["a", "b"])[[0, -1]], [[0.0, 0.0], [20.0, 0.0]]
    )


def test_bad_lanes_are_rejected() -> None:
    with pytest.raises(ValueError, match="centerline_m"):
        Lane("x", [[0.0, 0.0]], [[0.0, 1.0], [1.0, 1.0]], [[0.0, -1.0], [1.0, -1.0]])
    lane = Lane(
        "x",
        [[0.0, 0.0], [1.0, 0.0]],
        [[0.0, 1.0], [1.0, 1.0]],
        [[0.0, -1.0], [1.0, -1.0]],
        successors=("y",),
    )
    with pytest.raises(ValueError, match="unknown lane 'y'"):
        RoadMap((lane,))
    with pytest.raises(ValueError, match="duplicate"):
        RoadMap((Lane("z", lane.centerline_m, lane.left_boundary_m, lane.right_boundary_m),) * 2)


def _lane() -> Lane:
    return Lane("x", [[0.0, 0.0], [4.0, 0.0]], [[0.0, 1.0], [4.0, 1.0]], [[0.0, -1.0], [4.0, -1.0]])


def _nan_triangle() -> Polygon:
    """A triangle with a NaN vertex (made quietly: numpy warns when shapely builds it)."""
    with np.errstate(invalid="ignore"):
        return Polygon([(0, 0), (np.nan, 0), (1, 1)])


@pytest.mark.parametrize(
    ("areas", "error", "message"),
    [
        (
            Polygon([(0, 0), (1, 0), (1, 1)]),
            TypeError,
            "areas must be a tuple or list .* got Polygon",
        ),
        (
            iter([Polygon([(0, 0), (1, 0), (1, 1)])]),
            TypeError,
            "areas must be a tuple or list .* got list_iter",
        ),
        ([[(0, 0), (1, 0), (1, 1)]], TypeError, r"areas\[0\] must be a shapely Polygon, got list"),
        (
            [Polygon([(0, 0), (1, 0), (1, 1)]), LineString([(0, 0), (1, 1)])],
            TypeError,
            r"areas\[1\] must be a shapely Polygon, got LineString",
        ),
        (
            [Polygon([(0, 0), (10, 10), (10, 0), (0, 10)])],  # a bow-tie
            ValueError,
            r"areas\[0\] is not a valid polygon: Self-intersection\[5 5\]",
        ),
        (
            (Polygon([(0, 0), (1, 0), (1, 1)]), _nan_triangle()),
            ValueError,
            r"areas\[1\] contains NaN or infinite coordinates",
        ),
    ],
)
def test_bad_extra_drivable_areas_are_rejected_naming_the_index(
    areas: object, error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match="RoadMap.extra_drivable_" + message):
        RoadMap((_lane(),), extra_drivable_areas=areas)  # type: ignore[arg-type]


def test_extra_drivable_areas_join_the_lanes() -> None:
    square = Polygon([(4, -1), (6, -1), (6, 1), (4, 1)])  # 4 m2 past the lane's 8 m2
    road = RoadMap((_lane(),), extra_drivable_areas=[square])
    assert road.extra_drivable_areas == (square,)
    assert road.drivable_area.geom_type == "Polygon"
    assert road.drivable_area.area == pytest.approx(12.0)
