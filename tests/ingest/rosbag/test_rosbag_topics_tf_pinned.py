"""ROS bag ingest rules (topic map, config, LiDAR sources, de-skew, TF buffer, writer) that a
mutation review found unguarded: each test fails under a plausible one-token change of the
code that (with few exceptions, where an assertion was added beside one that was missing) no
other test noticed. Expected values are derived by hand in the docstrings.
"""

from __future__ import annotations

import copy
import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from rosbags.typesys import Stores, get_typestore

from drivestack.config.strict import ConfigValueError
from drivestack.core.errors import DataError
from drivestack.core.transforms import SE3
from drivestack.ingest.rosbag.deskew import deskew_point_cloud
from drivestack.ingest.rosbag.lidar_sources import (
    PointCloud2Source,
    VelodyneSource,
    ouster_metadata_topic,
)
from drivestack.ingest.rosbag.tf_buffer import PoseSeries, TransformBuffer, TransformLookupError
from drivestack.ingest.rosbag.topic_map import (
    CameraTopics,
    OusterConfig,
    RosbagConfig,
    TopicMap,
    describe_topic_map,
    guess_topic_map,
    load_rosbag_config,
    sensor_name,
)
from drivestack.ingest.rosbag.velodyne import VelodyneConfig
from drivestack.ingest.rosbag.writer import BagWriter, header, pointcloud2_message
from drivestack.structures.point_cloud import PointCloud

PC2 = "sensor_msgs/msg/PointCloud2"
ODOM = "nav_msgs/msg/Odometry"
TF = "tf2_msgs/msg/TFMessage"
IDENTITY = [1.0, 0.0, 0.0, 0.0]  # wxyz
ROS2 = get_typestore(Stores.ROS2_HUMBLE)


def _yaw_quat(yaw_rad: float) -> np.ndarray:
    return np.array([math.cos(yaw_rad / 2), 0.0, 0.0, math.sin(yaw_rad / 2)])


def _yaw_deg(pose: SE3) -> float:
    r = pose.rotation
    return math.degrees(math.atan2(r[1, 0], r[0, 0]))


# topic_map.py: config ------------------------------------------------------------------------


def test_the_config_defaults_are_the_documented_ones() -> None:
    """The module docstring and configs/ingest/rosbag_example.yaml give every default:
    ego_frame base_link, world_frame null, camera tolerance 50 ms, TF tolerance 0, TF gap
    0.5 s, deskew on, sync latency 0.5 s, TF topics /tf and /tf_static, no odometry or
    navsat; an Ouster's frame defaults to os_sensor (the driver's sensor_frame)."""
    cfg = RosbagConfig()
    assert cfg.ego_frame == "base_link"
    assert cfg.world_frame is None
    assert cfg.camera_tolerance_ns == 50_000_000
    assert cfg.tf_tolerance_ns == 0
    assert cfg.tf_max_gap_ns == 500_000_000
    assert cfg.deskew is True
    assert cfg.sync_latency_ns == 500_000_000
    assert cfg.topics.tf == ["/tf"] and cfg.topics.tf_static == ["/tf_static"]
    assert cfg.topics.odometry is None and cfg.topics.navsat is None
    assert OusterConfig().frame == "os_sensor"


@pytest.mark.parametrize(
    "key", ["camera_tolerance_ns", "tf_tolerance_ns", "tf_max_gap_ns", "sync_latency_ns"]
)
def test_every_duration_key_refuses_a_negative_value(key: str) -> None:
    """Each of the four durations must be >= 0 (the example YAML: "a negative tolerance is
    an error naming the key"): -1 is refused naming the key, 0 is accepted."""
    negative: dict[str, Any] = {key: -1}
    zero: dict[str, Any] = {key: 0}
    with pytest.raises(ConfigValueError, match="must be >= 0, got -1"):
        RosbagConfig(**negative)
    assert getattr(RosbagConfig(**zero), key) == 0


