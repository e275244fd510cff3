"""The tracker's speed loop takes the speed error now, with the plan's mean acceleration over
the step (or ``preview_s``) as feed-forward, so an open-loop stop lands where the plan stops at
any step and a plan's stop within the step is not missed; a plan that moves
off from rest is not held; a full-lap plan is judged by its arc length and steers."""

from __future__ import annotations

import math

import numpy as np
import pytest

from drivestack.planning.control import TrajectoryTracker
from drivestack.planning.control.tracker import TrackerParams
from drivestack.sim.vehicle import BicycleState, VehicleParams, bicycle_step
from drivestack.structures.trajectory import Trajectory

VEHICLE = VehicleParams()


def _braking_reference(dt_ref: float = 0.02, horizon_s: float = 25.0) -> Trajectory:
    """Along +x: 10 m/s braking at 2 m/s^2 to rest at x = 25 m (t = 5 s), then standing."""
    t = np.arange(0.0, horizon_s + dt_ref / 2, dt_ref)
    v = np.maximum(10.0 - 2.0 * t, 0.0)
    x = np.minimum(10.0 * t - t**2, 25.0)
    a = np.where(t < 5.0, -2.0, 0.0)
    z = np.zeros(len(t))
    return Trajectory(np.round(t * 1e9).astype(np.int64), x, z, z, v, a, z, "world")


def _stop_x_m(dt: float, params: TrackerParams | None = None) -> float:
    plan = _braking_reference()
    tracker = TrajectoryTracker(params)
    state = BicycleState.of(0.0, 0.0, 0.0, 10.0)
    for k in range(round(12.0 / dt)):
        accel, steer = tracker.step(state, plan, round(k * dt * 1e9), dt)
        state = bicycle_step(state, accel, steer, dt, VEHICLE)
    assert state.speed_mps[0] == 0.0
    return float(state.x_m[0])


@pytest.mark.parametrize("dt", [0.05, 0.1, 0.2])
def test_an_open_loop_stop_lands_at_the_plans_stop(dt: float) -> None:
    # before, the P term used the speed one step ahead on top of the feed-forward (the plan's
    # acceleration 0.2 s ahead) and the car stopped 0.38 / 0.85 / 1.71 m short at dt 0.05 /
    # 0.1 / 0.2 s; now within 2 cm at every step, with the feed-forward over the step alone
    # (preview_s 0) and over the default 0.2 s
    assert _stop_x_m(dt, TrackerParams(preview_s=0.0)) == pytest.approx(25.0, abs=0.02)
    assert _stop_x_m(dt) == pytest.approx(25.0, abs=0.02)


def test_on_the_plan_the_command_is_the_feed_forward() -> None:
    # on the plan's speed at time_ns, braking at 2 m/s^2: the command is the plan's -2 m/s^2
    # (before: -2 + 1.0 * (v(t + dt) - v) = -2.2)
    accel, _ = TrajectoryTracker().step(
        BicycleState.of(0.0, 0.0, 0.0, 10.0), _braking_reference(), 0, 0.1
    )
    assert accel == pytest.approx(-2.0)


def test_a_plan_moving_off_from_rest_is_followed() -> None:
    # a plan made from a standing car starts at 0 m/s and accelerates at 1 m/s^2: the command
    # is the 1 m/s^2 feed-forward ((0.2 - 0) m/s over 0.2 s), not the -1 m/s^2 that holds a
    # car the plan keeps standing
    t = np.arange(81) * 0.1
    z = np.zeros(81)
    plan = Trajectory(
        np.round(t * 1e9).astype(np.int64), 0.5 * t**2, z, z, t, np.ones(81), z, "world"
    )
    accel, _ = TrajectoryTracker().step(BicycleState.of(0.0, 0.0, 0.0, 0.0), plan, 0, 0.1)
    assert accel == pytest.approx(1.0)
    standing = Trajectory(plan.timestamp_ns, z, z, z, z, z, z, "world")
    accel, _ = TrajectoryTracker().step(BicycleState.of(0.0, 0.0, 0.0, 0.0), standing, 0, 0.1)
    assert accel == pytest.approx(-1.0)


