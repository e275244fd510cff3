"""KITTI 3D object benchmark: Velodyne scans, ``label_2`` objects, and the label writer.

KITTI labels live in the rectified camera-0 frame (``camera_rect``: x right, y down, z
forward) with the box *bottom* centre as location and ``h w l`` dimensions. They are kept
as-is in :class:`KittiObjects` (the evaluator needs the camera-frame fields: 2D box,
truncation, occlusion, alpha) and converted once to LiDAR-frame :class:`Boxes3D` with
:func:`kitti_objects_to_boxes`; :func:`boxes_to_kitti_objects` converts back for writing
results. Calibration comes from :func:`drivestack.ingest.kitti_calib.read_kitti_calib`.

Label line (15 values, a 16th is the score of a result file)::

    type truncated occluded alpha x1 y1 x2 y2 h w l x y z rotation_y [score]
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from drivestack.core.errors import DataError
from drivestack.core.frames import LIDAR
from drivestack.core.transforms import SE3, wrap_angle
from drivestack.ingest._points import finite_cloud, read_bytes
from drivestack.ingest.kitti_calib import KittiCalib, read_kitti_calib
from drivestack.ingest.pcd import pcd_to_point_cloud, read_pcd
from drivestack.structures.boxes import Boxes3D
from drivestack.structures.labels import ObjectClass
from drivestack.structures.point_cloud import INTENSITY, PointCloud
from drivestack.structures.sensor_frame import SensorFrame

DONT_CARE = "DontCare"

#: KITTI type -> drivestack class (DontCare is not an object and has no class).
KITTI_TO_CLASS: dict[str, ObjectClass] = {
    "Car": ObjectClass.CAR,
    "Van": ObjectClass.VAN,
    "Truck": ObjectClass.TRUCK,
    "Pedestrian": ObjectClass.PEDESTRIAN,
    "Person_sitting": ObjectClass.PEDESTRIAN,
    "Person": ObjectClass.PEDESTRIAN,
    "Cyclist": ObjectClass.CYCLIST,
    "Tram": ObjectClass.OTHER_VEHICLE,
    "Misc": ObjectClass.UNKNOWN,
}
#: drivestack class -> KITTI type for result files; unlisted classes are written as Misc.
CLASS_TO_KITTI: dict[ObjectClass, str] = {
    ObjectClass.CAR: "Car",
    ObjectClass.VAN: "Van",
    ObjectClass.TRUCK: "Truck",
    ObjectClass.PEDESTRIAN: "Pedestrian",
    ObjectClass.CYCLIST: "Cyclist",
    ObjectClass.OTHER_VEHICLE: "Tram",
}

#: Columns of a KITTI object label line (a tracking label line adds frame, track id, score).
KITTI_OBJECT_FIELDS = (
    "type",
    "truncated",
    "occluded",
    "alpha",
    "x1",
    "y1",
    "x2",
    "y2",
    "h",
    "w",
    "l",
    "x",
    "y",
    "z",
    "rotation_y",
)


def _empty_f(*shape: int) -> np.ndarray:
    return np.zeros((0, *shape))


@dataclass(frozen=True)
class KittiObjects:
    """The objects of one KITTI frame, in KITTI's own camera-rect convention (N may be 0).

    Attributes:
        name: ``(N,)`` str KITTI type (``Car``, ``Pedestrian``, ``DontCare`` ...).
        truncated: ``(N,)`` float in [0, 1] (-1 for DontCare).
        occluded: ``(N,)`` int64 0 visible .. 3 unknown (-1 for DontCare).
        alpha_rad: ``(N,)`` observation angle.
        bbox_xyxy_px: ``(N, 4)`` 2D box in the image_2 plane.
        dimensions_hwl_m: ``(N, 3)`` height, width, length.
        location_m: ``(N, 3)`` bottom centre in camera_rect.
        rotation_y_rad: ``(N,)`` yaw about camera_rect's y axis.
        score: ``(N,)`` detection score (1.0 for labels without one).
    """

    name: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=str))
    truncated: np.ndarray = field(default_factory=lambda: _empty_f())
    occluded: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    alpha_rad: np.ndarray = field(default_factory=lambda: _empty_f())
    bbox_xyxy_px: np.ndarray = field(default_factory=lambda: _empty_f(4))
    dimensions_hwl_m: np.ndarray = field(default_factory=lambda: _empty_f(3))
    location_m: np.ndarray = field(default_factory=lambda: _empty_f(3))
    rotation_y_rad: np.ndarray = field(default_factory=lambda: _empty_f())
    score: np.ndarray = field(default_factory=lambda: _empty_f())

    def __post_init__(self) -> None:
        name = np.asarray(self.name, dtype=str).reshape(-1)
        n = name.shape[0]
        object.__setattr__(self, "name", name)
        specs = {
            "truncated": (n,),
            "occluded": (n,),
            "alpha_rad": (n,),
            "bbox_xyxy_px": (n, 4),
            "dimensions_hwl_m": (n, 3),
            "location_m": (n, 3),
            "rotation_y_rad": (n,),
            "score": (n,),
        }
        for attr, shape in specs.items():
            value = np.asarray(getattr(self, attr))
            if attr == "score" and value.size == 0 and n:
                value = np.ones(n)
            dtype = np.int64 if attr == "occluded" else np.float64
            value = (
                value.astype(dtype).reshape(shape) if value.size == int(np.prod(shape)) else value
            )
            if value.shape != shape:
                raise ValueError(f"KittiObjects.{attr} must have shape {shape}, got {value.shape}")
            value.setflags(write=False)
            object.__setattr__(self, attr, value)

    def __len__(self) -> int:
        return int(self.name.shape[0])

    def select(self, mask: np.ndarray) -> KittiObjects:
        return KittiObjects(
            self.name[mask],
            self.truncated[mask],
            self.occluded[mask],
            self.alpha_rad[mask],
            self.bbox_xyxy_px[mask],
            self.dimensions_hwl_m[mask],
            self.location_m[mask],
            self.rotation_y_rad[mask],
            self.score[mask],
        )


def parse_kitti_object_rows(
    rows: Sequence[Sequence[str]], *, path: str, records: Sequence[str]
) -> KittiObjects:
    """Objects from already split rows of 15 (or 16, with score) values.

    ``records`` names each row for error messages (e.g. ``"line 3"``). Shared by the object
    and tracking readers (tracking rows start with ``frame track_id``; pass the rest).
    """
    n = len(rows)
    numbers = np.zeros((n, 15))
    names: list[str] = []
    has_score = False
    for i, (row, record) in enumerate(zip(rows, records, strict=True)):
        if len(row) not in (15, 16):
            missing = KITTI_OBJECT_FIELDS[len(row)] if len(row) < 15 else None
            raise DataError(
                f"expected 15 values (16 with a score), got {len(row)}",
                path=path,
                record=record,
                field=missing,
            )
        names.append(row[0])
        for j in range(1, len(row)):
            try:
                numbers[i, j - 1] = float(row[j])
            except ValueError:
                raise DataError(
                    f"not a number: {row[j]!r}",
                    path=path,
                    record=record,
                    field=KITTI_OBJECT_FIELDS[j] if j < 15 else "score",
                ) from None
        if len(row) == 16:
            has_score = True
        finite = np.isfinite(numbers[i, :14])
        if not finite.all():
            raise DataError(
                "NaN or infinite value",
                path=path,
                record=record,
                field=KITTI_OBJECT_FIELDS[1 + int(np.flatnonzero(~finite)[0])],
            )
        if row[0] != DONT_CARE and np.any(numbers[i, 7:10] < 0):
            raise DataError("negative box dimension", path=path, record=record, field="h w l")
    scores = (
        np.array([float(r[15]) if len(r) == 16 else 1.0 for r in rows]) if has_score else np.ones(n)
    )
    return KittiObjects(
        name=np.array(names, dtype=str),
        truncated=numbers[:, 0],
        occluded=numbers[:, 1].astype(np.int64),
        alpha_rad=numbers[:, 2],
        bbox_xyxy_px=numbers[:, 3:7],
        dimensions_hwl_m=numbers[:, 7:10],
        location_m=numbers[:, 10:13],
        rotation_y_rad=numbers[:, 13],
        score=scores,
    )


def read_kitti_label(path: str | Path) -> KittiObjects:
    """Read one ``label_2`` (or KITTI-format result) file; an empty file gives 0 objects."""
    p = str(path)
    text = read_bytes(path).decode("utf-8", errors="replace")
    rows, records = [], []
    for line_no, line in enumerate(text.splitlines(), start=1):
        if line.strip():
            rows.append(line.split())
            records.append(f"line {line_no}")
    return parse_kitti_object_rows(rows, path=p, records=records)


def format_kitti_label(objects: KittiObjects, *, with_score: bool = True) -> str:
    """KITTI label text, one line per object (score appended when ``with_score``)."""
    lines = []
    for i in range(len(objects)):
        b = objects.bbox_xyxy_px[i]
        h, w, l = objects.dimensions_hwl_m[i]
        x, y, z = objects.location_m[i]
        line = (
            f"{objects.name[i]} {objects.truncated[i]:.2f} {int(objects.occluded[i])} {objects.alpha_rad[i]:.6f} "
            f"{b[0]:.2f} {b[1]:.2f} {b[2]:.2f} {b[3]:.2f} {h:.6f} {w:.6f} {l:.6f} "
            f"{x:.6f} {y:.6f} {z:.6f} {objects.rotation_y_rad[i]:.6f}"
        )
        if with_score:
            line += f" {objects.score[i]:.6f}"
        lines.append(line)
    return "".join(line + "\n" for line in lines)


def write_kitti_label(path: str | Path, objects: KittiObjects, *, with_score: bool = True) -> None:
    """Write ``objects`` as a KITTI label/result file (parent folders are created)."""
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(format_kitti_label(objects, with_score=with_score))


# -- conversion camera_rect <-> LiDAR ------------------------------------------------------


def kitti_objects_to_boxes(
    objects: KittiObjects, calib: KittiCalib, *, timestamp_ns: int = 0, frame: str = LIDAR
) -> Boxes3D:
    """LiDAR-frame boxes for every object except DontCare (labels per :data:`KITTI_TO_CLASS`).

    Raises ``DataError`` for a KITTI type with no drivestack class.
    """
    keep = objects.name != DONT_CARE
    objs = objects.select(keep)
    labels = []
    for i, name in enumerate(objs.name):
        if name not in KITTI_TO_CLASS:
            raise DataError(
                f"unknown KITTI type {name!r}; known: {sorted(KITTI_TO_CLASS)}",
                path=calib.path or None,
                record=f"object {i}",
                field="type",
            )
        labels.append(int(KITTI_TO_CLASS[name]))
    lidar_from_cam = calib.lidar_from_camera_rect()
    h, w, l = objs.dimensions_hwl_m.T
    center_cam = objs.location_m - np.stack([np.zeros_like(h), h / 2, np.zeros_like(h)], axis=1)
    ry = objs.rotation_y_rad
    heading_cam = np.stack([np.cos(ry), np.zeros_like(ry), -np.sin(ry)], axis=1)
    heading_lidar = lidar_from_cam.rotate(heading_cam)
    return Boxes3D(
        lidar_from_cam.apply(center_cam),
        np.stack([l, w, h], axis=1),
        np.arctan2(heading_lidar[:, 1], heading_lidar[:, 0]),
        frame,
        timestamp_ns,
        score=objs.score,
        label=np.asarray(labels, dtype=np.int64),
    )


def _project_boxes_2d(
    boxes: Boxes3D, calib: KittiCalib, cam_from_lidar: SE3, image_size_wh: tuple[int, int] | None
) -> np.ndarray:
    """``(N, 4)`` image_2 boxes enclosing the projected corners (clipped to the image)."""
    from drivestack.kernels import box_corners

    n = len(boxes)
    if n == 0:
        return np.zeros((0, 4))
    corners = cam_from_lidar.apply(np.asarray(box_corners(boxes.to_array7())).reshape(-1, 3))
    depth = np.maximum(
        corners[:, 2], 1e-3
    )  # corners behind the camera are pushed to the image plane
    uvw = corners @ calib.P2[:, :3].T + calib.P2[:, 3]
    uv = (uvw[:, :2] / np.where(corners[:, 2:3] > 1e-3, uvw[:, 2:3], depth[:, None])).reshape(
        n, 8, 2
    )
    out = np.concatenate([uv.min(axis=1), uv.max(axis=1)], axis=1)
    if image_size_wh is not None:
        width, height = image_size_wh
        out[:, 0::2] = np.clip(out[:, 0::2], 0, width)
        out[:, 1::2] = np.clip(out[:, 1::2], 0, height)
    return out


def boxes_to_kitti_objects(
    boxes: Boxes3D, calib: KittiCalib, *, image_size_wh: tuple[int, int] | None = None
) -> KittiObjects:
    """KITTI camera-rect objects for LiDAR-frame boxes (for result files).

    The 2D box encloses the projected 3D corners (clipped to ``image_size_wh`` when given);
    truncation and occlusion are written as 0; alpha = rotation_y - atan2(x, z).
    """
    cam_from_lidar = calib.camera_rect_from_lidar()
    l, w, h = boxes.size_m.T
    center_cam = cam_from_lidar.apply(boxes.center_m)
    bottom = center_cam + np.stack([np.zeros_like(h), h / 2, np.zeros_like(h)], axis=1)
    heading = cam_from_lidar.rotate(
        np.stack([np.cos(boxes.yaw_rad), np.sin(boxes.yaw_rad), np.zeros(len(boxes))], axis=1)
    )
    ry = np.arctan2(-heading[:, 2], heading[:, 0])
    alpha = wrap_angle(ry - np.arctan2(center_cam[:, 0], center_cam[:, 2]))
    names = [CLASS_TO_KITTI.get(ObjectClass(int(c)), "Misc") for c in boxes.label]
    return KittiObjects(
        name=np.array(names, dtype=str),
        truncated=np.zeros(len(boxes)),
        occluded=np.zeros(len(boxes), dtype=np.int64),
        alpha_rad=alpha,
        bbox_xyxy_px=_project_boxes_2d(boxes, calib, cam_from_lidar, image_size_wh),
        dimensions_hwl_m=np.stack([h, w, l], axis=1),
        location_m=bottom,
        rotation_y_rad=ry,
        score=boxes.score,
    )


# -- point clouds --------------------------------------------------------------------------


def read_velodyne_bin(
    path: str | Path, *, timestamp_ns: int = 0, frame: str = LIDAR, drop_nonfinite: bool = False
) -> PointCloud:
    """A KITTI ``.bin`` scan: float32 little-endian ``N x (x, y, z, reflectance)``.

    Raises ``DataError`` when the size is not a multiple of 16 bytes (truncated file) or a
    point is NaN/inf (unless ``drop_nonfinite``).
    """
    raw = read_bytes(path)
    if len(raw) % 16:
        raise DataError(
            f"size {len(raw)} bytes is not a multiple of 16 (4 float32 per point): truncated or not a KITTI scan",
            path=str(path),
            record=f"point {len(raw) // 16}",
        )
    pts = np.frombuffer(raw, dtype="<f4").reshape(-1, 4)
    return finite_cloud(
        pts[:, :3],
        {INTENSITY: pts[:, 3]},
        frame=frame,
        timestamp_ns=timestamp_ns,
        path=str(path),
        drop_nonfinite=drop_nonfinite,
    )


def read_velodyne_pcd(
    path: str | Path, *, timestamp_ns: int = 0, frame: str = LIDAR, drop_nonfinite: bool = False
) -> PointCloud:
    """A KITTI scan stored as PCD (``.pcd`` or xz-compressed ``.pcd.xz``), e.g.
    ``kitti_tracking/training/velodyne_pcd_xz/0000/000074.pcd.xz``."""
    return pcd_to_point_cloud(
        read_pcd(path), frame=frame, timestamp_ns=timestamp_ns, drop_nonfinite=drop_nonfinite
    )


def png_size_wh(path: str | Path) -> tuple[int, int]:
    """``(width, height)`` from a PNG header (no image decoding)."""
    with open(path, "rb") as fh:
        head = fh.read(24)
    if len(head) < 24 or head[:8] != b"\x89PNG\r\n\x1a\n":
        raise DataError("not a PNG file", path=str(path))
    width, height = struct.unpack(">II", head[16:24])
    return int(width), int(height)


def read_kitti_object_frame(
    root: str | Path, index: int | str, *, split: str = "training"
) -> SensorFrame:
    """One KITTI object frame ``root/<split>/{velodyne,calib,label_2}/<index>``.

    The LiDAR cloud and labels are in the ``lidar`` frame (``ego_from_sensor["lidar"]`` is the
    identity); labels are ``None`` when there is no ``label_2`` file.
    """
    base = Path(root) / split
    stem = f"{int(index):06d}" if not isinstance(index, str) else index
    calib = read_kitti_calib(base / "calib" / f"{stem}.txt")
    cloud = read_velodyne_bin(base / "velodyne" / f"{stem}.bin")
    label_path = base / "label_2" / f"{stem}.txt"
    labels = (
        kitti_objects_to_boxes(read_kitti_label(label_path), calib) if label_path.exists() else None
    )
    return SensorFrame(
        timestamp_ns=0,
        lidars={LIDAR: cloud},
        ego_from_sensor={LIDAR: SE3.identity()},
        labels=labels,
        source=f"{base}:{stem}",
    )
