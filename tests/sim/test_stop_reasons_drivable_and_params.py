"""Closed-loop results say when the ego left the road (``stays_on_drivable_area``) and why a
planner stopped (``planner_stop_reason``); ``drivestack sim --planner-params`` sets the
planners', vehicle's and tracker's settings; the TTC footnote and ``--help`` agree."""

from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest

from drivestack.cli import main
from drivestack.commands.fleet import planner_params_of
from drivestack.commands.sim import _table
from drivestack.config import from_mapping
from drivestack.core.errors import ConfigError
from drivestack.eval.driving.nuplan import TTC_HORIZON_S, TTC_STEP_S, ttc_note
from drivestack.exec.task import write_run_results
from drivestack.planning.pdm import IDMPlanner, PDMParams
from drivestack.report.scenario_view import load_history
from drivestack.sim.build import build_scenario
from drivestack.sim.evaluate import (
    PlannerParams,
    _planner_for,
    check_pass,
    load_planner_params,
    run_scenario,
    stop_reason_counts,
    stopped_label,
)
from drivestack.sim.runner import ADDED_HISTORY_ARRAYS
from drivestack.sim.scenario import PassCriteria, ScenarioConfig
from drivestack.sim.world import Observation
from drivestack.structures.trajectory import Trajectory


def scenario(**changes: Any) -> ScenarioConfig:
    """A 150 m straight road, the ego ``station_m`` along it at 50 km/h."""
    data: dict[str, Any] = {
        "name": "road_end",
        "map": {"kind": "straight", "params": {"speed_limit_mps": 13.89, "length_m": 150.0}},
        "ego": {"lane": "road_0", "station_m": 140.0, "speed_kph": 50.0},
        "duration_s": 4.0,
    }
    data.update(changes)
    return from_mapping(ScenarioConfig, data, path="test.yaml")


TIGHT_BEND = {
    "kind": "curved",
    "params": {
        "radius_m": 5.0,
        "sweep_rad": 3.0,
        "lead_in_m": 60.0,
        "lead_out_m": 60.0,
        "n_lanes": 1,
        "speed_limit_mps": 13.89,
    },
}


# -- stays_on_drivable_area --------------------------------------------------------------


def test_an_overrun_past_the_road_end_fails_unless_the_criterion_is_off() -> None:
    result = run_scenario(scenario(), "idm")
    assert result.nuplan.max_outside_drivable_m > 5.0  # 10 m of road at 13.9 m/s: off it
    assert not result.passed
    assert result.failures[-1].startswith("left the drivable area by ")
    assert result.failures[-1].endswith(" m (> 0.3 m)")
    off = scenario(pass_criteria={"stays_on_drivable_area": False})
    assert run_scenario(off, "idm").passed  # the only criterion it missed


def test_the_criterion_is_a_default_judged_at_nuplans_tolerance() -> None:
    assert PassCriteria().stays_on_drivable_area is True
    result = run_scenario(scenario(ego={"lane": "road_0", "station_m": 10.0}), "idm")
    assert result.passed and result.nuplan.max_outside_drivable_m == 0.0
    criteria = PassCriteria()
    at = dataclasses.replace(result.nuplan, max_outside_drivable_m=0.3)  # 0.3 m: still in
    past = dataclasses.replace(result.nuplan, max_outside_drivable_m=0.3001)
    assert check_pass(criteria, at, result.ncap) == ()
    assert check_pass(criteria, past, result.ncap) == (
        "left the drivable area by 0.30 m (> 0.3 m)",
    )
    off = PassCriteria(stays_on_drivable_area=False)
    assert check_pass(off, past, result.ncap) == ()


# -- stop reasons --------------------------------------------------------------------------


class TaggedIDM:
    """The IDM planner, with a ``debug`` whose stop reason is set by the call's index."""

    name = "tagged"

    def __init__(self, inner: IDMPlanner, reasons: dict[int, str]) -> None:
        self.inner, self.reasons = inner, reasons
        self.calls = 0
        self.debug: Any = None

    def reset(self) -> None:
        self.inner.reset()
        self.calls = 0

    def step(self, observation: Observation) -> Trajectory:
        plan = self.inner.step(observation)
        reason = self.reasons.get(self.calls)
        self.debug = SimpleNamespace(stop_reason=reason, emergency=reason == "boom")
        self.calls += 1
        return plan


