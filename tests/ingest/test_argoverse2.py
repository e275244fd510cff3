"""Argoverse 2 readers on the real logs: counts, num_interior_pts reproduced exactly, bad input."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from drivestack.core.errors import DataError
from drivestack.ingest.argoverse2 import (
    list_av2_sweeps,
    read_av2_calibration,
    read_av2_cuboids,
    read_av2_frame,
    read_av2_poses,
    read_av2_sweep,
)
from drivestack.kernels import points_in_boxes
from drivestack.structures.labels import ObjectClass

LOGS = {
    "7fab2350-7eaf-3b7e-a39d-6937a4c1bede": ([99_229, 99_466], 81, 71, 11_364, 2_706),
    "adcf7d18-0510-35b0-a2fa-b4cea13a6d76": ([100_660], 47, 46, 12_078, 2_637),
}


@pytest.mark.data
@pytest.mark.parametrize("log_id", sorted(LOGS))
def test_real_sweeps_reproduce_num_interior_pts(shared_data: Path, log_id: str) -> None:
    points, per_sweep, with_points, total_rows, num_poses = LOGS[log_id]
    log = shared_data / "argoverse2/sensor/val" / log_id
    annotations = read_av2_cuboids(log / "annotations.feather")
    assert len(annotations) == total_rows and len(np.unique(annotations.timestamp_ns)) == 156
    assert len(read_av2_poses(log / "city_SE3_egovehicle.feather").timestamp_ns) == num_poses
    for ts, n in zip(list_av2_sweeps(log), points, strict=True):
        frame = read_av2_frame(log, ts)
        cloud = frame.lidar()
        assert len(cloud) == n and cloud.frame == "ego" and frame.world_from_ego is not None
        rows = annotations.at(ts)
        assert len(rows) == per_sweep and int((rows.num_interior_pts > 0).sum()) == with_points
        inside = points_in_boxes(cloud.xyz_m.astype(np.float64), rows.boxes).sum(axis=0)
        np.testing.assert_array_equal(inside, rows.num_interior_pts)
        assert frame.labels is not None and len(frame.labels) == per_sweep


@pytest.mark.data
def test_real_categories_and_calibration(shared_data: Path) -> None:
    log = shared_data / "argoverse2/sensor/val/adcf7d18-0510-35b0-a2fa-b4cea13a6d76"
    rows = read_av2_cuboids(log / "annotations.feather").at(315973157959879000)
    assert Counter(rows.category.tolist())["REGULAR_VEHICLE"] == 19
    boxes = rows.to_boxes()
    assert (
        int((boxes.label == ObjectClass.CAR).sum()) == 19
        and int((boxes.label == ObjectClass.PEDESTRIAN).sum()) == 16
    )
    calib = read_av2_calibration(
        shared_data
        / "argoverse2/sensor/val/7fab2350-7eaf-3b7e-a39d-6937a4c1bede/calibration/egovehicle_SE3_sensor.feather"
    )
    assert len(calib) == 11 and {"up_lidar", "down_lidar", "ring_front_center"} <= set(calib)
    assert 1.0 < float(calib["up_lidar"].translation[2]) < 2.5  # roof LiDAR height above the ground


def test_bad_tables(tmp_path: Path) -> None:
    import pyarrow as pa
    import pyarrow.feather as feather

    path = tmp_path / "123.feather"
    feather.write_feather(
        pa.table({"x": np.zeros(3, np.float16), "y": np.zeros(3, np.float16)}), str(path)
    )
    with pytest.raises(DataError) as err:
        read_av2_sweep(path)
    assert err.value.field == "z"
    table = pa.table({c: np.zeros(2, np.float16) for c in "xyz"} | {
        "intensity": np.zeros(2, np.uint8), "laser_number": np.zeros(2, np.uint8), "offset_ns": np.zeros(2, np.int32)})  # fmt: skip
    table = table.set_column(1, "y", pa.array(np.array([0, np.nan], np.float16)))
    feather.write_feather(table, str(path))
    with pytest.raises(DataError, match="NaN") as err:
        read_av2_sweep(path)
    assert err.value.record == "point 1" and err.value.field == "y"
    path.write_bytes(b"ARROW1 but not really")
    with pytest.raises(DataError, match="Feather"):
        read_av2_sweep(path)


def test_sweep_names_of_non_ascii_digits_are_not_sweeps(tmp_path: Path) -> None:
    lidar = tmp_path / "sensors/lidar"
    lidar.mkdir(parents=True)
    for stem in ("100", "\uff12\uff10\uff10", "\u0663\u0660\u0660", "\u00b2", "1_0", "foo"):
        (lidar / f"{stem}.feather").write_bytes(b"")
    # fullwidth / Arabic-Indic digits were read as sweeps 200 and 300, a superscript crashed
    assert list_av2_sweeps(tmp_path) == [100]


@pytest.mark.parametrize("stem", ["1_0", "\uff11\uff10", " 10"])
def test_sweep_file_name_of_python_only_number_is_not_a_timestamp(
    tmp_path: Path, stem: str
) -> None:
    path = tmp_path / f"{stem}.feather"
    path.write_bytes(b"")
    with pytest.raises(DataError, match=r"file name is not <timestamp_ns>\.feather") as err:
        read_av2_sweep(path)  # was read as timestamp 10
    assert err.value.path == str(path)
