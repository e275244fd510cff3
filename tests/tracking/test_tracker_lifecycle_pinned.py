"""Pinned lifecycle, output and offline whole-track rules of the tracker, each with a
hand-derived expected value at the rule's boundary (drivestack.tracking.tracker, offline,
track_scorer, cross_class, anchor, config, kitti_run)."""

from __future__ import annotations

import math
import warnings
from dataclasses import replace
from typing import Any

import numpy as np
import pytest

from drivestack.ingest.kitti_calib import KittiCalib
from drivestack.structures.boxes import Boxes3D
from drivestack.structures.labels import ObjectClass
from drivestack.structures.tracks import Tracks
from drivestack.tracking.anchor import anchored_boxes, axes_aligned_to
from drivestack.tracking.config import (
    AnchorConfig,
    AssociationConfig,
    ClassTrackerConfig,
    LifecycleConfig,
    OfflineCrossClassConfig,
    OfflineEvidenceConfig,
    TrackerConfig,
)
from drivestack.tracking.cross_class import cross_class_vetoed_tracks
from drivestack.tracking.kitti_run import track_kitti_sequence
from drivestack.tracking.offline import apply_track_evidence, track_mean_scores
from drivestack.tracking.track_scorer import fit_logistic_track_scorer, track_features
from drivestack.tracking.tracker import Tracker, build_tracker
from tests.tracking.result_rows import car_rows

CAR = int(ObjectClass.CAR)
PED = int(ObjectClass.PEDESTRIAN)
NAN = float("nan")


def _tracker(anchor: bool = False, **life: Any) -> Tracker:
    cfg = ClassTrackerConfig(
        association=AssociationConfig(metric="distance_bev", threshold=-2.0),
        lifecycle=LifecycleConfig(**life),
        anchor=AnchorConfig(enabled=anchor),
    )
    return build_tracker(TrackerConfig(classes={"car": cfg}))


def _cars(
    t_ns: int,
    rows: list[list[float]],
    scores: list[float] | None = None,
    labels: list[int] | None = None,
) -> Boxes3D:
    n = len(rows)
    return Boxes3D.from_array7(
        np.array(rows, dtype=np.float64).reshape(n, 7),
        "lidar",
        t_ns,
        score=np.full(n, 0.9) if scores is None else np.array(scores),
        label=np.full(n, CAR) if labels is None else np.array(labels),
    )


def _car_at(x: float, length: float = 4.0, width: float = 2.0) -> list[float]:
    return [x, 0.0, 0.0, length, width, 1.5, 0.0]


# -- ClassTracker.step: births, output gates, scores ------------------------------------------
def test_a_detection_scoring_exactly_birth_score_starts_a_track() -> None:
    """Births need ``score >= birth_score``: a detection at exactly 0.5 starts track 0 and
    (frame 1 <= min_hits: first frames) is output at once."""
    trk = _tracker(birth_score=0.5)
    out = trk.step(_cars(0, [_car_at(10.0)], [0.5]))
    assert out.track_id.tolist() == [0]


def test_two_stage_births_need_at_least_high_score() -> None:
    """With two-stage association only detections scoring ``>= high_score`` start tracks: a
    detection at exactly high_score = 0.7 starts one."""
    cfg = ClassTrackerConfig(
        association=AssociationConfig(
            metric="distance_bev", threshold=-2.0, two_stage=True, high_score=0.7
        ),
    )
    trk = build_tracker(TrackerConfig(classes={"car": cfg}))
    assert trk.step(_cars(0, [_car_at(10.0)], [0.7])).track_id.tolist() == [0]


def test_min_output_score_compares_the_mean_of_all_matched_scores() -> None:
    """Output needs ``mean(matched scores) >= min_output_score``: scores 0.9, 0.9, 0.3 have
    mean 0.7 >= 0.5, so the track is still output in frame 3 although its last score 0.3 is
    below 0.5 (the sum 2.1 is compared with 0.5 * 3 hits = 1.5)."""
    trk = _tracker(min_hits=1, min_output_score=0.5)
    for k, s in enumerate([0.9, 0.9, 0.3]):
        out = trk.step(_cars(k * 100_000_000, [_car_at(10.0)], [s]))
    assert out.track_id.tolist() == [0]


def test_a_mean_score_exactly_min_output_score_is_output() -> None:
    """``score_sum >= min_output_score * hits`` is inclusive: one match at 0.5 with
    min_output_score 0.5 (0.5 >= 0.5 * 1) is output."""
    trk = _tracker(min_hits=1, min_output_score=0.5)
    assert trk.step(_cars(0, [_car_at(10.0)], [0.5])).track_id.tolist() == [0]


