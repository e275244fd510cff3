"""RosbagLog on small written bags: ROS 1 frame ids with a leading ``/``, CameraInfo distortion
models, images read after their frame was emitted, topics of the map missing from the bag,
odometry of another frame, two LiDARs, and the errors naming the CameraInfo message."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from drivestack.core.errors import ConfigError, DataError
from drivestack.core.transforms import SE3
from drivestack.ingest.rosbag.messages import camera_info_to_calibration, normalise_frame_id
from drivestack.ingest.rosbag.reader import RosbagLog
from drivestack.ingest.rosbag.topic_map import (
    CameraTopics,
    RosbagConfig,
    TopicMap,
    load_rosbag_config,
)
from drivestack.ingest.rosbag.writer import (
    BagWriter,
    header,
    pointcloud2_message,
    tf_message,
    transform_stamped,
)

T0 = 1_700_000_000_000_000_000
MS = 1_000_000
PC2, TF, IMG, INFO, ODOM = (
    "sensor_msgs/msg/PointCloud2",
    "tf2_msgs/msg/TFMessage",
    "sensor_msgs/msg/Image",
    "sensor_msgs/msg/CameraInfo",
    "nav_msgs/msg/Odometry",
)
XYZ = np.array([[10.0, 0.0, 0.0], [12.0, 1.0, 0.5]], dtype=np.float32)


def image(ts: Any, stamp: int, frame_id: str) -> Any:
    return ts.types[IMG](
        header=header(ts, stamp, frame_id),
        height=4,
        width=6,
        encoding="mono8",
        is_bigendian=0,
        step=6,
        data=np.zeros(24, dtype=np.uint8),
    )


def camera_info(
    ts: Any, stamp: int, frame_id: str, model: str = "plumb_bob", d: Any = (0.0,) * 5, fx=100.0
) -> Any:
    k = np.array([fx, 0, 3, 0, 100.0, 2, 0, 0, 1])
    mats = {"d": np.asarray(d, float), "k": k, "r": np.eye(3).reshape(-1), "p": np.zeros(12)}
    if "K" in ts.types[INFO].__dataclass_fields__:  # ROS 1 spelling
        mats = {name.upper(): value for name, value in mats.items()}
    roi = ts.types["sensor_msgs/msg/RegionOfInterest"](
        x_offset=0, y_offset=0, height=0, width=0, do_rectify=False
    )
    return ts.types[INFO](
        header=header(ts, stamp, frame_id),
        height=4,
        width=6,
        distortion_model=model,
        binning_x=0,
        binning_y=0,
        roi=roi,
        **mats,
    )


def odometry(ts: Any, stamp: int, child: str, x_m: float) -> Any:
    t = ts.types
    pose = t["geometry_msgs/msg/Pose"](
        position=t["geometry_msgs/msg/Point"](x=x_m, y=0.0, z=0.0),
        orientation=t["geometry_msgs/msg/Quaternion"](x=0.0, y=0.0, z=0.0, w=1.0),
    )
    zero = t["geometry_msgs/msg/Vector3"](x=0.0, y=0.0, z=0.0)
    return t[ODOM](
        header=header(ts, stamp, "odom"),
        child_frame_id=child,
        pose=t["geometry_msgs/msg/PoseWithCovariance"](pose=pose, covariance=np.zeros(36)),
        twist=t["geometry_msgs/msg/TwistWithCovariance"](
            twist=t["geometry_msgs/msg/Twist"](linear=zero, angular=zero), covariance=np.zeros(36)
        ),
    )


def write_bag(
    path: Path,
    storage: str = "mcap",
    *,
    slash: str = "",
    sweeps: int = 3,
    image_delay_ns: int | None = 1 * MS,
    info: dict[str, Any] | None = None,
    odom_child: str | None = None,
    mounts: tuple[str, ...] = ("lidar", "cam_optical"),
    second_lidar: bool = False,
) -> None:
    """``sweeps`` sweeps 100 ms apart in frame ``lidar``; a world pose (``/tf`` map ->
    base_link, or ``/odom`` with ``odom_child``); static mounts base_link -> ``mounts``; with
    ``image_delay_ns`` an image and a CameraInfo stamped like each sweep (+1 ms), logged
    ``image_delay_ns`` after it. ``slash`` ("/") prefixes every frame id, as ROS 1 drivers do."""
    with BagWriter(path, storage) as w:  # type: ignore[arg-type]
        ts = w.typestore
        static = [
            transform_stamped(ts, T0, f"{slash}base_link", f"{slash}{child}", SE3.identity())
            for child in mounts
        ]
        w.write("/tf_static", TF, T0, tf_message(ts, static))
        for k in range(2 * sweeps + 2):
            stamp = T0 + (k - 1) * 50 * MS
            if odom_child is None:
                pose = SE3.from_xyz_yaw([0.1 * k, 0.0, 0.0], 0.0)
                tr = transform_stamped(ts, stamp, f"{slash}map", f"{slash}base_link", pose)
                w.write("/tf", TF, stamp, tf_message(ts, [tr]))
            else:
                w.write("/odom", ODOM, stamp, odometry(ts, stamp, odom_child, 0.1 * k))
        for k in range(sweeps):
            stamp = T0 + k * 100 * MS
            cloud = pointcloud2_message(ts, XYZ, {}, frame_id=f"{slash}lidar", stamp_ns=stamp)
            w.write("/points", PC2, stamp, cloud)
            if second_lidar:
                other = pointcloud2_message(ts, XYZ, {}, frame_id="lidar", stamp_ns=stamp + 1)
                w.write("/a_points", PC2, stamp + 1, other)
            if image_delay_ns is not None:
                cam_stamp, log = stamp + 1 * MS, stamp + image_delay_ns
                w.write("/cam/image_raw", IMG, log, image(ts, cam_stamp, f"{slash}cam_optical"))
                msg = camera_info(ts, cam_stamp, f"{slash}cam_optical", **(info or {}))
                w.write("/cam/camera_info", INFO, log, msg)


def read(path: Path, **config: Any) -> tuple[RosbagLog, list[Any], list[str]]:
    said: list[str] = []
    log = RosbagLog(path, RosbagConfig(deskew=False, **config), announce=said.append)
    return log, list(log.frames()), said


# -- 1. frame ids ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("frame_id", "expected"),
    [("/velodyne", "velodyne"), ("velodyne", "velodyne"), ("//a/b", "a/b"), ("", "")],
)
def test_normalise_frame_id_drops_the_leading_slashes_only(frame_id: str, expected: str) -> None:
    assert normalise_frame_id(frame_id) == expected


def test_ros1_frame_ids_with_a_leading_slash_match_the_tf_tree(tmp_path: Path) -> None:
    """Every frame id of a ROS 1 bag as its drivers write them ("/lidar", "/cam_optical"):
    before, the sensors' ids kept the "/" that TF's lost, and no frame was made."""
    path = tmp_path / "slash.bag"
    write_bag(path, "ros1", slash="/")
    log, frames, _ = read(path)
    assert log.report.clean, log.report.summary()
    assert len(frames) == 3
    for frame in frames:
        assert frame.lidar().frame == "lidar"
        assert set(frame.cameras) == {"cam_image_raw"}
        assert frame.world_from_ego is not None
        assert np.allclose(frame.ego_from_sensor["cam_image_raw"].translation, 0.0)


def test_the_no_tf_hint_is_only_given_for_a_bag_without_tf(tmp_path: Path) -> None:
    """A bag with TF that lacks the LiDAR's mount: the reason says what is missing, not
    'a bag without TF: --ego-frame lidar'."""
    path = tmp_path / "nomount"
    write_bag(path, mounts=("cam_optical",), image_delay_ns=None)
    log, frames, _ = read(path)
    assert frames == []
    (kind,) = log.report.counts()
    assert kind == "missing_tf"
    assert "'lidar' is unknown" in log.report.skipped[0].reason
    assert "without TF" not in log.report.skipped[0].reason
    assert "--ego-frame" not in log.report.skipped[0].reason


# -- 2. / 8. CameraInfo ------------------------------------------------------------------------
@pytest.mark.parametrize("model", ["equidistant", "kannala_brandt", "fisheye"])
def test_a_distortion_model_drivestack_does_not_implement_drops_the_camera(
    tmp_path: Path, model: str
) -> None:
    """An `equidistant` fisheye was read as plumb_bob (its 4 coefficients as k1 k2 p1 p2)."""
    path = tmp_path / "fisheye"
    write_bag(path, info={"model": model, "d": [0.1, 0.01, 0.001, 0.0001]})
    log, frames, _ = read(path)
    assert len(frames) == 3 and all(not f.cameras for f in frames)
    assert log.report.counts() == {"image": 3}
    reason = log.report.skipped[0].reason
    assert reason.startswith(f"{path}: /cam/camera_info #2: field distortion_model: ")
    assert repr(model) in reason


@pytest.mark.parametrize(
    ("model", "d"),
    [
        ("plumb_bob", []),
        ("plumb_bob", [0.1, 0.01, 0.0, 0.0, 0.001]),
        ("rational_polynomial", [0.1] * 8),
    ],
)
def test_plumb_bob_and_rational_polynomial_are_read(tmp_path: Path, model: str, d: list) -> None:
    path = tmp_path / "cam"
    write_bag(path, info={"model": model, "d": d})
    log, frames, _ = read(path)
    assert log.report.clean, log.report.summary()
    calibration = frames[0].cameras["cam_image_raw"].calibration
    assert calibration.distortion.tolist() == d


def test_camera_info_errors_name_the_bag_topic_index_and_field(tmp_path: Path) -> None:
    """They named '<message>' before."""
    path = tmp_path / "zero_fx"
    write_bag(path, info={"fx": 0.0})
    log, frames, _ = read(path)
    assert all(not f.cameras for f in frames)
    assert log.report.skipped[0].reason.startswith(f"{path}: /cam/camera_info #2: field k: ")


def test_camera_info_to_calibration_names_the_field_of_a_bad_coefficient_count(
    tmp_path: Path,
) -> None:
    ts = BagWriter(tmp_path / "unused", "mcap").typestore
    msg = camera_info(ts, T0, "cam", "rational_polynomial", [0.1] * 5)
    with pytest.raises(DataError) as raised:
        camera_info_to_calibration(
            msg, name="c", frame="c", camera_from_ego=SE3.identity(), path="b", record="/i #4"
        )
    assert (raised.value.path, raised.value.record, raised.value.field) == ("b", "/i #4", "d")


# -- 3. images read after their frame was emitted ----------------------------------------------
def test_images_read_after_their_frame_was_emitted_are_reported(tmp_path: Path) -> None:
    """Sweeps every 100 ms; each image stamped with its sweep (+1 ms) but logged 351 ms later.
    With camera_tolerance 50 ms and sync_latency 100 ms a sweep is emitted once a message
    stamped more than 150 ms after it is read: sweeps 0..3 go before their image (sweep 3 at
    the sweep stamped 500 ms, with image 3 logged at 651 ms); 4 and 5 wait to the end. Image
    k is read when the newest stamp is 100 ms * (k + 3) (the sweep logged before it), so the
    wait that keeps it is 100 ms * (k + 3) - 100 ms * k - 50 ms = 250 ms."""
    path = tmp_path / "late"
    write_bag(path, sweeps=6, image_delay_ns=351 * MS)
    tol = 50 * MS
    log, frames, _ = read(path, camera_tolerance_ns=tol, sync_latency_ns=100 * MS)
    assert [len(f.cameras) for f in frames] == [0, 0, 0, 0, 1, 1]
    assert log.report.counts() == {"camera_late": 1}
    (entry,) = log.report.skipped
    assert (entry.topic, entry.index, entry.kept) == ("/cam/image_raw", 0, True)
    assert entry.reason.startswith("4 frames made without cam_image_raw's image")
    assert "sync_latency_ns >= 250000000 " in entry.reason
    log, frames, _ = read(path, camera_tolerance_ns=tol, sync_latency_ns=250 * MS)
    assert [len(f.cameras) for f in frames] == [1] * 6
    assert log.report.clean, log.report.summary()
    log, frames, _ = read(path, camera_tolerance_ns=tol, sync_latency_ns=250 * MS - 1)
    assert log.report.counts() == {"camera_late": 1}


def test_a_camera_slower_than_the_lidar_is_not_late(tmp_path: Path) -> None:
    """Frames without an image because none was taken near them are not 'late'."""
    path = tmp_path / "drive"
    write_bag(path, sweeps=4)
    log, frames, _ = read(path, camera_tolerance_ns=0)  # the images are 1 ms off
    assert [len(f.cameras) for f in frames] == [0, 0, 0, 0]
    assert log.report.clean, log.report.summary()


# -- 4. topics of the map that the bag lacks ---------------------------------------------------
@pytest.mark.parametrize(
    ("topics", "key"),
    [
        ({"lidars": {"main": "/pointz"}}, "topics.lidars.main"),
        (
            {"cameras": {"front": CameraTopics("/cam/image_raw", "/cam/camera_infoo")}},
            "topics.cameras.front.info",
        ),
        ({"cameras": {"front": CameraTopics("/cam/image")}}, "topics.cameras.front.image"),
        ({"odometry": "/odometry"}, "topics.odometry"),
        ({"navsat": "/gps/fix"}, "topics.navsat"),
        ({"tf": ["/tf", "/tff"]}, "topics.tf"),
        ({"tf_static": ["/tf_statik"]}, "topics.tf_static"),
    ],
)
def test_a_topic_of_the_map_missing_from_the_bag_is_an_error_naming_its_key(
    tmp_path: Path, topics: dict[str, Any], key: str
) -> None:
    path = tmp_path / "drive"
    write_bag(path, sweeps=1)
    topic_map = TopicMap(**{"lidars": {"main": "/points"}, **topics})
    with pytest.raises(DataError) as raised:
        RosbagLog(path, RosbagConfig(topics=topic_map), announce=lambda _: None)
    assert (raised.value.path, raised.value.field) == (str(path), key)
    assert "from the topic map is not in the bag" in raised.value.reason


def test_the_default_tf_topics_may_be_absent(tmp_path: Path) -> None:
    path = tmp_path / "points_only"
    with BagWriter(path, "mcap") as w:
        msg = pointcloud2_message(w.typestore, XYZ, {}, frame_id="lidar", stamp_ns=T0)
        w.write("/points", PC2, T0, msg)
    config = RosbagConfig(topics=TopicMap(lidars={"main": "/points"}), ego_frame="lidar")
    frames = list(RosbagLog(path, config, announce=lambda _: None).frames())
    assert len(frames) == 1


def test_a_negative_tolerance_in_the_yaml_names_its_key(tmp_path: Path) -> None:
    yaml = tmp_path / "neg.yaml"
    yaml.write_text("sync_latency_ns: 0\ncamera_tolerance_ns: -5\n")
    with pytest.raises(ConfigError) as raised:
        load_rosbag_config(yaml)
    assert (raised.value.path, raised.value.field) == (str(yaml), "camera_tolerance_ns")
    assert raised.value.reason == "must be >= 0, got -5"


# -- 6. odometry of another frame --------------------------------------------------------------
def test_odometry_of_another_frame_says_which_and_the_ego_frame_to_use(tmp_path: Path) -> None:
    path = tmp_path / "odom_fp"
    write_bag(path, odom_child="base_footprint", image_delay_ns=None)
    log, frames, _ = read(path)
    assert len(frames) == 3 and all(f.world_from_ego is None for f in frames)
    assert log.report.counts() == {"no_ego_pose": 3}
    reason = log.report.skipped[0].reason
    assert "the odometry (/odom) is the pose of 'base_footprint' in 'odom'" in reason
    assert "not of the ego frame 'base_link'" in reason
    assert "--ego-frame base_footprint" in reason
    # with that ego frame the odometry is the pose
    log, frames, _ = read(
        path,
        ego_frame="base_footprint",
        topics=TopicMap(lidars={"main": "/points"}, odometry="/odom", tf_static=["/tf_static"]),
    )
    assert frames == [] and log.report.counts() == {"missing_tf": 3}  # no mount: its own line


# -- 7. two LiDARs -----------------------------------------------------------------------------
def test_a_guessed_map_with_two_lidars_says_which_is_key_and_how_to_choose(
    tmp_path: Path,
) -> None:
    path = tmp_path / "two"
    write_bag(path, second_lidar=True, image_delay_ns=None)
    log, frames, said = read(path)
    assert list(log.topic_map.lidars) == ["a_points", "points"]
    (described,) = said
    lines = [line for line in described.splitlines() if "key LiDAR" in line]
    assert len(lines) == 1
    assert "key LiDAR: a_points " in lines[0]
    assert "list it first under topics.lidars" in lines[0]
    assert "lidar_name" in lines[0]
    assert frames[0].source.endswith(":/a_points#0")


def test_one_lidar_says_nothing_of_a_key(tmp_path: Path) -> None:
    path = tmp_path / "one"
    write_bag(path, image_delay_ns=None)
    _, _, said = read(path)
    assert "key LiDAR" not in said[0]


def test_the_lidar_detector_names_the_setting_for_a_frame_with_two_lidars() -> None:
    from drivestack.perception.lidar.detector import LidarDetector
    from drivestack.structures.point_cloud import PointCloud
    from drivestack.structures.sensor_frame import SensorFrame

    repo = Path(__file__).resolve().parents[3]
    detector = LidarDetector(repo / "configs/perception/lidar_kitti.yaml")
    cloud = PointCloud(XYZ, "a", T0)
    frame = SensorFrame(T0, lidars={"b": cloud, "a": PointCloud(XYZ, "a", T0)})
    with pytest.raises(DataError, match=r"set lidar_name in the LiDAR perception YAML") as raised:
        detector.step(frame)
    assert "lidar_name: a" in str(raised.value)


def test_a_bag_librarys_bare_assertion_is_said_to_be_one() -> None:
    """Was: 'cannot be read (AssertionError: )' for a chunk whose lengths rosbags asserts."""
    from drivestack.ingest.rosbag.bag_io import library_error

    assert library_error(AssertionError()) == (
        "the bag library's own check of the file's records failed (AssertionError)"
    )
    assert library_error(ValueError("bad header")) == "ValueError: bad header"
    assert library_error(EOFError()) == "EOFError"
