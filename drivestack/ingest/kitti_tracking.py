"""KITTI tracking benchmark files: labels, AB3DMOT detections, results, seqmaps, ego poses.

File formats (all boxes in KITTI's rectified camera frame ``camera_rect``: x right, y down,
z forward; ``location`` is the *bottom* centre, ``rotation_y`` is about +y):

- ``label_02/NNNN.txt`` (17 columns) and tracking results (18 columns, the last is a score),
  space separated: ``frame track_id type truncated occluded alpha x1 y1 x2 y2 h w l x y z
  rotation_y [score]``.
- AB3DMOT detections (15 columns, comma separated):
  ``frame, type_id, x1, y1, x2, y2, score, h, w, l, x, y, z, rot_y, alpha`` with
  ``type_id`` 1 = Pedestrian, 2 = Car, 3 = Cyclist.
- seqmaps: ``NNNN empty first_frame last_frame_exclusive`` (the 4th number is the frame
  count for sequences starting at 0).
- ego poses: one row-major ``3 x 4`` camera->world matrix per line and frame.

:class:`KittiObjects` holds the rows of one file as arrays; conversion into drivestack's
z-up :class:`Boxes3D` happens once, here (:func:`objects_to_boxes`), and back only when results
are written (:func:`boxes_to_objects`, :func:`write_tracking_results`).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import numpy.typing as npt

from drivestack.core.errors import DataError
from drivestack.core.transforms import SE3
from drivestack.ingest.kitti_calib import KittiCalib
from drivestack.ingest.kitti_object import KITTI_OBJECT_FIELDS
from drivestack.structures.boxes import Boxes3D
from drivestack.structures.labels import ObjectClass

CAMERA_RECT = "camera_rect"
#: Rectified camera axes re-labelled z-up: x = forward (cam z), y = left (-cam x), z = up (-cam y).
CAMERA_RECT_ZUP = "camera_rect_zup"

AB3DMOT_TYPE_IDS: dict[int, str] = {1: "Pedestrian", 2: "Car", 3: "Cyclist"}
KITTI_CLASS_MAP: dict[str, ObjectClass] = {
    "car": ObjectClass.CAR,
    "van": ObjectClass.VAN,
    "truck": ObjectClass.TRUCK,
    "pedestrian": ObjectClass.PEDESTRIAN,
    "person_sitting": ObjectClass.PEDESTRIAN,
    "person": ObjectClass.PEDESTRIAN,
    "cyclist": ObjectClass.CYCLIST,
    "tram": ObjectClass.OTHER_VEHICLE,
    "misc": ObjectClass.UNKNOWN,
    "dontcare": ObjectClass.UNKNOWN,
}
#: zup = _ZUP_FROM_CAM @ cam (a proper rotation, det = +1).
_ZUP_FROM_CAM = np.array([[0.0, 0.0, 1.0], [-1.0, 0.0, 0.0], [0.0, -1.0, 0.0]])
ZUP_FROM_CAMERA_RECT = SE3(_ZUP_FROM_CAM, np.zeros(3))


def _f(n: int) -> np.ndarray:
    return np.zeros(n)


@dataclass(frozen=True)
class KittiObjects:
    """N rows of a KITTI tracking file, one array per column (``camera_rect`` frame).

    Attributes:
        frame: ``(N,)`` int64 frame index. track_id: ``(N,)`` int64 (-1 for DontCare/detections).
        type_name: ``(N,)`` str, as written (``Car``, ``DontCare``, ...).
        truncation: ``(N,)`` float64; occlusion: ``(N,)`` int64 (-1 when unknown).
        alpha_rad: ``(N,)`` observation angle. box2d_xyxy_px: ``(N, 4)`` image_02 box.
        hwl_m: ``(N, 3)`` height, width, length. location_m: ``(N, 3)`` bottom centre.
        rotation_y_rad: ``(N,)``. score: ``(N,)`` (NaN for label files).
        path: source file ("" when built in code).
    """

    frame: np.ndarray
    track_id: np.ndarray
    type_name: np.ndarray
    truncation: np.ndarray
    occlusion: np.ndarray
    alpha_rad: np.ndarray
    box2d_xyxy_px: np.ndarray
    hwl_m: np.ndarray
    location_m: np.ndarray
    rotation_y_rad: np.ndarray
    score: np.ndarray
    path: str = field(default="", compare=False)

    def __post_init__(self) -> None:
        n = np.asarray(self.frame).shape[0]
        for name, dtype, shape in (
            ("frame", np.int64, (n,)),
            ("track_id", np.int64, (n,)),
            ("truncation", np.float64, (n,)),
            ("occlusion", np.int64, (n,)),
            ("alpha_rad", np.float64, (n,)),
            ("box2d_xyxy_px", np.float64, (n, 4)),
            ("hwl_m", np.float64, (n, 3)),
            ("location_m", np.float64, (n, 3)),
            ("rotation_y_rad", np.float64, (n,)),
            ("score", np.float64, (n,)),
        ):
            arr = np.asarray(getattr(self, name), dtype=dtype).reshape(shape)
            arr.setflags(write=False)
            object.__setattr__(self, name, arr)
        names = np.asarray(self.type_name, dtype=str).reshape(n)
        names.setflags(write=False)
        object.__setattr__(self, "type_name", names)

    def __len__(self) -> int:
        return int(self.frame.shape[0])

    @classmethod
    def empty(cls, path: str = "") -> KittiObjects:
        z = np.zeros(0)
        return cls(z, z, np.zeros(0, dtype=str), z, z, z, z, z, z, z, z, path=path)

    def select(self, selection: npt.ArrayLike) -> KittiObjects:
        idx = np.asarray(selection)
        return replace(
            self,
            frame=self.frame[idx],
            track_id=self.track_id[idx],
            type_name=self.type_name[idx],
            truncation=self.truncation[idx],
            occlusion=self.occlusion[idx],
            alpha_rad=self.alpha_rad[idx],
            box2d_xyxy_px=self.box2d_xyxy_px[idx],
            hwl_m=self.hwl_m[idx],
            location_m=self.location_m[idx],
            rotation_y_rad=self.rotation_y_rad[idx],
            score=self.score[idx],
        )

    @staticmethod
    def concatenate(parts: Sequence[KittiObjects]) -> KittiObjects:
        if not parts:
            return KittiObjects.empty()

        def cat(name: str) -> np.ndarray:
            return np.concatenate([getattr(p, name) for p in parts])

        return KittiObjects(
            frame=cat("frame"),
            track_id=cat("track_id"),
            type_name=cat("type_name"),
            truncation=cat("truncation"),
            occlusion=cat("occlusion"),
            alpha_rad=cat("alpha_rad"),
            box2d_xyxy_px=cat("box2d_xyxy_px"),
            hwl_m=cat("hwl_m"),
            location_m=cat("location_m"),
            rotation_y_rad=cat("rotation_y_rad"),
            score=cat("score"),
            path=parts[0].path,
        )

    def frame_slices(self, n_frames: int) -> list[np.ndarray]:
        """Row indices of each frame ``0 .. n_frames-1`` (rows of later frames are dropped)."""
        order = np.argsort(self.frame, kind="stable")
        bounds = np.searchsorted(self.frame[order], np.arange(n_frames + 1))
        return [order[bounds[i] : bounds[i + 1]] for i in range(n_frames)]

    def object_classes(self) -> np.ndarray:
        """``(N,)`` int64 :class:`ObjectClass` ids of ``type_name``."""
        lookup = {k: int(v) for k, v in KITTI_CLASS_MAP.items()}
        return np.array(
            [lookup.get(t.lower(), int(ObjectClass.UNKNOWN)) for t in self.type_name],
            dtype=np.int64,
        )


# -- readers ----------------------------------------------------------------------------------
def _read_lines(path: Path) -> list[str]:
    try:
        return path.read_text().splitlines()
    except FileNotFoundError:
        raise DataError("file not found", path=str(path)) from None
    except OSError as exc:
        raise DataError(f"cannot read file: {exc.strerror}", path=str(path)) from exc


_LABEL_FIELDS = ("frame", "track_id", *KITTI_OBJECT_FIELDS, "score")


def _parse_rows(
    path: Path, rows: list[list[str]], line_numbers: list[int], columns: Sequence[str]
) -> np.ndarray:
    """Parse the numeric ``columns`` of ``rows`` to float64; errors name file, line and field."""
    try:
        return np.array(rows, dtype=np.float64).reshape(len(rows), len(columns))
    except ValueError:
        for row, line_no in zip(rows, line_numbers, strict=True):
            for value, name in zip(row, columns, strict=True):
                try:
                    float(value)
                except ValueError:
                    raise DataError(
                        f"not a number: {value!r}",
                        path=str(path),
                        record=f"line {line_no}",
                        field=name,
                    ) from None
        raise


def read_tracking_labels(path: str | Path) -> KittiObjects:
    """Read a ``label_02`` file (17 columns) or a tracking result file (18, with score).

    A missing file is an error; an empty file gives zero rows. Labels get ``score = NaN``.

    Raises:
        DataError: naming the file, the line number and the field for a malformed line.
    """
    p = Path(path)
    lines = _read_lines(p)
    numeric: list[list[str]] = []
    types: list[str] = []
    line_numbers: list[int] = []
    n_cols = None
    for line_no, raw in enumerate(lines, start=1):
        fields = raw.split()
        if not fields:
            continue
        if len(fields) not in (17, 18):
            raise DataError(
                f"expected 17 or 18 columns, got {len(fields)}",
                path=str(p),
                record=f"line {line_no}",
            )
        if n_cols is None:
            n_cols = len(fields)
        elif len(fields) != n_cols:
            raise DataError(
                f"expected {n_cols} columns like the first line, got {len(fields)}",
                path=str(p),
                record=f"line {line_no}",
            )
        types.append(fields[2])
        numeric.append(fields[:2] + fields[3:] + ([] if len(fields) == 18 else ["nan"]))
        line_numbers.append(line_no)
    if not numeric:
        return KittiObjects.empty(str(p))
    columns = [c for c in _LABEL_FIELDS if c != "type"]
    arr = _parse_rows(p, numeric, line_numbers, columns)
    if not np.all(np.isfinite(arr[:, :16])):
        bad_row, bad_col = np.argwhere(~np.isfinite(arr[:, :16]))[0]
        raise DataError(
            "NaN or infinite value",
            path=str(p),
            record=f"line {line_numbers[bad_row]}",
            field=columns[bad_col],
        )
    frames = arr[:, 0]
    if np.any(frames < 0) or np.any(frames != np.round(frames)):
        bad = int(np.argwhere((frames < 0) | (frames != np.round(frames)))[0, 0])
        raise DataError(
            f"frame must be a non-negative integer, got {frames[bad]}",
            path=str(p),
            record=f"line {line_numbers[bad]}",
            field="frame",
        )
    return KittiObjects(
        frame=arr[:, 0].astype(np.int64),
        track_id=arr[:, 1].astype(np.int64),
        type_name=np.array(types, dtype=str),
        truncation=arr[:, 2],
        occlusion=arr[:, 3].astype(np.int64),
        alpha_rad=arr[:, 4],
        box2d_xyxy_px=arr[:, 5:9],
        hwl_m=arr[:, 9:12],
        location_m=arr[:, 12:15],
        rotation_y_rad=arr[:, 15],
        score=arr[:, 16],
        path=str(p),
    )


_DET_FIELDS = (
    "frame",
    "type_id",
    "x1",
    "y1",
    "x2",
    "y2",
    "score",
    "h",
    "w",
    "l",
    "x",
    "y",
    "z",
    "rot_y",
    "alpha",
)


def read_ab3dmot_detections(path: str | Path) -> KittiObjects:
    """Read an AB3DMOT-format detection file (15 comma-separated columns).

    A missing file is an error; an empty file gives zero detections. ``track_id`` is -1,
    truncation/occlusion are -1 (unknown).
    """
    p = Path(path)
    lines = _read_lines(p)
    rows: list[list[str]] = []
    line_numbers: list[int] = []
    for line_no, raw in enumerate(lines, start=1):
        if not raw.strip():
            continue
        fields = [v.strip() for v in raw.split(",")]
        if len(fields) != 15:
            raise DataError(
                f"expected 15 comma-separated columns, got {len(fields)}",
                path=str(p),
                record=f"line {line_no}",
            )
        rows.append(fields)
        line_numbers.append(line_no)
    if not rows:
        return KittiObjects.empty(str(p))
    arr = _parse_rows(p, rows, line_numbers, _DET_FIELDS)
    if not np.all(np.isfinite(arr)):
        bad_row, bad_col = np.argwhere(~np.isfinite(arr))[0]
        raise DataError(
            "NaN or infinite value",
            path=str(p),
            record=f"line {line_numbers[bad_row]}",
            field=_DET_FIELDS[bad_col],
        )
    type_ids = arr[:, 1].astype(np.int64)
    unknown = ~np.isin(type_ids, list(AB3DMOT_TYPE_IDS))
    if np.any(unknown):
        bad = int(np.argwhere(unknown)[0, 0])
        raise DataError(
            f"unknown type_id {arr[bad, 1]:g} (1 Pedestrian, 2 Car, 3 Cyclist)",
            path=str(p),
            record=f"line {line_numbers[bad]}",
            field="type_id",
        )
    n = arr.shape[0]
    return KittiObjects(
        frame=arr[:, 0].astype(np.int64),
        track_id=np.full(n, -1),
        type_name=np.array([AB3DMOT_TYPE_IDS[int(t)] for t in type_ids], dtype=str),
        truncation=np.full(n, -1.0),
        occlusion=np.full(n, -1),
        alpha_rad=arr[:, 14],
        box2d_xyxy_px=arr[:, 2:6],
        hwl_m=arr[:, 7:10],
        location_m=arr[:, 10:13],
        rotation_y_rad=arr[:, 13],
        score=arr[:, 6],
        path=str(p),
    )


@dataclass(frozen=True)
class SeqmapEntry:
    """One seqmap line: sequence name and the frame range ``[first_frame, first_frame + n_frames)``."""

    name: str
    first_frame: int
    n_frames: int


def _fixed_width_rows(p: Path, n_fields: int, what: str) -> Iterator[tuple[int, list[str]]]:
    """``(line number, fields)`` of the non-blank lines; DataError naming the line when a line
    does not have exactly ``n_fields`` whitespace-separated fields."""
    for line_no, raw in enumerate(_read_lines(p), start=1):
        fields = raw.split()
        if not fields:
            continue
        if len(fields) != n_fields:
            raise DataError(
                f"expected {n_fields} {what}, got {len(fields)}",
                path=str(p),
                record=f"line {line_no}",
            )
        yield line_no, fields


def read_seqmap(path: str | Path) -> list[SeqmapEntry]:
    """Read a KITTI seqmap (``NNNN empty first_frame end_frame`` per line).

    ``n_frames = end_frame - first_frame`` (the published seqmaps start at 0, so the 4th number
    is the frame count; it equals the last labelled frame + 1). Note the KITTI devkit and
    AB3DMOT's evaluator allocate one frame more (``end - first + 1``); the evaluator here
    reproduces that where it matters (the false-alarm rate).
    """
    p = Path(path)
    entries = []
    for line_no, fields in _fixed_width_rows(p, 4, "columns"):
        try:
            first, last = int(fields[2]), int(fields[3])
            name = f"{int(fields[0]):04d}"
        except ValueError:
            raise DataError(
                f"not an integer in {' '.join(fields)!r}", path=str(p), record=f"line {line_no}"
            ) from None
        entries.append(SeqmapEntry(name=name, first_frame=first, n_frames=last - first))
    return entries


def read_ego_poses(path: str | Path) -> np.ndarray:
    """Read per-frame camera->world poses: ``(F, 4, 4)`` float64 (one 3x4 row-major per line)."""
    p = Path(path)
    rows = []
    for line_no, fields in _fixed_width_rows(p, 12, "numbers"):
        try:
            rows.append([float(v) for v in fields])
        except ValueError:
            raise DataError("non-numeric value", path=str(p), record=f"line {line_no}") from None
    poses = np.tile(np.eye(4), (len(rows), 1, 1))
    if rows:
        poses[:, :3, :] = np.array(rows).reshape(-1, 3, 4)
    return poses


# -- conversions ------------------------------------------------------------------------------
def camera_rect_to_zup_array7(
    location_m: np.ndarray, hwl_m: np.ndarray, rotation_y_rad: np.ndarray
) -> np.ndarray:
    """KITTI camera boxes -> ``(N, 7)`` kernel boxes in :data:`CAMERA_RECT_ZUP`.

    Exact axis relabelling (no calibration): ``x = z_cam``, ``y = -x_cam``,
    ``z = h/2 - y_cam`` (geometric centre), ``(l, w, h)``, ``yaw = -rotation_y - pi/2``.
    """
    loc = np.asarray(location_m, dtype=np.float64).reshape(-1, 3)
    hwl = np.asarray(hwl_m, dtype=np.float64).reshape(-1, 3)
    ry = np.asarray(rotation_y_rad, dtype=np.float64).reshape(-1)
    return np.stack(
        [
            loc[:, 2],
            -loc[:, 0],
            0.5 * hwl[:, 0] - loc[:, 1],
            hwl[:, 2],
            hwl[:, 1],
            hwl[:, 0],
            -ry - 0.5 * np.pi,
        ],
        axis=1,
    )


def zup_array7_to_camera_rect(boxes: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Inverse of :func:`camera_rect_to_zup_array7`: ``(location (N,3), hwl (N,3), rotation_y (N,))``."""
    b = np.asarray(boxes, dtype=np.float64).reshape(-1, 7)
    location = np.stack([-b[:, 1], 0.5 * b[:, 5] - b[:, 2], b[:, 0]], axis=1)
    hwl = np.stack([b[:, 5], b[:, 4], b[:, 3]], axis=1)
    ry = -b[:, 6] - 0.5 * np.pi
    ry = (ry + np.pi) % (2 * np.pi) - np.pi
    return location, hwl, ry


