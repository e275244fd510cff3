"""``drivestack sim`` shows the red lights run: a table column when some run's map has lights,
the per-planner total, and the counts in metrics.json and summary.json."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from drivestack.cli import main
from drivestack.commands.sim import _summary, _table

CONFIGS = Path(__file__).resolve().parents[2] / "configs"


def _row(scenario: str, lights: int | None, violations: int = 0) -> dict[str, Any]:
    row: dict[str, Any] = {
        "scenario": scenario,
        "planner": "pdm",
        "status": "ok",
        "score": 90.0,
        "passed": violations == 0,
        "failures": [] if violations == 0 else ["ran a red light: L1 on lane a at 1.0 s, 9.0 m/s"],
        "collision_summary": "no",
        "at_fault_collision": False,
        "ncap": {"impact_speed_kph": None, "min_ttc_s": None, "avoided": True},
        "planner_step_median_ms": 1.0,
        "realtime_factor": 10.0,
        "sim_only_realtime_factor": 100.0,
    }
    if lights is not None:  # older records have neither field
        row["red_light_violations"] = violations
        row["red_light"] = {"violations": violations, "lights": lights, "events": []}
    return row


def _cells(line: str) -> list[str]:
    return [c.strip() for c in line.strip().strip("|").split("|")]


def test_the_column_appears_only_with_lights() -> None:
    rows = [_row("plain", 0), _row("old", None)]
    text = _table(rows, _summary(rows, ["pdm"]))
    assert "red lights run" not in text
    assert len(_cells(text.splitlines()[0])) == 8
    rows = [_row("plain", 0), _row("lit", 2, violations=1), _row("old", None)]
    crashed = {"scenario": "boom", "planner": "pdm", "status": "crashed", "variant": "pdm/boom",
               "error": "RuntimeError: x"}  # fmt: skip
    summary = _summary([*rows, crashed], ["pdm"])
    assert summary["pdm"]["red_light_violations"] == 1
    assert summary["pdm"]["runs_with_traffic_lights"] == 1
    lines = _table([*rows, crashed], summary).splitlines()
    head = _cells(lines[0])
    assert head[7] == "red lights run" and head[8] == "step ms" and len(head) == 9
    assert lines[1].count("---") == 9
    by_name = {_cells(line)[0]: _cells(line) for line in lines[2:6]}
    assert by_name["plain"][7] == "-" and by_name["old"][7] == "-"  # maps without lights
    assert by_name["lit"][7] == "1" and by_name["lit"][3] == "FAIL"
    assert by_name["boom"] == ["boom", "pdm", "-", "CRASHED", *["-"] * 5]
    assert "pdm: red lights run 1 (over 1 runs on maps with traffic lights); agents 0" in lines


def test_sim_records_the_red_lights(tmp_path: Path, capsys) -> None:
    scenario = CONFIGS / "scenarios" / "red_light_dilemma.yaml"
    assert main(["sim", str(scenario), "--planner", "idm", "--out", str(tmp_path)]) == 0
    metrics = json.loads((tmp_path / "idm" / "red_light_dilemma" / "metrics.json").read_text())
    assert metrics["red_light_violations"] == 0
    assert metrics["red_light"] == {
        "violations": 0,
        "lights": 1,
        "events": [],
        "agent_red_light_runs": 0,
        "agent_events": [],
    }
    assert metrics["config"]["pass_criteria"]["no_red_light_violation"] is True
    assert metrics["config"]["traffic_lights"][0]["id"] == "L1"
    summary = json.loads((tmp_path / "summary.json").read_text())["idm"]
    assert summary["red_light_violations"] == 0 and summary["runs_with_traffic_lights"] == 1
    out = capsys.readouterr().out
    assert "red lights run |" in out.splitlines()[0]
    assert "| red_light_dilemma | idm |" in out


def test_the_agents_line_only_with_lights() -> None:
    rows = [_row("plain", 0)]
    assert "agents" not in _table(rows, _summary(rows, ["pdm"]))
    lit = _row("lit", 1)
    lit["red_light"]["agent_red_light_runs"] = 2
    rows = [lit, _row("old", None)]
    summary = _summary(rows, ["pdm"])
    assert summary["pdm"]["agent_red_light_runs"] == 2
    line = "pdm: red lights run 0 (over 1 runs on maps with traffic lights); agents 2"
    assert line in _table(rows, summary).splitlines()


#: Light L1 shows red throughout and stops both lanes at station 200 m (x = 100 m). The
#: scripted car on road_1 (4.5 m long, centred at station 180 m, 10 m/s) has its front at
#: 182.25 + 10 t m: it passes the line at t = 1.775 s, between ticks 17 (199.25 m) and 18
#: (200.25 m): one run, tick 18, 10 m/s. The IDM car on road_0 (centred at 150 m, 10 m/s)
#: stops before the line. The ego starts at rest 150 m back and never gets there in 4 s.
AGENTS_AT_RED = """name: agents_at_red
map: {kind: straight, params: {n_lanes: 2, speed_limit_mps: 13.89}}
ego: {lane: road_0, station_m: 50.0, speed_kph: 0.0}
duration_s: 4.0
agents:
  - {id: runner, type: car, behavior: scripted, lanes: [road_1], station_m: 180.0, speed_mps: 10.0}
  - {id: obeyer, type: car, behavior: idm, lanes: [road_0], station_m: 150.0, speed_mps: 10.0, desired_speed_mps: 10.0}
traffic_lights:
  - {id: L1, stops: [{lane: road_0, station_m: 200.0}, {lane: road_1, station_m: 200.0}], phases: [[red, 100.0]]}
pass_criteria: {no_collision: true}
"""


def test_sim_counts_the_agents_red_light_runs(tmp_path: Path, capsys) -> None:
    scenario = tmp_path / "agents_at_red.yaml"
    scenario.write_text(AGENTS_AT_RED)
    out = tmp_path / "out"
    assert main(["sim", str(scenario), "--planner", "idm", "--out", str(out)]) == 0
    metrics = json.loads((out / "idm" / "agents_at_red" / "metrics.json").read_text())
    red = metrics["red_light"]
    assert metrics["red_light_violations"] == 0 and red["violations"] == 0  # the ego's
    assert red["agent_red_light_runs"] == 1
    (run,) = red["agent_events"]
    assert (run["agent_id"], run["tick"], run["light_id"], run["lane_id"]) == (
        "runner",
        18,
        "L1",
        "road_1",
    )
    assert abs(run["time_s"] - 1.775) < 1e-6 and abs(run["speed_mps"] - 10.0) < 1e-6
    summary = json.loads((out / "summary.json").read_text())["idm"]
    assert summary["agent_red_light_runs"] == 1
    text = capsys.readouterr().out
    assert "idm: red lights run 0 (over 1 runs on maps with traffic lights); agents 1" in text
