"""Bad inputs found by the stages' bad-input campaign: the tracker and the offline rules
refuse them with a ValueError naming the argument (and row), instead of NaN tracks or an
IndexError / LinAlgError from inside NumPy."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from drivestack.core.transforms import SE3
from drivestack.structures.boxes import Boxes3D
from drivestack.structures.labels import ObjectClass
from drivestack.tracking.config import (
    OfflineRefineConfig,
    OfflineStitchConfig,
    load_tracker_config,
)
from drivestack.tracking.refine import group_weighted_median, refine_track_boxes
from drivestack.tracking.stitch import stitch_tracks
from drivestack.tracking.track_scorer import track_features
from drivestack.tracking.tracker import build_tracker
from tests.tracking.result_rows import TRACKING_CONFIGS
from tests.tracking.test_stitch import make_run

REFINE = OfflineRefineConfig(size="median", interpolate_gaps=True, smooth_half_window_frames=2)
STITCH = OfflineStitchConfig(max_gap_frames=5, max_distance_m=2.0)


def _car(x: float, t_ns: int) -> Boxes3D:
    return Boxes3D.from_array7(
        [[x, 0.0, 0.0, 4.0, 2.0, 1.5, 0.0]], "ego", t_ns, score=[0.9], label=[int(ObjectClass.CAR)]
    )


def test_a_pose_that_overflows_the_boxes_is_refused_not_tracked_as_nan() -> None:
    tracker = build_tracker(TRACKING_CONFIGS / "lidar_stack.yaml")
    far = SE3(np.eye(3), np.array([1e308, 0.0, 0.0]))
    with np.errstate(over="ignore"), pytest.raises(ValueError, match=r"detections row 0 once"):
        tracker.step(_car(1e308, 0), far)  # was: tracks with centre [inf, nan, nan]
    # the refused step left no state: the next (valid) step is the first
    tracks = tracker.step(_car(10.0, 1), SE3.identity())
    assert np.isfinite(tracks.boxes.center_m).all()


def test_detections_beyond_float64_range_are_named_by_row() -> None:
    cfg = load_tracker_config(TRACKING_CONFIGS / "kitti_pointrcnn.yaml")
    tracker = build_tracker(replace(cfg, ego_motion_compensation=False))
    boxes = Boxes3D.from_array7(
        [[1.0, 0, 0, 4, 2, 1.5, 0], [1e200, 0, 0, 4, 2, 1.5, 0]], "lidar", 0, label=[1, 1]
    )
    with pytest.raises(ValueError, match=r"Tracker.step: detections row 1 has a position"):
        tracker.step(boxes)  # was: "boxes_a has positions ..." from inside the IoU kernel


def test_group_weighted_median_of_no_values_is_nan() -> None:
    out = group_weighted_median(np.zeros(0, int), np.zeros((0, 3)), np.zeros(0), 2)
    assert out.shape == (2, 3) and np.isnan(out).all()  # was: IndexError


def test_refine_keeps_the_sizes_of_a_track_without_a_match() -> None:
    run = make_run(
        [(1, [0, 1, 2], [0.0] * 3, [10.0, 11.0, 12.0])], coasting={(1, 0), (1, 1), (1, 2)}
    )
    assert run.detection_box is not None and run.detection_score is not None
    out = refine_track_boxes(run.results, run.detection_box, run.detection_score, REFINE)
    np.testing.assert_array_equal(out.hwl_m, run.results.hwl_m)  # was: IndexError


def test_refine_refuses_a_non_finite_matched_detection() -> None:
    run = make_run([(1, [0, 1, 2], [0.0] * 3, [10.0, 11.0, 12.0])])
    assert run.detection_box is not None
    score = np.array([1.0, np.inf, 1.0])
    with pytest.raises(ValueError, match=r"refine_track_boxes: row 1: a matched detection"):
        refine_track_boxes(run.results, run.detection_box, score, replace(REFINE, score_weight=1.0))


def test_two_rows_of_one_track_at_one_frame_are_refused() -> None:
    run = make_run([(1, [0, 1, 1, 2], [0.0] * 4, [10.0, 11.0, 11.0, 12.0])])
    assert run.detection_box is not None and run.detection_score is not None
    with pytest.raises(
        ValueError, match=r"refine_track_boxes: results: track 1 has 2 rows at frame 1"
    ):
        refine_track_boxes(run.results, run.detection_box, run.detection_score, REFINE)
    with pytest.raises(ValueError, match=r"stitch_tracks: results: track 1 has 2 rows at frame 1"):
        stitch_tracks(run, STITCH)  # was: LinAlgError (singular matrix) in the line fits


def test_camera_poses_that_miss_a_frame_are_refused() -> None:
    run = make_run([(1, [0, 1, 2, 3], [0.0] * 4, [10.0, 11.0, 12.0, 13.0])])
    assert run.detection_box is not None and run.detection_score is not None
    poses = np.tile(np.eye(4), (2, 1, 1))  # frames 0 and 1 only
    match = r"camera_poses has 2 poses \(frames 0..1\) but a row is at frame 2"
    with pytest.raises(ValueError, match="refine_track_boxes: " + match):
        refine_track_boxes(run.results, run.detection_box, run.detection_score, REFINE, poses)
    with pytest.raises(ValueError, match="stitch_tracks: " + match):
        stitch_tracks(run, STITCH, poses)
    with pytest.raises(ValueError, match="track_features: " + match):
        track_features(run.results, poses)  # all three were IndexErrors
