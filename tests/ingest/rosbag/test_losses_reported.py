"""Nothing is lost silently: what the ROS bag readers drop or repair is in the ingest report
(``report.clean`` False, a kind per loss) or, for a bag that yields no frame at all, announced.

Each case was silent before: a default-config bag without TF gave ``[]`` with only the topic
map printed; a VelodyneScan whose every third packet is random bytes lost a third of its
points (9 820 of 14 845) with a clean report; an Ouster packet with random column headers
added points; a repeated header stamp made two frames at one time; a dropped NaN point of a
cloud claiming ``is_dense`` left ``report.clean`` True; a ``velodyne`` entry naming no LiDAR
was ignored. What is normal stays clean: the NaN "no return" points of ``is_dense = false``
clouds (counted only) and a CameraInfo repeating its stamp.
"""

from __future__ import annotations

import copy
import dataclasses
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from scipy.spatial import cKDTree

from drivestack.core.errors import DataError
from drivestack.core.transforms import SE3
from drivestack.ingest.rosbag.bag_io import IngestReport, default_typestore
from drivestack.ingest.rosbag.reader import RosbagLog
from drivestack.ingest.rosbag.topic_map import CameraTopics, RosbagConfig, TopicMap
from drivestack.ingest.rosbag.velodyne import (
    VELODYNE_SCAN,
    VelodyneConfig,
    corrupt_packet_mask,
    read_velodyne_bag,
)
from drivestack.ingest.rosbag.writer import (
    BagWriter,
    header,
    pointcloud2_message,
    tf_message,
    transform_stamped,
)

PC2 = "sensor_msgs/msg/PointCloud2"
TF = "tf2_msgs/msg/TFMessage"
T0 = 1_700_000_000_000_000_000
SWEEP_NS = 100_000_000


def vlp16_bag(shared_data: Path) -> Path:
    return shared_data / "ros_bags/nebula_velodyne_ros2/vlp16/1673400471837873222"


def read_scans(bag: Path) -> list[tuple[str, int, Any]]:
    from rosbags.highlevel import AnyReader

    with AnyReader([bag], default_typestore=default_typestore()) as reader:
        return [(c.topic, t, reader.deserialize(raw, c.msgtype)) for c, t, raw in reader.messages()]


def write_scans(path: Path, scans: list[tuple[str, int, Any]]) -> Path:
    from rosbags.rosbag2 import StoragePlugin, Writer

    store = default_typestore()
    with Writer(path, version=9, storage_plugin=StoragePlugin.MCAP) as writer:
        conn = writer.add_connection(scans[0][0], VELODYNE_SCAN, typestore=store)
        for _, t, msg in scans:
            writer.write(conn, t, bytes(store.serialize_cdr(msg, VELODYNE_SCAN)))
    return path


# -- a bag that yields no frame -----------------------------------------------------------------
@pytest.mark.data
def test_a_default_config_bag_without_tf_says_why_it_gives_no_frame(shared_data: Path) -> None:
    said: list[str] = []
    log = RosbagLog(vlp16_bag(shared_data), RosbagConfig(), announce=said.append)
    assert list(log.frames()) == []
    topic_map, why = said  # before: only the topic map
    assert "lidar  velodyne_packets" in topic_map
    assert ": no frames: 4 messages on /velodyne_packets made none (missing_tf: 4;" in why
    assert "ego_frame velodyne" in why and "RosbagLog.report" in why
    assert log.report.counts() == {"missing_tf": 4} and not log.report.clean


@pytest.mark.data
def test_a_bag_with_frames_announces_nothing_more(shared_data: Path) -> None:
    said: list[str] = []
    log = RosbagLog(
        vlp16_bag(shared_data), RosbagConfig(ego_frame="velodyne"), announce=said.append
    )
    assert len(list(log.frames())) == 4
    assert len(said) == 1  # the guessed topic map


