"""The simulated LiDAR's reflectivities and detection limit against labelled KITTI HDL-64E
scans: reflectivity = median(intensity / cos(incidence)) of the road (ground-plane points
3-20 m away) and of Car / Van points (incidence from the nearest box face), and the road's
last returns at about 80 m."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from drivestack.kernels import points_in_boxes
from drivestack.sim.sensors.lidar import MIN_SIGNAL_PER_M2
from drivestack.sim.sensors.scene import REFLECTIVITY, Material
from drivestack.structures import ObjectClass, SensorFrame
from tests._shared_data import missing_shared_data

VEHICLES = (int(ObjectClass.CAR), int(ObjectClass.VAN))


def _road(frame: SensorFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Range, intensity and cos(incidence) ``(K,)`` of the frame's ground points outside its
    labels within 8 m sideways (a least-squares ground plane, refitted on its inliers)."""
    cloud = frame.lidar()
    xyz = cloud.xyz_m.astype(np.float64)
    rng_m = np.linalg.norm(xyz, axis=1)
    labelled = points_in_boxes(xyz, frame.labels.to_array7()).any(axis=1)
    design = np.c_[xyz[:, :2], np.ones(len(xyz))]
    near = (xyz[:, 2] < -1.3) & (rng_m < 40) & ~labelled
    for _ in range(3):
        coef = np.linalg.lstsq(design[near], xyz[near, 2], rcond=None)[0]
        near = (np.abs(xyz[:, 2] - design @ coef) < 0.12) & ~labelled & (rng_m < 40)
    road = (np.abs(xyz[:, 2] - design @ coef) < 0.12) & ~labelled & (np.abs(xyz[:, 1]) < 8)
    normal = np.array([-coef[0], -coef[1], 1.0]) / np.linalg.norm([coef[0], coef[1], 1.0])
    cos = np.abs(xyz[road] @ normal) / rng_m[road]
    return rng_m[road], cloud.attributes["intensity"][road].astype(np.float64), cos


def _vehicles(frame: SensorFrame) -> tuple[np.ndarray, np.ndarray]:
    """Intensity and cos(incidence) ``(K,)`` of the points in the frame's Car / Van boxes, the
    incidence taken on the box face nearest each point."""
    xyz = frame.lidar().xyz_m.astype(np.float64)
    intensity = frame.lidar().attributes["intensity"].astype(np.float64)
    boxes = frame.labels.to_array7()
    inside = points_in_boxes(xyz, boxes)
    out_i, out_c = [], []
    for j in np.flatnonzero(np.isin(frame.labels.label, VEHICLES)):
        p = xyz[inside[:, j]]
        cx, cy, cz, length, width, height, yaw = boxes[j]
        c, s = np.cos(yaw), np.sin(yaw)
        d = p - [cx, cy, cz]
        lx, ly = c * d[:, 0] + s * d[:, 1], -s * d[:, 0] + c * d[:, 1]
        gap = np.stack([length / 2 - np.abs(lx), width / 2 - np.abs(ly), height / 2 - d[:, 2]], 1)
        face = gap.argmin(axis=1)
        n_local = np.zeros((len(p), 3))
        n_local[face == 0, 0] = np.sign(lx[face == 0])
        n_local[face == 1, 1] = np.sign(ly[face == 1])
        n_local[face == 2, 2] = 1.0
        n_world = np.stack(
            [
                c * n_local[:, 0] - s * n_local[:, 1],
                s * n_local[:, 0] + c * n_local[:, 1],
                n_local[:, 2],
            ],
            axis=1,
        )
        out_c.append(np.abs((n_world * p).sum(axis=1)) / np.linalg.norm(p, axis=1))
        out_i.append(intensity[inside[:, j]])
    return np.concatenate(out_i), np.concatenate(out_c)


@pytest.mark.slow
def test_reflectivities_and_detection_limit_match_kitti(shared_data: Path) -> None:
    from drivestack.ingest import list_kitti_tracking_frames, read_kitti_tracking_frame
    from drivestack.ingest.kitti_object import read_kitti_object_frame

    root = shared_data / "kitti_object"
    if not (root / "training/velodyne/000000.bin").is_file():
        missing_shared_data("no KITTI object scans")
    frames = [read_kitti_object_frame(root, k, load_images=False) for k in range(6)]
    rng_m, intensity, cos = (np.concatenate(a) for a in zip(*map(_road, frames), strict=True))
    near = (rng_m >= 3) & (rng_m < 20)
    road = float(np.median(intensity[near] / cos[near]))
    assert road == pytest.approx(REFLECTIVITY[Material.ROAD], rel=0.1)
    # KITTI: no return at all beyond 80 m; the road's last ones at 77-80 m
    assert max(np.linalg.norm(f.lidar().xyz_m, axis=1).max() for f in frames) <= 80.5
    assert 75.0 < rng_m.max() <= 80.5
    last_m = (REFLECTIVITY[Material.ROAD] * 1.73 / MIN_SIGNAL_PER_M2) ** (1 / 3)
    assert last_m == pytest.approx(rng_m.max(), abs=4.0)

    tracking = shared_data / "kitti_tracking"
    if not tracking.is_dir():
        missing_shared_data("no KITTI tracking scans")
    cars = [
        _vehicles(read_kitti_tracking_frame(tracking, "0000", k, load_images=False))
        for k in list_kitti_tracking_frames(tracking, "0000")[::8]
    ]
    car_i, car_c = (np.concatenate(a) for a in zip(*cars, strict=True))
    seen = car_c > 0.3
    assert seen.sum() > 2000
    car = float(np.median(car_i[seen] / car_c[seen]))
    assert car == pytest.approx(REFLECTIVITY[Material.VEHICLE], rel=0.15)
    assert car < road  # asphalt reads brighter than car paint in KITTI's intensity
