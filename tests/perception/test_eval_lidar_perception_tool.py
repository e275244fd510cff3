"""tools/eval_lidar_perception.py: bad input is one ``error: ...`` line with exit status 2
before any work (frames outside the scans present, a bad or missing config, --json a folder);
the summary table; the open3d baseline is the one ``drivestack eval detection`` runs; an
undefined recall is NaN (null in the JSON), not 0."""

from __future__ import annotations

import io
import json
import math
import runpy
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from drivestack.perception.lidar.metrics import CarTally

REPO = Path(__file__).resolve().parents[2]
TOOL = REPO / "tools" / "eval_lidar_perception.py"


@pytest.fixture(scope="module")
def tool() -> dict[str, Any]:
    return runpy.run_path(str(TOOL), run_name="eval_lidar_perception")


@pytest.fixture
def fake_data(tmp_path: Path) -> Path:
    """A ``--data`` folder whose tracking 0000 has (empty) scans for frames 74-76 and 80."""
    scans = tmp_path / "kitti_tracking" / "training" / "velodyne_pcd_xz" / "0000"
    scans.mkdir(parents=True)
    for f in (74, 75, 76, 80):
        (scans / f"{f:06d}.pcd.xz").write_bytes(b"")
    return tmp_path


def _error(capsys: pytest.CaptureFixture[str]) -> str:
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err and captured.out == ""
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), captured.err
    return lines[0]


@pytest.mark.parametrize(
    ("first", "last", "message"),
    [
        (200, 100, "--first 200 is after --last 100"),
        (0, 3, "--first 0 --last 3: no scan for frames 0-3"),
        (75, 90, "--first 75 --last 90: no scan for frames 77-79, 81-90"),
    ],
)
def test_frames_outside_the_scans_present(
    tool: dict[str, Any],
    fake_data: Path,
    capsys: pytest.CaptureFixture[str],
    first: int,
    last: int,
    message: str,
) -> None:
    args = ["--data", str(fake_data), "--first", str(first), "--last", str(last)]
    assert tool["main"]([*args, "--no-kitti-protocol"]) == 2
    line = _error(capsys)
    assert message in line and line.endswith("are frames 74-76, 80")


def test_config_errors_are_one_line(
    tool: dict[str, Any], fake_data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # the frames are fine (74-76), the config is read before any scan (the scans are empty)
    args = ["--data", str(fake_data), "--first", "74", "--last", "76", "--config"]
    typo = tmp_path / "typo.yaml"
    shipped = (REPO / "configs" / "perception" / "lidar_kitti.yaml").read_text()
    typo.write_text(shipped.replace("base_distance_m:", "base_distanc_m:"))
    assert tool["main"]([*args, str(typo)]) == 2
    assert "field cluster.base_distanc_m: unknown key" in _error(capsys)
    assert tool["main"]([*args, str(tmp_path / "absent.yaml")]) == 2
    assert "absent.yaml: cannot read config file" in _error(capsys)


def test_missing_data_and_json_folder(
    tool: dict[str, Any], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert tool["main"](["--data", str(tmp_path / "none")]) == 2
    assert "field --data: no such kitti-tracking folder" in _error(capsys)
    assert tool["main"](["--dataset", "aimotive", "--root", str(tmp_path / "none")]) == 2
    assert "field --root: no such aimotive folder" in _error(capsys)
    assert tool["main"](["--data", str(tmp_path), "--json", str(tmp_path)]) == 2
    assert "field --json: is a folder" in _error(capsys)


def test_help_names_the_frames_and_the_baseline(
    tool: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit):
        tool["main"](["--help"])
    text = capsys.readouterr().out
    assert "frames 74-153 only" in text and "Open3dBaselineDetector" in text
    assert "open3d_baseline" not in tool  # no copy of the baseline of its own
    assert tool["Open3dBaselineDetector"].__module__ == "drivestack.perception.lidar.baseline"
    parse = tool["open3d_frames"]
    assert parse("all") is None and parse("0") == 0 and parse("5") == 5


def test_undefined_recall_is_nan() -> None:
    tally = CarTally(max_range_m=40.0)
    assert math.isnan(tally.false_boxes_per_scan)
    box = np.array([[10.0, 0.0, 0.0, 4.0, 1.8, 1.5, 0.0]])
    tally.add(box, np.array([0.9]), np.zeros((0, 7)), np.zeros((0, 7)))
    summary = tally.summary()
    assert math.isnan(summary["recall"]) and math.isnan(summary["ap40_bev"])
    assert summary["precision"] == 0.0 and summary["false_car_boxes_per_scan"] == 1.0


def _figures(**changes: Any) -> dict[str, Any]:
    tally = {
        "car_labels": 243,
        "recall": 0.914,
        "precision": 0.649,
        "false_car_boxes_per_scan": 1.5,
        "ap40_bev": 0.839,
    }
    figures: dict[str, Any] = {
        "frames": [74, 153],
        "num_scans": 80,
        "max_range_m": 40.0,
        "drivestack": tally,
        "drivestack_odd": tally,
        "pointrcnn": tally | {"recall": float("nan")},
        "pointrcnn_odd": tally,
        "ground_zones": {"object_points_kept": 0.99, "near_ground_found": 0.99},
        "ground_ransac": {"object_points_kept": 0.99, "near_ground_found": 0.99},
        "yaw_fit": {"clusters": 339, "within_10deg": 0.95},
        "timing_median_ms": {"stage_wall": 42.0},
        "open3d_baseline_frames": 80,
        "open3d_baseline_median_ms": 1050.0,
        "open3d_over_drivestack_time_ratio": 25.0,
        "open3d_baseline": tally | {"recall": 0.5},
    }
    return figures | changes


def test_kitti_summary_table(tool: dict[str, Any]) -> None:
    out = io.StringIO()
    tool["print_kitti_summary"](_figures(), out)
    text = out.getvalue()
    header, recall = text.splitlines()[1:3]
    assert header.split() == ["drivestack", "open3d", "baseline", "PointRCNN"]
    assert recall.split()[-3:] == ["0.914", "0.500", "n/a"]  # NaN recall: n/a
    assert "25.0x" in text and "skipped" not in text

    out = io.StringIO()
    skipped = {"open3d_baseline_frames": 0, "open3d_baseline_median_ms": float("nan")}
    figures = _figures(**skipped)
    del figures["open3d_baseline"], figures["open3d_over_drivestack_time_ratio"]
    tool["print_kitti_summary"](figures, out)
    assert "open3d baseline skipped (--open3d-frames 0): --open3d-frames N" in out.getvalue()


@pytest.mark.data
def test_two_scans_with_the_baseline(
    tool: dict[str, Any], shared_data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "figures.json"
    args = ["--data", str(shared_data), "--first", "100", "--last", "101", "--no-kitti-protocol"]
    assert tool["main"]([*args, "--json", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "frames 100-101 (2 scans)" in printed and f"wrote every figure to {out}" in printed
    figures = json.loads(out.read_text())
    assert figures["open3d_baseline_frames"] == 2
    assert set(figures["open3d_baseline"]) >= {"recall", "false_car_boxes_per_scan", "ap40_bev"}
    assert figures["open3d_over_drivestack_time_ratio"] > 0
    assert "config" in figures and "config" not in printed
