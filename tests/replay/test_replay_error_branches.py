"""The error and edge branches of the recorded-drive log and its replay (drivestack.replay:
log_reader, log_io, runner): bad input is a DataError naming the file, record and field; the
log I/O worker's failures reach the stack side; a replay's edge cases say what happened."""

from __future__ import annotations

import base64
import json
import multiprocessing
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from mcap.writer import CompressionType, Writer

from drivestack.core.errors import DataError
from drivestack.pipeline import Stack
from drivestack.replay import log_io
from drivestack.replay.log_format import RUN_TOPIC
from drivestack.replay.log_io import LogIO
from drivestack.replay.log_reader import (
    MCAP_MAGIC,
    InputProblem,
    LogReader,
    cut_short,
    decode_point_cloud,
    decode_scene_update,
    distortion_coefficients,
)
from drivestack.replay.runner import (
    _nothing_replayed,
    log_frame_count,
    open_frames,
    replay,
)
from drivestack.structures.sensor_frame import SensorFrame
from tests.replay.test_forecast_replay import FiniteDifferenceTracker, OracleDetector
from tests.replay.test_log_io import WORKERS, _CentroidDetector
from tests.replay.test_log_reader_bad_messages import _copy_channels, _edit_json, _log, _rewrite

N = 6


def _mcap(path: Path, channels: list[tuple[str, str, str, bytes, bytes]]) -> Path:
    """A hand-built MCAP: per ``(topic, message encoding, schema encoding, schema data,
    message data)`` one channel (no schema when the schema encoding is ``""``) and one
    message at log time 1."""
    with path.open("wb") as out:
        writer = Writer(out, compression=CompressionType.NONE)
        writer.start()
        for topic, encoding, schema_encoding, schema_data, data in channels:
            schema_id = (
                writer.register_schema(f"{topic}.schema", schema_encoding, schema_data)
                if schema_encoding
                else 0
            )
            channel = writer.register_channel(topic, encoding, schema_id)
            writer.add_message(channel, 1, data, 1)
        writer.finish()
    return path


def _without(src: Path, dst: Path, dropped: tuple[str, ...]) -> Path:
    """``src`` written again without the channels (and messages) of the topics ``dropped``."""
    from mcap.reader import make_reader

    with src.open("rb") as stream:
        reader = make_reader(stream)
        summary = reader.get_summary()
        assert summary is not None
        messages = list(reader.iter_messages())
    summary.channels = {c: ch for c, ch in summary.channels.items() if ch.topic not in dropped}
    with dst.open("wb") as out:
        writer = Writer(out, compression=CompressionType.ZSTD)
        writer.start()
        ids = _copy_channels(writer, summary)
        for _, channel, message in messages:
            if channel.topic not in dropped:
                writer.add_message(
                    ids[channel.id], message.log_time, message.data, message.log_time
                )
        writer.finish()
    return dst


Message = tuple[str, int, int, bytes]  # topic, index in topic, log time ns, data


def _summary_cut(src: Path, dst: Path, order: Callable[[list[Message]], list[Message]]) -> Path:
    """``src`` written again in the file order ``order`` gives its messages, then cut inside
    its footer: the data section is whole, the index lost, so the log is read in file order."""
    from mcap.reader import make_reader

    with src.open("rb") as stream:
        reader = make_reader(stream)
        summary = reader.get_summary()
        assert summary is not None
        read = list(reader.iter_messages(log_time_order=False))
    topics = {c.topic: cid for cid, c in summary.channels.items()}
    index: dict[str, int] = {}
    messages: list[Message] = []
    for _, channel, message in read:
        i = index[channel.topic] = index.get(channel.topic, -1) + 1
        messages.append((channel.topic, i, message.log_time, bytes(message.data)))
    with dst.open("wb") as out:
        writer = Writer(out, compression=CompressionType.ZSTD)
        writer.start()
        ids = _copy_channels(writer, summary)
        for topic, _, log_time, data in order(messages):
            writer.add_message(ids[topics[topic]], log_time, data, log_time)
        writer.finish()
    dst.write_bytes(dst.read_bytes()[:-10])
    return dst


