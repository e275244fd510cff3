"""Opening bags and iterating their messages with ``rosbags``, recording what was skipped.

``open_bag`` opens a ROS 1 ``.bag``, a rosbag2 directory (``.db3`` or ``.mcap`` storage) or a
bare ``.db3`` or ``.mcap`` file with :func:`default_typestore`; ``iter_bag_messages`` yields decoded
messages and records every message it cannot deliver in an :class:`IngestReport`.
"""

from __future__ import annotations

import struct
from collections.abc import Collection, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

from drivestack.core.errors import DataError
from drivestack.ingest.rosbag.messages import stamp_ns
from drivestack.ingest.rosbag.pointcloud2 import parse_pointcloud2_cdr


def normalise_msgtype(msgtype: str) -> str:
    """ROS 1 names (``sensor_msgs/PointCloud2``) -> ROS 2 names (``sensor_msgs/msg/PointCloud2``)."""
    parts = msgtype.split("/")
    return f"{parts[0]}/msg/{parts[1]}" if len(parts) == 2 else msgtype


@dataclass(frozen=True)
class SkippedMessage:
    """One message (or the rest of a bag) that did not make it into the frames, or that was
    kept degraded (``kept``: e.g. a frame without an ego pose), and why."""

    topic: str
    index: int
    timestamp_ns: int
    kind: str
    reason: str
    kept: bool = False

    def __str__(self) -> str:
        action = "kept" if self.kept else "skipped"
        return f"{action} {self.topic} #{self.index} @ {self.timestamp_ns} ns: {self.kind}: {self.reason}"


@dataclass
class IngestReport:
    """What was read and what was skipped or repaired (named, counted); :attr:`clean` says
    whether anything was."""

    path: str
    messages_read: dict[str, int] = field(default_factory=dict)
    skipped: list[SkippedMessage] = field(default_factory=list)
    #: non-finite points dropped from PointCloud2 messages, ``is_dense`` or not
    nonfinite_points_dropped: int = 0
    #: the LiDAR topics frames are made of (set by the bag reader)
    lidar_topics: list[str] = field(default_factory=list)
    #: the bag's topics no frame uses: ``{"topic", "type", "messages"}`` (messages: None
    #: when the bag does not say)
    unused_topics: list[dict[str, Any]] = field(default_factory=list)

    def skip(self, topic: str, index: int, timestamp_ns: int, kind: str, reason: str) -> None:
        """A message that was dropped."""
        self.skipped.append(SkippedMessage(topic, index, timestamp_ns, kind, reason))

    def repair(self, topic: str, index: int, timestamp_ns: int, kind: str, reason: str) -> None:
        """A message that was kept, degraded or repaired (the run is not clean either)."""
        self.skipped.append(SkippedMessage(topic, index, timestamp_ns, kind, reason, kept=True))

    def counts(self) -> dict[str, int]:
        """Skipped or repaired messages per kind (``decode``, ``time_backwards``,
        ``time_repeated``, ``truncated``, ``missing_tf``, ``no_ego_pose`` (the bag has no
        source of the ego pose), ``ego_pose_gap`` (its source has none at that time),
        ``partial_frame``,
        ``corrupt_packets``, ``nonfinite_points``, ``unused_config``, ...)."""
        out: dict[str, int] = {}
        for s in self.skipped:
            out[s.kind] = out.get(s.kind, 0) + 1
        return out

    @property
    def clean(self) -> bool:
        """Nothing skipped or repaired: no entry in :attr:`skipped`. Non-finite points dropped
        from clouds that claim ``is_dense = true`` have an entry (``nonfinite_points``); those
        of ``is_dense = false`` clouds (their "no return" points) are only counted in
        :attr:`nonfinite_points_dropped`."""
        return not self.skipped

    def summary(self) -> str:
        lines = [f"{self.path}: read {sum(self.messages_read.values())} messages"]
        if self.nonfinite_points_dropped:
            lines.append(f"  dropped {self.nonfinite_points_dropped} non-finite points")
        lines += [f"  {s}" for s in self.skipped]
        return "\n".join(lines)


