"""The report's motion-forecast and open-loop planning sections (html_motion), pinned by value.

The inputs are hand-built report dicts holding only the keys the sections read.
"""

from __future__ import annotations

import re
from typing import Any

from drivestack.report import html_motion


def _row(cases: int, ade: float, multi: bool) -> dict[str, Any]:
    row: dict[str, Any] = {"cases": cases, "ADE@1s": ade, "FDE@1s": 2 * ade, "miss_rate": 0.25}
    if multi:
        row |= {"minADE": 0.111, "minFDE": 0.222, "brier_minFDE": 0.333, "miss_rate_K": 0.125}
    return row


def _prediction(modes: dict[str, int], metrics: dict[str, Any]) -> dict[str, Any]:
    result = {
        "file": "pred/metrics.json",
        "dataset": "av2",
        "split": None,
        "root": None,
        "pasts": "tracks",
        "settings": {
            "history_s": 1.0,
            "horizon_s": 1.0,
            "stride_s": 0.5,
            "fit_window_s": 0.3,
            "miss_threshold_m": 2.0,
            "moving_displacement_m": 1.0,
        },
        "checkpoints_s": [1.0],
        "recordings": [],
        "cases": {"recorded": 7},
        "models": [{"name": n, "description": "", "modes": k} for n, k in modes.items()],
        "metrics": metrics,
        "notes": [],
    }
    return {"prediction": [result]}


def _tables(html: str) -> list[str]:
    return re.findall(r'<table class="prediction-table".*?</table>', html)


def _first_cells(table: str) -> list[str]:
    """The text of each body row's first cell (the model label)."""
    body = table.split("<tbody>")[1]
    return re.findall(r'<tr><td class="l" data-v="[^"]*">([^<]*)</td>', body)


def test_a_table_of_single_mode_models_has_no_k_columns_nor_k_labels() -> None:
    """Rule: the minADE_K ... columns and the "(K = k)" label appear only for K > 1; with
    every model at K = 1 the header is model, cases, ADE@1s, FDE@1s, miss_rate (5 columns)
    and the label is the bare name."""
    d = _prediction({"cv": 1}, {"recorded": {"cv": {"vehicle": {"moving": _row(7, 1.0, False)}}}})
    (table,) = _tables(html_motion.prediction_section(d, {}))
    assert "minADE" not in table
    assert table.count("</th>") == 5
    assert _first_cells(table) == ["cv"]


def test_a_multimodal_table_labels_only_the_multimodal_model_and_blanks_its_k_cells() -> None:
    """Rule: with one K = 3 model the table gains the 4 K columns (5 + 4 = 9 headers); the
    K = 3 model is labelled "mm (K = 3)" and shows its minADE 0.111; the K = 1 model keeps
    its bare name and shows "–" (undefined) in the 4 K columns even though its row holds
    K values."""
    metrics = {
        "recorded": {
            "cv": {"vehicle": {"moving": _row(7, 1.0, True)}},
            "mm": {"vehicle": {"moving": _row(7, 0.5, True)}},
        }
    }
    (table,) = _tables(html_motion.prediction_section(_prediction({"cv": 1, "mm": 3}, metrics), {}))
    assert table.count("</th>") == 9
    assert _first_cells(table) == ["cv", "mm (K = 3)"]
    rows = table.split("<tbody>")[1].split("</tr>")
    cv_row, mm_row = rows[0], rows[1]
    assert cv_row.count(">–</td>") == 4  # minADE, minFDE, brier-minFDE, miss rate K blank
    assert ">0.111</td>" in mm_row and ">0.125</td>" in mm_row


def test_a_model_missing_from_modes_counts_as_single_mode() -> None:
    """Rule: a model without a ``modes`` entry is taken as K = 1: bare label, no K columns."""
    d = _prediction({}, {"recorded": {"cv": {"vehicle": {"moving": _row(7, 1.0, False)}}}})
    (table,) = _tables(html_motion.prediction_section(d, {}))
    assert _first_cells(table) == ["cv"]
    assert table.count("</th>") == 5


