"""Steering along the plan's curvature with pure-pursuit correction, and PI + feed-forward
speed control, that track a planned Trajectory.

Commands stay inside the vehicle's limits: the acceleration in ``[-max_decel, max_accel]``,
the front-wheel angle in ``[-max_steering, max_steering]`` of the tracker's
:class:`~drivestack.sim.vehicle.VehicleParams`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields

import numpy as np
import numpy.typing as npt
from numba import njit

from drivestack.sim.vehicle import BicycleState, VehicleParams
from drivestack.structures._checks import check_number_fields
from drivestack.structures.trajectory import Trajectory

_STATE_FIELDS = ("x_m", "y_m", "yaw_rad", "speed_mps", "acceleration_mps2", "steering_rad")


@dataclass(frozen=True)
class TrackerParams:
    lookahead_time_s: float = 0.9
    min_lookahead_m: float = 4.0
    speed_kp: float = 1.0  # 1/s on the speed error
    speed_ki: float = 0.1  # 1/s^2 on its integral
    integral_limit_mps: float = 2.0
    # the acceleration feed-forward is the plan's mean acceleration over this long ahead (over
    # the step when that is longer), or up to the plan's first standstill within it (at least
    # one step) when it comes to rest sooner
    preview_s: float = 0.2
    # the state may be at most this far from the plan's path (else ValueError: a plan in
    # another frame, or one made for another place)
    max_distance_from_plan_m: float = 10.0
    # a plan still slowing below this speed is a stop: the car is braked to rest instead of
    # following the plan's ever slower approach (an IDM-style stop never reaches 0 in time);
    # a plan creeping at a steady slow speed is followed. nuPlan's LQR tracker switches to its
    # stopping controller below the same 0.2 m/s (its stopping_velocity)
    stopping_speed_mps: float = 0.2

    def __post_init__(self) -> None:
        """``TypeError`` / ``ValueError`` naming the field unless every value is a finite
        number, ``min_lookahead_m > 0``, ``max_distance_from_plan_m > 0`` and the others
        >= 0."""
        positive = ["min_lookahead_m", "max_distance_from_plan_m"]
        check_number_fields(self, positive, above=0.0)
        others = [f.name for f in fields(self) if f.name not in positive]
        check_number_fields(self, others, at_least=0.0)


@njit(cache=True)
def feed_forward_steering_scalar(
    alpha_rad,
    distance_m,
    path_alpha_rad,
    path_distance_m,
    curvature_1pm,
    wheelbase_m,
    max_steering_rad,
):  # pragma: no cover - compiled
    """Front-wheel angle that follows a path of curvature ``curvature_1pm`` here (the
    feed-forward), corrected by pure pursuit of a target on it: ``delta = atan(L (kappa +
    2 sin(alpha) / d - 2 sin(alpha_p) / d_p))``, with ``alpha``, ``d`` the target's bearing
    and distance from the vehicle (as :func:`pursuit_steering_scalar`) and ``alpha_p``,
    ``d_p`` those from the path's own point here, along the path's heading there. On the path
    and along it the two pursuit terms cancel and the vehicle turns with the path; off it
    they are pure pursuit's correction. Plain pure pursuit steers onto the chord to the
    target: from a lookahead ``L_a`` before a bend it turns in early and cuts the bend by up
    to about ``L_a^2 / (2 R)`` (0.66 m from 100 km/h into a 58 m radius lane, closed loop),
    which the ``alpha_p`` term removes. A target behind (``|alpha| > pi / 2``) gets full lock
    towards its side, as pure pursuit. Clamped to ``+-max_steering_rad``."""
    s = math.sin(alpha_rad)
    if math.cos(alpha_rad) < 0.0:
        return -max_steering_rad if s < -1e-12 else max_steering_rad
    kappa = (
        curvature_1pm
        + 2.0 * s / max(distance_m, 1e-3)
        - 2.0 * math.sin(path_alpha_rad) / max(path_distance_m, 1e-3)
    )
    steer = math.atan(wheelbase_m * kappa)
    return min(max(steer, -max_steering_rad), max_steering_rad)


@njit(cache=True)
def pursuit_steering_scalar(alpha_rad, distance_m, wheelbase_m, max_steering_rad):
    """Front-wheel angle for a target at bearing ``alpha_rad`` (vehicle frame, any multiple of
    2 pi) and ``distance_m`` from the rear axle, within ``[-max_steering_rad, max_steering_rad]``.

    ``delta = atan(2 L sin(alpha) / d)`` while the target is ahead (``cos(alpha) >= 0``); a
    target behind (``|alpha| > pi / 2``) gets full lock towards its side (left when dead behind),
    so the vehicle turns round to it instead of driving away: :func:`feed_forward_steering_scalar`
    without its path terms.
    """
    return feed_forward_steering_scalar(
        alpha_rad, distance_m, 0.0, 1.0, 0.0, wheelbase_m, max_steering_rad
    )


def pure_pursuit_steering(
    state: BicycleState,
    target_xy_m: npt.ArrayLike,
    wheelbase_m: float,
    max_steering_rad: float = VehicleParams.max_steering_rad,
) -> np.ndarray:
    """Front-wheel angle ``(B,)`` that puts the rear axle on a circle through ``target_xy_m (B, 2)``.

    ``delta = atan(2 L sin(alpha) / d)``, with ``alpha`` the target's bearing in the vehicle
    frame and ``d`` its distance from the rear axle, clamped to ``+-max_steering_rad``; a target
    behind the vehicle (``|alpha| > pi / 2``) gets full lock towards its side (see
    :func:`pursuit_steering_scalar`).
    """
    target = np.asarray(target_xy_m, dtype=np.float64).reshape(-1, 2)
    dx = target[:, 0] - state.x_m
    dy = target[:, 1] - state.y_m
    alpha = np.arctan2(dy, dx) - state.yaw_rad
    dist = np.hypot(dx, dy)
    return np.array(
        [
            pursuit_steering_scalar(float(a), float(d), float(wheelbase_m), float(max_steering_rad))
            for a, d in zip(alpha, dist, strict=True)
        ],
        dtype=np.float64,
    )


def check_tracker_inputs(state: BicycleState, plan: Trajectory, time_ns: int, dt_s: float) -> None:
    """``ValueError`` naming the input unless ``state`` is one finite vehicle state, ``plan``
    has at least one sample, covers ``time_ns`` (see :func:`check_plan_covers`) and drives
    forwards (no speed below 0: a reversing plan is not tracked, its stop hold and pursuit
    point would push the car the wrong way) and ``dt_s`` is a finite step > 0 s."""
    if not (math.isfinite(dt_s) and dt_s > 0.0):
        raise ValueError(f"dt_s must be a finite time step > 0 s, got {dt_s!r}")
    n = len(np.asarray(state.x_m).reshape(-1))
    if n != 1:
        raise ValueError(f"state must hold exactly one vehicle (a batch of 1), got a batch of {n}")
    for name in _STATE_FIELDS:
        value = float(np.asarray(getattr(state, name)).reshape(-1)[0])
        if not math.isfinite(value):
            raise ValueError(f"state.{name} must be finite, got {value!r}")
    if len(plan) == 0:
        raise ValueError("plan is empty: the tracker needs a trajectory of at least one sample")
    check_plan_covers(plan, time_ns)
    reversing = np.flatnonzero(np.asarray(plan.speed_mps) < 0.0)
    if len(reversing):
        k = int(reversing[0])
        raise ValueError(
            f"plan speed_mps[{k}] is {float(plan.speed_mps[k])!r} m/s: the tracker follows "
            "forward plans only (speeds >= 0)"
        )


def check_plan_covers(plan: Trajectory, time_ns: int) -> None:
    """``ValueError`` unless ``plan.timestamp_ns[0] <= time_ns <= plan.timestamp_ns[-1]``.

    The tracker reads the plan by interpolation, clamped at its ends: a plan that does not
    cover the current time (a stale plan, or one stamped on another clock) would be read as
    its first or last sample, typically full braking to its end speed, with no message. A
    controller should not guess there: it refuses, and the caller (the stack's supervisor or
    the sim runner) decides the fallback, e.g. replanning or an emergency stop.
    """
    t0, t_end = int(plan.timestamp_ns[0]), int(plan.timestamp_ns[-1])
    if not t0 <= int(time_ns) <= t_end:
        raise ValueError(
            f"plan covers timestamp_ns [{t0}, {t_end}] but the tracker is at time_ns "
            f"{int(time_ns)}: replan (a stale plan, or a plan on another clock)"
        )


def distance_to_path_m(path_m: np.ndarray, point_m: np.ndarray) -> float:
    """Distance from ``point_m (2,)`` to the closest point of the polyline ``path_m (N, 2)``
    (N >= 1; repeated points allowed)."""
    a, d = path_m[:-1], np.diff(path_m, axis=0)
    seg2 = np.einsum("sk,sk->s", d, d)
    along = np.einsum("sk,sk->s", point_m - a, d)
    # each segment's closest point (its start for a segment of length 0), and every vertex
    t = np.clip(np.divide(along, seg2, out=np.zeros_like(seg2), where=seg2 > 0.0), 0.0, 1.0)
    closest = np.concatenate([a + t[:, None] * d, path_m])
    return float(np.min(np.hypot(*(closest - point_m).T)))


class TrajectoryTracker:
    """Stage: ``step(state, plan, time_ns) -> (accel_mps2, steering_rad)`` for one vehicle.

    Longitudinal: the plan's mean acceleration over the next ``max(dt_s, preview_s)`` (its
    change of speed over that time; the plan's ``acceleration_mps2`` is not read), or up to the
    plan's first standstill in that window (at least one step) when it comes to rest sooner, as
    feed-forward, plus PI on the speed error against the plan's speed at ``time_ns``; lateral:
    the curvature of the plan's path half a step ahead of the vehicle's projection on it (its
    change of heading over length: the plan's ``yaw_rad`` and positions are read, not its
    ``curvature_1pm``) as feed-forward, corrected by pure pursuit of the point
    ``max(min_lookahead_m, lookahead_time_s * speed)`` along the plan against the plan's own
    chord to it (:func:`feed_forward_steering_scalar`: on the plan it steers as the plan did,
    instead of cutting its bends). Both commands are clamped to ``vehicle``'s limits; while the
    acceleration command saturates, the integral does not grow further into the saturation
    (conditional-integration anti-windup).
    """

    def __init__(
        self, params: TrackerParams | None = None, vehicle: VehicleParams | None = None
    ) -> None:
        self.params = params or TrackerParams()
        self.vehicle = vehicle or VehicleParams()
        self._integral = 0.0
        self._last_time_ns: int | None = None

    def reset(self) -> None:
        self._integral = 0.0
        self._last_time_ns = None

    def step(
        self, state: BicycleState, plan: Trajectory, time_ns: int, dt_s: float = 0.1
    ) -> tuple[float, float]:
        """``(accel_mps2, steering_rad)`` for the single vehicle ``state`` (batch of 1) to
        follow ``plan``; ``ValueError`` for a batch, a non-finite state, an empty plan, a
        plan that does not cover ``time_ns`` (:func:`check_plan_covers`), a ``dt_s`` that
        is not > 0, a state more than ``params.max_distance_from_plan_m`` from the plan's
        path (a plan in another frame or for another place) or a ``time_ns`` earlier than the
        previous step's (time going backwards; :meth:`reset` starts afresh)."""
        check_tracker_inputs(state, plan, time_ns, dt_s)
        p = self.params
        if self._last_time_ns is not None and int(time_ns) < self._last_time_ns:
            raise ValueError(
                f"time_ns {int(time_ns)} is earlier than the previous step's "
                f"{self._last_time_ns}: time must not go backwards (reset() the tracker for a "
                "new run)"
            )
        x_m, y_m = float(state.x_m[0]), float(state.y_m[0])
        # the nearest plan point is never nearer than the path: the path's own (costlier)
        # distance only when that point is beyond the limit
        if float(np.min(np.hypot(plan.x_m - x_m, plan.y_m - y_m))) > p.max_distance_from_plan_m:
            off_m = distance_to_path_m(plan.xy_m, np.array([x_m, y_m]))
            if off_m > p.max_distance_from_plan_m:
                raise ValueError(
                    f"state at {[x_m, y_m]} is {off_m:.3f} m from the plan's path (more than "
                    f"max_distance_from_plan_m = {p.max_distance_from_plan_m} m): is the plan "
                    "in the state's frame, and made for this vehicle's position?"
                )
        self._last_time_ns = int(time_ns)
        plan_t = (plan.timestamp_ns - time_ns).astype(np.float64) * 1e-9
        # the speed error is taken now (the plan's speed at time_ns): the feed-forward already
        # carries the plan's change of speed over the step, so an error against the speed one
        # step ahead would count it twice (a stop would land about speed * dt_s short)
        target_speed = float(np.interp(0.0, plan_t, plan.speed_mps))
        # the car is held at standstill only while the plan stays stopped over the step (a plan
        # made from a standing car starts at speed 0 and moves off within it)
        step_end_speed = float(np.interp(dt_s, plan_t, plan.speed_mps))
        # feed-forward: the plan's mean acceleration over the coming step (the vehicle holds
        # the command over it), or over preview_s when that is longer, but only up to the
        # plan's stop when it stops sooner: a stop planned 0.1 s ahead is a stop within the
        # step, not half the deceleration over the preview (that took an emergency stop from
        # 0.45 m/s 0.3 s instead of one step)
        ahead_s = max(dt_s, p.preview_s)
        end_speed = float(np.interp(ahead_s, plan_t, plan.speed_mps))
        if target_speed > 0.0:
            # the plan's first standstill within the preview (ahead_s: none before its end),
            # also one it moves off from again before the preview ends
            stop_s = _stop_time_s(plan_t, plan.speed_mps, ahead_s)
            if stop_s < ahead_s or end_speed <= 0.0:
                ahead_s, end_speed = max(dt_s, stop_s), 0.0
        feed_forward = (end_speed - target_speed) / ahead_s
        accel = self._speed_command(
            target_speed, step_end_speed, feed_forward, float(state.speed_mps[0]), dt_s
        )
        return accel, self._steering_command(state, plan, dt_s)

    def _speed_command(
        self,
        target_speed_mps: float,
        step_end_speed_mps: float,
        feed_forward_mps2: float,
        speed_mps: float,
        dt_s: float,
    ) -> float:
        """PI + feed-forward acceleration within the vehicle's range; updates the integral
        unless that would push a saturated command further out."""
        p, v = self.params, self.vehicle
        error = target_speed_mps - speed_mps

        def integral_after(integral: float) -> float:
            out = min(max(integral, -p.integral_limit_mps), p.integral_limit_mps)
            if target_speed_mps < 0.05 and feed_forward_mps2 <= 0.0:
                out = min(out, 0.0)
            return out

        def command(integral: float) -> float:
            accel = feed_forward_mps2 + p.speed_kp * error + p.speed_ki * integral
            stopping = step_end_speed_mps <= 0.0 or (
                target_speed_mps < p.stopping_speed_mps and step_end_speed_mps < target_speed_mps
            )
            if stopping and speed_mps < 0.3:
                accel = min(accel, -1.0)  # bring the car to rest and hold it there
            return accel

        integral = integral_after(self._integral + error * dt_s)
        accel = command(integral)
        if (accel > v.max_accel_mps2 and error > 0.0) or (
            accel < -v.max_decel_mps2 and error < 0.0
        ):
            integral = integral_after(self._integral)  # anti-windup: hold while saturated
            accel = command(integral)
        self._integral = integral
        return min(max(accel, -v.max_decel_mps2), v.max_accel_mps2)

    def _steering_command(self, state: BicycleState, plan: Trajectory, dt_s: float) -> float:
        """Curvature feed-forward with pure-pursuit correction along the plan's path
        (:func:`_plan_steering`) within the steering range (the current angle when the plan's
        path is no longer than 1 m: its arc length, so a plan that ends where it starts, a
        full lap, still steers)."""
        p, v = self.params, self.vehicle
        steering = float(state.steering_rad[0])
        keep = _spread_samples(plan.xy_m, MIN_PATH_STEP_M)
        path = plan.xy_m[keep]
        if len(path) >= 2 and float(np.linalg.norm(np.diff(path, axis=0), axis=1).sum()) > 1.0:
            speed = float(state.speed_mps[0])
            steering = float(
                _plan_steering(
                    np.ascontiguousarray(path, dtype=np.float64),
                    np.unwrap(plan.yaw_rad[keep]),
                    float(state.x_m[0]),
                    float(state.y_m[0]),
                    float(state.yaw_rad[0]),
                    max(p.min_lookahead_m, p.lookahead_time_s * speed),
                    0.5 * speed * dt_s,
                    v.wheelbase_m,
                    v.max_steering_rad,
                )
            )
        return min(max(steering, -v.max_steering_rad), v.max_steering_rad)


