"""A replay goes on past a bad input frame: a message that does not decode, a header stamp far
from its log time, a LiDAR scan lost with a corrupt chunk; each is skipped and named, frames
cut short by the loss are noted, and a camera without calibration is reported."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from mcap.reader import make_reader
from mcap.writer import CompressionType, Writer

from drivestack.core.errors import DataError
from drivestack.pipeline import Stack
from drivestack.replay.log_format import LogWriter
from drivestack.replay.log_reader import (
    STAMP_TOLERANCE_NS,
    InputProblem,
    LogReader,
    decode_point_cloud,
)
from drivestack.replay.runner import TIMING_TOPIC, replay, summary_lines
from drivestack.structures.boxes import Boxes3D
from tests.replay.test_log_io import PERIOD_NS, T0, _CentroidDetector, _frame, _messages

N = 6
#: (topic, index in topic, log time ns, data) -> (log time ns, data), or None to drop it, or
#: a list of them (the message written more than once)
Change = Callable[[str, int, int, bytes], tuple[int, bytes] | list[tuple[int, bytes]] | None]


def _log(path: Path, n: int = N) -> Path:
    """``n`` frames: LiDAR, a camera (image 5 ms after the scan), labels, poses."""
    rng = np.random.default_rng(3)
    with LogWriter(path, config={"source": "test"}) as writer:
        for k in range(n):
            frame = _frame(k, rng)
            labels = Boxes3D(
                np.array([[5.0, 0.0, 0.5]]),
                np.array([[4.0, 2.0, 1.5]]),
                np.zeros(1),
                "lidar",
                frame.timestamp_ns,
                label=np.array([1]),
            )
            writer.sensor_frame(replace(frame, labels=labels))
    return path


def _copy_channels(writer: Writer, summary: Any) -> dict[int, int]:
    """Register ``summary``'s schemas and channels with ``writer``: source channel id -> the
    writer's channel id."""
    schemas = {
        sid: writer.register_schema(s.name, s.encoding, s.data)
        for sid, s in summary.schemas.items()
    }
    return {
        cid: writer.register_channel(c.topic, c.message_encoding, schemas[c.schema_id])
        for cid, c in summary.channels.items()
    }


def _rewrite(src: Path, dst: Path, change: Change | None = None, chunk_size: int = 1 << 20) -> Path:
    """``src`` written again message by message (file order), each passed through ``change``."""
    with src.open("rb") as stream:
        reader = make_reader(stream)
        summary = reader.get_summary()
        assert summary is not None
        messages = list(reader.iter_messages(log_time_order=False))
    index: dict[str, int] = {}
    with dst.open("wb") as out:
        writer = Writer(out, chunk_size=chunk_size, compression=CompressionType.ZSTD)
        writer.start()
        channels = _copy_channels(writer, summary)
        for _, channel, message in messages:
            i = index[channel.topic] = index.get(channel.topic, -1) + 1
            kept = (message.log_time, bytes(message.data))
            if change is not None:
                kept = change(channel.topic, i, message.log_time, bytes(message.data))
            for log_time, data in [kept] if isinstance(kept, tuple) else kept or []:
                writer.add_message(channels[channel.id], log_time, data, log_time)
        writer.finish()
    return dst


def _replay(tmp_path: Path, log: Path) -> dict:
    stack = Stack(_CentroidDetector(), config={"detector": "centroid"})
    return replay(log, stack, tmp_path / "out.mcap", progress=False, io_worker="thread")


def _t(k: int) -> int:
    return T0 + k * PERIOD_NS


