"""Velodyne packet bags (``velodyne_msgs/VelodyneScan``) -> :class:`PointCloud`, with the
maintained ``velodyne-decoder`` library (C++ core, BSD-3; installs from PyPI for Python 3.11).

One ``VelodyneScan`` message (one rotation of 1206-byte packets, as the ROS driver records
it) becomes one cloud in the message's frame: ``xyz_m`` float32 in the sensor frame (x
forward, y left, z up), attributes ``intensity`` (float32), ``ring`` (uint8 laser index
sorted by elevation, 0 the lowest), ``return_type`` (uint8, ``velodyne-decoder``'s
``ReturnMode``: 1 the strongest return, 2 the last return, 3 both at once: in dual-return mode
a laser whose strongest return is its last gives one point marked 3; single-return packets
mark every point with their mode, 1 or 2. nebula's clouds use their own codes, 4..10, for the
same idea), ``time_offset_ns`` (int64, per point relative to the cloud time).

The cloud time is the stamp of the scan's last intact packet (``velodyne-decoder`` stamps a
scan with its last packet, as the ROS ``velodyne_driver`` stamps a ``VelodyneScan``), in
integer nanoseconds as recorded: ``velodyne-decoder`` takes packet stamps as float seconds,
which lose up to ~0.1 us at today's epoch, so only its per-point offsets are used.
``time_offset_ns`` is mostly negative (the points before the last packet: about -100 ms ..
+1 ms at 10 Hz). The message's header stamp is often another packet's (nebula stamps the
header with the first packet, ~one rotation earlier): an ingest report entry about a message
that made no cloud (``decode``, ``time_backwards``, ...) carries that header stamp, while the
frame and the entries about its cloud (``missing_tf``, ``no_ego_pose``, ...) carry the cloud
time. Match report entries to frames by topic and message index (a frame's ``source`` ends in
``<topic>#<index>``), not by time.

Laser calibration comes from a YAML table (``lasers: [{rot_correction, vert_correction,
dist_correction, ...}]``, the format ROS ``velodyne_pointcloud`` and nebula ship) or, when no
file is given, from the tables bundled with ``velodyne-decoder`` for the model. A table file
that is missing or holds no ``lasers`` list is refused when the decoder is built
(:func:`check_calibration_table`; :func:`~drivestack.ingest.rosbag.topic_map.load_rosbag_config`
checks it when it reads the ingest YAML). A table whose laser count does not fit the model
(configured, or detected from the packets' factory bytes), and a configured model that the
packets' product id (factory byte 1205) contradicts, are refused
(:class:`CalibrationMismatchError`, :class:`ModelMismatchError`: configuration errors): they
would decode every scan wrongly, so reading stops.

The azimuth window (``min_angle_deg`` -> ``max_angle_deg``) is applied here, to each point's
own azimuth ``atan2(-y, x)`` clockwise from +x, after decoding: ``velodyne-decoder``'s
``min_angle`` / ``max_angle`` read 360 as 0 and a window with min > max as the sector from
max to min, and filter on the laser's firing azimuth before its ``rot_correction`` (nebula
and ROS ``velodyne_pointcloud`` filter on that firing azimuth too, so their clouds reach up
to the largest ``rot_correction``, ~4 degrees on a VLP-32C, past the window's edges).

Packets whose firing blocks do not start with a Velodyne block flag or hold an azimuth of
360 degrees or more (corrupt bytes) are dropped before decoding and listed in
:attr:`DecodedVelodyneScan.corrupt_packets`, so that the readers report them.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from drivestack.core.errors import ConfigError, DataError
from drivestack.ingest.rosbag.bag_io import (
    IngestReport,
    iter_bag_messages,
    normalise_msgtype,
    open_bag,
)
from drivestack.ingest.rosbag.messages import normalise_frame_id
from drivestack.structures.point_cloud import TIME_OFFSET_NS, PointCloud

VELODYNE_SCAN = "velodyne_msgs/msg/VelodyneScan"
#: model -> its number of lasers (the rows a calibration table for it has)
MODEL_LASERS = {
    "VLP16": 16,
    "VLP32C": 32,
    "VLP32A": 32,
    "VLP32B": 32,
    "HDL32E": 32,
    "PuckHiRes": 16,
    "PuckLite": 16,
    "VLS128": 128,
    "AlphaPrime": 128,
}
MODELS = tuple(MODEL_LASERS)
#: model -> the product id (packet factory byte 1205) of its packets
MODEL_PRODUCT_IDS = {
    "VLP16": 0x22,
    "PuckLite": 0x22,
    "PuckHiRes": 0x24,
    "VLP32C": 0x28,
    "VLP32A": 0x23,
    "VLP32B": 0x23,
    "HDL32E": 0x21,
    "VLS128": 0xA1,
    "AlphaPrime": 0xA1,
}
#: packet factory byte 1205 (product id) -> its model family
_PRODUCT_FAMILIES = {
    0x21: "HDL-32E",
    0x22: "VLP-16 / Puck LITE",
    0x23: "VLP-32A/B",
    0x24: "Puck Hi-Res",
    0x28: "VLP-32C",
    0xA1: "VLS-128 / Alpha Prime",
}
#: packet factory byte 1205 (product id) -> (model family, number of lasers): the lasers of
#: its models (the models of one product id have the same number)
PRODUCT_IDS = {
    pid: (family, next(MODEL_LASERS[m] for m, p in MODEL_PRODUCT_IDS.items() if p == pid))
    for pid, family in _PRODUCT_FAMILIES.items()
}
PACKET_BYTES, BLOCKS_PER_PACKET, BLOCK_BYTES = 1206, 12, 100
PRODUCT_ID_BYTE, RETURN_MODE_BYTE, DUAL_RETURN = 1205, 1204, 0x39
#: the first two bytes of a firing block (laser banks of the 16/32/64/128-laser models)
BLOCK_FLAGS = (0xEEFF, 0xDDFF, 0xCCFF, 0xBBFF)
AZIMUTH_UNITS_PER_TURN = 36000  # packet azimuths are hundredths of a degree


@dataclass(frozen=True)
class VelodyneConfig:
    """Decoder settings. Angles in degrees in the sensor's azimuth convention (clockwise
    from +x seen from above).

    Attributes:
        model: sensor model (see :data:`MODELS`); None detects it from the packets' factory
            bytes.
        calibration: laser calibration YAML; None uses the bundled table for ``model``.
        min_range_m, max_range_m: points outside are dropped.
        min_angle_deg, max_angle_deg: azimuth window kept, from ``min_angle_deg`` clockwise
            to ``max_angle_deg`` (``min <= azimuth < max``; wraps past 0 when min > max:
            270 -> 90 keeps the front half). ``0 <= min_angle_deg < 360``,
            ``0 <= max_angle_deg <= 360``, the two different; 0 -> 360 keeps everything.
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
        lo, hi = self.min_angle_deg, self.max_angle_deg
        if not (0 <= lo < 360 and 0 <= hi <= 360 and lo != hi):
            raise ValueError(
                "need 0 <= min_angle_deg < 360, 0 <= max_angle_deg <= 360 and the two "
                f"different (0 and 360 keep everything), got {lo}, {hi}"
            )

    @property
    def window_width_deg(self) -> float:
        """Width of the azimuth window, degrees in (0, 360]."""
        width = self.max_angle_deg - self.min_angle_deg
        return width if width > 0 else width + 360.0


