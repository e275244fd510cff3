"""KITTI 3D object evaluator: mmdetection3d fixtures reproduced, and hand-computed AP cases."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from drivestack.core.errors import DataError
from drivestack.eval.detection.kitti import (
    do_eval,
    eval_class,
    get_thresholds,
    image_box_overlap,
    kitti_eval,
)
from drivestack.ingest.kitti_calib import read_kitti_calib
from drivestack.ingest.kitti_format import KittiObjects, boxes_to_objects, objects_2d_only
from drivestack.ingest.kitti_object import png_size_wh, read_kitti_label
from drivestack.structures.boxes import Boxes3D
from drivestack.structures.labels import ObjectClass

FIXTURE = "eval_fixtures/kitti_mmdet3d/kitti_eval_cases.json"


def _annos(a: dict[str, Any]) -> KittiObjects:
    """kitti-object-eval 'annos' (dimensions l, h, w) -> KittiObjects (h, w, l)."""
    return KittiObjects(
        type_name=np.array(a["name"]),
        truncation=a["truncated"],
        occlusion=a["occluded"],
        alpha_rad=a["alpha"],
        box2d_xyxy_px=a["bbox"],
        hwl_m=np.array(a["dimensions"])[:, [1, 2, 0]],
        location_m=a["location"],
        rotation_y_rad=a["rotation_y"],
        score=a.get("score", []),
    )


@pytest.fixture(scope="module")
def cases(shared_data: Path) -> dict[str, Any]:
    return json.loads((shared_data / FIXTURE).read_text())


@pytest.mark.data
def test_do_eval_reproduces_every_array(cases: dict[str, Any]) -> None:
    c = cases["do_eval"]
    res = do_eval(
        [_annos(c["gt_anno"])],
        [_annos(c["dt_anno"])],
        c["current_classes"],
        np.array(c["min_overlaps"]),
        ("bbox", "bev", "3d", "aos"),
    )
    assert set(res) == set(c["expected"])
    for key, expected in c["expected"].items():
        np.testing.assert_allclose(res[key], expected, rtol=1e-6, atol=1e-6, err_msg=key)


@pytest.mark.data
def test_eval_class_sums(cases: dict[str, Any]) -> None:
    c, base = cases["eval_class"], cases["do_eval"]
    ret = eval_class(
        [_annos(base["gt_anno"])],
        [_annos(base["dt_anno"])],
        [1, 2, 0],
        [0, 1, 2],
        0,
        np.array(c["min_overlaps"]),
        compute_aos=True,
    )
    assert ret["recall"].sum() == pytest.approx(c["expected"]["sum(recall)"])
    assert ret["precision"].sum() == pytest.approx(c["expected"]["sum(precision)"])
    assert ret["orientation"].sum() == pytest.approx(c["expected"]["sum(orientation)"], rel=1e-9)


@pytest.mark.data
def test_kitti_eval_overall(cases: dict[str, Any]) -> None:
    c = cases["do_eval"]
    res = kitti_eval([_annos(c["gt_anno"])], [_annos(c["dt_anno"])], [1, 2, 0])
    for key, expected in cases["kitti_eval"]["expected"].items():
        assert res[key.removeprefix("KITTI/")] == pytest.approx(expected, abs=1e-9), key


@pytest.mark.data
def test_kitti_metric_lidar_prediction_on_training_000000(
    shared_data: Path, cases: dict[str, Any]
) -> None:
    case = cases["kitti_metric_training_000000"]
    base = shared_data / "kitti_object/training"
    box = np.array(case["prediction"]["bboxes_3d_lidar"], dtype=np.float64)
    box[:, 2] += box[:, 5] / 2  # mmdet3d LiDAR boxes have z at the bottom
    pred = Boxes3D.from_array7(
        box, "lidar", score=case["prediction"]["scores_3d"], label=[ObjectClass.PEDESTRIAN]
    )
    calib = read_kitti_calib(base / "calib/000000.txt")
    dt = boxes_to_objects(pred, calib, image_edge_px=png_size_wh(base / "image_2/000000.png"))
    res = kitti_eval(
        [read_kitti_label(base / "label_2/000000.txt")], [dt], ["Pedestrian", "Cyclist", "Car"]
    )
    expected = dict(case["expected"])
    expected.update(
        {
            k: v
            for k, v in expected.pop("multi_modal_test_also_expects").items()
            if k.startswith("pred_instances_3d/")
        }
    )
    for key, value in expected.items():
        assert res[key.split("KITTI/")[1]] == pytest.approx(value, abs=1e-9), key


# -- hand-computed cases -------------------------------------------------------------------


def _car(
    n: int, *, x: float = 0.0, score: float = 1.0, occluded: int = 0, height_px: float = 60.0
) -> KittiObjects:
    return KittiObjects(
        type_name=np.array(["Car"] * n),
        truncation=np.zeros(n),
        occlusion=np.full(n, occluded),
        alpha_rad=np.zeros(n),
        box2d_xyxy_px=np.tile([100.0, 100.0, 200.0, 100.0 + height_px], (n, 1)),
        hwl_m=np.tile([1.5, 1.6, 4.0], (n, 1)),
        location_m=np.tile([x, 1.5, 20.0], (n, 1)),
        rotation_y_rad=np.zeros(n),
        score=np.full(n, score),
    )


def _concat(a: KittiObjects, b: KittiObjects) -> KittiObjects:
    return KittiObjects.concatenate([a, b])


def test_perfect_detector_scores_100() -> None:
    gts = [_car(1) for _ in range(50)]
    dts = [_car(1, score=0.5 + i / 100) for i in range(50)]
    res = kitti_eval(gts, dts, ["Car"])
    for kind in ("2D", "BEV", "3D", "AOS"):
        for ap in ("AP11", "AP40"):
            assert res[f"Car_{kind}_{ap}_moderate_strict"] == pytest.approx(100.0), (kind, ap)


def test_classes_by_name_in_any_case_and_clear_errors() -> None:
    gts = [_car(1) for _ in range(5)]
    dts = [_car(1, score=0.9) for _ in range(5)]
    assert (
        kitti_eval(gts, dts, ["car"]) == kitti_eval(gts, dts, ["Car"]) == kitti_eval(gts, dts, [0])
    )
    with pytest.raises(ValueError, match=r"unknown KITTI class 'Bus'; known: \['Car'"):
        kitti_eval(gts, dts, ["Bus"])
    with pytest.raises(ValueError, match=r"class index 7 out of range"):
        kitti_eval(gts, dts, [7])
    boxes = Boxes3D.from_array7(np.zeros((1, 7)), "lidar", 0)
    with pytest.raises(
        TypeError, match=r"dt_frames must hold KittiObjects .* got Boxes3D; .*boxes_to_objects"
    ):
        kitti_eval(gts, [boxes] * 5, ["Car"])  # type: ignore[list-item]


def test_a_duplicate_is_a_false_positive() -> None:
    gts = [_car(1) for _ in range(50)]
    dts = [_car(1, score=0.9) for _ in range(50)]
    dts[7] = _concat(dts[7], _car(1, score=0.95))  # same box again, higher score
    res = kitti_eval(gts, dts, ["Car"], eval_types=("3d",))
    assert res["Car_3D_AP40_moderate_strict"] == pytest.approx(100 * 50 / 51)
    # slot 0 is the duplicate's own threshold (0.95: 1 TP, 0 FP), AP11 samples it
    assert res["Car_3D_AP11_moderate_strict"] == pytest.approx(100 * (1 + 10 * 50 / 51) / 11)


def test_a_shifted_box_misses_strict_but_not_loose_overlap() -> None:
    gts = [_car(1) for _ in range(50)]
    dts = [
        _car(1, x=0.8, score=0.9) for _ in range(50)
    ]  # IoU = (1.6 - 0.8) / (1.6 + 0.8) = 1/3 in BEV and 3D
    res = kitti_eval(
        gts,
        dts,
        ["Car"],
        eval_types=("bev", "3d"),
        min_overlaps=np.array([[[0.7] * 5] * 3, [[0.3] * 5] * 3]),
    )
    assert res["Car_BEV_AP40_moderate_strict"] == 0.0 and res[
        "Car_BEV_AP40_moderate_loose"
    ] == pytest.approx(100.0)


def test_difficulty_filters_by_height_and_occlusion() -> None:
    # 30 px tall, occlusion 1: ignored for easy (<= 40 px), valid for moderate and hard
    gts = [_car(1, occluded=1, height_px=30.0) for _ in range(50)]
    dts = [_car(1, score=0.9, height_px=30.0) for _ in range(50)]
    res = kitti_eval(gts, dts, ["Car"], eval_types=("bbox",))
    assert res["Car_2D_AP40_easy_strict"] == 0.0
    assert res["Car_2D_AP40_moderate_strict"] == pytest.approx(100.0) and res[
        "Car_2D_AP40_hard_strict"
    ] == pytest.approx(100.0)
    # occlusion 2 is valid only for hard
    gts = [_car(1, occluded=2) for _ in range(50)]
    res = kitti_eval(gts, [_car(1, score=0.9) for _ in range(50)], ["Car"], eval_types=("bbox",))
    assert res["Car_2D_AP40_moderate_strict"] == 0.0 and res[
        "Car_2D_AP40_hard_strict"
    ] == pytest.approx(100.0)


def test_thresholds_and_box_overlap() -> None:
    # 4 GTs, 4 matched scores: every recall step of 1/40 is reached by the first score already
    np.testing.assert_allclose(
        get_thresholds(np.array([0.1, 0.9, 0.5, 0.7]), 4), [0.9, 0.7, 0.5, 0.1]
    )
    iou = image_box_overlap(np.array([[0, 0, 2, 2]]), np.array([[1, 1, 3, 3], [5, 5, 6, 6]]))
    np.testing.assert_allclose(iou, [[1 / 7, 0.0]])


def _flat(objs: KittiObjects, path: str = "") -> KittiObjects:
    """The 2D-only result rows (devkit placeholders) of ``objs``."""
    return replace(objects_2d_only(objs.type_name, objs.box2d_xyxy_px, objs.score), path=path)


def test_2d_only_detections_get_2d_metrics_and_no_bev_or_3d() -> None:
    gts = [_concat(_car(1), _car(1, x=8.0)) for _ in range(10)]
    dts = [_car(1, score=0.5 + i / 100) for i in range(10)]  # half of the cars found
    full = kitti_eval(gts, dts, ["Car", "Pedestrian"])
    curves: dict[str, Any] = {}
    flat = kitti_eval(gts, [_flat(d) for d in dts], ["Car", "Pedestrian"], curves_out=curves)
    # the devkit: a class whose detections have no 3D box is scored in 2D only
    assert not [k for k in flat if k.startswith("Car_") and ("_BEV_" in k or "_3D_" in k)]
    assert "AOS" not in "".join(flat)  # alpha is -10
    for key, value in flat.items():
        if "_2D_" in key:
            assert value == pytest.approx(full[key]), key
    assert flat["Car_2D_AP40_moderate_strict"] > 0
    # Pedestrian (no detections at all) keeps its BEV/3D rows, and the Overall is its own
    assert flat["Pedestrian_3D_AP40_easy_strict"] == 0.0
    assert flat["Overall_3D_AP40_easy"] == 0.0
    assert set(curves["curves"]["Car"]) == {"2D"}
    assert set(curves["curves"]["Pedestrian"]) == {"2D", "BEV", "3D"}
    only_car = kitti_eval(gts, [_flat(d) for d in dts], ["Car"])
    assert {k.split("_")[1] for k in only_car} == {"2D"}


def test_2d_only_rows_are_never_scored_as_3d_boxes() -> None:
    gts = [_car(1) for _ in range(3)]
    dts = [_car(1, score=0.9) for _ in range(3)]
    mixed = [*dts[:2], replace(_concat(dts[2], _flat(_car(1, score=0.4))), path="000002.txt")]
    with pytest.raises(DataError, match=r"000002\.txt: object 1: field h w l: 2D-only detection"):
        kitti_eval(gts, mixed, ["Car"])
    assert kitti_eval(gts, mixed, ["Car"], eval_types=("bbox",))  # 2D needs no 3D box
