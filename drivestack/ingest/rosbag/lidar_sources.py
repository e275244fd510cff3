"""LiDAR topics of any recorded kind -> :class:`PointCloud`\\s, behind one ``feed`` method.

A LiDAR topic holds ``sensor_msgs/PointCloud2`` (one cloud per message), Velodyne packets
(``velodyne_msgs/VelodyneScan``, one rotation per message) or Ouster packets
(``ouster_ros/PacketMsg`` on ``<ns>/lidar_packets``, a cloud every ``columns_per_frame``
columns, with the sensor JSON on ``<ns>/metadata``). :func:`make_lidar_source` picks the
decoder from the topic's message type. A source that assembles frames from packets says how
many packets it holds when the stream ends (``leftover``): the reader reports them
(``partial_frame``), so that no packet vanishes unreported.
"""

from __future__ import annotations

from typing import Any, Protocol

from drivestack.core.errors import DataError
from drivestack.ingest.rosbag.pointcloud2 import decode_pointcloud2
from drivestack.ingest.rosbag.topic_map import OUSTER_PACKETS, POINTCLOUD2, normalise_msgtype
from drivestack.ingest.rosbag.velodyne import VELODYNE_SCAN, VelodyneConfig, VelodyneDecoder
from drivestack.structures.point_cloud import PointCloud

LIDAR_MSGTYPES = (POINTCLOUD2, VELODYNE_SCAN, *OUSTER_PACKETS)


class LidarSource(Protocol):
    #: non-finite points the last message fed dropped
    num_nonfinite: int
    #: of those, the points dropped from a message that claimed to have none (a PointCloud2
    #: with ``is_dense = true``); the others are the "no return" points of organised clouds
    num_nonfinite_claimed_dense: int
    #: ``(kind, reason)`` of what the last message fed lost but was kept without (e.g.
    #: ``corrupt_packets``): the reader records each in its report (kept)
    repairs: list[tuple[str, str]]

    def feed(self, msg: Any, log_time_ns: int, *, path: str, record: str) -> list[PointCloud]:
        """The clouds this message completes (raises DataError for a bad message)."""
        ...

    def leftover(self) -> int:
        """Messages fed since the last completed cloud (packets of a frame the stream ended
        in the middle of; 0 for sources that make a cloud of every message)."""
        ...


class PointCloud2Source:
    def __init__(self) -> None:
        self.num_nonfinite = 0
        self.num_nonfinite_claimed_dense = 0
        self.repairs: list[tuple[str, str]] = []

    def feed(self, msg: Any, log_time_ns: int, *, path: str, record: str) -> list[PointCloud]:
        self.num_nonfinite = self.num_nonfinite_claimed_dense = 0
        decoded = decode_pointcloud2(msg, path=path, record=record)
        self.num_nonfinite = decoded.num_nonfinite
        if decoded.is_dense:
            self.num_nonfinite_claimed_dense = decoded.num_nonfinite
        return [decoded.cloud]

    def leftover(self) -> int:
        return 0


class VelodyneSource:
    def __init__(self, config: VelodyneConfig) -> None:
        self.num_nonfinite = 0
        self.num_nonfinite_claimed_dense = 0
        self.repairs: list[tuple[str, str]] = []
        self._decoder = VelodyneDecoder(config)

    def feed(self, msg: Any, log_time_ns: int, *, path: str, record: str) -> list[PointCloud]:
        self.repairs = []
        scan = self._decoder.decode(msg, path=path, record=record)
        if scan.corrupt_packets:
            self.repairs = [("corrupt_packets", scan.corrupt_reason())]
        return [scan.cloud]

    def leftover(self) -> int:
        return 0


class OusterSource:
    def __init__(self, metadata_json: str, source: str, frame: str | None = None) -> None:
        from drivestack.ingest.rosbag.ouster import OUSTER_SENSOR_FRAME, OusterDecoder

        self.num_nonfinite = 0
        self.num_nonfinite_claimed_dense = 0
        self.repairs: list[tuple[str, str]] = []
        self._decoder = OusterDecoder(
            metadata_json, frame=frame or OUSTER_SENSOR_FRAME, source=source
        )
        self._pending = 0  # packets of the frame being assembled

    def feed(self, msg: Any, log_time_ns: int, *, path: str, record: str) -> list[PointCloud]:
        self.repairs = []
        try:
            cloud = self._decoder.add_packet(msg.buf, log_time_ns)
        except DataError as exc:
            raise DataError(exc.reason, path=path, record=record, field="buf") from None
        self._pending = 0 if cloud is not None else self._pending + 1
        return [] if cloud is None else [cloud]

    def leftover(self) -> int:
        return self._pending


def ouster_metadata_topic(packet_topic: str) -> str:
    """``/os_node/lidar_packets`` -> ``/os_node/metadata``."""
    return packet_topic.rsplit("/", 1)[0] + "/metadata"


def make_lidar_source(
    msgtype: str,
    *,
    velodyne: VelodyneConfig | None = None,
    ouster_metadata: str | None = None,
    ouster_frame: str | None = None,
    source: str = "<bag>",
) -> LidarSource:
    """The decoder for a LiDAR topic of ``msgtype``; ValueError for other types.
    ``ouster_frame``: the TF frame of an Ouster's points (default ``os_sensor``)."""
    kind = normalise_msgtype(msgtype)
    if kind == POINTCLOUD2:
        return PointCloud2Source()
    if kind == VELODYNE_SCAN:
        return VelodyneSource(velodyne or VelodyneConfig())
    if kind in OUSTER_PACKETS:
        if ouster_metadata is None:
            raise ValueError(f"Ouster packets need the sensor metadata JSON ({source})")
        return OusterSource(ouster_metadata, source, ouster_frame)
    raise ValueError(f"{msgtype} is not a LiDAR message type (known: {LIDAR_MSGTYPES})")
