"""The run's history records every map light's state at every tick, saves and reloads it, and
older history.npz files without lights still load."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest

from drivestack.core.errors import DataError
from drivestack.exec.task import write_run_results
from drivestack.planning.control import TrajectoryTracker
from drivestack.report.scenario_view import load_history
from drivestack.sim.build import build_scenario
from drivestack.sim.evaluate import run_scenario
from drivestack.sim.runner import (
    ADDED_HISTORY_ARRAYS,
    HISTORY_ARRAYS,
    SimHistory,
    light_codes_at,
    run_closed_loop,
)
from drivestack.sim.scenario import (
    EgoConfig,
    LightStopConfig,
    MapConfig,
    ScenarioConfig,
    TrafficLightConfig,
)
from drivestack.sim.world import Observation
from drivestack.structures.traffic_light import SIGNAL_STATES, state_codes
from drivestack.structures.trajectory import Trajectory

GREEN, YELLOW, RED = (SIGNAL_STATES.index(s) for s in ("green", "yellow", "red"))

#: Two lights on a straight road: L1 green 0.5 s, yellow 0.3 s, red 1 s; L2 starts red.
SCENARIO = ScenarioConfig(
    "lights",
    MapConfig("straight"),
    EgoConfig(lane="road_0", station_m=50.0, speed_kph=36.0),
    2.0,
    traffic_lights=[
        TrafficLightConfig(
            "L1",
            [("green", 0.5), ("yellow", 0.3), ("red", 1.0)],
            stops=[LightStopConfig("road_0", 300.0)],
        ),
        TrafficLightConfig(
            "L2", [("red", 1.0), ("green", 1.0)], stops=[LightStopConfig("road_1", 400.0)]
        ),
    ],
)


class Recorder:
    """Drives straight on at its speed; keeps what each observation said about the lights."""

    name = "recorder"

    def __init__(self) -> None:
        self.seen: list[tuple[tuple[str, str], ...]] = []

    def reset(self) -> None:
        self.seen = []

    def step(self, observation: Observation) -> Trajectory:
        self.seen.append(observation.traffic_lights)
        ego, n = observation.ego, 20
        t_s = np.arange(n) * 0.1
        along = ego.speed_mps * t_s
        return Trajectory(
            observation.timestamp_ns + np.round(t_s * 1e9).astype(np.int64),
            ego.x_m + along * np.cos(ego.yaw_rad),
            ego.y_m + along * np.sin(ego.yaw_rad),
            np.full(n, ego.yaw_rad),
            np.full(n, ego.speed_mps),
            np.zeros(n),
            np.zeros(n),
            ego.frame,
        )


def test_the_history_holds_what_the_planner_saw() -> None:
    built = build_scenario(SCENARIO)
    planner = Recorder()
    history = run_closed_loop(built.world, planner, TrajectoryTracker(), 20)
    assert history.traffic_light_ids == ("L1", "L2")
    assert history.traffic_light_state.shape == (21, 2)
    assert history.traffic_light_state.dtype == np.int8
    # tick k was observed before step k: rows 0..19 are the observations' states
    seen = np.array([[state for _, state in obs] for obs in planner.seen])
    np.testing.assert_array_equal(history.traffic_light_state[:20], state_codes(seen))
    assert [ids for ids, _ in planner.seen[0]] == ["L1", "L2"]
    # L1 by hand: green at ticks 0-4, yellow 5-7, red 8-17, green again from 18 (1.8 s period)
    expected = [GREEN] * 5 + [YELLOW] * 3 + [RED] * 10 + [GREEN] * 3
    np.testing.assert_array_equal(history.traffic_light_state[:, 0], expected)
    # L2: red 0-9, green 10-19, red again at tick 20 (2 s period)
    np.testing.assert_array_equal(
        history.traffic_light_state[:, 1], [RED] * 10 + [GREEN] * 10 + [RED]
    )


def test_light_codes_at_are_the_worlds_states() -> None:
    built = build_scenario(SCENARIO)
    world = built.world
    for tick in (0, 7, 8, 23):
        world.tick = tick
        states = [state for _, state in world.traffic_light_states()]
        np.testing.assert_array_equal(
            light_codes_at(built.road_map, np.array([world.timestamp_ns]))[0], state_codes(states)
        )
    world.reset()


def test_phase_boundaries_fall_on_their_tick() -> None:
    # One-tick phases (green 0.1 s, red 0.1 s): green at even ticks, red at odd ones. In float
    # seconds, (tick * 0.1) mod 0.2 put e.g. tick 5 (0.5 s) before its boundary (green).
    cfg = dataclasses.replace(
        SCENARIO,
        traffic_lights=[
            TrafficLightConfig(
                "L1", [("green", 0.1), ("red", 0.1)], stops=[LightStopConfig("road_0", 300.0)]
            )
        ],
    )
    built = build_scenario(cfg)
    planner = Recorder()
    history = run_closed_loop(built.world, planner, TrajectoryTracker(), 20)
    expected = [GREEN, RED] * 10 + [GREEN]
    np.testing.assert_array_equal(history.traffic_light_state[:, 0], expected)
    seen = [state for obs in planner.seen for _, state in obs]
    np.testing.assert_array_equal(state_codes(seen), expected[:20])
    # a 2.9 s yellow then a 7.1 s red: red from tick 29 on, also at tick 329 (32.9 s)
    cfg = dataclasses.replace(
        cfg,
        traffic_lights=[
            TrafficLightConfig(
                "L1", [("yellow", 2.9), ("red", 7.1)], stops=[LightStopConfig("road_0", 300.0)]
            )
        ],
    )
    world = build_scenario(cfg).world
    for tick, state in (
        (28, "yellow"),
        (29, "red"),
        (128, "yellow"),
        (328, "yellow"),
        (329, "red"),
    ):
        world.tick = tick
        assert world.traffic_light_states() == (("L1", state),)
        assert light_codes_at(world.road_map, np.array([world.timestamp_ns])).tolist() == [
            [SIGNAL_STATES.index(state)]
        ]


def test_a_map_without_lights_records_no_column() -> None:
    cfg = dataclasses.replace(SCENARIO, traffic_lights=[])
    history = run_scenario(cfg, "idm", max_steps=4).history
    assert history.traffic_light_ids == () and history.traffic_light_state.shape == (5, 0)


def test_history_npz_round_trip(tmp_path: Path) -> None:
    result = run_scenario(SCENARIO, "idm", max_steps=10)
    write_run_results(tmp_path, result, {"scenario": "lights"})
    with np.load(tmp_path / "history.npz") as npz:  # no pickle needed
        assert set(npz.files) == set(HISTORY_ARRAYS)
        assert npz["traffic_light_ids"].dtype.kind == "U"
    loaded = load_history(tmp_path / "history.npz")
    assert loaded.traffic_light_ids == ("L1", "L2")
    np.testing.assert_array_equal(loaded.traffic_light_state, result.history.traffic_light_state)


def test_a_history_npz_from_before_the_lights_still_loads(tmp_path: Path) -> None:
    history = run_scenario(SCENARIO, "idm", max_steps=3).history
    old = {k: v for k, v in history.arrays().items() if k not in ADDED_HISTORY_ARRAYS}
    np.savez(tmp_path / "history.npz", **old)
    loaded = load_history(tmp_path / "history.npz")
    assert loaded.traffic_light_ids == () and loaded.traffic_light_state.shape == (4, 0)
    np.testing.assert_array_equal(loaded.ego_x_m, history.ego_x_m)


def test_mismatched_light_arrays_are_refused(tmp_path: Path) -> None:
    history = run_scenario(SCENARIO, "idm", max_steps=3).history
    arrays = history.arrays()
    arrays["traffic_light_state"] = arrays["traffic_light_state"][:, :1]  # one column, two ids
    np.savez(tmp_path / "history.npz", **arrays)
    with pytest.raises(DataError, match=r"history\.npz.*traffic_light_state must have shape"):
        load_history(tmp_path / "history.npz")
    with pytest.raises(ValueError, match=r"shape \(4, 2\)"):
        dataclasses.replace(history, traffic_light_state=np.zeros((4, 1)))
    assert isinstance(history, SimHistory)
