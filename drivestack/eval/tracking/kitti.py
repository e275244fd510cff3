"""Evaluate KITTI tracking result files: CLEAR-MOT/sAMOTA (AB3DMOT protocol) and HOTA."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from drivestack.core.errors import DataError
from drivestack.eval.tracking.clear import ClearResult, ClearSummary, evaluate_clear
from drivestack.eval.tracking.hota import HotaResult, compute_hota, hota_inputs
from drivestack.eval.tracking.prepare import prepare_class_data, same_frame_pairs
from drivestack.eval.tracking.protocol import (
    HOTA_MATCH_THRESHOLDS,
    KITTI_CLASS_RULES,
    REMEAN_SHOWN_ABOVE_POINTS,
    WITHOUT_REMEAN_KEY,
    KittiMotProtocol,
    class_rule,
)
from drivestack.ingest.kitti_format import KittiObjects
from drivestack.ingest.kitti_tracking import (
    DEVKIT_MISSING_SCORE,
    SeqmapEntry,
    read_tracking_labels,
    read_tracking_results,
)

#: What the rows without the re-averaging mean (printed under a table that shows one, and in
#: ``eval tracking --help``).
REMEAN_NOTE = (
    "no-remean rows: the same tracks scored without the devkit's per-pass re-averaging of the "
    "track scores (AB3DMOT/KITTI evaluate.py recomputes each track's mean score before every "
    "recall-threshold pass; the float sum moves a mean by an ulp, so a track whose mean equals "
    "a threshold can drop out of its own pass). The headline is the devkit's figure, as "
    "published results are; a difference means that ties between track scores and thresholds "
    "decided passes, and the devkit's figure can move by points when the scores are rounded "
    "or jittered by 1e-9 (metrics.json: classes.<Class>.clear_without_devkit_remean; a row is "
    f"shown when sAMOTA, AMOTA or MOTA differs by more than {REMEAN_SHOWN_ABOVE_POINTS:g} "
    "points)"
)


#: The rates of a class's figures, undefined without a labelled object to score (the counts
#: FP, IDS, FRAG, ... and FAR, precision stay: they are measured on the tracker's rows).
UNDEFINED_WITHOUT_LABELS = frozenset(
    {"sAMOTA", "AMOTA", "AMOTP", "sMOTA", "MOTA", "MOTP", "MODA", "MT", "PT", "ML", "F1",
     "recall", "HOTA", "DetA", "AssA", "LocA", "DetRe", "DetPr", "AssRe", "AssPr"}
)  # fmt: skip


def _without_rates(figures: dict[str, Any], no_labels: bool) -> dict[str, Any]:
    """``figures`` (a summary's or a pass's dict, nested ``best`` / ``per_threshold`` /
    ``per_alpha`` included) with the :data:`UNDEFINED_WITHOUT_LABELS` rates null when
    ``no_labels``; as they are otherwise."""
    if not no_labels:
        return figures
    out: dict[str, Any] = {}
    for key, value in figures.items():
        if key in UNDEFINED_WITHOUT_LABELS:
            out[key] = None
        elif key == "best":
            out[key] = _without_rates(value, no_labels)
        elif key == "per_threshold":
            out[key] = [_without_rates(row, no_labels) for row in value]
        elif key == "per_alpha":
            out[key] = {k: None if k in UNDEFINED_WITHOUT_LABELS else v for k, v in value.items()}
        else:
            out[key] = value
    return out


@dataclass(frozen=True)
class ClassMetrics:
    """One class's figures: ``clear`` as the devkit computes them, ``hota``, and
    ``clear_without_remean`` (None when not computed): the CLEAR figures without the devkit's
    per-pass score re-averaging (:data:`REMEAN_NOTE`)."""

    cls: str
    clear: ClearSummary
    hota: HotaResult
    clear_without_remean: ClearSummary | None = None

    def as_dict(self) -> dict[str, object]:
        """The figures as metrics.json holds them; a class without a labelled object to score
        (``n_gt`` 0) has its rates null (n/a, as the table prints them and the notes say),
        its counts (FP, IDS, ...) as they are."""
        no_labels = self.clear.best.n_gt == 0
        clear = _without_rates(self.clear.as_dict(), no_labels)
        out: dict[str, object] = {
            "class": self.cls,
            "clear": clear,
            "hota": _without_rates(self.hota.as_dict(), no_labels),
        }
        if self.clear_without_remean is not None:  # its summary, without the passes
            without = _without_rates(self.clear_without_remean.as_dict(), no_labels)
            del without["per_threshold"]
            out[WITHOUT_REMEAN_KEY] = without
        return out

    def remean_difference_points(self) -> float:
        """The largest difference (points) of sAMOTA, AMOTA and best-pass MOTA between the
        figures without the devkit's re-averaging and the devkit's; 0 when not computed or
        the class has no labelled object."""
        other = self.clear_without_remean
        if other is None or self.clear.best.n_gt == 0:
            return 0.0
        pairs = (
            (self.clear.sAMOTA, other.sAMOTA),
            (self.clear.AMOTA, other.AMOTA),
            (self.clear.best.MOTA, other.best.MOTA),
        )
        return max(100.0 * abs(a - b) for a, b in pairs)

    @property
    def remean_shown(self) -> bool:
        """Whether the table shows its row without the re-averaging
        (:data:`REMEAN_SHOWN_ABOVE_POINTS`)."""
        return self.remean_difference_points() > REMEAN_SHOWN_ABOVE_POINTS


def class_folder(results_dir: Path, cls: str) -> Path | None:
    """The folder of ``cls`` under ``results_dir``, its name matched in any case (``car/`` for
    Car, as ``--classes`` is); None when there is none.

    Raises:
        DataError: two folders whose names differ only in case (which one holds the class's
            results is not for the evaluator to guess).
    """
    if not results_dir.is_dir():
        return None
    found = sorted(p for p in results_dir.iterdir() if p.name.lower() == cls.lower() and p.is_dir())
    if len(found) > 1:
        raise DataError(
            f"folders {', '.join(p.name + '/' for p in found)} differ only in case: which one "
            f"holds the {cls} results? (class folders are matched in any case)",
            path=str(results_dir),
            field="--results",
        )
    return found[0] if found else None


def result_file(results_dir: Path, cls: str, sequence: str) -> Path:
    """``<results>/<Class>/NNNN.txt`` when that folder exists (its name in any case, see
    :func:`class_folder`), else ``<results>/NNNN.txt``."""
    folder = class_folder(results_dir, cls)
    return (folder or results_dir) / f"{sequence}.txt"


#: The two layouts of result files, for messages.
RESULT_LAYOUTS = (
    "<DIR>/<Class>/NNNN.txt (a folder per class asked) or <DIR>/NNNN.txt (every class in one "
    "file per sequence)"
)


def check_result_files(
    results_dir: Path, classes: Sequence[str], seqmap: Sequence[SeqmapEntry]
) -> None:
    """Check before any work that ``results_dir`` holds a result file for every class and
    sequence in one of the two layouts (:data:`RESULT_LAYOUTS`): once any class folder is
    there, each class asked needs its own (no silent fallback to the flat layout).

    Raises:
        DataError: naming the missing folder or file and the layouts accepted.
    """
    if not results_dir.is_dir():
        raise DataError("no such folder", path=str(results_dir), field="--results")
    folders = {c: class_folder(results_dir, c) for c in classes}
    present = [f.name for f in folders.values() if f is not None]
    if present:
        missing = [c for c, f in folders.items() if f is None]
        if missing:
            raise DataError(
                f"no such folder (the results have {', '.join(c + '/' for c in present)}; "
                f"layouts: {RESULT_LAYOUTS})",
                path=str(results_dir / missing[0]) + "/",
                field="--results",
            )
        files = [f / f"{e.name}.txt" for f in folders.values() if f for e in seqmap]
    else:
        files = [results_dir / f"{e.name}.txt" for e in seqmap]
        if not any(f.is_file() for f in files):
            raise DataError(
                f"no result files for the classes asked ({', '.join(classes)}) or the "
                f"sequences (e.g. {files[0].name if files else 'NNNN.txt'}); layouts: "
                f"{RESULT_LAYOUTS}",
                path=str(results_dir),
                field="--results",
            )
    absent = [f for f in files if not f.is_file()]
    if absent:
        more = f" (and {len(absent) - 1} more)" if len(absent) > 1 else ""
        raise DataError(
            f"file not found{more}: every sequence needs its file (an empty file means no tracks)",
            path=str(absent[0]),
            field="--results",
        )


def evaluate_class(
    cls: str,
    seqmap: Sequence[SeqmapEntry],
    ground_truth: dict[str, KittiObjects],
    results: dict[str, KittiObjects],
    protocol: KittiMotProtocol,
) -> ClassMetrics:
    """Evaluate one class on the sequences of ``seqmap`` (already loaded rows)."""
    return evaluate_class_thresholds(
        cls, seqmap, ground_truth, results, protocol, [protocol.min_overlap]
    )[0]


def evaluate_class_thresholds(
    cls: str,
    seqmap: Sequence[SeqmapEntry],
    ground_truth: dict[str, KittiObjects],
    results: dict[str, KittiObjects],
    protocol: KittiMotProtocol,
    min_overlaps: Sequence[float],
) -> list[ClassMetrics]:
    """Evaluate one class at several IoU thresholds, preparing the data (and HOTA) once."""
    class_rule(cls)
    seqs = []
    for entry in seqmap:
        if entry.name not in results:
            raise DataError(
                f"no {cls} tracking result, though the seqmap lists it",
                record=f"sequence {entry.name}",
            )
        seqs.append(
            (
                entry.name,
                entry.first_frame + entry.n_frames,
                ground_truth[entry.name],
                results[entry.name],
            )
        )
    data = prepare_class_data(cls, seqs, protocol)
    hota = compute_hota(hota_inputs(data, protocol))
    out = []
    for iou in min_overlaps:
        proto = replace(protocol, min_overlap=iou)
        out.append(
            ClassMetrics(
                cls,
                evaluate_clear(data, proto),
                hota,
                evaluate_clear(data, proto, devkit_remean=False),
            )
        )
    return out


@dataclass(frozen=True)
class FrameRange:
    """Frames ``first..last`` (both included) of each sequence: ``eval tracking --frames``."""

    first: int
    last: int

    def __post_init__(self) -> None:
        if not 0 <= self.first <= self.last:
            raise ValueError(f"frame range {self.first}:{self.last}: need 0 <= FIRST <= LAST")

    @classmethod
    def parse(cls, text: str) -> FrameRange:
        """``"74:153"`` -> frames 74..153; ``ValueError`` saying what is wrong otherwise."""
        first, sep, last = text.partition(":")
        try:
            if not sep:
                raise ValueError
            return cls(int(first), int(last))
        except ValueError as exc:
            why = str(exc) or "expected FIRST:LAST, two whole numbers (e.g. 74:153)"
            raise ValueError(f"{text!r}: {why}") from None

    @property
    def n_frames(self) -> int:
        return self.last - self.first + 1

    def seqmap(self, seqmap: Sequence[SeqmapEntry]) -> list[SeqmapEntry]:
        """The entries cut to this range, renumbered from frame 0 (the devkit then visits
        exactly these frames); ``ValueError`` naming a sequence the range does not fit in."""
        out = []
        for e in seqmap:
            end = e.first_frame + e.n_frames - 1
            if self.first < e.first_frame or self.last > end:
                raise ValueError(
                    f"frames {self.first}:{self.last} are not all in sequence {e.name} "
                    f"(frames {e.first_frame}:{end})"
                )
            out.append(SeqmapEntry(e.name, 0, self.n_frames))
        return out

    def rows(self, objects: KittiObjects) -> KittiObjects:
        """The rows of frames ``first..last``, their frames renumbered from 0."""
        keep = (objects.frame >= self.first) & (objects.frame <= self.last)
        cut = objects.select(np.flatnonzero(keep))
        return replace(cut, frame=cut.frame - self.first)

    def cut(self, by_sequence: dict[str, KittiObjects]) -> dict[str, KittiObjects]:
        """:meth:`rows` of every sequence."""
        return {name: self.rows(rows) for name, rows in by_sequence.items()}


def load_ground_truth(label_dir: Path, seqmap: Sequence[SeqmapEntry]) -> dict[str, KittiObjects]:
    return {e.name: read_tracking_labels(label_dir / f"{e.name}.txt") for e in seqmap}


def _class_rows_and_labels(
    held: KittiObjects, gt: KittiObjects, cls: str
) -> tuple[KittiObjects, KittiObjects]:
    """The result rows of ``cls`` and the labelled (tracked) ``cls`` rows of one sequence."""
    rows = held.select(np.flatnonzero(_is_class(held, cls)))
    return rows, gt.select(np.flatnonzero(_is_class(gt, cls) & (gt.track_id != -1)))


def _near_labels(
    row_xy: np.ndarray, row_frame: np.ndarray, label_xy: np.ndarray, label_frame: np.ndarray,
    reach: float,
) -> np.ndarray:  # fmt: skip
    """``(N,)`` bool: rows within ``reach`` of a label of their frame (centres ``(N, 2)`` /
    ``(L, 2)`` in one unit)."""
    i_row, i_label = same_frame_pairs(row_frame, label_frame)
    close = np.linalg.norm(row_xy[i_row] - label_xy[i_label], axis=-1) <= reach
    return np.bincount(i_row[close], minlength=len(row_frame)) > 0


#: Rows this close (m, bird's-eye centres) to a label of their class count as on it for
#: :func:`frame_offset_notes`.
ON_LABEL_M = 1.0


def frame_offset_notes(
    results_dir: Path,
    cls: str,
    results: dict[str, KittiObjects],
    ground_truth: dict[str, KittiObjects],
) -> list[str]:
    """A note when the rows of ``cls`` (pooled over the sequences, 3D boxes) lie on the
    labels of the frame before or after theirs clearly more often than on their own frame's
    (within :data:`ON_LABEL_M`; at least 100 rows, the offset's share 0.15 higher and 1.5
    times their own): frames numbered from 1 (or 0 where the labels start at 1) score lower
    without a word, as objects move less than the far-from-labels warning's 5 m a frame.
    On AB3DMOT's val files their own frame wins in every sequence (Car 0.69 against 0.25 /
    0.28 in 0001; about even where the cars stand still)."""
    shares = {}
    for offset in (0, -1, 1):
        on, counted = 0, 0
        for sequence, held in results.items():
            gt = ground_truth.get(sequence)
            if gt is None:
                continue
            rows, labels = _class_rows_and_labels(held, gt, cls)
            frames = rows.frame + offset
            has = np.isin(frames, labels.frame)
            near = _near_labels(
                rows.location_m[:, [0, 2]], frames, labels.location_m[:, [0, 2]],
                labels.frame, ON_LABEL_M,
            )  # fmt: skip
            on += int(near[has].sum())
            counted += int(has.sum())
        if offset == 0 and counted < 100:
            return []
        shares[offset] = on / counted if counted else 0.0
    own = shares[0]
    best = max((-1, 1), key=lambda k: shares[k])
    if shares[best] - own < 0.15 or shares[best] < 1.5 * own:
        return []
    folder = class_folder(results_dir, cls) or results_dir
    return [
        f"{folder}: {cls} rows lie on the labels of the frame {'before' if best < 0 else 'after'} "
        f"theirs more often than on their own frame's (within {ON_LABEL_M:g} m: "
        f"{100 * shares[best]:.0f}% against {100 * own:.0f}%): are the frames numbered from "
        f"{'1' if best < 0 else '0 against labels from 1'}? (KITTI numbers them from 0)"
    ]


def labels_past_seqmap_notes(
    label_dir: Path, seqmap: Sequence[SeqmapEntry], ground_truth: dict[str, KittiObjects]
) -> list[str]:
    """A note per label file holding frames past its seqmap entry's last frame: the devkit
    scores those labels (as misses: a tracker row there is refused), so a seqmap that is
    shorter than its label files lowers recall without a word."""
    notes = []
    for e in seqmap:
        labels = ground_truth.get(e.name)
        end = e.first_frame + e.n_frames
        if labels is None or not len(labels) or int(labels.frame.max()) < end:
            continue
        past = int(np.count_nonzero(labels.frame >= end))
        notes.append(
            f"{label_dir / f'{e.name}.txt'}: {past} label row(s) in frames {end}:"
            f"{int(labels.frame.max())}, past the seqmap's {e.n_frames} frames of {e.name}: "
            "scored as misses (as the devkit does), no tracker row can match them"
        )
    return notes


def load_results(
    results_dir: Path,
    cls: str,
    seqmap: Sequence[SeqmapEntry],
    *,
    require_box3d: bool = False,
) -> dict[str, KittiObjects]:
    """Result rows per sequence (:func:`load_results_and_notes` without its notes)."""
    return load_results_and_notes(results_dir, cls, seqmap, require_box3d=require_box3d)[0]


def load_results_and_notes(
    results_dir: Path,
    cls: str,
    seqmap: Sequence[SeqmapEntry],
    *,
    require_box3d: bool = False,
) -> tuple[dict[str, KittiObjects], list[str]]:
    """Result rows per sequence, read as the devkit reads them
    (:func:`~drivestack.ingest.kitti_tracking.read_tracking_results`: a row without a score
    column scores -1), and a note per file with such rows (every unscored row sits at one
    score threshold: for a file without scores, sAMOTA / AMOTA describe one operating point).

    A missing sequence file is an error (an empty one is fine), and so is a frame beyond the
    sequence's seqmap frames (naming file, line and field); ``require_box3d`` (3D IoU): a row
    without a positive 3D size too (naming line and field).
    """
    results: dict[str, KittiObjects] = {}
    notes: list[str] = []
    folder = class_folder(results_dir, cls) or results_dir  # (listed once, not per sequence)
    for e in seqmap:
        path = folder / f"{e.name}.txt"
        rows, unscored = read_tracking_results(
            path, n_frames=e.first_frame + e.n_frames, require_box3d=require_box3d
        )
        results[e.name] = rows
        if unscored:
            notes.append(unscored_note(path, unscored, len(rows)))
    return results, notes


def unscored_note(path: Path, unscored: int, n_rows: int) -> str:
    """What a result file with ``unscored`` of its ``n_rows`` rows without a score column
    (17 columns) is scored as."""
    if unscored == n_rows:
        return (
            f"{path}: no score column (17 columns): every row scores "
            f"{DEVKIT_MISSING_SCORE:g}, as the KITTI devkit reads it, so the score-threshold "
            "sweep has one threshold: sAMOTA / AMOTA describe one operating point"
        )
    return (
        f"{path}: {unscored} of {n_rows} rows have no score column (17 columns, the others "
        f"18): those score {DEVKIT_MISSING_SCORE:g}, as the KITTI devkit reads them, row by row"
    )


def empty_class_notes(results_dir: Path, cls: str, results: dict[str, KittiObjects]) -> list[str]:
    """A note when none of the result files of ``cls`` holds a row of it (any case): the class
    is scored as no tracks (sAMOTA 0, every label a false negative), most likely results of
    other classes only (AB3DMOT's per-class ``data/`` folder evaluated with all three
    classes). Nothing when some file has a row of the class."""
    n_rows = sum(int(np.sum(_is_class(r, cls))) for r in results.values())
    if n_rows or not results:
        return []
    folder = class_folder(results_dir, cls) or results_dir
    neighbour = _neighbour(cls)
    n_neighbour = (
        sum(int(np.sum(_is_class(r, neighbour))) for r in results.values()) if neighbour else 0
    )
    if n_neighbour:  # the devkit scores them: matched ones are true positives
        return [
            f"{cls}: no {cls} row in any of its {len(results)} result file(s) under "
            f"{folder}/, but {n_neighbour} {neighbour} row(s): scored by the devkit's "
            f"neighbouring-class rule (a {neighbour} row matched to a {cls} label is a true "
            f"positive, an unmatched one is ignored, never a false positive); a tracker's own "
            f"{cls} output written as {neighbour}?"
        ]
    return [
        f"{cls}: no {cls} row in any of its {len(results)} result file(s) under {folder}/: "
        "scored as no tracks (sAMOTA 0, every label a false negative); results of other "
        "classes only? --classes picks the classes scored"
    ]


def no_image_box_notes(results_dir: Path, cls: str, results: dict[str, KittiObjects]) -> list[str]:
    """A note per result file of ``cls`` whose rows of it carry no image box (height <= 0,
    as the ``-1 -1 -1 -1`` placeholder a 3D-only tracker writes): the devkit's minimum-height
    rule (25 px) ignores such a row when it is unmatched, so its false positives are not
    counted and its sAMOTA / MOTA read high."""
    notes = []
    folder = class_folder(results_dir, cls) or results_dir
    for sequence, held in results.items():
        rows = held.select(np.flatnonzero(_is_class(held, cls)))
        if not len(rows):
            continue
        box = rows.box2d_xyxy_px
        flat = int(np.sum(box[:, 3] - box[:, 1] <= 0))
        if flat:
            notes.append(
                f"{folder / f'{sequence}.txt'}: {flat} of {len(rows)} {cls} row(s) have no "
                "image box (height <= 0, e.g. -1 -1 -1 -1): the protocol's 25 px minimum "
                "height ignores such rows when unmatched, so their false positives are not "
                "counted; write each box's projection into image_02 (x1 y1 x2 y2)"
            )
    return notes


def _neighbour(cls: str) -> str | None:
    """The type the devkit scores with ``cls`` as its neighbouring class, as KITTI spells it
    (``Van`` for Car, ``Person_sitting`` for Pedestrian)."""
    name = KITTI_CLASS_RULES.get(cls.lower(), ((), None))[1]
    return name.capitalize() if name else None


def _is_class(rows: KittiObjects, cls: str) -> np.ndarray:
    """``(N,)`` bool: the rows whose type is ``cls`` in any case."""
    return np.char.lower(rows.type_name.astype(str)) == cls.lower()


def other_class_notes(results_dir: Path, cls: str, results: dict[str, KittiObjects]) -> list[str]:
    """In the per-class layout (``<results>/<Class>/NNNN.txt``): a note per file of the
    ``cls`` folder holding rows of another class, which are not scored (as the devkit, which
    keeps only the class evaluated); most likely a mis-sorted folder. None for the flat
    layout, where every class shares one file."""
    folder = class_folder(results_dir, cls)
    if folder is None:
        return []
    notes = []
    neighbour = _neighbour(cls)
    for sequence, rows in results.items():
        near = _is_class(rows, neighbour) if neighbour else np.zeros(len(rows), dtype=bool)
        other = ~_is_class(rows, cls) & ~near
        if other.any():
            names = ", ".join(sorted(set(rows.type_name[other].astype(str).tolist())))
            notes.append(
                f"{folder / f'{sequence}.txt'}: {int(other.sum())} row(s) of "
                f"another class ({names}) in the {cls} folder: not scored"
            )
        if near.any():
            notes.append(
                f"{folder / f'{sequence}.txt'}: {int(near.sum())} {neighbour} row(s) in the "
                f"{cls} folder: scored by the devkit's neighbouring-class rule (matched to a "
                f"{cls} label: a true positive; unmatched: ignored, not a false positive)"
            )
    return notes


def uncovered_notes(
    results_dir: Path, cls: str, frames: FrameRange, results: dict[str, KittiObjects]
) -> list[str]:
    """A note per result file of ``cls`` that holds its rows but none in ``frames`` (naming the
    frames it does hold): scored as if the tracker output nothing there, most likely results
    of other frames (a replay of frames 74-153 scored with ``--frames 0:10``). An empty file
    is no note: a tracker may output nothing."""
    notes = []
    folder = class_folder(results_dir, cls) or results_dir
    for sequence, held in results.items():
        # (the flat layout's one file holds every class: only ``cls``'s rows are scored)
        rows = held.select(np.flatnonzero(_is_class(held, cls)))
        if len(rows) and not len(frames.rows(rows)):
            notes.append(
                f"{folder / f'{sequence}.txt'}: no {cls} row in frames "
                f"{frames.first}:{frames.last} (it holds frames {int(rows.frame.min())}:"
                f"{int(rows.frame.max())}): scored as no tracks there"
            )
    return notes


#: The manifest a drivestack replay writes beside its KITTI tracking result files
#: (``drivestack replay --kitti-results DIR``): one run wrote every class's files.
REPLAY_RESULTS_MANIFEST = "kitti_results.json"

#: A result row further than this from every label of its class in its frame (bird's-eye
#: centre distance in camera_rect, or image-box centre distance for 2D similarity) counts as
#: "far" for :func:`far_from_labels_notes`.
FAR_FROM_LABEL_M = 5.0
FAR_FROM_LABEL_PX = 100.0


def far_from_labels_notes(
    results_dir: Path,
    results: Mapping[str, dict[str, KittiObjects]],
    ground_truth: dict[str, KittiObjects],
    similarity: str = "iou_3d",
) -> list[str]:
    """A note per class and result file (``results``: class -> sequence -> rows) whose rows,
    in frames that hold a label of the class, are almost all (at least 10 of them, over 95%)
    far from every such label of their frame: most likely boxes in another coordinate frame
    (LiDAR rather than camera_rect), which would otherwise score as all false positives
    without a word. A wrong frame moves every class one writer wrote, so a class is not
    noted where another class's rows of the same sequence (10 or more), written by the same
    writer, lie mostly near their labels: its far rows are false positives (a detector that
    finds no pedestrian there), not a frame mix-up. The same writer: the classes share the
    sequence's file (``<DIR>/NNNN.txt``), or ``DIR`` holds a drivestack replay's results
    (:data:`REPLAY_RESULTS_MANIFEST`); per-class files from elsewhere may come from different
    tools. (Frames off by one are left to :func:`frame_offset_notes`: objects move less
    than the 5 m in a frame.)"""
    counts = {
        cls: _far_row_counts(held, cls, ground_truth, similarity) for cls, held in results.items()
    }
    reach, unit = _far_reach(similarity)
    one_writer = (results_dir / REPLAY_RESULTS_MANIFEST).is_file()
    notes = []
    for cls, by_sequence in counts.items():
        folder = class_folder(results_dir, cls) or results_dir
        for sequence, (n_far, n_rows) in by_sequence.items():
            if n_rows < 10 or n_far <= 0.95 * n_rows:
                continue
            if any(
                _mostly_near(seqs.get(sequence, (0, 0)))
                for other, seqs in counts.items()
                if other != cls
                and (
                    one_writer
                    or result_file(results_dir, other, sequence)
                    == result_file(results_dir, cls, sequence)
                )
            ):
                continue
            notes.append(
                f"{folder / f'{sequence}.txt'}: {n_far} of {n_rows} {cls} row(s) in "
                f"labelled frames are more than {reach:g} {unit} from every {cls} label of "
                "their frame: check that the boxes are in the rectified camera frame "
                "(x right, y down, z forward; location the bottom centre) and that frames "
                "are numbered from 0"
            )
    return notes


def _far_reach(similarity: str) -> tuple[float, str]:
    """How far a row may lie from a label and still be near it, and the unit it is in."""
    if similarity == "iou_2d":
        return FAR_FROM_LABEL_PX, "px (image-box centres)"
    return FAR_FROM_LABEL_M, "m (bird's-eye centres, camera_rect x / z)"


def _mostly_near(counts: tuple[int, int]) -> bool:
    """Whether (far rows, rows) say a class's rows lie mostly near its labels (10 or more)."""
    n_far, n_rows = counts
    return n_rows >= 10 and n_far <= 0.5 * n_rows


