"""2D AP: hand-computed cases."""

from __future__ import annotations

import numpy as np
import pytest

from drivestack.eval.detection2d import ImageBoxes, all_point_ap, average_precision, match_image


def _images() -> list[ImageBoxes]:
    # image 1: A and B; image 2: C. Detections (score): d1 .9 = A, d2 .8 = A again (duplicate),
    # d5 .5 = B shifted 2.5 px (IoU 75/125 = 0.6); d3 .7 = C, d4 .6 far from everything.
    img1 = ImageBoxes(
        gt_xyxy_px=[[0, 0, 10, 10], [20, 20, 30, 30]],
        gt_ignore=[False, False],
        det_xyxy_px=[[0, 0, 10, 10], [22.5, 20, 32.5, 30], [0, 0, 10, 10]],
        det_score=[0.9, 0.5, 0.8],
    )
    img2 = ImageBoxes(
        gt_xyxy_px=[[0, 0, 10, 10]],
        gt_ignore=[False],
        det_xyxy_px=[[0, 0, 10, 10], [100, 100, 120, 130]],
        det_score=[0.7, 0.6],
    )
    return [img1, img2]


def test_ap_at_iou_05_by_hand() -> None:
    # ranked: TP FP TP FP TP; precision 1, 1/2, 2/3, 1/2, 3/5; recall 1/3 .. 1
    # envelope at the three recall steps: 1, 2/3, 3/5 -> AP = (1 + 2/3 + 3/5) / 3 = 34/45
    res = average_precision(_images(), 0.5)
    assert res.ap == pytest.approx(34 / 45)
    np.testing.assert_allclose(res.precision, [1, 1 / 2, 2 / 3, 1 / 2, 3 / 5])
    np.testing.assert_allclose(res.recall, [1 / 3, 1 / 3, 2 / 3, 2 / 3, 1])
    assert (res.n_gt, res.n_tp, res.n_fp) == (3, 3, 2)


def test_ap_at_iou_07_by_hand() -> None:
    # the shifted box (IoU 0.6) becomes a false positive: AP = (1 + 2/3) / 3 = 5/9
    res = average_precision(_images(), 0.7)
    assert res.ap == pytest.approx(5 / 9)
    assert (res.n_tp, res.n_fp) == (2, 3)


def test_duplicate_is_false_positive_and_higher_score_wins() -> None:
    img = _images()[0]
    np.testing.assert_array_equal(match_image(img, 0.5), [1, 1, 0])
    np.testing.assert_array_equal(match_image(img, 0.7), [1, 0, 0])


def test_detections_on_ignored_ground_truth_are_neither_tp_nor_fp() -> None:
    img = ImageBoxes(
        gt_xyxy_px=[[0, 0, 10, 10], [50, 50, 60, 60]],
        gt_ignore=[False, True],
        det_xyxy_px=[[50, 50, 60, 60], [0, 0, 10, 10]],
        det_score=[0.9, 0.8],
    )
    np.testing.assert_array_equal(match_image(img, 0.5), [-1, 1])
    res = average_precision([img], 0.5)
    assert res.ap == pytest.approx(1.0)
    assert (res.n_gt, res.n_tp, res.n_fp) == (1, 1, 0)


def test_envelope_and_degenerate_cases() -> None:
    assert all_point_ap(np.array([0.5, 0.5, 1.0]), np.array([1.0, 0.5, 2 / 3])) == pytest.approx(
        0.5 * 1.0 + 0.5 * 2 / 3
    )
    no_dets = ImageBoxes(np.array([[0, 0, 1, 1]]), np.array([False]), np.zeros((0, 4)), np.zeros(0))
    assert average_precision([no_dets], 0.5).ap == 0.0
    no_gt = ImageBoxes(
        np.zeros((0, 4)), np.zeros(0, bool), np.array([[0, 0, 1, 1]]), np.array([1.0])
    )
    res = average_precision([no_gt], 0.5)
    assert np.isnan(res.ap) and res.n_fp == 1
    with pytest.raises(ValueError, match="iou_threshold"):
        average_precision([no_gt], 0.0)
    with pytest.raises(ValueError, match="gt_ignore"):
        ImageBoxes(np.zeros((2, 4)), np.zeros(1, bool), np.zeros((0, 4)), np.zeros(0))