class CalibrationMismatchError(ConfigError):
    """The Velodyne settings do not fit the sensor (a calibration table for another model):
    every scan would decode to wrong points, so reading stops instead of skipping messages
    one by one. A configuration error (``ConfigError``): ``drivestack replay`` reports it as
    one line, exit status 2, and writes nothing."""


class ModelMismatchError(CalibrationMismatchError):
    """A configured ``model`` that the packets' product id (factory byte 1205) contradicts:
    the decoder would refuse (or misread) every scan."""


@dataclass(frozen=True)
class DecodedVelodyneScan:
    """One decoded ``VelodyneScan``: the cloud and the packets dropped as corrupt.

    Attributes:
        cloud: the points of the scan's intact packets, inside the range and azimuth window.
        corrupt_packets: indexes of the packets dropped (bad block flag or azimuth).
        num_packets: packets in the message.
    """

    cloud: PointCloud
    corrupt_packets: tuple[int, ...]
    num_packets: int

    def corrupt_reason(self) -> str:
        """One line for the ingest report (empty when no packet was dropped)."""
        bad = self.corrupt_packets
        if not bad:
            return ""
        listed = ", ".join(map(str, bad[:10])) + (", ..." if len(bad) > 10 else "")
        return (
            f"{len(bad)} of {self.num_packets} packets corrupt (a firing block without a "
            f"Velodyne block flag or with an azimuth >= 360 deg): packets {listed} dropped, "
            "the cloud lacks their points"
        )


