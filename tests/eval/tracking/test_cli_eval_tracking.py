"""``drivestack eval tracking`` end to end on real files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from drivestack.cli import main

pytestmark = pytest.mark.data


def test_cli_evaluates_result_files(
    shared_data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = shared_data / "kitti_tracking"
    rc = main(
        [
            "eval", "tracking", "--kitti-root", str(root), "--split", "val", "--classes", "Cyclist",
            "--results", str(root / "reference_outputs" / "ab3dmot_2020"), "--out", str(tmp_path), "--quiet",
        ]
    )  # fmt: skip
    assert rc == 0
    report = json.loads((tmp_path / "metrics.json").read_text())
    clear = report["metrics"]["iou_0.25"]["classes"]["Cyclist"]["clear"]
    assert round(clear["sAMOTA"], 4) == 0.7294
    assert "Cyclist" in capsys.readouterr().out


def test_cli_2d_similarity_uses_trackeval_kitti_hota_rule(
    shared_data: Path, tmp_path: Path
) -> None:
    """With image boxes, HOTA ties tracker boxes to ground truth at 2D IoU >= 0.5 (TrackEval's
    KITTI rule), and metrics.json records it; the 3D protocol keeps 0.25."""
    root = shared_data / "kitti_tracking"
    for similarity, iou, expected in (("iou_2d", "0.5", 0.5), ("iou_3d", "0.25", 0.25)):
        out = tmp_path / similarity
        rc = main(
            [
                "eval", "tracking", "--kitti-root", str(root), "--split", "val", "--classes", "Car",
                "--results", str(root / "reference_outputs" / "ab3dmot_2020"), "--out", str(out),
                "--similarity", similarity, "--iou", iou, "--quiet",
            ]
        )  # fmt: skip
        assert rc == 0
        report = json.loads((out / "metrics.json").read_text())
        assert report["metrics"][f"iou_{iou}"]["protocol"]["hota_match_threshold"] == expected


#: Floors for the shipped configuration on val (IoU 0.25), a little under what it measured
#: when they were set (sAMOTA Car 0.9676, Pedestrian 0.8154, Cyclist 0.9629; Car HOTA 0.7502
#: and 1 ID switch; Pedestrian 0.8172 with the learned track scorer); AB3DMOT's 2020 result
#: files: 0.9328 / 0.7439 / 0.7294.
VAL_FLOORS = {"Car": 0.96, "Pedestrian": 0.81, "Cyclist": 0.95}


@pytest.mark.slow
def test_cli_runs_the_tracker_and_writes_kitti_files(shared_data: Path, tmp_path: Path) -> None:
    root = shared_data / "kitti_tracking"
    classes = ",".join(VAL_FLOORS)
    args = ["eval", "tracking", "--kitti-root", str(root), "--split", "val", "--classes", classes]
    assert main([*args, "--out", str(tmp_path), "--quiet"]) == 0
    for cls in VAL_FLOORS:
        assert len(sorted((tmp_path / "data" / cls).glob("*.txt"))) == 11
    report = json.loads((tmp_path / "metrics.json").read_text())
    assert report["config"]["classes"]["cyclist"]["association"]["metric"]
    assert report["throughput"]["Cyclist"]["frames"] == 3908  # frames of the 11 val sequences
    # the tracker's own output re-evaluated from disk gives the very same figures (the result
    # files keep every digit of the scores: a tie between track scores stays a tie)
    again_dir = tmp_path / "re"
    assert (
        main([*args, "--results", str(tmp_path / "data"), "--out", str(again_dir), "--quiet"]) == 0
    )
    again = json.loads((again_dir / "metrics.json").read_text())
    for cls, floor in VAL_FLOORS.items():
        ran = report["metrics"]["iou_0.25"]["classes"][cls]
        read = again["metrics"]["iou_0.25"]["classes"][cls]
        assert ran == read
        assert ran["clear"]["sAMOTA"] > floor, cls
    car = report["metrics"]["iou_0.25"]["classes"]["Car"]
    assert car["hota"]["HOTA"] > 0.745
    assert car["clear"]["best"]["IDS"] <= 1


def test_cli_missing_results_is_an_error(shared_data: Path, tmp_path: Path) -> None:
    root = shared_data / "kitti_tracking"
    (tmp_path / "res" / "Car").mkdir(parents=True)
    rc = main(
        [
            "eval",
            "tracking",
            "--kitti-root",
            str(root),
            "--classes",
            "Car",
            "--results",
            str(tmp_path / "res"),
            "--out",
            str(tmp_path / "o"),
            "--quiet",
        ]
    )
    assert rc == 2  # bad input: one line, exit 2, as every command