# -- Velodyne --------------------------------------------------------------------------------
def test_corrupt_packet_mask_by_hand() -> None:
    good = np.zeros((1, 1206), dtype=np.uint8)
    blocks = good[0, :1200].reshape(12, 100)
    blocks[:, 0], blocks[:, 1] = 0xFF, 0xEE  # block flag 0xEEFF
    blocks[:, 2], blocks[:, 3] = 0x28, 0x23  # azimuth 0x2328 = 9000 = 90.00 deg
    bad_flag, bad_azimuth = good.copy(), good.copy()
    bad_flag[0, 700] = 0x00  # block 7's flag
    bad_azimuth[0, 1102:1104] = [0xA0, 0x8C]  # block 11: 0x8CA0 = 36000
    data = np.concatenate([good, bad_flag, bad_azimuth])
    assert corrupt_packet_mask(data).tolist() == [False, True, True]


@pytest.mark.data
def test_corrupt_velodyne_packets_are_dropped_and_reported(
    shared_data: Path, tmp_path: Path
) -> None:
    scans = read_scans(vlp16_bag(shared_data))
    rng = np.random.default_rng(0)
    broken = copy.deepcopy(scans[1][2])
    for packet in broken.packets[::3]:
        packet.data[:1200] = rng.integers(0, 256, 1200, dtype=np.uint8)
    n_packets, n_bad = len(broken.packets), len(broken.packets[::3])
    bag = write_scans(tmp_path / "garbled", [scans[0], (scans[1][0], scans[1][1], broken)])
    report = IngestReport(str(bag))
    clean, garbled = list(read_velodyne_bag(bag, VelodyneConfig(), report=report))
    assert not report.clean
    (entry,) = report.skipped
    assert (entry.kind, entry.index, entry.kept) == ("corrupt_packets", 1, True)
    assert entry.reason.startswith(f"{n_bad} of {n_packets} packets corrupt")
    reference = list(read_velodyne_bag(vlp16_bag(shared_data), VelodyneConfig()))[1]
    assert len(reference) == 14845 and len(garbled) == 9820
    # what is kept is the intact packets' points, unchanged
    distance, _ = cKDTree(reference.xyz_m).query(garbled.xyz_m)
    assert distance.max() == 0.0
    assert len(clean) == 14885


@pytest.mark.data
def test_a_velodyne_entry_naming_no_lidar_is_reported(shared_data: Path) -> None:
    said: list[str] = []
    config = RosbagConfig(ego_frame="velodyne", velodyne={"top": VelodyneConfig(model="VLP32C")})
    log = RosbagLog(vlp16_bag(shared_data), config, announce=said.append)
    assert len(list(log.frames())) == 4
    assert not log.report.clean
    (entry,) = [s for s in log.report.skipped if s.kind == "unused_config"]
    assert entry.topic == "<config>"
    assert entry.reason == (
        "velodyne.top names no LiDAR of the topic map (Velodyne LiDARs: ['velodyne_packets']);"
        " its settings are not used"
    )
    assert any(entry.reason in line for line in said)


# -- PointCloud2: repeated stamps, NaN points -------------------------------------------------
def write_sweeps(
    path: Path,
    stamps_ns: list[int],
    xyz: np.ndarray,
    *,
    is_dense: bool | None = None,
    world_pose: bool = False,
    log_times_ns: list[int] | None = None,
) -> None:
    """Sweeps of ``xyz``; ``is_dense`` overrides the flag (default: whether all are finite);
    ``world_pose``: a static ``map -> lidar`` transform too (frames with an ego pose);
    ``log_times_ns``: the messages' log times (default: their stamps)."""
    with BagWriter(path, "mcap") as w:
        if world_pose:
            mount = transform_stamped(w.typestore, T0, "map", "lidar", SE3.identity())
            w.write("/tf_static", TF, T0, tf_message(w.typestore, [mount]))
        for stamp, log_ns in zip(stamps_ns, log_times_ns or stamps_ns, strict=True):
            msg = pointcloud2_message(w.typestore, xyz, {}, frame_id="lidar", stamp_ns=stamp)
            if is_dense is not None:
                msg = dataclasses.replace(msg, is_dense=is_dense)
            w.write("/points", PC2, log_ns, msg)