#: Plan samples closer than this to the sample kept before them are dropped from the path
#: the steering follows (a standing plan repeats its point; a zero-length segment has no
#: direction).
MIN_PATH_STEP_M = 1e-3


def _spread_samples(xy_m: np.ndarray, min_step_m: float) -> np.ndarray:
    """``(N,) int`` indices of the samples of ``xy_m (N, 2)`` kept so that every step between
    kept ones is longer than ``min_step_m``: the first, then each sample that many from the one
    kept before it (a sample that jitters back to a kept point is dropped too; a run of short
    steps may go as a whole, each round dropping every sample too near its kept predecessor)."""
    keep = np.arange(len(xy_m))
    while len(keep) > 1:
        short = np.linalg.norm(np.diff(xy_m[keep], axis=0), axis=1) <= min_step_m
        if not short.any():
            break
        keep = np.concatenate([keep[:1], keep[1:][~short]])
    return keep


def _stop_time_s(plan_t_s: np.ndarray, speed_mps: np.ndarray, until_s: float) -> float:
    """When, in ``(0, until_s]`` seconds from now, the plan's speed ``(N,)`` at times
    ``plan_t_s (N,)`` (ascending; linear between samples) first comes down to 0, from a
    speed > 0 now; ``until_s`` when it does not."""
    inside = plan_t_s[(plan_t_s > 0.0) & (plan_t_s < until_s)]
    t = np.concatenate([[0.0], inside, [until_s]])
    v = np.interp(t, plan_t_s, speed_mps)
    at_rest = np.flatnonzero(v[1:] <= 0.0)
    if len(at_rest) == 0:
        return until_s
    j = int(at_rest[0]) + 1  # v[j - 1] > 0: v[0] is the caller's target speed, > 0
    return float(t[j - 1] + (t[j] - t[j - 1]) * v[j - 1] / (v[j - 1] - v[j]))


