"""Export simulated frames as a KITTI object dataset (for training learned detectors).

Layout under ``root/training/``: ``velodyne/NNNNNN.bin`` (float32 x, y, z, intensity in the
LiDAR frame), ``image_2/NNNNNN.png``, ``calib/NNNNNN.txt`` (``P0..P3``, ``R0_rect``,
``Tr_velo_to_cam``, ``Tr_imu_to_velo``) and ``label_2/NNNNNN.txt`` (KITTI label lines; the
truncation is the share of the projected box outside the image; occlusion is written 0).
The files read back with :mod:`drivestack.ingest.kitti_object` like real KITTI frames.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from drivestack.core.errors import DataError
from drivestack.ingest.kitti_calib import KittiCalib
from drivestack.ingest.kitti_format import boxes_to_objects
from drivestack.ingest.kitti_object import write_kitti_label
from drivestack.kernels import project_boxes_to_image
from drivestack.structures.sensor_frame import SensorFrame


def _matrix_line(name: str, m: np.ndarray) -> str:
    return f"{name}: " + " ".join(f"{v:.12e}" for v in np.asarray(m, dtype=np.float64).reshape(-1))


def _calibration(frame: SensorFrame, lidar: str, camera: str) -> KittiCalib:
    image = frame.cameras[camera]
    cal = image.calibration
    ego_from_lidar = frame.ego_from_sensor.get(lidar)
    if ego_from_lidar is None:
        raise DataError(
            "no mounting for the LiDAR",
            path=frame.source or None,
            field=f"ego_from_sensor[{lidar}]",
        )
    if cal.has_distortion:
        raise DataError(
            "KITTI layout needs rectified images (no distortion)",
            path=frame.source or None,
            field=camera,
        )
    camera_from_lidar = (cal.camera_from_ego @ ego_from_lidar).as_matrix()[:3]
    p = np.zeros((3, 4))
    p[:, :3] = cal.intrinsics
    return KittiCalib({f"P{i}": p for i in range(4)}, np.eye(3), camera_from_lidar, np.eye(4)[:3])


def write_calib(path: Path, calib: KittiCalib) -> None:
    lines = [_matrix_line(k, v) for k, v in sorted(calib.P.items())]
    lines += [
        _matrix_line("R0_rect", calib.R0_rect),
        _matrix_line("Tr_velo_to_cam", calib.Tr_velo_to_cam),
    ]
    if calib.Tr_imu_to_velo is not None:
        lines.append(_matrix_line("Tr_imu_to_velo", calib.Tr_imu_to_velo))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n")


def export_kitti_object(
    frames: Iterable[SensorFrame],
    root: str | Path,
    *,
    lidar: str = "top",
    camera: str = "front",
    start_index: int = 0,
) -> int:
    """Write ``frames`` (with labels in the ego frame) as KITTI object training frames; returns the count."""
    from PIL import Image

    base = Path(root) / "training"
    count = 0
    for index, frame in enumerate(frames, start=start_index):
        if frame.labels is None:
            raise DataError(
                "frame has no labels to export", path=frame.source or None, field="labels"
            )
        stem = f"{index:06d}"
        cloud = frame.lidar(lidar)
        intensity = cloud.attributes.get("intensity", np.zeros(len(cloud), np.float32))
        scan = np.concatenate(
            [cloud.xyz_m.astype(np.float32), np.asarray(intensity, np.float32)[:, None]], axis=1
        )
        (base / "velodyne").mkdir(parents=True, exist_ok=True)
        scan.tofile(base / "velodyne" / f"{stem}.bin")
        image = frame.cameras[camera]
        (base / "image_2").mkdir(parents=True, exist_ok=True)
        Image.fromarray(np.asarray(image.pixels)).save(base / "image_2" / f"{stem}.png")
        calib = _calibration(frame, lidar, camera)
        write_calib(base / "calib" / f"{stem}.txt", calib)
        labels = frame.labels.transformed(frame.ego_from_sensor[lidar].inverse(), cloud.frame)
        size = (image.calibration.width_px, image.calibration.height_px)
        objects = boxes_to_objects(labels, calib, image_edge_px=size)
        full, _ = project_boxes_to_image(
            labels.to_array7(),
            calib.camera_rect_from_lidar().as_matrix(),
            calib.P2[:, :3],
            size[0],
            size[1],
            clip=False,
        )
        clipped = objects.box2d_xyxy_px
        area = np.maximum(full[:, 2] - full[:, 0], 0) * np.maximum(full[:, 3] - full[:, 1], 0)
        inside = np.maximum(clipped[:, 2] - clipped[:, 0], 0) * np.maximum(
            clipped[:, 3] - clipped[:, 1], 0
        )
        truncated = np.where(area > 0, 1.0 - inside / np.where(area > 0, area, 1.0), 1.0)
        objects = dataclasses.replace(objects, truncation=np.clip(truncated, 0.0, 1.0))
        # KITTI labels only objects in front of the camera
        in_front = calib.camera_rect_from_lidar().apply(labels.center_m)[:, 2] > 0.5
        write_kitti_label(
            base / "label_2" / f"{stem}.txt", objects.select(in_front), with_score=False
        )
        count += 1
    return count
