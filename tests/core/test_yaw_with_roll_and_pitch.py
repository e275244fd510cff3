"""``SE3.yaw_rad`` (and ``to_se2``) of rotations with roll and pitch: the heading of the
rotated x axis projected on the ground plane, ``atan2(R[1, 0], R[0, 0])``; for ``R = Rz(yaw)
Ry(pitch) Rx(roll)`` (|pitch| < 90 deg) that is ``yaw`` itself. Other read-outs that agree
without roll and pitch (e.g. the rotated y axis' heading ``atan2(-R[0, 1], R[1, 1])``) do
not."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from drivestack.core.transforms import SE3


def _rx(a: float) -> np.ndarray:
    c, s = math.cos(a), math.sin(a)
    return np.array([[1.0, 0.0, 0.0], [0.0, c, -s], [0.0, s, c]])


def _ry(a: float) -> np.ndarray:
    c, s = math.cos(a), math.sin(a)
    return np.array([[c, 0.0, s], [0.0, 1.0, 0.0], [-s, 0.0, c]])


def _rz(a: float) -> np.ndarray:
    c, s = math.cos(a), math.sin(a)
    return np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]])


def _angle_between(a: float, b: float) -> float:
    return abs(math.remainder(a - b, 2.0 * math.pi))


def test_pitch_and_roll_without_yaw_have_zero_yaw() -> None:
    # the x axis pitched down 30 deg still points along +x on the ground; the y axis, rolled
    # and then pitched, does not stay on the ground plane's y axis
    pose = SE3(_ry(math.radians(30.0)) @ _rx(math.radians(30.0)), np.array([1.0, 2.0, 3.0]))
    assert float(pose.yaw_rad) == pytest.approx(0.0, abs=1e-12)
    planar = pose.to_se2()
    assert float(planar.yaw_rad) == pytest.approx(0.0, abs=1e-12)
    np.testing.assert_array_equal(planar.translation, [1.0, 2.0])


tilt = st.floats(-math.radians(59.9), math.radians(59.9), allow_nan=False)


@settings(max_examples=200, deadline=None)
@given(roll=tilt, pitch=tilt, yaw=st.floats(-math.pi, math.pi, allow_nan=False))
def test_yaw_is_the_ground_heading_of_the_rotated_x_axis(
    roll: float, pitch: float, yaw: float
) -> None:
    rotation = _rz(yaw) @ _ry(pitch) @ _rx(roll)
    pose = SE3(rotation, np.zeros(3))
    x_axis = rotation[:, 0]
    heading = math.atan2(x_axis[1], x_axis[0])
    got = float(pose.yaw_rad)
    assert -math.pi <= got < math.pi
    assert _angle_between(got, heading) <= 1e-9
    assert _angle_between(got, yaw) <= 1e-9  # cos(pitch) > 0: the x axis keeps its heading
    assert _angle_between(float(pose.to_se2().yaw_rad), heading) <= 1e-9
