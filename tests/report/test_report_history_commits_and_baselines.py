"""The report over a damaged history.npz, the runs' recorded commit and max_steps, and a
baseline that shares no run."""

from __future__ import annotations

import json
from pathlib import Path

from drivestack.cli import main
from drivestack.report import build_report
from drivestack.report.collect import load_run


def _run(
    root: Path, keys: list[str], *, max_steps: int | None = 50, commit: str = "abc1234"
) -> Path:
    """A sim run folder: sim.json and one passing metrics.json per key."""
    root.mkdir(parents=True)
    (root / "sim.json").write_text(json.dumps({"kind": "sim", "max_steps": max_steps}))
    for key in keys:
        folder = root / key
        folder.mkdir(parents=True)
        record = {
            "scenario": key.split("/")[1],
            "planner": "pdm",
            "score": 90.0,
            "passed": True,
            "ncap": {"avoided": True, "min_ttc_s": 2.0, "impact_speed_kph": None},
            "max_steps": max_steps,
            "git_commit": commit,
        }
        (folder / "metrics.json").write_text(json.dumps(record))
    return root


def test_a_damaged_history_is_a_corrupt_row_and_the_report_is_written(tmp_path, capsys) -> None:
    run = _run(tmp_path / "run", ["pdm/a", "pdm/b"])
    (run / "pdm" / "b" / "history.npz").write_bytes(b"not a zip archive")
    out = tmp_path / "report.html"
    assert main(["report", str(run), "--out", str(out)]) == 0
    printed = capsys.readouterr()
    assert "1 corrupt" in printed.out
    assert "problem: " in printed.err and "history.npz" in printed.err
    data = json.loads(out.with_suffix(".json").read_text())
    rows = {r["key"]: r for r in data["rows"]}
    assert rows["pdm/b"]["status"] == "corrupt" and rows["pdm/a"]["status"] == "pass"
    assert out.is_file()


def test_the_report_shows_the_commit_the_runs_recorded(tmp_path) -> None:
    run = _run(tmp_path / "run", ["pdm/a"], commit="0123abc-dirty")
    data = build_report(run, max_detail=0).data
    assert data["git_commit"] == "0123abc-dirty"
    assert data["report_git_commit"] != "0123abc-dirty"  # shown only when it differs
    assert load_run(run).rows[0].git_commit == "0123abc-dirty"


def test_a_baseline_sharing_no_run_warns_and_shows_no_difference(tmp_path, capsys) -> None:
    run = _run(tmp_path / "run", ["pdm/a"])
    base = _run(tmp_path / "base", ["pdm/z"])
    data = build_report(run, base, max_detail=0).data
    assert any("share nothing to compare" in w for w in data["warnings"])
    means = [h for h in data["headline"] if h["name"] == "pdm: mean score"]
    assert means and means[0]["baseline"] is None  # no Δ of means over disjoint sets
    assert main(["report", str(run), "--baseline", str(base), "--out", str(tmp_path / "r.html")]) == 0  # fmt: skip
    assert "warning: " in capsys.readouterr().err


def test_a_baseline_cut_to_other_max_steps_warns(tmp_path) -> None:
    run = _run(tmp_path / "run", ["pdm/a"], max_steps=50)
    base = _run(tmp_path / "base", ["pdm/a"], max_steps=None)
    warnings = build_report(run, base, max_detail=0).data["warnings"]
    assert any("max_steps 50" in w and "full length" in w for w in warnings)
    same = _run(tmp_path / "same", ["pdm/a"], max_steps=50)
    (only,) = build_report(run, same, max_detail=0).data["warnings"]
    assert only.startswith("1 run(s) without history.npz")  # (metrics-only runs), no max_steps
