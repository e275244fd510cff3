"""Real Ouster packet bag (ouster-sdk test resource, ROS 1, OS-0-128 512x10, profile
RNG15_RFL8_NIR8) decoded with ouster-sdk, checked against an independent decode written here
from Ouster's published packet layout and range-to-XYZ formula (the bag ships no decoded cloud).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from rosbags.highlevel import AnyReader

from drivestack.ingest.rosbag.bag_io import IngestReport
from drivestack.ingest.rosbag.ouster import read_ouster_bag

pytest.importorskip("ouster.sdk")
pytestmark = pytest.mark.data

PACKET_HEADER, COLUMN_HEADER, PIXEL, FOOTER = 32, 12, 4, 32  # bytes, RNG15_RFL8_NIR8


def reference_frame(bag: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``xyz_m (K, 3)``, ``range_mm``, ``beam``, ``column_time_ns`` of the pixels with a return,
    in (beam, column) row-major order, from the raw bytes and the metadata JSON."""
    with AnyReader([bag]) as reader:
        msgs = {
            c.topic: [
                reader.deserialize(raw, c.msgtype) for _, _, raw in reader.messages(connections=[c])
            ]
            for c in reader.connections
        }
    meta = json.loads(msgs["/os_node0/metadata"][0].data)
    fmt = meta["lidar_data_format"]
    h, w, cols = fmt["pixels_per_column"], fmt["columns_per_frame"], fmt["columns_per_packet"]
    rng = np.zeros((h, w), dtype=np.int64)
    stamp = np.zeros(w, dtype=np.int64)
    for packet in msgs["/os_node0/lidar_packets"]:
        buf = np.asarray(packet.buf, dtype=np.uint8)
        for c in range(cols):
            base = PACKET_HEADER + c * (COLUMN_HEADER + h * PIXEL)
            column = buf[base : base + COLUMN_HEADER + h * PIXEL]
            mid = int(column[8:10].view("<u2")[0])
            stamp[mid] = int(column[:8].view("<u8")[0])
            pixels = column[COLUMN_HEADER:].view("<u2").reshape(h, 2)[:, 0]
            rng[:, mid] = (pixels & 0x7FFF).astype(np.int64) * 8
    beams = meta["beam_intrinsics"]
    n = beams["lidar_origin_to_beam_origin_mm"]
    enc = 2 * np.pi * (1 - np.arange(w) / w)
    az = -2 * np.pi * np.asarray(beams["beam_azimuth_angles"]) / 360
    alt = 2 * np.pi * np.asarray(beams["beam_altitude_angles"]) / 360
    r = rng.astype(np.float64)
    x = (r - n) * np.cos(enc[None] + az[:, None]) * np.cos(alt)[:, None] + n * np.cos(enc)[None]
    y = (r - n) * np.sin(enc[None] + az[:, None]) * np.cos(alt)[:, None] + n * np.sin(enc)[None]
    z = (r - n) * np.sin(alt)[:, None]
    lidar_to_sensor = np.asarray(meta["lidar_intrinsics"]["lidar_to_sensor_transform"]).reshape(
        4, 4
    )
    p = np.stack([x, y, z, np.ones_like(x)], axis=-1) @ lidar_to_sensor.T
    keep = rng > 0
    beam = np.nonzero(keep)[0]
    return p[keep][:, :3] / 1000.0, rng[keep], beam, stamp[np.nonzero(keep)[1]]


def test_ouster_bag_matches_independent_decode(shared_data: Path) -> None:
    bag = shared_data / "ros_bags/ouster_ros1/512x10_raw.bag"
    report = IngestReport(str(bag))
    clouds = list(read_ouster_bag(bag, report=report))
    assert report.clean, report.summary()
    assert len(clouds) == 1  # 32 packets x 16 columns = one 512-column frame
    cloud = clouds[0]
    xyz, range_mm, beam, column_ns = reference_frame(bag)
    assert len(cloud) == len(xyz) == 28751
    assert np.array_equal(cloud.attribute("range_mm"), range_mm)
    assert np.array_equal(cloud.attribute("ring"), beam)
    assert np.array_equal(cloud.attribute("time_offset_ns"), column_ns - column_ns.min())
    np.testing.assert_allclose(cloud.xyz_m, xyz, atol=1e-5)  # float32 storage
    assert cloud.frame == "os_sensor"


