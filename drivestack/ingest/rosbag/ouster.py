"""Ouster packet bags (``ouster_ros/PacketMsg`` + the sensor metadata JSON) -> :class:`PointCloud`,
decoded with ``ouster-sdk`` (packet parsing, scan batching, the XYZ look-up table).

The bag holds ``<ns>/metadata`` (``std_msgs/String``: the sensor JSON with beam intrinsics,
data format and UDP profile) and ``<ns>/lidar_packets`` (``uint8[] buf``). Packets are batched
into full frames (``columns_per_frame`` columns); each frame becomes one cloud in the sensor
frame (``os_sensor``, metres, ``lidar_to_sensor_transform`` applied) holding the pixels with a
return (range > 0). Attributes: every channel field of the UDP profile in lower case
(``range_mm``, ``reflectivity``, ``near_ir``, ``signal``, ...; ``RANGE2`` as ``range2_mm``),
``ring`` (beam index, uint16), ``column`` (uint16) and ``time_offset_ns`` (column timestamp
minus the first valid column's).

Dual-return profiles (``*_DUAL``: ``RANGE2`` and the other ``*2`` fields) give a point for each
return: first the pixels whose first (strongest) return has a range, in the order of a
single-return cloud, then the pixels whose second (second-strongest) return has one, placed by
``RANGE2``. Their clouds carry ``return_type`` (uint8; the attribute the Velodyne packets' points
carry): 1 for a first return, 2 for a second; each point keeps all its pixel's fields (a second
return's own range is ``range2_mm``, its signal ``signal2``, ...). Single-return clouds have no
``return_type``.
The cloud time is the bag time of the frame's first packet (sensor clocks are often free
running; the column timestamps only give offsets).

``ouster-sdk`` pins an old ``rosbags`` (``==0.9.23``); drivestack reads the bag with its own
``rosbags`` and uses only the SDK's packet and geometry code, so install the SDK with
``pip install --no-deps ouster-sdk`` next to a current ``rosbags``.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from drivestack.core.errors import DataError, MissingDependencyError
from drivestack.ingest.rosbag.bag_io import IngestReport, iter_bag_messages, open_bag
from drivestack.structures.point_cloud import TIME_OFFSET_NS, PointCloud

OUSTER_SENSOR_FRAME = "os_sensor"
#: Ouster channel fields whose attribute name is not the lower-case field name
_ATTRIBUTE_NAMES = {"RANGE": "range_mm", "RANGE2": "range2_mm"}


def _sdk() -> Any:
    try:
        from ouster.sdk import core
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise MissingDependencyError(
            "Ouster packet bags need ouster-sdk: pip install --no-deps ouster-sdk"
        ) from exc
    return core


class OusterDecoder:
    """Batches Ouster lidar packets into frames for one sensor (metadata JSON text)."""

    def __init__(
        self, metadata_json: str, *, frame: str = OUSTER_SENSOR_FRAME, source: str = "<metadata>"
    ) -> None:
        core = _sdk()
        try:
            self.info = core.SensorInfo(metadata_json)
        except Exception as exc:
            raise DataError(
                f"invalid Ouster sensor metadata: {exc}", path=source, field="metadata"
            ) from None
        self.frame = frame
        self._core = core
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)  # ScanBatcher/LidarScan renamed in 1.x
            self._format = core.PacketFormat(self.info)
            self._batcher = core.ScanBatcher(self.info)
            self._scan = core.LidarScan(self.info)
        self._xyz = core.XYZLut(self.info, use_extrinsics=False)
        self._first_ns: int | None = None

    @property
    def packet_size(self) -> int:
        return int(self._format.lidar_packet_size)

    def add_packet(self, buf: np.ndarray | bytes, time_ns: int) -> PointCloud | None:
        """Feed one packet; returns a cloud when it completes a frame.

        DataError, before the packet is used, for a packet of the wrong size or a corrupt
        one: a header that is not this sensor's, column measurement ids that do not count up
        by one, or column timestamps going backwards (the profiles' pixel data carry no
        checksum, so corrupt pixels under intact headers cannot be told).
        """
        data = np.frombuffer(bytes(buf), dtype=np.uint8)
        if data.size != self.packet_size:
            raise DataError(
                f"lidar packet has {data.size} bytes, the {self.info.format.udp_profile_lidar} profile needs {self.packet_size}"
            )
        problem = self._packet_problem(data)
        if problem is not None:
            raise DataError(f"corrupt lidar packet: {problem}")
        if self._first_ns is None:
            self._first_ns = int(time_ns)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)
            packet = self._core.LidarPacket(self.packet_size)
            packet.buf[:] = data
            packet.host_timestamp = int(time_ns)
            complete = bool(self._batcher(packet, self._scan))
        if not complete:
            return None
        cloud = self._cloud(self._first_ns)
        self._first_ns = None
        return cloud

    def _packet_problem(self, data: np.ndarray) -> str | None:
        """What makes a packet of the right size corrupt, or None: a packet header (type,
        ``init_id``, serial number) not this sensor's, column measurement ids that do not
        count up by one inside the frame, or valid columns' timestamps going backwards."""
        fmt, info = self._format, self.info
        if info.format.udp_profile_lidar != self._core.UDPProfileLidar.LEGACY:
            header = {
                "packet_type": (int(fmt.packet_type(data)), 1),
                "init_id": (int(fmt.init_id(data)), int(info.init_id) or None),
                "prod_sn": (int(fmt.prod_sn(data)), int(info.sn) or None),
            }
            for name, (got, expected) in header.items():
                if expected is not None and got != expected:
                    return f"header {name} {got}, expected {expected} (the sensor metadata's)"
        columns = self._core.ColHeader
        ids = fmt.packet_header(columns.MEASUREMENT_ID, data).astype(np.int64)
        width = int(info.format.columns_per_frame)
        if np.any(np.diff(ids) != 1) or ids[-1] >= width:
            listed = ids.tolist()
            return f"column measurement ids {listed} do not count up by one within 0..{width - 1}"
        valid = (fmt.packet_header(columns.STATUS, data) & 1) == 1
        stamps = fmt.packet_header(columns.TIMESTAMP, data).astype(np.uint64)[valid]
        if np.any(stamps[1:] < stamps[:-1]):
            return "column timestamps go backwards"
        return None

    def _cloud(self, stamp_ns: int) -> PointCloud:
        """The frame in ``self._scan`` as one cloud: ``(N, 3)`` float32 points of the pixels
        with a first return, then (dual-return profiles) those with a second return."""
        scan = self._scan
        core = self._core
        fields = [str(name) for name in scan.fields]
        ranges = [scan.field(core.ChanField.RANGE)]
        if "RANGE2" in fields:
            ranges.append(scan.field(core.ChanField.RANGE2))
        column_ns = scan.timestamp.astype(np.int64)
        valid = column_ns > 0
        t0 = int(column_ns[valid].min()) if valid.any() else 0
        offsets = np.where(valid, column_ns - t0, 0)
        parts: list[dict[str, np.ndarray]] = []
        for rng in ranges:
            keep = rng > 0
            beams, columns = np.nonzero(keep)
            part = {
                "xyz": self._xyz(rng)[keep].astype(np.float32),
                "ring": beams.astype(np.uint16),
                "column": columns.astype(np.uint16),
                TIME_OFFSET_NS: offsets[columns],
            }
            for name in fields:
                part[_ATTRIBUTE_NAMES.get(name, name.lower())] = scan.field(name)[keep]
            parts.append(part)
        if len(parts) == 1:
            xyz = parts[0].pop("xyz")
            return PointCloud(xyz, self.frame, stamp_ns, parts[0])
        merged = {key: np.concatenate([p[key] for p in parts]) for key in parts[0]}
        merged["return_type"] = np.repeat(
            np.arange(1, len(parts) + 1, dtype=np.uint8), [len(p["ring"]) for p in parts]
        )
        xyz = merged.pop("xyz")
        return PointCloud(xyz, self.frame, stamp_ns, merged)


