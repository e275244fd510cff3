"""Scenarios built in Python from a mapping: checked as a file's are, errors name the source."""

from __future__ import annotations

import copy

import pytest

from drivestack.core.errors import ConfigError
from drivestack.sim.build import build_scenario
from drivestack.sim.evaluate import run_scenario
from drivestack.sim.scenario import scenarios_from_mapping

STRAIGHT = {
    "name": "straight",
    "map": {"kind": "straight", "params": {"length_m": 300.0}},
    "ego": {"lane": "road_0", "station_m": 10.0, "speed_kph": 50.0},
    "duration_s": 4.0,
}


def test_a_mapping_builds_and_runs_like_a_file_and_is_left_unchanged() -> None:
    data = copy.deepcopy(STRAIGHT)
    [cfg] = scenarios_from_mapping(data)
    assert data == STRAIGHT  # the caller's mapping is not touched
    assert cfg.source == "<dict>"
    result = run_scenario(build_scenario(cfg), "idm")
    # 4 s from 50 km/h on an empty straight road (the IDM speeds up to the limit): 55.6 m or more
    assert result.passed
    assert result.history.ego_x_m[-1] - result.history.ego_x_m[0] >= 55.0
    assert result.history.ego_y_m == pytest.approx(result.history.ego_y_m[0])  # in its lane


def test_a_sweep_in_a_mapping_gives_one_scenario_per_case() -> None:
    data = {**STRAIGHT, "sweep": {"cases": [{"ego.speed_kph": 30.0}, {"ego.speed_kph": 60.0}]}}
    speeds = [cfg.ego.speed_kph for cfg in scenarios_from_mapping(data, "mine")]
    assert speeds == [30.0, 60.0]


def test_a_bad_value_names_the_source_and_the_key() -> None:
    bad = {**STRAIGHT, "ego": {**STRAIGHT["ego"], "speed_kph": -5.0}}
    with pytest.raises(ConfigError) as err:
        scenarios_from_mapping(bad, source="my_generator")
    assert err.value.path == "my_generator" and err.value.field == "ego.speed_kph"
    with pytest.raises(ConfigError, match="unknown key"):
        scenarios_from_mapping({**STRAIGHT, "egoo": {}})
    with pytest.raises(ConfigError, match="a scenario must be a mapping, got list"):
        scenarios_from_mapping([STRAIGHT])