def lidar_frame_log(path: Path) -> RosbagLog:
    topics = TopicMap(lidars={"points": "/points"})
    return RosbagLog(path, RosbagConfig(topics=topics, ego_frame="lidar"), announce=print)


def test_a_repeated_header_stamp_is_skipped_and_reported(tmp_path: Path) -> None:
    stamps = [T0, T0 + SWEEP_NS, T0 + SWEEP_NS, T0 + 2 * SWEEP_NS]
    write_sweeps(tmp_path / "bag", stamps, np.ones((3, 3), dtype=np.float32))
    log = lidar_frame_log(tmp_path / "bag")
    frames = list(log.frames())
    assert [f.timestamp_ns - T0 for f in frames] == [0, SWEEP_NS, 2 * SWEEP_NS]
    (entry,) = [s for s in log.report.skipped if s.kind == "time_repeated"]
    assert (entry.topic, entry.index, entry.timestamp_ns) == ("/points", 2, T0 + SWEEP_NS)
    assert not log.report.clean


def clock_log(
    tmp_path: Path, stamp_shift_ns: Any, log_shift_ns: Any = lambda k: 0, n: int = 8
) -> tuple[list[int], RosbagLog]:
    """``n`` sweeps 100 ms apart, sweep ``k`` stamped ``stamp_shift_ns(k)`` off and logged
    ``log_shift_ns(k)`` late; their stamps and the bag's log."""
    log_times = [T0 + k * SWEEP_NS + log_shift_ns(k) for k in range(n)]
    stamps = [T0 + k * SWEEP_NS + stamp_shift_ns(k) for k in range(n)]
    write_sweeps(
        tmp_path / "bag", stamps, np.ones((3, 3), dtype=np.float32), log_times_ns=log_times
    )
    return stamps, lidar_frame_log(tmp_path / "bag")


def test_one_stamp_glitched_ahead_costs_that_sweep_only(tmp_path: Path) -> None:
    # sweep 3's stamp is 10 s ahead of its log time: it used to become the topic's clock, and
    # every later sweep was skipped as going backwards
    _, log = clock_log(tmp_path, lambda k: 10_000_000_000 if k == 3 else 0)
    frames = [f.timestamp_ns - T0 for f in log.frames()]
    assert frames == [k * SWEEP_NS for k in range(8) if k != 3]
    (entry,) = [e for e in log.report.skipped if e.kind.startswith("time_")]
    assert (entry.kind, entry.topic, entry.index) == ("time_jump", "/points", 3)
    assert "+10.000 s off its topic's clock" in entry.reason  # ahead of it
    assert not log.report.clean


def test_a_clock_that_jumps_is_followed_from_its_second_message(tmp_path: Path) -> None:
    # the sensor's clock steps ahead 5 s for good after sweep 3: one sweep is lost (the first
    # at the new offset could have been a glitch), the rest are read on the new clock
    stamps, log = clock_log(tmp_path, lambda k: 5_000_000_000 if k >= 4 else 0)
    assert [f.timestamp_ns for f in log.frames()] == [stamps[k] for k in (0, 1, 2, 3, 5, 6, 7)]
    times = [(s.kind, s.index) for s in log.report.skipped if s.kind.startswith("time_")]
    assert times == [("time_jump", 4)]