def point_azimuth_deg(xyz_m: npt.NDArray[np.floating[Any]]) -> npt.NDArray[np.float64]:
    """``(N, 3)`` points -> ``(N,)`` azimuth in degrees clockwise from +x seen from above,
    in [0, 360)."""
    azimuth = np.mod(-np.degrees(np.arctan2(xyz_m[:, 1], xyz_m[:, 0], dtype=np.float64)), 360.0)
    return np.where(azimuth >= 360.0, 0.0, azimuth)  # mod of a tiny negative rounds to 360


def azimuth_window_mask(
    xyz_m: npt.NDArray[np.floating[Any]], min_angle_deg: float, width_deg: float
) -> npt.NDArray[np.bool_]:
    """``(N,)`` True for the points whose azimuth (:func:`point_azimuth_deg`) lies in
    ``[min_angle_deg, min_angle_deg + width_deg)`` going clockwise, wrapping past 360."""
    if width_deg >= 360.0:
        return np.ones(len(xyz_m), dtype=bool)
    return np.mod(point_azimuth_deg(xyz_m) - min_angle_deg, 360.0) < width_deg


def corrupt_packet_mask(data: npt.NDArray[np.uint8]) -> npt.NDArray[np.bool_]:
    """``(P, 1206)`` packet bytes -> ``(P,)`` True for a packet with a firing block that does
    not start with a block flag (:data:`BLOCK_FLAGS`) or holds an azimuth >= 36000 (0.01
    deg). The last 4 blocks of a dual-return VLS-128 packet are empty and not checked."""
    blocks = data[:, : BLOCKS_PER_PACKET * BLOCK_BYTES].reshape(len(data), BLOCKS_PER_PACKET, -1)
    words = blocks[:, :, :4].astype(np.uint16)
    flag = words[:, :, 0] | (words[:, :, 1] << 8)
    azimuth = words[:, :, 2] | (words[:, :, 3] << 8)
    bad = ~np.isin(flag, BLOCK_FLAGS) | (azimuth >= AZIMUTH_UNITS_PER_TURN)
    vls_dual = (data[:, PRODUCT_ID_BYTE] == 0xA1) & (data[:, RETURN_MODE_BYTE] == DUAL_RETURN)
    bad[vls_dual, 8:] = False
    return np.asarray(bad.any(axis=1))


def calibration_laser_count(path: Path) -> int | None:
    """Rows of the ``lasers`` list of a calibration YAML (None when it has no such list)."""
    import yaml

    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError, UnicodeDecodeError):
        return None
    lasers = doc.get("lasers") if isinstance(doc, dict) else None
    return len(lasers) if isinstance(lasers, list) else None


