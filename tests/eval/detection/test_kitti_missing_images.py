"""KITTI object folders with parts missing: frames read without their image_2 PNGs keep
detections inside KITTI's usual 1242 x 375 image, as the protocol scores only the camera's
field of view, and say so once (before, every detection of the scan was scored: a high-scored
car outside the image turned a perfect Car AP of 5.00 into 1.67, with no word); result files
are scored from label_2 alone, as the devkit scores them (calib/ was required)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from drivestack.cli import main

# a car 40 m to the camera's left at 10 m depth: outside the image
OUT_OF_VIEW_CAR = "Car 0.00 0 -1.57 0 0 0 0 1.50 1.60 3.90 -40.00 1.50 10.00 -1.57 20.0"


def _root(shared_data: Path, tmp_path: Path, with_images: bool, with_scans: bool = True) -> Path:
    base = tmp_path / f"{with_images}_{with_scans}" / "training"
    base.mkdir(parents=True)
    folders = ("label_2",) + (("velodyne", "calib") if with_scans else ())
    folders += ("image_2",) if with_images else ()
    for name in folders:
        (base / name).symlink_to(shared_data / "kitti_object" / "training" / name)
    return base.parent


def _detections(shared_data: Path, tmp_path: Path) -> Path:
    """The labels themselves, scored 10 (DontCare dropped), and one car outside the image."""
    folder = tmp_path / "detections"
    folder.mkdir()
    for label in sorted((shared_data / "kitti_object" / "training" / "label_2").glob("*.txt")):
        rows = [f"{line} 10.0" for line in label.read_text().splitlines() if line.strip()]
        rows = [row for row in rows if not row.startswith("DontCare")]
        if label.stem == "000000":
            rows.append(OUT_OF_VIEW_CAR)
        (folder / label.name).write_text("\n".join(rows) + "\n")
    return folder


def _average_precisions(out: Path) -> dict[str, float]:
    metrics = json.loads((out / "metrics.json").read_text())["metrics"]
    return {key: value for key, value in metrics.items() if "_AP" in key}


@pytest.mark.data
def test_frames_without_images_are_scored_inside_the_usual_image(
    shared_data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    detections = _detections(shared_data, tmp_path)
    aps = {}
    for with_images in (True, False):
        root = _root(shared_data, tmp_path, with_images)
        out = tmp_path / f"out_{with_images}"
        argv = ["eval", "detection", "--dataset", "kitti", "--root", str(root)]
        argv += ["--detections", str(detections), "--out", str(out), "--quiet"]
        assert main(argv) == 0
        aps[with_images] = _average_precisions(out)
        err = capsys.readouterr().err
        said = [line for line in err.splitlines() if "no image: detections are kept" in line]
        if with_images:
            assert said == []
        else:  # once, naming the first frame's PNG
            assert len(said) == 1
            assert str(root / "training" / "image_2" / "000000.png") in said[0]
            assert "1242x375" in said[0]
    assert aps[True]["Car_BEV_AP40_moderate_strict"] == pytest.approx(5.0)  # perfect
    assert aps[False] == aps[True]


@pytest.mark.data
def test_result_files_are_scored_from_label_2_without_calib_or_scans(
    shared_data: Path, tmp_path: Path
) -> None:
    detections = _detections(shared_data, tmp_path)
    aps = []
    for with_scans in (True, False):
        root = _root(shared_data, tmp_path, with_images=True, with_scans=with_scans)
        out = tmp_path / f"scored_{with_scans}"
        argv = ["eval", "detection", "--dataset", "kitti", "--root", str(root)]
        assert main([*argv, "--detections", str(detections), "--out", str(out), "--quiet"]) == 0
        aps.append(_average_precisions(out))
    assert aps[0] == aps[1]
