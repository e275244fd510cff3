"""Kalman motion models against hand-computed values."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from drivestack.core.errors import ConfigError
from drivestack.tracking.config import MotionConfig, load_tracker_config
from drivestack.tracking.motion import ConstantVelocityModel, CTRVModel, align_yaw


def test_cv_predict_matches_hand_computation() -> None:
    m = ConstantVelocityModel(
        MotionConfig(process_position_std_m=2.0, process_velocity_std_mps=1.0)
    )
    x = np.array([[0, 0, 0, 0, 4, 2, 1.5, 1.0, 2.0, 0.0]])
    P = np.eye(10)[None]
    x1, P1 = m.predict(x, P, 0.5)
    np.testing.assert_allclose(x1[0, :3], [0.5, 1.0, 0.0])
    assert P1[0, 0, 0] == pytest.approx(1 + 0.25 * 1 + 4 * 0.5)  # P + dt^2 Pvv + q dt
    assert P1[0, 0, 7] == pytest.approx(0.5)
    assert P1[0, 7, 7] == pytest.approx(1 + 1 * 0.5)


def test_cv_update_with_equal_variances_takes_the_midpoint() -> None:
    m = ConstantVelocityModel(MotionConfig(measurement_position_std_m=1.0))
    x = np.zeros((1, 10))
    x[0, 4:7] = [4, 2, 1.5]
    P = np.eye(10)[None].copy()
    z = np.array([[2.0, 0.0, 0.0, 4.0, 2.0, 1.5, 0.0]])
    x1, P1 = m.update(x, P, z)
    assert x1[0, 0] == pytest.approx(1.0)
    assert P1[0, 0, 0] == pytest.approx(0.5)
    assert x1[0, 7] == pytest.approx(0.0)  # no cross-covariance -> velocity untouched


def test_measured_yaw_is_flipped_towards_the_prediction() -> None:
    out = align_yaw(np.array([0.3 + np.pi - 0.1, 0.2]), np.array([0.3, 0.0]))
    np.testing.assert_allclose(out, [0.2, 0.2])


def test_cv_initiate_has_zero_velocity_and_box_round_trip() -> None:
    m = ConstantVelocityModel(MotionConfig())
    boxes = np.array([[1.0, 2.0, 0.5, 4.0, 2.0, 1.5, 0.3]])
    x, P = m.initiate(boxes)
    np.testing.assert_allclose(m.boxes(x), boxes)
    np.testing.assert_allclose(m.velocity(x), [[0.0, 0.0]])
    assert P.shape == (1, 10, 10)


def test_ctrv_straight_and_quarter_turn() -> None:
    m = CTRVModel(MotionConfig())
    x = np.zeros((2, 9))
    x[:, 4:7] = [4, 2, 1.5]
    x[0, 3], x[0, 7], x[0, 8] = np.pi / 2, 10.0, 0.0
    x[1, 3], x[1, 7], x[1, 8] = 0.0, 1.0, 1.0
    P = np.broadcast_to(np.eye(9), (2, 9, 9)).copy()
    x1, _ = m.predict(x[:1], P[:1], 0.1)
    np.testing.assert_allclose(x1[0, :2], [0.0, 1.0], atol=1e-12)
    x2, _ = m.predict(x[1:], P[1:], np.pi / 2)
    np.testing.assert_allclose(x2[0, :2], [1.0, 1.0], atol=1e-12)
    assert x2[0, 3] == pytest.approx(np.pi / 2)


def test_ctrv_jacobian_matches_finite_differences() -> None:
    cfg = MotionConfig()
    m = CTRVModel(cfg)
    x = np.array([[1.0, 2.0, 0.0, 0.4, 4, 2, 1.5, 5.0, 0.3]])
    dt = 0.1
    # propagate a tiny covariance: F P F^T with P = eps^2 e_i e_i^T reveals column i of F
    eps = 1e-6
    base, _ = m.predict(x, np.zeros((1, 9, 9)), dt)
    for i in (3, 7, 8):
        dx = x.copy()
        dx[0, i] += eps
        moved, _ = m.predict(dx, np.zeros((1, 9, 9)), dt)
        numeric = (moved - base)[0, :2] / eps
        P = np.zeros((1, 9, 9))
        P[0, i, i] = 1.0
        _, P1 = m.predict(x, P, dt)
        q = np.array([cfg.process_position_std_m**2] * 2) * dt
        analytic_sq = np.diag(P1[0])[:2] - q
        np.testing.assert_allclose(analytic_sq, numeric**2, rtol=1e-4, atol=1e-9)


def test_cv_predict_follows_changing_time_steps() -> None:
    # the transition matrix is cached per step length: alternating steps must not reuse it
    m = ConstantVelocityModel(
        MotionConfig(process_position_std_m=2.0, process_velocity_std_mps=1.0)
    )
    x = np.array([[0, 0, 0, 0, 4, 2, 1.5, 1.0, 2.0, 0.0]])
    P = np.eye(10)[None]
    for dt in (0.5, 0.1, 0.1, 0.5, 0.0):
        x1, P1 = m.predict(x, P, dt)
        np.testing.assert_allclose(x1[0, :3], [1.0 * dt, 2.0 * dt, 0.0])
        assert P1[0, 0, 0] == pytest.approx(1 + dt * dt + 4 * dt)
        assert P1[0, 0, 7] == pytest.approx(dt)
        assert P1[0, 7, 7] == pytest.approx(1 + dt)
    assert P[0, 0, 0] == 1.0 and x[0, 0] == 0.0  # inputs untouched


def test_cv_white_noise_acceleration_adds_its_block_per_axis() -> None:
    base = MotionConfig(process_position_std_m=2.0, process_velocity_std_mps=1.0)
    m = ConstantVelocityModel(
        MotionConfig(
            process_position_std_m=2.0,
            process_velocity_std_mps=1.0,
            process_acceleration_std_mps2=3.0,
        )
    )
    x = np.array([[0, 0, 0, 0, 4, 2, 1.5, 1.0, 2.0, 0.0]])
    P = np.eye(10)[None]
    _, P0 = ConstantVelocityModel(base).predict(x, P, 0.5)
    _, P1 = m.predict(x, P, 0.5)
    # a 3 m/s^2 acceleration held for 0.5 s: 0.375 m and 1.5 m/s, fully correlated
    for pos, vel in ((0, 7), (1, 8), (2, 9)):
        assert P1[0, pos, pos] - P0[0, pos, pos] == pytest.approx(0.375**2)
        assert P1[0, pos, vel] - P0[0, pos, vel] == pytest.approx(0.375 * 1.5)
        assert P1[0, vel, pos] - P0[0, vel, pos] == pytest.approx(0.375 * 1.5)
        assert P1[0, vel, vel] - P0[0, vel, vel] == pytest.approx(1.5**2)
    others = np.ones((10, 10), bool)
    others[np.ix_([0, 1, 2, 7, 8, 9], [0, 1, 2, 7, 8, 9])] = False
    np.testing.assert_allclose(P1[0][others], P0[0][others])
    assert P1[0, 0, 8] == pytest.approx(P0[0, 0, 8])  # axes stay independent


def test_white_noise_acceleration_is_for_the_cv_model_only() -> None:
    with pytest.raises(ValueError, match="constant-velocity"):
        MotionConfig(model="ctrv", process_acceleration_std_mps2=2.0)
    with pytest.raises(ValueError, match="process_acceleration_std_mps2"):
        MotionConfig(process_acceleration_std_mps2=-1.0)


@pytest.mark.parametrize(
    ("text", "field"),
    [
        ("model: cv\nprocess_yaw_rate_std_radps: 0.5\n", "process_yaw_rate_std_radps"),
        ("initial_yaw_rate_std_radps: 0.5\n", "initial_yaw_rate_std_radps"),  # cv by default
        (
            "model: ctrv\ninitial_lateral_velocity_std_mps: 1.0\n",
            "initial_lateral_velocity_std_mps",
        ),
    ],
)
def test_keys_the_motion_model_never_reads_are_refused_at_their_key(
    tmp_path: Path, text: str, field: str
) -> None:
    # a CTRV yaw-rate noise under model: cv was accepted, recorded and never read
    path = tmp_path / "t.yaml"
    path.write_text(
        "classes:\n  car:\n    motion:\n" + "".join(f"      {line}\n" for line in text.splitlines())
    )
    with pytest.raises(ConfigError) as err:
        load_tracker_config(path)
    assert err.value.path == str(path) and err.value.field == f"classes.car.motion.{field}"
    ok = tmp_path / "ok.yaml"
    ok.write_text("classes:\n  car:\n    motion: {model: ctrv, process_yaw_rate_std_radps: 0.5}\n")
    assert load_tracker_config(ok).classes["car"].motion.process_yaw_rate_std_radps == 0.5