def test_kitti_rules_ignore_neighbours_dontcare_and_hard_ground_truth() -> None:
    from drivestack.eval.detection2d import KittiFilter, kitti_image_boxes

    boxes = np.array(
        [[0, 0, 50, 50], [100, 0, 150, 50], [200, 0, 250, 10], [300, 0, 350, 50], [400, 0, 450, 50]]
    )
    im = kitti_image_boxes(
        "Car",
        np.array(["Car", "Van", "Car", "DontCare", "Pedestrian"]),
        boxes,
        np.array([0.0, 0.0, 0.0, -1, 0.0]),
        np.array([0, 0, 0, -1, 0]),
        det_type=np.array(["Car", "Car", "Car", "Pedestrian"]),
        det_xyxy_px=np.array(
            [[0, 0, 50, 50], [100, 0, 150, 50], [300, 0, 350, 50], [0, 0, 50, 50]]
        ),
        det_score=np.array([0.9, 0.8, 0.7, 0.6]),
        rules=KittiFilter(min_height_px=25),
    )
    # Pedestrian gone; DontCare a region, not ground truth
    np.testing.assert_array_equal(im.gt_ignore, [False, True, True])
    np.testing.assert_array_equal(im.dc_xyxy_px, [[300, 0, 350, 50]])
    assert im.det_xyxy_px.shape == (3, 4)
    res = average_precision([im], 0.5)
    assert (res.n_gt, res.n_tp, res.n_fp, res.ap) == (1, 1, 0, 1.0)


def test_kitti_filter_counts_the_detections_it_drops() -> None:
    from drivestack.eval.detection2d import kitti_image_boxes

    im = kitti_image_boxes(
        "Car",
        np.array(["Car"]),
        np.array([[0.0, 0.0, 100.0, 50.0]]),
        np.array([0.0]),
        np.array([0]),
        np.array(["Car", "Car", "Car", "Pedestrian"]),
        np.array([[0, 0, 100, 50], [0, 0, 10, 10], [0, 0, 10, 24.9], [0, 0, 5, 5]], float),
        np.array([0.9, 0.8, 0.7, 0.6]),
    )
    # the two low Car boxes dropped (the small Pedestrian is another class's, not counted)
    assert im.det_xyxy_px.shape == (1, 4) and im.det_dropped == 2
    res = average_precision([im, im], 0.5)
    assert (res.ap, res.n_tp, res.n_fp, res.n_dropped, res.n_ignored) == (1.0, 2, 0, 4, 0)


def test_a_match_needs_iou_above_the_threshold_as_the_kitti_devkit() -> None:
    # det [0, 100, 50, 150] on label [0, 100, 100, 150]: IoU 2500 / 5000 = 0.5 exactly, which
    # the devkit's `overlap > min_overlap` does not match at 0.5 (a false positive)
    img = ImageBoxes([[0, 100, 100, 150]], [False], [[0, 100, 50, 150]], [0.9])
    np.testing.assert_array_equal(match_image(img, 0.5), [0])
    np.testing.assert_array_equal(match_image(img, 0.4999), [1])
    res = average_precision([img], 0.5)
    assert (res.ap, res.n_tp, res.n_fp) == (0.0, 0, 1)
    # an ignored label also needs IoU above the threshold to absorb a detection
    ignored = ImageBoxes([[0, 100, 100, 150]], [True], [[0, 100, 50, 150]], [0.9])
    np.testing.assert_array_equal(match_image(ignored, 0.5), [0])
    with pytest.raises(ValueError, match=r"iou_threshold must be in \(0, 1\)"):
        average_precision([img], 1.0)  # nothing can exceed IoU 1


def test_dontcare_ignores_by_intersection_over_the_detections_own_area() -> None:
    # DontCare [400, 100, 600, 200] (area 20000). d1 [450, 120, 480, 150] lies inside it:
    # IoU 900 / 20000 = 0.045 (the old rule: a false positive) but intersection / own area 1.
    # d2 [550, 100, 650, 200]: half inside (5000 / 10000 = 0.5, not above 0.5): a false positive;
    # d3 [560, 100, 640, 200]: 4000 / 8000 = 0.5 too; d4 [540, 100, 640, 200]: 6000 / 10000.
    dc = [[400, 100, 600, 200]]
    img = ImageBoxes(
        gt_xyxy_px=[[100, 100, 200, 160]],
        gt_ignore=[False],
        det_xyxy_px=[
            [450, 120, 480, 150],
            [550, 100, 650, 200],
            [560, 100, 640, 200],
            [540, 100, 640, 200],
            [100, 100, 200, 160],
        ],
        det_score=[0.95, 0.9, 0.85, 0.8, 0.7],
        dc_xyxy_px=dc,
    )
    np.testing.assert_array_equal(match_image(img, 0.5), [-1, 0, 0, -1, 1])
    # at 0.4 the half-inside ones are ignored too
    np.testing.assert_array_equal(match_image(img, 0.4), [-1, -1, -1, -1, 1])
    res = average_precision([img], 0.5)
    assert (res.n_tp, res.n_fp, res.n_ignored) == (1, 2, 2)
    assert res.ap == pytest.approx(1 / 3)  # ranked FP FP TP: precision 1/3 at recall 1


