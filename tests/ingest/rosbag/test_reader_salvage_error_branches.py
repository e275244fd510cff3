"""Untested error and edge branches of the bag reader (``RosbagLog``) and the front-to-back
salvage of cut-short bags (``SalvageReader``), found by a coverage run."""

from __future__ import annotations

import copy
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from rosbags.rosbag1 import Reader as Ros1Reader

from drivestack.core.errors import ConfigError, DataError
from drivestack.core.transforms import SE3
from drivestack.ingest.rosbag import bag_io
from drivestack.ingest.rosbag.reader import RosbagLog
from drivestack.ingest.rosbag.salvage import MAX_CHUNK_BYTES, SalvageReader
from drivestack.ingest.rosbag.tf_buffer import TransformLookupError
from drivestack.ingest.rosbag.topic_map import CameraTopics, RosbagConfig, TopicMap
from drivestack.ingest.rosbag.velodyne import VELODYNE_SCAN, VelodyneConfig
from drivestack.ingest.rosbag.writer import (
    BagWriter,
    header,
    pointcloud2_message,
    tf_message,
    transform_stamped,
)
from tests.ingest.rosbag.test_reader import ODOM, PC2, SWEEP_NS, T0, TF, odometry, write_drive
from tests.ingest.rosbag.test_reader_review_fixes import IMG, INFO, MS, camera_info, image

XYZ = np.array([[20.0, 0.0, 0.0], [21.0, 1.0, 0.5]], dtype=np.float32)


def quiet(_: str) -> None:
    """An ``announce`` that says nothing."""


