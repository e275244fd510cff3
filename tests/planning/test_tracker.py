"""Trajectory tracker: commands within the vehicle's limits, PI anti-windup, pure pursuit of a
point behind, and clear errors for bad input (hand-computed values)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from drivestack.planning.control import TrajectoryTracker, pure_pursuit_steering
from drivestack.sim.vehicle import BicycleState, VehicleParams
from drivestack.structures.trajectory import Trajectory

VEHICLE = VehicleParams()  # accel -9 .. +3 m/s^2, steering +-0.6 rad
L = VEHICLE.wheelbase_m


def straight_plan(speed_mps: float, n: int = 81, dt_s: float = 0.1) -> Trajectory:
    """Along +x from the origin at a constant speed (a standing plan when the speed is 0)."""
    t = np.arange(n) * dt_s
    z = np.zeros(n)
    x = speed_mps * t if speed_mps > 0 else z
    return Trajectory(
        np.round(t * 1e9).astype(np.int64), x, z, z, np.full(n, speed_mps), z, z, "world"
    )


def test_acceleration_is_clamped_and_the_integral_does_not_wind_up() -> None:
    tracker = TrajectoryTracker()
    # PI alone: 1.0 * 30 + 0.1 * min(30 * 0.1, 2) = 30.2 m/s^2 -> the vehicle's +3
    accel, steering = tracker.step(BicycleState.of(0, 0, 0, 0), straight_plan(30.0), 0)
    assert accel == 3.0 and steering == 0.0
    assert tracker._integral == 0.0  # saturated: nothing integrated
    # out of saturation: 1.0 * 0.5 + 0.1 * (0 + 0.5 * 0.1) = 0.505 (a wound-up integral
    # of 2 would have given 0.7)
    accel, _ = tracker.step(BicycleState.of(0, 0, 0, 29.5), straight_plan(30.0), 0)
    assert accel == pytest.approx(0.505)


def test_braking_is_clamped_to_the_vehicle_decel() -> None:
    tracker = TrajectoryTracker()
    # stop from 20 m/s: 1.0 * -20 + 0.1 * max(-20 * 0.1, -2) = -20.2 -> -9
    accel, _ = tracker.step(BicycleState.of(0, 0, 0, 20.0), straight_plan(0.0), 0)
    assert accel == -9.0 and tracker._integral == 0.0
    gentle = TrajectoryTracker(vehicle=VehicleParams(max_decel_mps2=4.0))
    assert gentle.step(BicycleState.of(0, 0, 0, 20.0), straight_plan(0.0), 0)[0] == -4.0


def test_pure_pursuit_hand_values_and_clamp() -> None:
    state = BicycleState.of(0, 0, 0, 5.0)
    # target (4, 1): sin(alpha) = 1 / sqrt(17), d = sqrt(17) -> delta = atan(2 L / 17)
    assert pure_pursuit_steering(state, [[4.0, 1.0]], L)[0] == pytest.approx(math.atan(2 * L / 17))
    # target (1, 1): delta = atan(2 L sin 45 / sqrt 2) = atan(L) = 1.26 rad, over the 0.6 limit
    assert pure_pursuit_steering(state, [[1.0, 1.0]], L, math.pi / 2)[0] == pytest.approx(
        math.atan(L)
    )
    assert pure_pursuit_steering(state, [[1.0, 1.0]], L, 0.6)[0] == 0.6
    assert pure_pursuit_steering(state, [[1.0, -1.0]], L, 0.6)[0] == -0.6


def test_a_target_behind_gets_full_lock_towards_its_side() -> None:
    state = BicycleState.of(0, 0, 0, 5.0)
    got = pure_pursuit_steering(state, [[-5.0, 0.0], [-5.0, 0.1], [-5.0, -0.1], [-1.0, 3.0]], L)
    np.testing.assert_array_equal(got, [0.6, 0.6, -0.6, 0.6])  # dead behind: left
    # the tracker on a straight plan along +x with the vehicle turned round
    tracker = TrajectoryTracker()
    for yaw_deg, want in [(180.0, 0.6), (179.0, -0.6), (-179.0, 0.6), (120.0, -0.6)]:
        state = BicycleState.of(0, 0, math.radians(yaw_deg), 5.0)
        assert tracker.step(state, straight_plan(10.0), 0)[1] == want, yaw_deg
    # a large offset ahead is clamped, not beyond the limit
    state = BicycleState.of(0, 0, math.radians(-80.0), 5.0)
    assert tracker.step(state, straight_plan(10.0), 0)[1] == 0.6


@pytest.mark.parametrize(
    ("state", "plan", "dt_s", "message"),
    [
        (BicycleState.of(math.nan, 0, 0, 0), straight_plan(5.0), 0.1, "state.x_m must be finite"),
        (BicycleState.of(0, 0, 0, math.inf), straight_plan(5.0), 0.1, "state.speed_mps"),
        (BicycleState.of(0, 0, 0, 0), straight_plan(5.0), 0.0, "dt_s .* got 0.0"),
        (BicycleState.of(0, 0, 0, 0), straight_plan(5.0), -0.1, "dt_s .* got -0.1"),
        (BicycleState.of(0, 0, 0, 0), straight_plan(5.0), math.nan, "dt_s .* got nan"),
        (BicycleState.of([0, 1], 0, 0, 0), straight_plan(5.0), 0.1, "a batch of 2"),
        (BicycleState.of(0, 0, 0, 0), Trajectory.empty(), 0.1, "plan is empty"),
    ],
)
def test_bad_input_is_a_clear_error(
    state: BicycleState, plan: Trajectory, dt_s: float, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        TrajectoryTracker().step(state, plan, 0, dt_s)
