"""``drivestack eval tracking``: --fusion camera requires its camera files, refuses --iou and
--similarity, follows --detections, writes result files and the run's provenance; class
names are canonical and unique; iou_2d defaults to IoU 0.5; subset headings name the
sequences; --results refuses inverted image boxes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from drivestack.cli import main

pytestmark = pytest.mark.data

RRC = Path("detections") / "deepfusionmot_rrc_2d" / "training"


def _eval(root: Path, out: Path, *args: str) -> int:
    return main(
        ["eval", "tracking", "--kitti-root", str(root), "--quiet", "--out", str(out), *args]
    )


def _root_without_rrc(shared_data: Path, tmp_path: Path) -> Path:
    """A KITTI tracking root linking the shared one, without the RRC detections."""
    kitti = shared_data / "kitti_tracking"
    root = tmp_path / "kroot"
    (root / "detections").mkdir(parents=True)
    for name in ("seqmaps", "training"):
        (root / name).symlink_to(kitti / name)
    (root / "detections" / "ab3dmot_pointrcnn").symlink_to(
        kitti / "detections" / "ab3dmot_pointrcnn"
    )
    return root


def test_fusion_requires_camera_folder_and_files(
    shared_data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = _root_without_rrc(shared_data, tmp_path)
    args = ("--sequences", "0001", "--classes", "Pedestrian", "--fusion", "camera")
    assert _eval(root, tmp_path / "o1", *args) == 2
    err = capsys.readouterr().err
    assert f"{root / RRC / 'Pedestrian'}/: field --fusion: no camera detections" in err
    (root / RRC / "Pedestrian").mkdir(parents=True)
    assert _eval(root, tmp_path / "o2", *args) == 2
    err = capsys.readouterr().err
    assert f"{root / RRC / 'Pedestrian' / '0001.txt'}: field --fusion: no such file" in err
    assert not (tmp_path / "o1").exists() and not (tmp_path / "o2").exists()
    kitti = shared_data / "kitti_tracking"
    assert _eval(kitti, tmp_path / "o3", "--classes", "Cyclist", "--fusion", "camera") == 2
    assert "no camera detections for class Cyclist" in capsys.readouterr().err


@pytest.mark.parametrize(("option", "value"), [("--iou", "0.5"), ("--similarity", "iou_2d")])
def test_fusion_refuses_iou_and_similarity(
    shared_data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], option: str, value: str
) -> None:
    kitti = shared_data / "kitti_tracking"
    assert _eval(kitti, tmp_path / "o", "--fusion", "camera", option, value) == 2
    assert f"field {option}: --fusion camera reports fixed protocols" in capsys.readouterr().err


def test_fusion_follows_detections(
    shared_data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    kitti = shared_data / "kitti_tracking"
    rc = _eval(
        kitti,
        tmp_path / "o",
        *("--sequences", "0001", "--classes", "Pedestrian", "--fusion", "camera"),
        *("--detections", str(tmp_path / "no_such_detections")),
    )
    assert rc == 2
    assert "no_such_detections" in capsys.readouterr().err


def test_fusion_writes_result_files_and_provenance(
    shared_data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    kitti = shared_data / "kitti_tracking"
    out = tmp_path / "o"
    rc = _eval(kitti, out, "--sequences", "0001", "--classes", "pedestrian", "--fusion", "camera")
    assert rc == 0
    printed = capsys.readouterr().out
    assert "iou_3d 0.25, fused tracker (val, 1 sequences), subset 0001\n" in printed
    assert (out / "data" / "Pedestrian" / "0001.txt").stat().st_size > 0
    assert (out / "data_lidar" / "Pedestrian" / "0001.txt").stat().st_size > 0
    report = json.loads((out / "metrics.json").read_text())
    assert report["sequences"] == ["0001"] and report["whole_split"] is False
    assert report["classes"] == ["Pedestrian"]
    assert report["config_file"].endswith("kitti_pointrcnn.yaml")
    assert report["fusion_config_file"].endswith("fusion_kitti_rrc.yaml")
    assert report["camera_detections"] == str(kitti / RRC)
    assert report["result_folders"] == {"fused": "data", "lidar": "data_lidar"}
    assert report["notes"] == []
    assert set(report["metrics"]["3d_iou0.25"]) == {"lidar", "fused"}


def test_classes_are_canonical_and_unique(
    shared_data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    kitti = shared_data / "kitti_tracking"
    out = tmp_path / "o"
    rc = _eval(kitti, out, "--sequences", "0001,0001", "--classes", "pedestrian,Pedestrian")
    assert rc == 0
    printed = capsys.readouterr().out
    assert "iou_3d 0.25 (val, 1 sequences), subset 0001\n" in printed
    assert printed.count("\nPedestrian ") == 1
    report = json.loads((out / "metrics.json").read_text())
    assert report["classes"] == ["Pedestrian"] and report["sequences"] == ["0001"]
    assert (out / "data" / "Pedestrian" / "0001.txt").is_file()


def test_iou_2d_defaults_to_half(
    shared_data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    kitti = shared_data / "kitti_tracking"
    out = tmp_path / "o"
    rc = _eval(kitti, out, "--sequences", "0001", "--classes", "Car", "--similarity", "iou_2d")
    assert rc == 0
    assert "iou_2d 0.5 (val, 1 sequences), subset 0001\n" in capsys.readouterr().out
    assert list(json.loads((out / "metrics.json").read_text())["metrics"]) == ["iou_0.5"]


def test_results_refuse_inverted_image_boxes(
    shared_data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    kitti = shared_data / "kitti_tracking"
    res = tmp_path / "res"
    res.mkdir()
    good = "0 1 Car 0 0 -1.5 100.0 150.0 200.0 220.0 1.5 1.6 3.9 1.0 1.7 20.0 -1.5 3.0\n"
    bad = "1 1 Car 0 0 -1.5 300.0 150.0 200.0 220.0 1.5 1.6 3.9 1.0 1.7 20.0 -1.5 3.0\n"
    (res / "0001.txt").write_text(good + bad)
    rc = _eval(
        kitti, tmp_path / "o", "--sequences", "0001", "--classes", "Car", "--results", str(res)
    )
    assert rc == 2
    err = capsys.readouterr().err
    assert f"{res / '0001.txt'}: line 2: field x2: image box has x2 < x1" in err


def test_a_failed_tracking_run_leaves_no_output_folder(shared_data: Path, tmp_path: Path) -> None:
    """A detection file that fails to parse after an earlier sequence's results were written:
    exit 2 and no partial OUT/data left (README: a failed run leaves no folder)."""
    kitti = shared_data / "kitti_tracking"
    root = tmp_path / "kroot"
    cars = root / "detections" / "ab3dmot_pointrcnn" / "pointrcnn_Car_val"
    cars.mkdir(parents=True)
    for name in ("seqmaps", "training"):
        (root / name).symlink_to(kitti / name)
    shared_cars = kitti / "detections" / "ab3dmot_pointrcnn" / "pointrcnn_Car_val"
    (cars / "0001.txt").symlink_to(shared_cars / "0001.txt")
    (cars / "0006.txt").write_text("10,2,1,2,3\n")  # 5 of 15 columns
    out = tmp_path / "out"
    assert _eval(root, out, "--classes", "Car", "--sequences", "0001,0006") == 2
    assert not out.exists()
