"""nuScenes scoring where a review found it differed from nuscenes-devkit 1.2.0: ties across
samples ranked in the submission's order, class ranges measured in the global frame, one yaw
rule for labels and submissions, sizes > 0, unknown point counts, the devkit's config asserts,
a required ego pose, attribute shapes, the bike-rack deviation and integer scores."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from drivestack.cli import main
from drivestack.core.errors import ConfigError, DataError
from drivestack.core.transforms import SE3, quaternion_to_rotation_matrix
from drivestack.eval.detection.datasets import nuscenes_frames
from drivestack.eval.detection.nuscenes import (
    DETECTION_CVPR_2019,
    EvalBoxes,
    accumulate,
    ego_distance_xy_m,
    load_detection_config,
)
from drivestack.eval.detection.run import NUSCENES_DEVIATIONS, submission_order
from drivestack.ingest.nuscenes import (
    boxes_to_submission,
    read_nuscenes_info,
    sample_boxes,
    world_yaw_rad,
    write_submission,
)

CATEGORIES = {"car": 0, "truck": 1, "trailer": 2, "bus": 3, "construction_vehicle": 4,
              "bicycle": 5, "motorcycle": 6, "pedestrian": 7, "traffic_cone": 8, "barrier": 9}  # fmt: skip


def _rot_y(angle: float) -> np.ndarray:
    c, s = np.cos(angle), np.sin(angle)
    return np.array([[c, 0.0, s], [0.0, 1.0, 0.0], [-s, 0.0, c]])


def _write_info(root: Path, samples: list[dict[str, Any]]) -> Path:
    """An mmdet3d-style info file of ``samples`` (token, ego2global 4x4, instances)."""
    data = [
        {"token": s["token"], "timestamp": 1532402927.0 + i, "ego2global": s.get("ego2global", np.eye(4).tolist()),
         "lidar_points": {"lidar_path": f"{s['token']}.bin", "lidar2ego": np.eye(4).tolist()},
         "instances": s["instances"]}
        for i, s in enumerate(samples)
    ]  # fmt: skip
    root.mkdir(parents=True, exist_ok=True)
    path = root / "t_info.json"
    path.write_text(json.dumps({"metainfo": {"categories": CATEGORIES}, "data_list": data}))
    return path


def _car(xyz: list[float], yaw: float = 0.0, **extra: Any) -> dict[str, Any]:
    return {"bbox_3d": [*xyz, 4.0, 1.8, 1.6, yaw], "bbox_label_3d": 0, "velocity": [0.0, 0.0],
            "num_lidar_pts": 10, "num_radar_pts": 0, **extra}  # fmt: skip


def _pred(
    token: str, xyz: list[float], score: float, size: list[float] | None = None
) -> dict[str, Any]:
    return {"sample_token": token, "translation": xyz, "size": size or [1.8, 4.0, 1.6],
            "rotation": [1.0, 0.0, 0.0, 0.0], "velocity": [0.0, 0.0], "detection_name": "car",
            "detection_score": score, "attribute_name": ""}  # fmt: skip


def _score(root: Path, results: dict[str, list[dict[str, Any]]], out: Path) -> dict[str, Any]:
    sub = out.parent / f"{out.name}.json"
    sub.write_text(json.dumps({"meta": {"use_lidar": True}, "results": results}))
    argv = ["eval", "detection", "--dataset", "nuscenes", "--root", str(root), "--detections",
            str(sub), "--out", str(out), "--quiet"]  # fmt: skip
    assert main(argv) == 0
    metrics: dict[str, Any] = json.loads((out / "metrics.json").read_text())["metrics"]
    return metrics


# -- 1. ties across samples -----------------------------------------------------------------


def test_equal_scores_across_samples_rank_in_the_submissions_key_order(tmp_path: Path) -> None:
    root = tmp_path / "root"
    _write_info(root, [{"token": "s1", "instances": [_car([10, 0, 0.8])]},
                       {"token": "s2", "instances": [_car([20, 0, 0.8])]}])  # fmt: skip
    s1 = [_pred("s1", [10, 0, 0.8], 0.5)]  # TP
    s2 = [_pred("s2", [30, 0, 0.8], 0.5), _pred("s2", [20, 0, 0.8], 0.4)]  # FP, TP
    # s2 first: boxes numbered s2 FP (0), s2 TP (1), s1 TP (2); equal scores rank the later
    # first: TP, FP, TP. Precision at recall 0.5 is 0.5 (numpy interp takes the last of the
    # equal recalls), then linear to 2/3 at recall 1: (39 + 0.5 + 29.25) / 90 points.
    car = _score(root, {"s2": s2, "s1": s1}, tmp_path / "s2_first")["label_aps"]["car"]
    assert car["2.0"] == pytest.approx((68.75 / 90 - 0.1) / 0.9, abs=1e-12)  # 0.7377
    # s1 first: s2's FP (1) before s1's TP (0): FP, TP, TP, a lower AP
    car1 = _score(root, {"s1": s1, "s2": s2}, tmp_path / "s1_first")["label_aps"]["car"]
    # precision r below recall 0.5 (from (0, 0) to (0.5, 0.5)), then 0.5 + (r - 0.5) / 3:
    # sum of (p - 0.1) over r = 0.11 .. 0.50 is 8.2, over 0.51 .. 1.00 is 20 + 12.75 / 3
    assert car1["2.0"] == pytest.approx((8.2 + 20 + 12.75 / 3) / 90 / 0.9, abs=1e-12)  # 0.4006
    assert car1["2.0"] < car["2.0"]


def test_submission_order_indexes_keys_by_their_position_in_the_submission() -> None:
    assert submission_order(["c", "a", "b"], ["a", "b", "c"]) == [2, 0, 1]
    assert submission_order(["b"], ["a", "b", "c"]) == [1, 0, 2]  # unsubmitted last


# -- 2. class range in the global frame, 3. one yaw rule ------------------------------------


def _tilted_root(tmp_path: Path) -> tuple[Path, SE3, np.ndarray]:
    """One sample whose ego is pitched 0.2 rad at (100, 200, 5): a car 49.5 m ahead in the
    global x-y plane and 12 m below lies 50.9 m away in the ego frame's x-y plane."""
    world_from_ego = SE3(_rot_y(0.2), np.array([100.0, 200.0, 5.0]))
    centre_world = np.array([149.5, 200.0, -7.0])
    in_ego = world_from_ego.inverse().apply(centre_world)
    assert np.hypot(*in_ego[:2]) > 50.0  # the ego frame's x-y distance is out of range
    root = tmp_path / "root"
    e2g = np.eye(4)
    e2g[:3, :3], e2g[:3, 3] = world_from_ego.rotation, world_from_ego.translation
    _write_info(root, [{"token": "s1", "ego2global": e2g.tolist(),
                        "instances": [_car(in_ego.tolist(), yaw=0.3)]}])  # fmt: skip
    return root, world_from_ego, centre_world


