"""``drivestack eval detection2d`` and its readers after a review: reversed label / result
boxes refused, class names in any case, repeated or unmatchable --iou thresholds refused,
detection rows past a sequence's end refused (exit 2, one line naming file, line and field)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from drivestack.cli import main as cli_main
from drivestack.core.errors import DataError
from drivestack.ingest.kitti_object import read_kitti_label
from drivestack.perception.camera.replay import ReplayCameraDetector, read_2d_detections
from tests.eval.test_eval_detection2d_args import error_line

CAR = "Car 0.00 0 0.0 100 100 200 160 1.5 1.6 4.0 1 1 10 0"
DONTCARE = "DontCare -1 -1 -10 400 100 600 200 -1 -1 -1 -1000 -1000 -1000 -10"


@pytest.mark.parametrize(
    ("box", "field"),
    [("200 100 100 160", "x2"), ("100 160 200 100", "y2"), ("200 160 100 100", "x2")],
)
def test_reversed_boxes_are_refused_naming_file_line_and_field(
    tmp_path: Path, box: str, field: str
) -> None:
    for suffix in ("", " 0.9"):  # a label row and a result row
        path = tmp_path / "000000.txt"
        path.write_text(f"{CAR}\nCar 0.00 0 0.0 {box} 1.5 1.6 4.0 1 1 10 0{suffix}\n")
        with pytest.raises(DataError) as err:
            read_kitti_label(path)
        assert str(err.value).startswith(f"{path}: line 2: field {field}: image box has x2 < x1")


def test_dontcare_placeholder_and_degenerate_boxes_still_read(tmp_path: Path) -> None:
    path = tmp_path / "000000.txt"
    path.write_text(
        f"{CAR}\nDontCare -1 -1 -10 -1 -1 -1 -1 -1 -1 -1 -1000 -1000 -1000 -10\n"
        "Car 0.00 0 0.0 100 100 100 160 1.5 1.6 4.0 1 1 10 0\n"  # zero width: not reversed
    )
    assert len(read_kitti_label(path)) == 3


def _folders(tmp_path: Path, labels: list[str], results: list[str]) -> list[str]:
    lab, res = tmp_path / "lab", tmp_path / "res"
    lab.mkdir()
    res.mkdir()
    (lab / "000000.txt").write_text("\n".join(labels) + "\n")
    (res / "000000.txt").write_text("\n".join(results) + "\n")
    return ["eval", "detection2d", "--labels", str(lab), "--results", str(res), "--quiet"]


def test_class_names_in_any_case_score_alike(tmp_path: Path) -> None:
    # `car` results on `Car` labels, a `Car` box inside a `dontcare` region: AP 1, nothing lost
    argv = _folders(
        tmp_path,
        [CAR.replace("Car", "car"), DONTCARE.replace("DontCare", "dontcare")],
        [CAR.replace("Car", "car") + " 0.9", "Car -1 -1 -10 450 120 480 150 -1 -1 -1 -1000 -1000 -1000 -10 0.95"],
    )  # fmt: skip
    out = tmp_path / "out"
    assert cli_main([*argv, "--classes", "Car", "--iou", "0.5", "--out", str(out)]) == 0
    row = json.loads((out / "metrics.json").read_text())["classes"]["Car"]["iou_0.5"]
    assert (row["ap"], row["n_gt"], row["n_tp"], row["n_fp"], row["n_ignored"]) == (1, 1, 1, 0, 1)


@pytest.mark.parametrize(
    ("iou", "message"),
    [
        ("0.5,0.5", "field --iou: threshold 0.5 given more than once in '0.5,0.5'"),
        ("0.5,0.7,0.50", "field --iou: threshold 0.5 given more than once"),
        ("1", "field --iou: IoU thresholds must be in (0, 1) (a match needs IoU above"),
        ("0", "field --iou: IoU thresholds must be in (0, 1) (a match needs IoU above"),
        ("0.5,1.5", "field --iou: IoU thresholds must be in (0, 1)"),
    ],
)
def test_repeated_or_unmatchable_thresholds_are_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], iou: str, message: str
) -> None:
    argv = _folders(tmp_path, [CAR], [CAR + " 0.9"])
    assert cli_main([*argv, "--iou", iou, "--out", str(tmp_path / "out")]) == 2
    assert message in error_line(capsys)
    assert not (tmp_path / "out").exists()


def test_detection_rows_past_the_sequence_end_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "Car" / "0001.txt"
    path.parent.mkdir()
    path.write_text("0,1,1,20,20,0.9\n4,1,1,20,20,0.8\n")
    assert read_2d_detections(path, 1, n_frames=5).frame.tolist() == [0, 4]
    with pytest.raises(DataError) as err:
        read_2d_detections(path, 1, n_frames=4)
    assert str(err.value) == (
        f"{path}: line 2: field frame: frame 4 is past the sequence's last frame 3 (4 frames): "
        "a file of another sequence?"
    )
    with pytest.raises(DataError, match="line 2: field frame: frame 4 is past"):
        ReplayCameraDetector.rrc_kitti(tmp_path, "0001", ("Car",), n_frames=4)


@pytest.mark.data
def test_tracking_mode_refuses_rows_past_the_sequence_end(
    shared_data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    src = shared_data / "kitti_tracking"
    root = tmp_path / "kitti_tracking"
    (root / "training").mkdir(parents=True)
    (root / "seqmaps").mkdir()
    (root / "training" / "label_02").symlink_to(src / "training" / "label_02")
    (root / "seqmaps" / "evaluate_tracking.seqmap.val").write_text("0006 empty 000000 000270\n")
    det = root / "detections" / "rrc" / "training" / "Car"
    det.mkdir(parents=True)
    (det / "0006.txt").write_text("0,100,100,200,160,0.9\n270,100,100,200,160,0.9\n")
    argv = ["eval", "detection2d", "--kitti-tracking-root", str(root), "--detections", "rrc"]
    assert cli_main([*argv, "--classes", "Car", "--out", str(tmp_path / "o"), "--quiet"]) == 2
    line = error_line(capsys)
    assert (
        "Car/0006.txt: line 2: field frame: frame 270 is past the sequence's last frame 269" in line
    )
