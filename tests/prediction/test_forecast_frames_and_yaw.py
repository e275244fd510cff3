"""Forecast inputs and outputs (walkthrough items 4, 12 and 13): the agents must be in the
map's frame and be Boxes3D, a lane follower's yaw is in [-pi, pi), and at a dead end the
forecast runs straight on past the lane's end (documented)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from drivestack.ingest.maps.synthetic import curved_road
from drivestack.prediction import constant_velocity_forecast, lane_following_forecast
from drivestack.structures.boxes import Boxes3D
from drivestack.structures.road_map import Lane, RoadMap
from drivestack.structures.tracks import Tracks

# one westbound lane, x from 100 m down to 0 m along y = 0, with no successor (a dead end)
WEST = Lane(
    "west",
    np.array([[100.0, 0.0], [0.0, 0.0]]),
    np.array([[100.0, -1.75], [0.0, -1.75]]),
    np.array([[100.0, 1.75], [0.0, 1.75]]),
)
WEST_MAP = RoadMap((WEST,))


def _car(x_m: float, yaw_rad: float, velocity_mps: list[float], frame: str = "world") -> Boxes3D:
    row = [[x_m, 0.0, 0.8, 4.5, 1.9, 1.6, yaw_rad]]
    return Boxes3D.from_array7(np.array(row), frame, label=[1], velocity_mps=[velocity_mps])


def test_agents_in_another_frame_than_the_map_are_refused() -> None:
    ego_frame = _car(-20.0, 0.0, [10.0, 0.0], frame="ego")
    # before: the ego-frame box was snapped onto the world map's lanes
    with pytest.raises(
        ValueError, match=r"agents are in frame 'ego', the map in 'world': transform"
    ):
        lane_following_forecast(ego_frame, curved_road(), 2.0, 0.5)


def test_tracks_instead_of_boxes_is_a_type_error_naming_the_fix() -> None:
    tracks = Tracks(np.array([1]), _car(50.0, math.pi, [-10.0, 0.0]))
    with pytest.raises(TypeError, match=r"agents must be a Boxes3D, got Tracks; .*tracks.boxes"):
        constant_velocity_forecast(tracks, 2.0, 0.5)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"lane_following_forecast: agents must be a Boxes3D"):
        lane_following_forecast(tracks, WEST_MAP, 2.0, 0.5)  # type: ignore[arg-type]


def test_lane_follower_yaw_is_wrapped_to_minus_pi() -> None:
    car = _car(50.0, -math.pi, [-10.0, 0.0])  # heading west along the lane
    forecast = lane_following_forecast(car, WEST_MAP, 2.0, 0.5)
    # the lane's heading is atan2(0, -100) = +pi; in [-pi, pi) that is -pi, as observed
    np.testing.assert_array_equal(forecast.boxes[0, :, 6], -math.pi)
    np.testing.assert_allclose(forecast.boxes[0, :, 0], [50.0, 45.0, 40.0, 35.0, 30.0])
    assert forecast.boxes[0, 0, 6] == car.yaw_rad[0]


def test_at_a_dead_end_the_forecast_drives_straight_on() -> None:
    car = _car(10.0, -math.pi, [-10.0, 0.0])  # 10 m before the lane ends at x = 0
    forecast = lane_following_forecast(car, WEST_MAP, 3.0, 1.0)
    # not stopped at the end: extrapolated along the last segment at 10 m/s
    np.testing.assert_allclose(forecast.boxes[0, :, 0], [10.0, 0.0, -10.0, -20.0])
    np.testing.assert_allclose(forecast.boxes[0, :, 1], 0.0, atol=1e-12)
    np.testing.assert_allclose(forecast.speed_mps[0], 10.0)  # signed along its heading


@pytest.mark.parametrize("off_deg", [50.0, 80.0])
def test_a_car_crossing_its_nearest_lane_moves_at_constant_velocity(off_deg: float) -> None:
    # a westbound car (yaw pi) turned off_deg away from the lane, as a car crossing it in an
    # intersection: before, any lane within 90 degrees was followed (on Argoverse 2: cars sent
    # down crossing lanes, 25-40 m off at 3 s)
    yaw = math.pi - math.radians(off_deg)
    car = _car(50.0, yaw, [10.0 * math.cos(yaw), 10.0 * math.sin(yaw)])
    lane = lane_following_forecast(car, WEST_MAP, 2.0, 0.5)
    cv = constant_velocity_forecast(car, 2.0, 0.5)
    np.testing.assert_array_equal(lane.boxes, cv.boxes)
    np.testing.assert_array_equal(lane.speed_mps, cv.speed_mps)


def test_a_car_within_the_heading_limit_still_follows_its_lane() -> None:
    yaw = math.pi - math.radians(30.0)
    car = _car(50.0, yaw, [10.0 * math.cos(yaw), 10.0 * math.sin(yaw)])
    f = lane_following_forecast(car, WEST_MAP, 2.0, 0.5)
    # its 10 m/s along its heading, driven along the lane (y stays 0, the lane's yaw)
    np.testing.assert_allclose(f.boxes[0, :, 0], 50.0 - 10.0 * np.arange(5) * 0.5)
    np.testing.assert_allclose(f.boxes[0, :, 1], 0.0, atol=1e-12)
    # and a tighter limit sends it straight on at constant velocity
    g = lane_following_forecast(car, WEST_MAP, 2.0, 0.5, max_heading_error_rad=math.radians(20.0))
    np.testing.assert_array_equal(g.boxes, constant_velocity_forecast(car, 2.0, 0.5).boxes)


def test_a_bad_heading_limit_is_refused_by_name() -> None:
    car = _car(50.0, math.pi, [-10.0, 0.0])
    with pytest.raises(
        ValueError, match=r"max_heading_error_rad must be a finite angle in \[0, pi\]"
    ):
        lane_following_forecast(car, WEST_MAP, 2.0, 0.5, max_heading_error_rad=4.0)
