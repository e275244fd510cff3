"""tools/tracking_oracle_bound.py: the oracle tracker's rows on hand-made cases and on real data."""

from __future__ import annotations

import json
import runpy
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from drivestack.ingest.kitti_format import KittiObjects
from tests.tracking.result_rows import car_rows

REPO = Path(__file__).resolve().parents[3]
TOOL: dict[str, Any] = runpy.run_path(
    str(REPO / "tools" / "tracking_oracle_bound.py"), run_name="tool"
)


def _truth(frames: list[int]) -> KittiObjects:
    """One labelled car (track 7) at the given frames, 2 m x 4 m footprint at x = 10 m."""
    rows = car_rows(frames, [7] * len(frames), [float("nan")] * len(frames))
    n = len(frames)
    return replace(
        rows,
        hwl_m=np.tile([1.5, 1.8, 4.0], (n, 1)),
        location_m=np.tile([0.0, 1.6, 10.0], (n, 1)),
    )


def _detections(truth: KittiObjects, frames: list[int]) -> KittiObjects:
    """Detections equal to the truth at ``frames``, plus one false box 30 m away at frame 0."""
    hits = truth.select(np.flatnonzero(np.isin(truth.frame, frames)))
    false_box = replace(truth.select([0]), location_m=np.array([[0.0, 1.6, 40.0]]))
    dets = KittiObjects.concatenate([hits, false_box])
    return replace(dets, track_id=np.full(len(dets), -1), score=np.linspace(1.0, 2.0, len(dets)))


def test_oracle_keeps_true_detections_under_the_truth_ids_and_drops_the_false_one() -> None:
    truth = _truth(list(range(6)))
    rows = TOOL["oracle_rows"](_detections(truth, [0, 2, 5]), truth, "Car", 0.25, 0, 0)
    assert rows.frame.tolist() == [0, 2, 5]
    assert rows.track_id.tolist() == [7, 7, 7]
    assert rows.score.tolist() == [1.0, 1.0, 1.0]


def test_gaps_are_filled_only_up_to_fill_gap_and_ends_extended_by_extend() -> None:
    truth = _truth(list(range(10)))
    dets = _detections(truth, [2, 4, 8])
    # gaps: 2 -> 4 (2 frames apart), 4 -> 8 (4 apart); before 2: frames 0, 1; after 8: frame 9
    assert TOOL["oracle_rows"](dets, truth, "Car", 0.25, 2, 0).frame.tolist() == [2, 3, 4, 8]
    assert TOOL["oracle_rows"](dets, truth, "Car", 0.25, 4, 0).frame.tolist() == [
        2,
        3,
        4,
        5,
        6,
        7,
        8,
    ]
    assert TOOL["oracle_rows"](dets, truth, "Car", 0.25, 0, 1).frame.tolist() == [1, 2, 4, 8, 9]


def test_a_detection_below_the_iou_threshold_is_not_the_objects() -> None:
    truth = _truth([0])
    shifted = replace(
        truth, location_m=truth.location_m + np.array([0.0, 0.0, 3.0]), track_id=np.array([-1])
    )
    assert len(TOOL["oracle_rows"](shifted, truth, "Car", 0.25, 0, 0)) == 0
    assert len(TOOL["oracle_rows"](shifted, truth, "Car", 0.0, 0, 0)) == 1


def test_oracle_on_real_val_cyclists_has_no_false_positive_and_no_switch(
    shared_data: Path, tmp_path: Path
) -> None:
    root = shared_data / "kitti_tracking"
    args = ["--kitti-root", str(root), "--split", "val", "--classes", "Cyclist"]
    args += ["--out", str(tmp_path)]
    assert TOOL["main"](args) == 0
    metrics = json.loads((tmp_path / "eval" / "metrics.json").read_text())
    best = metrics["metrics"]["iou_0.25"]["classes"]["Cyclist"]["clear"]["best"]
    assert best["FP"] == 0 and best["IDS"] == 0
    assert best["TP"] > 0
    filled = tmp_path / "filled"
    assert TOOL["main"]([*args[:-1], str(filled), "--fill-gap", "10"]) == 0
    filled_best = json.loads((filled / "eval" / "metrics.json").read_text())["metrics"]["iou_0.25"][
        "classes"
    ]["Cyclist"]["clear"]["best"]
    assert filled_best["FN"] < best["FN"]


def _poses_moving_forward(n_frames: int, metres_per_frame: float) -> np.ndarray:
    """``(F, 4, 4)`` camera -> world poses of a camera driving along its z axis."""
    poses = np.tile(np.eye(4), (n_frames, 1, 1))
    poses[:, 2, 3] = metres_per_frame * np.arange(n_frames)
    return poses


def test_detection_gaps_are_interpolated_in_the_world_frame() -> None:
    truth = _truth(list(range(4)))
    dets = _detections(truth, [0, 3])
    # the camera drives 1 m per frame towards a car parked 10 m ahead: 10 m, then 7 m away
    dets = replace(
        dets,
        location_m=np.array([[0.0, 1.6, 10.0], [0.0, 1.6, 7.0], [0.0, 1.6, 40.0]]),
        rotation_y_rad=np.array([0.0, np.pi - 0.3, 0.0]),
    )
    truth = replace(truth, location_m=np.array([[0.0, 1.6, 10.0 - f] for f in range(4)]))
    rows = TOOL["oracle_rows"](dets, truth, "Car", 0.25, 3, 0, _poses_moving_forward(4, 1.0))
    assert rows.frame.tolist() == [0, 1, 2, 3]
    np.testing.assert_allclose(rows.location_m[1:3, 2], [9.0, 8.0])
    # pi - 0.3 points against 0.0: flipped to -0.3 before blending
    np.testing.assert_allclose(rows.rotation_y_rad[1:3], [-0.1, -0.2], atol=1e-3)
    assert set(rows.track_id.tolist()) == {7}


def test_extending_tracks_from_interpolated_detections_is_refused() -> None:
    truth = _truth([0, 1])
    with pytest.raises(ValueError, match="extend needs gaps filled from the ground truth"):
        TOOL["oracle_rows"](_detections(truth, [0]), truth, "Car", 0.25, 2, 1, np.eye(4)[None])


def test_truth_ranking_lifts_the_tracks_matched_in_half_their_frames() -> None:
    """Track 1 follows the labelled car in 2 of its 3 frames (true), track 2 in 1 of its 3
    (false, though it scores higher): every row gets its track's mean score, and the true
    track's rows are lifted above every other track."""
    truth = _truth([0, 1, 2])
    far = truth.location_m + np.array([0.0, 0.0, 30.0])
    on, off = truth.location_m, far
    rows = replace(
        KittiObjects.concatenate([truth, truth]),
        track_id=np.array([1, 1, 1, 2, 2, 2]),
        location_m=np.concatenate([[on[0], on[1], off[2]], [off[0], off[1], on[2]]]),
        score=np.array([1.0, 2.0, 3.0, 5.0, 6.0, 7.0]),
    )
    ranked = TOOL["truth_ranked_rows"](rows, truth, "Car", 0.25)
    offset = TOOL["TRUE_TRACK_SCORE_OFFSET"]
    np.testing.assert_array_equal(ranked.score, [offset + 2.0] * 3 + [6.0] * 3)
    assert ranked.score[:3].min() > ranked.score[3:].max()
    np.testing.assert_array_equal(ranked.location_m, rows.location_m)
