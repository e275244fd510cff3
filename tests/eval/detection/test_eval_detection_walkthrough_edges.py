"""``drivestack eval detection`` on the rough edges walkthroughs found: the yaw-is-an-axis note
of a detector that turns boxes along the lanes, a 0-byte KITTI scan, a NaN-filled one."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from drivestack.cli import main
from drivestack.commands.eval_detection import _notes
from drivestack.eval.detection.run import _DetectorOutputs, _turns_along_lanes
from drivestack.perception.lidar.detector import build_lidar_detector
from drivestack.structures.boxes import Boxes3D

REPO = Path(__file__).resolve().parents[3]


def _boxes(yaw: list[float]) -> Boxes3D:
    n = len(yaw)
    return Boxes3D(
        center_m=np.zeros((n, 3)),
        size_m=np.ones((n, 3)),
        yaw_rad=np.array(yaw),
        label=np.ones(n, dtype=np.int64),
        score=np.ones(n),
        frame="ego",
    )


def test_av2_config_turns_boxes_along_lanes_and_the_note_says_so() -> None:
    av2 = build_lidar_detector(REPO / "configs/perception/lidar_av2.yaml")
    kitti = build_lidar_detector(REPO / "configs/perception/lidar_kitti.yaml")
    assert _turns_along_lanes(av2) and not _turns_along_lanes(kitti)
    assert not _turns_along_lanes(None) and not _turns_along_lanes(object())

    # yaws spanning more than half a turn (boxes turned to the lanes' direction)
    outputs = _DetectorOutputs(turns_along_lanes=True)
    outputs.add(_boxes([-3.0, 0.2, 3.0]))
    d = outputs.as_dict()
    assert d["yaw_is_axis"] is False and d["yaw_turned_along_lanes"] is True
    notes = _notes({"metrics": {"summary": {}}, "detector_outputs": d})
    axis = [n for n in notes if "yaw is an axis" in n]
    assert len(axis) == 1 and "\n" not in axis[0]
    assert "except for Car / Truck boxes turned along the map's lanes" in axis[0]
    assert "orient_along_lanes" in axis[0] and "AOE" in axis[0]

    # the same yaws without lane orientation: headings, no note
    plain = _DetectorOutputs()
    plain.add(_boxes([-3.0, 0.2, 3.0]))
    assert not any(
        "yaw is an axis" in n
        for n in _notes({"metrics": {"summary": {}}, "detector_outputs": plain.as_dict()})
    )
    # axes measured: the plain note, unchanged
    axes = _DetectorOutputs(turns_along_lanes=True)
    axes.add(_boxes([-1.0, 0.2, 1.5]))
    (note,) = [
        n
        for n in _notes({"metrics": {"summary": {}}, "detector_outputs": axes.as_dict()})
        if "yaw is an axis" in n
    ]
    assert "except" not in note


def _kitti_root(shared: Path, tmp_path: Path, scan: bytes) -> Path:
    """A one-frame KITTI object root: frame 000000's calib, labels and image, ``scan`` as its
    .bin."""
    src = shared / "kitti_object" / "training"
    base = tmp_path / "kitti" / "training"
    for sub, ext in (("calib", "txt"), ("label_2", "txt"), ("image_2", "png")):
        (base / sub).mkdir(parents=True)
        shutil.copy(src / sub / f"000000.{ext}", base / sub / f"000000.{ext}")
    (base / "velodyne").mkdir()
    (base / "velodyne" / "000000.bin").write_bytes(scan)
    return tmp_path / "kitti"


def test_an_empty_kitti_scan_is_scored_with_a_warning(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], shared_data: Path
) -> None:
    root = _kitti_root(shared_data, tmp_path, b"")
    out = tmp_path / "out"
    args = ["eval", "detection", "--dataset", "kitti", "--root", str(root), "--quiet"]
    assert main([*args, "--out", str(out)]) == 0  # valid by the format: scored
    captured = capsys.readouterr()
    scan = root / "training" / "velodyne" / "000000.bin"
    line = f"warning: {scan}: empty scan (0 bytes)"
    assert line in captured.err and "truncated copy" in captured.err
    result = json.loads((out / "metrics.json").read_text())
    assert result["num_frames"] == 1
    assert any(str(scan) in n and "empty scan (0 bytes)" in n for n in result["notes"])
    assert result["loader_warnings"] == [n for n in result["notes"] if str(scan) in n]


def test_a_nan_scan_error_does_not_suggest_a_python_argument(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], shared_data: Path
) -> None:
    scan = np.full((4, 4), np.nan, dtype="<f4").tobytes()
    root = _kitti_root(shared_data, tmp_path, scan)
    args = ["eval", "detection", "--dataset", "kitti", "--root", str(root), "--quiet"]
    assert main([*args, "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert "000000.bin" in err and "NaN or infinite coordinates" in err and "x" in err
    assert "pass drop_nonfinite" not in err
    assert "drop_nonfinite=True drops them when reading from Python" in err
