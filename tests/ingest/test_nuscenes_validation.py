"""nuScenes info, submission and point files: every bad value is a DataError naming the file,
the record and the field; attributes follow mmdet3d's speed rule."""

from __future__ import annotations

import copy
import json
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from drivestack.core.errors import DataError
from drivestack.core.transforms import SE3
from drivestack.ingest.kitti_object import read_velodyne_bin
from drivestack.ingest.nuscenes import (
    MAX_BOXES_PER_SAMPLE,
    attribute_from_speed,
    boxes_to_submission,
    read_lidar_pcd_bin,
    read_multisweep_fp16,
    read_nuscenes_info,
    read_submission,
    write_submission,
)
from drivestack.structures.boxes import Boxes3D
from drivestack.structures.labels import ObjectClass

INFO: dict[str, Any] = {
    "metainfo": {"categories": {"car": 0, "pedestrian": 1}},
    "data_list": [{
        "token": "tok", "timestamp": 1532402927.647951, "ego2global": np.eye(4).tolist(),
        "lidar_points": {"lidar_path": "x.bin", "lidar2ego": np.eye(4).tolist()},
        "instances": [{"bbox_3d": [1, 2, 3, 4, 5, 6, 0], "bbox_label_3d": 0,
                       "velocity": [1.0, 0.5], "num_lidar_pts": 3}],
    }],
}  # fmt: skip


def _info(tmp_path: Path, doc: Any) -> Path:
    path = tmp_path / "info.json"
    path.write_text(json.dumps(doc))
    return path


def _inst_case(key: str, value: Any) -> Any:
    doc = copy.deepcopy(INFO)
    doc["data_list"][0]["instances"][0][key] = value
    return doc


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("bbox_3d", "1 2 3 4 5 6 0"),
        ("bbox_3d", ["1", 2, 3, 4, 5, 6, 0]),
        ("velocity", None),
        ("velocity", "fast"),
        ("velocity", [1.0]),
        ("bbox_label_3d", "car"),
        ("bbox_label_3d", -5),
        ("bbox_label_3d", 2),
        ("num_lidar_pts", None),
        ("num_lidar_pts", 2.5),
    ],
)
def test_bad_instance_values_name_sample_instance_and_field(
    tmp_path: Path, key: str, value: Any
) -> None:
    path = _info(tmp_path, _inst_case(key, value))
    with pytest.raises(DataError) as err:
        read_nuscenes_info(path)
    assert err.value.path == str(path) and err.value.field == key
    assert err.value.record == "data_list[0].instances[0] (token tok)"


# 5e10 s and 5e16 us lie past int64 nanoseconds (2262): they failed deep in Boxes3D
@pytest.mark.parametrize("value", ["abc", None, -1.0, 5e12, 5e10, 5e16])
def test_bad_timestamps_name_the_sample(tmp_path: Path, value: Any) -> None:
    doc = copy.deepcopy(INFO)
    doc["data_list"][0]["timestamp"] = value
    with pytest.raises(DataError) as err:
        read_nuscenes_info(_info(tmp_path, doc))
    assert (err.value.record, err.value.field) == ("data_list[0] (token tok)", "timestamp")


def test_timestamp_in_seconds_or_integer_microseconds(tmp_path: Path) -> None:
    assert read_nuscenes_info(_info(tmp_path, INFO))[0].timestamp_ns == 1532402927647951000
    doc = copy.deepcopy(INFO)
    doc["data_list"][0]["timestamp"] = 1532402927647951  # mmdet3d v0.x infos: microseconds
    assert read_nuscenes_info(_info(tmp_path, doc))[0].timestamp_ns == 1532402927647951000


@pytest.mark.parametrize(
    ("doc", "field"),
    [
        ([INFO], None),
        ({**INFO, "metainfo": {"categories": ["car", "pedestrian"]}}, "metainfo.categories"),
        ({**INFO, "data_list": {"0": INFO["data_list"][0]}}, "data_list"),
        ({**INFO, "data_list": INFO["data_list"] * 2}, "token"),
        # a category name the protocol does not know: its labels silently left unscored
        ({**INFO, "metainfo": {"categories": {"Car": 0, "pedestrian": 1}}}, "metainfo.categories"),
        ({**INFO, "data_list": [{**INFO["data_list"][0], "token": None}]}, "token"),
        ({**INFO, "data_list": [{**INFO["data_list"][0], "token": ""}]}, "token"),
        # a 4x4 pose whose last row is not [0, 0, 0, 1]: its bottom row was ignored
        (
            {
                **INFO,
                "data_list": [
                    {**INFO["data_list"][0], "ego2global": [*np.eye(4)[:3].tolist(), [5, 0, 0, 1]]}
                ],
            },
            "ego2global",
        ),
    ],
)
def test_bad_file_structure_is_named(tmp_path: Path, doc: Any, field: str | None) -> None:
    path = _info(tmp_path, doc)
    with pytest.raises(DataError) as err:
        read_nuscenes_info(path)
    assert err.value.path == str(path) and err.value.field == field