def _garble(topic: str, k: int) -> Change:
    """The ``k``-th message of ``topic`` cut in half (a half-written message)."""
    return lambda t, i, log_time, data: (
        log_time,
        data[: len(data) // 2] if (t, i) == (topic, k) else data,
    )


def _edit_json(topic: str, k: int, edit: Callable[[dict], None]) -> Change:
    def change(t: str, i: int, log_time: int, data: bytes) -> tuple[int, bytes]:
        if (t, i) != (topic, k):
            return log_time, data
        msg = json.loads(data)
        edit(msg)
        return log_time, json.dumps(msg).encode()

    return change


def _cut_cloud(msg: dict) -> None:
    import base64

    msg["data"] = base64.b64encode(base64.b64decode(msg["data"])[:-7]).decode()


def _nan_cloud(msg: dict) -> None:
    import base64

    raw = bytearray(base64.b64decode(msg["data"]))
    raw[0:4] = np.float32("nan").tobytes()
    msg["data"] = base64.b64encode(bytes(raw)).decode()


def _no_intrinsics(msg: dict) -> None:
    del msg["K"]


BAD_MESSAGES = {
    "calibration_without_intrinsics": (
        _edit_json("/camera/front/calibration", 2, _no_intrinsics),
        "/camera/front/calibration #2: not a calibration: KeyError",
    ),
    "labels_half_written": (_garble("/labels", 2), "/labels #2: cannot decode"),
    "image_half_written": (_garble("/camera/front/image", 2), "/camera/front/image #2: "),
    "tf_half_written": (_garble("/tf", 2), "/tf #2: cannot decode"),
    "cloud_half_written": (_garble("/lidar/top", 2), "/lidar/top #2: cannot decode"),
    "cloud_nan": (_edit_json("/lidar/top", 2, _nan_cloud), "/lidar/top #2: cannot decode"),
    "cloud_not_whole_points": (
        _edit_json("/lidar/top", 2, _cut_cloud),
        "/lidar/top #2: cannot decode foxglove.PointCloud: field data: ",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD_MESSAGES))
def test_a_bad_message_skips_its_frame_only(tmp_path: Path, case: str) -> None:
    change, reason = BAD_MESSAGES[case]
    log = _rewrite(_log(tmp_path / "in.mcap"), tmp_path / "bad.mcap", change)
    summary = _replay(tmp_path, log)
    assert summary["frames_processed"] == N - 1
    assert summary["frames_skipped"] == summary["frames_skipped_bad_input"] == 1
    (skip,) = summary["skipped"]
    assert skip["timestamp_ns"] == _t(2) and skip["source"] == str(log)
    assert skip["reason"].startswith(reason)
    assert not summary["clean"]
    assert "and skipped 1 bad input frame (listed below)" in summary_lines(summary)[0]
    # without problems=True the reader stops at it, naming the log, topic and message
    with pytest.raises(DataError, match=reason.split(":")[0]) as caught:
        list(LogReader(log).frames())
    assert str(log) in str(caught.value)


def test_a_cloud_that_is_not_whole_points_is_refused() -> None:
    message = {
        "timestamp": {"sec": 0, "nsec": 0},
        "frame_id": "lidar",
        "point_stride": 12,
        "fields": [{"name": a, "offset": 4 * i, "type": 7} for i, a in enumerate("xyz")],
        "data": "AAAAAAAAAAAAAAAAAA==",  # 13 bytes
    }
    with pytest.raises(DataError, match="field data: 13 bytes is not a whole number"):
        decode_point_cloud(message)


def _stamp_plus_2s(msg: dict) -> None:
    msg["timestamp"]["sec"] += 2


def test_a_header_stamp_far_from_its_log_time_skips_that_frame_only(tmp_path: Path) -> None:
    """A LiDAR clock glitch (header stamp 2 s ahead of its log time) was taken as the frame's
    time, and the stack then refused every frame before it in time."""
    change = _edit_json("/lidar/top", 2, _stamp_plus_2s)
    log = _rewrite(_log(tmp_path / "in.mcap"), tmp_path / "glitch.mcap", change)
    summary = _replay(tmp_path, log)
    assert summary["frames_processed"] == N - 1
    (skip,) = summary["skipped"]
    assert skip["timestamp_ns"] == _t(2)
    assert skip["reason"].startswith(
        f"/lidar/top #2 at log time {_t(2)} ns: header stamp {_t(2) + 2_000_000_000} ns"
    )
    assert f"more than {STAMP_TOLERANCE_NS} ns" in skip["reason"]


def test_a_frame_logged_at_another_time_is_skipped(tmp_path: Path) -> None:
    """Frame 4's messages logged between frames 1 and 2 (its stamps unchanged)."""
    early = _t(1) + PERIOD_NS // 2

    def change(topic: str, i: int, log_time: int, data: bytes) -> tuple[int, bytes]:
        return (early if log_time in (_t(4), _t(4) + 5_000_000) else log_time), data

    log = _rewrite(_log(tmp_path / "in.mcap"), tmp_path / "back.mcap", change)
    summary = _replay(tmp_path, log)
    assert summary["frames_processed"] == N - 1
    (skip,) = summary["skipped"]
    assert skip["timestamp_ns"] == early and f"header stamp {_t(4)} ns" in skip["reason"]


def _chunks(path: Path) -> list[tuple[int, int, dict[str, list[int]]]]:
    """``(start, end offset, {topic: log times})`` of each chunk, in file order."""
    from mcap.data_stream import ReadDataStream
    from mcap.records import Chunk, Message
    from mcap.stream_reader import breakup_chunk

    out = []
    with path.open("rb") as stream:
        summary = make_reader(stream).get_summary()
        assert summary is not None
        for ci in summary.chunk_indexes:
            stream.seek(ci.chunk_start_offset + 1 + 8)
            times: dict[str, list[int]] = {}
            for record in breakup_chunk(Chunk.read(ReadDataStream(stream)), True):
                if isinstance(record, Message):
                    topic = summary.channels[record.channel_id].topic
                    times.setdefault(topic, []).append(record.log_time)
            out.append((ci.chunk_start_offset, ci.chunk_start_offset + ci.chunk_length, times))
    return out


def _small_chunks(tmp_path: Path) -> tuple[Path, int, tuple[int, int, dict[str, list[int]]]]:
    """A 12-frame log in small chunks, and a chunk in its middle that holds a LiDAR scan and
    the labels of the frame before it (whose scan is in the chunk before)."""
    log = _rewrite(_log(tmp_path / "in.mcap", 12), tmp_path / "small.mcap", chunk_size=4000)
    chunks = _chunks(log)
    j = next(
        j
        for j, (_, _, times) in enumerate(chunks)
        if j > 2
        and times.get("/lidar/top")
        and set(times.get("/labels", [])) - set(times["/lidar/top"])
    )
    return log, j, chunks[j]


def test_frames_lost_with_a_corrupt_chunk_are_counted_and_cut_frames_noted(
    tmp_path: Path,
) -> None:
    """Was: frames_skipped 0, the lost frames only in a time range, a frame whose labels were
    in the lost chunk written without them, nothing said."""
    log, _, (start, end, times) = _small_chunks(tmp_path)
    data = bytearray(log.read_bytes())
    middle = (start + end) // 2
    data[middle : middle + 16] = bytes(b ^ 0x5A for b in data[middle : middle + 16])
    corrupt = tmp_path / "corrupt.mcap"
    corrupt.write_bytes(bytes(data))
    summary = _replay(tmp_path, corrupt)
    lost = sorted(times["/lidar/top"])
    skips = [s for s in summary["skipped"] if s["timestamp_ns"] != -1]
    assert [s["timestamp_ns"] for s in skips] == lost
    assert all(s["reason"].startswith("/lidar/top: lost with corrupt chunk") for s in skips)
    assert summary["frames_skipped"] == summary["frames_skipped_bad_input"] == len(lost)
    assert summary["frames_processed"] == 12 - len(lost)
    (cut,) = sorted(set(times["/labels"]) - set(lost))
    assert any(
        note.startswith(f"t={cut} replayed without ") and "/labels" in note
        for note in summary["frame_notes"]
    )
    assert summary["skipped"][-1]["reason"].startswith("input incomplete:")
    assert not summary["clean"]


def test_a_truncated_log_notes_its_last_frame_cut_short(tmp_path: Path) -> None:
    """Was: the last frame before the cut written without its labels, nothing said."""
    log, _, (start, _, times) = _small_chunks(tmp_path)
    cut = tmp_path / "cut.mcap"
    cut.write_bytes(log.read_bytes()[:start])  # the chunks before it are whole
    summary = _replay(tmp_path, cut)
    (t,) = sorted(set(times["/labels"]) - set(times["/lidar/top"]))
    assert any(
        note.startswith(f"t={t} replayed without ") and "/labels" in note
        for note in summary["frame_notes"]
    )
    assert summary["skipped"][-1]["reason"].startswith("input incomplete:")
    assert not summary["clean"]


def test_a_camera_without_calibration_is_reported(tmp_path: Path) -> None:
    """Was: every image of the camera left out of the output, the run clean."""

    def drop(topic: str, i: int, log_time: int, data: bytes) -> tuple[int, bytes] | None:
        return None if topic == "/camera/front/calibration" else (log_time, data)

    log = _rewrite(_log(tmp_path / "in.mcap"), tmp_path / "nocal.mcap", drop)
    summary = _replay(tmp_path, log)
    assert summary["frames_processed"] == N and summary["frames_skipped"] == 0
    (note,) = summary["skipped"]
    assert note["timestamp_ns"] == -1
    assert note["reason"] == (
        f"/camera/front/image: {N} image(s) not replayed: no /camera/front/calibration "
        "message before them"
    )
    assert not summary["clean"]
    problems = list(LogReader(log).frames(problems=True))
    assert isinstance(problems[-1], InputProblem) and problems[-1].kind == "note"


def test_two_replays_are_identical_but_for_the_run_channels(tmp_path: Path) -> None:
    """``/drivestack/timing`` (wall-clock ms) and ``/drivestack/run`` (the command) record
    the run itself; every other channel is the same bit for bit."""
    log = _log(tmp_path / "in.mcap")
    outputs = []
    for name in ("a.mcap", "b.mcap"):
        stack = Stack(_CentroidDetector(), config={"detector": "centroid"})
        replay(log, stack, tmp_path / name, progress=False)
        outputs.append(_messages(tmp_path / name))
    assert outputs[0] == outputs[1]
    topics = {topic for topic, _, _ in outputs[0]}
    assert {"/lidar/top", "/camera/front/image", "/labels", "/perception/detections"} <= topics
    assert TIMING_TOPIC in LogReader(tmp_path / "a.mcap").topics()


def _scan_at_frame_1(topic: str, i: int, log_time: int, data: bytes) -> tuple[int, bytes]:
    """The scan of frame 2 logged and stamped at frame 1's time (a log written elsewhere)."""
    if (topic, i) != ("/lidar/top", 2):
        return log_time, data
    msg = json.loads(data)
    msg["timestamp"] = {"sec": _t(1) // 1_000_000_000, "nsec": _t(1) % 1_000_000_000}
    return _t(1), json.dumps(msg).encode()


def test_a_second_scan_at_one_time_on_a_topic_is_skipped_not_merged(tmp_path: Path) -> None:
    """Was: the two scans at frame 1's time merged into one frame (the second replacing the
    first), N - 1 frames replayed and the run clean: a frame lost silently."""
    log = _rewrite(_log(tmp_path / "in.mcap"), tmp_path / "dup.mcap", _scan_at_frame_1)
    items = list(LogReader(log).frames(problems=True))
    frames = [f for f in items if not isinstance(f, InputProblem)]
    problem, orphan = [p for p in items if isinstance(p, InputProblem)]
    # frames 0, 1 (its first scan), 3, 4, 5; frame 2's other messages have no scan (noted)
    assert (orphan.kind, orphan.timestamp_ns) == ("note", -1)
    assert orphan.reason.startswith("/labels: 1 message(s) in no replayed frame: no /lidar/top")
    assert [f.timestamp_ns for f in frames] == [_t(k) for k in (0, 1, 3, 4, 5)]
    first = _messages_of(tmp_path / "in.mcap", "/lidar/top")[1]
    assert np.array_equal(frames[1].lidar("top").xyz_m, first)
    assert (problem.timestamp_ns, problem.kind) == (_t(1), "skipped")
    assert problem.reason.startswith(f"/lidar/top #2: a second scan at {_t(1)} ns on its topic")
    summary = _replay(tmp_path, log)
    assert summary["frames_processed"] == N - 1
    assert summary["frames_skipped"] == summary["frames_skipped_bad_input"] == 1
    skip, note = summary["skipped"]
    assert skip["timestamp_ns"] == _t(1) and skip["reason"] == problem.reason
    assert note["reason"] == orphan.reason
    assert not summary["clean"]
    with pytest.raises(DataError, match=f"t={_t(1)}: /lidar/top #2: a second scan"):
        list(LogReader(log).frames())


def test_a_scan_logged_twice_is_a_note_not_a_lost_frame(tmp_path: Path) -> None:
    """Was: an exact copy of frame 1's scan was a skipped frame beside the N replayed, so the
    summary counted N + 1 frames (N processed, 1 skipped) for a log of N."""

    def twice(t: str, i: int, log_time: int, data: bytes) -> list[tuple[int, bytes]]:
        return [(log_time, data)] * (2 if (t, i) == ("/lidar/top", 1) else 1)

    log = _rewrite(_log(tmp_path / "in.mcap"), tmp_path / "twice.mcap", twice)
    items = list(LogReader(log).frames(problems=True))
    frames = [f for f in items if not isinstance(f, InputProblem)]
    (problem,) = [p for p in items if isinstance(p, InputProblem)]
    assert [f.timestamp_ns for f in frames] == [_t(k) for k in range(N)]
    assert (problem.timestamp_ns, problem.kind) == (_t(1), "partial")
    assert problem.reason.startswith(f"/lidar/top #2: a copy of the scan at {_t(1)} ns")
    assert len(list(LogReader(log).frames())) == N  # a note, not an error
    summary = _replay(tmp_path, log)
    assert summary["frames_processed"] == N and summary["frames_skipped"] == 0
    assert summary["skipped"] == []
    assert summary["frame_notes"] == {f"t={_t(1)} {problem.reason}": 1}


def _messages_of(path: Path, topic: str) -> list[np.ndarray]:
    return [m.value.xyz_m for m in LogReader(path).messages([topic])]


def test_frames_in_a_long_tf_gap_are_replayed_without_an_ego_pose_and_noted(
    tmp_path: Path,
) -> None:
    # /tf for frames 2-13 of 16 dropped: frames 2-13 lie in a 1.3 s gap between the poses
    # of frames 1 and 14; their poses were drawn on a straight line between those, silently
    n = 16
    assert PERIOD_NS == 100_000_000
    log = _rewrite(
        _log(tmp_path / "in.mcap", n),
        tmp_path / "gap.mcap",
        lambda t, i, log_time, data: None if t == "/tf" and 2 <= i <= 13 else (log_time, data),
    )
    problems = [p for p in LogReader(log).frames(problems=True) if isinstance(p, InputProblem)]
    assert [p.timestamp_ns for p in problems] == [_t(k) for k in range(2, 14)]
    assert {p.kind for p in problems} == {"partial"}
    assert "replayed without an ego pose: " in problems[0].reason
    assert "falls in a 1.300 s gap between poses" in problems[0].reason
    frames = [f for f in LogReader(log).frames(problems=True) if not isinstance(f, InputProblem)]
    assert len(frames) == n
    assert [f.world_from_ego is None for f in frames] == [not (k < 2 or k > 13) for k in range(n)]
    summary = _replay(tmp_path, log)  # replayed and noted, as other partial frames
    assert summary["frames_processed"] == n
    noted = [k for k in summary["frame_notes"] if "replayed without an ego pose" in k]
    assert len(noted) == 12 and noted[0].startswith(f"t={_t(2)} ")


def test_an_empty_scan_is_replayed_and_noted(tmp_path: Path) -> None:
    # a LiDAR dropout (no point in the message) replayed as a frame of an empty road, unnoted
    log = _rewrite(
        _log(tmp_path / "in.mcap"),
        tmp_path / "empty.mcap",
        _edit_json("/lidar/top", 2, lambda msg: msg.update(data="")),
    )

    class NoBoxes:  # a detector that finds nothing, on an empty scan too
        def reset(self) -> None:
            pass

        def step(self, frame: Any) -> Boxes3D:
            return Boxes3D.empty(frame.lidar().frame, frame.timestamp_ns)

    out = tmp_path / "out.mcap"
    summary = replay(log, Stack(NoBoxes()), out, progress=False, io_worker="thread")
    assert summary["frames_processed"] == N and not summary["skipped"]
    (note,) = [k for k in summary["frame_notes"] if "has no point" in k]
    assert note.startswith(f"t={_t(2)} LiDAR 'top' has no point")


def test_labels_at_a_time_without_a_scan_are_noted(tmp_path: Path) -> None:
    # scan 2 removed: its frame is not in the log, and its labels went nowhere, unnoted
    log = _rewrite(
        _log(tmp_path / "in.mcap"),
        tmp_path / "no_scan.mcap",
        lambda t, i, log_time, data: None if (t, i) == ("/lidar/top", 2) else (log_time, data),
    )
    summary = _replay(tmp_path, log)
    assert summary["frames_processed"] == N - 1 and not summary["clean"]
    (note,) = summary["skipped"]
    assert note["timestamp_ns"] == -1
    assert note["reason"] == (
        f"/labels: 1 message(s) in no replayed frame: no /lidar/top scan at their time "
        f"(at {_t(2)} ns)"
    )


def test_an_out_holding_another_logs_replay_is_kept_without_overwrite(tmp_path: Path) -> None:
    """Was: replaying log B with log A's --out replaced A's replay and summary, exit 0."""
    log_a, log_b = _log(tmp_path / "a.mcap"), _log(tmp_path / "b.mcap", n=3)
    out = tmp_path / "out.mcap"
    stack = Stack(_CentroidDetector(), config={"detector": "centroid"})
    run = {"progress": False, "io_worker": "thread"}
    replay(log_a, stack, out, **run)
    assert replay(log_a, stack, out, **run)["frames_processed"] == N  # a rerun replaces its own
    with pytest.raises(DataError, match=f"holds the replay of another log, {log_a}: .*--overwrite"):
        replay(log_b, stack, out, **run)
    assert json.loads(out.with_suffix(".summary.json").read_text())["input"] == str(log_a)
    assert replay(log_b, stack, out, overwrite=True, **run)["frames_processed"] == 3
    other = tmp_path / "notes.mcap"
    other.write_text("my notes")
    with pytest.raises(DataError, match="holds a file without a readable replay summary"):
        replay(log_a, stack, other, **run)
    assert other.read_text() == "my notes"


def test_a_log_cut_in_its_summary_section_says_no_message_was_lost(tmp_path: Path) -> None:
    """Was: 'it breaks off after 30 messages of the topics read (error: unpack requires a
    buffer of 8 bytes)': the library's words, and no hint that every message had been read."""
    whole = _log(tmp_path / "whole.mcap").read_bytes()
    cut = tmp_path / "cut.mcap"
    cut.write_bytes(whole[:-30])  # inside the footer, after the data section's end
    items = list(LogReader(cut).frames(problems=True))  # no TruncatedLogError: nothing lost
    assert [f.timestamp_ns for f in items if not isinstance(f, InputProblem)] == [
        _t(k) for k in range(N)
    ]
    (note,) = [p for p in items if isinstance(p, InputProblem)]
    assert (note.kind, note.timestamp_ns) == ("note", -1)
    assert note.reason.startswith("the summary section after the data (the index and ")
    assert "every message was read" in note.reason and "unpack" not in note.reason
    summary = _replay(tmp_path, cut)  # (was: "input incomplete: ... its data section is whole")
    assert summary["frames_processed"] == N
    assert [s["reason"] for s in summary["skipped"]] == [note.reason]
    assert not any("input incomplete" in s["reason"] for s in summary["skipped"])


def test_the_same_log_is_known_from_any_folder_and_another_by_its_full_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Was: the summary's input as typed (relative) was resolved against the current folder:
    the same log rerun from elsewhere was refused, another file of that relative name taken."""
    (tmp_path / "a" / "logs").mkdir(parents=True)
    (tmp_path / "b" / "logs").mkdir(parents=True)
    _log(tmp_path / "a" / "logs" / "x.mcap")
    _log(tmp_path / "b" / "logs" / "x.mcap", n=3)
    out = tmp_path / "out.mcap"
    stack = Stack(_CentroidDetector(), config={"detector": "centroid"})
    run = {"progress": False, "io_worker": "thread"}
    monkeypatch.chdir(tmp_path / "a")
    replay(Path("logs/x.mcap"), stack, out, **run)
    summary = json.loads(out.with_suffix(".summary.json").read_text())
    assert summary["input_resolved"] == str(tmp_path / "a" / "logs" / "x.mcap")
    monkeypatch.chdir(tmp_path)
    assert replay(tmp_path / "a" / "logs" / "x.mcap", stack, out, **run)["frames_processed"] == N
    monkeypatch.chdir(tmp_path / "b")
    with pytest.raises(DataError, match=r"holds the replay of another log, .*/a/logs/x\.mcap"):
        replay(Path("logs/x.mcap"), stack, out, **run)
