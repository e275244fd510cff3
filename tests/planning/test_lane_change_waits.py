"""A route that asks for a lane change with a car alongside in the target lane: both planners
wait in the ego's own lane until the car has passed, then change lane behind it (before, PDM
steered into it, braking along the route, and the IDM baseline ignored it); PDM's emergency
stop keeps the ego's lane instead of steering onto the route."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from drivestack.ingest.maps.synthetic import straight_road
from drivestack.planning.pdm import PDMPlanner
from drivestack.sim.evaluate import run_scenario
from drivestack.sim.scenario import load_scenarios
from drivestack.sim.world import Observation
from drivestack.structures.boxes import Boxes3D
from drivestack.structures.ego_state import EgoState

LANE_0_Y_M = 1.75  # straight_road: lane i centred on y = 1.75 + 3.5 i, starting at x = -100 m
LANE_1_Y_M = 5.25

SCENARIO = """\
name: lane_change_beside
map: {{kind: straight, params: {{n_lanes: 2, speed_limit_mps: 13.89}}}}
ego: {{lane: road_0, station_m: 100.0, speed_kph: 50.0}}
route: {{lanes: [road_1]}}
duration_s: 12.0
agents:
  - {{id: beside, type: car, behavior: scripted, lanes: [road_1], station_m: 98.0,
      speed_kph: {speed_kph}}}
"""


@pytest.mark.parametrize("planner", ["pdm", "idm"])
@pytest.mark.parametrize("speed_kph", [50.0, 60.0])
def test_lane_change_waits_for_the_car_alongside(
    tmp_path: Path, planner: str, speed_kph: float
) -> None:
    # the car 2 m behind the ego's rear axle in the target lane, as fast (it stays alongside
    # for the whole run) or 10 km/h faster (it passes after about 3 s)
    path = tmp_path / "lane_change.yaml"
    path.write_text(SCENARIO.format(speed_kph=speed_kph))
    (scenario,) = load_scenarios(path)
    result = run_scenario(scenario, planner)
    h = result.history
    assert not h.collisions.any() and result.passed
    ego, car = h.ego_boxes, h.agent_boxes[:, 0]
    alongside = np.abs(ego[:, 0] - car[:, 0]) < (ego[:, 3] + car[:, 3]) / 2
    assert alongside.any()
    # the ego's footprint stays in its own lane while the car is alongside
    assert np.all(ego[alongside, 1] + ego[alongside, 4] / 2 < LANE_0_Y_M + 1.75)
    if speed_kph > 50.0:  # then changes lane behind it, without braking hard
        assert abs(h.ego_y_m[-1] - LANE_1_Y_M) < 0.3
        assert np.min(h.ego_accel_mps2) > -4.5
    else:
        assert np.all(np.abs(h.ego_y_m - LANE_0_Y_M) < 0.05)


def test_emergency_stop_keeps_the_egos_lane_when_the_route_changes_lane() -> None:
    # the ego in road_0, its route road_1: a stopped car 3 m ahead of its front bumper and a
    # car alongside in road_1, so every proposal (road_1's and the ego's own lane's) collides
    road = straight_road(n_lanes=2, speed_limit_mps=13.89)
    planner = PDMPlanner(road, ["road_1"])
    ego = EgoState(0, 0.0, LANE_0_Y_M, 0.0, speed_mps=13.89)
    ahead_x = planner.vehicle.front_offset_m + 3.0 + 2.25
    agents = Boxes3D.from_array7(
        [
            [ahead_x, LANE_0_Y_M, 0.75, 4.5, 1.8, 1.5, 0.0],
            [1.0, LANE_1_Y_M, 0.75, 4.5, 1.8, 1.5, 0.0],
        ],
        "world",
        label=[1, 1],
        velocity_mps=[[0.0, 0.0], [13.89, 0.0]],
    )
    plan = planner.step(Observation(0, ego, agents, ("stopped", "beside")))
    debug = planner.debug
    assert debug is not None and debug.stop_reason == "every proposal collides"
    assert debug.emergency and debug.brake_decel_mps2 == planner.params.emergency_decel_mps2
    # the ego's own lane was a proposal (3.5 m right of the route's centreline)
    assert np.any(np.isclose(debug.offsets_m, -3.5))
    assert plan.speed_mps[-1] == 0.0
    # braking along the route steered towards road_1 (y up to 3.78 m); now it keeps its lane
    assert np.max(np.abs(plan.y_m - LANE_0_Y_M)) < 0.05
