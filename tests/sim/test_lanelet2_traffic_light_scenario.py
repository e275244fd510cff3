"""A red light on the Lanelet2 sample map, closed loop (needs the shared data):
``lanelet2_signal_stop`` gives the Karlsruhe mapping example's six traffic-light regulatory
elements a junction cycle. The built-in planners stop before light 45234's line while it says
stop (red, then red-yellow) and go straight on at green; a constant-speed driver that follows
the route but ignores the lights runs the red and the metric catches it, and so does PDM when
it is shown no light. The figures checked
are the ones worked out by hand in the scenario file's comments."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from drivestack.sim.build import BuiltScenario, build_scenario
from drivestack.sim.evaluate import run_scenario
from drivestack.sim.scenario import load_scenarios
from drivestack.sim.world import Observation
from drivestack.structures.traffic_light import SIGNAL_STATES, STOP_STATES
from drivestack.structures.trajectory import Trajectory
from tests.sim.test_real_map_traffic_lights import LightBlind, approach

pytestmark = pytest.mark.data

SCENARIO = (
    Path(__file__).resolve().parents[2] / "configs" / "scenarios" / "lanelet2_signal_stop.yaml"
)
STOPS = [SIGNAL_STATES.index(s) for s in STOP_STATES]
SPEED_MPS = 50.0 / 3.6  # the ego starts at 50 km/h, the lanes' limit
#: The ego's lane at the line and the light stopping it.
LANE, LIGHT = "45088", "45234"
#: Straight on through the junction (45094 crosses it) to the goal lane.
ROUTE = ["45084", LANE, "45090", "45092", "45094", "42526", "45132", "45156"]
EAST_WEST = ("45234", "45232", "45224", "45222")
NORTH_SOUTH = ("45218", "45226")


def timeline(ticks: int, *phases: tuple[int, str]) -> np.ndarray:
    """``(ticks,)`` state codes: each ``(first_tick, state)`` holds until the next one's tick."""
    codes = np.empty(ticks, dtype=np.int8)
    for (start, state), (end, _) in zip(phases, [*phases[1:], (ticks, "")], strict=True):
        codes[start:end] = SIGNAL_STATES.index(state)
    return codes


@pytest.fixture(scope="module")
def scenario(shared_data: Path) -> BuiltScenario:
    (cfg,) = load_scenarios(SCENARIO)
    return build_scenario(cfg, shared_data)


class RouteCruise:
    """Along the route's reference path at a constant ``speed_mps``, blind to the lights."""

    name = "route_cruise"

    def __init__(self, scenario: BuiltScenario, speed_mps: float) -> None:
        self.reference = scenario.reference
        self.speed_mps = speed_mps

    def reset(self) -> None:
        pass

    def step(self, observation: Observation) -> Trajectory:
        ego = observation.ego
        (station,), _ = self.reference.project(np.array([[ego.x_m, ego.y_m]]))
        t_s = np.arange(40) * 0.1
        ahead_m = station + self.speed_mps * t_s
        xy, yaw = self.reference.pose_at(ahead_m)
        curvature = np.interp(ahead_m, self.reference.station_m, self.reference.curvature_1pm)
        return Trajectory(
            observation.timestamp_ns + np.round(t_s * 1e9).astype(np.int64),
            xy[:, 0],
            xy[:, 1],
            yaw,
            np.full(len(t_s), self.speed_mps),
            np.zeros(len(t_s)),
            curvature,
            ego.frame,
        )