def default_typestore() -> Any:
    """ROS 2 Humble types plus the LiDAR packet messages recorded bags use (for ``.db3`` bags
    that carry no message definitions)."""
    from rosbags.typesys import Stores, get_types_from_msg, get_typestore

    store = get_typestore(Stores.ROS2_HUMBLE)
    extra = {}
    extra.update(
        get_types_from_msg(
            "builtin_interfaces/Time stamp\nuint8[1206] data", "velodyne_msgs/msg/VelodynePacket"
        )
    )
    extra.update(
        get_types_from_msg(
            "std_msgs/Header header\nvelodyne_msgs/VelodynePacket[] packets",
            "velodyne_msgs/msg/VelodyneScan",
        )
    )
    store.register(extra)
    return store


def _deserialize(reader: Any, raw: bytes, msgtype: str) -> Any:
    """The generic ``rosbags`` route, except ROS 2 PointCloud2: parsed straight from its CDR
    bytes with the data left as a zero-copy view (the generic route if that parse refuses)."""
    from drivestack.ingest.rosbag.topic_map import POINTCLOUD2  # (topic_map imports this module)

    if msgtype == POINTCLOUD2 and getattr(reader, "is2", False):
        try:
            return parse_pointcloud2_cdr(raw)
        except (ValueError, struct.error, UnicodeDecodeError):
            pass
    return reader.deserialize(raw, msgtype)


def _stamp_out_of_order(
    stamp_ns: int, last_ns: int | None, unique_stamps: bool
) -> tuple[str, str] | None:
    """``(kind, reason)`` when a message's time may not follow its topic's previous one: it
    goes backwards, or repeats the previous stamp where stamps must be ``unique_stamps``
    (a sensor topic's header stamps); None when it is in order."""
    if last_ns is None or stamp_ns > last_ns:
        return None
    if stamp_ns < last_ns:
        return "time_backwards", f"header stamp {stamp_ns} ns is before the previous {last_ns} ns"
    if unique_stamps:
        return "time_repeated", f"header stamp {stamp_ns} ns repeats the previous message's"
    return None


#: A header stamp whose offset from its message's log time differs from its topic's by more
#: than this is off the topic's clock (a glitched stamp, or a clock that jumped).
STAMP_JUMP_NS = 1_000_000_000
#: A sensor topic's clock is settled on the first two of its first this many messages that
#: agree (the messages before them are held back, not yet yielded).
SETTLE_MESSAGES = 3


class _Held(NamedTuple):
    topic_index: int
    stamp_ns: int
    log_ns: int
    msg: Any


class _TopicClock:
    """One topic's clock as :func:`iter_bag_messages` follows it: the last accepted header
    stamp, its offset from its log time, and an offset seen once off that clock. With
    ``settle``, the first messages are held until two agree (``held``; None once settled)."""

    def __init__(self, settle: bool) -> None:
        self.last_stamp: int | None = None
        self.offset_ns: int | None = None
        self.pending_offset_ns: int | None = None
        self.held: list[_Held] | None = [] if settle else None

    def settle(self, message: _Held) -> list[_Held]:
        """The messages to pass on now: none while the clock is unsettled (``message`` is
        held), else the held ones and ``message``, with the clock set to the offset of the
        first two that agree (the held ones off it are then judged off the clock: a stamp
        glitched on a topic's first message no longer becomes its clock)."""
        held = self.held
        if held is None:
            return [message]
        offset = message.log_ns - message.stamp_ns
        agrees = any(abs(h.log_ns - h.stamp_ns - offset) <= STAMP_JUMP_NS for h in held)
        if not agrees and len(held) < SETTLE_MESSAGES - 1:
            held.append(message)
            return []
        self.held = None
        if agrees:
            self.offset_ns = offset
        return [*held, message]

    def flush(self) -> list[_Held]:
        """The messages still held when the topic's stream ends."""
        held, self.held = self.held or [], None
        return held

    def jump(self, stamp_ns: int, log_ns: int) -> str | None:
        """Why a header-stamped message is off this clock (None: on it, or it confirms a jump:
        a second message in a row at the same new offset, which the clock follows once such
        a message is accepted)."""
        offset = log_ns - stamp_ns
        if self.offset_ns is None or abs(offset - self.offset_ns) <= STAMP_JUMP_NS:
            self.pending_offset_ns = None
            return None
        pending = self.pending_offset_ns
        if pending is not None and abs(offset - pending) <= STAMP_JUMP_NS:
            self.pending_offset_ns = None  # the clock jumped: :meth:`accept` follows it
            return None
        self.pending_offset_ns = offset
        return (
            f"header stamp {stamp_ns} ns is {(self.offset_ns - offset) * 1e-9:+.3f} s off "
            f"its topic's clock (log time {log_ns} ns; a second message there would be "
            "taken as the clock jumping)"
        )

    def accept(self, stamp_ns: int, log_ns: int) -> None:
        self.last_stamp, self.offset_ns = stamp_ns, log_ns - stamp_ns


