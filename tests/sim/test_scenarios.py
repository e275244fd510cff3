"""Scenario YAML: every config loads and runs (short horizons), sweeps, and bad input."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from drivestack.core.errors import ConfigError
from drivestack.sim.build import build_scenario
from drivestack.sim.evaluate import run_scenario
from drivestack.sim.scenario import load_scenarios, load_suite

CONFIGS = Path(__file__).resolve().parents[2] / "configs"
SCENARIO_FILES = sorted(
    [*(CONFIGS / "scenarios").glob("*.yaml"), *(CONFIGS / "scenarios").glob("*.xosc")]
)
#: Scenarios whose map is a file of the shared data folder.
FILE_MAP_PREFIXES = ("av2_", "commonroad_", "lanelet2_", "opendrive_", "openscenario_")


def test_regression_suite_covers_the_issue() -> None:
    suite, scenarios = load_suite(CONFIGS / "suites" / "regression.yaml")
    names = [s.name for s in scenarios]
    assert len(names) >= 15 and len(set(names)) == len(names)
    for prefix, count in [
        ("ccrs[", 5),
        ("ccrm[", 6),
        ("ccrb[", 4),
        ("cpna[", 6),
        ("commonroad_", 8),
        ("av2_", 2),
    ]:
        assert sum(n.startswith(prefix) for n in names) == count, prefix
    for name in ("cut_in", "cut_out", "stop_and_go", "curve_lead", "merge", "unprotected_left"):
        assert name in names
    assert {f.name for f in SCENARIO_FILES} == {Path(e.file).name for e in suite.scenarios}


@pytest.mark.parametrize(
    "file",
    [f for f in SCENARIO_FILES if not f.name.startswith(FILE_MAP_PREFIXES)],
    ids=lambda f: f.stem,
)
def test_synthetic_scenarios_run(file: Path) -> None:
    for cfg in load_scenarios(file):
        result = run_scenario(cfg, "pdm", max_steps=3)
        assert len(result.history) == 4


@pytest.mark.data
@pytest.mark.parametrize(
    "file", [f for f in SCENARIO_FILES if f.name.startswith("commonroad_")], ids=lambda f: f.stem
)
def test_commonroad_scenarios_run(file: Path, shared_data: Path) -> None:
    (cfg,) = load_scenarios(file)
    built = build_scenario(cfg, shared_data)
    assert len(built.world.traffic.specs) > 0
    result = run_scenario(built, "idm", max_steps=3)
    assert len(result.history) == 4 and not result.history.collisions[0].any()


@pytest.mark.data
def test_opendrive_left_turn_yields_then_turns(shared_data: Path) -> None:
    (cfg,) = load_scenarios(CONFIGS / "scenarios" / "opendrive_fabriksgatan_left.yaml")
    built = build_scenario(cfg, shared_data)
    # south approach, the junction's connecting road, then the west road (3 reads its lanes
    # against its reference line: lane 1)
    assert built.route_lanes == ["0_0_1", "10_0_-1", "3_0_1"]
    result = run_scenario(built, "pdm")
    history = result.history
    assert result.passed and not history.collisions.any()
    assert history.ego_x_m[-1] < 0.0  # turned west: the junction is at x = 18..33 m
    # the oncoming car crosses the ego's path first: the ego is slower when it passes
    gap = np.hypot(
        history.ego_x_m - history.agent_boxes[:, 0, 0],
        history.ego_y_m - history.agent_boxes[:, 0, 1],
    )
    closest = int(np.argmin(gap))
    assert history.ego_speed_mps[closest] < 0.8 * history.ego_speed_mps[0]


def _write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "s.yaml"
    p.write_text(text)
    return p


BASE = "name: t\nmap: {kind: straight}\nego: {lane: road_0, station_m: 100.0, speed_mps: 10.0}\nduration_s: 5.0\n"


def test_unknown_key_names_file_and_key(tmp_path: Path) -> None:
    p = _write(
        tmp_path,
        BASE + "agents:\n  - {id: a, lanes: [road_0], station_m: 150.0, speeed_mps: 3.0}\n",
    )
    with pytest.raises(ConfigError, match=r"s\.yaml: field agents\.0\.speeed_mps: unknown key"):
        load_scenarios(p)


def test_wrong_type_names_file_and_key(tmp_path: Path) -> None:
    p = _write(tmp_path, BASE.replace("speed_mps: 10.0", "speed_mps: fast"))
    with pytest.raises(ConfigError, match=r"s\.yaml: field ego\.speed_mps: expected a number"):
        load_scenarios(p)
    p = _write(tmp_path, BASE.replace("duration_s: 5.0", "duration_s: [5]"))
    with pytest.raises(ConfigError, match="field duration_s"):
        load_scenarios(p)


def test_unreachable_goal_names_the_key(tmp_path: Path) -> None:
    p = _write(
        tmp_path,
        "name: t\nmap: {kind: merge}\nego: {lane: main_b, speed_mps: 10.0}\nroute: {goal_lane: ramp}\nduration_s: 5.0\n",
    )
    (cfg,) = load_scenarios(p)
    with pytest.raises(ConfigError, match=r"field route\.goal_lane: goal unreachable"):
        build_scenario(cfg)
    p = _write(tmp_path, BASE.replace("lane: road_0", "lane: road_7"))
    with pytest.raises(ConfigError, match=r"field ego\.lane: no lane 'road_7'"):
        build_scenario(load_scenarios(p)[0])


def test_grid_and_random_sweeps(tmp_path: Path) -> None:
    p = _write(
        tmp_path,
        BASE + "sweep:\n  grid: {ego.speed_mps: [5.0, 10.0], duration_s: [3.0, 4.0, 5.0]}\n",
    )
    cfgs = load_scenarios(p)
    assert len(cfgs) == 6 and {(c.ego.speed_mps, c.duration_s) for c in cfgs} == {
        (a, b) for a in (5.0, 10.0) for b in (3.0, 4.0, 5.0)
    }
    text = BASE + "sweep:\n  random: {count: 4, seed: 7, ranges: {ego.speed_mps: [5.0, 15.0]}}\n"
    first = [c.ego.speed_mps for c in load_scenarios(_write(tmp_path, text))]
    again = [c.ego.speed_mps for c in load_scenarios(_write(tmp_path, text))]
    assert first == again and len(set(first)) == 4 and all(5.0 <= v <= 15.0 for v in first)  # type: ignore[operator]
    with pytest.raises(ConfigError, match=r"field sweep\.grid\.agents\.3\.speed_mps"):
        load_scenarios(_write(tmp_path, BASE + "sweep:\n  grid: {agents.3.speed_mps: [1.0]}\n"))


def test_suite_with_a_missing_file(tmp_path: Path) -> None:
    p = tmp_path / "suite.yaml"
    p.write_text("name: s\nscenarios:\n  - {file: nope.yaml}\n")
    with pytest.raises(ConfigError, match=r"field scenarios\.0\.file: scenario file not found"):
        load_suite(p)


@pytest.mark.data
def test_shipped_openscenario_cut_in_runs_as_written(shared_data: Path) -> None:
    (cfg,) = load_scenarios(CONFIGS / "scenarios" / "openscenario_e6_cut_in.xosc")
    (cutter,) = cfg.agents
    assert (cutter.type, cutter.size_m) == ("van", (5.2, 2.0, 2.0))
    (shift,) = cutter.lateral_shifts
    (brake,) = cutter.speed_events
    assert (shift.time_s, shift.duration_s) == (3.0, 3.0)
    assert (brake.time_s, brake.when_ego_within_m, brake.accel_mps2) == (7.0, 30.0, -4.0)
    result = run_scenario(build_scenario(cfg, shared_data), "pdm")
    speed = np.hypot(*result.history.agent_velocity_mps[:, 0].T)
    t = np.arange(len(speed)) * cfg.dt_s
    assert speed[t <= 7.0 + 1e-9].min() == pytest.approx(13.0)  # brakes no earlier than 7 s
    assert speed[-1] == pytest.approx(3.0)
    assert result.passed and not result.history.collisions.any()
