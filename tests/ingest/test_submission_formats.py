"""Dataset result formats as their official specs read them: hand-computed nuScenes submission
boxes and ``meta`` (nuscenes-devkit ``eval/detection/README.md``, ``loaders.load_prediction``),
AV2 detection Feather columns and dtypes (av2-api ``evaluation/detection/constants.py``), KITTI
result rows (object/tracking devkit readme), and files that score as the in-memory detections."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from drivestack.core.frames import EGO, LIDAR
from drivestack.core.transforms import SE3, yaw_to_rotation_matrix
from drivestack.ingest.argoverse2 import cuboids_from_boxes, write_av2_detections
from drivestack.ingest.kitti_format import KittiObjects, boxes_to_objects, format_number
from drivestack.ingest.kitti_object import read_kitti_label, write_kitti_label
from drivestack.ingest.kitti_tracking import read_tracking_labels, write_tracking_results
from drivestack.ingest.nuscenes import (
    META_KEYS,
    boxes_to_submission,
    read_submission,
    write_submission,
)
from drivestack.structures.boxes import Boxes3D
from drivestack.structures.labels import ObjectClass
from tests.ingest._helpers import IDEAL_CALIB as IDEAL

# -- nuScenes ------------------------------------------------------------------------------


def _car_in_lidar(score: float = 0.75) -> Boxes3D:
    return Boxes3D.from_array7(
        [[1.0, 2.0, 0.5, 4.0, 2.0, 1.5, 0.0]],  # x y z l w h yaw
        LIDAR,
        score=[score],
        label=[ObjectClass.CAR],
        velocity_mps=[[1.0, 0.0]],
    )


def test_nuscenes_box_is_global_gravity_centre_wlh_wxyz_hand_computed(tmp_path: Path) -> None:
    # world_from_lidar: turn 90 deg left, then move to (100, 200, 1)
    world_from_lidar = SE3(yaw_to_rotation_matrix(np.pi / 2), np.array([100.0, 200.0, 1.0]))
    items = boxes_to_submission(_car_in_lidar(), "tok", world_from_lidar)
    (box,) = items
    np.testing.assert_allclose(box["translation"], [98.0, 201.0, 1.5], atol=1e-12)
    assert box["size"] == [2.0, 4.0, 1.5]  # w, l, h
    half = np.sqrt(0.5)
    np.testing.assert_allclose(box["rotation"], [half, 0.0, 0.0, half], atol=1e-12)  # w x y z
    np.testing.assert_allclose(box["velocity"], [0.0, 1.0], atol=1e-12)  # global frame
    assert box["detection_name"] == "car" and box["detection_score"] == 0.75
    assert box["attribute_name"] == "vehicle.moving"  # 1 m/s > 0.2 m/s
    assert set(box) == {
        "sample_token",
        "translation",
        "size",
        "rotation",
        "velocity",
        "detection_name",
        "detection_score",
        "attribute_name",
    }

    path = tmp_path / "results_nusc.json"
    write_submission(path, {"tok": items})
    doc = json.loads(path.read_text())
    assert doc["meta"] == {
        "use_camera": False,
        "use_lidar": True,
        "use_radar": False,
        "use_map": False,
        "use_external": False,
    }
    assert doc["results"]["tok"] == items  # JSON floats round-trip exactly
    back = read_submission(path)["tok"].to_boxes()
    np.testing.assert_allclose(back.center_m, [[98.0, 201.0, 1.5]], atol=1e-12)
    np.testing.assert_allclose(back.size_m, [[4.0, 2.0, 1.5]])  # l w h again
    assert back.yaw_rad[0] == pytest.approx(np.pi / 2)


@pytest.mark.parametrize(
    ("meta", "message"),
    [
        ({"use_lidar": True}, "missing key 'use_camera'"),
        ({k: False for k in META_KEYS} | {"use_lidar": 1}, "use_lidar must be a bool"),
        ({k: False for k in META_KEYS} | {"uses_lidar": True}, "unknown key 'uses_lidar'"),
    ],
)
def test_nuscenes_meta_has_the_five_bool_flags(
    tmp_path: Path, meta: dict[str, Any], message: str
) -> None:
    path = tmp_path / "sub.json"
    with pytest.raises(ValueError, match=message):
        write_submission(path, {"tok": []}, meta=meta)
    assert not path.exists()
    camera = {k: k == "use_camera" for k in META_KEYS}
    write_submission(path, {"tok": []}, meta=camera)
    assert json.loads(path.read_text())["meta"] == camera


def test_nuscenes_more_than_500_boxes_per_sample_are_refused_by_the_writer(tmp_path: Path) -> None:
    boxes = Boxes3D.from_array7(
        np.tile([1.0, 2.0, 0.5, 4.0, 2.0, 1.5, 0.0], (501, 1)),
        LIDAR,
        score=np.linspace(0.1, 0.9, 501),
        label=[ObjectClass.CAR] * 501,
    )
    items = boxes_to_submission(boxes, "tok", SE3.identity(), max_boxes=501)  # not trimmed
    with pytest.raises(ValueError, match="501 boxes; nuScenes allows at most 500"):
        write_submission(tmp_path / "sub.json", {"tok": items})
    write_submission(tmp_path / "sub.json", {"tok": items[:500]})


def test_nuscenes_attribute_is_one_of_the_class_or_empty() -> None:
    boxes = Boxes3D.from_array7(
        [[1.0, 0, 0, 1, 1, 1, 0]] * 3,
        LIDAR,
        label=[ObjectClass.TRAFFIC_CONE, ObjectClass.CYCLIST, ObjectClass.PEDESTRIAN],
    )
    items = boxes_to_submission(boxes, "t", SE3.identity())  # all at rest
    assert [b["attribute_name"] for b in items] == [
        "",
        "cycle.without_rider",
        "pedestrian.standing",
    ]
    with pytest.raises(ValueError, match="not an attribute of traffic_cone"):
        boxes_to_submission(boxes, "t", SE3.identity(), attribute_name=["vehicle.moving", "", ""])


def test_nuscenes_another_class_attribute_is_read_with_a_warning_and_scored_wrong(
    tmp_path: Path,
) -> None:
    """The devkit accepts any nuScenes attribute on any class (a wrong one counts in
    attr_err); reading for scoring keeps it with a warning, strict reading refuses it, and
    a name that is no nuScenes attribute is refused either way."""
    from drivestack.core.errors import DataError
    from drivestack.ingest.nuscenes import read_submission

    boxes = Boxes3D.from_array7([[1.0, 0, 0, 1, 1, 1, 0]], LIDAR, label=[ObjectClass.PEDESTRIAN])
    [item] = boxes_to_submission(boxes, "t", SE3.identity())
    path = tmp_path / "sub.json"

    def submit(attribute: str) -> Path:
        path.write_text(json.dumps({"meta": {}, "results": {"t": [{**item, "attribute_name": attribute}]}}))  # fmt: skip
        return path

    warnings: list[str] = []
    got = read_submission(submit("vehicle.moving"), warnings=warnings)["t"]
    assert list(got.attribute_name) == ["vehicle.moving"]  # kept as submitted: scored wrong
    assert warnings == [
        f"{path}: results[t][0]: attribute_name 'vehicle.moving' is not an attribute of "
        "pedestrian: scored as a wrong attribute (the nuScenes devkit accepts it)"
    ]
    with pytest.raises(DataError, match=r"'vehicle\.moving' is not an attribute of pedestrian"):
        read_submission(submit("vehicle.moving"))
    with pytest.raises(DataError, match=r"'vehicle\.flying' is not an attribute of pedestrian"):
        read_submission(submit("vehicle.flying"), warnings=[])


# -- Argoverse 2 ---------------------------------------------------------------------------


def test_av2_feather_has_the_evaluator_columns_and_dtypes(tmp_path: Path) -> None:
    import pyarrow as pa
    import pyarrow.feather as feather

    boxes = Boxes3D.from_array7(
        [[5.0, -1.0, 0.8, 4.5, 1.9, 1.6, np.pi / 2]],
        EGO,
        1_000_000_123,
        score=[0.625],
        label=[ObjectClass.CAR],
    )
    path = tmp_path / "detections.feather"
    write_av2_detections(
        path, cuboids_from_boxes(boxes, log_id="log", category=["REGULAR_VEHICLE"])
    )
    table = feather.read_table(str(path))
    expected = {"log_id": pa.string(), "timestamp_ns": pa.int64(), "category": pa.string()} | {
        k: pa.float64()
        for k in (
            "tx_m",
            "ty_m",
            "tz_m",
            "length_m",
            "width_m",
            "height_m",
            "qw",
            "qx",
            "qy",
            "qz",
            "score",
        )
    }
    assert {f.name: f.type for f in table.schema} == expected
    row = {k: v[0] for k, v in table.to_pydict().items()}
    assert row["log_id"] == "log" and row["timestamp_ns"] == 1_000_000_123
    assert row["category"] == "REGULAR_VEHICLE" and row["score"] == 0.625
    # ego frame, geometric centre, yaw 90 deg -> (cos 45, 0, 0, sin 45)
    assert (row["tx_m"], row["ty_m"], row["tz_m"]) == (5.0, -1.0, 0.8)
    assert (row["length_m"], row["width_m"], row["height_m"]) == (4.5, 1.9, 1.6)
    half = np.sqrt(0.5)
    np.testing.assert_allclose([row[k] for k in ("qw", "qx", "qy", "qz")], [half, 0, 0, half])


# -- KITTI ---------------------------------------------------------------------------------


def test_kitti_result_row_columns_hand_computed(tmp_path: Path) -> None:
    # LiDAR centre (10, -1, -1), l w h = 4 1.8 2, yaw -90 deg: camera_rect bottom centre
    # (1, 2, 10) (y down: centre y 1 + h/2), rotation_y 0, alpha = 0 - atan2(1, 10)
    boxes = Boxes3D.from_array7(
        [[10.0, -1.0, -1.0, 4.0, 1.8, 2.0, -np.pi / 2]],
        LIDAR,
        score=[0.5],
        label=[ObjectClass.CAR],
    )
    objs = boxes_to_objects(boxes, IDEAL, image_edge_px=(1242.0, 375.0))
    path = tmp_path / "000000.txt"
    write_kitti_label(path, objs)
    f = path.read_text().split()
    assert len(f) == 16 and f[0] == "Car"
    assert float(f[3]) == pytest.approx(-np.arctan2(1.0, 10.0), abs=1e-15)  # alpha
    x1, y1, x2, y2 = (float(v) for v in f[4:8])
    # corners x in [-1, 3] m (length along camera x), depth z in [9.1, 10.9] m
    assert x1 == pytest.approx(600 + 700 * -1 / 9.1) and x2 == pytest.approx(600 + 700 * 3 / 9.1)
    assert y1 == pytest.approx(180 + 700 * 0 / 9.1) and y2 == pytest.approx(180 + 700 * 2 / 9.1)
    np.testing.assert_allclose([float(v) for v in f[8:11]], [2.0, 1.8, 4.0])  # h w l
    np.testing.assert_allclose([float(v) for v in f[11:14]], [1.0, 2.0, 10.0], atol=1e-12)
    assert float(f[14]) == pytest.approx(0.0, abs=1e-12) and float(f[15]) == 0.5


def _two_cars_scored_1e7_apart() -> KittiObjects:
    """Two KITTI rows whose scores (and alpha) need more than 6 decimals."""
    boxes = Boxes3D.from_array7(
        [[10.0, -1.0, -1.0, 4.0, 1.8, 2.0, -np.pi / 2]] * 2,
        LIDAR,
        score=[0.1234567, 0.1234568],
        label=[ObjectClass.CAR] * 2,
    )
    return boxes_to_objects(boxes, IDEAL, image_edge_px=(1242.0, 375.0))


def test_kitti_result_file_reads_back_the_exact_numbers(tmp_path: Path) -> None:
    # scores 1e-7 apart and an alpha with more than 6 decimals: 6 decimals would tie the
    # scores (0.123457 both) and move alpha, so the file would rank and score differently
    objs = _two_cars_scored_1e7_apart()
    path = tmp_path / "000000.txt"
    write_kitti_label(path, objs)
    back = read_kitti_label(path)
    assert back.score.tolist() == [0.1234567, 0.1234568]
    assert back.alpha_rad.tolist() == objs.alpha_rad.tolist()
    assert back.box2d_xyxy_px.tolist() == objs.box2d_xyxy_px.tolist()
    assert back.location_m.tolist() == objs.location_m.tolist()
    assert back.rotation_y_rad.tolist() == objs.rotation_y_rad.tolist()
    # numbers that fit keep the usual decimals
    assert path.read_text().split()[8:11] == ["2.000000", "1.800000", "4.000000"]
    assert format_number(-1.0, 6) == "-1.000000" and format_number(0.5, 2) == "0.50"
    assert format_number(0.1234567, 6) == "0.1234567"


def test_kitti_tracking_results_read_back_the_exact_numbers(tmp_path: Path) -> None:
    objs = _two_cars_scored_1e7_apart()
    objs = dataclasses.replace(objs, frame=np.array([0, 0]), track_id=np.array([3, 4]))
    path = tmp_path / "0000.txt"
    write_tracking_results(path, objs)
    back = read_tracking_labels(path)
    assert back.score.tolist() == [0.1234567, 0.1234568]
    assert back.alpha_rad.tolist() == objs.alpha_rad.tolist()
    assert back.box2d_xyxy_px.tolist() == objs.box2d_xyxy_px.tolist()
    assert path.read_text().split()[:5] == ["0", "3", "Car", "0", "0"]


# -- the written file scores as the in-memory detections ------------------------------------


class _NoisyLabels:
    """The frame's labels, moved, resized, turned and rescored by a seeded RNG."""

    def __init__(self) -> None:
        self.rng = np.random.default_rng(0)

    def reset(self) -> None:
        self.rng = np.random.default_rng(0)

    def step(self, frame: Any) -> Boxes3D:
        b = frame.labels
        n = len(b)
        yaw = b.yaw_rad + self.rng.normal(0, 0.2, n)
        return dataclasses.replace(
            b,
            center_m=b.center_m + self.rng.normal(0, 0.3, (n, 3)),
            size_m=b.size_m * self.rng.uniform(0.8, 1.2, (n, 3)),
            yaw_rad=(yaw + np.pi) % (2 * np.pi) - np.pi,
            velocity_mps=b.velocity_mps + self.rng.normal(0, 0.5, (n, 2)),
            score=self.rng.uniform(0.05, 0.95, n),
        )


@pytest.mark.data
@pytest.mark.parametrize(
    ("dataset", "root", "written", "kwargs"),
    [
        ("kitti", "kitti_object", "detections", {}),
        ("nuscenes", "nuscenes_samples/mmdet3d_demo", "detections/results_nusc.json", {}),
        (
            "av2",
            "argoverse2/sensor/val",
            "detections/detections.feather",
            {"av2_categories": "official"},
        ),
    ],
)
def test_written_detections_score_as_in_memory(
    shared_data: Path,
    tmp_path: Path,
    dataset: str,
    root: str,
    written: str,
    kwargs: dict[str, Any],
) -> None:
    from drivestack.eval.detection.run import evaluate_dataset

    out = tmp_path / "out"
    frames = 2 if dataset != "nuscenes" else 1
    kw: Any = kwargs
    memory = evaluate_dataset(
        dataset, shared_data / root, detector=_NoisyLabels(), max_frames=frames, out_dir=out, **kw
    )
    again = evaluate_dataset(
        dataset, shared_data / root, detections=out / written, max_frames=frames, **kw
    )
    assert json.dumps(again["metrics"], sort_keys=True) == json.dumps(
        memory["metrics"], sort_keys=True
    )
