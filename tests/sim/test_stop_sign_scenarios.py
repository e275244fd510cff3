"""The stop-sign scenarios closed loop: the built-in planners stop at the sign (under 0.1 m/s
for the dwell, the front within 3 m before the line), go on and pass (stop_sign); PDM waits
for a crossing truck (stop_sign_cross_traffic); a planner that rolls through fails
``no_stop_sign_violation``; the metric in metrics.json; the synthetic map's variant."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest

from drivestack.core.errors import ConfigError
from drivestack.eval.driving.stop_signs import sign_segments
from drivestack.eval.driving.traffic_lights import front_bumper_m
from drivestack.ingest.maps.synthetic import MapParamError, four_way_intersection
from drivestack.planning.stop_signs import FULL_STOP_SPEED_MPS, STOP_SIGN_DWELL_S
from drivestack.sim.build import BuiltScenario, build_scenario
from drivestack.sim.evaluate import run_scenario
from drivestack.sim.scenario import MapConfig, load_scenarios
from tests.sim.test_custom_planner import CruisePlanner

SCENARIOS = Path(__file__).resolve().parents[2] / "configs" / "scenarios"


def built(name: str) -> BuiltScenario:
    (cfg,) = load_scenarios(SCENARIOS / f"{name}.yaml")
    return build_scenario(cfg)


def before_line_m(scenario: BuiltScenario, boxes: np.ndarray) -> np.ndarray:
    """``(T,)`` how far the front is before the ego lane's stop-sign line (negative: past)."""
    (seg,) = [s for s in sign_segments(scenario.road_map) if s.lane_id == "south_in"]
    along = np.array([np.cos(seg.heading_rad), np.sin(seg.heading_rad)])
    return -(front_bumper_m(boxes) - seg.center_m) @ along


def test_the_synthetic_variant_is_off_by_default() -> None:
    plain, signed = four_way_intersection(), four_way_intersection(stop_sign_arms=2)
    assert plain.stop_signs == () and [s.sign_id for s in signed.stop_signs] == [
        "stop_north",
        "stop_south",
    ]
    for a, b in zip(plain.lanes, signed.lanes, strict=True):
        assert a.lane_id == b.lane_id
        np.testing.assert_array_equal(a.centerline_m, b.centerline_m)
    assert plain.stop_lines == signed.stop_lines
    with pytest.raises(MapParamError, match="stop_sign_arms: must be 0"):
        four_way_intersection(stop_sign_arms=3)
    cfg = load_scenarios(SCENARIOS / "stop_sign.yaml")[0]
    bad = dataclasses.replace(
        cfg, map=MapConfig("intersection", {"stop_sign_arms": 1, "speed_limit_mps": 13.89})
    )
    with pytest.raises(ConfigError, match=r"map\.params\.stop_sign_arms"):
        build_scenario(bad)


@pytest.mark.parametrize("planner", ["pdm", "idm"])
def test_stop_stand_and_go(planner: str) -> None:
    scenario = built("stop_sign")
    result = run_scenario(scenario, planner)
    h = result.history
    before = before_line_m(scenario, h.ego_boxes)
    still = np.flatnonzero(h.ego_speed_mps < FULL_STOP_SPEED_MPS)
    assert len(still) * h.dt_s >= STOP_SIGN_DWELL_S  # stood at least the dwell ...
    assert np.all((before[still] >= 0.0) & (before[still] <= 3.0))  # ... within 3 m of the line
    assert np.all(before[: still[0]] > 0.0)  # never past the line before the stop
    assert before[-1] < -50.0  # and went on
    assert result.passed, result.failures
    record = result.as_dict()
    assert record["stop_sign_violations"] == 0
    assert record["stop_sign"] == {"violations": 0, "signs": 2, "lines_passed": 1, "events": []}


def test_pdm_waits_for_the_crossing_truck() -> None:
    scenario = built("stop_sign_cross_traffic")
    result = run_scenario(scenario, "pdm")
    assert result.passed, result.failures
    h = result.history
    truck_x = h.agent_boxes[:, 0, 0]
    # while any part of the truck (10 m long) is across the ego's lane (x = 1.75 +- 1.15 m) ...
    crossing = (truck_x + 5.0 > 0.6) & (truck_x - 5.0 < 2.9)
    assert crossing.any()
    # ... the ego's front stays short of the truck's lane (its near side y = -3.0 m)
    front_y = front_bumper_m(h.ego_boxes)[:, 1]
    assert np.max(front_y[crossing]) < -3.0 - 1.0
    assert result.stop_sign.count == 0


def test_a_planner_rolling_through_fails_no_stop_sign_violation() -> None:
    scenario = built("stop_sign")
    result = run_scenario(scenario, CruisePlanner(8.0))
    (v,) = result.stop_sign.violations
    assert (v.sign_id, v.lane_id) == ("stop_south", "south_in")
    assert 7.0 < v.speed_mps < 9.0 and v.slowest_mps is not None and v.slowest_mps > 7.0
    assert not result.passed
    assert any(
        f.startswith("ran a stop sign: stop_south on lane south_in") for f in result.failures
    )
    assert result.as_dict()["stop_sign_violations"] == 1


def test_a_scenario_can_turn_no_stop_sign_violation_off() -> None:
    """``pass_criteria: {no_stop_sign_violation: false}``: the rolling stop is still counted
    in metrics.json but does not fail the run."""
    (cfg,) = load_scenarios(SCENARIOS / "stop_sign.yaml")
    off = dataclasses.replace(
        cfg, pass_criteria=dataclasses.replace(cfg.pass_criteria, no_stop_sign_violation=False)
    )
    result = run_scenario(build_scenario(off), CruisePlanner(8.0))
    assert result.stop_sign.count == 1
    assert not any(f.startswith("ran a stop sign") for f in result.failures)
    assert result.passed
