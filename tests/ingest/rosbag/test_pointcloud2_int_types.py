"""PointCloud2 decoding on hand-packed bytes: the ROS datatype codes 3 (INT16) and 4 (UINT16)
keep their signedness, and a per-point time field holding absolute (epoch) stamps is made
relative to the header stamp also when some of its points hold 0."""

from __future__ import annotations

import struct
from types import SimpleNamespace

import numpy as np

from drivestack.ingest.rosbag.pointcloud2 import decode_pointcloud2

STAMP_SEC, STAMP_NSEC = 1_600_000_000, 250_000_000


def _message(fields: list[SimpleNamespace], point_step: int, data: bytes, n: int) -> object:
    return SimpleNamespace(
        header=SimpleNamespace(
            stamp=SimpleNamespace(sec=STAMP_SEC, nanosec=STAMP_NSEC), frame_id="lidar"
        ),
        height=1,
        width=n,
        fields=fields,
        is_bigendian=False,
        point_step=point_step,
        row_step=n * point_step,
        data=data,
        is_dense=True,
    )


def _xyz_fields() -> list[SimpleNamespace]:
    return [
        SimpleNamespace(name=axis, offset=4 * i, datatype=7, count=1)  # FLOAT32
        for i, axis in enumerate("xyz")
    ]


def test_int16_and_uint16_fields_keep_their_sign() -> None:
    fields = [
        *_xyz_fields(),
        SimpleNamespace(name="wide", offset=12, datatype=4, count=1),  # UINT16
        SimpleNamespace(name="signed", offset=14, datatype=3, count=1),  # INT16
    ]
    # 40000 does not fit an int16 (it would read -25536); -5 as a uint16 would read 65531
    data = struct.pack("<fffHh", 1.0, 2.0, 3.0, 40000, -5) + struct.pack(
        "<fffHh", 4.0, 5.0, 6.0, 7, 32767
    )
    cloud = decode_pointcloud2(_message(fields, 16, data, 2)).cloud
    assert cloud.attribute("wide").tolist() == [40000, 7]
    assert cloud.attribute("signed").tolist() == [-5, 32767]
    assert cloud.attribute("wide").dtype == np.uint16
    assert cloud.attribute("signed").dtype == np.int16


def test_absolute_point_times_are_made_relative_when_some_points_hold_zero() -> None:
    # A Hesai-style float64 ``timestamp`` field in seconds: point 0 holds 0 (no time), points 1
    # and 2 the epoch stamps 1_600_000_000.30 and .35 s. A field with a value above ~31 years
    # (1e18 ns) holds absolute times and the header stamp (1_600_000_000.25 s) is subtracted:
    # points 1 and 2 fired 50 ms and 100 ms after it. The rule is value by value: the 0 stays
    # at the header stamp (the whole field was shifted, and the 0 read as 50 years before it)
    fields = [*_xyz_fields(), SimpleNamespace(name="timestamp", offset=16, datatype=8, count=1)]
    times = [0.0, 1_600_000_000.30, 1_600_000_000.35]
    data = b"".join(struct.pack("<fff4xd", float(i), 0.0, 0.0, t) for i, t in enumerate(times))
    cloud = decode_pointcloud2(_message(fields, 24, data, 3)).cloud
    assert cloud.timestamp_ns == 1_600_000_000_250_000_000
    offsets = cloud.attribute("time_offset_ns")
    assert offsets.dtype == np.int64
    # float64 seconds near 1.6e9 resolve to about 240 ns
    np.testing.assert_allclose(offsets[1:], [50_000_000, 100_000_000], atol=300)
    assert offsets[0] == 0
