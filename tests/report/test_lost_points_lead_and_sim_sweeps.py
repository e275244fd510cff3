"""What a report says a run lost points for (passed or not), the nearest agent ahead on the
speed plot, and sweep aggregation of a sim run's scenario-file sweeps with range keys binned.

Hand-built run folders: metrics.json records (and a history.npz made from hand-set arrays)
written the way ``drivestack sim`` / ``drivestack fleet`` write them.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from drivestack.eval.driving.nuplan import WEIGHTS
from drivestack.report import build_report, plots, write_report
from drivestack.report.collect import ScenarioRow, load_run
from drivestack.report.lead import lead_trace
from drivestack.report.score_terms import comfort_breach, score_terms
from drivestack.report.sweep import bin_values, pass_rate_by_param, swept_rows
from drivestack.sim.runner import SimHistory
from drivestack.sim.vehicle import VehicleParams

PERFECT = {
    "no_at_fault_collisions": 1.0, "drivable_area_compliance": 1.0,
    "driving_direction_compliance": 1.0, "making_progress": 1.0, "progress": 1.0,
    "ttc_within_bound": 1.0, "speed_limit_compliance": 1.0, "comfort": 1.0,
    "progress_m": 72.0, "min_ttc_s": 1.4, "max_outside_drivable_m": 0.0, "collisions": [],
}  # fmt: skip


def _metrics(
    root: Path,
    key: str,
    score: float,
    passed: bool = True,
    nuplan: dict[str, Any] | None = None,
    **fields: Any,
) -> Path:
    folder = root / key
    folder.mkdir(parents=True)
    record = {"scenario": key.split("/")[1], "planner": key.split("/")[0], "score": score,
              "passed": passed, "failures": [] if passed else ["collision at 10.3 km/h"],
              "ncap": {"avoided": passed, "min_ttc_s": None, "impact_speed_kph": None},
              "nuplan": {**PERFECT, **(nuplan or {})}, "expert_progress_m": 40.0}  # fmt: skip
    record.update(fields)
    (folder / "metrics.json").write_text(json.dumps(record))
    return folder


def _why_cells(html: str) -> dict[str, str]:
    """The scenario table's why cell of each run, by its key."""
    table = html[html.index('id="scenario-table"') :]
    table = table[: table.index("</table>")]
    out = {}
    for row in table.split("<tr")[2:]:
        cells = re.findall(r"<td[^>]*>(.*?)</td>", row, flags=re.S)
        out[re.sub(r"<[^>]+>", "", cells[0])] = cells[-1]
    return out


# 1. lost points ---------------------------------------------------------------------------------


def test_passing_runs_say_what_they_lost_points_for(tmp_path: Path) -> None:
    run = tmp_path / "sim"
    # 100 * (5 * 1 + 5 * 0 + 4 * 1 + 2 * 0) / 16 = 56.25: TTC costs 31.25, comfort 12.5
    _metrics(run, "pdm/late_brake", 56.25, nuplan={"ttc_within_bound": 0.0, "min_ttc_s": 0.5,
                                                   "comfort": 0.0})  # fmt: skip
    _metrics(run, "idm/late_brake", 87.5, nuplan={"comfort": 0.0})
    _metrics(run, "idm/clean", 100.0)
    # 0.5 (static object hit) * 100 * (5 * 0.75 + 5 + 4 + 2) / 16 = 46.09
    _metrics(run, "pdm/cone", 46.09375, passed=False,
             nuplan={"no_at_fault_collisions": 0.5, "progress": 0.75, "progress_m": 30.0,
                     "collisions": [{"agent_id": "cone_1", "kind": "stopped_track",
                                     "at_fault": True}]})  # fmt: skip
    report = build_report(run)
    rows = {r["key"]: r for r in report.data["rows"]}
    assert rows["pdm/late_brake"]["nuplan"]["ttc_within_bound"] == 0.0
    points = {t["metric"]: t["points"] for t in rows["pdm/late_brake"]["score_terms"]}
    assert points == pytest.approx({"ttc_within_bound": 31.25, "comfort": 12.5})
    assert rows["idm/clean"]["score_terms"] == []
    cone = rows["pdm/cone"]["score_terms"]
    assert [(t["metric"], t["kind"]) for t in cone] == [
        ("no_at_fault_collisions", "multiplier"), ("progress", "weighted")]  # fmt: skip
    assert cone[1]["points"] == pytest.approx(0.5 * 100 * 5 / 16 * 0.25)
    why = _why_cells(write_report(report, tmp_path / "r.html")[0].read_text())
    assert why["pdm/late_brake"] == (
        "score: TTC 0.50 s &lt; 0.95 s (-31.2 points); not comfortable (-12.5 points)"
    )
    assert why["idm/late_brake"] == "score: not comfortable (-12.5 points)"
    assert why["idm/clean"] == ""
    assert why["pdm/cone"] == (
        "collision at 10.3 km/h; score: at-fault collision with cone_1 (stopped_track) (a "
        "static object) (score x0.5); progress 30.0 m of the expert&#x27;s 40.0 m (75%) "
        "(-3.9 points)"
    )


