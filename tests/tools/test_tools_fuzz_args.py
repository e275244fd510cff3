"""The tools in ``tools/`` refuse bad arguments and unwritable outputs before any work: one
``error: ...`` line naming the option or file, exit status 2, nothing written, no traceback
(round 2 of the bad-input campaign)."""

from __future__ import annotations

import runpy
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[2]
Main = Callable[[list[str]], int]


def _tool(name: str) -> Main:
    main: Main = runpy.run_path(str(REPO / "tools" / f"{name}.py"), run_name="tool")["main"]
    return main


def _refused(main: Main, argv: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    """The last stderr line of a run that exits with status 2 (argparse or the tool's own)."""
    try:
        code = main(argv)
    except SystemExit as exit_:
        code = exit_.code
    err = capsys.readouterr().err
    assert code == 2, err
    assert "Traceback" not in err
    return err.strip().splitlines()[-1]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--seconds", "0"], "argument --seconds: must be a finite number > 0, got 0"),
        (["--seconds", "nan"], "argument --seconds: must be a finite number > 0, got nan"),
        (["--seconds", "inf"], "argument --seconds: must be a finite number > 0, got inf"),
        (["--azimuth-columns", "0"], "argument --azimuth-columns: must be at least 1, got 0"),
        (["--azimuth-columns", "10**9"], "argument --azimuth-columns: not an integer"),
        (["--azimuth-columns", "1000000000"], "must be at most 36000, got 1000000000"),
        (["--preset", "nope"], "field --preset: unknown LiDAR preset 'nope' (known: hdl64"),
        (["--scenario", "{tmp}/bad.yaml"], "bad.yaml: line 2, column 1: malformed YAML"),
        (["--out", "{tmp}"], "field --out: is a folder"),
        (["--out", "/proc/x/d.mcap"], "field --out: cannot create /proc/x"),
    ],
)
def test_make_demo_drive_refuses_bad_options_before_simulating(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    (tmp_path / "bad.yaml").write_text("name: [x\n")
    argv = [a.format(tmp=tmp_path) for a in argv]
    out = ["--out", str(tmp_path / "d.mcap")] if "--out" not in argv else []
    assert message in _refused(_tool("make_demo_drive"), [*out, *argv], capsys)
    assert not (tmp_path / "d.mcap").exists()


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--variants", "0"], "argument --variants: must be at least 1, got 0"),
        (["--every", "0"], "argument --every: must be at least 1, got 0"),
        (["--seed", str(2**80)], "argument --seed: must be below 2**63"),
        (["--out", "/proc/x/lidar_sim.yaml"], "field --out: cannot create /proc/x"),
        (["--out", "{tmp}"], "field --out: is a folder"),
    ],
)
def test_calibrate_sim_perception_refuses_bad_options_before_rendering(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    argv = [a.format(tmp=tmp_path) for a in argv]
    out = ["--out", str(tmp_path / "c.yaml")] if "--out" not in argv else []
    assert message in _refused(_tool("calibrate_sim_perception"), [*out, *argv], capsys)
    assert list(tmp_path.iterdir()) == []


def test_bench_camera_detector_refuses_no_config_and_a_too_narrow_image(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from PIL import Image

    main = _tool("bench_camera_detector")
    assert "argument --config: expected at least one argument" in _refused(
        main, ["--config"], capsys
    )
    narrow = tmp_path / "narrow.png"
    Image.fromarray(np.zeros((1, 4000, 3), np.uint8)).save(narrow)
    last = _refused(main, ["--image", str(narrow), "--repeats", "1"], capsys)
    assert last.startswith(f"error: {narrow}: field --image: image of 4000x1 px is too narrow")
    assert "camera_detector.yaml" in last  # the config it does not fit
    bad = tmp_path / "bad.yaml"
    bad.write_text("backbone: [x\n")
    assert "bad.yaml: line 2" in _refused(main, ["--config", str(bad)], capsys)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--points", "0"], "argument --points: must be at least 1, got 0"),
        (["--points", "1000000000000"], "argument --points: must be at most 1000000"),
        (["--repeats", "-1"], "argument --repeats: must be at least 1, got -1"),
        (["--data-root", "/nonexistent/x"], "/nonexistent/x: field --data-root: no such folder"),
    ],
)
def test_bench_drivable_distance_refuses_bad_options(
    capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    assert message in _refused(_tool("bench_drivable_distance"), argv, capsys)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--configs", "nope"], "argument --configs: expected run names of local1, local2, ray2"),
        (["--configs", ""], "argument --configs: expected run names"),
        (["--variants", "0"], "argument --variants: must be at least 1, got 0"),
        (["--max-steps", "0"], "argument --max-steps: must be at least 1, got 0"),
        (["--suite", "/nonexistent/s.yaml"], "field --suite: no such suite file"),
        (["--out", "{tmp}/file"], "field --out: not a directory (a file of that name exists)"),
        (["--out", "/proc/x/y"], "field --out: cannot create /proc/x/y"),
    ],
)
def test_bench_fleet_refuses_bad_options_before_running_a_fleet(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    (tmp_path / "file").write_text("x")
    argv = [a.format(tmp=tmp_path) for a in argv]
    out = ["--out", str(tmp_path / "bench")] if "--out" not in argv else []
    assert message in _refused(_tool("bench_fleet"), [*out, *argv], capsys)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file"]


def test_bench_fleet_reports_a_failed_command_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import subprocess

    class Failed:
        returncode = 2

    monkeypatch.setattr(subprocess, "run", lambda *a, **k: Failed())
    argv = ["--out", str(tmp_path / "b"), "--configs", "local1"]
    assert _refused(_tool("bench_fleet"), argv, capsys) == (
        "error: drivestack fleet failed (exit status 2); see above"
    )


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"\0" * 10, "size 10 bytes is not a multiple of 16"),
        (b"", "field --scan: no points: nothing to time"),
        (np.full((2, 4), np.nan, "<f4").tobytes(), "point 0"),
        (None, "No such file or directory"),
    ],
)
def test_bench_pointcloud2_checks_the_scan_first(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: bytes | None, message: str
) -> None:
    scan = tmp_path / "s.bin"
    if content is not None:
        scan.write_bytes(content)
    last = _refused(_tool("bench_pointcloud2"), ["--scan", str(scan)], capsys)
    assert last.startswith(f"error: {scan}") and message in last


