"""Pinned rules of the ROS point decoders (PointCloud2, VelodyneScan helpers, messages).

Every input is built by hand (struct.pack / NumPy) and every expected value is derived from
the rule in a comment, not copied from a run of the code.
"""

from __future__ import annotations

import struct
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest

from drivestack.core.errors import DataError
from drivestack.core.transforms import SE3
from drivestack.ingest.rosbag import messages as m
from drivestack.ingest.rosbag import velodyne as v
from drivestack.ingest.rosbag.pointcloud2 import decode_pointcloud2, parse_pointcloud2_cdr
from drivestack.structures.point_cloud import TIME_OFFSET_NS, PointCloud

F32, F64, U8, U32 = 7, 8, 2, 6  # ROS PointField datatype codes


def field(name: str, offset: int, datatype: int, count: int = 1) -> SimpleNamespace:
    return SimpleNamespace(name=name, offset=offset, datatype=datatype, count=count)


def xyz_fields() -> list[SimpleNamespace]:
    return [field("x", 0, F32), field("y", 4, F32), field("z", 8, F32)]


def cloud_msg(fields, point_step, data: bytes, *, height=1, width=None, row_step=None, **extra):
    width = len(data) // point_step if width is None else width
    msg = SimpleNamespace(
        header=SimpleNamespace(stamp=SimpleNamespace(sec=10, nanosec=0), frame_id="/lidar"),
        height=height,
        width=width,
        fields=fields,
        is_bigendian=False,
        point_step=point_step,
        row_step=width * point_step if row_step is None else row_step,
        data=data,
    )
    for key, value in extra.items():
        setattr(msg, key, value)
    return msg


# --- sensor_msgs/PointCloud2 ------------------------------------------------------------


def test_a_field_count_of_zero_reads_as_one_element() -> None:
    """ROS writers leave ``count`` 0 for scalars: it means one element, so ``intensity``
    (u8 at byte 12, count 0) is the scalar attribute 7, not a dropped empty vector."""
    data = struct.pack("<3fB3x", 1.0, 2.0, 3.0, 7)
    msg = cloud_msg([*xyz_fields(), field("intensity", 12, U8, count=0)], 16, data)
    cloud = decode_pointcloud2(msg).cloud
    assert cloud.attribute("intensity").tolist() == [7]


def test_a_field_sharing_one_byte_with_a_coordinate_is_refused() -> None:
    """x is bytes 0..3; a u8 ``flag`` at byte 3 overlaps its last byte, so the layout is
    refused (half-open spans [0, 4) and [3, 4) intersect)."""
    data = struct.pack("<3f", 1.0, 2.0, 3.0)
    msg = cloud_msg([*xyz_fields(), field("flag", 3, U8)], 12, data)
    with pytest.raises(DataError, match="overlap"):
        decode_pointcloud2(msg)


def test_a_row_step_shorter_than_a_row_is_refused_for_two_rows() -> None:
    """height 2 x width 2 points of 12 bytes need rows of 24 bytes; row_step 12 would make
    the rows overlap, so it is refused (for any height > 1)."""
    data = struct.pack("<12f", *range(12))
    msg = cloud_msg(xyz_fields(), 12, data, height=2, width=2, row_step=12)
    with pytest.raises(DataError, match="row_step"):
        decode_pointcloud2(msg)


def test_the_last_padded_row_needs_no_padding_bytes() -> None:
    """2 rows of 1 point (12 bytes) with row_step 16: the data must reach the last point's end,
    (2 - 1) * 16 + 1 * 12 = 28 bytes, not 2 * 16 = 32. Row 1 starts at byte 16."""
    data = struct.pack("<3f4x3f", 1.0, 2.0, 3.0, 4.0, 5.0, 6.0)
    assert len(data) == 28
    msg = cloud_msg(xyz_fields(), 12, data, height=2, width=1, row_step=16)
    cloud = decode_pointcloud2(msg).cloud
    assert cloud.xyz_m.tolist() == [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]


