"""The traffic-light scenarios closed loop: the built-in planners stop before the line while the
light is red and go at green (red_light_stop), drive through a late yellow (red_light_dilemma),
never run a red light; a planner that ignores lights runs it and fails the run."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest

from drivestack.eval.driving.traffic_lights import front_bumper_m, stop_segments
from drivestack.sim.build import BuiltScenario, build_scenario
from drivestack.sim.evaluate import ScenarioResult, run_scenario
from drivestack.sim.scenario import ScenarioConfig, load_scenarios
from drivestack.structures.traffic_light import SIGNAL_STATES, STOP_STATES
from tests.sim.test_custom_planner import SCENARIO as NO_LIGHTS
from tests.sim.test_custom_planner import CruisePlanner

SCENARIOS = Path(__file__).resolve().parents[2] / "configs" / "scenarios"
GREEN, YELLOW = SIGNAL_STATES.index("green"), SIGNAL_STATES.index("yellow")
STOPS = [SIGNAL_STATES.index(s) for s in STOP_STATES]


def built(name: str) -> BuiltScenario:
    (cfg,) = load_scenarios(SCENARIOS / f"{name}.yaml")
    return build_scenario(cfg)


def past_line_m(result: ScenarioResult, scenario: BuiltScenario) -> np.ndarray:
    """``(T,)`` how far the ego's front is past the ego lane's stop line (negative: before),
    along the lane; and the light's recorded state is column 0 of the history."""
    (seg,) = [s for s in stop_segments(scenario.road_map) if s.lane_id == "road_0"]
    along = np.array([np.cos(seg.heading_rad), np.sin(seg.heading_rad)])
    return (front_bumper_m(result.history.ego_boxes) - seg.center_m) @ along


def run_light_scenario(name: str, planner: str) -> tuple[ScenarioResult, np.ndarray, np.ndarray]:
    """The run of scenario ``name`` by ``planner``, its light's recorded state ``(T,)`` and
    :func:`past_line_m`."""
    scenario = built(name)
    result = run_scenario(scenario, planner)
    return result, result.history.traffic_light_state[:, 0], past_line_m(result, scenario)


@pytest.mark.parametrize("planner", ["pdm", "idm"])
def test_red_light_stop_waits_for_green(planner: str) -> None:
    result, state, past = run_light_scenario("red_light_stop", planner)
    history = result.history
    red = np.isin(state, STOPS)
    assert red.any() and past[0] < -90.0  # the run sees a red phase; it starts far away
    assert np.all(past[red] < 0.0)  # the front stays before the line while red
    assert history.ego_speed_mps[red].min() < 0.1  # it stopped there
    first_green = int(np.flatnonzero(red)[-1]) + 1  # green again after the red phase
    assert state[first_green] == GREEN
    assert past[-1] > 10.0  # it went on after green ...
    crossed = int(np.flatnonzero(past > 0.0)[0])
    assert crossed > first_green  # ... and only then
    assert result.red_light.count == 0 and result.red_light.lights == 1
    assert not history.collisions.any()
    assert result.passed, result.failures


@pytest.mark.parametrize("planner", ["pdm", "idm"])
def test_red_light_dilemma_drives_through_the_yellow(planner: str) -> None:
    result, state, past = run_light_scenario("red_light_dilemma", planner)
    history = result.history
    crossed = int(np.flatnonzero(past > 0.0)[0])
    assert state[crossed] == YELLOW  # through on yellow, before red
    # yellow began when the front was too close to stop comfortably (<= 3 m/s^2)
    yellow_from = int(np.flatnonzero(state == YELLOW)[0])
    speed = history.ego_speed_mps[yellow_from]
    assert speed**2 / (2.0 * -past[yellow_from]) > 3.0
    assert result.red_light.count == 0
    assert result.passed, result.failures


def test_a_planner_ignoring_lights_runs_the_red_and_fails() -> None:
    scenario = built("red_light_stop")
    result = run_scenario(scenario, CruisePlanner(speed_mps=50.0 / 3.6))
    (event,) = result.red_light.violations
    past = past_line_m(result, scenario)
    assert past[event.tick - 1] <= 0.0 < past[event.tick]
    assert (event.light_id, event.lane_id) == ("L1", "road_0")
    assert event.speed_mps == pytest.approx(50.0 / 3.6, abs=0.1)
    # by hand: 95.85 m at 13.89 m/s is 6.9 s, the light red from 6 s
    assert event.time_s == pytest.approx(6.9, abs=0.11)
    assert not result.passed
    assert result.failures == (
        f"ran a red light: L1 on lane road_0 at {event.time_s:.1f} s, {event.speed_mps:.1f} m/s",
    )
    record = result.as_dict()
    assert record["red_light_violations"] == 1 and record["red_light"]["lights"] == 1
    assert record["red_light"]["events"][0]["tick"] == event.tick
    # the criterion can be switched off
    cfg: ScenarioConfig = scenario.config
    lenient = dataclasses.replace(
        cfg,
        pass_criteria=dataclasses.replace(cfg.pass_criteria, no_red_light_violation=False),
    )
    again = run_scenario(lenient, CruisePlanner(speed_mps=50.0 / 3.6))
    assert again.red_light.count == 1 and again.passed, again.failures


def test_a_scenario_without_lights_is_unaffected() -> None:
    result = run_scenario(NO_LIGHTS, CruisePlanner(speed_mps=10.0), max_steps=20)
    assert result.red_light.lights == 0 and result.red_light.count == 0
    assert result.passed and result.failures == ()
    record = result.as_dict()
    assert record["red_light_violations"] == 0
    assert record["red_light"] == {
        "violations": 0,
        "lights": 0,
        "events": [],
        "agent_red_light_runs": 0,
        "agent_events": [],
    }


def test_a_cut_short_run_does_not_judge_progress() -> None:
    result = run_scenario(built("red_light_stop"), "idm", max_steps=5)
    assert result.passed, result.failures
    assert "min_progress_m not evaluated: run cut at 5 of 300 steps" in result.not_evaluated
