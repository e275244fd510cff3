"""The closed-loop runner refuses a planner output it cannot follow, naming the planner:
not a Trajectory (TypeError), a Trajectory in another frame than the map's (ValueError)
(walkthrough finding 2), an empty plan or one that does not cover the tick ahead, and a
planner without a name (review finding E1)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

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


class StraightPlanner:
    """Straight ahead at the ego's speed, in the observation's frame: ``n`` samples every
    ``dt_ns``, starting ``offset_ns`` from now."""

    name = "straight"

    def __init__(self, n: int = 20, dt_ns: int = 100_000_000, offset_ns: int = 0) -> None:
        self.n, self.dt_ns, self.offset_ns = n, dt_ns, offset_ns

    def reset(self) -> None:
        pass

    def step(self, observation: Observation) -> Trajectory:
        ego, n = observation.ego, self.n
        t_ns = observation.timestamp_ns + self.offset_ns + np.arange(n) * self.dt_ns
        along_m = ego.speed_mps * np.arange(n) * self.dt_ns * 1e-9
        return Trajectory(
            t_ns.astype(np.int64),
            ego.x_m + along_m * np.cos(ego.yaw_rad),
            ego.y_m + along_m * np.sin(ego.yaw_rad),
            np.full(n, ego.yaw_rad),
            np.full(n, ego.speed_mps),
            np.zeros(n),
            np.zeros(n),
            ego.frame,
        )


class EgoFramePlanner(StraightPlanner):
    def step(self, observation: Observation) -> Trajectory:
        return dataclasses.replace(super().step(observation), frame="ego")


class ArrayPlanner(StraightPlanner):
    def step(self, observation: Observation) -> Trajectory:
        return np.zeros((20, 2))  # type: ignore[return-value]


def test_a_plan_in_another_frame_is_refused_naming_the_planner() -> None:
    with pytest.raises(
        ValueError,
        match=r"planner EgoFramePlanner\.step returned a Trajectory in frame 'ego', expected "
        r"the observation's frame 'world'",
    ):
        run_scenario(SCENARIO, EgoFramePlanner(), max_steps=2)


def test_a_plan_that_is_no_trajectory_is_refused_naming_the_planner() -> None:
    with pytest.raises(
        TypeError, match=r"planner ArrayPlanner\.step returned ndarray, expected Trajectory"
    ):
        run_scenario(SCENARIO, ArrayPlanner(), max_steps=2)


def test_a_plan_in_the_map_frame_runs() -> None:
    result = run_scenario(SCENARIO, StraightPlanner(), max_steps=3)
    assert len(result.history) == 4 and not result.history.collisions.any()


# -- plans that do not cover the tick, empty plans, names (moved from test_pipeline_plugin_checks)

SHORT = dataclasses.replace(SCENARIO, duration_s=0.5)


def test_a_plan_covering_the_tick_runs() -> None:
    assert len(run_scenario(SHORT, StraightPlanner(n=2)).history) == 6  # 0.5 s at 0.1 s, and t = 0


@pytest.mark.parametrize(
    ("planner", "covers"),
    [
        (StraightPlanner(n=1), r"\[0, 0\]"),  # before: accepted (the tracker held the one sample)
        (StraightPlanner(n=2, dt_ns=10_000_000), r"\[0, 10000000\]"),
        (StraightPlanner(offset_ns=500_000_000), r"\[500000000, 2400000000\]"),
        (StraightPlanner(offset_ns=-5_000_000_000), r"\[-5000000000, -3100000000\]"),
    ],
)
def test_plans_not_covering_the_tick_are_refused(planner: StraightPlanner, covers: str) -> None:
    with pytest.raises(
        ValueError,
        match=rf"closed loop: the planner StraightPlanner.step returned a Trajectory covering "
        rf"timestamp_ns {covers} for an observation at 0: .* dt_s = 0.1 s, to 100000000",
    ):
        run_scenario(SHORT, planner)


def test_an_empty_plan_is_refused_naming_the_planner() -> None:
    class Empty(StraightPlanner):
        def step(self, observation: Observation) -> Trajectory:
            return Trajectory.empty(observation.ego.frame)

    with pytest.raises(ValueError, match=r"closed loop: the planner Empty\.step returned an empty"):
        run_scenario(SHORT, Empty())


def test_a_wrong_output_type_names_the_closed_loop() -> None:
    class Array(StraightPlanner):
        def step(self, observation: Observation) -> Trajectory:
            return np.zeros((3, 2))  # type: ignore[return-value]

    with pytest.raises(TypeError, match=r"^closed loop: the planner Array\.step returned ndarray"):
        run_scenario(SHORT, Array())


@pytest.mark.parametrize("name", [3, "", None])
def test_a_planner_name_must_be_a_non_empty_str(name: object) -> None:
    planner = StraightPlanner()
    planner.name = name  # type: ignore[assignment]
    with pytest.raises(TypeError, match=r"planner StraightPlanner.name must be a non-empty str"):
        run_scenario(SHORT, planner)
