"""Read a drivestack log (see :mod:`drivestack.replay.log_format`) back into drivestack values.

``LogReader(path).messages()`` yields :class:`LogMessage` with ``value`` decoded by schema:
``foxglove.PointCloud`` -> :class:`PointCloud`; ``foxglove.SceneUpdate`` -> :class:`Boxes3D`,
:class:`Tracks`, :class:`Trajectory` or
:class:`~drivestack.replay.log_format.TrackForecasts` (by the entities' ``drivestack.kind``;
labels with ``label_id`` s give their frame's ``label_ids``);
``foxglove.FrameTransforms`` -> ``list[FrameTransform]``; ``foxglove.CompressedImage`` ->
:class:`CompressedImageData`; JSON channels -> ``dict``. ``validate()`` checks every message
against its channel's JSON schema. Errors name the file, the topic and message index.

Messages come in log-time order whatever order the file holds them in (a chunked file by its
chunk index; a whole file without one, such as an unchunked file or one other tools wrote
grouped by topic, sorted after a first pass that indexes it); only a log cut short, which has
no index, is read in file order, and :meth:`LogReader.frames` then reports each frame that a
message read out of time order missed. A cloud's ``pose`` is applied to its points, and a
camera whose mount ``/tf`` does not give, or whose distortion model drivestack does not
implement, is left out with a note (never read with an invented mount or another model).
"""

from __future__ import annotations

import bisect
import json
import warnings
from collections import deque
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from drivestack.core.errors import DataError
from drivestack.core.frames import EGO, WORLD
from drivestack.core.transforms import SE3
from drivestack.ingest.rosbag.messages import decode_image_bytes, encode_image_png
from drivestack.ingest.rosbag.tf_buffer import TransformBuffer, TransformLookupError
from drivestack.replay import payloads
from drivestack.replay.log_format import (
    _IDENTITY_POSE,
    _NUMERIC_DTYPES,
    CAMERA_TOPIC_PREFIX,
    COMPRESSED_IMAGE,
    DISTORTION_MODELS,
    FRAME_TRANSFORMS,
    LABELS_TOPIC,
    LIDAR_TOPIC_PREFIX,
    POINT_CLOUD,
    RUN_TOPIC,
    SCENE_UPDATE,
    TF_TOPIC,
    TRAJECTORY_FIELDS,
    CompressedImageData,
    FrameTransform,
    TrackForecasts,
    _ns,
    _se3,
    decode_forecast_entities,
)
from drivestack.structures.boxes import Boxes3D
from drivestack.structures.camera import CameraCalibration, CameraImage
from drivestack.structures.point_cloud import PointCloud
from drivestack.structures.sensor_frame import SensorFrame
from drivestack.structures.tracks import Tracks
from drivestack.structures.trajectory import Trajectory


@dataclass(frozen=True)
class LogMessage:
    topic: str
    schema: str
    log_time_ns: int
    value: Any


def _frozen(arr: np.ndarray) -> np.ndarray:
    arr.setflags(write=False)  # a fresh array PointCloud keeps as is (no second copy)
    return arr


def _cloud_pose(msg: dict[str, Any]) -> SE3 | None:
    """A PointCloud's ``pose`` (its points' origin in ``frame_id``), or None when it is the
    identity (or absent). DataError naming the field when it is not a rigid transform."""
    pose = msg.get("pose")
    if pose is None or pose == _IDENTITY_POSE:  # what the writer writes: no SE3 built per cloud
        return None
    try:
        frame_from_cloud = _se3(pose)
    except (ValueError, TypeError, AttributeError) as exc:  # zero or NaN quaternion, not numbers
        raise DataError(f"not a rigid transform: {exc}", field="pose") from None
    if np.array_equal(frame_from_cloud.rotation, np.eye(3)) and not np.any(
        frame_from_cloud.translation
    ):
        return None
    return frame_from_cloud


def decode_point_cloud(msg: dict[str, Any]) -> PointCloud:
    """``foxglove.PointCloud`` JSON -> PointCloud (``*_ns`` FLOAT64 fields back to int64).

    The points are returned in ``frame_id``: a ``pose`` other than the identity (the origin of
    the cloud relative to ``frame_id``, per the schema) is applied to them, ``(N, 3)`` in the
    x/y/z fields' float dtype (float64 when they are not floats)."""
    raw, canonical = payloads.b64decode(msg["data"])
    fields = msg["fields"]
    stride = int(msg["point_stride"])
    if stride <= 0:
        raise DataError(f"point_stride {stride} is not a positive byte count", field="point_stride")
    if len(raw) % stride:
        raise DataError(
            f"{len(raw)} bytes is not a whole number of points of point_stride {stride}",
            field="data",
        )
    try:
        dtype = np.dtype(
            {
                "names": [f["name"] for f in fields],
                "formats": ["<" + _NUMERIC_DTYPES[int(f["type"])] for f in fields],
                "offsets": [int(f["offset"]) for f in fields],
                "itemsize": stride,
            }
        )
    except ValueError as exc:  # a field past the stride, overlapping or repeated names
        raise DataError(
            f"fields do not fit points of point_stride {stride}: {exc}", field="fields"
        ) from None
    count = len(raw) // stride
    points = np.frombuffer(raw, dtype=dtype, count=count)
    xyz = np.stack([points[a] for a in "xyz"], axis=1)
    frame_from_cloud = _cloud_pose(msg)
    if frame_from_cloud is not None:
        xyz = frame_from_cloud.apply(xyz).astype(xyz.dtype if xyz.dtype.kind == "f" else np.float64)
    xyz = _frozen(xyz)
    attributes = {}
    # the source bytes are the cloud's only with an identity pose (the writer writes none)
    exact = canonical and count * stride == len(raw) and frame_from_cloud is None
    for name in dtype.names or ():
        if name in ("x", "y", "z"):
            continue
        column = points[name]
        if name.endswith("_ns"):
            as_int = column.astype(np.int64)
            exact = exact and np.array_equal(
                as_int.astype(column.dtype).view(np.uint8),
                np.ascontiguousarray(column).view(np.uint8),
            )
            attributes[name] = _frozen(as_int)
        else:
            attributes[name] = _frozen(np.array(column))
    cloud = PointCloud(xyz, msg["frame_id"], _ns(msg["timestamp"]), attributes)
    if exact:  # the source bytes are what the writer would pack from this cloud
        payloads.remember(cloud, {"fields": fields, "point_stride": stride, "data": msg["data"]})
    return cloud


def _metadata(entity: dict[str, Any]) -> dict[str, str]:
    return {kv["key"]: kv["value"] for kv in entity.get("metadata", [])}


