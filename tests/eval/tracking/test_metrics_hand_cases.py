"""Hand-built tiny sequences for the CLEAR-MOT counts, sAMOTA and HOTA."""

from __future__ import annotations

import math

import numpy as np
import pytest

from drivestack.eval.tracking import (
    KittiMotProtocol,
    compute_hota,
    evaluate_clear,
    hota_inputs,
    prepare_class_data,
)
from drivestack.eval.tracking.clear import clear_pass, recall_thresholds
from drivestack.ingest.kitti_format import KittiObjects

PROTO = KittiMotProtocol()


def rows(spec: list[tuple]) -> KittiObjects:
    """spec rows: (frame, track_id, type, x_m, z_m, box2d, score, truncation, occlusion)."""
    n = len(spec)
    if n == 0:
        return KittiObjects()
    return KittiObjects(
        frame=[r[0] for r in spec],
        track_id=[r[1] for r in spec],
        type_name=[r[2] for r in spec],
        truncation=[r[7] if len(r) > 7 else 0 for r in spec],
        occlusion=[r[8] if len(r) > 8 else 0 for r in spec],
        alpha_rad=np.zeros(n),
        box2d_xyxy_px=[r[5] for r in spec],
        hwl_m=np.tile([1.5, 1.6, 3.9], (n, 1)),
        location_m=[[r[3], 1.6, r[4]] for r in spec],
        rotation_y_rad=np.zeros(n),
        score=[r[6] for r in spec],
    )


BOX = (500.0, 150.0, 600.0, 250.0)  # 100 px tall


def evaluate_pass(gt: list[tuple], trk: list[tuple], n_frames: int = 4, cls: str = "Car"):
    data = prepare_class_data(cls, [("0000", n_frames, rows(gt), rows(trk))], PROTO)
    result, _ = clear_pass(data, PROTO, -10000.0, 1.0, np.zeros(data.tr_frame.shape[0], dtype=bool))
    return result, data


def test_perfect_tracking() -> None:
    gt = [(f, 0, "Car", 0.0, 20.0, BOX, 0) for f in range(4)]
    trk = [(f, 7, "Car", 0.0, 20.0, BOX, 1.0) for f in range(4)]
    r, _ = evaluate_pass(gt, trk)
    assert (r.TP, r.FP, r.FN, r.IDS, r.FRAG) == (4, 0, 0, 0, 0)
    assert r.MOTA == 1.0 and pytest.approx(1.0) == r.MOTP and r.MT == 1.0


def test_id_switch_counts_one_switch_and_one_fragmentation() -> None:
    gt = [(f, 0, "Car", 0.0, 20.0, BOX, 0) for f in range(4)]
    trk = [(f, 10 if f < 2 else 11, "Car", 0.0, 20.0, BOX, 1.0) for f in range(4)]
    r, _ = evaluate_pass(gt, trk)
    assert (r.TP, r.FP, r.FN, r.IDS, r.FRAG) == (4, 0, 0, 1, 1)
    assert pytest.approx(1 - 1 / 4) == r.MOTA


def test_gap_is_a_fragmentation_not_a_switch() -> None:
    gt = [(f, 0, "Car", 0.0, 20.0, BOX, 0) for f in range(4)]
    trk = [(f, 10, "Car", 0.0, 20.0, BOX, 1.0) for f in (0, 1, 3)]
    r, _ = evaluate_pass(gt, trk)
    assert (r.TP, r.FN, r.IDS, r.FRAG) == (3, 1, 0, 1)


def test_false_positive_inside_dontcare_is_ignored() -> None:
    dontcare = (0, -1, "DontCare", -10.0, -1.0, (300.0, 100.0, 420.0, 300.0), 0, -1, -1)
    gt = [(0, 0, "Car", 0.0, 20.0, BOX, 0), dontcare]
    inside = (0, 8, "Car", 8.0, 30.0, (310.0, 110.0, 400.0, 290.0), 1.0)
    outside = (0, 9, "Car", -8.0, 30.0, (800.0, 110.0, 900.0, 290.0), 1.0)
    tiny = (0, 10, "Car", -8.0, 60.0, (800.0, 110.0, 900.0, 130.0), 1.0)  # 20 px tall
    r, _ = evaluate_pass(
        gt, [(0, 7, "Car", 0.0, 20.0, BOX, 1.0), inside, outside, tiny], n_frames=1
    )
    assert (r.TP, r.FP, r.n_tracker_ignored) == (1, 1, 2)


def test_track_never_matched_is_mostly_lost() -> None:
    gt = [(f, 0, "Car", 0.0, 20.0, BOX, 0) for f in range(3)] + [
        (f, 1, "Car", 5.0, 40.0, BOX, 0) for f in range(3)
    ]
    trk = [(f, 7, "Car", 0.0, 20.0, BOX, 1.0) for f in range(3)]
    r, _ = evaluate_pass(gt, trk, n_frames=3)
    assert (r.TP, r.FN, r.FP) == (3, 3, 0)
    assert pytest.approx(0.5) == r.ML and pytest.approx(0.5) == r.MT


def test_truncated_and_van_ground_truth_are_ignored() -> None:
    gt = [
        (0, 0, "Car", 0.0, 20.0, BOX, 0, 1, 0),
        (0, 1, "Van", 6.0, 20.0, BOX, 0),
        (0, 2, "Car", -6.0, 20.0, BOX, 0),
    ]
    r, _ = evaluate_pass(gt, [], n_frames=1)
    assert (r.FN, r.ignored_FN, r.n_gt) == (1, 2, 1)


def test_low_iou_is_not_a_match() -> None:
    gt = [(0, 0, "Car", 0.0, 20.0, BOX, 0)]
    r, _ = evaluate_pass(
        gt, [(0, 7, "Car", 0.0, 23.5, BOX, 1.0)], n_frames=1
    )  # overlap 0.4 m of 3.9 m
    assert (r.TP, r.FP, r.FN) == (0, 1, 1)


