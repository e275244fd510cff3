"""RosbagLog on a small synthetic drive: camera sync, odometry poses, de-skew, bad input."""

from __future__ import annotations

import dataclasses
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from drivestack.core.errors import DataError
from drivestack.core.transforms import SE3
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
SWEEP_NS = 100_000_000
PC2, TF, IMG, INFO, ODOM = (
    "sensor_msgs/msg/PointCloud2",
    "tf2_msgs/msg/TFMessage",
    "sensor_msgs/msg/Image",
    "sensor_msgs/msg/CameraInfo",
    "nav_msgs/msg/Odometry",
)


def odometry(ts, stamp: int, x: float):
    t = ts.types
    pose = t["geometry_msgs/msg/Pose"](
        position=t["geometry_msgs/msg/Point"](x=x, y=0.0, z=0.0),
        orientation=t["geometry_msgs/msg/Quaternion"](x=0.0, y=0.0, z=0.0, w=1.0),
    )
    zero = t["geometry_msgs/msg/Vector3"](x=0.0, y=0.0, z=0.0)
    return t["nav_msgs/msg/Odometry"](
        header=header(ts, stamp, "odom"),
        child_frame_id="base_link",
        pose=t["geometry_msgs/msg/PoseWithCovariance"](pose=pose, covariance=np.zeros(36)),
        twist=t["geometry_msgs/msg/TwistWithCovariance"](
            twist=t["geometry_msgs/msg/Twist"](linear=zero, angular=zero), covariance=np.zeros(36)
        ),
    )


def image(ts, stamp: int, value: int):
    pixels = np.zeros((4, 6, 3), dtype=np.uint8)
    pixels[..., 0] = value  # blue channel in bgr8
    return ts.types[IMG](
        header=header(ts, stamp, "cam_optical"),
        height=4,
        width=6,
        encoding="bgr8",
        is_bigendian=0,
        step=18,
        data=pixels.reshape(-1),
    )


def camera_info(ts, stamp: int):
    k = np.array([100.0, 0, 3, 0, 100.0, 2, 0, 0, 1])
    matrices = {"d": np.zeros(5), "k": k, "r": np.eye(3).reshape(-1), "p": np.zeros(12)}
    if "K" in ts.types[INFO].__dataclass_fields__:  # ROS 1 spelling
        matrices = {name.upper(): value for name, value in matrices.items()}
    return ts.types[INFO](
        header=header(ts, stamp, "cam_optical"),
        height=4,
        width=6,
        distortion_model="plumb_bob",
        **matrices,
        binning_x=0,
        binning_y=0,
        roi=ts.types["sensor_msgs/msg/RegionOfInterest"](
            x_offset=0, y_offset=0, height=0, width=0, do_rectify=False
        ),
    )


