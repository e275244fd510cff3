"""The planner brakes instead of driving off when the ego faces against its route or the best
proposal makes no progress along it, and says why in ``debug.stop_reason``."""

from __future__ import annotations

import math

import numpy as np
import pytest

from drivestack.ingest.maps.synthetic import straight_road
from drivestack.planning.pdm import (
    PDMPlanner,
    drives_without_progress,
    faces_against_route,
)
from drivestack.planning.proposals import Rollout
from drivestack.sim.world import Observation
from drivestack.structures.boxes import Boxes3D
from drivestack.structures.ego_state import EgoState


def plan_from(yaw_rad: float, speed_mps: float, n_lanes: int = 2) -> tuple[PDMPlanner, np.ndarray]:
    planner = PDMPlanner(straight_road(n_lanes=n_lanes), ["road_0"])  # one-way lanes along +x
    ego = EgoState(0, -50.0, 1.75, yaw_rad, speed_mps=speed_mps)
    plan = planner.step(Observation(0, ego, Boxes3D.empty("world"), ()))
    return planner, plan.speed_mps


def test_facing_against_the_route_brakes_to_a_stop_and_holds() -> None:
    planner, speed = plan_from(math.pi, 5.0)
    debug = planner.debug
    assert debug is not None and debug.stop_reason == "facing against the route"
    assert debug.chosen == -1 and not debug.emergency
    # comfortable braking (IDM b = 3 m/s^2; the 40 m/s^3 jerk limit allows it in one step):
    # 5 - 0.3 k m/s for k = 0..16, then standing
    np.testing.assert_allclose(speed[:17], 5.0 - 0.3 * np.arange(17), atol=1e-9)
    np.testing.assert_array_equal(speed[17:], 0.0)
    _, standing = plan_from(math.pi, 0.0)
    np.testing.assert_array_equal(standing, 0.0)  # and holds there


def test_facing_along_the_route_drives_normally() -> None:
    planner, speed = plan_from(0.0, 5.0)
    assert planner.debug is not None and planner.debug.stop_reason is None
    assert planner.debug.chosen == 0 and speed[-1] > 10.0
    # steeply off, but not against it (3 lanes: on 2, turning back onto the route leaves the
    # road, and with no proposal on the drivable area the planner stops)
    planner, _ = plan_from(math.radians(80.0), 5.0, n_lanes=3)
    assert planner.debug is not None and planner.debug.stop_reason is None


def test_faces_against_route_is_about_90_degrees() -> None:
    path = PDMPlanner(straight_road(), ["road_0"]).reference
    for yaw_deg, want in [(0.0, False), (89.0, False), (91.0, True), (180.0, True), (-91.0, True)]:
        assert faces_against_route(path, 20.0, math.radians(yaw_deg)) is want, yaw_deg


def _rollout(x_m: list[float], station_m: list[float]) -> Rollout:
    n = len(x_m)
    states = np.zeros((1, n, 6))
    states[0, :, 0] = x_m
    s = np.asarray([station_m], dtype=np.float64)
    return Rollout(states, s, np.full((1, n), np.inf), np.zeros((1, n)))


@pytest.mark.parametrize(
    ("x_m", "station_m", "want"),
    [
        ([0.0, -1.0, -2.0], [10.0, 9.0, 8.0], True),  # 2 m travelled, 2 m lost
        ([0.0, 1.0, 2.0], [10.0, 10.0, 10.0], True),  # 2 m travelled across: no progress
        ([0.0, 1.0, 2.0], [10.0, 11.0, 12.0], False),  # progress
        ([0.0, -0.2, -0.4], [10.0, 9.8, 9.6], False),  # 0.4 m: below the 0.5 m travel floor
        ([0.0, 0.0, 0.0], [10.0, 10.0, 10.0], False),  # standing
    ],
)
def test_drives_without_progress(x_m: list[float], station_m: list[float], want: bool) -> None:
    assert drives_without_progress(_rollout(x_m, station_m), 0, 2) is want