def test_a_zero_tf_gap_means_any_gap() -> None:
    """``tf_max_gap_ns: 0`` is "any gap" (the docstring): PoseSeries takes None for that, not
    0 (which would still limit gaps to 3 median intervals); other values pass through."""
    assert RosbagConfig(tf_max_gap_ns=0).tf_gap_limit_ns is None
    assert RosbagConfig(tf_max_gap_ns=500).tf_gap_limit_ns == 500


def test_replaced_keeps_the_file_the_config_was_read_from(tmp_path: Path) -> None:
    """``replaced`` is ``dataclasses.replace`` that keeps ``source`` (which ``replace``
    alone resets to None, an ``init=False`` field): the changed copy still names the YAML."""
    path = tmp_path / "ingest.yaml"
    path.write_text("deskew: true\n")
    cfg = load_rosbag_config(path)
    assert cfg.source == path
    changed = cfg.replaced(deskew=False)
    assert changed.deskew is False and changed.source == path


def test_only_a_calibration_error_names_the_table() -> None:
    """``setting_error`` prefixes the calibration table's path for the key ``calibration``
    only: an error about ``model`` keeps its reason as is, even when a table is set."""
    cfg = RosbagConfig(velodyne={"top": VelodyneConfig(calibration=Path("t.yaml"))})
    model = cfg.setting_error("top", "model", DataError("wrong model"))
    assert model.reason == "wrong model"
    assert model.field == "velodyne.top.model" and model.path == "RosbagConfig"
    calibration = cfg.setting_error("top", "calibration", DataError("bad table"))
    assert calibration.reason == "t.yaml: bad table"


# topic_map.py: guessing the map --------------------------------------------------------------


def test_sensor_names_strip_slashes_on_both_sides_and_name_the_root() -> None:
    """``/a/b/`` -> ``a_b`` (both ends stripped, inner slashes -> ``_``); ``/`` strips to
    the empty string, named ``root``."""
    assert sensor_name("/a/b/") == "a_b"
    assert sensor_name("/") == "root"


def test_a_compressed_image_pairs_with_the_camera_info_of_its_camera() -> None:
    """``/cam/image_raw/compressed`` lives in ``/cam/image_raw``; its camera's namespace is
    one level up, ``/cam``, where ``/cam/camera_info`` is (image_transport's layout)."""
    got = guess_topic_map(
        [
            ("/points", PC2),
            ("/cam/image_raw/compressed", "sensor_msgs/msg/CompressedImage"),
            ("/cam/camera_info", "sensor_msgs/msg/CameraInfo"),
        ]
    )
    assert got.cameras == {
        "cam_image_raw_compressed": CameraTopics("/cam/image_raw/compressed", "/cam/camera_info")
    }


def test_every_topic_ending_in_tf_static_is_static_only() -> None:
    """TFMessage topics named ``*tf_static`` are static, all others dynamic: the namespaced
    ``/robot_tf_static`` is static (and not dynamic too), ``/tf`` dynamic."""
    got = guess_topic_map([("/points", PC2), ("/tf", TF), ("/robot_tf_static", TF)])
    assert got.tf == ["/tf"]
    assert got.tf_static == ["/robot_tf_static"]


def test_a_guessed_map_takes_topics_in_name_order() -> None:
    """Topics are taken in name order whatever order the bag lists them: the first LiDAR
    (the key LiDAR) is ``/a_points``, the first Odometry ``/odom_a`` (not the last,
    ``/odom_b``, nor the first listed)."""
    got = guess_topic_map(
        [("/z_points", PC2), ("/odom_b", ODOM), ("/a_points", PC2), ("/odom_a", ODOM)]
    )
    assert list(got.lidars) == ["a_points", "z_points"]
    assert got.odometry == "/odom_a"


