"""A stop because the route cannot be followed (the ego faces against it, or is off the
drivable area) brakes straight on along the ego's heading, in the plan and in closed loop;
stops for agents keep following the lane."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.spatial import cKDTree

from drivestack.eval.driving.comfort import MAX_ABS_LAT_ACCEL_MPS2
from drivestack.ingest.maps.synthetic import curved_road, straight_road
from drivestack.planning.control.tracker import TrajectoryTracker
from drivestack.planning.pdm import IDMPlanner, PDMPlanner
from drivestack.planning.proposals import stop_along_heading
from drivestack.sim.runner import run_closed_loop
from drivestack.sim.vehicle import BicycleState
from drivestack.sim.world import Observation, World
from drivestack.structures.boxes import Boxes3D
from drivestack.structures.ego_state import EgoState
from drivestack.structures.trajectory import Trajectory

PLANNERS = [PDMPlanner, IDMPlanner]
BACKWARDS = (0.0, 1.75, math.pi)  # on lane road_0 (centred on y = 1.75 m), facing -x
OFF_ROAD = (0.0, -6.0, 0.0)  # along the road, its footprint wholly right of the road (y < 0)
DECEL_MPS2 = 3.0  # the stop's deceleration: IDM's comfortable one (the 40 m/s^3 jerk allows
# it in the first 0.1 s step)


def plan_of(
    planner: PDMPlanner | IDMPlanner, pose: tuple[float, float, float], speed_mps: float,
    steering_rad: float = 0.0, agents: Boxes3D | None = None,
) -> Trajectory:  # fmt: skip
    x, y, yaw = pose
    ego = EgoState(0, x, y, yaw, speed_mps=speed_mps, steering_rad=steering_rad)
    boxes = Boxes3D.empty("world") if agents is None else agents
    return planner.step(Observation(0, ego, boxes, tuple(str(i) for i in range(len(boxes)))))


def lateral_accel_mps2(plan: Trajectory) -> np.ndarray:
    return plan.speed_mps**2 * plan.curvature_1pm


@pytest.mark.parametrize("planner_type", PLANNERS)
@pytest.mark.parametrize(
    ("pose", "reason"),
    [
        (BACKWARDS, "facing against the route"),
        (OFF_ROAD, "no proposal stays on the drivable area"),
    ],
)
def test_route_stop_brakes_straight_on_and_holds(
    planner_type: type[PDMPlanner | IDMPlanner], pose: tuple[float, float, float], reason: str
) -> None:
    planner = planner_type(straight_road(), ["road_0"])
    plan = plan_of(planner, pose, 10.0)
    assert planner.debug is not None and planner.debug.stop_reason == reason
    x0, y0, yaw0 = pose
    # no steering: the heading and the line hold (was up to 12.8 m/s^2 turning towards the route)
    np.testing.assert_array_equal(plan.curvature_1pm, 0.0)
    assert np.max(np.abs(lateral_accel_mps2(plan))) <= MAX_ABS_LAT_ACCEL_MPS2
    np.testing.assert_allclose(np.cos(plan.yaw_rad), math.cos(yaw0), atol=1e-12)
    np.testing.assert_allclose(plan.y_m, y0, atol=1e-9)
    # 10 - 0.3 k m/s, at rest from 10 / 3 s on, after 10^2 / (2 * 3) m straight on; then holds
    k = np.arange(len(plan))
    np.testing.assert_allclose(plan.speed_mps, np.maximum(10.0 - 0.3 * k, 0.0), atol=1e-9)
    np.testing.assert_allclose(plan.x_m[34:], x0 + math.cos(yaw0) * 100.0 / 6.0, atol=1e-9)


@pytest.mark.parametrize("planner_type", PLANNERS)
def test_route_stop_straightens_the_wheels_at_the_rate_limit(
    planner_type: type[PDMPlanner | IDMPlanner],
) -> None:
    planner = planner_type(straight_road(), ["road_0"])
    plan = plan_of(planner, BACKWARDS, 10.0, steering_rad=0.3)
    rate = planner.vehicle.max_steering_rate_radps * planner.params.dt_s  # 0.08 rad a step
    steering = np.arctan(plan.curvature_1pm * planner.vehicle.wheelbase_m)
    np.testing.assert_allclose(steering, np.maximum(0.3 - rate * np.arange(len(plan)), 0.0))
    # it only unwinds the steering it started with (10 m/s^2 at k = 0), never adds any
    assert np.all(np.diff(np.abs(lateral_accel_mps2(plan))) <= 1e-12)
    np.testing.assert_array_equal(lateral_accel_mps2(plan)[4:], 0.0)


@settings(max_examples=25, deadline=None)
@given(
    yaw_rad=st.floats(math.radians(91.0), math.radians(269.0)),
    speed_mps=st.floats(0.0, 20.0),
    steering_rad=st.floats(-0.6, 0.6),
)
def test_stop_along_heading_only_unwinds_the_steering(
    yaw_rad: float, speed_mps: float, steering_rad: float
) -> None:
    planner = IDMPlanner(straight_road(), ["road_0"])
    start = BicycleState.of(0.0, 1.75, yaw_rad, speed_mps, 0.0, steering_rad)
    p, vehicle = planner.params, planner.vehicle
    path = planner.reference
    result = stop_along_heading(
        start, path, cKDTree(path.xy_m), p.n_steps, p.dt_s, vehicle, DECEL_MPS2
    )
    speed, steering = result.field("speed_mps")[0], result.field("steering_rad")[0]
    rate = vehicle.max_steering_rate_radps * p.dt_s
    k = np.arange(p.n_steps + 1)
    np.testing.assert_allclose(
        np.abs(steering), np.maximum(abs(steering_rad) - rate * k, 0.0), atol=1e-12
    )
    np.testing.assert_allclose(
        speed, np.maximum(speed_mps - DECEL_MPS2 * p.dt_s * k, 0.0), atol=1e-9
    )
    lateral = np.abs(speed**2 * np.tan(steering)) / vehicle.wheelbase_m
    assert np.all(np.diff(lateral) <= 1e-9)  # never more than at the start
    assert speed[-1] == 0.0  # 20 m/s stops within the 8 s horizon at 3 m/s^2
    np.testing.assert_array_equal(result.gap_m, 0.0)
    np.testing.assert_array_equal(result.closing_speed_mps, speed[None])


@pytest.mark.parametrize("planner_type", PLANNERS)
@pytest.mark.parametrize("pose", [BACKWARDS, OFF_ROAD])
def test_closed_loop_route_stop_does_not_steer(
    planner_type: type[PDMPlanner | IDMPlanner], pose: tuple[float, float, float]
) -> None:
    road = straight_road()
    planner = planner_type(road, ["road_0"])
    x0, y0, yaw0 = pose
    world = World(road, BicycleState.of(x0, y0, yaw0, 10.0), [], planner.vehicle)
    h = run_closed_loop(world, planner, TrajectoryTracker(vehicle=planner.vehicle), 60)
    # was 0.6 rad of steering and 12 m/s^2 of lateral acceleration from the backwards start
    np.testing.assert_allclose(h.ego_steering_rad, 0.0, atol=1e-9)
    np.testing.assert_allclose(h.ego_y_m, y0, atol=1e-9)
    np.testing.assert_allclose(np.cos(h.ego_yaw_rad), math.cos(yaw0), atol=1e-12)
    # comes to rest straight on, within 5 cm of the plan's 10^2 / (2 * 3) m (the tracker
    # follows the plan's speeds; the jerk-limited onset of the braking adds 2 cm), and holds
    # there
    at_rest = h.ego_speed_mps == 0.0
    assert at_rest[-15:].all()
    assert np.ptp(h.ego_x_m[-15:]) == 0.0
    travelled_m = (h.ego_x_m[-1] - x0) * math.cos(yaw0)
    assert travelled_m == pytest.approx(100.0 / 6.0, abs=0.05)


def lane_curve_agent(planner: PDMPlanner | IDMPlanner, station_m: float) -> Boxes3D:
    """A stopped car on the route's centreline at ``station_m``."""
    (xy,), (yaw,) = planner.reference.pose_at(np.array([station_m]))
    return Boxes3D.from_array7(
        [[xy[0], xy[1], 0.75, 4.5, 1.8, 1.5, yaw]], "world", label=[1], velocity_mps=[[0.0, 0.0]]
    )


