"""Scenario build checks found by the round-2 bad-input campaign on the simulator: each a
ConfigError naming the file and the key, raised before any tick runs (before: a run of no
step scored 100 and passed, a run of 1.5e10 steps hung, a repeated agent id or an ego placed
1e308 m off its lane crashed inside the run)."""

from __future__ import annotations

from pathlib import Path

import pytest

from drivestack.sim.build import MAX_SCENARIO_STEPS, build_scenario
from drivestack.sim.scenario import load_scenarios
from tests.sim.scenario_errors import scenario_error

# the refusals come before any arithmetic that would overflow (numpy's RuntimeWarnings)
pytestmark = pytest.mark.filterwarnings("error::RuntimeWarning")

HEAD = "name: t\nmap: {kind: straight, params: {n_lanes: 2}}\n"
EGO = "ego: {lane: road_0, station_m: 100.0, speed_kph: 50.0, offset_m: %s}\n"
AGENT = "  - {id: %s, behavior: scripted, lanes: [road_0], station_m: %s, speed_kph: 50.0%s}\n"


def _error(tmp_path: Path, text: str) -> str:
    """The one-line message of the ConfigError that loading and building ``text`` raises."""
    return scenario_error(tmp_path, text)


def _scenario(duration_s: str = "2.0", dt_s: str = "0.1", offset: str = "0.0") -> str:
    return f"{HEAD}duration_s: {duration_s}\ndt_s: {dt_s}\n{EGO % offset}"


@pytest.mark.parametrize("duration_s", ["0.04", "1.0e-12"])
def test_a_duration_shorter_than_one_step_is_refused(tmp_path: Path, duration_s: str) -> None:
    # before: 0 ticks, score 100, passed
    message = _error(tmp_path, _scenario(duration_s))
    assert "field duration_s:" in message and "less than one step of dt_s = 0.1 s" in message


@pytest.mark.parametrize(("duration_s", "dt_s"), [("15.0", "1.0e-9"), ("1.0e+9", "0.1")])
def test_a_run_of_too_many_steps_is_refused(tmp_path: Path, duration_s: str, dt_s: str) -> None:
    # before: 1.5e10 / 1e10 ticks: the run hung
    message = _error(tmp_path, _scenario(duration_s, dt_s))
    assert "field duration_s:" in message and f"{MAX_SCENARIO_STEPS:,} a run may take" in message


def test_a_step_below_one_nanosecond_is_refused(tmp_path: Path) -> None:
    # before: every tick at timestamp 0; the run crashed at its end on the history's clock
    message = _error(tmp_path, _scenario("1.0e-9", "1.0e-10"))
    assert "field dt_s: must be at least 1e-9 s" in message


def test_one_step_and_a_long_run_within_the_cap_build(tmp_path: Path) -> None:
    for duration_s, dt_s in (("0.1", "0.1"), ("10000.0", "0.1")):
        path = tmp_path / "ok.yaml"
        path.write_text(_scenario(duration_s, dt_s))
        built = build_scenario(load_scenarios(path)[0])
        assert built.n_steps == round(float(duration_s) / float(dt_s))


def test_a_repeated_agent_id_is_refused(tmp_path: Path) -> None:
    # before: ValueError 'Observation.agent_ids must be distinct' at the first tick
    text = _scenario() + "agents:\n" + AGENT % ("a", "130.0", "") + AGENT % ("a", "160.0", "")
    message = _error(tmp_path, text)
    assert "field agents.1.id: agent id 'a' is taken by an earlier agent" in message


def test_an_ego_too_far_off_its_lane_is_refused(tmp_path: Path) -> None:
    # before: the kernels' magnitude ValueError ('boxes has positions or sizes ...')
    # then: the magnitude check ('puts the ego at ... beyond +-3.53e+101 m'); now the lane's
    message = _error(tmp_path, _scenario(offset="-1.0e+308"))
    assert "field ego.offset_m: -1e+308 m puts the start" in message
    assert "past the edge of lane 'road_0'" in message


def test_an_agent_too_far_off_its_lane_is_refused(tmp_path: Path) -> None:
    text = _scenario() + "agents:\n" + AGENT % ("a", "130.0", ", offset_m: 1.0e+200")
    assert "field agents.0.offset_m: 1e+200 m puts the start" in _error(tmp_path, text)


def test_an_agent_on_a_path_too_far_away_is_refused(tmp_path: Path) -> None:
    path_agent = (
        "  - {id: p, behavior: scripted, path_m: [[1.0e+200, 0.0], [2.0e+200, 0.0]], "
        "station_m: 0.0, speed_kph: 10.0}\n"
    )
    message = _error(tmp_path, _scenario() + "agents:\n" + path_agent)
    assert "field agents.0.path_m:" in message and "too far to compute with" in message


def test_an_ego_far_off_the_road_is_refused(tmp_path: Path) -> None:
    # 10 km off the road: a start offset beyond its lane's half width and 1 m is a typo
    message = _error(tmp_path, _scenario(offset="1.0e+4"))
    assert "field ego.offset_m: 10000.0 m puts the start 9998.25 m past the edge" in message
