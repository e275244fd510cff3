"""Rules of reading run folders (drivestack.report.collect), putting the report together
(drivestack.report.build) and drawing its figures (drivestack.report.plots), pinned with
hand-derived values on small hand-built inputs (a mutation review: each test fails when the
rule it names is broken)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from matplotlib.patches import Rectangle

from drivestack.core.errors import DataError
from drivestack.report import build, plots
from drivestack.report.collect import (
    AGENTS_UNKNOWN,
    RunData,
    ScenarioRow,
    _fields,
    _listed_sim_runs,
    _nuplan,
    _recorded_agents,
    _red_lights,
    base_name,
    classify,
    ending_of,
    infer_sweep_params,
    load_run,
    require_results,
)
from drivestack.report.compare import compare_rows
from drivestack.report.lead import lead_trace
from tests.report.test_collect_compare import _row, _write_metrics
from tests.report.test_lost_points_lead_and_sim_sweeps import _history


def _run(root: Path, rows: tuple[ScenarioRow, ...] = (), **kw: Any) -> RunData:
    """A RunData of ``rows`` (nothing else) in ``root``."""
    fields: dict[str, Any] = {
        "kind": "sim",
        "manifest": {},
        "tracking": {},
        "detection": {},
        "problems": (),
    }
    fields.update(kw)
    return RunData(root=root, rows=rows, **fields)


# --- collect.py -----------------------------------------------------------------------------


def test_a_listed_pass_cut_short_is_not_an_unexpected_pass() -> None:
    """A listed known failure that passed: ``unexpected_pass`` only when every criterion
    was judged; with ``not_evaluated`` criteria it is ``known_failure_not_evaluated``."""
    assert ending_of("pass", "why", ()) == "unexpected_pass"
    assert ending_of("pass", "why", ("ttc",)) == "known_failure_not_evaluated"
    assert ending_of("crashed", "why", ()) == "crashed"  # only pass / fail are told apart


def test_problems_of_unplaced_files_alone_are_no_results(tmp_path: Path) -> None:
    """``has_results`` counts problems beyond those of metrics.json files of no known kind:
    one problem for one unplaced file (1 > 1 is false) leaves nothing to report."""
    only_unplaced = _run(tmp_path, problems=("x: no kind",), unplaced=("x",))
    assert not only_unplaced.has_results
    one_more = _run(tmp_path, problems=("x: no kind", "y: corrupt"), unplaced=("x",))
    assert one_more.has_results


def test_require_results_names_the_first_unplaced_file(tmp_path: Path) -> None:
    """A folder holding only metrics.json of no known kind is refused naming the first."""
    run = _run(tmp_path, problems=("a", "b"), unplaced=("a/metrics.json", "b/metrics.json"))
    with pytest.raises(DataError) as info:
        require_results(run)
    assert info.value.path == "a/metrics.json"


def test_only_at_fault_collisions_name_who_was_hit_once_each() -> None:
    """``nuplan.collisions``: only ``at_fault: true`` events count (null / false do not), each
    agent named once (``agent_id (kind)``, the kind left out when absent)."""
    data = {
        "nuplan": {
            "collisions": [
                {"agent_id": "7", "kind": "lead", "at_fault": True},
                {"agent_id": "8", "kind": "side", "at_fault": None},
                {"agent_id": "9", "at_fault": False},
                {"agent_id": "7", "kind": "lead", "at_fault": True},
                {"agent_id": "3", "at_fault": True},
            ]
        }
    }
    assert _nuplan(data) == ({}, ("7 (lead)", "3"))


def test_red_lights_are_counted_on_a_map_with_one_light() -> None:
    """``red_light_violations`` is read when the map has lights (``red_light.lights`` 1 here),
    None when it has none (0)."""
    assert _red_lights({"red_light": {"lights": 1}, "red_light_violations": 2}) == 2
    assert _red_lights({"red_light": {"lights": 0}, "red_light_violations": 0}) is None


def test_recorded_agents_from_an_older_embedded_config() -> None:
    """No ``recorded_agents``: the config says it (no agents file: None; agents_reactive:
    reactive, else replay); no config either: unknown."""
    assert _recorded_agents({}, {"agents_from_file": ""}) is None
    assert _recorded_agents({}, {"agents_from_file": "a.json", "agents_reactive": True}) == (
        "reactive"
    )
    assert _recorded_agents({}, {"agents_from_file": "a.json"}) == "replay"
    assert _recorded_agents({}, None) == AGENTS_UNKNOWN


def test_a_failed_run_with_a_damaged_history_is_corrupt(tmp_path: Path) -> None:
    """A ``fail`` row (not only a ``pass`` one) whose history.npz is no zip archive becomes
    ``corrupt``, its score kept."""
    _write_metrics(tmp_path, "pdm/a", 10.0, False, avoided=False)
    (tmp_path / "pdm" / "a" / "history.npz").write_bytes(b"not a zip")
    (row,) = load_run(tmp_path).rows
    assert (row.status, row.score) == ("corrupt", 10.0)
    assert "corrupt history.npz" in row.error


def test_base_name_drops_a_fleet_variant_number() -> None:
    """``ccrs#0003`` and ``ccrs[10kph]#0003`` are both runs of the file ``ccrs``."""
    assert base_name("cut_in#0002") == "cut_in"
    assert base_name("ccrs[10kph]#0003") == "ccrs"


