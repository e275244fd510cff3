"""Planner, IDM and tracker settings are checked on construction, naming the field
(walkthrough items 5, 6 and 12), and PDM's ACC model has one default coolness whichever way
its settings are made."""

from __future__ import annotations

import math

import numpy as np
import pytest

from drivestack.config import from_mapping
from drivestack.core.errors import ConfigError
from drivestack.planning import ACCParams, IDMParams, PDMParams, TrackerParams
from drivestack.planning.control import TrajectoryTracker
from drivestack.sim.vehicle import BicycleState
from drivestack.structures.trajectory import Trajectory


@pytest.mark.parametrize(
    ("settings", "error", "message"),
    [
        ({"comfort_decel_mps2": 0.0}, ValueError, r"IDMParams.comfort_decel_mps2 .* > 0, got 0.0"),
        ({"max_accel_mps2": -1.0}, ValueError, r"IDMParams.max_accel_mps2 .* > 0, got -1.0"),
        ({"min_gap_m": math.nan}, ValueError, r"IDMParams.min_gap_m .* >= 0, got nan"),
        ({"time_headway_s": -0.5}, ValueError, r"IDMParams.time_headway_s .* got -0.5"),
        ({"exponent": 0.0}, ValueError, r"IDMParams.exponent .* got 0.0"),
        ({"max_decel_mps2": math.inf}, ValueError, r"IDMParams.max_decel_mps2 .* got inf"),
        ({"coolness": 1.5}, ValueError, r"IDMParams.coolness .* >= 0 and <= 1, got 1.5"),
        ({"coolness": -0.1}, ValueError, r"IDMParams.coolness .* >= 0 and <= 1, got -0.1"),
        ({"min_gap_m": "2"}, TypeError, r"IDMParams.min_gap_m must be a finite number, got str"),
    ],
)
def test_bad_idm_settings_are_named(settings: dict, error: type, message: str) -> None:
    with pytest.raises(error, match=message):
        IDMParams(**settings)


def test_acc_params_are_checked_under_their_own_name() -> None:
    with pytest.raises(ValueError, match=r"ACCParams.comfort_decel_mps2 .* got 0.0"):
        ACCParams(comfort_decel_mps2=0.0)


def test_pdm_keeps_the_acc_model_when_one_field_changes() -> None:
    # before: PDMParams() had coolness 0.99 but IDMParams(min_gap_m=3.0) and the mapping
    # {"idm": {"min_gap_m": 3.0}} had 0.0 (IDMParams' own default), silently plain IDM
    assert PDMParams().idm.coolness == 0.99
    assert PDMParams(idm=ACCParams(min_gap_m=3.0)).idm.coolness == 0.99
    mapped = from_mapping(PDMParams, {"idm": {"min_gap_m": 3.0}}, path="planner.yaml")
    assert (mapped.idm.min_gap_m, mapped.idm.coolness) == (3.0, 0.99)
    assert IDMParams().coolness == 0.0  # the plain model, as the reactive sim agents drive
    with pytest.raises(TypeError, match=r"PDMParams.idm must be an ACCParams .* got IDMParams"):
        PDMParams(idm=IDMParams(min_gap_m=3.0))  # type: ignore[arg-type]
    assert PDMParams(idm=ACCParams(coolness=0.0)).idm.coolness == 0.0  # plain IDM, explicitly


@pytest.mark.parametrize(
    ("settings", "error", "message"),
    [
        ({"horizon_s": "8"}, TypeError, r"PDMParams.horizon_s must be a finite number, got str"),
        ({"entry_lookahead_steps": 2.5}, TypeError, r"entry_lookahead_steps must be an integer"),
        ({"entry_lookahead_steps": True}, TypeError, r"entry_lookahead_steps must be an integer"),
        ({"speed_fractions": (3.0,)}, ValueError, r"speed_fractions must be <= 1 .* \(3.0,\)"),
        ({"speed_fractions": ("1",)}, TypeError, r"speed_fractions\[0\] must be a finite number"),
        ({"lateral_offsets_m": 0.0}, TypeError, r"lateral_offsets_m must be a tuple"),
        ({"stop_margin_m": None}, TypeError, r"PDMParams.stop_margin_m must be a finite number"),
    ],
)
def test_bad_planner_types_are_named(settings: dict, error: type, message: str) -> None:
    with pytest.raises(error, match=message):
        PDMParams(**settings)


def test_bad_planner_settings_from_a_mapping_name_the_key() -> None:
    with pytest.raises(ConfigError, match=r"idm.*comfort_decel_mps2"):
        from_mapping(PDMParams, {"idm": {"comfort_decel_mps2": 0.0}}, path="planner.yaml")


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"lookahead_time_s": -1.0}, r"TrackerParams.lookahead_time_s .* >= 0, got -1.0"),
        ({"min_lookahead_m": -4.0}, r"TrackerParams.min_lookahead_m .* > 0, got -4.0"),
        ({"min_lookahead_m": 0.0}, r"TrackerParams.min_lookahead_m .* got 0.0"),
        ({"speed_kp": math.nan}, r"TrackerParams.speed_kp .* got nan"),
        ({"speed_ki": -0.1}, r"TrackerParams.speed_ki .* got -0.1"),
        ({"integral_limit_mps": -2.0}, r"TrackerParams.integral_limit_mps .* got -2.0"),
        ({"preview_s": math.inf}, r"TrackerParams.preview_s .* got inf"),
    ],
)
def test_bad_tracker_settings_are_named(settings: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        TrackerParams(**settings)


def _straight_plan(t0_ns: int, n: int = 51) -> Trajectory:
    """Along +x at 10 m/s, ``n`` samples 0.1 s apart from ``t0_ns``."""
    t_s = np.arange(n) * 0.1
    zeros = np.zeros(n)
    t_ns = t0_ns + np.round(t_s * 1e9).astype(np.int64)
    return Trajectory(t_ns, 10.0 * t_s, zeros, zeros, np.full(n, 10.0), zeros, zeros, "world")


def test_the_tracker_refuses_a_plan_that_does_not_cover_the_time() -> None:
    state = BicycleState.of(0.0, 0.0, 0.0, 10.0)
    tracker = TrajectoryTracker()
    plan = _straight_plan(0)  # covers 0 .. 5 s
    # before: (-9.0, 0.0), full braking from the clamped last sample, with no message
    with pytest.raises(ValueError, match=r"plan covers timestamp_ns \[0, 5000000000\] but .* "):
        tracker.step(state, plan, 100_000_000_000)
    with pytest.raises(ValueError, match=r"at time_ns 0: replan"):
        tracker.step(state, _straight_plan(100_000_000_000), 0)
    # at the plan's ends it tracks: at 10 m/s on a 10 m/s plan, no speed error
    assert tracker.step(state, plan, 0) == pytest.approx((0.0, 0.0))
    assert tracker.step(state, plan, 5_000_000_000)[1] == 0.0
