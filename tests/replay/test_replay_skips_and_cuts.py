"""The replay's console: frames skipped for one reason are one line with their count (the
summary JSON keeps each); a log cut inside its first records is said to be cut, with its size
and the record it ends in, not "no run metadata"."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from drivestack.cli import main
from drivestack.core.frames import LIDAR
from drivestack.core.transforms import SE3
from drivestack.replay.log_format import LogWriter
from drivestack.replay.log_reader import MCAP_MAGIC, cut_short
from drivestack.replay.runner import summary_lines
from drivestack.structures.point_cloud import PointCloud
from drivestack.structures.sensor_frame import SensorFrame

REPO = Path(__file__).resolve().parents[2]
STACK = REPO / "configs" / "stack" / "default.yaml"


def _log(path: Path, frames: int = 3, *, pose: bool = True) -> Path:
    """A log of ``frames`` frames 100 ms apart, 300 random points each."""
    rng = np.random.default_rng(1)
    with LogWriter(path, config={}, command="test") as writer:
        for k in range(frames):
            t = k * 100_000_000
            cloud = PointCloud(rng.normal(size=(300, 3)).astype(np.float32) * 10, LIDAR, t)
            writer.sensor_frame(
                SensorFrame(
                    t,
                    lidars={LIDAR: cloud},
                    ego_from_sensor={LIDAR: SE3.identity()},
                    world_from_ego=SE3.identity() if pose else None,
                )
            )
    return path


def test_frames_skipped_for_one_reason_print_as_one_line() -> None:
    def skip(t: int, reason: str) -> dict:
        return {"timestamp_ns": t, "source": f"x.mcap:/lidar/lidar@{t}", "reason": reason}

    skipped = [
        skip(100, "no pose"),
        skip(200, "bad stamp"),
        skip(300, "no pose"),
        {"timestamp_ns": -1, "source": "x.mcap", "reason": "input incomplete: cut"},
        skip(400, "no pose"),
    ]
    summary = {
        "frames_processed": 0,
        "frames_skipped": 4,
        "skipped": skipped,
        "wall_s": 1.0,
        "realtime_factor": None,
        "timing_ms": {},
        "ingest": None,
        "detection_vs_labels": None,
        "output": "o.mcap",
        "summary_path": "o.summary.json",
    }
    assert summary_lines(summary)[1:5] == [
        "  skipped 3 frames, t=100 x.mcap:/lidar/lidar@100 to t=400 x.mcap:/lidar/lidar@400: "
        "no pose",
        "  skipped t=200 x.mcap:/lidar/lidar@200: bad stamp",
        "  x.mcap: input incomplete: cut",
        "wrote o.mcap and o.summary.json",
    ]


def test_a_replay_skipping_every_frame_for_one_reason_prints_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    log = _log(tmp_path / "in.mcap", 4, pose=False)  # the default tracker needs ego poses
    out = tmp_path / "run.mcap"
    assert main(["replay", str(log), "--stack", str(STACK), "--out", str(out), "--quiet"]) == 1
    printed = capsys.readouterr().out
    lines = [line for line in printed.splitlines() if "skipped" in line and "t=" in line]
    assert len(lines) == 1 and lines[0].startswith("  skipped 4 frames, t=0 ")
    assert "to t=300000000 " in lines[0] and "no ego pose for this frame" in lines[0]
    summary = json.loads(out.with_suffix(".summary.json").read_text())
    assert [s["timestamp_ns"] for s in summary["skipped"][:4]] == [
        k * 100_000_000 for k in range(4)
    ]
    assert summary["frames_skipped"] == 4


def test_a_log_cut_inside_its_first_records_is_refused_as_cut(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    whole = _log(tmp_path / "whole.mcap").read_bytes()
    cut = tmp_path / "cut.mcap"
    cut.write_bytes(whole[:100])  # `head -c 100`: inside the metadata record
    assert main(["replay", str(cut), "--out", str(tmp_path / "r.mcap")]) == 2
    err = capsys.readouterr().err
    assert (
        "cut short (a truncated copy?): the file is 100 bytes and ends inside its 2nd record" in err
    )
    assert "no run metadata" not in err
    cut.write_bytes(whole[:5])
    assert main(["replay", str(cut), "--out", str(tmp_path / "r.mcap")]) == 2
    assert "5 bytes and ends inside the 8-byte MCAP magic" in capsys.readouterr().err


@pytest.fixture(scope="module")
def small_log(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _log(tmp_path_factory.mktemp("cut") / "log.mcap", 2)


@settings(max_examples=40, deadline=None)
@given(fraction=st.floats(0.0, 1.0, exclude_max=True))
def test_every_cut_of_a_log_is_named_with_its_size(
    small_log: Path, tmp_path_factory: pytest.TempPathFactory, fraction: float
) -> None:
    whole = small_log.read_bytes()
    size = int(fraction * len(whole))
    path = tmp_path_factory.mktemp("c") / "c.mcap"
    path.write_bytes(whole[:size])
    note = cut_short(path)
    assert note is not None
    assert (f"the file is {size} bytes and ends" in note) if size else "empty (0 bytes)" in note


def test_a_whole_log_and_a_file_that_is_no_mcap_are_not_cut(
    small_log: Path, tmp_path: Path
) -> None:
    assert cut_short(small_log) is None
    path = tmp_path / "x.mcap"
    path.write_bytes(b"not an mcap file at all")
    assert cut_short(path) is None
    path.write_bytes(MCAP_MAGIC[:3])
    assert "3 bytes and ends inside the 8-byte MCAP magic" in str(cut_short(path))
