"""KITTI tracking benchmark files: labels, AB3DMOT detections, results, seqmaps, ego poses,
and whole frames (:func:`read_kitti_tracking_frame`: scan, labels, calib, ego pose, camera).

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

:class:`~drivestack.ingest.kitti_format.KittiObjects` holds the rows of one file as arrays
(the object columns parsed by :func:`~drivestack.ingest.kitti_format.parse_object_rows`, with
``frame`` and ``track_id``); conversion to and from drivestack boxes is in
:mod:`drivestack.ingest.kitti_format`.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from functools import cached_property
from pathlib import Path

import numpy as np

from drivestack.core.errors import DataError
from drivestack.core.frames import LIDAR
from drivestack.core.numbers import is_digits, parse_float, parse_int
from drivestack.core.transforms import SE3, nearest_rotation
from drivestack.ingest._points import (
    check_finite,
    check_integer_column,
    check_not_negative,
    first_repeat,
    line_record,
    parse_numbers,
)
from drivestack.ingest._rigid import rigid_from_matrix
from drivestack.ingest.kitti_calib import KittiCalib, read_kitti_calib
from drivestack.ingest.kitti_format import (
    KITTI_OBJECT_FIELDS,
    NO_BOX3D_HWL,
    NO_BOX3D_LOCATION,
    ZUP_FROM_CAMERA_RECT,
    KittiObjects,
    check_column_counts,
    check_line_per_frame,
    check_rows_writable,
    format_number,
    is_dont_care,
    objects_to_boxes,
    parse_object_rows,
    read_text_lines,
)
from drivestack.ingest.kitti_object import (
    camera_entries,
    read_kitti_camera,
    read_velodyne_bin,
    read_velodyne_pcd,
)
from drivestack.structures._checks import check_number
from drivestack.structures.boxes import Boxes3D
from drivestack.structures.point_cloud import PointCloud
from drivestack.structures.sensor_frame import SensorFrame

AB3DMOT_TYPE_IDS: dict[int, str] = {1: "Pedestrian", 2: "Car", 3: "Cyclist"}


# -- readers ----------------------------------------------------------------------------------
def read_tracking_labels(path: str | Path, *, n_frames: int | None = None) -> KittiObjects:
    """Read a ``label_02`` file (17 columns) or a tracking result file (18, with score).
    ``n_frames``: the sequence's frame count (seqmap), when known: a frame of ``n_frames``
    or more is an error (the devkit never visits it). Result files scored by the evaluator are
    read with :func:`read_tracking_results` (a row without score scores -1, as the devkit).

    A missing file is an error; an empty file gives zero rows. Labels get ``score = NaN``.
    Truncation is -1 or a level 0 / 1 / 2 (a fraction in [0, 1] is accepted too), occlusion an
    integer -1..3. ``frame`` and ``track_id`` are read as exact integers
    (:func:`parse_id_columns`).

    Raises:
        DataError: naming the file, the line number and the field for a malformed line (see
            :func:`~drivestack.ingest.kitti_format.parse_object_rows`; a written ``nan``
            score is an error), lines with and without a score column in one file, a frame
            that is not a non-negative integer, a track id that is not an integer >= 0 (-1 is
            allowed for DontCare rows only), a frame or track id beyond int64, a
            ``(frame, track_id)`` given on two lines (naming both), and an image box with
            ``x2 < x1`` or ``y2 < y1``.
    """
    objects, _, _ = _read_tracking_file(path, n_frames=n_frames, missing_score=np.nan)
    return objects


#: The score the KITTI / AB3DMOT devkit gives a result row without a score column (17 columns).
DEVKIT_MISSING_SCORE = -1.0


def read_tracking_results(
    path: str | Path, *, n_frames: int | None = None, require_box3d: bool = False
) -> tuple[KittiObjects, int]:
    """Read a KITTI tracking *result* file as the devkit does: ``(objects, n_unscored)``.

    Rows are those of :func:`read_tracking_labels`, except that a row of 17 columns (no score)
    gets score :data:`DEVKIT_MISSING_SCORE` (-1, the KITTI / AB3DMOT devkit's value), row by
    row, so a file may mix 17- and 18-column rows; ``n_unscored`` counts those rows (the
    caller warns: every unscored row sits at one score threshold).

    ``require_box3d`` (3D IoU scoring): every row but DontCare needs positive ``h w l``.

    Raises:
        DataError: as :func:`read_tracking_labels`; with ``require_box3d`` also naming the
            line and the field (``h``, ``w`` or ``l``) of the first size <= 0, suggesting
            ``--similarity iou_2d`` when the file's 3D fields look empty (every row the
            devkit's "not given" ``-1 -1 -1`` / ``-1000 -1000 -1000``, or all zero).
    """
    objects, scored, line_numbers = _read_tracking_file(
        path, n_frames=n_frames, missing_score=DEVKIT_MISSING_SCORE, mixed=True
    )
    if require_box3d:
        check_box3d_sizes(objects, path=str(path), line_numbers=line_numbers)
    return objects, int(np.count_nonzero(~scored))


def _tracking_rows(path: str | Path) -> tuple[list[list[str]], list[int]]:
    """The split non-blank lines of a tracking file and their 1-based line numbers."""
    rows: list[list[str]] = []
    line_numbers: list[int] = []
    for line_no, raw in enumerate(read_text_lines(path), start=1):
        fields = raw.split()
        if not fields:
            continue
        rows.append(fields)
        line_numbers.append(line_no)
    return rows, line_numbers


def _read_tracking_file(
    path: str | Path, *, n_frames: int | None, missing_score: float, mixed: bool = False
) -> tuple[KittiObjects, np.ndarray, list[int]]:
    """The rows of a tracking file, ``(N,)`` bool: the rows with a score column, and the rows'
    line numbers."""
    p = str(path)
    rows, line_numbers = _tracking_rows(path)
    _, objects = parse_object_rows(
        rows,
        path=p,
        line_numbers=line_numbers,
        leading=("frame", "track_id"),
        missing_score=missing_score,
    )
    if not mixed:
        check_column_counts(rows, path=p, line_numbers=line_numbers)
    ids = parse_id_columns(rows, path=p, line_numbers=line_numbers)
    check_frame_track_ids(ids, objects.type_name, path=p, line_numbers=line_numbers)
    # an inverted image box is refused by parse_object_rows (it would score under iou_2d)
    if n_frames is not None:
        check_integer_column(
            ids[:, 0],
            maximum=n_frames - 1,
            path=p,
            record=line_record(line_numbers),
            field="frame",
            reason=f"frame {{value:g}} beyond the sequence's {n_frames} frames",
        )
    scored = np.array([len(r) > 2 + len(KITTI_OBJECT_FIELDS) for r in rows], dtype=bool)
    return replace(objects, frame=ids[:, 0], track_id=ids[:, 1]), scored, line_numbers


#: Reasons of :func:`parse_id_columns` for a value that is not an integer, per column.
_ID_REASONS = {
    "frame": "frame must be a non-negative integer, got {value}",
    "track_id": "track_id must be an integer >= 0 (-1 only for DontCare), got {value}",
}
_INT64 = np.iinfo(np.int64)
#: Integer-valued float spellings (``3.0``, ``1e2``) are read up to here, where a float still
#: holds every integer exactly; beyond it only digits give the exact value.
_EXACT_FLOAT_INTEGERS = 2**53


def parse_id_columns(
    rows: Sequence[Sequence[str]], *, path: str, line_numbers: Sequence[int]
) -> np.ndarray:
    """``(N, 2)`` int64 ``frame, track_id`` of split tracking rows, read exactly from the text:
    C-spelled integers (:func:`~drivestack.core.numbers.parse_int`), so ids above 2^53 stay
    distinct; an integer-valued float spelling (``3.0``, ``1e2``, as the devkit's
    ``int(float(...))`` reads) is accepted up to 2^53.

    Raises:
        DataError: naming the file, line and field of a value that is not a number, not an
            integer (``1.5``), an integer float spelling beyond 2^53 (write it in digits) or
            a value that does not fit int64.
    """
    out = np.zeros((len(rows), 2), dtype=np.int64)
    for i, (row, line_no) in enumerate(zip(rows, line_numbers, strict=True)):
        for j, field in enumerate(("frame", "track_id")):
            token = row[j]
            try:
                value = _id_value(token, field)
            except ValueError as exc:
                raise DataError(
                    str(exc), path=path, record=f"line {line_no}", field=field
                ) from None
            if not _INT64.min <= value <= _INT64.max:
                raise DataError(
                    f"{field} {token} does not fit a 64-bit integer ({_INT64.min}..{_INT64.max})",
                    path=path,
                    record=f"line {line_no}",
                    field=field,
                )
            out[i, j] = value
    return out


def _id_value(token: str, field: str) -> int:
    """The exact integer of one ``frame`` / ``track_id`` token; ``ValueError`` saying why not."""
    try:
        return parse_int(token)
    except ValueError:
        pass
    number = parse_float(token)  # (a non-number is refused by parse_object_rows before)
    if not math.isfinite(number) or number != round(number):
        raise ValueError(_ID_REASONS[field].format(value=token))
    if abs(number) > _EXACT_FLOAT_INTEGERS:
        raise ValueError(
            f"{field} {token} is beyond 2^53, where a float no longer holds every integer: "
            "write it in digits"
        )
    return int(number)


def check_box3d_sizes(objects: KittiObjects, *, path: str, line_numbers: Sequence[int]) -> None:
    """``DataError`` naming the line and field (``h``, ``w`` or ``l``) of the first row (not
    DontCare) whose 3D size is not positive: such a row has no box to score under 3D IoU.
    When every row's 3D fields look empty (the devkit's "not given" ``-1 -1 -1`` and
    ``-1000 -1000 -1000``, or all zero: a 2D-only file) the message suggests
    ``--similarity iou_2d``."""
    keep = np.flatnonzero(~is_dont_care(objects.type_name))
    hwl = objects.hwl_m[keep]
    bad = np.flatnonzero(np.any(hwl <= 0, axis=1))
    if not bad.size:
        return
    row = int(bad[0])
    col = int(np.argmax(hwl[row] <= 0))
    box3d = np.concatenate([hwl, objects.location_m[keep]], axis=1)
    not_given = np.all(box3d == np.asarray([*NO_BOX3D_HWL, *NO_BOX3D_LOCATION]), axis=1)
    empty = bool(np.all(not_given | np.all(box3d == 0, axis=1)))
    hint = (
        ": the file's 3D fields look empty (a 2D-only result file?); score image boxes with "
        "--similarity iou_2d"
        if empty
        else ""
    )
    raise DataError(
        f"3D box size {' '.join(f'{v:g}' for v in hwl[row])} (h w l) is not positive: no box "
        f"to score under 3D IoU{hint}",
        path=path,
        record=f"line {line_numbers[int(keep[row])]}",
        field="hwl"[col],
    )


def check_frame_column(frames: np.ndarray, *, path: str, line_numbers: list[int]) -> None:
    """``DataError`` naming the line of the first ``(N,)`` frame that is not an integer >= 0."""
    check_integer_column(
        frames,
        0,
        path=path,
        record=line_record(line_numbers),
        field="frame",
        reason="frame must be a non-negative integer, got {value:g}",
    )


#: KITTI types whose track ids the devkit reads together (it evaluates Car with Van and
#: Pedestrian with Person_sitting): a track id may repeat across groups in one frame (per-class
#: trackers each counting from 1 into one file), not within one. Other types group alone.
ID_GROUPS = {"van": "car", "person_sitting": "pedestrian"}


def check_frame_track_ids(
    ids: np.ndarray, type_name: np.ndarray, *, path: str, line_numbers: list[int]
) -> None:
    """``DataError`` naming the line (both lines for a duplicate) and field for the first bad
    ``(N, 2)`` ``frame, track_id`` pair: frame not an integer >= 0, track id not an integer
    >= 0 (-1 only for DontCare), or a ``(frame, track_id)`` of two rows that are not DontCare
    and whose types the devkit reads together (:data:`ID_GROUPS`: Car and Van, Pedestrian and
    Person_sitting; each other type alone)."""
    frames, tids = ids[:, 0], ids[:, 1]
    check_frame_column(frames, path=path, line_numbers=line_numbers)
    dont_care = is_dont_care(type_name)
    check_integer_column(
        tids,
        np.where(dont_care, -1, 0),
        path=path,
        record=line_record(line_numbers),
        field="track_id",
        reason="track_id must be an integer >= 0 (-1 only for DontCare), got {value:g}",
    )
    tracked = np.flatnonzero(tids >= 0)
    lower = np.char.lower(np.asarray(type_name).astype(str))
    _, group = np.unique([ID_GROUPS.get(t, t) for t in lower], return_inverse=True)
    keyed = np.column_stack([ids, group.reshape(-1)])  # (frame, track_id, id group)
    _, first, counts = np.unique(keyed[tracked], axis=0, return_index=True, return_counts=True)
    if np.any(counts > 1):
        key = keyed[tracked[first[np.argmax(counts > 1)]]]
        same = tracked[np.all(keyed[tracked] == key, axis=1)]
        raise DataError(
            f"frame {int(key[0])} track_id {int(key[1])} given twice "
            f"(lines {line_numbers[same[0]]} and {line_numbers[same[1]]})",
            path=path,
            record=f"line {line_numbers[same[1]]}",
            field="track_id",
        )


#: AB3DMOT detection columns (KITTI's own names where they are KITTI's columns).
_DET_FIELDS = (
    "frame",
    "type_id",
    *KITTI_OBJECT_FIELDS[4:8],  # x1 y1 x2 y2
    "score",
    *KITTI_OBJECT_FIELDS[8:14],  # h w l x y z
    "rot_y",
    "alpha",
)


def read_ab3dmot_detections(path: str | Path) -> KittiObjects:
    """Read an AB3DMOT-format detection file (15 comma-separated columns).

    A missing file is an error; an empty file gives zero detections. ``track_id`` is -1,
    truncation/occlusion are -1 (unknown). ``DataError`` naming the line and field for a
    wrong column count, a non-number or NaN/inf, a frame that is not an integer >= 0, a
    ``type_id`` that is not 1, 2 or 3, or a negative ``h``, ``w`` or ``l``.
    """
    p = str(path)
    rows: list[list[str]] = []
    line_numbers: list[int] = []
    for line_no, raw in enumerate(read_text_lines(path), start=1):
        if not raw.strip():
            continue
        fields = [v.strip() for v in raw.split(",")]
        if len(fields) != 15:
            raise DataError(
                f"expected 15 comma-separated columns, got {len(fields)}",
                path=p,
                record=f"line {line_no}",
            )
        rows.append(fields)
        line_numbers.append(line_no)
    if not rows:
        return KittiObjects(path=p)
    arr = parse_numbers(rows, _DET_FIELDS, path=p, line_numbers=line_numbers)
    check_finite(arr, _DET_FIELDS, path=p, record=line_record(line_numbers))
    check_frame_column(arr[:, 0], path=p, line_numbers=line_numbers)
    type_ids = arr[:, 1].astype(np.int64)
    unknown = ~np.isin(arr[:, 1], list(AB3DMOT_TYPE_IDS))
    if np.any(unknown):
        bad = int(np.argwhere(unknown)[0, 0])
        raise DataError(
            f"unknown type_id {arr[bad, 1]:g} (1 Pedestrian, 2 Car, 3 Cyclist)",
            path=p,
            record=f"line {line_numbers[bad]}",
            field="type_id",
        )
    check_not_negative(  # (a box of negative size was refused deep in Boxes3D)
        arr[:, 7:10],
        _DET_FIELDS[7:10],
        path=p,
        record=line_record(line_numbers),
        reason="box dimension {value:g} m is negative",
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
        path=p,
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
    for line_no, raw in enumerate(read_text_lines(p), start=1):
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

    Raises:
        DataError: naming the file and line for a line without 4 columns, a non-integer, a
            negative ``first_frame``, an ``end_frame`` before ``first_frame`` or a sequence
            listed twice (naming both lines).
    """
    p = Path(path)
    entries: list[SeqmapEntry] = []
    line_numbers: list[int] = []
    for line_no, fields in _fixed_width_rows(p, 4, "columns"):
        entries.append(_seqmap_entry(fields, path=str(p), line_no=line_no))
        line_numbers.append(line_no)
    repeat = first_repeat(e.name for e in entries)
    if repeat is not None:
        a, b = repeat
        raise DataError(
            f"sequence {entries[b].name} listed twice "
            f"(lines {line_numbers[a]} and {line_numbers[b]})",
            path=str(p),
            record=f"line {line_numbers[b]}",
            field="sequence",
        )
    return entries


