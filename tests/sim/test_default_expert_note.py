"""A run scored 0 against the *default* expert progress says so, and what to set.

A reviewer's stopped-lead scenario (a car standing 30 m ahead at 50 km/h) stops correctly,
passes and scores 0: its 28.5 m of progress is under 20 % of the default expert progress
(0.8 x 13.89 m/s x 15 s = 166.7 m). metrics.json now records that reference and its source,
and drivestack sim prints a note naming expert_progress_m; a scenario that sets it gets none."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from drivestack.cli import main

SCENARIO = """\
name: stopped_lead
map: {kind: straight, params: {n_lanes: 2, speed_limit_mps: 13.89}}
ego: {lane: road_0, station_m: 100.0, speed_kph: 50.0}
duration_s: 15.0
agents:
  - {id: lead, type: car, behavior: scripted, lanes: [road_0], station_m: 136.9, speed_kph: 0.0}
"""


def _run(tmp_path: Path, text: str, capsys: pytest.CaptureFixture[str]) -> tuple[dict, str]:
    cfg = tmp_path / "s.yaml"
    cfg.write_text(text)
    out = tmp_path / "out"
    assert main(["sim", str(cfg), "--out", str(out), "--planner", "idm", "--quiet"]) == 0
    record = json.loads((out / "idm" / "stopped_lead" / "metrics.json").read_text())
    return record, capsys.readouterr().out


def test_a_correct_stop_scored_against_the_default_reference_is_explained(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    record, out = _run(tmp_path, SCENARIO, capsys)
    assert record["passed"] and record["score"] == 0.0
    assert record["nuplan"]["making_progress"] == 0.0
    assert record["expert_progress_source"] == "default"
    assert record["expert_progress_m"] == pytest.approx(0.8 * 13.89 * 15.0)
    progress = record["nuplan"]["progress_m"]
    assert progress < 0.2 * record["expert_progress_m"]
    lines = [line for line in out.splitlines() if line.startswith("note: idm/stopped_lead:")]
    assert lines == [
        f"note: idm/stopped_lead: scored 0: {progress:.1f} m of progress is under 20 % of the "
        f"default expert progress ({record['expert_progress_m']:.1f} m; the scenario sets no "
        "expert_progress_m): set it if stopping or waiting is right here"
    ]


def test_a_scenario_that_sets_its_expert_progress_gets_no_note(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    record, out = _run(tmp_path, SCENARIO + "expert_progress_m: 30.0\n", capsys)
    assert record["expert_progress_source"] == "scenario"
    assert record["expert_progress_m"] == pytest.approx(30.0)
    assert record["nuplan"]["making_progress"] == 1.0 and record["score"] > 0.0
    assert "expert progress" not in out