def test_a_clock_that_steps_back_never_gives_frames_out_of_order(tmp_path: Path) -> None:
    # the sensor's clock steps back 5 s for good after sweep 3: the sweeps after it used to be
    # given on the new clock, 5 s before the frames already given (the stack then refused
    # each one); every one of them is skipped and reported, and the frames stay in order
    stamps, log = clock_log(tmp_path, lambda k: -5_000_000_000 if k >= 4 else 0)
    assert [f.timestamp_ns for f in log.frames()] == stamps[:4]
    times = [(s.kind, s.index) for s in log.report.skipped if s.kind.startswith("time_")]
    assert [index for _, index in times] == [4, 5, 6, 7]
    assert {kind for kind, _ in times} == {"time_jump", "time_backwards"}


def test_a_first_stamp_glitched_ahead_costs_that_sweep_only(tmp_path: Path) -> None:
    # sweep 0's stamp 5 s ahead used to become the topic's clock: the next sweep was skipped
    # as a jump, and the rest were given 5 s before it, out of order (38 of 40 frames then
    # refused by the stack); the clock is now settled on the first two sweeps that agree
    stamps, log = clock_log(tmp_path, lambda k: 5_000_000_000 if k == 0 else 0)
    assert [f.timestamp_ns for f in log.frames()] == stamps[1:]
    (entry,) = [e for e in log.report.skipped if e.kind.startswith("time_")]
    assert (entry.kind, entry.topic, entry.index) == ("time_jump", "/points", 0)


def test_sweeps_logged_late_are_skipped_not_given_out_of_order(tmp_path: Path) -> None:
    # a recorder stall: sweeps 2 and 3 logged 1.2 s late with their right stamps, after
    # sweep 7 in log order; sweep 3 used to be taken as the clock jumping and given after
    # sweep 7, out of order
    stamps, log = clock_log(tmp_path, lambda k: 0, lambda k: 1_200_000_000 if k in (2, 3) else 0)
    assert [f.timestamp_ns for f in log.frames()] == [stamps[k] for k in (0, 1, 4, 5, 6, 7)]
    # (indices count the topic's messages in log order: sweeps 2 and 3 are read 7th and 8th)
    times = sorted((s.index, s.kind) for s in log.report.skipped if s.kind.startswith("time_"))
    assert times == [(6, "time_jump"), (7, "time_backwards")]