def test_two_runs_of_one_file_get_the_fields_that_differ_as_params() -> None:
    """Two runs of ``ccrs`` (a group of 2 is a sweep) get as params only the key that differs
    (``ego.speed_kph``), not the equal one (``ego.lane``); base_scenario ``ccrs``."""
    rows = [
        ScenarioRow("pdm/ccrs_a", "ccrs[10kph]", "pdm", "pass", score=90.0),
        ScenarioRow("pdm/ccrs_b", "ccrs[20kph]", "pdm", "pass", score=80.0),
    ]
    configs: list[dict[str, Any] | None] = [
        {"name": "a", "ego": {"speed_kph": 10, "lane": "l1"}},
        {"name": "b", "ego": {"speed_kph": 20, "lane": "l1"}},
    ]
    out = infer_sweep_params(rows, configs)
    assert [r.params for r in out] == [{"ego.speed_kph": 10}, {"ego.speed_kph": 20}]
    assert [r.base_scenario for r in out] == ["ccrs", "ccrs"]


def test_the_sweep_field_is_no_param() -> None:
    """The config's own ``sweep`` (like its name) names runs; it is not a param even when it
    differs between them."""
    rows = [ScenarioRow(f"pdm/s_{i}", f"s[{i}]", "pdm", "pass", score=1.0) for i in range(2)]
    configs: list[dict[str, Any] | None] = [{"sweep": {"i": i}, "x": i} for i in range(2)]
    assert [r.params for r in infer_sweep_params(rows, configs)] == [{"x": 0}, {"x": 1}]


def test_a_dataset_without_protocol_is_no_detection_result() -> None:
    """A detection result needs both the top-level ``dataset`` and ``metrics.protocol``."""
    assert classify({"dataset": "kitti", "metrics": {"x": 1.0}}) is None
    assert classify({"metrics": {"protocol": "kitti"}}) is None
    assert classify({"dataset": "kitti", "metrics": {"protocol": "kitti"}}) == "detection"


def test_listed_runs_are_planner_slash_folder_keys_only() -> None:
    """Only ``planner/folder`` keys: not deeper, no ``..`` / ``.`` / empty part, no non-string."""
    manifest = {"runs": ["pdm/a", "pdm/a/b", "../x", "pdm/..", "/abs", "pdm/.", 3, "idm/b"]}
    assert _listed_sim_runs(manifest) == ["pdm/a", "idm/b"]


def test_a_finished_sim_run_without_summary_is_no_problem(tmp_path: Path) -> None:
    """sim.json lists runs that all have results: no summary.json is no "did not finish"."""
    _write_metrics(tmp_path, "pdm/a", 90.0, True)
    (tmp_path / "sim.json").write_text(json.dumps({"runs": ["pdm/a"]}))
    run = load_run(tmp_path)
    assert run.kind == "sim"
    assert not [p for p in run.problems if "did not finish" in p]


