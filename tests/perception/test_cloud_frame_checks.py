"""The LiDAR stage refuses a cloud in a frame that is neither the LiDAR's own sensor frame nor
the ego frame (the world or map frame, a camera frame, another sensor's frame), naming
``lidars[<name>].frame``, instead of applying ``ego_from_sensor`` to it and labelling the
boxes ``ego``; the frames the readers give (``lidar``, a ROS ``frame_id`` under another key,
``ego``) still pass."""

from __future__ import annotations

import numpy as np
import pytest

from drivestack.core.errors import DataError
from drivestack.core.transforms import SE3
from drivestack.perception.lidar import build_lidar_detector
from drivestack.structures.point_cloud import PointCloud
from drivestack.structures.sensor_frame import SensorFrame

from .synthetic import KITTI_LIDAR_CONFIG, ground_plane

MOUNT = SE3.from_matrix(np.array([[1, 0, 0, 1.0], [0, 1, 0, 0], [0, 0, 1, 1.73], [0, 0, 0, 1.0]]))


def _frame(cloud_frame: str, key: str = "lidar", **kw: object) -> SensorFrame:
    xyz = ground_plane(np.random.default_rng(0), num=5_000).astype(np.float32)
    return SensorFrame(
        0,
        lidars={key: PointCloud(xyz, cloud_frame, 0)},
        ego_from_sensor={key: MOUNT, "cam_front": SE3.identity()},
        source="synthetic",
        **kw,
    )  # type: ignore[arg-type]


@pytest.mark.parametrize("cloud_frame", ["world", "map", "camera", "camera_front", "cam_front"])
def test_cloud_in_a_foreign_frame_is_refused(cloud_frame: str) -> None:
    detector = build_lidar_detector(KITTI_LIDAR_CONFIG)
    with pytest.raises(DataError) as err:
        detector.step(_frame(cloud_frame))
    assert "lidars[lidar].frame" in str(err.value)
    assert repr(cloud_frame) in str(err.value)


@pytest.mark.parametrize(
    ("cloud_frame", "key"),
    [("lidar", "lidar"), ("ego", "lidar"), ("velodyne", "sensing_lidar_top_points")],
)
def test_sensor_and_ego_frames_pass(cloud_frame: str, key: str) -> None:
    boxes = build_lidar_detector(KITTI_LIDAR_CONFIG).step(_frame(cloud_frame, key))
    assert boxes.frame == "ego"


# -- warmup(): compiles the kernels on a synthetic scan, leaves the detector's state alone ----
@pytest.mark.parametrize("config", sorted(KITTI_LIDAR_CONFIG.parent.glob("lidar_*.yaml")))
def test_warmup_runs_for_every_shipped_config(config: object) -> None:
    detector = build_lidar_detector(config)  # type: ignore[arg-type]
    detector.warmup()  # map-reading steps (AV2's prior ground surface) are left out
    assert detector.last_report is None


def test_warmup_changes_no_output() -> None:
    detector = build_lidar_detector(KITTI_LIDAR_CONFIG)
    detector.warmup()
    after = detector.step(_frame("lidar"))
    fresh = build_lidar_detector(KITTI_LIDAR_CONFIG).step(_frame("lidar"))
    np.testing.assert_array_equal(after.to_array7(), fresh.to_array7())
