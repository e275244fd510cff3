"""``drivestack replay`` of ROS bags: settings that do not fit the bag are one line and exit
status 2 with nothing written; the console wording of a run.

Before: a bad Velodyne calibration (a table for another model, a missing file, a file that
is not a table) was "input incomplete" with exit status 1, a second line blaming the LiDAR
topics, and an older good RUN.mcap replaced by an empty one; a configured model the packets
contradict dropped every scan; ``--out DIR/`` printed argparse's usage; the "no frames" line
was glued onto the progress bar and named ``RosbagLog.report``; the summary line ended in
"; " without timings, said "1 frames" and counted an unused config entry as an ingest drop.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from drivestack.cli import main
from drivestack.core.errors import ConfigError, DataError
from drivestack.replay.log_format import LogWriter
from drivestack.replay.log_io import LogIO
from drivestack.replay.runner import summary_lines

VLP32 = "ros_bags/nebula_velodyne_ros2/vlp32/1713492677464078412"
VLP32_LIDAR = "sensing_lidar_front_velodyne_packets"
CALIBRATION = "ros_bags/nebula_velodyne_ros2/calibration"
REPO = Path(__file__).resolve().parents[2]
DEMO_LOG = REPO / "data" / "demo" / "drive.mcap"


def _one_error_line(capsys: pytest.CaptureFixture[str]) -> str:
    """The one ``error:`` line, on a line of its own (the progress bar and a guessed topic
    map may come before it), and nothing on stdout."""
    captured = capsys.readouterr()
    lines = [line for line in captured.err.splitlines() if "error" in line]
    assert len(lines) == 1 and lines[0].startswith("error: "), captured.err
    assert captured.err.endswith(lines[0] + "\n") and "Traceback" not in captured.err
    assert not captured.out, captured.out
    return lines[0]


def _older_run(folder: Path, log: Path) -> tuple[Path, dict[Path, bytes]]:
    """An older finished run of ``log`` at ``folder/run.mcap``: its files and their bytes."""
    folder.mkdir(parents=True, exist_ok=True)
    out = folder / "run.mcap"
    summary = json.dumps({"input": str(log), "clean": True}).encode()
    files = {out: b"an older good log", out.with_suffix(".summary.json"): summary}
    for path, data in files.items():
        path.write_bytes(data)
    return out, files


CASES = {
    # found when the config is loaded
    "table of another model": ("{{model: VLP32C, calibration: {cal}/VLP16.yaml}}", "calibration"),
    "missing file": ("{{calibration: nonexist.yaml}}", "calibration"),
    "not a table": (
        f"{{{{calibration: {REPO}/configs/ingest/rosbag_example.yaml}}}}",
        "calibration",
    ),
    # found at the first scan (the model is detected from the packets)
    "table of the detected model's other": ("{{calibration: {cal}/VLP16.yaml}}", "calibration"),
    "model the packets contradict": ("{{model: VLP16}}", "model"),
}


@pytest.mark.data
@pytest.mark.parametrize("case", list(CASES))
def test_velodyne_settings_that_do_not_fit_are_one_line_exit_2_and_write_nothing(
    shared_data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], case: str
) -> None:
    settings, key = CASES[case]
    config = tmp_path / "ingest.yaml"
    config.write_text(
        "ego_frame: velodyne_front\nvelodyne:\n"
        f"  {VLP32_LIDAR}: {settings.format(cal=shared_data / CALIBRATION)}\n"
    )
    out, older = _older_run(tmp_path / "runs", shared_data / VLP32)
    args = ["replay", str(shared_data / VLP32), "--ingest-config", str(config)]
    args += ["--missing-ego-pose", "track_in_ego_frame", "--out", str(out)]
    assert main(args) == 2  # with the progress bar: the error line is still the only one
    line = _one_error_line(capsys)
    assert line.startswith(f"error: {config}: field velodyne.{VLP32_LIDAR}.{key}: "), line
    assert "input incomplete" not in line and "no frame replayed" not in line
    assert sorted((tmp_path / "runs").iterdir()) == sorted(older)
    assert all(path.read_bytes() == data for path, data in older.items())


@pytest.mark.data
def test_a_config_error_found_at_load_creates_no_output_folder(
    shared_data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "ingest.yaml"
    config.write_text(f"velodyne:\n  {VLP32_LIDAR}: {{calibration: nonexist.yaml}}\n")
    out = tmp_path / "new" / "run.mcap"
    args = ["replay", str(shared_data / VLP32), "--ingest-config", str(config)]
    assert main([*args, "--out", str(out), "--quiet"]) == 2
    assert "no such file" in _one_error_line(capsys)
    assert not (tmp_path / "new").exists()


def _frames_then(error: Exception) -> Any:
    yield from ()
    raise error


@pytest.mark.parametrize("worker", ["thread", "process"])
def test_a_config_error_of_the_input_fails_the_run_instead_of_ending_the_input(
    tmp_path: Path, worker: str
) -> None:
    def open_writer() -> LogWriter:
        return LogWriter(tmp_path / f"{worker}.mcap", config={})

    log_io = LogIO(
        _frames_then(ConfigError("table for another model", path="x.yaml", field="f")),
        open_writer,
        lambda *_: None,
        finish=lambda: None,
        worker=worker,  # type: ignore[arg-type]
    )
    with pytest.raises(ConfigError, match=r"x.yaml: field f: table for another model"):
        list(log_io.frames())
    log_io.abort()
    # input errors still end the input, with their reason
    log_io = LogIO(
        _frames_then(DataError("breaks off", path="x.bag")),
        open_writer,
        lambda *_: None,
        finish=lambda: None,
        worker=worker,  # type: ignore[arg-type]
    )
    assert list(log_io.frames()) == [] and log_io.input_stopped == "x.bag: breaks off"
    log_io.close()


def test_an_out_naming_a_folder_with_a_slash_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    existing = tmp_path / "runs"
    existing.mkdir()
    assert main(["replay", str(DEMO_LOG), "--out", f"{existing}/", "--quiet"]) == 2
    line = _one_error_line(capsys)
    assert line == (
        f"error: --out {existing}: is a directory; give a file name such as {existing}/run.mcap"
    )
    assert main(["replay", str(DEMO_LOG), "--out", f"{tmp_path}/new/", "--quiet"]) == 2
    line = _one_error_line(capsys)
    assert "usage:" not in line and "names a folder" in line and f"{tmp_path}/new/run.mcap" in line
    assert not (tmp_path / "new").exists() and list(existing.iterdir()) == []


@pytest.mark.data
def test_no_frames_is_said_once_below_the_progress_bar(
    shared_data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bag = tmp_path / "vlp32"
    shutil.copytree(shared_data / VLP32, bag)
    assert main(["replay", str(bag), "--out", str(tmp_path / "o.mcap")]) == 1  # progress bar on
    captured = capsys.readouterr()
    assert "no frames:" not in captured.err and "RosbagLog.report" not in captured.err
    for line in captured.err.splitlines():  # the bar's lines hold only the bar
        assert "replay vlp32" not in line or "no frame" not in line
    text = captured.out + captured.err
    assert text.count("--ego-frame velodyne_front") == 1  # the hint, once
    assert "see the summary JSON's ingest report" in captured.out
    assert "RosbagLog.report" not in captured.out


def _summary(**fields: Any) -> dict[str, Any]:
    summary: dict[str, Any] = {
        "frames_processed": 1,
        "frames_skipped": 0,
        "wall_s": 0.2,
        "realtime_factor": float("nan"),
        "timing_ms": {},
        "skipped": [],
        "frame_notes": {"no ego pose: tracked in the ego frame": 1},
        "ingest": None,
        "detection_vs_labels": None,
        "output": "o.mcap",
        "summary_path": "o.summary.json",
    }
    summary.update(fields)
    return summary


def test_the_console_summary_wording() -> None:
    first, note, *_ = summary_lines(_summary())
    assert first == "replayed 1 frame (0 skipped by the stack) in 0.2 s, n/a real time"
    assert note == "  no ego pose: tracked in the ego frame: 1 frame"
    unused = {
        "topic": "<config>",
        "index": 0,
        "timestamp_ns": 0,
        "kind": "unused_config",
        "reason": "velodyne.top names no LiDAR of the topic map",
        "kept": False,
    }
    ingest = {"clean": False, "counts": {"unused_config": 1}, "skipped": [unused]}
    first, *_ = summary_lines(_summary(frames_processed=5, ingest=ingest))
    assert first.startswith("replayed 5 frames (0 skipped by the stack) in")  # not a drop


def test_one_lidar_message_read_is_singular(tmp_path: Path) -> None:
    from drivestack.replay.runner import _nothing_replayed

    drop = {"topic": "/v", "kind": "decode", "kept": False, "reason": "bad"}
    ingest = {"lidar_topics": ["/v"], "messages_read": {"/v": 1}, "skipped": [drop]}
    assert _nothing_replayed([], ingest).startswith(
        "no frame replayed: 1 LiDAR message read, all dropped (decode: 1;"
    )


def test_docs_say_which_bags_cut_short_are_recovered_and_that_a_db3_file_works(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import drivestack.ingest.rosbag.reader as reader
    from drivestack.ingest.rosbag.bag_io import open_bag

    with pytest.raises(SystemExit):
        main(["replay", "--help"])
    replay_help = " ".join(capsys.readouterr().out.split())
    readme = " ".join((REPO / "README.md").read_text().split())
    doc = " ".join((reader.__doc__ or "").split())
    for text in (replay_help, readme, doc):
        assert ".mcap" in text and "cut short" in text and ".db3" in text, text[:200]
        assert "refused" in text
    assert "rosbag2 .db3 or .mcap file" in replay_help
    folder = tmp_path / "bag"
    folder.mkdir()
    (folder / "bag_0.db3").write_bytes(b"")
    with pytest.raises(DataError, match=r"metadata\.yaml") as raised, open_bag(folder):
        pass
    assert "give the bag's .db3 or .mcap file itself" in str(raised.value)
