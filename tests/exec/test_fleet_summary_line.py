"""The fleet's last line counts runs as variants x planners, as fleet_summary.json does."""

from __future__ import annotations

import json
from pathlib import Path

from drivestack.cli import main
from drivestack.exec.fleet import SUMMARY_NAME


def test_the_line_counts_runs_as_variants_times_planners(scenario_file: Path, tmp_path, capsys):
    out = tmp_path / "f"
    argv = ["fleet", str(scenario_file), "--planner", "pdm,idm", "--sweep", "ego.speed_kph=30,40,50",
            "--max-steps", "1", "--out", str(out), "--quiet"]  # fmt: skip
    assert main(argv) == 0
    line = next(x for x in capsys.readouterr().out.splitlines() if x.startswith("fleet: "))
    # 3 grid values x 2 planners: 6 runs of 3 variants (the line said "fleet: 6 variants")
    assert line.startswith("fleet: 6 runs (3 variants x 2 planners), ran 6 now (0 crashed)")
    summary = json.loads((out / SUMMARY_NAME).read_text())
    assert {planner: s["variants"] for planner, s in summary.items()} == {"idm": 3, "pdm": 3}
