"""The LiDAR detector stage end to end on a hand-made scene."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from drivestack import kernels
from drivestack.core.errors import DataError
from drivestack.core.frames import EGO
from drivestack.core.transforms import SE3
from drivestack.perception.lidar import build_lidar_detector, load_lidar_detector_config
from drivestack.structures.labels import ObjectClass
from drivestack.structures.point_cloud import PointCloud
from drivestack.structures.sensor_frame import SensorFrame

from .synthetic import KITTI_LIDAR_CONFIG, SENSOR_HEIGHT_M, box_surface, car_on_plane, ground_plane

CARS = np.array([car_on_plane(12.0, 4.0, 0.15), car_on_plane(20.0, -6.0, -0.4)])
PEDESTRIAN = np.array([9.0, -3.0, -SENSOR_HEIGHT_M + 0.875, 0.6, 0.55, 1.75, 0.0])


def _scene(seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    parts = [ground_plane(rng, num=60_000)]
    parts += [box_surface(rng, car) for car in CARS]
    parts.append(box_surface(rng, PEDESTRIAN, density_per_m2=400.0))
    return np.concatenate(parts).astype(np.float32)


def _frame(xyz: np.ndarray, t_ns: int = 0, **kw: object) -> SensorFrame:
    return SensorFrame(
        t_ns, lidars={"top": PointCloud(xyz, "lidar", t_ns)}, source="synthetic", **kw
    )  # type: ignore[arg-type]


def test_detects_the_cars_and_the_pedestrian() -> None:
    detector = build_lidar_detector(KITTI_LIDAR_CONFIG)
    boxes, report = detector.step_with_report(_frame(_scene()))
    assert boxes.frame == "lidar"
    cars = boxes.select(boxes.label == int(ObjectClass.CAR))
    assert len(cars) == 2
    iou = np.asarray(kernels.box_iou_bev(cars.to_array7(), CARS))
    assert np.all(iou.max(axis=0) >= 0.7)
    peds = boxes.select(boxes.label == int(ObjectClass.PEDESTRIAN))
    assert len(peds) == 1 and np.hypot(*(peds.center_m[0, :2] - PEDESTRIAN[:2])) < 0.3
    assert np.all((boxes.score > 0) & (boxes.score < 1))
    # the report covers every step, in order, with plausible counts
    assert [s.name for s in report.steps] == [
        "accumulate",
        "roi",
        "ground",
        "cluster",
        "box_fit",
        "classify",
    ]
    by_name = {s.name: s for s in report.steps}
    assert by_name["accumulate"].items_in == len(_scene())
    assert by_name["classify"].items_out == len(boxes)
    assert report.total_ms == pytest.approx(sum(s.duration_ms for s in report.steps))
    assert set(report.as_dict()) == set(by_name)
    assert detector.last_report is report


def test_deterministic_and_reset() -> None:
    detector = build_lidar_detector(KITTI_LIDAR_CONFIG)
    a = detector.step(_frame(_scene()))
    detector.reset()
    assert detector.last_report is None
    b = detector.step(_frame(_scene()))
    np.testing.assert_array_equal(a.to_array7(), b.to_array7())


def test_boxes_come_out_in_ego_frame_with_extrinsics() -> None:
    ego_from_lidar = SE3.from_xyz_yaw([1.0, 0.0, SENSOR_HEIGHT_M], 0.0)
    detector = build_lidar_detector(KITTI_LIDAR_CONFIG)
    plain = detector.step(_frame(_scene()))
    in_ego = detector.step(_frame(_scene(), ego_from_sensor={"top": ego_from_lidar}))
    assert in_ego.frame == EGO
    np.testing.assert_allclose(in_ego.center_m, ego_from_lidar.apply(plain.center_m))


def test_multi_sweep_with_poses() -> None:
    cfg = load_lidar_detector_config(KITTI_LIDAR_CONFIG)
    cfg = dataclasses.replace(cfg, accumulate=dataclasses.replace(cfg.accumulate, num_sweeps=2))
    detector = build_lidar_detector(cfg)
    xyz = _scene()
    # the ego moves 1 m forward between sweeps; the world is static
    poses = [SE3.from_xyz_yaw([0.0, 0.0, 0.0], 0.0), SE3.from_xyz_yaw([1.0, 0.0, 0.0], 0.0)]
    frames = [
        _frame(
            pose.inverse().apply(xyz).astype(np.float32),
            k * 100_000_000,
            world_from_ego=pose,
            ego_from_sensor={"top": SE3.identity()},
        )
        for k, pose in enumerate(poses)
    ]
    detector.step(frames[0])
    boxes, report = detector.step_with_report(frames[1])
    assert report.steps[0].items_out == 2 * len(xyz)
    cars = boxes.select(boxes.label == int(ObjectClass.CAR))
    expected = CARS.copy()
    expected[:, 0] -= 1.0
    assert np.all(np.asarray(kernels.box_iou_bev(cars.to_array7(), expected)).max(axis=0) >= 0.7)


def test_empty_scan_gives_no_boxes() -> None:
    detector = build_lidar_detector(KITTI_LIDAR_CONFIG)
    boxes, report = detector.step_with_report(_frame(np.zeros((0, 3), np.float32), 5))
    assert len(boxes) == 0 and boxes.timestamp_ns == 5
    assert all(s.items_out == 0 for s in report.steps)
    # a scan with only far-away points: cropped away, still empty
    assert len(detector.step(_frame(np.full((10, 3), 500.0, np.float32)))) == 0


def test_bad_frames_get_clear_errors() -> None:
    detector = build_lidar_detector(KITTI_LIDAR_CONFIG)
    two = SensorFrame(
        0,
        lidars={
            "a": PointCloud(np.zeros((1, 3)), "lidar", 0),
            "b": PointCloud(np.zeros((1, 3)), "lidar", 0),
        },
        source="log.mcap",
    )
    with pytest.raises(DataError, match=r"log\.mcap.*lidars.*2 LiDARs"):
        detector.step(two)
    cfg = dataclasses.replace(load_lidar_detector_config(KITTI_LIDAR_CONFIG), lidar_name="front")
    with pytest.raises(DataError, match="no LiDAR 'front'"):
        build_lidar_detector(cfg).step(_frame(_scene()))


def test_row_split_separates_cars_parked_nose_to_tail() -> None:
    # two 4.2 m cars 0.15 m apart in a row along x: one cluster 8.55 m long, car height
    row = np.array([car_on_plane(14.0, 5.0, 0.0), car_on_plane(18.35, 5.0, 0.0)])
    rng = np.random.default_rng(2)
    xyz = np.concatenate(
        [ground_plane(rng, num=60_000), *(box_surface(rng, car) for car in row)]
    ).astype(np.float32)
    cfg = load_lidar_detector_config(KITTI_LIDAR_CONFIG)
    whole = build_lidar_detector(cfg).step(_frame(xyz))
    assert not np.any(np.asarray(kernels.box_iou_bev(whole.to_array7(), row)) >= 0.5)
    split_cfg = dataclasses.replace(
        cfg, box_fit=dataclasses.replace(cfg.box_fit, row_split_length_m=5.5)
    )
    boxes = build_lidar_detector(split_cfg).step(_frame(xyz))
    cars = boxes.select(boxes.label == int(ObjectClass.CAR))
    iou = np.asarray(kernels.box_iou_bev(cars.to_array7(), row))
    assert len(cars) == 2 and np.all(iou.max(axis=0) >= 0.7)
