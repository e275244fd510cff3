"""Planner inputs found by the round-2 bad-input campaign: a route naming a lane the map
lacks is a ValueError naming the route lane (before: a KeyError from the map), an agent
beyond the kernels' reach a ValueError naming its row and id (before: a 1e300 m/s velocity
failed inside the forecast without naming the agent)."""

from __future__ import annotations

import numpy as np
import pytest

from drivestack.ingest.maps.synthetic import straight_road
from drivestack.planning.pdm import IDMPlanner, PDMPlanner
from drivestack.planning.reference_path import ReferencePath
from drivestack.sim.world import Observation
from drivestack.structures.boxes import Boxes3D
from drivestack.structures.ego_state import EgoState

PLANNERS = [PDMPlanner, IDMPlanner]


def _obs(center: list[float], size: list[float], velocity: list[float]) -> Observation:
    ego = EgoState(0, -50.0, 1.75, 0.0, speed_mps=10.0)
    agents = Boxes3D(
        np.array([center]), np.array([size]), np.zeros(1), "world", 0,
        velocity_mps=np.array([velocity]),
    )  # fmt: skip
    return Observation(0, ego, agents, ("lead",))


@pytest.mark.parametrize("planner", PLANNERS)
def test_a_route_lane_missing_from_the_map_is_a_value_error(planner: type[PDMPlanner]) -> None:
    with pytest.raises(ValueError, match="route lane 1: RoadMap has no lane 'nope'"):
        planner(straight_road(n_lanes=2), ["road_0", "nope"])


def test_reference_path_names_a_missing_lane() -> None:
    with pytest.raises(ValueError, match="route lane 0: RoadMap has no lane 'x'"):
        ReferencePath.from_route(straight_road(n_lanes=1), ["x"])


@pytest.mark.parametrize("planner", PLANNERS)
@pytest.mark.parametrize(
    ("center", "size", "velocity"),
    [
        ([-20.0, 1.75, 0.75], [4.5, 1.85, 1.5], [1e300, 0.0]),
        ([1e200, 1.75, 0.75], [4.5, 1.85, 1.5], [0.0, 0.0]),
        ([100.0, 1.75, 0.75], [1e200, 1.85, 1.5], [0.0, 0.0]),
    ],
)
def test_an_agent_beyond_reach_is_refused_naming_it(
    planner: type[PDMPlanner], center: list[float], size: list[float], velocity: list[float]
) -> None:
    plan = planner(straight_road(n_lanes=2), ["road_0"])
    with pytest.raises(ValueError, match=r"Observation.agents row 0 \(id 'lead'\).*beyond"):
        plan.step(_obs(center, size, velocity))


@pytest.mark.parametrize("planner", PLANNERS)
def test_a_fast_far_agent_within_reach_is_planned_with(planner: type[PDMPlanner]) -> None:
    plan = planner(straight_road(n_lanes=2), ["road_0"])
    out = plan.step(_obs([1e6, 1.75, 0.75], [4.5, 1.85, 1.5], [300.0, 0.0]))
    assert np.isfinite(out.speed_mps).all()