@njit(cache=True)
def _closest_on_polyline(path_m, x_m, y_m):  # pragma: no cover - compiled
    """``(stations (N,), seg_len (N-1,), idx, t)``: the ``(N, 2)`` polyline's stations and
    segment lengths, and the segment ``idx`` closest to ``(x_m, y_m)`` (ends clamped; ties:
    the lowest index) with the projection's fraction ``t`` along it (extrapolated before the
    first segment's start and past the last one's end, clamped to [0, 1] elsewhere):
    :func:`~drivestack.structures.road_map.project_to_polyline`'s arithmetic."""
    n_seg = path_m.shape[0] - 1
    seg_len = np.empty(n_seg)
    stations = np.empty(n_seg + 1)
    stations[0] = 0.0
    for i in range(n_seg):
        dx = path_m[i + 1, 0] - path_m[i, 0]
        dy = path_m[i + 1, 1] - path_m[i, 1]
        seg_len[i] = np.sqrt(dx * dx + dy * dy)
        stations[i + 1] = stations[i] + seg_len[i]
    best = np.inf
    idx = 0
    t_idx = 0.0
    for i in range(n_seg):
        dx = path_m[i + 1, 0] - path_m[i, 0]
        dy = path_m[i + 1, 1] - path_m[i, 1]
        rx = x_m - path_m[i, 0]
        ry = y_m - path_m[i, 1]
        t = (rx * dx + ry * dy) / (seg_len[i] * seg_len[i])
        tc = min(max(t, 0.0), 1.0)
        ex = x_m - (path_m[i, 0] + tc * dx)
        ey = y_m - (path_m[i, 1] + tc * dy)
        dist2 = ex * ex + ey * ey
        if dist2 < best or i == 0:
            best = dist2
            idx = i
            t_idx = t
    # the station is extrapolated before the start and past the end
    if idx > 0:
        t_idx = max(t_idx, 0.0)
    if idx < n_seg - 1:
        t_idx = min(t_idx, 1.0)
    return stations, seg_len, idx, t_idx