def test_a_zeroing_multiplier_leaves_the_weighted_terms_without_points() -> None:
    terms = score_terms({**PERFECT, "drivable_area_compliance": 0.0,
                         "max_outside_drivable_m": 1.25, "comfort": 0.0})  # fmt: skip
    assert [t["text"] for t in terms] == [
        "left the drivable area by 1.25 m > 0.3 m (score x0)", "not comfortable"]  # fmt: skip
    assert terms[1]["points"] is None


@settings(max_examples=60, deadline=None)
@given(
    mult=st.lists(st.sampled_from([0.0, 0.5, 1.0]), min_size=4, max_size=4),
    weighted=st.lists(st.floats(0.0, 1.0), min_size=4, max_size=4),
)
def test_points_lost_add_up_to_the_score(mult: list[float], weighted: list[float]) -> None:
    """The score (nuPlan: multipliers x weighted average, x 100) plus the points the weighted
    terms lost is what the multipliers leave of 100."""
    names = ("no_at_fault_collisions", "drivable_area_compliance",
             "driving_direction_compliance", "making_progress")  # fmt: skip
    w_names = ("progress", "ttc_within_bound", "speed_limit_compliance", "comfort")
    w = (WEIGHTS["progress"], WEIGHTS["ttc"], WEIGHTS["speed_limit"], WEIGHTS["comfort"])
    nuplan = dict(zip(names, mult, strict=True)) | dict(zip(w_names, weighted, strict=True))
    factor = float(np.prod(mult))
    score = 100 * factor * float(np.dot(w, weighted)) / sum(w)
    terms = score_terms(nuplan)
    lost = sum(t["points"] or 0.0 for t in terms if t["kind"] == "weighted")
    assert score + lost == pytest.approx(100 * factor)
    hit = [t["metric"] for t in terms if t["kind"] == "multiplier"]
    assert hit == [n for n, m in zip(names, mult, strict=True) if m < 1]


def test_a_malformed_sub_score_is_a_corrupt_row_naming_the_field(tmp_path: Path) -> None:
    folder = _metrics(tmp_path, "pdm/a", 90.0, nuplan={"comfort": "no"})
    (row,) = load_run(tmp_path).rows
    assert row.status == "corrupt"
    assert str(folder / "metrics.json") in row.error and "field nuplan.comfort" in row.error


# 2. the nearest agent ahead ---------------------------------------------------------------------

DT_S = 0.1
T = 31


def _history(accel_mps2: np.ndarray | None = None) -> SimHistory:
    """The ego (4.5 x 2 m) along +x at 10 m/s from x = 0; agent 0 (4.5 x 2 m) in its lane
    30 m ahead at 5 m/s; agent 1 in the next lane (y = 3.5 m) 10 m ahead (out of the
    corridor: 3.5 m > (2 + 2) / 2 + 0.3); agent 2 20 m behind; agent 3 ahead in the lane
    but present only from tick 20 on, 100 m ahead (farther than agent 0)."""
    t = np.arange(T) * DT_S
    ego_x = 10.0 * t
    ego_boxes = np.zeros((T, 7))
    ego_boxes[:, 0], ego_boxes[:, 3:6] = ego_x, (4.5, 2.0, 1.5)
    agents = np.zeros((T, 4, 7))
    agents[:, :, 3:6] = (4.5, 2.0, 1.5)
    agents[:, 0, 0] = 30.0 + 5.0 * t
    agents[:, 1, :2] = np.stack([ego_x + 10.0, np.full(T, 3.5)], axis=1)
    agents[:, 2, 0] = ego_x - 20.0
    agents[:, 3, 0] = ego_x + 100.0
    velocity = np.zeros((T, 4, 2))
    velocity[:, 0, 0], velocity[:, 1:, 0] = 5.0, 10.0
    valid = np.ones((T, 4), dtype=bool)
    valid[:20, 3] = False
    speed = np.full(T, 10.0)
    return SimHistory(
        dt_s=DT_S, timestamp_ns=(t * 1e9).round().astype(np.int64), ego_x_m=ego_x,
        ego_y_m=np.zeros(T), ego_yaw_rad=np.zeros(T), ego_speed_mps=speed,
        ego_accel_mps2=np.zeros(T) if accel_mps2 is None else accel_mps2,
        ego_steering_rad=np.zeros(T), ego_boxes=ego_boxes, agent_ids=("0", "1", "2", "3"),
        agent_labels=np.zeros(4, dtype=np.int64), agent_boxes=agents,
        agent_velocity_mps=velocity, agent_valid=valid, collisions=np.zeros((T, 4), bool),
        planner_step_s=np.zeros(T - 1), sim_step_s=np.zeros(T - 1), vehicle=VehicleParams(),
    )  # fmt: skip