def _far_row_counts(
    results: dict[str, KittiObjects],
    cls: str,
    ground_truth: dict[str, KittiObjects],
    similarity: str,
) -> dict[str, tuple[int, int]]:
    """Sequence -> (rows far from every ``cls`` label of their frame, rows in frames that hold
    a ``cls`` label), for the result rows of class ``cls``."""
    reach, _ = _far_reach(similarity)
    out = {}
    for sequence, held in results.items():
        gt = ground_truth.get(sequence)
        if gt is None:
            continue
        rows, labels = _class_rows_and_labels(held, gt, cls)
        labelled = np.isin(rows.frame, labels.frame)
        rows = rows.select(np.flatnonzero(labelled))
        if similarity == "iou_2d":
            row_xy = rows.box2d_xyxy_px.reshape(-1, 2, 2).mean(axis=1)
            label_xy = labels.box2d_xyxy_px.reshape(-1, 2, 2).mean(axis=1)
        else:
            row_xy = rows.location_m[:, [0, 2]]
            label_xy = labels.location_m[:, [0, 2]]
        near = _near_labels(row_xy, rows.frame, label_xy, labels.frame, reach)
        out[sequence] = (int((~near).sum()), len(rows))
    return out


def evaluate_kitti_tracking(
    label_dir: str | Path,
    results_dir: str | Path,
    seqmap: Sequence[SeqmapEntry],
    classes: Sequence[str],
    protocol: KittiMotProtocol | None = None,
) -> dict[str, ClassMetrics]:
    """Evaluate result files (``<results>/<Class>/NNNN.txt`` or ``<results>/NNNN.txt``)."""
    proto = protocol or KittiMotProtocol()
    gt = load_ground_truth(Path(label_dir), seqmap)
    return {
        cls: evaluate_class(
            cls,
            seqmap,
            gt,
            load_results(
                Path(results_dir), cls, seqmap, require_box3d=proto.similarity == "iou_3d"
            ),
            proto,
        )
        for cls in classes
    }


