"""Read what a cut-short recording still holds: ROS 1 bags and MCAP files without an index.

A recorder that crashes or loses power leaves a ROS 1 bag without its index (``rosbag
reindex`` territory) or an MCAP file without its summary and end magic; ``rosbags`` refuses
both. :class:`SalvageReader` reads such a file front to back instead, record by record, and
stops at the first incomplete record, saying where and why (:attr:`stopped`). It offers the
part of ``rosbags.highlevel.AnyReader``'s interface that drivestack uses (``connections``,
``messages``, ``deserialize``) so the rest of ingestion runs unchanged.

ROS 1 (format 2.0): ``#ROSBAG V2.0`` then records ``<u32 header_len><header><u32 data_len>
<data>``; header fields ``<u32 len>name=value``; ``op`` 0x05 chunk (``none``/``bz2``/``lz4``
compression) holding 0x07 connection and 0x02 message records. MCAP: the ``mcap`` library's
stream reader (records in file order, chunks expanded). Types come from the definitions
stored in the file (``message_definition`` / ``ros2msg`` schemas).
"""

from __future__ import annotations

import bz2
import io
import struct
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from drivestack.ingest.rosbag.bag_io import library_error

ROS1_MAGIC = b"#ROSBAG V2.0\n"
_OP_MSG_DATA, _OP_CHUNK, _OP_CONNECTION = 0x02, 0x05, 0x07


class _Incomplete(Exception):
    """A record runs past the end of the available bytes."""


@dataclass(eq=False)
class SalvageConnection:
    """A connection (ROS 1) or channel (MCAP) the readable part declares, like a ``rosbags``
    connection; ``msgcount`` is the number of its messages recovered (set after reading)."""

    id: int
    topic: str
    msgtype: str  # ROS 2 style (``sensor_msgs/msg/PointCloud2``)
    msgdef: str
    msgcount: int = 0


def _ros2_name(msgtype: str) -> str:
    parts = msgtype.split("/")
    return f"{parts[0]}/msg/{parts[-1]}" if len(parts) == 2 else msgtype


def _fields(header: bytes) -> dict[str, bytes]:
    out = {}
    pos = 0
    while pos + 4 <= len(header):
        (n,) = struct.unpack_from("<I", header, pos)
        field = header[pos + 4 : pos + 4 + n]
        if len(field) < n:
            raise _Incomplete("header field")
        name, _, value = field.partition(b"=")
        out[name.decode("ascii", "replace")] = value
        pos += 4 + n
    return out


def _record(buf: bytes | memoryview, pos: int) -> tuple[dict[str, bytes], memoryview, int]:
    view = memoryview(buf)
    if pos + 4 > len(view):
        raise _Incomplete("record header length")
    (hlen,) = struct.unpack_from("<I", view, pos)
    if pos + 8 + hlen > len(view):
        raise _Incomplete("record header")
    header = bytes(view[pos + 4 : pos + 4 + hlen])
    (dlen,) = struct.unpack_from("<I", view, pos + 4 + hlen)
    start = pos + 8 + hlen
    if start + dlen > len(view):
        raise _Incomplete("record data")
    return _fields(header), view[start : start + dlen], start + dlen


#: The largest uncompressed chunk a salvaged ROS 1 bag may declare (rosbag writes 768 KiB
#: chunks by default; a chunk is decompressed whole).
MAX_CHUNK_BYTES = 1 << 30


class _MalformedField(Exception):
    """A record field that is there but does not read: ``(field name, why)``."""


def _unpacked(fields: dict[str, bytes], name: str, fmt: str) -> tuple[int, ...]:
    """Field ``name`` of a record unpacked as ``fmt`` (``KeyError`` when it is missing,
    :class:`_MalformedField` when its length does not fit)."""
    raw = fields[name]
    if len(raw) != struct.calcsize(fmt):
        raise _MalformedField(name, f"{len(raw)} bytes, not {struct.calcsize(fmt)}")
    return struct.unpack(fmt, raw)


def _text(fields: dict[str, bytes], name: str, default: bytes | None = None) -> str:
    """Field ``name`` of a record as UTF-8 text (``default`` when given and it is missing)."""
    raw = fields[name] if default is None else fields.get(name, default)
    try:
        return raw.decode()
    except UnicodeDecodeError as exc:
        raise _MalformedField(name, f"not UTF-8 text (byte {exc.start})") from None


#: What a record with a missing or malformed header field raises while it is read.
_MALFORMED = (KeyError, IndexError, _MalformedField)


