"""Preparation and protocol rules of the KITTI tracking evaluation (AB3DMOT / KITTI devkit),
pinned on small hand-built sequences: which ground-truth and tracker rows take part, which are
ignored (occlusion, truncation, neighbouring class, DontCare, 2D height), how tracks are scored
and numbered, the protocol's defaults, frame ranges and the truth matching used to label tracks.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from drivestack.eval.tracking import KittiMotProtocol, prepare_class_data
from drivestack.eval.tracking.kitti import (
    ClassMetrics,
    FrameRange,
    evaluate_class,
    far_from_labels_notes,
    frame_offset_notes,
    labels_past_seqmap_notes,
)
from drivestack.eval.tracking.prepare import (
    ClassData,
    assign_pairs,
    box2d_overlap,
    same_frame_pairs,
)
from drivestack.eval.tracking.protocol import HOTA_MATCH_THRESHOLDS, class_rule
from drivestack.eval.tracking.truth_match import class_objects, match_to_truth, true_track_ids
from drivestack.ingest.kitti_format import KittiObjects
from drivestack.ingest.kitti_tracking import SeqmapEntry

PROTO = KittiMotProtocol()
BOX = (500.0, 150.0, 600.0, 250.0)  # 100 px tall: well above the 25 px minimum


def _rows(spec: list[dict]) -> KittiObjects:
    """Rows from dicts with keys frame, id, type and optional x, z (m), box (2D xyxy), score,
    trunc, occ, hwl; a car-sized box 1.6 m below the camera by default."""
    n = len(spec)
    if n == 0:
        return KittiObjects()
    return KittiObjects(
        frame=np.array([r["frame"] for r in spec], dtype=np.int64),
        track_id=np.array([r["id"] for r in spec], dtype=np.int64),
        type_name=np.array([r["type"] for r in spec]),
        truncation=np.array([float(r.get("trunc", 0)) for r in spec]),
        occlusion=np.array([r.get("occ", 0) for r in spec], dtype=np.int64),
        alpha_rad=np.zeros(n),
        box2d_xyxy_px=np.array([r.get("box", BOX) for r in spec], dtype=float),
        hwl_m=np.array([r.get("hwl", (1.5, 1.6, 3.9)) for r in spec], dtype=float),
        location_m=np.array([[r.get("x", 0.0), 1.6, r.get("z", 20.0)] for r in spec]),
        rotation_y_rad=np.zeros(n),
        score=np.array([r.get("score", 1.0) for r in spec], dtype=float),
    )


def _prepare(gt: list[dict], tr: list[dict], n_frames: int = 1, cls: str = "Car") -> ClassData:
    return prepare_class_data(cls, [("0000", n_frames, _rows(gt), _rows(tr))], PROTO)


# --- 2D overlap ----------------------------------------------------------------------------


def test_box2d_overlap_area_of_a_divides_by_the_first_box_only() -> None:
    """criterion "a": intersection / area(a). a = 10x10 at the origin, b = 15x10 from x = 5:
    intersection 5 * 10 = 50, area(a) 100 -> 0.5; IoU 50 / (100 + 150 - 50) = 0.25."""
    a = np.array([[0.0, 0.0, 10.0, 10.0]])
    b = np.array([[5.0, 0.0, 20.0, 10.0]])
    assert box2d_overlap(a, b, "a")[0] == pytest.approx(0.5)
    assert box2d_overlap(b, a, "a")[0] == pytest.approx(50.0 / 150.0)
    assert box2d_overlap(a, b)[0] == pytest.approx(0.25)


def test_same_frame_pairs_lists_every_pair_of_equal_frames() -> None:
    """frames a = [0, 1, 1], b = [1, 0, 1]: pairs (0, 1), (1, 0), (1, 2), (2, 0), (2, 2)."""
    ia, ib = same_frame_pairs(np.array([0, 1, 1]), np.array([1, 0, 1]))
    assert sorted(zip(ia.tolist(), ib.tolist(), strict=True)) == [
        (0, 1), (1, 0), (1, 2), (2, 0), (2, 2)
    ]  # fmt: skip


# --- ground truth: which rows take part, which are ignored ---------------------------------


def test_ground_truth_occlusion_above_two_is_ignored_two_is_not() -> None:
    """max_occlusion 2: a row is ignored when occlusion > 2, so occlusion 2 (largely
    occluded) counts and 3 (unknown) is ignored."""
    gt = [
        {"frame": 0, "id": 0, "type": "Car", "occ": 2, "x": 0.0},
        {"frame": 0, "id": 1, "type": "Car", "occ": 3, "x": 10.0},
    ]
    assert _prepare(gt, []).gt_ignored.tolist() == [False, True]


def test_ground_truth_truncation_level_above_zero_is_ignored_after_truncating() -> None:
    """max_truncation 0 compared with trunc(truncation): 0.9 -> 0 counts, 1 and 2 are
    ignored."""
    gt = [
        {"frame": 0, "id": 0, "type": "Car", "trunc": 0.9, "x": 0.0},
        {"frame": 0, "id": 1, "type": "Car", "trunc": 1, "x": 10.0},
        {"frame": 0, "id": 2, "type": "Car", "trunc": 0, "x": -10.0},
    ]
    assert _prepare(gt, []).gt_ignored.tolist() == [False, True, False]


def test_van_ground_truth_is_loaded_for_car_and_ignored() -> None:
    """Car loads "car" and "van" rows (substring match), the Van being the neighbouring class
    is ignored; DontCare rows are regions, never ground-truth rows: G = 2 rows, 2 tracks."""
    gt = [
        {"frame": 0, "id": 0, "type": "Car", "x": 0.0},
        {"frame": 0, "id": 1, "type": "Van", "x": 10.0},
        {"frame": 0, "id": -1, "type": "DontCare", "x": -10.0},
    ]
    data = _prepare(gt, [])
    assert data.gt_ignored.tolist() == [False, True]
    assert data.n_gt_trajectories == 2


def test_person_sitting_ground_truth_is_ignored_for_pedestrian() -> None:
    """Pedestrian's neighbouring class is Person_sitting: loaded, ignored."""
    gt = [
        {"frame": 0, "id": 0, "type": "Pedestrian", "x": 0.0},
        {"frame": 0, "id": 1, "type": "Person_sitting", "x": 10.0},
    ]
    data = _prepare(gt, [], cls="Pedestrian")
    assert data.gt_ignored.tolist() == [False, True]