def write_drive(
    path: Path,
    *,
    corrupt: bool = False,
    storage: str = "sqlite3",
    second_lidar: bool = False,
    changes: bool = False,
    **writer_options,
) -> None:
    """4 sweeps 100 ms apart (ego at 10 m/s along x), a camera 10 ms after each sweep,
    odometry every 50 ms, the LiDAR 1.5 m ahead of base_link; optional bad messages; with
    ``second_lidar`` the same sweeps again on ``/points_b``; with ``changes``, after sweep 1
    the LiDAR mount re-published 5 m forward, the camera's fx 80 instead of 100, and the
    camera's mount on /tf too."""
    with BagWriter(path, storage, **writer_options) as w:  # type: ignore[arg-type]
        ts = w.typestore
        mount = transform_stamped(
            ts, T0, "base_link", "lidar", SE3.from_xyz_yaw([1.5, 0.0, 1.8], 0.0)
        )
        cam = transform_stamped(
            ts, T0, "base_link", "cam_optical", SE3.from_xyz_yaw([1.0, 0.0, 1.5], 0.0)
        )
        w.write("/tf_static", TF, T0, tf_message(ts, [mount, cam]))
        for k in range(9):
            stamp = T0 + k * SWEEP_NS // 2
            w.write("/odom", ODOM, stamp, odometry(ts, stamp, 0.5 * k))
        w.write("/cam/camera_info", INFO, T0, camera_info(ts, T0))
        xyz = np.array([[20.0, 0.0, 0.0], [20.0, 0.0, 0.0]], dtype=np.float32)
        times = np.array([0, SWEEP_NS // 2], dtype=np.uint32)  # Ouster-style "t" in ns
        for k in range(4):
            stamp = T0 + k * SWEEP_NS
            w.write(
                "/points",
                PC2,
                stamp,
                pointcloud2_message(ts, xyz, {"t": times}, frame_id="lidar", stamp_ns=stamp),
            )
            if second_lidar:
                sweep = pointcloud2_message(ts, xyz, {"t": times}, frame_id="lidar", stamp_ns=stamp)
                w.write("/points_b", PC2, stamp, sweep)
            w.write("/cam/image_raw", IMG, stamp + 10_000_000, image(ts, stamp + 10_000_000, k))
            if changes and k == 1:
                moved = transform_stamped(
                    ts, stamp, "base_link", "lidar", SE3.from_xyz_yaw([6.5, 0.0, 1.8], 0.0)
                )
                w.write("/tf_static", TF, stamp, tf_message(ts, [moved, cam]))
                info = camera_info(ts, stamp)
                matrix = "k" if hasattr(info, "k") else "K"
                values = getattr(info, matrix).copy()
                values[0] = 80.0
                w.write(
                    "/cam/camera_info", INFO, stamp, dataclasses.replace(info, **{matrix: values})
                )
                w.write("/tf", TF, stamp, tf_message(ts, [cam]))
        if corrupt:
            end = T0 + 4 * SWEEP_NS
            w.write_raw("/points", PC2, end, b"\x00\x01\x00\x00garbage")
            w.write(
                "/points",
                PC2,
                end + 1,
                pointcloud2_message(ts, xyz, {}, frame_id="lidar", stamp_ns=T0 + SWEEP_NS),
            )
            w.write(
                "/points",
                PC2,
                end + 2,
                pointcloud2_message(ts, xyz, {}, frame_id="radar", stamp_ns=end + 2),
            )


def test_sync_poses_and_deskew(tmp_path: Path) -> None:
    path = tmp_path / "drive"
    write_drive(path)
    log = RosbagLog(path, announce=lambda _: None)
    assert log.topic_map.cameras == {
        "cam_image_raw": CameraTopics("/cam/image_raw", "/cam/camera_info")
    }
    assert log.topic_map.odometry == "/odom"
    frames = list(log.frames())
    assert log.report.clean, log.report.summary()
    assert len(frames) == 4
    for k, frame in enumerate(frames):
        img = frame.cameras["cam_image_raw"]
        assert img.timestamp_ns == frame.timestamp_ns + 10_000_000
        assert img.pixels[0, 0].tolist() == [0, 0, k]  # bgr8 -> RGB
        assert img.calibration.intrinsics[0, 0] == 100.0
        assert frame.world_from_ego is not None
        np.testing.assert_allclose(frame.world_from_ego.translation, [k * 1.0, 0.0, 0.0])
        cloud = frame.lidar()
        assert cloud.attribute("time_offset_ns").tolist() == [0, SWEEP_NS // 2]
        # the second point was measured 50 ms later, 0.5 m further along: de-skewed to 20.5
        np.testing.assert_allclose(cloud.xyz_m[:, 0], [20.0, 20.5], atol=1e-5)
        np.testing.assert_allclose(
            frame.ego_from_sensor["cam_image_raw"].translation, [1.0, 0.0, 1.5]
        )


def test_every_lidar_with_point_times_is_deskewed(tmp_path: Path) -> None:
    # only the key LiDAR was de-skewed: the second one's copy of the same sweeps stayed 0.5 m
    # off at its later point, with nothing reported
    path = tmp_path / "drive"
    write_drive(path, second_lidar=True)
    log = RosbagLog(path, announce=lambda _: None)
    frames = list(log.frames())
    assert len(frames) == 4 and log.report.clean, log.report.summary()
    for frame in frames:
        assert set(frame.lidars) == {"points", "points_b"}
        for cloud in frame.lidars.values():
            np.testing.assert_allclose(cloud.xyz_m[:, 0], [20.0, 20.5], atol=1e-5)


def test_calibration_changed_within_the_bag_is_reported(tmp_path: Path) -> None:
    # one value of each is used for the whole bag (the last read): the frames before a
    # re-published mount or CameraInfo silently got the later one, and a mount on both
    # /tf_static and /tf silently took the static one
    path = tmp_path / "drive"
    write_drive(path, changes=True)
    log = RosbagLog(path, announce=lambda _: None)
    frames = list(log.frames())
    assert len(frames) == 4
    changed = [s for s in log.report.skipped if s.kind == "calibration_changed"]
    assert all(s.kept for s in changed) and not log.report.clean
    reasons = sorted(s.reason for s in changed)
    assert len(reasons) == 3
    assert reasons[0].startswith(
        "camera cam_image_raw's CameraInfo differs from /cam/camera_info #0"
    )
    assert reasons[1].startswith("edge base_link -> cam_optical is on /tf_static and on /tf")
    assert reasons[2].startswith("static edge base_link -> lidar re-published 5.000 m / 0.00 deg")
    # the same values again are no change: a plain drive is clean
    write_drive(tmp_path / "plain")
    plain = RosbagLog(tmp_path / "plain", announce=lambda _: None)
    list(plain.frames())
    assert plain.report.clean


def test_camera_outside_tolerance_is_not_attached(tmp_path: Path) -> None:
    path = tmp_path / "drive"
    write_drive(path)
    cfg = RosbagConfig(camera_tolerance_ns=5_000_000, deskew=False)
    frames = list(RosbagLog(path, cfg, announce=lambda _: None).frames())
    assert all(not f.cameras for f in frames)
    assert frames[0].lidar().xyz_m[:, 0].tolist() == [20.0, 20.0]


def test_bad_messages_are_skipped_counted_and_named(tmp_path: Path) -> None:
    path = tmp_path / "drive"
    write_drive(path, corrupt=True)
    log = RosbagLog(path, announce=lambda _: None)
    frames = list(log.frames())
    assert len(frames) == 4
    report = log.report
    assert not report.clean
    assert report.counts() == {"decode": 1, "time_backwards": 1, "missing_tf": 1}
    text = report.summary()
    assert "/points #4" in text and "decode" in text
    assert "/points #5" in text and "header stamp" in text
    assert "/points #6" in text and "'radar' is unknown" in text


@pytest.mark.parametrize("storage", ["ros1", "mcap"])
def test_truncated_bag_is_salvaged_and_reported(tmp_path: Path, storage: str) -> None:
    """A recording cut at 90 %: rosbags refuses it (no index / summary); the front-to-back
    reader recovers the complete records and the report says what happened."""
    path = tmp_path / ("drive.bag" if storage == "ros1" else "drive")
    write_drive(path, storage=storage)
    file = path if storage == "ros1" else next(path.glob("*.mcap"))
    data = file.read_bytes()
    file.write_bytes(data[: int(len(data) * 0.9)])
    log = RosbagLog(path, announce=lambda _: None)
    frames = list(log.frames())
    assert len(frames) == 4
    assert log.report.counts() == {"truncated": 1}
    (note,) = log.report.skipped
    assert note.kept and "recovered 19 messages" in note.reason
    assert np.array_equal(frames[0].lidar().xyz_m[:, 1:], np.zeros((2, 2), dtype=np.float32))


@pytest.mark.parametrize("storage", ["ros1", "mcap"])
def test_a_salvaged_bags_connections_count_the_messages_recovered(
    tmp_path: Path, storage: str
) -> None:
    """Like ``rosbags``' connections, a salvaged bag's carry ``msgcount`` (the messages
    recovered); the unused-topics list counts from them."""
    from drivestack.ingest.rosbag.salvage import SalvageReader

    path = tmp_path / ("drive.bag" if storage == "ros1" else "drive")
    write_drive(path, storage=storage)
    file = path if storage == "ros1" else next(path.glob("*.mcap"))
    data = file.read_bytes()
    file.write_bytes(data[: int(len(data) * 0.9)])
    reader = SalvageReader(file)
    recovered = Counter(conn.id for conn, _, _ in reader.messages())
    assert [c.msgcount for c in reader.connections] == [recovered[c.id] for c in reader.connections]
    assert sum(c.msgcount for c in reader.connections) == reader.num_messages == 19
    per_topic: Counter[str] = Counter()
    for c in reader.connections:
        per_topic[c.topic] += c.msgcount
    cfg = RosbagConfig(topics=TopicMap(lidars={"points": "/points"}, odometry="/odom"))
    unused = RosbagLog(path, cfg, announce=lambda _: None).report.unused_topics
    assert [u["topic"] for u in unused] == ["/cam/camera_info", "/cam/image_raw"]
    assert all(u["messages"] == per_topic[u["topic"]] for u in unused)


@pytest.mark.parametrize("compression", ["bz2", "lz4"])
def test_truncated_compressed_ros1_bag_keeps_complete_chunks(
    tmp_path: Path, compression: str
) -> None:
    path = tmp_path / "drive.bag"
    write_drive(path, storage="ros1", ros1_compression=compression, ros1_chunk_bytes=200)
    intact = RosbagLog(path, announce=lambda _: None)
    all_frames = list(intact.frames())
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * 0.6)])
    log = RosbagLog(path, announce=lambda _: None)
    frames = list(log.frames())
    assert 1 <= len(frames) < len(all_frames) == 4
    assert [f.timestamp_ns for f in frames] == [f.timestamp_ns for f in all_frames[: len(frames)]]
    assert log.report.counts() == {"truncated": 1}
    assert "read front to back, stopped: incomplete" in log.report.skipped[0].reason


