"""KITTI object rows: one record, one parser, one box conversion and one 3D->2D projection.

The 3D object benchmark (``label_2`` and result files: 15 columns, a 16th score) and the
tracking benchmark (``label_02``, results and AB3DMOT detections: the same columns after
``frame track_id``) describe objects the same way, in KITTI's rectified camera-0 frame
(``camera_rect``: x right, y down, z forward) with the box *bottom* centre as location,
``h w l`` dimensions and ``rotation_y`` about +y::

    type truncated occluded alpha x1 y1 x2 y2 h w l x y z rotation_y [score]

:class:`KittiObjects` holds such rows as arrays (``frame``/``track_id`` are -1 for per-frame
object files); :func:`parse_object_rows` parses them; :func:`objects_to_boxes` converts them
once to z-up :class:`Boxes3D` and :func:`boxes_to_objects` back for result files, with
:func:`project_boxes_to_image_xyxy` for the image box of a 3D box.

A row with dimensions ``-1 -1 -1`` has no 3D box (the devkit's placeholder, written by DontCare
labels and by 2D-only results such as ``Car -1 -1 -10 x1 y1 x2 y2 -1 -1 -1 -1000 -1000 -1000
-10 score``); :meth:`KittiObjects.has_box3d` tells them apart and :func:`objects_2d_only`
writes them.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import numpy.typing as npt

from drivestack.core.errors import DataError
from drivestack.core.frames import LIDAR
from drivestack.core.transforms import SE3
from drivestack.ingest._points import check_finite, line_record, parse_numbers
from drivestack.ingest.kitti_calib import KittiCalib
from drivestack.structures.boxes import Boxes3D
from drivestack.structures.labels import ObjectClass

CAMERA_RECT = "camera_rect"
#: Rectified camera axes re-labelled z-up: x = forward (cam z), y = left (-cam x), z = up (-cam y).
CAMERA_RECT_ZUP = "camera_rect_zup"
#: zup = _ZUP_FROM_CAM @ cam (a proper rotation, det = +1).
_ZUP_FROM_CAM = np.array([[0.0, 0.0, 1.0], [-1.0, 0.0, 0.0], [0.0, -1.0, 0.0]])
ZUP_FROM_CAMERA_RECT = SE3(_ZUP_FROM_CAM, np.zeros(3))

DONT_CARE = "DontCare"


def is_dont_care(type_name: np.ndarray) -> np.ndarray:
    """``(N,)`` bool: the rows of ``(N,)`` KITTI type names that are DontCare, in any case (as
    the reader accepts every type name)."""
    return np.char.lower(np.asarray(type_name).astype(str)) == DONT_CARE.lower()


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
_CLASS_OF_LOWER = {k.lower(): int(v) for k, v in KITTI_TO_CLASS.items()}

#: Columns of a KITTI object row (tracking rows put ``frame track_id`` in front).
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

# attribute -> (dtype, trailing shape); rows are the first axis
_COLUMNS: dict[str, tuple[type, tuple[int, ...]]] = {
    "truncation": (np.float64, ()),
    "occlusion": (np.int64, ()),
    "alpha_rad": (np.float64, ()),
    "box2d_xyxy_px": (np.float64, (4,)),
    "hwl_m": (np.float64, (3,)),
    "location_m": (np.float64, (3,)),
    "rotation_y_rad": (np.float64, ()),
    "score": (np.float64, ()),
    "frame": (np.int64, ()),
    "track_id": (np.int64, ()),
}
#: The devkit's "no 3D box" values: dimensions ``h w l``, location ``x y z``, alpha/rotation_y.
NO_BOX3D_HWL = (-1.0, -1.0, -1.0)
NO_BOX3D_LOCATION = (-1000.0, -1000.0, -1000.0)
NO_ANGLE = -10.0
#: Filled in for N > 0 rows when a column is left empty.
_MISSING = {"score": 1.0, "frame": -1, "track_id": -1}


def _empty(name: str) -> np.ndarray:
    dtype, tail = _COLUMNS[name]
    return np.zeros((0, *tail), dtype=dtype)


@dataclass(frozen=True)
class KittiObjects:
    """N KITTI object rows in ``camera_rect``, one array per column (N may be 0).

    Attributes:
        type_name: ``(N,)`` str KITTI type as written (``Car``, ``DontCare`` ...).
        truncation: ``(N,)`` float: a fraction in [0, 1] in object files, the level 0 / 1 / 2
            (not / partly / heavily truncated) in tracking files; -1 when unknown (DontCare,
            detections).
        occlusion: ``(N,)`` int64 0 visible .. 3 unknown (-1 for DontCare and detections).
        alpha_rad: ``(N,)`` observation angle.
        box2d_xyxy_px: ``(N, 4)`` 2D box in the image_2 plane.
        hwl_m: ``(N, 3)`` height, width, length.
        location_m: ``(N, 3)`` bottom centre in camera_rect.
        rotation_y_rad: ``(N,)`` yaw about camera_rect's y axis.
        score: ``(N,)`` detection score (1.0 when left empty; tracking labels, which have no
            score column, read as NaN).
        frame: ``(N,)`` int64 frame index (-1 for rows of a per-frame file).
        track_id: ``(N,)`` int64 track id (-1 for DontCare, detections and object files).
        path: source file ("" when built in code).
    """

    type_name: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=str))
    truncation: np.ndarray = field(default_factory=lambda: _empty("truncation"))
    occlusion: np.ndarray = field(default_factory=lambda: _empty("occlusion"))
    alpha_rad: np.ndarray = field(default_factory=lambda: _empty("alpha_rad"))
    box2d_xyxy_px: np.ndarray = field(default_factory=lambda: _empty("box2d_xyxy_px"))
    hwl_m: np.ndarray = field(default_factory=lambda: _empty("hwl_m"))
    location_m: np.ndarray = field(default_factory=lambda: _empty("location_m"))
    rotation_y_rad: np.ndarray = field(default_factory=lambda: _empty("rotation_y_rad"))
    score: np.ndarray = field(default_factory=lambda: _empty("score"))
    frame: np.ndarray = field(default_factory=lambda: _empty("frame"))
    track_id: np.ndarray = field(default_factory=lambda: _empty("track_id"))
    path: str = field(default="", compare=False)

    def __post_init__(self) -> None:
        names = np.asarray(self.type_name, dtype=str).reshape(-1)
        names.setflags(write=False)
        object.__setattr__(self, "type_name", names)
        n = names.shape[0]
        for attr, (dtype, tail) in _COLUMNS.items():
            shape = (n, *tail)
            value = np.asarray(getattr(self, attr))
            if value.size == 0 and n and attr in _MISSING:
                value = np.full(shape, _MISSING[attr])
            if value.size != int(np.prod(shape)):
                raise ValueError(f"KittiObjects.{attr} must have shape {shape}, got {value.shape}")
            value = value.astype(dtype).reshape(shape)
            value.setflags(write=False)
            object.__setattr__(self, attr, value)

    def __len__(self) -> int:
        return int(self.type_name.shape[0])

    def select(self, selection: npt.ArrayLike) -> KittiObjects:
        """The rows of a boolean mask or index array, in its order."""
        idx = np.asarray(selection)
        return replace(
            self,
            type_name=self.type_name[idx],
            **{attr: getattr(self, attr)[idx] for attr in _COLUMNS},
        )

    @staticmethod
    def concatenate(parts: Sequence[KittiObjects]) -> KittiObjects:
        """The rows of all ``parts`` in order (the path is the first part's)."""
        if not parts:
            return KittiObjects()
        return KittiObjects(
            type_name=np.concatenate([p.type_name for p in parts]),
            path=parts[0].path,
            **{attr: np.concatenate([getattr(p, attr) for p in parts]) for attr in _COLUMNS},
        )

    def frame_slices(self, n_frames: int) -> list[np.ndarray]:
        """Row indices of each frame ``0 .. n_frames-1`` (rows of later frames are dropped)."""
        order = np.argsort(self.frame, kind="stable")
        bounds = np.searchsorted(self.frame[order], np.arange(n_frames + 1))
        return [order[bounds[i] : bounds[i + 1]] for i in range(n_frames)]

    def has_box3d(self) -> np.ndarray:
        """``(N,)`` bool: False for rows whose dimensions are the devkit's ``-1 -1 -1``
        placeholder (:data:`NO_BOX3D_HWL`: DontCare labels and 2D-only results)."""
        return ~np.all(self.hwl_m == np.asarray(NO_BOX3D_HWL), axis=1)

    def object_classes(self) -> np.ndarray:
        """``(N,)`` int64 :class:`ObjectClass` ids of ``type_name`` (any case; DontCare is
        UNKNOWN). Raises ``DataError`` naming the row for a type with no class."""
        out = np.empty(len(self), dtype=np.int64)
        for i, name in enumerate(self.type_name):
            cls = _CLASS_OF_LOWER.get(name.lower())
            if cls is None and name.lower() != DONT_CARE.lower():
                raise DataError(
                    f"unknown KITTI type {str(name)!r}; known: {sorted(KITTI_TO_CLASS)}",
                    path=self.path or None,
                    record=f"object {i}",
                    field="type",
                )
            out[i] = int(ObjectClass.UNKNOWN) if cls is None else cls
        return out


# -- reading ----------------------------------------------------------------------------------
def read_text_lines(path: str | Path) -> list[str]:
    """The lines of a text file (UTF-8, a byte-order mark dropped); ``DataError`` naming the
    file when it cannot be read."""
    try:
        raw = Path(path).read_bytes()
    except FileNotFoundError:
        raise DataError("file not found", path=str(path)) from None
    except OSError as exc:
        raise DataError(f"cannot read file: {exc.strerror}", path=str(path)) from exc
    return raw.decode("utf-8-sig", errors="replace").splitlines()  # a leading BOM is dropped


def check_line_per_frame(line_numbers: Sequence[int], *, path: str) -> None:
    """``DataError`` naming the first blank line before a row of a file that holds one line
    per frame, line ``i + 1`` for frame ``i`` (ego poses, odometry poses and times): skipping
    it would give every later frame the next frame's value. ``line_numbers`` are the rows'
    (1-based, ascending); blank lines after the last row are harmless."""
    for i, line_no in enumerate(line_numbers):
        if line_no != i + 1:
            raise DataError(
                f"blank line in a file of one line per frame (line {i + 1} is frame {i}): "
                "skipping it would shift every later frame",
                path=path,
                record=f"line {i + 1}",
            )


def check_column_counts(
    rows: Sequence[Sequence[str]], *, path: str, line_numbers: Sequence[int]
) -> None:
    """``DataError`` naming the first line whose column count differs from the first line's:
    a file mixing rows with and without a score (a row's score would be made up)."""
    for fields, line_no in zip(rows, line_numbers, strict=True):
        if len(fields) != len(rows[0]):
            raise DataError(
                f"expected {len(rows[0])} columns like the first line, got {len(fields)}",
                path=path,
                record=f"line {line_no}",
            )


def parse_object_rows(
    rows: Sequence[Sequence[str]],
    *,
    path: str,
    line_numbers: Sequence[int],
    leading: Sequence[str] = (),
    missing_score: float = 1.0,
) -> tuple[np.ndarray, KittiObjects]:
    """Objects from split text rows: ``leading`` numeric columns, the 15 object columns, and an
    optional score (``missing_score`` where a row has none).

    Returns ``(N, len(leading))`` float64 leading values and the objects (``frame``/``track_id``
    left at -1: the caller owns the meaning of the leading columns).

    Raises:
        DataError: naming the file, the line and the field: a wrong column count, a value that
            is not a number, NaN/inf in any column (a written score included: a result row
            with a ``nan`` score has no meaning; only a *missing* score column becomes
            ``missing_score``), an unknown type, a truncation that is not -1, in [0, 1] (object
            labels) or 2 (tracking labels write the levels 0 / 1 / 2; object-format rows
            cut from them keep the 2), an occlusion that is not an integer in -1..3, a 2D box
            with ``x2 < x1`` or ``y2 < y1`` (field ``x2`` / ``y2``; except a DontCare row's
            ``-1 -1 -1 -1`` placeholder box), a negative size (except DontCare and the 2D-only
            placeholder ``-1 -1 -1``, see :meth:`KittiObjects.has_box3d`).
    """
    k = len(leading)
    n_cols = k + len(KITTI_OBJECT_FIELDS)
    columns = (*leading, *KITTI_OBJECT_FIELDS)
    for row, line_no in zip(rows, line_numbers, strict=True):
        if len(row) not in (n_cols, n_cols + 1):
            raise DataError(
                f"expected {n_cols} or {n_cols + 1} columns (the last a score), got {len(row)}",
                path=path,
                record=f"line {line_no}",
            )
    numeric_columns = [c for c in columns if c != "type"]
    numbers = parse_numbers(
        [[*r[:k], *r[k + 1 : n_cols]] for r in rows],
        numeric_columns,
        path=path,
        line_numbers=line_numbers,
    )
    scored = [i for i, r in enumerate(rows) if len(r) > n_cols]
    score = np.full(len(rows), missing_score)
    score[scored] = parse_numbers(
        [[rows[i][n_cols]] for i in scored],
        ["score"],
        path=path,
        line_numbers=[line_numbers[i] for i in scored],
    ).reshape(-1)
    check_finite(numbers, numeric_columns, path=path, record=line_record(line_numbers))
    check_finite(
        score[scored].reshape(-1, 1),
        ["score"],
        path=path,
        record=line_record([line_numbers[i] for i in scored]),
    )
    names = np.array([r[k] for r in rows], dtype=str)
    for name, line_no in zip(names, line_numbers, strict=True):
        if name.lower() not in _CLASS_OF_LOWER and name.lower() != DONT_CARE.lower():
            raise DataError(
                f"unknown KITTI type {str(name)!r}; known: {sorted([*KITTI_TO_CLASS, DONT_CARE])}",
                path=path,
                record=f"line {line_no}",
                field="type",
            )
    _check_visibility(numbers[:, k], numbers[:, k + 1], path, line_numbers)
    _check_box_order(numbers[:, k + 3 : k + 7], names, path, line_numbers)
    hwl = numbers[:, k + 7 : k + 10]
    placeholder = np.all(hwl == np.asarray(NO_BOX3D_HWL), axis=1)
    negative = np.flatnonzero(~is_dont_care(names) & np.any(hwl < 0, axis=1) & ~placeholder)
    if negative.size:
        raise DataError(
            "negative box dimension (only -1 -1 -1, the 2D-only placeholder, may be negative)",
            path=path,
            record=f"line {line_numbers[negative[0]]}",
            field="h w l",
        )
    o = numbers[:, k:]
    objects = KittiObjects(
        type_name=names,
        truncation=o[:, 0],
        occlusion=o[:, 1].astype(np.int64),
        alpha_rad=o[:, 2],
        box2d_xyxy_px=o[:, 3:7],
        hwl_m=hwl,
        location_m=o[:, 10:13],
        rotation_y_rad=o[:, 13],
        score=score,
        path=path,
    )
    return numbers[:, :k], objects


def _check_box_order(
    box: np.ndarray, names: np.ndarray, path: str, line_numbers: Sequence[int]
) -> None:
    """``DataError`` naming the first row whose ``(N, 4)`` 2D box has ``x2 < x1`` or
    ``y2 < y1`` (field ``x2`` or ``y2``): such a box has no area, matches nothing and its
    negative height passes no height filter. A DontCare row's all ``-1`` placeholder is kept."""
    reversed_ = (box[:, 2] < box[:, 0]) | (box[:, 3] < box[:, 1])
    placeholder = is_dont_care(names) & np.all(box == -1.0, axis=1)
    bad = np.flatnonzero(reversed_ & ~placeholder)
    if bad.size:
        i = int(bad[0])
        raise DataError(
            f"image box has x2 < x1 or y2 < y1: {box[i].tolist()}",
            path=path,
            record=f"line {line_numbers[i]}",
            field="x2" if box[i, 2] < box[i, 0] else "y2",
        )


def _check_visibility(
    truncation: np.ndarray,
    occlusion: np.ndarray,
    path: str,
    line_numbers: Sequence[int],
) -> None:
    """``DataError`` for the first ``(N,)`` truncation outside ``{-1} | [0, 1] | {2}`` (object
    fractions, tracking levels 0 / 1 / 2, -1 unknown) or occlusion that is not an integer in
    -1..3."""
    valid_t = (truncation == -1) | ((truncation >= 0) & (truncation <= 1)) | (truncation == 2)
    bad_t = np.flatnonzero(~valid_t)
    if bad_t.size:
        raise DataError(
            "truncation must be -1 (unknown), a fraction in [0, 1] or the tracking level 2, "
            f"got {float(truncation[bad_t[0]]):g}",
            path=path,
            record=f"line {line_numbers[bad_t[0]]}",
            field="truncated",
        )
    bad_o = np.flatnonzero((occlusion != np.round(occlusion)) | (occlusion < -1) | (occlusion > 3))
    if bad_o.size:
        raise DataError(
            "occlusion must be an integer -1 (unknown), 0 visible .. 3 unknown, "
            f"got {float(occlusion[bad_o[0]]):g}",
            path=path,
            record=f"line {line_numbers[bad_o[0]]}",
            field="occluded",
        )


def format_number(value: float, decimals: int) -> str:
    """``value`` with ``decimals`` decimals, or its shortest exact form (``repr``) when that
    would change it, so that a written result file reads back to the very numbers that were
    scored in memory (KITTI's devkit reads each field with ``%lf``: any float text).
    Non-finite values are written as ``decimals`` shows them (the writers refuse them)."""
    v = float(value)
    text = f"{v:.{decimals}f}"
    return text if float(text) == v or not math.isfinite(v) else repr(v)


def check_rows_writable(
    objects: KittiObjects,
    lines: Sequence[str],
    *,
    leading: Sequence[str] = (),
    row_numbers: Sequence[int] | None = None,
) -> None:
    """Check that the formatted ``lines`` (one per row of ``objects``) read back: the type
    names are single words and :func:`parse_object_rows` accepts every line.

    ``leading``: the numeric columns before the object ones. Raises ``ValueError``
    ``"row i: field f: ..."`` for the first bad row (``i`` = ``row_numbers[k]`` of line
    ``k``, by default ``k``).
    """
    rows = list(range(len(lines))) if row_numbers is None else list(row_numbers)
    for k, name in enumerate(objects.type_name):
        if not name or len(name.split()) != 1 or name != name.strip():
            raise ValueError(f"row {rows[k]}: field type: type must be one word, got {str(name)!r}")
    try:
        parse_object_rows(
            [line.split() for line in lines],
            path="",
            line_numbers=rows,
            leading=leading,
        )
    except DataError as exc:
        row = str(exc.record).removeprefix("line ")
        field = f"field {exc.field}: " if exc.field else ""
        raise ValueError(f"row {row}: {field}{exc.reason}") from None


# -- conversions ------------------------------------------------------------------------------
def camera_rect_to_zup_array7(
    location_m: npt.ArrayLike, hwl_m: npt.ArrayLike, rotation_y_rad: npt.ArrayLike
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
    objects: KittiObjects,
    calib: KittiCalib | None,
    *,
    timestamp_ns: int = 0,
    frame: str = LIDAR,
) -> Boxes3D:
    """Boxes of every row except DontCare, labels per :data:`KITTI_TO_CLASS` (any case); a NaN
    score becomes 1.0 (NaN means "no score column": tracking labels; a result file's written
    ``nan`` score is rejected when read, see :func:`parse_object_rows`).

    Without ``calib`` the boxes are in :data:`CAMERA_RECT_ZUP` (exact axis relabelling, see
    :func:`camera_rect_to_zup_array7`). With ``calib`` they are in the LiDAR frame (named
    ``frame``): the centre is mapped by the calibration and the yaw is that of the mapped
    heading vector (the box stays upright in the LiDAR frame; :meth:`Boxes3D.transformed` of
    the z-up boxes instead adds the calibration's yaw, which differs by the camera's tilt).

    Raises ``DataError`` for a KITTI type with no drivestack class, or a 2D-only row (dimensions
    ``-1 -1 -1``, see :meth:`KittiObjects.has_box3d`): it has no 3D box to convert.
    """
    keep = ~is_dont_care(objects.type_name)
    label = objects.object_classes()[keep]
    no_box = np.flatnonzero(keep & ~objects.has_box3d())
    if no_box.size:
        raise DataError(
            "2D-only row (dimensions -1 -1 -1) has no 3D box",
            path=objects.path or None,
            record=f"object {int(no_box[0])}",
            field="h w l",
        )
    objs = objects.select(keep)
    score = np.where(np.isfinite(objs.score), objs.score, 1.0)
    if calib is None:
        arr = camera_rect_to_zup_array7(objs.location_m, objs.hwl_m, objs.rotation_y_rad)
        return Boxes3D.from_array7(arr, CAMERA_RECT_ZUP, timestamp_ns, score=score, label=label)
    lidar_from_cam = calib.lidar_from_camera_rect()
    h, w, l = objs.hwl_m.T
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
        score=score,
        label=label,
    )