def _malformed(exc: Exception) -> str:
    """Why a record of :data:`_MALFORMED` stopped the salvage, for ``stopped``."""
    if isinstance(exc, KeyError):
        return f"record without its {exc.args[0]!r} field"
    if isinstance(exc, IndexError):
        return "record with an empty op field"
    name, why = exc.args
    return f"record with a malformed {name!r} field ({why})"


class SalvageReader:
    """Front-to-back reader of an unindexed ROS 1 bag or a summary-less MCAP file.

    Attributes:
        connections: what the readable part declares, each with ``msgcount`` (messages
            recovered).
        stopped: None when the file was read to its end, else where and why reading stopped.
        stopped_at: the byte where reading stopped (None when read to its end).
        num_messages: messages recovered.
        without_schema: topic -> messages passed over, of MCAP channels without a schema
            (not ROS messages: nothing to decode them with).
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.connections: list[SalvageConnection] = []
        self._messages: list[tuple[SalvageConnection, int, bytes]] = []
        self.stopped: str | None = None
        self.stopped_at: int | None = None  # the byte where reading stopped
        self.without_schema: dict[str, int] = {}
        data = self.path.read_bytes()
        self._ros2 = not data.startswith(ROS1_MAGIC)
        if self._ros2:
            self._read_mcap(data)
        else:
            self._read_ros1(data)
        recovered = Counter(conn.id for conn, _, _ in self._messages)
        for conn in self.connections:
            conn.msgcount = recovered[conn.id]
        self.typestore = self._typestore()

    @property
    def num_messages(self) -> int:
        return len(self._messages)

    # -- ROS 1 --------------------------------------------------------------------------------
    def _read_ros1(self, data: bytes) -> None:
        by_id: dict[int, SalvageConnection] = {}
        pos = len(ROS1_MAGIC)
        while pos < len(data):
            try:
                fields, body, end = _record(data, pos)
            except _Incomplete as exc:
                self.stopped = f"incomplete {exc} at byte {pos} of {len(data)}"
                self.stopped_at = pos
                self._ros1_partial_chunk(data, pos, by_id)
                return
            try:
                op = fields.get("op", b"\x00")[0]
                if op == _OP_CONNECTION:
                    self._ros1_connection(fields, body, by_id)
                stop = self._ros1_chunk(fields, body, by_id) if op == _OP_CHUNK else None
            except _MALFORMED as exc:  # the chunks before it are kept, as for a cut
                self.stopped = f"{_malformed(exc)} at byte {pos} of {len(data)}"
                self.stopped_at = pos
                return
            if stop:
                self.stopped = f"{stop} in the chunk at byte {pos} of {len(data)}"
                self.stopped_at = pos
                return
            pos = end

    def _ros1_partial_chunk(
        self, data: bytes, pos: int, by_id: dict[int, SalvageConnection]
    ) -> None:
        """The complete records at the start of a cut-off uncompressed chunk."""
        try:
            (hlen,) = struct.unpack_from("<I", data, pos)
            fields = _fields(data[pos + 4 : pos + 4 + hlen])
        except (struct.error, _Incomplete):
            return
        if (
            fields.get("op", b"\x00")[:1] == bytes([_OP_CHUNK])
            and fields.get("compression", b"none") == b"none"
        ):
            start = pos + 8 + hlen
            if start <= len(data):
                self._ros1_chunk(fields, memoryview(data)[start:], by_id)

    def _ros1_connection(
        self, fields: dict[str, bytes], body: memoryview, by_id: dict[int, SalvageConnection]
    ) -> None:
        (cid,) = _unpacked(fields, "conn", "<I")
        if cid in by_id:
            return
        info = _fields(bytes(body))
        conn = SalvageConnection(
            cid,
            _text(fields, "topic"),
            _ros2_name(_text(info, "type")),
            _text(info, "message_definition", b""),
        )
        by_id[cid] = conn
        self.connections.append(conn)

    def _ros1_chunk(
        self, fields: dict[str, bytes], body: memoryview, by_id: dict[int, SalvageConnection]
    ) -> str | None:
        compression = _text(fields, "compression", b"none")
        size_field = fields.get("size", b"")
        if compression != "none" and len(size_field) != 4:
            return "compressed chunk without its 4-byte size field"
        # the uncompressed size the chunk declares bounds what is decompressed: a few
        # kilobytes of bz2 can otherwise expand to gigabytes before any check
        size = int.from_bytes(size_field, "little") if size_field else len(body)
        if compression != "none" and size > MAX_CHUNK_BYTES:
            return f"chunk declares {size:,} bytes uncompressed (at most {MAX_CHUNK_BYTES:,})"
        try:
            if compression == "none":
                inner: bytes | memoryview = body
            elif compression == "bz2":
                inner = bz2.BZ2Decompressor().decompress(body, max_length=size + 1)
            elif compression == "lz4":
                import lz4.frame

                inner = lz4.frame.LZ4FrameDecompressor().decompress(
                    bytes(body), max_length=size + 1
                )
            else:
                return f"unknown chunk compression {compression!r}"
        except (OSError, ValueError, RuntimeError, EOFError) as exc:
            return f"corrupt {compression} data ({exc})"
        if compression != "none" and len(inner) != size:
            return f"{compression} chunk holds {'more' if len(inner) > size else 'less'} than the {size:,} bytes it declares"
        pos = 0
        while pos < len(inner):
            try:
                rec_fields, rec_body, pos = _record(inner, pos)
            except _Incomplete as exc:
                return f"incomplete {exc}"
            try:
                op = rec_fields.get("op", b"\x00")[0]
                if op == _OP_CONNECTION:
                    self._ros1_connection(rec_fields, rec_body, by_id)
                elif op == _OP_MSG_DATA:
                    (cid,) = _unpacked(rec_fields, "conn", "<I")
                    sec, nsec = _unpacked(rec_fields, "time", "<II")
                    if cid in by_id:
                        message = (by_id[cid], sec * 1_000_000_000 + nsec, bytes(rec_body))
                        self._messages.append(message)
            except _MALFORMED as exc:
                return _malformed(exc)
        return None

    # -- MCAP ---------------------------------------------------------------------------------
    def _read_mcap(self, data: bytes) -> None:
        from mcap.records import Channel, Message, Schema
        from mcap.stream_reader import StreamReader

        schemas: dict[int, Any] = {}
        by_id: dict[int, SalvageConnection] = {}
        schemaless: dict[int, str] = {}  # channel id -> topic
        stream = io.BytesIO(data)
        pos = 0  # the end of the last whole record
        try:
            for record in StreamReader(stream, skip_magic=False).records:
                pos = stream.tell()
                if isinstance(record, Schema):
                    schemas[record.id] = record
                elif isinstance(record, Channel):
                    schema = schemas.get(record.schema_id)
                    if schema is None and record.id not in by_id:
                        schemaless[record.id] = record.topic
                        self.without_schema.setdefault(record.topic, 0)
                    if schema is None or record.id in by_id:
                        continue
                    conn = SalvageConnection(
                        record.id, record.topic, _ros2_name(schema.name), schema.data.decode()
                    )
                    by_id[record.id] = conn
                    self.connections.append(conn)
                elif isinstance(record, Message) and record.channel_id in by_id:
                    self._messages.append(
                        (by_id[record.channel_id], record.log_time, bytes(record.data))
                    )
                elif isinstance(record, Message) and record.channel_id in schemaless:
                    self.without_schema[schemaless[record.channel_id]] += 1
        except Exception as exc:  # the mcap library raises several types for a cut-off file
            self.stopped = f"{library_error(exc)} at byte {pos} of {len(data)}"
            self.stopped_at = pos

    # -- AnyReader-like interface -------------------------------------------------------------
    def _typestore(self) -> Any:
        from rosbags.typesys import Stores, get_types_from_msg, get_typestore

        store = get_typestore(Stores.EMPTY)
        types: dict[str, Any] = {}
        for conn in self.connections:
            if conn.msgdef:
                try:
                    types.update(get_types_from_msg(conn.msgdef, conn.msgtype))
                except Exception as exc:  # rosbags' parser error: a multi-line grammar dump
                    first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
                    raise ValueError(
                        f"the message definition of {conn.msgtype} (topic {conn.topic}) does "
                        f"not parse ({type(exc).__name__}: {first})"
                    ) from None
        store.register(types)
        return store

    def messages(
        self, connections: Sequence[Any] = ()
    ) -> Iterator[tuple[SalvageConnection, int, bytes]]:
        """``(connection, log time ns, raw bytes)`` in log-time order (all when none given)."""
        wanted = {c.id for c in connections}
        picked = [m for m in self._messages if not wanted or m[0].id in wanted]
        yield from sorted(picked, key=lambda m: m[1])

    def deserialize(self, raw: bytes, msgtype: str) -> Any:
        if self._ros2:
            return self.typestore.deserialize_cdr(raw, msgtype)
        return self.typestore.deserialize_ros1(raw, msgtype)

    def close(self) -> None:
        self._messages.clear()
