"""The closed-loop runner refuses a planner output it cannot follow, naming the planner:
not a Trajectory (TypeError), or a Trajectory in another frame than the map's (ValueError)
(walkthrough finding 2)."""

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
    """Straight ahead at the ego's speed, in the observation's frame."""

    name = "straight"

    def reset(self) -> None:
        pass

    def step(self, observation: Observation) -> Trajectory:
        ego, n = observation.ego, 20
        t_s = np.arange(n) * 0.1
        along_m = ego.speed_mps * t_s
        return Trajectory(
            observation.timestamp_ns + np.round(t_s * 1e9).astype(np.int64),
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
