"""A nuScenes submission is scored as submitted: attribute names, detection names and unknown
(NaN) velocities reach the protocol unchanged."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from drivestack.cli import main
from drivestack.core.transforms import SE3
from drivestack.eval.detection.nuscenes import EvalBoxes
from drivestack.ingest.nuscenes import sample_boxes


def _box(token: str, velocity: list[float], attribute: str) -> dict[str, object]:
    return {
        "sample_token": token,
        "translation": [10.0, 20.0, 1.0],
        "size": [1.9, 4.5, 1.6],  # w l h
        "rotation": [1.0, 0.0, 0.0, 0.0],
        "velocity": velocity,
        "detection_name": "car",
        "detection_score": 0.7,
        "attribute_name": attribute,
    }


def test_eval_boxes_keep_what_was_submitted() -> None:
    sub = sample_boxes(
        [_box("t", [1.0, 2.0], "vehicle.moving"), _box("t", [np.nan, np.nan], "")], "t", path=None
    )
    ego_from_world = SE3(np.eye(3), np.array([-10.0, -20.0, 0.0]))  # the ego at (10, 20)
    boxes = EvalBoxes.from_submission(sub, ego_from_world=ego_from_world)
    assert boxes.attribute_name.tolist() == ["vehicle.moving", ""]
    assert boxes.detection_name.tolist() == ["car", "car"]
    np.testing.assert_allclose(boxes.size_m[0], [4.5, 1.9, 1.6])  # l w h
    assert np.all(np.isnan(boxes.velocity_mps[1]))  # unknown stays unknown
    np.testing.assert_allclose(boxes.ego_distance_m, [0.0, 0.0])


@pytest.mark.data
def test_cli_scores_a_submission_with_unknown_velocities_as_the_devkit_does(
    shared_data: Path, tmp_path: Path
) -> None:
    from drivestack.eval.detection.datasets import nuscenes_frames

    root = shared_data / "nuscenes_samples/mmdet3d_demo"
    (lf,) = list(nuscenes_frames(root, load_points=False))
    world = lf.frame.labels.transformed(lf.calib, "world")
    scored = (lf.native.detection_name == "car") & (lf.native.num_pts > 0)
    car = int(np.flatnonzero(scored & (lf.native.ego_distance_m < 50.0))[0])
    box = _box(lf.key, [float("nan")] * 2, "vehicle.parked")
    box["translation"] = world.center_m[car].tolist()
    doc = {"meta": {"use_lidar": True}, "results": {lf.key: [box]}}
    # NaN is what the devkit's loader accepts for an unknown velocity (json.dumps writes it)
    (tmp_path / "sub.json").write_text(json.dumps(doc))
    out = tmp_path / "out"
    argv = ["eval", "detection", "--dataset", "nuscenes", "--root", str(root), "--out", str(out)]
    assert main([*argv, "--detections", str(tmp_path / "sub.json")]) == 0
    metrics = json.loads((out / "metrics.json").read_text())
    metrics = metrics["metrics"]
    assert metrics["label_aps"]["car"]["0.5"] > 0  # the box is matched
    car_errors = metrics["label_tp_errors"]["car"]
    assert car_errors["trans_err"] < 0.01
    # no velocity submitted and no attribute labelled: the devkit's cummean of all-NaN
    # errors is 1, the worst value
    assert car_errors["vel_err"] == 1.0
    assert car_errors["attr_err"] == 1.0


@pytest.mark.data
def test_a_submission_in_the_lidar_frame_is_warned_about_with_its_counts(
    shared_data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # The labels written with an identity pose (the LiDAR frame, not the global frame) lie
    # ~1.2 km from the ego's global position: every box beyond its class range, mAP 0, which
    # used to come without a word and without a count of what was scored.
    from drivestack.eval.detection.datasets import nuscenes_frames
    from drivestack.ingest.nuscenes import boxes_to_submission, write_submission

    root = shared_data / "nuscenes_samples/mmdet3d_demo"
    (lf,) = list(nuscenes_frames(root, load_points=False))
    runs = {"lidar": SE3.identity(), "global": lf.calib}
    counts = {}
    for name, world_from_lidar in runs.items():
        sub = tmp_path / f"{name}.json"
        labels = lf.frame.labels
        write_submission(sub, {lf.key: boxes_to_submission(labels, lf.key, world_from_lidar)})
        out = tmp_path / name
        argv = ["eval", "detection", "--dataset", "nuscenes", "--root", str(root)]
        assert main([*argv, "--detections", str(sub), "--out", str(out), "--quiet"]) == 0
        metrics = json.loads((out / "metrics.json").read_text())
        counts[name] = metrics["metrics"]["predictions_in_range"]
        warned = [w for w in metrics.get("loader_warnings", []) if "beyond their class" in w]
        assert (f"warning: {warned[0]}" in capsys.readouterr().err) if warned else True
        assert len(warned) == (1 if name == "lidar" else 0)
    assert counts["lidar"]["in_range"] == 0
    assert counts["lidar"]["scored_classes"] == counts["global"]["scored_classes"] > 0
    assert 0 < counts["global"]["in_range"] <= counts["global"]["scored_classes"]


@pytest.mark.data
def test_a_sample_in_two_info_files_is_refused_naming_both(
    shared_data: Path, tmp_path: Path
) -> None:
    # scored twice, its labels weighed double: mAP 0.4943 -> 0.4919 without a word
    from drivestack.core.errors import DataError
    from drivestack.eval.detection.datasets import nuscenes_frames

    source = shared_data / "nuscenes_samples/mmdet3d_demo"
    (info,) = source.glob("*_info.json")
    for name in ("a_info.json", "b_info.json"):
        (tmp_path / name).write_bytes(info.read_bytes())
    with pytest.raises(DataError) as err:
        list(nuscenes_frames(tmp_path, load_points=False))
    assert err.value.path == str(tmp_path / "b_info.json") and err.value.field == "token"
    assert f"is also in {tmp_path / 'a_info.json'}" in str(err.value)
