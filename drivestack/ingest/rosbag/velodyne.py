"""Velodyne packet bags (``velodyne_msgs/VelodyneScan``) -> :class:`PointCloud`, with the
maintained ``velodyne-decoder`` library (C++ core, BSD-3; installs from PyPI for Python 3.11).

One ``VelodyneScan`` message (one rotation of 1206-byte packets, as the ROS driver records
it) becomes one cloud in the message's frame: ``xyz_m`` float32 in the sensor frame (x
forward, y left, z up), attributes ``intensity`` (float32), ``ring`` (uint16 laser index
sorted by elevation), ``return_type`` (uint8), ``time_offset_ns`` (int64, per point relative
to the cloud time). The cloud time is the decoder's host stamp of the scan.

Laser calibration comes from a YAML table (``lasers: [{rot_correction, vert_correction,
dist_correction, ...}]``, the format ROS ``velodyne_pointcloud`` and nebula ship) or, when no
file is given, from the tables bundled with ``velodyne-decoder`` for the model.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from drivestack.core.errors import DataError
from drivestack.ingest.rosbag.bag_io import (
    IngestReport,
    iter_bag_messages,
    normalise_msgtype,
    open_bag,
)
from drivestack.structures.point_cloud import TIME_OFFSET_NS, PointCloud

VELODYNE_SCAN = "velodyne_msgs/msg/VelodyneScan"
MODELS = (
    "VLP16",
    "VLP32C",
    "VLP32A",
    "VLP32B",
    "HDL32E",
    "PuckHiRes",
    "PuckLite",
    "VLS128",
    "AlphaPrime",
)


@dataclass(frozen=True)
class VelodyneConfig:
    """Decoder settings. Angles in degrees in the sensor's azimuth convention (clockwise
    from +x seen from above), as ``velodyne-decoder`` takes them.

    Attributes:
        model: sensor model (see :data:`MODELS`); None detects it from the packets' factory
            bytes.
        calibration: laser calibration YAML; None uses the bundled table for ``model``.
        min_range_m, max_range_m: points outside are dropped.
        min_angle_deg, max_angle_deg: azimuth window kept.
        frame: frame id of the clouds; None uses the message header's.
    """

    model: str | None = None
    calibration: Path | None = None
    min_range_m: float = 0.1
    max_range_m: float = 200.0
    min_angle_deg: float = 0.0
    max_angle_deg: float = 360.0
    frame: str | None = None

    def __post_init__(self) -> None:
        if self.model is not None and self.model not in MODELS:
            raise ValueError(f"unknown Velodyne model {self.model!r}; known: {MODELS}")
        if not 0 <= self.min_range_m < self.max_range_m:
            raise ValueError(
                f"need 0 <= min_range_m < max_range_m, got {self.min_range_m}, {self.max_range_m}"
            )


class VelodyneDecoder:
    """Decodes ``VelodyneScan`` messages (ROS 1 or ROS 2, as ``rosbags`` deserialises them)."""

    def __init__(self, config: VelodyneConfig) -> None:
        import velodyne_decoder as vd

        self.config = config
        kwargs: dict[str, Any] = {
            "model": None if config.model is None else getattr(vd.Model, config.model),
            "min_range": config.min_range_m,
            "max_range": config.max_range_m,
            "min_angle": config.min_angle_deg,
            "max_angle": config.max_angle_deg,
        }
        if config.calibration is not None:
            try:
                kwargs["calibration"] = vd.Calibration.read(str(config.calibration))
            except Exception as exc:
                raise DataError(
                    f"cannot read Velodyne calibration: {exc}", path=str(config.calibration)
                ) from None
        self._vd = vd
        self._decoder = vd.ScanDecoder(vd.Config(**kwargs))

    def decode(
        self, msg: Any, *, path: str = "<message>", record: str | int | None = None
    ) -> PointCloud:
        """One ``VelodyneScan`` -> PointCloud (see the module docstring)."""
        vd = self._vd
        packets = vd.PacketVector()
        for k, packet in enumerate(msg.packets):
            data = bytes(packet.data)
            if len(data) != vd.PACKET_SIZE:
                raise DataError(
                    f"packet {k} has {len(data)} bytes, expected {vd.PACKET_SIZE}",
                    path=path,
                    record=record,
                    field="packets",
                )
            packets.append(
                vd.VelodynePacket(int(packet.stamp.sec) + int(packet.stamp.nanosec) * 1e-9, data)
            )
        if len(packets) == 0:
            raise DataError("scan has no packets", path=path, record=record, field="packets")
        try:
            stamp, points = self._decoder.decode(packets, True)
        except Exception as exc:
            raise DataError(
                f"velodyne-decoder failed: {exc}", path=path, record=record, field="packets"
            ) from None
        stamp_ns = round(stamp.host * 1e9)
        xyz = np.stack([points["x"], points["y"], points["z"]], axis=1)
        attributes = {
            "intensity": np.ascontiguousarray(points["intensity"]),
            "ring": np.ascontiguousarray(points["ring"]),
            "return_type": np.ascontiguousarray(points["return_type"]),
            TIME_OFFSET_NS: np.rint(points["time"].astype(np.float64) * 1e9).astype(np.int64),
        }
        frame = self.config.frame or str(msg.header.frame_id) or "velodyne"
        return PointCloud(xyz, frame, stamp_ns, attributes)


def read_velodyne_bag(
    path: str | Path,
    config: VelodyneConfig,
    *,
    topic: str | None = None,
    report: IngestReport | None = None,
) -> Iterator[PointCloud]:
    """Every ``VelodyneScan`` on ``topic`` (default: the only such topic) as a PointCloud.

    Messages that fail to decode are skipped and recorded in ``report`` (kind ``decode``).
    """
    path = Path(path)
    report = report if report is not None else IngestReport(str(path))
    decoder = VelodyneDecoder(config)
    with open_bag(path) as reader:
        topics = sorted(
            {c.topic for c in reader.connections if normalise_msgtype(c.msgtype) == VELODYNE_SCAN}
        )
        if topic is None:
            if len(topics) != 1:
                raise DataError(
                    f"expected one {VELODYNE_SCAN} topic, found {topics}; name one", path=str(path)
                )
            topic = topics[0]
        elif topic not in topics:
            raise DataError(f"no {VELODYNE_SCAN} topic {topic!r}; found {topics}", path=str(path))
        for name, i, stamp, msg in iter_bag_messages(reader, {topic}, report):
            try:
                yield decoder.decode(msg, path=str(path), record=f"{name} #{i}")
            except DataError as exc:
                report.skip(name, i, stamp, "decode", exc.reason)