#: The four columns of a seqmap line (the second is unused and not read).
_SEQMAP_FIELDS = ("sequence", "empty", "first_frame", "end_frame")


def _seqmap_entry(fields: list[str], *, path: str, line_no: int) -> SeqmapEntry:
    """One seqmap line's entry; ``DataError`` naming the line (and field) when it is not
    ``NNNN empty first_frame end_frame`` with ``0 <= first_frame <= end_frame``."""
    numbers: dict[str, int] = {}
    for value, field in zip(fields, _SEQMAP_FIELDS, strict=True):
        if field == "empty":
            continue
        try:
            numbers[field] = parse_int(value)
        except ValueError:
            raise DataError(
                f"not an integer in {' '.join(fields)!r}",
                path=path,
                record=f"line {line_no}",
                field=field,
            ) from None
    first, end = numbers["first_frame"], numbers["end_frame"]
    name = f"{numbers['sequence']:04d}"
    if first < 0 or end < first:
        field = "first_frame" if first < 0 else "end_frame"
        raise DataError(
            f"frames {first}..{end}: need 0 <= first_frame <= end_frame",
            path=path,
            record=f"line {line_no}",
            field=field,
        )
    return SeqmapEntry(name=name, first_frame=first, n_frames=end - first)


#: The KITTI tracking splits: AB3DMOT's val seqmap, all 21 labelled sequences, and the 10
#: training sequences not in val (the split every tracking setting here is tuned on).
KITTI_TRACKING_SPLITS = ("train", "val", "training")