def test_float_point_times_round_to_the_nearest_nanosecond() -> None:
    """A float64 ``time`` of -1.6e-9 s is -1.6 ns: rounded to the nearest, -2 ns (truncation
    toward zero would give -1)."""
    data = struct.pack("<3fd", 1.0, 2.0, 3.0, -1.6e-9)
    msg = cloud_msg([*xyz_fields(), field("time", 12, F64)], 20, data)
    assert decode_pointcloud2(msg).cloud.attribute(TIME_OFFSET_NS).tolist() == [-2]


@pytest.mark.parametrize("seconds", [-np.inf, -1e10])
def test_negative_infinite_or_huge_point_times_are_refused(seconds: float) -> None:
    """The float-time check bounds |t| < 9.2e9 s (int64 ns): -inf and -1e10 s are refused
    like +inf, naming the field."""
    data = struct.pack("<3fd", 1.0, 2.0, 3.0, seconds)
    msg = cloud_msg([*xyz_fields(), field("time", 12, F64)], 20, data)
    with pytest.raises(DataError, match="time"):
        decode_pointcloud2(msg)


def test_the_first_point_time_field_gives_time_offset_ns() -> None:
    """Two time fields, ``t`` (uint32 ns, first) = 5 and ``time`` (float64 s) = 1.0: the first
    declared one makes time_offset_ns (5 ns, not 1e9 ns); both stay as attributes."""
    data = struct.pack("<3fId", 1.0, 2.0, 3.0, 5, 1.0)
    fields = [*xyz_fields(), field("t", 12, U32), field("time", 16, F64)]
    cloud = decode_pointcloud2(cloud_msg(fields, 24, data)).cloud
    assert cloud.attribute(TIME_OFFSET_NS).tolist() == [5]
    assert cloud.attribute("t").tolist() == [5] and cloud.attribute("time").tolist() == [1.0]


def test_a_field_with_count_three_becomes_name_0_to_name_2() -> None:
    """``normal`` (3 x float32 at byte 12) -> attributes normal_0, normal_1, normal_2."""
    data = struct.pack("<6f", 1.0, 2.0, 3.0, 0.5, 0.25, 0.125)
    msg = cloud_msg([*xyz_fields(), field("normal", 12, F32, count=3)], 24, data)
    cloud = decode_pointcloud2(msg).cloud
    got = [cloud.attribute(f"normal_{k}").tolist() for k in range(3)]
    assert got == [[0.5], [0.25], [0.125]]


def test_a_message_without_is_dense_does_not_claim_to_be_dense() -> None:
    """DecodedPointCloud2.is_dense: a message without the flag does not claim density."""
    msg = cloud_msg(xyz_fields(), 12, struct.pack("<3f", 1.0, 2.0, 3.0))
    assert decode_pointcloud2(msg).is_dense is False
    assert decode_pointcloud2(cloud_msg(xyz_fields(), 12, msg.data, is_dense=True)).is_dense


def test_an_explicit_timestamp_overrides_the_header_stamp() -> None:
    """``timestamp_ns`` is the reference time: cloud time 123 instead of the header's 10 s,
    and an absolute uint64-like time is made relative to it, not to the header."""
    data = struct.pack("<3fd", 1.0, 2.0, 3.0, 0.0)
    msg = cloud_msg([*xyz_fields(), field("time", 12, F64)], 20, data)
    assert decode_pointcloud2(msg, timestamp_ns=123).cloud.timestamp_ns == 123
    assert decode_pointcloud2(msg).cloud.timestamp_ns == 10 * 10**9