def test_each_planner_calls_stop_reason_is_recorded_and_counted(tmp_path: Path) -> None:
    built = build_scenario(scenario(ego={"lane": "road_0", "station_m": 10.0}))
    plan = TaggedIDM(
        IDMPlanner(built.road_map, built.route_lanes), {2: "x", 3: "boom", 5: "x", 6: "x"}
    )
    result = run_scenario(built, plan, max_steps=8)
    h = result.history
    assert h.planner_stop_reason.tolist() == ["", "", "x", "boom", "", "x", "x", ""]
    assert h.planner_emergency.tolist() == [False] * 3 + [True] + [False] * 4
    record = result.as_dict()
    assert record["stop_reasons"] == {
        "x": {"planner_calls": 3, "first_tick": 2, "first_time_s": 0.2},
        "boom": {"planner_calls": 1, "first_tick": 3, "first_time_s": 0.3},
    }
    assert record["emergency_planner_calls"] == 1
    assert record["ended_stopped_reason"] is None  # driving at the end
    write_run_results(tmp_path, result, record)
    loaded = load_history(tmp_path / "history.npz")
    assert loaded.planner_stop_reason.tolist() == h.planner_stop_reason.tolist()
    assert loaded.planner_emergency.tolist() == h.planner_emergency.tolist()
    old = {k: v for k, v in h.arrays().items() if k not in ADDED_HISTORY_ARRAYS}
    np.savez(tmp_path / "old.npz", **old)  # a history.npz from before them
    before = load_history(tmp_path / "old.npz")
    assert before.planner_stop_reason.tolist() == [""] * 8
    assert stop_reason_counts(before) == {}


def test_a_planner_without_debug_records_no_reason_and_a_bad_reason_is_refused() -> None:
    built = build_scenario(scenario(ego={"lane": "road_0", "station_m": 10.0}))
    inner = IDMPlanner(built.road_map, built.route_lanes)

    class Plain:
        name = "plain"

        def reset(self) -> None:
            inner.reset()

        def step(self, observation: Observation) -> Trajectory:
            return inner.step(observation)

    h = run_scenario(built, Plain(), max_steps=3).history
    assert h.planner_stop_reason.tolist() == ["", "", ""] and not h.planner_emergency.any()

    class Bad(Plain):
        debug = SimpleNamespace(stop_reason=3, emergency=False)

    with pytest.raises(TypeError, match=r"Bad\.debug\.stop_reason must be None or a str"):
        run_scenario(built, Bad(), max_steps=1)
    with pytest.raises(ValueError, match=r"planner_stop_reason must be a \(3,\)"):
        dataclasses.replace(h, planner_stop_reason=np.array(["", ""]))


def test_a_bend_too_tight_to_turn_ends_stopped_and_says_why() -> None:
    cfg = scenario(
        map=TIGHT_BEND,
        ego={"lane": "road_0", "station_m": 10.0, "speed_kph": 50.0},
        duration_s=20.0,
    )
    result = run_scenario(cfg, "idm")
    record = result.as_dict()
    reason = "no proposal stays on the drivable area"
    assert abs(result.history.ego_speed_mps[-1]) <= 0.05
    assert record["ended_stopped_reason"] == reason
    seen = record["stop_reasons"][reason]
    calls = result.history.planner_stop_reason
    assert seen["planner_calls"] == int(np.sum(calls == reason))
    assert seen["first_tick"] == int(np.flatnonzero(calls == reason)[0])
    assert result.passed  # stopping short is no failure: the line says it instead
    line = _table([{**_row(), **record}], {})
    expected = (
        f"stopped: idm/road_end: ended stopped: {reason} (first at "
        f"{seen['first_time_s']:.1f} s, {seen['planner_calls']} planner calls)"
    )
    assert expected in line.splitlines()


def _row() -> dict[str, Any]:
    return {
        "scenario": "road_end",
        "planner": "idm",
        "score": 90.0,
        "passed": True,
        "failures": [],
        "collision_summary": "no",
        "ncap": {"impact_speed_kph": None, "min_ttc_s": None, "avoided": True},
        "planner_step_median_ms": 1.0,
    }


def test_no_stopped_line_for_a_run_that_did_not_end_stopped() -> None:
    assert stopped_label(_row()) is None  # an older record
    assert stopped_label({**_row(), "ended_stopped_reason": None}) is None
    assert "stopped:" not in _table([{**_row(), "ended_stopped_reason": None}], {})


# -- --planner-params ------------------------------------------------------------------------