def test_a_run_without_metrics_is_listed_as_a_problem(tmp_path: Path) -> None:
    """A ``missing`` row's error (metrics.json is missing) is one of the run's problems."""
    (tmp_path / "pdm" / "gone").mkdir(parents=True)
    (tmp_path / "pdm" / "gone" / "history.npz").write_bytes(b"")
    run = load_run(tmp_path)
    assert [r.status for r in run.rows] == ["missing"]
    assert len(run.problems) == 1 and "metrics.json is missing" in run.problems[0]


def test_an_older_index_failed_record_is_a_crash(tmp_path: Path) -> None:
    """A fleet index record with status ``failed`` (older indexes) is a crashed run."""
    (tmp_path / "fleet.json").write_text(json.dumps({"kind": "fleet"}))
    rec = {"variant": "pdm/x_0000", "status": "failed", "error": "boom"}
    (tmp_path / "fleet.jsonl").write_text(json.dumps(rec) + "\n")
    (row,) = load_run(tmp_path).rows
    assert (row.status, row.error) == ("crashed", "boom")


def test_a_folder_of_one_unreadable_metrics_json_is_an_eval_run(tmp_path: Path) -> None:
    """A corrupt metrics.json in the folder itself (no replay summary) makes an ``eval`` run,
    not a ``replay`` one."""
    (tmp_path / "metrics.json").write_text('{"metrics": ')
    run = load_run(tmp_path)
    assert (run.kind, run.corrupt_results) == ("eval", (str(tmp_path / "metrics.json"),))


def test_an_unplaced_file_is_described_by_its_first_eight_fields() -> None:
    """Nine top-level fields a..i: the first eight are named."""
    assert _fields({k: 0 for k in "abcdefghi"}) == "a, b, c, d, e, f, g, h"
    assert _fields({}) == "none"


# --- build.py -------------------------------------------------------------------------------


def test_three_runs_without_history_are_named_without_more(tmp_path: Path) -> None:
    """Up to three runs are named; "and N more" only beyond three (3 runs: no "and 0 more")."""
    rows = tuple(_row(f"pdm/{k}", "pass", 1.0) for k in "abc")
    (warning,) = build._history_warnings(_run(tmp_path, rows))
    assert warning.endswith("(pdm/a, pdm/b, pdm/c)")
    rows4 = (*rows, _row("pdm/d", "fail", 0.0))
    (warning4,) = build._history_warnings(_run(tmp_path, rows4))
    assert warning4.endswith("(pdm/a, pdm/b, pdm/c and 1 more)")


def test_max_steps_unrecorded_by_the_baseline_is_no_warning(tmp_path: Path) -> None:
    """Both manifests must record max_steps to tell them apart."""
    run = _run(tmp_path, manifest={"max_steps": 100})
    assert build._max_steps_warnings(run, _run(tmp_path)) == []
    assert len(build._max_steps_warnings(run, _run(tmp_path, manifest={"max_steps": 50}))) == 1


def test_counts_tell_known_failures_and_corrupt_eval_files(tmp_path: Path) -> None:
    """A listed fail counts as known_failure (not fail); a listed pass as pass and
    unexpected_pass; corrupt eval files add to corrupt; total counts rows only (3)."""
    rows = (
        ScenarioRow("pdm/a", "a", "pdm", "fail", score=1.0, known_failure="why"),
        ScenarioRow("pdm/b", "b", "pdm", "pass", score=2.0, known_failure="why"),
        ScenarioRow("pdm/c", "c", "pdm", "fail", score=3.0),
    )
    counts = build._counts(_run(tmp_path, rows, corrupt_results=("x", "y")))
    assert (counts["known_failure"], counts["fail"], counts["pass"]) == (1, 1, 1)
    assert (counts["unexpected_pass"], counts["corrupt"], counts["total"]) == (1, 2, 3)


def test_only_runs_that_hit_count_as_collisions() -> None:
    """collision False (avoided) and None (no metrics) are no collision: 1 of 3."""
    rows = (
        ScenarioRow("pdm/a", "a", "pdm", "fail", score=1.0, collision=True),
        ScenarioRow("pdm/b", "b", "pdm", "pass", score=2.0, collision=False),
        ScenarioRow("pdm/c", "c", "pdm", "crashed"),
    )
    per = build._per_planner(rows)["pdm"]
    assert (per["collisions"], per["scored"], per["mean_score"]) == (1, 2, 1.5)