def test_info_velocity_and_labels_read(tmp_path: Path) -> None:
    sample = read_nuscenes_info(_info(tmp_path, INFO))[0]
    assert sample.labels.velocity_mps.tolist() == [[1.0, 0.5]]
    assert sample.detection_name.tolist() == ["car"] and sample.num_lidar_pts.tolist() == [3]


# -- submissions ---------------------------------------------------------------------------
BOX: dict[str, Any] = {
    "sample_token": "t", "translation": [1.0, 2.0, 3.0], "size": [2.0, 4.0, 1.5],
    "rotation": [1.0, 0.0, 0.0, 0.0], "velocity": [0.0, 0.0], "detection_name": "car",
    "detection_score": 0.5, "attribute_name": "vehicle.parked",
}  # fmt: skip


def _submission(tmp_path: Path, boxes: Any, raw: str | None = None) -> Path:
    path = tmp_path / "sub.json"
    path.write_text(raw if raw is not None else json.dumps({"meta": {}, "results": {"t": boxes}}))
    return path


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"velocity": None}, "velocity"),
        ({"velocity": [3.0]}, "velocity"),
        ({"velocity": [float("inf"), 0.0]}, "velocity"),
        ({"detection_score": float("nan")}, "detection_score"),
        ({"detection_score": "0.5"}, "detection_score"),
        ({"size": [-1.0, 2.0, 3.0]}, "size"),
        ({"translation": [1.0, 2.0]}, "translation"),
        ({"rotation": [0.0, 0.0, 0.0, 0.0]}, "rotation"),
        ({"sample_token": "other"}, "sample_token"),
        ({"attribute_name": "flying"}, "attribute_name"),
        ({"attribute_name": "pedestrian.moving"}, "attribute_name"),  # not a car's
        ({"detection_name": "tank"}, "detection_name"),
    ],
)
def test_bad_submission_boxes_name_sample_box_and_field(
    tmp_path: Path, change: dict[str, Any], field: str
) -> None:
    path = _submission(tmp_path, [BOX, {**BOX, **change}])
    with pytest.raises(DataError) as err:
        read_submission(path)
    assert (err.value.path, err.value.record, err.value.field) == (
        str(path),
        "results[t][1]",
        field,
    )


def test_submission_missing_keys_and_non_objects(tmp_path: Path) -> None:
    no_attr = {k: v for k, v in BOX.items() if k != "attribute_name"}
    with pytest.raises(DataError, match=r"results\[t\]\[0\]: field attribute_name: missing key"):
        read_submission(_submission(tmp_path, [no_attr]))
    with pytest.raises(DataError, match=r"results\[t\]\[0\]: expected a box object, got 1"):
        read_submission(_submission(tmp_path, [1]))


def test_submission_box_limit_per_sample(tmp_path: Path) -> None:
    read_submission(_submission(tmp_path, [BOX] * MAX_BOXES_PER_SAMPLE))
    with pytest.raises(DataError, match="501 boxes; nuScenes allows at most 500") as err:
        read_submission(_submission(tmp_path, [BOX] * (MAX_BOXES_PER_SAMPLE + 1)))
    assert err.value.record == "results[t]"


def test_nan_velocity_is_unknown_not_zero(tmp_path: Path) -> None:
    sub = read_submission(_submission(tmp_path, [{**BOX, "velocity": [float("nan")] * 2}]))["t"]
    assert np.all(np.isnan(sub.velocity_mps))
    with pytest.raises(DataError, match=r"results\[t\]\[0\]: field velocity: unknown \(NaN\)"):
        sub.to_boxes()


def test_attribute_follows_speed_like_mmdet3d() -> None:
    assert attribute_from_speed("car", 9.56) == "vehicle.moving"
    assert attribute_from_speed("car", 0.1) == "vehicle.parked"
    assert attribute_from_speed("bus", 0.1) == "vehicle.stopped"
    assert attribute_from_speed("pedestrian", 0.0) == "pedestrian.standing"
    assert attribute_from_speed("pedestrian", 1.2) == "pedestrian.moving"
    assert attribute_from_speed("bicycle", 3.0) == "cycle.with_rider"
    assert attribute_from_speed("motorcycle", 0.0) == "cycle.without_rider"
    assert attribute_from_speed("barrier", 3.0) == ""
    assert attribute_from_speed("traffic_cone", 0.0) == ""


