"""Replay a camera detector's 2D boxes from files (RRC detections as DeepFusionMOT ships them).

File format (one file per sequence and class, e.g. ``<root>/Car/0001.txt``): comma-separated
``frame, x1, y1, x2, y2, score`` per line, image_02 pixel coordinates. The published RRC boxes
overhang the image by up to ~18 px (pedestrians at the bottom edge); boxes overhanging by at most
``max_outside_px`` are clipped to the image, boxes beyond that (or entirely outside) are errors
naming the file and line: they mean a wrong file, a wrong image size or a broken export.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from drivestack.core.errors import DataError
from drivestack.core.numbers import parse_float
from drivestack.structures._checks import check_number
from drivestack.structures.camera import CameraImage
from drivestack.structures.detections_2d import Detections2D
from drivestack.structures.labels import ObjectClass

KITTI_FRAME_PERIOD_NS = 100_000_000  # 10 Hz
_COLUMNS = ("frame", "x1", "y1", "x2", "y2", "score")
#: the largest frame number read (2**53: every integer up to it is exact in float64)
_MAX_FRAME = 2**53


@dataclass(frozen=True)
class DetectionRows:
    """The rows of one 2D detection file: ``frame (N,)`` int64, ``box_xyxy_px (N, 4)``,
    ``score (N,)``, ``line (N,)`` int64 source line numbers, ``label`` (one class per file)."""

    frame: np.ndarray
    box_xyxy_px: np.ndarray
    score: np.ndarray
    line: np.ndarray
    label: int
    path: str


def read_2d_detections(
    path: str | Path, label: int, *, n_frames: int | None = None
) -> DetectionRows:
    """Read a ``frame, x1, y1, x2, y2, score`` file; a missing or empty file gives 0 rows
    (the published RRC folders hold a file per sequence, empty without detections: a caller
    that must tell "no detections" from "no file" checks the files first, as the fused
    KITTI evaluation does with
    :func:`~drivestack.perception.fusion.kitti_eval.check_camera_files`).

    ``n_frames``: the sequence's frame count, when known: a row of frame ``n_frames`` or later
    (a file of another, longer sequence) is an error.

    Raises:
        DataError: a row with the wrong column count, a non-numeric or non-finite value, a
            negative or fractional frame, a frame past ``n_frames - 1``, or ``x2 < x1`` /
            ``y2 < y1`` (naming file, line, field).
    """
    if n_frames is not None:
        check_number("read_2d_detections n_frames", n_frames, integer=True, at_least=0)
    p = Path(path)
    if not p.exists():  # no file: no rows (see the docstring)
        z = np.zeros(0)
        return DetectionRows(
            z.astype(np.int64), np.zeros((0, 4)), z, z.astype(np.int64), label, str(p)
        )
    try:
        data = p.read_bytes()
    except OSError as exc:
        raise DataError(f"cannot read file: {exc.strerror}", path=str(p)) from exc
    try:
        lines = data.decode().splitlines()
    except UnicodeDecodeError as exc:
        line_no = data.count(b"\n", 0, exc.start) + 1
        raise DataError(
            f"not UTF-8 text (byte 0x{data[exc.start]:02x})", path=str(p), record=f"line {line_no}"
        ) from None
    values: list[list[float]] = []
    line_numbers: list[int] = []
    for line_no, raw in enumerate(lines, start=1):
        if not raw.strip():
            continue
        fields = raw.split(",")
        if len(fields) != len(_COLUMNS):
            raise DataError(
                f"expected {len(_COLUMNS)} comma-separated columns ({', '.join(_COLUMNS)}), got {len(fields)}",
                path=str(p),
                record=f"line {line_no}",
            )
        row = []
        for value, name in zip(fields, _COLUMNS, strict=True):
            try:
                number = parse_float(value.strip())
            except ValueError:
                raise DataError(
                    f"not a number: {value.strip()!r}",
                    path=str(p),
                    record=f"line {line_no}",
                    field=name,
                ) from None
            if not np.isfinite(number):
                raise DataError(
                    "NaN or infinite value", path=str(p), record=f"line {line_no}", field=name
                )
            row.append(number)
        if row[0] < 0 or row[0] != round(row[0]) or row[0] > _MAX_FRAME:
            raise DataError(
                f"frame must be a non-negative integer up to {_MAX_FRAME}, got {fields[0].strip()}",
                path=str(p),
                record=f"line {line_no}",
                field="frame",
            )
        if n_frames is not None and row[0] >= n_frames:
            raise DataError(
                f"frame {int(row[0])} is past the sequence's last frame {n_frames - 1} "
                f"({n_frames} frames): a file of another sequence?",
                path=str(p),
                record=f"line {line_no}",
                field="frame",
            )
        if row[3] < row[1] or row[4] < row[2]:
            raise DataError(
                f"box has x2 < x1 or y2 < y1: {row[1:5]}",
                path=str(p),
                record=f"line {line_no}",
                field="x2" if row[3] < row[1] else "y2",
            )
        values.append(row)
        line_numbers.append(line_no)
    arr = np.asarray(values, dtype=np.float64).reshape(-1, len(_COLUMNS))
    return DetectionRows(
        frame=arr[:, 0].astype(np.int64),
        box_xyxy_px=arr[:, 1:5],
        score=arr[:, 5],
        line=np.asarray(line_numbers, dtype=np.int64),
        label=label,
        path=str(p),
    )


def check_boxes_in_image(
    rows: DetectionRows, width_px: int, height_px: int, max_outside_px: float
) -> np.ndarray:
    """Boxes of ``rows`` clipped to ``[0, width] x [0, height]``: ``(N, 4)``.

    Raises:
        DataError: a box reaching more than ``max_outside_px`` past a border, or with no area
            inside the image (naming the file, line and the offending coordinate).
    """
    b = rows.box_xyxy_px
    limits = np.array([0.0, 0.0, width_px, height_px])
    overhang = np.stack(
        [-b[:, 0], -b[:, 1], b[:, 2] - width_px, b[:, 3] - height_px], axis=1
    )  # how far each coordinate lies outside its border
    clipped = np.stack(
        [
            np.clip(b[:, 0], 0, width_px),
            np.clip(b[:, 1], 0, height_px),
            np.clip(b[:, 2], 0, width_px),
            np.clip(b[:, 3], 0, height_px),
        ],
        axis=1,
    ).reshape(-1, 4)
    empty = (clipped[:, 2] <= clipped[:, 0]) | (clipped[:, 3] <= clipped[:, 1])
    bad = np.any(overhang > max_outside_px, axis=1) | empty
    if np.any(bad):
        i = int(np.flatnonzero(bad)[0])
        col = int(np.argmax(overhang[i]))
        if overhang[i, col] <= max_outside_px:  # within the borders, but no area inside
            raise DataError(
                f"box {b[i].round(2).tolist()} has no area inside the {width_px}x{height_px} "
                "px image (zero width or height once clipped)",
                path=rows.path,
                record=f"line {int(rows.line[i])}",
                field="x2" if clipped[i, 2] <= clipped[i, 0] else "y2",
            )
        raise DataError(
            f"box {b[i].round(2).tolist()} lies outside the {width_px}x{height_px} px image "
            f"({_COLUMNS[1 + col]} is {overhang[i, col]:.1f} px past the border {limits[col]:g}; "
            f"at most {max_outside_px:g} px is clipped)",
            path=rows.path,
            record=f"line {int(rows.line[i])}",
            field=_COLUMNS[1 + col],
        )
    return clipped


class ReplayCameraDetector:
    """Camera detector stage that replays 2D boxes from files, one file per class.

    ``step(image)`` returns the rows of frame ``image.timestamp_ns // frame_period_ns`` of
    every class file, clipped to the image (see :func:`check_boxes_in_image`), in the image's
    frame, ordered by class then file order. Pixels are not looked at.

    ``n_frames``: the sequence's frame count, when known (rows past it are refused by
    :func:`read_2d_detections`).

    Raises:
        TypeError, ValueError: ``frame_period_ns`` not a positive integer, ``max_outside_px``
            not a finite number >= 0, or ``min_score`` NaN or +inf (``-inf``, the default,
            keeps every row); see :func:`read_2d_detections` for the files.
    """

    def __init__(
        self,
        files: Sequence[tuple[str | Path, int]],
        *,
        frame_period_ns: int = KITTI_FRAME_PERIOD_NS,
        max_outside_px: float = 32.0,
        min_score: float = -np.inf,
        n_frames: int | None = None,
    ) -> None:
        check_number("ReplayCameraDetector frame_period_ns", frame_period_ns, integer=True, above=0)
        check_number("ReplayCameraDetector max_outside_px", max_outside_px, at_least=0.0)
        if min_score != -np.inf:  # -inf (the default) keeps every row
            check_number("ReplayCameraDetector min_score", min_score)
        self.rows = [read_2d_detections(path, label, n_frames=n_frames) for path, label in files]
        self.frame_period_ns = frame_period_ns
        self.max_outside_px = max_outside_px
        self.min_score = min_score
        self._order = [np.argsort(r.frame, kind="stable") for r in self.rows]
        self._checked: set[tuple[int, int]] = set()

    @classmethod
    def rrc_kitti(
        cls,
        root: str | Path,
        sequence: str,
        classes: Sequence[str] = ("Car", "Pedestrian"),
        *,
        max_outside_px: float = 32.0,
        min_score: float = -np.inf,
        n_frames: int | None = None,
    ) -> ReplayCameraDetector:
        """RRC detections of a KITTI tracking sequence: ``<root>/<Class>/<sequence>.txt``
        (``n_frames``: the sequence's frame count, rows past it refused)."""
        files: list[tuple[str | Path, int]] = [
            (Path(root) / name / f"{sequence}.txt", int(ObjectClass.from_name(name)))
            for name in classes
        ]
        return cls(files, max_outside_px=max_outside_px, min_score=min_score, n_frames=n_frames)

    def reset(self) -> None:
        """Stateless between frames (the files are read once, at construction)."""

    def step(self, image: CameraImage) -> Detections2D:
        cal = image.calibration
        size = (cal.width_px, cal.height_px)
        if size not in self._checked:  # validate every row once per image size
            for r in self.rows:
                check_boxes_in_image(r, *size, self.max_outside_px)
            self._checked.add(size)
        frame = image.timestamp_ns // self.frame_period_ns
        boxes, scores, labels = [], [], []
        for r, order in zip(self.rows, self._order, strict=True):
            lo, hi = np.searchsorted(r.frame[order], [frame, frame + 1])
            idx = order[lo:hi]
            idx = idx[r.score[idx] >= self.min_score]
            sel = DetectionRows(
                r.frame[idx], r.box_xyxy_px[idx], r.score[idx], r.line[idx], r.label, r.path
            )
            boxes.append(check_boxes_in_image(sel, *size, self.max_outside_px))
            scores.append(sel.score)
            labels.append(np.full(idx.shape[0], r.label, dtype=np.int64))
        return Detections2D(
            box_xyxy_px=np.concatenate(boxes) if boxes else np.zeros((0, 4)),
            frame=image.frame,
            timestamp_ns=image.timestamp_ns,
            score=np.concatenate(scores) if scores else np.zeros(0),
            label=np.concatenate(labels) if labels else np.zeros(0, dtype=np.int64),
        )
