"""TransformBuffer: hand-computed interpolation, tree lookups, clear errors; de-skewing."""

from __future__ import annotations

import numpy as np
import pytest

from drivestack.core.transforms import SE3
from drivestack.ingest.rosbag.deskew import deskew_point_cloud
from drivestack.ingest.rosbag.tf_buffer import TransformBuffer, TransformLookupError
from drivestack.structures.point_cloud import PointCloud


def yaw_quat(yaw: float) -> np.ndarray:
    return np.array([np.cos(yaw / 2), 0.0, 0.0, np.sin(yaw / 2)])


def buffer() -> TransformBuffer:
    tf = TransformBuffer()
    tf.add_dynamic("map", "base_link", 0, yaw_quat(0.0), [0.0, 0.0, 0.0])
    tf.add_dynamic("map", "base_link", 1_000, yaw_quat(np.pi / 2), [10.0, 0.0, 0.0])
    tf.add_static("base_link", "lidar", SE3.from_xyz_yaw([1.0, 0.0, 2.0], 0.0))
    tf.add_static("base_link", "camera", SE3.from_xyz_yaw([0.0, 1.0, 1.0], np.pi))
    return tf


def test_interpolation_slerp_and_linear_by_hand() -> None:
    pose = buffer().lookup("map", "base_link", 250)
    np.testing.assert_allclose(pose.translation, [2.5, 0.0, 0.0])
    np.testing.assert_allclose(pose.yaw_rad, np.pi / 8)  # slerp: a quarter of the way
    batch = buffer().lookup("map", "base_link", np.array([0, 500, 1_000]))
    np.testing.assert_allclose(batch.yaw_rad, [0.0, np.pi / 4, np.pi / 2])


def test_lookup_through_the_tree() -> None:
    tf = buffer()
    map_from_lidar = tf.lookup("map", "lidar", 1_000)
    # lidar origin: base_link yaw 90 deg at (10, 0) -> lidar (1, 0, 2) maps to (10, 1, 2)
    np.testing.assert_allclose(map_from_lidar.translation, [10.0, 1.0, 2.0], atol=1e-12)
    camera_from_lidar = tf.lookup("camera", "lidar", 500)
    np.testing.assert_allclose(
        camera_from_lidar.apply([0.0, 0.0, 0.0]), [-1.0, 1.0, 1.0], atol=1e-12
    )


def test_errors_name_frames_edges_and_ranges() -> None:
    tf = buffer()
    with pytest.raises(
        TransformLookupError,
        match=r"frame 'radar' is unknown \(known frames: \['base_link', 'camera', 'lidar', 'map'\]\)",
    ):
        tf.lookup("map", "radar", 0)
    with pytest.raises(
        TransformLookupError,
        match=r"edge map -> base_link: .*time 1001 ns is outside the recorded range \[0, 1000\]",
    ):
        tf.lookup("map", "lidar", 1_001)
    tf.add_static("odom", "gps", SE3.identity())
    with pytest.raises(TransformLookupError, match="disconnected trees"):
        tf.lookup("map", "gps", 0)
    with pytest.raises(TransformLookupError, match="already has parent"):
        tf.add_static("odom", "lidar", SE3.identity())
    # static edges hold at any time
    assert tf.lookup("camera", "lidar", 10**12).allclose(tf.lookup("camera", "lidar", 0))


def test_tolerance_clamps_just_outside_the_range() -> None:
    tf = TransformBuffer(tolerance_ns=5)
    tf.add_dynamic("map", "base_link", 100, yaw_quat(0.0), [1.0, 2.0, 3.0])
    tf.add_dynamic("map", "base_link", 200, yaw_quat(0.0), [2.0, 2.0, 3.0])
    np.testing.assert_allclose(tf.lookup("map", "base_link", 204).translation, [2.0, 2.0, 3.0])
    with pytest.raises(TransformLookupError):
        tf.lookup("map", "base_link", 206)


