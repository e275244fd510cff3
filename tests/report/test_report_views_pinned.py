"""Pinned rules of the report page's views: cell text and sort values, the checked JSON
fields, the sim perception and replay readers and tables, the why / sub-score / lead / red
light lines, the traffic light view, signal decimation, label placement and the sweep text.

Every expected value is derived by hand from the rule named in the test's docstring."""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from drivestack.eval.driving.traffic_lights import StopSegment
from drivestack.report import html as report_html
from drivestack.report.build import _sweep_text, pr_curves
from drivestack.report.fields import (
    count,
    finite_number_or_none,
    number,
    numbers,
    required_number,
    text,
)
from drivestack.report.html_cells import comparison_of, fmt, img, kv_table, not_compared, td
from drivestack.report.html_stack import sim_perception_section, td_text
from drivestack.report.light_view import (
    MAX_LIGHT_ROWS,
    _crossing,
    _segment_distance_m,
    light_view,
)
from drivestack.report.perception import read_sim_perception
from drivestack.report.plots import _overlap, decimate_minmax, place_labels
from drivestack.report.replay import is_replay, kitti_results, kitti_span, read_replay
from drivestack.sim.runner import SimHistory
from drivestack.sim.vehicle import VehicleParams

# --- cells -------------------------------------------------------------------------------


def test_fmt_shows_non_finite_numbers_as_undefined() -> None:
    """NaN and both infinities are undefined (``–``), not ``inf``; a float gets ``digits``
    decimals (2/3 -> 0.67 and 0.667), an int its own text, a bool yes / no."""
    assert fmt(math.inf) == "–"
    assert fmt(-math.inf) == "–"
    assert fmt(math.nan) == "–"
    assert fmt(None) == "–"
    assert fmt(2.0 / 3.0) == "0.67"
    assert fmt(2.0 / 3.0, 3) == "0.667"
    assert fmt(3) == "3"
    assert fmt(True) == "yes"
    assert fmt(False) == "no"


def test_fmt_escapes_text() -> None:
    """Text is HTML-escaped: ``<a & b>`` -> ``&lt;a &amp; b&gt;``."""
    assert fmt("<a & b>") == "&lt;a &amp; b&gt;"


def test_a_cell_sorts_bools_as_0_1_and_escapes_its_sort_text() -> None:
    """``data-v``: empty for None, ``1`` / ``0`` for True / False (so that the page sorts them
    as numbers), the text escaped with quotes (``a"b`` -> ``a&quot;b``)."""
    assert td(None) == '<td data-v="">–</td>'
    assert td(True) == '<td data-v="1">yes</td>'
    assert td(False) == '<td data-v="0">no</td>'
    assert td('a"b', css="l") == '<td class="l" data-v="a&quot;b">a&quot;b</td>'


def test_a_cell_sorts_by_its_sort_value_when_given() -> None:
    """``sort`` replaces the value only in ``data-v``: a score of None shown ``–`` sorts as -1,
    0.5 shown ``0.50`` sorts as 7."""
    assert td(None, sort=-1) == '<td data-v="-1">–</td>'
    assert td(0.5, sort=7) == '<td data-v="7">0.50</td>'


def test_kv_table_escapes_names_and_formats_values() -> None:
    """Each line: the escaped name, then :func:`fmt` of the value (1.5 -> ``1.50``)."""
    assert kv_table([("a<b", 1.5)]) == (
        '<table class="kv"><tr><td>a&lt;b</td><td class=l>1.50</td></tr></table>'
    )


def test_an_image_escapes_quotes_in_its_alt_text() -> None:
    """The alt text is an attribute: its quotes are escaped (``"`` -> ``&quot;``)."""
    assert img("data:x", 'a "b"') == '<img src="data:x" alt="a &quot;b&quot;">'


def test_not_compared_names_only_the_groups_that_have_names() -> None:
    """A line per non-empty group, with its count; nothing at all when every group is
    empty (``0 only in this run`` would be noise)."""
    assert not_compared([], []) == ""
    assert not_compared([], ["x", "y<"]) == (
        "<p><b>2 only in the baseline</b> (not compared): x, y&lt;</p>"
    )


