"""Replay output safety: the input is never overwritten, an interrupted replay leaves no
output under the final name, and a replay of no frame is not clean."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from drivestack.cli import main
from drivestack.core.errors import DataError
from drivestack.pipeline import build_stack
from drivestack.replay.log_format import LogWriter
from drivestack.replay.runner import (
    check_output_path,
    crashed_log_path,
    log_frame_count,
    replay,
    summary_lines,
)

REPO = Path(__file__).resolve().parents[2]
DEMO_LOG = REPO / "data" / "demo" / "drive.mcap"
SIM_STACK = REPO / "configs" / "stack" / "sim_lidar.yaml"


def _error(capsys: pytest.CaptureFixture[str]) -> str:
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.startswith("error: ")]
    assert len(lines) == 1 and "Traceback" not in err, err
    return lines[0]


def test_the_output_may_not_be_the_input(tmp_path, capsys, monkeypatch) -> None:
    log = tmp_path / "same.mcap"
    shutil.copyfile(DEMO_LOG, log)
    size = log.stat().st_size
    monkeypatch.chdir(tmp_path)
    for out in ("same.mcap", str(log), "./sub/../same.mcap"):
        assert main(["replay", "same.mcap", "--out", out, "--quiet"]) == 2
        assert "overwrite the input" in _error(capsys)
    assert log.stat().st_size == size  # untouched
    assert not (tmp_path / "same.summary.json").exists()


def test_the_output_may_not_lie_inside_a_bag_folder(tmp_path) -> None:
    bag = tmp_path / "bag"
    bag.mkdir()
    with pytest.raises(ValueError, match="inside the input bag folder"):
        check_output_path(bag, bag / "run.mcap")
    check_output_path(bag, tmp_path / "run.mcap")  # beside it is fine


def test_a_parent_that_is_a_file_is_not_a_directory(tmp_path, capsys) -> None:
    (tmp_path / "file.mcap").write_bytes(b"")
    out = tmp_path / "file.mcap" / "x.mcap"
    assert (
        main(["replay", str(DEMO_LOG), "--stack", str(SIM_STACK), "--out", str(out), "--quiet"])
        == 2
    )
    assert "not a directory" in _error(capsys)


def test_a_log_without_frames_is_not_clean(tmp_path, capsys) -> None:
    empty = tmp_path / "empty.mcap"
    with LogWriter(empty, config={"source": "nothing"}):
        pass
    out = tmp_path / "run.mcap"
    assert main(["replay", str(empty), "--out", str(out), "--quiet"]) == 1
    printed = capsys.readouterr().out
    assert "no frame replayed" in printed and "t=-1" not in printed
    summary = json.loads(out.with_suffix(".summary.json").read_text())
    assert summary["frames_processed"] == 0 and not summary["clean"]
    assert "git_commit" in summary


def test_an_interrupted_replay_leaves_no_output(tmp_path) -> None:
    stack = build_stack(SIM_STACK)
    calls = []

    def interrupted(frame):  # type: ignore[no-untyped-def]
        calls.append(frame)
        if len(calls) == 3:
            raise KeyboardInterrupt
        return original(frame)

    original = stack.step
    stack.step = interrupted  # type: ignore[method-assign]
    out = tmp_path / "run.mcap"
    with pytest.raises(KeyboardInterrupt):
        replay(DEMO_LOG, stack, out, progress=False, io_worker="thread")
    assert list(tmp_path.iterdir()) == []  # neither run.mcap nor its .partial nor a summary


def _summary(**fields: Any) -> dict[str, Any]:
    """A replay summary of 3 clean frames (what ``summary_lines`` reads), ``fields`` replaced."""
    summary: dict[str, Any] = {
        "frames_processed": 3,
        "frames_skipped": 0,
        "ingest": None,
        "wall_s": 1.0,
        "realtime_factor": 1.0,
        "timing_ms": {},
        "skipped": [],
        "detection_vs_labels": None,
        "output": "o.mcap",
        "summary_path": "o.summary.json",
    }
    return summary | fields


def test_whole_input_notes_have_no_timestamp_and_the_frame_count_is_known() -> None:
    summary = _summary(
        skipped=[{"timestamp_ns": -1, "source": "trunc.mcap", "reason": "input incomplete"}]
    )
    assert "  trunc.mcap: input incomplete" in summary_lines(summary)
    assert log_frame_count(DEMO_LOG) == 61


def test_a_labelled_class_never_detected_is_listed_apart() -> None:
    summary = _summary(
        detection_vs_labels={
            "car": {"labels": 10, "detections": 9, "recall": 0.8, "precision": 8 / 9},
            "van": {"labels": 149, "detections": 0, "recall": 0.0, "precision": float("nan")},
        }
    )
    lines = summary_lines(summary)
    assert "  car: recall 0.800, precision 0.889 (10 labels, BEV IoU 0.5)" in lines
    assert "  labelled but never detected: van (149 labels)" in lines
    assert not any(line.startswith("  van:") for line in lines)


def test_a_crashed_replay_keeps_its_frames_beside_an_older_finished_run(tmp_path) -> None:
    stack = build_stack(SIM_STACK)
    out = tmp_path / "run.mcap"
    out.write_bytes(b"an older, finished run's log")
    older_summary = json.dumps({"input": str(DEMO_LOG)})  # its summary: a replay of this log
    out.with_suffix(".summary.json").write_text(older_summary)
    original = stack.step

    def crashing(frame):  # type: ignore[no-untyped-def]
        if frame.timestamp_ns > first:
            raise RuntimeError("stack bug")
        return original(frame)

    from drivestack.replay.log_reader import LogReader

    first = next(iter(LogReader(DEMO_LOG).frames())).timestamp_ns
    stack.step = crashing  # type: ignore[method-assign]
    with pytest.raises(RuntimeError, match="stack bug") as raised:
        replay(DEMO_LOG, stack, out, progress=False, io_worker="thread")
    crashed = tmp_path / "run.crashed.mcap"
    assert crashed_log_path(out) == crashed
    assert any(str(crashed) in note for note in raised.value.__notes__)
    assert LogReader(crashed).validate() > 0  # a closed log of the frames before the crash
    assert out.read_bytes() == b"an older, finished run's log"
    assert out.with_suffix(".summary.json").read_text() == older_summary
    assert not (tmp_path / "run.mcap.partial").exists()


def test_the_crashed_log_name_may_not_be_the_input(tmp_path) -> None:
    log = tmp_path / "run.crashed.mcap"
    log.write_bytes(DEMO_LOG.read_bytes())
    with pytest.raises(DataError, match="would overwrite the input log"):
        check_output_path(log, tmp_path / "run.mcap")


def test_an_out_that_is_a_directory_is_refused_before_reading(tmp_path, capsys, monkeypatch):
    out = tmp_path / "runs"
    out.mkdir()
    import drivestack.replay.runner as runner

    def no_reading(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise AssertionError("the input was opened")

    monkeypatch.setattr(runner, "open_frames", no_reading)
    assert main(["replay", str(DEMO_LOG), "--out", str(out), "--quiet"]) == 2
    line = _error(capsys)
    assert f"--out {out}" in line and "is a directory" in line
    assert str(out / "run.mcap") in line
    assert list(tmp_path.iterdir()) == [out] and list(out.iterdir()) == []


def test_the_overwrite_error_names_the_normalised_paths(tmp_path, capsys, monkeypatch) -> None:
    (tmp_path / "bad").mkdir()
    log = tmp_path / "bad" / "selfin.mcap"
    shutil.copyfile(DEMO_LOG, log)
    monkeypatch.chdir(tmp_path)
    assert main(["replay", "bad/../bad/selfin.mcap", "--out", "bad/../bad/selfin.mcap"]) == 2
    line = _error(capsys)
    assert ".." not in line and str(log.resolve()) in line


def test_missing_parent_folders_of_the_output_are_created(tmp_path) -> None:
    out = tmp_path / "a" / "b" / "run.mcap"
    replay(DEMO_LOG, build_stack(SIM_STACK), out, progress=False, io_worker="thread")
    assert out.is_file() and out.with_suffix(".summary.json").is_file()


def test_a_log_cut_at_half_replays_every_readable_scan(tmp_path, capsys) -> None:
    """The frames held for camera pairing when the log breaks off are replayed too."""
    from drivestack.replay.log_reader import LogReader, TruncatedLogError

    data = DEMO_LOG.read_bytes()
    cut = tmp_path / "cut.mcap"
    cut.write_bytes(data[: len(data) // 2])
    scans = 0
    with pytest.raises(TruncatedLogError, match="messages of the topics read"):
        for _ in LogReader(cut).messages(["/lidar/top"]):
            scans += 1
    assert scans > 10
    frames: list[int] = []
    with pytest.raises(TruncatedLogError):
        for frame in LogReader(cut).frames():
            frames.append(frame.timestamp_ns)
    assert len(frames) == scans
    out = tmp_path / "run.mcap"
    assert main(["replay", str(cut), "--stack", str(SIM_STACK), "--out", str(out), "--quiet"]) == 1
    summary = json.loads(out.with_suffix(".summary.json").read_text())
    assert summary["frames_processed"] == scans
    (note,) = [s["reason"] for s in summary["skipped"]]
    assert note.startswith("input incomplete: ") and "messages of the topics read" in note


def test_a_folder_where_the_replay_writes_its_temporary_log_is_refused_and_left_alone(
    tmp_path, capsys
) -> None:
    out = tmp_path / "run.mcap"
    partial = tmp_path / "run.mcap.partial"
    partial.mkdir()
    (partial / "mine.txt").write_text("a user's file")
    assert main(["replay", str(DEMO_LOG), "--out", str(out), "--quiet"]) == 2
    assert "run.mcap.partial is a directory" in _error(capsys)
    assert (partial / "mine.txt").read_text() == "a user's file"
    assert not (tmp_path / "run.crashed.mcap").exists() and not out.exists()


def test_an_out_naming_a_folder_is_refused(tmp_path, capsys) -> None:
    assert main(["replay", str(DEMO_LOG), "--out", f"{tmp_path}/new/", "--quiet"]) == 2
    assert "names a folder" in _error(capsys)  # one line, no usage
    assert not (tmp_path / "new").exists()


def _first_chunk_corrupted(src: Path, dst: Path) -> Path:
    """``src`` with bytes in the middle of its first MCAP chunk record (opcode 0x06) flipped."""
    data = bytearray(src.read_bytes())
    at = 8  # after the magic: records are opcode (1 byte), length (uint64 LE), content
    while data[at] != 0x06:
        at += 9 + int.from_bytes(data[at + 1 : at + 9], "little")
    length = int.from_bytes(data[at + 1 : at + 9], "little")
    middle = at + 9 + length // 2
    data[middle : middle + 64] = bytes(b ^ 0xFF for b in data[middle : middle + 64])
    dst.write_bytes(bytes(data))
    return dst


def test_a_log_whose_run_record_chunk_is_corrupt_replays_the_rest(tmp_path) -> None:
    """The run record sits in the first chunk; losing it loses that chunk's frames, not the
    replay (it used to stop with exit 2 before the first frame)."""
    from drivestack.replay.log_reader import LogReader, TruncatedLogError

    bad = _first_chunk_corrupted(DEMO_LOG, tmp_path / "bad.mcap")
    with pytest.raises(TruncatedLogError, match="corrupt chunk"):
        LogReader(bad).run_metadata()
    out = tmp_path / "run.mcap"
    assert main(["replay", str(bad), "--stack", str(SIM_STACK), "--out", str(out), "--quiet"]) == 1
    summary = json.loads(out.with_suffix(".summary.json").read_text())
    total = log_frame_count(DEMO_LOG)
    assert total is not None and 0 < summary["frames_processed"] < total
    assert any("corrupt chunk" in s["reason"] for s in summary["skipped"])
