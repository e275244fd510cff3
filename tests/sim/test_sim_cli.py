"""``drivestack sim``: per-run metrics.json, history and a summary."""

from __future__ import annotations

import json
from pathlib import Path

from drivestack.cli import main

CONFIGS = Path(__file__).resolve().parents[2] / "configs"


def test_sim_command_writes_metrics_and_summary(tmp_path: Path, capsys) -> None:
    rc = main(
        [
            "sim",
            str(CONFIGS / "scenarios" / "cut_in.yaml"),
            "--out",
            str(tmp_path),
            "--max-steps",
            "20",
        ]
    )
    assert rc == 0
    for planner in ("pdm", "idm"):
        metrics = json.loads((tmp_path / planner / "cut_in" / "metrics.json").read_text())
        assert metrics["scenario"] == "cut_in" and metrics["planner"] == planner
        assert 0.0 <= metrics["score"] <= 100.0 and metrics["config"]["name"] == "cut_in"
        assert (tmp_path / planner / "cut_in" / "history.npz").is_file()
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert set(summary) == {"pdm", "idm"} and summary["pdm"]["scenarios"] == 1
    assert "| cut_in | pdm |" in capsys.readouterr().out


def test_sim_command_reports_config_errors(tmp_path: Path, capsys) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "name: x\nmap: {kind: straight}\nego: {lane: road_0}\nduration_s: 1.0\nbogus: 1\n"
    )
    assert main(["sim", str(bad), "--out", str(tmp_path / "out")]) == 2
    assert "field bogus: unknown key" in capsys.readouterr().err