def _yaml(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "params.yaml"
    path.write_text(text)
    return path


@pytest.mark.parametrize(
    ("text", "field", "words"),
    [
        ("pdm: {idm: {max_decl_mps2: 5.0}}\n", "pdm.idm.max_decl_mps2", "unknown key"),
        ("planner: {}\n", "planner", "unknown key"),
        ("vehicle: {width_m: -1}\n", "vehicle.width_m", "> 0"),
        ("idm: {unknown_light: go}\n", "idm.unknown_light", "--lights"),
        # keys the IDM planner never reads (recorded as applied before)
        ("idm: {prediction: lane_following}\n", "idm.prediction", "constant velocity"),
        ("idm: {speed_fractions: [1.0]}\n", "idm.speed_fractions", "set it under pdm"),
        ("idm: {emergency_decel_mps2: 7.0}\n", "idm.emergency_decel_mps2", "max_decel"),
        ("idm: {idm: {coolness: 0.5}}\n", "idm.idm.coolness", "plain IDM"),
        ("tracker: {speed_kp: fast}\n", "tracker.speed_kp", ""),
        ("", "<top level>", "expected a mapping"),
        ("- pdm\n", "<top level>", "expected a mapping"),
    ],
)
def test_bad_planner_params_name_the_file_and_dotted_key(
    tmp_path: Path, text: str, field: str, words: str
) -> None:
    path = _yaml(tmp_path, text)
    with pytest.raises(ConfigError) as err:
        load_planner_params(path)
    assert err.value.path == str(path) and err.value.field == field
    assert words in str(err.value)


def test_planner_params_reach_the_planner_the_vehicle_and_the_tracker(tmp_path: Path) -> None:
    path = _yaml(
        tmp_path,
        "pdm: {speed_fractions: [1.0, 0.5], idm: {max_decel_mps2: 5.0}}\n"
        "vehicle: {length_m: 4.5, width_m: 1.9}\ntracker: {speed_kp: 1.2}\n",
    )
    params = load_planner_params(path)
    assert params.pdm.speed_fractions == (1.0, 0.5) and params.idm == PDMParams()
    built = build_scenario(scenario(ego={"lane": "road_0", "station_m": 10.0}))
    result = run_scenario(built, "pdm", max_steps=3, params=params)
    np.testing.assert_allclose(result.history.ego_boxes[:, 3:5], [[4.5, 1.9]] * 4)
    assert _planner_for("pdm", built, params).params == params.pdm  # type: ignore[attr-defined]
    camera = planner_params_of(path, "camera")
    assert camera is not None and camera.pdm.unknown_light == "yellow"
    assert camera.idm.unknown_light == "yellow" and camera.pdm.speed_fractions == (1.0, 0.5)


def test_sim_records_planner_params(tmp_path: Path, capsys) -> None:
    cfg = tmp_path / "s.yaml"
    cfg.write_text(
        "name: s\nmap: {kind: straight, params: {speed_limit_mps: 13.89, length_m: 150}}\n"
        "ego: {lane: road_0, station_m: 10.0, speed_kph: 30.0}\nduration_s: 0.5\n"
    )
    path = _yaml(tmp_path, "vehicle: {length_m: 4.5}\nidm: {stop_margin_m: 3.0}\n")
    out = tmp_path / "out"
    argv = ["sim", str(cfg), "--out", str(out), "--planner", "idm", "--quiet"]
    assert main([*argv, "--planner-params", str(path)]) == 0
    manifest = json.loads((out / "sim.json").read_text())
    assert (
        manifest["planner_params"]
        == PlannerParams(
            idm=PDMParams(stop_margin_m=3.0),
            vehicle=dataclasses.replace(PlannerParams().vehicle, length_m=4.5),
        ).as_dict()
    )
    assert manifest["planner_params_file"] == str(path.resolve())
    record = json.loads((out / "idm" / "s" / "metrics.json").read_text())
    assert record["planner_params"]["idm"]["stop_margin_m"] == 3.0
    assert set(record["planner_params"]) == {"file", "idm", "vehicle", "tracker"}
    capsys.readouterr()
    assert main(argv) == 2  # the DIR holds runs made with other settings
    assert "other planner_params" in capsys.readouterr().err
    # (fleets apply them too: tests/exec/test_fleet_planner_params.py)


# -- the TTC footnote and --help ----------------------------------------------------------


def test_ttc_footnote_and_help_give_the_projection_times_the_code_tests(capsys) -> None:
    taus = np.arange(TTC_STEP_S, TTC_HORIZON_S, TTC_STEP_S)
    ahead = f"projected {taus[0]:.1f} to {taus[-1]:.1f} s ahead"
    assert ahead == "projected 0.1 to 2.9 s ahead"
    assert ahead in ttc_note("-")
    with pytest.raises(SystemExit):
        main(["sim", "--help"])
    assert ahead in re.sub(r"\s+", " ", capsys.readouterr().out)


def test_recorded_idm_settings_hold_only_what_the_idm_planner_reads(tmp_path: Path) -> None:
    params = load_planner_params(_yaml(tmp_path, "idm: {idm: {min_gap_m: 3.0}}\n"))
    recorded = params.as_dict()
    assert "prediction" not in recorded["idm"] and "coolness" not in recorded["idm"]["idm"]
    assert recorded["idm"]["idm"]["min_gap_m"] == 3.0
    assert recorded["pdm"]["prediction"] == "constant_velocity"  # the PDM block keeps every key
    assert recorded["pdm"]["idm"]["coolness"] == 0.99
    assert from_mapping(PlannerParams, recorded) == params  # read back: the same settings
