"""The speed tracker's integral is clamped to <= 0 while the plan holds the car stopped
(target speed under 0.05 m/s and no positive feed-forward): an integral wound up while the car
ran below its plan's speed must not push a car that is still rolling towards a planned
standstill forward, nor lurch it when the plan moves off again."""

from __future__ import annotations

import numpy as np
import pytest

from drivestack.planning.control import TrajectoryTracker
from drivestack.planning.control.tracker import TrackerParams
from drivestack.sim.vehicle import BicycleState
from drivestack.structures.trajectory import Trajectory

DT_S = 0.1
WIND_UP_STEPS = 40  # 4 s at 0.5 m/s under the plan: 40 * 0.5 * 0.1 = 2.0 m/s, the limit
STOP_T0_S = WIND_UP_STEPS * DT_S
STOP_X_M = 45.0
ROLLING_MPS = (0.5, 0.45, 0.4, 0.35, 0.3)  # the car still rolling onto the planned standstill


def _ns(t_s: np.ndarray | float) -> np.ndarray:
    return np.round(np.asarray(t_s) * 1e9).astype(np.int64)


def _cruise_plan(speed_mps: float, t0_s: float, x0_m: float, horizon_s: float = 8.0) -> Trajectory:
    """Along +x from ``x0_m`` at ``t0_s``: a constant ``speed_mps``, 0.1 s samples."""
    t = t0_s + np.arange(round(horizon_s / DT_S) + 1) * DT_S
    z = np.zeros(len(t))
    x = x0_m + speed_mps * (t - t0_s)
    return Trajectory(_ns(t), x, z, z, np.full(len(t), speed_mps), z, z, "world")


def _holding_plan(t0_s: float, horizon_s: float = 8.0) -> Trajectory:
    """Standing at ``STOP_X_M`` (speed 0 at every sample) from ``t0_s``: a plan that holds
    the car stopped."""
    t = t0_s + np.arange(round(horizon_s / DT_S) + 1) * DT_S
    z = np.zeros(len(t))
    return Trajectory(_ns(t), np.full(len(t), STOP_X_M), z, z, z, z, z, "world")


def _wound_up(params: TrackerParams) -> TrajectoryTracker:
    """A tracker after 4 s of the car at 9.5 m/s under a 10 m/s plan: the speed error 0.5 m/s
    integrated to the 2.0 m/s limit (the command 0.5 + ki * integral stays under the 3 m/s^2
    vehicle limit, so the anti-windup never holds it)."""
    tracker = TrajectoryTracker(params)
    plan = _cruise_plan(10.0, 0.0, 0.0)
    for k in range(WIND_UP_STEPS):
        state = BicycleState.of(9.5 * k * DT_S, 0.0, 0.0, 9.5)
        accel, _ = tracker.step(state, plan, int(_ns(k * DT_S)), DT_S)
        assert accel > 0.0
    assert tracker._integral == pytest.approx(params.integral_limit_mps)
    return tracker


def _roll_onto_the_stop(tracker: TrajectoryTracker) -> tuple[list[float], list[float]]:
    """Commands, and the tracker's integral after each, for the car rolling at
    ``ROLLING_MPS`` just short of the stop while the plan holds it there."""
    plan = _holding_plan(STOP_T0_S)
    commands, integrals = [], []
    for j, v in enumerate(ROLLING_MPS):
        state = BicycleState.of(STOP_X_M - 0.3, 0.0, 0.0, v)
        accel, _ = tracker.step(state, plan, int(_ns(STOP_T0_S + j * DT_S)), DT_S)
        commands.append(accel)
        integrals.append(tracker._integral)
    return commands, integrals


def test_a_wound_up_integral_does_not_push_a_rolling_car_past_a_planned_standstill() -> None:
    # ki 1 / s^2: the wound-up integral alone would be worth 2 m/s^2 forward, more than the
    # P term's -1.0 * 0.5 m/s; clamped to <= 0 at the stop, the command is the P term's
    # braking -kp * v (no feed-forward from a standing plan, and the integral's first update
    # 2.0 - 0.5 * 0.1 > 0 is clamped to 0)
    params = TrackerParams(speed_ki=1.0)
    commands, integrals = _roll_onto_the_stop(_wound_up(params))
    assert all(a <= 0.0 for a in commands), commands
    assert commands[0] == pytest.approx(-params.speed_kp * ROLLING_MPS[0])
    assert all(i <= 0.0 for i in integrals), integrals


def test_with_default_gains_the_stop_command_carries_no_wound_up_integral() -> None:
    # default gains (kp 1 / s, ki 0.1 / s^2): the first command rolling at 0.5 m/s onto the
    # standstill is -kp * 0.5 = -0.5 m/s^2 exactly; an unclamped integral (2.0 - 0.05) would
    # weaken it to -0.5 + 0.1 * 1.95 = -0.305 m/s^2
    params = TrackerParams()
    commands, integrals = _roll_onto_the_stop(_wound_up(params))
    assert commands[0] == pytest.approx(-params.speed_kp * ROLLING_MPS[0], abs=1e-12)
    assert all(a <= 0.0 for a in commands), commands
    assert all(i <= 0.0 for i in integrals), integrals


def test_moving_off_after_the_stop_carries_no_wound_up_integral() -> None:
    # after the stop, a plan at the car's own speed (no error, no feed-forward) commands
    # ki * integral: not positive, the integral the stop left is <= 0 (unclamped, about
    # 2.0 - 0.2 = 1.8 m/s would lurch the car forward at 1.8 m/s^2 with ki 1 / s^2)
    tracker = _wound_up(TrackerParams(speed_ki=1.0))
    _roll_onto_the_stop(tracker)
    t0 = STOP_T0_S + len(ROLLING_MPS) * DT_S
    plan = _cruise_plan(1.0, t0, STOP_X_M)
    accel, _ = tracker.step(BicycleState.of(STOP_X_M, 0.0, 0.0, 1.0), plan, int(_ns(t0)), DT_S)
    assert accel <= 0.0
    assert tracker._integral <= 0.0