def test_lead_trace_is_the_nearest_agent_ahead_in_the_ego_corridor() -> None:
    lead = lead_trace(_history())
    t = np.arange(T) * DT_S
    # agent 0: (30 + 5 t) - 10 t - (4.5 + 4.5) / 2 = 25.5 - 5 t, at its 5 m/s
    np.testing.assert_allclose(lead.gap_m, 25.5 - 5.0 * t, atol=1e-9)
    np.testing.assert_allclose(lead.speed_mps, 5.0)
    closest = lead.closest(t)
    assert closest == pytest.approx({"gap_m": 10.5, "time_s": 3.0, "speed_mps": 5.0})


def test_lead_trace_without_anyone_ahead_is_nan() -> None:
    h = _history()
    only_behind = SimHistory(**{**h.__dict__, "agent_valid": np.array([[0, 0, 1, 0]] * T, bool)})
    lead = lead_trace(only_behind)
    assert np.isnan(lead.gap_m).all() and not lead.any and lead.closest(h.time_s) is None


def _write_history(folder: Path, history: SimHistory) -> None:
    np.savez(folder / "history.npz", **history.arrays())


def test_the_speed_plot_draws_the_gap_and_speed_of_the_agent_ahead(tmp_path: Path) -> None:
    run = tmp_path / "sim"
    folder = _metrics(run, "idm/follow", 87.5, nuplan={"comfort": 0.0})
    _write_history(folder, _history())
    report = build_report(run)
    assert report.data["detail_lead"]["idm/follow"] == pytest.approx(
        {"gap_m": 10.5, "time_s": 3.0, "speed_mps": 5.0}
    )
    assert "signals:idm/follow" in report.figures
    html = write_report(report, tmp_path / "r.html")[0].read_text()
    assert "agent ahead: closest gap 10.5 m at 3.0 s, its speed then 5.0 m/s" in html
    sub = html[html.index('class="kv subscores"') :]
    sub = sub[: sub.index("</table>")]
    cells = [re.findall(r"<td[^>]*>(.*?)</td>", r) for r in sub.split("<tr>")[2:]]
    assert len(cells) == 8 and all(c[1] == "1.00" for c in cells[:-1])  # the multipliers first
    assert cells[-1] == [
        "comfort (weight 2) <code>comfort</code>", "0.00", "not comfortable (-12.5 points)"]  # fmt: skip
    fig = plots.SignalsFigure().draw(
        _history(), np.full(T, np.inf), 0.95, lead=lead_trace(_history())
    )
    gap = [a for a in fig.findobj() if a.get_gid() == "lead-gap"]
    speed = [a for a in fig.findobj() if a.get_gid() == "lead-speed"]
    assert len(gap) == len(speed) == 1
    np.testing.assert_allclose(gap[0].get_ydata(), 25.5 - 5.0 * np.arange(T) * DT_S, atol=1e-9)
    np.testing.assert_allclose(speed[0].get_ydata(), 5.0)
    assert fig.axes[-1].get_visible()  # the gap axis
    plain = plots.SignalsFigure().draw(_history(), np.full(T, np.inf), 0.95)
    assert not [a for a in plain.findobj() if a.get_gid() == "lead-gap" and len(a.get_ydata())]


def test_comfort_breach_names_the_bound_broken() -> None:
    assert comfort_breach(_history()) is None
    # braking eased in at 3 m/s^3 (under the 4.13 jerk bound) to -6 m/s^2 (under -4.05)
    accel = -np.clip(3.0 * np.arange(T) * DT_S, 0.0, 6.0)
    why = comfort_breach(_history(accel))
    assert why is not None and why.startswith("longitudinal acceleration -")
    value = float(re.match(r"longitudinal acceleration (-?[\d.]+)", why)[1])  # type: ignore[index]
    assert -6.3 < value < -5.7 and "outside [-4.05, 2.4]" in why