def table_heading(
    similarity: str, iou: float, split: str, n_sequences: int, mode: str | None = None
) -> str:
    """The line above a table: ``iou_3d 0.25 (val, 11 sequences)``, with the tracker when
    several are compared (``iou_3d 0.25, fused tracker (val, 11 sequences)``)."""
    tracker = f", {mode} tracker" if mode else ""
    return f"{similarity} {iou:g}{tracker} ({split}, {n_sequences} sequences)"


def table_notes(similarities: Sequence[str] = ("iou_3d",)) -> list[str]:
    """What the tables of :func:`format_table` measure, printed once under them."""
    ties = ", ".join(f"{s} >= {HOTA_MATCH_THRESHOLDS.get(s, 0.25):g}" for s in similarities)
    return [
        "values in percent, except IDS, FRAG, FP and FN (counts)",
        "sAMOTA .. ML: at the table's IoU threshold; HOTA, DetA, AssA, LocA: the mean over "
        f"their own similarity thresholds (alpha 0.05..0.95), boxes tied at {ties}: the "
        "same under every IoU threshold",
    ]


def no_label_notes(metrics: dict[str, ClassMetrics]) -> list[str]:
    """A note per class of ``metrics`` without a labelled object to score (``n_gt`` 0): its
    rates are n/a (stored as null), not a measurement, like the detection eval's AP of a
    class without labelled boxes."""
    return [
        f"{cls}: no labelled objects in the sequences scored: its rates (sAMOTA, AMOTA, MOTA, "
        f"HOTA, ...) are n/a, not a measurement; its {m.clear.best.FP} FP are its unmatched "
        "tracks"
        for cls, m in metrics.items()
        if m.clear.best.n_gt == 0
    ]


