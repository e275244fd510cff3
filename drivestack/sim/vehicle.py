"""Kinematic bicycle model of the ego (rear-axle reference), vectorised over a batch.

State per batch element: ``x_m, y_m, yaw_rad, speed_mps, acceleration_mps2, steering_rad``.
Commands are a requested acceleration and front-wheel angle; the model applies, in order, the
acceleration range, the jerk limit, the steering-angle range and the steering-rate limit.
Speed never goes negative (no reversing): a braking step stops exactly at zero, and such a
step records its mean acceleration, the change of speed over the step divided by ``dt``
(a car that stops 3 ms into a 0.1 s step at 9 m/s^2 records -0.27 m/s^2, not -9), 0 for a car
already at rest: the recorded acceleration is what the speeds say, as the comfort metrics read
it. That is the one place the recorded acceleration may change faster than ``max_jerk``: coming
to rest ends the braking within the step (the jerk limit holds the command while moving).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields

import numpy as np
import numpy.typing as npt
from numba import njit

from drivestack.structures._checks import check_number, check_number_fields


@dataclass(frozen=True)
class VehicleParams:
    """Geometry and actuator limits (defaults: a mid-size car, like nuPlan's Pacifica).

    nuplan-devkit's ``get_pacifica_parameters`` is 5.176 x 2.297 x 1.777 m with a 3.089 m
    wheelbase and its rear bumper 1.127 m behind the rear axle (box centre 1.461 m ahead of
    it); the sizes here are those rounded to the centimetre, but the rear overhang is 1.03 m
    (centre 1.56 m ahead of the axle), so a nuPlan-style rule that looks from the rear axle
    looks from about 0.1 m further back than nuPlan's would. Scenario timings in
    ``configs/scenarios`` and the golden runs are worked out with these values."""

    wheelbase_m: float = 3.09
    length_m: float = 5.18
    width_m: float = 2.30
    height_m: float = 1.78
    rear_overhang_m: float = 1.03  # rear bumper to rear axle
    max_accel_mps2: float = 3.0
    max_decel_mps2: float = 9.0
    max_jerk_mps3: float = 40.0
    max_steering_rad: float = 0.6
    max_steering_rate_radps: float = 0.8

    def __post_init__(self) -> None:
        """``TypeError`` / ``ValueError`` naming the field unless every value is a finite
        number > 0 (``rear_overhang_m`` >= 0 and shorter than ``length_m``;
        ``max_steering_rad`` below pi / 2)."""
        bounded = ("rear_overhang_m", "max_steering_rad")  # checked with their own bounds
        positive = [f.name for f in fields(self) if f.name not in bounded]
        check_number_fields(self, positive, above=0.0)
        check_number_fields(self, ["rear_overhang_m"], at_least=0.0, below=self.length_m)
        check_number_fields(self, ["max_steering_rad"], above=0.0, below=math.pi / 2)

    @property
    def center_offset_m(self) -> float:
        """Distance from the rear axle forward to the box centre."""
        return self.length_m / 2 - self.rear_overhang_m

    @property
    def limits(self) -> tuple[float, float, float, float, float, float]:
        """``(wheelbase, max_accel, max_decel, max_jerk, max_steering, max_steering_rate)``."""
        return (
            self.wheelbase_m,
            self.max_accel_mps2,
            self.max_decel_mps2,
            self.max_jerk_mps3,
            self.max_steering_rad,
            self.max_steering_rate_radps,
        )

    @property
    def front_offset_m(self) -> float:
        """Distance from the rear axle to the front bumper."""
        return self.length_m - self.rear_overhang_m


@dataclass(frozen=True)
class BicycleState:
    """Batched ego states: every field is ``(B,)`` float64 (B may be 1)."""

    x_m: np.ndarray
    y_m: np.ndarray
    yaw_rad: np.ndarray
    speed_mps: np.ndarray
    acceleration_mps2: np.ndarray
    steering_rad: np.ndarray

    @classmethod
    def of(
        cls,
        x_m: npt.ArrayLike,
        y_m: npt.ArrayLike,
        yaw_rad: npt.ArrayLike,
        speed_mps: npt.ArrayLike,
        acceleration_mps2: npt.ArrayLike = 0.0,
        steering_rad: npt.ArrayLike = 0.0,
        batch: int | None = None,
    ) -> BicycleState:
        fields = np.broadcast_arrays(
            *(
                np.asarray(v, dtype=np.float64).reshape(-1)
                for v in (x_m, y_m, yaw_rad, speed_mps, acceleration_mps2, steering_rad)
            )
        )
        sized = (
            [np.broadcast_to(f, (batch,)) for f in fields] if batch is not None else list(fields)
        )
        return cls(*(np.array(f, dtype=np.float64) for f in sized))

    def boxes(self, params: VehicleParams) -> np.ndarray:
        """``(B, 7)`` footprints ``[x, y, z, l, w, h, yaw]`` (geometric centre)."""
        c, s = np.cos(self.yaw_rad), np.sin(self.yaw_rad)
        off = params.center_offset_m
        b = len(self.x_m)
        return np.stack(
            [
                self.x_m + off * c,
                self.y_m + off * s,
                np.full(b, params.height_m / 2),
                np.full(b, params.length_m),
                np.full(b, params.width_m),
                np.full(b, params.height_m),
                self.yaw_rad,
            ],
            axis=1,
        )


@njit(cache=True)
def bicycle_update(
    x: float,
    y: float,
    yaw: float,
    v: float,
    a_prev: float,
    steer_prev: float,
    accel_cmd: float,
    steer_cmd: float,
    dt: float,
    limits: tuple,
) -> tuple[float, float, float, float, float, float]:
    """One scalar step (see :func:`bicycle_step`); ``limits`` from :meth:`VehicleParams.limits`."""
    wheelbase, max_accel, max_decel, max_jerk, max_steer, max_steer_rate = limits
    a = min(max(accel_cmd, -max_decel), max_accel)
    a = min(max(a, a_prev - max_jerk * dt), a_prev + max_jerk * dt)
    d = min(max(steer_cmd, -max_steer), max_steer)
    d = min(max(d, steer_prev - max_steer_rate * dt), steer_prev + max_steer_rate * dt)
    v1 = v + a * dt
    moving = dt
    if v1 < 0.0:
        moving = v / -a if v > 0.0 else 0.0  # stops inside the step
        v1 = 0.0
        # the step's mean acceleration (0 at rest): the braking ends when the car stops
        a = -v / dt if v > 0.0 else 0.0
    dist = 0.5 * (v + v1) * moving
    dyaw = dist * math.tan(d) / wheelbase
    mid = yaw + 0.5 * dyaw
    yaw1 = (yaw + dyaw + math.pi) % (2.0 * math.pi) - math.pi
    return x + dist * math.cos(mid), y + dist * math.sin(mid), yaw1, v1, a, d


@njit(cache=True)
def _bicycle_batch(x, y, yaw, v, a, steer, accel_cmd, steer_cmd, dt, limits):
    n = x.shape[0]
    out = np.empty((6, n))
    for i in range(n):
        r = bicycle_update(
            x[i], y[i], yaw[i], v[i], a[i], steer[i], accel_cmd[i], steer_cmd[i], dt, limits
        )
        for j in range(6):
            out[j, i] = r[j]
    return out


def bicycle_step(
    state: BicycleState,
    accel_cmd_mps2: npt.ArrayLike,
    steering_cmd_rad: npt.ArrayLike,
    dt_s: float,
    params: VehicleParams,
) -> BicycleState:
    """Advance ``(B,)`` states by ``dt_s`` under the commands (broadcast to ``(B,)``).

    Order of limits: acceleration range, jerk, steering range, steering rate. The limited
    acceleration ``a`` and steering ``delta`` are held over the step; position uses the mean
    speed over the time actually moving and the mid-step heading, ``yaw' = v tan(delta) / L``;
    a step that comes to rest records its mean acceleration (see the module docstring).
    ``ValueError`` unless ``dt_s`` is a finite step > 0 s (the model does not run backwards).
    """
    check_number("bicycle_step: dt_s", dt_s, above=0.0)
    n = len(state.x_m)
    accel = np.broadcast_to(np.asarray(accel_cmd_mps2, dtype=np.float64), (n,))
    steer = np.broadcast_to(np.asarray(steering_cmd_rad, dtype=np.float64), (n,))
    out = _bicycle_batch(
        state.x_m,
        state.y_m,
        state.yaw_rad,
        state.speed_mps,
        state.acceleration_mps2,
        state.steering_rad,
        np.ascontiguousarray(accel),
        np.ascontiguousarray(steer),
        float(dt_s),
        params.limits,
    )
    return BicycleState(out[0], out[1], out[2], out[3], out[4], out[5])