def _moved(topic: str, k: int, after: tuple[str, int]) -> Callable[[list[Message]], list[Message]]:
    """The ``k``-th message of ``topic`` moved to just after the message ``after``."""

    def order(messages: list[Message]) -> list[Message]:
        (moved,) = [m for m in messages if m[:2] == (topic, k)]
        rest = [m for m in messages if m is not moved]
        at = next(j for j, m in enumerate(rest) if m[:2] == after) + 1
        return [*rest[:at], moved, *rest[at:]]

    return order


# --- log_reader: decoders -----------------------------------------------------------------


def test_nan_distortion_coefficients_name_the_field_d() -> None:
    """Non-finite ``D`` is a DataError naming the field ``D``."""
    with pytest.raises(DataError) as raised:
        distortion_coefficients({"distortion_model": "plumb_bob", "D": [0.1, float("nan")]})
    assert raised.value.field == "D" and "not finite" in raised.value.reason


def test_a_distortion_model_that_is_not_a_string_names_the_field() -> None:
    """A model name that is not text is a DataError naming ``distortion_model``."""
    with pytest.raises(DataError) as raised:
        distortion_coefficients({"distortion_model": 3, "D": []})
    assert raised.value.field == "distortion_model" and "3 is not a model name" in str(raised.value)


def test_a_scene_update_mixing_entity_kinds_is_refused_naming_them() -> None:
    """Boxes and tracks in one SceneUpdate are never read as one kind: an error naming both."""
    entities = [
        {"frame_id": "ego", "metadata": [{"key": "drivestack.kind", "value": "boxes"}]},
        {"frame_id": "ego", "metadata": [{"key": "drivestack.kind", "value": "track"}]},
    ]
    with pytest.raises(ValueError, match=r"mixes entity kinds \['boxes', 'track'\]"):
        decode_scene_update({"entities": entities}, 0)


def _first_cloud_message(tmp_path: Path) -> dict[str, Any]:
    log = _log(tmp_path / "in.mcap", 1)
    for topic, _, _, msg in LogReader(log).raw_messages(["/lidar/top"]):
        assert topic == "/lidar/top"
        return msg
    raise AssertionError("no cloud")


def test_a_cloud_pose_that_is_the_identity_in_another_form_leaves_the_points(
    tmp_path: Path,
) -> None:
    """A pose of quaternion -1 (the identity rotation) and no translation moves no point."""
    msg = _first_cloud_message(tmp_path)
    plain = decode_point_cloud(msg)
    msg["pose"] = {
        "position": {"x": 0.0, "y": 0.0, "z": 0.0},
        "orientation": {"x": 0.0, "y": 0.0, "z": 0.0, "w": -1.0},
    }
    posed = decode_point_cloud(msg)
    np.testing.assert_array_equal(posed.xyz_m, plain.xyz_m)


# --- log_reader: the file ---------------------------------------------------------------


def test_a_missing_log_file_is_a_data_error_naming_it(tmp_path: Path) -> None:
    """Opening a log that does not exist names the path."""
    path = tmp_path / "nope.mcap"
    with pytest.raises(DataError) as raised:
        LogReader(path)
    assert raised.value.path == str(path) and raised.value.reason == "no such log file"


def test_cut_inside_a_record_prefix_is_named_with_its_byte(tmp_path: Path) -> None:
    """A file ending inside the opcode and length of its first record says so, and where."""
    path = tmp_path / "cut.mcap"
    path.write_bytes(MCAP_MAGIC + b"\x01\x02\x00")
    assert cut_short(path) == (
        f"cut short (a truncated copy?): the file is {len(MCAP_MAGIC) + 3} bytes and ends "
        f"inside the opcode and length of its 1st record (byte {len(MCAP_MAGIC)})"
    )


def test_cut_inside_a_record_of_unknown_opcode_names_the_opcode(tmp_path: Path) -> None:
    """A record whose opcode MCAP does not define is named by its opcode number."""
    path = tmp_path / "cut.mcap"
    path.write_bytes(MCAP_MAGIC + b"\x7f" + (100).to_bytes(8, "little") + b"ab")
    text = cut_short(path)
    assert text is not None
    assert text.endswith(
        f"inside its 1st record (a record of opcode 0x7f of 109 bytes from byte "
        f"{len(MCAP_MAGIC)}: 11 of them there)"
    )