def _boxes() -> Boxes3D:
    return Boxes3D.from_array7(
        [[10.0, 2.0, 0.5, 4.5, 1.9, 1.6, 0.3], [5.0, -3.0, 0.2, 0.6, 0.7, 1.8, -2.0]],
        "lidar",
        score=[0.9, 0.4],
        label=[ObjectClass.CAR, ObjectClass.PEDESTRIAN],
        velocity_mps=[[9.56, 0.0], [0.01, 0.0]],
    )


def test_boxes_to_submission_attributes_from_speed_or_given() -> None:
    world = SE3.from_xyz_yaw([100.0, 200.0, 1.0], 1.2)
    items = boxes_to_submission(_boxes(), "tok", world)
    assert [i["attribute_name"] for i in items] == ["vehicle.moving", "pedestrian.standing"]
    items = boxes_to_submission(_boxes(), "tok", world, attribute_name=["vehicle.stopped", ""])
    assert [i["attribute_name"] for i in items] == ["vehicle.stopped", ""]
    with pytest.raises(ValueError, match="box 1: field attribute_name"):
        boxes_to_submission(_boxes(), "tok", world, attribute_name=["", "vehicle.moving"])


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"detection_score": float("nan")}, "detection_score"),
        ({"velocity": [float("nan"), 0.0]}, "velocity"),
        ({"detection_name": "Car"}, "detection_name"),
    ],
)
def test_submission_writer_rejects_what_strict_json_or_the_reader_rejects(
    tmp_path: Path, change: dict[str, Any], field: str
) -> None:
    path = tmp_path / "res.json"
    with pytest.raises(ValueError, match=rf"results\[t\]\[1\]: field {field}: ") as err:
        write_submission(path, {"t": [BOX, {**BOX, **change}]})
    assert isinstance(err.value, DataError) and err.value.path is None
    assert not path.exists()


# -- points --------------------------------------------------------------------------------
def test_velodyne_nan_reflectance_is_an_error_or_dropped(tmp_path: Path) -> None:
    pts = np.arange(40, dtype="<f4").reshape(10, 4)
    pts[:, 3] = 0.5  # a KITTI reflectance, in [0, 1]
    pts[7, 3] = np.nan
    path = tmp_path / "a.bin"
    path.write_bytes(pts.tobytes())
    with pytest.raises(DataError) as err:
        read_velodyne_bin(path)
    assert (err.value.record, err.value.field) == ("point 7", "reflectance")
    assert len(read_velodyne_bin(path, drop_nonfinite=True)) == 9


def test_implausible_coordinates_point_to_the_right_reader(tmp_path: Path) -> None:
    pts = np.ones((4, 5), "<f4")
    pts[2, 1] = 9.6e15
    path = tmp_path / "a.pcd.bin"
    path.write_bytes(pts.tobytes())
    with pytest.raises(DataError, match="read_multisweep_fp16") as err:
        read_lidar_pcd_bin(path)
    assert (err.value.record, err.value.field) == ("point 2", "y")


@pytest.mark.data
def test_fp16_multisweep_file_is_not_a_pcd_bin(shared_data: Path) -> None:
    path = shared_data / "nuscenes_samples/multisweep_fp16/ff9eff4389a740848f9a56ad749a4ae8.bin"
    with pytest.raises(DataError, match="read_multisweep_fp16"):
        read_lidar_pcd_bin(path)


def test_multisweep_nan_time_lag_is_an_error_without_warnings(tmp_path: Path) -> None:
    pts = np.zeros((4, 5), "<f2")
    pts[2, 4] = np.nan
    path = tmp_path / "a.bin"
    path.write_bytes(pts.tobytes())
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(DataError) as err:
            read_multisweep_fp16(path)
        assert (err.value.record, err.value.field) == ("point 2", "time_lag_s")
        cloud = read_multisweep_fp16(path, drop_nonfinite=True)
    assert len(cloud) == 3 and cloud.attributes["time_offset_ns"].tolist() == [0, 0, 0]


@pytest.mark.parametrize(
    "lidar_path", ["../../../../etc/passwd", "/etc/passwd", "samples/LIDAR_TOP/x.bin", "", ".."]
)
def test_a_lidar_path_that_is_not_a_file_name_is_refused(tmp_path: Path, lidar_path: str) -> None:
    # the reader opened <info folder>/samples/LIDAR_TOP/<lidar_path>: '../..' or an absolute
    # path read any file on the machine as a sweep, without a word
    doc = copy.deepcopy(INFO)
    doc["data_list"][0]["lidar_points"]["lidar_path"] = lidar_path
    path = _info(tmp_path, doc)
    with pytest.raises(DataError) as err:
        read_nuscenes_info(path)
    assert err.value.path == str(path) and err.value.field == "lidar_points.lidar_path"
    assert err.value.record == "data_list[0] (token tok)"
    assert "expected the file name of a sweep in samples/LIDAR_TOP" in str(err.value)
