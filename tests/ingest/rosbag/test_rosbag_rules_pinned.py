"""ROS bag ingest rules a mutation review found unguarded: every test here fails under a
plausible one-token change of the code that no other test noticed.

- slerp takes the short way across +-180 deg of yaw, a repeated time's last pose wins, the
  range tolerance holds at the lower edge too and a gap of exactly the limit is interpolated
  (tf_buffer.py);
- de-skewing conjugates the ego motion with the LiDAR's mount (deskew.py);
- an image up to ``camera_tolerance_ns`` before its sweep is kept, the limit included, and
  is not pruned before the sweep it belongs to is emitted (reader.py);
- a ROS 1 bag cut inside its chunk keeps the whole messages before the cut, salvaged
  messages come in log-time order, and a cut MCAP file says at which byte reading stopped
  (salvage.py).
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from drivestack.core.transforms import SE3
from drivestack.ingest.rosbag.deskew import deskew_point_cloud
from drivestack.ingest.rosbag.reader import RosbagLog
from drivestack.ingest.rosbag.salvage import SalvageReader
from drivestack.ingest.rosbag.tf_buffer import PoseSeries, TransformLookupError
from drivestack.ingest.rosbag.topic_map import RosbagConfig
from drivestack.ingest.rosbag.writer import (
    BagWriter,
    pointcloud2_message,
    tf_message,
    transform_stamped,
)
from drivestack.structures.point_cloud import PointCloud
from tests.ingest.rosbag.test_reader import (
    IMG,
    INFO,
    ODOM,
    PC2,
    SWEEP_NS,
    T0,
    TF,
    camera_info,
    image,
    odometry,
    write_drive,
)

IDENTITY = [1.0, 0.0, 0.0, 0.0]  # wxyz


def _yaw_quat_w_positive(yaw_rad: float) -> np.ndarray:
    """wxyz of a yaw about z with w >= 0 (as many publishers normalise their quaternions)."""
    q = np.array([math.cos(yaw_rad / 2), 0.0, 0.0, math.sin(yaw_rad / 2)])
    return q if q[0] >= 0 else -q


def _yaw_deg(pose: SE3) -> float:
    r = pose.rotation
    return math.degrees(math.atan2(r[1, 0], r[0, 0]))


# tf_buffer.py -------------------------------------------------------------------------------


def test_slerp_takes_the_short_way_across_180_degrees() -> None:
    # yaw 179 deg -> (cos 89.5, 0, 0, sin 89.5) and yaw -179 deg -> (cos 89.5, 0, 0,
    # -sin 89.5): both w > 0, their dot product cos(179 deg) < 0. The short way is the 2 deg
    # through 180 deg, so halfway the yaw is +-180 deg; the long way (q1 not flipped) turns
    # 358 deg back through 0 deg and gives 0 deg halfway.
    series = PoseSeries("map", "base_link")
    series.add(0, _yaw_quat_w_positive(math.radians(179.0)), [0.0, 0.0, 0.0])
    series.add(100, _yaw_quat_w_positive(math.radians(-179.0)), [0.0, 0.0, 0.0])
    assert abs(_yaw_deg(series.interpolate(50))) == pytest.approx(180.0, abs=1e-6)
    # a quarter of the way: 179 deg + 0.5 deg = 179.5 deg
    assert _yaw_deg(series.interpolate(25)) == pytest.approx(179.5, abs=1e-6)


def test_a_repeated_times_last_pose_wins() -> None:
    # (documented on PoseSeries.__len__ and .arrays: "duplicates: last wins") two poses at
    # t=0, x=0 first then x=1: the one at 0 is x=1, and so is every time up to t=100 (x=1)
    series = PoseSeries("map", "base_link")
    series.add(0, IDENTITY, [0.0, 0.0, 0.0])
    series.add(0, IDENTITY, [1.0, 0.0, 0.0])
    series.add(100, IDENTITY, [1.0, 0.0, 0.0])
    assert len(series) == 2
    np.testing.assert_array_equal(series.interpolate(0).translation, [1.0, 0.0, 0.0])
    np.testing.assert_array_equal(series.interpolate(50).translation, [1.0, 0.0, 0.0])


def test_the_range_tolerance_holds_below_the_first_pose() -> None:
    # tolerance 10 ns, poses at 100 (x=5) and 200 (x=6): 90 and 95 are within 10 ns of the
    # range and clamp to the pose at 100; 89 is 11 ns out
    series = PoseSeries("map", "base_link", tolerance_ns=10)
    series.add(100, IDENTITY, [5.0, 0.0, 0.0])
    series.add(200, IDENTITY, [6.0, 0.0, 0.0])
    got = series.interpolate(np.array([90, 95], dtype=np.int64)).translation
    np.testing.assert_array_equal(got, [[5.0, 0.0, 0.0], [5.0, 0.0, 0.0]])
    with pytest.raises(TransformLookupError, match="time 89 ns is outside"):
        series.interpolate(89)


def test_a_gap_of_exactly_the_limit_is_interpolated() -> None:
    # max_gap_ns 30, poses at 0, 10, 20, 50 ns (x = t / 10): the median interval is 10 ns, so
    # the limit is max(30, 3 * 10) = 30 ns; 35 ns lies in the 30 ns gap 20..50, not longer
    # than the limit: x = 2 + (35 - 20) / 30 * 3 = 3.5
    series = PoseSeries("map", "base_link", max_gap_ns=30)
    for t, x in ((0, 0.0), (10, 1.0), (20, 2.0), (50, 5.0)):
        series.add(t, IDENTITY, [x, 0.0, 0.0])
    np.testing.assert_allclose(series.interpolate(35).translation, [3.5, 0.0, 0.0])


# deskew.py ----------------------------------------------------------------------------------


def test_deskew_conjugates_the_ego_motion_with_the_lidar_mount() -> None:
    # lidar_ref_from_lidar_i = lidar_from_ego @ ego_ref_from_world @ world_from_ego_i @
    # ego_from_lidar (the module docstring). The LiDAR sits at (1.5, 0, 1.8) yawed 90 deg
    # (its x along the ego's y); the ego drives 10 m/s along its x.
    # Point 0 at offset 0: no motion, stays at the LiDAR origin (0, 0, 0).
    # Point 1 at the LiDAR origin 100 ms later: the ego moved 1 m, so in the reference ego
    # frame it is at (1.5 + 1, 0, 1.8); minus the mount (1, 0, 0) in ego axes; rotated by
    # -90 deg into LiDAR axes: (x, y) -> (y, -x) = (0, -1). Without the mount the ego's
    # motion (1, 0, 0) would be applied in LiDAR axes.
    mount = SE3.from_xyz_yaw([1.5, 0.0, 1.8], math.pi / 2)
    stamp = 1_000_000_000
    cloud = PointCloud(
        np.zeros((2, 3), np.float32),
        "lidar",
        stamp,
        {"time_offset_ns": np.array([0, 100_000_000], np.int64)},
    )

    def world_from_ego_at(times: np.ndarray) -> SE3:
        x = (np.asarray(times) - stamp) * 1e-9 * 10.0
        return SE3(np.broadcast_to(np.eye(3), (len(x), 3, 3)), np.stack([x, 0.0 * x, 0.0 * x], 1))

    out = deskew_point_cloud(cloud, mount, world_from_ego_at)
    np.testing.assert_allclose(out.xyz_m, [[0.0, 0.0, 0.0], [0.0, -1.0, 0.0]], atol=1e-6)


# reader.py ----------------------------------------------------------------------------------


def _sweeps_and_images_before(path: Path, image_offset_ns: int) -> None:
    """4 sweeps 100 ms apart, each with a camera image stamped (and logged) at the sweep's
    stamp + ``image_offset_ns`` just before it; static mounts, no ego motion."""
    with BagWriter(path, "sqlite3") as w:
        ts = w.typestore
        lidar = SE3.from_xyz_yaw([1.5, 0.0, 1.8], 0.0)
        cam = SE3.from_xyz_yaw([1.0, 0.0, 1.5], 0.0)
        mounts = [
            transform_stamped(ts, T0, "base_link", "lidar", lidar),
            transform_stamped(ts, T0, "base_link", "cam_optical", cam),
        ]
        w.write("/tf_static", TF, T0, tf_message(ts, mounts))
        w.write("/cam/camera_info", INFO, T0, camera_info(ts, T0))
        xyz = np.array([[20.0, 0.0, 0.0]], np.float32)
        for k in range(4):
            stamp = T0 + k * SWEEP_NS
            shot = stamp + image_offset_ns
            w.write("/cam/image_raw", IMG, shot, image(ts, shot, k))
            sweep = pointcloud2_message(ts, xyz, {}, frame_id="lidar", stamp_ns=stamp)
            w.write("/points", PC2, stamp, sweep)


@pytest.mark.parametrize(
    "offset_ns",
    [
        -30_000_000,  # within the tolerance: kept, not pruned before its sweep is emitted
        -RosbagConfig().camera_tolerance_ns,  # exactly the tolerance (50 ms): kept, inclusive
    ],
)
def test_an_image_up_to_the_tolerance_before_its_sweep_is_kept(
    tmp_path: Path, offset_ns: int
) -> None:
    # every sweep's nearest image is its own (the others are >= 50 ms further away), so every
    # frame carries the camera at exactly offset_ns, and image k holds the value k
    assert RosbagConfig().camera_tolerance_ns == 50_000_000
    path = tmp_path / "drive"
    _sweeps_and_images_before(path, offset_ns)
    frames = list(RosbagLog(path, announce=lambda _: None).frames())
    assert [f.timestamp_ns - T0 for f in frames] == [k * SWEEP_NS for k in range(4)]
    got = [
        f.cameras["cam_image_raw"].timestamp_ns - f.timestamp_ns if f.cameras else None
        for f in frames
    ]
    assert got == [offset_ns] * 4
    assert [int(f.cameras["cam_image_raw"].pixels[0, 0, 2]) for f in frames] == [0, 1, 2, 3]


# salvage.py ---------------------------------------------------------------------------------


def test_a_ros1_bag_cut_inside_its_chunk_keeps_the_whole_messages_before_the_cut(
    tmp_path: Path,
) -> None:
    # write_drive's ROS 1 bag is one uncompressed chunk (19 messages: /tf_static, 9 /odom,
    # ...). Cut at half its bytes, the chunk record is incomplete; the messages whose data
    # lies wholly before the cut are still readable. Expected: the whole bag's messages whose
    # raw bytes (each distinct: the stamps differ) are found in the file ending before the
    # cut: /tf_static and the first five /odom (the cut is in the sixth).
    path = tmp_path / "drive.bag"
    write_drive(path, storage="ros1")
    data = path.read_bytes()
    whole = [(conn.topic, t, raw) for conn, t, raw in SalvageReader(path).messages()]
    assert len(whole) == 19 and all(data.count(raw) == 1 for _, _, raw in whole)
    cut = len(data) // 2
    expected = [m for m in whole if data.find(m[2]) + len(m[2]) <= cut]
    assert [topic for topic, _, _ in expected] == ["/tf_static"] + ["/odom"] * 5
    path.write_bytes(data[:cut])
    reader = SalvageReader(path)
    assert reader.num_messages == 6
    assert [(c.topic, t, raw) for c, t, raw in reader.messages()] == expected
    assert reader.stopped is not None and reader.stopped.startswith("incomplete")


def test_salvaged_messages_come_in_log_time_order(tmp_path: Path) -> None:
    # /odom written at T0 + 200, T0 + 100, T0 + 300 ns (file order); the cut (97 %) loses
    # only the index at the end, so all three are salvaged and messages() yields them by log
    # time: 100, 200, 300 (the documented "in log-time order")
    path = tmp_path / "drive.bag"
    with BagWriter(path, "ros1") as w:
        for dt in (200, 100, 300):
            w.write("/odom", ODOM, T0 + dt, odometry(w.typestore, T0 + dt, dt / 100))
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * 0.97)])
    reader = SalvageReader(path)
    assert [t - T0 for _, t, _ in reader.messages()] == [100, 200, 300]


def test_a_cut_mcap_says_the_byte_where_reading_stopped(tmp_path: Path) -> None:
    # cut at 90 % of its bytes, the MCAP file of write_drive stops inside its summary after
    # all 19 messages; ``stopped_at`` is the end of the last whole record: not 0, within the
    # cut file, named in ``stopped``, and cutting the file there again salvages the same
    # messages and stops at that same (now the last) byte
    path = tmp_path / "drive"
    write_drive(path, storage="mcap")
    file = next(path.glob("*.mcap"))
    data = file.read_bytes()
    cut = data[: int(len(data) * 0.9)]
    file.write_bytes(cut)
    reader = SalvageReader(file)
    assert reader.num_messages == 19
    assert reader.stopped_at is not None and 0 < reader.stopped_at <= len(cut)
    assert reader.stopped is not None
    assert reader.stopped.endswith(f"at byte {reader.stopped_at} of {len(cut)}")
    file.write_bytes(cut[: reader.stopped_at])
    again = SalvageReader(file)
    assert again.num_messages == 19 and again.stopped_at == reader.stopped_at
