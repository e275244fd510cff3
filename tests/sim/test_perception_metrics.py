"""Detection and tracking metrics on simulated frames: hand-computed cases."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from drivestack.sim.perception_metrics import (
    LightStateMetrics,
    PerceptionEvalConfig,
    PerceptionMetrics,
    greedy_center_matches,
)
from drivestack.structures.boxes import Boxes3D
from drivestack.structures.labels import ObjectClass
from drivestack.structures.tracks import Tracks

CAR, PED, TRUCK = int(ObjectClass.CAR), int(ObjectClass.PEDESTRIAN), int(ObjectClass.TRUCK)


def _boxes(xy_label_score: list[tuple[float, float, int, float]]) -> Boxes3D:
    rows = np.array([[x, y, 0.8, 4.5, 1.9, 1.6, 0.0] for x, y, _, _ in xy_label_score]).reshape(
        -1, 7
    )
    return Boxes3D.from_array7(
        rows,
        "ego",
        0,
        label=np.array([lab for _, _, lab, _ in xy_label_score], dtype=np.int64),
        score=np.array([s for _, _, _, s in xy_label_score]),
    )


def _tracks(rows: list[tuple[int, float, float]]) -> Tracks:
    boxes = _boxes([(x, y, CAR, 0.9) for _, x, y in rows])
    return Tracks(np.array([i for i, _, _ in rows], dtype=np.int64), boxes)


def test_greedy_matching_takes_the_nearest_free_truth_in_score_order():
    gt = np.array([[0.0, 0.0], [3.0, 0.0]])
    pred = np.array([[1.4, 0.0], [0.5, 0.0], [9.0, 0.0]])
    # the 0.9 box takes truth 0 (1.4 m, nearer than 1.6 m); the 0.8 box then only has truth 1,
    # 2.5 m away: too far
    np.testing.assert_array_equal(
        greedy_center_matches(gt, pred, np.array([0.9, 0.8, 0.7]), 2.0), [0, -1, -1]
    )


def test_detection_recall_precision_and_ap_by_hand():
    m = PerceptionMetrics()
    # truth: two vehicles (a car and a truck, one group), a pedestrian nobody saw (0 points),
    # and a car beyond the 50 m range
    truth = _boxes([(10, 0, CAR, 0), (20, 0, TRUCK, 0), (5, 3, PED, 0), (70, 0, CAR, 0)])
    # detections 0.7 m off each vehicle (a TP at 1, 2 and 4 m, a miss at 0.5 m), one ghost car
    # and one box beyond the range (dropped)
    dets = _boxes([(10.7, 0, CAR, 0.9), (20.7, 0, CAR, 0.8), (35, 5, CAR, 0.1), (80, 0, CAR, 0.9)])
    m.add_frame("t=0", truth, ("a", "b", "p", "far"), np.array([50, 80, 0, 9]), dets, None)
    r = m.result()
    vehicle = r["detection"]["vehicle"]
    assert (vehicle["TP"], vehicle["FP"], vehicle["GT"]) == (2, 1, 2)
    assert vehicle["recall"] == 1.0 and vehicle["precision"] == pytest.approx(2 / 3)
    # AP at 1, 2 and 4 m: the two TPs come first (precision 1 up to recall 1), then the ghost
    # (recall 1, precision 2/3); the devkit's interpolation takes the last point at recall 1,
    # so of the 90 recall points 0.11 .. 1.0 the last has (2/3 - 0.1) / 0.9, the rest 1.
    ap = (89 + (2 / 3 - 0.1) / 0.9) / 90
    # at 0.5 m no TP at all -> 0
    assert vehicle["AP_by_distance_m"]["0.5"] == 0.0
    for th in ("1.0", "2.0", "4.0"):
        assert vehicle["AP_by_distance_m"][th] == pytest.approx(ap)
    assert vehicle["AP"] == pytest.approx(3 * ap / 4)
    assert "pedestrian" not in r["detection"]  # no truth counted, no detection
    assert r["detection"]["all"]["mAP"] == pytest.approx(3 * ap / 4)
    assert r["tracking"] == {}


def test_clear_mot_counts_id_switches_and_keeps_correspondences():
    m = PerceptionMetrics(PerceptionEvalConfig(match_distance_m=2.0))
    none = _boxes([])
    frames = [
        ([10.0], [(7, 10.2, 0.0)]),  # TP (0.2 m)
        ([11.0], [(7, 11.1, 0.0), (8, 30.0, 0.0)]),  # TP (0.1 m) + FP
        ([12.0], [(9, 12.0, 0.0)]),  # TP (0 m) by another track: an ID switch
        # track 9 (0.9 m) is kept although track 10 is nearer (0.05 m): 10 is a FP, no switch
        ([13.0], [(9, 13.9, 0.0), (10, 13.05, 0.0)]),
        ([14.0], []),  # FN
    ]
    for k, (gt_x, trk) in enumerate(frames):
        truth = _boxes([(x, 0.0, CAR, 0.0) for x in gt_x])
        m.add_frame(f"t={k}", truth, ("a",), np.array([100]), none, _tracks(trk))
    t = m.result()["tracking"]["vehicle"]
    assert (t["GT"], t["TP"], t["FP"], t["FN"], t["IDS"]) == (5, 4, 2, 1, 1)
    assert t["MOTA"] == pytest.approx(1 - (1 + 2 + 1) / 5)
    assert t["MOTP_m"] == pytest.approx((0.2 + 0.1 + 0.0 + 0.9) / 4)
    assert m.result()["tracking"]["all"]["IDS"] == 1


def test_tracked_velocity_error_over_the_matches():
    m = PerceptionMetrics(PerceptionEvalConfig(match_distance_m=2.0))
    none = _boxes([])
    # truth moving at (10, 0) m/s; track velocities (9, 0), (10, 3), (10, -4) over three ticks:
    # errors 1, 3, 4 m/s; a fourth tick's track 30 m off is no match and does not count
    for k, (v, x) in enumerate([((9, 0), 10.0), ((10, 3), 11.0), ((10, -4), 12.0), ((0, 0), 40)]):
        truth = replace(_boxes([(10.0 + k, 0.0, CAR, 0.0)]), velocity_mps=np.array([[10.0, 0.0]]))
        trk = _tracks([(7, x, 0.0)])
        trk = replace(trk, boxes=replace(trk.boxes, velocity_mps=np.array([v], dtype=float)))
        m.add_frame(f"t={k}", truth, ("a",), np.array([100]), none, trk)
    t = m.result()["tracking"]["vehicle"]
    assert t["TP"] == 3
    assert t["AVE_mps"] == pytest.approx((1 + 3 + 4) / 3)
    assert t["velocity_error_p50_mps"] == pytest.approx(3.0)
    assert t["velocity_error_p90_mps"] == pytest.approx(3.8)  # numpy's linear quantile
    assert m.result()["tracking"]["all"]["AVE_mps"] == pytest.approx(8 / 3)
    # pooled by merge like every other count
    pooled = PerceptionMetrics()
    pooled.merge(m, prefix="r/")
    assert pooled.result()["tracking"]["vehicle"]["AVE_mps"] == pytest.approx(8 / 3)


def test_no_match_leaves_the_velocity_error_undefined():
    m = PerceptionMetrics()
    truth = _boxes([(10, 0, CAR, 0)])
    m.add_frame("t=0", truth, ("a",), np.array([10]), _boxes([]), _tracks([(1, 30.0, 0.0)]))
    t = m.result()["tracking"]["vehicle"]
    assert t["AVE_mps"] is None and t["velocity_error_p90_mps"] is None


def test_merge_pools_ticks_of_runs_and_rejects_clashing_tokens():
    truth = _boxes([(10, 0, CAR, 0)])
    hit, miss = _boxes([(10.1, 0, CAR, 0.9)]), _boxes([(30, 0, CAR, 0.9)])
    a, b, both = PerceptionMetrics(), PerceptionMetrics(), PerceptionMetrics()
    a.add_frame("t=0", truth, ("x",), np.array([10]), hit, None)
    b.add_frame("t=0", truth, ("x",), np.array([10]), miss, None)
    both.add_frame("a/t=0", truth, ("x",), np.array([10]), hit, None)
    both.add_frame("b/t=0", truth, ("x",), np.array([10]), miss, None)
    pooled = PerceptionMetrics()
    pooled.merge(a, prefix="a/")
    pooled.merge(b, prefix="b/")
    assert pooled.result() == both.result()
    assert pooled.result()["detection"]["vehicle"]["recall"] == 0.5
    with pytest.raises(ValueError, match="seen twice"):
        pooled.merge(a, prefix="a/")


def test_bad_input_is_named():
    m = PerceptionMetrics()
    truth = _boxes([(10, 0, CAR, 0)])
    with pytest.raises(ValueError, match="share a frame"):
        m.add_frame("t=0", truth, ("x",), np.array([1]), Boxes3D.empty("world"), None)
    with pytest.raises(ValueError, match="one entry per truth box"):
        m.add_frame("t=0", truth, ("x", "y"), np.array([1]), _boxes([]), None)
    with pytest.raises(ValueError, match="match_distance_m"):
        PerceptionEvalConfig(match_distance_m=0.0)


def test_inferred_light_states_are_counted_apart_from_the_reads() -> None:
    m = LightStateMetrics()
    m.add("green", "green")
    for truth, inferred in [("red", "red"), ("red", "red"), ("yellow", "red"), ("green", "red")]:
        m.add_inferred(truth, inferred)
    other = LightStateMetrics()
    other.add_inferred("red_yellow", "red")
    m.merge(other)
    r = m.result()
    assert (r["light_ticks"], r["accuracy"], r["confusion"]) == (1, 1.0, {"green": {"green": 1}})
    assert r["inferred"] == {
        "light_ticks": 5,
        "truth_unknown": 0,
        "correct": 2,
        "accuracy": pytest.approx(2 / 5),
        "wrong": {"green": {"red": 1}, "yellow": {"red": 1}, "red_yellow": {"red": 1}},
    }
    empty = LightStateMetrics().result()["inferred"]
    assert empty == {
        "light_ticks": 0,
        "truth_unknown": 0,
        "correct": 0,
        "accuracy": None,
        "wrong": {},
    }
    with pytest.raises(ValueError, match="inferred"):
        m.add_inferred("red", "purple")


def test_inferences_about_a_light_of_unknown_true_state_are_not_scored() -> None:
    # a scenario gives the cross light no known state ([[unknown, 60]]): inferring it red is
    # neither right nor wrong
    m = LightStateMetrics()
    for truth, inferred in [("unknown", "red")] * 3 + [("red", "red"), ("green", "red")]:
        m.add_inferred(truth, inferred)
    r = m.result()["inferred"]
    assert r == {
        "light_ticks": 5,
        "truth_unknown": 3,
        "correct": 1,
        "accuracy": pytest.approx(1 / 2),
        "wrong": {"green": {"red": 1}},
    }
    only_unknown = LightStateMetrics()
    only_unknown.add_inferred("unknown", "green")
    assert only_unknown.result()["inferred"] == {
        "light_ticks": 1,
        "truth_unknown": 1,
        "correct": 0,
        "accuracy": None,
        "wrong": {},
    }