def test_comparison_of_names_the_baseline_file_under_its_folder() -> None:
    """The comparison of ``file`` and ``base/baseline_file`` escaped; ``the baseline`` when
    the report names no baseline folder; None for a file not paired."""
    c = {"file": "a.json", "baseline_file": "b<.json"}
    d: dict[str, Any] = {"detection_comparison": [c], "baseline": {"path": "base"}}
    assert comparison_of(d, "detection_comparison", "a.json") == (c, "base/b&lt;.json")
    d["baseline"] = None
    assert comparison_of(d, "detection_comparison", "a.json") == (c, "the baseline/b&lt;.json")
    assert comparison_of(d, "detection_comparison", "other.json") is None


# --- checked fields ----------------------------------------------------------------------


def test_a_bool_is_not_a_number() -> None:
    """JSON ``true`` is not the number 1: ``number`` raises naming the field,
    ``finite_number_or_none`` gives None."""
    with pytest.raises(ValueError, match="field x: expected a number"):
        number(True, "x")
    assert finite_number_or_none(True) is None
    assert number(1, "x") == 1.0 and isinstance(number(1, "x"), float)


def test_non_finite_numbers_are_rejected_or_left_out() -> None:
    """``number`` raises for infinity / NaN; ``finite_number_or_none`` gives None; a finite
    int 2 is 2.0."""
    with pytest.raises(ValueError, match="finite"):
        number(math.inf, "x")
    assert finite_number_or_none(math.inf) is None
    assert finite_number_or_none(math.nan) is None
    assert finite_number_or_none(2) == 2.0


def test_a_positive_required_number_excludes_zero() -> None:
    """``positive``: above 0, so 0 raises and 0.001 passes; without ``positive`` 0 is 0.0."""
    with pytest.raises(ValueError, match="above 0"):
        required_number(0, "w", positive=True)
    assert required_number(0.001, "w", positive=True) == 0.001
    assert required_number(0, "w") == 0.0
    with pytest.raises(ValueError, match="missing"):
        required_number(None, "w")


def test_a_count_is_a_whole_number_of_at_least_zero() -> None:
    """0 is a count; -1, 1.0 and True are not."""
    assert count(0, "c") == 0
    for bad in (-1, 1.0, True):
        with pytest.raises(ValueError, match="at least 0"):
            count(bad, "c")


def test_text_must_be_non_empty() -> None:
    """An empty string is refused as no string is (the message says which it got)."""
    assert text("a", "t") == "a"
    with pytest.raises(ValueError, match=r"^field t: expected a non-empty string, got ''$"):
        text("", "t")
    with pytest.raises(ValueError, match=r"^field t: missing \(expected a non-empty string\)$"):
        text(None, "t")


def test_numbers_name_the_null_entry() -> None:
    """A null in a list of numbers raises naming its index (``x.1``)."""
    assert numbers([1, 2.5], "x") == [1.0, 2.5]
    with pytest.raises(ValueError, match=r"field x\.1: expected a number, got null"):
        numbers([1, None], "x")


# --- sim perception ----------------------------------------------------------------------


def _det(**extra: Any) -> dict[str, Any]:
    return {"recall": 0.5, "precision": 0.25, "TP": 1, "FP": 3, "GT": 2, **extra}


def _trk(**extra: Any) -> dict[str, Any]:
    base = {"MOTA": 0.5, "recall": 0.5, "precision": 0.5, "MOTP_m": 0.2}
    return {**base, "IDS": 1, "TP": 4, "FP": 5, "FN": 6, "GT": 10, **extra}


def _summary(**tracking_extra: Any) -> dict[str, Any]:
    return {
        "idm": {
            "perception_metrics": {
                "frames": 7,
                "detection": {"all": _det(mAP=0.5), "car": _det(AP=0.3, mAP=0.9)},
                "tracking": {"all": _trk(), "car": _trk(**tracking_extra)},
            }
        },
        "pdm": {"perception_metrics": None},
    }


