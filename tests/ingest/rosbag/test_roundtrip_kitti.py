"""Round trips: real KITTI odometry scans + GT poses -> ROS 1 / ROS 2 db3 / ROS 2 MCAP bag ->
RosbagLog frames, bit-identical points and poses."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from drivestack.core.time import seconds_to_ns
from drivestack.core.transforms import SE3
from drivestack.ingest.rosbag.reader import RosbagLog
from drivestack.ingest.rosbag.writer import (
    BagWriter,
    pointcloud2_message,
    tf_message,
    transform_stamped,
)

pytestmark = pytest.mark.data

TF = "tf2_msgs/msg/TFMessage"
PC2 = "sensor_msgs/msg/PointCloud2"
EPOCH_NS = 1_317_000_000_000_000_000
EGO_FROM_VELO = SE3.from_xyz_yaw([0.27, 0.0, 1.73], 0.0)  # roof mount, KITTI-like


def kitti_drive(root: Path, frames: int = 3) -> list[tuple[int, np.ndarray, SE3]]:
    """``(stamp_ns, points (N, 4) float32, world_from_ego)`` of the first ``frames`` scans."""
    tr = next(
        line for line in (root / "calib.txt").read_text().splitlines() if line.startswith("Tr:")
    )
    cam_from_velo = SE3.from_matrix(np.array(tr.split()[1:13], dtype=np.float64).reshape(3, 4))
    poses = np.loadtxt(root / "poses/00.txt", max_rows=frames).reshape(-1, 3, 4)
    times = np.loadtxt(root / "times.txt", max_rows=frames)
    out = []
    for i in range(frames):
        cam0_from_cami = SE3.from_matrix(poses[i])
        world_from_velo = cam_from_velo.inverse() @ cam0_from_cami @ cam_from_velo
        points = np.fromfile(root / f"velodyne/{i:06d}.bin", dtype=np.float32).reshape(-1, 4)
        out.append(
            (EPOCH_NS + seconds_to_ns(times[i]), points, world_from_velo @ EGO_FROM_VELO.inverse())
        )
    return out


@pytest.fixture(scope="module")
def drive(shared_data: Path) -> list[tuple[int, np.ndarray, SE3]]:
    return kitti_drive(shared_data / "kitti_odometry_00")


def write_drive(
    path: Path, storage: str, drive: list[tuple[int, np.ndarray, SE3]]
) -> list[np.ndarray]:
    """Writes the bag; returns the quaternions written for world_from_ego (as stored)."""
    written = []
    with BagWriter(path, storage) as w:  # type: ignore[arg-type]
        ts = w.typestore
        t0 = drive[0][0]
        w.write(
            "/tf_static",
            TF,
            t0,
            tf_message(ts, [transform_stamped(ts, t0, "base_link", "velodyne", EGO_FROM_VELO)]),
        )
        for stamp, points, world_from_ego in drive:
            msg = tf_message(
                ts, [transform_stamped(ts, stamp, "world", "base_link", world_from_ego)]
            )
            rot = msg.transforms[0].transform.rotation
            written.append(np.array([rot.w, rot.x, rot.y, rot.z]))
            w.write("/tf", TF, stamp, msg)
            cloud = pointcloud2_message(
                ts, points[:, :3], {"intensity": points[:, 3]}, frame_id="velodyne", stamp_ns=stamp
            )
            w.write("/velodyne_points", PC2, stamp, cloud)
    return written


@pytest.mark.parametrize("storage", ["ros1", "sqlite3", "mcap", "bare-mcap"])
def test_kitti_round_trip_bit_identical(tmp_path: Path, drive, storage: str) -> None:
    path = tmp_path / ("kitti.bag" if storage == "ros1" else "kitti")
    quats = write_drive(path, storage.removeprefix("bare-"), drive)
    if storage == "bare-mcap":  # the .mcap file alone, without rosbag2's metadata.yaml
        path = next(path.glob("*.mcap"))
    printed: list[str] = []
    log = RosbagLog(path, announce=printed.append)
    frames = list(log.frames())
    assert "lidar  velodyne_points" in printed[0] and "/tf_static" in printed[0]
    assert log.report.clean, log.report.summary()
    assert log.world_frame == "world"
    assert [f.timestamp_ns for f in frames] == [d[0] for d in drive]
    for frame, (stamp, points, world_from_ego), q in zip(frames, drive, quats, strict=True):
        cloud = frame.lidar("velodyne_points")
        assert cloud.frame == "velodyne" and cloud.timestamp_ns == stamp
        assert cloud.xyz_m.dtype == np.float32
        assert np.array_equal(cloud.xyz_m, points[:, :3])
        assert np.array_equal(cloud.attribute("intensity"), points[:, 3])
        expected = SE3.from_quaternion(q, world_from_ego.translation)
        assert frame.world_from_ego is not None
        assert np.array_equal(frame.world_from_ego.rotation, expected.rotation)
        assert np.array_equal(frame.world_from_ego.translation, world_from_ego.translation)
        # the KITTI pose's rotation is orthonormal to ~1e-7 only; the bag holds its quaternion
        assert frame.world_from_ego.allclose(world_from_ego, atol=1e-6)
        assert frame.ego_from_sensor["velodyne_points"].allclose(EGO_FROM_VELO, atol=1e-12)


def test_interpolated_pose_between_scans(tmp_path: Path, drive) -> None:
    path = tmp_path / "kitti.bag"
    write_drive(path, "ros1", drive)
    log = RosbagLog(path, announce=lambda _: None)
    t0, t1 = drive[0][0], drive[1][0]
    mid = log.world_from_ego(np.int64((t0 + t1) // 2))
    a, b = drive[0][2], drive[1][2]
    np.testing.assert_allclose(mid.translation, (a.translation + b.translation) / 2, atol=1e-6)