@njit(cache=True)
def _segment_at(stations, s):  # pragma: no cover - compiled
    """Index of the segment holding station ``s`` (the first / last outside the polyline)."""
    j = np.searchsorted(stations, s, side="right") - 1
    return min(max(j, 0), stations.shape[0] - 2)


@njit(cache=True)
def _lookahead_point(path_m, x_m, y_m, lookahead_m):  # pragma: no cover - compiled
    """``(1, 2)`` point ``lookahead_m`` along the ``(N, 2)`` polyline past the projection of
    ``(x_m, y_m)``: ``interpolate_polyline(path, project_to_polyline(path, p)[0] + lookahead)``
    in one pass, with the same arithmetic (so the same numbers)."""
    stations, seg_len, idx, t_idx = _closest_on_polyline(path_m, x_m, y_m)
    return _point_at_station(path_m, stations, (stations[idx] + t_idx * seg_len[idx]) + lookahead_m)


@njit(cache=True)
def _point_at_station(path_m, stations, s):  # pragma: no cover - compiled
    """``(1, 2)`` point at station ``s`` of the ``(N, 2)`` polyline ``path_m`` with stations
    ``stations (N,)`` (extrapolated past the ends): ``interpolate_polyline``'s arithmetic."""
    j = _segment_at(stations, s)
    u = (s - stations[j]) / (stations[j + 1] - stations[j])
    out = np.empty((1, 2))
    out[0, 0] = path_m[j, 0] + u * (path_m[j + 1, 0] - path_m[j, 0])
    out[0, 1] = path_m[j, 1] + u * (path_m[j + 1, 1] - path_m[j, 1])
    return out


