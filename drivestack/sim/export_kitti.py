"""Export simulated frames as a KITTI object dataset (for training learned detectors).

Layout under ``root/training/``: ``velodyne/NNNNNN.bin`` (float32 x, y, z, intensity in the
LiDAR frame), ``image_2/NNNNNN.png``, ``calib/NNNNNN.txt`` (``P0..P3``, ``R0_rect``,
``Tr_velo_to_cam``, ``Tr_imu_to_velo``) and ``label_2/NNNNNN.txt`` (KITTI label lines); and
``root/ImageSets/`` (:func:`write_image_sets`): ``train.txt`` and ``trainval.txt`` list every
exported id, ``val.txt`` and ``test.txt`` are empty (move ids to ``val.txt`` to hold some out),
the split files KITTI training-data converters (mmdet3d's and its derivatives) read first.
The files read back with :mod:`drivestack.ingest.kitti_object` in the KITTI layout, but the
sensor is not KITTI's: its Velodyne sits 1.73 m above the road, the simulated LiDAR where its
mounting puts it (closed-loop runs, :func:`drivestack.sim.perceived.default_lidar`: 1.9 m up,
1.3 m ahead of the rear axle), so the road lies 1.9 m below the exported clouds' origin; a
detector or ground model tuned on KITTI needs that height.

Timing, as in KITTI: the labels and the image are at the frame's timestamp, which is when
the LiDAR's forward column fires (:mod:`drivestack.sim.sensors.lidar`); the points are not
de-skewed (each column is measured at its own time, up to half a sweep before or after),
so a labelled object ahead of the car holds its returns as a real KITTI frame's does.

Labels: objects whose centre is in front of the camera (more than ``MIN_LABEL_DEPTH_M`` along
its axis) and whose 2D box has area in the image (KITTI labels only what the camera sees); an
object the camera sees whose centre is beside or behind it (a truck alongside) is a
``DontCare`` region with its 2D box, neither scored nor background. The 2D box is the
projection of the 3D box cut at a near plane (``NEAR_PLANE_M`` in front of the camera; a box
reaching behind the camera gets the box of its part in front), clipped to the image; the
truncation is the share of the box outside the camera's view (:func:`frustum_truncation`). The
occlusion level comes from the camera rendering when the frame comes with its labels' visible
share (see :func:`export_kitti_object`): 0 fully visible (at least 90% of the object's
silhouette in the image is seen), 1 partly occluded (at least 50%), 2 largely occluded (less),
3 unknown (no visible share given, or no pixel of its silhouette in the image).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from pathlib import Path
from typing import TypeAlias

import numpy as np

from drivestack.core.errors import DataError
from drivestack.ingest.kitti_calib import KittiCalib
from drivestack.ingest.kitti_format import KittiObjects, boxes_to_objects
from drivestack.ingest.kitti_object import write_kitti_label
from drivestack.kernels import project_boxes_to_image
from drivestack.structures.sensor_frame import SensorFrame

#: Near plane (m in front of the camera) where a 3D box is cut before projecting it.
NEAR_PLANE_M = 0.1
#: Depth (m along the camera axis) an object's centre needs to be labelled as in front of
#: the camera; one seen with its centre nearer (beside or behind) is a DontCare region.
MIN_LABEL_DEPTH_M = 0.5
#: Least visible share of an object's silhouette for KITTI occlusion levels 0 and 1.
FULLY_VISIBLE_SHARE = 0.9
PARTLY_VISIBLE_SHARE = 0.5
#: The folders of ``root/training`` the export writes (``--overwrite`` clears them).
LAYOUT_FOLDERS = ("velodyne", "image_2", "calib", "label_2")
#: The split files of ``root/ImageSets`` (:func:`write_image_sets`; ``--overwrite`` clears them).
IMAGE_SET_FILES = ("train.txt", "val.txt", "trainval.txt", "test.txt")
#: A frame, or a frame with its labels' visible share ``(N,)`` in the camera (NaN: unknown).
ExportFrame: TypeAlias = SensorFrame | tuple[SensorFrame, np.ndarray]


def occlusion_levels(visible_share: np.ndarray) -> np.ndarray:
    """KITTI occlusion levels ``(N,)`` int64 of visible shares ``(N,)`` in 0..1 (NaN: 3, unknown);
    thresholds :data:`FULLY_VISIBLE_SHARE` and :data:`PARTLY_VISIBLE_SHARE`."""
    share = np.asarray(visible_share, dtype=np.float64)
    level = np.where(share >= FULLY_VISIBLE_SHARE, 0, np.where(share >= PARTLY_VISIBLE_SHARE, 1, 2))
    return np.where(np.isnan(share), 3, level).astype(np.int64)


def image_boxes(boxes7: np.ndarray, calib: KittiCalib, width_px: int, height_px: int) -> np.ndarray:
    """2D boxes ``(N, 4)`` x1 y1 x2 y2 px of LiDAR-frame boxes ``(N, 7)``, cut at the near plane
    :data:`NEAR_PLANE_M` and clipped to the image (zeros for a box entirely behind it)."""
    full, _ = project_boxes_to_image(
        boxes7,
        calib.camera_rect_from_lidar().as_matrix(),
        calib.P2[:, :3],
        width_px,
        height_px,
        min_depth_m=NEAR_PLANE_M,
        clip=False,
    )
    clipped = full.copy()
    clipped[:, [0, 2]] = np.clip(full[:, [0, 2]], 0.0, width_px)
    clipped[:, [1, 3]] = np.clip(full[:, [1, 3]], 0.0, height_px)
    return clipped


#: Samples per box edge for :func:`frustum_truncation` (a 5 x 5 x 5 grid in the box).
TRUNCATION_GRID = 5


def frustum_truncation(
    boxes7: np.ndarray, calib: KittiCalib, width_px: int, height_px: int
) -> np.ndarray:
    """``(N,)`` the share of each LiDAR-frame box ``(N, 7)`` outside the camera's view: the
    fraction of a grid of points filling the box that project outside the image or lie
    behind the near plane :data:`NEAR_PLANE_M` (KITTI's truncation: how much of the object
    leaves the image). The cut projection's area (:func:`image_boxes`) blows up for a box
    next to the camera and read ~1.0 for a truck alongside that filled a quarter of the image."""
    boxes7 = np.asarray(boxes7, dtype=np.float64).reshape(-1, 7)
    if not len(boxes7):
        return np.zeros(0)
    g = (np.arange(TRUNCATION_GRID) + 0.5) / TRUNCATION_GRID - 0.5  # cell centres, -0.5..0.5
    local = np.stack(np.meshgrid(g, g, g, indexing="ij"), axis=-1).reshape(-1, 3)  # (S, 3)
    c, s = np.cos(boxes7[:, 6]), np.sin(boxes7[:, 6])
    scaled = local[None] * boxes7[:, None, 3:6]  # (N, S, 3)
    x = boxes7[:, None, 0] + c[:, None] * scaled[..., 0] - s[:, None] * scaled[..., 1]
    y = boxes7[:, None, 1] + s[:, None] * scaled[..., 0] + c[:, None] * scaled[..., 1]
    z = boxes7[:, None, 2] + scaled[..., 2]
    points = np.stack([x, y, z], axis=-1).reshape(-1, 3)
    cam = calib.camera_rect_from_lidar().apply(points)
    depth = cam[:, 2]
    uvw = cam @ calib.P2[:, :3].T + calib.P2[:, 3]
    safe = np.where(depth > NEAR_PLANE_M, uvw[:, 2], 1.0)
    u, v = uvw[:, 0] / safe, uvw[:, 1] / safe
    seen = (depth > NEAR_PLANE_M) & (u >= 0) & (u < width_px) & (v >= 0) & (v < height_px)
    return 1.0 - seen.reshape(len(boxes7), -1).mean(axis=1)


def _as_dont_care(objects: KittiObjects) -> KittiObjects:
    """``objects`` as KITTI DontCare rows: their 2D boxes kept, the 3D fields at KITTI's
    placeholders (-1 sizes, -1000 location, -10 angles, -1 truncation and occlusion)."""
    n = len(objects)
    return dataclasses.replace(
        objects,
        type_name=np.full(n, "DontCare"),
        truncation=np.full(n, -1.0),
        occlusion=np.full(n, -1, dtype=np.int64),
        alpha_rad=np.full(n, -10.0),
        hwl_m=np.full((n, 3), -1.0),
        location_m=np.full((n, 3), -1000.0),
        rotation_y_rad=np.full(n, -10.0),
    )


def _matrix_line(name: str, m: np.ndarray) -> str:
    return f"{name}: " + " ".join(f"{v:.12e}" for v in np.asarray(m, dtype=np.float64).reshape(-1))


def _calibration(frame: SensorFrame, lidar: str, camera: str, record: str) -> KittiCalib:
    image = frame.cameras[camera]
    cal = image.calibration
    ego_from_lidar = frame.ego_from_sensor.get(lidar)
    if ego_from_lidar is None:
        raise DataError(
            "no mounting for the LiDAR",
            path=frame.source or None,
            record=record,
            field=f"ego_from_sensor[{lidar}]",
        )
    if cal.has_distortion:
        raise DataError(
            "KITTI layout needs rectified images (no distortion)",
            path=frame.source or None,
            record=record,
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
    frames: Iterable[ExportFrame],
    root: str | Path,
    *,
    lidar: str = "top",
    camera: str = "front",
    start_index: int = 0,
) -> int:
    """Write ``frames`` (with labels in the ego frame) as KITTI object training frames; returns
    the count. A frame may come with its labels' visible share ``(N,)`` in ``camera`` (e.g.
    :func:`drivestack.sim.record.sensor_frames_with_visibility`) for the occlusion levels;
    without, occlusion is written 3 (unknown). See the module doc for what is labelled."""
    from PIL import Image

    base = Path(root) / "training"
    count = 0
    for index, item in enumerate(frames, start=start_index):
        frame, visible_share = item if isinstance(item, tuple) else (item, None)
        record = f"frame {index:06d}"  # (the file stem it would be written as)
        if frame.labels is None:
            raise DataError(
                "frame has no labels to export",
                path=frame.source or None,
                record=record,
                field="labels",
            )
        n_labels = len(frame.labels)
        if visible_share is None:
            visible_share = np.full(n_labels, np.nan)
        visible_share = np.asarray(visible_share, dtype=np.float64)
        if visible_share.shape != (n_labels,):
            raise DataError(
                f"visible share has shape {visible_share.shape}, the frame has {n_labels} labels",
                path=frame.source or None,
                record=record,
                field="labels",
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
        calib = _calibration(frame, lidar, camera, record)
        write_calib(base / "calib" / f"{stem}.txt", calib)
        labels = frame.labels.transformed(frame.ego_from_sensor[lidar].inverse(), cloud.frame)
        width, height = image.calibration.width_px, image.calibration.height_px
        box2d = image_boxes(labels.to_array7(), calib, width, height)
        truncation = frustum_truncation(labels.to_array7(), calib, width, height)
        objects = boxes_to_objects(labels, calib, box2d_xyxy_px=box2d)
        objects = dataclasses.replace(
            objects, truncation=truncation, occlusion=occlusion_levels(visible_share)
        )
        # KITTI labels the objects the camera sees (box area in the image, not all hidden)
        # whose centre is in front of it; one it sees but that is centred beside or behind
        # it (a truck alongside) is a DontCare region: not scored, and not background either
        in_front = calib.camera_rect_from_lidar().apply(labels.center_m)[:, 2] > MIN_LABEL_DEPTH_M
        in_image = (box2d[:, 2] > box2d[:, 0]) & (box2d[:, 3] > box2d[:, 1])
        # seen: the renderer's visible share, or (unknown) some of the box in the view
        seen = in_image & np.where(np.isnan(visible_share), truncation < 1.0, visible_share > 0.0)
        write_kitti_label(
            base / "label_2" / f"{stem}.txt",
            KittiObjects.concatenate(
                [
                    objects.select(in_front & in_image),
                    _as_dont_care(objects.select(seen & ~in_front)),
                ]
            ),
            with_score=False,
        )
        count += 1
    return count


def write_image_sets(root: str | Path, count: int) -> None:
    """``root/ImageSets/``: ``train.txt`` and ``trainval.txt`` listing the ids ``000000`` ..
    of ``count`` exported frames, one a line, ``val.txt`` and ``test.txt`` empty (see the
    module doc)."""
    folder = Path(root) / "ImageSets"
    folder.mkdir(parents=True, exist_ok=True)
    ids = "".join(f"{i:06d}\n" for i in range(count))
    for name in IMAGE_SET_FILES:
        (folder / name).write_text(ids if name in ("train.txt", "trainval.txt") else "")