def test_a_gap_longer_than_max_gap_is_not_interpolated_across() -> None:
    # poses every 100 ns, then one 1100 ns later; limit 500 ns: times in that gap are an
    # error (a turn between the samples would be drawn as a straight line); at the samples
    # and in the short gaps they interpolate as before; the static edges are unaffected
    tf = TransformBuffer(max_gap_ns=500)
    for t in (0, 100, 200, 300, 1_400):
        tf.add_dynamic("map", "base_link", t, yaw_quat(0.0), [t / 100, 0.0, 0.0])
    tf.add_static("base_link", "lidar", SE3.identity())
    np.testing.assert_allclose(tf.lookup("map", "lidar", 50).translation, [0.5, 0.0, 0.0])
    np.testing.assert_allclose(tf.lookup("map", "base_link", 1_400).translation[0], 14.0)
    with pytest.raises(
        TransformLookupError,
        match=r"edge map -> base_link: .*time 600 ns falls in a 0.000 s gap between poses "
        r"recorded at 300 and 1400 ns",
    ):
        tf.lookup("map", "lidar", 600)
    assert TransformBuffer().max_gap_ns is None  # no limit unless asked


def test_a_slow_edge_is_interpolated_across_its_own_steps() -> None:
    # a map -> odom correction at one sample per 1000 ns with a 500 ns limit: its own steps
    # are no gap (3 median intervals allowed); a step of 4000 ns is one
    tf = TransformBuffer(max_gap_ns=500)
    for t in (0, 1_000, 2_000, 3_000, 7_000):
        tf.add_dynamic("map", "odom", t, yaw_quat(0.0), [t / 1000, 0.0, 0.0])
    np.testing.assert_allclose(tf.lookup("map", "odom", 1_500).translation[0], 1.5)
    with pytest.raises(TransformLookupError, match=r"a 0.000 s gap .* 3000 and 7000 ns"):
        tf.lookup("map", "odom", 5_000)


def test_deskew_undoes_constant_velocity_motion() -> None:
    """Ego drives +x at 10 m/s; a wall point at x=20 seen 0.1 s after the sweep start is
    at x=19 in the sensor frame then, and at 20 - 0 = 20 in the frame of the sweep start."""
    tf = TransformBuffer()
    tf.add_dynamic("map", "base_link", 0, yaw_quat(0.0), [0.0, 0.0, 0.0])
    tf.add_dynamic("map", "base_link", 100_000_000, yaw_quat(0.0), [1.0, 0.0, 0.0])
    ego_from_lidar = SE3.from_xyz_yaw([1.5, 0.0, 1.8], 0.0)
    wall_lidar_at_t = np.array(
        [[18.5, 0.0, 0.0], [18.5, 0.0, 0.0], [18.0, 3.0, -1.0]], dtype=np.float32
    )
    offsets = np.array([0, 100_000_000, 50_000_000], dtype=np.int64)
    cloud = PointCloud(wall_lidar_at_t, "lidar", 0, {"time_offset_ns": offsets})
    out = deskew_point_cloud(cloud, ego_from_lidar, lambda t: tf.lookup("map", "base_link", t))
    assert out.xyz_m.dtype == np.float32
    np.testing.assert_allclose(
        out.xyz_m, [[18.5, 0.0, 0.0], [19.5, 0.0, 0.0], [18.5, 3.0, -1.0]], atol=1e-5
    )


def test_float_times_are_refused_not_truncated() -> None:
    # 0.0, 0.1 and 0.2 "seconds" all became 0 ns: two poses dropped, len() still 3, and a
    # lookup at 0.05 answered with the pose recorded at 0.2
    from drivestack.ingest.rosbag.tf_buffer import TransformBuffer

    tf = TransformBuffer()
    with pytest.raises(TypeError, match="integer number of nanoseconds"):
        tf.add_dynamic("world", "ego", 0.1, [1, 0, 0, 0], [1.0, 0, 0])
    for k in range(3):
        tf.add_dynamic("world", "ego", k * 100_000_000, [1, 0, 0, 0], [k * 1.0, 0, 0])
    tf.add_dynamic("world", "ego", 200_000_000, [1, 0, 0, 0], [2.5, 0, 0])  # same time: last wins
    assert len(tf.edge("world", "ego")) == 3
    with pytest.raises(TypeError, match="integer nanoseconds, got dtype float64"):
        tf.lookup("world", "ego", 0.05)
    assert tf.lookup("world", "ego", 50_000_000).translation[0] == pytest.approx(0.5)