def test_sim_perception_ap_is_the_class_ap_else_the_pooled_map() -> None:
    """``AP``: the row's ``AP`` when it has one (0.3 for car even beside an ``mAP`` 0.9), the
    ``mAP`` only when it has no ``AP`` (the ``all`` row: 0.5). The pooled row comes last
    although the summary lists it first; a planner without figures is left out."""
    per, problems = read_sim_perception(_summary())
    assert problems == []
    assert list(per) == ["idm"]
    assert per["idm"]["frames"] == 7
    classes = per["idm"]["classes"]
    assert list(classes) == ["car", "all"]
    assert classes["car"]["detection"]["AP"] == 0.3
    assert classes["all"]["detection"]["AP"] == 0.5


def test_sim_perception_checks_the_velocity_error() -> None:
    """``AVE_mps`` is checked like every shown field: a string is the planner's problem, named
    by its dotted field; absent, it reads None."""
    per, problems = read_sim_perception(_summary())
    assert per["idm"]["classes"]["car"]["tracking"]["AVE_mps"] is None
    per, problems = read_sim_perception(_summary(AVE_mps="fast"))
    assert per == {}
    assert len(problems) == 1
    assert "idm.perception_metrics.tracking.car.AVE_mps" in problems[0]


def _cells(html: str, table_class: str) -> list[list[str]]:
    body = html.split(f'class="{table_class}"', 1)[1].split("</table>", 1)[0]
    return [re.findall(r"<td[^>]*>(.*?)</td>", row) for row in body.split("<tr>")[2:]]


def test_sim_perception_table_cells_in_their_columns() -> None:
    """Per class: AP, recall, precision in percent to 1 decimal (0.3 -> 30.0, 0.5 -> 50.0,
    0.25 -> 25.0), TP FP GT of the detections (1 3 2), MOTA % (50.0), MOTP m (0.20), AVE
    (– absent), then IDS and the tracks' FP and FN (1 5 6, not the detections' 3)."""
    per, _ = read_sim_perception(_summary(AVE_mps=0.125))
    html = sim_perception_section({"sim_perception": per})
    car, pooled = _cells(html, "sim-perception")
    assert car == [
        "car", "30.0", "50.0", "25.0", "1", "3", "2", "50.0", "0.20", "0.12", "1", "5", "6",
    ]  # fmt: skip
    assert pooled[:2] == ["all", "50.0"]
    assert pooled[9] == "–"


# --- replay summaries --------------------------------------------------------------------


def test_is_replay_needs_both_frames_and_stage_times() -> None:
    """A replay summary has ``frames_processed`` and ``timing_ms``; either alone is not one."""
    assert is_replay({"frames_processed": 1, "timing_ms": {}})
    assert not is_replay({"frames_processed": 1})
    assert not is_replay({"timing_ms": {}})


def test_a_minimal_replay_summary_skipped_no_frames() -> None:
    """Without ``frames_skipped`` none were skipped (0); blocks not written are None; a
    ``clean`` that is not a bool is unknown (None)."""
    r = read_replay({"frames_processed": 10, "timing_ms": {}, "clean": "yes"})
    assert r["frames_skipped"] == 0
    assert r["clean"] is None
    assert r["kitti"] is None and r["tracking_vs_labels"] is None


def _kitti(first: int, last: int) -> dict[str, Any]:
    return {
        "sequence": "0000",
        "frames_scored": 5,
        "first_frame": first,
        "last_frame": last,
        "tracking": {"x": 1},
        "detection": {"y": 2},
    }


def test_a_kitti_span_of_one_frame_is_allowed() -> None:
    """first == last is one frame (allowed); last before first raises."""
    base = {"frames_processed": 1, "timing_ms": {}, "input": "log.mcap"}
    assert read_replay({**base, "kitti": _kitti(7, 7)})["kitti"]["first_frame"] == 7
    with pytest.raises(ValueError, match=r"kitti\.last_frame"):
        read_replay({**base, "kitti": _kitti(8, 7)})