def decode_scene_update(
    msg: dict[str, Any], timestamp_ns: int
) -> Boxes3D | Tracks | Trajectory | TrackForecasts:
    """A SceneUpdate as drivestack wrote it: boxes, labels, tracks, a trajectory or track
    forecasts (an update without entities: empty boxes). Labels whose every entity has a
    ``label_id`` come with those ids (:func:`label_ids_of`)."""
    entities = msg.get("entities", [])
    metas = [_metadata(e) for e in entities]
    kinds = {m.get("drivestack.kind", "boxes") for m in metas}
    if kinds == {"forecast"}:
        return decode_forecast_entities(entities, metas)
    if kinds == {"trajectory"}:
        meta = metas[0]
        arrays: dict[str, Any] = {f: np.asarray(json.loads(meta[f])) for f in TRAJECTORY_FIELDS}
        arrays["timestamp_ns"] = arrays["timestamp_ns"].astype(np.int64)
        return Trajectory(**arrays, frame=entities[0]["frame_id"])
    if len(kinds) > 1:
        raise ValueError(f"SceneUpdate mixes entity kinds {sorted(kinds)}")
    n = len(entities)
    frame = entities[0]["frame_id"] if n else "ego"
    stamp = _ns(entities[0]["timestamp"]) if n else timestamp_ns
    center = np.zeros((n, 3))
    size = np.zeros((n, 3))
    for i, e in enumerate(entities):
        cube = e["cubes"][0]
        p = cube["pose"]["position"]
        center[i] = (p["x"], p["y"], p["z"])
        size[i] = (cube["size"]["x"], cube["size"]["y"], cube["size"]["z"])
    boxes = Boxes3D(
        center,
        size,
        np.array([float(m["yaw_rad"]) for m in metas]),
        frame,
        stamp,
        score=np.array([float(m["score"]) for m in metas]),
        label=np.array([int(m["label"]) for m in metas], dtype=np.int64),
        velocity_mps=np.array([json.loads(m["velocity_mps"]) for m in metas]).reshape(n, 2),
    )
    if kinds == {"tracks"}:
        return Tracks(
            np.array([int(m["track_id"]) for m in metas], dtype=np.int64),
            boxes,
            age=np.array([int(m["age"]) for m in metas], dtype=np.int64),
            hits=np.array([int(m["hits"]) for m in metas], dtype=np.int64),
            time_since_update=np.array(
                [int(m["time_since_update"]) for m in metas], dtype=np.int64
            ),
        )
    if kinds == {"labels"} and all("label_id" in m for m in metas):
        payloads.remember(boxes, {"label_ids": tuple(m["label_id"] for m in metas)})
    return boxes


#: The ``distortion_model`` s that name no distortion (``D`` empty or all zero); the models
#: read are :data:`~drivestack.replay.log_format.DISTORTION_MODELS`, the writer's.
_NO_DISTORTION = ("", "none")


def distortion_coefficients(msg: dict[str, Any]) -> np.ndarray:
    """``D`` of a ``foxglove.CameraCalibration`` for a :data:`DISTORTION_MODELS` model (or
    none); DataError naming the field for another model, or a ``D`` that does not fit it.
    The coefficients of one model are never read as another's."""
    model = msg.get("distortion_model", "")
    d = np.asarray(msg.get("D", []), dtype=np.float64).reshape(-1)
    if not np.all(np.isfinite(d)):
        raise DataError("coefficients are not finite", field="D")
    if not isinstance(model, str):
        raise DataError(f"{model!r} is not a model name", field="distortion_model")
    if model.lower() in _NO_DISTORTION:
        if np.any(d != 0):
            raise DataError(
                f"no model ({model!r}) for {d.shape[0]} nonzero coefficients in D",
                field="distortion_model",
            )
        return d
    counts = DISTORTION_MODELS.get(model)
    if counts is None:
        raise DataError(
            f"model {model!r} is not one drivestack implements ({', '.join(DISTORTION_MODELS)}"
            " or none): the camera is not read with another model's distortion",
            field="distortion_model",
        )
    if d.shape[0] not in counts:
        raise DataError(
            f"{model} has {' or '.join(map(str, counts))} coefficients, D has {d.shape[0]}",
            field="D",
        )
    return d


def decode_camera_calibration(
    msg: dict[str, Any],
    *,
    name: str,
    camera_from_ego: SE3,
    path: str | None = None,
    record: str | None = None,
) -> CameraCalibration:
    """``foxglove.CameraCalibration`` JSON -> :class:`CameraCalibration` named ``name`` with
    the mount ``camera_from_ego`` (from ``/tf``; the message has none): ``K`` (3, 3), size,
    ``frame_id`` and ``D`` by ``distortion_model`` (:data:`DISTORTION_MODELS`). DataError
    naming ``path``, ``record`` (the topic and message index) and the field for a model
    drivestack does not implement or a ``D`` that does not fit its model."""
    try:
        distortion = distortion_coefficients(msg)
    except DataError as exc:
        raise DataError(exc.reason, path=path, record=record, field=exc.field) from None
    return CameraCalibration(
        name=name,
        intrinsics=np.asarray(msg["K"], dtype=np.float64).reshape(3, 3),
        width_px=int(msg["width"]),
        height_px=int(msg["height"]),
        camera_from_ego=camera_from_ego,
        frame=msg["frame_id"],
        distortion=distortion,
    )


def label_ids_of(labels: Boxes3D) -> tuple[str, ...] | None:
    """The ``label_id`` s the label boxes ``labels`` were decoded with (one per box, the
    :attr:`SensorFrame.label_ids` of the frame that wrote them), or None."""
    source = payloads.source_of(labels)
    return source.get("label_ids") if isinstance(source, dict) else None


def decode_frame_transforms(msg: dict[str, Any]) -> list[FrameTransform]:
    return [
        FrameTransform(
            _ns(t["timestamp"]),
            t["parent_frame_id"],
            t["child_frame_id"],
            _se3({"position": t["translation"], "orientation": t["rotation"]}),
        )
        for t in msg.get("transforms", [])
    ]


#: The MCAP header profile rosbag2 writes; drivestack logs write none.
ROS2_PROFILE = "ros2"


class TruncatedLogError(DataError):
    """A log that ends early (a recording cut short) or has unreadable chunks (corrupt bytes):
    its readable messages were read; this error follows them and says what was lost."""


def _mcap_errors() -> tuple[type[BaseException], ...]:
    """What the mcap package raises on bytes that are not (or no longer) MCAP, including a
    chunk that does not decompress (zstd raises ``ZstdError``, lz4 ``RuntimeError``) and a
    seek that the file refuses (``OSError``: a file shorter than the footer, an offset past
    what the OS allows)."""
    import struct

    from mcap.exceptions import McapError
    from zstandard import ZstdError

    return (McapError, struct.error, EOFError, ValueError, ZstdError, RuntimeError, OSError)


def mcap_profile(path: str | Path) -> str:
    """The profile in an MCAP file's header (``""`` for drivestack logs, :data:`ROS2_PROFILE`
    for rosbag2 recordings). Raises DataError naming the file when it is not MCAP, or when it
    is an MCAP file cut short before its header ends (:func:`cut_short`: size and where)."""
    from mcap.reader import make_reader

    with Path(path).open("rb") as stream:
        try:
            return str(make_reader(stream).get_header().profile)
        except _mcap_errors() as exc:
            cut = cut_short(path)
            raise DataError(cut or f"not an MCAP file ({exc})", path=str(path)) from None


#: The 8 bytes every MCAP file starts (and ends) with.
MCAP_MAGIC = b"\x89MCAP0\r\n"
#: An MCAP record: opcode (1 byte) and body length (uint64, little-endian), then the body.
_RECORD_PREFIX = 9