def iter_bag_messages(
    reader: Any,
    topics: set[str],
    report: IngestReport,
    *,
    unique_stamps: bool = False,
    settle_topics: Collection[str] = (),
) -> Iterator[tuple[str, int, int, Any]]:
    """``(topic, index on topic, header stamp (else log time) ns, message)`` of ``topics`` in log
    order from an open ``AnyReader``. Undecodable messages, header stamps going backwards on a
    topic, with ``unique_stamps`` (``topics`` are sensor topics, LiDAR and images: a duplicated
    message or a stuck clock gives two sweeps or images at one time) a header stamp repeating
    the previous one on its topic, and a truncated tail are recorded in ``report`` (kinds
    ``decode``, ``time_backwards``, ``time_repeated``, ``truncated``) and skipped. Without it
    (CameraInfo, TF, odometry, ...), and for messages without a header (log times), messages
    may share a time. A header stamp more than :data:`STAMP_JUMP_NS` off its topic's clock
    (its offset from the log time unlike the messages before it: a stamp glitched seconds
    ahead) is skipped too (kind ``time_jump``) and does not move the clock, so the messages
    after it are judged against those before it; two in a row at one new offset are a clock
    that jumped, followed from the second. A topic's header stamps never go backwards: a
    clock that jumps back, or messages logged late (a recorder stall), are skipped as
    ``time_backwards`` until the stamps pass the last one given. The clocks of
    ``settle_topics`` (LiDAR topics: a sweep stamped seconds ahead would hold back every frame
    after it) are first settled on two of their first :data:`SETTLE_MESSAGES` messages that
    agree (the first are held back until then, so they come a message or two late in log
    order): a first stamp glitched seconds ahead is skipped, not taken as the clock."""
    conns = [c for c in reader.connections if c.topic in topics]
    if not conns:  # rosbags reads every connection when given none
        return
    index: dict[str, int] = {}
    clocks: dict[str, _TopicClock] = {}

    def passed(topic: str, message: _Held) -> Iterator[tuple[str, int, int, Any]]:
        """``message`` when it is on its topic's clock and in order (else reported)."""
        clock = clocks[topic]
        i, stamp = message.topic_index, message.stamp_ns
        jumped = clock.jump(stamp, message.log_ns)
        if jumped is not None:
            report.skip(topic, i, stamp, "time_jump", jumped)
            return
        out_of_order = _stamp_out_of_order(stamp, clock.last_stamp, unique_stamps)
        if out_of_order is not None:
            report.skip(topic, i, stamp, *out_of_order)
            return
        clock.accept(stamp, message.log_ns)
        yield topic, i, stamp, message.msg

    topic, i, log_ns = "<bag>", -1, 0
    try:
        for conn, log_ns, raw in _messages_past_bad_chunks(reader, conns, report):
            topic = conn.topic
            i = index[topic] = index.get(topic, -1) + 1
            report.messages_read[topic] = report.messages_read.get(topic, 0) + 1
            try:
                msg = _deserialize(reader, raw, conn.msgtype)
            except Exception as exc:
                report.skip(topic, i, log_ns, "decode", f"{conn.msgtype}: {library_error(exc)}")
                continue
            if not hasattr(msg, "header"):  # log times: in log order by construction
                yield topic, i, log_ns, msg
                continue
            clock = clocks.setdefault(topic, _TopicClock(settle=topic in settle_topics))
            for message in clock.settle(_Held(i, stamp_ns(msg), log_ns, msg)):
                yield from passed(topic, message)
    except Exception as exc:
        report.skip(
            topic,
            i + 1,
            log_ns,
            "truncated",
            (
                f"bag ends early after this topic's message {i}"
                if i >= 0
                else "bag ends early before its first message"
            )
            + f": {library_error(exc)}",
        )
    for topic, clock in clocks.items():  # topics whose clock never settled
        for message in clock.flush():
            yield from passed(topic, message)