def write_sweeps_with_times(
    path: Path,
    *,
    offsets_ns: tuple[int, int] = (0, SWEEP_NS // 2),
    odometry_at_ns: tuple[int, ...] = (),
    second_lidar: bool = False,
    sweeps: int = 3,
) -> None:
    """``sweeps`` sweeps of :data:`XYZ` 100 ms apart on ``/points`` (frame ``lidar``, 1.5 m
    ahead of ``base_link``) whose two points carry per-point times ``offsets_ns``; odometry of
    ``base_link`` (10 m/s along x) at ``odometry_at_ns`` (from T0); the same sweeps on
    ``/points_b`` with ``second_lidar``."""
    with BagWriter(path, "mcap") as w:
        ts = w.typestore
        mount = transform_stamped(ts, T0, "base_link", "lidar", SE3.from_xyz_yaw([1.5, 0, 0], 0))
        w.write("/tf_static", TF, T0, tf_message(ts, [mount]))
        for dt in odometry_at_ns:
            w.write("/odom", ODOM, T0 + dt, odometry(ts, T0 + dt, 10.0 * dt / 1e9))
        times = np.array(offsets_ns, dtype=np.uint32)
        for k in range(sweeps):
            stamp = T0 + k * SWEEP_NS
            for topic in ("/points", "/points_b") if second_lidar else ("/points",):
                msg = pointcloud2_message(ts, XYZ, {"t": times}, frame_id="lidar", stamp_ns=stamp)
                w.write(topic, PC2, stamp, msg)


def lidar_config(*, second: bool = False, odometry: bool = False, **settings: Any) -> RosbagConfig:
    lidars = {"points": "/points", **({"b": "/points_b"} if second else {})}
    topics = TopicMap(lidars=lidars, odometry="/odom" if odometry else None)
    return RosbagConfig(topics=topics, **settings)


# -- RosbagLog: small streams and the ego pose ------------------------------------------------
def test_navsatfix_messages_are_read_into_gnss(tmp_path: Path) -> None:
    """A ``navsat`` topic of the map is read into :attr:`RosbagLog.gnss`, one fix a message,
    with its frame id (without ROS 1's slash), position and covariance; nothing is reported."""
    path = tmp_path / "bag"
    with BagWriter(path, "mcap") as w:
        t = w.typestore.types
        fix = t["sensor_msgs/msg/NavSatFix"](
            header=header(w.typestore, T0, "/gps"),
            status=t["sensor_msgs/msg/NavSatStatus"](status=0, service=1),
            latitude=48.1,
            longitude=11.5,
            altitude=520.0,
            position_covariance=np.arange(9, dtype=np.float64),
            position_covariance_type=2,
        )
        w.write("/fix", "sensor_msgs/msg/NavSatFix", T0, fix)
        cloud = pointcloud2_message(w.typestore, XYZ, {}, frame_id="lidar", stamp_ns=T0)
        w.write("/points", PC2, T0, cloud)
    topics = TopicMap(lidars={"points": "/points"}, navsat="/fix")
    log = RosbagLog(path, RosbagConfig(topics=topics, ego_frame="lidar"), announce=quiet)
    (gnss,) = log.gnss
    assert (gnss.frame, gnss.latitude_deg, gnss.longitude_deg) == ("gps", 48.1, 11.5)
    assert (gnss.altitude_m, gnss.status, gnss.timestamp_ns) == (520.0, 0, T0)
    assert np.array_equal(gnss.position_covariance_m2, np.arange(9.0).reshape(3, 3))
    assert log.report.clean


def test_a_configured_world_frame_is_the_log_world_frame(tmp_path: Path) -> None:
    """``config.world_frame`` is the world frame, before the odometry's frame."""
    path = tmp_path / "drive"
    write_drive(path, storage="mcap")
    assert RosbagLog(path, announce=quiet).world_frame == "odom"
    log = RosbagLog(path, RosbagConfig(world_frame="map"), announce=quiet)
    assert log.world_frame == "map"


def test_a_configured_world_frame_the_bag_lacks_gives_no_odometry_pose(tmp_path: Path) -> None:
    """With ``world_frame: map`` and odometry in ``odom`` (no TF places either in the other),
    the ego pose in ``map`` is unknown: a lookup error naming ``map`` and the odometry's frame
    (the pose in ``odom`` was given as if it were in ``map``), and no ego pose source."""
    path = tmp_path / "drive"
    write_drive(path, storage="mcap")
    log = RosbagLog(path, RosbagConfig(world_frame="map"), announce=quiet)
    with pytest.raises(TransformLookupError, match="not in the configured world_frame 'map'"):
        log.world_from_ego(np.int64(T0 + SWEEP_NS))
    assert not log.has_ego_pose_source
    same = RosbagLog(path, RosbagConfig(world_frame="odom"), announce=quiet)
    assert same.has_ego_pose_source  # the odometry's own frame configured: it is used


def test_odometry_of_the_ego_frame_is_an_ego_pose_source(tmp_path: Path) -> None:
    """Odometry whose child is the ego frame is a source of the ego pose, with no TF."""
    path = tmp_path / "drive"
    write_drive(path, storage="mcap")
    assert RosbagLog(path, announce=quiet).has_ego_pose_source
    log = RosbagLog(path, RosbagConfig(ego_frame="lidar"), announce=quiet)
    assert not log.has_ego_pose_source  # odometry of base_link; TF has lidar under base_link


def test_a_sweep_in_a_gap_of_the_odometry_is_an_ego_pose_gap(tmp_path: Path) -> None:
    """A sweep inside a gap of the ego frame's odometry longer than ``tf_max_gap_ns`` is kept
    without ``world_from_ego`` and reported as ``ego_pose_gap`` (the bag has a pose source),
    not ``no_ego_pose``."""
    path = tmp_path / "bag"
    odom = (-100 * MS, -50 * MS, 0, 2000 * MS, 2050 * MS)
    write_sweeps_with_times(path, odometry_at_ns=odom)
    log = RosbagLog(path, lidar_config(odometry=True, deskew=False), announce=quiet)
    frames = list(log.frames())
    assert [f.world_from_ego is None for f in frames] == [False, True, True]
    entries = [(s.kind, s.index, s.kept) for s in log.report.skipped]
    assert entries == [("ego_pose_gap", 1, True), ("ego_pose_gap", 2, True)]
    assert "frame kept without world_from_ego" in log.report.skipped[0].reason


def test_a_sweep_whose_point_times_leave_the_poses_is_kept_not_deskewed(tmp_path: Path) -> None:
    """A sweep whose ego pose is known at its stamp but not at its last point's time is kept
    as recorded, with a ``not_deskewed`` entry (kept) naming the sweep."""
    path = tmp_path / "bag"
    write_sweeps_with_times(
        path, offsets_ns=(0, 900 * MS), odometry_at_ns=tuple(k * 50 * MS for k in range(-2, 9))
    )
    log = RosbagLog(path, lidar_config(odometry=True), announce=quiet)
    frames = list(log.frames())
    assert len(frames) == 3 and all(f.world_from_ego is not None for f in frames)
    (entry,) = {(s.kind, s.topic, s.kept) for s in log.report.skipped}
    assert entry == ("not_deskewed", "/points", True)
    assert [s.index for s in log.report.skipped] == [0, 1, 2]
    assert log.report.skipped[0].reason.startswith("frame kept as recorded: ")
    assert np.array_equal(frames[0].lidar().xyz_m, XYZ)  # (in the LiDAR frame, as recorded)


def test_a_second_lidar_without_an_ego_pose_is_kept_as_recorded(tmp_path: Path) -> None:
    """A LiDAR other than the key one, with per-point times, when the bag has no ego pose:
    its sweeps are attached as recorded (not de-skewed), no error escapes."""
    path = tmp_path / "bag"
    write_sweeps_with_times(path, second_lidar=True)
    log = RosbagLog(path, lidar_config(second=True), announce=quiet)
    frames = list(log.frames())
    assert len(frames) == 3
    assert all(np.array_equal(f.lidar("b").xyz_m, XYZ) for f in frames)
    assert {s.kind for s in log.report.skipped} == {"no_ego_pose"}  # the key sweeps' frames


# -- RosbagLog: LiDAR sources -----------------------------------------------------------------
def test_invalid_ouster_metadata_is_a_data_error_naming_the_metadata_topic(
    tmp_path: Path,
) -> None:
    """Ouster packets whose metadata topic holds no sensor JSON: reading the frames raises a
    DataError naming the bag's metadata topic and the field ``metadata``."""
    from rosbags.typesys import get_types_from_msg

    path = tmp_path / "bag"
    packet = "ouster_sensor_msgs/msg/PacketMsg"
    with BagWriter(path, "mcap") as w:
        w.typestore.register(get_types_from_msg("uint8[] buf", packet))
        t = w.typestore.types
        w.write("/os/metadata", "std_msgs/msg/String", T0, t["std_msgs/msg/String"](data="{"))
        w.write("/os/lidar_packets", packet, T0, t[packet](buf=np.zeros(8, dtype=np.uint8)))
    config = RosbagConfig(topics=TopicMap(lidars={"os": "/os/lidar_packets"}))
    log = RosbagLog(path, config, announce=quiet)
    with pytest.raises(DataError, match="invalid Ouster sensor metadata") as err:
        list(log.frames())
    assert err.value.path == f"{path}:/os/metadata" and err.value.field == "metadata"


def write_velodyne_topic(path: Path) -> None:
    """One empty ``VelodyneScan`` on ``/velodyne_packets`` (ROS 2 MCAP)."""
    from rosbags.rosbag2 import StoragePlugin, Writer

    from drivestack.ingest.rosbag.bag_io import default_typestore

    store = default_typestore()
    scan = store.types[VELODYNE_SCAN](header=header(store, T0, "velodyne"), packets=[])
    with Writer(path, version=9, storage_plugin=StoragePlugin.MCAP) as writer:
        conn = writer.add_connection("/velodyne_packets", VELODYNE_SCAN, typestore=store)
        writer.write(conn, T0, bytes(store.serialize_cdr(scan, VELODYNE_SCAN)))


def test_a_velodyne_table_gone_before_the_read_is_a_config_error(tmp_path: Path) -> None:
    """A calibration table checked when the log was made but gone when its frames are read:
    a ConfigError naming the key ``velodyne.<lidar>.calibration`` and the file."""
    import velodyne_decoder

    bundled = Path(velodyne_decoder.__file__).parent / "calibrations" / "VLP-16.yml"
    table = tmp_path / "VLP16.yaml"
    shutil.copyfile(bundled, table)
    write_velodyne_topic(tmp_path / "bag")
    config = RosbagConfig(
        topics=TopicMap(lidars={"top": "/velodyne_packets"}),
        ego_frame="velodyne",
        velodyne={"top": VelodyneConfig(calibration=table)},
    )
    log = RosbagLog(tmp_path / "bag", config, announce=quiet)
    table.unlink()
    with pytest.raises(ConfigError) as err:
        list(log.frames())
    assert err.value.field == "velodyne.top.calibration"
    assert str(table) in str(err.value) and "no such file" in str(err.value)


@pytest.mark.data
def test_corrupt_velodyne_packets_are_a_kept_repair_in_the_bag_report(
    shared_data: Path, tmp_path: Path
) -> None:
    """A scan with garbled packets read through ``RosbagLog``: its frame is made from the
    intact packets and the report lists ``corrupt_packets`` (kept) at that scan."""
    from tests.ingest.rosbag.test_losses_reported import read_scans, vlp16_bag, write_scans

    scans = read_scans(vlp16_bag(shared_data))[:2]
    scans[1] = (scans[1][0], scans[1][1], copy.deepcopy(scans[1][2]))
    for packet in scans[1][2].packets[::3]:
        packet.data[:1200] = np.random.default_rng(0).integers(0, 256, 1200, dtype=np.uint8)
    bag = write_scans(tmp_path / "garbled", scans)
    log = RosbagLog(bag, RosbagConfig(ego_frame="velodyne"), announce=quiet)
    assert len(list(log.frames())) == 2
    assert log.report.counts() == {"corrupt_packets": 1, "no_ego_pose": 2}
    (entry,) = [s for s in log.report.skipped if s.kind == "corrupt_packets"]
    assert (entry.topic, entry.index, entry.kind, entry.kept) == (
        "/velodyne_packets",
        1,
        "corrupt_packets",
        True,
    )
    assert not log.report.clean


# -- RosbagLog: frames ------------------------------------------------------------------------
def test_a_key_lidar_topic_without_messages_says_so(tmp_path: Path) -> None:
    """A key LiDAR topic declared in the bag but holding no message: no frame, and the reader
    announces that no message was on that topic."""
    from rosbags.rosbag2 import StoragePlugin, Writer
    from rosbags.typesys import Stores, get_typestore

    store = get_typestore(Stores.ROS2_HUMBLE)
    path = tmp_path / "bag"
    with Writer(path, version=9, storage_plugin=StoragePlugin.MCAP) as writer:
        writer.add_connection("/points", PC2, typestore=store)
        tf = writer.add_connection("/tf_static", TF, typestore=store)
        mount = transform_stamped(store, T0, "base_link", "lidar", SE3.identity())
        writer.write(tf, T0, bytes(store.serialize_cdr(tf_message(store, [mount]), TF)))
    said: list[str] = []
    log = RosbagLog(path, lidar_config(), announce=said.append)
    assert list(log.frames()) == []
    assert said == [f"{path}: no frames: no message on the key LiDAR topic /points"]


def test_images_of_later_sweeps_do_not_count_as_late(tmp_path: Path) -> None:
    """A camera that starts two sweeps after the LiDAR: the first frames go without it, and
    its first images (stamped past those frames) are not counted ``camera_late``."""
    path = tmp_path / "bag"
    with BagWriter(path, "mcap") as w:
        ts = w.typestore
        mounts = [
            transform_stamped(ts, T0, "base_link", child, SE3.identity())
            for child in ("lidar", "cam_optical")
        ]
        w.write("/tf_static", TF, T0, tf_message(ts, mounts))
        for k in range(5):
            stamp = T0 + k * SWEEP_NS
            cloud = pointcloud2_message(ts, XYZ, {}, frame_id="lidar", stamp_ns=stamp)
            w.write("/points", PC2, stamp, cloud)
            if k >= 2:
                w.write("/cam/image_raw", IMG, stamp + MS, image(ts, stamp + MS, "cam_optical"))
                info = camera_info(ts, stamp + MS, "cam_optical")
                w.write("/cam/camera_info", INFO, stamp + MS, info)
    cameras = {"cam": CameraTopics(image="/cam/image_raw", info="/cam/camera_info")}
    config = RosbagConfig(
        topics=TopicMap(lidars={"points": "/points"}, cameras=cameras), sync_latency_ns=0
    )
    log = RosbagLog(path, config, announce=quiet)
    frames = list(log.frames())
    assert [sorted(f.cameras) for f in frames] == [[], [], ["cam"], ["cam"], ["cam"]]
    assert "camera_late" not in log.report.counts()


# -- SalvageReader: ROS 1 ---------------------------------------------------------------------
def ros1_drive(tmp_path: Path, compression: str = "none") -> tuple[Path, bytes, list[int]]:
    """:func:`write_drive` as a ROS 1 bag of small chunks: its path, bytes and chunk
    positions (from the intact bag's index)."""
    path = tmp_path / "drive.bag"
    write_drive(path, storage="ros1", ros1_compression=compression, ros1_chunk_bytes=200)
    with Ros1Reader(path) as reader:
        chunks = [c.pos for c in reader.chunk_infos]
    return path, path.read_bytes(), chunks


def cut(path: Path, data: bytes | bytearray, end: int) -> Path:
    """``data[:end]`` written to ``path`` (no index: ``rosbags`` refuses it)."""
    path.write_bytes(bytes(data[:end]))
    return path


def test_a_bag_cut_inside_a_record_length_stops_there(tmp_path: Path) -> None:
    """A ROS 1 bag cut 2 bytes into a record's 4-byte header length: salvage stops at that
    record, naming the byte and what is incomplete, and keeps every record before it."""
    path, data, chunks = ros1_drive(tmp_path)
    at = chunks[-4]
    cut(path, data, at + 2)
    reader = SalvageReader(path)
    assert reader.stopped == f"incomplete record header length at byte {at} of {at + 2}"
    assert reader.stopped_at == at and reader.num_messages == 12
    log = RosbagLog(path, announce=quiet)
    frames = list(log.frames())
    (entry,) = log.report.skipped
    assert entry.kind == "truncated" and entry.kept
    assert f"stopped: incomplete record header length at byte {at}" in entry.reason
    assert [f.timestamp_ns for f in frames] == [T0]


def chunk_field(data: bytes | bytearray, chunk: int, name: bytes) -> int:
    """Where the value of header field ``name`` of the chunk at byte ``chunk`` starts."""
    at = data.find(name + b"=", chunk)
    assert chunk < at < chunk + 64, "the field is in the chunk's header"
    return at + len(name) + 1


@pytest.mark.parametrize("compression", ["bz2", "lz4"])
def test_a_compressed_chunk_without_its_size_field_stops_the_salvage(
    tmp_path: Path, compression: str
) -> None:
    """A compressed chunk whose header has no ``size`` field: salvage stops at that chunk,
    saying so, and keeps the chunks before it."""
    path, data, chunks = ros1_drive(tmp_path, compression)
    edited = bytearray(data)
    at = chunk_field(edited, chunks[-4], b"size")
    edited[at - 5 : at - 1] = b"sizX"  # same length: another field's name
    cut(path, edited, int(len(edited) * 0.9))
    reader = SalvageReader(path)
    total = int(len(edited) * 0.9)
    assert reader.stopped == (
        f"compressed chunk without its 4-byte size field in the chunk at byte {chunks[-4]} "
        f"of {total}"
    )
    assert reader.num_messages == 12


def test_a_chunk_declaring_more_than_the_limit_is_not_decompressed(tmp_path: Path) -> None:
    """A compressed chunk declaring more than :data:`MAX_CHUNK_BYTES` uncompressed: salvage
    stops there naming the size and the limit, before decompressing anything."""
    path, data, chunks = ros1_drive(tmp_path, "bz2")
    edited = bytearray(data)
    at = chunk_field(edited, chunks[-4], b"size")
    edited[at : at + 4] = (0xFFFFFFFF).to_bytes(4, "little")
    cut(path, edited, int(len(edited) * 0.9))
    reader = SalvageReader(path)
    assert reader.stopped is not None
    assert reader.stopped.startswith(
        f"chunk declares 4,294,967,295 bytes uncompressed (at most {MAX_CHUNK_BYTES:,}) "
        f"in the chunk at byte {chunks[-4]}"
    )
    assert reader.num_messages == 12


def test_an_unknown_chunk_compression_stops_the_salvage_naming_it(tmp_path: Path) -> None:
    """A chunk compressed with a scheme ROS 1 does not have: salvage stops there naming it."""
    path, data, chunks = ros1_drive(tmp_path, "bz2")
    edited = bytearray(data)
    at = chunk_field(edited, chunks[-4], b"compression")
    edited[at : at + 3] = b"zst"
    cut(path, edited, int(len(edited) * 0.9))
    reader = SalvageReader(path)
    assert reader.stopped is not None
    assert reader.stopped.startswith(
        f"unknown chunk compression 'zst' in the chunk at byte {chunks[-4]} of "
    )
    assert reader.num_messages == 12


@pytest.mark.parametrize("compression", ["bz2", "lz4"])
def test_corrupt_compressed_chunk_data_stops_the_salvage_naming_it(
    tmp_path: Path, compression: str
) -> None:
    """A compressed chunk whose data is garbage: salvage stops there ("corrupt <scheme>
    data", with the library's reason), keeping the chunks before it; the bag log reports it
    as truncated and gives the frames of those chunks."""
    path, data, chunks = ros1_drive(tmp_path, compression)
    edited = bytearray(data)
    at = chunk_field(edited, chunks[-4], b"size") + 4 + 4  # past size and the data length
    edited[at : at + 8] = b"\xde\xad\xbe\xef" * 2
    cut(path, edited, int(len(edited) * 0.9))
    reader = SalvageReader(path)
    assert reader.stopped is not None
    assert reader.stopped.startswith(f"corrupt {compression} data (")
    assert reader.stopped.endswith(f") in the chunk at byte {chunks[-4]} of {path.stat().st_size}")
    assert reader.num_messages == 12
    log = RosbagLog(path, announce=quiet)
    assert len(list(log.frames())) == 1
    assert f"stopped: corrupt {compression} data" in log.report.skipped[0].reason


def test_a_record_missing_a_field_stops_the_salvage_at_its_chunk(tmp_path: Path) -> None:
    """A message record without its ``time`` field in one chunk of a cut bag: salvage stops at
    that chunk naming the field (as for corrupt compressed data) and keeps the chunks
    before it (a bare KeyError lost the whole bag)."""
    path, data, chunks = ros1_drive(tmp_path)
    edited = bytearray(data)
    at = data.find(b"time=", chunks[-5])
    edited[at : at + 5] = b"tXme="
    cut(path, edited, int(len(edited) * 0.9))
    reader = SalvageReader(path)
    assert reader.stopped is not None
    assert f"record without its 'time' field in the chunk at byte {chunks[-5]}" in reader.stopped
    assert reader.num_messages > 0


# -- SalvageReader: MCAP ----------------------------------------------------------------------
def test_an_intact_mcap_read_front_to_back_declares_each_channel_once(tmp_path: Path) -> None:
    """An MCAP read whole front to back meets its channels again in the summary: each is one
    connection, with every message counted once; the file was read to its end."""
    path = tmp_path / "drive"
    write_drive(path, storage="mcap")
    reader = SalvageReader(next(path.glob("*.mcap")))
    topics = [c.topic for c in reader.connections]
    assert sorted(topics) == sorted(set(topics)) and len(topics) == 5
    assert reader.stopped is None and reader.stopped_at is None
    counts = {c.topic: c.msgcount for c in reader.connections}
    assert counts == {
        "/tf_static": 1,
        "/odom": 9,
        "/cam/camera_info": 1,
        "/points": 4,
        "/cam/image_raw": 4,
    }
    assert reader.num_messages == 19


def test_messages_of_a_channel_without_a_schema_are_counted_not_lost(tmp_path: Path) -> None:
    """An MCAP channel without a schema (schema id 0: no ROS message type) cannot be decoded:
    its messages are counted per topic in ``without_schema`` (they were dropped unseen), the
    other channel's are recovered."""
    from mcap.writer import Writer

    path = tmp_path / "mixed.mcap"
    with path.open("wb") as stream:
        writer = Writer(stream)
        writer.start()
        schema = writer.register_schema("std_msgs/msg/Empty", "ros2msg", b"")
        typed = writer.register_channel("/typed", "cdr", schema)
        raw = writer.register_channel("/raw", "json", 0)
        for t in range(3):
            writer.add_message(raw, log_time=t, data=b"{}", publish_time=t)
        writer.add_message(typed, log_time=5, data=b"\x00\x01\x00\x00", publish_time=5)
        writer.finish()
    reader = SalvageReader(path)
    assert reader.without_schema == {"/raw": 3}
    assert reader.num_messages == 1 and [c.topic for c in reader.connections] == ["/typed"]
    report = bag_io.IngestReport(str(path))
    bag_io._salvage(path, "no summary", report)
    (note,) = report.skipped
    assert note.kept and note.reason == (
        "no summary; read front to back, read to the end, recovered 1 messages; passed over 3 "
        "messages of /raw (a channel without a schema)"
    )
