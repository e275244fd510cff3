"""Pinned rules of the trajectory tracker (``drivestack.planning.control.tracker``) that the
other tracker tests leave open, each with a small hand-built input and a hand-derived value:
input checks at their boundaries, the speed loop's thresholds (stop detection, the stop's
integral clamp, anti-windup exactly at the limit), and the lateral loop's path handling
(extrapolation, ties, unwrapped headings, the 1 m rule)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from drivestack.planning.control import TrackerParams, TrajectoryTracker
from drivestack.planning.control.tracker import (
    _lookahead_point,
    distance_to_path_m,
    feed_forward_steering_scalar,
    pursuit_steering_scalar,
)
from drivestack.sim.vehicle import BicycleState, VehicleParams
from drivestack.structures.trajectory import Trajectory
from tests.planning.test_idm_control_rules_pinned import _cruise, _plan
from tests.planning.test_tracker import straight_plan
from tests.planning.test_tracker_integral_at_stop import _cruise_plan, _ns, _wound_up

L = VehicleParams().wheelbase_m  # 3.09 m


def _timed(t_s: list[float], speed_mps: list[float]) -> Trajectory:
    """A plan along +x sampled at ``t_s`` with the given speeds (positions integrated)."""
    t = np.asarray(t_s, dtype=np.float64)
    v = np.asarray(speed_mps, dtype=np.float64)
    return _plan(t, np.r_[0.0, np.cumsum(v[:-1] * np.diff(t))], v)


def _path_plan(
    xy: list[tuple[float, float]], yaw: list[float], speed_mps: float = 0.0
) -> Trajectory:
    """A plan through the points ``xy`` with headings ``yaw``, 0.1 s apart."""
    p = np.asarray(xy, dtype=np.float64)
    n = len(p)
    z = np.zeros(n)
    ns = (np.arange(n) * 100_000_000).astype(np.int64)
    return Trajectory(
        ns, p[:, 0], p[:, 1], np.asarray(yaw, float), np.full(n, speed_mps), z, z, "world"
    )


# --- input checks ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("state", "dt_s", "message"),
    [
        (BicycleState.of(0, 0, 0, 0), math.inf, r"dt_s must be a finite .* got inf"),
        (BicycleState.of([], [], [], []), 0.1, r"exactly one vehicle .* a batch of 0"),
        (BicycleState.of(0, 0, 0, 0, math.nan), 0.1, r"state\.acceleration_mps2 must be finite"),
        (BicycleState.of(0, 0, 0, 0, 0, -math.inf), 0.1, r"state\.steering_rad must be finite"),
    ],
)
def test_every_state_field_and_an_infinite_step_are_checked(
    state: BicycleState, dt_s: float, message: str
) -> None:
    """``check_tracker_inputs``: ``dt_s`` finite (not only > 0), a batch of exactly one (0 is
    refused too), and all six state fields finite (acceleration and steering included)."""
    with pytest.raises(ValueError, match=message):
        TrajectoryTracker().step(state, straight_plan(5.0), 0, dt_s)


def test_plan_coverage_is_inclusive_at_both_ends_to_the_nanosecond() -> None:
    """``t0 <= time_ns <= t_end``: both ends accepted, one nanosecond outside refused."""
    plan = straight_plan(10.0, n=51)  # 0 .. 5 s
    state = BicycleState.of(0.0, 0.0, 0.0, 10.0)
    TrajectoryTracker().step(state, plan, 0)
    TrajectoryTracker().step(state, plan, 5_000_000_000)
    for t in (-1, 5_000_000_001):
        with pytest.raises(ValueError, match=rf"\[0, 5000000000\] .* time_ns {t}: replan"):
            TrajectoryTracker().step(state, plan, t)


def test_a_state_exactly_at_the_distance_limit_is_accepted() -> None:
    """Refused only *more than* ``max_distance_from_plan_m`` from the path: a two-sample plan
    (0, 0) -> (80, 0) and a state at (40, 10), 10.0 m from the path (its nearest sample is
    41.2 m away, so the path's own distance is the one compared), is tracked; at 10.5 m the
    message names the distance and the limit."""
    plan = _timed([0.0, 8.0], [10.0, 10.0])  # x 0 -> 80 m
    TrajectoryTracker().step(BicycleState.of(40.0, 10.0, 0.0, 10.0), plan, 0)
    with pytest.raises(ValueError, match=r"10\.500 m from the plan's path .*= 10\.0 m"):
        TrajectoryTracker().step(BicycleState.of(40.0, 10.5, 0.0, 10.0), plan, 0)


def test_distance_to_path_clamps_to_segments_and_handles_one_point() -> None:
    """The distance is to the polyline's closest point, clamped to each segment's ends
    (``(13, 4)`` from ``(0, 0)-(10, 0)``: hypot(3, 4) = 5, not the line's 4), a one-point
    path is its point, and repeated points are allowed."""
    seg = np.array([[0.0, 0.0], [10.0, 0.0]])
    assert distance_to_path_m(seg, np.array([13.0, 4.0])) == pytest.approx(5.0, abs=1e-12)
    one = np.array([[1.0, 1.0]])
    assert distance_to_path_m(one, np.array([4.0, 5.0])) == pytest.approx(5.0, abs=1e-12)
    rep = np.array([[0.0, 0.0], [0.0, 0.0], [0.0, 6.0]])
    assert distance_to_path_m(rep, np.array([-3.0, -4.0])) == pytest.approx(5.0, abs=1e-12)
    assert distance_to_path_m(rep, np.array([2.0, 3.0])) == pytest.approx(2.0, abs=1e-12)


# --- speed loop -----------------------------------------------------------------------------


def test_feed_forward_is_over_the_step_when_it_is_longer_than_the_preview() -> None:
    """``ahead = max(dt_s, preview_s)``: at ``dt_s`` 0.5 s (preview 0.2 s) a plan that holds
    10 m/s to 0.2 s and is at 9.4 m/s at 0.5 s feeds forward (9.4 - 10) / 0.5 = -1.2 m/s^2
    (over the preview alone it would be 0); the car on the plan's speed adds nothing."""
    plan = _timed([0.0, 0.2, 0.5, 5.0], [10.0, 10.0, 9.4, 9.4])
    accel, _ = TrajectoryTracker().step(BicycleState.of(0.0, 0.0, 0.0, 10.0), plan, 0, 0.5)
    assert accel == pytest.approx(-1.2, abs=1e-9)


def test_feed_forward_is_over_the_preview_when_it_is_longer_than_the_step() -> None:
    """At ``dt_s`` 0.1 s the preview 0.2 s is the longer: 10 m/s at 0 and 0.1 s, 9 m/s at
    0.2 s feeds forward (9 - 10) / 0.2 = -5 m/s^2 (over the step alone it would be 0)."""
    plan = _timed([0.0, 0.1, 0.2, 5.0], [10.0, 10.0, 9.0, 9.0])
    accel, _ = TrajectoryTracker().step(BicycleState.of(0.0, 0.0, 0.0, 10.0), plan, 0, 0.1)
    assert accel == pytest.approx(-5.0, abs=1e-9)


def test_a_plan_standing_over_the_step_holds_the_car_even_if_it_moves_off_in_the_preview() -> None:
    """The car is held (command at most -1 m/s^2) while the plan's speed at ``time_ns + dt_s``
    is 0, even when it moves off later in the preview: speeds 0, 0 at 0.1 s, 1 m/s at 0.2 s.
    Unheld the command would be the feed-forward 1 / 0.2 = +5 (clamped to +3)."""
    plan = _timed([0.0, 0.1, 0.2, 5.0], [0.0, 0.0, 1.0, 1.0])
    accel, _ = TrajectoryTracker().step(BicycleState.of(0.0, 0.0, 0.0, 0.0), plan, 0, 0.1)
    assert accel == -1.0


def test_a_plan_slowing_from_exactly_the_stopping_speed_is_followed() -> None:
    """A stop needs ``target < stopping_speed_mps`` (0.2 m/s), strictly: a plan slowing from
    exactly 0.2 m/s (0.19 at 0.1 s, 0.18 at 0.2 s) with the car on it is followed, the
    feed-forward (0.18 - 0.2) / 0.2 = -0.1 m/s^2; from 0.19 m/s it is a stop: -1."""
    plan = _timed([0.0, 0.1, 0.2, 5.0], [0.2, 0.19, 0.18, 0.18])
    accel, _ = TrajectoryTracker().step(BicycleState.of(0.0, 0.0, 0.0, 0.2), plan, 0, 0.1)
    assert accel == pytest.approx(-0.1, abs=1e-9)
    plan = _timed([0.0, 0.1, 0.2, 5.0], [0.19, 0.18, 0.17, 0.17])
    accel, _ = TrajectoryTracker().step(BicycleState.of(0.0, 0.0, 0.0, 0.19), plan, 0, 0.1)
    assert accel == -1.0


def test_the_hold_at_a_stop_starts_below_0_3_mps_strictly() -> None:
    """On a standing plan the -1 m/s^2 hold needs the car below 0.3 m/s: at exactly 0.3 m/s
    the command is PI alone, ``-0.3 + 0.1 * (-0.3 * 0.1) = -0.303``."""
    accel, _ = TrajectoryTracker().step(BicycleState.of(0.0, 0.0, 0.0, 0.3), _cruise(0.0), 0)
    assert accel == pytest.approx(-0.303, abs=1e-12)


@pytest.mark.parametrize("car_mps", [11.0, 9.0])
def test_the_integral_is_clamped_at_plus_and_minus_its_limit(car_mps: float) -> None:
    """``|integral| <= integral_limit_mps`` on both sides: the car 1 m/s above (below) a
    10 m/s plan integrates -0.1 (+0.1) m/s a step, held at -2.0 (+2.0) from the 20th: after
    25 steps the command is ``-+1 + 0.1 * -+2.0 = -+1.2`` (unclamped 2.5 would give 1.25)."""
    tracker = TrajectoryTracker()
    plan = _cruise(10.0)
    sign = math.copysign(1.0, 10.0 - car_mps)
    for k in range(25):
        state = BicycleState.of(10.0 * k * 0.1, 0.0, 0.0, car_mps)
        accel, _ = tracker.step(state, plan, k * 100_000_000, 0.1)
    assert accel == pytest.approx(sign * 1.2, abs=1e-9)
    assert tracker._integral == pytest.approx(sign * 2.0, abs=1e-12)


@pytest.mark.parametrize(("speed_mps", "want"), [(0.04, 0.0), (0.06, 2.0)])
def test_the_stop_clamp_on_the_integral_applies_below_0_05_mps_only(
    speed_mps: float, want: float
) -> None:
    """The integral is clamped to <= 0 only while the plan's speed now is under 0.05 m/s
    (and no positive feed-forward). With ki 1 / s^2 and the integral wound up to +2 m/s, a
    steady plan at 0.04 m/s with the car on it commands 0 (clamped), one at 0.06 m/s
    commands ``ki * 2 = 2`` m/s^2 (a steady creep, no stop: followed)."""
    tracker = _wound_up(TrackerParams(speed_ki=1.0))
    t0 = 4.0
    plan = _cruise_plan(speed_mps, t0, 38.0)
    state = BicycleState.of(38.0, 0.0, 0.0, speed_mps)
    accel, _ = tracker.step(state, plan, int(_ns(t0)), 0.1)
    assert accel == pytest.approx(want, abs=1e-9)


def test_a_command_exactly_at_a_limit_still_integrates() -> None:
    """Anti-windup holds the integral only when the command is *beyond* a limit. ``dt_s`` =
    preview = 0.25 s, ki 0.5: braking plan 10 -> 8.03125 m/s (feed-forward -7.875), car at
    11 m/s (error -1, integral -0.25): ``-7.875 - 1 + 0.5 * -0.25 = -9.0`` exactly, the
    vehicle's limit: kept (holding would give -8.875). The same at +3: plan 10 ->
    10.46875 (+1.875), car at 9 m/s: ``1.875 + 1 + 0.125 = 3.0``."""
    params = TrackerParams(speed_ki=0.5, preview_s=0.25)
    for end, car, want in ((8.03125, 11.0, -9.0), (10.46875, 9.0, 3.0)):
        tracker = TrajectoryTracker(params)
        plan = _timed([0.0, 0.25, 5.0], [10.0, end, end])
        accel, _ = tracker.step(BicycleState.of(0.0, 0.0, 0.0, car), plan, 0, 0.25)
        assert accel == want
        assert tracker._integral == pytest.approx(0.25 * (10.0 - car), abs=1e-12)


def test_the_stop_clamp_applies_while_the_integral_is_held_in_saturation() -> None:
    """When the command saturates the held integral still goes through the limits and the
    stop's <= 0 clamp: a wound-up +2 m/s (ki 1 / s^2), then a standing plan with the car at
    10 m/s (-10 -> -9, held): the integral becomes 0, so on a 1 m/s plan with the car at 1 m/s
    the next command is ``ki * 0 = 0`` (not the +2 of the wound-up integral)."""
    tracker = _wound_up(TrackerParams(speed_ki=1.0))
    standing = _cruise_plan(0.0, 4.0, 38.0)
    accel, _ = tracker.step(BicycleState.of(38.0, 0.0, 0.0, 10.0), standing, int(_ns(4.0)), 0.1)
    assert accel == -9.0
    moving = _cruise_plan(1.0, 4.1, 38.0)
    state = BicycleState.of(38.0, 0.0, 0.0, 1.0)
    accel, _ = tracker.step(state, moving, int(_ns(4.1)), 0.1)
    assert accel == pytest.approx(0.0, abs=1e-12)


def test_reset_clears_the_integral() -> None:
    """``reset()`` starts afresh: after winding the integral up to 2 m/s, the car 0.5 m/s
    under a 10 m/s plan gets a fresh tracker's ``0.5 + 0.1 * 0.05 = 0.505`` (not 0.7)."""
    tracker = _wound_up(TrackerParams())
    tracker.reset()
    accel, _ = tracker.step(BicycleState.of(0.0, 0.0, 0.0, 9.5), _cruise(10.0), 0)
    assert accel == pytest.approx(0.505, abs=1e-12)


# --- steering -------------------------------------------------------------------------------


def test_pursuit_terms_use_distances_below_one_metre() -> None:
    """``2 sin(alpha) / d`` for d < 1 m too (the floor only guards d = 0): a target at
    bearing 0.1 rad, 0.5 m away: ``atan(2 L sin(0.1) / 0.5) = 0.890`` (within a 1.5 rad
    limit); the path's own term the same with the opposite sign."""
    want = math.atan(2.0 * L * math.sin(0.1) / 0.5)
    assert pursuit_steering_scalar(0.1, 0.5, L, 1.5) == pytest.approx(want, abs=1e-12)
    got = feed_forward_steering_scalar(0.0, 5.0, 0.1, 0.5, 0.0, L, 1.5)
    assert got == pytest.approx(-want, abs=1e-12)


def test_a_path_of_exactly_one_metre_keeps_the_current_steering_clamped() -> None:
    """The current angle while the plan's path is no longer than 1 m (exactly 1 m: kept);
    a longer one is tracked (straight, on it: 0). The kept angle is still clamped to the
    vehicle's +-0.6 rad."""
    one_m = _timed([0.0, 1.0], [1.0, 1.0])
    state = BicycleState.of(0.0, 0.0, 0.0, 1.0, 0.0, 0.3)
    assert TrajectoryTracker().step(state, one_m, 0)[1] == 0.3
    longer = _timed([0.0, 1.5], [1.0, 1.0])
    assert TrajectoryTracker().step(state, longer, 0)[1] == 0.0
    for steer, want in ((0.8, 0.6), (-0.9, -0.6)):
        state = BicycleState.of(0.0, 0.0, 0.0, 1.0, 0.0, steer)
        assert TrajectoryTracker().step(state, one_m, 0)[1] == want


def test_a_sub_millimetre_step_adds_no_heading_change() -> None:
    """Plan points less than 1 mm from the previous one are dropped: a 0.5 mm jitter sample
    carrying a heading of 0.1 rad on a straight plan along +x does not become a 0.1 rad /
    0.5 mm curvature (full lock): the car on the plan's start heading along it steers 0."""
    xy = [(0.0, 0.0), (0.0005, 0.0)] + [(float(k), 0.0) for k in range(1, 20)]
    yaw = [0.0, 0.1] + [0.0] * 19
    plan = _path_plan(xy, yaw, speed_mps=10.0)
    _, steer = TrajectoryTracker().step(BicycleState.of(0.0, 0.0, 0.0, 0.0), plan, 0)
    assert steer == 0.0


def test_headings_are_unwrapped_across_pi() -> None:
    """A left bend of radius 20 m whose heading crosses pi (wrapped to -pi by the
    Trajectory) is tracked like the same bend turned round by pi: the car on it at a sample
    heading along it steers ``atan(L * kappa)`` with kappa the chord's heading change over
    length, about ``atan(3.09 / 20) = 0.1533`` rad, not full lock from a 2 pi jump."""
    r, n = 20.0, 40
    s = np.arange(n) * 0.5
    steers = []
    for h0 in (math.pi - 0.06, -0.06):
        h = h0 + s / r
        xy = list(
            zip(r * np.sin(h) - r * math.sin(h0), -r * np.cos(h) + r * math.cos(h0), strict=True)
        )
        plan = _path_plan(xy, list(h), speed_mps=5.0)
        state = BicycleState.of(xy[2][0], xy[2][1], h[2], 5.0)
        steers.append(TrajectoryTracker().step(state, plan, 0)[1])
    assert steers[0] == pytest.approx(steers[1], abs=1e-9)
    assert steers[0] == pytest.approx(math.atan(L / r), abs=1e-4)


def test_the_path_point_is_extrapolated_before_the_plans_start() -> None:
    """Before the first sample the path's own point is extrapolated back along the first
    segment (the heading is the first sample's): a plan (0, 0) -> (0, 1) -> (-3, 1) heading
    +y then -x, the car 2 m behind at (0, -2) heading +y: the target 4 m along is (-1, 1),
    seen the same from the car and from the path's point (0, -2), so the pursuit terms
    cancel and the first segment's curvature 0 steers 0 (from the first sample itself the
    path term would be ``2 sin(pi / 4) / sqrt 2 = 1`` against the car's 0.2: full lock)."""
    half = math.pi / 2
    plan = _path_plan([(0.0, 0.0), (0.0, 1.0), (-3.0, 1.0)], [half, half, math.pi])
    _, steer = TrajectoryTracker().step(BicycleState.of(0.0, -2.0, half, 0.0), plan, 0)
    assert steer == pytest.approx(0.0, abs=1e-12)


def test_the_feed_forward_segment_is_the_one_half_a_step_past_the_projection() -> None:
    """The curvature is read at ``here + 0.5 * speed * dt`` even when that is on the next
    segment: 1 m segments along +x with headings 0, 0.05, 0.15, ..., the car at x = 0.8 m on
    the path with its heading there (0.8 * 0.05 = 0.04 rad; the pursuit terms cancel), at
    10 m/s and dt 0.1 s: 0.8 + 0.5 = 1.3 m, on the second segment: ``atan(3.09 * 0.1)``
    (the projection's own segment would give ``atan(3.09 * 0.05)``)."""
    t = np.arange(81) * 0.1
    yaw = np.r_[0.0, 0.05, np.full(79, 0.15)]
    plan = _plan(t, 10.0 * t, np.full(81, 10.0), yaw)
    state = BicycleState.of(0.8, 0.0, 0.8 * 0.05, 10.0)
    _, steer = TrajectoryTracker().step(state, plan, 0, 0.1)
    assert steer == pytest.approx(math.atan(L * 0.1), abs=1e-9)


def test_a_reversing_speed_uses_the_minimum_lookahead() -> None:
    """``max(min_lookahead_m, lookahead_time_s * speed)``: at -10 m/s the lookahead is the
    4 m minimum: 1 m left of a straight plan, ``atan(-2 L / (4^2 + 1))``."""
    _, steer = TrajectoryTracker().step(BicycleState.of(0.0, 1.0, 0.0, -10.0), _cruise(10.0), 0)
    assert steer == pytest.approx(math.atan(-2.0 * L / 17.0), abs=1e-9)


def test_the_lookahead_point_is_extrapolated_past_both_ends() -> None:
    """The projection's station is extrapolated before the first segment and past the last:
    on (0, 0) -> (5, 0) -> (10, 0), 4 m past the projection of (-2, 0) is (2, 0), of (12, 0)
    is (16, 0); of (7, 3) (inside) it is (11, 0)."""
    path = np.array([[0.0, 0.0], [5.0, 0.0], [10.0, 0.0]])
    for x, y, want in ((-2.0, 0.0, 2.0), (12.0, 0.0, 16.0), (7.0, 3.0, 11.0)):
        got = _lookahead_point(path, x, y, 4.0)
        np.testing.assert_allclose(got, [[want, 0.0]], atol=1e-12)


def test_a_tie_between_segments_goes_to_the_lowest_index() -> None:
    """Equally close segments: the first wins. On the U (0, 0) -> (10, 0) -> (10, 4) ->
    (0, 4), the point (5, 2) is 2 m from the first and the last leg; the first's projection
    (station 5) is taken: 1 m along is (6, 0), not (4, 4) on the last leg."""
    path = np.array([[0.0, 0.0], [10.0, 0.0], [10.0, 4.0], [0.0, 4.0]])
    np.testing.assert_allclose(_lookahead_point(path, 5.0, 2.0, 1.0), [[6.0, 0.0]], atol=1e-12)


def test_a_plan_that_jitters_back_to_a_kept_point_is_tracked() -> None:
    """A plan whose first samples jitter 0.9 mm forward twice and back to the start (each
    step under the 1 mm drop threshold except the last, 1.8 mm) then drives on along +x:
    the car on it heading along it steers 0: the sample back at the start is dropped too
    (dropping against the previous sample rather than the previous kept one left a
    zero-length segment, a ZeroDivisionError in the compiled path search)."""
    xy = [(0.0, 0.0), (0.0009, 0.0), (0.0018, 0.0), (0.0, 0.0)] + [
        (float(k), 0.0) for k in range(1, 20)
    ]
    plan = _path_plan(xy, [0.0] * len(xy), speed_mps=5.0)
    _, steer = TrajectoryTracker().step(BicycleState.of(0.5, 0.0, 0.0, 5.0), plan, 0)
    assert steer == pytest.approx(0.0, abs=1e-12)


def test_a_reversing_plan_is_refused_naming_the_sample() -> None:
    """A plan reversing at -1 m/s from its third sample is refused naming speed_mps[2] (it was
    followed with full steering lock and the stop hold pushing the car faster backwards)."""
    xy = [(float(k), 0.0) for k in range(20)]
    speeds = [0.0, 0.0] + [-1.0] * 18
    plan = _path_plan(xy, [0.0] * len(xy), speed_mps=1.0)
    plan = Trajectory(
        plan.timestamp_ns, plan.x_m, plan.y_m, plan.yaw_rad, np.array(speeds),
        plan.acceleration_mps2, plan.curvature_1pm,
    )  # fmt: skip
    with pytest.raises(ValueError, match=r"speed_mps\[2\] is -1\.0 m/s: .*forward plans only"):
        TrajectoryTracker().step(BicycleState.of(5.0, 0.0, 0.0, -1.0), plan, 0)