def library_error(exc: BaseException) -> str:
    """A bag library's exception as a reason: ``Type: message``; an assertion the library
    makes about the file's bytes (rosbags asserts chunk and record lengths, with no message)
    is said to be one, not left as a bare ``AssertionError:``."""
    if str(exc):
        return f"{type(exc).__name__}: {exc}"
    if isinstance(exc, AssertionError):
        return "the bag library's own check of the file's records failed (AssertionError)"
    return type(exc).__name__


def _messages_past_bad_chunks(
    reader: Any, conns: list[Any], report: IngestReport
) -> Iterator[tuple[Any, int, bytes]]:
    """``reader.messages(connections=conns)``, going on past a ROS 1 chunk that cannot be
    read (a corrupt record inside it) from the next chunk after it by the bag's chunk index:
    the lost span is recorded in ``report`` (kind ``corrupt_chunk``). Other errors, and one in
    a bag without a chunk index, end the iteration as before (the caller reports it)."""
    start: int | None = None
    while True:
        last: int | None = None
        try:
            # (a salvaged bag's reader takes no start: it never resumes)
            resumed = {} if start is None else {"start": start}
            for item in reader.messages(connections=conns, **resumed):
                last = item[1]
                yield item
            return
        except Exception as exc:
            after = last if last is not None else (start - 1 if start is not None else None)
            chunk = _unreadable_chunk(reader, conns, after)
            if chunk is None:
                raise
            bad, failed_ns, resume = chunk
            report.skip(
                "<bag>",
                bad.pos,
                failed_ns,
                "corrupt_chunk",
                f"chunk at byte {bad.pos} ({bad.start_time}..{bad.end_time} ns) cannot be read "
                f"({library_error(exc)}); its messages from {failed_ns} ns on, and any "
                f"other before {resume} ns, are lost; reading on from the next chunk",
            )
            start = resume


def _unreadable_chunk(
    reader: Any, conns: list[Any], after_ns: int | None
) -> tuple[Any, int, int] | None:
    """``(chunk info, time of the message that failed, start time of the next chunk)``: the
    ROS 1 chunk holding the first message of ``conns`` after ``after_ns`` (None: from the
    start) by the bag's message index, where a read that had got that far failed, and where
    reading goes on; None without a ROS 1 index (one file), or with no chunk after it."""
    readers = getattr(reader, "readers", None)
    rd = readers[0] if readers and len(readers) == 1 else None
    infos = getattr(rd, "chunk_infos", None)
    indexes = getattr(rd, "indexes", None)
    if not infos or not isinstance(indexes, dict):
        return None
    topics = {c.topic for c in conns}
    ids = [c.id for c in rd.connections if c.topic in topics]  # type: ignore[union-attr]
    floor = -1 if after_ns is None else after_ns
    ahead = [e for cid in ids for e in indexes.get(cid, ()) if e.time > floor]
    if not ahead:
        return None
    first = min(ahead, key=lambda e: (e.time, e.chunk_pos))
    bad = next((c for c in infos if c.pos == first.chunk_pos), None)
    if bad is None:
        return None
    following = [c.start_time for c in infos if c.start_time > bad.end_time]
    return (bad, int(first.time), int(min(following))) if following else None


