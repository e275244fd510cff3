"""Frozen structure-of-arrays types: validation, empties, selection, transforms."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest

from drivestack.core.transforms import SE3
from drivestack.structures import (
    Boxes3D,
    CameraCalibration,
    CameraImage,
    Detections2D,
    EgoState,
    ObjectClass,
    PointCloud,
    SensorFrame,
    Tracks,
    Trajectory,
)


def test_boxes_roundtrip_defaults_and_freeze():
    arr = np.array([[1.0, 2.0, 0.5, 4.0, 2.0, 1.5, 3.5]])
    boxes = Boxes3D.from_array7(arr, "ego", 10, label=[ObjectClass.CAR])
    assert boxes.yaw_rad[0] == pytest.approx(3.5 - 2 * math.pi)
    assert boxes.score.tolist() == [1.0] and boxes.velocity_mps.shape == (1, 2)
    assert boxes.label.dtype == np.int64
    with pytest.raises(ValueError, match="read-only"):
        boxes.center_m[0, 0] = 5.0
    with pytest.raises(dataclasses.FrozenInstanceError):
        boxes.frame = "world"  # type: ignore[misc]
    source = arr.copy()
    b2 = Boxes3D.from_array7(source, "ego")
    source[0, 0] = 99.0
    assert b2.center_m[0, 0] == 1.0  # the caller's array was copied, not aliased


def test_empty_is_valid_everywhere():
    assert len(Boxes3D.empty("ego")) == 0
    assert Boxes3D.empty("ego").to_array7().shape == (0, 7)
    assert len(PointCloud.empty("lidar", 0, {"intensity": np.float32})) == 0
    assert len(Tracks.empty("world")) == 0
    assert len(Detections2D(np.zeros((0, 4)), "camera_front")) == 0
    assert len(Trajectory.empty()) == 0
    assert len(Boxes3D.concatenate([Boxes3D.empty("ego"), Boxes3D.empty("ego")])) == 0


def test_boxes_validation_names_field():
    with pytest.raises(ValueError, match=r"Boxes3D\.size_m"):
        Boxes3D(np.zeros((2, 3)), np.ones((3, 3)), np.zeros(2), "ego")
    with pytest.raises(ValueError, match="non-negative"):
        Boxes3D(np.zeros((1, 3)), -np.ones((1, 3)), np.zeros(1), "ego")
    with pytest.raises(ValueError, match="NaN"):
        Boxes3D(np.full((1, 3), np.nan), np.ones((1, 3)), np.zeros(1), "ego")
    with pytest.raises(ValueError, match="frame"):
        Boxes3D(np.zeros((1, 3)), np.ones((1, 3)), np.zeros(1), "")


def test_boxes_transform_moves_centre_yaw_and_velocity():
    boxes = Boxes3D.from_array7([[1.0, 0.0, 0.0, 4, 2, 1.5, 0.0]], "ego", velocity_mps=[[1.0, 0.0]])
    world = boxes.transformed(SE3.from_xyz_yaw([10.0, 0.0, 0.0], math.pi / 2), "world")
    np.testing.assert_allclose(world.center_m, [[10.0, 1.0, 0.0]], atol=1e-12)
    assert world.yaw_rad[0] == pytest.approx(math.pi / 2)
    np.testing.assert_allclose(world.velocity_mps, [[0.0, 1.0]], atol=1e-12)
    assert world.frame == "world"


def test_point_cloud_attributes_select_and_transform():
    xyz = np.arange(12, dtype=np.float32).reshape(4, 3)
    cloud = PointCloud(xyz, "lidar", 5, {"intensity": np.array([0.1, 0.2, 0.3, 0.4])})
    sub = cloud.select(np.array([True, False, True, False]))
    assert len(sub) == 2 and sub.attributes["intensity"].tolist() == [0.1, 0.3]
    moved = cloud.transformed(SE3.from_xyz_yaw([1.0, 0.0, 0.0], 0.0), "ego")
    assert moved.xyz_m.dtype == np.float32 and moved.frame == "ego"
    np.testing.assert_allclose(moved.xyz_m[:, 0], xyz[:, 0] + 1)
    with pytest.raises(ValueError, match="intensity"):
        PointCloud(xyz, "lidar", 0, {"intensity": np.zeros(3)})
    with pytest.raises(ValueError, match="NaN"):
        PointCloud(np.array([[np.nan, 0, 0]], dtype=np.float32), "lidar", 0)
    with pytest.raises(KeyError, match="ring"):
        cloud.attribute("ring")
    with_ring = cloud.with_attributes(ring=np.arange(4))
    with pytest.raises(ValueError, match=r"cloud 1 has \['ring'\] too.*\['intensity'\]"):
        PointCloud.concatenate([cloud, with_ring])
    both = PointCloud.concatenate([cloud, with_ring], common_attributes=True)
    assert len(both) == 8 and sorted(both.attributes) == ["intensity"]


def _calibration(width: int = 4, height: int = 3) -> CameraCalibration:
    k = np.array([[100.0, 0, 2], [0, 100.0, 1.5], [0, 0, 1]])
    return CameraCalibration("front", k, width, height, SE3.identity(), "camera_front")


def test_camera_calibration_and_image_checks():
    cal = _calibration()
    image = CameraImage(np.zeros((3, 4, 3), dtype=np.uint8), cal, 0)
    assert image.frame == "camera_front"
    with pytest.raises(ValueError, match="4x5 px but its calibration says 4x3"):
        CameraImage(np.zeros((5, 4, 3), dtype=np.uint8), cal, 0)
    with pytest.raises(ValueError, match="focal lengths must be positive"):
        CameraCalibration("bad", np.diag([0.0, 1.0, 1.0]), 4, 3, SE3.identity(), "camera_bad")


def test_sensor_frame_tracks_ego_trajectory():
    cloud = PointCloud(np.zeros((2, 3), dtype=np.float32), "lidar", 0)
    frame = SensorFrame(0, lidars={"top": cloud}, world_from_ego=SE3.identity())
    assert frame.lidar() is cloud
    with pytest.raises(KeyError, match="no LiDAR 'front'"):
        frame.lidar("front")
    boxes = Boxes3D.from_array7(np.ones((2, 7)), "world")
    tracks = Tracks(np.array([3, 7]), boxes)
    assert tracks.select([1]).track_id.tolist() == [7]
    with pytest.raises(ValueError, match="unique"):
        Tracks(np.array([3, 3]), boxes)
    ego = EgoState(0, 1.0, 2.0, 4.0, speed_mps=3.0)
    assert ego.yaw_rad == pytest.approx(4.0 - 2 * math.pi)
    np.testing.assert_allclose(
        ego.frame_from_ego.apply([1.0, 0, 0])[:2], [1 + math.cos(4.0), 2 + math.sin(4.0)]
    )
    traj = Trajectory(
        np.array([0, 100]), [0.0, 1.0], [0.0, 0.0], [3.0, -3.0], [1.0, 1.0], [0.0, 0.0], [0.0, 0.0]
    )
    mid = traj.interpolate(np.array([50]))
    assert mid.x_m[0] == pytest.approx(0.5)
    assert abs(mid.yaw_rad[0]) == pytest.approx(math.pi, abs=1e-9)  # interpolated across +-pi
    with pytest.raises(ValueError, match="increase"):
        Trajectory(np.array([5, 5]), *([np.zeros(2)] * 6))
    with pytest.raises(ValueError, match="x2 < x1"):
        Detections2D(np.array([[5.0, 0, 1.0, 1.0]]), "camera_front")
    assert ObjectClass.from_name("traffic cone") is ObjectClass.TRAFFIC_CONE


def test_from_finite_xyz_skips_only_its_own_check():
    cloud = PointCloud.from_finite_xyz(np.zeros((2, 3), np.float32), "lidar", 0)
    assert len(cloud) == 2 and not cloud.xyz_m.flags.writeable
    with pytest.raises(ValueError, match="NaN"):
        dataclasses.replace(cloud, xyz_m=np.full((2, 3), np.nan, np.float32))


def test_transformed_and_unchecked_boxes_equal_the_checked_construction():
    # transformed() builds its result without re-checking: same values as the checked
    # constructor on the same arithmetic, read-only, yaw wrapped, velocities rotated
    arr = np.array([[1.0, 2.0, 0.5, 4.0, 2.0, 1.5, 3.0], [-5.0, 1.0, 0.2, 1.0, 0.8, 1.7, -3.0]])
    boxes = Boxes3D.from_array7(arr, "ego", 7, score=[0.5, 2.0], velocity_mps=[[1, 0], [0, 2]])
    pose = SE3.from_xyz_yaw([10.0, -3.0, 0.4], 2.5)
    moved = boxes.transformed(pose, "world")
    vel3 = np.concatenate([boxes.velocity_mps, np.zeros((2, 1))], axis=1)
    checked = Boxes3D(
        pose.apply(boxes.center_m),
        boxes.size_m,
        boxes.yaw_rad + float(pose.yaw_rad),
        "world",
        7,
        score=boxes.score,
        label=boxes.label,
        velocity_mps=pose.rotate(vel3)[:, :2],
    )
    for f in dataclasses.fields(Boxes3D):
        a, b = getattr(moved, f.name), getattr(checked, f.name)
        if isinstance(a, np.ndarray):
            np.testing.assert_array_equal(a, b, err_msg=f.name)
            assert not a.flags.writeable, f.name
        else:
            assert a == b, f.name
    assert np.all(moved.yaw_rad >= -math.pi) and np.all(moved.yaw_rad < math.pi)
    with pytest.raises(ValueError, match="frame"):
        boxes.transformed(pose, "")
    inv = pose.inverse()  # also built without re-checking
    assert not inv.rotation.flags.writeable and not inv.translation.flags.writeable
    np.testing.assert_allclose(inv.apply(pose.apply(arr[:, :3])), arr[:, :3], atol=1e-12)


def test_boxes_pair_with_a_float32_cloud_through_an_explicit_dtype() -> None:
    from drivestack.kernels import points_in_boxes

    boxes = Boxes3D.from_array7(np.array([[0.0, 0.0, 0.0, 2.0, 2.0, 2.0, 0.0]]), "ego", 0)
    cloud = PointCloud(np.array([[0.5, 0.5, 0.5], [3.0, 0.0, 0.0]], np.float32), "ego", 0)
    with pytest.raises(
        ValueError, match=r"share one dtype .*float32.*float64.*cast one explicitly"
    ):
        points_in_boxes(cloud.xyz_m, boxes.to_array7())
    array = boxes.to_array7(dtype=cloud.xyz_m.dtype)
    assert array.dtype == np.float32
    np.testing.assert_array_equal(array, boxes.to_array7().astype(np.float32))
    assert points_in_boxes(cloud.xyz_m, array)[:, 0].tolist() == [True, False]
