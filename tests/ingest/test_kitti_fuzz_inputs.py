"""Bad bytes in real KITTI files (found by a mutation campaign): a DataError naming the file,
line and field, never a UnicodeDecodeError, a silently skipped calibration line, a frame
shifted by a blank line or a corrupted rotation used as read."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from drivestack.core.errors import DataError
from drivestack.ingest.kitti_calib import read_kitti_calib
from drivestack.ingest.kitti_odometry import read_camera_poses, read_times_ns
from drivestack.ingest.kitti_tracking import read_ego_poses

_TRACKING_CALIB = "kitti_tracking/training/calib/0000.txt"
_EGO_POSES = "kitti_tracking/training/ego_poses_orbslam3_stereo/0000.txt"


def _copy_lines(shared_data: Path, rel: str, n: int | None = None) -> list[bytes]:
    """The first ``n`` lines (all when None) of a shared file, with their line ends."""
    return (shared_data / rel).read_bytes().splitlines(keepends=True)[:n]


def _write(tmp_path: Path, name: str, lines: list[bytes]) -> Path:
    path = tmp_path / name
    path.write_bytes(b"".join(lines))
    return path


# -- calibration: bytes that are not UTF-8, a byte-order mark -----------------------------------
def test_calib_non_utf8_value_names_file_line_and_key(shared_data: Path, tmp_path: Path) -> None:
    lines = _copy_lines(shared_data, _TRACKING_CALIB)
    lines[4] = lines[4].replace(b"R0_rect: ", b"R0_rect: \xff\xfe", 1)  # was UnicodeDecodeError
    path = _write(tmp_path, "0000.txt", lines)
    with pytest.raises(DataError, match="non-numeric") as err:
        read_kitti_calib(path)
    assert (err.value.path, err.value.record, err.value.field) == (str(path), "line 5", "R0_rect")


def test_calib_undecodable_key_is_an_error_not_a_skipped_line(
    shared_data: Path, tmp_path: Path
) -> None:
    lines = _copy_lines(shared_data, _TRACKING_CALIB)
    lines[1] = b"\xe9\xe8" + lines[1]  # "P1:" behind two bytes that are not UTF-8
    path = _write(tmp_path, "0000.txt", lines)
    with pytest.raises(DataError, match="not a 'key: numbers' line") as err:
        read_kitti_calib(path)  # was: P1 dropped as an unknown key, nothing said
    assert (err.value.path, err.value.record) == (str(path), "line 2")


def test_calib_byte_order_mark_keeps_the_first_key(shared_data: Path, tmp_path: Path) -> None:
    original = read_kitti_calib(shared_data / _TRACKING_CALIB)
    lines = _copy_lines(shared_data, _TRACKING_CALIB)
    path = _write(tmp_path, "0000.txt", [b"\xef\xbb\xbf" + lines[0], *lines[1:]])
    calib = read_kitti_calib(path)  # was: "\ufeffP0" skipped as an unknown key
    assert sorted(calib.P) == ["P0", "P1", "P2", "P3"]
    np.testing.assert_array_equal(calib.P["P0"], original.P["P0"])


# -- one line per frame: a blank line would shift every later frame ------------------------------
def test_ego_poses_blank_line_between_frames_is_an_error(shared_data: Path, tmp_path: Path) -> None:
    lines = _copy_lines(shared_data, _EGO_POSES, 5)
    path = _write(tmp_path, "0000.txt", [*lines[:2], b"\n", *lines[2:]])
    with pytest.raises(DataError, match="blank line in a file of one line per frame") as err:
        read_ego_poses(path)  # was: 5 poses, frames 2.. given the next frame's pose
    assert (err.value.path, err.value.record) == (str(path), "line 3")
    assert len(read_ego_poses(_write(tmp_path, "ok.txt", [*lines, b"\n", b"\n"]))) == 5


def test_ego_poses_corrupted_rotation_names_line(shared_data: Path, tmp_path: Path) -> None:
    lines = _copy_lines(shared_data, _EGO_POSES, 5)
    fields = lines[3].split()
    fields[1] = b"1" + fields[1]  # one rotation entry off by ~10: not a rotation any more
    lines[3] = b" ".join(fields) + b"\n"
    path = _write(tmp_path, "0000.txt", lines)
    with pytest.raises(DataError, match="not orthonormal") as err:
        read_ego_poses(path)  # was: read as is, then silently projected to some rotation
    assert (err.value.path, err.value.record, err.value.field) == (str(path), "line 4", "pose")


def test_odometry_poses_and_times_blank_line_is_an_error(shared_data: Path, tmp_path: Path) -> None:
    poses = _copy_lines(shared_data, "kitti_odometry_00/poses/00.txt", 4)
    path = _write(tmp_path, "00.txt", [b"\n", *poses])
    with pytest.raises(DataError, match="blank line") as err:
        read_camera_poses(path)  # was: frame 0 given frame 1's pose (line 2)
    assert (err.value.path, err.value.record) == (str(path), "line 1")
    times = _copy_lines(shared_data, "kitti_odometry_00/times.txt", 4)
    path = _write(tmp_path, "times.txt", [*times[:2], b"  \n", *times[2:]])
    with pytest.raises(DataError, match="blank line") as err:
        read_times_ns(path)
    assert (err.value.path, err.value.record) == (str(path), "line 3")
    assert len(read_times_ns(_write(tmp_path, "t.txt", [*times, b"\n"]))) == 4


def test_fuzz_fixture_files_still_read(shared_data: Path, tmp_path: Path) -> None:
    """The unmutated files the tests above start from read as before."""
    shutil.copy(shared_data / _EGO_POSES, tmp_path / "poses.txt")
    assert read_ego_poses(tmp_path / "poses.txt").shape == (154, 4, 4)
    assert read_kitti_calib(shared_data / "kitti_odometry_00/calib.txt").Tr_imu_to_velo is None
