"""Log replay rules a mutation review found unguarded: every test here fails under a
plausible one-token change of the code that no other test noticed.

- a replay's ``log_duration_s`` runs from its first replayed frame to its last, and a run
  whose every frame the stack refused says so (runner.py);
- a frame near a lost chunk's time range, within the camera tolerance, is noted as replayed
  without what the chunk held (log_reader.py);
- the camera tolerance and the header-stamp tolerance include their limits (log_reader.py);
- a cut log written in log-time order is not said to be out of log-time order
  (log_reader.py).
"""

from __future__ import annotations

import contextlib
import json
from pathlib import Path
from typing import Any

import pytest
from mcap.reader import make_reader
from mcap.writer import CompressionType, Writer

from drivestack.pipeline import Stack
from drivestack.replay.log_reader import (
    STAMP_TOLERANCE_NS,
    InputProblem,
    LogReader,
    TruncatedLogError,
)
from drivestack.replay.runner import replay
from tests.replay.test_log_io import PERIOD_NS, _CentroidDetector
from tests.replay.test_log_reader_bad_messages import (
    N,
    _chunks,
    _copy_channels,
    _log,
    _replay,
    _rewrite,
    _t,
)

CAM = "/camera/front/image"
IMAGE_DELAY_NS = 5_000_000  # _log's image k is stamped and logged 5 ms after scan k
CAMERA_TOLERANCE_NS = 50_000_000  # LogReader.frames' default camera_tolerance_ns