def test_labels_and_predictions_are_ranged_in_the_global_frame(tmp_path: Path) -> None:
    root, world_from_ego, centre = _tilted_root(tmp_path)
    (lf,) = nuscenes_frames(root, load_points=False)
    np.testing.assert_allclose(lf.native.ego_distance_m, [49.5], atol=1e-4)  # float32 pose
    sub = sample_boxes([_pred("s1", centre.tolist(), 0.9)], "s1", path=None)
    boxes = EvalBoxes.from_submission(sub, ego_from_world=world_from_ego.inverse())
    np.testing.assert_allclose(boxes.ego_distance_m, [49.5], atol=1e-9)


def test_a_perfect_copy_on_a_tilted_ego_scores_ap_1_and_no_yaw_error(tmp_path: Path) -> None:
    root, _, _ = _tilted_root(tmp_path)
    (s,) = read_nuscenes_info(root / "t_info.json")
    sub = boxes_to_submission(s.labels, "s1", s.world_from_ego @ s.ego_from_lidar)
    metrics = _score(root, {"s1": sub}, tmp_path / "perfect")
    assert metrics["label_aps"]["car"] == {
        k: pytest.approx(1.0) for k in ("0.5", "1.0", "2.0", "4.0")
    }
    assert metrics["label_tp_errors"]["car"]["orient_err"] < 1e-12  # 6e-3 with yaw + heading


