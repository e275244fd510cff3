"""PandaSet LiDAR npz: corrupt files are errors naming the file (and point and field), never
numpy's exceptions or silently repaired values; ``pandar64_only`` filters labels, not points."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from drivestack.core.errors import DataError
from drivestack.core.transforms import SE3
from drivestack.ingest.pandaset import read_lidar_npz, read_pandaset_frame

TS_NS = 1_557_540_000_000_000_000


def _write(path: Path, n: int = 4, **overrides: np.ndarray) -> Path:
    arrays: dict[str, np.ndarray] = {
        "xyz": np.arange(3 * n, dtype=np.float32).reshape(n, 3),
        "intensity": np.zeros(n, np.uint8),
        "t": TS_NS / 1e9 + np.arange(n) * 0.01,
        "d": np.zeros(n, np.uint8),
    }
    a = arrays | overrides
    np.savez(path, xyz=a["xyz"], intensity=a["intensity"], t=a["t"], d=a["d"])
    return path


def test_truncated_npz_is_a_data_error_naming_the_file(tmp_path: Path) -> None:
    raw = _write(tmp_path / "whole.npz", n=1000).read_bytes()
    for name, data in (("cut.npz", raw[: len(raw) // 2]), ("junk.npz", b"PK\x03\x04 junk")):
        (tmp_path / name).write_bytes(data)
        with pytest.raises(DataError, match="cannot read npz") as err:
            read_lidar_npz(tmp_path / name, SE3.identity(), timestamp_ns=TS_NS)
        assert err.value.path == str(tmp_path / name)


def test_nan_point_time_is_an_error_naming_point_and_field(tmp_path: Path) -> None:
    t = TS_NS / 1e9 + np.arange(4) * 0.01
    t[2] = np.nan
    path = _write(tmp_path / "nan_t.npz", t=t)
    with pytest.raises(DataError, match="NaN or infinite time") as err:
        read_lidar_npz(path, SE3.identity(), timestamp_ns=TS_NS)
    assert (err.value.path, err.value.record, err.value.field) == (str(path), "point 2", "t")
    with pytest.raises(DataError, match="time"):  # dropping is for coordinates, not times
        read_lidar_npz(path, SE3.identity(), timestamp_ns=TS_NS, drop_nonfinite=True)


def test_point_dropped_for_its_coordinates_needs_no_time(tmp_path: Path) -> None:
    xyz = np.arange(12, dtype=np.float32).reshape(4, 3)
    xyz[1, 0] = np.nan
    t = TS_NS / 1e9 + np.arange(4) * 0.01
    t[1] = np.nan
    path = _write(tmp_path / "nan_row.npz", xyz=xyz, t=t)
    cloud = read_lidar_npz(path, SE3.identity(), timestamp_ns=TS_NS, drop_nonfinite=True)
    assert len(cloud) == 3
    offsets_ms = cloud.attribute("time_offset_ns") / 1e6
    np.testing.assert_allclose(offsets_ms, [0.0, 20.0, 30.0], atol=1e-3)


@pytest.mark.data
def test_pandar64_only_filters_labels_and_keeps_both_sensors_points(shared_data: Path) -> None:
    seq = shared_data / "pandaset/002"
    one = read_pandaset_frame(seq, 0)
    both = read_pandaset_frame(seq, 0, pandar64_only=False)
    assert one.labels is not None and both.labels is not None
    assert len(one.labels) < len(both.labels)
    sensors = one.lidar().attribute("sensor_id")
    assert set(np.unique(sensors).tolist()) == {0, 1}  # Pandar64 and PandarGT points
    np.testing.assert_array_equal(one.lidar().xyz_m, both.lidar().xyz_m)


@pytest.mark.data
@pytest.mark.parametrize(
    ("column", "value", "said"),
    [("yaw", float("nan"), "finite number"), ("dimensions.x", 0.0, "finite number > 0")],
)
def test_bad_cuboid_values_name_row_field_frame_and_uuid(
    shared_data: Path, tmp_path: Path, column: str, value: float, said: str
) -> None:
    # the error named no field, frame or uuid, and a 0 m cuboid was taken
    import pyarrow as pa
    import pyarrow.parquet as pq

    from drivestack.ingest.pandaset import read_cuboids

    table = pq.read_table(shared_data / "pandaset/002/annotations/cuboids.parquet")
    values = table.column(column).to_numpy().copy()
    values[2] = value
    damaged = tmp_path / "cuboids.parquet"
    index = table.column_names.index(column)
    pq.write_table(table.set_column(index, column, pa.array(values)), damaged)
    with pytest.raises(DataError) as err:
        read_cuboids(damaged)
    assert (err.value.path, err.value.record, err.value.field) == (str(damaged), "row 2", column)
    frame, uuid = table.column("frame")[2].as_py(), table.column("uuid")[2].as_py()
    assert said in str(err.value) and f"(frame {frame}, uuid {uuid})" in str(err.value)