def _first_packets_only(shared_data: Path, dst: Path, n_packets: int) -> Path:
    """The shared Ouster bag rewritten to ``dst`` with only its first ``n_packets`` lidar
    packets (every other message kept): a packet stream that ends mid-frame."""
    from rosbags.rosbag1 import Writer

    src = shared_data / "ros_bags/ouster_ros1/512x10_raw.bag"
    with AnyReader([src]) as reader, Writer(dst) as writer:
        conns = {}
        packets = 0
        for c, t, raw in reader.messages():
            if c.topic.endswith("lidar_packets"):
                packets += 1
                if packets > n_packets:
                    continue
            if c.topic not in conns:
                conns[c.topic] = writer.add_connection(
                    c.topic, c.msgtype, msgdef=c.msgdef.data, md5sum=c.digest
                )
            writer.write(conns[c.topic], t, raw)
    return dst


def test_truncated_frame_is_reported(shared_data: Path, tmp_path: Path) -> None:
    dst = _first_packets_only(shared_data, tmp_path / "partial.bag", 20)
    report = IngestReport(str(dst))
    assert list(read_ouster_bag(dst, report=report)) == []
    assert report.counts() == {"partial_frame": 1}
    assert "20 packets after the last full frame" in report.summary()


def test_packet_bag_through_rosbag_log(shared_data: Path) -> None:
    from drivestack.ingest.rosbag.reader import RosbagLog
    from drivestack.ingest.rosbag.topic_map import RosbagConfig

    bag = shared_data / "ros_bags/ouster_ros1/512x10_raw.bag"
    log = RosbagLog(bag, RosbagConfig(ego_frame="os_sensor"), announce=lambda _: None)
    assert log.topic_map.lidars == {"os_node0_lidar_packets": "/os_node0/lidar_packets"}
    (frame,) = list(log.frames())
    (direct,) = list(read_ouster_bag(bag))
    assert np.array_equal(frame.lidar().xyz_m, direct.xyz_m)
    assert log.report.counts() == {"no_ego_pose": 1}


def test_packets_of_an_unfinished_frame_are_reported_by_the_bag_reader(
    shared_data: Path, tmp_path: Path
) -> None:
    """A packet stream that ends mid-frame: the packets are named (``partial_frame``), not lost."""
    from drivestack.ingest.rosbag.reader import RosbagLog
    from drivestack.ingest.rosbag.topic_map import RosbagConfig

    dst = _first_packets_only(shared_data, tmp_path / "partial.bag", 20)
    log = RosbagLog(dst, RosbagConfig(ego_frame="os_sensor"), announce=lambda _: None)
    assert list(log.frames()) == []
    assert log.report.counts() == {"partial_frame": 1}
    (entry,) = log.report.skipped
    assert (entry.topic, entry.index) == ("/os_node0/lidar_packets", 19)
    assert entry.reason.startswith("20 packets after the last full frame")


def test_two_ousters_need_their_own_frames(shared_data: Path, tmp_path: Path) -> None:
    # both read their points in os_sensor: the second silently got the first one's mount
    from rosbags.rosbag1 import Reader, Writer

    from drivestack.core.errors import ConfigError
    from drivestack.ingest.rosbag.reader import RosbagLog
    from drivestack.ingest.rosbag.topic_map import OusterConfig, RosbagConfig, TopicMap

    src, bag = shared_data / "ros_bags/ouster_ros1/512x10_raw.bag", tmp_path / "two.bag"
    spaces = ("/front", "/rear")
    with Reader(src) as r, Writer(bag) as w:
        conns = {
            (c.id, ns): w.add_connection(
                c.topic.replace("/os_node0", ns), c.msgtype, msgdef=c.msgdef.data, md5sum=c.digest
            )
            for c in r.connections
            for ns in spaces
        }
        for c, t, raw in r.messages():
            for ns in spaces:
                w.write(conns[(c.id, ns)], t, raw)
    topics = TopicMap(lidars={"front": "/front/lidar_packets", "rear": "/rear/lidar_packets"})
    same = RosbagConfig(topics=topics, ego_frame="os_sensor")
    with pytest.raises(ConfigError) as err:
        RosbagLog(bag, same, announce=lambda _: None)
    assert err.value.field == "ouster.rear.frame" and "'front' and 'rear'" in str(err.value)
    own = same.replaced(
        ego_frame="front/os_sensor",
        ouster={"front": OusterConfig("front/os_sensor"), "rear": OusterConfig("rear/os_sensor")},
    )
    log = RosbagLog(bag, own, announce=lambda _: None)
    (frame,) = list(log.frames())
    assert frame.lidar("front").frame == "front/os_sensor"
    # the bag has no TF: the rear sweep's frame cannot be placed, and that is said
    assert "rear" not in frame.lidars
    assert any("rear/os_sensor" in s.reason for s in log.report.skipped if s.kind == "missing_tf")
