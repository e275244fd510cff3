"""An agent's state for the forecasts, estimated from its observed past only.

:func:`estimate_states` turns ``A`` observed pasts (boxes at known times, the last one "now")
into the state a forecast starts from: the last observed box (centre, size, yaw, class), the
velocity and the yaw rate of a least-squares line through the last ``fit_window_s`` of the
past (the yaw rate optionally over its own window and shrunk towards 0 by its standard
error: :class:`YawRateFit`, :func:`fit_yaw_rate`). Nothing after the last observation is read.
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
class YawRateFit:
    """How :func:`estimate_states` fits the yaw rate (the default: today's, the slope over the
    velocity's ``fit_window_s``, unshrunk).

    Attributes:
        window_s: the past (s) the yaw rate is fitted on; None: the velocity's
            ``fit_window_s``. Finite and >= 0.
        shrink_se: the fitted rate is moved towards 0 by ``shrink_se`` standard errors of the
            slope (soft threshold: ``sign(w) * max(|w| - k * se, 0)``), so a rate the yaws
            do not support beyond their jitter is 0; 0: unshrunk. A fit of two samples has no
            standard error: shrunk, its rate is 0. Finite and >= 0.
    """

    window_s: float | None = None
    shrink_se: float = 0.0

    def __post_init__(self) -> None:
        if self.window_s is not None and not (
            math.isfinite(self.window_s) and self.window_s >= 0.0
        ):
            raise ValueError(
                f"YawRateFit.window_s must be None or finite and >= 0, got {self.window_s!r}"
            )
        if not (math.isfinite(self.shrink_se) and self.shrink_se >= 0.0):
            raise ValueError(
                f"YawRateFit.shrink_se must be finite and >= 0, got {self.shrink_se!r}"
            )


#: The yaw-rate fit for the stack's own tracks, whose box yaws jitter (L-shape fits,
#: PointRCNN yaw noise, front-back flips): the whole 1 s of past, shrunk by 2 standard
#: errors. Chosen on KITTI tracking's train split with tracker pasts (``--pasts tracks``,
#: 1465 cases), ADE@3s of CTRV against constant velocity 1.164 m: window 0.3 s unshrunk (the
#: default) 1.251 m, 1.0 s unshrunk 1.122 m, 1.0 s shrunk by 1 / 2 / 3 s.e. 1.101 / 1.096 /
#: 1.100 m, 0.5 s by 2 s.e. 1.111 m (moving pedestrians 0.762 m unshrunk at 0.3 s, 0.342 m
#: here, 0.337 m for constant velocity); ground-truth pasts (1764 cases) 0.944 m at the
#: default, 0.947 m here. Rejected: the rate of the direction of motion (heading of velocities
#: fitted over 0.2-0.5 s, its slope over 0.3-1 s): tracks 1.11-1.38 m (moving pedestrians
#: 0.54-1.01 m), labels 0.99-1.14 m; a speed gate (rate 0 below 2 m/s): tracked moving
#: pedestrians 0.334 m, but label-past ones 0.345 m against 0.330 m without.
TRACK_YAW_RATE = YawRateFit(window_s=1.0, shrink_se=2.0)


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
    return _slope_fit(t_s, values, w)[0]


def _slope_fit(
    t_s: np.ndarray, values: np.ndarray, w: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """:func:`least_squares_slope`'s ``slope (A,)`` with the centred ``t_s`` and ``values``
    ``(A, W)`` and ``sum(w tc^2) (A,)`` it was fitted from."""
    total = w.sum(axis=1, keepdims=True)
    safe = np.where(total > 0, total, 1.0)
    tc = t_s - (w * t_s).sum(axis=1, keepdims=True) / safe
    vc = values - (w * values).sum(axis=1, keepdims=True) / safe
    den = (w * tc * tc).sum(axis=1)
    num = (w * tc * vc).sum(axis=1)
    return np.divide(num, den, out=np.zeros_like(num), where=den > 1e-12), tc, vc, den


#: How far past ``fit_window_s`` a sample still counts, in sample periods (jitter, rounding).
WINDOW_SLACK_STEPS = 0.1


def fit_window_weights(t_s: np.ndarray, fit_window_s: float) -> np.ndarray:
    """``(A, W)`` float weights for :func:`least_squares_slope`: 1 for the samples of each row
    of increasing times ``t_s`` within ``fit_window_s`` of its last (always the last two), else
    0. Within a tenth of the row's median sample period (:data:`WINDOW_SLACK_STEPS`): on
    jittered sweeps (AV2's 0.100196 s) a 0.3 s window holds its 4 samples, not 3 when the
    third step lands at 0.3006 s."""
    age = t_s[:, -1:] - t_s  # (A, W), 0 at "now"
    steps = np.diff(t_s, axis=1)
    slack = WINDOW_SLACK_STEPS * np.median(steps, axis=1, keepdims=True) if steps.shape[1] else 0.0
    in_window = age <= fit_window_s + np.maximum(slack, 1e-9)
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


def fit_yaw_rate(
    t_s: np.ndarray, yaw_rad: np.ndarray, weight: np.ndarray, shrink_se: float = 0.0
) -> np.ndarray:
    """``(A,)`` yaw rates (rad/s): the :func:`least_squares_slope` of ``(A, W)`` box yaws at
    ``(A, W)`` increasing times with ``(A, W)`` weights (0 leaves a sample out), the yaws
    unwrapped modulo pi (a half-turn jump between two samples is a front-back flip of the box,
    one scan cannot tell, not a turn); with ``shrink_se = k > 0`` moved towards 0 by ``k``
    standard errors of the slope (``se^2 = sum(w r^2) / (n - 2) / sum(w tc^2)`` over the
    ``n`` weighted samples, residuals ``r``; a row of fewer than three samples, whose jitter
    cannot be told from a turn, then has rate 0)."""
    yaw = np.unwrap(yaw_rad, axis=1, period=np.pi)
    slope, tc, yaw_c, sxx = _slope_fit(t_s, yaw, weight)
    if shrink_se == 0.0:
        return slope
    n = (weight > 0).sum(axis=1)
    resid = yaw_c - slope[:, None] * tc
    ok = (n > 2) & (sxx > 1e-12)
    var = np.divide(
        (weight * resid * resid).sum(axis=1),
        np.maximum(n - 2, 1) * sxx,
        out=np.zeros_like(slope),
        where=ok,
    )
    shrunk = np.sign(slope) * np.maximum(np.abs(slope) - shrink_se * np.sqrt(var), 0.0)
    return np.where(ok, shrunk, 0.0)


def check_pasts(past_t_s: np.ndarray, past_boxes: np.ndarray, who: str) -> None:
    """``ValueError`` (prefixed ``who``) unless ``past_t_s`` is ``(A, H >= 2)`` with each row's
    times finite and strictly increasing (naming the row and field ``past_t_s``) and
    ``past_boxes`` ``(A, H, 7)`` finite (naming the row, field ``past_boxes`` and sample)."""
    if past_t_s.ndim != 2 or past_t_s.shape[1] < 2 or past_boxes.shape != (*past_t_s.shape, 7):
        raise ValueError(
            f"{who}: past_t_s must be (A, H >= 2) and past_boxes (A, H, 7), got "
            f"{past_t_s.shape} and {past_boxes.shape}"
        )
    bad = ~(np.isfinite(past_t_s).all(axis=1) & (np.diff(past_t_s, axis=1) > 0.0).all(axis=1))
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise ValueError(
            f"{who}: row {i}: field past_t_s: times must be finite and strictly "
            f"increasing, got {np.array2string(past_t_s[i], precision=3, threshold=8)}"
        )
    finite = np.isfinite(past_boxes).all(axis=2)
    if not finite.all():
        i, k = (int(v) for v in np.argwhere(~finite)[0])
        raise ValueError(
            f"{who}: row {i}: field past_boxes: sample {k} is not finite, got "
            f"{np.array2string(past_boxes[i, k], precision=3)}"
        )


def estimate_states(
    past_t_s: np.ndarray,
    past_boxes: np.ndarray,
    label: np.ndarray,
    frame: str,
    fit_window_s: float = FIT_WINDOW_S,
    yaw_rate: YawRateFit = YawRateFit(),
) -> AgentStates:
    """States from ``A`` observed pasts of ``H`` samples each (the last is "now").

    The velocity is the slope of the centres' least-squares line over the samples within
    ``fit_window_s`` of the last one (at least the last two samples). That slope is the
    velocity at the middle of the window, not at the last sample: on an exact arc at 10 m/s
    and 0.3 rad/s its heading lags the last one by ``omega * W / 2`` = 0.045 rad (``W`` =
    0.3 s). Turning it forward by the fitted ``omega`` times the window's mean age did not
    help on KITTI tracking's train split (1764 cases, 0.3 s window: CTRV ADE@3s 0.9435 ->
    0.9456 m, FDE@3s 2.254 -> 2.261 m), so the fitted velocity is kept. The yaw rate is the
    slope of the box yaws over the same samples, unwrapped modulo pi (a half-turn jump between two
    samples is read as a front-back flip of the box, not as a turn), or as ``yaw_rate`` says
    (its own window, shrinkage: :func:`fit_yaw_rate`; :data:`TRACK_YAW_RATE` for tracker
    pasts).

    Args:
        past_t_s: ``(A, H)`` increasing sample times per agent (s), ``H >= 2``.
        past_boxes: ``(A, H, 7)`` boxes ``[x, y, z, l, w, h, yaw]`` at those times.
        label: ``(A,)`` integer class ids.
        frame: the boxes' frame.
        fit_window_s: finite and >= 0.
        yaw_rate: how the yaw rate is fitted (default: over ``fit_window_s``, unshrunk).

    Raises:
        ValueError: shapes disagree, ``H < 2``, a row's times are not finite and strictly
            increasing (naming the row and field ``past_t_s``), a box value is not finite
            (naming the row, field ``past_boxes`` and sample; a NaN yaw would make the yaw
            rate NaN) or ``fit_window_s`` is not finite and >= 0.
    """
    a = past_t_s.shape[0]
    check_pasts(past_t_s, past_boxes, "estimate_states")
    if not (math.isfinite(fit_window_s) and fit_window_s >= 0.0):
        raise ValueError(f"fit_window_s must be finite and >= 0, got {fit_window_s!r}")
    last = past_boxes[:, -1]
    w = fit_window_weights(past_t_s, fit_window_s)
    w_yaw = w if yaw_rate.window_s is None else fit_window_weights(past_t_s, yaw_rate.window_s)
    velocity = fit_velocity(past_t_s, past_boxes[..., 0:2], w)
    boxes = Boxes3D.from_array7(
        last.reshape(a, 7), frame, label=label, velocity_mps=velocity.reshape(a, 2)
    )
    return AgentStates(boxes, fit_yaw_rate(past_t_s, past_boxes[..., 6], w_yaw, yaw_rate.shrink_se))