def _stopping_plan(v0_mps: float, decel_mps2: float) -> Trajectory:
    """Along +x at 0.1 s samples: from ``v0_mps`` braking at ``decel_mps2`` to rest."""
    t = np.arange(81) * 0.1
    z = np.zeros(81)
    v = np.maximum(v0_mps - decel_mps2 * t, 0.0)
    a = np.where(v > 0.0, -decel_mps2, 0.0)
    return Trajectory(
        np.round(t * 1e9).astype(np.int64), np.cumsum(v) * 0.1, z, z, v, a, z, "world"
    )


def test_a_plan_stopping_within_the_step_is_followed() -> None:
    # a plan made from 0.3 m/s braking at 3 m/s^2 stops 0.1 s in: the feed-forward is its mean
    # acceleration up to that stop, (0 - 0.3) / 0.1 = -3 m/s^2, with no speed error now, and
    # the car is at rest after the step. (A feed-forward read as the plan's acceleration at
    # 0.2 s, 0 there, left the car creeping at 0.3 m/s for ever once the speed error was taken
    # now; one averaged over the whole 0.2 s preview, past the stop, gave -1.5 m/s^2.)
    accel, _ = TrajectoryTracker().step(
        BicycleState.of(0.0, 0.0, 0.0, 0.3), _stopping_plan(0.3, 3.0), 0, 0.1
    )
    assert accel == pytest.approx(-3.0)


def test_an_emergency_stop_from_walking_pace_is_at_rest_in_two_steps() -> None:
    # PDM's emergency brake from 0.45 m/s (at 8 m/s^2 the plan is at rest by its 0.1 s
    # sample): the command is to stop within the step, -4.5 m/s^2; the 40 m/s^3 jerk limit
    # lets the car reach -4 m/s^2 in the first step, and it is at rest after the second. With
    # the feed-forward averaged over the 0.2 s preview it braked at 2.25, 1.1 and 1.0 m/s^2
    # and still moved at 0.01 m/s after three steps (a closed-loop run where a recorded car
    # then brushed the ego at 0.06 m/s, above nuPlan's 0.05 m/s standstill: at fault).
    plan = _stopping_plan(0.45, 8.0)
    tracker = TrajectoryTracker()
    state = BicycleState.of(0.0, 0.0, 0.0, 0.45)
    accel, steer = tracker.step(state, plan, 0, 0.1)
    assert accel == pytest.approx(-4.5)
    for k in range(2):
        state = bicycle_step(state, accel, steer, 0.1, VEHICLE)
        accel, steer = tracker.step(state, plan, (k + 1) * 100_000_000, 0.1)
    assert state.speed_mps[0] == 0.0


def test_a_stop_between_plan_samples_is_found_by_interpolation() -> None:
    # from 1.0 m/s at 6 m/s^2 the plan's 0.1 s samples are 1.0, 0.4, 0.0: linear between them
    # it reaches rest at 0.1 + 0.1 * 0.4 / 0.4 = 0.2 s, the whole preview: -1.0 / 0.2 = -5
    accel, _ = TrajectoryTracker().step(
        BicycleState.of(0.0, 0.0, 0.0, 1.0), _stopping_plan(1.0, 6.0), 0, 0.1
    )
    assert accel == pytest.approx(-5.0)
    # from 0.8 m/s the samples are 0.8, 0.2, 0.0: at rest at 0.1 + 0.1 * 0.2 / 0.2 = 0.2 s too;
    # with a 0.4 s preview the feed-forward is still taken only up to that stop
    accel, _ = TrajectoryTracker(TrackerParams(preview_s=0.4)).step(
        BicycleState.of(0.0, 0.0, 0.0, 0.8), _stopping_plan(0.8, 6.0), 0, 0.1
    )
    assert accel == pytest.approx(-4.0)