def test_only_ouster_lidar_packets_are_lidars() -> None:
    """Ouster PacketMsg topics are LiDARs only when named ``*/lidar_packets``: the IMU
    packets (same message type) on ``/os/imu_packets`` are not."""
    msg = "ouster_ros/msg/PacketMsg"
    got = guess_topic_map([("/os/lidar_packets", msg), ("/os/imu_packets", msg)])
    assert got.lidars == {"os_lidar_packets": "/os/lidar_packets"}


def test_one_lidar_needs_no_key_lidar_line_and_a_missing_info_says_none() -> None:
    """The key-LiDAR line is for more than one LiDAR only; a camera without CameraInfo
    prints ``info: none``."""
    text = describe_topic_map(
        TopicMap(lidars={"top": "/points"}, cameras={"front": CameraTopics("/img")})
    )
    assert "key LiDAR" not in text
    assert "<- /img (info: none)" in text


# lidar_sources.py ----------------------------------------------------------------------------


def test_claimed_dense_counts_only_clouds_that_claim_to_be_dense() -> None:
    """One NaN point in each message: counted as claimed-dense only when the message says
    ``is_dense = true``; the count is per message (a later non-dense message reports 0)."""
    xyz = np.array([[1.0, 2.0, 3.0], [np.nan, 0.0, 0.0]], np.float32)
    msg = pointcloud2_message(ROS2, xyz, {}, frame_id="lidar", stamp_ns=1)
    assert msg.is_dense is False  # the writer's own claim: a NaN point is present
    source = PointCloud2Source()
    msg.is_dense = True  # a driver that claims density it does not have
    assert len(source.feed(msg, 1, path="b", record="m0")[0]) == 1
    assert (source.num_nonfinite, source.num_nonfinite_claimed_dense) == (1, 1)
    msg.is_dense = False
    source.feed(msg, 2, path="b", record="m1")
    assert (source.num_nonfinite, source.num_nonfinite_claimed_dense) == (1, 0)


@pytest.mark.data
def test_a_velodyne_sources_repairs_are_those_of_the_last_scan(shared_data: Path) -> None:
    """``repairs`` is what the LAST message fed lost: a scan with every third packet garbled
    reports ``corrupt_packets``; the intact scan fed after it reports nothing."""
    from tests.ingest.rosbag.test_losses_reported import read_scans, vlp16_bag

    scans = read_scans(vlp16_bag(shared_data))
    assert len(scans) >= 3
    broken = copy.deepcopy(scans[1][2])
    for packet in broken.packets[::3]:
        packet.data[:1200] = np.random.default_rng(0).integers(0, 256, 1200, dtype=np.uint8)
    source = VelodyneSource(VelodyneConfig())
    source.feed(scans[0][2], scans[0][1], path="bag", record="0")
    assert source.repairs == []
    source.feed(broken, scans[1][1], path="bag", record="1")
    assert [kind for kind, _ in source.repairs] == ["corrupt_packets"]
    source.feed(scans[2][2], scans[2][1], path="bag", record="2")
    assert source.repairs == []


def test_the_ouster_metadata_topic_is_beside_the_packets() -> None:
    """``<ns>/lidar_packets`` -> ``<ns>/metadata``, for a nested namespace too."""
    assert ouster_metadata_topic("/os_node/lidar_packets") == "/os_node/metadata"
    assert ouster_metadata_topic("/a/b/lidar_packets") == "/a/b/metadata"


# deskew.py -----------------------------------------------------------------------------------


def _moving_cloud(offsets: list[int], xyz: list[list[float]], stamp: int) -> PointCloud:
    return PointCloud(
        np.array(xyz, np.float32), "lidar", stamp, {"time_offset_ns": np.array(offsets, np.int64)}
    )