def read_split_seqmap(kitti_root: str | Path, split: str) -> list[SeqmapEntry]:
    """Seqmap entries of ``split`` (see :data:`KITTI_TRACKING_SPLITS`) under ``kitti_root/seqmaps``,
    reading only the seqmaps the split needs: ``val`` its own, ``training`` its own, ``train``
    both (it is the training seqmap less the val one).

    Raises:
        ValueError: an unknown split name.
        DataError: a missing or malformed seqmap, naming it (for ``train``, saying why both
            are needed).
    """
    if split not in KITTI_TRACKING_SPLITS:
        raise ValueError(f"unknown KITTI tracking split {split!r}; known: {KITTI_TRACKING_SPLITS}")
    seqmaps = Path(kitti_root) / "seqmaps"
    if split != "train":
        return read_seqmap(seqmaps / f"evaluate_tracking.seqmap.{split}")
    try:
        training = read_seqmap(seqmaps / "evaluate_tracking.seqmap.training")
        val = read_seqmap(seqmaps / "evaluate_tracking.seqmap.val")
    except DataError as exc:
        raise DataError(
            f"{exc.reason} (the train split is the training seqmap's sequences less the val "
            "seqmap's: it needs both)",
            path=exc.path,
            record=exc.record,
            field=exc.field,
        ) from None
    val_names = {e.name for e in val}
    return [e for e in training if e.name not in val_names]


