"""Untested error and corner branches of the ROS bag readers (Velodyne, Ouster, salvage,
``open_bag``, messages, PointCloud2, ``RosbagLog``), the aiMotive reader and the nuScenes
detection config / boxes, found by a coverage run. Inputs are built here, except the two
Ouster packet tests (the shared Ouster bag's packets, skipped without it)."""

from __future__ import annotations

import json
import struct
from dataclasses import asdict
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest

from drivestack.core.errors import ConfigError, DataError
from drivestack.core.transforms import SE3
from drivestack.eval.detection.nuscenes import (
    DETECTION_CVPR_2019,
    EvalBoxes,
    _cummean,
    evaluate,
    load_detection_config,
)
from drivestack.ingest import aimotive
from drivestack.ingest.rosbag import bag_io
from drivestack.ingest.rosbag import messages as m
from drivestack.ingest.rosbag import velodyne as v
from drivestack.ingest.rosbag.pointcloud2 import pointcloud2_dtype
from drivestack.ingest.rosbag.reader import RosbagLog
from drivestack.ingest.rosbag.salvage import ROS1_MAGIC, SalvageReader
from drivestack.ingest.rosbag.topic_map import RosbagConfig, TopicMap
from drivestack.ingest.rosbag.writer import (
    BagWriter,
    header,
    pointcloud2_message,
    tf_message,
    transform_stamped,
)
from drivestack.structures.point_cloud import PointCloud
from tests.ingest.rosbag.test_losses_reported import write_scans
from tests.ingest.rosbag.test_point_decoders_pinned import (
    _column,
    _decoder,
    field,
    ouster_packets,  # noqa: F401  (a fixture)
)
from tests.ingest.rosbag.test_reader_review_fixes import IMG, INFO, PC2, T0, TF, XYZ, camera_info
from tests.ingest.rosbag.test_reader_review_fixes import read as read_bag
from tests.ingest.test_aimotive_types_and_times import _box, _las
from tests.ingest.test_ingest_error_branches import _open

F32 = 7  # ROS PointField FLOAT32


# -- velodyne: settings and helpers -------------------------------------------------------------
def test_an_unknown_velodyne_model_is_refused_naming_it_and_the_known_ones() -> None:
    """``model`` must be one of MODELS (None detects it): another name is a ValueError."""
    with pytest.raises(ValueError, match=r"unknown Velodyne model 'HDL64E'; known: \('VLP16'"):
        v.VelodyneConfig(model="HDL64E")


def test_a_scan_without_corrupt_packets_has_an_empty_corrupt_reason() -> None:
    """``corrupt_reason`` is empty when no packet was dropped (nothing to report)."""
    cloud = PointCloud(np.zeros((0, 3), dtype=np.float32), "velodyne", T0)
    assert v.DecodedVelodyneScan(cloud, (), 5).corrupt_reason() == ""


@pytest.mark.parametrize(
    "content",
    [None, b"\xff\xfe\x00 not utf-8", b"lasers: [a, : b"],
    ids=["missing", "bytes", "yaml"],
)
def test_an_unreadable_calibration_table_has_no_laser_count(
    tmp_path: Path, content: bytes | None
) -> None:
    """``calibration_laser_count`` is None for a missing file, one that is not UTF-8 and one
    that is not YAML (the callers turn None into a DataError naming the file)."""
    path = tmp_path / "table.yaml"
    if content is not None:
        path.write_bytes(content)
    assert v.calibration_laser_count(path) is None


def test_select_velodyne_topic_names_the_bag_and_the_topics_found() -> None:
    """No topic given and two VelodyneScan topics, or a topic the bag lacks: DataError naming
    the bag and listing the topics it has; one topic found is taken."""
    bag = Path("drive.mcap")
    assert v.select_velodyne_topic(["/a"], None, bag) == "/a"
    assert v.select_velodyne_topic(["/a", "/b"], "/b", bag) == "/b"
    with pytest.raises(DataError, match=r"expected one .*VelodyneScan topic, found \['/a', '/b'\]"):
        v.select_velodyne_topic(["/a", "/b"], None, bag)
    with pytest.raises(DataError, match=r"no .*VelodyneScan topic '/c'; found \['/a'\]") as err:
        v.select_velodyne_topic(["/a"], "/c", bag)
    assert err.value.path == "drive.mcap"