def test_no_baseline_mean_without_common_runs(tmp_path: Path) -> None:
    """Means over disjoint scenario sets are not compared: no baseline figure."""
    run = _run(tmp_path, (_row("pdm/a", "pass", 90.0),))
    base = _run(tmp_path, (_row("pdm/b", "pass", 50.0),))
    comparison = compare_rows(run.rows, base.rows)
    lines = build._headline(run, base, comparison, [], [], [])
    mean = next(line for line in lines if line["name"] == "pdm: mean score")
    assert (mean["value"], mean["baseline"]) == (90.0, None)


def test_detail_runs_regressions_first_and_not_known_damaged(tmp_path: Path) -> None:
    """Drawn: runs with a history.npz not known corrupt, the regressed ones first."""
    for k in ("a", "b", "c"):
        (tmp_path / "pdm" / k).mkdir(parents=True)
        (tmp_path / "pdm" / k / "history.npz").write_bytes(b"")
    rows = (
        _row("pdm/a", "pass", 1.0),
        ScenarioRow("pdm/b", "b", "pdm", "corrupt", error="x: corrupt history.npz: bad"),
        _row("pdm/c", "pass", 2.0),
    )
    assert build._detail_keys(rows, {"pdm/c"}, tmp_path, 5) == ["pdm/c", "pdm/a"]
    assert build._detail_keys(rows, {"pdm/c"}, tmp_path, 1) == ["pdm/c"]


def test_detection_summary_keeps_strict_ap40_and_drops_labelled_counts() -> None:
    """The KITTI table takes strict (or unmarked) AP40 only: Car BEV easy 90, not the loose
    95; ``Overall_labelled_*`` (a count beside Overall_*) is no scalar."""
    data = {
        "dataset": "kitti",
        "metrics": {
            "protocol": "kitti",
            "Car_BEV_AP40_easy_strict": 90.0,
            "Car_BEV_AP40_easy_loose": 95.0,
            "Overall_labelled_Car": 12,
            "Overall_MOTA": 0.5,
        },
    }
    summary = build._detection_summary(data)
    assert summary["kitti_ap"] == {"Car BEV AP40": {"easy": 90.0}}
    assert summary["scalars"] == {"Overall_MOTA": 0.5}


def test_detection_scalars_are_capped_at_80() -> None:
    """85 scalar metrics m00..m84: the first 80 (m00..m79) are kept."""
    metrics: dict[str, Any] = {f"m{i:02d}": float(i) for i in range(85)}
    scalars = build._detection_summary({"metrics": metrics})["scalars"]
    assert list(scalars) == [f"m{i:02d}" for i in range(80)]


def test_the_report_commit_is_shown_only_when_it_differs(monkeypatch: pytest.MonkeyPatch) -> None:
    """The checkout's commit now is named only when it is not the runs' commit."""
    import drivestack.core.provenance

    monkeypatch.setattr(drivestack.core.provenance, "git_commit", lambda: "abc")
    assert build._report_commit("abc") is None
    assert build._report_commit("def") == "abc"


def test_one_recall_position_is_no_curve() -> None:
    """pr_curves needs at least two recall positions."""
    with pytest.raises(ValueError, match="recall_positions"):
        build.pr_curves({"recall_positions": [0.0], "curves": {}})
    assert build.pr_curves({"recall_positions": [0, 1], "curves": {}}) == {
        "recall_positions": [0.0, 1.0],
        "curves": {},
    }


def test_nothing_shared_because_of_other_params(tmp_path: Path) -> None:
    """Runs of the same name that ran other params are the first reason given."""
    run, base = _run(tmp_path, kind="fleet"), _run(tmp_path, kind="fleet")
    comparison = compare_rows((), ())
    comparison = type(comparison)(**{**comparison.__dict__, "not_comparable": ("pdm/a",)})
    (warning,) = build._kind_warnings(run, base, comparison, [], [], [], [])
    assert "their runs of the same name ran with other params" in warning


