"""A route that changes lanes from the ego's lane (``route: {goal_lane: ...}``): both planners
change lanes from where the ego starts, at speed, along a smooth blend (before: on at 25 m/s to
the middle of the lane, braking to 8.5 m/s for a 20 m blend's kinks, the change at 13.5 s), and
wait in the ego's lane while a car beside it blocks the change."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from drivestack.eval.driving.comfort import nuplan_comfort_signals
from drivestack.ingest.maps.synthetic import straight_road
from drivestack.planning.pdm import IDMPlanner, PDMPlanner
from drivestack.sim.evaluate import run_scenario
from drivestack.sim.scenario import load_scenarios
from drivestack.sim.world import Observation
from drivestack.structures.boxes import Boxes3D
from drivestack.structures.ego_state import EgoState
from drivestack.structures.road_map import LANE_CHANGE_DURATION_S

LANE_0_Y_M, LANE_1_Y_M = 1.75, 5.25  # straight_road, lanes from x = -100 m

AT_SPEED = """\
name: lane_change_at_speed
map: {kind: straight, params: {n_lanes: 2, speed_limit_mps: 27.8}}
ego: {lane: road_0, station_m: 50.0, speed_kph: 90.0}
route: {goal_lane: road_1}
duration_s: 10.0
"""

BESIDE = """\
name: lane_change_beside
map: {{kind: straight, params: {{n_lanes: 2, speed_limit_mps: 13.89}}}}
ego: {{lane: road_0, station_m: 100.0, speed_kph: 50.0}}
route: {{goal_lane: road_1}}
duration_s: {duration_s}
agents:
  - {{id: beside, type: car, behavior: scripted, lanes: [road_1], station_m: 98.0,
      speed_kph: {speed_kph}}}
"""


def _run(tmp_path: Path, text: str, planner: str):  # type: ignore[no-untyped-def]
    path = tmp_path / "scenario.yaml"
    path.write_text(text)
    (scenario,) = load_scenarios(path)
    return run_scenario(scenario, planner)


@pytest.mark.parametrize("planner", ["pdm", "idm"])
def test_lane_change_at_speed_on_an_empty_road(tmp_path: Path, planner: str) -> None:
    result = _run(tmp_path, AT_SPEED, planner)
    h = result.history
    t_s = (h.timestamp_ns - h.timestamp_ns[0]) / 1e9
    assert result.passed and result.nuplan.comfort == 1.0
    assert np.min(h.ego_speed_mps) >= 24.5  # before: braked to 8.5 m/s
    # begun at once, done within LANE_CHANGE_DURATION_S and a second
    assert h.ego_y_m[t_s.searchsorted(1.0)] > LANE_0_Y_M + 0.1
    done = np.abs(h.ego_y_m - LANE_1_Y_M) < 0.1
    first = int(np.argmax(done))
    assert done[first:].all() and t_s[first] <= LANE_CHANGE_DURATION_S + 1.0
    # sideways comfortably: the blend's 1.3 m/s^2 at the limit, tracked
    signals = nuplan_comfort_signals(
        h.ego_speed_mps, h.ego_yaw_rad, h.ego_accel_mps2, 0.1, h.vehicle.center_offset_m
    )
    assert np.max(np.abs(signals.lat_accel_mps2)) < 2.0


@pytest.mark.parametrize("planner", ["pdm", "idm"])
@pytest.mark.parametrize("speed_kph", [50.0, 60.0])
def test_the_lane_change_waits_for_the_car_beside(
    tmp_path: Path, planner: str, speed_kph: float
) -> None:
    # the car 2 m behind the ego's rear axle in the target lane, as fast (alongside all the
    # run) or 10 km/h faster (past after about 3 s); before: IDM steered into it at once
    duration_s = 11.0 if speed_kph > 50.0 else 5.0
    result = _run(tmp_path, BESIDE.format(speed_kph=speed_kph, duration_s=duration_s), planner)
    h = result.history
    assert not h.collisions.any() and result.passed
    ego, car = h.ego_boxes, h.agent_boxes[:, 0]
    alongside = np.abs(ego[:, 0] - car[:, 0]) < (ego[:, 3] + car[:, 3]) / 2 + 2.0
    assert alongside.any()
    assert np.all(ego[alongside, 1] + ego[alongside, 4] / 2 < LANE_0_Y_M + 1.75)
    if speed_kph > 50.0:  # then changes lanes behind it, without braking hard
        assert abs(h.ego_y_m[-1] - LANE_1_Y_M) < 0.1
        assert np.min(h.ego_accel_mps2) > -3.0
        assert result.nuplan.comfort == 1.0
    else:
        assert np.all(np.abs(h.ego_y_m - LANE_0_Y_M) < 0.05)


@pytest.mark.parametrize("planner_cls", [PDMPlanner, IDMPlanner])
def test_the_plan_changes_lanes_from_the_egos_station(planner_cls: type) -> None:
    road = straight_road(speed_limit_mps=27.8)
    planner = planner_cls(road, ["road_0", "road_1"])
    midway, _ = planner.reference.pose_at(np.array([299.0, 300.0 + 111.2]))
    # built without the ego: leaves road_0 midway
    np.testing.assert_allclose(midway[:, 1], [LANE_0_Y_M, LANE_1_Y_M], atol=1e-3)
    ego = EgoState(0, -50.0, LANE_0_Y_M, 0.0, speed_mps=25.0)
    plan = planner.step(Observation(0, ego, Boxes3D.empty("world"), ()))
    # rebuilt from the ego's station (50 m): road_1 reached 4 s at the limit on (111.2 m)
    xy, _ = planner.reference.pose_at(np.array([50.0, 50.0 + 55.6, 50.0 + 111.2]))
    np.testing.assert_allclose(xy[:, 1], [LANE_0_Y_M, 3.5, LANE_1_Y_M], atol=0.01)
    assert plan.y_m[-1] > LANE_1_Y_M - 0.2 and np.min(plan.speed_mps) > 24.5
    # again after a reset, from wherever the ego then is
    planner.reset()
    ego = EgoState(0, 100.0, LANE_0_Y_M, 0.0, speed_mps=25.0)
    planner.step(Observation(0, ego, Boxes3D.empty("world"), ()))
    xy, _ = planner.reference.pose_at(np.array([200.0, 200.0 + 111.2]))
    np.testing.assert_allclose(xy[:, 1], [LANE_0_Y_M, LANE_1_Y_M], atol=2e-3)
