"""Argoverse 2 readers on synthetic feather files: the pose quaternion is read as
``qw qx qy qz``, pose rows written out of time order come back sorted (and ``at`` finds each),
and a sweep's ``offset_ns`` becomes ``time_offset_ns`` unchanged (positive: after the sweep's
timestamp)."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from drivestack.ingest.argoverse2 import read_av2_poses, read_av2_sweep


def _write_poses(path: Path, timestamps_ns: list[int], **columns: list[float]) -> None:
    import pyarrow as pa
    import pyarrow.feather as feather

    n = len(timestamps_ns)
    cols: dict[str, object] = {"timestamp_ns": np.asarray(timestamps_ns, dtype=np.int64)}
    defaults = {"qw": 1.0, "qx": 0.0, "qy": 0.0, "qz": 0.0, "tx_m": 0.0, "ty_m": 0.0, "tz_m": 0.0}
    for name, default in defaults.items():
        cols[name] = np.asarray(columns.get(name, [default] * n), dtype=np.float64)
    feather.write_feather(pa.table(cols), str(path))


def test_the_pose_quaternion_is_read_scalar_first(tmp_path: Path) -> None:
    path = tmp_path / "city_SE3_egovehicle.feather"
    # a yaw of pi/4 about +z: (qw, qx, qy, qz) = (cos(pi/8), 0, 0, sin(pi/8))
    _write_poses(
        path,
        [100],
        qw=[math.cos(math.pi / 8)],
        qz=[math.sin(math.pi / 8)],
        tx_m=[1.0],
        ty_m=[2.0],
        tz_m=[3.0],
    )
    pose = read_av2_poses(path).at(100)
    assert float(pose.yaw_rad) == pytest.approx(math.pi / 4)
    c = math.sqrt(0.5)  # cos(pi/4) = sin(pi/4)
    np.testing.assert_allclose(
        pose.rotation, [[c, -c, 0.0], [c, c, 0.0], [0.0, 0.0, 1.0]], atol=1e-12
    )
    np.testing.assert_allclose(pose.translation, [1.0, 2.0, 3.0])


def test_pose_rows_written_out_of_time_order_are_sorted(tmp_path: Path) -> None:
    path = tmp_path / "city_SE3_egovehicle.feather"
    _write_poses(path, [300, 100, 200], tx_m=[3.0, 1.0, 2.0])
    poses = read_av2_poses(path)
    assert poses.timestamp_ns.tolist() == [100, 200, 300]
    # each time keeps its own row's pose: tx 1 at t = 100, 2 at 200, 3 at 300
    assert poses.at(100).translation[0] == 1.0
    assert poses.at(200).translation[0] == 2.0
    assert poses.at(300).translation[0] == 3.0
    np.testing.assert_array_equal(poses.at_times(np.array([300, 100])).translation[:, 0], [3, 1])


def test_a_sweeps_offset_ns_becomes_time_offset_ns_unchanged(tmp_path: Path) -> None:
    import pyarrow as pa
    import pyarrow.feather as feather

    path = tmp_path / "315966253660357000.feather"
    table = pa.table(
        {
            "x": np.array([1.0, 2.0], np.float16),
            "y": np.array([0.0, 0.5], np.float16),
            "z": np.array([0.25, 0.0], np.float16),
            "intensity": np.array([10, 20], np.uint8),
            "laser_number": np.array([0, 31], np.uint8),
            # the second point fired 50 ms after the sweep's timestamp
            "offset_ns": np.array([0, 50_000_000], np.int32),
        }
    )
    feather.write_feather(table, str(path))
    cloud = read_av2_sweep(path)
    assert cloud.timestamp_ns == 315_966_253_660_357_000
    offsets = cloud.attribute("time_offset_ns")
    assert offsets.dtype == np.int64
    assert offsets.tolist() == [0, 50_000_000]
