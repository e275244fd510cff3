"""What a user sees when the input is wrong: one line naming the file / option, exit status 2,
no traceback (``DRIVESTACK_DEBUG=1`` shows it)."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import pytest

from drivestack.cli import main
from drivestack.core.errors import ConfigError, DataError
from drivestack.core.json_values import finite_json

REPO = Path(__file__).resolve().parents[1]
DEMO_LOG = REPO / "data" / "demo" / "drive.mcap"
SIM_STACK = REPO / "configs" / "stack" / "sim_lidar.yaml"  # the stack made for the demo drive


def _error(capsys: pytest.CaptureFixture[str]) -> str:
    err = capsys.readouterr().err
    assert "Traceback" not in err
    lines = [line for line in err.splitlines() if line.startswith("error: ")]
    assert len(lines) == 1, err
    return lines[0]


def test_a_config_with_a_misspelt_key_is_one_line(tmp_path, capsys) -> None:
    typo = tmp_path / "typo.yaml"
    typo.write_text("accumulate:\n  num_sweps: 2\n")
    (tmp_path / "training").mkdir()  # a KITTI tracking folder's layout: the config is read next
    args = ["bench", "perception", "--config", str(typo), "--root", str(tmp_path)]
    assert main(args) == 2
    line = _error(capsys)
    assert str(typo) in line


def test_debug_env_shows_the_traceback(tmp_path, monkeypatch) -> None:
    typo = tmp_path / "typo.yaml"
    typo.write_text("accumulate:\n  num_sweps: 2\n")
    (tmp_path / "training").mkdir()
    monkeypatch.setenv("DRIVESTACK_DEBUG", "1")
    with pytest.raises(ConfigError):
        main(["bench", "perception", "--config", str(typo), "--root", str(tmp_path)])


def test_a_dataset_root_one_level_off_names_the_folder_that_fits(tmp_path, capsys) -> None:
    """Was: ../shared/data as --root failed on a seqmap file not found; its training/ folder
    likewise; neither said which folder to give."""
    data = tmp_path / "data"
    for sub in ("kitti_tracking/training", "kitti_tracking/seqmaps", "argoverse2/sensor/val/log1"):
        (data / sub).mkdir(parents=True)
    (data / "argoverse2/sensor/val/log1/annotations.feather").write_bytes(b"")
    args = ["eval", "tracking", "--split", "val", "--out", str(tmp_path / "o")]
    assert main([*args, "--root", str(data)]) == 2
    line = _error(capsys)
    assert "no kitti-tracking data here" in line and line.endswith(
        f"looks like one: {data / 'kitti_tracking'}"
    )
    assert main([*args, "--kitti-root", str(data / "kitti_tracking" / "training")]) == 2
    assert _error(capsys).endswith(f"give its parent, --kitti-root {data / 'kitti_tracking'}")
    av2 = ["eval", "detection", "--dataset", "av2", "--out", str(tmp_path / "o")]
    assert main([*av2, "--root", str(data / "argoverse2")]) == 2
    assert _error(capsys).endswith(f"this looks like one: {data / 'argoverse2/sensor/val'}")


def test_a_misspelt_option_is_reported_by_its_command_with_the_closest_names(capsys) -> None:
    """Was: the top-level usage (no option of the command) and no suggestion."""
    with pytest.raises(SystemExit) as exit_:
        main(["eval", "tracking", "--split", "val", "--out", "x", "--clases", "Car"])
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("usage: drivestack eval tracking ")
    assert "unrecognized arguments: --clases Car (--clases: did you mean --classes" in err


def test_missing_dataset_root_names_the_option(tmp_path, capsys) -> None:
    absent = tmp_path / "absent"
    assert main(["eval", "detection", "--dataset", "av2", "--root", str(absent), "--out", str(tmp_path / "o")]) == 2  # fmt: skip
    line = _error(capsys)
    assert str(absent) in line and "--root" in line
    assert main(["eval", "tracking", "--root", str(absent), "--out", str(tmp_path / "o")]) == 2
    assert "--root" in _error(capsys)
    # --kitti-root is the option's name (--root its alias): the error names both
    assert (
        main(["eval", "tracking", "--kitti-root", str(absent), "--out", str(tmp_path / "o")]) == 2
    )
    assert "--kitti-root (--root)" in _error(capsys)


def test_unknown_dataset_and_zero_frames_are_usage_errors(capsys) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["bench", "perception", "--dataset", "bogus"])
    assert exc.value.code == 2
    assert "invalid choice: 'bogus'" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["eval", "detection", "--dataset", "kitti", "--out", "x", "--max-frames", "0"])
    assert "must be at least 1" in capsys.readouterr().err


def test_missing_detector_config_lists_the_shipped_ones(tmp_path) -> None:
    from drivestack.commands._paths import detector_config

    with pytest.raises(DataError, match=r"lidar_nowhere\.yaml: field --config: .*lidar_kitti"):
        detector_config("nowhere", None)
    with pytest.raises(DataError, match=r"absent\.yaml") as exc:
        detector_config("kitti", tmp_path / "absent.yaml")
    assert "shipped" not in str(exc.value)  # the user's own file: no list of ours


def test_missing_drive_and_non_mcap_log(tmp_path, capsys) -> None:
    assert main(["demo", "--drive", str(tmp_path / "missing.mcap"), "--out", str(tmp_path)]) == 2
    assert "no such log file" in _error(capsys)
    text = tmp_path / "text.mcap"
    text.write_text("not a log\n")
    assert main(["replay", str(text), "--out", str(tmp_path / "o.mcap"), "--quiet"]) == 2
    line = _error(capsys)
    assert str(text) in line and "not an MCAP file" in line


def test_truncated_drivestack_log_replays_up_to_the_cut(tmp_path, capsys) -> None:
    """Not read as a ROS bag (was a rosbags parser dump): the frames before the cut are
    replayed, and the cut is reported."""
    cut = tmp_path / "cut.mcap"
    cut.write_bytes(DEMO_LOG.read_bytes()[: DEMO_LOG.stat().st_size // 2])
    out = tmp_path / "o.mcap"
    assert (
        main(["replay", str(cut), "--stack", str(SIM_STACK), "--out", str(out), "--quiet"]) == 1
    )  # not clean
    printed = capsys.readouterr().out
    assert "rosbags" not in printed.lower()
    assert f"input incomplete: {cut}: truncated or corrupt MCAP: it breaks off after" in printed
    assert "(0 skipped by the stack)" in printed  # the cut is a note on the input, not a frame
    summary = json.loads(out.with_suffix(".summary.json").read_text())
    assert 10 < summary["frames_processed"] < 61  # the demo drive has 61 frames
    assert not summary["clean"]


def test_corrupt_chunks_of_a_log_are_skipped_and_named(tmp_path, capsys) -> None:
    """Bytes flipped in the middle of a log (was a ZstdError traceback, nothing written): the
    chunk that does not decompress is skipped and named, every other frame replays."""
    data = bytearray(DEMO_LOG.read_bytes())
    middle = len(data) // 2
    data[middle : middle + 4096] = bytes(b ^ 0x5A for b in data[middle : middle + 4096])
    flipped = tmp_path / "flipped.mcap"
    flipped.write_bytes(bytes(data))
    out = tmp_path / "o.mcap"
    assert (
        main(["replay", str(flipped), "--stack", str(SIM_STACK), "--out", str(out), "--quiet"]) == 1
    )  # not clean
    printed = capsys.readouterr().out
    assert "1 corrupt chunk(s) skipped, their messages lost: byte " in printed
    # the chunk fails to decompress or its CRC check, depending on where the flipped bytes fall
    assert "ZstdError" in printed or "CRCValidationError" in printed
    assert "(0 skipped by the stack)" in printed
    summary = json.loads(out.with_suffix(".summary.json").read_text())
    assert 50 < summary["frames_processed"] < 61  # the demo drive has 61 frames
    assert not summary["clean"]


def test_an_existing_file_as_output_folder(tmp_path, capsys, shared_data) -> None:
    afile = tmp_path / "afile"
    afile.write_text("")
    args = ["eval", "detection", "--dataset", "kitti-tracking", "--max-frames", "1"]
    assert main([*args, "--out", str(afile)]) == 2
    assert str(afile) in _error(capsys)


@pytest.mark.data
def test_missing_detection_folder_and_frame_file(tmp_path, capsys, shared_data) -> None:
    base = ["eval", "detection", "--dataset", "kitti-tracking", "--out", str(tmp_path / "o")]
    assert main([*base, "--detections", str(tmp_path / "nope")]) == 2
    assert "--detections" in _error(capsys)
    folder = tmp_path / "dets"
    folder.mkdir()
    (folder / "000074.txt").write_text("")  # frame 74 has no detections; 75 has no file
    assert main([*base, "--detections", str(folder), "--max-frames", "2"]) == 2
    err = capsys.readouterr().err
    assert str(folder / "000075.txt") in err and "no detection file" in err


VLP16_BAG = "ros_bags/nebula_velodyne_ros2/vlp16/1673400471837873222"


@pytest.mark.data
def test_ros_bag_without_tf_replays_in_the_lidar_frame(tmp_path, capsys, shared_data) -> None:
    bag = tmp_path / "vlp16"
    shutil.copytree(shared_data / VLP16_BAG, bag)
    out = tmp_path / "o.mcap"
    assert main(["replay", str(bag), "--out", str(out), "--quiet"]) == 1
    printed = capsys.readouterr().out
    assert "replayed 0 frames (0 skipped by the stack, 4 ingest drops (listed below))" in printed
    assert "first missing_tf" in printed
    assert "--ego-frame velodyne --missing-ego-pose track_in_ego_frame)" in printed  # both flags
    args = ["replay", str(bag), "--out", str(out), "--quiet", "--ego-frame", "velodyne"]
    # the frames without a pose are what the flag asked for: noted, and the run is clean
    assert main([*args, "--missing-ego-pose", "track_in_ego_frame"]) == 0
    printed = capsys.readouterr().out
    assert "replayed 4 frames (0 skipped by the stack)" in printed
    assert "ingest notes (accepted: --missing-ego-pose track_in_ego_frame)" in printed
    assert "first no_ego_pose" in printed
    summary = json.loads(out.with_suffix(".summary.json").read_text())
    assert summary["clean"] and summary["ingest_accepted"] == ["no_ego_pose"]
    # without the flag the same frames are skipped by the stack: not clean
    assert main(args) == 1


@pytest.mark.data
def test_a_missing_optional_package_is_one_line(tmp_path, capsys, shared_data, monkeypatch):
    monkeypatch.setitem(sys.modules, "ouster.sdk", None)  # as if ouster-sdk were not installed
    bag = shared_data / "ros_bags/ouster_ros1/512x10_raw.bag"
    args = ["replay", str(bag), "--out", str(tmp_path / "o.mcap"), "--quiet"]
    assert main([*args, "--ego-frame", "os_sensor"]) == 2
    assert "Ouster packet bags need ouster-sdk: pip install" in _error(capsys)


def test_finite_json_writes_undefined_figures_as_null() -> None:
    import numpy as np

    value = {"a": float("nan"), "b": [1.0, float("inf"), np.float32(2.5)], "c": (np.int64(3),)}
    assert finite_json(value) == {"a": None, "b": [1.0, None, 2.5], "c": [3]}
    assert finite_json(np.array([np.nan, 1.0])) == [None, 1.0]


def test_bad_iou_is_refused_before_any_work(tmp_path, capsys) -> None:
    out = tmp_path / "trk"
    assert main(["eval", "tracking", "--iou", "0.25,2", "--out", str(out)]) == 2
    assert "--iou: IoU thresholds must be in (0, 1], got '0.25,2'" in _error(capsys)
    assert not out.exists()  # nothing tracked, nothing written


@pytest.mark.data
def test_detection2d_without_the_class_folder(tmp_path, capsys, shared_data) -> None:
    args = ["eval", "detection2d", "--kitti-tracking-root", str(shared_data / "kitti_tracking")]
    assert main([*args, "--classes", "Cyclist", "--out", str(tmp_path), "--quiet"]) == 2
    line = _error(capsys)
    assert "deepfusionmot_rrc_2d/training/Cyclist" in line and "no Cyclist detections" in line


def test_refresh_golden_help_writes_nothing() -> None:
    import subprocess
    import sys as _sys

    golden = REPO / "tests" / "golden" / "demo_replay.json"
    before = golden.stat().st_mtime_ns
    done = subprocess.run(
        [_sys.executable, str(REPO / "tools" / "refresh_golden.py"), "--help"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert done.stdout.startswith("usage: refresh_golden.py")
    assert golden.stat().st_mtime_ns == before


@pytest.mark.data
def test_eval_tracking_runs_chosen_sequences_and_names_unknown_ones(
    tmp_path, capsys, shared_data
) -> None:
    base = ["eval", "tracking", "--classes", "Car", "--quiet"]
    assert main([*base, "--sequences", "0001, 0006", "--out", str(tmp_path / "two")]) == 0
    assert "(val, 2 sequences)" in capsys.readouterr().out
    report = json.loads((tmp_path / "two" / "metrics.json").read_text())
    assert report["sequences"] == ["0001", "0006"]
    assert sorted(p.name for p in (tmp_path / "two" / "data" / "Car").iterdir()) == [
        "0001.txt",
        "0006.txt",
    ]
    assert main([*base, "--sequences", "0002", "--out", str(tmp_path / "bad")]) == 2
    line = _error(capsys)
    assert "--sequences" in line and "['0002'] not in the val split (0001, 0006" in line


def test_ctrl_c_is_one_line_and_status_130(monkeypatch, capsys) -> None:
    from drivestack.commands import fleet, sim

    def interrupted(args):  # type: ignore[no-untyped-def]
        raise KeyboardInterrupt

    monkeypatch.setattr(sim, "run", interrupted)
    assert main(["sim", "x.yaml", "--out", "o"]) == 130
    err = capsys.readouterr().err
    assert err.strip() == "interrupted" and "Traceback" not in err

    def fleet_interrupted(args):  # type: ignore[no-untyped-def]
        args.resume_hint = "rerun the same command to resume"
        raise KeyboardInterrupt

    monkeypatch.setattr(fleet, "run", fleet_interrupted)
    assert main(["fleet", "x.yaml", "--out", "o"]) == 130
    assert capsys.readouterr().err.strip() == "interrupted; rerun the same command to resume"


def test_top_level_help_says_eval_scores_forecasts_and_open_loop_planning(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit):
        main(["--help"])
    flat = " ".join(capsys.readouterr().out.split())
    assert "evaluate detections, tracks or forecasts against labels" in flat
    assert "planners open loop on recorded drives" in flat


@pytest.mark.parametrize("command", ["sim", "fleet", "report"])
def test_data_root_help_names_argoverse_2_logs(
    command: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit):
        main([command, "--help"])
    flat = " ".join(capsys.readouterr().out.split())
    assert "OpenDRIVE" in flat and "Argoverse 2 logs" in flat


def test_report_help_lists_pasts_among_the_prediction_settings(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit):
        main(["report", "--help"])
    flat = " ".join(capsys.readouterr().out.split())
    assert "prediction: dataset, split, pasts, history" in flat
    assert "not the tracker config of a --pasts tracks run" in flat


def test_a_warning_is_one_line_and_the_debug_env_shows_its_source(tmp_path) -> None:
    import os
    import subprocess

    code = (
        "import warnings\n"
        "from drivestack.cli import report_user_errors\n"
        "def run():\n"
        "    warnings.warn('route.lanes starts ahead of the ego', UserWarning, stacklevel=1)\n"
        "    return 0\n"
        "raise SystemExit(report_user_errors(run))\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "DRIVESTACK_DEBUG"}
    plain = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    assert plain.stderr == "warning: route.lanes starts ahead of the ego\n"
    debug = subprocess.run(
        [sys.executable, "-c", code],
        env={**env, "DRIVESTACK_DEBUG": "1"},
        capture_output=True,
        text=True,
        check=True,
    )
    assert "UserWarning: route.lanes starts ahead of the ego" in debug.stderr
    assert not debug.stderr.startswith("warning: ")


def test_the_command_line_and_the_fleet_workers_share_one_warning_formatter(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """``report_user_errors`` sets drivestack.core.warning_format's formatter (the one the
    fleet's workers set: tests/exec/test_worker_warnings.py) while it runs, and puts the old
    one back; with DRIVESTACK_DEBUG=1 it leaves Python's."""
    import warnings

    from drivestack.cli import report_user_errors
    from drivestack.core.warning_format import DEBUG_ENV, one_line_warning

    before = warnings.formatwarning
    seen = []
    monkeypatch.delenv(DEBUG_ENV, raising=False)
    assert report_user_errors(lambda: seen.append(warnings.formatwarning) or 0) == 0
    monkeypatch.setenv(DEBUG_ENV, "1")
    assert report_user_errors(lambda: seen.append(warnings.formatwarning) or 0) == 0
    assert seen == [one_line_warning, before]
    assert warnings.formatwarning is before