def test_a_cell_without_cases_is_no_row_and_an_empty_cell_no_table() -> None:
    """Rule: a model's row appears only when its cell has cases > 0; a (group, motion) cell
    where no model has cases gets no table, and later cells still get theirs. Here
    vehicle/stationary has 0 cases for both models (no table), pedestrian/moving has cases
    only for "b" (one table, one row "b")."""
    empty = {"cases": 0, "ADE@1s": None, "FDE@1s": None, "miss_rate": None}
    metrics = {
        "recorded": {
            "a": {"vehicle": {"stationary": empty}, "pedestrian": {"moving": empty}},
            "b": {"vehicle": {"stationary": empty}, "pedestrian": {"moving": _row(3, 1.0, False)}},
        }
    }
    (table,) = _tables(html_motion.prediction_section(_prediction({"a": 1, "b": 1}, metrics), {}))
    assert 'data-cell="recorded/pedestrian/moving"' in table
    assert _first_cells(table) == ["b"]


def test_every_model_with_cases_gets_a_row() -> None:
    """Rule: one row per model with cases, in the models' order (3 models -> 3 rows)."""
    cell = {"vehicle": {"moving": _row(2, 1.0, False)}}
    d = _prediction({"a": 1, "b": 1, "c": 1}, {"recorded": {"a": cell, "b": cell, "c": cell}})
    (table,) = _tables(html_motion.prediction_section(d, {}))
    assert _first_cells(table) == ["a", "b", "c"]


def test_the_traffic_heading_counts_that_traffics_cases() -> None:
    """Rule: the heading of a traffic kind gives ``cases[traffic]`` (7 here, while 2 models
    ran: the count is not the number of models)."""
    cell = {"vehicle": {"moving": _row(2, 1.0, False)}}
    d = _prediction({"a": 1, "b": 1}, {"recorded": {"a": cell, "b": cell}})
    html = html_motion.prediction_section(d, {})
    assert "<h4>recorded traffic: 7 cases, metres</h4>" in html


def test_pasts_from_tracks_are_named_as_the_trackers() -> None:
    """Rule: ``pasts == "tracks"`` reads "the tracker's tracks", anything else
    "ground-truth labels"."""
    cell = {"vehicle": {"moving": _row(2, 1.0, False)}}
    d = _prediction({"a": 1}, {"recorded": {"a": cell}})
    html = html_motion.prediction_section(d, {})
    assert "the tracker&#x27;s tracks" in html or "the tracker's tracks" in html
    d["prediction"][0]["pasts"] = "labels"
    assert "ground-truth labels" in html_motion.prediction_section(d, {})


def _compare_row(change: str | None) -> dict[str, Any]:
    return {
        "planner": "pdm",
        "log": "all",
        "metric": "ADE@1s",
        "baseline": 1.0,
        "value": 1.5,
        "delta": 0.5,
        "change": change,
    }


def test_a_regressions_delta_is_marked_worse_and_an_improvements_better() -> None:
    """Rule: a row whose change is "regression" has its Δ cell class "worse", an
    "improvement" class "better", no change no class."""
    worse = html_motion._change_row(_compare_row("regression"), ["planner", "log"])
    better = html_motion._change_row(_compare_row("improvement"), ["planner", "log"])
    same = html_motion._change_row(_compare_row(None), ["planner", "log"])
    assert worse.startswith('<tr class="regression">')
    assert '<td class="worse" data-v="0.5">0.500</td>' in worse
    assert '<td class="better" data-v="0.5">0.500</td>' in better
    assert '<tr class="">' in same and "worse" not in same and "better" not in same


def test_no_regressions_counts_the_figures_of_comparable_results_only() -> None:
    """Rule: "no regressions (N figures compared)" sums the rows of the comparable
    comparisons: 2 + 3 rows of two comparable results = 5, the non-comparable one (4 rows)
    not counted; with no comparable result nothing is written."""
    comparable = [{"comparable": True, "rows": [{}] * 2}, {"comparable": True, "rows": [{}] * 3}]
    other = {"comparable": False, "rows": [{}] * 4}
    d = {"planning_comparison": [*comparable, other], "planning_regressions": []}
    assert html_motion.regressions(d) == (
        "<p>Open-loop planning figures: no regressions (5 figures compared).</p>"
    )
    assert html_motion.regressions({"planning_comparison": [other]}) == ""