#: The folder under ``detections/`` holding AB3DMOT's PointRCNN detections.
AB3DMOT_FOLDER = "ab3dmot_pointrcnn"


def ab3dmot_detection_file(
    kitti_root: str | Path, cls: str, sequence: str, folder: str = AB3DMOT_FOLDER
) -> Path:
    """``<kitti_root>/detections/<folder>/pointrcnn_<cls>_val/<sequence>.txt``: AB3DMOT's
    per-class detection file of a sequence (its ``_val`` folders hold all 21 training
    sequences)."""
    return Path(kitti_root) / "detections" / folder / f"pointrcnn_{cls}_val" / f"{sequence}.txt"


def read_class_detections(
    kitti_root: str | Path,
    cls: str,
    sequence: str,
    n_frames: int,
    folder: str = AB3DMOT_FOLDER,
) -> KittiObjects:
    """The ``cls`` rows of a sequence's AB3DMOT detection file (:func:`ab3dmot_detection_file`,
    read by :func:`read_ab3dmot_detections`) in frames ``0 .. n_frames - 1``. Rows of another
    class (a Pedestrian ``type_id`` in the Car file) and rows past the sequence's last frame (a
    detector numbering frames from 1, another split's file) are left out with one
    ``UserWarning`` each naming the file, the count and the first line."""
    path = ab3dmot_detection_file(kitti_root, cls, sequence, folder)
    objects = read_ab3dmot_detections(path)
    if not len(objects):
        return objects
    other = np.char.lower(objects.type_name.astype(str)) != cls.lower()
    late = objects.frame >= n_frames
    for rows, what in (
        (other, f"of another class than {cls}"),
        (late & ~other, f"past the sequence's last frame {n_frames - 1}"),
    ):
        if np.any(rows):
            first = int(np.flatnonzero(rows)[0])
            warnings.warn(
                f"{path}: {int(rows.sum())} row(s) {what}, left out (the first: a "
                f"{objects.type_name[first]} in frame {int(objects.frame[first])}, data row "
                f"{first + 1})",
                UserWarning,
                stacklevel=2,
            )
    keep = ~(other | late)
    return objects if bool(keep.all()) else objects.select(np.flatnonzero(keep))