# 3. sweeps ------------------------------------------------------------------------------------


def _sim_variant(root: Path, planner: str, name: str, config: dict[str, Any], passed: bool,
                 score: float) -> None:  # fmt: skip
    folder = root / planner / re.sub(r"[\[\]]", "_", name)
    folder.mkdir(parents=True)
    record = {"scenario": name, "planner": planner, "score": score, "passed": passed,
              "failures": [], "ncap": {"avoided": True, "min_ttc_s": None,
                                        "impact_speed_kph": None},
              "config": {"name": name, "source": "x.yaml", **config}}  # fmt: skip
    (folder / "metrics.json").write_text(json.dumps(record))


def test_a_sim_run_of_a_grid_sweep_is_aggregated_as_a_fleet_is(tmp_path: Path) -> None:
    run = tmp_path / "sim"
    (run).mkdir()
    (run / "sim.json").write_text(json.dumps({"kind": "sim"}))
    # lead_brake's sweep.grid over ego.speed_kph and agents.0.speed_kph (both named speed_kph)
    for ego in (30, 90):
        for lead in (30, 60):
            name = f"lead_brake[speed_kph={ego},speed_kph={lead}]"
            config = {"ego": {"speed_kph": float(ego)}, "agents": [{"speed_kph": float(lead)}]}
            _sim_variant(run, "pdm", name, config, not (ego == 90 and lead == 30), 80.0)
    # named cases (ccrs[10kph]) set several related fields: not a sweep, not aggregated
    for speed in (10, 20):
        config = {"ego": {"speed_kph": speed}, "expert_progress_m": 2.0 * speed}
        _sim_variant(run, "pdm", f"ccrs[{speed}kph]", config, True, 90.0)
    sweep = build_report(run).data["sweep"]
    assert sweep is not None and sweep["source"] == "scenario sweep"
    assert sweep["keys"] == ["agents.0.speed_kph", "ego.speed_kph"]
    assert [g["scenario"] for g in sweep["by_scenario"]] == ["lead_brake"]
    bins = {(b["bin"], b["n"], b["passed"]) for b in sweep["by_param"]["ego.speed_kph"]}
    assert bins == {("30.0", 2, 2), ("90.0", 2, 1)}
    (hm,) = sweep["heatmaps"]
    assert hm["n"] == [[1, 1], [1, 1]]


def test_swept_keys_need_every_variant_to_name_them() -> None:
    def row(name: str, params: dict[str, Any]) -> ScenarioRow:
        return ScenarioRow(f"pdm/{name}", name, "pdm", "pass", params=params)

    rows = [row("a[gap_m=10,speed_kph=30]", {"x.gap_m": 10, "ego.speed_kph": 30.0,
                                             "expert_progress_m": 1.0}),
            row("a[gap_m=20,speed_kph=30]", {"x.gap_m": 20, "ego.speed_kph": 30.0,
                                             "expert_progress_m": 2.0}),
            # another file's variant: its name does not carry gap_m
            row("b[speed_kph=40]", {"x.gap_m": 5, "ego.speed_kph": 40})]  # fmt: skip
    keys, swept = swept_rows(rows, {}, "sim")
    assert keys == ["ego.speed_kph", "x.gap_m"]
    assert [r.params for r in swept] == [
        {"ego.speed_kph": 30.0, "x.gap_m": 10}, {"ego.speed_kph": 30.0, "x.gap_m": 20},
        {"ego.speed_kph": 40}]  # fmt: skip
    assert swept_rows(rows, {}, "eval") == ([], [])
    # names that tell clashing last parts apart by a longer tail (ego.speed_kph)
    clash = [row(f"c[ego.speed_kph={e},agents.0.speed_kph={a}]",
                 {"ego.speed_kph": float(e), "agents.0.speed_kph": a})
             for e, a in ((30, 60), (60, 60), (30, 90))]  # fmt: skip
    assert swept_rows(clash, {}, "sim")[0] == ["agents.0.speed_kph", "ego.speed_kph"]


