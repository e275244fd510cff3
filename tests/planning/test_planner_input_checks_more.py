"""Planner input checks: no route over non-drivable lanes, and the IDM baseline's two sanity
stops (facing against the route, off the drivable area), the ones PDMPlanner has."""

from __future__ import annotations

import math

import numpy as np
import pytest

from drivestack.ingest.maps.synthetic import straight_road
from drivestack.planning.pdm import IDMPlanner, PDMPlanner
from drivestack.planning.reference_path import ReferencePath
from drivestack.sim.world import Observation
from drivestack.structures.boxes import Boxes3D
from drivestack.structures.ego_state import EgoState
from drivestack.structures.road_map import Lane, RoadMap


def _sidewalk_map() -> RoadMap:
    """Road ``r`` (0..100 m, y = 0) and sidewalk ``sw`` beside it (y = 3), both along +x."""
    return RoadMap(
        (
            Lane("r", [[0, 0], [100, 0]], [[0, 1.75], [100, 1.75]], [[0, -1.75], [100, -1.75]]),
            Lane(
                "sw", [[0, 3], [100, 3]], [[0, 4], [100, 4]], [[0, 2], [100, 2]],
                lane_type="sidewalk",
            ),
        )
    )  # fmt: skip


@pytest.mark.parametrize("planner", [PDMPlanner, IDMPlanner])
def test_planners_refuse_a_route_over_a_sidewalk(planner: type[PDMPlanner]) -> None:
    # before: accepted; IDM then planned 92 m along a sidewalk at 13.3 m/s
    with pytest.raises(ValueError, match="route lane 'sw' is a 'sidewalk' lane, not drivable"):
        planner(_sidewalk_map(), ["sw"])
    planner(_sidewalk_map(), ["r"])  # the road next to it is fine


def test_reference_path_refuses_a_non_drivable_lane() -> None:
    with pytest.raises(ValueError, match="'sw' is a 'sidewalk' lane"):
        ReferencePath.from_route(_sidewalk_map(), ["sw"])


def _idm_plan(
    x_m: float, y_m: float, yaw_rad: float, speed_mps: float
) -> tuple[IDMPlanner, np.ndarray]:
    planner = IDMPlanner(straight_road(n_lanes=2), ["road_0"])  # one-way, lane 0 at y = 1.75
    ego = EgoState(0, x_m, y_m, yaw_rad, speed_mps=speed_mps)
    plan = planner.step(Observation(0, ego, Boxes3D.empty("world"), ()))
    return planner, plan.speed_mps


def test_idm_on_its_lane_drives() -> None:
    planner, speed = _idm_plan(-50.0, 1.75, 0.0, 5.0)
    assert planner.debug is not None and planner.debug.stop_reason is None
    assert planner.debug.chosen == 0 and speed[-1] > 5.0


def test_idm_facing_against_the_route_brakes_to_a_stop_and_holds() -> None:
    # before: a U-turn at speed (2.8 g lateral)
    planner, speed = _idm_plan(-50.0, 1.75, math.pi, 5.0)
    debug = planner.debug
    assert debug is not None and debug.stop_reason == "facing against the route"
    assert debug.chosen == -1 and not debug.emergency
    # comfortable braking (b = 3 m/s^2): 5 - 0.3 k m/s for k = 0..16, then standing (as PDM)
    np.testing.assert_allclose(speed[:17], 5.0 - 0.3 * np.arange(17), atol=1e-9)
    np.testing.assert_array_equal(speed[17:], 0.0)


def test_idm_off_the_road_stops_instead_of_driving_back_across_the_ground() -> None:
    # 30 m left of a 7 m wide road (y 0..7): every corner is 21 m and more off the drivable
    # area; before: it drove back to the route across the ground
    planner, speed = _idm_plan(-50.0, 31.75, 0.0, 5.0)
    debug = planner.debug
    assert debug is not None and debug.stop_reason == "no proposal stays on the drivable area"
    assert debug.chosen == -1
    np.testing.assert_allclose(speed[:17], 5.0 - 0.3 * np.arange(17), atol=1e-9)
    np.testing.assert_array_equal(speed[17:], 0.0)
    pdm = PDMPlanner(straight_road(n_lanes=2), ["road_0"])
    ego = EgoState(0, -50.0, 31.75, 0.0, speed_mps=5.0)
    pdm.step(Observation(0, ego, Boxes3D.empty("world"), ()))
    assert pdm.debug is not None and pdm.debug.stop_reason == debug.stop_reason  # the same rule