def test_hits_bonus_counts_every_match_up_to_the_cap() -> None:
    """Output score = last score + hits_score_bonus * min(hits, hits_score_cap): 0.5 + 0.25 *
    1 = 0.75 at birth; then 0.5 + 0.25 * min(3, 2) = 1.0 in frame 3."""
    trk = _tracker(min_hits=1, hits_score_bonus=0.25, hits_score_cap=2)
    scores = []
    for k in range(3):
        out = trk.step(_cars(k * 100_000_000, [_car_at(10.0)], [0.5]))
        scores.append(float(out.boxes.score[0]))
    assert scores == pytest.approx([0.75, 1.0, 1.0])


def test_a_coasting_track_outputs_its_filtered_box_not_the_last_detection() -> None:
    """``output_detection_box`` replaces only boxes of tracks matched in this frame
    (time_since_update 0): a car at x = 0, 1, 2, 3 m (10 m/s at 0.1 s steps) then missed is
    output coasting at its prediction, about x = 4 m, not at the last detection x = 3 m."""
    trk = _tracker(min_hits=1, output_coast_frames=1, output_detection_box=True)
    for k in range(4):
        trk.step(_cars(k * 100_000_000, [_car_at(float(k))]))
    out = trk.step(_cars(400_000_000, []))
    assert out.time_since_update.tolist() == [1]
    assert out.boxes.center_m[0, 0] > 3.5


def test_detection_index_maps_a_class_selection_back_to_the_input_rows() -> None:
    """With two classes each class tracker gets its own rows; the car matched to its first
    selected row (index 0 of the selection, row 0 of the input) reports input row 0, the
    pedestrian input row 1."""
    cfg = ClassTrackerConfig(association=AssociationConfig(metric="distance_bev", threshold=-2.0))
    trk = build_tracker(TrackerConfig(classes={"car": cfg, "pedestrian": cfg}))
    dets = _cars(0, [_car_at(10.0), [5.0, 5.0, 0.0, 0.8, 0.8, 1.7, 0.0]], labels=[CAR, PED])
    trk.step(dets)
    assert trk.last_detection_index.tolist() == [0, 1]


# -- max_coast_s and the time-step warning ----------------------------------------------------
def test_max_coast_s_counts_from_the_last_match_not_from_birth() -> None:
    """A car matched every 0.1 s keeps track 0 with max_coast_s 0.25 s: the time since its
    last match is 0.1 s each step (the 0.4 s since its birth does not matter)."""
    trk = _tracker(min_hits=1, max_coast_s=0.25)
    ids = [trk.step(_cars(k * 100_000_000, [_car_at(10.0)])).track_id.tolist() for k in range(5)]
    assert ids == [[0]] * 5


def test_a_track_exactly_max_coast_s_old_survives() -> None:
    """Tracks die when more than max_coast_s has passed since their last match: after exactly
    1 s (1e9 ns * 1e-9 == 1.0 s, not > 1.0) the car is matched again and keeps id 0."""
    trk = _tracker(min_hits=1, max_age=100, max_coast_s=1.0)
    trk.step(_cars(0, [_car_at(10.0)]))
    for k in range(1, 10):
        trk.step(_cars(k * 100_000_000, []))
    assert trk.step(_cars(1_000_000_000, [_car_at(10.0)])).track_id.tolist() == [0]


def _warned(steps_ns: list[int]) -> bool:
    trk = _tracker()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for t in steps_ns:
            trk.step(_cars(t, [_car_at(10.0)]))
    return any("nanoseconds" in str(w.message) for w in caught)


def test_a_step_of_exactly_10_us_is_plausible_and_5_us_is_not() -> None:
    """Steps from MIN_PLAUSIBLE_STEP_NS = 10_000 ns (a 100 kHz sensor) are not warned about,
    inclusive; 5_000 ns is below it and warns."""
    assert not _warned([0, 10_000])
    assert _warned([0, 5_000])


def test_a_step_of_exactly_one_day_is_plausible() -> None:
    """MAX_PLAUSIBLE_STEP_NS = 86_400 s in ns is inclusive: no warning at exactly one day."""
    assert not _warned([0, 86_400 * 1_000_000_000])


# -- anchor-point tracks ----------------------------------------------------------------------
def test_anchor_reference_size_is_the_median_of_birth_and_later_boxes() -> None:
    """The size history keeps the birth box (slot 0) and writes the 2nd match in slot 1: a
    parked car born 4 m long, then seen 2 m long (same near face at x = 8 m from the origin),
    gets the reference length median(4, 2) = 3 m, and its box keeps the near face: centre
    8 + 1.5 = 9.5 m."""
    trk = _tracker(anchor=True, min_hits=1)
    trk.step(_cars(0, [_car_at(10.0, length=4.0)]))
    out = trk.step(_cars(100_000_000, [_car_at(9.0, length=2.0)]))
    assert out.boxes.size_m[0, 0] == pytest.approx(3.0)
    assert out.boxes.center_m[0, 0] == pytest.approx(9.5)