# --- tracker rows: which take part, which are ignorable ------------------------------------


def test_tracker_rows_without_a_track_id_take_no_part() -> None:
    """Tracker rows with track id -1 are dropped, as the devkit drops them: T = 1."""
    tr = [
        {"frame": 0, "id": 3, "type": "Car"},
        {"frame": 0, "id": -1, "type": "Car", "x": 10.0},
    ]
    assert _prepare([], tr).tr_frame.tolist() == [0]


def test_tracker_height_at_the_25_px_minimum_is_ignorable_one_more_is_not() -> None:
    """Unmatched tracker boxes with height <= 25 px are ignorable; the height is the image
    box's y extent (a 300 px wide, 20 px tall box is ignorable, a 20 px wide, 100 px tall one
    is not)."""
    tr = [
        {"frame": 0, "id": 1, "type": "Car", "box": (100.0, 100.0, 200.0, 125.0)},  # 25 px
        {"frame": 0, "id": 2, "type": "Car", "box": (300.0, 100.0, 400.0, 126.0)},  # 26 px
        {"frame": 0, "id": 3, "type": "Car", "box": (400.0, 100.0, 700.0, 120.0)},  # 20 px
        {"frame": 0, "id": 4, "type": "Car", "box": (800.0, 100.0, 820.0, 200.0)},  # 100 px
        {"frame": 0, "id": 5, "type": "Car", "box": (900.0, 100.0, 1000.0, 122.0)},  # 22 px
    ]
    assert _prepare([], tr).tr_ignorable.tolist() == [True, False, True, False, True]


