"""Pure-pursuit steering and PID speed control that track a planned Trajectory."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from numba import njit

from drivestack.sim.vehicle import BicycleState, VehicleParams
from drivestack.structures.trajectory import Trajectory


@dataclass(frozen=True)
class TrackerParams:
    lookahead_time_s: float = 0.9
    min_lookahead_m: float = 4.0
    speed_kp: float = 1.0  # 1/s on the speed error
    speed_ki: float = 0.1  # 1/s^2 on its integral
    integral_limit_mps: float = 2.0
    preview_s: float = 0.2  # acceleration feed-forward is read this far ahead on the plan


def pure_pursuit_steering(
    state: BicycleState, target_xy_m: npt.ArrayLike, wheelbase_m: float
) -> np.ndarray:
    """Front-wheel angle ``(B,)`` that puts the rear axle on a circle through ``target_xy_m (B, 2)``.

    ``delta = atan(2 L sin(alpha) / d)``, with ``alpha`` the target's bearing in the vehicle
    frame and ``d`` its distance from the rear axle.
    """
    target = np.asarray(target_xy_m, dtype=np.float64).reshape(-1, 2)
    dx = target[:, 0] - state.x_m
    dy = target[:, 1] - state.y_m
    alpha = np.arctan2(dy, dx) - state.yaw_rad
    dist = np.maximum(np.hypot(dx, dy), 1e-3)
    return np.arctan(2.0 * wheelbase_m * np.sin(alpha) / dist)


class TrajectoryTracker:
    """Stage: ``step(state, plan, time_ns) -> (accel_mps2, steering_rad)`` for one vehicle."""

    def __init__(
        self, params: TrackerParams | None = None, vehicle: VehicleParams | None = None
    ) -> None:
        self.params = params or TrackerParams()
        self.vehicle = vehicle or VehicleParams()
        self._integral = 0.0

    def reset(self) -> None:
        self._integral = 0.0

    def step(
        self, state: BicycleState, plan: Trajectory, time_ns: int, dt_s: float = 0.1
    ) -> tuple[float, float]:
        p = self.params
        plan_t = (plan.timestamp_ns - time_ns).astype(np.float64) * 1e-9
        target_speed = float(np.interp(dt_s, plan_t, plan.speed_mps))
        feed_forward = float(np.interp(p.preview_s, plan_t, plan.acceleration_mps2))
        error = target_speed - float(state.speed_mps[0])
        self._integral = min(
            max(self._integral + error * dt_s, -p.integral_limit_mps), p.integral_limit_mps
        )
        if target_speed < 0.05 and feed_forward <= 0.0:
            self._integral = min(self._integral, 0.0)
        accel = feed_forward + p.speed_kp * error + p.speed_ki * self._integral
        if target_speed <= 0.0 and float(state.speed_mps[0]) < 0.3:
            accel = min(accel, -1.0)  # hold the car at standstill
        steering = float(state.steering_rad[0])
        xy = plan.xy_m
        keep = np.ones(len(xy), dtype=bool)
        keep[1:] = np.linalg.norm(np.diff(xy, axis=0), axis=1) > 1e-3
        path = xy[keep]
        if len(path) >= 2 and np.linalg.norm(path[-1] - path[0]) > 1.0:
            lookahead = max(p.min_lookahead_m, p.lookahead_time_s * float(state.speed_mps[0]))
            target = _lookahead_point(
                np.ascontiguousarray(path, dtype=np.float64),
                float(state.x_m[0]),
                float(state.y_m[0]),
                lookahead,
            )
            steering = float(pure_pursuit_steering(state, target, self.vehicle.wheelbase_m)[0])
        return accel, steering


@njit(cache=True)
def _lookahead_point(path_m, x_m, y_m, lookahead_m):  # pragma: no cover - compiled
    """``(1, 2)`` point ``lookahead_m`` along the ``(N, 2)`` polyline past the projection of
    ``(x_m, y_m)``: ``interpolate_polyline(path, project_to_polyline(path, p)[0] + lookahead)``
    in one pass, with the same arithmetic (so the same numbers)."""
    n_seg = path_m.shape[0] - 1
    seg_len = np.empty(n_seg)
    stations = np.empty(n_seg + 1)
    stations[0] = 0.0
    for i in range(n_seg):
        dx = path_m[i + 1, 0] - path_m[i, 0]
        dy = path_m[i + 1, 1] - path_m[i, 1]
        seg_len[i] = np.sqrt(dx * dx + dy * dy)
        stations[i + 1] = stations[i] + seg_len[i]
    # the closest segment, ends clamped (ties: the lowest index)
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
    s = (stations[idx] + t_idx * seg_len[idx]) + lookahead_m
    j = np.searchsorted(stations, s, side="right") - 1
    j = min(max(j, 0), n_seg - 1)
    seg = stations[j + 1] - stations[j]
    u = (s - stations[j]) / seg
    out = np.empty((1, 2))
    out[0, 0] = path_m[j, 0] + u * (path_m[j + 1, 0] - path_m[j, 0])
    out[0, 1] = path_m[j, 1] + u * (path_m[j + 1, 1] - path_m[j, 1])
    return out
