"""Pinned rules of the IDM planner, the trajectory tracker, the reference path and the
stop-sign rule, each with a small hand-built input and a hand-derived expected value (the
arithmetic is in the comments): the cases the other tests leave open (a leader pulling away,
a car above its desired speed, a stop asked for with desired speed 0, ...)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from drivestack.ingest.maps.synthetic import four_way_intersection
from drivestack.planning.control import TrajectoryTracker
from drivestack.planning.idm import IDMParams, idm_acceleration
from drivestack.planning.reference_path import ReferencePath
from drivestack.planning.stop_signs import ArrivalOrder, route_sign_stops
from drivestack.sim.vehicle import BicycleState, VehicleParams
from drivestack.structures.trajectory import Trajectory

PLAIN = IDMParams()  # s0 2 m, T 1.5 s, a_max 1.5, b 3, delta 4, max decel 9, coolness 0


# --- IDM ------------------------------------------------------------------------------------


def test_idm_desired_gap_never_drops_below_the_min_gap_for_a_leader_pulling_away() -> None:
    """``s* = s0 + max(0, v T + v (v - v_lead) / (2 sqrt(a b)))``: a leader much faster than
    the ego cannot make the desired gap smaller than ``s0``. Ego 10 m/s (desired 20), leader
    30 m/s, gap 10 m: ``10 * 1.5 + 10 * (-20) / (2 sqrt(4.5)) = 15 - 23.57 < 0``, so
    ``s* = 2`` and ``a = 1.5 (1 - 0.5^4 - (2 / 10)^2) = 1.5 * 0.8975 = 1.34625``."""
    a = float(idm_acceleration(10.0, 20.0, 10.0, 30.0, PLAIN)[()])
    assert a == pytest.approx(1.34625, abs=1e-12)


def test_idm_above_the_desired_speed_brakes_by_the_free_road_term() -> None:
    """Free road at 30 m/s with a desired 20 m/s: ``a = 1.5 (1 - 1.5^4) = 1.5 * (1 - 5.0625)
    = -6.09375`` (the ratio is capped only at 10, far above 1.5)."""
    a = float(idm_acceleration(30.0, 20.0, math.inf, 0.0, PLAIN)[()])
    assert a == pytest.approx(-6.09375, abs=1e-12)


def test_idm_desired_speed_zero_asks_for_full_braking() -> None:
    """``desired_speed_mps = 0`` asks to stop: v0 is floored at 1e-3 m/s, so even 0.01 m/s is
    ten times the desired speed: ``1.5 (1 - 10^4) = -14998.5``, clipped to ``-max_decel`` =
    -9. At 0.5 m/s with a desired 1 m/s (above the floor): ``1.5 (1 - 0.5^4) = 1.40625``."""
    assert float(idm_acceleration(0.01, 0.0, math.inf, 0.0, PLAIN)[()]) == -9.0
    a = float(idm_acceleration(0.5, 1.0, math.inf, 0.0, PLAIN)[()])
    assert a == pytest.approx(1.40625, abs=1e-12)


# --- trajectory tracker ---------------------------------------------------------------------

WHEELBASE_M = VehicleParams().wheelbase_m  # 3.09 m


def _plan(
    t_s: np.ndarray, x_m: np.ndarray, speed_mps: np.ndarray, yaw_rad: np.ndarray | None = None
) -> Trajectory:
    """A plan along the x axis with the given times, stations, speeds (and headings)."""
    z = np.zeros(len(t_s))
    yaw = z if yaw_rad is None else np.asarray(yaw_rad, dtype=np.float64)
    ns = np.round(np.asarray(t_s) * 1e9).astype(np.int64)
    return Trajectory(ns, np.asarray(x_m, dtype=np.float64), z, yaw, speed_mps, z, z, "world")


def _cruise(speed_mps: float) -> Trajectory:
    """Along +x from the origin at a constant speed, 0.1 s samples over 8 s."""
    t = np.arange(81) * 0.1
    return _plan(t, speed_mps * t, np.full(81, speed_mps))


def test_tracker_brakes_to_rest_only_below_0_3_mps() -> None:
    """A standing plan: below 0.3 m/s the command is at most -1 m/s^2 (brought to rest), at
    0.4 m/s it is the PI command alone: error -0.4, integral 0 - 0.4 * 0.1 = -0.04 (held <= 0
    at a stop), ``accel = 0 + 1.0 * -0.4 + 0.1 * -0.04 = -0.404``. At 0.2 m/s PI gives -0.202,
    raised in strength to -1."""
    standing = _cruise(0.0)
    accel, _ = TrajectoryTracker().step(BicycleState.of(0.0, 0.0, 0.0, 0.4), standing, 0)
    assert accel == pytest.approx(-0.404, abs=1e-12)
    accel, _ = TrajectoryTracker().step(BicycleState.of(0.0, 0.0, 0.0, 0.2), standing, 0)
    assert accel == -1.0


def test_tracker_integral_keeps_integrating_out_of_a_saturation() -> None:
    """Anti-windup holds the integral only while it would push the saturated command further
    out. A plan accelerating at 5 m/s^2 (feed-forward (11 - 10) / 0.2 = 5) with the car 0.5
    m/s above it: ``5 - 0.5 + 0.1 * (-0.05) = 4.495 > 3`` saturates high, but the error is
    negative, so the integral still takes ``-0.5 * 0.1 = -0.05`` (it pulls out of the
    saturation); the command is clamped to the vehicle's +3."""
    t = np.arange(81) * 0.1
    plan = _plan(t, 10.0 * t + 2.5 * t**2, 10.0 + 5.0 * t)
    tracker = TrajectoryTracker()
    accel, _ = tracker.step(BicycleState.of(0.0, 0.0, 0.0, 10.5), plan, 0)
    assert accel == 3.0
    assert tracker._integral == pytest.approx(-0.05, abs=1e-12)