def test_van_tracker_rows_are_ignorable_and_marked_other_class_for_car() -> None:
    """A tracker row typed Van is loaded for Car, ignorable when unmatched and flagged as the
    neighbouring class (the devkit's CLEAR figures score it)."""
    tr = [
        {"frame": 0, "id": 1, "type": "Car"},
        {"frame": 0, "id": 2, "type": "Van", "x": 10.0},
    ]
    data = _prepare([], tr)
    assert data.tr_ignorable.tolist() == [False, True]
    assert data.tr_other_class is not None
    assert data.tr_other_class.tolist() == [False, True]


def test_dontcare_covers_a_tracker_box_strictly_more_than_half() -> None:
    """A tracker box is ignorable when intersection / its own area > 0.5 for a DontCare box of
    its frame. DontCare x 0..100; tracker boxes 100 px tall, 100 px wide:
    x 50..150 -> 50 / 100 = 0.5 (not > 0.5: counts); x 40..140 -> 0.6 (ignorable);
    a 40 px wide box x 60..100 lies inside a DontCare box only 0.4 covered by it
    (40 * 100 / (100 * 100)), but its own area is covered fully -> ignorable."""
    dc = {"frame": 0, "id": -1, "type": "DontCare", "box": (0.0, 100.0, 100.0, 200.0)}
    tr = [
        {"frame": 0, "id": 1, "type": "Car", "box": (50.0, 100.0, 150.0, 200.0), "x": 0.0},
        {"frame": 0, "id": 2, "type": "Car", "box": (40.0, 100.0, 140.0, 200.0), "x": 10.0},
        {"frame": 0, "id": 3, "type": "Car", "box": (60.0, 100.0, 100.0, 200.0), "x": -10.0},
        {"frame": 1, "id": 4, "type": "Car", "box": (40.0, 100.0, 140.0, 200.0), "x": 10.0},
    ]
    data = _prepare([dc], tr, n_frames=2)
    # the frame-1 box: no DontCare in its frame
    assert data.tr_ignorable.tolist() == [False, True, True, False]


# --- track scores and global numbering -----------------------------------------------------


def test_track_score_is_the_mean_over_the_track() -> None:
    """Every row of a track scores the track's mean: (0.2 + 0.4 + 0.9) / 3 = 0.5."""
    tr = [{"frame": f, "id": 4, "type": "Car", "score": s} for f, s in enumerate((0.2, 0.4, 0.9))]
    data = _prepare([], tr, n_frames=3)
    assert data.tr_score.tolist() == pytest.approx([0.5, 0.5, 0.5])
    assert data.track_mean.tolist() == pytest.approx([0.5])
    assert data.track_len.tolist() == [3]


def test_track_ids_are_global_across_sequences() -> None:
    """Two sequences with gt id 0 and tracker id 0 each: the second sequence's are new
    trajectories/tracks (global id 1), and its frames follow the first's
    (n_frames + 1 = 3 frames reserved for sequence 0000)."""
    gt = _rows([{"frame": 0, "id": 0, "type": "Car"}])
    tr = _rows([{"frame": 0, "id": 0, "type": "Car"}])
    data = prepare_class_data("Car", [("0000", 2, gt, tr), ("0001", 2, gt, tr)], PROTO)
    assert data.gt_track.tolist() == [0, 1]
    assert data.tr_track.tolist() == [0, 1]
    assert data.n_gt_trajectories == 2
    assert data.gt_frame.tolist() == [0, 3]
    assert data.n_frames_devkit == 6  # (2 + 1) per sequence


