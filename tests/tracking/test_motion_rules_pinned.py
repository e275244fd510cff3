"""Motion-model rules no other test pins: the measured yaw's pi ambiguity in the update, the
yaw flip threshold, the CTRV Jacobian against finite differences of its own prediction, and
the constant-velocity model's vertical velocity."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from drivestack.tracking.config import MotionConfig
from drivestack.tracking.motion import (
    ConstantVelocityModel,
    CTRVModel,
    align_yaw,
    wrap,
)

CAR_BOX = np.array([[10.0, 0.0, 0.0, 4.0, 2.0, 1.5, 0.0]])
#: the CTRV model predicts straight ahead below this yaw rate (``turning`` in ``predict``)
CTRV_STRAIGHT_LINE_YAW_RATE = 1e-4
#: a state slot that CTRV's prediction leaves alone (the box length): its Jacobian column
#: is the unit vector, which lets the test read F off the predicted covariance
LENGTH_SLOT = 4
YAW_SLOT = 3


# -- the update's yaw alignment ----------------------------------------------------------------
def test_update_with_the_same_box_turned_by_pi_keeps_the_heading() -> None:
    # a detector's box yaw is an axis: the box at yaw pi - 0.02 is the box at -0.02, so the
    # update may turn the track by at most 0.02, not swing it towards pi
    model = ConstantVelocityModel(MotionConfig(model="cv"))
    x, P = model.initiate(CAR_BOX)
    turned = CAR_BOX.copy()
    turned[0, 6] = math.pi - 0.02
    x_new, _ = model.update(x, P, turned)
    assert abs(x_new[0, YAW_SLOT]) < 0.02
    assert abs(model.boxes(x_new)[0, 6]) < 0.02
    np.testing.assert_allclose(x_new[0, :3], CAR_BOX[0, :3], atol=1e-12)


def test_align_yaw_flips_a_measurement_more_than_a_right_angle_off() -> None:
    assert align_yaw(np.array([3.0]), np.array([0.0]))[0] == pytest.approx(3.0 - math.pi)


# -- the flip threshold is pi/2 ------------------------------------------------------------------
def test_align_yaw_flips_just_beyond_a_right_angle() -> None:
    # 2.0 rad is beyond pi/2 (1.571) but within 3 pi/4 (2.356): flipped
    assert align_yaw(np.array([2.0]), np.array([0.0]))[0] == pytest.approx(2.0 - math.pi)


def test_align_yaw_keeps_a_measurement_within_a_right_angle() -> None:
    assert align_yaw(np.array([1.5]), np.array([0.0]))[0] == pytest.approx(1.5)
    assert align_yaw(np.array([-1.5]), np.array([0.0]))[0] == pytest.approx(-1.5)


@settings(max_examples=300, deadline=None)
@given(
    st.floats(-20.0, 20.0, allow_nan=False, allow_infinity=False),
    st.floats(-20.0, 20.0, allow_nan=False, allow_infinity=False),
)
def test_aligned_yaw_is_within_a_right_angle_and_the_same_axis(
    measured: float, predicted: float
) -> None:
    got = float(align_yaw(np.array([measured]), np.array([predicted]))[0])
    assert abs(got - predicted) <= 0.5 * math.pi + 1e-9
    # the same axis: equal to the measurement modulo pi
    assert abs(math.sin(got - measured)) <= 1e-9


# -- the CTRV Jacobian -------------------------------------------------------------------------
def _ctrv_state(yaw: float, yaw_rate: float, speed: float = 10.0) -> np.ndarray:
    # [x, y, z, yaw, l, w, h, v, yaw_rate]
    return np.array([1.0, -2.0, 0.5, yaw, 4.0, 2.0, 1.5, speed, yaw_rate])


def _predicted_mean(model: CTRVModel, state: np.ndarray, dt_s: float) -> np.ndarray:
    dim = model.state_dim
    x_new, _ = model.predict(state[None, :], np.zeros((1, dim, dim)), dt_s)
    return x_new[0]


def _finite_difference_jacobian(model: CTRVModel, state: np.ndarray, dt_s: float) -> np.ndarray:
    """Central differences of ``predict``'s mean. The yaw-rate step (1e-3) is well above the
    straight-line threshold, so both sides of a (near-)zero yaw rate take the exact turning
    motion, whose derivative at 0 is the straight line's EKF Jacobian; the straight-line
    branch itself ignores the yaw rate in x and y."""
    dim = model.state_dim
    jac = np.empty((dim, dim))
    for j in range(dim):
        step = 1e-3 if j == dim - 1 else 1e-6
        hi, lo = state.copy(), state.copy()
        hi[j] += step
        lo[j] -= step
        diff = _predicted_mean(model, hi, dt_s) - _predicted_mean(model, lo, dt_s)
        diff[YAW_SLOT] = wrap(diff[YAW_SLOT])
        jac[:, j] = diff / (2.0 * step)
    return jac


def _jacobian_used_by_predict(model: CTRVModel, state: np.ndarray, dt_s: float) -> np.ndarray:
    """F read off ``P' = F P F^T + Q``: with ``P = E_{j,l}`` (a single 1 at row j, column l of
    the box length, whose column of F is the unit vector) ``P' - Q`` has column l equal to
    F's column j."""
    dim = model.state_dim
    states = np.repeat(state[None, :], dim + 1, axis=0)
    P = np.zeros((dim + 1, dim, dim))
    for j in range(dim):
        P[j, j, LENGTH_SLOT] = 1.0
    _, P_new = model.predict(states, P, dt_s)
    Q = P_new[dim]  # from P = 0
    return np.stack([(P_new[j] - Q)[:, LENGTH_SLOT] for j in range(dim)], axis=1)


