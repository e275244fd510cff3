"""Agent forecasts: constant velocity (hand values) and lane following on a bend."""

from __future__ import annotations

import numpy as np
import pytest

from drivestack.ingest.maps.synthetic import curved_road, straight_road
from drivestack.prediction import constant_velocity_forecast, lane_following_forecast
from drivestack.structures.boxes import Boxes3D
from drivestack.structures.labels import ObjectClass
from drivestack.structures.road_map import interpolate_polyline


def test_constant_velocity() -> None:
    agents = Boxes3D.from_array7(
        [[1.0, 2.0, 0.75, 4.0, 2.0, 1.5, 0.3]], "world", label=[1], velocity_mps=[[3.0, -1.0]]
    )
    f = constant_velocity_forecast(agents, horizon_s=2.0, dt_s=0.5)
    assert f.boxes.shape == (1, 5, 7) and f.n_steps == 4
    np.testing.assert_allclose(f.boxes[0, :, 0], [1.0, 2.5, 4.0, 5.5, 7.0])
    np.testing.assert_allclose(f.boxes[0, :, 1], [2.0, 1.5, 1.0, 0.5, 0.0])
    np.testing.assert_allclose(f.boxes[0, :, 6], 0.3)
    np.testing.assert_allclose(f.speed_mps, np.sqrt(10.0))
    empty = constant_velocity_forecast(Boxes3D.empty("world"), 2.0, 0.5)
    assert empty.boxes.shape == (0, 5, 7)


def test_lane_following_stays_on_the_bend() -> None:
    road = curved_road(radius_m=50.0, lead_in_m=20.0)
    lane = road.lane("road_0")
    start = lane.centerline_m[2]
    heading = np.arctan2(*(lane.centerline_m[3] - lane.centerline_m[2])[::-1])
    v = 10.0
    agents = Boxes3D.from_array7(
        [[start[0], start[1], 0.75, 4.5, 1.8, 1.5, heading]],
        "world",
        label=[int(ObjectClass.CAR)],
        velocity_mps=[[v * np.cos(heading), v * np.sin(heading)]],
    )
    f = lane_following_forecast(agents, road, horizon_s=6.0, dt_s=0.1)
    s, d = lane.project(f.boxes[0, :, :2])
    np.testing.assert_allclose(d, 0.0, atol=1e-6)  # on the centreline all along the bend
    np.testing.assert_allclose(np.diff(s), v * 0.1, atol=1e-6)  # at constant speed
    cv = constant_velocity_forecast(agents, 6.0, 0.1)
    _, d_cv = lane.project(cv.boxes[0, :, :2])
    assert np.max(np.abs(d_cv)) > 5.0  # while constant velocity leaves the lane
    _, lane_yaw = interpolate_polyline(lane.centerline_m, s)
    np.testing.assert_allclose(f.boxes[0, :, 6], lane_yaw, atol=1e-9)  # heading turns with the lane
    on_arc_m = 60.0 + start[0]  # the bend starts at x = 0; lane 0 has radius 50 - 1.75 m
    assert f.boxes[0, -1, 6] == pytest.approx(heading + on_arc_m / (50.0 - 1.75), abs=0.02)


def test_lane_following_keeps_the_direction_of_motion() -> None:
    # yaw 0 on the +x lane at y = 1.75; velocities forward, reversing, and sideways (4, 3)
    agents = Boxes3D.from_array7(
        [[0.0, 1.75, 0.75, 4.5, 1.8, 1.5, 0.0]] * 3,
        "world",
        label=[int(ObjectClass.CAR)] * 3,
        velocity_mps=[[5.0, 0.0], [-5.0, 0.0], [4.0, 3.0]],
    )
    f = lane_following_forecast(agents, straight_road(), horizon_s=2.0, dt_s=0.5)
    np.testing.assert_allclose(f.boxes[0, :, 0], [0.0, 2.5, 5.0, 7.5, 10.0])
    np.testing.assert_allclose(f.boxes[1, :, 0], [0.0, -2.5, -5.0, -7.5, -10.0])  # backwards
    np.testing.assert_allclose(f.boxes[2, :, 0], [0.0, 2.0, 4.0, 6.0, 8.0])  # 4 m/s along yaw
    np.testing.assert_allclose(f.boxes[:, :, 1], 1.75)
    np.testing.assert_allclose(f.boxes[:, :, 6], 0.0)
    np.testing.assert_allclose(f.speed_mps[:, 0], [5.0, -5.0, 4.0])  # signed, along the heading
    # a slow reverse (|-0.5| < min_speed_mps = 1) moves at constant velocity
    slow = Boxes3D.from_array7(
        [[0.0, 1.75, 0.75, 4.5, 1.8, 1.5, 0.0]], "world", label=[1], velocity_mps=[[-0.5, 0.0]]
    )
    g = lane_following_forecast(slow, straight_road(), horizon_s=2.0, dt_s=0.5)
    np.testing.assert_allclose(g.boxes[0, :, 0], [0.0, -0.25, -0.5, -0.75, -1.0])