def check_calibration_table(path: Path, model: str | None = None) -> int:
    """The number of lasers of the calibration YAML at ``path``, checked as far as it can be
    without packets: the file exists, ``velodyne-decoder`` reads it, it holds a ``lasers``
    list, and (for a configured ``model``) the list has that model's number of lasers.

    Raises:
        DataError: naming the file: missing, unreadable, or not a calibration table.
        CalibrationMismatchError: the table is for a model with another number of lasers.
    """
    return _read_calibration_table(path, model)[1]


def _read_calibration_table(path: Path, model: str | None = None) -> tuple[Any, int]:
    """The ``velodyne_decoder.Calibration`` read from ``path`` and its number of lasers,
    checked as :func:`check_calibration_table` says (the same errors)."""
    import velodyne_decoder as vd

    if not path.is_file():
        what = "a folder, not a file" if path.is_dir() else "no such file"
        raise DataError(f"Velodyne calibration table: {what}", path=str(path))
    try:
        calibration = vd.Calibration.read(str(path))
    except Exception as exc:
        raise DataError(
            "not a Velodyne calibration table (a YAML file with `lasers: [{rot_correction, "
            "vert_correction, ...}]`, as ROS velodyne_pointcloud and nebula ship): "
            f"{' '.join(str(exc).split())}",
            path=str(path),
        ) from None
    lasers = calibration_laser_count(path)
    if lasers is None:
        raise DataError(
            "not a Velodyne calibration table: no `lasers` list", path=str(path), field="lasers"
        )
    if model is not None and lasers != MODEL_LASERS[model]:
        raise CalibrationMismatchError(
            _table_mismatch(lasers, f"model {model} has {MODEL_LASERS[model]}"),
            path=str(path),
            field="lasers",
        )
    return calibration, lasers


def _table_mismatch(table_lasers: int, sensor: str) -> str:
    """The reason of a :class:`CalibrationMismatchError` (``sensor``: a clause saying whose
    laser count the table's is not)."""
    return (
        f"the calibration table has {table_lasers} lasers but {sensor}: a table for another "
        "model (give the sensor's own table, or none for the bundled one)"
    )


def _models_of(product_id: int) -> str:
    """``0x22`` -> ``"VLP16 or PuckLite"``: the model names of packets of that product id."""
    return " or ".join(m for m, pid in MODEL_PRODUCT_IDS.items() if pid == product_id)


