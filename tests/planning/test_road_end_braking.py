"""Near a road's end, with no proposal staying on the drivable area, both planners brake as
hard as needed (up to their braking limit) to stay on it while the ego is still on it, and
only comfortably once it is wholly off (before, always comfortably: a 26 m overrun where the
limit gives about 6 m)."""

from __future__ import annotations

import numpy as np
import pytest

from drivestack.ingest.maps.synthetic import straight_road
from drivestack.planning.control import TrajectoryTracker
from drivestack.planning.pdm import IDMPlanner, PDMPlanner
from drivestack.planning.scoring import DRIVABLE_TOLERANCE_M, distance_outside_drivable_m
from drivestack.sim.runner import run_closed_loop
from drivestack.sim.vehicle import BicycleState, VehicleParams
from drivestack.sim.world import World
from drivestack.structures.road_map import RoadMap

# straight_road(length_m=150): one lane from x = -100 m to the road's end at x = 50 m
ROAD_END_X_M = 50.0
SPEED_MPS = 13.89  # 50 km/h
PLANNERS = (PDMPlanner, IDMPlanner)


def road_and_planner(
    planner_cls: type[PDMPlanner] | type[IDMPlanner],
) -> tuple[RoadMap, PDMPlanner | IDMPlanner]:
    road = straight_road(length_m=150.0, n_lanes=1, speed_limit_mps=SPEED_MPS)
    return road, planner_cls(road, ["road_0"])


@pytest.mark.parametrize("planner_cls", PLANNERS)
def test_a_stop_short_of_the_road_end_brakes_at_the_limit(
    planner_cls: type[PDMPlanner] | type[IDMPlanner],
) -> None:
    road, planner = road_and_planner(planner_cls)
    vehicle = planner.vehicle
    start = BicycleState.of(40.0, 1.75, 0.0, SPEED_MPS)  # front 5.85 m before the end
    world = World(road, start, [])
    history = run_closed_loop(world, planner, TrajectoryTracker(vehicle=vehicle), 60)
    front = history.ego_x_m + vehicle.front_offset_m
    assert history.ego_speed_mps[-1] < 0.05
    # at a constant 9 m/s^2 the front runs 13.89^2 / 18 = 10.72 m, 4.87 m past the end; the
    # jerk limit's ramp and the tick the tracker lags add a little more. At the comfortable
    # 3 m/s^2 it ran 26 m past
    overrun = float(front[-1] - ROAD_END_X_M)
    assert 4.87 < overrun < 6.5
    assert np.min(history.ego_accel_mps2) == pytest.approx(-9.0)
    assert planner.debug is not None
    assert planner.debug.stop_reason == "no proposal stays on the drivable area"


@pytest.mark.parametrize("planner_cls", PLANNERS)
def test_the_stop_brakes_only_as_hard_as_staying_on_needs(
    planner_cls: type[PDMPlanner] | type[IDMPlanner],
) -> None:
    _, planner = road_and_planner(planner_cls)
    # the front 20.85 m before the end: the comfortable stop (32 m) leaves the road, a constant
    # 13.89^2 / (2 * 20.85) = 4.63 m/s^2 would not
    start = BicycleState.of(25.0, 1.75, 0.0, SPEED_MPS)
    plan, decel = planner._stop_along_heading(start)
    assert 4.6 < decel <= 6.0
    outside = distance_outside_drivable_m(plan.boxes(planner.vehicle), planner.road_map)
    assert np.max(outside) <= DRIVABLE_TOLERANCE_M
    # the footprint would leave the road braking 0.5 m/s^2 less
    gentler = planner._straight_stop(start, decel - 0.5)
    assert np.max(distance_outside_drivable_m(gentler.boxes(planner.vehicle), planner.road_map)) > (
        DRIVABLE_TOLERANCE_M
    )


@pytest.mark.parametrize("planner_cls", PLANNERS)
def test_wholly_off_the_road_it_brakes_comfortably(
    planner_cls: type[PDMPlanner] | type[IDMPlanner],
) -> None:
    _, planner = road_and_planner(planner_cls)
    rear_x = ROAD_END_X_M + VehicleParams().rear_overhang_m + 1.0  # the rear bumper 1 m past
    plan, decel = planner._stop_along_heading(BicycleState.of(rear_x, 1.75, 0.0, SPEED_MPS))
    assert decel == planner.params.idm.comfort_decel_mps2
    assert plan.field("acceleration_mps2")[0, 5] == pytest.approx(-3.0)