@pytest.mark.parametrize(
    ("tool", "argv", "message"),
    [
        ("bench_pointcloud2", ["--repeats", "0"], "argument --repeats: must be at least 1"),
        ("bench_sensors", ["--agents", "0"], "argument --agents: must be at least 1, got 0"),
        ("bench_sensors", ["--agents", "10**12"], "argument --agents: not an integer"),
        ("bench_sensors", ["--agents", "100000"], "argument --agents: must be at most 10000"),
        ("bench_sensors", ["--repeats", "0"], "argument --repeats: must be at least 1, got 0"),
        ("train_track_scorer", ["--l2", "1e308"], "argument --l2: every number must be at most"),
    ],
)
def test_bench_counts_are_checked(
    capsys: pytest.CaptureFixture[str], tool: str, argv: list[str], message: str
) -> None:
    assert message in _refused(_tool(tool), argv, capsys)


def test_opendrive_reference_checks_its_arguments_and_its_converter(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import sys

    main = _tool("opendrive_reference")
    assert "required: folder, out" in _refused(main, [], capsys)
    out = tmp_path / "ref.json"
    assert "no such folder" in _refused(main, [str(tmp_path / "nope"), str(out)], capsys)
    assert "no .xodr file in it" in _refused(main, [str(tmp_path), str(out)], capsys)
    (tmp_path / "a.xodr").write_text("<OpenDRIVE/>")
    assert "is a folder" in _refused(main, [str(tmp_path), str(tmp_path)], capsys)
    assert f"{tmp_path}/x: no such folder" in _refused(
        main, [str(tmp_path), str(tmp_path / "x" / "ref.json")], capsys
    )
    monkeypatch.setitem(sys.modules, "opendrive2lanelet", None)  # not installed: no empty file
    assert "needs opendrive2lanelet==1.2.1" in _refused(main, [str(tmp_path), str(out)], capsys)
    assert not out.exists()


@pytest.mark.parametrize(
    ("out", "message"),
    [
        ("{tmp}", "field --out: is a folder"),
        ("/proc/x/y.mcap", "field --out: cannot create /proc/x"),
        ("{tmp}/file/y.mcap", "file: field --out: not a directory (a file of that name exists)"),
    ],
)
def test_kitti_tracking_to_log_checks_the_output_first(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], out: str, message: str
) -> None:
    (tmp_path / "file").write_text("x")
    argv = ["--root", str(tmp_path / "nope"), "--out", out.format(tmp=tmp_path)]
    assert message in _refused(_tool("kitti_tracking_to_log"), argv, capsys)