def test_kitti_results_cover_the_frames_replayed() -> None:
    """The span reads ``sequence 0000, frames 74-153`` (first-last); the tracking result is
    not the whole split; the detection result counts the frames scored (5)."""
    data = {"frames_processed": 1, "timing_ms": {}, "input": "log.mcap", "kitti": _kitti(74, 153)}
    checked = read_replay(data)
    assert kitti_span(checked["kitti"]) == "sequence 0000, frames 74-153"
    out = kitti_results(data, checked)
    assert out["tracking"]["whole_split"] is False
    assert out["tracking"]["split"] == "sequence 0000, frames 74-153"
    assert out["tracking"]["metrics"] == {"x": 1}
    assert out["detection"]["num_frames"] == 5
    assert out["detection"]["source"] == (
        "drivestack replay of log.mcap, sequence 0000, frames 74-153"
    )


def test_td_text_is_short() -> None:
    """``:g``: 0.5 -> ``0.5``, 3.0 -> ``3``, None -> ``–``."""
    assert td_text(0.5) == "0.5"
    assert td_text(3.0) == "3"
    assert td_text(None) == "–"


def test_replay_tables_recall_before_precision_and_errors_to_3_decimals() -> None:
    """Detections: recall % then precision % (0.75 -> 75.0, 0.5 -> 50.0); forecasts: ADE to
    3 decimals (1.23456 -> 1.235), cases as a whole number."""
    from drivestack.report.html_stack import replay_section

    r = read_replay(
        {
            "frames_processed": 1,
            "timing_ms": {},
            "detection_vs_labels": {
                "car": {
                    "labels": 4,
                    "detections": 6,
                    "outside_labelled_region": 0,
                    "on_ignored_labels": 0,
                    "recall": 0.75,
                    "precision": 0.5,
                }
            },
            "forecast_vs_labels": {
                "horizon_s": 3,
                "miss_threshold_m": 2,
                "match_distance_m": 1.5,
                "by_class": {"vehicle": {"cases": 2, "ADE": 1.23456}},
            },
        }
    )
    html = replay_section({"replay": [{**r, "file": "RUN.summary.json"}]})
    assert _cells(html, "replay-detection")[0] == ["car", "4", "6", "75.0", "50.0", "0", "0"]
    assert _cells(html, "replay-forecast")[0] == ["vehicle", "2", "1.235"]
    assert "(3 s horizon)" in html and "within 1.5 m" in html


# --- html: keys, why, sub-scores, lead, red lights ----------------------------------------


def test_short_keys_never_start_at_a_list_index() -> None:
    """``agents.0.path_m.1.0`` beside ``agents.0.path_m.0.0``: the tails ``0`` and ``1.0``
    start at an index, so the shortest named tail is ``path_m.1.0``; ``agents.0.speed_kph``
    beside ``ego.speed_kph``: ``speed_kph`` is shared and ``0.speed_kph`` starts at an index,
    so it stays whole, and ``ego.speed_kph`` is its own whole key."""
    keys = ["agents.0.path_m.1.0", "agents.0.path_m.0.0", "agents.0.speed_kph", "ego.speed_kph"]
    assert report_html.short_keys(keys) == {
        "agents.0.path_m.1.0": "path_m.1.0",
        "agents.0.path_m.0.0": "path_m.0.0",
        "agents.0.speed_kph": "agents.0.speed_kph",
        "ego.speed_kph": "ego.speed_kph",
    }


def _row(**extra: Any) -> dict[str, Any]:
    return {"status": "fail", "failures": ["no_collision"], "error": None, **extra}


def test_why_keeps_score_terms_of_at_least_a_twentieth_point() -> None:
    """Terms costing 0.05 points or more are named (0.05 is kept), under that left out
    (0.049), a term without points (a multiplier) always; then the ending reason."""
    terms = [
        {"metric": "a", "text": "A", "points": 0.05},
        {"metric": "b", "text": "B", "points": 0.049},
        {"metric": "c", "text": "C", "points": None},
    ]
    row = _row(score_terms=terms, ended_stopped_reason="red light")
    assert report_html._why(row) == "no_collision; score: A; C; ended stopped: red light"


def test_sub_scores_name_what_a_twentieth_point_cost() -> None:
    """The sub-score table's lost column follows the same 0.05 point rule as the why cell."""
    terms = [
        {"metric": "comfort", "text": "lost comfort", "points": 0.05},
        {"metric": "progress", "text": "lost progress", "points": 0.04},
    ]
    html = report_html._score_terms(
        _row(nuplan={"comfort": 0.0, "progress": 0.9}, score_terms=terms)
    )
    assert "lost comfort" in html
    assert "lost progress" not in html


