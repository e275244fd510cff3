"""Signed size error of matched boxes (fitted minus labelled), as the KITTI and aiMotive / AV2
runs of tools/eval_lidar_perception.py report it for drivestack's true-positive Car boxes."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from drivestack.perception.lidar.metrics import CarTally, size_errors


def test_hand_values_and_axis_swap() -> None:
    label = np.array([[10.0, 0.0, -1.0, 4.0, 1.8, 1.5, 0.0]])
    same_axis = np.array([[10.1, 0.0, -1.0, 4.2, 1.9, 1.4, np.pi]])  # yaw is an axis: pi ~ 0
    turned = np.array([[10.0, 0.0, -1.0, 1.9, 4.2, 1.4, np.pi / 2 - 0.1]])
    np.testing.assert_allclose(size_errors(same_axis, label), [[0.2, 0.1, -0.1]], atol=1e-12)
    np.testing.assert_allclose(size_errors(turned, label), [[0.2, 0.1, -0.1]], atol=1e-12)
    assert size_errors(np.zeros((0, 7)), np.zeros((0, 7))).shape == (0, 3)
    with pytest.raises(ValueError, match="2 detections but 1 labels"):
        size_errors(np.r_[same_axis, turned], label)


@settings(max_examples=40, deadline=None)
@given(
    yaw=st.floats(-np.pi, np.pi),
    turns=st.integers(-3, 3),
    lwh=st.tuples(st.floats(1.0, 6.0), st.floats(0.5, 0.9), st.floats(0.5, 3.0)),
    grow=st.tuples(st.floats(-0.3, 0.3), st.floats(-0.3, 0.3), st.floats(-0.3, 0.3)),
)
def test_the_error_does_not_depend_on_how_the_box_names_its_axes(
    yaw: float,
    turns: int,
    lwh: tuple[float, float, float],
    grow: tuple[float, float, float],
) -> None:
    # a label longer than wide; the detection grown by `grow`, its yaw turned by any number
    # of quarter turns (odd: length and width named the other way round)
    length, width, height = lwh[0] + 1.0, lwh[1], lwh[2]
    label = np.array([[0.0, 0.0, 0.0, length, width, height, yaw]])
    dl, dw, dh = grow
    sizes: tuple[float, float] = (
        (length + dl, width + dw) if turns % 2 == 0 else (width + dw, length + dl)
    )
    det = np.array([[0.0, 0.0, 0.0, *sizes, height + dh, yaw + turns * np.pi / 2]])
    np.testing.assert_allclose(size_errors(det, label), [[dl, dw, dh]], atol=1e-9)


def test_car_tally_keeps_the_true_positives_errors() -> None:
    tally = CarTally(max_range_m=math.inf)
    assert all(math.isnan(v) for v in tally.summary()["tp_size_error_median_m"])
    cars = np.array([[10.0, 0.0, -1.0, 4.0, 1.8, 1.5, 0.0], [20.0, 5.0, -1.0, 4.0, 1.8, 1.5, 0.0]])
    det = np.array(
        [
            [10.0, 0.0, -1.0, 4.2, 2.0, 1.4, 0.0],  # true: +0.2 / +0.2 / -0.1
            [20.0, 5.0, -1.0, 4.0, 1.9, 1.3, 0.0],  # true: 0 / +0.1 / -0.2
            [40.0, 0.0, -1.0, 4.0, 1.8, 1.5, 0.0],  # false: no label there
        ]
    )
    tally.add(det, np.array([0.9, 0.8, 0.7]), cars, np.zeros((0, 7)))
    summary = tally.summary()
    assert summary["tp_size_error_count"] == 2
    np.testing.assert_allclose(summary["tp_size_error_median_m"], [0.1, 0.15, -0.15], atol=1e-9)
