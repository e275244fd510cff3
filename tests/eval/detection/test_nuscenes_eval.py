"""nuScenes detection evaluator: the devkit's TestAPSimple / TestTPSimple cases and NDS by hand."""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from drivestack.core.errors import ConfigError, DataError
from drivestack.core.transforms import quaternion_to_rotation_matrix
from drivestack.eval.detection.nuscenes import (
    DETECTION_CVPR_2019,
    TP_METRICS,
    EvalBoxes,
    accumulate,
    calc_ap,
    calc_tp,
    evaluate,
    load_detection_config,
    nd_score,
)

FIXTURES = "eval_fixtures/nuscenes_detection"


@pytest.fixture(scope="module")
def cases(shared_data: Path) -> dict[str, Any]:
    return json.loads((shared_data / FIXTURES / "algo_cases.json").read_text())


def _boxes(items: list[dict[str, Any]], defaults: dict[str, Any]) -> EvalBoxes:
    rows = [{**defaults, **b} for b in items]
    yaw = []
    for r in rows:
        q = np.asarray(r["rot"], dtype=np.float64)
        # the devkit's default quaternion is (0, 0, 0, 0); pyquaternion gives it yaw 0
        yaw.append(
            0.0 if not q.any() else float(np.arctan2(*quaternion_to_rotation_matrix(q)[[1, 0], 0]))
        )
    return EvalBoxes(
        center_m=np.array([r["trans"] for r in rows], dtype=np.float64).reshape(-1, 3),
        size_m=np.array([r["size"] for r in rows], dtype=np.float64).reshape(-1, 3),
        yaw_rad=yaw,
        velocity_mps=np.array([r["vel"] for r in rows], dtype=np.float64).reshape(-1, 2),
        detection_name=[r["name"] for r in rows],
        attribute_name=[r["attr"] for r in rows],
        score=[r["score"] for r in rows],
    )


def _samples(
    doc: dict[str, list[dict[str, Any]]], defaults: dict[str, Any]
) -> dict[str, EvalBoxes]:
    return {k: _boxes(v, defaults) for k, v in doc.items()}


@pytest.mark.data
def test_ap_cases(cases: dict[str, Any]) -> None:
    defaults = cases["_conventions"]["box_defaults"]
    p = cases["_conventions"]["ap_case_parameters"]
    for case in cases["ap_cases"]:
        md = accumulate(
            _samples(case["gt"], defaults),
            _samples(case["pred"], defaults),
            p["detection_name"],
            p["dist_th"],
        )
        ap = calc_ap(md, p["min_recall"], p["min_precision"])
        assert ap == pytest.approx(case["expected_ap"], abs=0.01), case["what"]


@pytest.mark.data
def test_tp_cases(cases: dict[str, Any]) -> None:
    defaults = cases["_conventions"]["box_defaults"]
    p = cases["_conventions"]["tp_case_parameters"]
    for case in cases["tp_cases"]:
        md = accumulate(
            _samples(case["gt"], defaults),
            _samples(case["pred"], defaults),
            p["detection_name"],
            p["dist_th"],
        )
        for metric in case["metrics"]:
            err = calc_tp(md, p["min_recall"], metric)
            assert err == pytest.approx(case["expected_error"], abs=0.01), (case["what"], metric)


@pytest.mark.data
def test_official_config_and_perfect_nds(shared_data: Path) -> None:
    cfg = load_detection_config(shared_data / FIXTURES / "detection_cvpr_2019.json")
    assert cfg == DETECTION_CVPR_2019  # the built-in copy matches the official file
    rng = np.random.default_rng(0)
    gt: dict[str, EvalBoxes] = {}
    for s in range(5):
        n = 12
        names = np.array(cfg.class_names)[rng.integers(0, 10, n)]
        gt[f"s{s}"] = EvalBoxes(
            center_m=np.c_[rng.uniform(-25, 25, (n, 2)), np.zeros(n)],
            size_m=rng.uniform(0.5, 4, (n, 3)),
            yaw_rad=rng.uniform(-3, 3, n),
            velocity_mps=rng.normal(size=(n, 2)),
            detection_name=names,
            attribute_name=np.full(n, "a"),
            num_pts=np.full(n, 10),
        )
    pred = {
        k: EvalBoxes(
            v.center_m,
            v.size_m,
            v.yaw_rad,
            v.velocity_mps,
            v.detection_name,
            v.attribute_name,
            np.full(len(v), 0.9),
        )
        for k, v in gt.items()
    }
    res = evaluate(gt, pred, cfg)
    present = {n for v in gt.values() for n in v.detection_name}
    assert res.mean_ap == pytest.approx(len(present) / 10)
    assert all(v == pytest.approx(0.0, abs=1e-12) for v in res.tp_errors.values())
    assert res.nd_score == pytest.approx((5 * len(present) / 10 + 5) / 10)


