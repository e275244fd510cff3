"""The LiDAR stage works in the sensor's frame or a level one at the mount: the same scene
seen from a level mount, given in the ego frame, or seen from a tilted, rolled or upside-down
mount gives the same ego-frame boxes."""

from __future__ import annotations

import numpy as np
import pytest

from drivestack.core.frames import EGO
from drivestack.core.transforms import SE3
from drivestack.perception.lidar import build_lidar_detector
from drivestack.perception.lidar.mount import MAX_MOUNT_TILT_DEG, ego_from_stage, mount_tilt_deg
from drivestack.structures.boxes import Boxes3D
from drivestack.structures.point_cloud import PointCloud
from drivestack.structures.sensor_frame import SensorFrame

from .synthetic import KITTI_LIDAR_CONFIG, SENSOR_HEIGHT_M
from .test_detector import _scene

#: the level mount the scene is drawn from: 1.2 m ahead of the ego origin, ground 1.73 m below
LEVEL = SE3(np.eye(3), np.array([1.2, 0.0, SENSOR_HEIGHT_M]))


def _rotation(axis: str, angle_deg: float) -> np.ndarray:
    c, s = np.cos(np.radians(angle_deg)), np.sin(np.radians(angle_deg))
    return {
        "x": np.array([[1, 0, 0], [0, c, -s], [0, s, c]]),
        "y": np.array([[c, 0, s], [0, 1, 0], [-s, 0, c]]),
        "z": np.array([[c, -s, 0], [s, c, 0], [0, 0, 1]]),
    }[axis].astype(float)


def _boxes(xyz_m: np.ndarray, frame: str, ego_from_sensor: SE3 | None) -> Boxes3D:
    mounts = {} if ego_from_sensor is None else {"top": ego_from_sensor}
    sensor_frame = SensorFrame(
        0, lidars={"top": PointCloud(xyz_m, frame, 0)}, ego_from_sensor=mounts, source="synthetic"
    )
    return build_lidar_detector(KITTI_LIDAR_CONFIG).step(sensor_frame)


def _assert_same_boxes(got: Boxes3D, want: Boxes3D) -> None:
    assert got.frame == want.frame == EGO
    assert len(got) == len(want) >= 3
    order_got, order_want = np.lexsort(got.center_m.T[:2]), np.lexsort(want.center_m.T[:2])
    # a frame turned about z voxelises and searches yaw on another grid: a few cm apart
    np.testing.assert_allclose(got.center_m[order_got], want.center_m[order_want], atol=0.05)
    np.testing.assert_allclose(got.size_m[order_got], want.size_m[order_want], atol=0.05)
    turn = np.angle(np.exp(2j * (got.yaw_rad[order_got] - want.yaw_rad[order_want]))) / 2
    assert np.all(np.abs(turn) < np.radians(1.0))
    assert np.array_equal(got.label[order_got], want.label[order_want])


@pytest.fixture(scope="module")
def scene_in_ego() -> tuple[np.ndarray, Boxes3D]:
    """The scene's points in the ego frame, and the boxes found from the level mount."""
    xyz = _scene()
    return LEVEL.apply(xyz), _boxes(xyz, "lidar", LEVEL)


def test_an_ego_frame_cloud_is_seen_from_its_mount(scene_in_ego) -> None:
    """Was: a cloud in the ego frame was cropped and its ground sought 1.73 m below the ego
    origin (the config's sensor height), whatever ego_from_sensor said: the road came out as
    boxes."""
    xyz_ego, want = scene_in_ego
    _assert_same_boxes(_boxes(xyz_ego.astype(np.float32), EGO, LEVEL), want)


@pytest.mark.parametrize(
    ("axis", "angle_deg"),
    [("x", 12.0), ("y", -20.0), ("x", 180.0), ("y", 90.0), ("y", 4.9), ("y", 5.0), ("y", 1.4)],
)
def test_a_tilted_mount_is_levelled(scene_in_ego, axis: str, angle_deg: float) -> None:
    """Was: mounts tilted past 5 degrees were refused (and before that gave floating
    pedestrian boxes and no cars, silently); 4.9 and 5.0 degrees were worked on in the sensor
    frame and lost one and all three cars. Past 2 degrees the level frame at the mount is used;
    nuScenes' 1.4 stays in the sensor frame, as the configs were tuned."""
    xyz_ego, want = scene_in_ego
    mount = SE3(_rotation(axis, angle_deg) @ _rotation("z", 30.0), LEVEL.translation)
    xyz_sensor = mount.inverse().apply(xyz_ego).astype(np.float32)
    got = _boxes(xyz_sensor, "lidar", mount)
    if abs(angle_deg) <= MAX_MOUNT_TILT_DEG:  # the sensor's z taken for up: close, not equal
        assert len(got) == len(want)
        return
    _assert_same_boxes(got, want)


def test_the_stage_frame_of_a_mount() -> None:
    level = SE3(_rotation("z", 40.0), np.array([1.0, 2.0, 1.5]))
    assert ego_from_stage(level) is level and mount_tilt_deg(level) == pytest.approx(0.0)
    pitched = SE3(_rotation("z", 40.0) @ _rotation("y", 30.0), np.array([1.0, 2.0, 1.5]))
    assert mount_tilt_deg(pitched) == pytest.approx(30.0)
    stage = ego_from_stage(pitched)  # the mount's heading and place, level
    assert stage.allclose(SE3.from_xyz_yaw([1.0, 2.0, 1.5], np.radians(40.0)))
    # looking straight down (x along -z): the heading comes from the y axis
    down = SE3(_rotation("z", -25.0) @ _rotation("y", 90.0), np.zeros(3))
    assert ego_from_stage(down).allclose(SE3.from_xyz_yaw(np.zeros(3), np.radians(-25.0)))
