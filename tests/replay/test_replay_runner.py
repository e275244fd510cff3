"""Replay runner: real KITTI scans written as a drivestack log, replayed through the stack."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from drivestack.cli import main
from drivestack.replay.log_format import LogWriter
from drivestack.replay.log_reader import LogReader
from drivestack.replay.runner import DETECTIONS_TOPIC, TRACKS_TOPIC

REPO = Path(__file__).resolve().parents[2]


def _kitti_log(shared_data: Path, path: Path, n: int, break_frame: int | None = None) -> Path:
    from drivestack.eval.detection.datasets import kitti_tracking_frames

    with LogWriter(path, config={"source": "kitti tracking 0000"}) as writer:
        for i, labelled in enumerate(kitti_tracking_frames(shared_data / "kitti_tracking")):
            if i >= n:
                break
            frame = replace(labelled.frame, timestamp_ns=(74 + i) * 100_000_000)
            frame = replace(
                frame,
                lidars={
                    k: replace(c, timestamp_ns=frame.timestamp_ns) for k, c in frame.lidars.items()
                },
            )
            if frame.labels is not None:
                frame = replace(
                    frame, labels=replace(frame.labels, timestamp_ns=frame.timestamp_ns)
                )
            if i == break_frame:  # a second LiDAR makes the detector refuse the frame
                frame = replace(
                    frame, lidars={**frame.lidars, "spare": next(iter(frame.lidars.values()))}
                )
            writer.sensor_frame(frame)
    return path


@pytest.mark.slow
def test_replay_of_real_kitti_scans(shared_data, tmp_path, capsys):
    log = _kitti_log(shared_data, tmp_path / "kitti.mcap", 4)
    out = tmp_path / "run.mcap"
    stack = tmp_path / "stack.yaml"  # these frames carry no ego pose: track in the ego frame
    stack.write_text(
        f"perception: {REPO / 'configs/perception/lidar_kitti.yaml'}\n"
        f"tracking: {REPO / 'configs/tracking/lidar_stack.yaml'}\n"
        "missing_ego_pose: track_in_ego_frame\n"
    )
    status = main(["replay", str(log), "--stack", str(stack), "--out", str(out), "--quiet"])
    assert status == 0
    summary = json.loads(out.with_suffix(".summary.json").read_text())
    assert summary["frames_processed"] == 4 and summary["frames_skipped"] == 0 and summary["clean"]
    assert summary["frame_notes"] == {"no ego pose: tracked in the ego frame": 4}
    assert summary["frame_notes"] == {"no ego pose: tracked in the ego frame": 4}
    assert set(summary["timing_ms"]) == {"perception", "tracking"}
    assert summary["timing_ms"]["perception"]["p50"] > 0
    per_class = summary["detection_vs_labels"]  # these frames hold a van and a cyclist
    assert per_class["cyclist"]["labels"] == 4 and per_class["van"]["labels"] == 8
    assert all(0.0 <= m["recall"] <= 1.0 for m in per_class.values() if m["labels"])
    topics = {m.topic for m in LogReader(out).messages()}
    assert {DETECTIONS_TOPIC, TRACKS_TOPIC, "/labels", "/drivestack/timing"} <= topics
    assert LogReader(out).validate() > 0
    assert "replayed 4 frames" in capsys.readouterr().out


@pytest.mark.slow
def test_bad_frames_are_skipped_named_and_the_run_is_not_clean(shared_data, tmp_path, capsys):
    log = _kitti_log(shared_data, tmp_path / "kitti.mcap", 3, break_frame=1)
    out = tmp_path / "run.mcap"
    status = main(["replay", str(log), "--out", str(out), "--quiet"])
    assert status == 1
    summary = json.loads(out.with_suffix(".summary.json").read_text())
    # the default stack compensates ego motion: frames without a pose are skipped and named
    # before any stage runs (the frame with two LiDARs too)
    assert summary["frames_processed"] == 0 and summary["frames_skipped"] == 3
    reasons = [s["reason"] for s in summary["skipped"] if s["timestamp_ns"] != -1]
    assert len(reasons) == 3 and all("world_from_ego" in r for r in reasons)
    assert not any(r.startswith("t=") for r in reasons)  # the skip line gives the time once
    # the three frames share their reason: one line with the count, first and last frame
    assert "  skipped 3 frames, t=7400000000 " in capsys.readouterr().out
    # tracking in the ego frame, the two pose-less frames replay and the detector refuses the
    # frame with two LiDARs
    args = ["replay", str(log), "--out", str(out), "--quiet"]
    assert main([*args, "--missing-ego-pose", "track_in_ego_frame"]) == 1
    summary = json.loads(out.with_suffix(".summary.json").read_text())
    assert summary["frames_processed"] == 2 and summary["frames_skipped"] == 1
    (reason,) = [s["reason"] for s in summary["skipped"] if s["timestamp_ns"] != -1]
    assert "LiDARs" in reason


def test_missing_input_and_bad_stack(tmp_path, capsys):
    assert main(["replay", str(tmp_path / "absent.mcap"), "--out", str(tmp_path / "o.mcap")]) == 2
    stack = tmp_path / "stack.yaml"
    stack.write_text("perception: nowhere.yaml\n")
    log = tmp_path / "x.mcap"
    with LogWriter(log, config={}):
        pass
    assert main(["replay", str(log), "--stack", str(stack), "--out", str(tmp_path / "o.mcap")]) == 2
    assert "stage config 'nowhere.yaml' not found" in capsys.readouterr().err


def test_a_skip_reason_is_built_from_the_frames_data_error() -> None:
    """A DataError of the frame (its source and time) gives its field and message; other
    errors lose the source and time from the start of their text."""
    from drivestack.core.errors import DataError
    from drivestack.replay.runner import _reason

    err = DataError("NaN in coordinates", path="drive.bag", record="t=100", field="x")
    assert _reason(err, "drive.bag", 100) == "field x: NaN in coordinates"
    no_field = DataError("no ego pose", path="drive.bag", record="t=100")
    assert _reason(no_field, "drive.bag", 100) == "no ego pose"
    other = DataError("bad row", path="labels.txt", record="line 3")
    assert _reason(other, "drive.bag", 100) == "labels.txt: line 3: bad row"
    assert _reason(ValueError("drive.bag: t=100: odd"), "drive.bag", 100) == "odd"
    assert _reason(ValueError("t=100: odd"), "", 100) == "odd"