def _cdr(*, with_is_dense: bool, is_dense: int = 0) -> bytes:
    """A little-endian CDR PointCloud2 of one xyz point, 4-byte aligned after the 4-byte
    encapsulation header."""
    out = bytearray(b"\x00\x01\x00\x00")

    def align() -> None:
        out.extend(b"\x00" * (-(len(out) - 4) % 4))

    def u32(value: int) -> None:
        align()
        out.extend(struct.pack("<I", value))

    def string(text: str) -> None:
        raw = text.encode() + b"\x00"
        u32(len(raw))
        out.extend(raw)

    out.extend(struct.pack("<i", 3))  # sec
    u32(500)  # nanosec
    string("lidar")
    u32(1)  # height
    u32(1)  # width
    u32(3)  # fields
    for k, name in enumerate("xyz"):
        string(name)
        u32(4 * k)
        out.append(F32)
        u32(1)
    out.append(0)  # is_bigendian
    u32(12)  # point_step
    u32(12)  # row_step
    u32(12)  # data size
    out.extend(struct.pack("<3f", 1.0, 2.0, 3.0))
    if with_is_dense:
        out.append(is_dense)
    return bytes(out)


def test_cdr_parse_reads_is_dense_and_claims_nothing_without_it() -> None:
    """The CDR reader takes the trailing is_dense byte (0 -> False, 1 -> True) and, when the
    bytes end before it, claims no dense cloud (False, as decode_pointcloud2 reads a message
    without the attribute); the point and stamp decode either way."""
    sparse = parse_pointcloud2_cdr(_cdr(with_is_dense=True, is_dense=0))
    dense = parse_pointcloud2_cdr(_cdr(with_is_dense=True, is_dense=1))
    short = parse_pointcloud2_cdr(_cdr(with_is_dense=False))
    assert sparse.is_dense is False and dense.is_dense is True and short.is_dense is False
    cloud = decode_pointcloud2(short).cloud
    assert cloud.xyz_m.tolist() == [[1.0, 2.0, 3.0]]
    assert cloud.timestamp_ns == 3 * 10**9 + 500 and cloud.frame == "lidar"


# --- velodyne_msgs/VelodyneScan helpers --------------------------------------------------


def packet(product_id: int, return_mode: int, flags=(0xEEFF,) * 12, azimuth=100) -> np.ndarray:
    """One 1206-byte packet: 12 blocks of 100 bytes (flag u16 LE, azimuth u16 LE, ...), then
    the timestamp, return mode (byte 1204) and product id (byte 1205)."""
    raw = bytearray(v.PACKET_BYTES)
    for b, flag in enumerate(flags):
        struct.pack_into("<HH", raw, b * v.BLOCK_BYTES, flag, azimuth)
    raw[v.RETURN_MODE_BYTE], raw[v.PRODUCT_ID_BYTE] = return_mode, product_id
    return np.frombuffer(bytes(raw), dtype=np.uint8)


def test_a_tiny_negative_azimuth_wraps_to_zero_not_360() -> None:
    """y = +1e-20 at x = 1 is -5.7e-19 deg clockwise: mod 360 rounds to 360.0, which must read
    0 so that the azimuth stays in [0, 360)."""
    az = v.point_azimuth_deg(np.array([[1.0, 1e-20, 0.0]]))
    assert az.tolist() == [0.0]


def test_empty_last_blocks_of_a_dual_return_vls128_packet_are_not_corrupt() -> None:
    """A VLS-128 (0xA1) dual-return (0x39) packet fills blocks 0..7 only: blocks 8..11 are
    zero (no flag) and are not checked, so the packet is intact."""
    flags = (0xEEFF, 0xDDFF, 0xCCFF, 0xBBFF) * 2 + (0,) * 4
    data = np.stack([packet(0xA1, 0x39, flags)])
    assert v.corrupt_packet_mask(data).tolist() == [False]


def test_empty_blocks_are_corrupt_outside_vls128_dual_return() -> None:
    """The unchecked last 4 blocks are a VLS-128 dual-return exception only: a VLP-16 (0x22)
    dual packet or a VLS-128 strongest-return (0x37) packet with a zero block 11 is corrupt."""
    flags = (0xEEFF,) * 11 + (0,)
    data = np.stack([packet(0x22, 0x39, flags), packet(0xA1, 0x37, flags)])
    assert v.corrupt_packet_mask(data).tolist() == [True, True]


