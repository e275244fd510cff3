"""nuPlan's definitions (nuplan-devkit nuplan/planning/metrics/...), hand-computed: progress ratio, speed-limit sum, comfort smoothing, TTC
track selection / horizon / at-fault zero / stopped threshold, collision types of a reversing
ego, NCAP closing speed, strict metrics.json and cut-short runs."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from drivestack.eval.driving import comfort, nuplan
from drivestack.eval.driving.ncap import ncap_result
from drivestack.eval.driving.nuplan import classify_collisions, nuplan_score
from drivestack.sim import evaluate
from drivestack.sim.evaluate import check_pass
from drivestack.sim.scenario import PassCriteria

from .test_nuplan_metrics import DT, ROAD, ROUTE, VEHICLE, car, history

# ego box: length 5.18 m, rear overhang 1.03 m -> centre 1.56 m ahead of the rear axle
FRONT = VEHICLE.front_offset_m


# 1. progress ----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("ego_m", "expert_m", "ratio"),
    [(0.0, 8.0, 0.25), (1.9, 8.0, 0.25), (4.0, 8.0, 0.5), (-1.9, 8.0, 0.25), (-2.1, 8.0, 0.0)],
)
def test_progress_ratio_is_nuplans(ego_m: float, expert_m: float, ratio: float) -> None:
    # min(1, max(ego, 2) / max(expert, 2)); 0 below -2 m
    assert nuplan.progress_ratio(ego_m, expert_m) == pytest.approx(ratio)


def test_stationary_ego_against_an_8_m_expert() -> None:
    n = 101
    m = nuplan_score(history(np.full(n, 10.0), np.zeros(n)), ROAD, ROUTE, 8.0)
    assert m.progress == pytest.approx(0.25)
    assert m.making_progress == 1.0  # 0.25 >= 0.2
    assert m.score == pytest.approx((5 * 0.25 + 5 + 4 + 2) / 16)  # 0.765625


def test_reversing_5_m_against_a_1_m_expert_is_no_progress() -> None:
    n = 101
    x = 10.0 - np.linspace(0.0, 5.0, n)
    m = nuplan_score(history(x, np.full(n, -0.5)), ROAD, ROUTE, 1.0)
    assert m.progress_m == pytest.approx(-5.0)
    assert m.progress == 0.0 and m.making_progress == 0.0 and m.score == 0.0


# 7. speed limit: a plain sum ------------------------------------------------------------------
def test_speed_limit_is_a_plain_sum() -> None:
    n = 11
    s = np.full(n, 15.0)
    s[-1] = 25.0  # 10 m/s over the 15 m/s limit at the last tick only
    m = nuplan_score(
        history(10.0 + 15.0 * np.arange(n) * DT, s, accel=np.zeros(n)), ROAD, ROUTE, 15.0
    )
    # 1 - sum(over) * dt / (2.23 * duration) = 1 - 10 * 0.1 / (2.23 * 1.0) (trapezoid: 0.776)
    assert m.speed_limit_compliance == pytest.approx(1.0 - 1.0 / 2.23)


# 4. comfort: smoothed acceleration, jerk of the smoothed acceleration --------------------------
def test_a_one_tick_acceleration_spike_is_smoothed() -> None:
    n = 101
    a = np.zeros(n)
    a[50] = -5.0  # raw: below the -4.05 m/s^2 bound
    v = 10.0 + np.cumsum(a) * DT
    sig = comfort.nuplan_comfort_signals(v, np.zeros(n), a, DT)
    # savgol(window 8, order 2) weights are (-3, 3, 7, 9, 9, 7, 3, -3) / 32: peak -5 * 9 / 32
    assert sig.lon_accel_mps2.min() == pytest.approx(-5.0 * 9 / 32)
    m = nuplan_score(history(np.cumsum(v) * DT, v, accel=a), ROAD, ROUTE, 50.0)
    assert m.comfort == 1.0 and m.score == pytest.approx(1.0)


def test_jerk_magnitude_is_the_derivative_of_the_smoothed_acceleration_magnitude() -> None:
    n = 101
    a = np.full(n, -2.0)
    a[50:] = 2.0  # |a| = 2 throughout: nuPlan's magnitude jerk is 0
    v = 10.0 + np.cumsum(a) * DT
    sig = comfort.nuplan_comfort_signals(v, np.zeros(n), a, DT)
    np.testing.assert_allclose(sig.jerk_mag_mps3, 0.0, atol=1e-9)
    # a ramp survives both filters: away from the ends (scipy's even-window "interp" edges),
    # the longitudinal jerk is its slope
    ramp = -3.5 + 4.0 * np.arange(n) * DT / 10
    sig = comfort.nuplan_comfort_signals(np.full(n, 10.0), np.zeros(n), ramp, DT)
    np.testing.assert_allclose(sig.lon_jerk_mps3[15:-15], 0.4, atol=1e-7)


# 5. / 6. TTC ----------------------------------------------------------------------------------
def _beside(y_ego: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One tick: ego at 10 m/s at ``y_ego``, a car alongside 3 m to its left drifting right
    at 3 m/s; the lateral gap 3 - 1.15 - 0.9 = 0.95 m closes after 0.3167 s."""
    x = np.array([50.0])
    centre = 50.0 + (VEHICLE.length_m / 2 - VEHICLE.rear_overhang_m)
    agents = car(np.array([centre]), y=y_ego + 3.0)
    vel = np.array([[[10.0, -3.0]]])
    return x, agents, vel