@njit(cache=True)
def _plan_steering(
    path_m, yaw_rad, x_m, y_m, yaw_m, lookahead_m, ahead_m, wheelbase_m, max_steering_rad
):  # pragma: no cover - compiled
    """:func:`feed_forward_steering_scalar` along the ``(N, 2)`` polyline ``path_m`` with
    unwrapped headings ``yaw_rad (N,)``, for a vehicle at ``(x_m, y_m)`` heading ``yaw_m``:
    the target ``lookahead_m`` past its projection (:func:`_lookahead_point`), the path's own
    point and heading (linear in the headings) at the projection, and as feed-forward the
    curvature (heading change over length) of the segment ``ahead_m`` past it."""
    stations, seg_len, idx, t_idx = _closest_on_polyline(path_m, x_m, y_m)
    here = stations[idx] + t_idx * seg_len[idx]
    # _lookahead_point's target, from the projection already at hand
    target = _point_at_station(path_m, stations, here + lookahead_m)
    tx, ty = target[0, 0], target[0, 1]
    t_on = min(max(t_idx, 0.0), 1.0)
    px = path_m[idx, 0] + t_idx * (path_m[idx + 1, 0] - path_m[idx, 0])
    py = path_m[idx, 1] + t_idx * (path_m[idx + 1, 1] - path_m[idx, 1])
    heading = yaw_rad[idx] + t_on * (yaw_rad[idx + 1] - yaw_rad[idx])
    j = _segment_at(stations, here + ahead_m)
    kappa = (yaw_rad[j + 1] - yaw_rad[j]) / seg_len[j]
    return feed_forward_steering_scalar(
        math.atan2(ty - y_m, tx - x_m) - yaw_m,
        math.hypot(tx - x_m, ty - y_m),
        math.atan2(ty - py, tx - px) - heading,
        math.hypot(tx - px, ty - py),
        kappa,
        wheelbase_m,
        max_steering_rad,
    )