#: Boxes for the camera-side functions: :class:`Boxes3D` in :data:`CAMERA_RECT_ZUP` or the
#: LiDAR frame, or an ``(N, 7)`` array in :data:`CAMERA_RECT_ZUP` (yaw need not be wrapped).
BoxesIn = Boxes3D | np.ndarray


def _zup_array7(boxes: BoxesIn) -> np.ndarray | None:
    """``(N, 7)`` :data:`CAMERA_RECT_ZUP` boxes, or None for :class:`Boxes3D` in another frame."""
    if isinstance(boxes, Boxes3D):
        return boxes.to_array7() if boxes.frame == CAMERA_RECT_ZUP else None
    return np.asarray(boxes, dtype=np.float64).reshape(-1, 7)


def _camera_rect_corners(boxes: BoxesIn, calib: KittiCalib | None) -> np.ndarray:
    """``(N, 8, 3)`` corners in camera_rect of boxes upright in their own frame
    (:data:`CAMERA_RECT_ZUP`, or the LiDAR frame with ``calib``)."""
    from drivestack.kernels import box_corners

    zup = _zup_array7(boxes)
    if zup is not None:
        # zup = R cam  ->  cam = R^T zup (row vectors: zup @ R)
        return np.asarray(box_corners(zup)) @ _ZUP_FROM_CAM
    assert isinstance(boxes, Boxes3D)
    if calib is None:
        raise ValueError(f"boxes in frame {boxes.frame!r} need a calibration to reach camera_rect")
    corners = np.asarray(box_corners(boxes.to_array7())).reshape(-1, 3)
    return calib.camera_rect_from_lidar().apply(corners).reshape(-1, 8, 3)