@pytest.mark.parametrize("laps", [0.9, 0.99, 1.0, 1.1])
def test_a_circle_plan_steers_whatever_its_end_point(laps: float) -> None:
    # a plan round an 8 m circle that ends near (or at) its start: pure pursuit of the point
    # 5.4 m ahead (0.9 s at 6 m/s) steers near atan(L / R) = 0.369 rad (before: 0 for 0.99
    # and 1.0 laps, the start-to-end distance being under 1 m)
    r = 8.0
    th = np.linspace(0.0, 2 * math.pi * laps, 81)
    plan = Trajectory(
        (np.arange(81) * 100_000_000).astype(np.int64),
        r * np.sin(th),
        r * (1 - np.cos(th)),
        th,
        np.full(81, 6.0),
        np.zeros(81),
        np.full(81, 1 / r),
        "world",
    )
    _, steer = TrajectoryTracker().step(BicycleState.of(0.0, 0.0, 0.0, 6.0), plan, 0, 0.1)
    # chord 5.4 m on the circle: alpha = asin(5.4 / 16), delta = atan(2 L sin(alpha) / 5.4)
    chord = 2 * r * math.sin(0.9 * 6.0 / (2 * r))
    alpha = math.asin(chord / (2 * r))
    assert steer == pytest.approx(
        math.atan(2 * VEHICLE.wheelbase_m * math.sin(alpha) / chord), abs=0.01
    )


def _run(plan: Trajectory, v0_mps: float, seconds: float, dt: float) -> BicycleState:
    tracker = TrajectoryTracker()
    state = BicycleState.of(0.0, 0.0, 0.0, v0_mps)
    for k in range(round(seconds / dt)):
        accel, steer = tracker.step(state, plan, round(k * dt * 1e9), dt)
        state = bicycle_step(state, accel, steer, dt, VEHICLE)
    return state


@pytest.mark.parametrize("dt", [0.05, 0.2])
@pytest.mark.parametrize("creep_mps", [0.1, 0.15])
def test_a_steady_creep_below_the_stopping_speed_is_followed(dt: float, creep_mps: float) -> None:
    # a plan creeping at a constant 0.1 / 0.15 m/s is no stop: the car follows it (a capture
    # that counted a flat plan as stopping held the car at x = 0 while the plan went 3-4.5 m)
    t = np.arange(0.0, 35.0, 0.1)
    z = np.zeros(len(t))
    plan = Trajectory(
        np.round(t * 1e9).astype(np.int64),
        creep_mps * t,
        z,
        z,
        np.full(len(t), creep_mps),
        z,
        z,
        "world",
    )
    state = _run(plan, 0.0, 30.0, dt)
    assert float(state.x_m[0]) == pytest.approx(creep_mps * 30.0, abs=0.05)


def test_a_plan_slowing_towards_rest_below_the_stopping_speed_is_stopped() -> None:
    # an IDM-style approach (speed falling 10% a second, never 0) brings the car to rest once
    # below 0.2 m/s instead of creeping on at ever lower speed
    t = np.arange(0.0, 35.0, 0.1)
    z = np.zeros(len(t))
    v = 0.5 * np.exp(-t)
    plan = Trajectory(
        np.round(t * 1e9).astype(np.int64), 0.5 * (1.0 - np.exp(-t)), z, z, v, -v, z, "world"
    )
    state = _run(plan, 0.5, 10.0, 0.1)
    assert float(state.speed_mps[0]) == 0.0 and float(state.x_m[0]) < 0.5


def test_a_standstill_the_plan_moves_off_from_within_the_preview_is_still_a_stop() -> None:
    # from 0.5 m/s the plan is at rest 0.05-0.1 s ahead and moves off to 1 m/s at 0.2 s (a
    # stop line reached, then released): the car brakes to that standstill within the step,
    # -0.5 / 0.1 = -5 m/s^2 (it read the mean over the preview, (1 - 0.5) / 0.2 = +2.5, and
    # drove through the standstill)
    t = np.array([0.0, 0.05, 0.1, 0.2, 2.0])
    v = np.array([0.5, 0.0, 0.0, 1.0, 1.0])
    z = np.zeros(len(t))
    plan = Trajectory(
        np.round(t * 1e9).astype(np.int64), np.cumsum(v) * 0.05, z, z, v, z, z, "world"
    )
    accel, _ = TrajectoryTracker().step(BicycleState.of(0.0, 0.0, 0.0, 0.5), plan, 0, 0.1)
    assert accel == pytest.approx(-5.0)
