"""Library-use defects found by review, each failing before its fix: SE3/SE2.allclose with a
relative tolerance, a Forecast the caller could change after it was checked, Boxes3D moved
by a tilting transform, PointCloud joined with wrong per-point times, concatenate of a
generator, an empty cloud from a list in float64, and an Observation with a float time."""

from __future__ import annotations

import numpy as np
import pytest

from drivestack.core.transforms import SE2, SE3
from drivestack.prediction import Forecast, constant_velocity_forecast
from drivestack.structures import Boxes3D, PointCloud


def test_allclose_is_absolute_at_map_coordinates() -> None:
    a = SE3.from_xyz_yaw([5e6, 4e6, 0.0], 0.0)
    b = SE3.from_xyz_yaw([5e6 + 40.0, 4e6 - 30.0, 0.0], 0.0)  # 50 m apart: were "close"
    assert not a.allclose(b) and not a.to_se2().allclose(b.to_se2())
    assert a.allclose(SE3.from_xyz_yaw([5e6, 4e6, 1e-10], 0.0))
    with pytest.raises(TypeError, match=r"SE3\.allclose needs an SE3, got ndarray"):
        a.allclose(np.eye(4))  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"SE2\.allclose needs an SE2"):
        SE2(0.0, np.zeros(2)).allclose(a)  # type: ignore[arg-type]


def test_a_forecast_is_frozen_and_owns_its_arrays() -> None:
    boxes = Boxes3D.from_array7([[0, 0, 0, 4, 2, 1.5, 0]], "ego", velocity_mps=[[10.0, 0.0]])
    forecast = constant_velocity_forecast(boxes, 3.0, 0.1)
    with pytest.raises(ValueError, match="read-only"):
        forecast.boxes[0, 5, 0] = np.nan  # a NaN after validation
    given = np.zeros((1, 2, 7))
    built = Forecast(0.1, given, np.zeros((1, 2)))
    given[0, 1, 0] = 42.0  # the caller's array: the forecast keeps its own copy
    assert built.boxes[0, 1, 0] == 0.0 and not built.speed_mps.flags.writeable


def test_boxes_refuse_a_transform_that_tilts_their_z_axis() -> None:
    lidar_to_camera_axes = SE3(np.array([[0.0, -1, 0], [0, 0, -1], [1, 0, 0]]))
    boxes = Boxes3D.from_array7([[10, 2, 0, 4.5, 1.8, 1.5, 0.3]], "lidar")
    with pytest.raises(ValueError, match=r"tilts the z axis by 90\.0 degrees \(at most 30\)"):
        boxes.transformed(lidar_to_camera_axes, "camera_front")
    slope = SE3(
        np.array([[np.cos(0.1), 0, np.sin(0.1)], [0, 1, 0], [-np.sin(0.1), 0, np.cos(0.1)]])
    )
    assert boxes.transformed(slope, "world").frame == "world"  # a road's grade is fine


@pytest.mark.parametrize("pitch_deg", [5.0, 15.0, 29.0])
def test_a_tilting_transform_turns_a_box_by_the_heading_of_its_forward_axis(
    pitch_deg: float,
) -> None:
    # the yaw was the box's plus the transform's heading: a pitch left a 45 degree box at 45
    # (its forward axis then points 48.83 degrees round at 29 degrees of pitch)
    p = np.deg2rad(pitch_deg)
    pitch = SE3(np.array([[np.cos(p), 0, np.sin(p)], [0, 1, 0], [-np.sin(p), 0, np.cos(p)]]))
    yaw = np.deg2rad(45.0)
    moved = Boxes3D.from_array7([[10, 2, 0, 4.5, 1.8, 1.5, yaw]], "lidar").transformed(
        pitch, "world"
    )
    forward = pitch.rotation @ [np.cos(yaw), np.sin(yaw), 0.0]
    assert moved.yaw_rad[0] == pytest.approx(np.arctan2(forward[1], forward[0]), abs=1e-12)
    assert np.rad2deg(moved.yaw_rad[0]) > 45.1
    level = SE3.from_xyz_yaw([3.0, 4.0, 0.0], 0.5)  # about z alone: the yaw plus 0.5, bit for bit
    flat = Boxes3D.from_array7([[10, 2, 0, 4.5, 1.8, 1.5, 3.0]], "lidar").transformed(level, "w")
    assert flat.yaw_rad[0] == 3.0 + 0.5 - 2 * np.pi