# -- velodyne: bad scans ------------------------------------------------------------------------
def _packet(data: bytes) -> SimpleNamespace:
    return SimpleNamespace(
        stamp=SimpleNamespace(sec=1, nanosec=5), data=np.frombuffer(data, np.uint8)
    )


def _scan(packets: list[SimpleNamespace]) -> SimpleNamespace:
    stamp = SimpleNamespace(sec=1, nanosec=0)
    return SimpleNamespace(
        header=SimpleNamespace(frame_id="velodyne", stamp=stamp), packets=packets
    )


@pytest.mark.parametrize(
    ("packets", "reason"),
    [
        ([], "scan has no packets"),
        ([b"\xff" * 1206, b"\xff" * 1205], "packet 1 has 1205 bytes, expected 1206"),
        ([b"\x00" * 1206] * 3, "all 3 packets corrupt (no Velodyne block flag"),
    ],
    ids=["no_packets", "short_packet", "all_corrupt"],
)
def test_a_bad_scan_is_a_data_error_naming_bag_record_and_packets(
    packets: list[bytes], reason: str
) -> None:
    """A scan without packets, with a packet that is not 1206 bytes, or whose every packet
    lacks a block flag: DataError naming the bag, the message and field ``packets``."""
    pytest.importorskip("velodyne_decoder")
    decoder = v.VelodyneDecoder(v.VelodyneConfig())
    with pytest.raises(DataError) as err:
        decoder.decode(_scan([_packet(p) for p in packets]), path="b.mcap", record="/v #3")
    assert (err.value.path, err.value.record, err.value.field) == ("b.mcap", "/v #3", "packets")
    assert err.value.reason.startswith(reason)


def test_a_scan_that_fails_to_decode_is_skipped_and_reported(tmp_path: Path) -> None:
    """``read_velodyne_bag``: a message that fails to decode gives no cloud and a ``decode``
    entry (topic, index, reason); reading goes on."""
    pytest.importorskip("velodyne_decoder")
    from drivestack.ingest.rosbag.bag_io import default_typestore

    store = default_typestore()
    scan_type = store.types[v.VELODYNE_SCAN]
    empty = scan_type(header=header(store, T0, "velodyne"), packets=[])
    bag = write_scans(tmp_path / "bag", [("/velodyne_packets", T0, empty)])
    report = bag_io.IngestReport(str(bag))
    assert list(v.read_velodyne_bag(bag, v.VelodyneConfig(), report=report)) == []
    (entry,) = report.skipped
    assert (entry.topic, entry.index, entry.kind) == ("/velodyne_packets", 0, "decode")
    assert entry.reason == "scan has no packets" and not entry.kept


# -- ouster: bag layout -------------------------------------------------------------------------
def _ouster_bag(path: Path, topics: list[str]) -> Path:
    """A ROS 1 bag declaring ``topics`` (``ouster_ros/PacketMsg``, no message)."""
    from rosbags.rosbag1 import Writer

    with Writer(path) as writer:
        for topic in topics:
            writer.add_connection(
                topic, "ouster_ros/msg/PacketMsg", msgdef="uint8[] buf", md5sum="4f7b5949e76f86d0"
            )
    return path


def test_two_ouster_namespaces_need_one_named(tmp_path: Path) -> None:
    """Without ``namespace``, the bag must have exactly one ``*/lidar_packets`` topic:
    DataError naming the bag and the namespaces found."""
    from drivestack.ingest.rosbag.ouster import read_ouster_bag

    bag = _ouster_bag(tmp_path / "two.bag", ["/a/lidar_packets", "/b/lidar_packets"])
    with pytest.raises(DataError, match=r"found namespaces \['/a', '/b'\]") as err:
        list(read_ouster_bag(bag))
    assert err.value.path == str(bag)


