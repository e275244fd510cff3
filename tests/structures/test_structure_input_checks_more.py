"""Structures refuse what they would otherwise change silently and name what is wrong
(walkthrough findings 4, 5, 6, 9, 10 and 11)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from drivestack.structures.boxes import Boxes3D
from drivestack.structures.ego_state import EgoState
from drivestack.structures.point_cloud import PointCloud
from drivestack.structures.trajectory import Trajectory

# -- Boxes3D.from_array7 labels -----------------------------------------------------------------


def test_from_array7_refuses_fractional_labels() -> None:
    with pytest.raises(
        ValueError, match=r"from_array7 label must hold integer class ids, got 1\.7 at row 1"
    ):
        Boxes3D.from_array7(np.zeros((2, 7)), "ego", label=[1.0, 1.7])
    with pytest.raises(ValueError, match=r"integer class ids, got nan at row 0"):
        Boxes3D.from_array7(np.zeros((1, 7)), "ego", label=np.array([np.nan]))


def test_from_array7_takes_whole_and_integer_labels_as_before() -> None:
    assert Boxes3D.from_array7(np.zeros((2, 7)), "ego", label=[2.0, 1.0]).label.tolist() == [2, 1]
    boxes = Boxes3D.from_array7(np.zeros((2, 7)), "ego", label=np.array([3, 0], dtype=np.uint8))
    assert boxes.label.tolist() == [3, 0] and boxes.label.dtype == np.int64


# -- row counts ---------------------------------------------------------------------------------


def test_replace_names_the_fields_whose_row_counts_disagree() -> None:
    boxes = Boxes3D.from_array7(np.zeros((2, 7)), "ego")
    with pytest.raises(ValueError, match=r"Boxes3D\.size_m has 2 rows but Boxes3D\.center_m has 3"):
        dataclasses.replace(boxes, center_m=np.zeros((3, 3)))


def test_a_shape_error_beyond_the_rows_keeps_its_message() -> None:
    with pytest.raises(
        ValueError, match=r"Boxes3D\.size_m must have shape \(2, 3\), got \(2, 2\)$"
    ):
        Boxes3D(np.zeros((2, 3)), np.zeros((2, 2)), np.zeros(2), "ego")


# -- memory of the caller -----------------------------------------------------------------------


def test_a_read_only_view_is_handed_over_without_a_copy() -> None:
    buffer = np.zeros((2, 7))
    centres = buffer[:, :3]
    centres.setflags(write=False)  # read-only: handed over, as the ROS decoders do
    boxes = Boxes3D(centres, np.ones((2, 3)), np.zeros(2), "ego")
    assert boxes.center_m is centres


def test_fields_of_another_structure_are_still_kept_without_a_copy() -> None:
    boxes = Boxes3D.from_array7(np.arange(14.0).reshape(2, 7), "ego")
    moved = dataclasses.replace(boxes, frame="world")
    assert moved.center_m is boxes.center_m and moved.size_m is boxes.size_m
    xy = Boxes3D(boxes.center_m[:, :], boxes.size_m, boxes.yaw_rad, "ego")  # a frozen view
    assert np.shares_memory(xy.center_m, boxes.center_m)


def test_trajectory_and_point_cloud_copy_writeable_views_and_keep_read_only_ones() -> None:
    buffer = np.zeros((2, 3))
    xs = buffer[:, 0]  # a writeable view of the caller's buffer: copied
    trajectory = Trajectory(np.array([0, 1]), xs, *[np.zeros(2)] * 5)
    intensity = buffer[:, 1]
    cloud = PointCloud(np.zeros((2, 3)), "lidar", 0, {"intensity": intensity})
    buffer[:] = 9.0
    np.testing.assert_array_equal(trajectory.x_m, [0.0, 0.0])
    np.testing.assert_array_equal(cloud.attributes["intensity"], [0.0, 0.0])
    ring = buffer[:, 2]
    ring.setflags(write=False)  # read-only: handed over without a copy
    assert PointCloud(np.zeros((2, 3)), "lidar", 0, {"ring": ring}).attributes["ring"] is ring


# -- EgoState numbers ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("x_m", "1", r"EgoState\.x_m must be a finite number, got str '1'"),
        ("y_m", True, r"EgoState\.y_m must be a finite number, got bool True"),
        ("speed_mps", np.array([1.0]), r"EgoState\.speed_mps must be a finite number, got ndarray"),
    ],
)
def test_ego_state_refuses_what_is_not_a_number(field: str, value: object, message: str) -> None:
    fields = {"x_m": 0.0, "y_m": 0.0, "yaw_rad": 0.0, field: value}
    with pytest.raises(TypeError, match=message):
        EgoState(0, **fields)  # type: ignore[arg-type]


def test_ego_state_refuses_non_finite_numbers_naming_the_field() -> None:
    with pytest.raises(
        ValueError, match=r"EgoState\.steering_rad must be a finite number, got nan"
    ):
        EgoState(0, 0.0, 0.0, 0.0, steering_rad=float("nan"))


def test_ego_state_takes_python_and_numpy_numbers_as_python_floats() -> None:
    ego = EgoState(0, 1, np.float64(2.5), np.float32(0.5), speed_mps=np.int64(3))
    assert (ego.x_m, ego.y_m, ego.yaw_rad, ego.speed_mps) == (1.0, 2.5, 0.5, 3.0)
    assert all(type(v) is float for v in (ego.x_m, ego.y_m, ego.yaw_rad, ego.speed_mps))


# -- Trajectory timestamps ----------------------------------------------------------------------


def test_trajectory_refuses_two_dimensional_timestamps() -> None:
    with pytest.raises(
        ValueError, match=r"Trajectory\.timestamp_ns must be 1-D, got shape \(2, 1\)"
    ):
        Trajectory(np.array([[0], [1]]), *[np.zeros(2)] * 6)


# -- select bounds ------------------------------------------------------------------------------


def test_select_names_an_index_out_of_range() -> None:
    boxes = Boxes3D.from_array7(np.zeros((2, 7)), "ego")
    with pytest.raises(IndexError, match=r"Boxes3D\.select: index 5 is out of range for 2 rows"):
        boxes.select([5])
    with pytest.raises(IndexError, match=r"Boxes3D\.select: index -3 is out of range for 2 rows"):
        boxes.select([0, -3])


def test_select_still_takes_negative_indices_in_range() -> None:
    boxes = Boxes3D.from_array7(np.arange(14.0).reshape(2, 7), "ego")
    np.testing.assert_array_equal(boxes.select([-1, 0]).center_m[:, 0], [7.0, 0.0])
    assert len(boxes.select(np.zeros(0, dtype=np.int64))) == 0
