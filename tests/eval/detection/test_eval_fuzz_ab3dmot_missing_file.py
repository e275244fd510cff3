"""``eval detection --dataset kitti-tracking --detections DIR`` in AB3DMOT's layout: a
``pointrcnn_<Class>_val`` folder without the sequence's file is an error naming it (found by
a bad-input campaign: that class was silently scored as having no detections); an empty
file still means no detections."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from drivestack.cli import main

DETECTIONS = "kitti_tracking/detections/ab3dmot_pointrcnn"


@pytest.mark.data
def test_a_class_folder_without_the_sequence_file_is_an_error(
    shared_data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "det"
    for cls in ("Car", "Pedestrian", "Cyclist"):
        (folder / f"pointrcnn_{cls}_val").mkdir(parents=True)
        source = shared_data / DETECTIONS / f"pointrcnn_{cls}_val" / "0000.txt"
        shutil.copy(source, folder / f"pointrcnn_{cls}_val" / "0000.txt")
    argv = ["eval", "detection", "--dataset", "kitti-tracking", "--max-frames", "1", "--quiet"]
    argv += ["--detections", str(folder)]
    (folder / "pointrcnn_Car_val" / "0000.txt").write_text("")  # no Car detections: scored
    assert main([*argv, "--out", str(tmp_path / "empty")]) == 0
    (folder / "pointrcnn_Car_val" / "0000.txt").unlink()
    assert main([*argv, "--out", str(tmp_path / "missing")]) == 2
    err = capsys.readouterr().err.strip()
    assert err == (
        f"error: {folder / 'pointrcnn_Car_val' / '0000.txt'}: no detection file for sequence "
        "0000 in pointrcnn_Car_val (an empty file means no detections)"
    )
    assert not (tmp_path / "missing").exists()