def test_an_ouster_bag_without_metadata_names_the_metadata_topic(tmp_path: Path) -> None:
    """No message on ``<namespace>/metadata``: DataError naming the bag and that topic."""
    from drivestack.ingest.rosbag.ouster import read_ouster_bag

    bag = _ouster_bag(tmp_path / "nometa.bag", ["/os/lidar_packets", "/os/metadata"])
    with pytest.raises(DataError, match="no sensor metadata on /os/metadata") as err:
        list(read_ouster_bag(bag))
    assert (err.value.path, err.value.record) == (str(bag), "/os/metadata")


@pytest.mark.data
def test_an_ouster_packet_of_the_wrong_size_names_both_sizes(
    ouster_packets: tuple[str, list[bytes], list[int]],  # noqa: F811
) -> None:
    """A packet one byte short: DataError with its size and the profile's."""
    meta, packets, _ = ouster_packets
    with pytest.raises(
        DataError, match=r"lidar packet has (\d+) bytes, the .* profile needs"
    ) as err:
        _decoder(meta).add_packet(packets[0][:-1], 1)
    assert f"has {len(packets[0]) - 1} bytes" in err.value.reason
    assert f"needs {len(packets[0])}" in err.value.reason


@pytest.mark.data
def test_an_ouster_column_stamped_before_the_previous_one_is_corrupt(
    ouster_packets: tuple[str, list[bytes], list[int]],  # noqa: F811
) -> None:
    """A valid column's timestamp below the previous valid column's: the packet is refused
    as corrupt (``column timestamps go backwards``), before it is used."""
    meta, packets, _ = ouster_packets
    raw = bytearray(packets[0])
    earlier = struct.unpack_from("<Q", raw, _column(0))[0] - 1
    struct.pack_into("<Q", raw, _column(1), earlier)
    with pytest.raises(DataError, match="corrupt lidar packet: column timestamps go backwards"):
        _decoder(meta).add_packet(bytes(raw), 1)


# -- salvage: malformed top-level records -------------------------------------------------------
def _record(fields: list[bytes], data: bytes = b"") -> bytes:
    head = b"".join(struct.pack("<I", len(f)) + f for f in fields)
    return struct.pack("<I", len(head)) + head + struct.pack("<I", len(data)) + data


def test_a_top_level_record_with_an_empty_op_field_stops_the_salvage_there(
    tmp_path: Path,
) -> None:
    """A record outside any chunk whose ``op`` field is empty stops reading at its byte (13,
    just past the magic), saying why; nothing before it is lost (here: nothing)."""
    path = tmp_path / "cut.bag"
    path.write_bytes(ROS1_MAGIC + _record([b"op="]))
    reader = SalvageReader(path)
    assert reader.stopped == f"record with an empty op field at byte 13 of {path.stat().st_size}"
    assert reader.stopped_at == 13 and reader.num_messages == 0


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        (
            [b"op=\x07", b"conn=\x01\x00\x00", b"topic=/a"],
            "record with a malformed 'conn' field (3 bytes, not 4)",
        ),
        (
            [b"op=\x07", b"conn=\x01\x00\x00\x00", b"topic=\xff/a"],
            "record with a malformed 'topic' field (not UTF-8 text (byte 0))",
        ),
    ],
    ids=["short_conn", "topic_bytes"],
)
def test_a_malformed_top_level_connection_stops_the_salvage_there(
    tmp_path: Path, fields: list[bytes], reason: str
) -> None:
    """A connection record outside a chunk with a field that cannot be read stops reading at
    its byte with a reason naming the field and what is wrong with it."""
    path = tmp_path / "cut.bag"
    path.write_bytes(ROS1_MAGIC + _record(fields))
    reader = SalvageReader(path)
    assert reader.stopped is not None and reader.stopped.startswith(reason)
    assert reader.stopped.endswith(f"at byte 13 of {path.stat().st_size}")
    assert reader.stopped_at == 13


