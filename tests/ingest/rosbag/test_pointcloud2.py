"""PointCloud2 layouts: float32/float64, big-endian, padding, padded rows, NaNs, per-point times."""

from __future__ import annotations

import struct
from types import SimpleNamespace

import numpy as np
import pytest
from rosbags.typesys import Stores, get_typestore

from drivestack.core.errors import DataError
from drivestack.ingest.rosbag.pointcloud2 import decode_pointcloud2
from drivestack.ingest.rosbag.writer import pointcloud2_message

TS = get_typestore(Stores.ROS2_HUMBLE)
MSGTYPE = "sensor_msgs/msg/PointCloud2"
STAMP = 1_600_000_000_250_000_000


def cdr_round_trip(msg):  # through the bytes a bag stores
    return TS.deserialize_cdr(bytes(TS.serialize_cdr(msg, MSGTYPE)), MSGTYPE)


def points(n: int = 40, dtype=np.float32) -> np.ndarray:
    return np.random.default_rng(n).normal(size=(n, 3)).astype(dtype)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("big_endian", [False, True])
@pytest.mark.parametrize("padding", [0, 3])
def test_layouts_decode_exactly(dtype, big_endian: bool, padding: int) -> None:
    xyz = points(dtype=dtype)
    ring = np.arange(40, dtype=np.uint16)
    msg = cdr_round_trip(
        pointcloud2_message(
            TS,
            xyz,
            {"ring": ring, "i": np.arange(40, dtype=np.int8)},
            frame_id="os",
            stamp_ns=STAMP,
            big_endian=big_endian,
            padding_bytes=padding,
        )
    )
    decoded = decode_pointcloud2(msg)
    cloud = decoded.cloud
    assert decoded.num_nonfinite == 0
    assert cloud.frame == "os" and cloud.timestamp_ns == STAMP
    assert cloud.xyz_m.dtype == dtype and cloud.xyz_m.dtype.isnative
    assert np.array_equal(cloud.xyz_m, xyz)
    assert (
        np.array_equal(cloud.attribute("ring"), ring) and cloud.attribute("ring").dtype == np.uint16
    )
    assert np.array_equal(cloud.attribute("i"), np.arange(40))
    # zero-copy exactly when x, y, z are consecutive native floats
    assert np.shares_memory(cloud.xyz_m, msg.data) == (not big_endian and padding == 0)


def test_hand_packed_bytes_with_unordered_fields() -> None:
    """Fields listed out of offset order, z before x, 4 bytes of padding, one uint8 field."""
    fields = [
        SimpleNamespace(name="z", offset=8, datatype=7, count=1),
        SimpleNamespace(name="x", offset=0, datatype=7, count=1),
        SimpleNamespace(name="y", offset=4, datatype=7, count=1),
        SimpleNamespace(name="label", offset=16, datatype=2, count=1),
    ]
    data = struct.pack("<fff4xB3x", 1.5, -2.0, 3.25, 9) + struct.pack(
        "<fff4xB3x", 0.0, 1.0, 2.0, 200
    )
    msg = SimpleNamespace(
        header=SimpleNamespace(stamp=SimpleNamespace(sec=3, nanosec=7), frame_id="l"),
        height=1,
        width=2,
        fields=fields,
        is_bigendian=False,
        point_step=20,
        row_step=40,
        data=data,
        is_dense=True,
    )
    cloud = decode_pointcloud2(msg).cloud
    assert cloud.timestamp_ns == 3_000_000_007
    assert cloud.xyz_m.tolist() == [[1.5, -2.0, 3.25], [0.0, 1.0, 2.0]]
    assert cloud.attribute("label").tolist() == [9, 200]
    # fields other than x / y / z may share bytes (a union such as PCL's rgb / rgba)
    union = SimpleNamespace(name="label_u32", offset=16, datatype=6, count=1)
    cloud = decode_pointcloud2(SimpleNamespace(**{**msg.__dict__, "fields": [*fields, union]}))
    assert cloud.cloud.attribute("label_u32").tolist() == [9, 200]


def test_nans_are_dropped_and_counted_attributes_follow() -> None:
    xyz = points()
    xyz[[3, 17], 1] = np.nan
    xyz[20, 2] = np.inf
    intensity = np.arange(40, dtype=np.float32)
    msg = cdr_round_trip(
        pointcloud2_message(TS, xyz, {"intensity": intensity}, frame_id="l", stamp_ns=STAMP)
    )
    assert msg.is_dense is False
    decoded = decode_pointcloud2(msg)
    keep = np.setdiff1d(np.arange(40), [3, 17, 20])
    assert decoded.num_nonfinite == 3
    assert np.array_equal(decoded.cloud.xyz_m, xyz[keep])
    assert np.array_equal(decoded.cloud.attribute("intensity"), intensity[keep])


def test_organised_cloud_with_padded_rows() -> None:
    xyz = points(24)
    msg = pointcloud2_message(TS, xyz, {}, frame_id="l", stamp_ns=STAMP, height=4)
    row = msg.row_step
    padded = np.zeros(4 * (row + 8), dtype=np.uint8)
    for r in range(4):
        padded[r * (row + 8) : r * (row + 8) + row] = msg.data[r * row : (r + 1) * row]
    msg = type(msg)(**{**msg.__dict__, "row_step": row + 8, "data": padded})
    assert np.array_equal(decode_pointcloud2(cdr_round_trip(msg)).cloud.xyz_m, xyz)


