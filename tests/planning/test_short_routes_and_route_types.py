"""Routes shorter than the speed profile's 5-point curvature window plan (walkthrough item 1),
and a route given as one string is refused with a TypeError (item 11)."""

from __future__ import annotations

import numpy as np
import pytest

from drivestack.ingest.maps.synthetic import straight_road
from drivestack.planning.pdm import IDMPlanner, PDMPlanner
from drivestack.planning.reference_path import ReferencePath, smooth_same
from drivestack.sim.world import Observation
from drivestack.structures.boxes import Boxes3D
from drivestack.structures.ego_state import EgoState


def test_smoothing_keeps_the_length_of_short_inputs() -> None:
    # N >= 5: the 5-point average, zeros past the ends: a spike of 5 spreads as 1s
    np.testing.assert_allclose(smooth_same(np.array([0.0, 0.0, 5.0, 0.0, 0.0]), 5), np.ones(5))
    # N = 3 < 5: a 3-point average, (0 + 0 + 3) / 3 = 1 at every point
    np.testing.assert_allclose(smooth_same(np.array([0.0, 3.0, 0.0]), 5), np.ones(3))
    # N = 2: (2 + 0) / 2 = 1 (np.convolve "same" with an even window keeps the left pair)
    np.testing.assert_allclose(smooth_same(np.array([2.0, 0.0]), 5), [1.0, 1.0])


@pytest.mark.parametrize("length_m", [0.5, 2.0, 3.0, 4.0])
def test_speed_profile_of_a_short_straight_route_is_the_limit(length_m: float) -> None:
    path = ReferencePath.from_route(straight_road(length_m=length_m), ["road_0"])
    n = len(path.xy_m)  # points every 1 m, ends kept: 2 .. 5
    assert n == max(2, int(np.ceil(length_m)) + 1)
    # no curvature: the lane limit everywhere (27.78 m/s, nothing ahead to slow for)
    np.testing.assert_allclose(path.speed_profile(), np.full(n, 27.78))


@pytest.mark.parametrize("planner_type", [PDMPlanner, IDMPlanner])
@pytest.mark.parametrize("length_m", [0.5, 3.0])
def test_planners_on_a_route_shorter_than_the_car_stay_stopped(
    planner_type: type[PDMPlanner] | type[IDMPlanner], length_m: float
) -> None:
    planner = planner_type(straight_road(length_m=length_m), ["road_0"])
    ego = EgoState(0, -100.0, 1.75, 0.0, speed_mps=0.0)  # at the route's start, standing
    plan = planner.step(Observation(0, ego, Boxes3D.empty("world"), ()))
    np.testing.assert_array_equal(plan.speed_mps, 0.0)
    np.testing.assert_array_equal(plan.x_m, -100.0)


@pytest.mark.parametrize("planner_type", [PDMPlanner, IDMPlanner])
def test_a_route_given_as_one_string_is_a_type_error(
    planner_type: type[PDMPlanner] | type[IDMPlanner],
) -> None:
    with pytest.raises(TypeError, match=r"route_lanes must be a list of lane ids, got str"):
        planner_type(straight_road(), "road_0")  # type: ignore[arg-type]
    assert planner_type(straight_road(), ("road_0",)).route_lanes == ["road_0"]
