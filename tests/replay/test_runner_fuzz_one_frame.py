"""A log of one frame replays; its real-time factor is undefined: None in the returned summary,
as in the summary JSON (null), not a NaN."""

from __future__ import annotations

import json
from pathlib import Path

from drivestack.pipeline import build_stack
from drivestack.replay.log_format import LogWriter
from drivestack.replay.log_reader import LogReader
from drivestack.replay.runner import replay, summary_lines

REPO = Path(__file__).resolve().parents[2]


def test_a_one_frame_log_has_no_nan_in_its_summary(tmp_path: Path) -> None:
    frame = next(iter(LogReader(REPO / "data/demo/drive.mcap").frames()))
    log = tmp_path / "one.mcap"
    with LogWriter(log, config={"source": "one frame of the demo drive"}) as writer:
        writer.sensor_frame(frame)
    stack = build_stack(REPO / "configs/stack/sim_lidar.yaml")
    summary = replay(log, stack, tmp_path / "run.mcap", progress=False, io_worker="thread")
    assert summary["frames_processed"] == 1 and summary["realtime_factor"] is None
    assert "n/a real time" in summary_lines(summary)[0]
    written = json.loads((tmp_path / "run.summary.json").read_text())
    assert written["realtime_factor"] is None