def test_a_person_row_on_the_first_frame_past_its_sequence_is_not_a_distractor() -> None:
    """Person rows count only in the sequence's own frames (< n_frames + 1 = 2 for
    n_frames 1): a Person at frame 2 would land on frame 0 of the next sequence."""
    first = _rows([{"frame": 2, "id": 1, "type": "Person"}])
    data = prepare_class_data(
        "Pedestrian", [("0000", 1, first, _rows([])), ("0001", 1, first, _rows([]))], PROTO
    )
    assert data.distractor_frame is not None and data.distractor_frame.size == 0


def test_pairs_hold_only_boxes_that_overlap() -> None:
    """Pairs are the same-frame (gt, tracker) rows with 3D IoU > 0: a tracker box 10 m beside
    the car (IoU 0) forms none, one on the car forms one."""
    gt = [{"frame": 0, "id": 0, "type": "Car"}]
    tr = [{"frame": 0, "id": 1, "type": "Car", "x": 10.0}, {"frame": 0, "id": 2, "type": "Car"}]
    data = _prepare(gt, tr)
    assert (data.pair_gt.tolist(), data.pair_tr.tolist()) == ([0], [1])


# --- per-frame assignment ------------------------------------------------------------------


def test_assignment_maximises_the_number_of_matches_before_the_cost() -> None:
    """gt A, B; trackers X, Y; candidates A-X 0.1, A-Y 0.2, B-X 0.3 (B-Y gated). Two matches
    (A-Y + B-X, cost 0.5) beat one cheaper match (A-X, 0.1): pairs 1 and 2 chosen."""
    chosen = assign_pairs(
        np.array([0, 0, 0]), np.array([0, 0, 1]), np.array([0, 1, 0]), np.array([0.1, 0.2, 0.3])
    )
    assert chosen.tolist() == [False, True, True]
    # without maximising cardinality only the total cost counts (non-candidates cost 0):
    # A-X alone -0.9 beats A-Y + B-X (-0.2 - 0.1 = -0.3)
    chosen = assign_pairs(
        np.array([0, 0, 0]),
        np.array([0, 0, 1]),
        np.array([0, 1, 0]),
        np.array([-0.9, -0.2, -0.1]),
        maximise_cardinality=False,
    )
    assert chosen.tolist() == [True, False, False]


# --- protocol ------------------------------------------------------------------------------


def test_protocol_defaults_are_ab3dmots_evaluator() -> None:
    """AB3DMOT's evaluator: 3D IoU 0.25, truncation 0, occlusion 2, 25 px, DontCare 0.5,
    41 sample points (40 recall thresholds)."""
    p = KittiMotProtocol()
    assert (p.min_overlap, p.similarity, p.max_truncation, p.max_occlusion) == (
        0.25, "iou_3d", 0, 2
    )  # fmt: skip
    assert (p.min_height_px, p.dontcare_ioa, p.num_sample_points) == (25.0, 0.5, 41)
    assert p.hota_match_threshold == 0.25


def test_protocol_refuses_a_zero_overlap_and_fewer_than_two_sample_points() -> None:
    """min_overlap must be in (0, 1]; num_sample_points at least 2."""
    with pytest.raises(ValueError, match="min_overlap"):
        KittiMotProtocol(min_overlap=0.0)
    KittiMotProtocol(min_overlap=1.0)
    with pytest.raises(ValueError, match="num_sample_points"):
        KittiMotProtocol(num_sample_points=1)
    KittiMotProtocol(num_sample_points=2)


def test_for_similarity_uses_trackevals_2d_threshold_and_keeps_the_overlap() -> None:
    """iou_2d ties boxes for HOTA at 0.5 (TrackEval's KITTI rule), iou_3d at 0.25; the
    min_overlap defaults to 0.25."""
    assert HOTA_MATCH_THRESHOLDS == {"iou_3d": 0.25, "iou_2d": 0.5}
    p2 = KittiMotProtocol.for_similarity("iou_2d")
    assert (p2.hota_match_threshold, p2.min_overlap) == (0.5, 0.25)
    assert KittiMotProtocol.for_similarity("iou_3d", 0.7).min_overlap == 0.7