@pytest.mark.parametrize(
    ("fields", "name"),
    [
        ([b"op=\x07", b"conn=\x01\x00\x00", b"topic=/a"], "conn"),
        ([b"op=\x07", b"conn=\x01\x00\x00\x00", b"topic=\xff/a"], "topic"),
    ],
    ids=["short_conn", "topic_bytes"],
)
def test_a_malformed_record_stop_reason_names_the_field(
    tmp_path: Path, fields: list[bytes], name: str
) -> None:
    """The stop reason should name the record's bad field, as it does for a missing one
    (``record without its 'conn' field``)."""
    path = tmp_path / "cut.bag"
    path.write_bytes(ROS1_MAGIC + _record(fields))
    assert repr(name) in str(SalvageReader(path).stopped)


def _bag_with_a_bad_definition(tmp_path: Path) -> Path:
    """A ROS 1 bag without an index: one connection (topic ``/a``) whose message definition
    does not parse."""
    body = [b"type=pkg/Bad", b"message_definition=float64[ x"]
    data = b"".join(struct.pack("<I", len(f)) + f for f in body)  # header-style fields
    path = tmp_path / "bad.bag"
    conn = [b"op=\x07", b"conn=" + struct.pack("<I", 0), b"topic=/a"]
    path.write_bytes(ROS1_MAGIC + _record(conn, data))
    return path


def test_a_bag_the_salvage_cannot_read_either_is_one_data_error(tmp_path: Path) -> None:
    """A bag ``rosbags`` refuses and whose front-to-back read fails too (a message
    definition that does not parse): DataError naming the bag, saying both failures."""
    path = _bag_with_a_bad_definition(tmp_path)
    with pytest.raises(DataError, match="reading it front to back failed too") as err:
        _open(path)
    assert err.value.path == str(path) and "cannot open bag" in err.value.reason


def test_a_bad_message_definition_is_one_line_naming_its_topic(tmp_path: Path) -> None:
    """A bad stored message definition: one line (as the metadata.yaml errors are) naming
    the topic whose definition it is."""
    path = _bag_with_a_bad_definition(tmp_path)
    with pytest.raises(DataError) as err:
        _open(path)
    assert "\n" not in str(err.value) and "/a" in err.value.reason


# -- open_bag: a rosbag2 folder's metadata.yaml ------------------------------------------------
def test_a_metadata_yaml_without_the_bag_mapping_is_one_line_naming_it(tmp_path: Path) -> None:
    """``metadata.yaml`` that is YAML but not a mapping with ``rosbag2_bagfile_information``:
    DataError naming that file and the missing mapping."""
    (tmp_path / "bag").mkdir()
    meta = tmp_path / "bag" / "metadata.yaml"
    meta.write_text("- just\n- a list\n")
    with pytest.raises(DataError, match="no `rosbag2_bagfile_information` mapping") as err:
        _open(tmp_path / "bag")
    assert err.value.path == str(meta)


def test_a_metadata_yaml_that_cannot_be_read_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An OSError reading ``metadata.yaml`` (permissions, I/O): the problem is ``cannot read``
    with the OS's words (root reads a chmod 000 file, so the read is made to fail)."""
    (tmp_path / "bag").mkdir()
    meta = tmp_path / "bag" / "metadata.yaml"
    meta.write_text("rosbag2_bagfile_information: {}\n")
    real = Path.read_text

    def failing(self: Path, *args: Any, **kwargs: Any) -> str:
        if self == meta:
            raise PermissionError(13, "Permission denied")
        return real(self, *args, **kwargs)

    monkeypatch.setattr(Path, "read_text", failing)
    assert bag_io._metadata_problem(tmp_path / "bag") == "cannot read: Permission denied"


# -- messages -----------------------------------------------------------------------------------
def test_a_16_bit_png_round_trips_exactly() -> None:
    """``encode_image_png`` of ``(H, W)`` uint16 writes a 16-bit PNG that
    ``decode_image_bytes`` reads back to the same values (above 255 too)."""
    pixels = np.array([[0, 1000, 65535], [255, 256, 7]], dtype=np.uint16)
    back = m.decode_image_bytes(m.encode_image_png(pixels), "png")
    assert back.dtype == np.uint16 and np.array_equal(back, pixels)


def _info(**change: Any) -> SimpleNamespace:
    msg = SimpleNamespace(
        k=[100.0, 0, 3, 0, 100, 2, 0, 0, 1], d=[], width=6, height=4, distortion_model=""
    )
    for key, value in change.items():
        setattr(msg, key, value)
    return msg