def test_a_channel_not_json_encoded_is_named(tmp_path: Path) -> None:
    """A message encoding other than json is a DataError naming the file and topic."""
    path = _mcap(tmp_path / "cbor.mcap", [("/x", "cbor", "jsonschema", b"{}", b"\xa0")])
    with pytest.raises(DataError) as raised:
        list(LogReader(path).raw_messages())
    assert raised.value.path == str(path) and raised.value.record == "/x"
    assert raised.value.reason == "message encoding 'cbor' is not json"


def test_raw_messages_name_a_message_that_is_not_json(tmp_path: Path) -> None:
    """raw_messages: a message that is not JSON names the topic and message index."""
    path = _mcap(tmp_path / "bad.mcap", [("/x", "json", "jsonschema", b"{}", b'{"a": \xfe')])
    with pytest.raises(DataError) as raised:
        list(LogReader(path).raw_messages())
    assert raised.value.path == str(path) and raised.value.record == "/x #0"
    assert raised.value.reason.startswith("not JSON: ")


def test_messages_name_a_message_that_does_not_decode(tmp_path: Path) -> None:
    """messages(): a cloud that does not decode is a DataError naming the file, topic and
    message index."""
    cut = _edit_json("/lidar/top", 1, lambda msg: msg.update(data="AAAA"))
    path = _rewrite(_log(tmp_path / "in.mcap", 3), tmp_path / "bad.mcap", cut)
    with pytest.raises(DataError) as raised:
        list(LogReader(path).messages(["/lidar/top"]))
    assert str(raised.value).startswith(f"{path}: /lidar/top #1: cannot decode")


def test_messages_error_carries_the_record(tmp_path: Path) -> None:
    """The DataError of a message that does not decode carries its record (topic #index),
    as raw_messages' and validate's do."""
    cut = _edit_json("/lidar/top", 1, lambda msg: msg.update(data="AAAA"))
    path = _rewrite(_log(tmp_path / "in.mcap", 3), tmp_path / "bad.mcap", cut)
    with pytest.raises(DataError) as raised:
        list(LogReader(path).messages(["/lidar/top"]))
    assert raised.value.record == "/lidar/top #1"
    assert raised.value.reason.startswith("cannot decode ")  # (the record said once)


def test_a_log_without_run_metadata_says_so(tmp_path: Path) -> None:
    """run_metadata of a log without the run channel names the file and the run topic."""
    path = _without(_log(tmp_path / "in.mcap", 2), tmp_path / "norun.mcap", (RUN_TOPIC,))
    with pytest.raises(DataError) as raised:
        LogReader(path).run_metadata()
    assert raised.value.path == str(path) and raised.value.record == RUN_TOPIC


def test_a_log_without_lidar_has_no_frame(tmp_path: Path) -> None:
    """A whole log without a LiDAR topic gives no frame and no error."""
    path = _without(_log(tmp_path / "in.mcap", 2), tmp_path / "nolidar.mcap", ("/lidar/top",))
    assert list(LogReader(path).frames(problems=True)) == []


def test_validate_names_a_channel_without_a_schema(tmp_path: Path) -> None:
    """validate: a channel with no jsonschema schema names the topic and message index."""
    path = _mcap(tmp_path / "x.mcap", [("/x", "json", "", b"", b"{}")])
    with pytest.raises(DataError) as raised:
        LogReader(path).validate()
    assert (
        raised.value.record == "/x #0" and raised.value.reason == "channel has no jsonschema schema"
    )


def test_validate_names_a_schema_that_is_not_json(tmp_path: Path) -> None:
    """validate: a schema that is not JSON names the schema and the topic."""
    path = _mcap(tmp_path / "x.mcap", [("/x", "json", "jsonschema", b"{nope", b"{}")])
    with pytest.raises(DataError) as raised:
        LogReader(path).validate()
    assert raised.value.record == "/x"
    assert raised.value.reason.startswith("schema '/x.schema' is not JSON: ")


def _not_png(msg: dict[str, Any]) -> None:
    msg["data"] = base64.b64encode(b"this is no image at all").decode()


