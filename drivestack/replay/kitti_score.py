"""Score a replay with the KITTI protocols when its log carries KITTI label rows.

Uses the functions ``drivestack eval`` scores with, on the replayed frames:

- detection: the KITTI 3D object protocol (``drivestack eval detection --dataset
  kitti-tracking``): LiDAR boxes become camera_rect objects with
  :func:`~drivestack.eval.detection.run.kitti_detections_from_boxes` (those in front of and
  inside image_02), labels as the log's rows, scored by
  :func:`~drivestack.eval.detection.kitti.kitti_eval` (2D / BEV / 3D, AP11 and AP40);
- tracking: the KITTI 3D-MOT protocol of AB3DMOT plus HOTA (``drivestack eval tracking``),
  :func:`~drivestack.eval.tracking.kitti.evaluate_class_thresholds` at 3D IoU 0.25, on the
  replayed frames renumbered from 0 (the first scored frame) as one sequence; tracks are kept,
  converted and given image boxes exactly as detections are.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from drivestack.core.atomic import write_text_atomic
from drivestack.core.errors import DataError
from drivestack.core.json_values import strict_dumps
from drivestack.core.locks import exclusive_lock
from drivestack.eval.detection.datasets import LabelledFrame
from drivestack.eval.detection.run import (
    KITTI_CLASSES,
    kitti_detections_from_boxes,
    kitti_protocol_metrics,
)
from drivestack.eval.tracking.kitti import REPLAY_RESULTS_MANIFEST
from drivestack.ingest.kitti_format import KittiObjects
from drivestack.replay.kitti_log import KittiChannels
from drivestack.structures.boxes import Boxes3D
from drivestack.structures.sensor_frame import SensorFrame
from drivestack.structures.tracks import Tracks

#: 3D IoU thresholds of the tracking metrics (AB3DMOT's default table).
TRACKING_IOUS = (0.25,)


def in_cloud_frame(boxes: Boxes3D, frame: SensorFrame) -> Boxes3D:
    """Boxes (ego frame or the LiDAR's) in the frame of ``frame``'s single LiDAR cloud."""
    name, cloud = next(iter(frame.lidars.items()))
    if boxes.frame == cloud.frame:
        return boxes
    mount = frame.ego_from_sensor.get(name)
    if mount is None:
        raise DataError(
            f"boxes in frame {boxes.frame!r} but no ego_from_sensor for {name!r}",
            path=frame.source or None,
            record=f"t={frame.timestamp_ns}",
        )
    return boxes.transformed(mount.inverse(), cloud.frame)


def _kept_with_index(boxes: Boxes3D, lf: LabelledFrame) -> tuple[KittiObjects, np.ndarray]:
    """:func:`kitti_detections_from_boxes` of ``boxes`` (in the cloud's frame), and the index
    in ``boxes`` of each row kept (it rides through in the score; the rows' score is not
    ``boxes``')."""
    indexed = dataclasses.replace(boxes, score=np.arange(len(boxes), dtype=np.float64))
    kept = kitti_detections_from_boxes(indexed, lf)
    return kept, kept.score.astype(np.int64)


def kitti_tracking_rows(tracks: Tracks, lf: LabelledFrame, frame_index: int) -> KittiObjects:
    """KITTI tracking result rows of ``tracks`` (boxes in the ego or LiDAR frame of ``lf``).

    The tracks kept, their camera_rect boxes and image boxes are those
    :func:`kitti_detections_from_boxes` gives for the same boxes (the box index rides in the
    score through it); the score of a row is the track's.
    """
    return _tracking_rows_with_index(tracks, lf, frame_index)[0]


def _tracking_rows_with_index(
    tracks: Tracks, lf: LabelledFrame, frame_index: int
) -> tuple[KittiObjects, np.ndarray]:
    """:func:`kitti_tracking_rows`, and the index in ``tracks`` of each row kept."""
    boxes = in_cloud_frame(tracks.boxes, lf.frame)
    kept, idx = _kept_with_index(boxes, lf)
    rows = dataclasses.replace(
        kept,
        frame=np.full(len(idx), frame_index),
        track_id=tracks.track_id[idx],
        score=boxes.score[idx],
    )
    return rows, idx


def _mask(n: int, idx: np.ndarray) -> np.ndarray:
    """``(n,)`` bool, True at ``idx``."""
    inside = np.zeros(n, dtype=bool)
    inside[idx] = True
    return inside


def kitti_tracking_metrics(
    sequence: str, n_frames: int, ground_truth: KittiObjects, results: KittiObjects
) -> dict[str, Any]:
    """KITTI 3D-MOT (+ HOTA) of one sequence, laid out as ``drivestack eval tracking`` writes it:
    ``{"iou_0.25": {"protocol": {...}, "classes": {"Car": {...}, ...}}}``."""
    from drivestack.eval.tracking import KittiMotProtocol
    from drivestack.eval.tracking.kitti import evaluate_class_thresholds
    from drivestack.ingest.kitti_tracking import SeqmapEntry

    seqmap = [SeqmapEntry(sequence, 0, n_frames)]
    per_class = {
        cls: evaluate_class_thresholds(
            cls,
            seqmap,
            {sequence: ground_truth},
            {sequence: results},
            KittiMotProtocol(),
            TRACKING_IOUS,
        )
        for cls in KITTI_CLASSES
    }
    return {
        f"iou_{iou:g}": {
            "protocol": dataclasses.asdict(KittiMotProtocol(min_overlap=iou)),
            "classes": {cls: per_class[cls][k].as_dict() for cls in KITTI_CLASSES},
        }
        for k, iou in enumerate(TRACKING_IOUS)
    }


def renumbered(rows: KittiObjects, first_frame: int) -> KittiObjects:
    return dataclasses.replace(rows, frame=rows.frame - first_frame)


class KittiReplayScorer:
    """Collects a replay's detections and tracks on the frames with KITTI labels; scores them."""

    def __init__(self, channels: KittiChannels) -> None:
        self.channels = channels
        self._gts: list[Any] = []
        self._dts: list[Any] = []
        self._label_rows: list[KittiObjects] = []
        self._track_rows: list[KittiObjects] = []
        self._frames: list[int] = []
        self._sequence = ""
        self._tracked = False

    def _labelled_frame(self, frame: SensorFrame) -> LabelledFrame | None:
        labels = self.channels.labels.get(frame.timestamp_ns)
        if labels is None or not frame.lidars:
            return None
        return LabelledFrame(
            f"{labels.frame_index:06d}",
            frame,
            labels.rows,
            self.channels.calib,
            labels.image_size_wh,
        )

    def add(self, frame: SensorFrame, detections: Boxes3D, tracks: Tracks | None) -> bool:
        """Add one replayed frame; False (nothing added) when it has no KITTI labels."""
        return self.add_in_region(frame, detections, tracks) is not None

    def add_in_region(
        self, frame: SensorFrame, detections: Boxes3D, tracks: Tracks | None
    ) -> tuple[np.ndarray, np.ndarray | None] | None:
        """:meth:`add`, returning which of ``detections`` and of ``tracks`` (ego or LiDAR
        frame; None without tracks) lie where KITTI labels objects: in front of the camera and
        inside image_02, as the KITTI protocols keep boxes (bool per box, from the projection
        the rows are made with); None (nothing added) when it has no KITTI labels."""
        lf = self._labelled_frame(frame)
        if lf is None:
            return None
        labels = self.channels.labels[frame.timestamp_ns]
        self._sequence = self._sequence or labels.sequence
        self._gts.append(lf.native)
        # one projection for the rows and the region: the rows kept carry their box's index
        boxes = in_cloud_frame(detections, frame)
        kept, idx = _kept_with_index(boxes, lf)
        self._dts.append(
            dataclasses.replace(kept, score=np.asarray(boxes.score, dtype=np.float64)[idx])
        )
        self._label_rows.append(labels.rows)
        self._frames.append(labels.frame_index)
        tracks_inside = None
        if tracks is not None:
            self._tracked = True
            rows, track_idx = _tracking_rows_with_index(tracks, lf, labels.frame_index)
            self._track_rows.append(rows)
            tracks_inside = _mask(len(tracks), track_idx)
        return _mask(len(detections), idx), tracks_inside

    @property
    def sequence(self) -> str:
        """The sequence of the log's KITTI label rows (its first labelled frame's)."""
        if self._sequence:
            return self._sequence
        first = min(self.channels.labels, default=None)
        return self.channels.labels[first].sequence if first is not None else ""

    def tracking_rows(self) -> KittiObjects:
        """Every KITTI tracking row collected, frames numbered as in the log's sequence."""
        return KittiObjects.concatenate(self._track_rows) if self._track_rows else KittiObjects()

    def write_tracking_results(self, folder: str | Path) -> dict[str, Any]:
        """Write the tracking rows as KITTI tracking results, the layout ``drivestack eval
        tracking --results`` reads: ``folder/<Class>/<sequence>.txt`` for each of
        :data:`~drivestack.eval.detection.run.KITTI_CLASSES` (an empty file for a class
        without rows), frames numbered as in the sequence (the label rows' frame numbers), with
        :func:`~drivestack.ingest.kitti_tracking.write_tracking_results`. Returns
        ``{"folder", "sequence", "frames": [first, last] or [], "classes", "files", "rows"}``
        (rows per class).

        Raises:
            DataError: a sequence name that is not a plain file name (naming the field).
        """
        from drivestack.eval.tracking.kitti import result_file
        from drivestack.ingest.kitti_tracking import write_tracking_results

        sequence = self.sequence
        if not sequence or Path(sequence).name != sequence or sequence in (".", ".."):
            raise DataError(
                f"{sequence!r} is not a file name for the result files",
                record="/labels/kitti",
                field="sequence",
            )
        folder = Path(folder)
        rows = self.tracking_rows()
        files, counts = [], {}
        for cls in KITTI_CLASSES:
            (folder / cls).mkdir(parents=True, exist_ok=True)
            path = result_file(folder, cls, sequence)
            mine = rows.select(np.flatnonzero(rows.type_name == cls))
            write_tracking_results(path, mine)
            files.append(str(path))
            counts[cls] = len(mine)
        frames = [min(self._frames), max(self._frames)] if self._frames else []
        return {
            "folder": str(folder),
            "sequence": sequence,
            "frames": frames,
            "classes": list(KITTI_CLASSES),
            "files": files,
            "rows": counts,
        }

    def metrics(self) -> dict[str, Any] | None:
        """``{"frames_scored", "first_frame", "detection", "tracking"}``; None without frames."""
        if not self._frames:
            return None
        first, last = min(self._frames), max(self._frames)
        out: dict[str, Any] = {
            "sequence": self._sequence,
            "frames_scored": len(self._frames),
            "first_frame": first,
            "last_frame": last,
            "detection": kitti_protocol_metrics(self._gts, self._dts),
            "tracking": None,
        }
        if self._tracked:
            out["tracking"] = kitti_tracking_metrics(
                self._sequence or "0000",
                last - first + 1,
                renumbered(KittiObjects.concatenate(self._label_rows), first),
                renumbered(KittiObjects.concatenate(self._track_rows), first),
            )
        return out


# -- the --kitti-results folder ---------------------------------------------------------------
#: The record of the replay whose results a ``--kitti-results`` folder holds.
KITTI_RESULTS_MANIFEST = REPLAY_RESULTS_MANIFEST
#: Held (``flock``) by the replay writing into a ``--kitti-results`` folder.
KITTI_RESULTS_LOCK = ".kitti_results.lock"
_STAGING_PREFIX = ".partial-"


@dataclasses.dataclass
class KittiResultsFolder:
    """A ``--kitti-results`` folder held by one replay (:func:`kitti_results_folder`): the
    result files are written into ``staging`` and moved into ``folder`` by :meth:`commit`."""

    folder: Path
    staging: Path
    log_path: Path
    out_path: Path
    committed: bool = False

    def write(self, scorer: KittiReplayScorer) -> dict[str, Any]:
        """The scorer's result files written into ``staging``; returns
        :meth:`KittiReplayScorer.write_tracking_results`' record with their final paths."""
        written = scorer.write_tracking_results(self.staging)
        files = [str(self.folder / Path(f).relative_to(self.staging)) for f in written["files"]]
        return {**written, "folder": str(self.folder), "files": files}

    def commit(self, written: dict[str, Any]) -> None:
        """Move the files of :meth:`write`'s record into ``folder`` and write the manifest
        (log, output, sequence, frames, classes, files); the old manifest goes first, so that
        a stop midway leaves files that no manifest names (refused without ``--overwrite``)."""
        (self.folder / KITTI_RESULTS_MANIFEST).unlink(missing_ok=True)
        for name in written["files"]:
            final = Path(name)
            final.parent.mkdir(parents=True, exist_ok=True)
            os.replace(self.staging / final.relative_to(self.folder), final)
        manifest = {
            "log": str(self.log_path.resolve()),
            "out": str(self.out_path.resolve()),
            **{k: written[k] for k in ("sequence", "frames", "classes", "files")},
        }
        write_text_atomic(self.folder / KITTI_RESULTS_MANIFEST, strict_dumps(manifest, indent=2))
        self.committed = True


@contextlib.contextmanager
def kitti_results_folder(
    folder: Path, *, log_path: Path, out_path: Path, overwrite: bool = False
) -> Iterator[KittiResultsFolder]:
    """Hold ``folder`` (created when missing) for one replay: an exclusive ``flock`` on
    ``folder/.kitti_results.lock`` (a second replay into it at once is refused), a check that
    it holds no other run's results (:data:`KITTI_RESULTS_MANIFEST` naming another output, or
    files without one; ``overwrite``: replace them), and a staging folder removed at the end.
    A folder it created is removed when the block raises before :meth:`~KittiResultsFolder.commit`.

    Raises:
        DataError: naming ``--kitti-results`` and the lock or the other run.
    """
    from drivestack.core.folder_links import refuse_folder_links

    refuse_folder_links(folder, 1, "--kitti-results")  # <Class>/ folders are written
    created = not folder.exists()
    folder.mkdir(parents=True, exist_ok=True)
    held: KittiResultsFolder | None = None
    try:
        lock = folder / KITTI_RESULTS_LOCK
        with exclusive_lock(
            lock,
            busy="another replay is writing its KITTI results into this folder (it holds "
            f"{lock.name}); wait for it to end, or give another folder",
            where=f"--kitti-results {folder}",
        ):
            _check_results_owner(folder, out_path, overwrite)
            for stale in folder.glob(f"{_STAGING_PREFIX}*"):  # a killed replay's (locked)
                shutil.rmtree(stale, ignore_errors=True)
            staging = folder / f"{_STAGING_PREFIX}{os.getpid()}"
            staging.mkdir()
            held = KittiResultsFolder(folder, staging, log_path, out_path)
            try:
                yield held
            finally:
                shutil.rmtree(staging, ignore_errors=True)
    except BaseException:
        if created and not (held is not None and held.committed):
            shutil.rmtree(folder, ignore_errors=True)
        raise


def _check_results_owner(folder: Path, out_path: Path, overwrite: bool) -> None:
    """``DataError`` (naming ``--kitti-results``) when ``folder`` holds another run's results:
    a manifest naming another output, or files without a manifest; none with ``overwrite``."""
    if overwrite:
        return
    where = f"--kitti-results {folder}"
    manifest = folder / KITTI_RESULTS_MANIFEST
    if manifest.is_file():
        try:
            record = json.loads(manifest.read_text())
            why = "" if isinstance(record, dict) and "out" in record else "no 'out' entry"
        except (ValueError, OSError) as exc:
            why = f"{type(exc).__name__}: {exc}"
        if why:
            raise DataError(
                f"holds KITTI results whose {KITTI_RESULTS_MANIFEST} does not say which replay "
                f"wrote them ({why}): give another folder, or --overwrite to replace them",
                path=where,
            )
        owner = record["out"]
        if owner == str(out_path.resolve()):  # a rerun of the same replay replaces its own
            return
        raise DataError(
            f"holds the KITTI results of another replay (--out {owner}, per its "
            f"{KITTI_RESULTS_MANIFEST}): give another folder, or --overwrite to replace them",
            path=where,
        )
    others = sorted(
        p.name
        for p in folder.iterdir()
        if p.name != KITTI_RESULTS_LOCK and not p.name.startswith(_STAGING_PREFIX)
    )
    if others:
        raise DataError(
            f"holds files that no replay's {KITTI_RESULTS_MANIFEST} names "
            f"({', '.join(others[:5])}): give another folder, or --overwrite to replace them",
            path=where,
        )
