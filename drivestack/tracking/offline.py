"""Offline whole-track rules for result files, from each track's evidence over a sequence.

An online tracker must decide per frame; a runner that writes a whole sequence's results (KITTI
result files) can decide per track once the sequence is over: drop tracks with too few matched
detections (and so keep the first frames of tracks confirmed later), trim the extrapolated
coasting rows after a track's last match, and score a track by the mean of its matched
detections' scores plus a bonus for its length (KITTI's protocol ranks whole tracks by their
mean score). :func:`offline_result_rows` joins tracks split by a short gap
(:mod:`drivestack.tracking.stitch`), refines each track's boxes from its matched detections
(:mod:`drivestack.tracking.refine`), applies these rules and then the class's score rules
(:func:`apply_offline_track_rules`).
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np

from drivestack.ingest.kitti_format import KittiObjects
from drivestack.ingest.kitti_tracking import (
    AB3DMOT_FOLDER,
    KittiTrackingSequence,
    SeqmapEntry,
    read_class_detections,
    read_ego_poses,
)
from drivestack.tracking.config import (
    ClassTrackerConfig,
    OfflineCrossClassConfig,
    OfflineEvidenceConfig,
    OfflineRefineConfig,
    OfflineStitchConfig,
    OfflineTrackScorerConfig,
)
from drivestack.tracking.cross_class import cross_class_vetoed_tracks
from drivestack.tracking.kitti_run import SequenceRun, track_kitti_sequence
from drivestack.tracking.refine import refine_track_boxes
from drivestack.tracking.stitch import stitch_tracks
from drivestack.tracking.track_scorer import score_tracks
from drivestack.tracking.tracker import Tracker


def apply_track_evidence(
    results: KittiObjects,
    hits: np.ndarray,
    detection_score: np.ndarray,
    cfg: OfflineEvidenceConfig,
) -> KittiObjects:
    """Apply ``cfg`` to ``N`` result rows of one sequence.

    Args:
        results: ``N`` rows (``track_id``, ``frame``, ``score`` are used).
        hits: ``(N,)`` matches of the row's track so far (its maximum over the track is the
            track's number of matched detections).
        detection_score: ``(N,)`` score of the detection matched in that row, NaN when the
            track is coasting.
        cfg: the rules; the defaults return ``results`` unchanged.

    Returns:
        The kept rows, in their order, with per-track scores when ``cfg.log_hits_weight`` is set.
    """
    n = len(results)
    if hits.shape != (n,) or detection_score.shape != (n,):
        raise ValueError(
            f"hits {hits.shape} and detection_score {detection_score.shape} must have one "
            f"entry per result row ({n})"
        )
    if n == 0 or (
        cfg.min_track_hits == 1
        and cfg.trailing_coast_frames is None
        and cfg.log_hits_weight is None
    ):
        return results
    _, inverse = np.unique(results.track_id, return_inverse=True)
    n_tracks = int(inverse.max()) + 1
    matched = ~np.isnan(detection_score)
    track_hits = np.zeros(n_tracks, dtype=np.int64)
    np.maximum.at(track_hits, inverse, hits)
    keep = track_hits[inverse] >= cfg.min_track_hits
    if cfg.trailing_coast_frames is not None:
        last_match = np.full(n_tracks, np.iinfo(np.int64).min // 2, dtype=np.int64)
        np.maximum.at(last_match, inverse[matched], results.frame[matched].astype(np.int64))
        keep &= results.frame <= last_match[inverse] + cfg.trailing_coast_frames
    score = results.score
    if cfg.log_hits_weight is not None:
        n_matched = np.bincount(inverse, weights=matched, minlength=n_tracks)
        score_sum = np.bincount(
            inverse, weights=np.where(matched, detection_score, 0.0), minlength=n_tracks
        )
        # a track always starts with a match, so n_matched >= 1 and track_hits >= 1
        track_score = score_sum / np.maximum(n_matched, 1.0) + cfg.log_hits_weight * np.log(
            np.maximum(track_hits, 1)
        )
        score = track_score[inverse]
    kept = np.flatnonzero(keep)
    return replace(results.select(kept), score=score[kept])


def offline_result_rows(
    run: SequenceRun, cfg: ClassTrackerConfig, other_class_detections: KittiObjects | None = None
) -> KittiObjects:
    """The result-file rows of a tracked sequence under a class's offline rules: the stitching
    of split tracks (``cfg.offline_stitch``, :func:`drivestack.tracking.stitch.stitch_tracks`,
    which needs the run's per-row ``hits`` and ``detection_score``), the veto of tracks another
    class's detector outscores (``cfg.offline_cross_class``,
    :func:`drivestack.tracking.cross_class.cross_class_vetoed_tracks`, which needs that class's
    detections of the sequence as ``other_class_detections``), the box refinement
    (``cfg.offline_refine``, :func:`drivestack.tracking.refine.refine_track_boxes`, which needs
    the run's per-row ``detection_box``), the evidence rules (``cfg.offline_evidence``, which
    need the run's per-row ``hits`` and ``detection_score``), the track scorer
    (``cfg.offline_track_scorer``, :func:`drivestack.tracking.track_scorer.score_tracks`), then
    :func:`apply_offline_track_rules`; ``world_frame`` rules and the track scorer need the
    run's ``camera_poses``."""
    if cfg.offline_stitch != OfflineStitchConfig():
        poses = _rule_poses(run, cfg.offline_stitch.world_frame, "offline_stitch")
        run = stitch_tracks(run, cfg.offline_stitch, poses)
    vetoed = _cross_class_vetoed(run, cfg.offline_cross_class, other_class_detections)
    rows = run.results
    if cfg.offline_refine != OfflineRefineConfig():
        if run.detection_box is None or run.detection_score is None:
            raise ValueError("offline_refine needs a run with per-row detection boxes and scores")
        poses = _rule_poses(run, cfg.offline_refine.world_frame, "offline_refine")
        rows = refine_track_boxes(
            rows, run.detection_box, run.detection_score, cfg.offline_refine, poses
        )
    if cfg.offline_evidence != OfflineEvidenceConfig():
        if run.hits is None or run.detection_score is None:
            raise ValueError("offline_evidence rules need a run with per-row hits and scores")
        rows = apply_track_evidence(rows, run.hits, run.detection_score, cfg.offline_evidence)
    if vetoed.size:
        rows = rows.select(np.flatnonzero(~np.isin(rows.track_id, vetoed)))
    scorer = cfg.offline_track_scorer
    if scorer != OfflineTrackScorerConfig():
        if run.camera_poses is None:
            raise ValueError("offline_track_scorer needs a run with ego poses")
        rows = score_tracks(
            rows, run.camera_poses, scorer.weights, scorer.bias, scorer.min_mean_score
        )
    return apply_offline_track_rules(rows, cfg)


def kitti_sequence_rows(
    tracker: Tracker,
    kitti_root: str | Path,
    cls: str,
    entry: SeqmapEntry,
    rules: ClassTrackerConfig,
    *,
    folder: str = AB3DMOT_FOLDER,
) -> tuple[SequenceRun, KittiObjects]:
    """Track one KITTI tracking sequence's AB3DMOT detections of ``cls`` (with its calib and,
    when the tracker compensates ego motion, its estimated ego poses) and apply the offline
    rules of ``rules``: the run and its result-file rows (``drivestack eval tracking`` and
    ``tools/train_track_scorer.py`` both run sequences this way)."""
    root = Path(kitti_root)
    detections = read_class_detections(root, cls, entry.name, entry.n_frames, folder)
    seq = KittiTrackingSequence(root, entry.name)
    # the pose file is required here (read_ego_poses: DataError naming it when missing)
    poses = read_ego_poses(seq.pose_path) if tracker.cfg.ego_motion_compensation else None
    run = track_kitti_sequence(tracker, detections, seq.calib, entry.n_frames, cls, poses)
    other = other_class_detections(root, rules, entry, folder)
    return run, offline_result_rows(run, rules, other)


def other_class_detections(
    kitti_root: str | Path,
    cfg: ClassTrackerConfig,
    entry: SeqmapEntry,
    folder: str = AB3DMOT_FOLDER,
) -> KittiObjects | None:
    """The AB3DMOT detections of ``cfg.offline_cross_class.other_class`` for the sequence of
    ``entry``, read as the tracked class's are
    (:func:`~drivestack.ingest.kitti_tracking.read_class_detections`: its own class, frames
    of the sequence), or None when the rule is off: what :func:`offline_result_rows` needs
    beside the run."""
    other = cfg.offline_cross_class.other_class
    if other is None:
        return None
    return read_class_detections(kitti_root, other, entry.name, entry.n_frames, folder)


def _cross_class_vetoed(
    run: SequenceRun, cfg: OfflineCrossClassConfig, other: KittiObjects | None
) -> np.ndarray:
    """Ids of the run's tracks vetoed by ``cfg`` (none when it is off); ValueError when the rule
    is on without the other class's detections or the run's per-row detections."""
    if cfg.other_class is None:
        return np.zeros(0, dtype=np.int64)
    if other is None:
        raise ValueError(f"offline_cross_class needs the {cfg.other_class} detections")
    if run.detection_score is None or run.detection_box is None:
        raise ValueError("offline_cross_class needs a run with per-row detection boxes and scores")
    return cross_class_vetoed_tracks(
        run.results, run.detection_score, run.detection_box, other, cfg
    )


def _rule_poses(run: SequenceRun, world_frame: bool, rule: str) -> np.ndarray | None:
    """The run's ``(F, 4, 4)`` ego poses for a rule that works in the world frame, else None;
    ValueError naming the rule when it needs poses the run does not have."""
    if not world_frame:
        return None
    if run.camera_poses is None:
        raise ValueError(f"{rule}.world_frame needs a run with ego poses")
    return run.camera_poses


def _track_mean_per_row(results: KittiObjects) -> np.ndarray:
    """``(N,)`` the mean score of each row's track over the rows."""
    _, inverse = np.unique(results.track_id, return_inverse=True)
    return (np.bincount(inverse, weights=results.score) / np.bincount(inverse))[inverse]


def drop_low_score_tracks(results: KittiObjects, min_mean_score: float | None) -> KittiObjects:
    """Remove whole tracks whose mean score over the sequence is below ``min_mean_score``."""
    if min_mean_score is None or len(results) == 0:
        return results
    return results.select(np.flatnonzero(_track_mean_per_row(results) >= min_mean_score))


#: Resolution of the per-track scores :func:`track_mean_scores` writes: a multiple of 1/64 has
#: at most 6 decimals (read back exactly from the result file) and few significant bits.
TRACK_SCORE_QUANTUM = 1.0 / 64.0


def track_mean_scores(results: KittiObjects, quantum: float = TRACK_SCORE_QUANTUM) -> KittiObjects:
    """Rows with each track's mean score, rounded to a multiple of ``quantum``, on every row.

    KITTI's protocol ranks whole tracks by their mean score, and the reference evaluator
    (AB3DMOT's ``evaluate.py``, reproduced by :func:`drivestack.eval.tracking.clear.remean`)
    re-averages that mean in place in each of its ~40 passes (``sum([v] * n) / n``). For a
    general float ``v`` this moves the mean by an ulp or more, and a track whose mean moves
    down drops out of the pass whose threshold is its own mean: its true positives vanish
    from that recall point. A constant ``k * quantum`` per track is summed and divided exactly,
    so every pass sees the same mean. Ranking changes only between tracks whose means lie
    within ``quantum`` of each other.
    """
    if len(results) == 0:
        return results
    return replace(results, score=np.round(_track_mean_per_row(results) / quantum) * quantum)


def apply_offline_track_rules(results: KittiObjects, cfg: ClassTrackerConfig) -> KittiObjects:
    """The whole-sequence rules of a class for result files: drop tracks below
    ``cfg.offline_min_track_score`` (:func:`drop_low_score_tracks`), then, with
    ``cfg.offline_track_mean_score``, write per-track mean scores (:func:`track_mean_scores`)."""
    kept = drop_low_score_tracks(results, cfg.offline_min_track_score)
    return track_mean_scores(kept) if cfg.offline_track_mean_score else kept