def test_fleets_with_another_seed_are_swept_differently(tmp_path: Path) -> None:
    """Equal --sweep params but another --seed: warned, naming the seeds (repr)."""
    sweep = [{"key": "ego.speed_kph", "low": 20, "high": 60}]
    run = _run(tmp_path, kind="fleet", manifest={"sweep": {"params": sweep, "seed": 1}})
    base = _run(tmp_path, kind="fleet", manifest={"sweep": {"params": sweep, "seed": 2}})
    (warning,) = build._sweep_warnings(run, base, None)
    assert "(--seed 1 here, 2 in the baseline)" in warning


def test_an_anchor_name_needs_an_anchor() -> None:
    """No published value: no source named."""
    assert build._anchor_name(None, "B1") is None
    assert build._anchor_name(50.0, "B1") == "B1, PUBLISHED_RESULTS.md"


# --- plots.py -------------------------------------------------------------------------------


def test_a_signal_of_exactly_max_points_is_not_decimated() -> None:
    """N <= max_points: returned unchanged (the same arrays)."""
    t, y = np.arange(4.0), np.array([1.0, 3.0, 2.0, 0.0])
    out_t, out_y = plots.decimate_minmax(t, y, 4)
    assert out_t is t and out_y is y


def test_decimation_keeps_each_buckets_min_max_and_a_nan() -> None:
    """8 points to max 4: 4 // 2 = 2 buckets [0, 4) and [4, 8). Bucket 0, y 0 5 1 2: min at 0,
    max at 1. Bucket 1, y 3 nan 9 -1: min at 7, max at 6, and its first NaN (5) kept as a gap."""
    t = np.arange(8.0)
    y = np.array([0.0, 5.0, 1.0, 2.0, 3.0, np.nan, 9.0, -1.0])
    out_t, _ = plots.decimate_minmax(t, y, 4)
    assert out_t.tolist() == [0.0, 1.0, 5.0, 6.0, 7.0]


def test_label_boxes_that_only_touch_do_not_overlap() -> None:
    """Boxes sharing an edge do not overlap (strict inequalities)."""
    assert not plots._overlap((0.0, 0.0, 1.0, 1.0), (1.0, 0.0, 1.0, 1.0))
    assert plots._overlap((0.0, 0.0, 1.0, 1.0), (0.5, 0.5, 1.0, 1.0))


def test_labels_at_one_anchor_go_above_right_below_right_above_left_below_left() -> None:
    """Five 10 x 5 labels at one anchor (0, 0): corners (0, 0), (0, -5), (-10, 0), (-10, -5),
    then none left."""
    corners = plots.place_labels([(0.0, 0.0)] * 5, [(10.0, 5.0)] * 5)
    assert corners == [(0.0, 0.0), (0.0, -5.0), (-10.0, 0.0), (-10.0, -5.0), None]


def test_bev_limits_pad_15_m_and_widen_to_five_by_three() -> None:
    """The helper's points span x -20..130 (agent 2 from -20, agent 3 to 130) and y 0..3.5;
    padded 15 m: x -35..145 (180 m), y -15..18.5 (33.5 m). 5:3 wants y 180 * 3 / 5 = 108 m:
    widened by (108 - 33.5) / 2 = 37.25 each side, y -52.25..55.75."""
    ax = plots.BevFigure().draw(_history(), None, "t").axes[0]
    assert ax.get_xlim() == pytest.approx((-35.0, 145.0))
    assert ax.get_ylim() == pytest.approx((-52.25, 55.75))


def test_pass_rate_bars_sit_centred_on_their_bin() -> None:
    """Two planners: width 0.8 / 2 = 0.4, bar centres at 0 -+ 0.2; y axis 0..105 %."""
    bins = [
        {"bin": "a", "pass_rate": 0.5, "planner": "idm", "n": 2},
        {"bin": "a", "pass_rate": 1.0, "planner": "pdm", "n": 2},
    ]
    ax = plots.pass_rate_figure({"k": bins}).axes[0]
    bars = [p for p in ax.patches if isinstance(p, Rectangle)]
    centres = [p.get_x() + p.get_width() / 2 for p in bars]
    assert centres == pytest.approx([-0.2, 0.2])
    assert [p.get_height() for p in bars] == pytest.approx([50.0, 100.0])
    assert ax.get_ylim() == (0.0, 105.0)


