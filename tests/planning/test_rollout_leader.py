"""The IDM leader of a rollout: an obstacle the plan runs into stays the leader (gap 0) also
once the ego is past it, so the plan stays stopped instead of driving on through it."""

from __future__ import annotations

import numpy as np

from drivestack.ingest.maps.synthetic import straight_road
from drivestack.planning.pdm import IDMPlanner
from drivestack.sim.world import Observation
from drivestack.structures.boxes import Boxes3D
from drivestack.structures.ego_state import EgoState


def stopped_car(x_m: float) -> Boxes3D:
    return Boxes3D.from_array7(
        [[x_m, 1.75, 0.75, 4.5, 1.8, 1.5, 0.0]], "world", label=[1], velocity_mps=[[0.0, 0.0]]
    )


def idm_plan(car_x_m: float, speed_mps: float) -> np.ndarray:
    planner = IDMPlanner(straight_road(n_lanes=1), ["road_0"])
    ego = EgoState(0, 0.0, 1.75, 0.0, speed_mps=speed_mps)
    return planner.step(Observation(0, ego, stopped_car(car_x_m), ("a",))).speed_mps


def test_a_plan_that_runs_into_a_stopped_car_stays_stopped() -> None:
    # the car's rear is 7.4 - 2.25 = 5.15 m ahead, the ego's front 4.15 m: a 1 m gap at 15 m/s
    # cannot be closed without contact; the plan brakes at the 9 m/s^2 limit and stays at 0
    speed = idm_plan(7.4, 15.0)
    assert np.all(np.diff(speed) <= 1e-12)  # never speeds up again
    stop = int(np.argmax(speed == 0.0))
    assert 0 < stop < 25 and np.all(speed[stop:] == 0.0)


def test_a_car_already_behind_the_ego_is_no_leader() -> None:
    # the car's front (-10 + 2.25) is behind the ego's rear (-1.03): free road, speed up
    speed = idm_plan(-10.0, 10.0)
    assert np.all(np.diff(speed) >= 0.0) and speed[-1] > 14.0
