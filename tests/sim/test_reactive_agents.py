"""Reactive recorded agents (``agents_reactive`` / ``drivestack sim --agents``): recorded
vehicles follow their recorded paths and speeds, and brake with IDM for the ego."""

from __future__ import annotations

import dataclasses
import json
import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from drivestack.cli import main
from drivestack.core.errors import ConfigError, DataError
from drivestack.sim.agents import (
    PATH_STEP_M,
    REACTIVE_CLASSES,
    AgentSpec,
    RecordedProfile,
    ReplayTrack,
    Traffic,
    reactive_agent,
    recorded_path,
)
from drivestack.sim.build import build_scenario
from drivestack.sim.evaluate import run_scenario
from drivestack.sim.runner import ego_agent_collisions
from drivestack.sim.scenario import (
    AgentConfig,
    EgoConfig,
    MapConfig,
    ScenarioConfig,
    load_scenarios,
    recorded_agents_mode,
    with_recorded_agents,
)
from drivestack.sim.world import World
from drivestack.structures.labels import ObjectClass

CONFIGS = Path(__file__).resolve().parents[2] / "configs"
FAR_EGO = np.array([1e6, 1e6, 0.75, 4.5, 1.9, 1.5, 0.0])
CAR = (4.5, 1.85, 1.5)


def _track(time_s: np.ndarray, xy: np.ndarray, speed: np.ndarray) -> ReplayTrack:
    d = np.gradient(xy, axis=0)
    return ReplayTrack(time_s, xy[:, 0], xy[:, 1], np.arctan2(d[:, 1], d[:, 0]), speed)


def _straight(x0_m: float, speed_mps: float, y_m: float, span_s: float = 10.0) -> ReplayTrack:
    t = np.arange(0.0, span_s + 1e-9, 0.1)
    xy = np.stack([x0_m + speed_mps * t, np.full_like(t, y_m)], axis=1)
    return _track(t, xy, np.full_like(t, speed_mps))


def _arc(radius_m: float, speed_mps: float, span_s: float = 8.0) -> ReplayTrack:
    t = np.arange(0.0, span_s + 1e-9, 0.1)
    a = speed_mps * t / radius_m
    xy = np.stack([radius_m * np.sin(a), radius_m * (1.0 - np.cos(a))], axis=1)
    return ReplayTrack(t, xy[:, 0], xy[:, 1], a, np.full_like(t, speed_mps))


def _replayed(agent_id: str, track: ReplayTrack, label: ObjectClass = ObjectClass.CAR) -> AgentSpec:
    return AgentSpec(agent_id, label, CAR, "replay", replay=track)


def test_recorded_path_and_profile_by_hand() -> None:
    # 0.4 m steps: every third point kept (1.2 m >= 1 m); the last (0.4 m on) replaces 3.6 m
    t = np.arange(0.0, 1.05, 0.1)
    track = _track(t, np.stack([4.0 * t, np.zeros_like(t)], axis=1), np.full_like(t, 4.0))
    path = recorded_path(track)
    assert path is not None
    np.testing.assert_allclose(path[:, 0], [0.0, 1.2, 2.4, 4.0])
    profile = RecordedProfile.of(track, path)
    np.testing.assert_allclose(profile.station_m, 4.0 * t, atol=1e-12)
    np.testing.assert_allclose(profile.speed_mps, 4.0)
    assert profile.speed_at(5.0) == pytest.approx(4.0)  # held past the end


def test_who_becomes_reactive() -> None:
    moving = _straight(0.0, 10.0, 0.0)
    parked = _straight(0.0, 0.05, 0.0)  # 0.5 m in 10 s: no path
    for label in ObjectClass:
        spec = reactive_agent(_replayed("a", moving, label))
        assert spec.behavior == ("reactive" if label in REACTIVE_CLASSES else "replay")
    assert reactive_agent(_replayed("p", parked)).behavior == "replay"
    for label in (ObjectClass.PEDESTRIAN, ObjectClass.CYCLIST, ObjectClass.BARRIER):
        assert label not in REACTIVE_CLASSES


