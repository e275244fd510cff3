"""Scenario input checks: a bad value is a ConfigError naming the file and the key, found when
the scenario is loaded or built, never a crash or a silent no-op while it runs."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest

from drivestack.core.errors import ConfigError
from drivestack.sim.build import build_scenario
from drivestack.sim.evaluate import check_pass, run_scenario
from drivestack.sim.scenario import PassCriteria, ScenarioConfig, load_scenarios
from tests.sim.scenario_errors import scenario_error

HEAD = "name: t\nmap: {kind: straight}\nduration_s: 2.0\n"
EGO = "ego: {lane: road_0, station_m: 100.0, speed_kph: 30.0}\n"


def _load(tmp_path: Path, text: str) -> list[ScenarioConfig]:
    path = tmp_path / "s.yaml"
    path.write_text(text)
    return load_scenarios(path)


def _error(tmp_path: Path, text: str, *, build: bool = False) -> str:
    """The message of the ConfigError that loading (and with ``build``, building) raises."""
    return scenario_error(tmp_path, text, build=build)


# --- agent paths (a one-point path used to crash the run with NaN boxes) --------------------


@pytest.mark.parametrize(
    "points",
    ["[[150.0, 0.0]]", "[[150.0, 0.0], [150.0, 0.0]]", "[]"],
    ids=["one point", "one point twice", "empty"],
)
def test_agent_path_needs_two_distinct_points(tmp_path: Path, points: str) -> None:
    agent = f"agents:\n  - {{id: a, behavior: scripted, path_m: {points}, speed_mps: 5.0}}\n"
    message = _error(tmp_path, HEAD + EGO + agent)
    assert "field agents.0.path_m: needs at least 2 distinct points" in message


def test_agent_path_with_a_repeated_point_runs(tmp_path: Path) -> None:
    path = "[[150.0, 1.75], [150.0, 1.75], [250.0, 1.75]]"  # zero-length segment dropped
    agent = f"agents:\n  - {{id: a, behavior: scripted, path_m: {path}, speed_mps: 5.0}}\n"
    (cfg,) = _load(tmp_path, HEAD + EGO + agent)
    result = run_scenario(cfg, "idm", max_steps=5)
    assert result.history.agent_valid.all() and np.isfinite(result.history.agent_boxes).all()


# --- start stations (an agent off its lane was never there: a pass that tested nothing) -----


def test_agent_station_past_its_lanes_is_an_error(tmp_path: Path) -> None:
    agent = "agents:\n  - {id: a, lanes: [road_0], station_m: 5000.0, speed_mps: 5.0}\n"
    (cfg,) = _load(tmp_path, HEAD + EGO + agent)  # the map decides: found when built
    with pytest.raises(ConfigError) as info:
        build_scenario(cfg)
    message = str(info.value)
    assert "field agents.0.station_m: 5000.0 m is outside its lanes ['road_0']" in message
    assert "(length 600.0 m)" in message
    with pytest.raises(ConfigError, match=r"agents\.0\.station_m"):
        run_scenario(cfg, "pdm", max_steps=2)


@pytest.mark.parametrize("station", ["-1.0", "50.5"])
def test_agent_station_past_its_path_is_an_error_on_loading(tmp_path: Path, station: str) -> None:
    agent = f"agents:\n  - {{id: a, path_m: [[0.0, 0.0], [30.0, 40.0]], station_m: {station}}}\n"
    message = _error(tmp_path, HEAD + EGO + agent)  # no map needed: found before building
    assert f"field agents.0.station_m: {station} m is outside its path_m (length 50.0 m)" in message


def test_agent_station_at_either_end_of_its_path_loads(tmp_path: Path) -> None:
    for station in ("0.0", "50.0"):
        agent = (
            f"agents:\n  - {{id: a, path_m: [[0.0, 0.0], [30.0, 40.0]], station_m: {station}}}\n"
        )
        (cfg,) = _load(tmp_path, HEAD + EGO + agent)
        assert cfg.agents[0].station_m == float(station)


def test_ego_station_past_its_lane_is_an_error(tmp_path: Path) -> None:
    ego = EGO.replace("station_m: 100.0", "station_m: 700.0")
    message = _error(tmp_path, HEAD + ego, build=True)
    assert "field ego.station_m: 700.0 m is outside lane 'road_0' (length 600.0 m)" in message


def test_stations_at_the_ends_of_the_lane_are_fine(tmp_path: Path) -> None:
    agent = "agents:\n  - {id: a, lanes: [road_0], station_m: 600.0, speed_mps: 0.0}\n"
    (cfg,) = _load(tmp_path, HEAD + EGO.replace("100.0", "0.0") + agent)
    assert len(build_scenario(cfg).world.traffic.specs) == 1


# --- speeds ----------------------------------------------------------------------------------


def test_ego_with_both_speed_keys_is_an_error(tmp_path: Path) -> None:
    ego = "ego: {lane: road_0, station_m: 100.0, speed_kph: 60.0, speed_mps: 10.0}\n"
    message = _error(tmp_path, HEAD + ego)
    assert "field ego.speed_kph: 60.0 conflicts with ego.speed_mps: 10.0" in message


def test_agent_with_both_speed_keys_is_an_error(tmp_path: Path) -> None:
    agent = "agents:\n  - {id: a, lanes: [road_0], station_m: 150.0, speed_kph: 36.0, speed_mps: 10.0}\n"
    message = _error(tmp_path, HEAD + EGO + agent)
    assert "field agents.0.speed_kph: 36.0 conflicts with agents.0.speed_mps: 10.0" in message


def test_a_conflict_made_in_code_is_found_when_built(tmp_path: Path) -> None:
    (cfg,) = _load(tmp_path, HEAD + EGO)
    both = dataclasses.replace(cfg, ego=dataclasses.replace(cfg.ego, speed_mps=10.0))
    with pytest.raises(ConfigError, match=r"field ego\.speed_kph: 30\.0 conflicts"):
        build_scenario(both)


def test_a_swept_speed_in_the_other_unit_replaces_the_written_one(tmp_path: Path) -> None:
    from drivestack.exec.sweep import SweepSpec, parse_sweep_param, scenario_variants

    ego_mps = "ego: {lane: road_0, station_m: 100.0, speed_mps: 10.0}\n"
    (cfg,) = _load(tmp_path, HEAD + ego_mps)
    spec = SweepSpec((parse_sweep_param("ego.speed_kph=36,72"),))
    variants = [v for v, _, _ in scenario_variants(cfg, spec)]
    assert [v.ego.speed() for v in variants] == pytest.approx([10.0, 20.0])
    assert all(v.ego.speed_mps is None for v in variants)
    for variant in variants:
        build_scenario(variant)  # no conflict left
    swept_in_file = HEAD + ego_mps + "sweep: {grid: {ego.speed_kph: [54]}}\n"
    (variant,) = _load(tmp_path, swept_in_file)
    assert variant.ego.speed() == pytest.approx(15.0) and variant.ego.speed_mps is None


# --- map parameters ----------------------------------------------------------------------------


def test_unknown_map_parameter_names_it_and_lists_the_valid_ones(tmp_path: Path) -> None:
    message = _error(
        tmp_path,
        HEAD.replace("{kind: straight}", "{kind: straight, params: {speed_limit_kph: 60}}") + EGO,
        build=True,
    )
    assert "field map.params.speed_limit_kph: unknown key" in message
    assert "lane_width_m, length_m, n_lanes, speed_limit_mps" in message
    assert "unexpected keyword" not in message


def test_map_parameter_of_the_wrong_type_names_it(tmp_path: Path) -> None:
    message = _error(
        tmp_path,
        HEAD.replace("{kind: straight}", "{kind: straight, params: {n_lanes: 2.5}}") + EGO,
        build=True,
    )
    assert "field map.params.n_lanes: expected an integer, got 2.5" in message


def test_map_parameters_of_the_right_types_build(tmp_path: Path) -> None:
    params = "{kind: curved, params: {n_lanes: 3, radius_m: 80, speed_limit_mps: 10.0}}"
    (cfg,) = _load(tmp_path, HEAD.replace("{kind: straight}", params) + EGO)
    road_map = build_scenario(cfg).road_map
    assert {"road_0", "road_1", "road_2"} <= {lane.lane_id for lane in road_map.lanes}
    assert road_map.lane("road_0").speed_limit_mps == 10.0


def test_unknown_map_kind_lists_the_kinds(tmp_path: Path) -> None:
    message = _error(tmp_path, HEAD.replace("straight", "stright") + EGO, build=True)
    assert "field map.kind: unknown map kind 'stright'" in message and "'straight'" in message


# --- min_score: the 0-100 scale of the displayed score ---------------------------------------


def test_min_score_is_on_the_displayed_scale(tmp_path: Path) -> None:
    (cfg,) = _load(tmp_path, HEAD + EGO)
    result = run_scenario(cfg, "pdm", max_steps=3)
    nuplan = dataclasses.replace(result.nuplan, score=0.562)  # shown as 56.2
    assert check_pass(PassCriteria(min_score=50.0), nuplan, result.ncap) == ()
    assert check_pass(PassCriteria(min_score=60.0), nuplan, result.ncap) == ("score 56.2 < 60",)


def test_min_score_passes_through_run_scenario(tmp_path: Path) -> None:
    (cfg,) = _load(tmp_path, HEAD + EGO + "pass_criteria: {min_score: 50}\n")
    result = run_scenario(cfg, "pdm", max_steps=3)
    assert result.as_dict()["score"] >= 50.0 and result.passed


@pytest.mark.parametrize("value", ["-1", "100.5"])
def test_min_score_outside_0_100_is_an_error(tmp_path: Path, value: str) -> None:
    message = _error(tmp_path, HEAD + EGO + f"pass_criteria: {{min_score: {value}}}\n")
    assert "field pass_criteria.min_score: must be in [0, 100]" in message


# --- a scenario without agents runs ------------------------------------------------------------


def test_scenario_without_agents_runs(tmp_path: Path) -> None:
    (cfg,) = _load(tmp_path, HEAD + EGO)
    history = run_scenario(cfg, "idm", max_steps=4).history
    assert history.agent_boxes.shape == (5, 0, 7) and history.collisions.shape == (5, 0)
