"""The LiDAR detector's API for new users: clear errors for a wrong argument or a frame
without a LiDAR cloud."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from drivestack.core.errors import DataError
from drivestack.perception.lidar import (
    LidarDetector,
    build_lidar_detector,
    load_lidar_detector_config,
)
from drivestack.perception.lidar.baseline import Open3dBaselineDetector
from drivestack.structures.point_cloud import PointCloud
from drivestack.structures.sensor_frame import SensorFrame

from .synthetic import KITTI_LIDAR_CONFIG


def _cloud() -> PointCloud:
    return PointCloud(np.zeros((4, 3), np.float32), "lidar", 7)


@pytest.mark.parametrize("method", ["step", "step_with_report", "detect"])
def test_a_point_cloud_instead_of_a_frame_gets_the_wrapping_hint(method: str) -> None:
    detector = build_lidar_detector(KITTI_LIDAR_CONFIG)
    hint = (
        rf"LidarDetector\.{method} expects a SensorFrame, got PointCloud; wrap the cloud: "
        r"SensorFrame\(cloud\.timestamp_ns, lidars=\{'lidar': cloud\}\) "
        r"\(any name: the frame's only LiDAR is used\)"
    )
    with pytest.raises(TypeError, match=hint):
        getattr(detector, method)(_cloud())
    cloud = _cloud()  # the hint's frame is accepted
    boxes = detector.step(SensorFrame(cloud.timestamp_ns, lidars={"lidar": cloud}))
    assert len(boxes) == 0 and boxes.timestamp_ns == 7


def test_the_hint_uses_the_configured_lidar_name() -> None:
    cfg = dataclasses.replace(load_lidar_detector_config(KITTI_LIDAR_CONFIG), lidar_name="front")
    with pytest.raises(
        TypeError, match=r"lidars=\{'front': cloud\}\) \(the config's lidar_name is 'front'\)"
    ):
        build_lidar_detector(cfg).step(_cloud())  # type: ignore[arg-type]


def test_other_wrong_arguments_name_their_type() -> None:
    detector = build_lidar_detector(KITTI_LIDAR_CONFIG)
    with pytest.raises(TypeError, match=r"LidarDetector\.step expects a SensorFrame, got ndarray$"):
        detector.step(np.zeros((4, 3)))  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"LidarDetector expects .* got dict"):
        build_lidar_detector({"roi": {}})  # type: ignore[arg-type]


def test_the_detector_class_takes_a_yaml_path_too() -> None:
    assert LidarDetector(KITTI_LIDAR_CONFIG).cfg == load_lidar_detector_config(KITTI_LIDAR_CONFIG)


def test_the_open3d_baseline_names_a_wrong_argument() -> None:
    with pytest.raises(
        TypeError,
        match=r"Open3dBaselineDetector\.step expects a SensorFrame, got PointCloud; wrap the cloud",
    ):
        Open3dBaselineDetector().step(_cloud())  # type: ignore[arg-type]


@pytest.mark.parametrize("lidar_name", [None, "front"])
def test_a_frame_without_lidar_says_so(lidar_name: str | None) -> None:
    cfg = dataclasses.replace(load_lidar_detector_config(KITTI_LIDAR_CONFIG), lidar_name=lidar_name)
    frame = SensorFrame(5, source="log.mcap")
    with pytest.raises(
        DataError, match=r"log\.mcap: t=5: field lidars: frame has no LiDAR cloud"
    ) as err:
        build_lidar_detector(cfg).step(frame)
    assert "lidar_name" not in str(err.value)


def test_two_lidars_keep_the_lidar_name_advice() -> None:
    frame = SensorFrame(0, lidars={"a": _cloud(), "b": _cloud()})
    with pytest.raises(DataError, match=r"frame has 2 LiDARs \['a', 'b'\]; set lidar_name"):
        build_lidar_detector(KITTI_LIDAR_CONFIG).step(frame)