def test_anchor_square_boxes_are_not_turned() -> None:
    """A standing track is turned by 90 degrees only when its reference length is *below* its
    width; a square 2 m x 2 m car keeps its yaw 0."""
    trk = _tracker(anchor=True, min_hits=1)
    for k in range(3):
        out = trk.step(_cars(k * 100_000_000, [_car_at(10.0, length=2.0, width=2.0)]))
    assert out.boxes.yaw_rad[0] == pytest.approx(0.0, abs=1e-9)


def test_anchor_track_above_1_mps_takes_its_heading_from_its_velocity() -> None:
    """HEADING_MIN_SPEED_MPS = 1.0: a CV track at 1.5 m/s (0.15 m per 0.1 s along +x) whose
    boxes all say yaw pi is flipped to yaw 0, its direction of travel."""
    trk = _tracker(anchor=True, min_hits=1)
    for k in range(6):
        box = [10.0 + 0.15 * k, 0.0, 0.0, 4.0, 2.0, 1.5, math.pi]
        out = trk.step(_cars(k * 100_000_000, [box]))
    assert math.cos(out.boxes.yaw_rad[0]) > 0.9


def test_axes_align_a_box_50_degrees_off_the_track() -> None:
    """A box more than 45 degrees from its track's axis is turned by 90 degrees with length
    and width swapped: yaw 50 deg against a track at 0 becomes 140 deg, 4 x 2 becomes 2 x 4."""
    box = np.array([[0.0, 0.0, 0.0, 4.0, 2.0, 1.5, math.radians(50.0)]])
    out = axes_aligned_to(box, np.array([0.0]))
    assert out[0, 3:5].tolist() == [2.0, 4.0]
    assert out[0, 6] == pytest.approx(math.radians(140.0))


def test_anchored_box_of_a_rotated_box_keeps_its_visible_side_face() -> None:
    """Box at (0, 0) with yaw 90 deg (length along world y), width 2 along world -x..+x seen
    from (-10, 0): along = 0 (no face along the length), across = +10 > 1, the face at box
    y' = +1 (world x = -1) is visible. Width 2 -> 4 keeps it: centre at world x = -1 + 2 = 1."""
    box = np.array([[0.0, 0.0, 0.0, 4.0, 2.0, 1.5, 0.5 * math.pi]])
    out = anchored_boxes(box, np.array([[4.0, 4.0]]), np.array([-10.0, 0.0]))
    assert out[0, 0] == pytest.approx(1.0)
    assert out[0, 1] == pytest.approx(0.0, abs=1e-12)


# -- config ------------------------------------------------------------------------------------
def test_max_coast_s_of_zero_is_refused() -> None:
    """max_coast_s must be above 0 (0 would kill every track before it can be matched)."""
    with pytest.raises(ValueError, match="max_coast_s"):
        LifecycleConfig(max_coast_s=0.0)


def test_default_lifecycle_kills_a_track_after_three_misses() -> None:
    """Default max_age 2: a track survives 2 missed frames, dies on the 3rd (time_since_update
    3 > 2), and a car seen again then gets a new id."""
    trk = _tracker(min_hits=1)
    trk.step(_cars(0, [_car_at(10.0)]))
    for k in (1, 2, 3):
        trk.step(_cars(k * 100_000_000, []))
    assert trk.step(_cars(400_000_000, [_car_at(10.0)])).track_id.tolist() == [1]


# -- offline rules -----------------------------------------------------------------------------
def test_min_track_hits_two_drops_single_match_tracks() -> None:
    """min_track_hits 2 alone is a rule (not the defaults): track 7 with one match is dropped,
    track 8 with two is kept."""
    rows = car_rows([0, 0, 1], [7, 8, 8], [1.0, 1.0, 1.0])
    hits, det = np.array([1, 1, 2]), np.array([1.0, 1.0, 1.0])
    out = apply_track_evidence(rows, hits, det, OfflineEvidenceConfig(min_track_hits=2))
    assert out.track_id.tolist() == [8, 8]


