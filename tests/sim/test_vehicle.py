"""Kinematic bicycle: hand-computed steps and every actuator limit."""

from __future__ import annotations

import math

import numpy as np
import pytest

from drivestack.sim.vehicle import BicycleState, VehicleParams, bicycle_step

P = VehicleParams(
    max_accel_mps2=3.0,
    max_decel_mps2=9.0,
    max_jerk_mps3=100.0,
    max_steering_rad=0.5,
    max_steering_rate_radps=0.8,
)


def test_straight_acceleration() -> None:
    s = bicycle_step(BicycleState.of(0.0, 0.0, 0.0, 10.0), 2.0, 0.0, 0.1, P)
    # x = (v0 + v1) / 2 * dt = (10 + 10.2) / 2 * 0.1
    np.testing.assert_allclose(
        [s.x_m[0], s.y_m[0], s.speed_mps[0], s.acceleration_mps2[0]], [1.01, 0.0, 10.2, 2.0]
    )


def test_acceleration_and_jerk_limits() -> None:
    s = bicycle_step(BicycleState.of(0.0, 0.0, 0.0, 10.0), 5.0, 0.0, 0.1, P)
    assert s.acceleration_mps2[0] == pytest.approx(3.0)  # range
    jerky = VehicleParams(max_jerk_mps3=10.0)
    s = bicycle_step(
        BicycleState.of(0.0, 0.0, 0.0, 10.0, acceleration_mps2=0.0), 3.0, 0.0, 0.1, jerky
    )
    assert s.acceleration_mps2[0] == pytest.approx(1.0)  # 10 m/s^3 * 0.1 s
    s = bicycle_step(BicycleState.of(0.0, 0.0, 0.0, 10.0), -20.0, 0.0, 0.1, P)
    assert s.acceleration_mps2[0] == pytest.approx(-9.0)


def test_steering_range_and_rate_limits() -> None:
    s = bicycle_step(BicycleState.of(0.0, 0.0, 0.0, 5.0), 0.0, 0.5, 0.1, P)
    assert s.steering_rad[0] == pytest.approx(0.08)  # 0.8 rad/s * 0.1 s
    s = bicycle_step(BicycleState.of(0.0, 0.0, 0.0, 5.0, steering_rad=0.45), 0.0, 1.0, 0.1, P)
    assert s.steering_rad[0] == pytest.approx(0.5)  # range


def test_stops_inside_a_step_and_never_reverses() -> None:
    s = bicycle_step(BicycleState.of(0.0, 0.0, 0.0, 0.45), -9.0, 0.0, 0.1, P)
    # stops after 0.05 s, having moved v^2 / (2 a) = 0.01125 m
    np.testing.assert_allclose([s.x_m[0], s.speed_mps[0]], [0.45**2 / 18.0, 0.0])
    s2 = bicycle_step(s, -9.0, 0.0, 0.1, P)
    assert s2.speed_mps[0] == 0.0 and s2.x_m[0] == s.x_m[0]


def test_constant_steering_drives_a_circle() -> None:
    delta, v = 0.1, 5.0
    state = BicycleState.of(0.0, 0.0, 0.0, v, steering_rad=delta)
    for _ in range(50):
        state = bicycle_step(state, 0.0, delta, 0.1, P)
    yaw_rate = v * math.tan(delta) / P.wheelbase_m
    assert state.yaw_rad[0] == pytest.approx(yaw_rate * 5.0)
    radius = P.wheelbase_m / math.tan(delta)
    # the rear axle stays on the circle of radius L / tan(delta) around (0, R)
    assert math.hypot(state.x_m[0], state.y_m[0] - radius) == pytest.approx(radius, rel=1e-4)


def test_batch_and_boxes() -> None:
    state = BicycleState.of([0.0, 1.0], 0.0, [0.0, math.pi / 2], 1.0)
    out = bicycle_step(state, [1.0, -1.0], 0.0, 0.1, P)
    assert out.speed_mps.tolist() == pytest.approx([1.1, 0.9])
    boxes = state.boxes(P)
    np.testing.assert_allclose(boxes[1, :2], [1.0, P.center_offset_m])
    np.testing.assert_allclose(boxes[0, 3:6], [P.length_m, P.width_m, P.height_m])