class VelodyneDecoder:
    """Decodes ``VelodyneScan`` messages (ROS 1 or ROS 2, as ``rosbags`` deserialises them).

    Raises DataError at construction for a calibration file that is missing or not a table
    (:func:`check_calibration_table`); CalibrationMismatchError (at construction for a
    configured model, at each scan for a detected one) when the calibration table's laser
    count is not the sensor's; ModelMismatchError (at each scan) when a configured model is
    not the one the packets' product id names.
    """

    def __init__(self, config: VelodyneConfig) -> None:
        import velodyne_decoder as vd

        self.config = config
        # the azimuth window is applied after decoding (module docstring): none here
        kwargs: dict[str, Any] = {
            "model": None if config.model is None else getattr(vd.Model, config.model),
            "min_range": config.min_range_m,
            "max_range": config.max_range_m,
        }
        self._calibration_lasers: int | None = None
        if config.calibration is not None:
            calibration, self._calibration_lasers = _read_calibration_table(
                config.calibration, config.model
            )
            kwargs["calibration"] = calibration
        self._vd = vd
        self._decoder = vd.ScanDecoder(vd.Config(**kwargs))

    def _check_packet_model(
        self, data: npt.NDArray[np.uint8], intact: npt.NDArray[np.bool_], path: str, where: str
    ) -> None:
        """The settings against the model the packets' factory bytes name (the most common
        product id of the intact packets; unknown product ids are left to the decoder): a
        configured model must be that model (:class:`ModelMismatchError`), a calibration
        table must have its number of lasers (:class:`CalibrationMismatchError`).
        ``where``: the message, for the error."""
        if (self.config.model is None and self._calibration_lasers is None) or not intact.any():
            return
        product_id = int(np.argmax(np.bincount(data[intact, PRODUCT_ID_BYTE], minlength=256)))
        if product_id not in PRODUCT_IDS:
            return
        model = self.config.model
        if model is not None and MODEL_PRODUCT_IDS[model] != product_id:
            raise ModelMismatchError(
                f"model {model}, but the packets of {where} come from a "
                f"{PRODUCT_IDS[product_id][0]} (product id 0x{product_id:02x} in their factory "
                f"bytes): set model {_models_of(product_id)}, or leave model out to detect it",
                path=path,
                field="model",
            )
        lasers = PRODUCT_IDS[product_id][1]
        table = self._calibration_lasers
        if model is None and table is not None and table != lasers:
            sensor = (
                f"the packets of {where} come from a {lasers}-laser "
                f"{PRODUCT_IDS[product_id][0]} (factory bytes)"
            )
            raise CalibrationMismatchError(
                _table_mismatch(table, sensor), path=str(self.config.calibration), field="lasers"
            )

    def _packets(
        self, msg: Any, path: str, record: str | int | None
    ) -> tuple[list[bytes], npt.NDArray[np.uint8], list[int]]:
        """The packets' bytes (as the decoder takes them), the same as a ``(P, 1206)`` array
        (for the checks) and their stamps (integer ns); DataError for a packet of another size
        or a scan without packets."""
        raw, stamps = [], []
        for k, packet in enumerate(msg.packets):
            data = bytes(packet.data)
            if len(data) != PACKET_BYTES:
                raise DataError(
                    f"packet {k} has {len(data)} bytes, expected {PACKET_BYTES}",
                    path=path,
                    record=record,
                    field="packets",
                )
            raw.append(data)
            stamps.append(int(packet.stamp.sec) * 1_000_000_000 + int(packet.stamp.nanosec))
        if not raw:
            raise DataError("scan has no packets", path=path, record=record, field="packets")
        array = np.frombuffer(b"".join(raw), dtype=np.uint8).reshape(len(raw), PACKET_BYTES)
        return raw, array, stamps

    def decode(
        self, msg: Any, *, path: str = "<message>", record: str | int | None = None
    ) -> DecodedVelodyneScan:
        """One ``VelodyneScan`` -> its cloud (see the module docstring) and corrupt packets.

        DataError when it has no (intact) packet or the decoder fails;
        CalibrationMismatchError when the calibration table is for another model,
        ModelMismatchError when the configured model is not the packets'.
        """
        raw, data, stamps = self._packets(msg, path, record)
        corrupt = corrupt_packet_mask(data)
        self._check_packet_model(data, ~corrupt, path, str(record) if record is not None else path)
        if corrupt.all():
            raise DataError(
                f"all {len(data)} packets corrupt (no Velodyne block flag or azimuth >= 360"
                " deg in a firing block)",
                path=path,
                record=record,
                field="packets",
            )
        vd = self._vd
        packets = vd.PacketVector()
        intact = [int(k) for k in np.flatnonzero(~corrupt)]
        for k in intact:
            packets.append(vd.VelodynePacket(stamps[k] * 1e-9, raw[k]))
        try:
            stamp, points = self._decoder.decode(packets, True)
        except Exception as exc:
            raise DataError(
                f"velodyne-decoder failed: {_decoder_message(exc)}",
                path=path,
                record=record,
                field="packets",
            ) from None
        cloud = self._cloud(msg, _scan_stamp_ns(stamp.host, [stamps[k] for k in intact]), points)
        bad = tuple(int(k) for k in np.flatnonzero(corrupt))
        return DecodedVelodyneScan(cloud, bad, len(data))

    def _cloud(self, msg: Any, stamp_ns: int, points: Any) -> PointCloud:
        """The decoder's structured points inside the azimuth window -> PointCloud (a full
        360 deg window keeps every point: no selection, no extra copy)."""
        xyz = np.stack([points["x"], points["y"], points["z"]], axis=1)
        fields = ("intensity", "ring", "return_type", "time")
        columns = {name: points[name] for name in fields}
        width_deg = self.config.window_width_deg
        if width_deg < 360.0:
            keep = azimuth_window_mask(xyz, self.config.min_angle_deg, width_deg)
            xyz = xyz[keep]
            columns = {name: column[keep] for name, column in columns.items()}
        attributes = {name: np.ascontiguousarray(columns[name]) for name in fields[:3]}
        attributes[TIME_OFFSET_NS] = np.rint(columns["time"].astype(np.float64) * 1e9).astype(
            np.int64
        )
        frame = normalise_frame_id(self.config.frame or msg.header.frame_id) or "velodyne"
        return PointCloud(xyz, frame, stamp_ns, attributes)


