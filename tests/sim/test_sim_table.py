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
        "min TTC: nuPlan's time to collision, projected 0.1 to 2.9 s ahead at constant "
        "velocities (its steps below the 3 s horizon); - = no projected collision at any of "
        "them (not an error)."
    )
    assert note in lines and note == ttc_note("-")  # one wording, shared with the report
    # under the table, after a blank line (else markdown reads it as one more table row)
    assert lines.index(note) == 5 and lines[4] == ""


def test_light_line_counts_inferred_lights_only_when_there_are_some() -> None:
    from drivestack.sim.perception_metrics import light_perception_line as _light_line

    read = {"light_ticks": 40, "accuracy": 0.975, "unknown_share": 0.025}
    assert _light_line(read) == (
        "lights seen by camera over 40 light-ticks: accuracy 97.5%, unknown 2.5%"
    )  # an older record, without "inferred"
    none = {**read, "inferred": {"light_ticks": 0, "correct": 0}}
    assert _light_line(none) == _light_line(read)
    some = {**read, "inferred": {"light_ticks": 35, "correct": 34}}
    assert _light_line(some) == (
        "lights seen by camera over 40 light-ticks: accuracy 97.5%, unknown 2.5%; "
        "lights inferred over 35 light-ticks: 34 correct"
    )
    unscored = {**read, "inferred": {"light_ticks": 41, "correct": 0, "truth_unknown": 41}}
    assert _light_line(unscored).endswith(
        "; lights inferred over 41 light-ticks: 0 correct, 41 not scored (true state unknown)"
    )
    empty = {"light_ticks": 0}
    assert _light_line(empty) == "lights seen by camera: no light within range on any route"
