"""The bend speed as an upcoming limit: both planners brake for a bend's lateral-acceleration
limit ``sqrt(a_lat / |kappa|)`` as for a slower lane ahead (IDM alone lagged its falling
desired speed and entered a 60 m bend at 15.2 m/s where the profile says 12.2, at 3.9 m/s^2
of lateral acceleration), comfortably; the per-point limits by hand and as properties."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from drivestack.eval.driving.comfort import is_comfortable, nuplan_comfort_signals
from drivestack.ingest.maps.synthetic import arc, curved_road
from drivestack.planning.control import TrajectoryTracker
from drivestack.planning.pdm import IDMPlanner, PDMParams, PDMPlanner
from drivestack.planning.proposals import SpeedDrops
from drivestack.planning.reference_path import ReferencePath
from drivestack.sim.runner import run_closed_loop
from drivestack.sim.vehicle import BicycleState
from drivestack.sim.world import World

ROAD_RADIUS_M = 60.0  # the road's right edge
LANE_RADIUS_M = ROAD_RADIUS_M - 1.75  # lane 0's centreline
LEAD_IN_M = 300.0  # room to slow from 100 km/h at 1.5 m/s^2 (208 m) before the bend
START_MPS = 27.78  # 100 km/h, the lane's limit


@pytest.mark.parametrize(
    ("planner_cls", "max_lat_accel_mps2"),
    [(PDMPlanner, 2.5), (IDMPlanner, 2.5), (IDMPlanner, 1.5)],
)
def test_both_planners_enter_a_60_m_bend_at_its_bend_speed(
    planner_cls: type[PDMPlanner] | type[IDMPlanner], max_lat_accel_mps2: float
) -> None:
    road = curved_road(radius_m=ROAD_RADIUS_M, lead_in_m=LEAD_IN_M, speed_limit_mps=START_MPS)
    params = PDMParams(max_lat_accel_mps2=max_lat_accel_mps2)
    planner = planner_cls(road, ["road_0"], params=params)
    world = World(road, BicycleState.of(-LEAD_IN_M + 10.0, 1.75, 0.0, START_MPS), [])
    h = run_closed_loop(world, planner, TrajectoryTracker(vehicle=planner.vehicle), 300)
    station, _ = planner.reference.project(np.stack([h.ego_x_m, h.ego_y_m], axis=1))
    bend_end = LEAD_IN_M + LANE_RADIUS_M * math.pi / 2
    assert station[-1] > bend_end + 10.0  # through the whole bend
    # at the bend's start, the planner's own profile within 0.3 m/s (12.31 m/s measured for
    # 2.5 m/s^2, the IDM baseline 15.2 before); past the profile's 5 m curvature average,
    # the bend speed sqrt(a_lat R) by hand (12.07 m/s for 2.5 m/s^2)
    entry = int(np.argmax(station >= LEAD_IN_M))
    profile = np.interp(station[entry], planner.reference.station_m, planner._profile)
    assert abs(h.ego_speed_mps[entry] - profile) < 0.3
    bend_speed = math.sqrt(max_lat_accel_mps2 * LANE_RADIUS_M)
    inside = int(np.argmax(station >= LEAD_IN_M + 3.0))
    assert abs(h.ego_speed_mps[inside] - bend_speed) < 0.3
    # in the bend, the lateral acceleration v * yaw rate at most the limit (5% for the
    # profile's 5 m curvature average at the bend's ends; 3.9 m/s^2 before)
    in_bend = (station > LEAD_IN_M) & (station < bend_end)
    yaw_rate = np.gradient(np.unwrap(h.ego_yaw_rad), h.dt_s)
    assert np.max(np.abs(h.ego_speed_mps * yaw_rate)[in_bend]) < 1.05 * max_lat_accel_mps2
    # slowing for it at about the profile's 1.5 m/s^2 (1.55 measured: the approach to each
    # point's limit in turn), early enough, and nuPlan-comfortable
    decel = planner.params.speed_limit_decel_mps2
    assert np.min(h.ego_accel_mps2) >= -(decel + 0.1)
    braking = np.flatnonzero(h.ego_accel_mps2 < -0.1)
    assert LEAD_IN_M - station[braking[0]] > (START_MPS**2 - bend_speed**2) / (2 * decel)
    signals = nuplan_comfort_signals(
        h.ego_speed_mps, h.ego_yaw_rad, h.ego_accel_mps2, h.dt_s,
        center_offset_m=h.vehicle.center_offset_m,
    )  # fmt: skip
    assert is_comfortable(signals)


def _lead_in_and_bend(radius_m: float, limit_mps: float) -> ReferencePath:
    """20 m straight along +x, then a quarter circle of ``radius_m`` to the left, 1 m steps."""
    line = np.stack([np.linspace(-20.0, 0.0, 21), np.zeros(21)], axis=1)
    bend = arc((0.0, radius_m), radius_m, -math.pi / 2, math.pi / 2)
    return ReferencePath.from_polyline(np.concatenate([line, bend[1:]]), limit_mps)


def test_speed_limits_of_a_bend_by_hand() -> None:
    path = _lead_in_and_bend(25.0, 20.0)
    s = path.station_m
    limits = path.speed_limits(max_lat_accel_mps2=2.5)
    # the straight keeps the lane's 20 m/s; well inside the bend sqrt(2.5 x 25) = 7.91 m/s
    np.testing.assert_allclose(limits[s < 17.0], 20.0)
    mid = (s > 30.0) & (s < 45.0)
    np.testing.assert_allclose(limits[mid], math.sqrt(2.5 * 25.0), rtol=0.01)
    # the lane's limit still caps it where it is lower; the profile brakes for the bend
    np.testing.assert_allclose(path.speed_limits(20.0)[mid], 20.0)  # sqrt(20 x 25) > 20
    profile = path.speed_profile(max_lat_accel_mps2=2.5, decel_mps2=1.5)
    assert np.all(profile <= limits + 1e-12)
    # the drops the rollouts brake for: the bend's entry, down to its speed
    drops = SpeedDrops.along(s, limits, 1.5, 3.0)
    assert 17.0 < drops.station_m[0] < 23.0
    assert drops.speed_mps.min() == pytest.approx(math.sqrt(2.5 * 25.0), rel=0.01)
    with pytest.raises(ValueError, match="max_lat_accel_mps2"):
        path.speed_limits(max_lat_accel_mps2=0.0)
    with pytest.raises(ValueError, match=r"PDMParams\.max_lat_accel_mps2"):
        PDMParams(max_lat_accel_mps2=-1.0)


@settings(max_examples=30, deadline=None)
@given(
    st.floats(8.0, 200.0),
    st.floats(0.5, 5.0),
    st.floats(5.0, 40.0),
    st.floats(0.0, 6.0),
)
def test_speed_limits_keep_lateral_acceleration_and_the_lane_limit(
    radius_m: float, max_lat_accel_mps2: float, limit_mps: float, ahead_m: float
) -> None:
    path = _lead_in_and_bend(radius_m, limit_mps)
    limits = path.speed_limits(max_lat_accel_mps2, ahead_m)
    assert np.all(limits <= path.lane_limits_ahead(ahead_m))
    # at most the lateral-acceleration limit on the path's (5-point averaged) curvature
    smoothed = np.convolve(np.abs(path.curvature_1pm), np.ones(5) / 5, mode="same")
    assert np.all(limits**2 * smoothed <= max_lat_accel_mps2 * (1 + 1e-9))
    # and no lower than needed: where the bend is the lower one, it is exactly the bend's
    bend = limits < path.lane_limits_ahead(ahead_m)
    np.testing.assert_allclose(limits[bend] ** 2 * smoothed[bend], max_lat_accel_mps2, rtol=1e-9)
