"""Stationary and CTRV forecasts: CTRV is exact on a constant-turn track (property), the
straight-line limit is the constant-velocity forecast, a decaying turn straightens out."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from drivestack.prediction import constant_velocity_forecast
from drivestack.prediction.kinematic import ctrv_forecast, stationary_forecast
from drivestack.structures.boxes import Boxes3D


def _agent(x: float, y: float, yaw: float, vx: float, vy: float, label: int = 1) -> Boxes3D:
    return Boxes3D.from_array7(
        [[x, y, 0.8, 4.5, 1.9, 1.6, yaw]], "world", label=[label], velocity_mps=[[vx, vy]]
    )


def test_stationary_keeps_every_box_and_has_zero_speed() -> None:
    agents = Boxes3D.from_array7(
        [[1.0, 2.0, 0.5, 4.0, 2.0, 1.5, 0.3], [5.0, -1.0, 0.9, 0.6, 0.6, 1.8, -2.0]],
        "world",
        label=[1, 2],
        velocity_mps=[[10.0, 0.0], [1.0, 1.0]],
    )
    f = stationary_forecast(agents, 2.0, 0.5)
    assert f.boxes.shape == (2, 5, 7)
    assert np.array_equal(f.boxes, np.repeat(agents.to_array7()[:, None], 5, axis=1))
    assert not f.speed_mps.any()


@settings(max_examples=60, deadline=None)
@given(
    x0=st.floats(-100, 100),
    y0=st.floats(-100, 100),
    theta0=st.floats(-math.pi, math.pi - 1e-6),
    speed=st.floats(0.5, 30.0),
    omega=st.floats(-1.0, 1.0).filter(lambda w: abs(w) > 1e-3),
)
def test_ctrv_is_exact_on_a_constant_turn_track(
    x0: float, y0: float, theta0: float, speed: float, omega: float
) -> None:
    # the synthetic track: a circle of radius v / omega, sampled at 0.1 s for 3 s
    dt, n = 0.1, 30
    t = np.arange(n + 1) * dt
    heading = theta0 + omega * t
    r = speed / omega
    cx, cy = x0 - r * math.sin(theta0), y0 + r * math.cos(theta0)
    truth = np.stack([cx + r * np.sin(heading), cy - r * np.cos(heading)], axis=1)
    agent = _agent(x0, y0, theta0, speed * math.cos(theta0), speed * math.sin(theta0))
    f = ctrv_forecast(agent, [omega], n * dt, dt)
    np.testing.assert_allclose(f.boxes[0, :, 0:2], truth, atol=1e-6 * max(1.0, abs(r)))
    yaw_err = np.remainder(f.boxes[0, :, 6] - heading + math.pi, 2 * math.pi) - math.pi
    np.testing.assert_allclose(yaw_err, 0.0, atol=1e-9)
    np.testing.assert_allclose(f.speed_mps, speed)
    # the track's speed is constant: successive points are v*dt apart along the arc
    chord = np.hypot(*np.diff(f.boxes[0, :, 0:2], axis=0).T)
    np.testing.assert_allclose(chord, 2 * abs(r) * abs(math.sin(omega * dt / 2)), rtol=1e-6)


def test_ctrv_without_turn_is_constant_velocity_and_moves_along_the_velocity() -> None:
    # box yaw 1.0 rad, velocity along +x: the box slides along x (the velocity's direction)
    agent = _agent(3.0, 4.0, 1.0, 5.0, 0.0)
    f = ctrv_forecast(agent, [0.0], 2.0, 0.5)
    cv = constant_velocity_forecast(agent, 2.0, 0.5)
    np.testing.assert_allclose(f.boxes, cv.boxes, atol=1e-12)
    assert f.boxes[0, -1, 0] == pytest.approx(13.0)


def test_a_decaying_turn_ends_straighter_and_huge_decay_is_the_constant_turn() -> None:
    agent = _agent(0.0, 0.0, 0.0, 10.0, 0.0)
    undamped = ctrv_forecast(agent, [0.4], 3.0, 0.1)
    damped = ctrv_forecast(agent, [0.4], 3.0, 0.1, yaw_rate_decay_s=1.0)
    slow = ctrv_forecast(agent, [0.4], 3.0, 0.1, yaw_rate_decay_s=1e9)
    # heading after 3 s: 0.4 * 1 * (1 - e^-3) = 0.380 rad against 1.2 rad undamped
    assert damped.boxes[0, -1, 6] == pytest.approx(0.4 * (1 - math.exp(-3.0)))
    assert undamped.boxes[0, -1, 6] == pytest.approx(1.2)
    assert abs(damped.boxes[0, -1, 1]) < abs(undamped.boxes[0, -1, 1])
    np.testing.assert_allclose(slow.boxes[0, :, 0:2], undamped.boxes[0, :, 0:2], atol=1e-3)


def test_ctrv_refuses_bad_yaw_rates_and_decay() -> None:
    agent = _agent(0.0, 0.0, 0.0, 1.0, 0.0)
    with pytest.raises(ValueError, match=r"yaw_rate_radps must be \(1,\) finite"):
        ctrv_forecast(agent, [0.1, 0.2], 1.0, 0.1)
    with pytest.raises(ValueError, match=r"yaw_rate_radps"):
        ctrv_forecast(agent, [float("nan")], 1.0, 0.1)
    with pytest.raises(ValueError, match=r"yaw_rate_decay_s must be None or > 0"):
        ctrv_forecast(agent, [0.1], 1.0, 0.1, yaw_rate_decay_s=0.0)


def test_a_non_finite_yaw_rate_is_named() -> None:
    agents = Boxes3D.from_array7(
        [[0, 0, 0.8, 4.5, 1.9, 1.6, 0.0]] * 2, "world", label=[1, 1], velocity_mps=[[1, 0]] * 2
    )
    with pytest.raises(ValueError, match=r"yaw_rate_radps\[1\] is nan, not a finite rate"):
        ctrv_forecast(agents, [0.1, float("nan")], 1.0, 0.1)