def test_log_hits_score_averages_the_matched_rows_only() -> None:
    """The mean is over the track's matched rows: rows with hits 3 and 4 (its first two
    matches were not output) and scores 2 and 4 give mean 3, plus 1.0 * ln(4 matches)."""
    rows = car_rows([2, 3], [5, 5], [0.0, 0.0])
    out = apply_track_evidence(
        rows, np.array([3, 4]), np.array([2.0, 4.0]), OfflineEvidenceConfig(log_hits_weight=1.0)
    )
    assert out.score.tolist() == pytest.approx([3.0 + math.log(4.0)] * 2)


def test_track_mean_scores_round_to_the_nearest_quantum() -> None:
    """Means are rounded, not truncated: mean(0, 0.03) = 0.015 = 0.96 / 64 becomes 1 / 64."""
    out = track_mean_scores(car_rows([0, 1], [3, 3], [0.0, 0.03]))
    assert out.score.tolist() == [1.0 / 64.0, 1.0 / 64.0]


def test_displacement_feature_runs_from_the_first_to_the_last_frame() -> None:
    """Rows out of frame order: frame 0 at x = 0, frame 2 at x = 3, frame 1 at x = 1 (listed
    last). The displacement is first frame to last frame, 3 m: ln(0.1 + 3)."""
    rows = replace(
        car_rows([0, 2, 1], [1, 1, 1], [1.0, 1.0, 1.0]),
        location_m=np.array([[0.0, 1.5, 10.0], [3.0, 1.5, 10.0], [1.0, 1.5, 10.0]]),
    )
    _, feats = track_features(rows, np.tile(np.eye(4), (3, 1, 1)))
    assert feats[0, 3] == pytest.approx(math.log(3.1))


def test_logistic_fit_balances_the_l2_penalty() -> None:
    """Features -1 and +1 (std 1), labels 0 and 1, equal weights: by symmetry bias 0, and the
    loss ln(1 + e^-b) + l2 b^2 is least where 1 / (1 + e^b) = 2 l2 b; with l2 = 1 / (20 ln 9)
    that is b = ln 9 (1/10 = 2 ln 9 / (20 ln 9))."""
    weights, bias = fit_logistic_track_scorer(
        np.array([[-1.0], [1.0]]),
        np.array([False, True]),
        np.ones(2),
        1.0 / (20.0 * math.log(9.0)),
        ["mean_score"],
    )
    assert weights["mean_score"] == pytest.approx(math.log(9.0), rel=1e-4)
    assert bias == pytest.approx(0.0, abs=1e-4)


def test_an_other_class_detection_exactly_max_distance_away_vetoes() -> None:
    """``dist <= max_distance_m``: the other class's detection 1.0 m away (x 1 vs 0) with a
    higher score outscores the track in its only matched frame: vetoed."""
    rows = replace(car_rows([0], [4], [1.0]), location_m=np.array([[0.0, 1.5, 10.0]]))
    box = np.array([[0.0, 1.5, 10.0, 1.5, 1.6, 4.0, 0.0]])
    other = replace(car_rows([0], [-1], [2.0]), location_m=np.array([[1.0, 1.5, 10.0]]))
    cfg = OfflineCrossClassConfig(other_class="pedestrian", max_distance_m=1.0)
    assert cross_class_vetoed_tracks(rows, np.array([1.0]), box, other, cfg).tolist() == [4]


# -- kitti_run --------------------------------------------------------------------------------
class _Recorder:
    """A stand-in tracker that records what ``track_kitti_sequence`` steps it with."""

    def __init__(self) -> None:
        self.cfg = TrackerConfig(ego_motion_compensation=False)
        self.calls: list[tuple[int, bool | None]] = []
        self.last_detection_index = np.zeros(0, dtype=np.int64)

    def reset(self) -> None:
        self.calls = []

    def step(self, boxes: Boxes3D, pose: object = None, *, frame_fixed: bool | None = None):
        self.calls.append((boxes.timestamp_ns, frame_fixed))
        return Tracks.empty(boxes.frame, boxes.timestamp_ns)


def test_kitti_frames_are_0_1_s_apart_and_not_fixed_without_poses() -> None:
    """KITTI runs at 10 Hz: frame f is stepped at f * 1e8 ns; without poses the moving
    camera's frame only stands in for a fixed one, so frame_fixed is False."""
    calib = KittiCalib(
        P={"P2": np.array([[700.0, 0, 600, 0], [0, 700, 180, 0], [0, 0, 1, 0]])},
        R0_rect=np.eye(3),
        Tr_velo_to_cam=np.array([[0.0, -1, 0, 0], [0, 0, -1, 0], [1, 0, 0, 0]]),
    )
    rec = _Recorder()
    track_kitti_sequence(rec, car_rows([0], [-1], [1.0]), calib, 3, "Car")  # type: ignore[arg-type]
    assert rec.calls == [(0, False), (100_000_000, False), (200_000_000, False)]
