"""The LiDAR detector says when it falls back to one sweep for want of a pose, and when the
frame's time and its cloud's disagree (the cloud's time wins)."""

from __future__ import annotations

import dataclasses
import warnings

import numpy as np
import pytest

from drivestack.core.transforms import SE3
from drivestack.perception.lidar import LidarDetector, load_lidar_detector_config
from drivestack.perception.lidar.accumulate import SWEEP_AGE_S, SweepAccumulator
from drivestack.perception.lidar.config import AccumulateConfig
from drivestack.structures.point_cloud import PointCloud
from drivestack.structures.sensor_frame import SensorFrame

from .synthetic import KITTI_LIDAR_CONFIG, ground_plane


def _cloud(timestamp_ns: int) -> PointCloud:
    xyz = ground_plane(np.random.default_rng(0), num=2_000)
    return PointCloud(xyz.astype(np.float32), "lidar", timestamp_ns)


def _detector(num_sweeps: int) -> LidarDetector:
    cfg = load_lidar_detector_config(KITTI_LIDAR_CONFIG)
    accumulate = dataclasses.replace(cfg.accumulate, num_sweeps=num_sweeps)
    return LidarDetector(dataclasses.replace(cfg, accumulate=accumulate))


def _frame(timestamp_ns: int, cloud_ns: int, pose: SE3 | None = None) -> SensorFrame:
    return SensorFrame(
        timestamp_ns,
        lidars={"lidar": _cloud(cloud_ns)},
        ego_from_sensor={"lidar": SE3.identity()},
        world_from_ego=pose,
    )


def test_multi_sweep_without_pose_warns_once_naming_num_sweeps() -> None:
    detector = _detector(3)
    with pytest.warns(UserWarning, match=r"accumulate\.num_sweeps is 3 but the frame has no pose"):
        detector.step(_frame(0, 0))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        detector.step(_frame(100_000_000, 100_000_000))  # once per detector


def test_single_sweep_or_posed_frames_do_not_warn() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        _detector(1).step(_frame(0, 0))
        posed = _detector(3)
        for t in range(3):
            posed.step(_frame(t * 100_000_000, t * 100_000_000, SE3.identity()))


def test_accumulator_without_pose_returns_the_newest_sweep_only() -> None:
    acc = SweepAccumulator(AccumulateConfig(num_sweeps=3, max_sweep_age_s=0.5))
    acc.step(_cloud(0), SE3.identity())
    with pytest.warns(UserWarning, match=r"only the newest sweep is used \(single-sweep\)"):
        merged = acc.step(_cloud(100_000_000), None)
    assert len(merged) == 2_000 and not np.any(merged.attributes[SWEEP_AGE_S])


def test_boxes_carry_the_cloud_time_and_a_far_frame_time_warns_once() -> None:
    detector = _detector(1)
    with pytest.warns(UserWarning, match=r"lidars\['lidar'\]\.timestamp_ns is -1\.000 s from"):
        boxes = detector.step(_frame(2_000_000_000, 1_000_000_000))
    assert boxes.timestamp_ns == 1_000_000_000
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        detector.step(_frame(3_000_000_000, 2_000_000_000))


def test_a_small_time_offset_is_silent() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        boxes = _detector(1).step(_frame(1_050_000_000, 1_000_000_000))
    assert boxes.timestamp_ns == 1_000_000_000


def _rotation_x(angle_rad: float) -> np.ndarray:
    c, s = np.cos(angle_rad), np.sin(angle_rad)
    return np.array([[1.0, 0.0, 0.0], [0.0, c, -s], [0.0, s, c]])


def test_a_slightly_tilted_mount_is_taken() -> None:
    mount = SE3(_rotation_x(np.radians(1.5)), np.array([0.0, 0.0, 1.7]))
    frame = dataclasses.replace(_frame(0, 0), ego_from_sensor={"lidar": mount})
    assert _detector(1).step(frame).frame == "ego"