def test_camera_info_reads_k_or_ros1_capital_k_and_else_names_k() -> None:
    """The intrinsics are ``k`` (ROS 2) or ``K`` (ROS 1); a message with neither is a
    DataError naming field ``k`` as missing (it was a bare AttributeError), and a ``d`` that
    is not numbers names ``d``."""
    ros1 = SimpleNamespace(K=_info().k, D=[], width=6, height=4)
    cal = m.camera_info_to_calibration(ros1, name="c", frame="c", camera_from_ego=SE3.identity())
    assert cal.width_px == 6 and cal.height_px == 4
    with pytest.raises(DataError, match=r"missing") as err:
        m.camera_info_to_calibration(
            SimpleNamespace(width=6, height=4), name="c", frame="c", camera_from_ego=SE3.identity()
        )
    assert err.value.field == "k"
    with pytest.raises(DataError, match=r"not a list of numbers") as err:
        m.camera_info_to_calibration(
            _info(d=["x"]), name="c", frame="c", camera_from_ego=SE3.identity()
        )
    assert err.value.field == "d"


def test_camera_info_with_a_k_of_eight_values_is_a_data_error_naming_k() -> None:
    """Docstring: DataError naming path, record and field ``k`` for intrinsics
    CameraCalibration refuses; a K that is not 9 values is such intrinsics."""
    with pytest.raises(DataError) as err:
        m.camera_info_to_calibration(
            _info(k=[1.0] * 8),
            name="c",
            frame="c",
            camera_from_ego=SE3.identity(),
            path="b.mcap",
            record="/cam/camera_info #0",
        )
    assert (err.value.path, err.value.record, err.value.field) == (
        "b.mcap",
        "/cam/camera_info #0",
        "k",
    )


# -- pointcloud2 --------------------------------------------------------------------------------
def _xyz() -> list[SimpleNamespace]:
    return [field("x", 0, F32), field("y", 4, F32), field("z", 8, F32)]


def test_a_duplicate_point_field_name_is_refused_naming_the_second() -> None:
    """Two fields of one name: DataError naming the message and the second field."""
    fields = [*_xyz(), field("i", 12, F32), field("i", 16, F32)]
    with pytest.raises(DataError, match="duplicate field name") as err:
        pointcloud2_dtype(fields, 20, is_bigendian=False, path="b.mcap", record="/p #2")
    assert (err.value.path, err.value.record, err.value.field) == (
        "b.mcap",
        "/p #2",
        "fields[4] ('i')",
    )


def test_a_layout_numpy_refuses_is_a_data_error_naming_fields() -> None:
    """A layout the field checks pass but NumPy refuses (no field and a negative
    ``point_step``, which only the API can give: ROS's is a uint32): DataError field
    ``fields``, not NumPy's ValueError."""
    with pytest.raises(DataError, match="invalid field layout") as err:
        pointcloud2_dtype([], -1, is_bigendian=False, path="b.mcap", record="/p #0")
    assert (err.value.path, err.value.record, err.value.field) == ("b.mcap", "/p #0", "fields")


# -- RosbagLog ----------------------------------------------------------------------------------
def test_an_image_of_another_size_than_its_camera_info_is_skipped_and_reported(
    tmp_path: Path,
) -> None:
    """An image whose size is not its CameraInfo's: skipped (kind ``image``) with the sizes of
    both; the frames are kept without it."""
    path = tmp_path / "bag"
    with BagWriter(path, "mcap") as w:
        ts = w.typestore
        mounts = [transform_stamped(ts, T0, "map", c, SE3.identity()) for c in ("lidar", "cam")]
        w.write("/tf_static", TF, T0, tf_message(ts, mounts))
        for k in range(3):
            stamp = T0 + k * 100_000_000
            w.write(
                "/points",
                PC2,
                stamp,
                pointcloud2_message(ts, XYZ, {}, frame_id="lidar", stamp_ns=stamp),
            )
            pixels = np.zeros(6, dtype=np.uint8)  # 3 x 2 px, the CameraInfo says 6 x 4
            img = ts.types[IMG](header=header(ts, stamp, "cam"), height=2, width=3, encoding="mono8",
                                is_bigendian=0, step=3, data=pixels)  # fmt: skip
            w.write("/cam/image_raw", IMG, stamp, img)
            w.write("/cam/camera_info", INFO, stamp, camera_info(ts, stamp, "cam"))
    log, frames, _ = read_bag(path, ego_frame="lidar")
    assert len(frames) == 3 and all(not f.cameras for f in frames)
    entries = [s for s in log.report.skipped if s.kind == "image"]
    assert [(s.topic, s.index) for s in entries] == [("/cam/image_raw", k) for k in range(3)]
    assert "is 3x2 px but its calibration says 6x4 px" in entries[0].reason