def test_deskew_refers_to_the_sweep_stamp_not_the_first_point() -> None:
    """Ego at 10 m/s along x, LiDAR at the ego origin; points at the LiDAR origin 50 ms and
    100 ms after the stamp (none at the stamp itself): the ego moved 0.5 m and 1 m since
    the stamp, so in the frame at the stamp they are at x = 0.5 and x = 1.0."""
    stamp = 1_000_000_000
    cloud = _moving_cloud([50_000_000, 100_000_000], [[0.0, 0.0, 0.0]] * 2, stamp)

    def world_from_ego_at(times: np.ndarray) -> SE3:
        x = (times - stamp) * 1e-9 * 10.0
        return SE3(np.broadcast_to(np.eye(3), (len(x), 3, 3)), np.stack([x, 0 * x, 0 * x], 1))

    out = deskew_point_cloud(cloud, SE3.identity(), world_from_ego_at)
    np.testing.assert_allclose(out.xyz_m, [[0.5, 0.0, 0.0], [1.0, 0.0, 0.0]], atol=1e-6)


def test_deskew_composes_a_turning_ego_in_the_right_order() -> None:
    """The ego stands at world (5, 0, 0) and turns from yaw 90 deg (at the stamp) to yaw
    180 deg (100 ms later); LiDAR at the ego origin. ego_ref_from_world = (R(-90),
    -R(-90)(5, 0, 0)) = (R(-90), (0, 5, 0)); ego_ref_from_ego_i = ego_ref_from_world @
    world_from_ego_i = (R(90), R(-90)(5, 0, 0) + (0, 5, 0)) = (R(90), 0). So the point
    (1, 0, 0) seen at +100 ms is at R(90)(1, 0, 0) = (0, 1, 0) at the stamp; the point at
    the stamp stays where it is."""
    stamp = 2_000_000_000
    cloud = _moving_cloud([0, 100_000_000], [[2.0, 0.0, 0.0], [1.0, 0.0, 0.0]], stamp)

    def world_from_ego_at(times: np.ndarray) -> SE3:
        yaw = math.pi / 2 + (times - stamp) * 1e-9 * 10.0 * (math.pi / 2)
        poses = [SE3.from_xyz_yaw([5.0, 0.0, 0.0], float(a)) for a in yaw]
        return SE3(np.stack([p.rotation for p in poses]), np.stack([p.translation for p in poses]))

    out = deskew_point_cloud(cloud, SE3.identity(), world_from_ego_at)
    np.testing.assert_allclose(out.xyz_m, [[2.0, 0.0, 0.0], [0.0, 1.0, 0.0]], atol=1e-6)


# tf_buffer.py --------------------------------------------------------------------------------


def test_a_non_unit_quaternion_is_normalised_before_interpolation() -> None:
    """(2, 0, 0, 0) is the identity rotation, stored as (1, 0, 0, 0); slerp from it to a
    90 deg yaw (given at twice unit length) a quarter of the way is a 22.5 deg yaw
    (unnormalised, the dot product 2 * 2 cos 45 deg clips to 1 and slerp degrades to
    nlerp: 2 atan(0.25 sin 45 / (0.75 + 0.25 cos 45)) = 21.6 deg)."""
    series = PoseSeries("map", "base_link")
    series.add(0, [2.0, 0.0, 0.0, 0.0], [0.0, 0.0, 0.0])
    series.add(100, 2.0 * _yaw_quat(math.pi / 2), [0.0, 0.0, 0.0])
    np.testing.assert_allclose(series.arrays()[1][0], IDENTITY)
    assert _yaw_deg(series.interpolate(25)) == pytest.approx(22.5, abs=1e-6)


def test_a_near_zero_quaternion_or_non_finite_translation_is_refused() -> None:
    """A quaternion of norm < 1e-6 (here 1e-7) has no rotation; a NaN translation no
    position: both ValueError naming the edge."""
    series = PoseSeries("map", "base_link")
    with pytest.raises(ValueError, match="map->base_link: invalid quaternion"):
        series.add(0, [1e-7, 0.0, 0.0, 0.0], [0.0, 0.0, 0.0])
    with pytest.raises(ValueError, match="map->base_link: invalid translation"):
        series.add(0, IDENTITY, [0.0, np.nan, 0.0])


