"""Bad input found by mutating bags: each is skipped and named, or one DataError naming the
file and field; nothing leaks as a ValueError, AttributeError or garbage time offsets."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import yaml

from drivestack.core.errors import DataError
from drivestack.core.transforms import SE3
from drivestack.ingest.rosbag.pointcloud2 import decode_pointcloud2
from drivestack.ingest.rosbag.reader import RosbagLog
from drivestack.ingest.rosbag.writer import (
    BagWriter,
    _typestore,
    pointcloud2_message,
    tf_message,
    transform_stamped,
)
from tests.ingest.rosbag.test_reader import ODOM, PC2, SWEEP_NS, T0, TF, odometry, write_drive


def _drive_with_bad_odometry(path: Path, x: float) -> Path:
    """4 sweeps, odometry every 50 ms; the third odometry message at ``x`` metres."""
    with BagWriter(path, "mcap") as w:
        ts = w.typestore
        mount = transform_stamped(ts, T0, "base_link", "lidar", SE3.from_xyz_yaw([1.5, 0, 1.8], 0))
        w.write("/tf_static", TF, T0, tf_message(ts, [mount]))
        for k in range(9):
            stamp = T0 + k * SWEEP_NS // 2
            w.write("/odom", ODOM, stamp, odometry(ts, stamp, x if k == 2 else 0.5 * k))
        xyz = np.array([[20.0, 0.0, 0.0], [20.0, 1.0, 0.0]], dtype=np.float32)
        for k in range(4):
            stamp = T0 + k * SWEEP_NS
            cloud = pointcloud2_message(ts, xyz, {}, frame_id="lidar", stamp_ns=stamp)
            w.write("/points", PC2, stamp, cloud)
    return path


@pytest.mark.parametrize("x", [float("nan"), float("inf")])
def test_an_ego_pose_with_a_non_finite_translation_is_skipped_and_named(
    tmp_path: Path, x: float
) -> None:
    log = RosbagLog(_drive_with_bad_odometry(tmp_path / "drive", x), announce=lambda _: None)
    frames = list(log.frames())
    assert len(frames) == 4
    for frame in frames:
        assert frame.world_from_ego is not None
        assert np.isfinite(frame.world_from_ego.as_matrix()).all()
    (entry,) = log.report.skipped
    assert (entry.topic, entry.index, entry.kind) == ("/odom", 2, "invalid")
    assert "invalid translation" in entry.reason


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), 1e30])
def test_a_per_point_time_that_is_not_finite_is_a_decode_error_naming_the_field(
    tmp_path: Path, bad: float
) -> None:
    ts = _typestore("mcap")
    xyz = np.array([[20.0, 0.0, 0.0], [20.0, 1.0, 0.0]], dtype=np.float32)
    times = np.array([0.0, bad], dtype=np.float32 if bad != 1e30 else np.float64)
    msg = pointcloud2_message(ts, xyz, {"time": times}, frame_id="lidar", stamp_ns=T0)
    with pytest.raises(DataError) as raised:
        decode_pointcloud2(msg, path="drive.bag", record="/points #1")
    error = raised.value
    assert (error.path, error.record, error.field) == ("drive.bag", "/points #1", "time")
    assert "not finite or out of range" in error.reason


def _metadata(path: Path) -> tuple[Path, dict]:
    meta = path / "metadata.yaml"
    return meta, yaml.safe_load(meta.read_text())


def test_a_metadata_list_key_that_is_not_a_list_is_one_line_naming_it(tmp_path: Path) -> None:
    path = tmp_path / "drive"
    write_drive(path)
    meta, doc = _metadata(path)
    doc["rosbag2_bagfile_information"]["files"] = "text"  # rosbags opens it, then trips
    meta.write_text(yaml.safe_dump(doc))
    with pytest.raises(DataError) as raised:
        RosbagLog(path, announce=lambda _: None)
    assert str(raised.value) == f"{meta}: cannot read bag: `files` is not a list: 'text'"


def test_a_metadata_message_count_that_is_not_a_number_counts_as_unknown(tmp_path: Path) -> None:
    path = tmp_path / "drive"
    write_drive(path)
    meta, doc = _metadata(path)
    for topic in doc["rosbag2_bagfile_information"]["topics_with_message_count"]:
        topic["message_count"] = "x"
    meta.write_text(yaml.safe_dump(doc))
    log = RosbagLog(path, announce=lambda _: None)
    assert len(list(log.frames())) == 4