def _stamp(ns: int) -> dict[str, int]:
    return {"sec": ns // 1_000_000_000, "nsec": ns % 1_000_000_000}


def _items(log: Path) -> list[Any]:
    """Every frame and InputProblem the reader gives, up to a TruncatedLogError."""
    items: list[Any] = []
    with contextlib.suppress(TruncatedLogError):
        items.extend(LogReader(log).frames(problems=True))
    return items


# runner.py ----------------------------------------------------------------------------------


def test_the_log_duration_runs_from_the_first_replayed_frame_to_the_last(tmp_path: Path) -> None:
    # _log's N = 6 frames are 100 ms apart: from frame 0 to frame 5 is 5 * 0.1 s = 0.5 s; a
    # positive log duration gives a realtime factor (None only when no log time passed)
    assert (N, PERIOD_NS) == (6, 100_000_000)
    summary = _replay(tmp_path, _log(tmp_path / "in.mcap"))
    assert summary["frames_processed"] == 6
    assert summary["log_duration_s"] == pytest.approx(0.5, abs=1e-12)
    assert summary["realtime_factor"] is not None and summary["realtime_factor"] > 0


def test_a_run_whose_every_frame_the_stack_refused_says_so(tmp_path: Path) -> None:
    # the stack refuses all 6 frames: 6 skipped entries at their times, then the whole-input
    # note (time -1) saying why nothing was replayed
    stack = Stack(_CentroidDetector(refuse=tuple(range(N))), config={"detector": "centroid"})
    log = _log(tmp_path / "in.mcap")
    summary = replay(log, stack, tmp_path / "out.mcap", progress=False, io_worker="thread")
    assert summary["frames_processed"] == 0
    *refused, last = summary["skipped"]
    assert [s["timestamp_ns"] for s in refused] == [_t(k) for k in range(N)]
    assert last["timestamp_ns"] == -1
    assert last["reason"] == "no frame replayed: every frame was skipped (listed above)"


# log_reader.py: lost chunks -----------------------------------------------------------------


def test_a_frame_whose_image_was_lost_with_a_chunk_is_noted(tmp_path: Path) -> None:
    # one message per chunk; the chunk holding frame 2's image (logged at t2 + 5 ms) is
    # corrupted. The lost chunk's time range is [t2 + 5 ms, t2 + 5 ms]; scan 2 at t2 is 5 ms
    # before it, within the camera tolerance (50 ms), so frame 2 is replayed and noted as
    # replayed without the image
    log = _rewrite(_log(tmp_path / "in.mcap"), tmp_path / "tiny.mcap", chunk_size=1)
    start, end = next(
        (s, e) for s, e, times in _chunks(log) if times.get(CAM) == [_t(2) + IMAGE_DELAY_NS]
    )
    data = bytearray(log.read_bytes())
    middle = (start + end) // 2
    data[middle : middle + 16] = bytes(b ^ 0x5A for b in data[middle : middle + 16])
    bad = tmp_path / "bad.mcap"
    bad.write_bytes(bytes(data))
    items = _items(bad)
    frame_2 = [i for i in items if not isinstance(i, InputProblem) and i.timestamp_ns == _t(2)]
    assert len(frame_2) == 1 and "front" not in frame_2[0].cameras
    notes = [
        (p.kind, p.reason)
        for p in items
        if isinstance(p, InputProblem) and p.timestamp_ns == _t(2) and p.kind == "partial"
    ]
    assert notes == [
        ("partial", f"replayed without {CAM} (lost with an unreadable part of the log)")
    ]


# log_reader.py: tolerances include their limits ---------------------------------------------


def test_an_image_exactly_the_camera_tolerance_away_is_the_frames(tmp_path: Path) -> None:
    # image 2 moved to exactly 50 ms before scan 2 (stamp and log time), and a second image
    # 60 ms after scan 2 added (a faster camera): the nearest within the tolerance, its
    # limit included, is the one 50 ms before; it is not dropped from the queue as too old
    # (it is not older than scan 2 - 50 ms) and 50 ms is not "beyond" 50 ms
    def change(topic: str, i: int, log_time: int, data: bytes) -> Any:
        if (topic, i) != (CAM, 2):
            return log_time, data
        out = []
        for new in (_t(2) - CAMERA_TOLERANCE_NS, _t(2) + 60_000_000):
            msg = json.loads(data)
            msg["timestamp"] = _stamp(new)
            out.append((new, json.dumps(msg).encode()))
        return out

    log = _rewrite(_log(tmp_path / "in.mcap"), tmp_path / "edge.mcap", change)
    frames = [f for f in _items(log) if not isinstance(f, InputProblem)]
    (frame_2,) = [f for f in frames if f.timestamp_ns == _t(2)]
    assert frame_2.cameras["front"].timestamp_ns - _t(2) == -CAMERA_TOLERANCE_NS


def test_a_header_stamp_exactly_the_stamp_tolerance_from_its_log_time_is_kept(
    tmp_path: Path,
) -> None:
    # image 2 stamped t2 + 5 ms, logged 50 ms earlier (t2 - 45 ms): exactly
    # STAMP_TOLERANCE_NS apart, not "more than" it, so nothing is skipped and frame 2 has its
    # image at t2 + 5 ms (the nearest to scan 2)
    assert STAMP_TOLERANCE_NS == 50_000_000

    def change(topic: str, i: int, log_time: int, data: bytes) -> tuple[int, bytes]:
        if (topic, i) != (CAM, 2):
            return log_time, data
        return log_time - STAMP_TOLERANCE_NS, data

    log = _rewrite(_log(tmp_path / "in.mcap"), tmp_path / "edge.mcap", change)
    items = _items(log)
    assert [p for p in items if isinstance(p, InputProblem)] == []
    frames = [f for f in items if not isinstance(f, InputProblem)]
    assert [f.timestamp_ns for f in frames] == [_t(k) for k in range(N)]
    assert frames[2].cameras["front"].timestamp_ns == _t(2) + IMAGE_DELAY_NS


# log_reader.py: a cut log in order ----------------------------------------------------------


def test_a_cut_log_in_log_time_order_is_not_said_to_be_out_of_order(tmp_path: Path) -> None:
    # a 12-frame log rewritten with its messages sorted by log time (frame k's image and
    # labels can share a log time with others: equal times are in order, not "behind"),
    # in small chunks, cut at the start of its sixth chunk: the truncation error counts no
    # message out of log-time order
    src = _log(tmp_path / "in.mcap", 12)
    with src.open("rb") as stream:
        reader = make_reader(stream)
        summary = reader.get_summary()
        assert summary is not None
        messages = sorted(reader.iter_messages(log_time_order=False), key=lambda m: m[2].log_time)
    ordered = tmp_path / "sorted.mcap"
    with ordered.open("wb") as out:
        writer = Writer(out, chunk_size=4000, compression=CompressionType.ZSTD)
        writer.start()
        channels = _copy_channels(writer, summary)
        for _, channel, message in messages:
            writer.add_message(
                channels[channel.id], message.log_time, bytes(message.data), message.log_time
            )
        writer.finish()
    times = [m[2].log_time for m in messages]
    assert len(times) > len(set(times))  # some messages share a log time
    start = _chunks(ordered)[5][0]
    cut = tmp_path / "cut.mcap"
    cut.write_bytes(ordered.read_bytes()[:start])
    with pytest.raises(TruncatedLogError) as caught:
        for _ in LogReader(cut).frames(problems=True):
            pass
    assert "out of log-time order" not in str(caught.value)