def test_tracker_lookahead_is_the_larger_of_min_lookahead_and_time_ahead() -> None:
    """Pure pursuit of the point ``max(4 m, 0.9 s * speed)`` along a straight plan on the x
    axis, for a car 1 m to its left heading along it (the path's own pursuit term and its
    curvature are 0): target ``(la, 0)``, ``sin(alpha) = -1 / d``, ``d^2 = la^2 + 1``, so
    ``delta = atan(-2 L / (la^2 + 1))``. At 10 m/s ``la = 9`` (d^2 = 82); at 2 m/s ``0.9 * 2
    = 1.8 < 4``: ``la = 4`` (d^2 = 17)."""
    state = BicycleState.of(0.0, 1.0, 0.0, 10.0)
    _, steer = TrajectoryTracker().step(state, _cruise(10.0), 0)
    assert steer == pytest.approx(math.atan(-2.0 * WHEELBASE_M / 82.0), abs=1e-9)
    state = BicycleState.of(0.0, 1.0, 0.0, 2.0)
    _, steer = TrajectoryTracker().step(state, _cruise(10.0), 0)
    assert steer == pytest.approx(math.atan(-2.0 * WHEELBASE_M / 17.0), abs=1e-9)


def test_tracker_feed_forward_curvature_is_read_half_a_step_ahead() -> None:
    """The steering feed-forward is the plan's heading change over length on the segment
    ``0.5 * speed * dt`` past the projection: at 10 m/s and dt 0.1 s, 0.5 m, inside the first
    1 m segment, whose headings go 0 -> 0.05 rad: kappa 0.05 1/m (the next segment turns 0.1
    rad). On a straight path with the car on it at its start heading along it, both pursuit
    terms are 0: ``delta = atan(3.09 * 0.05)``."""
    t = np.arange(81) * 0.1
    yaw = np.r_[0.0, 0.05, np.full(79, 0.15)]
    plan = _plan(t, 10.0 * t, np.full(81, 10.0), yaw)
    _, steer = TrajectoryTracker().step(BicycleState.of(0.0, 0.0, 0.0, 10.0), plan, 0, 0.1)
    assert steer == pytest.approx(math.atan(WHEELBASE_M * 0.05), abs=1e-9)


