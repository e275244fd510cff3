"""Rules of the Argoverse 2 detection metrics (range and cap filters, the ROI, nearest-label
ties, the miss breakdown) and of the 2D AP (all-point envelope, KITTI filter limits) that the
av2 reference fixtures and the hand-computed cases elsewhere are too uniform to tell apart.

Every expected value is derived by hand from the rule in the docstring; each test fails when
the rule it names is changed (a boundary moved, a filter or a term dropped)."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from drivestack.core.transforms import SE3
from drivestack.eval.detection.argoverse2 import (
    Av2DetectionConfig,
    evaluate,
    evaluated_dts_mask,
    evaluated_gts_mask,
)
from drivestack.eval.detection.av2_diagnostics import miss_breakdown
from drivestack.eval.detection.av2_roi import cuboids_in_roi, read_drivable_area_roi
from drivestack.eval.detection2d import (
    ImageBoxes,
    all_point_ap,
    average_precision,
    kitti_image_boxes,
)
from drivestack.ingest.argoverse2 import Av2Cuboids
from tests.eval.detection.test_av2_diagnostics import _table

NO_ROI = Av2DetectionConfig(categories=("vehicle", "pedestrian"), eval_only_roi_instances=False)


def _cuboids(
    xs: list[float],
    categories: list[str],
    scores: list[float] | None = None,
    num_interior_pts: list[int] | None = None,
) -> Av2Cuboids:
    """One sweep of one log; boxes 4 x 2 x 1.5 m at ``(x, 0, 0)``, yaw 0. Labels when
    ``scores`` is None (10 interior points unless given), else detections."""
    table = _table(xs, categories, [1.0] * len(xs) if scores is None else scores, scores is None)
    if num_interior_pts is None:
        return table
    return replace(table, num_interior_pts=np.asarray(num_interior_pts, dtype=np.int64))


# -- Argoverse 2: filters ----------------------------------------------------------------------


def test_av2_detections_count_strictly_within_the_default_150_m() -> None:
    """av2 keeps a detection when ``||centre|| < max_range_m`` (150 m by default): 149.9 m is
    in; exactly 150 m and 160 m are out."""
    xyz = np.array([[149.9, 0, 0], [150.0, 0, 0], [0, 160.0, 0]])
    mask = evaluated_dts_mask(xyz, Av2DetectionConfig())
    assert mask.tolist() == [True, False, False]


def test_av2_labels_count_strictly_within_the_default_150_m() -> None:
    """A label counts when ``||centre|| < max_range_m`` (150 m) and it holds LiDAR points:
    149.9 m in, exactly 150 m and 160 m out (all three hold points)."""
    xyz = np.array([[149.9, 0, 0], [150.0, 0, 0], [0, 160.0, 0]])
    mask = evaluated_gts_mask(xyz, np.array([3, 3, 3]), Av2DetectionConfig())
    assert mask.tolist() == [True, False, False]


def test_av2_detection_cap_counts_only_detections_in_range() -> None:
    """``max_num_dts_per_category`` caps the detections *in range*: with a cap of 2 and the
    score-sorted rows [in, out (200 m), in, in], the in-range count runs 1, 1, 2, 3, so the
    first two in-range rows are kept and the third in-range row (index 3) is cut:
    [True, False, True, False]. Counting every row would cut at index 2 instead."""
    cfg = Av2DetectionConfig(max_num_dts_per_category=2)
    xyz = np.array([[1.0, 0, 0], [200.0, 0, 0], [2.0, 0, 0], [3.0, 0, 0]])
    assert evaluated_dts_mask(xyz, cfg).tolist() == [True, False, True, False]


def test_av2_in_roi_is_not_applied_when_the_config_turns_the_roi_filter_off() -> None:
    """With ``eval_only_roi_instances=False`` the map filter is off even when an ``in_roi`` is
    passed: an ``in_roi`` that rejects everything changes nothing; the one detection on its
    label is evaluated and finds it (AP 1 at every threshold)."""
    gts = _cuboids([10.0], ["vehicle"])
    dts = _cuboids([10.0], ["vehicle"], [0.9])
    res = evaluate(dts, gts, NO_ROI, in_roi=lambda _log, _ts, b: np.zeros(len(b), dtype=bool))
    assert res.dts_evaluated.tolist() == [True] and res.gts_evaluated.tolist() == [True]
    assert res.summary["vehicle"]["AP"] == 1.0


# -- Argoverse 2: assignment -------------------------------------------------------------------


def test_av2_a_detection_equidistant_from_two_labels_takes_the_first_label() -> None:
    """av2 takes ``argmax`` of the affinity (-distance): on a tie the first label in the
    sweep's row order. Labels at x = -1 and x = +1; the detection at 0 (score 0.9) is 1 m from
    both and takes the first (x = -1); the detection at 1.2 (score 0.8) takes x = +1, 0.2 m
    off. Both are TPs at 2 m, with ATE 1.0 and 0.2. Taking the second label on the tie would
    leave the 1.2 m detection a duplicate (FP) of the label at +1."""
    gts = _cuboids([-1.0, 1.0], ["vehicle", "vehicle"])
    dts = _cuboids([0.0, 1.2], ["vehicle", "vehicle"], [0.9, 0.8])
    res = evaluate(dts, gts, NO_ROI)
    at_2m = NO_ROI.affinity_thresholds_m.index(2.0)
    assert res.dts_metrics[:, at_2m].tolist() == [1.0, 1.0]
    num_t = len(NO_ROI.affinity_thresholds_m)
    np.testing.assert_allclose(res.dts_metrics[:, num_t], [1.0, 0.2], atol=1e-12)
    assert res.ap_by_threshold["vehicle"][2.0] == 1.0


# -- Argoverse 2: region of interest -----------------------------------------------------------


def test_av2_roi_is_the_drivable_area_dilated_by_5_m(tmp_path: Path) -> None:
    """The ROI is the drivable area buffered by 5 m: for the 10 m square [0, 10]^2 it reaches
    x = 15 at y = 5. A 0.2 m box at x = 14.8 (vertices x 14.7 .. 14.9) is in; one at x = 15.3
    (vertices 15.2 .. 15.4) is out (identity pose: ego frame = city frame)."""
    square = [{"x": x, "y": y, "z": 0.0} for x, y in ((0, 0), (10, 0), (10, 10), (0, 10))]
    doc = {"drivable_areas": {"1": {"area_boundary": square, "id": 1}}}
    (tmp_path / "log_map_archive_test.json").write_text(json.dumps(doc))
    roi = read_drivable_area_roi(tmp_path)
    boxes = np.array([[14.8, 5.0, 0, 0.2, 0.2, 0.2, 0], [15.3, 5.0, 0, 0.2, 0.2, 0.2, 0]])
    assert cuboids_in_roi(boxes, SE3(np.eye(3)), roi).tolist() == [True, False]


# -- Argoverse 2: miss breakdown -------------------------------------------------------------


def test_av2_miss_causes_need_a_detection_strictly_within_the_threshold() -> None:
    """A miss is "taken" or "other_category" only with a detection closer than the threshold,
    as the protocol's TP test (distance < t). Vehicle labels at 10 and 40 m; a vehicle detection at
    12 m (exactly 2 m off the first) and a pedestrian at 42 m (exactly 2 m off the second).
    At 2 m neither is closer than the threshold: both misses are "no_detection"."""
    gts = _cuboids([10.0, 40.0], ["vehicle", "vehicle"])
    dts = _cuboids([12.0, 42.0], ["vehicle", "pedestrian"], [0.9, 0.8])
    miss = miss_breakdown(dts, gts, evaluate(dts, gts, NO_ROI), "vehicle", 2.0, NO_ROI)
    assert (miss.num_labels, miss.num_found) == (2, 0)
    assert (miss.no_detection, miss.taken, miss.other_category) == (2, 0, 0)


def test_av2_a_miss_near_both_categories_is_taken_not_other_category() -> None:
    """The causes are checked in order: a same-category detection within the threshold
    ("taken") before one of another category. Vehicle labels at 10 and 12.5 m; a vehicle
    detection at 11.5 m is nearest to the second (1.0 vs 1.5 m) and finds it; the first label
    is missed with that vehicle 1.5 m off and a pedestrian 0.2 m off: "taken"."""
    gts = _cuboids([10.0, 12.5], ["vehicle", "vehicle"])
    dts = _cuboids([11.5, 10.2], ["vehicle", "pedestrian"], [0.9, 0.8])
    miss = miss_breakdown(dts, gts, evaluate(dts, gts, NO_ROI), "vehicle", 2.0, NO_ROI)
    assert (miss.num_labels, miss.num_found) == (2, 1)
    assert (miss.no_detection, miss.taken, miss.other_category) == (0, 1, 0)


def test_av2_a_detection_the_protocol_left_out_explains_no_miss() -> None:
    """Only evaluated detections explain a miss. The label at 149 m is in range; the only
    detection, at 150.5 m (1.5 m off), is out of range (not evaluated): the miss is
    "no_detection", not "taken"."""
    gts = _cuboids([149.0], ["vehicle"])
    dts = _cuboids([150.5], ["vehicle"], [0.9])
    res = evaluate(dts, gts, NO_ROI)
    assert res.dts_evaluated.tolist() == [False]
    miss = miss_breakdown(dts, gts, res, "vehicle", 2.0, NO_ROI)
    assert (miss.num_labels, miss.num_found) == (1, 0)
    assert (miss.no_detection, miss.taken, miss.other_category) == (1, 0, 0)


def test_av2_labels_the_protocol_left_out_are_neither_counted_nor_missed() -> None:
    """A label without LiDAR points is not evaluated: it is not among ``num_labels`` and is no
    miss. Labels at 10 m (10 points) and 20 m (0 points); one detection at 10.5 m finds the
    first: 1 label, 1 found, no misses, and AP 1 (one TP against one label)."""
    gts = _cuboids([10.0, 20.0], ["vehicle", "vehicle"], num_interior_pts=[10, 0])
    dts = _cuboids([10.5], ["vehicle"], [0.9])
    miss = miss_breakdown(dts, gts, evaluate(dts, gts, NO_ROI), "vehicle", 2.0, NO_ROI)
    assert (miss.num_labels, miss.num_found) == (1, 1)
    assert (miss.no_detection, miss.taken, miss.other_category) == (0, 0, 0)
    assert miss.ap == 1.0


def test_av2_miss_breakdown_ap_ranks_by_score_not_file_row() -> None:
    """The breakdown's AP ranks the detections by score as the protocol does. One label at 0;
    the file lists a far FP (30 m, score 0.1) before the TP (0.5 m, score 0.9). Ranked TP, FP:
    precision 1, 1/2 at recall 1, 1; the 100 recall samples below 1 read precision 1 and the
    sample at recall 1 reads the last precision 1/2: AP = (100 + 0.5) / 101. In file order
    (FP, TP) the envelope is 1/2 everywhere: AP 0.5."""
    gts = _cuboids([0.0], ["vehicle"])
    dts = _cuboids([30.0, 0.5], ["vehicle", "vehicle"], [0.1, 0.9])
    res = evaluate(dts, gts, NO_ROI)
    miss = miss_breakdown(dts, gts, res, "vehicle", 2.0, NO_ROI)
    assert miss.ap == pytest.approx(100.5 / 101, abs=1e-12)
    assert miss.ap == pytest.approx(res.ap_by_threshold["vehicle"][2.0], abs=1e-12)


# -- 2D AP -------------------------------------------------------------------------------------


def test_2d_all_point_ap_reads_the_precision_envelope() -> None:
    """AP sums each recall step times the *envelope* (max precision at that recall or later).
    Ranked FP, TP, TP against 2 boxes: precision 0, 1/2, 2/3; recall 0, 1/2, 1; envelope
    2/3, 2/3, 2/3 -> AP = 0 * 2/3 + 1/2 * 2/3 + 1/2 * 2/3 = 2/3 (the raw precision would give
    1/2 * 1/2 + 1/2 * 2/3 = 7/12)."""
    assert all_point_ap(np.array([0.0, 0.5, 1.0]), np.array([0.0, 0.5, 2 / 3])) == pytest.approx(
        2 / 3, abs=1e-12
    )
    image = ImageBoxes(
        gt_xyxy_px=np.array([[0, 0, 10, 10], [20, 0, 30, 10]]),
        gt_ignore=np.array([False, False]),
        det_xyxy_px=np.array([[50, 50, 60, 60], [0, 0, 10, 10], [20, 0, 30, 10]]),
        det_score=np.array([0.9, 0.8, 0.7]),
    )
    assert average_precision([image], 0.5).ap == pytest.approx(2 / 3, abs=1e-12)


def _car_rows(truncation: list[float], occlusion: list[int]) -> ImageBoxes:
    """Car ground truth 40 px tall (above every height limit), no detections."""
    n = len(truncation)
    boxes = [[100.0 * i, 0.0, 100.0 * i + 50.0, 40.0] for i in range(n)]
    return kitti_image_boxes(
        "Car",
        np.array(["Car"] * n),
        np.array(boxes),
        np.array(truncation),
        np.array(occlusion),
        np.array([], dtype=str),
        np.zeros((0, 4)),
        np.zeros(0),
    )


def test_2d_kitti_hard_level_keeps_truncation_0_5_and_occlusion_2() -> None:
    """The devkit ignores ground truth when truncation > 0.5 or occlusion > 2 (the "hard"
    level, the default filter): truncation exactly 0.5 and occlusion exactly 2 still count;
    0.51 and 3 are ignored. Rows (truncation, occlusion): (0.5, 0), (0.51, 0), (0, 2), (0, 3)
    -> ignore [False, True, False, True]."""
    boxes = _car_rows([0.5, 0.51, 0.0, 0.0], [0, 0, 2, 3])
    assert boxes.gt_ignore.tolist() == [False, True, False, True]


def test_2d_kitti_detections_are_dropped_by_height_below_25_px_only() -> None:
    """The devkit leaves out detections whose *height* (y2 - y1) is below 25 px: a box 10 px
    wide and exactly 25 px tall is kept; one 40 px wide and 20 px tall and one 24.9 px tall
    are dropped (2 counted in ``det_dropped``)."""
    dets = np.array([[0, 0, 10, 25.0], [100, 0, 140, 20.0], [200, 0, 220, 24.9]])
    boxes = kitti_image_boxes(
        "Car",
        np.array([], dtype=str),
        np.zeros((0, 4)),
        np.zeros(0),
        np.zeros(0, dtype=int),
        np.array(["Car", "Car", "Car"]),
        dets,
        np.array([0.9, 0.8, 0.7]),
    )
    assert boxes.det_xyxy_px.tolist() == [[0.0, 0.0, 10.0, 25.0]]
    assert boxes.det_score.tolist() == [0.9]
    assert boxes.det_dropped == 2


def test_2d_kitti_ground_truth_exactly_min_height_tall_is_ignored() -> None:
    """The KITTI devkit's cleanData ignores ground truth with ``height <= MIN_HEIGHT`` (and
    drops detections with ``height < MIN_HEIGHT``): a Car box exactly 25.0 px tall is
    ignored at the default (hard) level, one 25.5 px tall counts."""
    boxes = kitti_image_boxes(
        "Car",
        np.array(["Car", "Car"]),
        np.array([[0.0, 100.0, 50.0, 125.0], [100.0, 100.0, 150.0, 125.5]]),
        np.array([0.0, 0.0]),
        np.array([0, 0]),
        np.array([], dtype=str),
        np.zeros((0, 4)),
        np.zeros(0),
    )
    np.testing.assert_array_equal(boxes.gt_ignore, [True, False])