def project_boxes_to_image_xyxy(
    boxes: BoxesIn,
    P2: np.ndarray,
    calib: KittiCalib | None = None,
    *,
    image_edge_px: tuple[float, float] | None = None,
    min_depth_m: float = 0.1,
    clamp_depth: bool = True,
) -> np.ndarray:
    """``(N, 4)`` image boxes ``x1 y1 x2 y2`` enclosing the projected corners of ``boxes``.

    ``boxes`` (:data:`BoxesIn`) are in :data:`CAMERA_RECT_ZUP`, or in the LiDAR frame with ``calib``; corners
    are projected with ``P2 (3, 4)``. A corner nearer than ``min_depth_m`` (a box partly
    behind the camera gets a wide, finite box) is, with ``clamp_depth``, moved onto that depth
    before projecting (the tracking writer's rule); without, projected from where it is but
    divided by ``min_depth_m`` instead of its depth (the 3D object writer's rule). The result
    is clipped to ``[0, image_edge_px[0]] x [0, image_edge_px[1]]`` when given.

    (:func:`drivestack.kernels.project_boxes_to_image` cuts the box at the near plane instead,
    and projects with the intrinsics only; it gives other boxes near and behind the camera.)
    """
    if len(boxes) == 0:
        return np.zeros((0, 4))
    cam = _camera_rect_corners(boxes, calib)
    near = cam[..., 2:3] <= min_depth_m
    if clamp_depth:
        cam[..., 2] = np.maximum(cam[..., 2], min_depth_m)
    homog = cam @ P2[:, :3].T + P2[:, 3]
    uv = homog[..., :2] / (
        homog[..., 2:3] if clamp_depth else np.where(near, min_depth_m, homog[..., 2:3])
    )
    out = np.concatenate([uv.min(axis=1), uv.max(axis=1)], axis=1)
    if image_edge_px is not None:
        right, bottom = image_edge_px
        out[:, [0, 2]] = np.clip(out[:, [0, 2]], 0.0, right)
        out[:, [1, 3]] = np.clip(out[:, [1, 3]], 0.0, bottom)
    return out


