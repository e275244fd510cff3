"""KITTI 3D object benchmark: Velodyne scans, ``label_2`` objects, and the label writer.

Label and result files hold one object row per line (15 values, a 16th is the score of a
result file), in KITTI's rectified camera frame; the rows, their parser and the conversion
to and from drivestack boxes live in :mod:`drivestack.ingest.kitti_format`. Calibration comes
from :func:`drivestack.ingest.kitti_calib.read_kitti_calib`.

A KITTI :class:`~drivestack.structures.SensorFrame` is in the LiDAR frame: the ego frame *is*
the Velodyne frame (mounted 1.73 m above the road in KITTI's set-up; label box bottoms within
20 m lie at z = -1.59 m median, -1.72..-1.41 m for 80 % of them, over the 21 tracking
sequences). Its left colour camera, when the image file is there, is
``cameras["image_02"]`` (:func:`read_kitti_camera`).
"""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np

from drivestack.core.errors import DataError
from drivestack.core.frames import LIDAR
from drivestack.core.transforms import SE3
from drivestack.ingest._points import check_plausible_range, finite_cloud, read_bytes
from drivestack.ingest.kitti_calib import KittiCalib, read_kitti_calib
from drivestack.ingest.kitti_format import (
    KittiObjects,
    check_column_counts,
    check_rows_writable,
    format_number,
    objects_to_boxes,
    parse_object_rows,
    read_text_lines,
)
from drivestack.ingest.pcd import PcdData, pcd_xyz, read_pcd
from drivestack.perception.camera.calibration import kitti_camera_calibration, read_image_rgb
from drivestack.structures._checks import check_number
from drivestack.structures.camera import CameraImage
from drivestack.structures.point_cloud import INTENSITY, PointCloud
from drivestack.structures.sensor_frame import SensorFrame

#: The key of KITTI's left colour camera (``P2``; folders ``image_2`` / ``image_02``) in a
#: KITTI frame's ``cameras`` and ``ego_from_sensor``.
KITTI_CAMERA = "image_02"


def read_kitti_label(path: str | Path) -> KittiObjects:
    """Read one ``label_2`` (or KITTI-format result) file; an empty file gives 0 objects.

    Rows without a score get 1.0; a written ``nan`` score is an error. Raises ``DataError``
    naming the file, line and field (see
    :func:`~drivestack.ingest.kitti_format.parse_object_rows`), and the line of a row whose
    column count differs from the first row's (rows with and without a score mixed).
    """
    rows, line_numbers = [], []
    for line_no, line in enumerate(read_text_lines(path), start=1):
        if line.strip():
            rows.append(line.split())
            line_numbers.append(line_no)
    objects = parse_object_rows(rows, path=str(path), line_numbers=line_numbers)[1]
    check_column_counts(rows, path=str(path), line_numbers=line_numbers)
    return objects


def format_kitti_label(objects: KittiObjects, *, with_score: bool = True) -> str:
    """KITTI label text, one line per object (score appended when ``with_score``).

    Numbers keep their usual decimals (2 for truncation and the 2D box, 6 otherwise) unless
    that would round them: then they are written exactly (:func:`format_number`), so the file
    scores as the objects do in memory.

    Raises ``ValueError`` naming the row and field of a row :func:`read_kitti_label` would
    reject (NaN/inf, an unknown type or one with spaces, truncation/occlusion out of range,
    negative dimensions other than the 2D-only placeholder).
    """
    lines = []
    for i in range(len(objects)):
        box2d = [format_number(v, 2) for v in objects.box2d_xyxy_px[i]]
        box3d = [format_number(v, 6) for v in (*objects.hwl_m[i], *objects.location_m[i])]
        fields = [
            str(objects.type_name[i]),
            format_number(objects.truncation[i], 2),
            str(int(objects.occlusion[i])),
            format_number(objects.alpha_rad[i], 6),
            *box2d,
            *box3d,
            format_number(objects.rotation_y_rad[i], 6),
        ]
        if with_score:
            fields.append(format_number(objects.score[i], 6))
        lines.append(" ".join(fields))
    check_rows_writable(objects, lines)
    return "".join(line + "\n" for line in lines)


def write_kitti_label(path: str | Path, objects: KittiObjects, *, with_score: bool = True) -> None:
    """Write ``objects`` as a KITTI label/result file (parent folders are created).

    Raises ``ValueError`` naming the row and field, before anything is written, for a row
    the reader would reject (see :func:`format_kitti_label`).
    """
    text = format_kitti_label(objects, with_score=with_score)
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(text)


# -- point clouds --------------------------------------------------------------------------


