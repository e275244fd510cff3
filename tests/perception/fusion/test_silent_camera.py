"""A camera that reports nothing is no evidence against a LiDAR box (review finding): the RRC
source's report counts, the per-sequence notes, --fusion camera's default classes."""

from __future__ import annotations

import argparse
from pathlib import Path
from types import SimpleNamespace

import pytest

from drivestack.core.errors import DataError
from drivestack.ingest.kitti_calib import read_kitti_calib
from drivestack.perception.fusion.kitti import CAMERA, rrc_camera_source
from drivestack.perception.fusion.kitti_eval import silent_camera_notes

REPO = Path(__file__).resolve().parents[3]


def _rrc(tmp_path: Path, car: str, pedestrian: str) -> Path:
    root = tmp_path / "rrc"
    for cls, text in (("Car", car), ("Pedestrian", pedestrian)):
        (root / cls).mkdir(parents=True)
        (root / cls / "0006.txt").write_text(text)
    return root


@pytest.mark.data
def test_rrc_source_counts_the_reports_of_every_class(shared_data: Path, tmp_path: Path) -> None:
    calib = read_kitti_calib(shared_data / "kitti_tracking/training/calib/0006.txt")
    # cars at frames 0 (two) and 2 (one, scoring under min_score); no pedestrian anywhere
    root = _rrc(
        tmp_path,
        "0,100,100,200,160,0.9\n0,300,100,400,160,0.8\n2,100,100,200,160,0.05\n",
        "",
    )
    source = rrc_camera_source(root, "0006", calib, ("Pedestrian",), min_score=0.1, n_frames=3)
    counts = [source(f * 100_000_000).n_reported for f in range(3)]
    assert counts == [{CAMERA: 2}, {CAMERA: 0}, {CAMERA: 0}]
    assert all(len(source(f * 100_000_000).detections[CAMERA]) == 0 for f in range(3))
    # a row past the sequence's last frame is refused, naming the file, line and frame
    with pytest.raises(DataError, match=r"Car/0006\.txt: line 3: field frame: frame 2 is past"):
        rrc_camera_source(root, "0006", calib, ("Pedestrian",), n_frames=2)


def test_silent_camera_notes_name_the_sequences_without_any_report() -> None:
    seqmap = [SimpleNamespace(name="0001", n_frames=10), SimpleNamespace(name="0006", n_frames=5)]
    report = {
        "camera_silent_frames": {
            "Car": {"0001": 0, "0006": 0},
            "Pedestrian": {"0001": 2, "0006": 5},
        }
    }
    assert silent_camera_notes(report, seqmap) == [
        "Pedestrian: the camera reported no detection (of any class) in 7 of 15 frames; no "
        "LiDAR box was penalised there; nothing at all in sequence 0006"
    ]
    assert silent_camera_notes({}, seqmap) == []


def test_fusion_defaults_to_the_classes_with_camera_detections(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from drivestack.commands.eval_tracking import _default_classes

    camera = tmp_path / "detections/deepfusionmot_rrc_2d/training"
    for cls in ("Car", "Pedestrian"):
        (camera / cls).mkdir(parents=True)
    args = argparse.Namespace(kitti_root=tmp_path, fusion="camera")
    assert _default_classes(args) == ["Car", "Pedestrian"]
    assert capsys.readouterr().err == (
        f"--fusion camera: classes Car,Pedestrian (no camera detections for Cyclist under "
        f"{camera}; --classes to choose)\n"
    )
    args.fusion = None
    assert _default_classes(args) == ["Car", "Pedestrian", "Cyclist"]
    args.fusion = "camera"
    for cls in ("Car", "Pedestrian"):
        (camera / cls).rmdir()
    with pytest.raises(DataError, match="no camera detection folder for any of Car, Pedestrian"):
        _default_classes(args)