def _res(score: float) -> dict[str, Any]:
    return {
        "horizons": [
            {
                "instants": 3,
                "average_l2_m": 1.0,
                "final_l2_m": 2.0,
                "average_heading_rad": 0.1,
                "final_heading_rad": 0.2,
                "miss_rate": 0.0,
            }
        ],
        "scores": {
            "average_l2": 0.5,
            "final_l2": 0.5,
            "average_heading": 0.5,
            "final_heading": 0.5,
        },
        "weighted_score": 0.625,
        "miss_rate_within_bound": 1.0,
        "score": score,
    }


def _planning(n_logs: int, drawn: int) -> dict[str, Any]:
    pooled = {k: v for k, v in _res(0.0).items() if k not in ("score",)}
    result = {
        "file": "plan/metrics.json",
        "dataset": "nuplan",
        "root": None,
        "planners": ["pdm"],
        "settings": {"horizons_s": [1.0], "sample_interval_s": 1.0, "score_weights": {}},
        "logs": [{"short": f"log{i}", "planners": {"pdm": _res(0.75)}} for i in range(n_logs)],
        "overall": {"pdm": {"pooled": pooled, "score": 0.75}},
        "logs_drawn": drawn,
        "notes": [],
    }
    return {"planning": [result]}


def _score_rows(html: str) -> list[str]:
    table = re.search(r'<table class="sortable planning-scores">.*?</table>', html)
    assert table is not None
    return table.group(0).split("<tbody>")[1].split("</tr>")[:-1]


def test_the_all_row_has_no_miss_multiplier_nor_weighted_mean_and_logs_show_them() -> None:
    """Rule: a log's score row gives its miss multiplier as a whole number ("1" from 1.0,
    digits 0) and its weighted mean to 3 decimals (0.625); the pooled "all" row's OLS is the
    mean of the logs' (0.750) and its miss multiplier and weighted mean are undefined ("–")."""
    rows = _score_rows(html_motion.planning_section(_planning(1, 1), {}))
    log_row, all_row = rows
    assert '<td data-v="1.0">1</td><td data-v="0.625">0.625</td><td data-v="0.75">0.750</td>' in (
        log_row
    )
    assert '<td data-v="">–</td><td data-v="">–</td><td data-v="0.75">0.750</td>' in all_row


def test_the_instants_figure_says_how_many_logs_it_leaves_out() -> None:
    """Rule: with 5 logs and 2 drawn the per-instant figure's text says "the first 2 logs,
    3 more in the JSON" (5 - 2 = 3); with every log drawn it says nothing of the kind."""
    figures = {"planning_instants:plan/metrics.json": "data:image/png;base64,AA"}
    html = html_motion.planning_section(_planning(5, 2), figures)
    assert "; the first 2 logs, 3 more in the JSON." in html
    html = html_motion.planning_section(_planning(2, 2), figures)
    assert "more in the JSON" not in html


def test_the_settings_list_says_one_mode_or_k_modes() -> None:
    """Rule: the settings list names a single-mode model's modes as "one mode" and a K > 1
    model's as "K = k modes" (never "K = 1"); a model without ``modes`` is single-mode."""
    cell = {"vehicle": {"moving": _row(2, 1.0, False)}}
    d = _prediction({"cv": 1, "mm": 3}, {"recorded": {"cv": cell, "mm": cell}})
    d["prediction"][0]["models"][0]["description"] = "constant velocity"
    del d["prediction"][0]["models"][0]["modes"]
    d["prediction"][0]["models"][1]["description"] = "lanes"
    html = html_motion.prediction_section(d, {})
    assert "constant velocity (one mode)" in html
    assert "lanes (K = 3 modes)" in html
    assert "K = 1" not in html