def _fleet(root: Path, speeds: list[float]) -> Path:
    root.mkdir()
    records = []
    for k, speed in enumerate(speeds):
        key = f"pdm/ped_{k:04d}"
        params = {"ego.speed_kph": speed}
        fleet = {"variant": key, "base_scenario": "ped", "seed": k, "params": params}
        _metrics(root, key, 90.0, passed=speed < 50, fleet=fleet)
        records.append({"variant": key, "status": "ok", "planner": "pdm", "seed": k,
                        "params": params, "base_scenario": "ped"})  # fmt: skip
    sweep = {"params": [{"key": "ego.speed_kph", "values": [], "low": 20.0, "high": 60.0}]}
    (root / "fleet.json").write_text(json.dumps({"kind": "fleet", "sweep": sweep}))
    (root / "fleet.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))
    return root


def test_a_range_sweep_is_binned_over_its_declared_range(tmp_path: Path) -> None:
    # 6 drawn values: ceil(sqrt(6)) = 3 bins over [20, 60]: [20, 33.33), [33.33, 46.67), ...
    speeds = [36.009, 37.246, 43.404, 49.908, 54.075, 54.738]
    sweep = build_report(_fleet(tmp_path / "fleet", speeds)).data["sweep"]
    assert sweep["spans"] == {"ego.speed_kph": [20.0, 60.0]}
    got = [(b["bin"], b["n"], b["passed"]) for b in sweep["by_param"]["ego.speed_kph"]]
    assert got == [("[33.33, 46.67)", 3, 3), ("[46.67, 60]", 3, 1)]  # [20, 33.33) is empty
    first = sweep["by_param"]["ego.speed_kph"][0]
    assert (first["low"], first["high"]) == pytest.approx((100 / 3, 140 / 3))
    assert sweep["heatmaps"] == []  # one key: no heat map


def test_many_distinct_values_are_binned_and_few_are_not() -> None:
    bins, idx = bin_values([float(v) for v in range(10)])  # 10 > 8: ceil(sqrt(10)) = 4 bins
    assert [b["label"] for b in bins] == ["[0, 2.25)", "[2.25, 4.5)", "[4.5, 6.75)", "[6.75, 9]"]
    assert idx.tolist() == [0, 0, 0, 1, 1, 2, 2, 3, 3, 3]
    few, _ = bin_values([1.5, 2.5, 1.5])
    assert [(b["label"], b["low"]) for b in few] == [("1.5", None), ("2.5", None)]
    # a grid mixing ints and floats (10, 12.5, 15) is in numeric order, not 12.5, 10, 15
    mixed, idx = bin_values([10, 12.5, 15, 10])
    assert [b["label"] for b in mixed] == ["10", "12.5", "15"] and idx.tolist() == [0, 1, 2, 0]
    texts, _ = bin_values(["road_1", 2, "road_0", True])  # numbers first, then by type
    assert [b["label"] for b in texts] == ["2", "True", "road_0", "road_1"]
    same, idx = bin_values([5.0, 5.0], span=(5.0, 5.0))  # a range of one value: one bin
    assert [b["label"] for b in same] == ["[5, 5]"] and idx.tolist() == [0, 0]
    rows = [ScenarioRow(f"a/s{i}", f"s#{i}", "a", "pass", params={"v": float(i)})
            for i in range(10)]  # fmt: skip
    assert [b["n"] for b in pass_rate_by_param(rows)["v"]] == [3, 2, 2, 3]


def test_the_collision_cell_says_its_kind_and_fault(tmp_path: Path) -> None:
    """Was: 'yes' beside a 65 km/h collision scoring 87: nothing said the ego was not at
    fault (nuPlan zeroes only at-fault ones). A record without the summary still says yes."""
    run = tmp_path / "sim"
    _metrics(run, "pdm/side_swipe", 86.77, passed=False,
             collision_summary="yes (active_lateral, not at fault)")  # fmt: skip
    _metrics(run, "idm/side_swipe", 50.0, passed=False)
    html = write_report(build_report(run), tmp_path / "r.html")[0].read_text()
    table = html[html.index('id="scenario-table"') :]
    assert '<td class="l" data-v="1">yes (active_lateral, not at fault)</td>' in table
    assert '<td class="l" data-v="1">yes</td>' in table


def test_a_term_costing_under_a_twentieth_of_a_point_is_not_listed(tmp_path: Path) -> None:
    """Was: 'over the speed limit (compliance 1.00) (-0.0 points)' in the why cell."""
    run = tmp_path / "sim"
    _metrics(run, "pdm/fast", 99.0, nuplan={"speed_limit_compliance": 0.9996, "comfort": 0.0})
    why = _why_cells(write_report(build_report(run), tmp_path / "r.html")[0].read_text())
    assert why["pdm/fast"] == "score: not comfortable (-12.5 points)"
