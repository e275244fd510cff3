"""Closed-loop runs of short scenarios, and the planner's emergency stop."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from drivestack.ingest.maps.synthetic import straight_road
from drivestack.planning.pdm import PDMPlanner
from drivestack.sim.evaluate import run_scenario
from drivestack.sim.scenario import ScenarioConfig, load_scenarios
from drivestack.sim.world import Observation
from drivestack.structures.boxes import Boxes3D
from drivestack.structures.ego_state import EgoState

CONFIGS = Path(__file__).resolve().parents[2] / "configs" / "scenarios"


def scenario(file: str, name: str) -> ScenarioConfig:
    return next(s for s in load_scenarios(CONFIGS / file) if s.name == name)


def test_ccrs_stops_before_the_stationary_car() -> None:
    result = run_scenario(scenario("ccrs.yaml", "ccrs[30kph]"), "pdm")
    h = result.history
    assert not h.collisions.any()
    assert h.ego_speed_mps[-1] < 0.1
    front = h.ego_boxes[-1, 0] + h.ego_boxes[-1, 3] / 2
    rear_of_target = h.agent_boxes[-1, 0, 0] - h.agent_boxes[-1, 0, 3] / 2
    assert 0.5 < rear_of_target - front < 6.0  # stopped close behind, not short of it
    assert result.ncap.avoided and result.passed
    assert result.nuplan.no_at_fault_collisions == 1.0


def test_cpna_avoids_the_crossing_pedestrian() -> None:
    result = run_scenario(scenario("cpna.yaml", "cpna[50kph]"), "pdm")
    assert result.ncap.avoided
    assert result.nuplan.progress_m > 50.0  # and drives on once the pedestrian has crossed


def test_planner_brakes_hard_when_every_proposal_collides() -> None:
    road = straight_road()
    planner = PDMPlanner(road, ["road_0"])
    ego = EgoState(0, 0.0, 1.75, 0.0, speed_mps=15.0)
    # a stopped car 3 m ahead of the ego's front bumper: no proposal can avoid it
    x = planner.vehicle.front_offset_m + 3.0 + 2.25
    agents = Boxes3D.from_array7(
        [[x, 1.75, 0.75, 4.5, 1.8, 1.5, 0.0]], "world", label=[1], velocity_mps=[[0.0, 0.0]]
    )
    plan = planner.step(Observation(0, ego, agents, ("car",)))
    assert planner.debug is not None and planner.debug.emergency
    assert np.all(np.diff(plan.speed_mps) <= 1e-9) and plan.speed_mps[-1] == 0.0
    assert plan.acceleration_mps2[5] == pytest.approx(-planner.params.emergency_decel_mps2)
    assert len(plan) == 81 and plan.timestamp_ns[1] == 100_000_000


def test_free_road_plan_keeps_the_lane_at_the_limit() -> None:
    road = straight_road(speed_limit_mps=15.0)
    planner = PDMPlanner(road, ["road_0"])
    plan = planner.step(
        Observation(0, EgoState(0, 0.0, 1.75, 0.0, speed_mps=15.0), Boxes3D.empty("world"), ())
    )
    assert planner.debug is not None and planner.debug.chosen == 0  # centreline, full speed
    np.testing.assert_allclose(plan.y_m, 1.75, atol=1e-6)
    np.testing.assert_allclose(
        plan.speed_mps, 15.0, atol=0.15
    )  # IDM barely feels the route end 500 m on