def read_ouster_bag(
    path: str | Path, *, namespace: str | None = None, report: IngestReport | None = None
) -> Iterator[PointCloud]:
    """Yields the full frames of an Ouster packet bag (``<namespace>/metadata`` +
    ``/lidar_packets``) as PointClouds, lazily: a generator, ``list(read_ouster_bag(...))``
    for a list.

    A partial frame at the end is recorded in ``report`` (kind ``partial_frame``); packets of
    the wrong size, corrupt ones (:meth:`OusterDecoder.add_packet`) and ones that fail to
    decode are recorded (kind ``decode``) and skipped: their frame then lacks their columns,
    or never completes (and its packets are reported as ``partial_frame``).
    """
    path = Path(path)
    report = report if report is not None else IngestReport(str(path))
    with open_bag(path) as reader:
        namespaces = sorted(
            {
                c.topic.rsplit("/", 1)[0]
                for c in reader.connections
                if c.topic.endswith("/lidar_packets")
            }
        )
        if namespace is None:
            if len(namespaces) != 1:
                raise DataError(
                    f"expected one */lidar_packets topic, found namespaces {namespaces}",
                    path=str(path),
                )
            namespace = namespaces[0]
        meta_topic, packet_topic = f"{namespace}/metadata", f"{namespace}/lidar_packets"
        metadata = [msg.data for _, _, _, msg in iter_bag_messages(reader, {meta_topic}, report)]
        if not metadata:
            raise DataError(
                f"no sensor metadata on {meta_topic}", path=str(path), record=meta_topic
            )
        decoder = OusterDecoder(metadata[-1], source=f"{path}:{meta_topic}")
        pending, last = 0, (-1, 0)
        # PacketMsg has no header: the yielded time is the bag's log time
        for topic, i, log_ns, msg in iter_bag_messages(reader, {packet_topic}, report):
            last = (i, log_ns)
            try:
                cloud = decoder.add_packet(msg.buf, log_ns)
            except DataError as exc:
                report.skip(topic, i, log_ns, "decode", exc.reason)
                continue
            pending += 1
            if cloud is not None:
                pending = 0
                yield cloud
        if pending:
            report.skip(
                packet_topic,
                last[0],
                last[1],
                "partial_frame",
                f"{pending} packets after the last full frame",
            )
