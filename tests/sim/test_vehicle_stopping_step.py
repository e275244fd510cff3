"""A step that brings the car to rest records its mean acceleration (the change of speed over
the step), so the recorded accelerations agree with the speeds the comfort metrics read."""

from __future__ import annotations

import numpy as np
import pytest

from drivestack.sim.vehicle import BicycleState, VehicleParams, bicycle_step

P = VehicleParams()  # decel up to 9 m/s^2, jerk up to 40 m/s^3


def test_a_step_that_stops_after_3_ms_records_its_mean_acceleration() -> None:
    # 0.027 m/s braking at 9 m/s^2 stops after 3 ms: -0.027 m/s over the 0.1 s step is
    # -0.27 m/s^2 (not the -9 applied for 3 ms), moved 0.027^2 / 18 m
    s = bicycle_step(BicycleState.of(0.0, 0.0, 0.0, 0.027, -9.0), -9.0, 0.0, 0.1, P)
    assert s.speed_mps[0] == 0.0
    assert s.acceleration_mps2[0] == pytest.approx(-0.27)
    assert s.x_m[0] == pytest.approx(0.027**2 / 18.0)


def test_braking_to_rest_records_accelerations_that_match_the_speeds() -> None:
    # from 1.0 m/s at -9 m/s^2 (already braking): -0.9 m/s, then the stop (-0.1 m/s in 0.011 s),
    # then at rest: recorded -9, -1, 0 (before: -9, -9, 0), each the step's speed change / dt
    state = BicycleState.of(0.0, 0.0, 0.0, 1.0, -9.0)
    speeds, accels = [1.0], []
    for _ in range(3):
        state = bicycle_step(state, -9.0, 0.0, 0.1, P)
        speeds.append(float(state.speed_mps[0]))
        accels.append(float(state.acceleration_mps2[0]))
    np.testing.assert_allclose(speeds, [1.0, 0.1, 0.0, 0.0], atol=1e-12)
    np.testing.assert_allclose(accels, [-9.0, -1.0, 0.0], atol=1e-12)
    np.testing.assert_allclose(np.diff(speeds) / 0.1, accels, atol=1e-12)


def test_moving_off_from_rest_is_jerk_limited_from_zero() -> None:
    # at rest the recorded acceleration is 0, so moving off ramps from 0 at 40 m/s^3: 4 m/s^2
    # in one step, clamped to the +3 range
    rest = bicycle_step(BicycleState.of(0.0, 0.0, 0.0, 0.0, -5.0), -1.0, 0.0, 0.1, P)
    assert rest.acceleration_mps2[0] == 0.0 and rest.speed_mps[0] == 0.0
    s = bicycle_step(rest, 1.0, 0.0, 0.05, P)
    assert s.acceleration_mps2[0] == pytest.approx(1.0)
    s = bicycle_step(rest, 3.0, 0.0, 0.05, P)
    assert s.acceleration_mps2[0] == pytest.approx(2.0)  # 0 + 40 * 0.05