def test_the_gap_limit_is_the_larger_of_max_gap_and_three_median_intervals() -> None:
    """Poses at 0, 10, 20, 30, 55, 90 ns (x = t / 10), max_gap_ns 5. The intervals are 10,
    10, 10, 25, 35: median 10 (the mean, 18, would allow 54), so the limit is max(5, 3 * 10)
    = 30 ns (min would be 5; 2 * 10 would be 20). Hence 5 (gap 10) and 40 (gap 25) are
    interpolated: x = 0.5 and x = 3 + 10 / 25 * 2.5 = 4.0; 70 (gap 35) is refused."""
    series = PoseSeries("map", "base_link", max_gap_ns=5)
    for t in (0, 10, 20, 30, 55, 90):
        series.add(t, IDENTITY, [t / 10, 0.0, 0.0])
    np.testing.assert_allclose(series.interpolate(5).translation, [0.5, 0.0, 0.0])
    np.testing.assert_allclose(series.interpolate(40).translation, [4.0, 0.0, 0.0])
    with pytest.raises(TransformLookupError, match="time 70 ns falls in a"):
        series.interpolate(70)


def test_a_time_exactly_at_a_pose_beside_a_long_gap_is_that_pose() -> None:
    """Poses at 0, 10, 20, 100 ns with max_gap_ns 30 (limit max(30, 3 * 10) = 30): 100 ns
    and 20 ns are recorded poses (x = 10, x = 2), no interpolation across the 80 ns gap
    between them; 60 ns, inside the gap, is refused."""
    series = PoseSeries("map", "base_link", max_gap_ns=30)
    for t in (0, 10, 20, 100):
        series.add(t, IDENTITY, [t / 10, 0.0, 0.0])
    np.testing.assert_allclose(series.interpolate(100).translation, [10.0, 0.0, 0.0])
    np.testing.assert_allclose(series.interpolate(20).translation, [2.0, 0.0, 0.0])
    with pytest.raises(TransformLookupError, match="falls in a"):
        series.interpolate(60)


def test_a_re_published_static_edge_replaces_the_cached_lookup() -> None:
    """base_link -> lidar published at x = 1 then re-published at x = 2: the lookup after
    the second answers x = 2, not the cached x = 1."""
    tf = TransformBuffer()
    tf.add_static("base_link", "lidar", SE3.from_xyz_yaw([1.0, 0.0, 0.0], 0.0))
    assert tf.lookup("base_link", "lidar", 0).translation[0] == 1.0
    tf.add_static("base_link", "lidar", SE3.from_xyz_yaw([2.0, 0.0, 0.0], 0.0))
    assert tf.lookup("base_link", "lidar", 0).translation[0] == 2.0


def test_a_batched_lookup_after_a_cached_static_one_is_batched() -> None:
    """After a single-time static lookup is cached, a lookup at 3 times still answers 3
    poses (translation shape (3, 3)), each the static mount (1, 0, 0)."""
    tf = TransformBuffer()
    tf.add_static("base_link", "lidar", SE3.from_xyz_yaw([1.0, 0.0, 0.0], 0.0))
    tf.lookup("base_link", "lidar", 0)
    batch = tf.lookup("base_link", "lidar", np.array([0, 5, 9], np.int64))
    np.testing.assert_array_equal(batch.translation, [[1.0, 0.0, 0.0]] * 3)