@contextmanager
def open_bag(path: Path, report: IngestReport | None = None) -> Iterator[Any]:
    """An open ``rosbags`` ``AnyReader`` with :func:`default_typestore`.

    When ``rosbags`` cannot open a ROS 1 bag or an MCAP file (no index / summary: a recording
    cut short), the file is read front to back with :class:`SalvageReader` instead and the
    salvage is recorded in ``report`` (kind ``truncated``, kept). A rosbag2 ``.db3`` cut short
    is not salvaged (sqlite cannot read a cut database file). DataError naming the file when
    neither works (missing, not a bag, a corrupt ``.db3``, a rosbag2 folder without its
    ``metadata.yaml``: its ``.db3`` or ``.mcap`` file can be given instead).
    """
    from rosbags.highlevel import AnyReader

    try:
        reader: Any = AnyReader([path], default_typestore=default_typestore())
        reader.open()
    except Exception as exc:  # rosbags raises several reader-specific types
        reader = _salvage(path, library_error(exc), report)
    failed = True
    try:
        yield reader
        failed = False
    finally:
        try:
            reader.close()
        except Exception as exc:  # rosbags trips on a metadata.yaml value it opened with
            if not failed:  # (else the body's error is the one to see)
                problem = _metadata_problem(path) or library_error(exc)
                where = path / "metadata.yaml" if path.is_dir() else path
                raise DataError(f"cannot read bag: {problem}", path=str(where)) from None


def _metadata_problem(path: Path) -> str | None:
    """One line on what is wrong with a rosbag2 folder's ``metadata.yaml`` (with the line and
    column of a YAML error; a list key that is not a list); None when it parses and has that
    shape, or ``path`` is not a folder."""
    if not path.is_dir():
        return None
    meta = path / "metadata.yaml"
    if not meta.is_file():
        return (
            "missing (a rosbag2 folder needs it: `ros2 bag reindex` rebuilds it; or give the "
            "bag's .db3 or .mcap file itself, which is read without it)"
        )
    import yaml

    try:
        doc = yaml.safe_load(meta.read_text(encoding="utf-8", errors="replace"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or type(exc).__name__
        return f"invalid YAML{where}: {' '.join(str(problem).split())}"
    except OSError as exc:
        return f"cannot read: {exc.strerror or exc}"
    info = doc.get("rosbag2_bagfile_information") if isinstance(doc, dict) else None
    if not isinstance(info, dict):
        return "no `rosbag2_bagfile_information` mapping"
    for key in ("relative_file_paths", "topics_with_message_count", "files"):
        if key in info and not isinstance(info[key], list):
            return f"`{key}` is not a list: {info[key]!r}"
    return None


def _salvage(path: Path, why: str, report: IngestReport | None) -> Any:
    from drivestack.ingest.rosbag.salvage import SalvageReader

    target = path
    if path.is_dir():
        files = sorted(path.glob("*.mcap"))
        target = files[0] if len(files) == 1 else path
    if not (target.is_file() and target.suffix in (".bag", ".mcap")):
        problem = _metadata_problem(path)
        if problem is not None:  # one line naming metadata.yaml, not a YAML parser dump
            raise DataError(f"cannot open bag: {problem}", path=str(path / "metadata.yaml"))
        raise DataError(f"cannot open bag: {why}", path=str(path))
    try:
        reader = SalvageReader(target)
    except Exception as exc:
        raise DataError(  # one line: no library's multi-line dump
            f"cannot open bag: {why}; reading it front to back failed too: "
            f"{' '.join(library_error(exc).split())}",
            path=str(path),
        ) from None
    if report is not None:
        stop = f"stopped: {reader.stopped}" if reader.stopped else "read to the end"
        passed_over = "".join(
            f"; passed over {n} messages of {topic} (a channel without a schema)"
            for topic, n in sorted(reader.without_schema.items())
        )
        report.repair(
            "<bag>",
            0,
            0,
            "truncated",
            f"{why}; read front to back, {stop}, recovered {reader.num_messages} messages"
            + passed_over,
        )
    return reader
