"""The summary table of ``drivestack sim`` (``_table``): its min TTC column says its horizon."""

from __future__ import annotations

from typing import Any

from drivestack.commands.sim import _table
from drivestack.eval.driving.nuplan import ttc_note


def _row(scenario: str, min_ttc_s: float | None) -> dict[str, Any]:
    return {
        "scenario": scenario,
        "planner": "pdm",
        "status": "ok",
        "score": 90.0,
        "passed": True,
        "failures": [],
        "collision_summary": "no",
        "ncap": {"impact_speed_kph": None, "min_ttc_s": min_ttc_s, "avoided": True},
        "planner_step_median_ms": 1.0,
    }


def test_min_ttc_column_names_its_horizon_and_explains_the_dash() -> None:
    text = _table([_row("near", 1.25), _row("clear", None)], {})
    lines = text.splitlines()
    header = [c.strip() for c in lines[0].strip("|").split("|")]
    assert header[6] == "min TTC s (≤ 3 s horizon)"
    assert "| near | pdm |" in text and "| 1.25 |" in lines[2]
    assert lines[3].split("|")[7].strip() == "-"  # beyond the horizon: no projected collision
    note = (
        "min TTC: nuPlan's time to collision, projected 3 s ahead at constant velocities; "
        "- = no projected collision within 3 s (not an error)."
    )
    assert note in lines and note == ttc_note("-")  # one wording, shared with the report
    # under the table, after a blank line (else markdown reads it as one more table row)
    assert lines.index(note) == 5 and lines[4] == ""
