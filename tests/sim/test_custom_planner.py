"""A user's own planner plugs into run_scenario by implementing the planner stage interface."""

from __future__ import annotations

import numpy as np
import pytest

from drivestack.sim.build import build_scenario
from drivestack.sim.evaluate import run_scenario
from drivestack.sim.scenario import EgoConfig, MapConfig, ScenarioConfig
from drivestack.sim.world import Observation
from drivestack.structures.trajectory import Trajectory

SCENARIO = ScenarioConfig(
    "open_road",
    MapConfig("straight"),
    EgoConfig(lane="road_0", station_m=50.0, speed_kph=36.0),
    3.0,
)


class CruisePlanner:
    """Straight ahead along the ego's heading at ``speed_mps`` (a planner in 20 lines)."""

    name = "cruise"

    def __init__(self, speed_mps: float) -> None:
        self.speed_mps = speed_mps
        self.resets = 0
        self.steps = 0

    def reset(self) -> None:
        self.resets += 1
        self.steps = 0

    def step(self, observation: Observation) -> Trajectory:
        self.steps += 1
        ego, n = observation.ego, 40
        t_s = np.arange(n) * 0.1
        along_m = self.speed_mps * t_s
        return Trajectory(
            observation.timestamp_ns + np.round(t_s * 1e9).astype(np.int64),
            ego.x_m + along_m * np.cos(ego.yaw_rad),
            ego.y_m + along_m * np.sin(ego.yaw_rad),
            np.full(n, ego.yaw_rad),
            np.full(n, self.speed_mps),
            np.zeros(n),
            np.zeros(n),
            ego.frame,
        )


def test_run_scenario_drives_a_custom_planner() -> None:
    planner = CruisePlanner(speed_mps=5.0)
    result = run_scenario(SCENARIO, planner, max_steps=20)
    assert result.planner == "cruise" and result.as_dict()["planner"] == "cruise"
    assert planner.resets == 1 and planner.steps == 20
    speed = result.history.ego_speed_mps
    assert speed[0] == pytest.approx(10.0) and speed[-1] < 8.0  # slowing towards 5 m/s
    assert not result.history.collisions.any()


def test_a_custom_planner_runs_on_a_built_scenario_twice() -> None:
    built = build_scenario(SCENARIO)
    planner = CruisePlanner(speed_mps=10.0)
    first = run_scenario(built, planner, max_steps=5)
    again = run_scenario(built, planner, max_steps=5)
    assert planner.resets == 2 and planner.steps == 5  # reset before each run
    np.testing.assert_array_equal(first.history.ego_x_m, again.history.ego_x_m)


def test_planner_names_still_work() -> None:
    assert run_scenario(SCENARIO, "idm", max_steps=2).planner == "idm"
    with pytest.raises(
        ValueError, match=r"unknown planner 'pmd'; expected one of \['idm', 'pdm'\]"
    ):
        run_scenario(SCENARIO, "pmd", max_steps=2)


def test_an_object_without_the_interface_is_refused() -> None:
    class NoReset:
        name = "half"

        def step(self, observation: Observation) -> Trajectory:
            raise AssertionError("never stepped")

    with pytest.raises(TypeError, match=r"planner must be a name .* NoReset lacks reset"):
        run_scenario(SCENARIO, NoReset(), max_steps=2)  # type: ignore[arg-type]