def lidar_from_camera_zup(calib: KittiCalib) -> SE3:
    """Rigid transform from :data:`CAMERA_RECT_ZUP` to the LiDAR frame (close to a yaw-only one)."""
    return calib.lidar_from_camera_rect() @ ZUP_FROM_CAMERA_RECT.inverse()


def objects_to_boxes(
    objects: KittiObjects, calib: KittiCalib | None, frame: str = "lidar", timestamp_ns: int = 0
) -> Boxes3D:
    """Rows -> :class:`Boxes3D` in the LiDAR frame (``calib`` given) or :data:`CAMERA_RECT_ZUP`."""
    arr = camera_rect_to_zup_array7(objects.location_m, objects.hwl_m, objects.rotation_y_rad)
    score = np.where(np.isfinite(objects.score), objects.score, 1.0)
    boxes = Boxes3D.from_array7(
        arr, CAMERA_RECT_ZUP, timestamp_ns, score=score, label=objects.object_classes()
    )
    if calib is None:
        return boxes
    return boxes.transformed(lidar_from_camera_zup(calib), frame)


def project_to_image_xyxy(
    boxes_zup: np.ndarray, P2: np.ndarray, image_size_px: tuple[int, int] | None = (1242, 375)
) -> np.ndarray:
    """``(N, 7)`` :data:`CAMERA_RECT_ZUP` boxes -> ``(N, 4)`` image_02 boxes ``x1 y1 x2 y2``.

    The 8 corners are projected with ``P2``; corners behind the camera are clamped to 0.1 m
    depth. The box is clipped to ``image_size_px = (width, height)`` when given.
    """
    from drivestack.kernels import box_corners

    b = np.asarray(boxes_zup, dtype=np.float64).reshape(-1, 7)
    if b.shape[0] == 0:
        return np.zeros((0, 4))
    corners = np.asarray(box_corners(b))  # (N, 8, 3) z-up
    cam = corners @ _ZUP_FROM_CAM  # zup = R cam  ->  cam = R^T zup  (row vectors: zup @ R)
    cam[..., 2] = np.maximum(cam[..., 2], 0.1)
    homog = cam @ P2[:, :3].T + P2[:, 3]
    uv = homog[..., :2] / homog[..., 2:3]
    out = np.concatenate([uv.min(axis=1), uv.max(axis=1)], axis=1)
    if image_size_px is not None:
        w, h = image_size_px
        out[:, [0, 2]] = np.clip(out[:, [0, 2]], 0.0, w - 1.0)
        out[:, [1, 3]] = np.clip(out[:, [1, 3]], 0.0, h - 1.0)
    return out