def test_a_known_failure_is_not_coloured_as_a_failure() -> None:
    """A listed run that failed: class ``known`` (not ``fail``), text ``known failure``."""
    row = _row(known_failure="flaky map")
    assert report_html._status_css(row) == "known"
    assert report_html._status_text(row) == "known failure"
    assert report_html._status_css(_row()) == "fail"


def test_lead_line_rounds_to_a_tenth() -> None:
    """Gap, time and speed to 1 decimal: 12.34 -> 12.3, 4.26 -> 4.3, 5.04 -> 5.0."""
    line = report_html._lead_line({"gap_m": 12.34, "time_s": 4.26, "speed_mps": 5.04})
    assert "closest gap 12.3 m at 4.3 s, its speed then 5.0 m/s" in line
    assert "none at any time" in report_html._lead_line(None)


def test_red_runs_line_gives_x_then_y() -> None:
    """Where the ego crossed: ``(x, y)`` to 1 decimal (x 10.04 -> 10.0, y -2.26 -> -2.3)."""
    run = {
        "light_id": "L1",
        "lane_id": "road_0",
        "time_s": 1.25,
        "speed_mps": 8.06,
        "x_m": 10.04,
        "y_m": -2.26,
    }
    line = report_html._red_runs({"red_runs": [run]})
    assert "<b>L1</b> on lane road_0 at 1.2 s, 8.1 m/s at (10.0, -2.3) m" in line


# --- traffic light view ------------------------------------------------------------------


def _history(n_ticks: int, light_ids: tuple[str, ...], t0_s: float = 0.0) -> SimHistory:
    """The ego (4 m long) along +x at 10 m/s from x = 0 (its front at x = 2 + 10 t), ticks
    every 0.5 s from ``t0_s``; light j shows state code j % 6 throughout."""
    t = t0_s + 0.5 * np.arange(n_ticks)
    x = 10.0 * (t - t0_s)
    boxes = np.zeros((n_ticks, 7))
    boxes[:, 0], boxes[:, 3:6] = x, (4.0, 2.0, 1.5)
    codes = np.tile(np.arange(len(light_ids)) % 6, (n_ticks, 1)).astype(np.int8)
    return SimHistory(
        dt_s=0.5, timestamp_ns=(t * 1e9).round().astype(np.int64), ego_x_m=x,
        ego_y_m=np.zeros(n_ticks), ego_yaw_rad=np.zeros(n_ticks),
        ego_speed_mps=np.full(n_ticks, 10.0), ego_accel_mps2=np.zeros(n_ticks),
        ego_steering_rad=np.zeros(n_ticks), ego_boxes=boxes, agent_ids=(),
        agent_labels=np.zeros(0, dtype=np.int64), agent_boxes=np.zeros((n_ticks, 0, 7)),
        agent_velocity_mps=np.zeros((n_ticks, 0, 2)), agent_valid=np.zeros((n_ticks, 0), bool),
        collisions=np.zeros((n_ticks, 0), bool), planner_step_s=np.zeros(n_ticks - 1),
        sim_step_s=np.zeros(n_ticks - 1), vehicle=VehicleParams(),
        traffic_light_ids=light_ids, traffic_light_state=codes,
    )  # fmt: skip


def test_light_strips_put_the_lights_run_first_and_count_the_hidden() -> None:
    """Eight recorded lights, none on a map (no distance): the light run (L5) first, then the
    rest in recorded order (L0..L4), six strips in all; two hidden (8 - 6). L5's strip holds
    its code 5 at every tick."""
    ids = tuple(f"L{j}" for j in range(8))
    view = light_view(_history(4, ids), None, [{"light_id": "L5", "tick": 2}])
    assert view is not None
    assert MAX_LIGHT_ROWS == 6
    assert view.rows == ("L5", "L0", "L1", "L2", "L3", "L4")
    assert view.hidden == 2
    assert view.codes.shape == (4, 6)
    assert view.codes[:, 0].tolist() == [5, 5, 5, 5]