def test_class_rules_load_the_neighbouring_class() -> None:
    """Car loads car and van (Van ignored), Pedestrian pedestrian and person_sitting,
    Cyclist only cyclist; names in any case; unknown classes are refused."""
    assert class_rule("CAR") == (("car", "van"), "van")
    assert class_rule("pedestrian") == (("pedestrian", "person_sitting"), "person_sitting")
    assert class_rule("Cyclist") == (("cyclist",), None)
    with pytest.raises(ValueError, match="unknown"):
        class_rule("Truck")


# --- frame ranges --------------------------------------------------------------------------


def test_frame_range_of_one_frame_includes_both_ends() -> None:
    """FIRST..LAST both included: 3:3 is one frame; 2:4 keeps frames 2, 3, 4 renumbered
    0, 1, 2; a range ending on a sequence's last frame fits it."""
    assert FrameRange(3, 3).n_frames == 1
    r = FrameRange(2, 4)
    assert r.n_frames == 3
    cut = r.rows(_rows([{"frame": f, "id": 0, "type": "Car"} for f in range(6)]))
    assert cut.frame.tolist() == [0, 1, 2]
    # sequence frames 0..4 (5 frames): 2:4 ends on its last frame
    assert r.seqmap([SeqmapEntry("0000", 0, 5)]) == [SeqmapEntry("0000", 0, 3)]
    with pytest.raises(ValueError, match="not all in sequence"):
        FrameRange(2, 5).seqmap([SeqmapEntry("0000", 0, 5)])


# --- truth matching (track-scorer labels) --------------------------------------------------


def test_truth_rows_need_a_track_id_and_the_exact_class() -> None:
    """class_objects keeps rows of exactly ``cls`` with a track id >= 0."""
    labels = _rows(
        [
            {"frame": 0, "id": 0, "type": "Car"},
            {"frame": 0, "id": -1, "type": "Car", "x": 5.0},
            {"frame": 0, "id": 2, "type": "Van", "x": 10.0},
        ]
    )
    assert class_objects(labels, "Car").track_id.tolist() == [0]


def test_truth_matching_maximises_the_total_iou() -> None:
    """Rows at x = 0 and x = 10, truths at x = 10 and x = 0 (same boxes): the assignment
    pairs equal boxes, row 0 -> truth 1 and row 1 -> truth 0."""
    rows = _rows([{"frame": 0, "id": 1, "type": "Car", "x": 0.0},
                  {"frame": 0, "id": 2, "type": "Car", "x": 10.0}])  # fmt: skip
    truth = _rows([{"frame": 0, "id": 0, "type": "Car", "x": 10.0},
                   {"frame": 0, "id": 1, "type": "Car", "x": 0.0}])  # fmt: skip
    r, t = match_to_truth(rows, truth, 0.5)
    assert sorted(zip(r.tolist(), t.tolist(), strict=True)) == [(0, 1), (1, 0)]


def test_truth_match_keeps_an_iou_equal_to_the_minimum() -> None:
    """A 1 x 2 x 2 box inside a 1 x 2 x 4 box (same centre): IoU = 4 / 8 = 0.5, kept at
    min_iou 0.5 (>=) and refused at 0.6."""
    rows = _rows([{"frame": 0, "id": 1, "type": "Car", "hwl": (1.0, 2.0, 2.0)}])
    truth = _rows([{"frame": 0, "id": 0, "type": "Car", "hwl": (1.0, 2.0, 4.0)}])
    assert match_to_truth(rows, truth, 0.5)[0].tolist() == [0]
    assert match_to_truth(rows, truth, 0.6)[0].tolist() == []