def test_all_four_velodyne_bank_flags_are_intact() -> None:
    """0xEEFF, 0xDDFF, 0xCCFF and 0xBBFF (the 4 laser banks of a VLS-128) are block flags;
    0xAAFF is not."""
    banks = (0xEEFF, 0xDDFF, 0xCCFF, 0xBBFF) * 3
    data = np.stack([packet(0xA1, 0x37, banks), packet(0xA1, 0x37, (0xAAFF,) * 12)])
    assert v.corrupt_packet_mask(data).tolist() == [False, True]


def test_equal_min_and_max_range_is_refused() -> None:
    """``0 <= min_range_m < max_range_m``: an empty range 5 -> 5 is refused."""
    with pytest.raises(ValueError, match="min_range_m"):
        v.VelodyneConfig(min_range_m=5.0, max_range_m=5.0)


def test_a_min_angle_of_360_is_refused() -> None:
    """``0 <= min_angle_deg < 360``: 360 -> 90 is refused (0 -> 90 is the way to say it)."""
    with pytest.raises(ValueError, match="min_angle_deg"):
        v.VelodyneConfig(min_angle_deg=360.0, max_angle_deg=90.0)


def test_point_time_offsets_are_seconds_times_1e9() -> None:
    """The decoder's per-point ``time`` is float seconds: -0.0625 s and 0.125 s (exact in
    float32) become -62_500_000 and 125_000_000 ns."""
    decoder = v.VelodyneDecoder(v.VelodyneConfig())
    names = ("x", "y", "z", "intensity", "ring", "return_type", "time")
    types = ("f4", "f4", "f4", "f4", "u1", "u1", "f4")
    points = np.zeros(2, dtype=list(zip(names, types, strict=True)))
    points["x"] = 1.0
    points["time"] = [-0.0625, 0.125]
    msg = SimpleNamespace(header=SimpleNamespace(frame_id="/velodyne"))
    cloud = decoder._cloud(msg, 7, points)
    assert cloud.attribute(TIME_OFFSET_NS).tolist() == [-62_500_000, 125_000_000]
    assert cloud.frame == "velodyne" and cloud.timestamp_ns == 7


def test_the_scan_stamp_is_the_recorded_packet_stamp_within_a_microsecond() -> None:
    """velodyne-decoder's float seconds are off by up to ~0.1 us at today's epoch: a host time
    0.3 us from the last packet's recorded stamp maps back to that exact integer stamp; one
    2 us from every packet is the float rounded to ns."""
    stamps = [1_700_000_000_000_000_000, 1_700_000_000_100_000_123]
    host = stamps[1] * 1e-9 + 3e-7
    assert v._scan_stamp_ns(host, stamps) == stamps[1]
    far = 1_700_000_000_200_000_000 * 1e-9
    assert v._scan_stamp_ns(far, stamps) == round(far * 1e9)


def test_the_corrupt_reason_lists_ten_packets_then_an_ellipsis() -> None:
    """Up to 10 dropped packets are listed; an 11th turns the tail into ', ...'."""
    cloud = PointCloud.empty("velodyne")
    ten = v.DecodedVelodyneScan(cloud, tuple(range(10)), 20).corrupt_reason()
    eleven = v.DecodedVelodyneScan(cloud, tuple(range(11)), 20).corrupt_reason()
    assert "packets 0, 1, 2, 3, 4, 5, 6, 7, 8, 9 dropped" in ten
    assert "packets 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, ... dropped" in eleven
    assert eleven.startswith("11 of 20 packets corrupt")


# --- other messages ------------------------------------------------------------------------


def test_only_the_leading_slash_of_a_frame_id_is_dropped() -> None:
    """TF2 names frames without ROS 1's leading '/'; other slashes are part of the name."""
    assert m.normalise_frame_id("/ns/velodyne/") == "ns/velodyne/"