def cut_short(path: str | Path) -> str | None:
    """What a file that starts as MCAP but breaks off before its footer lost: ``"cut short (a
    truncated copy?): the file is N bytes and ends inside its 3rd record (a CHUNK of M bytes
    from byte B)"``; None for a whole MCAP file and for a file that is not MCAP at all (its
    first bytes are not the magic). An empty file is said to be empty. Walks the top-level
    records by their length prefixes only (nothing is decompressed)."""
    from mcap.opcode import Opcode

    path = Path(path)
    size = path.stat().st_size
    if size == 0:
        return "the file is empty (0 bytes): no log in it"
    with path.open("rb") as stream:
        head = stream.read(len(MCAP_MAGIC))
        if head != MCAP_MAGIC[: len(head)]:
            return None
        what = f"cut short (a truncated copy?): the file is {size} bytes and ends"
        if len(head) < len(MCAP_MAGIC):
            return f"{what} inside the {len(MCAP_MAGIC)}-byte MCAP magic it starts with"
        offset, count = len(MCAP_MAGIC), 0
        while offset < size:
            count += 1
            stream.seek(offset)
            prefix = stream.read(_RECORD_PREFIX)
            if len(prefix) < _RECORD_PREFIX:
                return f"{what} inside the opcode and length of its {_ordinal(count)} record (byte {offset})"
            length = _RECORD_PREFIX + int.from_bytes(prefix[1:], "little")
            try:
                name = Opcode(prefix[0]).name
            except ValueError:
                name = f"record of opcode {prefix[0]:#04x}"
            if offset + length > size:
                return (
                    f"{what} inside its {_ordinal(count)} record (a {name} of {length} bytes "
                    f"from byte {offset}: {size - offset} of them there)"
                )
            if prefix[0] == Opcode.FOOTER:  # whole when the closing magic follows it whole
                stream.seek(offset + length)
                if stream.read(len(MCAP_MAGIC)) == MCAP_MAGIC:
                    return None
                return f"{what} inside the {len(MCAP_MAGIC)}-byte MCAP magic it ends with"
            offset += length
    return f"{what} after {count} whole records, without the MCAP footer"


def _ordinal(n: int) -> str:
    """``1st``, ``2nd``, ``3rd``, ``4th``, ``11th``, ``21st``."""
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def _declared_channels(stream: Any) -> tuple[dict[int, Any], dict[int, Any]]:
    """``(schemas, channels)`` by id, from the Schema and Channel records of a log streamed
    from its start until it breaks off (a log without a summary section)."""
    from mcap.records import Channel, Schema
    from mcap.stream_reader import StreamReader

    schemas: dict[int, Any] = {}
    channels: dict[int, Any] = {}
    try:
        for record in StreamReader(stream).records:
            if isinstance(record, Schema):
                schemas[record.id] = record
            elif isinstance(record, Channel):
                channels[record.id] = record
    except _mcap_errors():
        pass  # the end of what can be read: the messages say where (TruncatedLogError)
    return schemas, channels


#: The longest gap between two ``/tf`` ego poses a frame's pose is interpolated across (or
#: three of the log's pose intervals, when longer: tf_buffer.PoseSeries): a frame in a longer
#: gap is replayed without an ego pose (noted), not placed on a straight line through
#: whatever the ego did meanwhile. drivestack's writers log a pose per frame.
TF_MAX_GAP_NS = 1_000_000_000

#: How far a frame message's header stamp (``timestamp``) may lie from its MCAP log time.
#: drivestack's own writer logs every message at its header stamp, so any gap is a clock
#: glitch or a message logged at the wrong time; a message beyond it is a bad frame (skipped).
STAMP_TOLERANCE_NS = 50_000_000


def _times_shown(stamps: list[int]) -> str:
    """The first ten of ``stamps`` and how many more, for a note."""
    more = f" and {len(stamps) - 10} more" if len(stamps) > 10 else ""
    return ", ".join(map(str, stamps[:10])) + more


#: Every how many points a scan's fingerprint samples (:func:`_scan_fingerprint`).
FINGERPRINT_STRIDE = 997


def _scan_fingerprint(value: Any) -> tuple[Any, ...] | None:
    """What tells a scan from a copy of it without keeping its points: point count, dtype, and
    the bytes of every :data:`FINGERPRINT_STRIDE`-th point and the last one, with the
    attributes' values there (a sample, not a pass over the scan: this runs for every scan
    read); ``None`` for a message that did not decode."""
    if not isinstance(value, PointCloud):
        return None
    xyz = value.xyz_m
    if not len(xyz):
        return (0, str(xyz.dtype))
    rows = np.append(np.arange(0, len(xyz) - 1, FINGERPRINT_STRIDE), len(xyz) - 1)
    sample = [
        xyz[rows].tobytes(),
        *(np.asarray(a)[rows].tobytes() for a in value.attributes.values()),
    ]
    return (len(xyz), str(xyz.dtype), *sample)


@dataclass(frozen=True)
class InputProblem:
    """What :meth:`LogReader.frames` (``problems=True``) yields in the frame stream where the
    log could not give a whole frame. ``kind``: ``"skipped"`` (the frame at ``timestamp_ns``
    is not replayed), ``"partial"`` (the frame at ``timestamp_ns``, which follows, is replayed
    without the messages ``reason`` names; or, for a message read out of time order, the
    frame came before it) or ``"note"`` (about the whole input, ``timestamp_ns`` -1).
    ``reason`` names the topic and message index where it can."""

    timestamp_ns: int
    source: str
    reason: str
    kind: str = "skipped"


class _Records:
    """An MCAP's messages streamed in file order, as ``mcap``'s ``NonSeekingReader`` gives
    them, noting whether its data section ended (``data_ended``: the DataEnd record was read,
    so a break after it loses no message)."""

    def __init__(self) -> None:
        self.data_ended = False

    def messages(self, stream: Any, topics: Sequence[str] | None) -> Iterator[tuple[Any, Any, Any]]:
        """``(schema or None, channel, message)`` of ``topics`` (None: all), in file order."""
        from mcap.exceptions import McapError
        from mcap.records import Channel, DataEnd, Message, Schema
        from mcap.stream_reader import StreamReader

        schemas: dict[int, Any] = {}
        channels: dict[int, Any] = {}
        for record in StreamReader(stream, validate_crcs=True).records:
            if isinstance(record, Schema):
                schemas[record.id] = record
            elif isinstance(record, Channel):
                if record.schema_id != 0 and record.schema_id not in schemas:
                    raise McapError(f"no schema record found with id {record.schema_id}")
                channels[record.id] = record
            elif isinstance(record, DataEnd):
                self.data_ended = True
            elif isinstance(record, Message):
                channel = channels.get(record.channel_id)
                if channel is None:
                    raise McapError(f"no channel record found with id {record.channel_id}")
                if topics is None or channel.topic in topics:
                    yield schemas.get(channel.schema_id), channel, record


@dataclass(frozen=True)
class _Bad:
    """A message that could not be used: in place of its value in the frame reading."""

    timestamp_ns: int  # its log time
    reason: str
    record: str | None = None  # "<topic> #<i>", where the reason starts with it


@dataclass(frozen=True)
class _LostChunk:
    """A chunk that did not read: its log time range and, when its message indexes read,
    the log times of its messages by topic (else None)."""

    start_ns: int
    end_ns: int
    times: dict[str, list[int]] | None
    what: str


def _lost_chunk(
    stream: Any, summary: Any, index: Any, channel_ids: set[int], what: str
) -> _LostChunk:
    """The messages a chunk that did not read held, from its message index records."""
    from mcap.data_stream import ReadDataStream
    from mcap.records import MessageIndex

    times: dict[str, list[int]] = {}
    unreadable: tuple[type[BaseException], ...] = (*_mcap_errors(), KeyError)
    try:
        for cid, offset in index.message_index_offsets.items():
            if cid not in channel_ids:
                continue
            stream.seek(offset + 1 + 8)  # the record's opcode and length
            record = MessageIndex.read(ReadDataStream(stream))
            topic = summary.channels[cid].topic
            times.setdefault(topic, []).extend(t for t, _ in record.records)
    except unreadable:
        return _LostChunk(index.message_start_time, index.message_end_time, None, what)
    return _LostChunk(index.message_start_time, index.message_end_time, times, what)