def test_a_track_matched_in_half_its_rows_is_true() -> None:
    """Track 1 matches the truth in frame 0 and is 20 m off in frame 1: 1 of 2 rows = 0.5,
    at least half -> true; track 2 matches in 0 of 1 rows -> not."""
    rows = _rows(
        [
            {"frame": 0, "id": 1, "type": "Car"},
            {"frame": 1, "id": 1, "type": "Car", "x": 20.0},
            {"frame": 0, "id": 2, "type": "Car", "x": -20.0},
        ]
    )
    truth = _rows([{"frame": f, "id": 0, "type": "Car"} for f in (0, 1)])
    assert true_track_ids(rows, truth, 0.5).tolist() == [1]


# --- per-class evaluation and its table ----------------------------------------------------


def test_evaluate_class_counts_the_frames_up_to_the_seqmaps_last_frame() -> None:
    """A seqmap entry from frame 2 with 3 frames ends at frame 4: the sequence is loaded with
    2 + 3 = 5 frames, counted as 5 + 1 = 6 by the devkit (n_frames + 1 per sequence). One
    false positive (a box 10 m beside the car) -> FAR = 1 / 6."""
    gt = _rows([{"frame": f, "id": 0, "type": "Car"} for f in (2, 3, 4)])
    tr = _rows(
        [{"frame": f, "id": 7, "type": "Car"} for f in (2, 3, 4)]
        + [{"frame": 3, "id": 8, "type": "Car", "x": 10.0}]
    )
    m = evaluate_class("Car", [SeqmapEntry("0000", 2, 3)], {"0000": gt}, {"0000": tr}, PROTO)
    assert (m.clear.best.TP, m.clear.best.FP) == (3, 1)
    assert pytest.approx(1 / 6) == m.clear.best.FAR


def _metrics() -> ClassMetrics:
    gt = _rows([{"frame": 0, "id": 0, "type": "Car"}])
    return evaluate_class("Car", [SeqmapEntry("0000", 0, 1)], {"0000": gt}, {"0000": gt}, PROTO)


def test_the_no_remean_row_shows_above_half_a_point_only() -> None:
    """Shown when sAMOTA, AMOTA or best-pass MOTA differ by more than 0.5 points: 0.005
    apart is exactly 0.5 points (not shown), 0.01 is 1 point (shown), also when only MOTA
    differs."""
    m = _metrics()
    c = m.clear
    at = replace(m, clear=replace(c, sAMOTA=0.005), clear_without_remean=replace(c, sAMOTA=0.0))
    assert at.remean_difference_points() == 0.5
    assert not at.remean_shown
    above = replace(at, clear=replace(c, sAMOTA=0.01))
    assert above.remean_shown
    mota = replace(
        m,
        clear=replace(c, best=replace(c.best, MOTA=0.5)),
        clear_without_remean=replace(c, best=replace(c.best, MOTA=0.49)),
    )
    assert mota.remean_difference_points() == pytest.approx(1.0)
    assert mota.remean_shown


# --- notes on result files -----------------------------------------------------------------


def _car_rows(xs: list[float]) -> KittiObjects:
    return _rows([{"frame": f, "id": f, "type": "Car", "x": x} for f, x in enumerate(xs)])


def _car_labels(n: int) -> KittiObjects:
    return _rows([{"frame": f, "id": 0, "type": "Car"} for f in range(n)])


def test_far_rows_are_noted_above_95_percent_and_5_m_is_near(tmp_path: Path) -> None:
    """Rows more than 5 m from every label of their frame are far; a file is noted when over
    95 % of (at least 10) rows are far: 19 of 20 (95 %) is no note, 20 of 20 is; rows exactly
    5 m away are near (no note)."""
    gt = {"0000": _car_labels(20)}
    nineteen = _car_rows([10.0] * 19 + [0.0])
    assert far_from_labels_notes(tmp_path, {"Car": {"0000": nineteen}}, gt) == []
    twenty = _car_rows([10.0] * 20)
    assert len(far_from_labels_notes(tmp_path, {"Car": {"0000": twenty}}, gt)) == 1
    at_reach = _car_rows([5.0] * 20)
    assert far_from_labels_notes(tmp_path, {"Car": {"0000": at_reach}}, gt) == []


