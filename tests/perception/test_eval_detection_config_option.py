"""``drivestack eval detection --config``: an error, before any work, where no drivestack
detector runs (``--detections``, ``--detector open3d-baseline``); stdout names what ran."""

from __future__ import annotations

from pathlib import Path

import pytest

from drivestack.cli import main

REPO = Path(__file__).resolve().parents[2]
KITTI_CONFIG = REPO / "configs" / "perception" / "lidar_kitti.yaml"
NO_EFFECT = (
    "error: --config configures drivestack's LiDAR detector; it has no effect with "
    "--detections / --detector open3d-baseline"
)


@pytest.mark.parametrize("source", [["--detector", "open3d-baseline"], ["--detections", "D"]])
def test_config_without_the_drivestack_detector_is_an_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], source: list[str]
) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("cluster:\n  base_distanc_m: 1.0\n")  # would fail if it were read
    source = [str(tmp_path) if s == "D" else s for s in source]
    out = tmp_path / "out"
    args = ["eval", "detection", "--dataset", "kitti-tracking", "--root", str(tmp_path / "no")]
    assert main([*args, "--out", str(out), "--config", str(bad), *source]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.strip() == NO_EFFECT  # before the root, the out folder or the config
    assert not out.exists()


@pytest.mark.data
def test_stdout_names_the_detector_and_its_config(
    shared_data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    base = ["eval", "detection", "--dataset", "kitti-tracking", "--max-frames", "1", "--quiet"]
    root = ["--root", str(shared_data / "kitti_tracking")]
    assert main([*base, *root, "--out", str(tmp_path / "a"), "--config", str(KITTI_CONFIG)]) == 0
    out = capsys.readouterr().out
    assert f"detector: drivestack LiDAR detector, config {KITTI_CONFIG}\n" in out
    assert main([*base, *root, "--out", str(tmp_path / "b")]) == 0  # the dataset's default
    assert "detector: drivestack LiDAR detector, config " in capsys.readouterr().out
    assert "lidar_kitti.yaml" in (tmp_path / "b" / "metrics.json").read_text()

    folder = tmp_path / "dets"
    folder.mkdir()
    (folder / "000074.txt").write_text("")  # frame 74: no detections
    assert main([*base, *root, "--out", str(tmp_path / "c"), "--detections", str(folder)]) == 0
    assert f"scoring the detections in {folder} (no detector run)" in capsys.readouterr().out
