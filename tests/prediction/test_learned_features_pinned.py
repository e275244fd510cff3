"""The learned forecaster's inputs and output interpolation, pinned by hand-derived values."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from drivestack.prediction.learned import (
    CLASS_GROUPS,
    AgentFramePast,
    ForecasterConfig,
    ForecasterNet,
    LearnedForecaster,
    agent_frame_past,
)
from drivestack.structures.labels import ObjectClass

#: 1 s of past (10 steps of 0.1 s), 1 s of future
CFG = ForecasterConfig(step_s=0.1, history_steps=10, horizon_steps=10, modes=2, hidden=8, layers=1)
CAR = int(ObjectClass.CAR)


def _straight_past(speed_mps: float, yaw_rate: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """One agent sampled at t = -1.0 .. 0.0 s (11 samples) driving along +x."""
    t = np.round(np.arange(-10, 1) * 0.1, 10)
    boxes = np.zeros((1, 11, 7))
    boxes[0, :, 0] = speed_mps * t
    boxes[0, :, 3:6] = (4.0, 2.0, 1.5)
    boxes[0, :, 6] = yaw_rate * t
    return t[None], boxes


def test_class_one_hot_sits_after_the_velocity_in_the_features() -> None:
    h1 = CFG.history_steps + 1  # 11 samples
    g = len(CLASS_GROUPS)
    car_group = next(i for i, grp in enumerate(CLASS_GROUPS) if ObjectClass.CAR in grp)
    past = AgentFramePast(
        xy_m=np.zeros((2, h1, 2)),
        yaw_rad=np.zeros((2, h1)),
        velocity_mps=np.zeros((2, 2)),
        group=np.array([car_group, -1]),  # a car, and a class of no group
        size_m=np.zeros((2, 2)),
        anchor=np.zeros((2, 7)),
    )
    f = past.features()
    # layout: xy 2 * 11 = 22, yaw 11, velocity 2 -> the one-hot starts at column 35
    start = 3 * h1 + 2
    assert f.shape == (2, start + g + 2)
    expected = np.zeros((2, g), np.float32)
    expected[0, car_group] = 1.0  # the car: 1 in its group; the other row: all zeros
    np.testing.assert_array_equal(f[:, start : start + g], expected)


def test_past_yaws_are_relative_to_the_last_sample() -> None:
    # yaw = 0.5 rad/s * t: -0.5 rad at t = -1 s, 0 at t = 0 (now); offset by 0.2 rad
    t, boxes = _straight_past(1.0, yaw_rate=0.5)
    boxes[0, :, 6] += 0.2
    past = agent_frame_past(t, boxes, np.array([CAR]), CFG)
    # relative to the last: yaw(t) - yaw(0) = 0.5 t -> -0.5 first, 0.0 last
    assert past.yaw_rad[0, 0] == pytest.approx(-0.5)
    assert past.yaw_rad[0, -1] == pytest.approx(0.0)
    np.testing.assert_allclose(past.yaw_rad[0], 0.5 * t[0], atol=1e-9)


def test_history_must_cover_the_model_past_within_half_a_step() -> None:
    # the model needs 10 * 0.1 = 1.0 s; a past may start at most 0.5 * 0.1 = 0.05 s late
    t, boxes = _straight_past(1.0)
    short_t = t[:, 1:]  # starts at -0.9 s: 0.1 s late > 0.05 s -> refused
    with pytest.raises(ValueError, match=r"row 0: field past_t_s: the past covers 0\.900 s"):
        agent_frame_past(short_t, boxes[:, 1:], np.array([CAR]), CFG)
    nearly_t = t.copy()
    nearly_t[0, 0] = -0.96  # 0.04 s late <= 0.05 s -> accepted
    agent_frame_past(nearly_t, boxes, np.array([CAR]), CFG)


def test_forecast_interpolates_linearly_between_grid_steps() -> None:
    net = ForecasterNet(CFG)
    with torch.no_grad():
        for p in net.parameters():
            p.zero_()  # residuals 0, equal logits: the constant-velocity base only
    model = LearnedForecaster(CFG, net)
    t, boxes = _straight_past(10.0)  # 10 m/s along +x, now at x = 0
    fc = model.forecast(t, boxes, np.array([CAR]), horizon_s=0.2, dt_s=0.05)
    # base displacement on the grid: 10 m/s * 0.1 s = 1 m per step; at 0.05 s steps the
    # interpolated x is 10 * k * 0.05: 0, 0.5, 1.0, 1.5, 2.0 (half-way points 0.5 and 1.5)
    np.testing.assert_allclose(fc.boxes[0, 0, :, 0], [0.0, 0.5, 1.0, 1.5, 2.0], atol=1e-6)
    np.testing.assert_allclose(fc.boxes[0, 0, :, 1], 0.0, atol=1e-6)