#: Field names of the 12 numbers of an ego-pose line (row-major ``3 x 4`` ``[R|t]``).
EGO_POSE_FIELDS = tuple(f"pose[{r},{c}]" for r in range(3) for c in range(4))


def read_ego_poses(path: str | Path) -> np.ndarray:
    """Read per-frame camera->world poses: ``(F, 4, 4)`` float64 (one 3x4 row-major per line).

    The poses are used as one array (ego-motion compensation, stitching, the log writer), so
    one bad line makes the whole file unusable rather than leaving a NaN pose for its frame.

    Raises:
        DataError: naming the file, the line and the field for a line without 12 numbers, a
            non-numeric value, a NaN / infinite value or a rotation block that is not
            orthonormal to 1e-4 (:func:`~drivestack.ingest._rigid.rigid_from_matrix`; the
            shared ORB-SLAM3 poses are within 1e-6); naming the line of a blank line before a
            pose (line ``i + 1`` is frame ``i``).
    """
    p = Path(path)
    rows, line_numbers = [], []
    for line_no, fields in _fixed_width_rows(p, 12, "numbers"):
        rows.append(
            parse_numbers([fields], EGO_POSE_FIELDS, path=str(p), line_numbers=[line_no])[0]
        )
        line_numbers.append(line_no)
    values = np.array(rows, dtype=np.float64).reshape(-1, 12)
    check_finite(values, EGO_POSE_FIELDS, path=str(p), record=line_record(line_numbers))
    check_line_per_frame(line_numbers, path=str(p))
    records = [f"line {n}" for n in line_numbers]  # the rotations are used as read (a check):
    rigid_from_matrix(values.reshape(-1, 3, 4), path=str(p), field="pose", batch_records=records)
    poses = np.tile(np.eye(4), (len(rows), 1, 1))
    poses[:, :3, :] = values.reshape(-1, 3, 4)
    return poses


# -- frames -------------------------------------------------------------------------------
#: KITTI tracking frames are 100 ms apart: frame ``i`` is at ``i * 100 ms`` (the time the
#: replay logs and the detection evaluation use).
KITTI_TRACKING_FRAME_PERIOD_NS = 100_000_000

#: Scan layouts under ``<root>/training``, tried in this order: KITTI's own
#: ``velodyne/<seq>/<frame>.bin`` and the shared data's xz-compressed (or plain) PCD copies
#: ``velodyne_pcd_xz/<seq>/<frame>.pcd.xz`` (``velodyne_pcd/<seq>/<frame>.pcd``).
KITTI_TRACKING_SCAN_LAYOUTS = (
    ("velodyne", ".bin"),
    ("velodyne_pcd_xz", ".pcd.xz"),
    ("velodyne_pcd", ".pcd"),
)

#: ``training/<folder>/<seq>.txt`` of the estimated (ORB-SLAM3 stereo) ego poses.
KITTI_TRACKING_POSE_FOLDER = "ego_poses_orbslam3_stereo"


def sequence_name(sequence: int | str) -> str:
    """``"0007"`` for ``7``, ``"7"`` or ``"0007"``; any other string (also one of non-ASCII
    digits such as ``"\uff17"``) is kept as given."""
    if isinstance(sequence, str) and not is_digits(sequence):
        return sequence
    return f"{int(sequence):04d}"


def _scan_files(root: Path, sequence: str) -> dict[int, Path]:
    """Frame index -> scan file of ``sequence`` over every layout (the first layout wins)."""
    found: dict[int, Path] = {}
    for folder, ext in reversed(KITTI_TRACKING_SCAN_LAYOUTS):
        for path in (root / "training" / folder / sequence).glob(f"*{ext}"):
            stem = path.name[: -len(ext)]
            if is_digits(stem):
                found[int(stem)] = path
    return found


def list_kitti_tracking_frames(root: str | Path, sequence: int | str) -> list[int]:
    """Sorted frame indices of ``sequence`` with a scan in any of
    :data:`KITTI_TRACKING_SCAN_LAYOUTS` (empty when there is none)."""
    return sorted(_scan_files(Path(root), sequence_name(sequence)))


def format_frame_ranges(frames: list[int]) -> str:
    """``"0-3, 7, 9-10"`` for sorted ``frames`` ``[0, 1, 2, 3, 7, 9, 10]``."""
    runs: list[list[int]] = []
    for f in frames:
        if runs and f == runs[-1][1] + 1:
            runs[-1][1] = f
        else:
            runs.append([f, f])
    return ", ".join(str(a) if a == b else f"{a}-{b}" for a, b in runs)


