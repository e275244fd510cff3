"""A fleet sweep over maps with traffic lights counts, per parameter bin, the runs that ran a
red (``red_light_runs``, and a "ran a red" column); a sweep whose records have no lights (maps
without them, or indexes and metrics from before them) aggregates and renders as before."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from drivestack.report import build_report, write_report
from drivestack.report.collect import ScenarioRow
from drivestack.report.sweep import pass_rate_by_param

KEY = "traffic_lights.0.offset_s"
# (offset, speed, red lights run): two runs at offset 4 s ran a red, one of them two
VARIANTS = [(2, 90, 0), (2, 130, 0), (4, 90, 0), (4, 110, 1), (4, 130, 2), (6, 130, 0)]


def _fleet(root: Path, lights: bool) -> Path:
    """A fleet folder of :data:`VARIANTS` (idm). ``lights``: the index records and metrics
    carry the red lights (a map with one light); else neither has the field (an older run)."""
    records = []
    for k, (offset, speed, reds) in enumerate(VARIANTS):
        key = f"idm/red_light_stop_{k:04d}"
        params = {KEY: offset, "ego.speed_kph": speed}
        metrics: dict[str, Any] = {
            "scenario": f"red_light_stop#{k:04d}", "planner": "idm", "score": 80.0 - k,
            "passed": reds == 0, "failures": ["no_red_light_violation"] if reds else [],
            "ncap": {"avoided": True, "min_ttc_s": None, "impact_speed_kph": None},
            "fleet": {"variant": key, "base_scenario": "red_light_stop", "seed": k,
                      "params": params},
        }  # fmt: skip
        record: dict[str, Any] = {"variant": key, "status": "ok", "planner": "idm", "seed": k,
                                  "params": params, "base_scenario": "red_light_stop",
                                  "score": metrics["score"], "passed": reds == 0}  # fmt: skip
        if lights:
            metrics["red_light"] = {"violations": reds, "lights": 1, "events": []}
            metrics["red_light_violations"] = reds
            record["red_light_violations"] = reds
        folder = root / key
        folder.mkdir(parents=True)
        (folder / "metrics.json").write_text(json.dumps(metrics))
        records.append(record)
    sweep = {"params": [{"key": KEY, "values": [2, 4, 6]},
                        {"key": "ego.speed_kph", "values": [90, 110, 130]}]}  # fmt: skip
    (root / "fleet.json").write_text(json.dumps({"kind": "fleet", "planners": ["idm"],
                                                 "sweep": sweep}))  # fmt: skip
    (root / "fleet.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))
    return root


def _table(html: str, key: str) -> str:
    start = html.index(f"<th class=l>{key}</th>")
    return html[start : html.index("</table>", start)]


def test_red_light_runs_per_bin(tmp_path: Path) -> None:
    report = build_report(_fleet(tmp_path / "fleet", lights=True))
    by_param = report.data["sweep"]["by_param"]
    # hand-counted from VARIANTS: runs with at least one red (the one with two counts once)
    assert {b["bin"]: (b["n"], b["red_light_runs"]) for b in by_param[KEY]} == {
        "2": (2, 0), "4": (3, 2), "6": (1, 0)}  # fmt: skip
    assert {b["bin"]: b["red_light_runs"] for b in by_param["ego.speed_kph"]} == {
        "90": 0, "110": 1, "130": 1}  # fmt: skip
    html = write_report(report, tmp_path / "r.html")[0].read_text()
    table = _table(html, KEY)
    head = re.findall(r"<th[^>]*>([^<]*)</th>", table)
    assert head[-1] == "ran a red"
    rows = [re.findall(r"<td[^>]*>([^<]*)</td>", r) for r in table.split("<tr>")[1:]]
    assert [(r[0], r[-1]) for r in rows] == [("2", "0"), ("4", "2"), ("6", "0")]


def test_no_red_light_column_without_the_field(tmp_path: Path) -> None:
    report = build_report(_fleet(tmp_path / "fleet", lights=False))
    for bins in report.data["sweep"]["by_param"].values():
        assert all(set(b) == {"bin", "planner", "n", "passed", "pass_rate", "mean_score"}
                   for b in bins)  # fmt: skip
    html = write_report(report, tmp_path / "r.html")[0].read_text()
    assert "ran a red" not in html
    head = re.findall(r"<th[^>]*>([^<]*)</th>", _table(html, KEY).split("</thead>")[0])
    assert head == [KEY, "planner", "n", "passed", "pass rate %", "mean score"]


def test_pass_rate_by_param_counts_reds_only_when_some_map_has_lights() -> None:
    def row(i: int, v: float, reds: int | None, status: str = "pass") -> ScenarioRow:
        return ScenarioRow(f"a/s_{i}", f"s#{i}", "a", status, params={"v": v},
                           red_light_violations=reds)  # fmt: skip

    plain = [row(0, 1.0, None), row(1, 2.0, None, "fail")]
    assert all("red_light_runs" not in b for b in pass_rate_by_param(plain)["v"])
    # a crashed run (no metrics: None) counts as not having run a red
    lit = [row(0, 1.0, 0), row(1, 1.0, 3, "fail"), row(2, 2.0, None, "crashed")]
    assert [(b["bin"], b["red_light_runs"]) for b in pass_rate_by_param(lit)["v"]] == [
        ("1.0", 1), ("2.0", 0)]  # fmt: skip