def test_a_car_alongside_counts_only_when_the_ego_straddles_lanes() -> None:
    x, agents, vel = _beside(1.75)  # ego centred in its lane: only agents ahead count
    h = history(x, np.array([10.0]), y=1.75, accel=np.zeros(1), agents=agents, agent_vel=vel)
    assert np.isinf(nuplan.min_time_to_collision_s(h, road_map=ROAD)).all()
    x, agents, vel = _beside(3.5)  # on the lane marking: agents not behind count
    h = history(x, np.array([10.0]), y=3.5, accel=np.zeros(1), agents=agents, agent_vel=vel)
    np.testing.assert_allclose(nuplan.min_time_to_collision_s(h, road_map=ROAD), 0.4)
    assert np.isinf(nuplan.min_time_to_collision_s(h)).all()  # without a map: ahead only


def test_ttc_horizon_stops_at_2_9_s() -> None:
    # 10 m/s towards a stopped car 29.5 m ahead (front to rear): contact between 2.9 and 3.0 s
    agents = car(np.array([50.0 + FRONT + 29.5 + 2.25]))
    h = history(np.array([50.0]), np.array([10.0]), accel=np.zeros(1), agents=agents)
    assert np.isinf(nuplan.min_time_to_collision_s(h)).all()
    agents = car(np.array([50.0 + FRONT + 28.5 + 2.25]))  # 28.5 m: hit at 2.9 s
    h = history(np.array([50.0]), np.array([10.0]), accel=np.zeros(1), agents=agents)
    np.testing.assert_allclose(nuplan.min_time_to_collision_s(h), 2.9)


def test_ttc_stopped_threshold_is_5e_3() -> None:
    # 0.01 m/s (over 5e-3, under the former 0.05) creeping 0.0155 m from a stopped car: 1.6 s
    agents = car(np.array([50.0 + FRONT + 0.0155 + 2.25]))
    h = history(np.array([50.0]), np.array([0.01]), accel=np.zeros(1), agents=agents)
    np.testing.assert_allclose(nuplan.min_time_to_collision_s(h), 1.6)
    h = history(np.array([50.0]), np.array([0.005]), accel=np.zeros(1), agents=agents)
    assert np.isinf(nuplan.min_time_to_collision_s(h)).all()


def test_ttc_is_zero_at_an_at_fault_collision_and_the_car_is_ignored_after() -> None:
    n = 31
    x = 10.0 * np.arange(n) * DT
    h = history(x, np.full(n, 10.0), agents=car(np.full(n, 20.0 + FRONT + 2.25)))
    (event,) = classify_collisions(h, ROAD)
    assert event.at_fault and event.tick == 20  # x reaches 20 m at tick 20
    ttc = nuplan.min_time_to_collision_s(h, road_map=ROAD)
    assert ttc[event.tick] == 0.0
    assert np.isinf(ttc[event.tick + 1 :]).all()
    assert nuplan_score(h, ROAD, ROUTE, 30.0).min_ttc_s == 0.0


# 8. reversing ego, closing speed ---------------------------------------------------------------
def test_reversing_into_a_stopped_car_is_at_fault_and_closes_at_the_ego_speed() -> None:
    n = 20
    x = 50.0 - 2.0 * np.arange(n) * DT  # reversing at 2 m/s
    rear = 50.0 - VEHICLE.rear_overhang_m
    agents = car(np.full(n, rear - 0.5 - 2.25))  # 0.5 m behind the rear bumper
    h = history(x, np.full(n, -2.0), agents=agents)
    (event,) = classify_collisions(h, ROAD)
    assert event.kind == "stopped_track" and event.at_fault
    nc = ncap_result(h, np.inf)
    assert nc.impact_speed_kph == pytest.approx(7.2)
    assert nc.relative_impact_speed_kph == pytest.approx(7.2)  # |-2 - 0| * 3.6


def test_being_rear_ended_closes_at_the_other_cars_speed() -> None:
    n = 20
    rear = 50.0 - VEHICLE.rear_overhang_m
    agent_x = rear - 2.25 - 1.0 + 10.0 * np.arange(n) * DT
    vel = np.tile([[[10.0, 0.0]]], (n, 1, 1))
    h = history(np.full(n, 50.0), np.zeros(n), agents=car(agent_x), agent_vel=vel)
    assert ncap_result(h, np.inf).relative_impact_speed_kph == pytest.approx(36.0)  # |0 - 10|