def kitti_tracking_scan_path(root: str | Path, sequence: int | str, frame_index: int) -> Path:
    """The scan file of one frame (see :data:`KITTI_TRACKING_SCAN_LAYOUTS`).

    Raises:
        DataError: no scan of that frame, naming the path looked for and the frames the
            sequence has scans of; or no scan of the sequence at all, naming the folders
            looked in and the sequences that have scans.
    """
    base, seq = Path(root) / "training", sequence_name(sequence)
    if frame_index >= 0:  # the file itself, in layout order; the folders are listed only to
        for layout, ext in KITTI_TRACKING_SCAN_LAYOUTS:  # say what is there when it is not
            path = base / layout / seq / f"{int(frame_index):06d}{ext}"
            if path.is_file():
                return path
    scans = _scan_files(Path(root), seq)
    if scans:
        folder = scans[min(scans)].parent
        ext = dict(KITTI_TRACKING_SCAN_LAYOUTS)[folder.parent.name]
        raise DataError(
            f"no scan of frame {frame_index}; sequence {seq} has scans of frames "
            f"{format_frame_ranges(sorted(scans))} ({len(scans)} scans)",
            path=str(folder / f"{int(frame_index):06d}{ext}" if frame_index >= 0 else folder),
            record=f"sequence {seq} frame {frame_index}",
        )
    folders = [base / f for f, _ in KITTI_TRACKING_SCAN_LAYOUTS]
    having = sorted({p.name for f in folders if f.is_dir() for p in f.iterdir() if p.is_dir()})
    raise DataError(
        f"no scans of sequence {seq} in {', '.join(f'{f.name}/{seq}/' for f in folders)}; "
        f"sequences with scans: {', '.join(having) if having else 'none'}",
        path=str(base),
        record=f"sequence {seq}",
    )


def read_kitti_tracking_scan(path: str | Path, *, timestamp_ns: int = 0) -> PointCloud:
    """A ``.bin`` or ``.pcd[.xz]`` KITTI scan in the ``lidar`` frame (float32 ``x y z``,
    float32 ``intensity`` = reflectance in [0, 1])."""
    if str(path).endswith(".bin"):
        return read_velodyne_bin(path, timestamp_ns=timestamp_ns)
    return read_velodyne_pcd(path, timestamp_ns=timestamp_ns)


def world_from_lidar_poses(camera_poses: np.ndarray, calib: KittiCalib) -> list[SE3]:
    """``(F, 4, 4)`` camera -> world poses (:func:`read_ego_poses`) -> per-frame LiDAR -> z-up
    world transforms (world = the z-up camera frame of frame 0; rotations orthonormalised)."""
    cam_from_lidar = calib.camera_rect_from_lidar()
    rotation = nearest_rotation(camera_poses[:, :3, :3])
    return [
        ZUP_FROM_CAMERA_RECT @ SE3(rot, pose[:3, 3]) @ cam_from_lidar
        for rot, pose in zip(rotation, camera_poses, strict=True)
    ]


def world_from_lidar_pose(camera_pose: np.ndarray, calib: KittiCalib) -> SE3:
    """One frame's :func:`world_from_lidar_poses` from its ``(4, 4)`` camera -> world pose."""
    return world_from_lidar_poses(np.asarray(camera_pose, dtype=np.float64)[None], calib)[0]