def read_velodyne_bin(
    path: str | Path, *, timestamp_ns: int = 0, frame: str = LIDAR, drop_nonfinite: bool = False
) -> PointCloud:
    """A KITTI ``.bin`` scan: float32 little-endian ``N x (x, y, z, reflectance)``; the KITTI
    cloud of :func:`kitti_scan_cloud` (a 0-byte file is a cloud of 0 points).

    Raises ``DataError`` naming the file and point when the size is not a multiple of 16
    bytes (truncated file), and as :func:`kitti_scan_cloud` (field ``reflectance``).
    """
    raw = read_bytes(path)
    if len(raw) % 16:
        raise DataError(
            f"size {len(raw)} bytes is not a multiple of 16 (4 float32 per point): truncated or not a KITTI scan",
            path=str(path),
            record=f"point {len(raw) // 16}",
        )
    pts = np.frombuffer(raw, dtype="<f4").reshape(-1, 4)
    return kitti_scan_cloud(
        pts[:, :3],
        pts[:, 3],
        {},
        path=str(path),
        reflectance_field="reflectance",
        frame=frame,
        timestamp_ns=timestamp_ns,
        drop_nonfinite=drop_nonfinite,
    )


def read_velodyne_pcd(
    path: str | Path, *, timestamp_ns: int = 0, frame: str = LIDAR, drop_nonfinite: bool = False
) -> PointCloud:
    """A KITTI scan stored as PCD (``.pcd`` or xz-compressed ``.pcd.xz``), e.g.
    ``kitti_tracking/training/velodyne_pcd_xz/0000/000074.pcd.xz``: the same KITTI cloud as
    :func:`read_velodyne_bin` (:func:`kitti_scan_cloud`).

    The file needs ``x y z`` (float; float64 is narrowed to float32, as the ``.bin`` holds)
    and a float ``intensity`` field (the reflectance in [0, 1]); other fields become
    attributes as they are. A file of ``POINTS 0`` is a cloud of 0 points.

    Raises ``DataError`` naming the file and field for a missing coordinate or ``intensity``
    field, an integer-typed one (e.g. a 0..255 ``uint8`` intensity: not KITTI's
    reflectance), and as :func:`kitti_scan_cloud`.
    """
    pcd = read_pcd(path)
    xyz = pcd_xyz(pcd)  # DataError for a missing coordinate field
    _check_kitti_pcd_fields(pcd)
    extra = {k: v for k, v in pcd.columns.items() if k not in ("x", "y", "z", INTENSITY)}
    return kitti_scan_cloud(
        xyz,
        pcd.columns[INTENSITY],
        extra,
        path=pcd.path,
        reflectance_field=INTENSITY,
        frame=frame,
        timestamp_ns=timestamp_ns,
        drop_nonfinite=drop_nonfinite,
    )


def _check_kitti_pcd_fields(pcd: PcdData) -> None:
    """``DataError`` naming the field when a PCD scan has no ``intensity`` field or an
    ``x y z intensity`` field that is not a float (``TYPE F``)."""
    if INTENSITY not in pcd.columns:
        raise DataError(
            f"a KITTI scan needs the reflectance as field {INTENSITY!r}; fields are "
            f"{list(pcd.columns)}",
            path=pcd.path,
            record="header",
            field=INTENSITY,
        )
    for name in ("x", "y", "z", INTENSITY):
        if pcd.columns[name].dtype.kind != "f":
            raise DataError(
                f"must be a float (TYPE F) for a KITTI scan, got {pcd.columns[name].dtype}",
                path=pcd.path,
                record="header",
                field=name,
            )


def kitti_scan_cloud(
    xyz_m: np.ndarray,
    reflectance: np.ndarray,
    attributes: dict[str, np.ndarray],
    *,
    path: str,
    reflectance_field: str,
    frame: str = LIDAR,
    timestamp_ns: int = 0,
    drop_nonfinite: bool = False,
) -> PointCloud:
    """The cloud of a KITTI scan, whatever file it came from: ``(N, 3)`` float ``xyz_m`` and
    the ``(N,)`` float ``reflectance`` in [0, 1] as ``intensity`` (plus ``attributes``), both
    float32 in the cloud (float64 is narrowed once checked).

    Raises ``DataError`` naming the file, the point and the axis or ``reflectance_field``
    (the file's name for it) for a coordinate beyond
    :data:`~drivestack.ingest._points.PLAUSIBLE_RANGE_M` (not a KITTI scan), a reflectance
    outside [0, 1], or a NaN / infinite value (unless ``drop_nonfinite``, which drops such
    points).
    """
    check_plausible_range(xyz_m, path=path, hint="not a KITTI float32 x y z r scan?")
    _check_reflectance(reflectance, path=path, field=reflectance_field)
    reflectance = reflectance.astype(np.float32, copy=False)
    return finite_cloud(
        xyz_m.astype(np.float32, copy=False),
        {INTENSITY: reflectance, **attributes},
        frame=frame,
        timestamp_ns=timestamp_ns,
        path=path,
        drop_nonfinite=drop_nonfinite,
        also_finite={reflectance_field: reflectance},
    )