def test_an_image_that_does_not_decode_skips_its_frame_only(tmp_path: Path) -> None:
    """A calibrated camera's image whose bytes are no image skips its frame, naming the
    topic and message index; the other frames are replayed."""
    change = _edit_json("/camera/front/image", 2, _not_png)
    path = _rewrite(_log(tmp_path / "in.mcap"), tmp_path / "bad.mcap", change)
    items = list(LogReader(path).frames(problems=True))
    frames = [f for f in items if isinstance(f, SensorFrame)]
    problems = [p for p in items if isinstance(p, InputProblem)]
    assert len(frames) == N - 1
    (problem,) = problems
    assert problem.kind == "skipped" and problem.reason.startswith("/camera/front/image #2: ")


# --- log_io -------------------------------------------------------------------------------


def _nothing(*_: Any) -> Any:
    return None


def test_an_unknown_worker_is_refused() -> None:
    """LogIO names a worker that is neither a process nor a thread."""
    with pytest.raises(ValueError, match="worker must be 'process' or 'thread', got 'fork'"):
        LogIO([], _nothing, _nothing, _nothing, worker="fork")  # type: ignore[arg-type]


class _TwoArgError(Exception):
    """An exception that does not survive pickling (its __init__ takes two arguments)."""

    def __init__(self, a: str, b: str) -> None:
        super().__init__(f"{a} {b}")


class _NotAnException(Exception):
    """An exception that unpickles as something else (a str)."""

    def __reduce__(self) -> Any:
        return str, ("not an exception",)


@pytest.mark.parametrize(
    ("error", "text"),
    [(_TwoArgError("disk", "full"), "disk full"), (_NotAnException("x"), "x")],
)
def test_a_worker_error_that_does_not_pickle_reaches_the_stack_side_by_type_and_text(
    error: Exception, text: str
) -> None:
    """An I/O side error that cannot cross the pipe is a RuntimeError with its type and text."""

    def open_writer() -> Any:
        raise error

    io = LogIO([], open_writer, _nothing, _nothing, worker="thread")
    with pytest.raises(RuntimeError) as raised:
        list(io.frames())
    assert str(raised.value) == f"{type(error).__name__}: {text}"
    io.abort()


class _WriterFailingOnClose:
    def close(self) -> None:
        raise OSError("no space left on device")


def _failing_writer() -> Any:
    return _WriterFailingOnClose()


def test_abort_swallows_the_error_the_worker_ends_with() -> None:
    """abort() on the way out of an error never raises, not even the writer's own failure."""
    io = LogIO([], _failing_writer, _nothing, _nothing, worker="thread")
    assert list(io.frames()) == []
    io.abort()  # the worker's OSError on close is not raised here


def test_close_raises_the_writer_failure() -> None:
    """close() raises the I/O side's failure to close the log."""
    io = LogIO([], _failing_writer, _nothing, _nothing, worker="thread")
    assert list(io.frames()) == []
    with pytest.raises(OSError, match="no space left on device"):
        io.close()


def _stuck(started: Any, release: Any) -> Iterator[SensorFrame]:
    """Input that hangs (until ``release``) once the I/O side asks for its first frame."""
    started.set()
    release.wait(10)
    yield from ()


def _events(worker: str) -> tuple[Any, threading.Event]:
    """``started`` (set in the worker: a process's is shared) and ``release`` (never waited
    on across processes: a killed waiter would leave a shared one's notify blocked)."""
    if worker == "process":
        return multiprocessing.get_context("fork").Event(), threading.Event()
    return threading.Event(), threading.Event()


@pytest.mark.parametrize("worker", WORKERS)
def test_abort_gives_up_on_a_worker_that_does_not_answer(
    monkeypatch: pytest.MonkeyPatch, worker: Any
) -> None:
    """abort() waits ABORT_WAIT_S for a stuck worker, then returns (a process is killed)."""
    monkeypatch.setattr(log_io, "ABORT_WAIT_S", 0.05)
    started, release = _events(worker)
    io = LogIO(_stuck(started, release), _nothing, _nothing, _nothing, worker=worker)
    try:
        assert started.wait(10)
        io.abort()
        if worker == "process":
            assert io._process is not None and not io._process.is_alive()
    finally:
        release.set()