def test_tracker_path_heading_is_held_at_the_first_point_before_the_plan_starts() -> None:
    """A car 2 m behind the plan's first point: the path's point at its projection is
    extrapolated back along the first segment, but its heading is the first point's (the
    fraction along the segment clamped to [0, 1]): heading 0, so the path's pursuit term is
    0 like the car's (target 4 m ahead on the axis, ``max(4, 0.9 * 2)``), and the steering is
    the feed-forward of the first segment alone, ``(0.1 - 0) / 1 m``: ``atan(3.09 * 0.1)``."""
    t = np.arange(81) * 0.1
    yaw = np.r_[0.0, np.full(80, 0.1)]
    plan = _plan(t, 10.0 * t, np.full(81, 10.0), yaw)
    _, steer = TrajectoryTracker().step(BicycleState.of(-2.0, 0.0, 0.0, 2.0), plan, 0, 0.1)
    assert steer == pytest.approx(math.atan(WHEELBASE_M * 0.1), abs=1e-9)


def test_tracker_stop_time_is_where_the_plan_speed_reaches_zero() -> None:
    """A plan whose speed goes linearly from 0.5 m/s at 0 s to 0 at 0.15 s comes to rest at
    0.15 s, inside the 0.2 s preview: the feed-forward is the mean acceleration up to that
    stop, ``(0 - 0.5) / max(dt 0.1, 0.15) = -3.33`` m/s^2, with no speed error now (not
    -0.5 / 0.2 = -2.5 over the whole preview). A plan going on below 0 (reversing) is
    refused."""
    plan = _plan(np.array([0.0, 0.15, 2.0]), np.zeros(3), np.array([0.5, 0.0, 0.0]))
    accel, _ = TrajectoryTracker().step(BicycleState.of(0.0, 0.0, 0.0, 0.5), plan, 0, 0.1)
    assert accel == pytest.approx(-0.5 / 0.15, abs=1e-9)
    reversing = _plan(np.array([0.0, 0.2, 2.0]), np.zeros(3), np.array([0.5, -0.5, -0.5]))
    with pytest.raises(ValueError, match=r"speed_mps\[1\] is -0\.5 m/s"):
        TrajectoryTracker().step(BicycleState.of(0.0, 0.0, 0.0, 0.5), reversing, 0, 0.1)


# --- stop signs -----------------------------------------------------------------------------


def test_all_way_arrival_counts_a_front_exactly_window_m_before_the_line() -> None:
    """An actor comes to a stop at an all-way line with its front at most ``window_m`` (3 m)
    before it. The junction's west line lies at station 146 of ``west_in`` (x -160 -> -10 m
    at y -1.75; the line at x = -14): a 4.5 m car standing with its centre at x = -19.25 has
    its front at station 140.75 + 2.25 = 143, exactly 3 m before the line: recorded at the
    west line (index 3 of the lines in sign-id order east, north, south, west) since t = 0.
    1 cm farther back (3.01 m) it is not recorded."""
    road = four_way_intersection(stop_sign_arms=4)
    lanes = ["south_in", "south_to_north", "north_out"]
    (stop,) = route_sign_stops(road, lanes, ReferencePath.from_route(road, lanes))
    assert [line.lane_id for line in stop.lines] == ["east_in", "north_in", "south_in", "west_in"]
    for x_m, want in ((-19.25, (3, 0)), (-19.26, None)):
        order = ArrivalOrder(stop.lines)
        assert order.window_m == 3.0
        order.observe(["w"], np.array([[x_m, -1.75]]), np.zeros(1), np.zeros(1), np.array([4.5]), 0)
        assert order.arrival("w") == want, x_m