def test_pedestrians_and_static_objects_stay_replayed_beside_reactive_cars() -> None:
    ped = _replayed("ped", _straight(20.0, 1.4, 3.0), ObjectClass.PEDESTRIAN)
    cone = _replayed("cone", _straight(40.0, 0.0, -3.0), ObjectClass.TRAFFIC_CONE)
    car = _replayed("car", _straight(0.0, 10.0, 0.0))
    specs = [reactive_agent(s) for s in (ped, cone, car)]
    assert [s.behavior for s in specs] == ["replay", "replay", "reactive"]
    replay, reactive = Traffic([ped, cone, car]), Traffic(specs)
    for _ in range(60):
        ego = np.array([30.0, 3.0, 0.75, 4.5, 1.9, 1.5, 0.0])  # beside the car's path
        a, b = replay.step(0.1, ego, 0.0), reactive.step(0.1, ego, 0.0)
        for i in (0, 1):  # exactly the replay
            assert (a.x_m[i], a.y_m[i], a.valid[i]) == (b.x_m[i], b.y_m[i], b.valid[i])


def _rear_end_scenario(reactive: bool) -> tuple[ScenarioConfig, World]:
    """The ego (x = 0, 50 km/h) brakes for a stopped car 60 m ahead; a recorded car 30 m
    behind it drove on at 50 km/h (the ego is not in its recording)."""
    cfg = ScenarioConfig(
        name="rear_end",
        map=MapConfig("straight", {"n_lanes": 2, "speed_limit_mps": 13.89}),
        ego=EgoConfig(lane="road_0", station_m=100.0, speed_mps=13.89),
        duration_s=10.0,
        agents=[AgentConfig("stopped", behavior="scripted", lanes=["road_0"], station_m=160.0)],
    )
    built = build_scenario(cfg)
    follower = _replayed("follower", _straight(-30.0, 13.89, 1.75, span_s=12.0))
    specs = [*built.world.traffic.specs, reactive_agent(follower) if reactive else follower]
    world = World(built.road_map, built.world._ego_start, specs, dt_s=cfg.dt_s)
    return cfg, dataclasses.replace(built, world=world)


@pytest.mark.parametrize("mode", ["replay", "reactive"])
def test_reactive_car_behind_a_braking_ego_slows_down(mode: str) -> None:
    _, built = _rear_end_scenario(mode == "reactive")
    result = run_scenario(built, "idm")
    hits = [c for c in result.nuplan.collisions if c.agent_id == "follower"]
    if mode == "replay":  # it drives through the ego: a rear-end the ego is not at fault for
        assert hits and not any(c.at_fault for c in hits)
        assert hits[0].kind in ("stopped_ego", "active_rear")
    else:
        assert not hits and not result.nuplan.collisions
        k = result.history.agent_ids.index("follower")
        speed = np.hypot(*result.history.agent_velocity_mps[-1, k])
        assert speed < 1.0  # stopped behind the ego instead of driving on
        assert result.history.agent_valid[-1, k]


def test_reactive_car_follows_its_path_through_a_curve_and_stops_for_the_ego_there() -> None:
    track = _arc(30.0, 8.0)
    spec = reactive_agent(_replayed("c", track))
    traffic = Traffic([spec])
    # the ego stands on the arc 70 degrees on, across the car's path (tangent heading)
    a = math.radians(70.0)
    ego = np.array([30.0 * math.sin(a), 30.0 * (1 - math.cos(a)), 0.75, 4.5, 1.9, 1.5, a])
    for _ in range(150):  # past the recording's 8 s: it keeps waiting behind the ego
        state = traffic.step(0.1, ego, 0.0)
        radius = math.hypot(state.x_m[0], state.y_m[0] - 30.0)
        assert radius == pytest.approx(30.0, abs=0.02)  # on the arc (1 m chords: 4 mm sagitta)
        assert not ego_agent_collisions(ego, traffic.boxes(), state.valid)[0]
    assert state.speed_mps[0] < 0.1
    angle = math.atan2(state.x_m[0], 30.0 - state.y_m[0])
    assert math.radians(50.0) < angle < a  # held up before the ego
    assert state.yaw_rad[0] == pytest.approx(angle, abs=math.radians(2.0))  # path heading


