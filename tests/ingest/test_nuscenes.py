"""nuScenes readers and the submission writer: real key frame, multi-sweep cloud, bad input."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from drivestack.core.errors import DataError
from drivestack.core.transforms import SE3
from drivestack.ingest.nuscenes import (
    boxes_to_submission,
    read_lidar_pcd_bin,
    read_multisweep_fp16,
    read_nuscenes_frame,
    read_nuscenes_info,
    read_submission,
    write_submission,
)
from drivestack.kernels import points_in_boxes
from drivestack.structures.boxes import Boxes3D
from drivestack.structures.labels import ObjectClass

INFO = "nuscenes_samples/mmdet3d_demo/n015-2018-07-24-11-22-45+0800_info.json"


@pytest.mark.data
def test_real_keyframe_points_and_boxes(shared_data: Path) -> None:
    frame = read_nuscenes_frame(shared_data / INFO)
    cloud, labels = frame.lidar(), frame.labels
    assert len(cloud) == 34_688 and labels is not None and len(labels) == 69
    assert set(np.unique(cloud.attributes["ring"])) <= set(range(32))
    sample = read_nuscenes_info(shared_data / INFO)[0]
    assert sample.token == "ca9a282c9e77460f8360f564131a8af5"
    assert frame.timestamp_ns == 1532402927647951000
    # boxes in the LIDAR_TOP frame, z at the geometric centre: 24 of the 28 boxes with >= 5
    # points reproduce num_lidar_pts within 1 (SOURCES.md section 4a)
    counts = points_in_boxes(cloud.xyz_m.astype(np.float64), labels.to_array7()).sum(axis=0)
    well_seen = sample.num_lidar_pts >= 5
    assert int(well_seen.sum()) == 28
    assert int((np.abs(counts[well_seen] - sample.num_lidar_pts[well_seen]) <= 1).sum()) == 24
    assert int((labels.label == ObjectClass.PEDESTRIAN).sum()) == 30
    assert int((labels.label == ObjectClass.BARRIER).sum()) == 22
    assert int((sample.detection_name == "").sum()) == 1


@pytest.mark.data
def test_real_multisweep_cloud(shared_data: Path) -> None:
    cloud = read_multisweep_fp16(
        shared_data / "nuscenes_samples/multisweep_fp16/ff9eff4389a740848f9a56ad749a4ae8.bin"
    )
    assert len(cloud) == 271_156 and cloud.xyz_m.dtype == np.float32
    offsets = np.unique(cloud.attributes["time_offset_ns"])
    assert len(offsets) == 10 and offsets.max() == 0 and -0.46e9 < offsets.min() < -0.44e9


def test_truncated_sweeps(tmp_path: Path) -> None:
    path = tmp_path / "a.pcd.bin"
    path.write_bytes(np.zeros((3, 5), "<f4").tobytes()[:-4])
    with pytest.raises(DataError, match="multiple of 20"):
        read_lidar_pcd_bin(path)
    path.write_bytes(np.zeros((3, 5), "<f2").tobytes()[:-2])
    with pytest.raises(DataError, match="multiple of 10"):
        read_multisweep_fp16(path)


def test_info_with_bad_box_names_record_and_field(tmp_path: Path) -> None:
    doc = {
        "metainfo": {"categories": {"car": 0}},
        "data_list": [{
            "token": "t", "timestamp": 1.5, "ego2global": np.eye(4).tolist(),
            "lidar_points": {"lidar_path": "x.bin", "lidar2ego": np.eye(4).tolist()},
            "instances": [{"bbox_3d": [1, 2, 3, 4, 5, float("nan"), 0], "bbox_label_3d": 0}],
        }],
    }  # fmt: skip
    path = tmp_path / "info.json"
    path.write_text(json.dumps(doc))
    with pytest.raises(DataError) as err:
        read_nuscenes_info(path)
    assert err.value.record == "data_list[0].instances[0] (token t)"
    assert err.value.field == "bbox_3d"
    del doc["data_list"][0]["lidar_points"]  # type: ignore[attr-defined]
    path.write_text(json.dumps(doc))
    with pytest.raises(DataError, match="lidar_points"):
        read_nuscenes_info(path)


def test_submission_round_trip(tmp_path: Path) -> None:
    boxes = Boxes3D.from_array7(
        [
            [10.0, 2.0, 0.5, 4.5, 1.9, 1.6, 0.3],
            [5.0, -3.0, 0.2, 0.6, 0.7, 1.8, -2.0],
            [1, 1, 1, 1, 1, 1, 0],
        ],
        "lidar",
        score=[0.9, 0.4, 0.2],
        label=[ObjectClass.CAR, ObjectClass.PEDESTRIAN, ObjectClass.UNKNOWN],
        velocity_mps=[[1.0, 0.0], [0.0, 0.5], [0, 0]],
    )
    world_from_lidar = SE3.from_xyz_yaw([100.0, 200.0, 1.0], 1.2)
    items = boxes_to_submission(boxes, "tok", world_from_lidar)
    assert [i["detection_name"] for i in items] == ["car", "pedestrian"]  # UNKNOWN is not submitted
    assert items[0]["size"] == pytest.approx([1.9, 4.5, 1.6])  # nuScenes (w, l, h)
    assert items[0]["attribute_name"] == "vehicle.moving"  # 1 m/s > 0.2 m/s (mmdet3d)
    assert items[1]["attribute_name"] == "pedestrian.moving"
    write_submission(tmp_path / "res.json", {"tok": items})
    back = (
        read_submission(tmp_path / "res.json")["tok"]
        .to_boxes()
        .transformed(world_from_lidar.inverse(), "lidar")
    )
    np.testing.assert_allclose(back.to_array7(), boxes.select([0, 1]).to_array7(), atol=1e-9)
    np.testing.assert_allclose(back.velocity_mps, boxes.velocity_mps[:2], atol=1e-9)
    doc = json.loads((tmp_path / "res.json").read_text())
    doc["results"]["tok"][1]["detection_name"] = "tank"
    (tmp_path / "res.json").write_text(json.dumps(doc))
    with pytest.raises(DataError) as err:
        read_submission(tmp_path / "res.json")
    assert err.value.record == "results[tok][1]" and err.value.field == "detection_name"


def test_more_than_500_boxes_keep_the_500_highest_scoring_with_a_warning(tmp_path: Path) -> None:
    from drivestack.ingest.nuscenes import MAX_BOXES_PER_SAMPLE
    from drivestack.structures.labels import ObjectClass

    rng = np.random.default_rng(7)
    n = 600
    array7 = np.column_stack([np.arange(n, dtype=float), np.zeros((n, 2)), np.ones((n, 3)) * [4.5, 1.9, 1.6], np.zeros(n)])  # fmt: skip
    scores = rng.permutation(n) / n  # distinct
    boxes = Boxes3D.from_array7(array7, "lidar", score=scores, label=[ObjectClass.CAR] * n)
    with pytest.warns(UserWarning, match=r"sample tok: 600 boxes, kept the 500 highest-scoring"):
        items = boxes_to_submission(boxes, "tok", SE3.identity())
    assert len(items) == MAX_BOXES_PER_SAMPLE
    kept = sorted(i for i in range(n) if scores[i] >= np.sort(scores)[-500])
    assert [item["translation"][0] for item in items] == [float(i) for i in kept]  # in order
    write_submission(tmp_path / "res.json", {"tok": items})  # within the limit: written
    assert len(read_submission(tmp_path / "res.json")["tok"]) == 500
    three = Boxes3D.from_array7(array7[:3], "lidar", score=[0.2, 0.9, 0.5], label=[ObjectClass.CAR] * 3)  # fmt: skip
    with pytest.warns(UserWarning, match=r"sample t: 3 boxes, kept the 2 highest-scoring"):
        two = boxes_to_submission(three, "t", SE3.identity(), max_boxes=2)
    assert [item["detection_score"] for item in two] == [
        0.9,
        0.5,
    ]  # the 0.2 one dropped, order kept