@settings(max_examples=60, deadline=None)
@given(
    yaw=st.floats(-np.pi, np.pi),
    pitch=st.floats(-0.3, 0.3),
    roll=st.floats(-0.3, 0.3),
    heading=st.floats(-np.pi, np.pi),
)
def test_world_yaw_is_the_heading_of_the_written_quaternion(
    yaw: float, pitch: float, roll: float, heading: float
) -> None:
    from scipy.spatial.transform import Rotation

    rot = Rotation.from_euler("ZYX", [heading, pitch, roll]).as_matrix()
    world_from_boxes = SE3(rot, np.zeros(3))
    from drivestack.structures.boxes import Boxes3D

    box = Boxes3D.from_array7(
        np.array([[1.0, 2.0, 0.5, 4.0, 2.0, 1.5, yaw]]), "lidar", 0, label=[1]
    )
    (item,) = boxes_to_submission(box, "t", world_from_boxes)
    x_axis = quaternion_to_rotation_matrix(np.asarray(item["rotation"]))[:, 0]
    got = float(world_yaw_rad(world_from_boxes, np.array([yaw]))[0])
    diff = (got - np.arctan2(x_axis[1], x_axis[0]) + np.pi) % (2 * np.pi) - np.pi
    assert abs(diff) < 1e-12
    if abs(pitch) < 1e-12 and abs(roll) < 1e-12:  # level: yaw plus heading
        level = (got - yaw - heading + np.pi) % (2 * np.pi) - np.pi
        assert abs(level) < 1e-12


def test_ego_distance_is_the_xy_norm_of_centre_minus_ego_translation() -> None:
    world_from_ego = SE3(_rot_y(0.5), np.array([3.0, 4.0, 100.0]))
    got = ego_distance_xy_m(np.array([[6.0, 8.0, -50.0], [3.0, 4.0, 0.0]]), world_from_ego)
    np.testing.assert_allclose(got, [5.0, 0.0])


# -- 4. sizes > 0 -----------------------------------------------------------------------------


def test_sizes_that_are_not_positive_are_refused_naming_box_and_field(tmp_path: Path) -> None:
    info = _write_info(tmp_path / "root", [{"token": "s1", "instances": [_car([10, 0, 0.8])]}])
    doc = json.loads(info.read_text())
    doc["data_list"][0]["instances"][0]["bbox_3d"][3:6] = [0, 0, 0]
    info.write_text(json.dumps(doc))
    with pytest.raises(DataError, match="size > 0") as err:
        read_nuscenes_info(info)
    assert (err.value.record, err.value.field) == (
        "data_list[0].instances[0] (token s1)",
        "bbox_3d",
    )
    with pytest.raises(DataError, match="must be > 0") as err:
        sample_boxes([_pred("s1", [1, 2, 3], 0.5, size=[1.8, 0.0, 1.6])], "s1", path="sub.json")
    assert (err.value.path, err.value.record, err.value.field) == (
        "sub.json",
        "results[s1][0]",
        "size",
    )
    # EvalBoxes built directly: the matched pair is named, not a ZeroDivisionError
    zero = EvalBoxes(center_m=[[1, 0, 0]], size_m=[[0, 0, 0]], yaw_rad=[0], detection_name=["car"], score=[1])  # fmt: skip
    with pytest.raises(ValueError, match="sample s1: ground truth car box 0"):
        accumulate({"s1": zero}, {"s1": zero}, "car", 2.0)


# -- 5. unknown point counts ------------------------------------------------------------------


