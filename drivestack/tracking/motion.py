"""Batched Kalman motion models for 3D boxes: constant velocity (KF) and CTRV (EKF).

All functions work on N tracks at once: states ``x (N, S)`` and covariances ``P (N, S, S)``.
Measurements are boxes ``(N, 7)`` ``[x, y, z, length, width, height, yaw]`` (kernel layout);
inside the filter the state starts ``[x, y, z, yaw, l, w, h, ...]``.
"""

from __future__ import annotations

import numpy as np

from drivestack.tracking.config import MotionConfig

_MEAS_DIM = 7
_BOX_TO_STATE = np.array([0, 1, 2, 6, 3, 4, 5])  # box7 column for state slots 0..6
_STATE_TO_BOX = np.array([0, 1, 2, 4, 5, 6, 3])  # state slot for box7 columns 0..6


def wrap(angle: np.ndarray) -> np.ndarray:
    return (angle + np.pi) % (2.0 * np.pi) - np.pi


def align_yaw(measured: np.ndarray, predicted: np.ndarray) -> np.ndarray:
    """Flip measured yaw by pi where it is more than pi/2 from the prediction (box heading
    ambiguity of detectors); the result is within pi/2 of ``predicted`` (as an angle)."""
    diff = wrap(measured - predicted)
    flip = np.abs(diff) > 0.5 * np.pi
    np.add(diff, np.pi, out=diff, where=flip)  # diff + pi where flipped, in place
    return predicted + wrap(diff)


