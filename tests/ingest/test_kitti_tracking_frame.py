"""``read_kitti_tracking_frame``: the scan layouts, labels of the frame, calib, ego pose,
camera, and the errors for a missing sequence / frame / pose; real sequence 0000."""

from __future__ import annotations

import lzma
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from drivestack.core.errors import DataError
from drivestack.ingest.kitti_calib import read_kitti_calib
from drivestack.ingest.kitti_object import KITTI_CAMERA
from drivestack.ingest.kitti_tracking import (
    format_frame_ranges,
    list_kitti_tracking_frames,
    read_ego_poses,
    read_kitti_tracking_frame,
    read_tracking_labels,
    sequence_name,
)
from drivestack.kernels import points_in_boxes
from drivestack.structures.labels import ObjectClass

# Ideal calibration: LiDAR (x fwd, y left, z up) -> camera (x right, y down, z fwd).
CALIB = (
    "P0: 700 0 600 0 0 700 180 0 0 0 1 0\n"
    "P1: 700 0 600 0 0 700 180 0 0 0 1 0\n"
    "P2: 700 0 600 0 0 700 180 0 0 0 1 0\n"
    "P3: 700 0 600 0 0 700 180 0 0 0 1 0\n"
    "R0_rect: 1 0 0 0 1 0 0 0 1\n"
    "Tr_velo_to_cam: 0 -1 0 0 0 0 -1 0 1 0 0 0\n"
    "Tr_imu_to_velo: 1 0 0 0 0 1 0 0 0 0 1 0\n"
)
# frame 1: a car 10 m ahead; frame 2: a car 10 m ahead and 2 m left, a DontCare region
LABELS = (
    "1 0 Car 0 0 0.0 500 150 600 250 1.5 1.8 4.0 0.0 1.65 10.0 -1.5707963\n"
    "2 0 Car 0 0 0.0 500 150 600 250 1.5 1.8 4.0 -2.0 1.65 10.0 -1.5707963\n"
    "2 -1 DontCare -1 -1 -10 1 2 3 4 -1 -1 -1 -1000 -1000 -1000 -10\n"
)
SCAN = np.array([[10.0, 0.0, -1.0, 0.5], [10.0, 2.0, -1.0, 0.25], [5.0, 5.0, 0.0, 1.0]], "<f4")


def _pose_line(tx: float) -> str:
    """Camera -> world pose: identity rotation, moved ``tx`` along camera z (forward)."""
    return f"1 0 0 0 0 1 0 0 0 0 1 {tx}\n"


def _root(tmp_path: Path, *, frames: tuple[int, ...] = (1, 2), seq: str = "0003") -> Path:
    base = tmp_path / "training"
    (base / "calib").mkdir(parents=True)
    (base / "calib" / f"{seq}.txt").write_text(CALIB)
    (base / "label_02").mkdir()
    (base / "label_02" / f"{seq}.txt").write_text(LABELS)
    (base / "velodyne" / seq).mkdir(parents=True)
    for f in frames:
        SCAN.tofile(base / "velodyne" / seq / f"{f:06d}.bin")
    return tmp_path


def _pcd_xz(points: np.ndarray) -> bytes:
    header = (
        "VERSION .7\nFIELDS x y z intensity\nSIZE 4 4 4 4\nTYPE F F F F\nCOUNT 1 1 1 1\n"
        f"WIDTH {len(points)}\nHEIGHT 1\nVIEWPOINT 0 0 0 1 0 0 0\nPOINTS {len(points)}\n"
        "DATA binary\n"
    )
    return lzma.compress(header.encode() + points.astype("<f4").tobytes() + b"\0" * 16)


def test_frame_of_bin_layout_has_the_frames_labels_in_the_lidar_frame(tmp_path: Path) -> None:
    root = _root(tmp_path)
    frame = read_kitti_tracking_frame(root, "0003", 2)
    assert frame.timestamp_ns == 200_000_000 and frame.lidar().timestamp_ns == 200_000_000
    np.testing.assert_array_equal(frame.lidar().xyz_m, SCAN[:, :3])
    np.testing.assert_array_equal(frame.lidar().attributes["intensity"], SCAN[:, 3])
    assert frame.lidar().frame == "lidar"
    np.testing.assert_array_equal(frame.ego_from_sensor["lidar"].as_matrix(), np.eye(4))
    labels = frame.labels
    assert labels is not None and len(labels) == 1  # frame 1's car and the DontCare left out
    assert labels.frame == "lidar" and labels.timestamp_ns == 200_000_000
    # camera_rect bottom centre (-2, 1.65, 10), h 1.5 -> LiDAR centre (10, 2, -0.9)
    np.testing.assert_allclose(labels.center_m[0], [10.0, 2.0, -0.9], atol=1e-9)
    np.testing.assert_allclose(labels.size_m[0], [4.0, 1.8, 1.5])
    assert abs(labels.yaw_rad[0]) < 1e-6 and labels.label[0] == ObjectClass.CAR
    assert frame.world_from_ego is None and dict(frame.cameras) == {}
    assert frame.source.endswith("training:0003:000002")