def format_table(metrics: dict[str, ClassMetrics]) -> str:
    """A plain-text table, values in percent like AB3DMOT's README tables (counts: IDS, FRAG,
    FP, FN); :func:`table_notes` says what it measures. Under a class whose figures without
    the devkit's score re-averaging differ by more than :data:`REMEAN_SHOWN_ABOVE_POINTS`, a
    ``no-remean`` row of them (:data:`REMEAN_NOTE`)."""
    head = f"{'class':<11}{'sAMOTA':>8}{'AMOTA':>8}{'AMOTP':>8}{'MOTA':>8}{'MOTP':>8}{'IDS':>6}{'FRAG':>6}{'FP':>7}{'FN':>7}{'MT':>7}{'ML':>7}{'HOTA':>8}{'DetA':>8}{'AssA':>8}{'LocA':>8}"
    lines = [head]
    for cls, m in metrics.items():
        b = m.clear.best
        if b.n_gt == 0:  # no labelled object: every rate undefined (MOTA -inf), counts shown
            na = f"{'n/a':>8}"
            lines.append(
                f"{cls:<11}{na * 5}{b.IDS:6d}{b.FRAG:6d}{b.FP:7d}{b.FN:7d}{'n/a':>7}{'n/a':>7}"
                f"{na * 4}  no labels"
            )
            continue
        lines.append(
            f"{cls:<11}"
            + _clear_cells(m.clear.sAMOTA, m.clear.AMOTA, m.clear.AMOTP, b)
            + _cells((100 * m.hota.HOTA, 8), (100 * m.hota.DetA, 8))
            + _cells((100 * m.hota.AssA, 8), (100 * m.hota.LocA, 8))
        )
        if m.remean_shown and m.clear_without_remean is not None:
            c, o = m.clear_without_remean, m.clear_without_remean.best
            lines.append(
                f"{'  no-remean':<11}{_clear_cells(c.sAMOTA, c.AMOTA, c.AMOTP, o)}  ({cls} "
                "without the devkit's score re-averaging: see the note)"
            )
    return "\n".join(lines)