@settings(max_examples=25, deadline=None)
@given(radius=st.floats(15.0, 200.0), speed=st.floats(2.0, 20.0))
def test_undisturbed_reactive_car_reproduces_its_recorded_arc(radius: float, speed: float) -> None:
    track = _arc(radius, speed, span_s=4.0)
    replay = Traffic([_replayed("c", track)])
    reactive = Traffic([reactive_agent(_replayed("c", track))])
    # the path's chords: under 1 m + one recorded step, the last up to 1.5 m + one step
    chord = PATH_STEP_M + 0.5 + speed * 0.1
    for _ in range(40):
        a, b = replay.step(0.1, FAR_EGO, 0.0), reactive.step(0.1, FAR_EGO, 0.0)
        assert a.valid[0] == b.valid[0]
        if a.valid[0]:
            # a chord's sagitta, plus 1 cm for the speed's integration
            error = math.hypot(a.x_m[0] - b.x_m[0], a.y_m[0] - b.y_m[0])
            assert error < chord**2 / (8 * radius) + 0.01 + 1e-9
            yaw_err = abs(math.remainder(a.yaw_rad[0] - b.yaw_rad[0], 2 * math.pi))
            assert yaw_err <= chord / (2 * radius) + 1e-9  # a chord's heading vs the tangent


def test_a_reactive_car_appears_at_its_first_recorded_time_and_leaves_at_its_path_end() -> None:
    t = np.arange(2.0, 4.0 + 1e-9, 0.1)
    xy = np.stack([10.0 * (t - 2.0), np.zeros_like(t)], axis=1)
    traffic = Traffic([reactive_agent(_replayed("late", _track(t, xy, np.full_like(t, 10.0))))])
    valid = [bool(traffic.state.valid[0])]
    for _ in range(50):
        valid.append(bool(traffic.step(0.1, FAR_EGO, 0.0).valid[0]))
    ticks = np.flatnonzero(valid)
    assert ticks[0] == 20  # t = 2.0 s
    assert ticks[-1] == 40  # 20 m at 10 m/s: at the path's end at t = 4.0 s, then gone


def test_reproduces_a_whole_commonroad_recording(shared_data: Path) -> None:
    """US-101 4_1 (22 recorded cars, 10 s): all reactive, the ego far away, against the replay.
    Measured: max position error 0.094 m (mean 0.009 m), and not one tick where one mode
    shows a car and the other does not."""
    cfg = load_scenarios(CONFIGS / "scenarios" / "commonroad_usa_us101_4_1_t_1.yaml")[0]
    replay = build_scenario(cfg, shared_data).world.traffic
    built = build_scenario(with_recorded_agents(cfg, "reactive"), shared_data)
    reactive = built.world.traffic
    cars = [i for i, s in enumerate(reactive.specs) if s.behavior == "reactive"]
    assert len(cars) == 22
    errors, mismatched = [], np.zeros(len(reactive.specs), dtype=int)
    for _ in range(102):
        a, b = replay.state, reactive.state
        both = a.valid & b.valid
        errors.extend(np.hypot(a.x_m - b.x_m, a.y_m - b.y_m)[cars][both[cars]])
        mismatched += a.valid != b.valid
        replay.step(0.1, FAR_EGO, 0.0)
        reactive.step(0.1, FAR_EGO, 0.0)
    assert len(errors) > 1200  # car-ticks compared (1271)
    assert max(errors) < 0.12
    assert mismatched.max() == 0