def test_sequence_may_be_given_as_a_number(tmp_path: Path) -> None:
    root = _root(tmp_path)
    for seq in (3, "3", "0003"):
        assert read_kitti_tracking_frame(root, seq, 1).source.endswith(":0003:000001")
    assert list_kitti_tracking_frames(root, 3) == [1, 2]


def test_frame_without_label_rows_has_zero_labels_and_no_label_file_none(tmp_path: Path) -> None:
    root = _root(tmp_path, frames=(1, 2, 5))
    frame = read_kitti_tracking_frame(root, "0003", 5)
    assert frame.labels is not None and len(frame.labels) == 0
    (root / "training/label_02/0003.txt").unlink()
    assert read_kitti_tracking_frame(root, "0003", 5).labels is None


def test_xz_compressed_pcd_layout_of_the_shared_data(tmp_path: Path) -> None:
    root = _root(tmp_path, frames=())
    folder = root / "training/velodyne_pcd_xz/0003"
    folder.mkdir(parents=True)
    (folder / "000002.pcd.xz").write_bytes(_pcd_xz(SCAN))
    frame = read_kitti_tracking_frame(root, "0003", 2)
    np.testing.assert_array_equal(frame.lidar().xyz_m, SCAN[:, :3])
    np.testing.assert_array_equal(frame.lidar().attributes["intensity"], SCAN[:, 3])
    assert frame.labels is not None and len(frame.labels) == 1
    assert list_kitti_tracking_frames(root, "0003") == [2]


def test_ego_pose_file_gives_world_from_lidar(tmp_path: Path) -> None:
    root = _root(tmp_path)
    poses = root / "training/ego_poses_orbslam3_stereo"
    poses.mkdir()
    (poses / "0003.txt").write_text(_pose_line(0.0) + _pose_line(1.0) + _pose_line(3.0))
    frame = read_kitti_tracking_frame(root, "0003", 2)
    assert frame.world_from_ego is not None
    # the camera moved 3 m forward: the LiDAR origin is 3 m ahead in the z-up world
    np.testing.assert_allclose(frame.world_from_ego.apply(np.zeros((1, 3)))[0], [3, 0, 0])
    # the labelled car (10 m ahead, 2 m left of the LiDAR) is at x = 13 m in the world
    world = frame.labels.transformed(frame.world_from_ego, "world")  # type: ignore[union-attr]
    np.testing.assert_allclose(world.center_m[0], [13.0, 2.0, -0.9], atol=1e-9)


def test_ego_pose_file_without_the_frame_names_file_and_line(tmp_path: Path) -> None:
    root = _root(tmp_path)
    poses = root / "training/ego_poses_orbslam3_stereo"
    poses.mkdir()
    (poses / "0003.txt").write_text(_pose_line(0.0) + _pose_line(1.0))
    with pytest.raises(DataError, match="frames 0-1") as err:
        read_kitti_tracking_frame(root, "0003", 2)
    assert err.value.path == str(poses / "0003.txt") and err.value.record == "line 3"


def test_missing_frame_names_the_path_and_the_frames_with_scans(tmp_path: Path) -> None:
    root = _root(tmp_path, frames=(0, 1, 2, 3, 7, 9, 10))
    with pytest.raises(DataError, match=r"frames 0-3, 7, 9-10 \(7 scans\)") as err:
        read_kitti_tracking_frame(root, "0003", 5)
    assert err.value.path == str(root / "training/velodyne/0003/000005.bin")
    assert err.value.record == "sequence 0003 frame 5"
    with pytest.raises(DataError, match="no scan of frame -1"):
        read_kitti_tracking_frame(root, "0003", -1)


def test_missing_sequence_lists_the_sequences_with_scans(tmp_path: Path) -> None:
    root = _root(tmp_path)
    with pytest.raises(DataError, match="sequences with scans: 0003") as err:
        read_kitti_tracking_frame(root, 12, 0)
    assert "velodyne/0012/" in str(err.value) and "velodyne_pcd_xz/0012/" in str(err.value)
    assert err.value.record == "sequence 0012"
    with pytest.raises(DataError, match="sequences with scans: none"):
        read_kitti_tracking_frame(tmp_path / "elsewhere", "0003", 0)