class KittiTrackingSequence:
    """One KITTI tracking sequence under ``root/training``, opened once and read frame by
    frame: its calibration, ``label_02`` rows (grouped by frame) and ego poses are each parsed
    at most once, on first use, and kept (a failed read is not kept: it raises again).

    ``frame(i)`` is :func:`read_kitti_tracking_frame` ``(root, sequence, i)``, the same frame
    and the same errors, raised at the same point (a missing scan before a missing calibration);
    walking a sequence through one object parses each per-sequence file once instead of once
    per frame::

        seq = KittiTrackingSequence(root, "0000")
        for frame in seq.frames(load_images=False):  # frames seq.frame_indices(), in order
            ...

    Attributes:
        root: the KITTI tracking folder (holding ``training/``).
        name: the sequence name (``"0000"``, :func:`sequence_name`).
    """

    def __init__(self, root: str | Path, sequence: int | str) -> None:
        self.root = Path(root)
        self.name = sequence_name(sequence)

    def __repr__(self) -> str:
        return f"KittiTrackingSequence({str(self.root)!r}, {self.name!r})"

    # -- files ---------------------------------------------------------------------------
    @property
    def base(self) -> Path:
        """``root/training``."""
        return self.root / "training"

    @property
    def calib_path(self) -> Path:
        """``training/calib/<seq>.txt`` (required by :meth:`frame`)."""
        return self.base / "calib" / f"{self.name}.txt"

    @property
    def label_path(self) -> Path:
        """``training/label_02/<seq>.txt`` (optional: frames have ``labels=None`` without it)."""
        return self.base / "label_02" / f"{self.name}.txt"

    @property
    def pose_path(self) -> Path:
        """``training/<KITTI_TRACKING_POSE_FOLDER>/<seq>.txt`` (optional: frames have
        ``world_from_ego=None`` without it)."""
        return self.base / KITTI_TRACKING_POSE_FOLDER / f"{self.name}.txt"

    def frame_indices(self) -> list[int]:
        """Sorted frame indices with a scan (:func:`list_kitti_tracking_frames`; empty when
        there is none). Listed anew on each call."""
        return list_kitti_tracking_frames(self.root, self.name)

    # -- per-sequence contents, read on first use -----------------------------------------
    @cached_property
    def calib(self) -> KittiCalib:
        """The sequence's calibration (``DataError`` naming the file when missing/malformed)."""
        return read_kitti_calib(self.calib_path)

    @property
    def has_labels(self) -> bool:
        """Whether the sequence has a ``label_02`` file."""
        return self.label_path.exists()

    @cached_property
    def label_rows(self) -> KittiObjects:
        """All ``N`` rows of the ``label_02`` file (:func:`read_tracking_labels`, DontCare
        included); ``DataError`` naming the file (and line, field) when it is missing or
        malformed (see :attr:`has_labels`)."""
        return read_tracking_labels(self.label_path)

    @cached_property
    def _row_indices_by_frame(self) -> dict[int, np.ndarray]:
        """Frame index -> ``(n,)`` int row indices of :attr:`label_rows`, in file order."""
        frames = self.label_rows.frame
        order = np.argsort(frames, kind="stable")  # stable: file order within a frame
        keys, starts = np.unique(frames[order], return_index=True)
        parts = np.split(order, starts[1:]) if len(order) else []
        return {int(k): part for k, part in zip(keys, parts, strict=True)}

    def frame_rows(self, frame_index: int) -> KittiObjects:
        """The ``label_02`` rows of one frame in file order (DontCare included; zero rows
        when the file has none of the frame); ``DataError`` as :attr:`label_rows`."""
        empty = np.zeros(0, dtype=np.intp)
        index = _frame_index(frame_index)
        return self.label_rows.select(self._row_indices_by_frame.get(index, empty))

    def frame_labels(self, frame_index: int) -> tuple[Boxes3D | None, tuple[str, ...] | None]:
        """``(labels, label_ids)`` of one frame as :func:`read_kitti_tracking_frame` gives them:
        ``M`` LiDAR-frame boxes (DontCare dropped) at ``frame_index * 100 ms`` and their
        ``str(track_id)`` s (:func:`tracking_label_ids`); ``(None, None)`` without a
        ``label_02`` file. Reads the calibration too."""
        calib = self.calib
        if not self.has_labels:
            return None, None
        index = _frame_index(frame_index)
        objs = self.frame_rows(index)
        ts = index * KITTI_TRACKING_FRAME_PERIOD_NS
        return objects_to_boxes(objs, calib, timestamp_ns=ts), tracking_label_ids(objs)

    @cached_property
    def camera_poses(self) -> np.ndarray | None:
        """``(F, 4, 4)`` float64 camera -> world poses of frames ``0..F-1``
        (:func:`read_ego_poses`), or None when the sequence has no ego-pose file."""
        if not self.pose_path.exists():
            return None
        return read_ego_poses(self.pose_path)

    def world_from_lidar(self, frame_index: int) -> SE3 | None:
        """The frame's LiDAR -> z-up world pose (:func:`world_from_lidar_pose` of its camera
        pose), None when there is no ego-pose file; ``DataError`` naming the file and the
        frame's line when the file has no line for the frame."""
        index = _frame_index(frame_index)
        poses = self.camera_poses
        if poses is None:
            return None
        if not 0 <= index < len(poses):
            held = f"poses of frames 0-{len(poses) - 1}" if len(poses) else "no pose"
            raise DataError(
                f"no ego pose for frame {index}: the file has {held}",
                path=str(self.pose_path),
                record=f"line {index + 1}",
            )
        return world_from_lidar_pose(poses[index], self.calib)

    # -- frames ----------------------------------------------------------------------------
    def frame(self, frame_index: int, *, load_images: bool = True) -> SensorFrame:
        """Frame ``frame_index`` of the sequence: see :func:`read_kitti_tracking_frame`."""
        index = _frame_index(frame_index)
        scan = kitti_tracking_scan_path(self.root, self.name, index)
        ts = index * KITTI_TRACKING_FRAME_PERIOD_NS
        calib = self.calib
        labels, label_ids = self.frame_labels(index)
        image_path = self.base / "image_02" / self.name / f"{index:06d}.png"
        image = read_kitti_camera(image_path, calib, timestamp_ns=ts) if load_images else None
        cameras, camera_mounts = camera_entries(image)
        return SensorFrame(
            timestamp_ns=ts,
            lidars={LIDAR: read_kitti_tracking_scan(scan, timestamp_ns=ts)},
            cameras=cameras,
            ego_from_sensor={LIDAR: SE3.identity(), **camera_mounts},
            world_from_ego=self.world_from_lidar(index),
            labels=labels,
            source=f"{self.base}:{self.name}:{index:06d}",
            label_ids=label_ids,
        )

    def frames(
        self, indices: Iterable[int] | None = None, *, load_images: bool = True
    ) -> Iterator[SensorFrame]:
        """:meth:`frame` of each frame index in ``indices`` (default: :meth:`frame_indices`),
        in order, read one at a time."""
        for index in self.frame_indices() if indices is None else indices:
            yield self.frame(index, load_images=load_images)


