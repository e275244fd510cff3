"""Offline cross-class veto (drivestack.tracking.cross_class): hand cases and the rule's wiring."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from drivestack.ingest.kitti_format import KittiObjects
from drivestack.tracking.config import ClassTrackerConfig, OfflineCrossClassConfig
from drivestack.tracking.cross_class import cross_class_vetoed_tracks
from drivestack.tracking.kitti_run import SequenceRun
from drivestack.tracking.offline import offline_result_rows
from tests.tracking.result_rows import car_rows

NAN = float("nan")
VETO = OfflineCrossClassConfig(other_class="Cyclist", max_distance_m=1.0, min_fraction=0.7)

# track 1 (a cyclist also seen as a pedestrian): matched at frames 0-3 at x = 0, z = 10;
# track 2: matched at frames 0-2 at x = 5, z = 10, coasting at frame 3.
FRAMES = [0, 1, 2, 3, 0, 1, 2, 3]
IDS = [1, 1, 1, 1, 2, 2, 2, 2]
DET_SCORE = np.array([3.0, 3.0, 3.0, 3.0, 4.0, 4.0, 4.0, NAN])
X_M = [0.0, 0.0, 0.0, 0.0, 5.0, 5.0, 5.0, 5.0]


def _detection_boxes() -> np.ndarray:
    """``(8, 7)`` matched boxes (NaN while coasting): bottom centre (x, 1.6, 10), 1.7 x 0.6 x 0.8."""
    boxes = np.array([[x, 1.6, 10.0, 1.7, 0.6, 0.8, 0.0] for x in X_M])
    boxes[np.isnan(DET_SCORE)] = NAN
    return boxes


def _other(frames: list[int], x_m: list[float], scores: list[float]) -> KittiObjects:
    """Cyclist detections at (x, 1.6, 10.3) with the given frames and scores."""
    rows = car_rows(frames, [-1] * len(frames), scores)
    n = len(frames)
    return replace(
        rows,
        type_name=np.array(["Cyclist"] * n),
        location_m=np.column_stack([x_m, np.full(n, 1.6), np.full(n, 10.3)]),
    )


def _rows() -> KittiObjects:
    return car_rows(FRAMES, IDS, [2.0] * len(FRAMES))


def test_a_track_outscored_in_most_matched_frames_is_vetoed() -> None:
    # higher-scored cyclist detections on track 1 in 3 of its 4 matched frames (0.75 >= 0.7)
    other = _other([0, 1, 2, 3], [0.0, 0.2, 0.0, 0.0], [5.0, 5.0, 2.0, 5.0])
    vetoed = cross_class_vetoed_tracks(_rows(), DET_SCORE, _detection_boxes(), other, VETO)
    assert vetoed.tolist() == [1]


def test_lower_scores_far_detections_and_too_few_frames_do_not_veto() -> None:
    boxes = _detection_boxes()
    lower = _other([0, 1, 2, 3], [0.0] * 4, [2.0] * 4)
    assert cross_class_vetoed_tracks(_rows(), DET_SCORE, boxes, lower, VETO).size == 0
    far = _other([0, 1, 2, 3], [1.5] * 4, [9.0] * 4)  # 1.53 m from track 1
    assert cross_class_vetoed_tracks(_rows(), DET_SCORE, boxes, far, VETO).size == 0
    half = _other([0, 1], [0.0, 0.0], [9.0, 9.0])  # 2 of 4 frames = 0.5 < 0.7
    assert cross_class_vetoed_tracks(_rows(), DET_SCORE, boxes, half, VETO).size == 0
    # track 2's coasting frame 3 does not count: 3 of its 3 matched frames outscored
    on_two = _other([0, 1, 2, 3], [5.0] * 4, [9.0] * 4)
    assert cross_class_vetoed_tracks(_rows(), DET_SCORE, boxes, on_two, VETO).tolist() == [2]
    assert cross_class_vetoed_tracks(_rows(), DET_SCORE, boxes, KittiObjects(), VETO).size == 0


def test_mismatched_evidence_is_an_error() -> None:
    with pytest.raises(ValueError, match="one entry per result row"):
        cross_class_vetoed_tracks(_rows(), DET_SCORE[:3], _detection_boxes(), KittiObjects(), VETO)


def test_config_checks_its_values() -> None:
    with pytest.raises(ValueError, match="min_fraction"):
        OfflineCrossClassConfig(other_class="Cyclist", min_fraction=0.0)
    with pytest.raises(ValueError, match="max_distance_m"):
        OfflineCrossClassConfig(other_class="Cyclist", max_distance_m=0.0)
    with pytest.raises(ValueError):
        OfflineCrossClassConfig(other_class="Bicycle rider")


def test_offline_rows_drop_the_vetoed_track_whole() -> None:
    run = SequenceRun(
        results=_rows(),
        step_time_s=0.0,
        n_frames=4,
        detection_score=DET_SCORE,
        detection_box=_detection_boxes(),
    )
    cfg = ClassTrackerConfig(offline_cross_class=VETO)
    other = _other([0, 1, 2, 3], [0.0] * 4, [9.0] * 4)
    assert offline_result_rows(run, cfg, other).track_id.tolist() == [2, 2, 2, 2]
    assert len(offline_result_rows(run, ClassTrackerConfig(), other)) == 8
    with pytest.raises(ValueError, match="needs the Cyclist detections"):
        offline_result_rows(run, cfg)
    with pytest.raises(ValueError, match="per-row detection boxes"):
        offline_result_rows(replace(run, detection_box=None), cfg, other)
