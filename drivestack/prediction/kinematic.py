"""Map-free kinematic forecasts beside :func:`~drivestack.prediction.forecast.constant_velocity_forecast`:
stationary (constant position) and CTRV (constant turn rate and velocity).

Both return a single-mode :class:`~drivestack.prediction.forecast.Forecast` on the same time
grid as the constant-velocity forecast (``T = forecast_steps(horizon_s, dt_s)``, index 0 the
observed state), in the agents' frame.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

from drivestack.core.transforms import wrap_angle
from drivestack.prediction.forecast import Forecast, check_agents, forecast_steps
from drivestack.structures.boxes import Boxes3D

#: Below this yaw rate (rad/s) CTRV uses the straight-line limit of its formula (no division
#: by a vanishing rate; the straight line's offset from the arc, about v w t^2 / 2, is below
#: 3e-6 m over 10 s at 50 m/s).
STRAIGHT_YAW_RATE_RADPS = 1e-9

#: Sub-steps per forecast step when CTRV integrates a decaying yaw rate numerically.
_DECAY_SUBSTEPS = 20


def stationary_forecast(agents: Boxes3D, horizon_s: float, dt_s: float) -> Forecast:
    """Every box stays where it is, with its yaw; ``speed_mps`` is 0 (the baseline that any
    motion model has to beat on parked cars and standing pedestrians)."""
    check_agents(agents, "stationary_forecast")
    n_steps = forecast_steps(horizon_s, dt_s)
    boxes = np.repeat(agents.to_array7()[:, None, :], n_steps + 1, axis=1)
    return Forecast(dt_s, boxes, np.zeros(boxes.shape[:2]), agents.frame, agents.timestamp_ns)


def ctrv_forecast(
    agents: Boxes3D,
    yaw_rate_radps: npt.ArrayLike,
    horizon_s: float,
    dt_s: float,
    yaw_rate_decay_s: float | None = None,
) -> Forecast:
    """Constant turn rate and velocity: each agent drives at its speed ``|velocity_mps|``
    along a heading that starts at the velocity's direction and turns at ``yaw_rate_radps``;
    its box yaw turns by the same angle. With ``yaw_rate_decay_s = tau`` the turn rate decays
    as ``omega * exp(-t / tau)`` (heading ``theta0 + omega * tau * (1 - exp(-t / tau))``), a
    turn that straightens out; None keeps it constant.

    Undamped, the positions are the exact circular arc
    ``x(t) = x0 + v / omega * (sin(theta0 + omega t) - sin(theta0))``,
    ``y(t) = y0 - v / omega * (cos(theta0 + omega t) - cos(theta0))``
    (a straight line when ``|omega| < STRAIGHT_YAW_RATE_RADPS``); damped, they are integrated
    with the trapezoid rule on ``_DECAY_SUBSTEPS`` sub-steps per step. An agent at rest stays
    at rest (its box still turns). ``speed_mps`` is the speed (>= 0).

    Args:
        agents: ``A`` boxes with ``velocity_mps``, in any frame (the forecast's).
        yaw_rate_radps: ``(A,)`` finite turn rates, counter-clockwise positive.
        horizon_s, dt_s: as :func:`~drivestack.prediction.forecast.forecast_steps`.
        yaw_rate_decay_s: ``None`` or a finite time constant > 0 (s).

    Raises:
        TypeError: ``agents`` is not a ``Boxes3D``.
        ValueError: ``yaw_rate_radps`` is not ``(A,)`` finite numbers, ``yaw_rate_decay_s`` is
            not > 0, or the horizon and step as ``forecast_steps``.
    """
    check_agents(agents, "ctrv_forecast")
    omega = np.asarray(yaw_rate_radps, dtype=np.float64)
    if omega.shape != (len(agents),):
        raise ValueError(
            f"ctrv_forecast: yaw_rate_radps must be ({len(agents)},) finite rates, got shape "
            f"{omega.shape}"
        )
    if not np.isfinite(omega).all():
        i = int(np.flatnonzero(~np.isfinite(omega))[0])
        raise ValueError(
            f"ctrv_forecast: yaw_rate_radps[{i}] is {omega[i]}, not a finite rate (rad/s)"
        )
    if yaw_rate_decay_s is not None and not (
        math.isfinite(yaw_rate_decay_s) and yaw_rate_decay_s > 0.0
    ):
        raise ValueError(f"yaw_rate_decay_s must be None or > 0 s, got {yaw_rate_decay_s!r}")
    n_steps = forecast_steps(horizon_s, dt_s)
    t = np.arange(n_steps + 1) * dt_s  # (T+1,)
    vel = agents.velocity_mps
    speed = np.hypot(vel[:, 0], vel[:, 1])  # (A,)
    theta0 = np.arctan2(vel[:, 1], vel[:, 0])
    if yaw_rate_decay_s is None:
        turned = omega[:, None] * t[None]  # (A, T+1)
        dxy = _arc_displacement(speed, theta0, omega, t)
    else:
        turned = omega[:, None] * yaw_rate_decay_s * (1.0 - np.exp(-t[None] / yaw_rate_decay_s))
        dxy = _integrated_displacement(speed, theta0, omega, yaw_rate_decay_s, n_steps, dt_s)
    boxes = np.repeat(agents.to_array7()[:, None, :], n_steps + 1, axis=1)
    boxes[:, :, 0:2] += dxy
    boxes[:, :, 6] = wrap_angle(boxes[:, :, 6] + turned)
    speeds = np.repeat(speed[:, None], n_steps + 1, axis=1)
    return Forecast(dt_s, boxes, speeds, agents.frame, agents.timestamp_ns)


def _arc_displacement(
    speed: np.ndarray, theta0: np.ndarray, omega: np.ndarray, t: np.ndarray
) -> np.ndarray:
    """``(A, T+1, 2)`` displacement along circular arcs (straight lines for ``omega ~ 0``)."""
    straight = np.abs(omega) < STRAIGHT_YAW_RATE_RADPS
    w = np.where(straight, 1.0, omega)[:, None]
    th = theta0[:, None] + w * t[None]
    r = (speed / w[:, 0])[:, None]
    arc = np.stack(
        [r * (np.sin(th) - np.sin(theta0)[:, None]), -r * (np.cos(th) - np.cos(theta0)[:, None])],
        axis=-1,
    )
    line = (speed[:, None, None] * t[None, :, None]) * np.stack(
        [np.cos(theta0), np.sin(theta0)], axis=-1
    )[:, None, :]
    return np.where(straight[:, None, None], line, arc)


def _integrated_displacement(
    speed: np.ndarray,
    theta0: np.ndarray,
    omega: np.ndarray,
    tau: float,
    n_steps: int,
    dt_s: float,
) -> np.ndarray:
    """``(A, T+1, 2)`` displacement under a decaying turn rate (trapezoid rule)."""
    fine = np.arange(n_steps * _DECAY_SUBSTEPS + 1) * (dt_s / _DECAY_SUBSTEPS)
    theta = theta0[:, None] + omega[:, None] * tau * (1.0 - np.exp(-fine[None] / tau))
    vel = speed[:, None, None] * np.stack([np.cos(theta), np.sin(theta)], axis=-1)
    steps = 0.5 * (vel[:, 1:] + vel[:, :-1]) * (dt_s / _DECAY_SUBSTEPS)
    cum = np.concatenate([np.zeros_like(vel[:, :1]), np.cumsum(steps, axis=1)], axis=1)
    return cum[:, ::_DECAY_SUBSTEPS]
