"""Red lights on real maps, closed loop (needs the shared data): the OpenDRIVE junction of
``opendrive_signal_stop`` (the map's signals given a cycle by the scenario) and Peachtree St's
own CommonRoad cycles (``commonroad_usa_peach_red_light``). The built-in planners stop before
the line while the light says stop, go at green, and never run a red; a planner that ignores
the lights (constant speed, or PDM never shown them) runs it and the metric catches it. The
figures checked are the ones worked out by hand in the scenario files' comments."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from drivestack.eval.driving.traffic_lights import front_bumper_m, stop_segments
from drivestack.sim.build import BuiltScenario, build_scenario
from drivestack.sim.evaluate import PLANNERS, ScenarioResult, run_scenario
from drivestack.sim.scenario import load_scenarios
from drivestack.sim.world import Observation
from drivestack.structures.traffic_light import SIGNAL_STATES, STOP_STATES
from drivestack.structures.trajectory import Trajectory
from tests.sim.test_custom_planner import CruisePlanner

pytestmark = pytest.mark.data

SCENARIOS = Path(__file__).resolve().parents[2] / "configs" / "scenarios"
GREEN, YELLOW, RED = (SIGNAL_STATES.index(s) for s in ("green", "yellow", "red"))
STOPS = [SIGNAL_STATES.index(s) for s in STOP_STATES]
SPEED_MPS = 50.0 / 3.6  # both scenarios start the ego at 50 km/h
#: The OpenDRIVE ego's approach lane and the two signal heads stopping it (same line).
OD_LANE, OD_LIGHTS = "197_0_1", ("281", "286")
#: Peachtree St: the ego's lane and the file's light stopping it.
PEACH_LANE, PEACH_LIGHT = "43208", "43920"


@pytest.fixture(scope="module")
def scenarios(shared_data: Path) -> Callable[[str], BuiltScenario]:
    """``name`` -> the built scenario (built once per module; each run resets its world)."""
    cache: dict[str, BuiltScenario] = {}

    def get(name: str) -> BuiltScenario:
        if name not in cache:
            (cfg,) = load_scenarios(SCENARIOS / f"{name}.yaml")
            cache[name] = build_scenario(cfg, shared_data)
        return cache[name]

    return get


def approach(
    result: ScenarioResult, scenario: BuiltScenario, lane_id: str
) -> tuple[np.ndarray, np.ndarray]:
    """``(T,)`` how far the ego's front is past the stop line of ``lane_id`` along the lane
    (negative: before it), and ``(T,)`` the state code of the first light stopping that lane
    (every light stopping it is checked to show the same and to share the line)."""
    segments = [s for s in stop_segments(scenario.road_map) if s.lane_id == lane_id]
    assert segments
    seg = segments[0]
    for other in segments[1:]:
        np.testing.assert_allclose(other.center_m, seg.center_m, atol=1e-6)
    history = result.history
    columns = [history.traffic_light_ids.index(s.light_id) for s in segments]
    state = history.traffic_light_state[:, columns]
    assert np.all(state == state[:, :1])
    along = np.array([np.cos(seg.heading_rad), np.sin(seg.heading_rad)])
    return (front_bumper_m(history.ego_boxes) - seg.center_m) @ along, state[:, 0]


class LightBlind:
    """A built-in planner never shown the lights (each reads ``unknown``, so it goes)."""

    name = "light_blind"

    def __init__(self, planner: str, scenario: BuiltScenario) -> None:
        self.inner = PLANNERS[planner](
            scenario.road_map, scenario.route_lanes, scenario.world.vehicle
        )

    def reset(self) -> None:
        self.inner.reset()

    def step(self, observation: Observation) -> Trajectory:
        return self.inner.step(dataclasses.replace(observation, traffic_lights=()))


@pytest.mark.parametrize("planner", ["pdm", "idm"])
def test_opendrive_junction_stop_at_red_then_go_at_green(
    planner: str, scenarios: Callable[[str], BuiltScenario]
) -> None:
    scenario = scenarios("opendrive_signal_stop")
    assert scenario.route_lanes == ["275_0_-1", OD_LANE, "203_0_-1", "196_0_-1", "261_0_1"]
    result = run_scenario(scenario, planner)
    history = result.history
    past, state = approach(result, scenario, OD_LANE)
    # the scenario's cycle on the map's signals, by hand: green, yellow at 3.5 s, red at
    # 6.5 s, green at 20 s; the front starts 129 - 4.15 - 12 = 112.85 m before the line
    assert (state[34], state[35], state[64], state[65]) == (GREEN, YELLOW, YELLOW, RED)
    red = np.isin(state, STOPS)
    assert np.flatnonzero(red).tolist() == list(range(65, 200)) and state[200] == GREEN
    assert past[0] == pytest.approx(-112.85, abs=0.05)
    assert np.all(past[red] < 0.0)  # before the line while red ...
    assert history.ego_speed_mps[red].min() < 0.1 and past[red].max() > -5.0  # ... stopped at it
    crossed = int(np.flatnonzero(past > 0.0)[0])
    assert crossed > 200 and past[-1] > 50.0  # through the junction after green only
    # the crossing car passes the ego's path (x = 291.9 m) at 8.9 s (by hand), during the red,
    # in front of the braking ego
    car = history.agent_ids.index("crossing")
    passes = int(np.flatnonzero(history.agent_boxes[:, car, 0] >= 291.9)[0])
    assert history.time_s[passes] == pytest.approx(8.87, abs=0.1)
    assert red[passes] and past[passes] < -5.0
    assert not history.collisions.any()
    assert result.red_light.count == 0 and result.red_light.lights == 68
    assert result.passed, result.failures


@pytest.mark.parametrize("planner", ["pdm", "idm"])
def test_peach_stops_at_the_files_red_behind_the_recorded_queue(
    planner: str, scenarios: Callable[[str], BuiltScenario]
) -> None:
    scenario = scenarios("commonroad_usa_peach_red_light")
    result = run_scenario(scenario, planner)
    history = result.history
    past, state = approach(result, scenario, PEACH_LANE)
    # the file's cycle (green 40 s, yellow 3 s, red 57 s, offset 59 s): yellow until 2 s, then
    # red to the run's end; the front starts 55.06 - 1.5 - 4.15 = 49.41 m before the line
    assert np.all(state[:20] == YELLOW) and np.all(state[20:] == RED)
    assert past[0] == pytest.approx(-49.41, abs=0.05)
    assert np.all(past < 0.0) and past[-1] > -5.0  # it stopped at the line, not behind it
    assert history.ego_speed_mps[-20:].max() < 0.1  # and stands there after the recording ends
    assert not history.agent_valid[-1].any()
    assert not history.collisions.any()
    assert result.red_light.count == 0 and result.red_light.lights == 4
    assert result.passed, result.failures


@pytest.mark.parametrize(
    ("name", "lane", "lights", "tick"),
    [
        # 112.85 m / 13.89 m/s = 8.1 s: past the line at tick 82, 1.6 s into red
        ("opendrive_signal_stop", OD_LANE, OD_LIGHTS, 82),
        # 49.41 m / 13.89 m/s = 3.6 s: tick 36, 1.6 s into red
        ("commonroad_usa_peach_red_light", PEACH_LANE, (PEACH_LIGHT,), 36),
    ],
)
def test_a_constant_speed_planner_runs_the_red_and_is_caught(
    name: str,
    lane: str,
    lights: tuple[str, ...],
    tick: int,
    scenarios: Callable[[str], BuiltScenario],
) -> None:
    scenario = scenarios(name)
    result = run_scenario(scenario, CruisePlanner(speed_mps=SPEED_MPS))
    past, state = approach(result, scenario, lane)
    events = result.red_light.violations
    # one violation for the passing, although the junction has two signal heads on the line
    assert len(events) == 1 and events[0].light_id in lights
    assert {(e.tick, e.lane_id) for e in events} == {(tick, lane)}
    assert past[tick - 1] <= 0.0 < past[tick] and state[tick] in STOPS
    assert events[0].speed_mps == pytest.approx(SPEED_MPS, abs=0.1)
    assert not result.passed
    assert any(
        f.startswith(f"ran a red light: {events[0].light_id} on lane {lane}")
        for f in result.failures
    )
    if name == "opendrive_signal_stop":  # the car crossing on its green is hit (8.8 s by hand)
        car = result.history.agent_ids.index("crossing")
        first = int(np.flatnonzero(result.history.collisions[:, car])[0])
        assert 8.5 <= result.history.time_s[first] <= 8.9


@pytest.mark.parametrize(
    ("name", "lane"),
    [("opendrive_signal_stop", OD_LANE), ("commonroad_usa_peach_red_light", PEACH_LANE)],
)
def test_pdm_blind_to_the_lights_runs_the_red(
    name: str, lane: str, scenarios: Callable[[str], BuiltScenario]
) -> None:
    """The same planner, shown no light: the stop was the light's doing. On the junction it
    slows for the crossing car and drives on at red; at Peachtree St it follows the recorded
    queue almost to the line, and drives on once the recording ends (6 s) while still red."""
    scenario = scenarios(name)
    result = run_scenario(scenario, LightBlind("pdm", scenario))
    past, state = approach(result, scenario, lane)
    (first, *_) = result.red_light.violations
    assert past[first.tick - 1] <= 0.0 < past[first.tick] and state[first.tick] in STOPS
    assert not result.history.collisions.any()
    if name == "commonroad_usa_peach_red_light":
        assert first.time_s > 6.0 and not result.history.agent_valid[first.tick].any()
    assert not result.passed