def test_bgra8_becomes_rgba_with_alpha_last() -> None:
    """bgra8 pixel (B, G, R, A) = (1, 2, 3, 4) -> RGBA (3, 2, 1, 4): only B and R swap."""
    msg = SimpleNamespace(
        encoding="bgra8", is_bigendian=0, height=1, width=1, step=4, data=bytes([1, 2, 3, 4])
    )
    assert m.decode_image(msg).tolist() == [[[3, 2, 1, 4]]]


def test_the_last_image_row_needs_no_step_padding() -> None:
    """2 rows of one mono8 pixel with step 4 need (2 - 1) * 4 + 1 = 5 bytes; row 1 is byte 4."""
    msg = SimpleNamespace(
        encoding="mono8", is_bigendian=0, height=2, width=1, step=4, data=bytes([9, 0, 0, 0, 8])
    )
    assert m.decode_image(msg).tolist() == [[9], [8]]


def test_odometry_keeps_linear_and_angular_velocity_apart() -> None:
    """twist.linear (1, 2, 3) m/s and twist.angular (4, 5, 6) rad/s land in their own fields."""

    def vec(x: float, y: float, z: float) -> SimpleNamespace:
        return SimpleNamespace(x=x, y=y, z=z)

    msg = SimpleNamespace(
        header=SimpleNamespace(stamp=SimpleNamespace(sec=1, nanosec=2), frame_id="/odom"),
        child_frame_id="base_link",
        pose=SimpleNamespace(
            pose=SimpleNamespace(
                position=vec(0, 0, 0), orientation=SimpleNamespace(w=1, x=0, y=0, z=0)
            )
        ),
        twist=SimpleNamespace(twist=SimpleNamespace(linear=vec(1, 2, 3), angular=vec(4, 5, 6))),
    )
    odo = m.decode_odometry(msg)
    assert odo.linear_velocity_mps.tolist() == [1, 2, 3]
    assert odo.angular_velocity_radps.tolist() == [4, 5, 6]
    assert (odo.timestamp_ns, odo.parent, odo.child) == (1_000_000_002, "odom", "base_link")


def test_camera_info_distortion_of_the_wrong_length_names_field_d() -> None:
    """plumb_bob takes 4 or 5 coefficients: 3 are refused naming the message field ``d``
    (ROS 2 spelling), not the log reader's ``D``."""
    msg = SimpleNamespace(
        k=[500.0, 0, 320, 0, 500.0, 240, 0, 0, 1],
        d=[0.1, 0.2, 0.3],
        distortion_model="plumb_bob",
        width=640,
        height=480,
    )
    with pytest.raises(DataError) as info:
        m.camera_info_to_calibration(msg, name="front", frame="cam", camera_from_ego=SE3.identity())
    assert info.value.field == "d"


# --- Ouster lidar packets (real packets from the shared bag, edited by hand) ---------------

OUSTER_BAG = "ros_bags/ouster_ros1/512x10_raw.bag"
#: RNG15_RFL8_NIR8: 32-byte packet header, 16 columns of a 12-byte header (u64 timestamp,
#: u16 measurement id, u16 status) + 128 pixels of 4 bytes
OS_HEADER, OS_COLUMN = 32, 12 + 128 * 4


@pytest.fixture(scope="module")
def ouster_packets(shared_data) -> tuple[str, list[bytes], list[int]]:
    """The bag's metadata JSON, its 32 lidar packets (one 512-column frame) and log times."""
    pytest.importorskip("ouster.sdk")
    from rosbags.highlevel import AnyReader

    from tests._shared_data import missing_shared_data

    bag = shared_data / OUSTER_BAG
    if not bag.is_file():
        missing_shared_data(f"Ouster bag not found: {bag}")
    with AnyReader([bag]) as reader:
        meta = [c for c in reader.connections if c.topic.endswith("/metadata")]
        lidar = [c for c in reader.connections if c.topic.endswith("/lidar_packets")]
        texts: list[Any] = [reader.deserialize(r, c.msgtype) for c, _, r in reader.messages(meta)]
        packets, times = [], []
        for c, t, raw in reader.messages(lidar):
            msg: Any = reader.deserialize(raw, c.msgtype)
            packets.append(bytes(msg.buf))
            times.append(int(t))
    return str(texts[-1].data), packets, times


