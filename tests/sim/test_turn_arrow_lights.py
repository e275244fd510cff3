"""Turn arrows in closed loop, on the hand-built CommonRoad intersection of
``tests/ingest/maps/turn_arrows.py`` (lanelet 1 along +x, its stop line at x = 60 m; light 10
a red left arrow, light 11 a green straight light, all run long): the planners' ego and the
``idm`` traffic stop at the line when their way is the left turn and drive on when it is
straight on, and the red-light metric counts a passing only into the governed left turn."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from drivestack.eval.driving.traffic_lights import front_bumper_m
from drivestack.planning.traffic_lights import RouteLightStop
from drivestack.sim.build import BuiltScenario, build_scenario
from drivestack.sim.evaluate import ScenarioResult, run_scenario
from drivestack.sim.scenario import load_scenarios
from tests.ingest.maps.turn_arrows import AFTER, LEFT, LINE_X_M, STRAIGHT, write_intersection
from tests.sim.test_custom_planner import CruisePlanner


def _built(
    folder: Path, ego: tuple[str, float], agent: tuple[str, float], **xml: object
) -> BuiltScenario:
    """The intersection with the ego on lanelet 1 at station ``ego[1]`` routed out by way
    ``ego[0]``, and an ``idm`` car on lanes 1, ``agent[0]`` and on at station ``agent[1]``,
    both at 10 m/s."""
    path = write_intersection(folder, **xml)
    way, station = agent
    scenario = folder / "turn_arrow.yaml"
    scenario.write_text(
        f"name: turn_arrow\ndescription: a red left arrow and a green straight light\n"
        f"map: {{kind: commonroad, file: {path}}}\n"
        f'ego: {{lane: "1", station_m: {ego[1]}, speed_kph: 36.0}}\n'
        f'route: {{goal_lane: "{AFTER[ego[0]]}"}}\n'
        "duration_s: 9.0\n"
        f'agents:\n  - {{id: car, type: car, behavior: idm, lanes: ["1", "{way}", "{AFTER[way]}"],'
        f" station_m: {station}, speed_mps: 10.0, desired_speed_mps: 10.0}}\n"
        "pass_criteria: {no_collision: true, no_red_light_violation: true}\n"
    )
    (cfg,) = load_scenarios(scenario)
    return build_scenario(cfg)


def _ego_front_x(result: ScenarioResult) -> np.ndarray:
    return front_bumper_m(result.history.ego_boxes)[:, 0]


def _car_front(result: ScenarioResult) -> np.ndarray:
    valid = result.history.agent_valid[:, 0]
    assert valid.all()
    return front_bumper_m(result.history.agent_boxes[:, 0])


@pytest.mark.parametrize("planner", ["pdm", "idm"])
def test_the_ego_turning_left_stops_the_car_going_straight_passes(
    tmp_path: Path, planner: str
) -> None:
    built = _built(tmp_path, ego=(LEFT, 5.0), agent=(STRAIGHT, 30.0))
    (car,) = built.world.traffic.specs
    assert car.light_stops == (RouteLightStop("11", "1", LINE_X_M),)  # the green one only
    result = run_scenario(built, planner)
    assert result.passed and result.red_light.count == 0
    ego = _ego_front_x(result)
    assert ego.max() < LINE_X_M and result.history.ego_speed_mps[-1] < 0.05  # waits at the arrow
    assert LINE_X_M - ego[-1] < 3.0  # at its stop point, not short of it
    car_front = _car_front(result)
    assert car_front[-1, 0] > LINE_X_M + 20.0 and abs(car_front[-1, 1]) < 0.5  # went straight


def test_the_ego_going_straight_passes_the_car_turning_left_stops(tmp_path: Path) -> None:
    built = _built(tmp_path, ego=(STRAIGHT, 20.0), agent=(LEFT, 2.0))
    (car,) = built.world.traffic.specs
    assert car.light_stops == (RouteLightStop("10", "1", LINE_X_M),)  # the arrow only
    result = run_scenario(built, "pdm")
    assert result.passed and result.red_light.count == 0
    assert _ego_front_x(result)[-1] > LINE_X_M + 20.0
    car_front = _car_front(result)
    # it waits at the red arrow: easing in to rest between its stop point and the line
    assert car_front[:, 0].max() < LINE_X_M and LINE_X_M - car_front[-1, 0] < 2.0
    assert np.hypot(*result.history.agent_velocity_mps[-1, 0]) < 0.5
    assert result.red_light.agent_runs == ()


def test_the_metric_counts_a_passing_only_into_the_governed_way(tmp_path: Path) -> None:
    # a planner blind to lights drives straight on along +x past the line
    arrow = _built(tmp_path, ego=(STRAIGHT, 20.0), agent=(STRAIGHT, 2.0))
    result = run_scenario(arrow, CruisePlanner(10.0))
    assert _ego_front_x(result)[-1] > LINE_X_M + 20.0
    assert result.red_light.count == 0  # the red arrow governs the left turn only
    # the same drive past a plain red light (every way out) is a violation
    plain = _built(tmp_path, ego=(STRAIGHT, 20.0), agent=(STRAIGHT, 2.0), arrow="all")
    result = run_scenario(plain, CruisePlanner(10.0))
    (violation,) = result.red_light.violations
    assert (violation.light_id, violation.lane_id) == ("10", "1")