def test_a_key_lidar_topic_without_messages_says_so(tmp_path: Path) -> None:
    """A bag whose key LiDAR topic is declared but holds no message: no frame, and the
    announcement says there was no message on that topic."""
    from rosbags.rosbag2 import StoragePlugin, Writer

    from drivestack.ingest.rosbag.bag_io import default_typestore

    with Writer(tmp_path / "bag", version=9, storage_plugin=StoragePlugin.MCAP) as writer:
        writer.add_connection("/points", PC2, typestore=default_typestore())
    said: list[str] = []
    config = RosbagConfig(topics=TopicMap(lidars={"points": "/points"}), ego_frame="lidar")
    log = RosbagLog(tmp_path / "bag", config, announce=said.append)
    assert list(log.frames()) == []
    assert said[-1].endswith("no frames: no message on the key LiDAR topic /points")


# -- aiMotive -----------------------------------------------------------------------------------
def test_a_las_header_claiming_more_points_than_decoded_is_truncated(tmp_path: Path) -> None:
    """A point count of 12 for 10 stored points (bytes enough for the header check): DataError
    naming the file, ``truncated: 10 of 12 points decoded``."""
    path = _las(tmp_path / "f.las", np.arange(10, dtype=np.float64) + 1e9)
    raw = bytearray(path.read_bytes())
    assert struct.unpack_from("<I", raw, 107) == (10,)  # LAS 1.2 legacy point count
    struct.pack_into("<I", raw, 107, 12)
    path.write_bytes(bytes(raw))
    with pytest.raises(DataError, match="truncated: 10 of 12 points decoded") as err:
        aimotive.read_aimotive_laz(path)
    assert err.value.path == str(path)


def test_drop_nonfinite_reads_a_file_of_finite_points_unchanged(tmp_path: Path) -> None:
    """``drop_nonfinite`` checks the times of finite points only; LAS coordinates (scaled
    integers) are always finite, so the cloud is the one read without it."""
    path = _las(tmp_path / "f.las", np.arange(4, dtype=np.float64) + 1e9)
    plain = aimotive.read_aimotive_laz(path)
    dropped = aimotive.read_aimotive_laz(path, drop_nonfinite=True)
    assert len(dropped) == 4 and np.array_equal(plain.xyz_m, dropped.xyz_m)
    assert dropped.timestamp_ns == plain.timestamp_ns == 1_000_000_003


@pytest.mark.parametrize(
    "change",
    [
        {"BoundingBox3D Extent Y": -1.0},
        {f"BoundingBox3D Orientation Quat {a}": 0.0 for a in "WXYZ"},
    ],
    ids=["negative_extent", "zero_quaternion"],
)
def test_a_negative_extent_or_zero_quaternion_names_object_and_bounding_box(
    tmp_path: Path, change: dict[str, float]
) -> None:
    """A box with an extent < 0 or a quaternion of zeros: DataError naming the file, the
    object and field ``BoundingBox3D``."""
    path = tmp_path / "f.json"
    doc = {"CapturedObjects": [_box("CAR", 1), _box("CAR", 2) | change], "Timestamp": 5}
    path.write_text(json.dumps(doc))
    with pytest.raises(DataError, match="negative extent or zero quaternion") as err:
        aimotive.read_aimotive_boxes(path)
    assert (err.value.path, err.value.record, err.value.field) == (
        str(path),
        "CapturedObjects[1]",
        "BoundingBox3D",
    )