def test_a_worker_that_does_not_answer_in_time_is_a_timeout(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """_take(timeout_s) of a live but silent worker raises TimeoutError (abort's wait relies
    on it), not 'the worker ended unexpectedly'."""
    monkeypatch.setattr(log_io, "ABORT_WAIT_S", 0.05)
    started, release = _events("thread")
    io = LogIO(_stuck(started, release), _nothing, _nothing, _nothing, worker="thread")
    try:
        assert started.wait(10)
        with pytest.raises(TimeoutError):
            io._take(timeout_s=0.01)
    finally:
        release.set()
        io.abort()


# --- runner -------------------------------------------------------------------------------


def test_a_replay_of_a_whole_log_without_run_metadata_names_the_run_topic(
    tmp_path: Path,
) -> None:
    """A whole log without the run channel is not a drivestack log: DataError naming it."""
    path = _without(_log(tmp_path / "in.mcap", 2), tmp_path / "norun.mcap", (RUN_TOPIC,))
    with pytest.raises(DataError) as raised:
        open_frames(path)
    assert raised.value.path == str(path) and raised.value.record == RUN_TOPIC
    assert raised.value.reason == "log has no run metadata"


def test_the_frame_count_of_a_file_that_is_no_mcap_is_unknown(tmp_path: Path) -> None:
    """log_frame_count (a progress bar's total) never fails: None for a non-MCAP file."""
    path = tmp_path / "junk.mcap"
    path.write_bytes(b"not an mcap file")
    assert log_frame_count(path) is None


def test_the_frame_count_of_a_log_without_lidar_is_unknown(tmp_path: Path) -> None:
    """A log without a LiDAR topic has no frame count."""
    path = _without(_log(tmp_path / "in.mcap", 2), tmp_path / "nolidar.mcap", ("/lidar/top",))
    assert log_frame_count(path) is None


def test_kitti_results_naming_a_file_is_refused_before_the_log_is_read(tmp_path: Path) -> None:
    """--kitti-results naming a file: DataError naming the option; nothing written."""
    log = _log(tmp_path / "in.mcap", 2)
    results = tmp_path / "results.txt"
    results.write_text("")
    with pytest.raises(DataError) as raised:
        replay(log, Stack(_CentroidDetector()), tmp_path / "out.mcap", kitti_results=results)
    assert raised.value.path == f"--kitti-results {results}"
    assert raised.value.reason.startswith("is a file")
    assert not (tmp_path / "out.mcap").exists()


def test_kitti_results_of_a_stack_without_a_tracker_is_refused(tmp_path: Path) -> None:
    """--kitti-results with a stack that does not track: DataError saying so."""
    log = _log(tmp_path / "in.mcap", 2)
    with pytest.raises(DataError, match="the stack has no tracking stage"):
        replay(log, Stack(_CentroidDetector()), tmp_path / "out.mcap", kitti_results=tmp_path / "r")
    assert not (tmp_path / "out.mcap").exists()


def test_kitti_results_of_a_missing_log_says_the_log_is_missing(tmp_path: Path) -> None:
    """--kitti-results with a log path that does not exist: the error says the log is
    missing (as a replay without the option does), not that it carries no KITTI rows."""
    log = tmp_path / "missing.mcap"
    stack = Stack(OracleDetector(), FiniteDifferenceTracker())
    with pytest.raises(DataError) as raised:
        replay(log, stack, tmp_path / "out.mcap", kitti_results=tmp_path / "r", progress=False)
    assert "no such log file" in str(raised.value)


def _drop(kind: str) -> dict[str, Any]:
    return {"topic": "/v", "kind": kind, "kept": False, "reason": f"{kind} reason"}


def test_no_frame_from_lidar_messages_all_partial_names_each_partial() -> None:
    """A bag whose LiDAR packets never made a whole frame names each partial frame."""
    ingest = {
        "lidar_topics": ["/v"],
        "messages_read": {"/v": 2},
        "skipped": [_drop("partial_frame"), _drop("partial_frame")],
    }
    assert _nothing_replayed([], ingest) == (
        "no frame replayed: 2 LiDAR messages read, none made a frame (partial_frame: "
        "partial_frame reason; partial_frame: partial_frame reason; see the summary JSON's "
        "ingest report)"
    )


def test_no_frame_from_lidar_messages_of_an_input_that_broke_off_says_so() -> None:
    """LiDAR messages read, none dropped, the input broke off: the reason is the break."""
    ingest = {"lidar_topics": ["/v"], "messages_read": {"/v": 3}, "skipped": []}
    text = _nothing_replayed([], ingest, stopped=True)
    assert "3 LiDAR messages read, none made a frame (the input broke off (above);" in text


def test_no_frame_from_lidar_messages_without_a_reason_says_none_recorded() -> None:
    """LiDAR messages read and nothing recorded about them: 'no reason recorded'."""
    ingest = {"lidar_topics": ["/v"], "messages_read": {"/v": 1}, "skipped": []}
    assert "(no reason recorded; see the summary JSON's ingest report)" in _nothing_replayed(
        [], ingest
    )


def test_no_frame_of_an_input_that_broke_off_before_its_first_frame() -> None:
    """No ingest report and the input broke off: said so."""
    assert _nothing_replayed([], None, stopped=True) == (
        "no frame replayed: the input broke off before its first frame (above)"
    )


# --- log_reader: a log read in file order (its index lost) ------------------------------

T_PERIOD = 100_000_000


def _items(path: Path, **kw: Any) -> tuple[list[SensorFrame], list[InputProblem]]:
    items = list(LogReader(path).frames(problems=True, **kw))
    frames = [f for f in items if isinstance(f, SensorFrame)]
    return frames, [p for p in items if isinstance(p, InputProblem)]


def test_labels_read_late_but_while_their_frame_waits_join_it(tmp_path: Path) -> None:
    """Labels read out of time order while their frame still waits for images are put in
    that frame: nothing lost, nothing reported but the cut index."""
    order = _moved("/labels", 2, after=("/lidar/top", 3))
    path = _summary_cut(_log(tmp_path / "in.mcap"), tmp_path / "late.mcap", order)
    frames, problems = _items(path, camera_tolerance_ns=3 * T_PERIOD)
    assert len(frames) == N and all(f.labels is not None for f in frames)
    assert [p.kind for p in problems] == ["note"]
    assert "the summary section after the data" in problems[0].reason


def test_a_late_scan_that_does_not_decode_is_a_skipped_frame_naming_why(tmp_path: Path) -> None:
    """A key LiDAR scan read after its frame closed and not decodable: its frame is skipped,
    the reason names the message, its lateness and why it does not decode."""
    cut = _edit_json("/lidar/top", 2, lambda msg: msg.update(data="AAAA"))
    bad = _rewrite(_log(tmp_path / "in.mcap"), tmp_path / "bad.mcap", cut)
    order = _moved("/lidar/top", 2, after=("/lidar/top", 4))
    path = _summary_cut(bad, tmp_path / "late.mcap", order)
    frames, problems = _items(path)
    assert len(frames) == N - 1
    skipped = [p for p in problems if p.kind == "skipped"]
    assert len(skipped) == 1
    assert skipped[0].reason.startswith("/lidar/top #4 at ")
    assert "(the log is not in time order): /lidar/top #4: cannot decode" in skipped[0].reason
    assert skipped[0].reason.endswith(": not replayed")


def _labels_off_grid(msg: dict[str, Any]) -> None:
    for entity in msg["entities"]:
        entity["timestamp"]["nsec"] += 50_000_000


def test_labels_late_at_no_frame_time_are_a_note_at_the_end(tmp_path: Path) -> None:
    """Labels read after the frame of their time closed, at a time no frame has, are named
    in one note at the end (never dropped silently)."""

    def shift(topic: str, i: int, log_time: int, data: bytes) -> tuple[int, bytes]:
        if (topic, i) != ("/labels", 1):
            return log_time, data
        msg = json.loads(data)
        _labels_off_grid(msg)
        return log_time + 50_000_000, json.dumps(msg).encode()

    shifted = _rewrite(_log(tmp_path / "in.mcap"), tmp_path / "shifted.mcap", shift)
    order = _moved("/labels", 1, after=("/lidar/top", 4))
    path = _summary_cut(shifted, tmp_path / "late.mcap", order)
    _, problems = _items(path)
    notes = [p.reason for p in problems if p.kind == "note" and p.reason.startswith("/labels")]
    assert len(notes) == 1
    assert notes[0].startswith("/labels: 1 message(s) in no replayed frame: each was read after")
