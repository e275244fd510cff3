"""CTRV with a decaying yaw rate (``ctrv_forecast(..., yaw_rate_decay_s=tau)``): the positions
are the integral of the velocity along the decaying turn's heading,
``p(t) = p0 + integral_0^t v (cos, sin)(theta0 + omega tau (1 - exp(-s / tau))) ds``, checked
step by step against ``scipy.integrate.quad``."""

from __future__ import annotations

import math

import numpy as np
from scipy.integrate import quad

from drivestack.prediction.kinematic import _DECAY_SUBSTEPS, ctrv_forecast
from drivestack.structures.boxes import Boxes3D

SPEED_MPS = 10.0
OMEGA_RADPS = 0.4
TAU_S = 1.0
HORIZON_S = 3.0
DT_S = 0.1
N_STEPS = 30


def _heading_rad(t_s: float) -> float:
    return OMEGA_RADPS * TAU_S * (1.0 - math.exp(-t_s / TAU_S))


def _exact_position_m(t_s: float) -> tuple[float, float]:
    """The decaying turn's position at ``t_s`` from the origin, heading 0 at t = 0."""
    kw = {"epsabs": 1e-12, "epsrel": 1e-12}
    x = quad(lambda s: SPEED_MPS * math.cos(_heading_rad(s)), 0.0, t_s, **kw)[0]
    y = quad(lambda s: SPEED_MPS * math.sin(_heading_rad(s)), 0.0, t_s, **kw)[0]
    return x, y


def _trapezoid_error_bound_m() -> float:
    """The composite trapezoid rule's error bound ``T h^2 / 12 max|f''|`` for the code's
    scheme (``_DECAY_SUBSTEPS`` = 20 sub-steps per 0.1 s step: h = 0.005 s) on
    ``f = v (cos, sin)(theta)``: ``|f''| = v |theta'' (-sin, cos) - theta'^2 (cos, sin)|
    <= v (|theta''| + theta'^2) <= v (omega / tau + omega^2)`` (theta' = omega e^{-t/tau})."""
    h = DT_S / _DECAY_SUBSTEPS
    f2_max = SPEED_MPS * (OMEGA_RADPS / TAU_S + OMEGA_RADPS**2)
    return HORIZON_S * h**2 / 12.0 * f2_max  # 3 * 0.005^2 / 12 * 5.6 = 3.5e-5 m


def _agent() -> Boxes3D:
    # at the origin, box yaw 0, driving along +x at 10 m/s
    return Boxes3D.from_array7(
        [[0.0, 0.0, 0.8, 4.5, 1.9, 1.6, 0.0]], "world", label=[1], velocity_mps=[[SPEED_MPS, 0.0]]
    )


def test_decaying_turn_final_position_is_the_integral_of_the_velocity() -> None:
    f = ctrv_forecast(_agent(), [OMEGA_RADPS], HORIZON_S, DT_S, yaw_rate_decay_s=TAU_S)
    assert f.boxes.shape == (1, N_STEPS + 1, 7)
    x, y = _exact_position_m(HORIZON_S)
    # integral_0^3 10 (cos, sin)(0.4 (1 - e^{-t})) dt = (28.7331..., 8.0600...)
    np.testing.assert_allclose([x, y], [28.7331, 8.0600], atol=5e-5)
    np.testing.assert_allclose(f.boxes[0, -1, 0:2], [x, y], rtol=0, atol=_trapezoid_error_bound_m())


def test_decaying_turn_positions_at_every_step() -> None:
    f = ctrv_forecast(_agent(), [OMEGA_RADPS], HORIZON_S, DT_S, yaw_rate_decay_s=TAU_S)
    t = np.arange(N_STEPS + 1) * DT_S
    exact = np.array([_exact_position_m(float(tk)) for tk in t])
    np.testing.assert_allclose(f.boxes[0, :, 0:2], exact, rtol=0, atol=_trapezoid_error_bound_m())
    # the box turns with the heading, 0.4 (1 - e^{-t}), and keeps its speed
    heading = np.array([_heading_rad(float(tk)) for tk in t])
    np.testing.assert_allclose(f.boxes[0, :, 6], heading, rtol=0, atol=1e-12)
    np.testing.assert_allclose(f.speed_mps[0], SPEED_MPS)
    # the decay matters: the undamped turn (heading 0.4 t) ends 1.2 rad round, far from here
    undamped = ctrv_forecast(_agent(), [OMEGA_RADPS], HORIZON_S, DT_S)
    assert np.hypot(*(undamped.boxes[0, -1, 0:2] - exact[-1])) > 1.0
