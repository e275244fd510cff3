"""nuPlan's yaw rate, yaw acceleration and lateral acceleration by hand (nuplan-devkit
``state_extractors.extract_ego_yaw_rate``: a 5-sample Savitzky-Golay on the heading, poly 2 for
the rate and poly 3 for the second derivative; ``ego_lat_acceleration.py``:
``center_acceleration_2d.y`` smoothed over 8 samples)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from drivestack.eval.driving.comfort import (
    MAX_ABS_YAW_ACCEL_RADPS2,
    is_comfortable,
    nuplan_comfort_signals,
)
from drivestack.eval.driving.nuplan import nuplan_score

from .test_nuplan_metrics import DT, ROAD, ROUTE, VEHICLE, history

N = 41
T = np.arange(N) * DT


def _kink(rate_radps: float, at: int = 20) -> np.ndarray:
    """Heading 0 up to sample ``at``, then turning at ``rate_radps``."""
    return np.where(np.arange(N) > at, rate_radps * (T - T[at]), 0.0)


def test_yaw_rate_of_a_kink_follows_the_5_sample_window() -> None:
    # first-derivative weights [-2, -1, 0, 1, 2] / (10 dt): 0.2 w one sample before the kink,
    # 0.5 w at it, 0.8 w one sample later, w from the second sample on (the 15-sample window
    # used before spread the turn-in over 1.5 s)
    w = 0.4
    s = nuplan_comfort_signals(np.full(N, 5.0), _kink(w), np.zeros(N), DT)
    np.testing.assert_allclose(
        s.yaw_rate_radps[18:24], [0.0, 0.2 * w, 0.5 * w, 0.8 * w, w, w], atol=1e-8
    )


def test_yaw_acceleration_is_the_second_derivative_of_the_heading() -> None:
    # second-derivative weights (window 5, cubic) [2, -1, -2, -1, 2] / (7 dt^2): 3 w / (7 dt) at
    # the kink, 2 w / (7 dt) on either side; w = 0.5 rad/s -> 2.14 rad/s^2 > 1.93: uncomfortable
    w = 0.5
    s = nuplan_comfort_signals(np.full(N, 5.0), _kink(w), np.zeros(N), DT)
    peak = 3 * w / (7 * DT)
    np.testing.assert_allclose(
        s.yaw_accel_radps2[18:23], [0.0, 2 * w / (7 * DT), peak, 2 * w / (7 * DT), 0.0], atol=1e-7
    )
    assert peak > MAX_ABS_YAW_ACCEL_RADPS2 and not is_comfortable(s)
    # constant yaw acceleration a: heading a t^2 / 2, rate a t, second derivative a (exact fits)
    a = 0.3
    s = nuplan_comfort_signals(np.full(N, 5.0), 0.5 * a * T**2, np.zeros(N), DT)
    np.testing.assert_allclose(s.yaw_accel_radps2, a, atol=1e-7)
    np.testing.assert_allclose(s.yaw_rate_radps, a * T, atol=1e-7)


def test_lateral_acceleration_is_the_box_centre_s() -> None:
    # rear axle: speed * yaw rate; the centre, d ahead, adds d * yaw acceleration. With a
    # constant yaw acceleration a at 8 m/s the rear axle's is 8 a t, a line that nuPlan's
    # 8-sample (even) smoothing keeps, read half a sample late inside the run, exact over the
    # first 4 samples (scipy's "interp" ends); the centre's is d a more everywhere
    a, v, d = 0.2, 8.0, VEHICLE.center_offset_m
    yaw = 0.5 * a * T**2
    centre = nuplan_comfort_signals(np.full(N, v), yaw, np.zeros(N), DT, center_offset_m=d)
    rear = nuplan_comfort_signals(np.full(N, v), yaw, np.zeros(N), DT)
    np.testing.assert_allclose(rear.lat_accel_mps2[:4], v * a * T[:4], atol=1e-6)
    np.testing.assert_allclose(rear.lat_accel_mps2[4:-4], v * a * (T[4:-4] + DT / 2), atol=1e-6)
    np.testing.assert_allclose(centre.lat_accel_mps2 - rear.lat_accel_mps2, d * a, atol=1e-6)


@pytest.mark.parametrize(("rate", "comfortable"), [(0.4, 1.0), (0.5, 0.0)])
def test_a_quick_turn_in_is_uncomfortable_in_the_score(rate: float, comfortable: float) -> None:
    # a history turning in at `rate` from a standstill of the heading: 3 w / (7 dt) against 1.93
    v = 3.0
    yaw = _kink(rate)
    step = v * DT
    x = np.concatenate([[0.0], np.cumsum(step * np.cos(0.5 * (yaw[1:] + yaw[:-1])))])
    y = 1.75 + np.concatenate([[0.0], np.cumsum(step * np.sin(0.5 * (yaw[1:] + yaw[:-1])))])
    h = history(x, np.full(N, v), accel=np.zeros(N))
    h = dataclasses.replace(h, ego_y_m=y, ego_yaw_rad=yaw)  # (boxes: only comfort is read)
    assert nuplan_score(h, ROAD, ROUTE, 10.0).comfort == comfortable