def test_a_corrupt_record_in_one_ros1_chunk_costs_that_chunk_only(tmp_path: Path) -> None:
    # sweep 4's record header claims 4 GB: the read used to end there ("bag ends early"),
    # losing the chunks after it although the bag's index is intact
    import struct

    from rosbags.rosbag1 import Reader

    bag = tmp_path / "cut.bag"
    xyz = np.ones((50, 3), dtype=np.float32)
    with BagWriter(bag, "ros1", ros1_chunk_bytes=1) as w:
        mount = transform_stamped(w.typestore, T0, "map", "lidar", SE3.identity())
        for k in range(8):
            t = T0 + k * SWEEP_NS
            w.write("/tf", TF, t, tf_message(w.typestore, [dataclasses.replace(mount)]))
            cloud = pointcloud2_message(w.typestore, xyz, {}, frame_id="lidar", stamp_ns=t)
            w.write("/points", PC2, t, cloud)
    with Reader(bag) as r:  # a chunk a record (ros1_chunk_bytes=1): sweep 4's
        (points,) = [c.id for c in r.connections if c.topic == "/points"]
        (chunk,) = [
            c
            for c in r.chunk_infos
            if c.start_time == T0 + 4 * SWEEP_NS and points in c.connection_counts
        ]
    data = bytearray(bag.read_bytes())
    (header_len,) = struct.unpack_from("<I", data, chunk.pos)
    first_record = chunk.pos + 4 + header_len + 4  # the chunk's data: its first record
    struct.pack_into("<I", data, first_record, 0xFFFFFF00)
    bag.write_bytes(bytes(data))
    log = lidar_frame_log(bag)
    frames = [(f.timestamp_ns - T0) // SWEEP_NS for f in log.frames()]
    assert frames == [0, 1, 2, 3, 5, 6, 7]
    assert log.report.messages_read == {"/tf": 8, "/points": 7}
    (entry,) = [e for e in log.report.skipped if e.kind == "corrupt_chunk"]
    assert (entry.topic, entry.index, entry.timestamp_ns) == ("<bag>", chunk.pos, T0 + 4 * SWEEP_NS)
    assert (
        f"chunk at byte {chunk.pos}" in entry.reason and "reading on from the next" in entry.reason
    )
    assert not [e for e in log.report.skipped if e.kind == "truncated"]


def test_a_repeated_camera_info_stamp_is_not_skipped(tmp_path: Path) -> None:
    """A CameraInfo published with a fixed stamp (``rostopic pub ... camera_info``: stamp 0)
    is not a duplicated sensor message; the images beside it are checked as before."""
    info_type, image_type = "sensor_msgs/msg/CameraInfo", "sensor_msgs/msg/Image"
    with BagWriter(tmp_path / "bag", "mcap") as w:
        t = w.typestore.types
        info = t[info_type](
            header=header(w.typestore, 0, "lidar"),
            height=4,
            width=6,
            distortion_model="plumb_bob",
            d=np.zeros(5),
            k=np.array([100.0, 0, 3, 0, 100.0, 2, 0, 0, 1]),
            r=np.eye(3).reshape(-1),
            p=np.zeros(12),
            binning_x=0,
            binning_y=0,
            roi=t["sensor_msgs/msg/RegionOfInterest"](
                x_offset=0, y_offset=0, height=0, width=0, do_rectify=False
            ),
        )
        xyz = np.ones((3, 3), dtype=np.float32)
        image_stamps = [T0, T0 + SWEEP_NS, T0 + SWEEP_NS]  # the last one repeats
        for k, stamp in enumerate(image_stamps):
            w.write("/cam/camera_info", info_type, T0 + k * SWEEP_NS, info)
            cloud = pointcloud2_message(w.typestore, xyz, {}, frame_id="lidar", stamp_ns=stamp)
            w.write("/points", PC2, T0 + k * SWEEP_NS, cloud)
            image = t[image_type](
                header=header(w.typestore, stamp, "lidar"),
                height=4,
                width=6,
                encoding="mono8",
                is_bigendian=0,
                step=6,
                data=np.zeros(24, dtype=np.uint8),
            )
            w.write("/cam/image_raw", image_type, T0 + k * SWEEP_NS + 1, image)
    topics = TopicMap(
        lidars={"points": "/points"},
        cameras={"cam": CameraTopics("/cam/image_raw", "/cam/camera_info")},
    )
    log = RosbagLog(tmp_path / "bag", RosbagConfig(topics=topics, ego_frame="lidar"))
    frames = list(log.frames())
    assert [sorted(f.cameras) for f in frames] == [["cam"], ["cam"]]
    assert log.report.messages_read["/cam/camera_info"] == 3
    assert not [s for s in log.report.skipped if s.topic == "/cam/camera_info"]
    repeated = [(s.topic, s.index) for s in log.report.skipped if s.kind == "time_repeated"]
    assert repeated == [("/points", 2), ("/cam/image_raw", 2)]


def test_dropped_nan_points_of_a_cloud_claiming_is_dense_make_the_report_unclean(
    tmp_path: Path,
) -> None:
    xyz = np.arange(15, dtype=np.float32).reshape(5, 3)
    xyz[2, 1] = np.nan
    write_sweeps(tmp_path / "bag", [T0, T0 + SWEEP_NS], xyz, is_dense=True, world_pose=True)
    log = lidar_frame_log(tmp_path / "bag")
    frames = list(log.frames())
    assert [len(f.lidar()) for f in frames] == [4, 4]
    assert log.report.nonfinite_points_dropped == 2 and not log.report.clean
    assert log.report.counts() == {"nonfinite_points": 1}
    (entry,) = [s for s in log.report.skipped if s.kind == "nonfinite_points"]
    assert (entry.topic, entry.index, entry.timestamp_ns, entry.kept) == ("/points", 0, T0, True)
    assert entry.reason.startswith("2 non-finite points (NaN / inf coordinates) dropped from 2")
    assert "dropped 2 non-finite points" in log.report.summary()


def test_nan_no_return_points_of_an_is_dense_false_cloud_are_counted_but_clean(
    tmp_path: Path,
) -> None:
    xyz = np.arange(15, dtype=np.float32).reshape(5, 3)
    xyz[2, 1] = np.nan
    write_sweeps(tmp_path / "bag", [T0, T0 + SWEEP_NS], xyz, is_dense=False, world_pose=True)
    log = lidar_frame_log(tmp_path / "bag")
    frames = list(log.frames())
    assert [len(f.lidar()) for f in frames] == [4, 4]
    assert log.report.nonfinite_points_dropped == 2
    assert log.report.clean and log.report.skipped == []
    assert "dropped 2 non-finite points" in log.report.summary()


# -- Ouster ----------------------------------------------------------------------------------
@pytest.mark.data
def test_an_ouster_packet_with_garbled_column_headers_is_reported(
    shared_data: Path, tmp_path: Path
) -> None:
    """Packet 4 with bytes 96..1996 random (its 2nd..4th column headers): before, the frame
    gained 114 points (28 865 instead of 28 751) with a clean report."""
    pytest.importorskip("ouster.sdk")
    from rosbags.rosbag1 import Reader, Writer

    from drivestack.ingest.rosbag.ouster import read_ouster_bag

    source = shared_data / "ros_bags/ouster_ros1/512x10_raw.bag"
    bag = tmp_path / "garbled.bag"
    rng = np.random.default_rng(1)
    with Reader(source) as reader, Writer(bag) as writer:
        conns: dict[str, Any] = {}
        packets = 0
        for c, t, raw in reader.messages():
            if c.topic not in conns:
                conns[c.topic] = writer.add_connection(
                    c.topic, c.msgtype, msgdef=c.msgdef.data, md5sum=c.digest
                )
            if c.topic.endswith("lidar_packets"):
                packets += 1
                if packets == 5:  # 4 bytes of array length, then the packet
                    raw = (
                        raw[:100]
                        + rng.integers(0, 256, 1900, dtype=np.uint8).tobytes()
                        + raw[2000:]
                    )
            writer.write(conns[c.topic], t, raw)
    report = IngestReport(str(bag))
    assert list(read_ouster_bag(bag, report=report)) == []  # the frame misses 16 columns
    assert report.counts() == {"decode": 1, "partial_frame": 1}
    decode = next(s for s in report.skipped if s.kind == "decode")
    assert decode.index == 4
    assert decode.reason.startswith("corrupt lidar packet: column measurement ids [64, ")
    said: list[str] = []
    log = RosbagLog(bag, RosbagConfig(ego_frame="os_sensor"), announce=said.append)
    assert list(log.frames()) == []
    assert "made none (decode: 1, partial_frame: 1; the first: " in said[-1]


# -- truncated MCAP ----------------------------------------------------------------------------
def test_a_cut_single_chunk_mcap_says_truncated_first_with_a_topic_map_too(
    tmp_path: Path,
) -> None:
    write_sweeps(tmp_path / "bag", [T0, T0 + SWEEP_NS], np.ones((3, 3), dtype=np.float32))
    file = next((tmp_path / "bag").glob("*.mcap"))
    file.write_bytes(file.read_bytes()[:300])
    with pytest.raises(DataError) as raised:
        lidar_frame_log(tmp_path / "bag")
    error = raised.value
    assert (error.path, error.field) == (str(tmp_path / "bag"), "topics.lidars.points")
    assert error.reason.startswith("truncated: the file breaks off (")
    assert "0 messages readable before the cut; topic '/points' from the topic map" in error.reason