def test_a_red_run_time_counts_from_the_runs_start() -> None:
    """Ticks from t = 10 s: an event at ``time_s`` 11.0 is 1.0 s into the run; an event with
    only ``tick`` 2 gets that tick's time, 11.0 s, i.e. 1.0 s; a tick 0 (no move before it)
    is not a crossing and, without a time, the run's time is undefined (NaN)."""
    view = light_view(
        _history(4, ("L0",), t0_s=10.0),
        None,
        [
            {"light_id": "L0", "time_s": 11.0, "speed_mps": 3},
            {"light_id": "L0", "tick": 2},
            {"light_id": "L0", "tick": 0},
            {"lane_id": "x"},
        ],
    )
    assert view is not None
    first, second, third = view.red_runs
    assert first.time_s == pytest.approx(1.0)
    assert first.speed_mps == 3.0
    # tick 2 front at x = 2 + 10 * 1.0 = 12 (no stop on the map: the point after the move)
    assert second.time_s == pytest.approx(1.0)
    assert second.point_m == pytest.approx((12.0, 0.0))
    assert math.isnan(third.time_s) and third.point_m is None


def _stop(center: tuple[float, float], heading: float) -> StopSegment:
    return StopSegment("L1", "lane", 0.0, np.array(center), heading, 2.0, 2.0)


def test_the_red_run_point_is_where_the_front_crosses_the_line() -> None:
    """A line across +x at x = 10: a move from x = 8 to x = 12 crosses it halfway, at
    (10, 0); a move from 12 to 14 does not reach it back (clipped to its start, (12, 0))."""
    seg = _stop((10.0, 0.0), 0.0)
    p = _crossing(np.array([8.0, 0.0]), np.array([12.0, 0.0]), [seg], "L1", "lane")
    assert p == pytest.approx((10.0, 0.0))
    p = _crossing(np.array([12.0, 0.0]), np.array([14.0, 0.0]), [seg], "L1", "lane")
    assert p == pytest.approx((12.0, 0.0))


def test_distance_to_a_stop_line_is_to_its_nearest_end_beyond_it() -> None:
    """Segment (0, -2)-(0, 2): the point (3, 0) is 3 m off its middle, (0, 6) 4 m beyond its
    end (0, 2), (3, 6) 5 m from that end (3-4-5)."""
    ends = np.array([[0.0, -2.0], [0.0, 2.0]])
    points = np.array([[3.0, 0.0], [0.0, 6.0], [3.0, 6.0]])
    assert _segment_distance_m(points, ends) == pytest.approx([3.0, 4.0, 5.0])


# --- plots -------------------------------------------------------------------------------


def test_decimation_keeps_a_series_of_exactly_max_points() -> None:
    """``N <= max_points`` comes back unchanged: 3 points with max 3 keep all 3 (decimated,
    they would be one bucket of 3 keeping only its min at index 0 and max at index 1)."""
    t = np.arange(3.0)
    y = np.array([0.0, 2.0, 1.0])
    out_t, out_y = decimate_minmax(t, y, 3)
    assert out_t.tolist() == [0.0, 1.0, 2.0]
    assert out_y.tolist() == [0.0, 2.0, 1.0]


def test_decimation_keeps_each_buckets_min_max_and_a_nan() -> None:
    """8 points, max 4: 2 buckets of 4 ([0, 5, 1, 2] and [3, NaN, 9, -1]): the first keeps
    its min (index 0) and max (1); the second its max 9 (index 6), min -1 (7) and its NaN
    (5) so the gap stays drawn: indices 0 1 5 6 7."""
    t = np.arange(8.0)
    y = np.array([0.0, 5.0, 1.0, 2.0, 3.0, np.nan, 9.0, -1.0])
    out_t, _ = decimate_minmax(t, y, 4)
    assert out_t.tolist() == [0.0, 1.0, 5.0, 6.0, 7.0]


