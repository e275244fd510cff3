"""aiMotive: every ObjectType of the dataset loader maps to a class, any other is an error
naming file, object and field; a NaN ``gps_time`` is an error naming the point."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from drivestack.core.errors import DataError
from drivestack.ingest.aimotive import TYPE_TO_CLASS, read_aimotive_boxes, read_aimotive_laz
from drivestack.structures.labels import ObjectClass


def _box(object_type: object, object_id: int = 1) -> dict[str, object]:
    fields = {f"BoundingBox3D Origin {a}": 1.0 for a in "XYZ"}
    fields |= {f"BoundingBox3D Extent {a}": 2.0 for a in "XYZ"}
    fields |= {f"BoundingBox3D Orientation Quat {a}": float(a == "W") for a in "WXYZ"}
    return fields | {
        "Relative Velocity X": 0.0,
        "Relative Velocity Y": 0.0,
        "ObjectId": object_id,
        "ObjectType": object_type,
    }


def _boxes_file(path: Path, types: list[object]) -> Path:
    objects = [_box(t, i) for i, t in enumerate(types)]
    path.write_text(json.dumps({"CapturedObjects": objects, "Timestamp": 1_630_000_000_000}))
    return path


def test_loader_types_map_to_classes(tmp_path: Path) -> None:
    path = _boxes_file(
        tmp_path / "f.json", ["CAR", "van", "TRUCK/BUS", "Two_wheel_without_rider", "PEDESTRIAN"]
    )
    boxes, ids = read_aimotive_boxes(path)
    assert boxes.label.tolist() == [
        ObjectClass.CAR,
        ObjectClass.VAN,
        ObjectClass.TRUCK,
        ObjectClass.CYCLIST,
        ObjectClass.PEDESTRIAN,
    ]
    assert ids.tolist() == [0, 1, 2, 3, 4]
    assert {"CAR", "VAN", "TRUCK", "BUS", "PEDESTRIAN", "BICYCLE", "TRAILER"} <= set(TYPE_TO_CLASS)


@pytest.mark.parametrize("bad", ["SPACESHIP", "", 7, None])
def test_unknown_type_is_an_error_naming_object_and_field(tmp_path: Path, bad: object) -> None:
    path = _boxes_file(tmp_path / "f.json", ["CAR", bad])
    with pytest.raises(DataError, match="unknown aiMotive type") as err:
        read_aimotive_boxes(path)
    assert (err.value.path, err.value.record, err.value.field) == (
        str(path),
        "CapturedObjects[1]",
        "ObjectType",
    )


def _las(path: Path, gps_ns: np.ndarray) -> Path:
    import laspy

    las = laspy.create(point_format=1, file_version="1.2")
    las.header.scales = [0.001] * 3
    las.x = np.arange(len(gps_ns), dtype=np.float64)
    las.y = np.zeros(len(gps_ns))
    las.z = np.zeros(len(gps_ns))
    las.gps_time = gps_ns
    las.write(str(path))
    return path


def test_nan_gps_time_is_an_error_naming_the_point(tmp_path: Path) -> None:
    gps = 1.63e18 + np.array([0.0, 5e7, 1e8])
    cloud = read_aimotive_laz(_las(tmp_path / "ok.las", gps))
    assert cloud.timestamp_ns == int(gps.max())
    offsets = cloud.attribute("time_offset_ns")  # float64 ns near 1.6e18: 256 ns resolution
    np.testing.assert_allclose(offsets, [-100_000_000, -50_000_000, 0], atol=256)
    gps[1] = np.nan
    path = _las(tmp_path / "nan.las", gps)
    with pytest.raises(DataError, match="NaN or infinite time") as err:
        read_aimotive_laz(path)
    assert (err.value.path, err.value.record, err.value.field) == (
        str(path),
        "point 1",
        "gps_time",
    )


@pytest.mark.parametrize("stamp", ["\uff11\uff12", "\u0661\u0662", "\u00b2", "1_0"])
def test_timestamp_string_of_non_ascii_digits_is_an_error(tmp_path: Path, stamp: str) -> None:
    path = tmp_path / "f.json"
    path.write_text(json.dumps({"CapturedObjects": [_box("CAR")], "Timestamp": stamp}))
    with pytest.raises(DataError, match="integer nanoseconds") as err:
        read_aimotive_boxes(path)  # was read as 12 ns (fullwidth, Arabic-Indic) or crashed
    assert (err.value.path, err.value.field) == (str(path), "Timestamp")
    path.write_text(json.dumps({"CapturedObjects": [_box("CAR")], "Timestamp": "12"}))
    assert read_aimotive_boxes(path)[0].timestamp_ns == 12


@pytest.mark.data
def test_a_box_time_in_the_wrong_unit_is_named_beside_the_points_times(
    shared_data: Path, tmp_path: Path
) -> None:
    # the box JSON's Timestamp in microseconds: the error blamed the (good) LAZ alone
    from drivestack.ingest.aimotive import read_aimotive_frame

    source = next((shared_data / "aimotive").glob("train/nighttime/*"))
    name = sorted(p.stem for p in (source / "dynamic/box/3d_body").glob("frame_*.json"))[0]
    seq = tmp_path / "seq"
    (seq / "dynamic" / "box" / "3d_body").mkdir(parents=True)
    (seq / "dynamic" / "raw-revolutions").symlink_to(source / "dynamic" / "raw-revolutions")
    doc = json.loads((source / "dynamic/box/3d_body" / f"{name}.json").read_text())
    doc["Timestamp"] = int(doc["Timestamp"]) // 1000
    box_file = seq / "dynamic" / "box" / "3d_body" / f"{name}.json"
    box_file.write_text(json.dumps(doc))
    with pytest.raises(DataError) as err:
        read_aimotive_frame(seq, name)
    assert err.value.field == "gps_time" and err.value.path.endswith(f"{name}.laz")
    assert f"or the box file's time is wrong ({box_file}: field Timestamp: " in str(err.value)