def _scan_stamp_ns(host_s: float, packet_stamps_ns: Sequence[int]) -> int:
    """The scan time in integer ns: the recorded stamp of the packet ``velodyne-decoder``
    stamped the scan with (its float ``host_s``, the last packet's), else ``host_s`` rounded."""
    best = min(packet_stamps_ns, key=lambda ns: abs(ns * 1e-9 - host_s))
    return best if abs(best * 1e-9 - host_s) < 1e-6 else round(host_s * 1e9)


def _decoder_message(exc: Exception) -> str:
    """``velodyne-decoder``'s error text without its HDL-64E hint (drivestack cannot
    configure an HDL-64E; the model check names the packets' model instead)."""
    return str(exc).split(" Note: if the device is HDL-64E", 1)[0].strip()


def select_velodyne_topic(topics: Sequence[str], topic: str | None, path: Path) -> str:
    """``topic``, or the only VelodyneScan topic when None; DataError naming the bag else."""
    if topic is None:
        if len(topics) != 1:
            raise DataError(
                f"expected one {VELODYNE_SCAN} topic, found {list(topics)}; name one",
                path=str(path),
            )
        return topics[0]
    if topic not in topics:
        raise DataError(f"no {VELODYNE_SCAN} topic {topic!r}; found {list(topics)}", path=str(path))
    return topic


def read_velodyne_bag(
    path: str | Path,
    config: VelodyneConfig,
    *,
    topic: str | None = None,
    report: IngestReport | None = None,
) -> Iterator[PointCloud]:
    """Yields every ``VelodyneScan`` on ``topic`` (default: the only such topic) as a
    PointCloud, lazily: a generator, ``list(read_velodyne_bag(...))`` for a list.

    Messages that fail to decode are skipped and recorded in ``report`` (kind ``decode``);
    a scan with corrupt packets is kept without them and recorded (kind ``corrupt_packets``,
    kept). CalibrationMismatchError (a ConfigError) when the calibration table is for another
    model, ModelMismatchError (one too) when the configured model is not the packets'.
    """
    from drivestack.ingest.rosbag.lidar_sources import VelodyneSource  # it imports this module

    path = Path(path)
    report = report if report is not None else IngestReport(str(path))
    source = VelodyneSource(config)
    with open_bag(path) as reader:
        topics = sorted(
            {c.topic for c in reader.connections if normalise_msgtype(c.msgtype) == VELODYNE_SCAN}
        )
        topic = select_velodyne_topic(topics, topic, path)
        scans = iter_bag_messages(
            reader, {topic}, report, unique_stamps=True, settle_topics={topic}
        )
        for name, i, stamp, msg in scans:
            try:
                clouds = source.feed(msg, stamp, path=str(path), record=f"{name} #{i}")
            except CalibrationMismatchError:
                raise
            except DataError as exc:
                report.skip(name, i, stamp, "decode", exc.reason)
                continue
            for kind, reason in source.repairs:
                report.repair(name, i, stamp, kind, reason)
            yield from clouds