def _check_reflectance(reflectance: np.ndarray, *, path: str, field: str) -> None:
    """``DataError`` naming the first point whose ``(N,)`` reflectance is outside [0, 1]
    (NaN is left to the finiteness check)."""
    if not len(reflectance):
        return
    with np.errstate(invalid="ignore"):
        if reflectance.min() >= 0.0 and reflectance.max() <= 1.0:  # the usual case
            return
        outside = (reflectance < 0.0) | (reflectance > 1.0)
    if outside.any():
        first = int(np.flatnonzero(outside)[0])
        raise DataError(
            f"{int(outside.sum())} reflectance value(s) outside [0, 1] (this one "
            f"{float(reflectance[first]):g}): not KITTI's reflectance",
            path=path,
            record=f"point {first}",
            field=field,
        )


def png_size_wh(path: str | Path) -> tuple[int, int]:
    """``(width, height)`` from a PNG header (no image decoding); ``DataError`` naming the
    file when it is missing, unreadable or not a PNG."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(24)
    except FileNotFoundError:
        raise DataError("file not found", path=str(path)) from None
    except OSError as exc:
        raise DataError(f"cannot read file: {exc.strerror}", path=str(path)) from None
    if len(head) < 24 or head[:8] != b"\x89PNG\r\n\x1a\n":
        raise DataError("not a PNG file", path=str(path))
    width, height = struct.unpack(">II", head[16:24])
    return int(width), int(height)


def read_kitti_camera(
    image_path: str | Path, calib: KittiCalib, *, timestamp_ns: int = 0
) -> CameraImage | None:
    """The left colour camera of a KITTI frame, or None when ``image_path`` does not exist.

    ``pixels`` are the PNG's ``(H, W, 3)`` uint8 RGB (decoded here: a
    :class:`~drivestack.structures.CameraImage` holds pixels); the calibration is ``P2``'s
    (:func:`~drivestack.perception.camera.calibration.kitti_camera_calibration`, named
    :data:`KITTI_CAMERA`, size from the decoded image), its ``camera_from_ego`` maps LiDAR (= ego)
    points into the camera. Raises ``DataError`` naming the file for an unreadable image and
    naming the calibration file for a missing or malformed ``P2``.
    """
    if not Path(image_path).exists():
        return None
    pixels = read_image_rgb(image_path)  # decoded once; the size is the pixels'
    height, width = pixels.shape[:2]
    return CameraImage(pixels, kitti_camera_calibration(calib, width, height), timestamp_ns)


def camera_entries(image: CameraImage | None) -> tuple[dict[str, CameraImage], dict[str, SE3]]:
    """``(cameras, ego_from_sensor)`` entries of a frame for ``image`` (both empty for None):
    the image under its calibration's name and the mounting ``camera_from_ego.inverse()``."""
    if image is None:
        return {}, {}
    name = image.calibration.name
    return {name: image}, {name: image.calibration.camera_from_ego.inverse()}


def read_kitti_object_frame(
    root: str | Path, index: int | str, *, split: str = "training", load_images: bool = True
) -> SensorFrame:
    """One KITTI object frame ``root/<split>/{velodyne,calib,label_2,image_2}/<index>``.

    ``index`` is the frame number (``0``) or the file stem (``"000000"``). The LiDAR cloud and
    labels are in the ``lidar`` frame (``ego_from_sensor["lidar"]`` is the identity; label box
    bottoms near the car lie about 1.6 m below it); labels are ``None`` when there is no ``label_2``
    file. ``image_2/<index>.png``, when present and ``load_images``, becomes
    ``cameras["image_02"]`` with ``ego_from_sensor["image_02"]`` (:func:`read_kitti_camera`);
    without the image, or with ``load_images=False`` (no PNG decoding), ``cameras`` is empty.

    Raises:
        ValueError: a negative frame number ``index`` (``-1`` would look for ``-00001.txt``).
        TypeError: an ``index`` that is neither an int nor a str.
        DataError: a missing or malformed calibration, scan, label or image file.
    """
    base = Path(root) / split
    if not isinstance(index, str):
        check_number("index", index, integer=True, at_least=0)
    stem = index if isinstance(index, str) else f"{int(index):06d}"
    calib = read_kitti_calib(base / "calib" / f"{stem}.txt")
    cloud = read_velodyne_bin(base / "velodyne" / f"{stem}.bin")
    label_path = base / "label_2" / f"{stem}.txt"
    labels = objects_to_boxes(read_kitti_label(label_path), calib) if label_path.exists() else None
    image = read_kitti_camera(base / "image_2" / f"{stem}.png", calib) if load_images else None
    cameras, camera_mounts = camera_entries(image)
    return SensorFrame(
        timestamp_ns=0,
        lidars={LIDAR: cloud},
        cameras=cameras,
        ego_from_sensor={LIDAR: SE3.identity(), **camera_mounts},
        labels=labels,
        source=f"{base}:{stem}",
    )