class KalmanMotionModel:
    """Shared linear measurement update; subclasses define the state and the prediction."""

    state_dim: int = 10

    def __init__(self, cfg: MotionConfig) -> None:
        self.cfg = cfg
        c = cfg
        self._R = np.diag(
            [c.measurement_position_std_m**2] * 3
            + [c.measurement_yaw_std_rad**2]
            + [c.measurement_size_std_m**2] * 3
        )
        self._H = np.zeros((_MEAS_DIM, self.state_dim))
        self._H[np.arange(_MEAS_DIM), np.arange(_MEAS_DIM)] = 1.0
        self._P0 = np.diag(self._initial_variances())  # covariance of a new track

    # -- construction ------------------------------------------------------------------------
    def initiate(self, boxes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``(N, 7)`` boxes -> states ``(N, S)`` (zero velocity) and covariances ``(N, S, S)``."""
        n = boxes.shape[0]
        x = np.zeros((n, self.state_dim))
        x[:, :_MEAS_DIM] = boxes[:, _BOX_TO_STATE]
        P = np.empty((n, self.state_dim, self.state_dim))
        P[:] = self._P0
        return x, P

    def _initial_variances(self) -> np.ndarray:
        raise NotImplementedError

    # -- filter ------------------------------------------------------------------------------
    def predict(self, x: np.ndarray, P: np.ndarray, dt_s: float) -> tuple[np.ndarray, np.ndarray]:
        raise NotImplementedError

    def update(
        self, x: np.ndarray, P: np.ndarray, boxes: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """Kalman update of N states with N box measurements ``(N, 7)``."""
        if x.shape[0] == 0:
            return x, P
        z = boxes[:, _BOX_TO_STATE]  # fancy indexing copies
        z[:, 3] = align_yaw(z[:, 3], x[:, 3])
        y = z - x[:, :_MEAS_DIM]
        S = P[:, :_MEAS_DIM, :_MEAS_DIM] + self._R
        PHt = P[:, :, :_MEAS_DIM]
        K = np.linalg.solve(S, PHt.transpose(0, 2, 1)).transpose(
            0, 2, 1
        )  # P H^T S^-1 (S symmetric)
        x_new = x + np.einsum("nij,nj->ni", K, y)
        x_new[:, 3] = wrap(x_new[:, 3])
        P_new = P - K @ P[:, :_MEAS_DIM, :]
        return x_new, 0.5 * (P_new + P_new.transpose(0, 2, 1))

    # -- read-out ----------------------------------------------------------------------------
    def boxes(self, x: np.ndarray) -> np.ndarray:
        """``(N, 7)`` boxes of states."""
        b = x[:, _STATE_TO_BOX]  # fancy indexing copies
        b[:, 6] = wrap(b[:, 6])
        return b

    def velocity(self, x: np.ndarray) -> np.ndarray:
        """``(N, 2)`` planar velocity in m/s."""
        raise NotImplementedError


class ConstantVelocityModel(KalmanMotionModel):
    """State ``[x, y, z, yaw, l, w, h, vx, vy, vz]``; linear KF."""

    state_dim = 10

    def __init__(self, cfg: MotionConfig) -> None:
        super().__init__(cfg)
        self._transition_cache: tuple[float, tuple[np.ndarray, np.ndarray, np.ndarray]] | None = (
            None
        )

    def _initial_variances(self) -> np.ndarray:
        c = self.cfg
        return np.array(
            [c.initial_position_std_m**2] * 3
            + [c.measurement_yaw_std_rad**2]
            + [c.measurement_size_std_m**2] * 3
            + [c.initial_velocity_std_mps**2] * 3
        )

    def initiate(self, boxes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """As :meth:`KalmanMotionModel.initiate`; with ``initial_lateral_velocity_std_mps``
        the planar velocity's prior is that across each box's axis and
        ``initial_velocity_std_mps`` along it (the covariance rotated by the box's yaw)."""
        x, P = super().initiate(boxes)
        lateral = self.cfg.initial_lateral_velocity_std_mps
        if lateral is not None and boxes.shape[0]:
            c, s = np.cos(boxes[:, 6]), np.sin(boxes[:, 6])
            along_var, across_var = self.cfg.initial_velocity_std_mps**2, lateral**2
            P[:, 7, 7] = along_var * c * c + across_var * s * s
            P[:, 8, 8] = along_var * s * s + across_var * c * c
            P[:, 7, 8] = P[:, 8, 7] = (along_var - across_var) * c * s
        return x, P

    def _transition(self, dt_s: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(F^T, F, Q)`` for a time step (``F^T`` a view of ``F``), cached for the last step
        length (the frames of a log are usually equally spaced)."""
        cached = self._transition_cache
        if cached is not None and cached[0] == dt_s:
            return cached[1]
        c = self.cfg
        F = np.eye(self.state_dim)
        F[0, 7] = F[1, 8] = F[2, 9] = dt_s
        q = np.array(
            [c.process_position_std_m**2] * 3
            + [c.process_yaw_std_rad**2]
            + [c.process_size_std_m**2] * 3
            + [c.process_velocity_std_mps**2] * 3
        ) * abs(dt_s)
        Q = np.diag(q)
        if c.process_acceleration_std_mps2 is not None:
            # discrete white-noise acceleration per axis: G a with G = [dt^2/2, dt]
            var = c.process_acceleration_std_mps2**2
            half_dt2 = 0.5 * dt_s * dt_s
            for pos, vel in ((0, 7), (1, 8), (2, 9)):
                Q[pos, pos] += var * half_dt2 * half_dt2
                Q[pos, vel] += var * half_dt2 * dt_s
                Q[vel, pos] += var * half_dt2 * dt_s
                Q[vel, vel] += var * dt_s * dt_s
        mats = (F.T, F, Q)
        self._transition_cache = (dt_s, mats)
        return mats

    def predict(self, x: np.ndarray, P: np.ndarray, dt_s: float) -> tuple[np.ndarray, np.ndarray]:
        if x.shape[0] == 0:
            return x, P
        Ft, F, Q = self._transition(dt_s)
        x_new = x @ Ft
        P_new = F @ P @ Ft + Q
        return x_new, P_new

    def velocity(self, x: np.ndarray) -> np.ndarray:
        return x[:, 7:9].copy()


class CTRVModel(KalmanMotionModel):
    """State ``[x, y, z, yaw, l, w, h, v, yaw_rate]``; EKF with the CTRV motion (heading = yaw)."""

    state_dim = 9

    def _initial_variances(self) -> np.ndarray:
        c = self.cfg
        return np.array(
            [c.initial_position_std_m**2] * 3
            + [c.measurement_yaw_std_rad**2]
            + [c.measurement_size_std_m**2] * 3
            + [c.initial_velocity_std_mps**2, c.initial_yaw_rate_std_radps**2]
        )

    def predict(self, x: np.ndarray, P: np.ndarray, dt_s: float) -> tuple[np.ndarray, np.ndarray]:
        n = x.shape[0]
        if n == 0:
            return x, P
        c = self.cfg
        yaw, v, w = x[:, 3], x[:, 7], x[:, 8]
        dt = dt_s
        turning = np.abs(w) > 1e-4
        w_safe = np.where(turning, w, 1.0)
        yaw1 = yaw + w * dt
        s0, c0, s1, c1 = np.sin(yaw), np.cos(yaw), np.sin(yaw1), np.cos(yaw1)
        dx = np.where(turning, v / w_safe * (s1 - s0), v * c0 * dt)
        dy = np.where(turning, v / w_safe * (c0 - c1), v * s0 * dt)
        x_new = x.copy()
        x_new[:, 0] += dx
        x_new[:, 1] += dy
        x_new[:, 3] = wrap(yaw1)
        F = np.broadcast_to(np.eye(self.state_dim), (n, self.state_dim, self.state_dim)).copy()
        # d/dyaw, d/dv, d/dw of x and y
        F[:, 0, 3] = np.where(turning, v / w_safe * (c1 - c0), -v * s0 * dt)
        F[:, 1, 3] = np.where(turning, v / w_safe * (s1 - s0), v * c0 * dt)
        F[:, 0, 7] = np.where(turning, (s1 - s0) / w_safe, c0 * dt)
        F[:, 1, 7] = np.where(turning, (c0 - c1) / w_safe, s0 * dt)
        F[:, 0, 8] = np.where(
            turning, v * dt * c1 / w_safe - v / w_safe**2 * (s1 - s0), -0.5 * v * s0 * dt * dt
        )
        F[:, 1, 8] = np.where(
            turning, v * dt * s1 / w_safe - v / w_safe**2 * (c0 - c1), 0.5 * v * c0 * dt * dt
        )
        F[:, 3, 8] = dt
        q = np.array(
            [c.process_position_std_m**2] * 3
            + [c.process_yaw_std_rad**2]
            + [c.process_size_std_m**2] * 3
            + [c.process_velocity_std_mps**2, c.process_yaw_rate_std_radps**2]
        ) * abs(dt)
        P_new = F @ P @ F.transpose(0, 2, 1) + np.diag(q)
        return x_new, P_new

    def velocity(self, x: np.ndarray) -> np.ndarray:
        return np.stack([x[:, 7] * np.cos(x[:, 3]), x[:, 7] * np.sin(x[:, 3])], axis=1)


def build_motion_model(cfg: MotionConfig) -> KalmanMotionModel:
    if cfg.model == "cv":
        return ConstantVelocityModel(cfg)
    return CTRVModel(cfg)