def _cells(*cells: tuple[float | np.integer, int]) -> str:
    """``(value, width)`` cells right-aligned in their widths, a rate with two decimals, a
    count (an int) as is; each keeps a separating space when its text fills the width (a
    MOTA of -1000 % is ``-1000.00``: 8 characters)."""
    return "".join(
        " " + (f"{v:d}" if isinstance(v, int | np.integer) else f"{v:.2f}").rjust(w - 1)
        for v, w in cells
    )


def _clear_cells(samota: float, amota: float, amotp: float, b: ClearResult) -> str:
    """The sAMOTA .. ML cells of a :func:`format_table` row (rates in percent)."""
    return _cells(
        (100 * samota, 8), (100 * amota, 8), (100 * amotp, 8), (100 * b.MOTA, 8),
        (100 * b.MOTP, 8), (b.IDS, 6), (b.FRAG, 6), (b.FP, 7), (b.FN, 7), (100 * b.MT, 7),
        (100 * b.ML, 7),
    )  # fmt: skip


def remean_notes(metrics: dict[str, ClassMetrics]) -> list[str]:
    """:data:`REMEAN_NOTE` once when a table of ``metrics`` shows a ``no-remean`` row, else
    nothing."""
    return [REMEAN_NOTE] if any(m.remean_shown for m in metrics.values()) else []
