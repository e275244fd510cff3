"""Tracking metrics of a replay: the stack's tracks against the log's labels with ids, per
class, CLEAR-MOT and HOTA with BEV IoU as the similarity.

For every replayed frame whose labels carry ids (``SensorFrame.label_ids``: the same object
keeps its id over the log; a KITTI log's come from its label rows) the tracks (``track_id``)
and the labels, in one frame, are split by class (lower-case :class:`ObjectClass` names, as
:class:`~drivestack.replay.runner.DetectionTally` names them) and their BEV IoU computed once:

1. tracks outside the region the labels cover (KITTI: the camera's view; the runner's
   ``tracks_region``) are not scored (``outside_labelled_region``); a track of a class in
   :data:`IGNORED_LABELS` (a Car) that overlaps no label of its own
   class by :data:`IOU_THRESHOLD` but a label of an ignored class (a Van) by that much is
   neither true nor false (``on_ignored_labels``);
2. CLEAR-MOT as TrackEval's ``metrics/clear.py`` computes it (:func:`clear_mot`): per frame a
   Hungarian assignment on the similarity plus a bonus of 1000 for the pairs matched in the
   class's previous frame, pairs below the threshold never matched; MOTA, MOTP, MODA, ID
   switches, fragmentations, MT / PT / ML (tracked over 80 % / at least 20 % / less of the
   object's labelled frames);
3. HOTA (Luiten et al. 2020) on the same similarities with
   :func:`~drivestack.eval.tracking.hota.compute_hota` (TrackEval's algorithm: 19 thresholds
   0.05 .. 0.95, their mean).

A class's frames are the scored frames in which it has a label or a track; TrackEval skips a
frame without labels or without tracks of the class before it updates its matching state, so
(as there) such a frame neither breaks a match's continuity nor starts a fragmentation.
Frames without label ids are not scored and counted (``frames_without_label_ids``), as are
frames whose labels cannot be placed in the tracks' frame (``frames_not_scored``). A track
class the labels never have still counts its false positives (MOTA and MODA are undefined
there, None, as is MOTP without a true positive; TrackEval's max(1, ·) denominators would
give ``-FP`` and 0).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy.optimize import linear_sum_assignment

from drivestack.eval.tracking.hota import HOTA_KEYS, HotaInputs, compute_hota
from drivestack.structures.boxes import Boxes3D
from drivestack.structures.labels import ObjectClass
from drivestack.structures.tracks import Tracks

#: Label classes a detection or track of a class may land on without being false (KITTI's
#: protocol ignores Car detections on Van labels): such a box is neither true nor false (the
#: replay's detection tally uses it too).
IGNORED_LABELS: dict[ObjectClass, tuple[ObjectClass, ...]] = {ObjectClass.CAR: (ObjectClass.VAN,)}

#: A track and a label match at a BEV IoU of at least this (CLEAR-MOT, and the ignore rule).
IOU_THRESHOLD = 0.5
#: How much a pair matched in the class's previous frame outweighs the similarity (TrackEval).
_CONTINUITY_BONUS = 1000.0
_EPS = float(np.finfo(float).eps)


@dataclass(frozen=True)
class ClassFrame:
    """One frame of a class: ``gt_id (G,)`` and ``tr_id (T,)`` int64 ids numbered within the
    class (0 .. number of ids - 1), ``sim (G, T)`` their similarity."""

    gt_id: np.ndarray
    tr_id: np.ndarray
    sim: np.ndarray


def clear_mot(
    frames: Sequence[ClassFrame], n_gt_ids: int, threshold: float = IOU_THRESHOLD
) -> dict[str, Any]:
    """CLEAR-MOT of one class over ``frames`` in time order, as TrackEval's ``CLEAR``
    ``eval_sequence`` computes it (module docstring); ``n_gt_ids``: how many label ids the
    frames number.

    Returns:
        ``{"TP", "FP", "FN", "IDSW", "Frag", "MT", "PT", "ML": int, "MOTP_sum": float}``.
    """
    out = dict.fromkeys(("TP", "FP", "FN", "IDSW", "Frag", "MT", "PT", "ML"), 0)
    gt_count = np.zeros(n_gt_ids)
    matched_count = np.zeros(n_gt_ids)
    frag_count = np.zeros(n_gt_ids)
    # IDSW against the last track an object was matched to (any frame before); the bonus
    # only for the match of the class's previous frame
    prev_tr = np.full(n_gt_ids, np.nan)
    prev_step_tr = np.full(n_gt_ids, np.nan)
    motp_sum = 0.0
    for f in frames:
        if f.gt_id.size == 0:
            out["FP"] += int(f.tr_id.size)
            continue
        if f.tr_id.size == 0:
            out["FN"] += int(f.gt_id.size)
            gt_count[f.gt_id] += 1
            continue
        score = _CONTINUITY_BONUS * (f.tr_id[None, :] == prev_step_tr[f.gt_id][:, None]) + f.sim
        score[f.sim < threshold - _EPS] = 0.0
        rows, cols = linear_sum_assignment(-score)
        real = score[rows, cols] > _EPS
        rows, cols = rows[real], cols[real]
        gt_m, tr_m = f.gt_id[rows], f.tr_id[cols]
        before = prev_tr[gt_m]
        out["IDSW"] += int(np.sum(~np.isnan(before) & (tr_m != before)))
        gt_count[f.gt_id] += 1
        matched_count[gt_m] += 1
        untracked = np.isnan(prev_step_tr)
        prev_tr[gt_m] = tr_m
        prev_step_tr[:] = np.nan
        prev_step_tr[gt_m] = tr_m
        frag_count += untracked & ~np.isnan(prev_step_tr)
        out["TP"] += int(rows.size)
        out["FN"] += int(f.gt_id.size - rows.size)
        out["FP"] += int(f.tr_id.size - rows.size)
        motp_sum += float(f.sim[rows, cols].sum())
    seen = gt_count > 0
    ratio = matched_count[seen] / gt_count[seen]
    out["MT"] = int(np.sum(ratio > 0.8))
    out["PT"] = int(np.sum(ratio >= 0.2)) - out["MT"]
    out["ML"] = n_gt_ids - out["MT"] - out["PT"]
    out["Frag"] = int(np.sum(frag_count[frag_count > 0] - 1))
    return {**out, "MOTP_sum": motp_sum}


def hota_inputs_of(frames: Sequence[ClassFrame]) -> HotaInputs:
    """The rows of ``frames`` (numbered in order) and their pairs of positive similarity, as
    :func:`~drivestack.eval.tracking.hota.compute_hota` takes them."""
    gt_frame, gt_id, tr_frame, tr_id, pg, pt, ps = ([] for _ in range(7))
    n_gt = n_tr = 0
    for k, f in enumerate(frames):
        gt_frame.append(np.full(f.gt_id.size, k, dtype=np.int64))
        tr_frame.append(np.full(f.tr_id.size, k, dtype=np.int64))
        gt_id.append(f.gt_id)
        tr_id.append(f.tr_id)
        g, t = np.nonzero(f.sim > 0.0)
        pg.append(g + n_gt)
        pt.append(t + n_tr)
        ps.append(f.sim[g, t])
        n_gt += f.gt_id.size
        n_tr += f.tr_id.size

    def cat(parts: list[np.ndarray], dtype: type) -> np.ndarray:
        return np.concatenate(parts).astype(dtype) if parts else np.zeros(0, dtype=dtype)

    return HotaInputs(
        gt_frame=cat(gt_frame, np.int64),
        gt_id=cat(gt_id, np.int64),
        tr_frame=cat(tr_frame, np.int64),
        tr_id=cat(tr_id, np.int64),
        pair_gt=cat(pg, np.int64),
        pair_tr=cat(pt, np.int64),
        pair_sim=cat(ps, np.float64),
    )


@dataclass
class _ClassTracks:
    """What a class collects: its frames, its ids numbered, the tracks not scored."""

    frames: list[ClassFrame] = field(default_factory=list)
    gt_index: dict[str, int] = field(default_factory=dict)
    tr_index: dict[int, int] = field(default_factory=dict)
    outside_region: int = 0
    on_ignored_labels: int = 0

    def number(self, gt: Sequence[str], tr: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        g = [self.gt_index.setdefault(i, len(self.gt_index)) for i in gt]
        t = [self.tr_index.setdefault(int(i), len(self.tr_index)) for i in tr]
        return np.array(g, dtype=np.int64), np.array(t, dtype=np.int64)


@dataclass
class TrackScorer:
    """Collects a replay's tracks and labelled frames frame by frame; :meth:`metrics` scores
    (module docstring). ``iou_threshold``: CLEAR-MOT's match threshold and the ignore rule's."""

    iou_threshold: float = IOU_THRESHOLD
    frames_scored: int = 0
    frames_without_label_ids: int = 0
    _classes: dict[str, _ClassTracks] = field(default_factory=dict)
    _not_scored: dict[str, int] = field(default_factory=dict)

    def not_scored(self, reason: str) -> None:
        """A frame with tracks that cannot be scored for another reason than missing ids."""
        self._not_scored[reason] = self._not_scored.get(reason, 0) + 1

    def _class(self, name: str) -> _ClassTracks:
        return self._classes.setdefault(name, _ClassTracks())

    def add(
        self,
        tracks: Tracks,
        labels: Boxes3D | None,
        label_ids: Sequence[str] | None,
        region: np.ndarray | None = None,
    ) -> None:
        """One replayed frame: its ``tracks`` and ``labels`` (same frame) with ``label_ids``
        (one per label; None: the frame is not scored, counted in ``frames_without_label_ids``);
        ``region``: which tracks lie where the labels cover (bool per track; None: all).

        Raises:
            ValueError: labels in another frame than the tracks, ids not one per label, an
                id given twice in the frame, or a region not one per track.
        """
        if labels is None or label_ids is None:
            self.frames_without_label_ids += 1
            return
        if labels.frame != tracks.boxes.frame:
            raise ValueError(f"labels in frame {labels.frame!r}, tracks in {tracks.boxes.frame!r}")
        ids = tuple(str(i) for i in label_ids)
        if len(ids) != len(labels):
            raise ValueError(f"label_ids: {len(ids)} ids for {len(labels)} labels")
        if len(set(ids)) != len(ids):
            twice = sorted({i for i in ids if ids.count(i) > 1})
            raise ValueError(f"label_ids: {', '.join(map(repr, twice[:5]))} given twice")
        boxes, track_id = tracks.boxes, np.asarray(tracks.track_id)
        if region is not None:
            inside = np.asarray(region, dtype=bool)
            if inside.shape != (len(tracks),):
                raise ValueError(f"region of shape {inside.shape} for {len(tracks)} tracks")
            for cls in boxes.label[~inside].tolist():
                self._class(ObjectClass(int(cls)).name.lower()).outside_region += 1
            boxes, track_id = boxes.select(inside), track_id[inside]
        iou = np.zeros((len(boxes), len(labels)))
        if len(boxes) and len(labels):
            from drivestack.kernels import box_iou_bev

            iou = np.asarray(box_iou_bev(boxes.to_array7(), labels.to_array7()), dtype=np.float64)
        hit = iou >= self.iou_threshold
        for cls in np.union1d(boxes.label, labels.label).tolist():
            klass = ObjectClass(int(cls))
            name = klass.name.lower()
            rows = boxes.label == cls
            own = labels.label == cls
            if klass in IGNORED_LABELS:
                others = np.isin(labels.label, IGNORED_LABELS[klass])
                ignored = rows & hit[:, others].any(axis=1) & ~hit[:, own].any(axis=1)
                self._class(name).on_ignored_labels += int(ignored.sum())
                rows &= ~ignored
            if not (rows.any() or own.any()):
                continue
            seq = self._class(name)
            gt, tr = seq.number([i for i, o in zip(ids, own, strict=True) if o], track_id[rows])
            seq.frames.append(ClassFrame(gt, tr, iou[np.ix_(rows, own)].T.copy()))
        self.frames_scored += 1

    def metrics(self) -> dict[str, Any]:
        """``{"similarity", "iou_threshold", "frames_scored", "frames_without_label_ids",
        "frames_not_scored": {reason: n}, "by_class": {class: figures}}``; per class:
        ``MOTA``, ``MOTP``, ``MODA`` (None where undefined), ``TP``, ``FP``, ``FN``, ``IDSW``,
        ``Frag``, ``MT``, ``PT``, ``ML``, ``n_labels`` (labelled objects: ids), ``n_tracks``
        (track ids), ``label_boxes``, ``track_boxes``, the HOTA figures (:data:`HOTA_KEYS`,
        fractions), ``outside_labelled_region`` and ``on_ignored_labels`` (tracks not
        scored)."""
        by_class = {name: self._figures(c) for name, c in sorted(self._classes.items())}
        return {
            "similarity": "BEV IoU",
            "iou_threshold": self.iou_threshold,
            "frames_scored": self.frames_scored,
            "frames_without_label_ids": self.frames_without_label_ids,
            "frames_not_scored": dict(sorted(self._not_scored.items())),
            "by_class": by_class,
        }

    def _figures(self, c: _ClassTracks) -> dict[str, Any]:
        clear = clear_mot(c.frames, len(c.gt_index), self.iou_threshold)
        tp, fp, fn = clear["TP"], clear["FP"], clear["FN"]
        n_gt = tp + fn
        hota = compute_hota(hota_inputs_of(c.frames))
        return {
            "MOTA": (tp - fp - clear["IDSW"]) / n_gt if n_gt else None,
            "MOTP": clear["MOTP_sum"] / tp if tp else None,
            "MODA": (tp - fp) / n_gt if n_gt else None,
            **{k: clear[k] for k in ("TP", "FP", "FN", "IDSW", "Frag", "MT", "PT", "ML")},
            "n_labels": len(c.gt_index),
            "n_tracks": len(c.tr_index),
            "label_boxes": n_gt,
            "track_boxes": tp + fp,
            **{k: getattr(hota, k) for k in HOTA_KEYS},
            "outside_labelled_region": c.outside_region,
            "on_ignored_labels": c.on_ignored_labels,
        }


def tracking_lines(metrics: dict[str, Any] | None) -> list[str]:
    """The replay summary's lines of :meth:`TrackScorer.metrics` (None: nothing): one per
    class, and the frames not scored."""
    if metrics is None:
        return []
    thr = f"BEV IoU {metrics['iou_threshold']:g}"
    lines, never = [], []
    for cls, m in metrics["by_class"].items():
        if not m["label_boxes"] and not m["track_boxes"]:
            lines.append(f"  tracking {cls}: nothing scored{_not_counted(cls, m)}")
            continue
        if not m["track_boxes"]:  # a labelled class the stack never tracked (a Van)
            never.append(
                f"{cls} ({count_text(m['label_boxes'], 'label')} of "
                f"{count_text(m['n_labels'], 'object')}{_not_counted(cls, m)})"
            )
            continue
        if not m["label_boxes"]:  # tracked, never labelled: every track box a false positive
            lines.append(
                f"  tracking {cls}: never labelled, {count_text(m['FP'], 'false positive')} "
                f"({count_text(m['n_tracks'], 'track')}, {thr}{_not_counted(cls, m)})"
            )
            continue
        lines.append(
            f"  tracking {cls}: MOTA {_fig(m['MOTA'])}, MOTP {_fig(m['MOTP'])}, HOTA "
            f"{_fig(m['HOTA'])} (DetA {_fig(m['DetA'])}, AssA {_fig(m['AssA'])}), "
            f"{count_text(m['IDSW'], 'ID switch', 'es')}, {count_text(m['Frag'], 'fragmentation')}, "
            f"{count_text(m['FP'], 'false positive')}, {m['FN']} missed; MT/PT/ML "
            f"{m['MT']}/{m['PT']}/{m['ML']} of {count_text(m['n_labels'], 'labelled object')}, "
            f"{count_text(m['n_tracks'], 'track')} ({thr}{_not_counted(cls, m)})"
        )
    if never:
        lines.append("  tracking labelled but never tracked: " + ", ".join(never))
    skipped = {"without label ids": metrics["frames_without_label_ids"]}
    skipped.update(metrics["frames_not_scored"])
    why = ", ".join(f"{k}: {v}" for k, v in skipped.items() if v)
    if why:
        lines.append(
            f"    tracking: {count_text(metrics['frames_scored'], 'frame')} scored; not scored: {why}"
        )
    return lines


def not_counted(cls: str, m: dict[str, Any], noun: str, outside: str) -> str:
    """``"; not counted: 3 tracks outside the labelled region, 1 on van labels"``: the boxes
    (``noun``: track, detection) of class ``cls`` that ``m`` counts apart, those outside the
    labelled region (said as ``outside``) and those on labels of an ignored class; the
    replay's detection lines and tracking lines share it."""
    parts = []
    if m.get("outside_labelled_region"):
        parts.append(f"{count_text(m['outside_labelled_region'], noun)} {outside}")
    if m.get("on_ignored_labels"):
        others = ", ".join(
            c.name.lower() for c in IGNORED_LABELS.get(ObjectClass.from_name(cls), ())
        )
        parts.append(f"{count_text(m['on_ignored_labels'], noun)} on {others} labels")
    return "; not counted: " + ", ".join(parts) if parts else ""


def _not_counted(cls: str, m: dict[str, Any]) -> str:
    return not_counted(cls, m, "track", "outside the labelled region")


def _fig(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3f}"


def count_text(n: int, noun: str, plural: str = "s") -> str:
    """``"1 frame"``, ``"2 frames"`` (``plural``: the ending of more than one)."""
    return f"{n} {noun}{'' if n == 1 else plural}"