def test_labels_try_above_right_then_below_right_then_above_left() -> None:
    """Two 10 x 4 labels at one anchor (0, 0): the first above right (0, 0); the second
    overlaps it there and next tries below right, (0, -4), which only touches it: free."""
    assert place_labels([(0.0, 0.0), (0.0, 0.0)], [(10.0, 4.0), (10.0, 4.0)]) == [
        (0.0, 0.0),
        (0.0, -4.0),
    ]


def test_touching_label_boxes_do_not_overlap() -> None:
    """Boxes sharing only an edge (x 0-10 and 10-20) do not overlap; 9.9-19.9 does."""
    assert not _overlap((0.0, 0.0, 10.0, 4.0), (10.0, 0.0, 10.0, 4.0))
    assert not _overlap((0.0, 0.0, 10.0, 4.0), (0.0, 4.0, 10.0, 4.0))
    assert _overlap((0.0, 0.0, 10.0, 4.0), (9.9, 0.0, 10.0, 4.0))


# --- build -------------------------------------------------------------------------------


def test_sweep_text_gives_ranges_and_lists_as_the_options_do() -> None:
    """A range ``key=low:high`` (20:60), a list ``key=a,b``; ``none`` without any."""
    params = [
        {"key": "ego.speed_kph", "low": 20.0, "high": 60.0},
        {"key": "agents.0.station_m", "values": [120, 140]},
    ]
    assert _sweep_text(params) == "ego.speed_kph=20:60 agents.0.station_m=120,140"
    assert _sweep_text([]) == "none"


def test_pr_curves_need_two_recall_positions() -> None:
    """A curve of one recall position is no curve: raises; two positions with a class's two
    precisions read back as floats."""
    with pytest.raises(ValueError, match="recall_positions"):
        pr_curves({"recall_positions": [0.0], "curves": {}})
    out = pr_curves(
        {"recall_positions": [0, 1], "curves": {"Car": {"BEV": {"strict": {"easy": [1, 0]}}}}}
    )
    assert out == {
        "recall_positions": [0.0, 1.0],
        "curves": {"Car": {"BEV": {"strict": {"easy": [1.0, 0.0]}}}},
    }


# --- html: summary cards, headline, scenario table ----------------------------------------


def _report(**extra: Any) -> dict[str, Any]:
    return {
        "run": {"path": "runs/a", "kind": "sim", "manifest": {}},
        "baseline": None,
        "counts": {
            "total": 3, "pass": 2, "fail": 1, "known_failure": 0, "unexpected_pass": 0,
            "known_failure_not_evaluated": 0, "crashed": 0, "corrupt": 0, "missing": 0,
        },
        "drivestack_version": "1.0",
        "git_commit": None,
        "generated_at": "now",
        "comparison": None,
        "tracking_regressions": None,
        "tracking": [],
        "headline": [],
        **extra,
    }  # fmt: skip


def test_known_failure_cards_only_for_a_suite_that_lists_some() -> None:
    """The known-failure cards show only when their count is above 0 (a suite without a list
    would read ``0 known failures``); the run counts always (3 runs, 2 passed)."""
    html = report_html._summary(_report())
    assert '<div class="card"><b>3</b>runs</div>' in html
    assert '<div class="card"><b>2</b>passed</div>' in html
    assert "known failures" not in html
    assert "passed unexpectedly" not in html


def _headline_cells(h: dict[str, Any]) -> list[tuple[str, str]]:
    html = report_html._summary(_report(headline=[{"anchor": None, **h}]))
    row = html.split("<tbody>", 1)[1].split("</tr>", 1)[0]
    return re.findall(r'<td(?: class="?([\w ]*)"?)?(?: data-v="[^"]*")?>(.*?)</td>', row)


def test_a_headline_rise_of_a_lower_is_better_figure_is_worse() -> None:
    """ADE 1.5 against 1.0 (lower is better): Δ +0.50 is worse; a score 80 against 82: Δ
    -2.00 is worse; no change (Δ 0.00) is neither."""
    ade = _headline_cells({"name": "ADE", "value": 1.5, "baseline": 1.0, "lower_is_better": True})
    assert ade[3] == ("worse", "0.50")
    score = _headline_cells({"name": "score", "value": 80.0, "baseline": 82.0})
    assert score[3] == ("worse", "-2.00")
    same = _headline_cells({"name": "score", "value": 80.0, "baseline": 80.0})
    assert same[3] == ("", "0.00")