def test_tracking_curves_are_drawn_in_percent() -> None:
    """sMOTA 0.2, 0.4 are drawn at 20, 40 (as the tables print them)."""
    curves = {"Car": {"recall": [0.5, 1.0], "sMOTA": [0.2, 0.4], "MOTA": [0.1, 0.3]}}
    ax = plots.tracking_curves_figure(curves, "t").axes[0]
    assert np.asarray(ax.lines[0].get_ydata()).tolist() == pytest.approx([20.0, 40.0])
    assert np.asarray(ax.lines[1].get_ydata()).tolist() == pytest.approx([10.0, 30.0])


def test_only_strict_pr_curves_carry_the_ap40() -> None:
    """The AP40 (``Car BEV easy`` 80) labels the strict curve, not the loose one."""
    pr = {
        "recall_positions": [0.0, 1.0],
        "curves": {"Car": {"BEV": {"strict": {"easy": [1.0, 0.5]}, "loose": {"easy": [1.0, 0.7]}}}},
    }
    ax = plots.detection_pr_figure(pr, {"Car BEV easy": 80.0}, "t").axes[0]
    assert [line.get_label() for line in ax.lines] == ["BEV strict (AP40 80.0)", "BEV loose"]


def test_planning_marks_only_the_recorded_horizons() -> None:
    """A horizon whose recorded ADE is null gets no mark: marks at 1 s (0.4 m) only."""
    fig = plots.planning_ade_figure(
        {"p": ([1.0, 2.0], [0.5, 1.0])}, {"p": {1.0: 0.4, 2.0: None}}, "t"
    )
    marks = fig.axes[0].lines[1]
    assert np.asarray(marks.get_xdata()).tolist() == [1.0] and np.asarray(
        marks.get_ydata()
    ).tolist() == [0.4]


def test_planning_instants_colour_planners_by_their_order() -> None:
    """Colour C<k> with k the planner's place in ``planners``; an unlisted one C<len>."""
    panels = {"log": {1.0: {"b": ([0.0], [1.0]), "a": ([0.0], [2.0]), "c": ([0.0], [3.0])}}}
    ax = plots.planning_instants_figure(panels, ["a", "b"], "t").axes[0]
    assert [line.get_color() for line in ax.lines] == ["C1", "C0", "C2"]


def test_a_prediction_panel_without_cases_draws_no_line() -> None:
    """A model with 0 cases in a group is not drawn; the panel says "no cases"."""
    models = {"m": {"vehicle": {"moving": {"cases": 0, "ADE@1s": 1.0}}}}
    ax = plots.prediction_ade_figure([1.0], models, "t").axes[0]
    assert not ax.lines
    assert [t.get_text() for t in ax.texts] == ["no cases"]


def test_ego_footprints_every_two_seconds_and_a_hit_agent_in_red() -> None:
    """dt 0.1 s: a footprint every round(2.0 / 0.1) = 20 ticks; 31 ticks give ticks 0 and 20:
    2 footprints. An agent the ego hit is drawn red, the others orange."""
    history = _history()
    history.collisions[30, 0] = True
    ax = plots.BevFigure().draw(history, None, "t").axes[0]
    assert len(ax.collections[0].get_paths()) == 2
    # lines: the ego, then agents 0..3, then the collision mark
    assert [line.get_color() for line in ax.lines[1:5]] == ["tab:red"] + ["tab:orange"] * 3


def test_the_gap_axis_resets_for_a_run_without_an_agent_ahead() -> None:
    """A reused figure: after a run with an agent ahead, one without shows the hidden gap axis
    at a fresh figure's 0..1."""
    history = _history()
    figure = plots.SignalsFigure()
    ttc = np.full(len(history.time_s), np.inf)
    figure.draw(history, ttc, 3.0, lead=lead_trace(history))
    figure.draw(history, ttc, 3.0)
    assert figure.gap_ax.get_ylim() == (0.0, 1.0)
    assert not figure.gap_ax.get_visible()