def test_truncated_db3_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "drive"
    write_drive(path)
    db3 = next(path.glob("*.db3"))
    data = db3.read_bytes()
    db3.write_bytes(data[: len(data) // 2])
    with pytest.raises(DataError, match=r"drive: cannot open bag: .*malformed"):
        RosbagLog(path, announce=lambda _: None)


def test_topic_map_from_yaml_is_strict(tmp_path: Path) -> None:
    good = tmp_path / "good.yaml"
    good.write_text(
        "topics:\n  lidars: {top: /points}\n  cameras: {front: {image: /cam/image_raw}}\nego_frame: base_link\n"
    )
    cfg = load_rosbag_config(good)
    assert cfg.topics.lidars == {"top": "/points"}
    empty = tmp_path / "empty.yaml"
    empty.write_text("{}\n")
    assert load_rosbag_config(empty).topics.is_empty  # -> guessed from the bag
    empty.write_text("# nothing\n")  # an empty file is a mistake, not "every default"
    with pytest.raises(DataError, match="empty config"):
        load_rosbag_config(empty)
    assert cfg.topics.cameras["front"] == CameraTopics("/cam/image_raw", None)
    bad = tmp_path / "bad.yaml"
    bad.write_text("topics:\n  lidars: {top: /points}\n  camras: {}\n")
    with pytest.raises(DataError, match=r"bad.yaml: field topics.camras: unknown key"):
        load_rosbag_config(bad)
    path = tmp_path / "drive"
    write_drive(path)
    with pytest.raises(
        DataError, match="topic '/velodyne_points' from the topic map is not in the bag"
    ):
        RosbagLog(path, RosbagConfig(topics=TopicMap(lidars={"top": "/velodyne_points"})))


def test_relative_velodyne_calibration_is_taken_from_the_config_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import shutil

    import velodyne_decoder

    folder = tmp_path / "configs"
    folder.mkdir()
    config = folder / "bag.yaml"
    absolute = tmp_path / "tables" / "VLP32.yaml"
    # the tables are checked when the config is loaded: they must exist
    bundled = Path(velodyne_decoder.__file__).parent / "calibrations"
    for table, name in ((folder / "cal" / "VLP16.yaml", "VLP-16.yml"), (absolute, "VLP-32C.yml")):
        table.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(bundled / name, table)
    config.write_text(
        "velodyne:\n  top: {calibration: cal/VLP16.yaml}\n"
        f"  side: {{calibration: {absolute}}}\n  rear: {{model: VLP16}}\n"
    )
    monkeypatch.chdir(tmp_path)  # not from the working directory
    cfg = load_rosbag_config(Path("configs") / "bag.yaml")
    assert cfg.velodyne["top"].calibration == Path("configs") / "cal" / "VLP16.yaml"
    assert cfg.velodyne["side"].calibration == absolute
    assert cfg.velodyne["rear"].calibration is None


def _replay_drive(tmp_path: Path, rosbag_config: RosbagConfig) -> dict[str, Any]:
    """The summary of replaying a written drive (:func:`write_drive`) through the default
    stack with ``rosbag_config``."""
    from drivestack.pipeline import build_stack
    from drivestack.replay.runner import replay

    path = tmp_path / "drive"
    write_drive(path)
    repo = Path(__file__).resolve().parents[3]
    return replay(
        path,
        build_stack(repo / "configs/stack/default.yaml"),
        tmp_path / "run.mcap",
        progress=False,
        io_worker="thread",
        rosbag_config=rosbag_config,
        announce=lambda _: None,
    )


def test_a_replay_of_no_frame_says_what_became_of_the_lidar_messages(tmp_path: Path) -> None:
    summary = _replay_drive(tmp_path, RosbagConfig(ego_frame="wrong"))
    assert summary["frames_processed"] == 0 and not summary["clean"]
    (note,) = [s["reason"] for s in summary["skipped"]]
    assert note == (
        "no frame replayed: 4 LiDAR messages read, all dropped (missing_tf: 4; see the summary "
        "JSON's ingest report)"
    )


def test_unused_topics_are_listed(tmp_path: Path) -> None:
    path = tmp_path / "drive"
    write_drive(path)
    cfg = RosbagConfig(topics=TopicMap(lidars={"points": "/points"}, odometry="/odom"))
    log = RosbagLog(path, cfg, announce=lambda _: None)
    assert len(list(log.frames())) == 4
    assert log.report.lidar_topics == ["/points"]
    assert log.report.unused_topics == [
        {"topic": "/cam/camera_info", "type": INFO, "messages": 1},
        {"topic": "/cam/image_raw", "type": IMG, "messages": 4},
    ]
    guessed = RosbagLog(path, announce=lambda _: None)
    assert guessed.report.unused_topics == []


def test_a_truncated_mcap_without_readable_topics_says_it_breaks_off(tmp_path: Path) -> None:
    path = tmp_path / "drive"
    write_drive(path, storage="mcap")
    file = next(path.glob("*.mcap"))
    data = file.read_bytes()
    file.write_bytes(data[:200])
    with pytest.raises(DataError, match="cannot guess a topic map") as raised:
        RosbagLog(path, announce=lambda _: None)
    message = str(raised.value)
    assert "\n" not in message
    assert "the file breaks off (" in message and "at byte" in message
    # the truncation first: nothing of a cut single chunk is readable, so no topic either
    assert message.startswith(f"{path}: truncated: the file breaks off (")
    assert "0 messages readable before the cut; cannot guess a topic map" in message


def test_a_bad_or_missing_metadata_yaml_is_one_line_naming_it(tmp_path: Path) -> None:
    path = tmp_path / "drive"
    write_drive(path)
    meta = path / "metadata.yaml"
    text = meta.read_text().splitlines()
    text[2] = text[2] + " [sqlite3: {"
    meta.write_text("\n".join(text))
    with pytest.raises(DataError) as raised:
        RosbagLog(path, announce=lambda _: None)
    message = str(raised.value)
    assert "\n" not in message and message.startswith(f"{meta}: cannot open bag: invalid YAML")
    assert "at line " in message and ", column " in message
    meta.unlink()
    with pytest.raises(DataError) as raised:
        RosbagLog(path, announce=lambda _: None)
    message = str(raised.value)
    assert "\n" not in message and message.startswith(f"{meta}: cannot open bag: missing")


def test_a_skip_line_names_the_frame_source_once(tmp_path: Path) -> None:
    from drivestack.replay.runner import summary_lines

    summary = _replay_drive(tmp_path, RosbagConfig(topics=TopicMap(lidars={"points": "/points"})))
    frames = [s for s in summary["skipped"] if s["timestamp_ns"] != -1]
    assert len(frames) == 4 and all("world_from_ego" in s["reason"] for s in frames)
    # the four frames share their reason: one line with the count, naming the first and the
    # last frame's source once each (the summary JSON keeps every entry)
    (line,) = [line for line in summary_lines(summary) if "skipped 4 frames, t=" in line]
    assert line.count(frames[0]["source"]) == 1 and line.count(frames[-1]["source"]) == 1, line
    assert "bag topics not read: /cam/camera_info" in "\n".join(summary_lines(summary))


@pytest.mark.parametrize("compression", ["bz2", "lz4"])
def test_a_salvaged_chunk_decompresses_no_more_than_it_declares(
    tmp_path: Path, compression: str
) -> None:
    # a chunk was decompressed whole whatever its size field said: a few kB of bz2 can
    # expand to gigabytes before any check
    path = tmp_path / "drive.bag"
    write_drive(path, storage="ros1", ros1_compression=compression, ros1_chunk_bytes=200)
    data = bytearray(path.read_bytes())
    at = data.find(b"size=") + len(b"size=")  # the first chunk's uncompressed size
    data[at : at + 4] = (10).to_bytes(4, "little")
    path.write_bytes(bytes(data[: int(len(data) * 0.6)]))  # no index: read front to back
    with pytest.raises(DataError) as err:  # the first chunk holds the connections
        RosbagLog(path, announce=lambda _: None)
    assert f"({compression} chunk holds more than the 10 bytes it declares in the chunk at " in (
        str(err.value)
    )