def test_missing_calibration_is_a_data_error_naming_it(tmp_path: Path) -> None:
    root = _root(tmp_path)
    (root / "training/calib/0003.txt").unlink()
    with pytest.raises(DataError) as err:
        read_kitti_tracking_frame(root, "0003", 1)
    assert err.value.path is not None and err.value.path.endswith("calib/0003.txt")


def test_image_02_becomes_the_camera(tmp_path: Path) -> None:
    root = _root(tmp_path)
    folder = root / "training/image_02/0003"
    folder.mkdir(parents=True)
    pixels = np.random.default_rng(0).integers(0, 255, (36, 120, 3), dtype=np.uint8)
    Image.fromarray(pixels).save(folder / "000002.png")
    frame = read_kitti_tracking_frame(root, "0003", 2)
    image = frame.cameras[KITTI_CAMERA]
    np.testing.assert_array_equal(image.pixels, pixels)
    assert image.timestamp_ns == frame.timestamp_ns
    assert (image.calibration.width_px, image.calibration.height_px) == (120, 36)
    # the labelled car's centre (10 m ahead, 2 m left) projects left of the principal point
    cam = image.calibration.camera_from_ego.apply(frame.labels.center_m)  # type: ignore[union-attr]
    u = image.calibration.intrinsics[0, 0] * cam[0, 0] / cam[0, 2] + 600
    assert u == pytest.approx(600 - 700 * 2 / 10)
    mount = frame.ego_from_sensor[KITTI_CAMERA]
    np.testing.assert_allclose(
        mount.as_matrix(), image.calibration.camera_from_ego.inverse().as_matrix()
    )
    assert dict(read_kitti_tracking_frame(root, "0003", 1).cameras) == {}  # no image there
    assert dict(read_kitti_tracking_frame(root, "0003", 2, load_images=False).cameras) == {}


def test_frame_ranges_text() -> None:
    assert format_frame_ranges([]) == ""
    assert format_frame_ranges([4]) == "4"
    assert format_frame_ranges([0, 1, 2, 3, 7, 9, 10]) == "0-3, 7, 9-10"


@pytest.mark.data
def test_real_sequence_0000(shared_data: Path) -> None:
    from drivestack.ingest.kitti_tracking import world_from_lidar_poses

    root = shared_data / "kitti_tracking"
    assert list_kitti_tracking_frames(root, "0000") == list(range(74, 154))
    frame = read_kitti_tracking_frame(root, "0000", 120)
    assert 98_533 <= len(frame.lidar()) <= 124_123 and frame.timestamp_ns == 12_000_000_000
    rows = read_tracking_labels(root / "training/label_02/0000.txt")
    rows = rows.select(np.flatnonzero((rows.frame == 120) & (rows.type_name != "DontCare")))
    labels = frame.labels
    assert labels is not None and len(labels) == len(rows) > 0
    inside = points_in_boxes(frame.lidar().xyz_m.astype(np.float64), labels.to_array7())
    assert np.all(inside.sum(axis=0) > 0)  # every labelled box holds scan points
    # the pose is the one the tracking evaluation compensates ego motion with
    calib = read_kitti_calib(root / "training/calib/0000.txt")
    poses = read_ego_poses(root / "training/ego_poses_orbslam3_stereo/0000.txt")
    expected = world_from_lidar_poses(poses, calib)[120]
    assert frame.world_from_ego is not None
    np.testing.assert_allclose(frame.world_from_ego.as_matrix(), expected.as_matrix(), atol=1e-12)
    with pytest.raises(DataError, match=r"frames 74-153 \(80 scans\)") as err:
        read_kitti_tracking_frame(root, "0000", 10)
    assert err.value.path == str(root / "training/velodyne_pcd_xz/0000/000010.pcd.xz")


def test_non_ascii_digits_are_not_a_sequence_number_or_frame(tmp_path: Path) -> None:
    root = _root(tmp_path)
    # a scan named with fullwidth digits was listed (and read) as frame 3
    (root / "training/velodyne/0003/\uff10\uff10\uff10\uff10\uff10\uff13.bin").write_bytes(b"")
    assert list_kitti_tracking_frames(root, 3) == [1, 2]
    # "\uff13" (fullwidth 3) and "\u0663" (Arabic-Indic 3) were taken as sequence 0003, a
    # superscript crashed with a bare ValueError: now they are names of their own
    for seq in ("\uff13", "\u0663", "\u00b3"):
        assert sequence_name(seq) == seq
        assert list_kitti_tracking_frames(root, seq) == []
    assert sequence_name("3") == sequence_name(3) == "0003"