# 2. strict metrics.json -------------------------------------------------------------------------
def _no_constant(name: str) -> None:
    raise ValueError(f"not JSON: {name}")


def test_a_run_without_agents_writes_strict_json(tmp_path) -> None:
    from drivestack.exec.task import write_run_results

    n = 11
    h = history(10.0 * np.arange(n) * DT, np.full(n, 10.0))
    nc = ncap_result(h, np.inf)
    assert nc.min_distance_m == np.inf and nc.as_dict()["min_distance_m"] is None
    record = {"ncap": nc.as_dict(), "x": np.float64(np.inf), "y": np.nan, "z": np.int64(3)}
    write_run_results(tmp_path, SimpleNamespace(history=h), record)
    text = (tmp_path / "metrics.json").read_text()
    data = json.loads(text, parse_constant=_no_constant)
    assert data["ncap"]["min_distance_m"] is None and data["x"] is None and data["y"] is None
    assert data["z"] == 3


# 3. cut-short runs ------------------------------------------------------------------------------
def test_a_cut_short_run_without_contact_is_not_evaluated() -> None:
    n = 2  # one step of a 40-step scenario
    h = history(10.0 * np.arange(n) * DT, np.full(n, 13.89))
    nc = ncap_result(h, np.inf, scenario_steps=40)
    assert nc.avoided is None and nc.speed_reduction_kph is None and nc.truncated
    assert nc.not_evaluated == "not evaluated: run cut at 1 of 40 steps"
    criteria = PassCriteria(no_collision=True, min_speed_reduction_kph=20.0)
    m = nuplan_score(h, ROAD, ROUTE, 1.0)
    assert check_pass(criteria, m, nc) == ()  # not failed ...
    assert evaluate.not_evaluated_criteria(criteria, nc) == (  # ... and not met either
        "no_collision not evaluated: run cut at 1 of 40 steps",
        "min_speed_reduction_kph not evaluated: run cut at 1 of 40 steps",
    )
    # the whole run: avoided, the full reduction
    full = ncap_result(h, np.inf, scenario_steps=1)
    assert full.avoided is True and full.speed_reduction_kph == pytest.approx(50.004)
    assert evaluate.not_evaluated_criteria(criteria, full) == ()


def test_a_contact_within_a_cut_short_run_is_judged() -> None:
    n = 31
    x = 10.0 * np.arange(n) * DT
    h = history(x, np.full(n, 10.0), agents=car(np.full(n, 20.0 + FRONT + 2.25)))
    nc = ncap_result(h, np.inf, scenario_steps=100)
    assert nc.avoided is False and nc.truncated and nc.speed_reduction_kph == pytest.approx(0.0)
    m = nuplan_score(h, ROAD, ROUTE, 30.0)
    assert "collision at 36.0 km/h" in check_pass(PassCriteria(no_collision=True), m, nc)


def test_run_scenario_cut_to_one_step_records_not_evaluated() -> None:
    from drivestack.sim.evaluate import run_scenario
    from drivestack.sim.scenario import load_suite

    cfg = next(
        c for c in load_suite("configs/suites/regression.yaml")[1] if c.name == "ccrs[50kph]"
    )
    result = run_scenario(cfg, "idm", max_steps=1)
    d = result.as_dict()
    assert d["ncap"]["avoided"] is None and d["ncap"]["speed_reduction_kph"] is None
    assert d["ncap"]["not_evaluated"].startswith("not evaluated: run cut at 1 of ")
    assert any(s.startswith("no_collision not evaluated") for s in d["not_evaluated"])
    assert d["collision_summary"] == "not evaluated"


def test_a_cut_short_run_reads_as_not_evaluated_in_summary_and_report(tmp_path: Path) -> None:
    """ncap.avoided null (run cut before its end, no contact): no collision counted in the
    summary, and the report reads the run (it called such a metrics.json corrupt)."""
    import json

    from drivestack.cli import main

    scenario = Path(__file__).resolve().parents[3] / "configs" / "scenarios" / "ccrs.yaml"
    out = tmp_path / "run"
    args = ["sim", str(scenario), "--filter", "20kph", "--planner", "idm", "--max-steps", "3"]
    assert main([*args, "--out", str(out), "--quiet"]) == 0
    (metrics_file,) = out.glob("idm/*/metrics.json")
    assert json.loads(metrics_file.read_text())["ncap"]["avoided"] is None
    assert json.loads((out / "summary.json").read_text())["idm"]["collisions"] == 0
    assert main(["report", str(out), "--out", str(tmp_path / "r.html")]) == 0
    counts = json.loads((tmp_path / "r.json").read_text())["counts"]
    assert counts["corrupt"] == 0 and counts["pass"] == 1
