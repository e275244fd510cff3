"""The report's scenario table has a "red lights run" column when some run's map has traffic
lights (– for the runs whose map has none, or whose record predates the lights)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from drivestack.report import build_report, write_report


def _metrics(root: Path, key: str, red_light: dict[str, Any] | None, **extra: Any) -> None:
    folder = root / key
    folder.mkdir(parents=True)
    record: dict[str, Any] = {
        "scenario": key.split("/")[1],
        "planner": key.split("/")[0],
        "score": 80.0,
        "passed": not (red_light or {}).get("violations"),
        "failures": [],
        "ncap": {"avoided": True, "min_ttc_s": None, "impact_speed_kph": None},
        **extra,
    }
    if red_light is not None:
        record["red_light"] = red_light
        record["red_light_violations"] = red_light["violations"]
    (folder / "metrics.json").write_text(json.dumps(record))


def _header(html: str) -> list[str]:
    table = html[html.index('id="scenario-table"') :]
    head = table[: table.index("</thead>")]
    return re.findall(r"<th[^>]*>([^<]*)</th>", head)


def _row_cells(html: str, key: str) -> list[str]:
    table = html[html.index('id="scenario-table"') :]
    row = table[table.index(f'data-v="{key}"') :]
    row = row[: row.index("</tr>")]
    return re.findall(r"<td[^>]*>(.*?)</td>", "<td " + row)


def test_the_column_shows_when_a_map_has_lights(tmp_path: Path) -> None:
    run = tmp_path / "sim"
    _metrics(run, "pdm/lit", {"violations": 2, "lights": 1, "events": []})
    _metrics(run, "pdm/plain", {"violations": 0, "lights": 0, "events": []})
    _metrics(run, "pdm/old", None)
    report = build_report(run)
    rows = {r["key"]: r for r in report.data["rows"]}
    assert rows["pdm/lit"]["red_light_violations"] == 2
    assert rows["pdm/plain"]["red_light_violations"] is None
    assert rows["pdm/old"]["red_light_violations"] is None
    html, _ = write_report(report, tmp_path / "r.html")
    text = html.read_text()
    head = _header(text)
    column = head.index("red lights run")
    assert head[column - 1] == "impact km/h"
    assert _row_cells(text, "pdm/lit")[column] == "2"
    assert _row_cells(text, "pdm/plain")[column] == "–"
    assert "red lights run: how often the ego's front passed a stop line at red" in text


def test_no_column_without_lights(tmp_path: Path) -> None:
    run = tmp_path / "sim"
    _metrics(run, "pdm/plain", {"violations": 0, "lights": 0, "events": []})
    _metrics(run, "pdm/old", None)
    html, _ = write_report(build_report(run), tmp_path / "r.html")
    assert "red lights run" not in html.read_text()


def test_a_malformed_red_light_field_makes_the_row_corrupt(tmp_path: Path) -> None:
    run = tmp_path / "sim"
    _metrics(run, "pdm/bad", {"violations": -1, "lights": 1, "events": []})
    (row,) = build_report(run).data["rows"]
    assert row["status"] == "corrupt"
    assert "corrupt metrics.json: field red_light_violations" in row["error"]
