"""``drivestack sim``: bad scenario input stops it before any run (exit 2, one line); a run
that crashes while running is recorded and the others go on, as a fleet records it; a run
that misses its pass criteria is failed. Exit status 1 when any run failed or crashed."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

import drivestack.sim.evaluate as evaluate
from drivestack.cli import main
from drivestack.exec.fleet import INDEX_NAME

SCENARIO = """name: {name}
map: {{kind: straight, params: {{n_lanes: 1}}}}
ego: {{lane: road_0, station_m: 100.0, speed_kph: 30.0}}
duration_s: 2.0
agents:
  - {{id: lead, behavior: scripted, {where}, speed_mps: 8.0}}
"""
GOOD = "lanes: [road_0], station_m: 140.0"


def _suite(tmp_path: Path, **agents: str) -> Path:
    """A suite of one scenario per keyword: name -> the agent's placement."""
    for name, where in agents.items():
        (tmp_path / f"{name}.yaml").write_text(SCENARIO.format(name=name, where=where))
    suite = tmp_path / "suite.yaml"
    suite.write_text("name: s\nscenarios:\n" + "".join(f"  - {{file: {n}.yaml}}\n" for n in agents))
    return suite


@pytest.mark.parametrize(
    ("where", "error"),
    [
        ("path_m: [[150.0, 0.0]]", "field agents.0.path_m: needs at least 2 distinct points"),
        ("lanes: [road_0], station_m: 5000.0", "field agents.0.station_m: 5000.0 m is outside"),
    ],
    ids=["one-point path", "station off the road"],
)
def test_bad_scenario_stops_the_suite_before_any_run(
    tmp_path: Path, capsys, where: str, error: str
) -> None:
    suite = _suite(tmp_path, good=GOOD, bad=where)
    out = tmp_path / "out"
    assert main(["sim", "--suite", str(suite), "--out", str(out), "--planner", "pdm"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"error: {tmp_path / 'bad.yaml'}: ") and error in err
    assert len(err.splitlines()) == 1 and "Traceback" not in err
    assert not out.exists()  # nothing ran, nothing written


def test_a_crashing_run_is_recorded_and_the_others_run(
    tmp_path: Path, capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = evaluate.run_scenario

    def crash_on_first(built: Any, planner: Any, *args: Any, **kwargs: Any) -> Any:
        if built.config.name == "first" and planner == "pdm":
            raise ValueError("Boxes3D.center_m contains NaN")
        return real(built, planner, *args, **kwargs)

    monkeypatch.setattr(evaluate, "run_scenario", crash_on_first)
    suite = _suite(tmp_path, first=GOOD, second=GOOD)
    out = tmp_path / "out"
    argv = ["sim", "--suite", str(suite), "--out", str(out), "--max-steps", "5", "--quiet"]
    assert main(argv) == 1
    captured = capsys.readouterr()
    assert "run pdm/first crashed: ValueError: Boxes3D.center_m contains NaN" in captured.err
    assert "error: 0 of 4 runs failed their pass criteria, 1 crashed;" in captured.err
    assert "Traceback" not in captured.err
    assert "| first | pdm | - | CRASHED |" in captured.out
    assert "| first | idm | " in captured.out and "| second | pdm | " in captured.out
    assert "pdm: mean score" in captured.out and "(1 more crashed)" in captured.out
    assert "crashed: pdm/first: ValueError: Boxes3D.center_m contains NaN" in captured.out
    # the failure as a fleet index records it: the variant, status, error and traceback
    error = json.loads((out / "pdm" / "first" / "error.json").read_text())
    assert error["variant"] == "pdm/first" and error["scenario"] == "first"
    assert error["status"] == "crashed" and error["error"].startswith("ValueError: Boxes3D")
    assert "crash_on_first" in error["traceback"]
    assert not (out / "pdm" / "first" / "metrics.json").exists()
    for run in ("idm/first", "pdm/second", "idm/second"):
        assert json.loads((out / run / "metrics.json").read_text())["passed"] is True
    summary = json.loads((out / "summary.json").read_text())
    pdm, idm = summary["pdm"], summary["idm"]
    assert (pdm["scenarios"], pdm["passed"], pdm["failed"], pdm["crashed"]) == (1, 1, 0, 1)
    assert pdm["crashed_runs"] == [
        {"scenario": "first", "error": "ValueError: Boxes3D.center_m contains NaN"}
    ]
    assert (idm["scenarios"], idm["passed"], idm["failed"], idm["crashed"]) == (2, 2, 0, 0)
    assert "crashed_runs" not in idm and "failed_runs" not in idm and "failed_runs" not in pdm
    assert "CRASHED" in (out / "summary.md").read_text()


def test_only_crashing_runs_still_write_a_summary(
    tmp_path: Path, capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    def crash(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("boom")

    monkeypatch.setattr(evaluate, "run_scenario", crash)
    out = tmp_path / "out"
    argv = ["sim", "--suite", str(_suite(tmp_path, only=GOOD)), "--out", str(out), "--quiet"]
    assert main([*argv, "--planner", "pdm"]) == 1
    assert "pdm: no scenario ran (1 more crashed)" in capsys.readouterr().out
    summary = json.loads((out / "summary.json").read_text())["pdm"]
    assert summary["scenarios"] == 0 and summary["mean_score"] is None
    assert (summary["passed"], summary["failed"], summary["crashed"]) == (0, 0, 1)


# a car 4.5 m behind the ego that speeds up at 8 m/s^2 at once: it runs into the ego (the
# scenario's default pass criteria: no collision at all)
HIT = "lanes: [road_0], station_m: 92.0, speed_events: [{time_s: 0.0, accel_mps2: 8.0, target_speed_mps: 30.0}]"


def test_a_run_missing_its_pass_criteria_fails_the_command(
    tmp_path: Path, capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A FAIL row is a failed run: counted as ``failed`` in summary.json (as ``drivestack
    report`` counts it), exit status 1 with one line giving the counts; crashes apart."""
    real = evaluate.run_scenario

    def crash_on_third(built: Any, planner: Any, *args: Any, **kwargs: Any) -> Any:
        if built.config.name == "third":
            raise RuntimeError("boom")
        return real(built, planner, *args, **kwargs)

    monkeypatch.setattr(evaluate, "run_scenario", crash_on_third)
    suite = _suite(tmp_path, hit=HIT, good=GOOD, third=GOOD)
    out = tmp_path / "out"
    argv = ["sim", "--suite", str(suite), "--out", str(out), "--planner", "idm", "--quiet"]
    assert main(argv) == 1
    captured = capsys.readouterr()
    errors = [line for line in captured.err.splitlines() if line.startswith("error: ")]
    assert errors == [
        f"error: 1 of 3 runs failed their pass criteria, 1 crashed; see the table (FAIL, "
        f"CRASHED rows; error.json in a crashed run's folder) and {out / 'summary.json'}"
    ]
    assert "| hit | idm | " in captured.out and "| FAIL | yes (" in captured.out
    assert "failed: idm/hit: collision at " in captured.out
    metrics = json.loads((out / "idm" / "hit" / "metrics.json").read_text())
    assert metrics["passed"] is False and metrics["failures"][0].startswith("collision at ")
    summary = json.loads((out / "summary.json").read_text())["idm"]
    assert (summary["scenarios"], summary["passed"], summary["failed"]) == (2, 1, 1)
    assert summary["crashed"] == 1 and summary["collisions"] == 1
    assert summary["failed_runs"] == [{"scenario": "hit", "failures": metrics["failures"]}]
    assert summary["crashed_runs"] == [{"scenario": "third", "error": "RuntimeError: boom"}]


def test_every_run_passing_exits_0(tmp_path: Path, capsys) -> None:
    out = tmp_path / "out"
    argv = ["sim", "--suite", str(_suite(tmp_path, good=GOOD)), "--out", str(out), "--quiet"]
    assert main(argv) == 0
    assert "error:" not in capsys.readouterr().err
    summary = json.loads((out / "summary.json").read_text())
    for planner in ("pdm", "idm"):
        entry = summary[planner]
        assert (entry["passed"], entry["failed"], entry["crashed"]) == (1, 0, 0)


def test_fleet_records_a_swept_value_its_map_refuses(tmp_path: Path, capsys) -> None:
    """Swept values are checked when the variant is built: the fleet records the error."""
    scenario = tmp_path / "lead.yaml"
    scenario.write_text(SCENARIO.format(name="lead", where=GOOD))
    out = tmp_path / "fleet"
    argv = ["fleet", str(scenario), "--planner", "pdm", "--out", str(out), "--quiet",
            "--max-steps", "3", "--sweep", "agents.0.station_m=140,5000"]  # fmt: skip
    assert main(argv) == 1
    records = {
        r["params"]["agents.0.station_m"]: r
        for r in map(json.loads, (out / INDEX_NAME).read_text().splitlines())
    }
    assert records[140]["status"] == "ok" and records[5000]["status"] == "crashed"
    assert "field agents.0.station_m: 5000.0 m is outside its lanes" in records[5000]["error"]
    assert "ran 2 now (1 crashed)" in capsys.readouterr().out