def test_the_junction_cycle_by_hand(scenario: BuiltScenario) -> None:
    """The YAML's cycles at 10 ticks a second (period 40 s, 1 s all-red between directions),
    as the history records them; the two directions never both show go."""
    result = run_scenario(scenario, "idm")
    history = result.history
    ticks = len(history.time_s)
    assert ticks == 301
    east_west = timeline(
        ticks, (0, "green"), (10, "yellow"), (40, "red"), (150, "red_yellow"), (160, "green")
    )
    north_south = timeline(
        ticks, (0, "red"), (50, "red_yellow"), (60, "green"), (110, "yellow"), (140, "red")
    )
    ids = history.traffic_light_ids
    assert sorted(ids) == sorted(EAST_WEST + NORTH_SOUTH)
    for light in EAST_WEST:
        np.testing.assert_array_equal(history.traffic_light_state[:, ids.index(light)], east_west)
    for light in NORTH_SOUTH:
        np.testing.assert_array_equal(history.traffic_light_state[:, ids.index(light)], north_south)
    go = np.isin(history.traffic_light_state, [SIGNAL_STATES.index(s) for s in ("green", "yellow")])
    ew = go[:, [ids.index(light) for light in EAST_WEST]].any(axis=1)
    ns = go[:, [ids.index(light) for light in NORTH_SOUTH]].any(axis=1)
    assert not (ew & ns).any()


@pytest.mark.parametrize("planner", ["pdm", "idm"])
def test_stops_at_the_lanelet2_red_then_goes_at_green(
    planner: str, scenario: BuiltScenario
) -> None:
    assert scenario.route_lanes == ROUTE
    result = run_scenario(scenario, planner)
    history = result.history
    past, state = approach(result, scenario, LANE)
    # the front starts 71.67 - 5 - 4.15 + 9.98 = 72.50 m before the line along the lanes
    # (72.42 m along the lane's heading at the line: the road bends by 5 degrees)
    assert past[0] == pytest.approx(-72.50, abs=0.1)
    # yellow at 1 s with the front 72.50 - 13.89 = 58.61 m before the line: stopping 2 m
    # before it takes 1.70 m/s^2 (comfortable), so the planners stop
    assert past[10] == pytest.approx(-58.61, abs=0.2)
    assert history.ego_speed_mps[10] ** 2 / (2.0 * (-past[10] - 2.0)) <= 3.0
    red = np.isin(state, STOPS)
    assert np.flatnonzero(red).tolist() == list(range(40, 160))  # red, then red-yellow
    assert np.all(past[red] < 0.0)  # before the line while it says stop ...
    assert history.ego_speed_mps[red].min() < 0.1 and past[red].max() > -5.0  # ... at it
    assert history.ego_accel_mps2.min() > -3.5  # a comfortable stop
    crossed = int(np.flatnonzero(past > 0.0)[0])
    assert crossed > 160 and past[-1] > 50.0  # through the junction after green only
    assert not history.collisions.any()
    assert result.red_light.count == 0 and result.red_light.lights == 6
    assert result.passed, result.failures


def test_a_constant_speed_driver_runs_the_red_and_is_caught(scenario: BuiltScenario) -> None:
    result = run_scenario(scenario, RouteCruise(scenario, SPEED_MPS))
    past, state = approach(result, scenario, LANE)
    # 72.50 m / 13.89 m/s = 5.22 s: past the line at tick 53, 1.22 s into red
    (event,) = result.red_light.violations
    assert (event.tick, event.light_id, event.lane_id) == (53, LIGHT, LANE)
    assert past[52] <= 0.0 < past[53] and state[52] in STOPS
    assert event.time_s == pytest.approx(5.22, abs=0.05)
    assert event.speed_mps == pytest.approx(SPEED_MPS, abs=0.1)
    assert not result.history.collisions.any()
    assert not result.passed
    assert any(f.startswith(f"ran a red light: {LIGHT} on lane {LANE}") for f in result.failures)


def test_pdm_blind_to_the_lights_runs_the_red(scenario: BuiltScenario) -> None:
    """The same planner shown no light drives on at the limit: the stop was the light's."""
    result = run_scenario(scenario, LightBlind("pdm", scenario))
    past, state = approach(result, scenario, LANE)
    (event,) = result.red_light.violations
    assert (event.light_id, event.lane_id) == (LIGHT, LANE)
    assert past[event.tick - 1] <= 0.0 < past[event.tick] and state[event.tick - 1] in STOPS
    assert not result.passed