def test_recall_thresholds_follow_the_devkit_rule() -> None:
    thr, rec = recall_thresholds(
        np.array([5.0, 4.0, 3.0, 2.0]), 4, 5
    )  # sample points 0, .25, .5, .75
    assert thr == [4.0, 3.0, 2.0]
    assert rec == pytest.approx([0.25, 0.5, 0.75])


def test_samota_of_perfect_tracker_is_one() -> None:
    gt = [(f, 0, "Car", 0.0, 20.0, BOX, 0) for f in range(4)]
    trk = [(f, 7, "Car", 0.0, 20.0, BOX, 1.0) for f in range(4)]
    data = prepare_class_data(
        "Car", [("0000", 4, rows(gt), rows(trk))], KittiMotProtocol(num_sample_points=5)
    )
    s = evaluate_clear(data, KittiMotProtocol(num_sample_points=5))
    # the devkit's rule drops recall 0 and the last sample point is 1.0 (score walk ends)
    assert s.best.MOTA == 1.0
    assert all(r.sMOTA == 1.0 for r in s.per_threshold)


def test_hota_split_track_gives_assa_one_half() -> None:
    gt = [(f, 0, "Car", 0.0, 20.0, BOX, 0) for f in range(4)]
    trk = [(f, 10 if f < 2 else 11, "Car", 0.0, 20.0, BOX, 1.0) for f in range(4)]
    data = prepare_class_data("Car", [("0000", 4, rows(gt), rows(trk))], PROTO)
    h = compute_hota(hota_inputs(data, PROTO))
    assert h.DetA == pytest.approx(1.0)
    assert h.AssA == pytest.approx(0.5)
    assert pytest.approx(math.sqrt(0.5)) == h.HOTA
    assert h.LocA == pytest.approx(1.0)


def test_duplicate_track_id_in_a_frame_is_an_error() -> None:
    gt = [(0, 0, "Car", 0.0, 20.0, BOX, 0)]
    trk = [(0, 7, "Car", 0.0, 20.0, BOX, 1.0), (0, 7, "Car", 5.0, 20.0, BOX, 1.0)]
    with pytest.raises(ValueError, match="track id 7"):
        prepare_class_data("Car", [("0000", 1, rows(gt), rows(trk))], PROTO)


def test_a_box_on_a_person_sitting_is_a_false_positive_for_clear_but_not_for_hota() -> None:
    # KITTI tracking spells people sitting "Person": the devkit's substring "person_sitting"
    # never loads them (a box on one is a false positive), TrackEval's HOTA takes them as
    # distractors (the box is removed); before, HOTA counted it as a false positive too
    gt = [(f, 0, "Pedestrian", 0.0, 20.0, BOX, 0) for f in range(4)]
    gt += [(f, 1, "Person", 6.0, 20.0, BOX, 0) for f in range(4)]
    trk = [(f, 7, "Pedestrian", 0.0, 20.0, BOX, 1.0) for f in range(4)]
    trk += [(f, 8, "Pedestrian", 6.0, 20.0, BOX, 1.0) for f in range(4)]
    r, data = evaluate_pass(gt, trk, cls="Pedestrian")
    assert (r.TP, r.FP, r.FN, r.n_gt) == (4, 4, 0, 4)
    assert data.n_gt_trajectories == 1  # the Person track is not a trajectory to find
    h = compute_hota(hota_inputs(data, PROTO))
    assert h.DetA == pytest.approx(1.0) and pytest.approx(1.0) == h.HOTA
    # a Person far from every box changes nothing; a Car box on it is Car's business
    trk_far = [(f, 7, "Pedestrian", 0.0, 20.0, BOX, 1.0) for f in range(4)]
    trk_far += [(f, 8, "Pedestrian", -6.0, 20.0, BOX, 1.0) for f in range(4)]
    _, far = evaluate_pass(gt, trk_far, cls="Pedestrian")
    h_far = compute_hota(hota_inputs(far, PROTO))
    assert h_far.DetA == pytest.approx(0.5)  # 4 TP, 4 FP: 4 / (4 + 4)
    _, car = evaluate_pass(
        [(0, 1, "Person", 6.0, 20.0, BOX, 0)], [(0, 8, "Car", 6.0, 20.0, BOX, 1.0)], n_frames=1
    )
    assert car.distractor_frame is None
    assert compute_hota(hota_inputs(car, PROTO)).DetPr == 0.0


def test_a_person_row_past_its_sequence_stays_out_of_the_next_one() -> None:
    # a Person label past sequence 0000's frames landed on 0001's frames and removed a real
    # false positive there (DetA 1.0 instead of 2/3)
    first = rows([(0, 0, "Pedestrian", 0.0, 20.0, BOX, 0), (5, 1, "Person", 6.0, 20.0, BOX, 0)])
    second_gt = rows([(f, 0, "Pedestrian", 0.0, 20.0, BOX, 0) for f in range(4)])
    second_tr = rows(
        [(f, 7, "Pedestrian", 0.0, 20.0, BOX, 1.0) for f in range(4)]
        + [(3, 8, "Pedestrian", 6.0, 20.0, BOX, 1.0)]
    )
    data = prepare_class_data(
        "Pedestrian", [("0000", 1, first, rows([])), ("0001", 4, second_gt, second_tr)], PROTO
    )
    assert data.distractor_frame is not None and data.distractor_frame.size == 0
    h = compute_hota(hota_inputs(data, PROTO))
    assert h.DetA == pytest.approx(4 / 6)  # 4 TP, 1 FP (the frame-3 box), 1 FN (0000)