def test_real_pedestrians_stay_replayed(shared_data: Path) -> None:
    cfg = load_scenarios(CONFIGS / "scenarios" / "commonroad_usa_lanker_1_1_t_1.yaml")[0]
    specs = build_scenario(with_recorded_agents(cfg, "reactive"), shared_data).world.traffic.specs
    kinds = {(s.label in REACTIVE_CLASSES, s.behavior) for s in specs}
    assert (False, "reactive") not in kinds
    assert (True, "reactive") in kinds


def test_agents_reactive_without_recorded_traffic_is_a_config_error(tmp_path: Path) -> None:
    f = tmp_path / "s.yaml"
    f.write_text(
        "name: s\nmap: {kind: straight}\nego: {lane: road_0}\nduration_s: 1.0\n"
        "agents_reactive: true\n"
    )
    with pytest.raises(ConfigError, match="agents_from_file") as exc:
        load_scenarios(f)
    assert exc.value.field == "agents_reactive" and str(f) in str(exc.value)


def test_modes_of_a_scenario() -> None:
    cfg = load_scenarios(CONFIGS / "scenarios" / "commonroad_usa_us101_3_3_t_1.yaml")[0]
    assert recorded_agents_mode(cfg) == "replay"
    assert recorded_agents_mode(with_recorded_agents(cfg, "reactive")) == "reactive"
    plain = load_scenarios(CONFIGS / "scenarios" / "cut_in.yaml")[0]
    assert with_recorded_agents(plain, "reactive") is plain  # no recorded traffic: as written
    assert recorded_agents_mode(plain) is None
    with pytest.raises(ValueError, match="reactive"):
        with_recorded_agents(cfg, "smart")


def test_cli_records_the_mode_and_refuses_bad_agents_options(
    tmp_path: Path, shared_data: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    scenario = str(CONFIGS / "scenarios" / "commonroad_usa_us101_3_3_t_1.yaml")
    base = ["sim", scenario, "--planner", "idm", "--max-steps", "3", "--quiet"]
    base += ["--data-root", str(shared_data)]
    assert main([*base, "--out", str(tmp_path / "r"), "--agents", "reactive"]) == 0
    record = json.loads(next((tmp_path / "r").glob("idm/*/metrics.json")).read_text())
    assert record["recorded_agents"] == "reactive" and record["config"]["agents_reactive"]
    assert json.loads((tmp_path / "r" / "sim.json").read_text())["agents"] == "reactive"
    # the same DIR with another --agents: another invocation, refused (exit 2)
    assert main([*base, "--out", str(tmp_path / "r"), "--agents", "replay"]) == 2
    assert "agents (reactive; now replay)" in capsys.readouterr().err
    assert main([*base, "--out", str(tmp_path / "p")]) == 0
    record = json.loads(next((tmp_path / "p").glob("idm/*/metrics.json")).read_text())
    assert record["recorded_agents"] == "replay"
    with pytest.raises(SystemExit):
        main([*base, "--out", str(tmp_path / "x"), "--agents", "smart"])
    assert "--agents: invalid choice: 'smart'" in capsys.readouterr().err
    fleet = [*base, "--out", str(tmp_path / "f"), "--agents", "reactive", "--variants", "2"]
    assert main(fleet) == 2
    assert "--agents is not applied to fleets" in capsys.readouterr().err


def test_fleet_refusal_is_a_data_error() -> None:
    import argparse

    from drivestack.commands.sim import _check_options

    args = argparse.Namespace(
        agents="reactive",
        export_every=None,
        export_dataset=None,
        stack=None,
        perception="ground_truth",
        sweep=["ego.speed_kph=10:20"],
        executor=None,
        workers=None,
        ray_address=None,
        variants=1,
        seed=0,
        retry_failed=False,
    )
    with pytest.raises(DataError, match="agents_reactive"):
        _check_options(args)
