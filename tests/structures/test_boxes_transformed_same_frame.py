"""Boxes3D.transformed into the boxes' own frame takes only the identity (review finding 6):
before, ``boxes.transformed(T, boxes.frame)`` with a moving ``T`` was accepted, and the boxes,
moved but still named in their old frame, were moved again by the next step reading it."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from drivestack.core.transforms import SE3
from drivestack.structures.boxes import SAME_FRAME_ATOL, Boxes3D

ROWS = np.array([[1.0, 0.0, 0.0, 4.0, 2.0, 1.5, 0.0], [5.0, 1.0, 0.2, 0.8, 0.6, 1.7, 0.3]])


def _boxes(frame: str = "ego") -> Boxes3D:
    return Boxes3D.from_array7(ROWS, frame, 7, label=[1, 2], velocity_mps=[[1.0, 0.0], [0.0, 2.0]])


def test_a_moving_transform_into_the_same_frame_is_refused() -> None:
    with pytest.raises(
        ValueError,
        match=r"^Boxes3D.transformed: the boxes are already in frame 'ego', and dst_from_src "
        r"is not the identity \(largest deviation 1\.5; translation \[1\.5 0\.  0\. \] m, yaw "
        r"0\.000000 rad\): name the frame the transform maps into \(dst_frame\), or check that "
        r"the boxes are in its source frame",
    ):
        _boxes().transformed(SE3.from_xyz_yaw([1.5, 0.0, 0.0], 0.0), "ego")
    with pytest.raises(ValueError, match=r"yaw 0\.300000 rad"):
        _boxes("lidar").transformed(SE3.from_xyz_yaw([0.0, 0.0, 0.0], 0.3), "lidar")
    with pytest.raises(ValueError, match=r"largest deviation 2e-05"):
        _boxes().transformed(SE3.from_xyz_yaw([2e-5, 0.0, 0.0], 0.0), "ego")


def test_a_float32_round_trip_counts_as_the_identity() -> None:
    """A calibration product computed in float32 (``T @ inv(T)``) is ~4e-6 off the identity:
    the reviewer's case was refused with a message printing zeros."""
    t = SE3.from_xyz_yaw([1.2, -0.4, 1.7], 0.7).as_matrix().astype(np.float32)
    product = SE3.from_matrix((t @ np.linalg.inv(t)).astype(np.float64))
    assert not product.allclose(SE3.identity())  # off by more than 1e-9
    same = _boxes().transformed(product, "ego")
    np.testing.assert_allclose(same.to_array7(), ROWS, atol=1e-4)


def test_the_identity_into_the_same_frame_gives_the_same_boxes() -> None:
    # (KITTI: ego_from_sensor["lidar"] is the identity, and a reader's labels in "lidar"
    # moved "to" a frame also named "lidar" are unchanged)
    for identity in (SE3.identity(), SE3.from_xyz_yaw([1e-12, 0.0, 0.0], 1e-12)):
        same = _boxes().transformed(identity, "ego")
        np.testing.assert_allclose(same.to_array7(), ROWS, atol=1e-9)
        assert same.frame == "ego"


@settings(max_examples=40, deadline=None)
@given(
    st.floats(-50.0, 50.0),
    st.floats(-50.0, 50.0),
    st.floats(-np.pi, np.pi),
)
def test_only_near_identity_transforms_keep_the_frame(x: float, y: float, yaw: float) -> None:
    """A transform into another frame always works; into the same frame exactly when it is
    the identity within SAME_FRAME_ATOL."""
    transform = SE3.from_xyz_yaw([x, y, 0.0], yaw)
    moved = _boxes().transformed(transform, "world")
    np.testing.assert_allclose(moved.center_m, transform.apply(ROWS[:, :3]), atol=1e-9)
    if transform.allclose(SE3.identity(), SAME_FRAME_ATOL):
        assert _boxes().transformed(transform, "ego").frame == "ego"
    else:
        with pytest.raises(ValueError, match="already in frame 'ego'"):
            _boxes().transformed(transform, "ego")
