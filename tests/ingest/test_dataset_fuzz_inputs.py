"""Bad-input findings of the dataset-reader fuzz campaign (nuScenes, Argoverse 2, aiMotive,
PandaSet): each corrupt input is a ``DataError`` naming the file (and record / field), never a
bare decoder, Arrow or NumPy error, and never a silently wrong value."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from drivestack.core.errors import DataError

_NUSC_INFO = "nuscenes_samples/mmdet3d_demo/n015-2018-07-24-11-22-45+0800_info.json"
_AIM_SEQ = "aimotive/train/nighttime/20210901-194123-00.37.12-00.37.27@Yoda"
_AV2_LOG = "argoverse2/sensor/val/7fab2350-7eaf-3b7e-a39d-6937a4c1bede"


def _flipped(src: Path, dst: Path, offset: int) -> Path:
    """A copy of ``src`` with byte ``offset`` made an invalid UTF-8 start byte."""
    raw = bytearray(src.read_bytes())
    raw[offset] = 0x84
    dst.write_bytes(bytes(raw))
    return dst


@pytest.mark.parametrize(
    ("rel", "reader"),
    [
        (_NUSC_INFO, "nuscenes"),
        (f"{_AIM_SEQ}/dynamic/box/3d_body/frame_0033643.json", "aimotive_boxes"),
        (f"{_AIM_SEQ}/sensor/calibration/calibration.json", "aimotive_calibration"),
        ("pandaset/002/lidar/poses.json", "pandaset_poses"),
        ("pandaset/002/lidar/timestamps.json", "pandaset_times"),
    ],
)
def test_json_with_a_non_utf8_byte_names_file_and_offset(
    shared_data: Path, tmp_path: Path, rel: str, reader: str
) -> None:
    from drivestack.ingest import aimotive, nuscenes, pandaset

    read = {
        "nuscenes": nuscenes.read_nuscenes_info,
        "aimotive_boxes": aimotive.read_aimotive_boxes,
        "aimotive_calibration": aimotive.read_aimotive_calibration,
        "pandaset_poses": pandaset.read_lidar_poses,
        "pandaset_times": pandaset.read_lidar_timestamps_ns,
    }[reader]
    bad = _flipped(shared_data / rel, tmp_path / Path(rel).name, 40)
    with pytest.raises(DataError, match="not utf-8 text") as err:
        read(bad)
    assert (err.value.path, err.value.record) == (str(bad), "byte 40")


@pytest.mark.parametrize("doc", [[], None, "x", 3])
def test_aimotive_calibration_that_is_not_an_object(tmp_path: Path, doc: object) -> None:
    from drivestack.ingest.aimotive import read_aimotive_calibration

    path = tmp_path / "calibration.json"
    path.write_text(json.dumps(doc))
    with pytest.raises(DataError, match="expected an object of sensors") as err:
        read_aimotive_calibration(path)
    assert err.value.path == str(path)


@pytest.mark.parametrize("value", [True, "4.7"])
def test_aimotive_box_number_of_the_wrong_type(
    shared_data: Path, tmp_path: Path, value: object
) -> None:
    from drivestack.ingest.aimotive import read_aimotive_boxes

    doc = json.loads(
        (shared_data / _AIM_SEQ / "dynamic/box/3d_body/frame_0033643.json").read_text()
    )
    doc["CapturedObjects"][1]["BoundingBox3D Extent X"] = value
    path = tmp_path / "frame.json"
    path.write_text(json.dumps(doc))
    with pytest.raises(DataError, match="not a number") as err:
        read_aimotive_boxes(path)
    assert (err.value.record, err.value.field) == ("CapturedObjects[1]", "BoundingBox3D Extent X")


def _sweep(shared_data: Path, tmp_path: Path) -> tuple[object, Path]:
    import pyarrow.feather as feather

    src = shared_data / _AV2_LOG / "sensors/lidar/315966265259836000.feather"
    return feather.read_table(str(src)), tmp_path / src.name


def test_av2_sweep_with_a_text_intensity_column(shared_data: Path, tmp_path: Path) -> None:
    import pyarrow as pa
    import pyarrow.feather as feather

    from drivestack.ingest.argoverse2 import read_av2_sweep

    table, path = _sweep(shared_data, tmp_path)
    i = table.column_names.index("intensity")
    text = pa.array([str(v) for v in table.column("intensity").to_pylist()])
    feather.write_feather(table.set_column(i, "intensity", text), str(path))
    with pytest.raises(DataError, match="must be a numeric column, got string") as err:
        read_av2_sweep(path)
    assert (err.value.path, err.value.field) == (str(path), "intensity")


def test_av2_annotations_with_corrupt_string_offsets(shared_data: Path, tmp_path: Path) -> None:
    from drivestack.ingest.argoverse2 import read_av2_cuboids

    src = shared_data / _AV2_LOG / "annotations.feather"
    raw = bytearray(src.read_bytes())
    raw[9530] ^= 0xFF  # inside the category column's offsets: ArrowException in to_numpy
    bad = tmp_path / "annotations.feather"
    bad.write_bytes(bytes(raw))
    with pytest.raises(DataError, match="cannot read Feather table") as err:
        read_av2_cuboids(bad)
    assert err.value.path == str(bad)
    assert len(str(err.value)) < 500  # Arrow's message quotes the whole column


def test_av2_calibration_with_a_sensor_given_twice(shared_data: Path, tmp_path: Path) -> None:
    import pyarrow as pa
    import pyarrow.feather as feather

    from drivestack.ingest.argoverse2 import read_av2_calibration

    src = shared_data / _AV2_LOG / "calibration/egovehicle_SE3_sensor.feather"
    table = feather.read_table(str(src))
    path = tmp_path / src.name
    feather.write_feather(pa.concat_tables([table, table.slice(0, 1)]), str(path))
    with pytest.raises(DataError, match="given twice") as err:
        read_av2_calibration(path)
    assert (err.value.record, err.value.field) == (f"row {table.num_rows}", "sensor_name")


def _map_dir(shared_data: Path, tmp_path: Path) -> Path:
    return Path(shutil.copytree(shared_data / _AV2_LOG / "map", tmp_path / "map"))


@pytest.mark.parametrize(("key", "index", "value"), [("R", 1, None), ("t", 0, float("nan"))])
def test_av2_sim2_with_a_null_or_nan(
    shared_data: Path, tmp_path: Path, key: str, index: int, value: object
) -> None:
    from drivestack.ingest.maps.av2_ground import read_av2_ground_height

    folder = _map_dir(shared_data, tmp_path)
    sim2 = next(folder.glob("*___img_Sim2_city.json"))
    doc = json.loads(sim2.read_text())
    doc[key][index] = value
    sim2.write_text(json.dumps(doc))
    with pytest.raises(DataError, match="null, NaN or infinite") as err:
        read_av2_ground_height(folder)
    assert (err.value.path, err.value.field) == (str(sim2), key)


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (None, "cannot read ground-height raster"),  # a 0-byte file
        (np.array(["a", "b"]), "need a non-empty numeric raster"),
        (np.zeros((0, 5), np.float16), "need a non-empty numeric raster"),
    ],
)
def test_av2_ground_raster_empty_or_not_numeric(
    shared_data: Path, tmp_path: Path, content: np.ndarray | None, reason: str
) -> None:
    from drivestack.ingest.maps.av2_ground import read_av2_ground_height

    folder = _map_dir(shared_data, tmp_path)
    npy = next(folder.glob("*_ground_height_surface____*.npy"))
    if content is None:
        npy.write_bytes(b"")
    else:
        with npy.open("wb") as f:
            np.save(f, content)
    with pytest.raises(DataError, match=reason) as err:
        read_av2_ground_height(folder)
    assert err.value.path == str(npy)


def _pandaset(shared_data: Path, tmp_path: Path) -> Path:
    seq = tmp_path / "002"
    (seq / "lidar").mkdir(parents=True)
    for name in ("poses.json", "timestamps.json", "00.npz"):
        shutil.copy(shared_data / "pandaset/002/lidar" / name, seq / "lidar" / name)
    return seq


@pytest.mark.parametrize(("value", "reason"), [("abc", "expected a number"), ([1.0], "expected a number"),
                                               (None, "expected a number"), (float("nan"), "NaN or infinite")])  # fmt: skip
def test_pandaset_pose_value_names_pose_and_field(
    shared_data: Path, tmp_path: Path, value: object, reason: str
) -> None:
    from drivestack.ingest.pandaset import read_lidar_poses

    seq = _pandaset(shared_data, tmp_path)
    path = seq / "lidar/poses.json"
    doc = json.loads(path.read_text())
    doc[2]["heading"]["y"] = value
    path.write_text(json.dumps(doc))
    with pytest.raises(DataError, match=reason) as err:
        read_lidar_poses(path)
    assert (err.value.path, err.value.record, err.value.field) == (str(path), "[2]", "heading.y")


@pytest.mark.parametrize("value", [1e30, -1e30, 5e10])  # 5e10 s wrapped to negative ns
def test_pandaset_timestamp_out_of_range(shared_data: Path, tmp_path: Path, value: float) -> None:
    from drivestack.ingest.pandaset import read_lidar_timestamps_ns

    seq = _pandaset(shared_data, tmp_path)
    path = seq / "lidar/timestamps.json"
    doc = json.loads(path.read_text())
    doc[3] = value
    path.write_text(json.dumps(doc))
    with pytest.raises(DataError, match="expected a finite time in seconds") as err:
        read_lidar_timestamps_ns(path)
    assert (err.value.record, err.value.field) == ("[3]", "timestamp")


def test_pandaset_timestamps_and_poses_of_different_lengths(
    shared_data: Path, tmp_path: Path
) -> None:
    from drivestack.ingest.pandaset import read_pandaset_frame

    seq = _pandaset(shared_data, tmp_path)
    path = seq / "lidar/timestamps.json"
    path.write_text(json.dumps(json.loads(path.read_text())[1:]))  # frame 0's time left out
    with pytest.raises(DataError, match="79 timestamps but 80 poses") as err:
        read_pandaset_frame(seq, 0)
    assert err.value.path == str(path)
    assert str(seq / "lidar/poses.json") in str(err.value)  # both files named in full


def test_pandaset_frame_time_off_names_timestamps_json_too(
    shared_data: Path, tmp_path: Path
) -> None:
    # a valid but wrong frame time (40 s early, still increasing) is caught by the scan's
    # point times: the error names the scan and the timestamps file the time came from
    from drivestack.ingest.pandaset import read_pandaset_frame

    seq = _pandaset(shared_data, tmp_path)
    path = seq / "lidar/timestamps.json"
    times = json.loads(path.read_text())
    times[0] -= 40.0
    path.write_text(json.dumps(times))
    with pytest.raises(DataError) as err:
        read_pandaset_frame(seq, 0)
    assert err.value.path == str(seq / "lidar/00.npz") and err.value.field == "t"
    assert f"frame 0 of {path}" in str(err.value)


@pytest.mark.parametrize(
    ("column", "change", "reason"),
    [
        ("frame", "null", "null value"),
        ("cuboids.sensor_id", "null", "null value"),
        ("label", "null", "null value"),
        ("frame", "float", "unexpected column type double"),
        ("position.x", "text", "unexpected column type string"),
    ],
)
def test_pandaset_cuboid_column_null_or_wrong_type(
    shared_data: Path, tmp_path: Path, column: str, change: str, reason: str
) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    from drivestack.ingest.pandaset import read_cuboids

    table = pq.read_table(shared_data / "pandaset/002/annotations/cuboids.parquet")
    values = table.column(column).to_pylist()
    if change == "null":
        values[5] = None
        arr = pa.array(values, type=table.column(column).type)
    elif change == "float":
        arr = pa.array([float(v) for v in values])
    else:
        arr = pa.array([str(v) for v in values])
    path = tmp_path / "cuboids.parquet"
    pq.write_table(table.set_column(table.column_names.index(column), column, arr), path)
    with pytest.raises(DataError, match=reason) as err:
        read_cuboids(path)
    assert (err.value.path, err.value.field) == (str(path), column)
