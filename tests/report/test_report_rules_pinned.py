"""Report rules a mutation review found unguarded: every test here fails under a plausible
one-token change of the code that no other test noticed.

- the agent ahead is found along the ego's path extended along its last heading (lead.py);
- a baseline comparison counts passes over the comparable folders only, compares a folder
  with recorded traffic in one run only, flags no unknown traffic beside a run without any,
  and a drop of exactly the tolerance is no regression (compare.py);
- a record cut short (``ncap.avoided`` null) is no collision, and fleet rows keep their own
  params (collect.py);
- the words of a zeroing at-fault collision and of a comfort breach's further bounds
  (score_terms.py).
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np

from drivestack.report.collect import (
    AGENTS_UNKNOWN,
    ScenarioRow,
    infer_sweep_params,
    row_from_metrics,
)
from drivestack.report.compare import compare_rows
from drivestack.report.lead import lead_trace
from drivestack.report.score_terms import comfort_breach, score_terms
from drivestack.sim.runner import SimHistory
from tests.report.test_collect_compare import _row
from tests.report.test_lost_points_lead_and_sim_sweeps import DT_S, T, _history
from tests.report.test_report_pairing import _row as _fleet_row

# lead.py ------------------------------------------------------------------------------------


def test_the_lead_path_runs_on_along_the_last_heading() -> None:
    # the ego's centre (4.5 m long) drives 1 m per tick east from (0, 0) to (10, 0) (ticks
    # 0-10), then 0.5 m per tick north to (10, 10) (ticks 11-30), ending at yaw pi/2; a
    # standing car (4.5 m) at (10, 25) lies on the path's extension north, 15 m past its end:
    # station 10 + 10 + 15 = 35, the gap 35 - ego station - (4.5 + 4.5) / 2 = 30.5 - station,
    # down to 10.5 at the last tick (extended along the first heading, east, the car would
    # lie 15 m off the path: never ahead)
    k = np.arange(T)
    ego = np.zeros((T, 7))
    ego[:, 3:6] = (4.5, 2.0, 1.5)
    ego[:, 0] = np.minimum(k, 10.0)
    ego[11:, 1] = 0.5 * (k[11:] - 10)
    ego[11:, 6] = np.pi / 2
    car = np.tile([10.0, 25.0, 0.0, 4.5, 2.0, 1.5, 0.0], (T, 1, 1))
    h = SimHistory(
        **{
            **_history().__dict__,
            "ego_boxes": ego,
            "agent_ids": ("car",),
            "agent_labels": np.zeros(1, dtype=np.int64),
            "agent_boxes": car,
            "agent_velocity_mps": np.zeros((T, 1, 2)),
            "agent_valid": np.ones((T, 1), dtype=bool),
            "collisions": np.zeros((T, 1), dtype=bool),
        }
    )
    station = np.where(k <= 10, k, 10.0 + 0.5 * (k - 10))
    lead = lead_trace(h)
    np.testing.assert_allclose(lead.gap_m, 30.5 - station, atol=1e-9)
    np.testing.assert_allclose(lead.speed_mps, 0.0, atol=1e-12)
    assert lead.closest(k * DT_S) == {"gap_m": 10.5, "time_s": 3.0, "speed_mps": 0.0}


# compare.py ---------------------------------------------------------------------------------


def test_passes_count_only_the_comparable_folders() -> None:
    # the same fleet folder ran 10 kph here (pass) and 20 kph in the baseline (fail): another
    # scenario, not compared; no comparable folder is left, so neither side passed any
    cmp_ = compare_rows(
        [_fleet_row("pdm/v0", "pass", 90.0, 10.0)],
        [_fleet_row("pdm/v0", "fail", 10.0, 20.0)],
        match_params=True,
    )
    assert cmp_.not_comparable == ("pdm/v0",) and cmp_.common == ()
    assert (cmp_.passed, cmp_.baseline_passed) == (0, 0)
    assert cmp_.mean_score is None and cmp_.regressions == ()
    # and the other way round: the baseline's pass is not counted either
    swapped = compare_rows(
        [_fleet_row("pdm/v0", "fail", 10.0, 20.0)],
        [_fleet_row("pdm/v0", "pass", 90.0, 10.0)],
        match_params=True,
    )
    assert (swapped.passed, swapped.baseline_passed) == (0, 0)


def test_recorded_traffic_in_one_run_only_is_compared() -> None:
    # None (no recorded traffic) beside "replay": not a known other way of running it
    run = [dataclasses.replace(_row("pdm/x", "pass", 80.0), recorded_agents=None)]
    base = [dataclasses.replace(_row("pdm/x", "pass", 80.0), recorded_agents="replay")]
    cmp_ = compare_rows(run, base)
    assert cmp_.common == ("pdm/x",) and cmp_.other_agents == ()
    assert cmp_.agents_unknown == ()


def test_unknown_traffic_beside_none_is_not_flagged() -> None:
    # a record that cannot say how its traffic ran, beside one without recorded traffic: no
    # sign of recorded traffic, not flagged; beside "reactive" it is
    unknown = [dataclasses.replace(_row("pdm/x", "pass", 80.0), recorded_agents=AGENTS_UNKNOWN)]
    plain = [dataclasses.replace(_row("pdm/x", "pass", 80.0), recorded_agents=None)]
    reactive = [dataclasses.replace(_row("pdm/x", "pass", 80.0), recorded_agents="reactive")]
    assert compare_rows(unknown, plain).agents_unknown == ()
    assert compare_rows(plain, unknown).agents_unknown == ()
    assert compare_rows(unknown, reactive).agents_unknown == ("pdm/x",)


def test_a_drop_of_exactly_the_tolerance_is_not_a_regression() -> None:
    # "dropped by more than score_tolerance points": 80 -> 79 with tolerance 1 is within it,
    # 80 -> 78.5 is not (and 79 -> 80 is no improvement either)
    base = [_row("pdm/a", "pass", 80.0), _row("pdm/b", "pass", 80.0), _row("pdm/c", "pass", 79.0)]
    run = [_row("pdm/a", "pass", 79.0), _row("pdm/b", "pass", 78.5), _row("pdm/c", "pass", 80.0)]
    cmp_ = compare_rows(run, base, score_tolerance=1.0)
    assert [(c.key, c.kind) for c in cmp_.regressions] == [("pdm/b", "score_dropped")]
    assert cmp_.improvements == ()


# collect.py ---------------------------------------------------------------------------------


def test_a_run_cut_short_is_no_collision(tmp_path: Path) -> None:
    # ncap.avoided null (the run was cut short before the NCAP verdict): nothing says it
    # collided, so the row's collision is False (only avoided false is a collision)
    path = tmp_path / "pdm" / "cut" / "metrics.json"
    path.parent.mkdir(parents=True)
    ncap = {"avoided": None, "min_ttc_s": None, "impact_speed_kph": None}
    path.write_text(json.dumps({"score": 40.0, "passed": False, "ncap": ncap}))
    row, _ = row_from_metrics(path, "pdm/cut", None)
    assert row.status == "fail" and row.collision is False
    path.write_text(json.dumps({"score": 0.0, "passed": False, "ncap": {"avoided": False}}))
    assert row_from_metrics(path, "pdm/cut", None)[0].collision is True


def test_fleet_rows_keep_their_own_params() -> None:
    # two fleet variants of one scenario file whose embedded configs differ in the swept
    # speed and also in agents.0.x: they keep the fleet's params, nothing inferred is added
    def fleet_row(k: int, speed: float) -> ScenarioRow:
        return ScenarioRow(f"pdm/rear_{k:04d}", f"rear#{k:04d}", "pdm", "pass", score=90.0,
                           base_scenario="rear", params={"ego.speed_kph": speed})  # fmt: skip

    rows = [fleet_row(0, 30.0), fleet_row(1, 50.0)]
    configs = [
        {"ego": {"speed_kph": 30.0}, "agents": [{"x": 10.0}]},
        {"ego": {"speed_kph": 50.0}, "agents": [{"x": 20.0}]},
    ]
    out = infer_sweep_params(rows, configs)
    assert [r.params for r in out] == [{"ego.speed_kph": 30.0}, {"ego.speed_kph": 50.0}]
    assert out == rows


# score_terms.py -----------------------------------------------------------------------------


def test_a_zeroing_at_fault_collision_is_not_a_static_object() -> None:
    # no_at_fault_collisions 0 (a vehicle or VRU hit at fault); 0.5 is a static object's
    (term,) = score_terms({"no_at_fault_collisions": 0.0}, ("lead (vehicle)",))
    assert term["text"] == "at-fault collision with lead (vehicle) (score x0)"
    (term,) = score_terms({"no_at_fault_collisions": 0.5}, ("cone (stopped_track)",))
    assert (
        term["text"]
        == "at-fault collision with cone (stopped_track) (a static object) (score x0.5)"
    )


def test_a_breach_of_two_bounds_names_one_more() -> None:
    # 10 m/s turning at a steady 1 rad/s: yaw rate 1 > 0.95 (5.3 % over) and lateral
    # acceleration 10 * 1 = 10 > 4.89 m/s^2 (104 % over, the worst); yaw acceleration and
    # both jerks 0: two bounds broken, the worst named and "1 more"
    h = _history()
    turning = SimHistory(**{**h.__dict__, "ego_yaw_rad": 1.0 * h.time_s})
    why = comfort_breach(turning)
    assert why is not None
    assert why.startswith("lateral acceleration 10.00 m/s² outside [-4.89, 4.89] at ")
    assert why.endswith(" s (and 1 more bound)")