@pytest.mark.parametrize(
    ("field", "values", "expected_ns"),
    [
        ("t", np.array([0, 50_000, 99_000_000], dtype=np.uint32), [0, 50_000, 99_000_000]),
        ("time", np.array([-0.05, 0.0, 0.025], dtype=np.float32), [-50_000_001, 0, 25_000_000]),
        (
            "timestamp",
            np.array([1_600_000_000.25, 1_600_000_000.3, 1_600_000_000.35]),
            [0, 50_000_000, 100_000_000],
        ),
    ],
)
def test_per_point_time_fields(field: str, values: np.ndarray, expected_ns: list[int]) -> None:
    msg = cdr_round_trip(
        pointcloud2_message(TS, points(3), {field: values}, frame_id="l", stamp_ns=STAMP)
    )
    got = decode_pointcloud2(msg).cloud.attribute("time_offset_ns")
    assert got.dtype == np.int64
    np.testing.assert_allclose(got, expected_ns, atol=300)  # float32 / float64-seconds rounding


def test_bad_layouts_name_the_field() -> None:
    msg = pointcloud2_message(TS, points(4), {}, frame_id="l", stamp_ns=STAMP)
    short = type(msg)(**{**msg.__dict__, "data": msg.data[:-1]})
    with pytest.raises(DataError, match=r"bag.db3: /points #5: field data: .* need 48"):
        decode_pointcloud2(short, path="bag.db3", record="/points #5")
    no_z = type(msg)(**{**msg.__dict__, "fields": msg.fields[:2]})
    with pytest.raises(DataError, match="field fields: no 'z' field"):
        decode_pointcloud2(no_z)
    bad_type = [*msg.fields[:2], type(msg.fields[2])(name="z", offset=8, datatype=9, count=1)]
    with pytest.raises(DataError, match=r"fields\[2\] \('z'\): unknown PointField datatype 9"):
        decode_pointcloud2(type(msg)(**{**msg.__dict__, "fields": bad_type}))
    past_end = [*msg.fields[:2], type(msg.fields[2])(name="z", offset=10, datatype=7, count=1)]
    with pytest.raises(DataError, match="does not fit in point_step 12"):
        decode_pointcloud2(type(msg)(**{**msg.__dict__, "fields": past_end}))
    # NumPy reads overlapping fields without a word: a FLOAT64 x over y's bytes decoded as
    # 0.0078, a UINT8 x as whole metres; both decoded silently into wrong coordinates
    field = type(msg.fields[0])
    x_f64 = [field(name="x", offset=0, datatype=8, count=1), *msg.fields[1:]]
    with pytest.raises(DataError, match=r"fields\[0\] \('x'\): bytes 0..7 overlap fields\[1\]"):
        decode_pointcloud2(type(msg)(**{**msg.__dict__, "fields": x_f64}))
    x_u8 = [field(name="x", offset=0, datatype=2, count=1), *msg.fields[1:]]
    with pytest.raises(DataError, match=r"fields\[0\] \('x'\): a coordinate must be one FLOAT32"):
        decode_pointcloud2(type(msg)(**{**msg.__dict__, "fields": x_u8}))
    rgb_over_z = [*msg.fields, field(name="rgba", offset=4, datatype=6, count=1)]
    with pytest.raises(DataError, match=r"\('y'\): bytes 4..7 overlap fields\[3\] \('rgba'"):
        decode_pointcloud2(type(msg)(**{**msg.__dict__, "fields": rgb_over_z}))


def test_cdr_fast_parse_matches_the_generic_deserialiser():
    from rosbags.typesys import Stores, get_typestore

    from drivestack.ingest.rosbag.pointcloud2 import decode_pointcloud2, parse_pointcloud2_cdr
    from drivestack.ingest.rosbag.writer import pointcloud2_message

    typestore = get_typestore(Stores.ROS2_HUMBLE)
    rng = np.random.default_rng(0)
    xyz = rng.normal(size=(257, 3)).astype(np.float32)
    xyz[5] = np.nan
    msg = pointcloud2_message(
        typestore,
        xyz,
        {"intensity": rng.random(257).astype(np.float32)},
        frame_id="velo",
        stamp_ns=1_500_000_123,
    )
    raw = bytes(typestore.serialize_cdr(msg, "sensor_msgs/msg/PointCloud2"))
    fast = decode_pointcloud2(parse_pointcloud2_cdr(raw))
    generic = decode_pointcloud2(typestore.deserialize_cdr(raw, "sensor_msgs/msg/PointCloud2"))
    np.testing.assert_array_equal(fast.cloud.xyz_m, generic.cloud.xyz_m)
    np.testing.assert_array_equal(
        fast.cloud.attributes["intensity"], generic.cloud.attributes["intensity"]
    )
    assert (
        fast.cloud.frame == "velo"
        and fast.cloud.timestamp_ns == 1_500_000_123
        and fast.num_nonfinite == 1
    )
    assert np.shares_memory(parse_pointcloud2_cdr(raw).data, np.frombuffer(raw, dtype=np.uint8))
    with pytest.raises(ValueError):
        parse_pointcloud2_cdr(b"\x00\x00\x00\x00" + raw[4:])  # big-endian CDR: generic route
    with pytest.raises(ValueError, match="runs past"):
        parse_pointcloud2_cdr(raw[: len(raw) // 2])
