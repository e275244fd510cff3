"""Offline veto of tracks that another class's detector reports with a higher score.

AB3DMOT's PointRCNN detections come from one detector per class, so one object can be
reported twice: a cyclist is often also a pedestrian detection, and the two classes' trackers
then each follow it. Over a whole sequence the evidence is clear: when, in most frames a
track was matched, the other class's detector saw the same spot with a higher score, the
track is the other class's object (:class:`~drivestack.tracking.config.OfflineCrossClassConfig`).
"""

from __future__ import annotations

import numpy as np

from drivestack.ingest.kitti_format import KittiObjects
from drivestack.tracking.config import OfflineCrossClassConfig


def cross_class_vetoed_tracks(
    results: KittiObjects,
    detection_score: np.ndarray,
    detection_box: np.ndarray,
    other: KittiObjects,
    cfg: OfflineCrossClassConfig,
) -> np.ndarray:
    """Track ids of ``results`` that ``other``'s detections outscore (see the module docstring).

    Args:
        results: ``N`` result rows of one sequence (``track_id``, ``frame`` are used).
        detection_score: ``(N,)`` score of the detection matched in each row, NaN while coasting.
        detection_box: ``(N, 7)`` that detection's box (camera_rect bottom centre x y z, h w l,
            rotation_y; NaN while coasting).
        other: the other class's detections of the sequence (``frame``, ``location_m``,
            ``score``).
        cfg: the distance and the fraction of matched frames that decide.

    Returns:
        ``(K,)`` int64 sorted ids of the vetoed tracks.
    """
    n = len(results)
    if detection_score.shape != (n,) or detection_box.shape != (n, 7):
        raise ValueError(
            f"detection_score {detection_score.shape} and detection_box {detection_box.shape} "
            f"must have one entry per result row ({n})"
        )
    matched = np.flatnonzero(~np.isnan(detection_score))
    if matched.size == 0:
        return np.zeros(0, dtype=np.int64)
    outscored = np.zeros(matched.size, dtype=bool)
    if len(other):
        order = np.argsort(other.frame, kind="stable")
        frames = other.frame[order]
        bev = other.location_m[order][:, [0, 2]]
        scores = other.score[order]
        lo = np.searchsorted(frames, results.frame[matched], side="left")
        hi = np.searchsorted(frames, results.frame[matched], side="right")
        for k, (a, b) in enumerate(zip(lo, hi, strict=True)):
            if a == b:
                continue
            row = matched[k]
            dist = np.linalg.norm(bev[a:b] - detection_box[row, [0, 2]], axis=1)
            outscored[k] = bool(
                np.any((dist <= cfg.max_distance_m) & (scores[a:b] > detection_score[row]))
            )
    ids, inverse = np.unique(results.track_id[matched], return_inverse=True)
    fraction = np.bincount(inverse, weights=outscored) / np.bincount(inverse)
    return ids[fraction >= cfg.min_fraction].astype(np.int64)
