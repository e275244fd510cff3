"""KITTI tracking inputs as a user with their own detector writes them (a report-only review):
track ids reused across classes in one results file (legal for the devkit), a detection box of
negative size, detection rows past the sequence's end or of another class than their file's."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pytest

from drivestack.cli import main
from drivestack.core.errors import DataError
from drivestack.ingest.kitti_tracking import (
    check_frame_track_ids,
    read_ab3dmot_detections,
    read_class_detections,
)

DET_ROW = "0,2,458.0,182.4,568.6,217.0,12.74,1.41,1.64,4.47,-4.12,1.83,30.82,0.04,0.17"


def test_a_track_id_may_repeat_across_classes_the_devkit_reads_apart() -> None:
    """Was: 'frame 0 track_id 3 given twice' for a Cyclist and a Car sharing id 3 in one file
    (per-class trackers each counting from 1); the devkit reads Car with Van, Pedestrian with
    Person_sitting, Cyclist alone, and checks ids within what it read."""
    ids = np.array([[0, 3], [0, 3], [0, 1], [0, 1]])
    check_frame_track_ids(ids, np.array(["Car", "Cyclist", "Pedestrian", "Truck"]),
                          path="r.txt", line_numbers=[1, 2, 3, 4])  # fmt: skip
    with pytest.raises(DataError, match=r"r\.txt: line 2: field track_id: frame 0 track_id 3"):
        check_frame_track_ids(ids[:2], np.array(["Car", "Van"]), path="r.txt", line_numbers=[1, 2])
    with pytest.raises(DataError, match="given twice"):
        check_frame_track_ids(ids[2:], np.array(["pedestrian", "Person_sitting"]),
                              path="r.txt", line_numbers=[3, 4])  # fmt: skip


@pytest.mark.data
def test_one_results_file_with_ids_reused_across_classes_scores_as_per_class_files(
    shared_data: Path, tmp_path: Path
) -> None:
    labels = (shared_data / "kitti_tracking/training/label_02/0012.txt").read_text().splitlines()
    renumbered, ids = [], {}  # each class's tracks numbered from 1, as per-class trackers do
    for line in labels:
        f = line.split()
        if f[2] in ("Car", "Pedestrian", "Cyclist"):
            per_class = ids.setdefault(f[2], {})
            f[1] = str(per_class.setdefault(f[1], len(per_class) + 1))
            renumbered.append(" ".join([*f, "1.0"]))
    assert len(ids) > 1  # ids 1.. taken by two classes at least
    (tmp_path / "res").mkdir()
    (tmp_path / "res" / "0012.txt").write_text("\n".join(renumbered) + "\n")
    out = tmp_path / "out"
    argv = ["eval", "tracking", "--split", "val", "--sequences", "0012", "--classes", "Car"]
    argv += ["--kitti-root", str(shared_data / "kitti_tracking"), "--iou", "0.25"]
    assert main([*argv, "--results", str(tmp_path / "res"), "--out", str(out), "--quiet"]) == 0
    metrics = json.loads((out / "metrics.json").read_text())["metrics"]["iou_0.25"]
    best = metrics["classes"]["Car"]["clear"]["best"]
    assert best["MOTA"] == pytest.approx(1.0) and best["IDS"] == 0 and best["TP"] > 0


def test_a_detection_box_of_negative_size_names_file_line_and_field(tmp_path: Path) -> None:
    """Was: 'Boxes3D.size_m must be non-negative (row 5)', naming no file nor line."""
    path = tmp_path / "0000.txt"
    bad = DET_ROW.split(",")
    bad[9] = "-4.0"  # l
    path.write_text("\n".join([DET_ROW, DET_ROW, ",".join(bad)]) + "\n")
    with pytest.raises(DataError) as info:
        read_ab3dmot_detections(path)
    assert str(info.value) == f"{path}: line 3: field l: box dimension -4 m is negative"


def test_detection_rows_past_the_sequence_or_of_another_class_are_left_out_and_said(
    tmp_path: Path,
) -> None:
    """Was: rows past the last frame dropped silently, and Pedestrian rows in the Car file
    blamed on the tracker config ('the tracker config has no classes entry for them')."""
    folder = tmp_path / "detections" / "mine" / "pointrcnn_Car_val"
    folder.mkdir(parents=True)
    late = DET_ROW.replace("0,2,", "500,2,", 1)
    ped = DET_ROW.replace("0,2,", "3,1,", 1)
    (folder / "0000.txt").write_text("\n".join([DET_ROW, late, ped, ped]) + "\n")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        rows = read_class_detections(tmp_path, "Car", "0000", 78, "mine")
    assert len(rows) == 1 and rows.frame.tolist() == [0]
    messages = sorted(str(w.message) for w in caught)
    assert messages[0].endswith(
        "0000.txt: 1 row(s) past the sequence's last frame 77, left out (the first: a Car in "
        "frame 500, data row 2)"
    )
    assert messages[1].endswith(
        "0000.txt: 2 row(s) of another class than Car, left out (the first: a Pedestrian in "
        "frame 3, data row 3)"
    )