def boxes_to_objects(
    boxes_zup: np.ndarray,
    *,
    frame_index: int,
    track_id: npt.ArrayLike,
    type_name: str,
    score: npt.ArrayLike,
    box2d_xyxy_px: np.ndarray,
) -> KittiObjects:
    """``(N, 7)`` :data:`CAMERA_RECT_ZUP` boxes of one frame -> result rows (alpha from the ray)."""
    location, hwl, ry = zup_array7_to_camera_rect(boxes_zup)
    n = location.shape[0]
    alpha = ry - np.arctan2(location[:, 0], location[:, 2])
    alpha = (alpha + np.pi) % (2 * np.pi) - np.pi
    return KittiObjects(
        frame=np.full(n, frame_index),
        track_id=np.asarray(track_id, dtype=np.int64).reshape(n),
        type_name=np.full(n, type_name),
        truncation=np.full(n, -1.0),
        occlusion=np.full(n, -1),
        alpha_rad=alpha,
        box2d_xyxy_px=np.asarray(box2d_xyxy_px, dtype=np.float64).reshape(n, 4),
        hwl_m=hwl,
        location_m=location,
        rotation_y_rad=ry,
        score=np.asarray(score, dtype=np.float64).reshape(n),
    )


def write_tracking_results(path: str | Path, objects: KittiObjects) -> None:
    """Write rows in the KITTI tracking result format (18 columns, with score), frame-sorted."""
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    order = np.lexsort((objects.track_id, objects.frame))
    o = objects.select(order)
    lines = []
    for i in range(len(o)):
        x1, y1, x2, y2 = o.box2d_xyxy_px[i]
        h, w, l = o.hwl_m[i]
        x, y, z = o.location_m[i]
        lines.append(
            f"{o.frame[i]} {o.track_id[i]} {o.type_name[i]} {int(o.truncation[i])} {o.occlusion[i]} "
            f"{o.alpha_rad[i]:.6f} {x1:.4f} {y1:.4f} {x2:.4f} {y2:.4f} {h:.6f} {w:.6f} {l:.6f} "
            f"{x:.6f} {y:.6f} {z:.6f} {o.rotation_y_rad[i]:.6f} {o.score[i]:.6f}"
        )
    p.write_text("\n".join(lines) + ("\n" if lines else ""))
