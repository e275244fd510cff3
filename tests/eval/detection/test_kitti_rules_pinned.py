"""KITTI object-detection rules that the devkit fixes and no other test pins, each on a
hand-built case whose AP follows from the rule alone.

The devkit rules (``evaluate_object.cpp`` ``cleanData`` / kitti-object-eval-python
``clean_data``): a ground truth is hard (ignored) for a difficulty when its occlusion >
(0, 1, 2), its truncation > (0.15, 0.30, 0.50) or its 2D height <= (40, 25, 25) px; a
detection is ignored when its 2D height < the min height (so one exactly at it counts); in the
2D metric an unmatched detection inside a DontCare region is not a false positive; mmdetection3d's
``Overall_*`` keys average the classes at the strict overlaps (overlap set 0).

Every case has 50 frames of one car each: with more than 40 labels each of the 40 recall steps
gets its own score threshold, so a perfect detector scores AP40 = 100 (not ``(n - 1) / 40``);
a difficulty with no valid label scores 0.
"""

from __future__ import annotations

import numpy as np
import pytest

from drivestack.eval.detection.kitti import kitti_eval
from drivestack.ingest.kitti_format import KittiObjects

N_FRAMES = 50
DIFFICULTIES = ("easy", "moderate", "hard")


def _car(
    *,
    score: float = 1.0,
    truncation: float = 0.0,
    box2d: tuple[float, float, float, float] = (100.0, 100.0, 200.0, 160.0),
    x_m: float = 0.0,
) -> KittiObjects:
    """One fully visible car 20 m ahead (camera_rect), its 2D box ``box2d``."""
    return KittiObjects(
        type_name=np.array(["Car"]),
        truncation=np.array([truncation]),
        occlusion=np.array([0]),
        alpha_rad=np.zeros(1),
        box2d_xyxy_px=np.array([box2d]),
        hwl_m=np.array([[1.5, 1.6, 4.0]]),
        location_m=np.array([[x_m, 1.5, 20.0]]),
        rotation_y_rad=np.zeros(1),
        score=np.array([score]),
    )


def _dontcare(box2d: tuple[float, float, float, float]) -> KittiObjects:
    """A DontCare region as KITTI label files write it (-1 / -10 / -1000 placeholders)."""
    return KittiObjects(
        type_name=np.array(["DontCare"]),
        truncation=np.array([-1.0]),
        occlusion=np.array([-1]),
        alpha_rad=np.array([-10.0]),
        box2d_xyxy_px=np.array([box2d]),
        hwl_m=np.array([[-1.0, -1.0, -1.0]]),
        location_m=np.array([[-1000.0, -1000.0, -1000.0]]),
        rotation_y_rad=np.array([-10.0]),
    )


def _ap40_2d(res: dict[str, float | None], cls: str = "Car") -> tuple[float | None, ...]:
    return tuple(res[f"{cls}_2D_AP40_{d}_strict"] for d in DIFFICULTIES)


@pytest.mark.parametrize(
    ("truncation", "expected"),
    [
        # 0.2 > 0.15 (easy: ignored), <= 0.30 and <= 0.50 (moderate, hard: valid)
        (0.2, (0.0, 100.0, 100.0)),
        # 0.4 > 0.15 and > 0.30 (easy, moderate: ignored), <= 0.50 (hard: valid)
        (0.4, (0.0, 0.0, 100.0)),
    ],
)
def test_truncation_limits_each_difficulty(
    truncation: float, expected: tuple[float, float, float]
) -> None:
    gts = [_car(truncation=truncation) for _ in range(N_FRAMES)]
    dts = [_car(score=0.9) for _ in range(N_FRAMES)]  # the same boxes: IoU 1
    res = kitti_eval(gts, dts, ["Car"], eval_types=("bbox",))
    assert _ap40_2d(res) == pytest.approx(expected)


@pytest.mark.parametrize(
    ("gt_height_px", "dt_height_px", "expected"),
    [
        # a 42 px label is valid for easy (42 > 40); the 40 px detection is not below the
        # 40 px minimum, so it counts: IoU = 40 / 42 = 0.95 > 0.7, AP 100 everywhere
        (42.0, 40.0, (100.0, 100.0, 100.0)),
        # a 26 px label is easy-ignored (26 <= 40), valid for moderate / hard (26 > 25); the
        # 25 px detection is not below 25 px: IoU = 25 / 26 = 0.96 > 0.7
        (26.0, 25.0, (0.0, 100.0, 100.0)),
        # the labels' rule is "<=": a label exactly 40 px tall is easy-ignored (so easy has
        # no valid label: 0), valid for moderate / hard
        (40.0, 40.0, (0.0, 100.0, 100.0)),
    ],
)
def test_a_detection_exactly_at_the_min_height_counts(
    gt_height_px: float, dt_height_px: float, expected: tuple[float, float, float]
) -> None:
    gts = [_car(box2d=(100.0, 100.0, 200.0, 100.0 + gt_height_px)) for _ in range(N_FRAMES)]
    dts = [
        _car(score=0.9, box2d=(100.0, 100.0, 200.0, 100.0 + dt_height_px)) for _ in range(N_FRAMES)
    ]
    res = kitti_eval(gts, dts, ["Car"], eval_types=("bbox",))
    assert _ap40_2d(res) == pytest.approx(expected)


def test_a_detection_inside_a_dontcare_region_is_not_a_false_positive() -> None:
    region = (300.0, 100.0, 400.0, 160.0)
    gts = [KittiObjects.concatenate([_car(), _dontcare(region)]) for _ in range(N_FRAMES)]
    # per frame: the car found (0.9) and a car-class detection filling the DontCare region,
    # scored higher (0.95) so it is above every threshold
    dts = [
        KittiObjects.concatenate([_car(score=0.9), _car(score=0.95, box2d=region)])
        for _ in range(N_FRAMES)
    ]
    res = kitti_eval(gts, dts, ["Car"], eval_types=("bbox",))
    # the extra detection lies wholly in the region (intersection / its area = 1 > 0.7): it is
    # absorbed, precision 50 / 50 at every recall step -> 100 (as a false positive it would
    # be 50 / (50 + 50) -> 50)
    assert _ap40_2d(res) == pytest.approx((100.0, 100.0, 100.0))


def test_overall_averages_the_classes_at_the_strict_overlap() -> None:
    gts = [_car() for _ in range(N_FRAMES)]
    # shifted 0.8 m sideways: BEV IoU = (1.6 - 0.8) / (1.6 + 0.8) = 1/3, a miss at the strict
    # 0.7 overlap and a hit at the loose 0.3
    dts = [_car(score=0.9, x_m=0.8) for _ in range(N_FRAMES)]
    overlaps = np.array([[[0.7] * 5] * 3, [[0.3] * 5] * 3])  # (strict, loose) x 3 metrics x 5
    res = kitti_eval(gts, dts, ["Car", "Pedestrian"], eval_types=("bev",), min_overlaps=overlaps)
    assert res["Car_BEV_AP40_moderate_strict"] == 0.0
    assert res["Car_BEV_AP40_moderate_loose"] == pytest.approx(100.0)
    assert res["Pedestrian_BEV_AP40_moderate_strict"] == 0.0  # no pedestrian label
    # strict: (Car 0 + Pedestrian 0) / 2 = 0 (the loose APs would give (100 + 0) / 2 = 50)
    assert res["Overall_BEV_AP40_moderate"] == 0.0
    # over the labelled classes only (Car): 0 at strict (loose: 100)
    assert res["Overall_labelled_BEV_AP40_moderate"] == 0.0
