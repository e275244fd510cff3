"""An agent's state for the forecasts, estimated from its observed past only.

:func:`estimate_states` turns ``A`` observed pasts (boxes at known times, the last one "now")
into the state a forecast starts from: the last observed box (centre, size, yaw, class), the
velocity and the yaw rate of a least-squares line through the last ``fit_window_s`` of the
past. Nothing after the last observation is read.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from drivestack.structures.boxes import Boxes3D

#: Default length of the past (s) the velocity and yaw rate are fitted on. Chosen on KITTI
#: tracking's train split (1764 cases: ground-truth pasts, 1 s history, 3 s horizon, 0.5 s
#: stride), never on AV2: constant-velocity ADE@3s 1.095 / 1.045 / 1.035 / 1.044 / 1.078 /
#: 1.139 m for windows of 0.1 / 0.2 / 0.3 / 0.5 / 0.7 / 1.0 s (CTRV, decay 3 s: 0.944 m at
#: 0.3 s, 0.941 m at 0.5 s, 1.016 m at 1.0 s). Longer windows suit pedestrians (0.293 m at
#: 1.0 s against 0.370 m at 0.3 s), shorter ones vehicles that brake or speed up.
FIT_WINDOW_S = 0.3


@dataclass(frozen=True)
class AgentStates:
    """The states of ``A`` agents at their last observation.

    Attributes:
        boxes: ``A`` boxes (last observed centre, size, yaw, class) with ``velocity_mps``
            the fitted velocity, in the pasts' frame.
        yaw_rate_radps: ``(A,)`` fitted yaw rates (rad/s, counter-clockwise positive).
    """

    boxes: Boxes3D
    yaw_rate_radps: np.ndarray


def least_squares_slope(
    t_s: np.ndarray, values: np.ndarray, weight: np.ndarray | None = None
) -> np.ndarray:
    """``(A,)`` slopes of (weighted) least-squares lines ``values ~ a + slope * t`` fitted per
    row of ``(A, W)`` times and values; ``weight`` ``(A, W)`` >= 0 (default all 1: a 0 leaves
    the sample out). A row without two distinct weighted times has slope 0."""
    w = np.ones_like(t_s) if weight is None else weight
    total = w.sum(axis=1, keepdims=True)
    safe = np.where(total > 0, total, 1.0)
    tc = t_s - (w * t_s).sum(axis=1, keepdims=True) / safe
    vc = values - (w * values).sum(axis=1, keepdims=True) / safe
    den = (w * tc * tc).sum(axis=1)
    num = (w * tc * vc).sum(axis=1)
    return np.divide(num, den, out=np.zeros_like(num), where=den > 1e-12)


def fit_window_weights(t_s: np.ndarray, fit_window_s: float) -> np.ndarray:
    """``(A, W)`` float weights for :func:`least_squares_slope`: 1 for the samples of each row
    of increasing times ``t_s`` within ``fit_window_s`` of its last (always the last two), else
    0."""
    age = t_s[:, -1:] - t_s  # (A, W), 0 at "now"
    in_window = age <= fit_window_s + 1e-9
    in_window[:, -2:] = True
    return in_window.astype(np.float64)


def fit_velocity(t_s: np.ndarray, xy: np.ndarray, weight: np.ndarray) -> np.ndarray:
    """``(A, 2)`` velocities: the :func:`least_squares_slope` of ``(A, W, 2)`` positions at
    ``(A, W)`` times with ``(A, W)`` weights (:func:`fit_window_weights`)."""
    return np.stack(
        [
            least_squares_slope(t_s, xy[..., 0], weight),
            least_squares_slope(t_s, xy[..., 1], weight),
        ],
        axis=1,
    )


def estimate_states(
    past_t_s: np.ndarray,
    past_boxes: np.ndarray,
    label: np.ndarray,
    frame: str,
    fit_window_s: float = FIT_WINDOW_S,
) -> AgentStates:
    """States from ``A`` observed pasts of ``H`` samples each (the last is "now").

    The velocity is the slope of the centres' least-squares line over the samples within
    ``fit_window_s`` of the last one (at least the last two samples); the yaw rate the slope
    of the box yaws over the same samples, unwrapped modulo pi (a half-turn jump between two
    samples is read as a front-back flip of the box, not as a turn).

    Args:
        past_t_s: ``(A, H)`` increasing sample times per agent (s), ``H >= 2``.
        past_boxes: ``(A, H, 7)`` boxes ``[x, y, z, l, w, h, yaw]`` at those times.
        label: ``(A,)`` integer class ids.
        frame: the boxes' frame.
        fit_window_s: finite and >= 0.

    Raises:
        ValueError: shapes disagree, ``H < 2``, a row's times are not finite and strictly
            increasing (naming the row and field ``past_t_s``) or ``fit_window_s`` is not
            finite and >= 0.
    """
    a = past_t_s.shape[0]
    if past_t_s.ndim != 2 or past_t_s.shape[1] < 2 or past_boxes.shape != (*past_t_s.shape, 7):
        raise ValueError(
            f"estimate_states: past_t_s must be (A, H >= 2) and past_boxes (A, H, 7), got "
            f"{past_t_s.shape} and {past_boxes.shape}"
        )
    bad = ~(np.isfinite(past_t_s).all(axis=1) & (np.diff(past_t_s, axis=1) > 0.0).all(axis=1))
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise ValueError(
            f"estimate_states: row {i}: field past_t_s: times must be finite and strictly "
            f"increasing, got {np.array2string(past_t_s[i], precision=3, threshold=8)}"
        )
    if not (math.isfinite(fit_window_s) and fit_window_s >= 0.0):
        raise ValueError(f"fit_window_s must be finite and >= 0, got {fit_window_s!r}")
    last = past_boxes[:, -1]
    w = fit_window_weights(past_t_s, fit_window_s)
    # period pi: a box whose yaw flips front to back (one scan cannot tell) is no turn
    yaw = np.unwrap(past_boxes[..., 6], axis=1, period=np.pi)
    velocity = fit_velocity(past_t_s, past_boxes[..., 0:2], w)
    boxes = Boxes3D.from_array7(
        last.reshape(a, 7), frame, label=label, velocity_mps=velocity.reshape(a, 2)
    )
    return AgentStates(boxes, least_squares_slope(past_t_s, yaw, w))
