"""State estimation from the observed past: least-squares slopes by hand, the fit window,
and a box that flips front to back is no turn."""

from __future__ import annotations

import math

import numpy as np
import pytest

from drivestack.prediction.state import estimate_states, least_squares_slope


def test_least_squares_slope_by_hand() -> None:
    # t = 0, 1, 2; x = 0, 1, 3: mean t 1, mean x 4/3; slope = (1*(-4/3)*-1 + 1*(5/3)) / 2 = 1.5
    assert least_squares_slope(np.array([[0.0, 1.0, 2.0]]), np.array([[0.0, 1.0, 3.0]]))[
        0
    ] == pytest.approx(1.5)
    # weight 0 leaves a sample out: the last two give (3 - 1) / 1 = 2
    w = np.array([[0.0, 1.0, 1.0]])
    assert least_squares_slope(np.array([[0.0, 1.0, 2.0]]), np.array([[0.0, 1.0, 3.0]]), w)[
        0
    ] == pytest.approx(2.0)
    # one distinct time: slope 0, not a division by zero
    assert least_squares_slope(np.array([[1.0, 1.0]]), np.array([[0.0, 5.0]]))[0] == 0.0


def _past(t: np.ndarray, x: np.ndarray, y: np.ndarray, yaw: np.ndarray) -> np.ndarray:
    n = len(t)
    return np.stack(
        [x, y, np.full(n, 0.8), np.full(n, 4.5), np.full(n, 1.9), np.full(n, 1.6), yaw], axis=1
    )[None]


def test_the_state_is_the_last_box_with_the_window_s_velocity() -> None:
    t = np.arange(11) * 0.1
    # 1 m/s for the first 0.7 s, then 3 m/s: a 0.3 s window sees only the faster part
    x = np.where(t <= 0.7 + 1e-9, t, 0.7 + 3.0 * (t - 0.7))
    yaw = 0.2 * t  # turning at 0.2 rad/s
    boxes = _past(t, x, 2.0 * np.ones_like(t), yaw)
    s = estimate_states(t[None], boxes, np.array([1]), "world", fit_window_s=0.3)
    np.testing.assert_allclose(s.boxes.to_array7()[0], boxes[0, -1])
    np.testing.assert_allclose(s.boxes.velocity_mps[0], [3.0, 0.0], atol=1e-9)
    assert s.yaw_rate_radps[0] == pytest.approx(0.2)
    whole = estimate_states(t[None], boxes, np.array([1]), "world", fit_window_s=1.0)
    assert 1.0 < whole.boxes.velocity_mps[0, 0] < 3.0
    # a zero window still fits the last two samples
    zero = estimate_states(t[None], boxes, np.array([1]), "world", fit_window_s=0.0)
    assert zero.boxes.velocity_mps[0, 0] == pytest.approx(3.0)


def test_a_front_to_back_flip_is_not_a_turn_and_wraps_are_unwrapped() -> None:
    t = np.arange(5) * 0.1
    yaw = np.array([3.1, -3.13, 3.1 - math.pi, 3.1, 3.1])  # wrap, then a flip and back
    s = estimate_states(t[None], _past(t, t, 0 * t, yaw), np.array([1]), "world", 1.0)
    assert abs(s.yaw_rate_radps[0]) < 0.3


def test_bad_shapes_and_windows_are_refused() -> None:
    t = np.arange(3) * 0.1
    with pytest.raises(ValueError, match=r"past_t_s must be \(A, H >= 2\)"):
        estimate_states(t[None, :1], _past(t, t, t, t)[:, :1], np.array([1]), "world")
    with pytest.raises(ValueError, match="fit_window_s"):
        estimate_states(t[None], _past(t, t, t, t), np.array([1]), "world", -1.0)


@pytest.mark.parametrize(
    "times",
    [
        np.arange(11)[::-1] * 0.1,  # reversed: it would give -10 m/s, not 10
        np.zeros(11),  # all equal: it would give 0 m/s as a valid state
        np.full(11, np.nan),
        np.r_[np.arange(10) * 0.1, 0.9],  # the last two equal
    ],
)
def test_times_not_finite_and_strictly_increasing_are_refused(times: np.ndarray) -> None:
    good = np.arange(11)[None] * 0.1
    boxes = np.zeros((2, 11, 7))
    boxes[:, :, 0] = np.arange(11) * 1.0
    boxes[:, :, 3:6] = [4.0, 2.0, 1.5]
    t = np.concatenate([good, times[None].copy()])
    with pytest.raises(
        ValueError, match=r"row 1: field past_t_s: times must be finite and strictly"
    ):
        estimate_states(t, boxes, np.array([1, 1]), "world")
    ok = estimate_states(np.concatenate([good, good]), boxes, np.array([1, 1]), "world")
    np.testing.assert_allclose(ok.boxes.velocity_mps, [[10.0, 0.0], [10.0, 0.0]])
