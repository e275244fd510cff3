"""Driving-metric rules a mutation review found unguarded: every test here fails under a
plausible one-token change of the code that no other test noticed.

- the bearing of an agent is measured from the ego's heading (footprint.py), which the
  collision kinds (nuplan.py) read;
- a full stop at the first tick of a run counts for the stop-sign rule (stop_signs.py), and a
  violation's crossing time and speed are interpolated between the ticks;
- nuPlan's comfort signals: the heading unwrapped before resampling to 0.1 s, the six bounds
  and their inclusive ends, the jerk magnitude of the acceleration magnitude (lateral part
  included), the longitudinal jerk of the smoothed acceleration, the yaw acceleration's cubic
  filter (comfort.py);
- nuPlan's driving-direction compliance: a station of exactly 0 counts no progress, and the
  2 m / 6 m thresholds are exclusive (driving_direction.py).
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from scipy.signal import savgol_filter

from drivestack.core.transforms import wrap_angle
from drivestack.eval.driving import driving_direction as dd
from drivestack.eval.driving.comfort import (
    COMFORT_BOUNDS,
    ComfortSignals,
    is_comfortable,
    nuplan_comfort_at_nuplan_rate,
    nuplan_comfort_signals,
    nuplan_yaw_derivative,
)
from drivestack.eval.driving.footprint import bearing_from_ego_rad
from drivestack.eval.driving.nuplan import classify_collisions
from drivestack.eval.driving.stop_signs import stop_sign_violations
from drivestack.ingest.maps.synthetic import straight_road
from drivestack.sim.vehicle import BicycleState, VehicleParams
from tests.eval.driving._ego_history import ego_with_agents_history
from tests.eval.driving.test_stop_sign_violations import DT, history, road_with, sign

VEHICLE = VehicleParams()

# 1. bearing from the ego's heading ---------------------------------------------------------


def test_the_bearing_is_measured_from_the_ego_heading_north() -> None:
    # the ego heads north (yaw pi/2); an agent 6 m south of it lies at atan2(-6, 0) = -pi/2,
    # which is -pi/2 - pi/2 = -pi off the heading: straight behind, bearing pi (adding the
    # yaw instead would read 0, straight ahead); one 6 m north is straight ahead (0)
    ego = np.array([0.0, 0.0, 0.0, 4.5, 1.8, 1.5, np.pi / 2])
    behind = np.array([0.0, -6.0, 0.0, 4.5, 1.8, 1.5, np.pi / 2])
    ahead = np.array([0.0, 6.0, 0.0, 4.5, 1.8, 1.5, np.pi / 2])
    assert bearing_from_ego_rad(ego, behind) == pytest.approx(np.pi)
    assert bearing_from_ego_rad(ego, ahead) == pytest.approx(0.0, abs=1e-12)
    # east of a north-heading ego: atan2(0, 6) - pi/2 = -pi/2, a quarter turn to the right
    right = np.array([6.0, 0.0, 0.0, 4.5, 1.8, 1.5, 0.0])
    assert bearing_from_ego_rad(ego, right) == pytest.approx(np.pi / 2)


def test_being_rear_ended_while_heading_north_is_active_rear_not_at_fault() -> None:
    # test_nuplan_metrics' rear-end turned a quarter: the ego creeps north at 0.5 m/s along
    # x = 50, a car (4.5 m) closes from 10 m behind its rear bumper at 10 m/s; at the contact
    # the car is straight behind (bearing pi > 150 deg): active_rear, not at fault (with the
    # yaw added, the car would read straight ahead yet clear of the front: active_lateral)
    n = 31
    t = np.arange(n) * 0.1
    north = np.pi / 2
    ego = BicycleState.of(np.full(n, 50.0), 0.5 * t, north, np.full(n, 0.5), 0.0, 0.0)
    car_y = -VEHICLE.rear_overhang_m - 2.25 - 10.0 + 10.0 * t
    agents = np.tile([50.0, 0.0, 0.75, 4.5, 1.8, 1.5, north], (n, 1, 1))  # (T, 1, 7)
    agents[:, 0, 1] = car_y
    velocity = np.zeros((n, 1, 2))
    velocity[:, 0, 1] = 10.0
    h = ego_with_agents_history(ego, VEHICLE, 0.1, agents, agent_velocity_mps=velocity)
    events = classify_collisions(h, straight_road(length_m=600.0, n_lanes=2))
    assert [(e.kind, e.at_fault) for e in events] == [("active_rear", False)]


# 2. stop signs ------------------------------------------------------------------------------


def test_a_full_stop_at_the_first_tick_counts() -> None:
    # the run starts at rest (speed 0 at tick 0) with the front 2 m before the line, inside
    # the 3 m window, then pulls away at 2 m/s^2: the stop at tick 0 is the window's run's
    # first tick, so the passing is no violation (one line passed)
    result = stop_sign_violations(history(2.0 * DT * np.arange(60), 98.0), road_with(sign()))
    assert result.count == 0 and result.lines_passed == 1


def test_a_violation_interpolates_its_crossing_time_and_speed() -> None:
    # 2 m/s for ticks 0-29 from the front at x = 90, then 0.5 m/s faster each tick
    # (2.5, 3.0, ...): ticks 0-29 move 29 * 0.2 = 5.8 m (front at 95.8); the move into tick
    # 29 + j is 0.1 * (2 + 0.5 (j - 1) + 2 + 0.5 j) / 2 = 0.175 + 0.05 j, so the front is at
    # 95.8 + 9 * 0.175 + 0.05 * 45 = 99.625 at tick 38 and 99.625 + 0.675 = 100.3 at 39: the
    # line (x = 100) at u = 0.375 / 0.675 = 5/9 of that step: 3.8 + 0.1 * 5/9 = 3.85556 s,
    # at 6.5 + 0.5 * 5/9 = 6.77778 m/s (no stop: the slowest in the window is 4 m/s or more)
    speed = np.concatenate([np.full(30, 2.0), 2.0 + 0.5 * np.arange(1, 30)])
    (v,) = stop_sign_violations(history(speed, 90.0), road_with(sign())).violations
    assert v.tick == 39
    assert v.time_s == pytest.approx(3.8 + 0.1 * 5 / 9)
    assert v.speed_mps == pytest.approx(6.5 + 0.5 * 5 / 9)


# 3-6. comfort -------------------------------------------------------------------------------


def test_the_heading_is_unwrapped_before_resampling_to_nuplans_step() -> None:
    # 0.2 rad/s from 3.0 rad, sampled every 0.2 s and wrapped to (-pi, pi]: it jumps by
    # -2 pi between 0.6 s and 0.8 s; unwrapped, the 0.1 s resampling is a straight line, so
    # the yaw rate is 0.2 rad/s at every sample (yaw acceleration 0) and the drive at
    # 5 m/s is comfortable (lateral 5 * 0.2 = 1 m/s^2); interpolating across the jump would
    # read a yaw rate of about -2 pi / 0.2 s
    n = 15
    t = np.arange(n) * 0.2
    yaw = wrap_angle(3.0 + 0.2 * t)
    assert np.ptp(np.diff(yaw)) > 6.0  # the wrap is in the input
    signals, grid = nuplan_comfort_at_nuplan_rate(np.full(n, 5.0), yaw, np.zeros(n), 0.2)
    assert len(grid) == 29  # 0 to 2.8 s every 0.1 s
    np.testing.assert_allclose(signals.yaw_rate_radps, 0.2, atol=1e-6)
    np.testing.assert_allclose(signals.yaw_accel_radps2, 0.0, atol=1e-6)
    assert is_comfortable(signals)


def test_the_comfort_bounds_are_nuplans() -> None:
    # nuPlan's ego_is_comfortable config: lon accel [-4.05, 2.40] m/s^2, |lat accel| 4.89,
    # |yaw rate| 0.95, |yaw accel| 1.93, |lon jerk| 4.13, |jerk magnitude| 8.37
    assert COMFORT_BOUNDS == (
        ("lon_accel_mps2", -4.05, 2.40),
        ("lat_accel_mps2", -4.89, 4.89),
        ("yaw_rate_radps", -0.95, 0.95),
        ("yaw_accel_radps2", -1.93, 1.93),
        ("lon_jerk_mps3", -4.13, 4.13),
        ("jerk_mag_mps3", -8.37, 8.37),
    )


@pytest.mark.parametrize("accel_mps2", [2.40, -4.05])
def test_a_constant_acceleration_at_a_bound_is_comfortable(accel_mps2: float) -> None:
    # a constant acceleration smooths to itself (rounded to 8 decimals: exactly the bound),
    # and its jerks are 0: nuPlan's bounds are inclusive
    n = 20
    signals = nuplan_comfort_signals(np.full(n, 10.0), np.zeros(n), np.full(n, accel_mps2), 0.1)
    np.testing.assert_array_equal(signals.lon_accel_mps2, accel_mps2)
    assert is_comfortable(signals)


def _signals(**values: float) -> ComfortSignals:
    """Three samples of every comfort signal, 0 except ``values`` (constant)."""
    zero = ComfortSignals(*(np.zeros(3) for _ in range(6)))
    return dataclasses.replace(zero, **{k: np.full(3, v) for k, v in values.items()})


@pytest.mark.parametrize(
    ("field", "bound"),
    [
        ("lon_accel_mps2", 2.40),
        ("lon_accel_mps2", -4.05),
        ("lat_accel_mps2", 4.89),
        ("lat_accel_mps2", -4.89),
        ("yaw_rate_radps", 0.95),
        ("yaw_rate_radps", -0.95),
        ("yaw_accel_radps2", 1.93),
        ("yaw_accel_radps2", -1.93),
        ("lon_jerk_mps3", 4.13),
        ("lon_jerk_mps3", -4.13),
        ("jerk_mag_mps3", 8.37),
        ("jerk_mag_mps3", -8.37),
    ],
)
def test_each_bound_is_inclusive_and_0_01_past_it_is_not(field: str, bound: float) -> None:
    # at the bound: comfortable; 0.01 further out (2.41, -4.06, 4.90, 0.96, 1.94, 4.14,
    # 8.38): not
    assert is_comfortable(_signals(**{field: bound}))
    assert not is_comfortable(_signals(**{field: bound + np.sign(bound) * 0.01}))


def test_the_jerk_magnitude_includes_the_lateral_acceleration() -> None:
    # 10 m/s, no longitudinal acceleration, heading 0.05 t^2: yaw rate 0.1 t (exact for the
    # quadratic filter), lateral acceleration 10 * 0.1 t = t m/s^2, its derivative 1 m/s^3:
    # the jerk magnitude is about 1 (the 8-sample smoothing and 15-sample derivative bend the
    # ends by up to 0.13); from the longitudinal acceleration alone it would be 0
    n = 20
    t = np.arange(n) * 0.1
    signals = nuplan_comfort_signals(np.full(n, 10.0), 0.05 * t**2, np.zeros(n), 0.1)
    np.testing.assert_allclose(signals.yaw_rate_radps, 0.1 * t, atol=1e-8)
    np.testing.assert_allclose(signals.jerk_mag_mps3, 1.0, atol=0.15)
    np.testing.assert_allclose(signals.jerk_mag_mps3[8:12], 1.0, atol=0.05)
    np.testing.assert_array_equal(signals.lon_jerk_mps3, 0.0)


def test_the_longitudinal_jerk_is_that_of_the_smoothed_acceleration() -> None:
    # nuPlan's extract_ego_jerk differentiates extract_ego_acceleration's output: a
    # savgol_filter(a, 8, 2) rounded to 8 decimals, then savgol_filter(., 15, 2, deriv=1,
    # delta=0.1) rounded; on a step to -3 m/s^2 at tick 15 the raw step's derivative differs
    # from it by up to about 1.5 m/s^3
    n = 40
    a = np.where(np.arange(n) >= 15, -3.0, 0.0)
    smoothed = np.round(savgol_filter(a, 8, 2), 8)
    expected = np.round(savgol_filter(smoothed, 15, 2, deriv=1, delta=0.1), 8)
    signals = nuplan_comfort_signals(np.full(n, 10.0), np.zeros(n), a, 0.1)
    np.testing.assert_allclose(signals.lon_accel_mps2, smoothed, atol=1e-12)
    np.testing.assert_allclose(signals.lon_jerk_mps3, expected, atol=1e-9)


def test_the_yaw_acceleration_is_the_cubic_filters_second_derivative() -> None:
    # heading 0.1 t^3: its second derivative is 0.6 t; a 5-sample cubic Savitzky-Golay filter
    # fits a cubic exactly, ends included (a quadratic one would flatten the first and last
    # two samples to 0.12 and 0.42)
    t = np.arange(10) * 0.1
    np.testing.assert_allclose(nuplan_yaw_derivative(0.1 * t**3, 0.1, 2), 0.6 * t, atol=1e-8)


# 7. driving direction -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("backwards_m", "score"),
    [(1.99, 1.0), (2.0, 0.5), (5.99, 0.5), (6.0, 0.0)],
)
def test_the_direction_thresholds_are_exclusive(backwards_m: float, score: float) -> None:
    # nuPlan: compliant below 2 m backwards, 0.5 below 6 m, else 0
    assert dd.direction_score(backwards_m) == score


def test_a_station_of_exactly_zero_counts_no_progress() -> None:
    # straight_road's lane road_0 starts at x = -100 (station 0) on y = 1.75; the centre backs
    # up from station 2.5 to 1.25 to 0.0: progress 0 (first sample), -1.25, and 0 at the
    # station of exactly 0 (nuPlan tests the station's truth value): 1.25 m backwards,
    # compliant (counting the last step too: 2.5 m, 0.5)
    road = straight_road(length_m=600.0, n_lanes=2)
    centres = np.array([[-97.5, 1.75], [-98.75, 1.75], [-100.0, 1.75]])
    ts = np.arange(3, dtype=np.int64) * 100_000_000
    route = dd.ego_driven_lanes(road, centres, np.zeros(3))
    assert route == [["road_0"]] * 3
    np.testing.assert_allclose(dd.baseline_progress_m(road, centres, route), [0.0, -1.25, 0.0])
    score, back = dd.driving_direction_compliance(road, centres, np.zeros(3), ts)
    assert (score, back) == (1.0, pytest.approx(1.25))