def read_kitti_tracking_frame(
    root: str | Path, sequence: int | str, frame_index: int, *, load_images: bool = True
) -> SensorFrame:
    """Frame ``frame_index`` of a KITTI tracking ``sequence`` (``"0000"`` or ``0``) under
    ``root/training``, at ``frame_index * 100 ms``.

    - the scan (:func:`kitti_tracking_scan_path`: ``velodyne/<seq>/<frame>.bin`` or
      ``velodyne_pcd_xz/<seq>/<frame>.pcd.xz``) as ``lidars["lidar"]``;
      ``ego_from_sensor["lidar"]`` is the identity (the ego frame is the Velodyne frame);
    - the frame's ``label_02/<seq>.txt`` rows (DontCare dropped) as LiDAR-frame ``labels``;
      ``None`` when there is no label file, 0 boxes when the file has no row of the frame;
      their ``track_id`` s as ``label_ids`` (``str(track_id)``, :func:`tracking_label_ids`);
    - ``world_from_ego`` (= world from LiDAR) from
      ``ego_poses_orbslam3_stereo/<seq>.txt`` when that file exists (estimated poses; world =
      the z-up camera frame of frame 0, :func:`world_from_lidar_pose`);
    - ``image_02/<seq>/<frame>.png``, when present and ``load_images``, as
      ``cameras["image_02"]`` (see :func:`~drivestack.ingest.kitti_object.read_kitti_camera`);
    - the calibration ``calib/<seq>.txt`` is required.

    This reads the sequence's label, calibration and pose files for the one frame; to walk a
    sequence, open it once with :class:`KittiTrackingSequence` (same frames, same errors).

    Raises:
        TypeError: ``frame_index`` is not an integer (``74.9``, ``True``, ``"74"``: not read
            as frame 74 or 1).
        DataError: a missing scan, naming the path looked for and the frames (or sequences)
            that have scans; a missing or malformed calibration, label or pose file, or a pose
            file without a line for the frame (naming the file and line).
    """
    return KittiTrackingSequence(root, sequence).frame(frame_index, load_images=load_images)


def _frame_index(frame_index: object) -> int:
    """``frame_index`` as an ``int`` when it is an integer (``int`` or NumPy integer); else a
    ``TypeError`` naming it (a float, a bool or a string is no frame index:
    :func:`~drivestack.structures._checks.check_number`, as the odometry and PandaSet
    readers check theirs)."""
    check_number("frame_index", frame_index, integer=True)
    return int(frame_index)  # type: ignore[call-overload]


def tracking_label_ids(objects: KittiObjects) -> tuple[str, ...]:
    """``str(track_id)`` of each row :func:`~drivestack.ingest.kitti_format.objects_to_boxes`
    turns into a box (DontCare rows dropped), in its order: a frame's ``label_ids``."""
    keep = ~is_dont_care(objects.type_name)
    return tuple(str(int(t)) for t in objects.track_id[keep])


# -- writing --------------------------------------------------------------------------------
def write_tracking_results(path: str | Path, objects: KittiObjects) -> None:
    """Write rows in the KITTI tracking result format, frame-sorted: 18 columns with the
    score, or the 17 label columns when every score is NaN (labels read by
    :func:`read_tracking_labels` write back as labels).

    Numbers keep 4 decimals (2D box) or 6 unless that would round them: then they are
    written exactly (:func:`~drivestack.ingest.kitti_format.format_number`).

    Raises ``ValueError`` naming the row (0-based in ``objects``) and field, before anything
    is written, for a row :func:`read_tracking_labels` would reject: frame or track id -1
    (:func:`~drivestack.ingest.kitti_format.boxes_to_objects` leaves them for the caller),
    a duplicate ``(frame, track_id)``, NaN/inf, an unknown type, a NaN score among scored rows.
    """
    order = np.lexsort((objects.track_id, objects.frame))
    o = objects.select(order)
    no_score = bool(len(o)) and bool(np.all(np.isnan(o.score)))
    lines = []
    for i in range(len(o)):
        box2d = [format_number(v, 4) for v in o.box2d_xyxy_px[i]]
        box3d = [format_number(v, 6) for v in (*o.hwl_m[i], *o.location_m[i])]
        fields = [
            f"{o.frame[i]} {o.track_id[i]} {o.type_name[i]} {o.truncation[i]:g} {o.occlusion[i]}",
            format_number(o.alpha_rad[i], 6),
            *box2d,
            *box3d,
            format_number(o.rotation_y_rad[i], 6),
        ]
        if not no_score:
            fields.append(format_number(o.score[i], 6))
        lines.append(" ".join(fields))
    _check_writable(o, lines, order)
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text("\n".join(lines) + ("\n" if lines else ""))


def _check_writable(o: KittiObjects, lines: list[str], order: np.ndarray) -> None:
    """``ValueError`` naming the row of the caller's objects (``o`` is them reordered by
    ``order``) and the field of the first line the tracking reader would reject."""
    rows = [int(r) for r in order]
    check_rows_writable(o, lines, leading=("frame", "track_id"), row_numbers=rows)
    ids = np.stack([o.frame, o.track_id], axis=1)  # (written as digits: read back exactly)
    try:
        check_frame_track_ids(ids, o.type_name, path="", line_numbers=rows)
    except DataError as exc:
        row = str(exc.record).removeprefix("line ")
        reason = exc.reason.replace("(lines", "(rows")
        raise ValueError(f"row {row}: field {exc.field}: {reason}") from None