def test_a_cloud_may_move_into_a_frame_of_its_own_name() -> None:
    # unlike boxes: a past sweep is moved into the same-named sensor frame at a later time
    cloud = PointCloud(np.ones((3, 3), np.float32), "lidar", 0)
    moved = cloud.transformed(SE3.from_xyz_yaw([-1.0, 0.0, 0.0], 0.0), "lidar")
    assert moved.xyz_m[0].tolist() == [0.0, 1.0, 1.0]


def test_joined_clouds_keep_each_points_time_and_refuse_mixed_dtypes() -> None:
    first = PointCloud(np.zeros((1, 3), np.float32), "lidar", 0, {"time_offset_ns": np.array([5])})
    later = PointCloud(
        np.ones((1, 3), np.float32),
        "lidar",
        50_000_000,
        {"time_offset_ns": np.array([7], np.uint64)},
    )
    joined = PointCloud.concatenate(c for c in (first, later))  # any iterable
    assert joined.timestamp_ns == 0
    assert joined.attribute("time_offset_ns").tolist() == [5, 50_000_007]  # was [5, 7] as float
    assert joined.attribute("time_offset_ns").dtype == np.int64
    wide = PointCloud(np.ones((1, 3)), "lidar", 0, {"time_offset_ns": np.array([0])})
    with pytest.raises(ValueError, match=r"different coordinate dtypes \['float32', 'float64'\]"):
        PointCloud.concatenate([first, wide])
    with pytest.raises(TypeError, match="item 1 is a str, not a PointCloud"):
        PointCloud.concatenate([first, "x"])  # type: ignore[list-item]


def test_boxes_concatenate_takes_any_iterable() -> None:
    parts = {"car": Boxes3D.from_array7(np.zeros((2, 7)), "ego", 5), "ped": Boxes3D.empty("ego", 5)}
    assert len(Boxes3D.concatenate(parts.values())) == 2
    assert len(Boxes3D.concatenate(p for p in parts.values())) == 2  # were wrong errors
    with pytest.raises(ValueError, match="needs at least one Boxes3D"):
        Boxes3D.concatenate(iter(()))


def test_an_empty_cloud_from_a_list_is_float32_as_documented() -> None:
    assert PointCloud([], "lidar", 0).xyz_m.dtype == np.float32  # was float64
    assert PointCloud(np.zeros((0, 3)), "lidar", 0).xyz_m.dtype == np.float64  # given: kept


def test_an_observation_needs_integer_nanoseconds() -> None:
    from drivestack.sim.world import Observation
    from drivestack.structures import EgoState

    ego = EgoState(10**9, 0.0, 0.0, 0.0, speed_mps=8.0, frame="map")
    with pytest.raises(TypeError, match=r"Observation\.timestamp_ns must be an integer"):
        Observation(1e9, ego, Boxes3D.empty("map"), ())  # type: ignore[arg-type]
    assert Observation(10**9, ego, Boxes3D.empty("map", 10**9), ()).timestamp_ns == 10**9


def test_a_batch_of_one_transform_moves_boxes_as_that_transform() -> None:
    from drivestack.structures.boxes import rigid_move_centres_and_yaw

    one = SE3.from_xyz_yaw([[1.0, 2.0, 0.0]], [0.5])  # batch shape (1,)
    centres, yaws = rigid_move_centres_and_yaw(one, np.zeros((4, 3)), np.full(4, 0.25))
    np.testing.assert_allclose(yaws, [0.75] * 4)
    np.testing.assert_allclose(centres, [[1.0, 2.0, 0.0]] * 4)
    with pytest.raises(ValueError, match=r"a single SE3, got a batch of shape \(2,\)"):
        rigid_move_centres_and_yaw(
            SE3.from_xyz_yaw(np.zeros((2, 3)), [0.0, 1.0]), np.zeros((1, 3)), np.zeros(1)
        )