def test_far_rows_are_not_noted_beside_a_class_lying_mostly_near(tmp_path: Path) -> None:
    """Another class of the same file (flat layout) with at least 10 rows, at most half of
    them far, lies mostly near its labels: the Car note is dropped. Cyclist 5 of 10 far ->
    dropped; 6 of 10 far -> the Car note stays."""
    cars = _car_rows([10.0] * 20)
    gt_rows = [{"frame": f, "id": 0, "type": "Car"} for f in range(20)]
    gt_rows += [{"frame": f, "id": 1, "type": "Cyclist", "z": 40.0} for f in range(10)]
    gt = {"0000": _rows(gt_rows)}

    def cyclists(n_far: int) -> KittiObjects:
        return _rows(
            [
                {"frame": f, "id": 50 + f, "type": "Cyclist", "z": 40.0, "x": 10.0 * (f < n_far)}
                for f in range(10)
            ]
        )

    half = {"Car": {"0000": cars}, "Cyclist": {"0000": cyclists(5)}}
    assert far_from_labels_notes(tmp_path, half, gt) == []
    more = {"Car": {"0000": cars}, "Cyclist": {"0000": cyclists(6)}}
    notes = far_from_labels_notes(tmp_path, more, gt)
    assert len(notes) == 1 and "Car" in notes[0]


def test_a_label_on_the_first_frame_past_the_seqmap_is_noted(tmp_path: Path) -> None:
    """Seqmap frames 0..2 (3 frames): a label at frame 3 lies past them -> one note naming
    1 row; labels up to frame 2 -> none."""
    seqmap = [SeqmapEntry("0000", 0, 3)]
    notes = labels_past_seqmap_notes(tmp_path, seqmap, {"0000": _car_labels(4)})
    assert len(notes) == 1 and "1 label row(s) in frames 3:3" in notes[0]
    assert labels_past_seqmap_notes(tmp_path, seqmap, {"0000": _car_labels(3)}) == []


def test_frame_offset_note_needs_the_offset_share_higher_by_015_and_by_half(
    tmp_path: Path,
) -> None:
    """Labels: car A standing at x 0 (z 20), car B moving 2 m a frame (x = 2 f, z 40), frames
    0..100. 100 rows: 50 on A (on its label at every offset), 20 on B written one frame late
    (frame f + 1 at x = 2 f: on the label of the frame before only), 30 far from both. Own
    frame: 50 / 100 = 0.5; frame before: 70 / 100 = 0.7: 0.2 higher (>= 0.15) but not 1.5
    times 0.5 (0.75) -> no note. With all 50 non-A rows late: 1.0 against 0.5 -> a note
    (frame before)."""
    labels = [{"frame": f, "id": 0, "type": "Car"} for f in range(101)]
    labels += [{"frame": f, "id": 1, "type": "Car", "x": 2.0 * f, "z": 40.0} for f in range(101)]
    gt = {"0000": _rows(labels)}

    def rows(n_late: int) -> KittiObjects:
        spec = [{"frame": f, "id": 10, "type": "Car"} for f in range(1, 51)]
        spec += [
            {"frame": f + 1, "id": 11, "type": "Car", "x": 2.0 * f, "z": 40.0}
            for f in range(50, 50 + n_late)
        ]
        spec += [{"frame": f, "id": 12, "type": "Car", "x": -30.0} for f in range(50 + n_late, 100)]
        return _rows(spec)

    assert frame_offset_notes(tmp_path, "Car", {"0000": rows(20)}, gt) == []
    notes = frame_offset_notes(tmp_path, "Car", {"0000": rows(50)}, gt)
    assert len(notes) == 1 and "frame before" in notes[0]
