"""Boxes3D.transformed into the boxes' own frame takes only the identity (review finding 6):
before, ``boxes.transformed(T, boxes.frame)`` with a moving ``T`` was accepted, and the boxes,
moved but still named in their old frame, were moved again by the next step reading it."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from drivestack.core.transforms import SE3
from drivestack.structures.boxes import Boxes3D

ROWS = np.array([[1.0, 0.0, 0.0, 4.0, 2.0, 1.5, 0.0], [5.0, 1.0, 0.2, 0.8, 0.6, 1.7, 0.3]])


def _boxes(frame: str = "ego") -> Boxes3D:
    return Boxes3D.from_array7(ROWS, frame, 7, label=[1, 2], velocity_mps=[[1.0, 0.0], [0.0, 2.0]])


def test_a_moving_transform_into_the_same_frame_is_refused() -> None:
    with pytest.raises(
        ValueError,
        match=r"^Boxes3D.transformed: the boxes are already in frame 'ego', and dst_from_src "
        r"moves them \(translation \[1\.5 0\.  0\. \] m, yaw 0\.000 rad\): name the frame the "
        r"transform maps into \(dst_frame\), or check that the boxes are in its source frame",
    ):
        _boxes().transformed(SE3.from_xyz_yaw([1.5, 0.0, 0.0], 0.0), "ego")
    with pytest.raises(ValueError, match=r"yaw 0\.300 rad"):
        _boxes("lidar").transformed(SE3.from_xyz_yaw([0.0, 0.0, 0.0], 0.3), "lidar")


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
    the identity within 1e-9 (SE3.allclose)."""
    transform = SE3.from_xyz_yaw([x, y, 0.0], yaw)
    moved = _boxes().transformed(transform, "world")
    np.testing.assert_allclose(moved.center_m, transform.apply(ROWS[:, :3]), atol=1e-9)
    if transform.allclose(SE3.identity()):
        assert _boxes().transformed(transform, "ego").frame == "ego"
    else:
        with pytest.raises(ValueError, match="already in frame 'ego'"):
            _boxes().transformed(transform, "ego")
