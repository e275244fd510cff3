"""KITTI odometry reader: GT poses register real scans of sequence 00 onto each other."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from scipy.spatial import cKDTree

from drivestack.core.errors import DataError
from drivestack.ingest.kitti_calib import KittiCalib
from drivestack.ingest.kitti_odometry import (
    read_camera_poses,
    read_odometry_frame,
    read_odometry_sequence_poses,
    read_times_ns,
)

SEQ = "kitti_odometry_00"


def _odometry_calib(path: Path) -> KittiCalib:
    """The odometry ``Tr`` line (Velodyne -> cam0; no R0_rect in this layout).
    ``read_kitti_calib`` does not accept the odometry key ``Tr`` yet, so it is taken here."""
    line = next(x for x in path.read_text().splitlines() if x.startswith("Tr:"))
    return KittiCalib(
        P={},
        R0_rect=np.eye(3),
        Tr_velo_to_cam=np.array(line.split()[1:], dtype=np.float64).reshape(3, 4),
    )


@pytest.mark.data
def test_gt_poses_register_scans(shared_data: Path) -> None:
    seq = shared_data / SEQ
    poses = read_odometry_sequence_poses(
        seq, seq / "poses/00.txt", _odometry_calib(seq / "calib.txt")
    )
    times = read_times_ns(seq / "times.txt")
    assert poses.batch_shape == (4541,) and len(times) == 4541 and times[1] == 103_735_900
    ref = read_odometry_frame(seq, 0, poses, times).lidar().xyz_m
    assert len(ref) == 124_668
    tree = cKDTree(ref[ref[:, 2] > -1.0])  # points above the road
    # median NN distance with the GT poses vs without (SOURCES.md section 3: 0.08/0.14/0.19 vs 0.20/0.40/0.48)
    for index, registered_max, identity_min in ((1, 0.1, 0.18), (3, 0.16, 0.35), (5, 0.21, 0.45)):
        frame = read_odometry_frame(seq, index, poses, times)
        xyz = frame.lidar().xyz_m
        xyz = xyz[xyz[:, 2] > -1.0][::10].astype(np.float64)
        assert frame.world_from_ego is not None
        assert np.median(tree.query(frame.world_from_ego.apply(xyz))[0]) < registered_max
        assert np.median(tree.query(xyz)[0]) > identity_min
    # the car drives forward (+x of the LiDAR) about 0.86 m per frame
    assert poses[5].translation[0] == pytest.approx(4.29, abs=0.05)


def test_bad_pose_rows(tmp_path: Path) -> None:
    path = tmp_path / "poses.txt"
    path.write_text("1 0 0 0 0 1 0 0 0 0 1 0\n1 0 0 0 0 1 0 0 0 0 1\n")
    with pytest.raises(DataError) as err:
        read_camera_poses(path)
    assert err.value.record == "line 2"
    path.write_text("2 0 0 0 0 1 0 0 0 0 1 0\n")
    with pytest.raises(DataError, match="orthonormal"):
        read_camera_poses(path)
