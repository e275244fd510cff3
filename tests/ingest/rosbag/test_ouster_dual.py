"""Ouster dual-return profiles: the second returns (RANGE2) are points too, tagged by
``return_type``. The shared bag's sensor metadata set to a dual profile; the frame's fields
filled by hand (ouster-sdk builds the frame buffer; no dual-return packet bag is public)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from rosbags.highlevel import AnyReader

from drivestack.ingest.rosbag.ouster import OusterDecoder

pytest.importorskip("ouster.sdk")
pytestmark = pytest.mark.data

DUAL = "RNG19_RFL8_SIG16_NIR16_DUAL"
T_NS = 1_700_000_000_000_000_000


def metadata(shared_data: Path, profile: str | None) -> str:
    """The shared bag's sensor JSON, with ``udp_profile_lidar`` set to ``profile``."""
    bag = shared_data / "ros_bags/ouster_ros1/512x10_raw.bag"
    with AnyReader([bag]) as reader:
        (conn,) = [c for c in reader.connections if c.topic.endswith("/metadata")]
        _, _, raw = next(iter(reader.messages(connections=[conn])))
        meta = json.loads(reader.deserialize(raw, conn.msgtype).data)
    if profile is not None:
        meta["lidar_data_format"]["udp_profile_lidar"] = profile
    return json.dumps(meta)


def filled(decoder: OusterDecoder, ranges: dict[str, np.ndarray]) -> Any:
    """The decoder's frame buffer with ``ranges`` (field name -> (H, W) mm) and column times."""
    from ouster.sdk import core

    scan = decoder._scan  # the buffer packets are batched into (no dual-return bag to feed)
    for name, values in ranges.items():
        scan.field(getattr(core.ChanField, name))[:] = values
    scan.timestamp[:] = 10**9 + 1000 * np.arange(scan.w)
    return scan


def test_dual_return_pixels_give_a_point_per_return(shared_data: Path) -> None:
    decoder = OusterDecoder(metadata(shared_data, DUAL))
    h, w = decoder._scan.h, decoder._scan.w
    first, second = np.zeros((h, w), np.uint32), np.zeros((h, w), np.uint32)
    first[:, :10] = 5000  # 10 columns with both returns
    second[:, :10] = 9000
    second[:, 10:20] = 7000  # 10 columns with a second return only (no first)
    filled(decoder, {"RANGE": first, "RANGE2": second})
    cloud = decoder._cloud(T_NS)

    assert len(cloud) == 10 * h + 20 * h
    return_type = cloud.attribute("return_type")
    assert return_type.dtype == np.uint8
    assert return_type.tolist() == [1] * (10 * h) + [2] * (20 * h)
    assert "range2_mm" in cloud.attributes and "range2" not in cloud.attributes
    range_mm, range2_mm = cloud.attribute("range_mm"), cloud.attribute("range2_mm")
    assert set(range_mm[return_type == 1].tolist()) == {5000}
    assert set(range2_mm[return_type == 2].tolist()) == {9000, 7000}
    columns = cloud.attribute("column")
    assert sorted(set(columns[return_type == 2].tolist())) == list(range(20))

    # a second return sits where a first return of its range would: decode the same pixels
    # with RANGE2 as the only range and compare
    reference = OusterDecoder(metadata(shared_data, DUAL))
    filled(reference, {"RANGE": second, "RANGE2": np.zeros_like(second)})
    alone = reference._cloud(T_NS)
    assert "return_type" in alone.attributes  # a dual profile always tags its points
    np.testing.assert_array_equal(cloud.xyz_m[return_type == 2], alone.xyz_m)
    distances = np.linalg.norm(cloud.xyz_m, axis=1)
    assert (
        distances[return_type == 1].max()
        < distances[columns < 10][return_type[columns < 10] == 2].min()
    )


def test_single_return_profiles_have_no_return_type(shared_data: Path) -> None:
    decoder = OusterDecoder(metadata(shared_data, None))
    h, w = decoder._scan.h, decoder._scan.w
    first = np.zeros((h, w), np.uint32)
    first[:, :5] = 4000
    filled(decoder, {"RANGE": first})
    cloud = decoder._cloud(T_NS)
    assert len(cloud) == 5 * h
    assert "return_type" not in cloud.attributes
    assert set(cloud.attribute("range_mm").tolist()) == {4000}
