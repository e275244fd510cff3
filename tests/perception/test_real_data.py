"""The LiDAR steps on real labelled scans (KITTI object samples, KITTI tracking 0000)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest

from drivestack import kernels
from drivestack.ingest.kitti_calib import read_kitti_calib
from drivestack.ingest.kitti_format import objects_to_boxes
from drivestack.ingest.kitti_object import read_kitti_object_frame, read_velodyne_pcd
from drivestack.ingest.kitti_tracking import read_tracking_labels
from drivestack.perception.lidar import build_lidar_detector
from drivestack.perception.lidar.box_fit import fit_box
from drivestack.perception.lidar.ground import segment_ground
from drivestack.perception.lidar.metrics import CarTally, GroundCheck, check_ground, in_image
from drivestack.structures.labels import ObjectClass
from drivestack.structures.sensor_frame import SensorFrame

from .synthetic import KITTI_LIDAR_CONFIG

pytestmark = pytest.mark.data


def test_ground_on_kitti_object_scans(shared_data: Path) -> None:
    detector = build_lidar_detector(KITTI_LIDAR_CONFIG)
    ransac_cfg = dataclasses.replace(detector.cfg.ground, method="ransac")
    zones, ransac = GroundCheck(0, 0, 0, 0), GroundCheck(0, 0, 0, 0)
    for index in range(6):
        frame = read_kitti_object_frame(shared_data / "kitti_object", index)
        assert frame.labels is not None
        result = detector.detect(frame)
        xyz = np.asarray(result.xyz_m, dtype=np.float64)
        labels = frame.labels.to_array7()
        zones = zones + check_ground(xyz, result.is_ground, labels)
        ransac = ransac + check_ground(xyz, segment_ground(xyz, ransac_cfg).is_ground, labels)
    assert zones.object_points > 1000 and zones.near_ground_points > 1000
    assert zones.object_kept_fraction >= 0.98
    assert zones.ground_found_fraction >= 0.95
    assert ransac.object_points == zones.object_points  # same points judged


@pytest.fixture(scope="module")
def tracking_0000(shared_data: Path) -> list[tuple[np.ndarray, np.ndarray, np.ndarray, object]]:
    """Every 4th scan of frames 74-153: (points, (M, 7) labels, (M,) classes, calib)."""
    root = shared_data / "kitti_tracking" / "training"
    calib = read_kitti_calib(root / "calib" / "0000.txt")
    labels = read_tracking_labels(root / "label_02" / "0000.txt")
    out = []
    for f in range(74, 154, 4):
        cloud = read_velodyne_pcd(root / "velodyne_pcd_xz" / "0000" / f"{f:06d}.pcd.xz")
        boxes = objects_to_boxes(
            labels.select((labels.frame == f) & (labels.type_name != "DontCare")), calib
        )
        out.append((np.asarray(cloud.xyz_m), boxes.to_array7(), boxes.label, calib))
    return out


@pytest.mark.slow
def test_detection_and_ground_on_kitti_tracking_0000(tracking_0000: list) -> None:  # type: ignore[type-arg]
    detector = build_lidar_detector(KITTI_LIDAR_CONFIG)
    tally = CarTally(max_range_m=40.0)
    ground = GroundCheck(0, 0, 0, 0)
    yaw_errors = []
    for xyz, labels, classes, calib in tracking_0000:
        result = detector.detect(SensorFrame(0, lidars={"velodyne": _cloud(xyz)}))
        boxes = result.boxes
        keep = (boxes.label == int(ObjectClass.CAR)) & in_image(
            boxes.center_m, calib.camera_rect_from_lidar(), calib.P2, (1242, 375)
        )
        tally.add(
            boxes.to_array7()[keep],
            boxes.score[keep],
            labels[classes == int(ObjectClass.CAR)],
            labels[classes == int(ObjectClass.VAN)],
        )
        pts = np.asarray(result.xyz_m, dtype=np.float64)
        ground = ground + check_ground(pts, result.is_ground, labels)
        # box fit on clusters cut from the labelled vehicles (50+ non-ground points)
        vehicles = labels[np.isin(classes, [int(ObjectClass.CAR), int(ObjectClass.VAN)])]
        inside = np.asarray(kernels.points_in_boxes(pts, vehicles))
        for j in range(len(vehicles)):
            cut = pts[inside[:, j] & ~result.is_ground]
            if len(cut) >= 50:
                fitted = fit_box(cut, None, detector.cfg.box_fit)
                yaw_errors.append(
                    abs(np.mod(fitted[6] - vehicles[j, 6] + np.pi / 2, np.pi) - np.pi / 2)
                )
    # ground: the targets
    assert ground.object_kept_fraction >= 0.98
    assert ground.ground_found_fraction >= 0.95
    # box fitting: yaw within 10 degrees (mod 180) for at least 90 % of the label-cut clusters
    assert len(yaw_errors) >= 40
    assert np.mean(np.rad2deg(yaw_errors) < 10.0) >= 0.9
    # detection: measured 0.77-0.82 recall at <= 1.1 false Car boxes per scan on all 80 frames
    # (tools/eval_lidar_perception.py); the 0.90 recall is not reached (see the report)
    assert tally.num_labels >= 50
    assert tally.recall >= 0.7
    assert tally.false_boxes_per_scan <= 2.0


def _cloud(xyz: np.ndarray):  # type: ignore[no-untyped-def]
    from drivestack.structures.point_cloud import PointCloud

    return PointCloud(xyz, "lidar", 0)


@pytest.mark.slow
def test_vehicles_on_aimotive_night_highway(shared_data: Path) -> None:
    """configs/perception/lidar_aimotive.yaml on 10 of the 50 scans: every labelled vehicle with
    points within 40 m is found as a vehicle (Car or the large-vehicle Truck class) within 2 m
    of its centre; the vans, which the Car prior alone calls unknown, are Trucks."""
    from drivestack.eval.detection.datasets import DEFAULT_ROOTS, labelled_frames

    config = KITTI_LIDAR_CONFIG.with_name("lidar_aimotive.yaml")
    detector = build_lidar_detector(config)
    vehicle = [int(ObjectClass.CAR), int(ObjectClass.TRUCK), int(ObjectClass.VAN)]
    found = labelled = vans = vans_as_trucks = 0
    for i, lf in enumerate(labelled_frames("aimotive", shared_data / DEFAULT_ROOTS["aimotive"])):
        if i % 5:
            continue
        boxes = detector.step(lf.frame)
        labels = lf.frame.labels
        assert labels is not None and boxes.frame == labels.frame
        det = boxes.to_array7()[np.isin(boxes.label, vehicle[:2])]
        gt = labels.to_array7()
        points = kernels.points_in_boxes(np.asarray(lf.frame.lidar().xyz_m, np.float64), gt)
        near = np.isin(labels.label, vehicle) & (np.hypot(gt[:, 0], gt[:, 1]) <= 40.0)
        near &= np.asarray(points).sum(axis=0) > 0
        for j in np.flatnonzero(near):
            labelled += 1
            distance = np.linalg.norm(det[:, :3] - gt[j, :3], axis=1) if len(det) else [np.inf]
            found += int(np.min(distance) < 2.0)
            if labels.label[j] == int(ObjectClass.VAN):
                vans += 1
                k = np.argmin(np.linalg.norm(boxes.to_array7()[:, :3] - gt[j, :3], axis=1))
                vans_as_trucks += int(boxes.label[k] == int(ObjectClass.TRUCK))
    assert labelled >= 20 and vans >= 5
    assert found == labelled
    assert vans_as_trucks >= 0.8 * vans


def test_aimotive_truck_seen_by_its_rear_face(shared_data: Path) -> None:
    """A ~6 m truck 45-50 m ahead in the first aiMotive scans shows little more than its rear
    face: with the truck prior's end-face reading (lidar_aimotive.yaml) it is found as a
    vehicle within 2 m of its centre in more scans than without (end_face_max_depth_m 0), in
    at least 3/4 of them, and every box that finds it is a Truck."""
    from drivestack.eval.detection.datasets import DEFAULT_ROOTS, labelled_frames
    from drivestack.perception.lidar.config import load_lidar_detector_config

    cfg = load_lidar_detector_config(KITTI_LIDAR_CONFIG.with_name("lidar_aimotive.yaml"))
    assert cfg.classify.truck is not None and cfg.classify.truck.end_face_max_depth_m > 0
    truck = dataclasses.replace(cfg.classify.truck, end_face_max_depth_m=0.0)
    without = dataclasses.replace(cfg, classify=dataclasses.replace(cfg.classify, truck=truck))
    detectors = {"with": build_lidar_detector(cfg), "without": build_lidar_detector(without)}
    vehicle = [int(ObjectClass.CAR), int(ObjectClass.TRUCK)]
    found = {"with": 0, "without": 0}
    scans = 0
    frames = labelled_frames("aimotive", shared_data / DEFAULT_ROOTS["aimotive"])
    for _, lf in zip(range(17), frames, strict=False):
        assert lf.frame.labels is not None
        gt = lf.frame.labels.to_array7()
        far = np.flatnonzero((gt[:, 0] > 45.0) & (gt[:, 0] < 50.0) & (gt[:, 3] > 5.5))
        if len(far) != 1:
            continue
        scans += 1
        for name, detector in detectors.items():
            boxes = detector.step(lf.frame)
            det = boxes.to_array7()
            near = np.isin(boxes.label, vehicle) & (
                np.linalg.norm(det[:, :2] - gt[far[0], :2], axis=1) < 2.0
            )
            found[name] += int(near.any())
            if name == "with":
                assert np.all(boxes.label[near] == int(ObjectClass.TRUCK))
    assert scans >= 10
    assert found["with"] > found["without"], found
    assert found["with"] >= 0.75 * scans, found