_INDEX_COLUMNS = ("log_time", "publish_time", "channel_id", "sequence", "offset", "length")


@dataclass(frozen=True)
class _FileIndex:
    """The messages of a whole MCAP file without a chunk index, in file order: ``(M,)``
    int64 columns (``offset`` ``-1 - i`` for a message of a chunk, held as ``held[i]``) and
    the file's schemas and channels by id."""

    log_time: np.ndarray
    publish_time: np.ndarray
    channel_id: np.ndarray
    sequence: np.ndarray
    offset: np.ndarray  # byte offset of the message's data in the file, or -1 - its held index
    length: np.ndarray  # bytes of data
    held: list[Any]
    schemas: dict[int, Any]
    channels: dict[int, Any]


def _check_channels_declared(records: list[Any], channels: Mapping[int, Any]) -> None:
    """``McapError`` when a message of a chunk's ``records`` names a channel id the summary
    does not declare (a corrupt chunk: its messages would otherwise vanish unseen)."""
    from mcap.exceptions import McapError
    from mcap.records import Message

    for index, record in enumerate(records):
        if isinstance(record, Message) and record.channel_id not in channels:
            raise McapError(
                f"message {index} of the chunk names channel id {record.channel_id}, which "
                "has no channel record"
            )


def _file_order_index(stream: Any, topics: list[str] | None) -> _FileIndex | None:
    """One pass over a whole MCAP file from its start: where each message of ``topics`` (all:
    None) lies. Messages outside chunks (an unchunked file) are kept as byte ranges, those in
    chunks (a chunked file without a chunk index) in memory. None when the records do not
    read to the end (a corrupt file: read it as one cut short)."""
    from array import array

    from mcap.exceptions import McapError
    from mcap.records import Channel, Chunk, Message, Schema
    from mcap.stream_reader import StreamReader, breakup_chunk

    columns = {name: array("q") for name in _INDEX_COLUMNS}
    held: list[Any] = []
    schemas: dict[int, Any] = {}
    channels: dict[int, Any] = {}
    wanted: set[int] = set()

    def add(record: Any, offset: int) -> None:
        if isinstance(record, Schema):
            schemas[record.id] = record
        elif isinstance(record, Channel):
            channels[record.id] = record
            if topics is None or record.topic in topics:
                wanted.add(record.id)
        elif isinstance(record, Message) and record.channel_id not in channels:
            # (a message before its channel's record: read as a corrupt file, not dropped)
            raise McapError(f"no channel record found with id {record.channel_id}")
        elif isinstance(record, Message) and record.channel_id in wanted:
            if offset < 0:
                held.append(record)
                offset = -len(held)
            for name, value in zip(
                _INDEX_COLUMNS,
                (
                    record.log_time,
                    record.publish_time,
                    record.channel_id,
                    record.sequence,
                    offset,
                    len(record.data),
                ),
                strict=True,
            ):
                columns[name].append(value)

    try:
        for record in StreamReader(stream, emit_chunks=True, validate_crcs=True).records:
            if isinstance(record, Chunk):
                for inner in breakup_chunk(record, validate_crc=True):
                    add(inner, -1)
            else:  # the stream stands at the record's end (a message record has no padding)
                add(record, stream.tell() - len(record.data) if isinstance(record, Message) else 0)
    except _mcap_errors():
        return None
    arrays = {name: np.frombuffer(col, dtype=np.int64) for name, col in columns.items()}
    return _FileIndex(**arrays, held=held, schemas=schemas, channels=channels)


def _sorted_messages(stream: Any, index: _FileIndex) -> Iterator[tuple[Any, Any, Any]]:
    """``(schema, channel, message)`` of ``index`` in log-time order (ties in file order), the
    data of each message outside a chunk read from ``stream`` when its turn comes."""
    from mcap.records import Message

    for i in np.argsort(index.log_time, kind="stable"):
        channel = index.channels[int(index.channel_id[i])]
        offset = int(index.offset[i])
        if offset < 0:
            message = index.held[-1 - offset]
        else:
            stream.seek(offset)
            message = Message(
                channel_id=channel.id,
                sequence=int(index.sequence[i]),
                log_time=int(index.log_time[i]),
                publish_time=int(index.publish_time[i]),
                data=stream.read(int(index.length[i])),
            )
        yield index.schemas.get(channel.schema_id), channel, message