def test_kitti_tracking_to_log_leaves_no_folder_when_the_input_is_bad(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["--root", str(tmp_path / "nope"), "--out", str(tmp_path / "new" / "k.mcap")]
    assert _refused(_tool("kitti_tracking_to_log"), argv, capsys).startswith("error: ")
    assert not (tmp_path / "new").exists()


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--stride-s", "0"], "argument --stride-s: must be a finite number > 0, got 0"),
        (["--stride-s", "nan"], "argument --stride-s: must be a finite number > 0, got nan"),
        (["--stride-s", "inf"], "argument --stride-s: must be a finite number > 0, got inf"),
        (["--stride-s", "1e300"], "argument --stride-s: must be at most 3600 s"),
        (["--seed", str(2**70)], "argument --seed: must be below 2**63"),
        (["--out", "/proc/x/f.pt"], "field --out: cannot create /proc/x"),
    ],
)
def test_train_forecaster_refuses_bad_options_before_reading_data(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    out = ["--out", str(tmp_path / "f.pt")] if "--out" not in argv else []
    root = ["--kitti-root", str(tmp_path / "nope")]  # never reached
    assert message in _refused(_tool("train_forecaster"), [*out, *root, *argv], capsys)


def test_train_forecaster_names_a_stride_shorter_than_a_sample(
    shared_data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["--out", str(tmp_path / "f.pt"), "--kitti-root", str(shared_data / "kitti_tracking")]
    last = _refused(_tool("train_forecaster"), [*argv, "--stride-s", "0.04"], capsys)
    assert last == "error: field --stride-s: 0.04 s is shorter than one sample (0.1 s)"
    assert not (tmp_path / "f.pt").exists()


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--max-range-m", "0"], "argument --max-range-m: must be a finite number > 0, got 0"),
        (["--max-range-m", "nan"], "argument --max-range-m: must be a finite number > 0"),
        (["--band-margin-m", "-1"], "argument --band-margin-m: must be a finite number of at"),
        (["--band-margin-m", "nan"], "argument --band-margin-m: must be a finite number of at"),
        (["--json", "/proc/x/f.json"], "field --json: cannot create /proc/x"),
    ],
)
def test_eval_lidar_perception_refuses_bad_options_before_the_scans(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    data = ["--data", str(tmp_path / "nope")]  # never reached
    assert message in _refused(_tool("eval_lidar_perception"), [*data, *argv], capsys)


@pytest.mark.parametrize("name", ["..", "", ".", "ab3dmot_pointrcnn/pointrcnn_Car_val"])
def test_oracle_names_a_detection_folder_that_is_no_plain_name(
    shared_data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str
) -> None:
    out = tmp_path / "oracle"
    argv = ["--kitti-root", str(shared_data / "kitti_tracking"), "--out", str(out)]
    last = _refused(_tool("tracking_oracle_bound"), [*argv, "--detections", name], capsys)
    assert "field --detections: no such detection folder (known: ab3dmot_pointrcnn" in last
    assert not out.exists()


def test_oracle_leaves_no_output_when_a_result_file_is_missing(
    shared_data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "results").mkdir()
    out = tmp_path / "oracle"
    argv = ["--kitti-root", str(shared_data / "kitti_tracking"), "--out", str(out)]
    argv += ["--classes", "Cyclist", "--rank-results", str(tmp_path / "results")]
    assert "file not found" in _refused(_tool("tracking_oracle_bound"), argv, capsys)
    assert not out.exists()
    last = _refused(_tool("tracking_oracle_bound"), [*argv[:2], "--out", "/proc/x"], capsys)
    assert last == "error: /proc: field --out: cannot create /proc/x: No such file or directory"
