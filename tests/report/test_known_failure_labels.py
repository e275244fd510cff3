"""The report's scenario views label a known failure as the table and the CLI do ("known
failure", not a red "fail"); a plain failure stays "fail" in red."""

from __future__ import annotations

from typing import Any

from drivestack.report import html


def _row(key: str, **extra: Any) -> dict[str, Any]:
    return {
        "key": key, "status": "fail", "score": 0.0, "failures": ["collision"], "error": "",
        "not_evaluated": [], **extra,
    }  # fmt: skip


def test_scenario_views_say_known_failure() -> None:
    rows = [_row("idm/av2_7fab2350", known_failure="recorded traffic"), _row("pdm/hit")]
    d = {"details": [r["key"] for r in rows], "rows": rows, "detail_configs": {}}
    page = html._details(d, {})
    known, plain = page.split('id="s-pdm/hit"')
    assert '<span class="known">known failure</span> score 0.00' in known
    assert ">fail<" not in known
    assert '<span class="fail">fail</span> score 0.00' in plain
    # the scenario table's cell is the same label and class
    assert html._status_css(rows[0]) == "known" and html._status_text(rows[0]) == "known failure"
    assert html._status_css(rows[1]) == "fail" and html._status_text(rows[1]) == "fail"
