"""KITTI calib files: orthonormality of the rigid blocks, line syntax, missing keys."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from drivestack.core.errors import DataError
from drivestack.core.transforms import nearest_rotation
from drivestack.ingest.kitti_calib import KittiCalib, read_kitti_calib
from tests.ingest.test_kitti_tracking import CALIB_OBJECT_STYLE

CALIB = CALIB_OBJECT_STYLE  # the object-style calib of the tracking reader's tests
ODOMETRY = "\n".join(CALIB.splitlines()[:4]) + "\n"  # P0..P3, no Tr


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "calib.txt"
    path.write_text(text)
    return path


def test_valid_calib_reads_and_maps_lidar_to_camera(tmp_path: Path) -> None:
    calib = read_kitti_calib(_write(tmp_path, CALIB))
    cam_from_lidar = calib.camera_rect_from_lidar()
    np.testing.assert_allclose(
        cam_from_lidar.rotation @ cam_from_lidar.rotation.T, np.eye(3), atol=1e-12
    )
    # a point ahead of the LiDAR (x forward) is ahead of the camera (z forward)
    assert cam_from_lidar.apply(np.array([[10.0, 0.0, 0.0]]))[0, 2] > 9.0


@pytest.mark.parametrize("key", ["Tr_velo_to_cam", "R0_rect", "Tr_imu_to_velo"])
def test_non_orthonormal_rotation_is_rejected_naming_file_line_and_key(
    tmp_path: Path, key: str
) -> None:
    lines = CALIB.splitlines()
    row = next(i for i, line in enumerate(lines) if line.startswith(key))
    k, values = lines[row].split(":")
    numbers = values.split()
    numbers[0] = "5.0"  # R[0, 0] 0.0075 -> 5.0 (the walkthrough's corrupted file)
    lines[row] = f"{k}: {' '.join(numbers)}"
    path = _write(tmp_path, "\n".join(lines) + "\n")
    with pytest.raises(DataError, match="not orthonormal") as err:
        read_kitti_calib(path)
    assert err.value.path == str(path) and err.value.field == key
    assert err.value.record == f"line {row + 1}"


def test_rotation_printed_to_seven_digits_is_accepted(tmp_path: Path) -> None:
    # KITTI prints ~7 significant digits: deviations ~1e-7 pass, the 1e-4 tolerance is far
    calib = read_kitti_calib(_write(tmp_path, CALIB.replace("0.9999714", "0.9999724")))
    assert calib.Tr_velo_to_cam[0, 1] == pytest.approx(-0.9999724)


def test_calib_built_in_code_is_checked_when_used() -> None:
    bad = np.eye(3, 4)
    bad[0, 0] = 5.0
    calib = KittiCalib({"P2": np.eye(3, 4)}, np.eye(3), bad, path="mine.txt")
    with pytest.raises(DataError, match=r"mine\.txt: field R0_rect @ Tr_velo_to_cam"):
        calib.camera_rect_from_lidar()


@pytest.mark.data
def test_every_real_calib_is_orthonormal_well_within_tolerance(shared_data: Path) -> None:
    files = sorted(shared_data.glob("kitti_*/**/calib/*.txt"))
    files += sorted(shared_data.glob("kitti_odometry*/calib.txt"))
    assert len(files) >= 50
    for path in files:
        calib = read_kitti_calib(path)
        m = calib.camera_rect_from_lidar_matrix()[:3, :3]
        assert np.max(np.abs(nearest_rotation(m) - m)) < 1e-6, path


def test_a_line_that_is_not_key_numbers_is_an_error(tmp_path: Path) -> None:
    path = _write(tmp_path, CALIB + "garbage line here\n")
    with pytest.raises(DataError, match="not a 'key: numbers' line") as err:
        read_kitti_calib(path)
    assert err.value.record == "line 8"


def test_unknown_keys_with_a_colon_are_skipped(tmp_path: Path) -> None:
    extras = "calib_time: 09-Jan-2012 14:00:15\nS_00: 1.392000e+03 5.120000e+02\n"
    calib = read_kitti_calib(_write(tmp_path, extras + CALIB))
    assert set(calib.P) == {"P0", "P1", "P2", "P3"}


def test_key_given_twice_names_both_lines(tmp_path: Path) -> None:
    path = _write(tmp_path, CALIB + CALIB.splitlines()[2] + "\n")
    with pytest.raises(DataError, match=r"P2 given twice \(lines 3 and 8\)"):
        read_kitti_calib(path)


def test_odometry_calib_without_tr_names_the_missing_tr(tmp_path: Path) -> None:
    path = _write(tmp_path, ODOMETRY)
    with pytest.raises(DataError, match=r"missing calibration key Tr_velo_to_cam .*Tr") as err:
        read_kitti_calib(path)
    assert err.value.field == "Tr_velo_to_cam"
    tr = CALIB.splitlines()[5].replace("Tr_velo_to_cam:", "Tr:")
    calib = read_kitti_calib(_write(tmp_path, ODOMETRY + tr + "\n"))
    np.testing.assert_array_equal(calib.R0_rect, np.eye(3))


def test_object_calib_without_r0_rect_names_r0_rect(tmp_path: Path) -> None:
    text = "\n".join(line for line in CALIB.splitlines() if not line.startswith("R0")) + "\n"
    with pytest.raises(DataError, match="missing calibration key R0_rect"):
        read_kitti_calib(_write(tmp_path, text))