def test_a_headline_distance_to_its_anchor_is_value_minus_anchor() -> None:
    """Score 80 against a published 75: ``75.00 (nuPlan)`` and Δ to anchor +5.00."""
    cells = _headline_cells(
        {"name": "score", "value": 80.0, "baseline": None, "anchor": 75.0, "anchor_name": "nuPlan"}
    )
    assert cells[4] == ("", "75.00 (nuPlan)")
    assert cells[5] == ("", "5.00")


def _scenario_row(key: str, status: str, **extra: Any) -> dict[str, Any]:
    return {
        "key": key, "planner": "idm", "status": status, "score": None, "collision": False,
        "min_ttc_s": None, "impact_speed_kph": None, "params": {}, "regression": None,
        "improvement": None, "failures": [], "error": None, **extra,
    }  # fmt: skip


def test_scenario_table_sorts_crashed_first_and_cuts_the_why_cell() -> None:
    """Status sort ranks: crashed 0, corrupt 1, missing 2, fail 3, pass 4; a run without a
    score sorts as -1; the why cell keeps its first 400 characters."""
    rows = [
        _scenario_row("a", "pass", score=90.0),
        _scenario_row("b", "corrupt"),
        _scenario_row("c", "crashed", error="x" * 500),
    ]
    html = report_html._scenario_table({"rows": rows, "ttc_horizon_s": 0.95, "details": []})
    body = html.split("<tbody>", 1)[1]
    sorts = re.findall(r'<td class="l (?:pass|corrupt|crashed)" data-v="(\d)">', body)
    assert sorts == ["4", "1", "0"]
    scores = re.findall(r'<td data-v="([^"]*)">(?:90\.00|–)</td><td class="l" data-v="0"', body)
    assert scores == ["90.0", "-1", "-1"]
    why = body.rsplit("<tr", 1)[1].rsplit("<td", 1)[1]
    assert why.split(">", 1)[1].count("x") == 400


# --- scenario view -----------------------------------------------------------------------


def test_a_history_tick_is_its_median_step_and_one_tick_reads_as_a_tenth(tmp_path: Path) -> None:
    """``dt_s``: the median step of the timestamps (0, 0.5, 1.0, 3.0 s: steps 0.5, 0.5, 2.0,
    median 0.5, where the mean would be 1.0); a one-tick history has no step: 0.1 s."""
    from drivestack.report.scenario_view import load_history

    arrays: dict[str, Any] = dict(_history(4, ("L0",)).arrays())
    arrays["timestamp_ns"] = np.array([0, 500_000_000, 1_000_000_000, 3_000_000_000])
    np.savez(tmp_path / "four.npz", **arrays)
    assert load_history(tmp_path / "four.npz").dt_s == pytest.approx(0.5)
    one: dict[str, Any] = dict(_history(1, ("L0",)).arrays())
    np.savez(tmp_path / "one.npz", **one)
    assert load_history(tmp_path / "one.npz").dt_s == pytest.approx(0.1)


def test_the_map_cache_tells_maps_apart_by_their_lights() -> None:
    """Two configs of one map, one with a light: two maps (the light's stop lines belong to
    the map), so the second has light L1 and the first none."""
    from drivestack.report.scenario_view import MapCache

    cache = MapCache(None)
    cfg: dict[str, Any] = {
        "name": "a",
        "map": {"kind": "straight", "params": {"n_lanes": 2}},
        "ego": {"lane": "road_0", "station_m": 10.0, "speed_kph": 10.0},
        "duration_s": 1.0,
    }
    lit = {
        **cfg,
        "traffic_lights": [
            {
                "id": "L1",
                "stops": [{"lane": "road_0", "station_m": 50.0}],
                "phases": [["red", 60.0]],
            }
        ],
    }
    plain_map, lit_map = cache.road_map(cfg), cache.road_map(lit)
    assert plain_map is not None and lit_map is not None
    assert plain_map.traffic_lights == ()
    assert [light.light_id for light in lit_map.traffic_lights] == ["L1"]