def test_dontcare_never_takes_a_true_positive_and_absorbs_many() -> None:
    # a labelled car inside a DontCare region is still matched (by the highest-scoring box
    # above the threshold); the other boxes in the region are all ignored (a region absorbs
    # any number, unlike a label), the exact copy of the car included once it is taken
    img = ImageBoxes(
        gt_xyxy_px=[[0, 0, 10, 10]],
        gt_ignore=[False],
        det_xyxy_px=[[0, 0, 10, 10], [1, 1, 9, 9], [2, 2, 8, 8]],
        det_score=[0.5, 0.9, 0.8],
        dc_xyxy_px=[[0, 0, 20, 20]],
    )
    np.testing.assert_array_equal(match_image(img, 0.5), [-1, 1, -1])  # IoU 0.64 ranks first
    np.testing.assert_array_equal(match_image(img, 0.7), [1, -1, -1])


def test_kitti_devkit_rule_on_the_repro_files() -> None:
    """The reviewer's r_dc case: a Car, a duplicate of it and a box inside a DontCare region:
    one false positive (the duplicate), AP 1."""
    from drivestack.eval.detection2d import kitti_image_boxes

    im = kitti_image_boxes(
        "Car",
        np.array(["Car", "DontCare"]),
        np.array([[100, 100, 200, 160], [400, 100, 600, 200]], float),
        np.array([0.0, -1.0]),
        np.array([1, -1]),
        np.array(["Car", "Car", "Car"]),
        np.array([[100, 100, 200, 160], [101, 100, 200, 160], [450, 120, 480, 150]], float),
        np.array([0.9, 0.8, 0.95]),
    )
    res = average_precision([im], 0.5)
    assert (res.ap, res.n_tp, res.n_fp, res.n_ignored) == (1.0, 1, 1, 1)


def test_class_names_compare_in_any_case() -> None:
    from drivestack.eval.detection2d import kitti_image_boxes

    im = kitti_image_boxes(
        "Car",
        np.array(["car", "dontcare", "VAN"]),
        np.array([[100, 100, 200, 160], [400, 100, 600, 200], [0, 0, 50, 50]], float),
        np.array([0.0, -1.0, 0.0]),
        np.array([0, -1, 0]),
        np.array(["CAR", "car", "Car"]),
        np.array([[100, 100, 200, 160], [450, 120, 480, 150], [0, 0, 50, 50]], float),
        np.array([0.9, 0.95, 0.8]),
    )
    np.testing.assert_array_equal(im.gt_ignore, [False, True])  # the car, then the Van
    assert im.dc_xyxy_px.shape == (1, 4) and im.det_xyxy_px.shape == (3, 4)
    res = average_precision([im], 0.5)
    assert (res.ap, res.n_tp, res.n_fp, res.n_ignored) == (1.0, 1, 0, 2)


def test_an_ignored_label_absorbs_one_detection_the_next_is_false() -> None:
    """KITTI devkit (and COCO's non-crowd ignore): an ignored label is assigned one detection;
    a second detection on it is a false positive, not ignored too."""
    van = [50.0, 50.0, 60.0, 60.0]
    img = ImageBoxes(
        gt_xyxy_px=[[0, 0, 10, 10], van],
        gt_ignore=[False, True],
        det_xyxy_px=[van, [50, 50, 60, 61], [0, 0, 10, 10]],
        det_score=[0.9, 0.85, 0.8],
    )
    np.testing.assert_array_equal(match_image(img, 0.5), [-1, 0, 1])
    res = average_precision([img], 0.5)
    # ranked (ignored dropped): FP at 0.85, TP at 0.8 -> precision 1/2 at recall 1
    assert (res.n_tp, res.n_fp, res.n_ignored) == (1, 1, 1)
    assert res.ap == pytest.approx(0.5)
    # two ignored labels side by side absorb one detection each
    two = ImageBoxes(
        gt_xyxy_px=[van, [70, 50, 80, 60]],
        gt_ignore=[True, True],
        det_xyxy_px=[van, [70, 50, 80, 60], [70, 50, 80, 60]],
        det_score=[0.9, 0.8, 0.7],
    )
    np.testing.assert_array_equal(match_image(two, 0.5), [-1, -1, 0])
    # a second detection on a used ignored label inside a DontCare region is still ignored
    in_dc = ImageBoxes(
        gt_xyxy_px=[van],
        gt_ignore=[True],
        det_xyxy_px=[van, van],
        det_score=[0.9, 0.8],
        dc_xyxy_px=[[40.0, 40.0, 70.0, 70.0]],
    )
    np.testing.assert_array_equal(match_image(in_dc, 0.5), [-1, -1])