CTRV_CASES = [
    pytest.param(0.0, 0.3, id="turning-left-yaw-0"),
    pytest.param(0.5 * math.pi, -2.0, id="turning-right-yaw-90"),
    pytest.param(0.0, 0.0, id="straight-yaw-0"),
    pytest.param(0.5 * math.pi, 0.0, id="straight-yaw-90"),
    pytest.param(0.0, 0.3 * CTRV_STRAIGHT_LINE_YAW_RATE, id="below-threshold-yaw-0"),
    pytest.param(0.5 * math.pi, -0.3 * CTRV_STRAIGHT_LINE_YAW_RATE, id="below-threshold-yaw-90"),
]


@pytest.mark.parametrize(("yaw", "yaw_rate"), CTRV_CASES)
def test_ctrv_jacobian_equals_finite_differences_of_its_prediction(
    yaw: float, yaw_rate: float
) -> None:
    model = CTRVModel(MotionConfig(model="ctrv"))
    state, dt_s = _ctrv_state(yaw, yaw_rate), 0.1
    F = _jacobian_used_by_predict(model, state, dt_s)
    np.testing.assert_allclose(F, _finite_difference_jacobian(model, state, dt_s), atol=1e-5)
    # the read-off F is the one predict uses: P' = F P F^T + Q for a full covariance
    rng = np.random.default_rng(7)
    a = rng.normal(size=(model.state_dim, model.state_dim))
    P = a @ a.T
    _, Q = model.predict(state[None, :], np.zeros((1, *P.shape)), dt_s)
    _, P_new = model.predict(state[None, :], P[None], dt_s)
    np.testing.assert_allclose(P_new[0], F @ P @ F.T + Q[0], rtol=1e-9, atol=1e-9)


def test_ctrv_jacobian_hand_values_on_a_straight_line() -> None:
    model = CTRVModel(MotionConfig(model="ctrv"))
    v, dt_s = 10.0, 0.1
    F0 = _jacobian_used_by_predict(model, _ctrv_state(0.0, 0.0, v), dt_s)
    assert F0[1, YAW_SLOT] == pytest.approx(v * dt_s)  # dy/dyaw = v dt = 1.0 at yaw 0
    assert F0[0, YAW_SLOT] == pytest.approx(0.0, abs=1e-12)
    F90 = _jacobian_used_by_predict(model, _ctrv_state(0.5 * math.pi, 0.0, v), dt_s)
    assert F90[0, 8] == pytest.approx(-0.5 * v * dt_s**2)  # dx/dw = -0.05 at yaw pi/2
    assert F90[1, 8] == pytest.approx(0.0, abs=1e-12)


# -- constant velocity: z moves with vz --------------------------------------------------------
def test_cv_prediction_moves_z_with_the_vertical_velocity() -> None:
    model = ConstantVelocityModel(MotionConfig(model="cv"))
    x, P = model.initiate(CAR_BOX)
    x[0, 9] = 1.0  # vz, m/s
    x_new, _ = model.predict(x, P, 1.0)
    assert x_new[0, 2] == pytest.approx(1.0)
    np.testing.assert_allclose(x_new[0, :2], CAR_BOX[0, :2])