def _column(k: int) -> int:
    return OS_HEADER + k * OS_COLUMN


def _decoder(meta: str):
    from drivestack.ingest.rosbag.ouster import OusterDecoder

    return OusterDecoder(meta)


def test_ouster_measurement_id_equal_to_the_frame_width_is_corrupt(ouster_packets) -> None:
    """Measurement ids run 0..511 for 512 columns: a packet whose 16 ids count up by one to
    512 (497..512) has a column past the frame and is refused."""
    meta, packets, _ = ouster_packets
    raw = bytearray(packets[-1])
    for k in range(16):
        struct.pack_into("<H", raw, _column(k) + 8, 497 + k)
    with pytest.raises(DataError, match="measurement ids"):
        _decoder(meta).add_packet(bytes(raw), 1)


def test_ouster_equal_column_timestamps_are_not_going_backwards(ouster_packets) -> None:
    """Only a timestamp below the previous valid column's is corrupt: column 1 stamped like
    column 0 is accepted (no frame completes on the first packet: None)."""
    meta, packets, _ = ouster_packets
    raw = bytearray(packets[0])
    struct.pack_into("<Q", raw, _column(1), struct.unpack_from("<Q", raw, _column(0))[0])
    assert _decoder(meta).add_packet(bytes(raw), 1) is None


def test_ouster_packet_type_other_than_1_is_corrupt(ouster_packets) -> None:
    """The packet header's type (u16 at byte 0) must be 1 (a lidar packet)."""
    meta, packets, _ = ouster_packets
    raw = bytearray(packets[0])
    struct.pack_into("<H", raw, 0, 2)
    with pytest.raises(DataError, match="packet_type"):
        _decoder(meta).add_packet(bytes(raw), 1)


def test_each_ouster_frame_takes_the_time_of_its_own_first_packet(ouster_packets) -> None:
    """The frame fed twice (the second time with frame id + 1, u16 at byte 2, and log times
    shifted by 10**9 ns): the second cloud's time is the second pass's first packet time."""
    meta, packets, times = ouster_packets
    decoder = _decoder(meta)
    clouds = [decoder.add_packet(p, t) for p, t in zip(packets, times, strict=True)]
    for p, t in zip(packets, times, strict=True):
        raw = bytearray(p)
        struct.pack_into("<H", raw, 2, (struct.unpack_from("<H", raw, 2)[0] + 1) % 65536)
        clouds.append(decoder.add_packet(bytes(raw), t + 10**9))
    done = [c for c in clouds if c is not None]
    assert [c.timestamp_ns for c in done] == [times[0], times[0] + 10**9]


def test_ouster_time_offsets_start_at_the_first_valid_column(ouster_packets) -> None:
    """Packet 0's 16 columns made invalid (status 0, timestamp 0): offsets are relative to the
    first column with a timestamp (column 16, packet 1's first), so its offset is 0 and column
    511's is its stamp minus column 16's (not an absolute stamp)."""
    meta, packets, times = ouster_packets
    raw = bytearray(packets[0])
    for k in range(16):
        struct.pack_into("<Q", raw, _column(k), 0)
        struct.pack_into("<H", raw, _column(k) + 10, 0)
    decoder = _decoder(meta)
    edited = [bytes(raw), *packets[1:]]
    clouds = [decoder.add_packet(p, t) for p, t in zip(edited, times, strict=True)]
    cloud = clouds[-1]
    assert cloud is not None
    t16 = struct.unpack_from("<Q", packets[1], _column(0))[0]
    t511 = struct.unpack_from("<Q", packets[31], _column(15))[0]
    offsets = cloud.attribute(TIME_OFFSET_NS)
    columns = cloud.attribute("column")
    assert offsets[columns == 16][:1].tolist() == [0]
    assert offsets[columns == 511][:1].tolist() == [t511 - t16]
