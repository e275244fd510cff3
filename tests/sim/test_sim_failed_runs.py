"""``drivestack sim``: bad scenario input stops it before any run (exit 2, one line); a run
that fails while running is recorded and the others go on (exit 1), as a fleet records it."""

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


def test_a_failing_run_is_recorded_and_the_others_run(
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
    assert "run pdm/first failed: ValueError: Boxes3D.center_m contains NaN" in captured.err
    assert "error: 1 of 4 runs failed" in captured.err and "Traceback" not in captured.err
    assert "| first | pdm | - | FAILED |" in captured.out
    assert "| first | idm | " in captured.out and "| second | pdm | " in captured.out
    assert "pdm: mean score" in captured.out and "(1 more failed to run)" in captured.out
    assert "failed: pdm/first: ValueError: Boxes3D.center_m contains NaN" in captured.out
    # the failure as a fleet index records it: the variant, status, error and traceback
    error = json.loads((out / "pdm" / "first" / "error.json").read_text())
    assert error["variant"] == "pdm/first" and error["scenario"] == "first"
    assert error["status"] == "failed" and error["error"].startswith("ValueError: Boxes3D")
    assert "crash_on_first" in error["traceback"]
    assert not (out / "pdm" / "first" / "metrics.json").exists()
    for run in ("idm/first", "pdm/second", "idm/second"):
        assert json.loads((out / run / "metrics.json").read_text())["passed"] is True
    summary = json.loads((out / "summary.json").read_text())
    assert summary["pdm"]["scenarios"] == 1 and summary["pdm"]["failed"] == 1
    assert summary["pdm"]["failed_runs"] == [
        {"scenario": "first", "error": "ValueError: Boxes3D.center_m contains NaN"}
    ]
    assert summary["idm"]["scenarios"] == 2 and summary["idm"]["failed"] == 0
    assert "failed_runs" not in summary["idm"]
    assert "FAILED" in (out / "summary.md").read_text()


def test_only_failing_runs_still_write_a_summary(
    tmp_path: Path, capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    def crash(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("boom")

    monkeypatch.setattr(evaluate, "run_scenario", crash)
    out = tmp_path / "out"
    argv = ["sim", "--suite", str(_suite(tmp_path, only=GOOD)), "--out", str(out), "--quiet"]
    assert main([*argv, "--planner", "pdm"]) == 1
    assert "pdm: no scenario ran (1 more failed to run)" in capsys.readouterr().out
    summary = json.loads((out / "summary.json").read_text())["pdm"]
    assert summary["scenarios"] == 0 and summary["mean_score"] is None


def test_fleet_records_a_swept_value_its_map_refuses(tmp_path: Path, capsys) -> None:
    """Swept values are checked when the variant is built: the fleet records the error."""
    scenario = tmp_path / "lead.yaml"
    scenario.write_text(SCENARIO.format(name="lead", where=GOOD))
    out = tmp_path / "fleet"
    argv = ["fleet", str(scenario), "--out", str(out), "--quiet", "--max-steps", "3",
            "--sweep", "agents.0.station_m=140,5000"]  # fmt: skip
    assert main(argv) == 1
    records = {
        r["params"]["agents.0.station_m"]: r
        for r in map(json.loads, (out / INDEX_NAME).read_text().splitlines())
    }
    assert records[140]["status"] == "ok" and records[5000]["status"] == "failed"
    assert "field agents.0.station_m: 5000.0 m is outside its lanes" in records[5000]["error"]
    assert "ran 2 now (1 failed)" in capsys.readouterr().out