class LogReader:
    """A drivestack log (MCAP) opened for reading; see the module docstring. A log cut short
    (its footer does not read) is read up to where it breaks off, then raises
    :class:`TruncatedLogError`."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        if not self.path.is_file():
            raise DataError("no such log file", path=str(self.path))
        #: set when a read found the log whole up to its summary section, which is cut or
        #: corrupt: every message was read (the frames end with a note saying so)
        self.summary_cut: str | None = None

    def _reader_messages(self, topics: Sequence[str] | None) -> Iterator[tuple[Any, Any, Any]]:
        """``(schema, channel, message)`` in log-time order: from the summary's chunk index;
        a whole log without one (unchunked, or without a summary section) is indexed by a
        first pass over it and read sorted (:meth:`_sorted_messages`); a log that is not
        whole (cut short: its footer does not read, or its records break off) is streamed
        from its start instead, in file order (:meth:`_salvaged_messages`)."""
        from mcap.reader import make_reader

        wanted = list(topics) if topics else None
        with self.path.open("rb") as stream:
            try:
                summary = make_reader(stream).get_summary()
                whole = True  # the footer (and the summary it points to, if any) read
            except _mcap_errors():
                summary, whole = None, False
            if summary is not None and summary.chunk_indexes:
                yield from self._indexed_messages(stream, summary, wanted)
                return
            if whole:
                stream.seek(0)
                index = _file_order_index(stream, wanted)
                if index is not None:
                    yield from _sorted_messages(stream, index)
                    return
            stream.seek(0)
            yield from self._salvaged_messages(stream, wanted)

    def _indexed_messages(
        self, stream: Any, summary: Any, topics: list[str] | None
    ) -> Iterator[tuple[Any, Any, Any]]:
        """The messages of the chunks the summary indexes, merged in log-time order (as the
        mcap reader does); a chunk that does not read, decompress or pass its CRC is skipped,
        and after the rest :class:`TruncatedLogError` names the skipped chunks."""
        import heapq

        from mcap.data_stream import ReadDataStream
        from mcap.records import Chunk, Message
        from mcap.stream_reader import breakup_chunk

        channel_ids = {
            cid for cid, c in summary.channels.items() if topics is None or c.topic in topics
        }
        # (log time, 0 = a chunk to open / 1 = a message, file offset, index in chunk, item);
        # a chunk indexing a channel no record declares is opened too (and reported corrupt)
        queue: list[tuple[int, int, int, int, Any]] = [
            (ci.message_start_time, 0, ci.chunk_start_offset, 0, ci)
            for ci in summary.chunk_indexes
            if not ci.message_index_offsets
            or channel_ids & set(ci.message_index_offsets)
            or not summary.channels.keys() >= set(ci.message_index_offsets)
        ]
        heapq.heapify(queue)
        lost: list[str] = []
        while queue:
            _, kind, offset, _, item = heapq.heappop(queue)
            if kind == 1:
                channel = summary.channels[item.channel_id]
                yield summary.schemas.get(channel.schema_id), channel, item
                continue
            try:
                stream.seek(offset + 1 + 8)  # the chunk record's opcode and length
                records = list(breakup_chunk(Chunk.read(ReadDataStream(stream)), True))
                _check_channels_declared(records, summary.channels)
            except _mcap_errors() as exc:
                lost.append(
                    f"byte {offset} (log time {item.message_start_time}-"
                    f"{item.message_end_time} ns): {type(exc).__name__}: {exc}"
                )
                yield None, None, _lost_chunk(stream, summary, item, channel_ids, lost[-1])
                continue
            for index, record in enumerate(records):
                if isinstance(record, Message) and record.channel_id in channel_ids:
                    heapq.heappush(queue, (record.log_time, 1, offset, index, record))
        if lost:
            raise TruncatedLogError(
                f"{len(lost)} corrupt chunk(s) skipped, their messages lost: " + "; ".join(lost),
                path=str(self.path),
            )

    def _salvaged_messages(
        self, stream: Any, topics: list[str] | None
    ) -> Iterator[tuple[Any, Any, Any]]:
        """The messages of a log that is not whole, streamed in file order up to where it
        breaks off; then :class:`TruncatedLogError`, which also says how many of them came
        after a message with a later log time (file order is log-time order only when the
        writer wrote in time order; without an index there is nothing to sort by). A break
        after the data section's end loses no message: :attr:`summary_cut` says so instead."""
        count = behind = 0  # messages read; of them, read after one with a later log time
        first_behind = ""
        latest = None
        records = _Records()
        try:
            for item in records.messages(stream, topics):
                count += 1
                log_time = item[2].log_time
                if latest is not None and log_time < latest:
                    behind += 1
                    first_behind = first_behind or (
                        f"the first: {item[1].topic} at log time {log_time} ns after one at "
                        f"{latest} ns"
                    )
                latest = log_time if latest is None else max(latest, log_time)
                yield item
        except _mcap_errors() as exc:
            order = f"; {behind} of them out of log-time order ({first_behind})" if behind else ""
            if records.data_ended:  # the messages are all there: only the index is lost
                self.summary_cut = (
                    f"the summary section after the data (the index and statistics) is cut or "
                    f"corrupt; the data section is whole: every message was read ({count} of "
                    f"the topics read, in file order{order})"
                )
                return
            detail = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
            raise TruncatedLogError(
                f"truncated or corrupt MCAP: it breaks off after {count} messages of the "
                f"topics read ({detail}){order}",
                path=str(self.path),
            ) from None

    def _raw(
        self, topics: Sequence[str] | None
    ) -> Iterator[tuple[str, str, int, bytes | _LostChunk]]:
        """``(topic, schema name, log time ns, message bytes)`` in log-time order; a chunk
        that does not read is a :class:`_LostChunk` (topic and schema ``""``) where it was."""
        for schema, channel, message in self._reader_messages(topics):
            if channel is None:
                yield "", "", message.start_ns, message
                continue
            if channel.message_encoding != "json":
                raise DataError(
                    f"message encoding {channel.message_encoding!r} is not json",
                    path=str(self.path),
                    record=channel.topic,
                )
            yield channel.topic, schema.name if schema else "", message.log_time, message.data

    def raw_messages(
        self, topics: Sequence[str] | None = None
    ) -> Iterator[tuple[str, str, int, dict[str, Any]]]:
        """``(topic, schema name, log time ns, parsed JSON)`` in log-time order (ties in file
        order; a log cut short in file order, see :meth:`_salvaged_messages`). A message that
        is not JSON raises DataError naming the topic and message index."""
        index: dict[str, int] = {}
        for topic, schema, log_time, data in self._raw(topics):
            if isinstance(data, _LostChunk):
                continue  # TruncatedLogError follows the rest
            i = index[topic] = index.get(topic, -1) + 1
            try:
                msg = json.loads(data)
            except ValueError as exc:
                raise DataError(
                    f"not JSON: {exc}", path=str(self.path), record=f"{topic} #{i}"
                ) from None
            yield topic, schema, log_time, msg
        self._warn_summary_cut()

    def messages(self, topics: Sequence[str] | None = None) -> Iterator[LogMessage]:
        """Messages decoded into drivestack values (see the module docstring); one that does
        not decode raises DataError naming the topic and message index. A log whole but for
        its summary section gives every message and one ``UserWarning`` (:attr:`summary_cut`)."""
        for msg in self._decoded(topics):
            if isinstance(msg.value, _Bad):
                bad = msg.value
                reason = bad.reason.removeprefix(f"{bad.record}: ") if bad.record else bad.reason
                raise DataError(reason, path=str(self.path), record=bad.record)
            if not isinstance(msg.value, _LostChunk):
                yield msg
        self._warn_summary_cut()

    def _warn_summary_cut(self) -> None:
        """The ``UserWarning`` of a read that found the summary section cut (:attr:`summary_cut`;
        :meth:`frames` gives it as a note instead)."""
        if self.summary_cut is not None:
            warnings.warn(f"{self.path}: {self.summary_cut}", UserWarning, stacklevel=3)

    def _decoded(self, topics: Sequence[str] | None) -> Iterator[LogMessage]:
        """:meth:`messages`, but a message that does not parse or decode is yielded with a
        :class:`_Bad` value (``"<topic> #<i>: why"``), and a chunk that does not read as a
        :class:`_LostChunk` (topic ``""``), so that a reader can go on past them."""
        index: dict[str, int] = {}
        for topic, schema, log_time, data in self._raw(topics):
            if isinstance(data, _LostChunk):
                yield LogMessage(topic, schema, log_time, data)
                continue
            i = index[topic] = index.get(topic, -1) + 1
            record = f"{topic} #{i}"
            try:
                msg = json.loads(data)
                value = self._decode(schema, msg, log_time)
            except DataError as exc:  # a decoder's own error: its field and reason
                why = str(DataError(exc.reason, field=exc.field))
                value = _Bad(log_time, f"{record}: cannot decode {schema}: {why}", record)
            except (KeyError, ValueError, TypeError, IndexError, AttributeError) as exc:
                value = _Bad(
                    log_time,
                    f"{record}: cannot decode {schema}: {type(exc).__name__}: {exc}",
                    record,
                )
            yield LogMessage(topic, schema, log_time, value)

    @staticmethod
    def _decode(schema: str, msg: Any, log_time: int) -> Any:
        if schema == POINT_CLOUD:
            return decode_point_cloud(msg)
        if schema == SCENE_UPDATE:
            return decode_scene_update(msg, log_time)
        if schema == FRAME_TRANSFORMS:
            return decode_frame_transforms(msg)
        if schema == COMPRESSED_IMAGE:
            data, canonical = payloads.b64decode(msg["data"])
            return CompressedImageData(
                _ns(msg["timestamp"]),
                msg["frame_id"],
                data,
                msg["format"],
                data_b64=msg["data"] if canonical else None,
            )
        return msg

    def _transforms(self, world_frame: str) -> tuple[TransformBuffer, dict[int, str]]:
        """``/tf``: edges from ``world_frame`` are dynamic (the ego pose), the rest static; and
        the ``/tf`` messages that do not decode, by log time (read up to where a truncated log
        breaks off: the frames read later stop there and report it)."""
        tf = TransformBuffer(max_gap_ns=TF_MAX_GAP_NS)
        bad: dict[int, str] = {}
        try:
            for msg in self._decoded([TF_TOPIC]):
                if isinstance(msg.value, _Bad):
                    bad[msg.log_time_ns] = msg.value.reason
                    continue
                if isinstance(msg.value, _LostChunk):
                    continue
                for t in msg.value:
                    pose = t.parent_from_child
                    if t.parent == world_frame:
                        tf.add_dynamic(
                            t.parent,
                            t.child,
                            t.timestamp_ns,
                            pose.as_quaternion(),
                            pose.translation,
                        )
                    elif (t.parent, t.child) not in tf.static_edges:
                        tf.add_static(t.parent, t.child, pose)
        except TruncatedLogError:
            pass
        return tf, bad

    def frames(
        self,
        *,
        world_frame: str = WORLD,
        ego_frame: str = EGO,
        camera_tolerance_ns: int = 50_000_000,
        problems: bool = False,
    ) -> Iterator[Any]:
        """Replay input frames (see :meth:`LogWriter.sensor_frame`), streamed in time order.

        Keyed on the first LiDAR topic's clouds: other LiDARs and labels with the same time,
        each camera's nearest image within ``camera_tolerance_ns``, ``world_from_ego`` and the
        mountings from ``/tf`` (interpolated; None / left out when not available).

        A frame one of whose messages does not decode, whose header stamp lies more than
        :data:`STAMP_TOLERANCE_NS` from its log time, or whose ``/tf`` message does not decode
        is a bad frame; so is one whose LiDAR message was in a chunk that does not read, and
        a LiDAR message at a time its topic has a message at already (skipped, not merged). With
        ``problems`` each is an :class:`InputProblem` in the stream (the frames after it
        follow), as is a frame replayed without messages lost with an unreadable part of the
        log (``"partial"``, before the frame) and, at the end, the images of a camera without
        a calibration it can use (``"note"``: none before them, or one whose mount ``/tf`` does
        not give or whose distortion model drivestack does not implement, named with its
        message and field); without it the first bad frame raises DataError.
        A log cut short or with unreadable chunks raises :class:`TruncatedLogError` after the
        frames that could be read. A log cut short is read in file order: a LiDAR or label
        message that comes after the frame of its time was closed (not in time order) is
        named, as a skipped frame (the key LiDAR's scan), a ``"partial"`` after the frame
        replayed without it, or a ``"note"`` at the end (no frame of its time), as is each
        frame built before an image near its time was read (``"partial"``). A second scan
        on a LiDAR topic at a time it has one is never merged: an exact copy (a message
        logged twice) is a ``"partial"`` after the frame, any other a skipped frame.
        """
        for item in self._frames(world_frame, ego_frame, camera_tolerance_ns):
            if isinstance(item, SensorFrame) or problems:
                yield item
            elif item.kind == "skipped":
                raise DataError(item.reason, path=str(self.path), record=f"t={item.timestamp_ns}")

    def _frames(
        self, world_frame: str, ego_frame: str, camera_tolerance_ns: int
    ) -> Iterator[SensorFrame | InputProblem]:
        tf, tf_bad = self._transforms(world_frame)
        topics = self.topics()
        lidar_topics = sorted(t for t in topics if t.startswith(LIDAR_TOPIC_PREFIX))
        if not lidar_topics:
            for _ in self._raw(None):  # a log cut short before it declares one: say so
                pass  # (TruncatedLogError); a whole log without LiDAR has no frame
            return
        key = lidar_topics[0]
        source = str(self.path)
        calibrations: dict[str, CameraCalibration] = {}
        refused: dict[str, str] = {}  # camera -> why its last calibration cannot be used
        # (camera, why: "" when it has no calibration) -> images not replayed; and the
        # calibration messages refused for that reason
        uncalibrated: dict[tuple[str, str], int] = {}
        refusals: dict[tuple[str, str], list[str]] = {}
        images: dict[str, deque[CameraImage | _Bad]] = {}
        group: dict[str, Any] = {}
        group_ns: int | None = None
        waiting: deque[tuple[int, dict[str, Any]]] = deque()
        lost: list[_LostChunk] = []
        seen: set[str] = set()  # the topics and cameras of the frames built so far
        index: dict[str, int] = {}  # messages read per topic
        # per LiDAR topic, the times of its scans read so far and each one's fingerprint
        scan_times: dict[str, dict[int, tuple[Any, ...] | None]] = {t: {} for t in lidar_topics}
        # a log read in file order (one cut short) may not be in time order: the frames built
        # (their times, ascending), the latest log time read, the messages in no frame
        built: list[int] = []
        latest_ns: int | None = None
        orphans: dict[str, list[int]] = {}
        unkeyed: dict[str, list[int]] = {}  # topic -> times of its messages with no key scan
        wanted = [
            *lidar_topics,
            LABELS_TOPIC,
            *(t for t in topics if t.startswith(CAMERA_TOPIC_PREFIX)),
        ]

        def build(
            stamp: int, done: dict[str, Any], cut: bool = False
        ) -> Iterator[SensorFrame | InputProblem]:
            if key not in done:  # no LiDAR scan: nothing to replay (a lost one is reported
                for topic in done:  # as lost); what came with it is noted at the end
                    unkeyed.setdefault(topic, []).append(stamp)
                return
            bad = [v.reason for v in done.values() if isinstance(v, _Bad)]
            if stamp in tf_bad:
                bad.append(tf_bad.pop(stamp))
            frame, bad_images, no_pose = self._frame(
                stamp,
                {t: v for t, v in done.items() if not isinstance(v, _Bad)},
                lidar_topics,
                images,
                tf,
                world_frame,
                ego_frame,
                camera_tolerance_ns,
            )
            if bad or bad_images:
                yield InputProblem(stamp, source, "; ".join(bad + bad_images))
                return
            present = set(done) | {f"{CAMERA_TOPIC_PREFIX}{name}/image" for name in frame.cameras}
            if cut or any(
                c.start_ns - camera_tolerance_ns <= stamp <= c.end_ns + camera_tolerance_ns
                for c in lost
            ):
                missing = sorted(seen - present)
                if missing:
                    yield InputProblem(
                        stamp,
                        source,
                        "replayed without "
                        + ", ".join(missing)
                        + " (lost with an unreadable part of the log)",
                        kind="partial",
                    )
            if no_pose is not None:
                yield InputProblem(
                    stamp, source, f"replayed without an ego pose: {no_pose}", kind="partial"
                )
            seen.update(present)
            built.append(stamp)
            yield frame

        def late(topic: str, where: str, stamp: int, value: Any) -> Iterator[InputProblem]:
            """A LiDAR or label message of a time whose frame was closed already: the log
            is not in time order (read without an index). Its frame, when built, is noted;
            a key scan is a skipped frame; the rest belongs to no frame (noted at the end)."""
            what = (
                f"{where} at {stamp} ns, read after the frame at {group_ns} ns (the log is "
                "not in time order)"
            )
            if isinstance(value, _Bad):
                what += f": {value.reason}"
            i = bisect.bisect_left(built, stamp)
            if i < len(built) and built[i] == stamp:
                yield InputProblem(stamp, source, f"replayed without {what}", kind="partial")
            elif topic == key:
                yield InputProblem(stamp, source, f"{what}: not replayed")
            else:
                orphans.setdefault(topic, []).append(stamp)

        def late_image(where: str, stamp: int) -> Iterator[InputProblem]:
            """The frames built already that an image read behind the latest log time (the
            log is not in time order) could have been paired with: replayed without it."""
            lo = bisect.bisect_left(built, stamp - camera_tolerance_ns)
            hi = bisect.bisect_right(built, stamp + camera_tolerance_ns)
            for t in built[lo:hi]:
                yield InputProblem(
                    t,
                    source,
                    f"replayed without considering {where} (at {stamp} ns), read after the "
                    "frame was built (the log is not in time order)",
                    kind="partial",
                )

        def notes() -> Iterator[InputProblem]:
            if self.summary_cut is not None:
                yield InputProblem(-1, source, self.summary_cut, kind="note")
            yield from self._uncalibrated_notes(uncalibrated, refusals)
            for topic, stamps in sorted(orphans.items()):
                yield InputProblem(
                    -1,
                    source,
                    f"{topic}: {len(stamps)} message(s) in no replayed frame: each was read "
                    f"after the frame of its time was closed (the log is not in time order; "
                    f"at {_times_shown(stamps)} ns)",
                    kind="note",
                )
            for topic, stamps in sorted(unkeyed.items()):
                yield InputProblem(
                    -1,
                    source,
                    f"{topic}: {len(stamps)} message(s) in no replayed frame: no {key} scan "
                    f"at their time (at {_times_shown(stamps)} ns)",
                    kind="note",
                )

        def flush(cut: bool = False) -> Iterator[SensorFrame | InputProblem]:
            if group_ns is not None:
                waiting.append((group_ns, group))
            for stamp, done in waiting:
                yield from build(stamp, done, cut)

        reusable: bool | None = None  # the source PNGs are what the writer would encode
        messages = self._decoded(wanted)
        while True:
            try:
                msg = next(messages)
            except StopIteration:
                break
            except TruncatedLogError:
                # the frames held for camera pairing are readable: replay them, then report
                # where the log breaks off
                yield from flush(cut=True)
                yield from notes()
                raise
            value = msg.value
            if isinstance(value, _LostChunk):
                lost.append(value)
                for t in sorted(set((value.times or {}).get(key, []))):
                    yield InputProblem(t, source, f"{key}: lost with corrupt chunk at {value.what}")
                continue
            i = index[msg.topic] = index.get(msg.topic, -1) + 1
            where = f"{msg.topic} #{i}"
            stamp = getattr(value, "timestamp_ns", None)
            if (
                not isinstance(value, _Bad)
                and stamp is not None
                and not msg.topic.endswith("/calibration")
                and abs(int(stamp) - msg.log_time_ns) > STAMP_TOLERANCE_NS
            ):
                value = _Bad(
                    msg.log_time_ns,
                    f"{where} at log time {msg.log_time_ns} ns: header stamp {stamp} ns "
                    f"is more than {STAMP_TOLERANCE_NS} ns away",
                )
            behind = latest_ns is not None and msg.log_time_ns < latest_ns
            latest_ns = msg.log_time_ns if latest_ns is None else max(latest_ns, msg.log_time_ns)
            if msg.topic.startswith(CAMERA_TOPIC_PREFIX):
                name, _, kind = msg.topic.removeprefix(CAMERA_TOPIC_PREFIX).rpartition("/")
                if (
                    behind
                    and kind != "calibration"
                    and (isinstance(value, _Bad) or name in calibrations)
                ):
                    image_ns = msg.log_time_ns if isinstance(value, _Bad) else value.timestamp_ns
                    yield from late_image(where, image_ns)
                if isinstance(value, _Bad):  # the frame of its time is skipped
                    images.setdefault(name, deque()).append(value)
                elif kind == "calibration":
                    try:
                        calibrations[name] = self._calibration(name, value, tf, ego_frame)
                        refused.pop(name, None)
                    except DataError as exc:  # one drivestack cannot use: the camera is left out
                        calibrations.pop(name, None)
                        why = refused[name] = str(DataError(exc.reason, field=exc.field))
                        refusals.setdefault((name, why), []).append(where)
                    except (KeyError, ValueError, TypeError) as exc:
                        why = f"{where}: not a calibration: {type(exc).__name__}: {exc}"
                        images.setdefault(name, deque()).append(_Bad(msg.log_time_ns, why))
                elif name in calibrations:
                    try:
                        pixels = decode_image_bytes(
                            value.data, value.format, path=source, record=msg.topic
                        )
                    except DataError as exc:
                        images.setdefault(name, deque()).append(
                            _Bad(msg.log_time_ns, f"{where}: {exc.reason}")
                        )
                    else:
                        reusable = self._png_reusable(value, pixels, reusable)
                        images.setdefault(name, deque()).append(
                            CameraImage(pixels, calibrations[name], value.timestamp_ns)
                        )
                else:
                    why = refused.get(name, "")
                    uncalibrated[(name, why)] = uncalibrated.get((name, why), 0) + 1
            else:
                stamp = msg.log_time_ns if isinstance(value, _Bad) else value.timestamp_ns
                if msg.topic in scan_times and stamp in scan_times[msg.topic]:
                    # not merged into (or made a second frame of) the time, named: a copy of
                    # the scan replayed is a note, another scan a frame lost (skipped)
                    first = scan_times[msg.topic][stamp]
                    copy = first is not None and first == _scan_fingerprint(value)
                    yield InputProblem(
                        stamp,
                        source,
                        f"{where}: a copy of the scan at {stamp} ns on its topic (a message "
                        "logged twice): not replayed again"
                        if copy
                        else f"{where}: a second scan at {stamp} ns on its topic (a log has "
                        "one scan per LiDAR topic and time): not replayed",
                        kind="partial" if copy else "skipped",
                    )
                elif group_ns is not None and stamp < group_ns:
                    # out of time order: the frame of its time takes it while it waits for
                    # images; after that it is too late (:func:`late` says so)
                    if msg.topic in scan_times:
                        scan_times[msg.topic][stamp] = _scan_fingerprint(value)
                    pending = next((done for t, done in waiting if t == stamp), None)
                    if pending is None:
                        yield from late(msg.topic, where, stamp, value)
                    else:
                        pending[msg.topic] = value
                else:
                    if msg.topic in scan_times:
                        scan_times[msg.topic][stamp] = _scan_fingerprint(value)
                    if group_ns is not None and stamp != group_ns:
                        waiting.append((group_ns, group))
                        group = {}
                    group_ns = stamp
                    group[msg.topic] = value
            while waiting and waiting[0][0] + camera_tolerance_ns < msg.log_time_ns:
                stamp, done = waiting.popleft()
                yield from build(stamp, done)
        yield from flush()
        for _, reason in sorted(tf_bad.items()):  # at no frame's time: the poses near it
            yield InputProblem(-1, source, f"{reason} (at no frame's time)", kind="note")
        yield from notes()

    def _uncalibrated_notes(
        self, uncalibrated: dict[tuple[str, str], int], refusals: dict[tuple[str, str], list[str]]
    ) -> Iterator[InputProblem]:
        """One note per camera and reason its images were not replayed: no calibration before
        them (reason ``""``), or calibrations drivestack cannot use (``refusals``: the
        messages refused for the reason)."""
        for (name, reason), n in sorted(uncalibrated.items()):
            why = f"no {CAMERA_TOPIC_PREFIX}{name}/calibration message before them"
            if reason:
                where = refusals[(name, reason)]
                more = f" (and {len(where) - 1} more like it)" if len(where) > 1 else ""
                why = f"{where[0]}{more}: {reason}"
            yield InputProblem(
                -1,
                str(self.path),
                f"{CAMERA_TOPIC_PREFIX}{name}/image: {n} image(s) not replayed: {why}",
                kind="note",
            )

    @staticmethod
    def _png_reusable(
        image: CompressedImageData, pixels: np.ndarray, reusable: bool | None
    ) -> bool | None:
        """Remember the PNG ``pixels`` came from (for a writer to reuse) when drivestack's PNG
        encoder reproduces it: checked once, on the first PNG image of the log."""
        if image.format != "png" or image.data_b64 is None or reusable is False:
            return reusable
        if reusable is None:
            try:
                reusable = encode_image_png(pixels) == image.data
            except ValueError:
                return False
        if reusable:
            pixels.setflags(write=False)  # CameraImage keeps this very array
            payloads.remember(pixels, (image.data, image.data_b64))
        return reusable

    def topics(self) -> dict[str, str]:
        """``{topic: schema name}`` of every channel (from the MCAP summary, no message read)."""
        return {m.topic: m.schema for m in self._channel_list()}

    def _channel_list(self) -> list[LogMessage]:
        """One (empty-valued) entry per channel: topic and schema name, from the summary."""
        from mcap.reader import make_reader

        with self.path.open("rb") as stream:
            try:
                summary = make_reader(stream).get_summary()
            except _mcap_errors():
                summary = None
            if summary is None:  # cut short: the channels the readable part declares
                stream.seek(0)
                schemas, channels = _declared_channels(stream)
            else:
                schemas, channels = summary.schemas, summary.channels
        return [
            LogMessage(
                c.topic, schemas[c.schema_id].name if c.schema_id in schemas else "", 0, None
            )
            for c in channels.values()
        ]

    @staticmethod
    def _calibration(
        name: str, msg: dict[str, Any], tf: TransformBuffer, ego_frame: str
    ) -> CameraCalibration:
        """The camera's calibration with its mount from ``/tf``. DataError (field ``frame_id``)
        when ``/tf`` gives no transform from the camera's frame to ``ego_frame`` at its time:
        its mount is unknown (never taken as the identity)."""
        frame = msg["frame_id"]
        try:
            ego_from_camera = tf.lookup(ego_frame, frame, _ns(msg["timestamp"]))
        except TransformLookupError as exc:
            raise DataError(
                f"the camera's mount is unknown: /tf gives no transform from its frame "
                f"{frame!r} to the ego frame {ego_frame!r} ({exc.reason})",
                field="frame_id",
            ) from None
        return decode_camera_calibration(msg, name=name, camera_from_ego=ego_from_camera.inverse())

    def _frame(
        self,
        stamp: int,
        group: dict[str, Any],
        lidar_topics: list[str],
        images: dict[str, deque[CameraImage | _Bad]],
        tf: TransformBuffer,
        world_frame: str,
        ego_frame: str,
        camera_tolerance_ns: int,
    ) -> tuple[SensorFrame, list[str], str | None]:
        """The frame at ``stamp``, why it is bad (the reasons of the unusable images that are
        its cameras' nearest), and why it has no ego pose in a log whose ``/tf`` has the
        world and ego frames (None: it has one, or the log has none to give)."""
        lidars = {
            t.removeprefix(LIDAR_TOPIC_PREFIX): c for t, c in group.items() if t in lidar_topics
        }
        mounts: dict[str, SE3] = {}
        for name, cloud in lidars.items():
            if cloud.frame == ego_frame:
                mounts[name] = SE3.identity()
            elif cloud.frame in tf.frames and ego_frame in tf.frames:
                mounts[name] = tf.lookup(ego_frame, cloud.frame, stamp)
        cameras = {}
        bad: list[str] = []
        for name, queue in images.items():
            while len(queue) > 1 and queue[0].timestamp_ns < stamp - camera_tolerance_ns:
                queue.popleft()
            best = min(queue, key=lambda image: abs(image.timestamp_ns - stamp), default=None)
            if best is not None and abs(best.timestamp_ns - stamp) <= camera_tolerance_ns:
                if isinstance(best, _Bad):
                    bad.append(best.reason)
                    continue
                cameras[name] = best
                mounts[name] = best.calibration.camera_from_ego.inverse()
        world_from_ego, no_pose = None, None
        if world_frame in tf.frames and ego_frame in tf.frames:
            try:
                world_from_ego = tf.lookup(world_frame, ego_frame, stamp)
            except TransformLookupError as exc:
                no_pose = str(exc)
        labels = group.get(LABELS_TOPIC)
        frame = SensorFrame(
            stamp,
            lidars=lidars,
            cameras=cameras,
            ego_from_sensor=mounts,
            world_from_ego=world_from_ego,
            labels=labels if isinstance(labels, Boxes3D) else None,
            label_ids=label_ids_of(labels) if isinstance(labels, Boxes3D) else None,
            source=f"{self.path}:{lidar_topics[0]}@{stamp}",
        )
        return frame, bad, no_pose

    def run_metadata(self) -> dict[str, Any]:
        """The run's metadata (version, command, config, inputs)."""
        for _, _, _, msg in self.raw_messages([RUN_TOPIC]):
            return msg
        raise DataError("log has no run metadata", path=str(self.path), record=RUN_TOPIC)

    def validate(self) -> int:
        """Validate every message against its channel's JSON schema (from the log itself);
        returns the number of messages. Raises DataError naming topic, index and the path
        inside the message that failed."""
        import jsonschema
        from mcap.reader import make_reader

        count = 0
        validators: dict[int, Any] = {}
        index: dict[str, int] = {}
        with self.path.open("rb") as stream:
            messages: Any = None
            while True:
                try:
                    messages = messages or make_reader(stream).iter_messages()
                    item = next(messages, None)
                except _mcap_errors() as exc:
                    raise DataError(
                        f"not a readable MCAP after {count} messages: {type(exc).__name__}: {exc}",
                        path=str(self.path),
                    ) from None
                if item is None:
                    break
                schema, channel, message = item
                i = index[channel.topic] = index.get(channel.topic, -1) + 1
                if schema is None or schema.encoding != "jsonschema":
                    raise DataError(
                        "channel has no jsonschema schema",
                        path=str(self.path),
                        record=f"{channel.topic} #{i}",
                    )
                validator = validators.get(schema.id)
                if validator is None:
                    try:
                        schema_doc = json.loads(schema.data)
                    except ValueError as exc:
                        raise DataError(
                            f"schema {schema.name!r} is not JSON: {exc}",
                            path=str(self.path),
                            record=channel.topic,
                        ) from None
                    validator = validators[schema.id] = jsonschema.Draft202012Validator(schema_doc)
                try:
                    value = json.loads(message.data)
                except ValueError as exc:  # UnicodeDecodeError and JSONDecodeError
                    raise DataError(
                        f"not JSON: {exc}", path=str(self.path), record=f"{channel.topic} #{i}"
                    ) from None
                error = jsonschema.exceptions.best_match(validator.iter_errors(value))
                if error is not None:
                    where = "/".join(str(p) for p in error.absolute_path) or "<root>"
                    raise DataError(
                        f"{schema.name}: {error.message}",
                        path=str(self.path),
                        record=f"{channel.topic} #{i}",
                        field=where,
                    )
                count += 1
        return count