def test_a_lookup_through_a_dynamic_edge_is_not_cached() -> None:
    """lidar <- map crosses the static lidar mount and the dynamic map -> base_link (x = 0
    at 0 ns, x = 10 at 100 ns): lidar_from_map's translation is -(x + 1) along x, so -1
    at 0 ns and -11 at 100 ns (the answer at 0 ns must not be reused)."""
    tf = TransformBuffer()
    tf.add_dynamic("map", "base_link", 0, IDENTITY, [0.0, 0.0, 0.0])
    tf.add_dynamic("map", "base_link", 100, IDENTITY, [10.0, 0.0, 0.0])
    tf.add_static("base_link", "lidar", SE3.from_xyz_yaw([1.0, 0.0, 0.0], 0.0))
    assert tf.lookup("lidar", "map", 0).translation[0] == pytest.approx(-1.0)
    assert tf.lookup("lidar", "map", 100).translation[0] == pytest.approx(-11.0)


def test_a_frame_is_not_its_own_ancestor() -> None:
    """``has_ancestor`` looks above the frame: map is above lidar, lidar is not above
    itself (nor is the root above itself)."""
    tf = TransformBuffer()
    tf.add_static("map", "base_link", SE3.identity())
    tf.add_static("base_link", "lidar", SE3.identity())
    assert tf.has_ancestor("lidar", "map")
    assert not tf.has_ancestor("lidar", "lidar")
    assert not tf.has_ancestor("map", "map")


# writer.py -----------------------------------------------------------------------------------


def test_a_ros1_header_gets_seq_zero() -> None:
    """The documented ``seq = 0`` of ROS 1 headers; the stamp splits 1.5 s + 7 ns into
    sec 1, nanosec 500_000_007."""
    ros1 = get_typestore(Stores.ROS1_NOETIC)
    h = header(ros1, 1_500_000_007, "lidar")
    assert (h.seq, h.stamp.sec, h.stamp.nanosec, h.frame_id) == (0, 1, 500_000_007, "lidar")


def test_an_organised_cloud_has_one_row_of_bytes_per_row() -> None:
    """6 float32 points in 2 rows: x, y, z of 4 bytes each make a 12-byte point, 3 points a
    row, so ``row_step`` is 36 bytes (not 72, the whole cloud); a NaN point makes the
    cloud not dense."""
    xyz = np.arange(18, dtype=np.float32).reshape(6, 3)
    xyz[4, 1] = np.nan
    msg = pointcloud2_message(ROS2, xyz, {}, frame_id="lidar", stamp_ns=1, height=2)
    assert (msg.height, msg.width, msg.point_step, msg.row_step) == (2, 3, 12, 36)
    assert msg.is_dense is False


def test_a_rosbag2_is_written_in_format_version_9(tmp_path: Path) -> None:
    """The module docstring: a rosbag2 directory of format version 9 (metadata.yaml)."""
    import yaml

    path = tmp_path / "bag"
    with BagWriter(path, "sqlite3") as w:
        w.write(
            "/points",
            PC2,
            5,
            pointcloud2_message(
                w.typestore, np.zeros((1, 3), np.float32), {}, frame_id="l", stamp_ns=5
            ),
        )
    meta = yaml.safe_load((path / "metadata.yaml").read_text())
    assert meta["rosbag2_bagfile_information"]["version"] == 9


def test_topics_of_one_sensor_name_are_all_kept_under_numbered_names() -> None:
    """``/a/b`` and ``/a_b`` both read ``a_b``: in name order the second becomes ``a_b_2``
    (the first was dropped without a word), for LiDARs and cameras alike."""
    from drivestack.ingest.rosbag.topic_map import guess_topic_map

    pc2, image = "sensor_msgs/msg/PointCloud2", "sensor_msgs/msg/Image"
    guessed = guess_topic_map(
        [("/a/b", pc2), ("/a_b", pc2), ("/c/d", image), ("/c_d", image), ("/c_d_2", image)]
    )
    assert guessed.lidars == {"a_b": "/a/b", "a_b_2": "/a_b"}
    assert {n: c.image for n, c in guessed.cameras.items()} == {
        "c_d": "/c/d",
        "c_d_2": "/c_d",
        "c_d_2_2": "/c_d_2",
    }
