"""Offline whole-track rules for result files, from each track's evidence over a sequence.

An online tracker must decide per frame; a runner that writes a whole sequence's results (KITTI
result files) can decide per track once the sequence is over: drop tracks with too few matched
detections (and so keep the first frames of tracks confirmed later), trim the extrapolated
coasting rows after a track's last match, and score a track by the mean of its matched
detections' scores plus a bonus for its length (KITTI's protocol ranks whole tracks by their
mean score). :func:`offline_result_rows` applies these rules and then the class's score rules
(:func:`~drivestack.tracking.kitti_run.apply_offline_track_rules`).
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from drivestack.ingest.kitti_format import KittiObjects
from drivestack.tracking.config import ClassTrackerConfig, OfflineEvidenceConfig
from drivestack.tracking.kitti_run import SequenceRun, apply_offline_track_rules


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


def offline_result_rows(run: SequenceRun, cfg: ClassTrackerConfig) -> KittiObjects:
    """The result-file rows of a tracked sequence under a class's offline rules: the evidence
    rules (``cfg.offline_evidence``, which need the run's per-row ``hits`` and
    ``detection_score``), then :func:`~drivestack.tracking.kitti_run.apply_offline_track_rules`."""
    rows = run.results
    if cfg.offline_evidence != OfflineEvidenceConfig():
        if run.hits is None or run.detection_score is None:
            raise ValueError("offline_evidence rules need a run with per-row hits and scores")
        rows = apply_track_evidence(rows, run.hits, run.detection_score, cfg.offline_evidence)
    return apply_offline_track_rules(rows, cfg)