def test_range_and_empty_gt_filters() -> None:
    cfg_range = {"car": 50.0}
    from drivestack.eval.detection.nuscenes import filter_boxes

    boxes = EvalBoxes(center_m=[[10, 0, 0], [60, 0, 0], [5, 5, 0]], size_m=np.ones((3, 3)), yaw_rad=np.zeros(3),
                      detection_name=["car", "car", "bus"], num_pts=[0, 5, 5])  # fmt: skip
    assert (
        len(filter_boxes(boxes, cfg_range, is_gt=True)) == 0
    )  # empty, too far, class without range
    assert len(filter_boxes(boxes, cfg_range, is_gt=False)) == 1


def test_bad_config_and_too_many_boxes(tmp_path: Path) -> None:
    path = tmp_path / "cfg.json"
    ranges = dict.fromkeys(DETECTION_CVPR_2019.class_range, 50)
    path.write_text(json.dumps({"class_range": ranges, "dist_fcn": "center_distance", "dist_ths": [1.0], "dist_th_tp": 1.0,
                                "min_recall": 0.1, "min_precision": 0.1, "max_boxes_per_sample": 1, "mean_ap_weight": 5, "extra": 1}))  # fmt: skip
    with pytest.raises(ConfigError) as err:
        load_detection_config(path)
    assert err.value.field == "extra"
    doc = json.loads(path.read_text())
    del doc["extra"]
    path.write_text(json.dumps(doc))
    cfg = load_detection_config(path)
    two = EvalBoxes(
        center_m=np.zeros((2, 3)),
        size_m=np.ones((2, 3)),
        yaw_rad=np.zeros(2),
        detection_name=["car", "car"],
    )
    with pytest.raises(DataError, match="max_boxes_per_sample"):
        evaluate({"a": two}, {"a": two}, cfg)


# -- test_nd_score of the devkit: random mock boxes, replayed draw for draw -----------------

_NUM_ATTRIBUTES = {"car": 3, "truck": 3, "bus": 3, "trailer": 3, "construction_vehicle": 3,
                   "pedestrian": 3, "motorcycle": 2, "bicycle": 2, "traffic_cone": 0, "barrier": 0}  # fmt: skip


def _mock_boxes(
    np_rng: np.random.RandomState,
    py_rng: random.Random,
    num_samples: int,
    num_boxes: int,
    spread_m: float,
    name: str,
) -> dict[str, EvalBoxes]:
    """TestAlgo._mock_results: per box np.random rand(2), rand(3), rand(4), rand(3), then
    random.random() (score), np.random.randint (attribute, classes with attributes), random.random()."""
    out = {}
    for sample in range(num_samples):
        rows = []
        for _ in range(num_boxes):
            xy, size, quat, vel = (
                np_rng.rand(2) * spread_m,
                np_rng.rand(3) * 4,
                np_rng.rand(4),
                np_rng.rand(3)[:2] * 4,
            )
            score = py_rng.random()
            attr = str(np_rng.randint(0, _NUM_ATTRIBUTES[name])) if _NUM_ATTRIBUTES[name] else ""
            py_rng.random()  # ego distance, not used by accumulate
            rot = quaternion_to_rotation_matrix(quat)
            rows.append((xy, size, float(np.arctan2(rot[1, 0], rot[0, 0])), vel, score, attr))
        out[str(sample)] = EvalBoxes(
            center_m=np.array([[*r[0], 0.0] for r in rows]),
            size_m=np.array([r[1] for r in rows]),
            yaw_rad=[r[2] for r in rows],
            velocity_mps=np.array([r[3] for r in rows]),
            detection_name=[name] * num_boxes,
            attribute_name=[r[5] for r in rows],
            score=[r[4] for r in rows],
        )
    return out


@pytest.mark.data
def test_nd_score_of_the_devkit_mock(cases: dict[str, Any]) -> None:
    cfg = DETECTION_CVPR_2019
    # the devkit seeds Python's and NumPy's legacy global generators with 42
    np_rng, py_rng = np.random.RandomState(42), random.Random(42)
    aps, tps = {}, {}
    for name in cfg.class_names:
        gt = _mock_boxes(np_rng, py_rng, 30, 3, 15.0, name)
        pred = _mock_boxes(np_rng, py_rng, 30, 25, 10.0, name)
        md = accumulate(gt, pred, name, 2.0)  # the test matches at 2 m for every threshold
        aps[name] = float(
            np.mean([calc_ap(md, cfg.min_recall, cfg.min_precision) for _ in cfg.dist_ths])
        )
        tps[name] = {}
        for metric in TP_METRICS:
            undefined = (
                name == "traffic_cone" and metric in ("attr_err", "vel_err", "orient_err")
            ) or (name == "barrier" and metric in ("attr_err", "vel_err"))
            tps[name][metric] = float("nan") if undefined else calc_tp(md, cfg.min_recall, metric)
    tp_errors = {m: float(np.nanmean([tps[c][m] for c in cfg.class_names])) for m in TP_METRICS}
    expected = cases["other_expected_values"]["test_nd_score"]["expected_nd_score"]
    assert nd_score(float(np.mean(list(aps.values()))), tp_errors, cfg) == pytest.approx(
        expected, abs=1e-12
    )
