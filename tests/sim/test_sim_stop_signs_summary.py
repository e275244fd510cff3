"""``drivestack sim`` shows the stop signs run as it shows the red lights: a table column only
when some run's map has stop signs, the per-planner total line, and the counts in
summary.json; ``drivestack report``'s scenario table likewise."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from drivestack.cli import main
from drivestack.commands.sim import _summary, _table
from drivestack.report import build_report, write_report
from tests.report.test_red_light_column import _header, _row_cells
from tests.sim.test_sim_red_lights import _cells, _row

CONFIGS = Path(__file__).resolve().parents[2] / "configs"


def _signed(scenario: str, signs: int | None, violations: int = 0) -> dict[str, Any]:
    """A run record on a map with ``signs`` stop-sign rules (``None``: an older record without
    the fields) and no traffic light."""
    row = _row(scenario, None, violations)
    if violations:
        row["failures"] = ["ran a stop sign: stop_south on lane south_in at 7.0 s, 3.0 m/s"]
    if signs is not None:
        row["stop_sign_violations"] = violations
        row["stop_sign"] = {"violations": violations, "signs": signs, "lines_passed": 1}
    return row


def test_the_column_and_the_line_appear_only_with_stop_signs() -> None:
    rows = [_signed("plain", 0), _signed("old", None)]
    summary = _summary(rows, ["pdm"])
    assert summary["pdm"]["runs_with_stop_signs"] == 0
    text = _table(rows, summary)
    assert "stop signs run" not in text
    assert len(_cells(text.splitlines()[0])) == 8
    rows = [_signed("plain", 0), _signed("signed", 2, violations=1), _signed("old", None)]
    crashed = {"scenario": "boom", "planner": "pdm", "status": "crashed", "variant": "pdm/boom",
               "error": "RuntimeError: x"}  # fmt: skip
    summary = _summary([*rows, crashed], ["pdm"])
    assert summary["pdm"]["stop_sign_violations"] == 1
    assert summary["pdm"]["runs_with_stop_signs"] == 1
    lines = _table([*rows, crashed], summary).splitlines()
    head = _cells(lines[0])
    assert head[7] == "stop signs run" and head[8] == "step ms" and len(head) == 9
    by_name = {_cells(line)[0]: _cells(line) for line in lines[2:6]}
    assert by_name["plain"][7] == "-" and by_name["old"][7] == "-"  # maps without signs
    assert by_name["signed"][7] == "1" and by_name["signed"][3] == "FAIL"
    assert by_name["boom"] == ["boom", "pdm", "-", "CRASHED", *["-"] * 5]
    assert "pdm: stop signs run 1 (over 1 runs on maps with stop signs)" in lines
    assert not any(line.startswith("pdm: red lights run") for line in lines)


def test_both_columns_beside_each_other() -> None:
    lit = _row("lit", 1)
    rows = [lit, _signed("signed", 2)]
    lines = _table(rows, _summary(rows, ["pdm"])).splitlines()
    head = _cells(lines[0])
    assert head[7:] == ["red lights run", "stop signs run", "step ms"]
    by_name = {_cells(line)[0]: _cells(line) for line in lines[2:4]}
    assert by_name["lit"][7:9] == ["0", "-"] and by_name["signed"][7:9] == ["-", "0"]
    red = lines.index("pdm: red lights run 0 (over 1 runs on maps with traffic lights); agents 0")
    assert lines[red + 1] == "pdm: stop signs run 0 (over 1 runs on maps with stop signs)"


def test_sim_counts_the_stop_signs(tmp_path: Path, capsys) -> None:
    scenario = CONFIGS / "scenarios" / "stop_sign_agent_yields.yaml"
    assert main(["sim", str(scenario), "--planner", "idm", "--out", str(tmp_path)]) == 0
    metrics = json.loads((tmp_path / "idm" / "stop_sign_agent_yields" / "metrics.json").read_text())
    assert metrics["stop_sign_violations"] == 0
    assert metrics["stop_sign"]["signs"] == 2  # the north and south arms
    summary = json.loads((tmp_path / "summary.json").read_text())["idm"]
    assert summary["stop_sign_violations"] == 0 and summary["runs_with_stop_signs"] == 1
    out = capsys.readouterr().out
    assert "stop signs run |" in out.splitlines()[0]
    assert "idm: stop signs run 0 (over 1 runs on maps with stop signs)" in out
    # the report: a "stop signs run" column after the red lights' (this map has none)
    report = build_report(tmp_path)
    (row,) = report.data["rows"]
    assert row["stop_sign_violations"] == 0 and row["red_light_violations"] is None
    html, _ = write_report(report, tmp_path / "r.html")
    text = html.read_text()
    head = _header(text)
    column = head.index("stop signs run")
    assert head[column - 1] == "impact km/h" and "red lights run" not in head
    assert _row_cells(text, "idm/stop_sign_agent_yields")[column] == "0"
    assert "stop signs run: how often the ego's front passed a stop sign's line" in text


def test_the_report_reads_the_stop_sign_fields_strictly(tmp_path: Path) -> None:
    """None without signs or fields (older records); a malformed count makes the row corrupt,
    naming the field."""
    cases = {
        "pdm/signed": ({"violations": 1, "signs": 2, "lines_passed": 1}, 1),
        "pdm/unsigned": ({"violations": 0, "signs": 0, "lines_passed": 0}, 0),
        "pdm/old": (None, None),
        "pdm/bad": ({"violations": -1, "signs": 2, "lines_passed": 1}, -1),
    }
    for key, (block, total) in cases.items():
        folder = tmp_path / key
        folder.mkdir(parents=True)
        record: dict[str, Any] = {
            "scenario": key.split("/")[1],
            "planner": "pdm",
            "score": 80.0,
            "passed": True,
            "failures": [],
            "ncap": {"avoided": True, "min_ttc_s": None, "impact_speed_kph": None},
        }
        if block is not None:
            record["stop_sign"] = block
            record["stop_sign_violations"] = total
        (folder / "metrics.json").write_text(json.dumps(record))
    rows = {r["key"]: r for r in build_report(tmp_path).data["rows"]}
    assert rows["pdm/signed"]["stop_sign_violations"] == 1
    assert rows["pdm/unsigned"]["stop_sign_violations"] is None
    assert rows["pdm/old"]["stop_sign_violations"] is None
    assert rows["pdm/bad"]["status"] == "corrupt"
    assert "corrupt metrics.json: field stop_sign_violations" in rows["pdm/bad"]["error"]