def test_missing_point_counts_are_unknown_never_filtered_and_warned(tmp_path: Path) -> None:
    bare = _car([10, 0, 0.8])
    del bare["num_lidar_pts"], bare["num_radar_pts"]
    lidar_only = {k: v for k, v in _car([20, 0, 0.8]).items() if k != "num_radar_pts"}
    empty_lidar = {**lidar_only, "num_lidar_pts": 0}
    root = tmp_path / "root"
    _write_info(root, [{"token": "s1", "instances": [bare, lidar_only, empty_lidar]}])
    (s,) = read_nuscenes_info(root / "t_info.json")
    assert s.num_lidar_pts.tolist() == [-1, 10, 0] and s.num_radar_pts.tolist() == [-1, -1, -1]
    assert s.num_pts.tolist() == [-1, 10, -1]  # 0 LiDAR points and radar unknown: unknown
    (lf,) = nuscenes_frames(root, load_points=False)
    assert lf.native.num_pts.tolist() == [-1, 10, -1]
    assert len(lf.warnings) == 1 and "2 label(s) without num_lidar_pts" in lf.warnings[0]
    results = {"s1": [_pred("s1", [10, 0, 0.8], 0.9)]}
    metrics = _score(root, results, tmp_path / "out")
    assert metrics["labels_in_range"]["car"] == 3  # all scored (read as 0 before: none)


# -- 6. config asserts ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"class_range": {"car": 50.0, "kar": 40.0}}, "class_range"),
        ({"dist_th_tp": 3.0}, "dist_th_tp"),
        ({"min_precision": 1.0}, "min_precision"),
        ({"min_precision": -0.1}, "min_precision"),
        ({"min_recall": 1.5}, "min_recall"),
        ({"class_range": {**DETECTION_CVPR_2019.class_range, "car": -5.0}}, "class_range.car"),
    ],
)
def test_config_refused_where_the_devkit_asserts(
    tmp_path: Path, change: dict[str, Any], field: str
) -> None:
    from dataclasses import asdict

    doc = {**asdict(DETECTION_CVPR_2019), **change}
    path = tmp_path / "cfg.json"
    path.write_text(json.dumps(doc))
    with pytest.raises(ConfigError) as err:
        load_detection_config(path)
    assert err.value.field == field
    path.write_text(json.dumps(asdict(DETECTION_CVPR_2019)))
    assert load_detection_config(path) == DETECTION_CVPR_2019


# -- 7. ego pose required, 8. attribute shape -------------------------------------------------


def test_from_submission_needs_the_ego_pose() -> None:
    sub = sample_boxes([_pred("t", [10, 0, 0], 0.5)], "t", path=None)
    with pytest.raises(TypeError, match="ego_from_world"):
        EvalBoxes.from_submission(sub)  # type: ignore[call-arg]


def test_attribute_names_of_the_wrong_length_are_a_shape_error() -> None:
    kw: dict[str, Any] = {"center_m": np.zeros((2, 3)), "size_m": np.ones((2, 3)),
                          "yaw_rad": np.zeros(2), "detection_name": ["car", "car"]}  # fmt: skip
    with pytest.raises(ValueError, match=r"attribute_name must have shape \(2,\)"):
        EvalBoxes(**kw, attribute_name=["vehicle.moving"])
    assert EvalBoxes(**kw).attribute_name.tolist() == ["", ""]  # empty: none


# -- 9. bike racks, 10. integer scores --------------------------------------------------------


def test_bike_rack_deviation_is_stated_in_metrics_and_integer_scores_are_read(
    tmp_path: Path,
) -> None:
    root = tmp_path / "root"
    _write_info(root, [{"token": "s1", "instances": [_car([10, 0, 0.8])]}])
    metrics = _score(root, {"s1": [_pred("s1", [10, 0, 0.8], 1)]}, tmp_path / "out")  # int score
    assert metrics["deviations_from_devkit"] == list(NUSCENES_DEVIATIONS)
    assert any("bike-rack" in d for d in metrics["deviations_from_devkit"])
    assert metrics["label_aps"]["car"]["0.5"] == pytest.approx(1.0)
    (sub,) = [sample_boxes([_pred("s1", [1, 2, 3], 1)], "s1", path=None)]
    assert sub.score.dtype == np.float64 and sub.score.tolist() == [1.0]  # as float() in the devkit
    write_submission(tmp_path / "w.json", {"s1": [_pred("s1", [1, 2, 3], 1)]})