def _sequence(tmp_path: Path, laz: bytes, *, box: bool) -> Path:
    seq = tmp_path / "seq"
    (seq / "dynamic" / "raw-revolutions").mkdir(parents=True)
    (seq / "dynamic" / "raw-revolutions" / "frame_1.laz").write_bytes(laz)
    if box:
        (seq / "dynamic" / "box" / "3d_body").mkdir(parents=True)
        doc = {"CapturedObjects": [_box("CAR")], "Timestamp": 1_000_000_000}
        (seq / "dynamic" / "box" / "3d_body" / "frame_1.json").write_text(json.dumps(doc))
    return seq


def test_a_frame_error_blames_the_box_time_only_for_point_times_measured_from_it(
    tmp_path: Path,
) -> None:
    """``read_aimotive_frame`` adds "or the box file's time is wrong" only to a ``gps_time``
    error with a box file: a LAZ that does not decode (with a box file) and a NaN time
    (without one) are raised unchanged."""
    garbage = _sequence(tmp_path / "a", b"not a laz file", box=True)
    with pytest.raises(DataError, match="cannot decode LAZ/LAS") as err:
        aimotive.read_aimotive_frame(garbage, "frame_1")
    assert "box file" not in str(err.value)
    assert err.value.path == str(garbage / "dynamic" / "raw-revolutions" / "frame_1.laz")
    nan_time = _las(tmp_path / "n.las", np.array([1e9, np.nan]))
    no_box = _sequence(tmp_path / "b", nan_time.read_bytes(), box=False)
    with pytest.raises(DataError) as err:
        aimotive.read_aimotive_frame(no_box, "frame_1")
    assert err.value.field == "gps_time" and "box file" not in str(err.value)


# -- nuScenes detection config and boxes --------------------------------------------------------
@pytest.mark.parametrize(
    ("change", "key", "reason"),
    [
        ({"mean_ap_weight": 10**400}, "mean_ap_weight", "number out of range"),
        ({"class_range": [50.0] * 10}, "class_range", "expected an object of class: range"),
        ({"dist_fcn": 1}, "dist_fcn", "expected text, got 1"),
    ],
    ids=["int_past_float64", "class_range_list", "dist_fcn_number"],
)
def test_a_config_value_of_the_wrong_kind_names_its_key(
    tmp_path: Path, change: dict[str, Any], key: str, reason: str
) -> None:
    """An integer past float64, a ``class_range`` that is not an object and a ``dist_fcn``
    that is not text: ConfigError naming the file and key."""
    path = tmp_path / "cfg.json"
    path.write_text(json.dumps({**asdict(DETECTION_CVPR_2019), **change}))
    with pytest.raises(ConfigError) as err:
        load_detection_config(path)
    assert (err.value.path, err.value.field) == (str(path), key)
    assert err.value.reason.startswith(reason)


def test_eval_boxes_of_the_wrong_shape_name_the_array() -> None:
    """An array whose size is not the boxes' count: ValueError naming it and both shapes."""
    with pytest.raises(ValueError, match=r"EvalBoxes.yaw_rad must have shape \(2,\), got \(3,\)"):
        EvalBoxes(center_m=np.zeros((2, 3)), size_m=np.ones((2, 3)), yaw_rad=np.zeros(3),
                  detection_name=["car", "car"])  # fmt: skip


def test_cummean_of_nothing_is_nothing() -> None:
    """No match: an empty cumulative mean (the devkit's ``cummean`` gives ``ones(0)``)."""
    assert _cummean(np.zeros(0)).shape == (0,)


def test_a_prediction_for_a_sample_without_ground_truth_names_the_sample() -> None:
    """Predictions are scored over ``gt``'s samples: one for another sample is a DataError
    naming it."""
    one = EvalBoxes(center_m=np.zeros((1, 3)), size_m=np.ones((1, 3)), yaw_rad=np.zeros(1),
                    detection_name=["car"])  # fmt: skip
    with pytest.raises(DataError, match="prediction for a sample that has no ground truth") as err:
        evaluate({"a": one}, {"a": one, "b": one}, DETECTION_CVPR_2019)
    assert err.value.record == "sample b"