def observation_angle(location_m: np.ndarray, rotation_y_rad: np.ndarray) -> np.ndarray:
    """``(N,)`` KITTI alpha in [-pi, pi) of ``(N, 3)`` camera_rect locations and ``(N,)`` yaws:
    ``rotation_y - atan2(x, z)``."""
    alpha = rotation_y_rad - np.arctan2(location_m[:, 0], location_m[:, 2])
    return (alpha + np.pi) % (2 * np.pi) - np.pi


def boxes_to_objects(
    boxes: BoxesIn,
    calib: KittiCalib | None,
    *,
    box2d_xyxy_px: npt.ArrayLike | None = None,
    image_edge_px: tuple[float, float] | None = None,
    unknown_visibility: bool = False,
    score: npt.ArrayLike | None = None,
) -> KittiObjects:
    """KITTI rows for ``boxes`` (:data:`BoxesIn`), mapping the geometry back the way
    :func:`objects_to_boxes` maps it forward (z-up boxes relabelled exactly; LiDAR boxes with
    ``calib``, heading vector mapped).

    What round-trips through ``objects_to_boxes`` and back: location and dimensions (to float
    rounding) and the class. What does not: ``rotation_y`` comes back as the yaw of the
    heading vector projected into the camera's x-z plane, which differs from the written
    value by up to ~1e-4 rad when the LiDAR and camera are not exactly level (exact for z-up
    boxes); types become the class's canonical KITTI type (``Person_sitting`` and ``Person``
    -> ``Pedestrian``, ``Misc`` for classes without one); truncation, occlusion, DontCare rows
    and (without ``box2d_xyxy_px``) the labelled 2D box are not carried by :class:`Boxes3D`.

    Types from the labels (:data:`CLASS_TO_KITTI`, else Misc; Misc for an array); scores from
    the boxes or ``score`` (needed for an array); alpha = rotation_y - atan2(x, z); the image box
    is ``box2d_xyxy_px`` when given, else :func:`project_boxes_to_image_xyxy` with ``calib.P2``
    clipped to ``image_edge_px`` (the object writer's rule for near corners). Truncation and
    occlusion are written as 0 (-1 with ``unknown_visibility``); ``frame``/``track_id`` are
    left at -1 for the caller.
    """
    zup = _zup_array7(boxes)
    if zup is not None:
        location, hwl, ry = zup_array7_to_camera_rect(zup)
    elif calib is None:
        raise ValueError("boxes outside camera_rect_zup need a calibration to reach camera_rect")
    else:
        assert isinstance(boxes, Boxes3D)
        cam_from_lidar = calib.camera_rect_from_lidar()
        l, w, h = boxes.size_m.T
        location = cam_from_lidar.apply(boxes.center_m) + np.stack(
            [np.zeros_like(h), h / 2, np.zeros_like(h)], axis=1
        )
        heading = cam_from_lidar.rotate(
            np.stack([np.cos(boxes.yaw_rad), np.sin(boxes.yaw_rad), np.zeros(len(h))], axis=1)
        )
        hwl = np.stack([h, w, l], axis=1)
        ry = np.arctan2(-heading[:, 2], heading[:, 0])
    n = location.shape[0]
    alpha = observation_angle(location, ry)
    if box2d_xyxy_px is not None:
        box2d = np.asarray(box2d_xyxy_px, dtype=np.float64).reshape(n, 4)
    elif calib is None:
        raise ValueError("boxes_to_objects needs box2d_xyxy_px or a calibration to project")
    else:
        box2d = project_boxes_to_image_xyxy(
            boxes, calib.P2, calib, image_edge_px=image_edge_px, min_depth_m=1e-3, clamp_depth=False
        )
    if isinstance(boxes, Boxes3D):
        names = [CLASS_TO_KITTI.get(ObjectClass(int(c)), "Misc") for c in boxes.label]
        score = boxes.score if score is None else score
    elif score is None:
        raise ValueError("boxes_to_objects needs score for boxes given as an array")
    else:
        names = ["Misc"] * n
    visibility = -1 if unknown_visibility else 0
    return KittiObjects(
        type_name=np.array(names, dtype=str),
        truncation=np.full(n, float(visibility)),
        occlusion=np.full(n, visibility, dtype=np.int64),
        alpha_rad=alpha,
        box2d_xyxy_px=box2d,
        hwl_m=hwl,
        location_m=location,
        rotation_y_rad=ry,
        score=np.asarray(score, dtype=np.float64).reshape(n),
    )


def objects_2d_only(
    type_name: npt.ArrayLike, box2d_xyxy_px: npt.ArrayLike, score: npt.ArrayLike
) -> KittiObjects:
    """KITTI result rows of 2D detections: ``type_name (N,)``, ``box2d_xyxy_px (N, 4)``,
    ``score (N,)``, every other column the devkit's placeholder
    (``type -1 -1 -10 x1 y1 x2 y2 -1 -1 -1 -1000 -1000 -1000 -10 score``)."""
    names = np.asarray(type_name, dtype=str).reshape(-1)
    n = names.shape[0]
    return KittiObjects(
        type_name=names,
        truncation=np.full(n, -1.0),
        occlusion=np.full(n, -1, dtype=np.int64),
        alpha_rad=np.full(n, NO_ANGLE),
        box2d_xyxy_px=np.asarray(box2d_xyxy_px, dtype=np.float64).reshape(n, 4),
        hwl_m=np.tile(NO_BOX3D_HWL, (n, 1)),
        location_m=np.tile(NO_BOX3D_LOCATION, (n, 1)),
        rotation_y_rad=np.full(n, NO_ANGLE),
        score=np.asarray(score, dtype=np.float64).reshape(n),
    )
