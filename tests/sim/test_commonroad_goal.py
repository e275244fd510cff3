"""A CommonRoad scenario's planning problem in the simulator: choosing one of several
(``map.params.planning_problem``) and reporting whether the ego reached its goal
(``goal_reached``, ``goal_reached_time_s``: information, not a pass criterion)."""

from __future__ import annotations

from pathlib import Path

import pytest

from drivestack.core.errors import ConfigError, DataError
from drivestack.sim.build import build_scenario
from drivestack.sim.evaluate import run_scenario
from drivestack.sim.scenario import load_scenarios
from tests.ingest.maps.test_commonroad_errors import _lanelet, _write


def _problem(pid: str, goal_x: float) -> str:
    """The ego at x = 1 m on lanelet 1 (y = 0, running +x) at 5 m/s; its goal a 4 x 3 m
    rectangle centred at ``goal_x``."""
    return (
        f'<planningProblem id="{pid}"><initialState><position><point><x>1.0</x><y>0.0</y>'
        "</point></position><orientation><exact>0.0</exact></orientation>"
        "<velocity><exact>5.0</exact></velocity><time><exact>0</exact></time></initialState>"
        "<goalState><position><rectangle><length>4.0</length><width>3.0</width>"
        f"<center><x>{goal_x}</x><y>0.0</y></center></rectangle></position></goalState>"
        "</planningProblem>"
    )


def _scenario(tmp_path: Path, params: str) -> Path:
    xml = _write(
        tmp_path,
        _lanelet("1", 0.0) + _lanelet("2", 3.5),
        problem=_problem("5", 9.0) + _problem("6", 45.0),
    )
    path = tmp_path / "s.yaml"
    path.write_text(
        f"name: cr_goal\nmap: {{kind: commonroad, file: {xml}{params}}}\n"
        "ego: {from_file: true}\nduration_s: 2.0\n"
    )
    return path


def test_several_planning_problems_need_a_choice(tmp_path: Path) -> None:
    (cfg,) = load_scenarios(_scenario(tmp_path, ""))
    with pytest.raises(DataError, match=r"field planningProblem: 2 planning problems"):
        build_scenario(cfg)
    (cfg,) = load_scenarios(_scenario(tmp_path, ", params: {planning_problem: 1.5}"))
    with pytest.raises(ConfigError, match=r"field map\.params\.planning_problem: must be a"):
        build_scenario(cfg)


@pytest.mark.parametrize(("pid", "reached"), [(5, True), (6, False)])
def test_goal_reached_is_reported(tmp_path: Path, pid: int, reached: bool) -> None:
    (cfg,) = load_scenarios(_scenario(tmp_path, f", params: {{planning_problem: {pid}}}"))
    result = run_scenario(cfg, "idm")
    record = result.as_dict()
    assert record["goal_reached"] is reached
    if reached:  # the rear axle enters x >= 7 m: 6 m on from x = 1 at >= 5 m/s, within 1.2 s
        assert result.goal_reached_time_s is not None and 0.5 < result.goal_reached_time_s < 1.25
    else:  # 45 - 2 = 43 m away: out of reach in 2 s
        assert record["goal_reached_time_s"] is None
    assert result.passed  # never a criterion
