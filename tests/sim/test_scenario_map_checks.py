"""Scenario checks against the map and bad map files in ``drivestack sim``: a disconnected or
empty route, a negative start speed and a malformed map file are one-line errors (exit 2)
before any run."""

from __future__ import annotations

from pathlib import Path

import pytest

from drivestack.cli import main
from drivestack.core.errors import ConfigError
from drivestack.sim.build import build_scenario
from drivestack.sim.scenario import load_scenarios
from tests.sim.scenario_errors import scenario_error

HEAD = "name: t\nmap: {kind: intersection}\nduration_s: 2.0\n"
EGO = "ego: {lane: south_in, station_m: 10.0, speed_kph: 30.0}\n"


def _error(tmp_path: Path, text: str) -> str:
    """The one-line message of the ConfigError that loading and building ``text`` raises."""
    return scenario_error(tmp_path, text)


def test_disconnected_route_is_a_config_error(tmp_path: Path) -> None:
    message = _error(tmp_path, HEAD + EGO + "route: {lanes: [south_in, north_out]}\n")
    assert "field route.lanes: route lanes 0 -> 1: lane 'north_out' is neither" in message


def test_disconnected_agent_lanes_are_a_config_error(tmp_path: Path) -> None:
    agent = "agents:\n  - {id: a, lanes: [north_out, south_in], speed_mps: 5.0}\n"
    message = _error(tmp_path, HEAD + EGO + agent)
    assert "field agents.0.lanes: route lanes 0 -> 1" in message


def test_empty_route_is_a_config_error(tmp_path: Path) -> None:
    message = _error(tmp_path, HEAD + EGO + "route: {lanes: []}\n")
    assert "field route.lanes: needs at least one lane" in message


@pytest.mark.parametrize("speed", ["speed_kph: -45", "speed_mps: -1.0"])
def test_negative_ego_speed_is_refused(tmp_path: Path, speed: str) -> None:
    ego = f"ego: {{lane: south_in, station_m: 10.0, {speed}}}\n"
    message = _error(tmp_path, HEAD + ego)
    assert f"field ego.{speed.split(':')[0]}: must be a finite speed >= 0" in message


def test_sim_reports_a_malformed_map_file_in_one_line(tmp_path: Path, capsys) -> None:
    osm = tmp_path / "bad.osm"
    osm.write_text('<osm><node id="1" lon="8.4"/></osm>')
    scenario = tmp_path / "s.yaml"
    scenario.write_text(
        f"name: t\nmap: {{kind: lanelet2, file: {osm}}}\nduration_s: 1.0\n"
        "ego: {lane: '1', speed_kph: 10.0}\n"
    )
    rc = main(["sim", str(scenario), "--out", str(tmp_path / "out"), "--planner", "pdm"])
    err = capsys.readouterr().err.strip().splitlines()
    assert rc == 2
    assert err == [f"error: {osm}: node 1: field lat: missing"]


@pytest.mark.data
def test_file_map_params_set_the_reader_and_are_checked(tmp_path: Path, shared_data: Path) -> None:
    def scenario(params: str) -> Path:
        path = tmp_path / "s.yaml"
        path.write_text(
            "name: t\nmap: {kind: opendrive, file: opendrive_esmini/e6mini.xodr, params: "
            f"{params}}}\nduration_s: 1.0\nego: {{lane: '0_0_-3', station_m: 50.0, speed_kph: 50.0}}\n"
        )
        return path

    (cfg,) = load_scenarios(scenario("{default_speed_limit_mps: 30.0}"))
    built = build_scenario(cfg, shared_data)
    assert {lane.speed_limit_mps for lane in built.road_map.lanes} == {30.0}  # no speed records
    for params, field, reason in [
        ("{speed_limit_mps: 30.0}", "map.params.speed_limit_mps", "opendrive maps take"),
        ("{step_m: 0.0}", "map.params.step_m", "must be a finite number > 0, got 0.0"),
    ]:
        (cfg,) = load_scenarios(scenario(params))
        with pytest.raises(ConfigError, match=reason) as info:
            build_scenario(cfg, shared_data)
        assert info.value.field == field