def max_off_route_m(planner: PDMPlanner | IDMPlanner, plan: Trajectory) -> float:
    _, lateral = planner.reference.project(np.stack([plan.x_m, plan.y_m], axis=1))
    return float(np.max(np.abs(lateral)))


@pytest.mark.parametrize("planner_type", PLANNERS)
def test_stop_behind_a_leader_on_a_bend_follows_the_lane(
    planner_type: type[PDMPlanner | IDMPlanner],
) -> None:
    planner = planner_type(curved_road(), ["road_0"])  # a 90 degree left bend from x = 0
    (start,), (yaw,) = planner.reference.pose_at(np.array([140.0]))  # 10 m before the bend
    agents = lane_curve_agent(planner, 175.0)  # stopped 25 m into the bend
    plan = plan_of(planner, (start[0], start[1], float(yaw)), 10.0, agents=agents)
    assert planner.debug is not None and planner.debug.stop_reason is None
    assert plan.speed_mps[-1] < 0.1  # stopped behind it
    assert max_off_route_m(planner, plan) < 0.1  # on the lane centre round the bend
    assert np.max(plan.curvature_1pm) > 0.5 / 100.0  # turning with the lane


def test_emergency_stop_on_a_bend_follows_the_lane() -> None:
    planner = PDMPlanner(curved_road(), ["road_0"])
    (start,), (yaw,) = planner.reference.pose_at(np.array([160.0]))  # 10 m into the bend
    front = planner.vehicle.front_offset_m
    agents = lane_curve_agent(planner, 160.0 + front + 3.0 + 2.25)  # 3 m ahead of the bumper
    plan = plan_of(planner, (start[0], start[1], float(yaw)), 15.0, agents=agents)
    assert planner.debug is not None and planner.debug.emergency
    assert planner.debug.stop_reason == "every proposal collides"
    assert plan.speed_mps[-1] == 0.0
    assert max_off_route_m(planner, plan) < 0.1
    assert np.max(plan.curvature_1pm) > 0.5 / 100.0
