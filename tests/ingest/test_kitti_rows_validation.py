"""KITTI object/tracking rows: value ranges of the real formats, NaN scores, ids, duplicates."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from drivestack.core.errors import DataError
from drivestack.ingest.kitti_format import KittiObjects, objects_to_boxes
from drivestack.ingest.kitti_object import read_kitti_label
from drivestack.ingest.kitti_tracking import read_ab3dmot_detections, read_tracking_labels

CAR = "Car 0.00 0 -1.57 100 150 200 250 1.5 1.6 3.9 1.0 1.7 20.0 -1.55"
TRK = "0 3 Car 0 0 -1.57 100 150 200 250 1.5 1.6 3.9 1.0 1.7 20.0 -1.55"
DONT_CARE_TRK = "0 -1 DontCare -1 -1 -10 1 2 3 4 -1 -1 -1 -1000 -1000 -1000 -10"
DET = "0,2,100,150,200,250,0.9,1.5,1.6,3.9,1.0,1.7,20.0,-1.55,-1.6"


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "0000.txt"
    path.write_text(text)
    return path


@pytest.mark.parametrize(
    ("row", "field", "message"),
    [
        (CAR.replace("0.00 0", "0.00 7"), "occluded", "integer -1 .* got 7"),
        (CAR.replace("0.00 0", "0.00 0.5"), "occluded", "got 0.5"),
        (
            CAR.replace("0.00 0", "1.70 0"),
            "truncated",
            r"\[0, 1\] or the tracking level 2, got 1.7",
        ),
        (CAR.replace("0.00 0", "-0.50 0"), "truncated", "got -0.5"),
        (CAR + " nan", "score", "NaN or infinite"),
        (CAR.replace("Car", "Bus"), "type", "unknown KITTI type 'Bus'"),
    ],
)
def test_object_rows_outside_the_format_are_errors(
    tmp_path: Path, row: str, field: str, message: str
) -> None:
    path = _write(tmp_path, CAR + "\n" + row + "\n")
    with pytest.raises(DataError, match=message) as err:
        read_kitti_label(path)
    assert (err.value.path, err.value.record, err.value.field) == (str(path), "line 2", field)
    assert "np." not in str(err.value)


def test_object_visibility_values_of_the_real_formats_read(tmp_path: Path) -> None:
    # a fraction, and the tracking level 2 of object-format rows cut from tracking labels
    rows = [CAR.replace("0.00 0", "0.37 3"), CAR.replace("0.00 0", "2 2")]
    dont_care = "DontCare -1 -1 -10 1 2 3 4 -1 -1 -1 -1000 -1000 -1000 -10"
    objs = read_kitti_label(_write(tmp_path, "\n".join([*rows, dont_care]) + "\n"))
    assert objs.truncation.tolist() == [0.37, 2.0, -1.0]
    assert objs.occlusion.tolist() == [3, 2, -1]


def test_column_count_error_names_the_line_not_a_field(tmp_path: Path) -> None:
    path = _write(tmp_path, "Car 0\n")
    with pytest.raises(DataError) as err:
        read_kitti_label(path)
    assert str(err.value) == f"{path}: line 1: expected 15 or 16 columns (the last a score), got 2"


def test_score_rule_nan_only_for_a_missing_score_column(tmp_path: Path) -> None:
    labels = read_tracking_labels(_write(tmp_path, TRK + "\n"))  # 17 columns: no score
    assert np.isnan(labels.score[0])
    assert objects_to_boxes(labels, None).score.tolist() == [1.0]
    with pytest.raises(DataError, match="line 1: field score: NaN or infinite"):
        read_tracking_labels(_write(tmp_path, TRK + " nan\n"))


def test_tracking_truncation_uses_the_label_levels_0_1_2(tmp_path: Path) -> None:
    text = "\n".join([TRK, TRK.replace(" 3 Car 0", " 4 Car 2"), DONT_CARE_TRK]) + "\n"
    labels = read_tracking_labels(_write(tmp_path, text))
    assert labels.truncation.tolist() == [0.0, 2.0, -1.0]
    with pytest.raises(DataError, match=r"tracking level 2, got 3") as err:
        read_tracking_labels(_write(tmp_path, TRK.replace(" 3 Car 0", " 3 Car 3") + "\n"))
    assert err.value.field == "truncated"


@pytest.mark.parametrize(
    ("row", "field", "message"),
    [
        (TRK.replace("0 3 Car", "0 1.5 Car"), "track_id", "got 1.5"),
        (TRK.replace("0 3 Car", "0 -7 Car"), "track_id", "got -7"),
        (TRK.replace("0 3 Car", "0 -1 Car"), "track_id", "-1 only for DontCare"),
        (TRK.replace("0 3 Car", "2.5 3 Car"), "frame", "got 2.5"),
    ],
)
def test_tracking_ids_must_be_integers(tmp_path: Path, row: str, field: str, message: str) -> None:
    with pytest.raises(DataError, match=message) as err:
        read_tracking_labels(_write(tmp_path, row + "\n"))
    assert (err.value.record, err.value.field) == ("line 1", field)


def test_duplicate_frame_and_track_id_names_both_lines(tmp_path: Path) -> None:
    text = "\n".join([TRK, TRK.replace(" 3 Car", " 4 Car"), DONT_CARE_TRK, DONT_CARE_TRK, TRK])
    with pytest.raises(DataError, match=r"frame 0 track_id 3 given twice \(lines 1 and 5\)") as err:
        read_tracking_labels(_write(tmp_path, text + "\n"))
    assert err.value.field == "track_id"


@pytest.mark.parametrize(
    ("row", "field", "message"),
    [
        (DET.replace("0,2,", "0,2.5,"), "type_id", "unknown type_id 2.5"),
        (DET.replace("0,2,", "1.5,2,"), "frame", "got 1.5"),
        (DET.replace("0,2,", "-1,2,"), "frame", "got -1"),
    ],
)
def test_ab3dmot_detection_ids_must_be_integers(
    tmp_path: Path, row: str, field: str, message: str
) -> None:
    with pytest.raises(DataError, match=message) as err:
        read_ab3dmot_detections(_write(tmp_path, DET + "\n" + row + "\n"))
    assert (err.value.record, err.value.field) == ("line 2", field)


def test_object_classes_error_uses_a_plain_type_name() -> None:
    objs = KittiObjects(
        type_name=np.array(["Bus"]),
        truncation=[0.0],
        occlusion=[0],
        alpha_rad=[0.0],
        box2d_xyxy_px=np.zeros((1, 4)),
        hwl_m=np.ones((1, 3)),
        location_m=np.ones((1, 3)),
        rotation_y_rad=[0.0],
    )
    with pytest.raises(DataError, match=r"unknown KITTI type 'Bus';"):
        objs.object_classes()


@pytest.mark.data
def test_every_real_label_and_result_file_still_reads(shared_data: Path) -> None:
    n = 0
    for path in shared_data.glob("kitti_object/**/label_2/*.txt"):
        read_kitti_label(path)
        n += 1
    for path in shared_data.glob("kitti_tracking/training/label_02/*.txt"):
        read_tracking_labels(path)
        n += 1
    for path in shared_data.glob("kitti_tracking/reference_outputs/*/*/*.txt"):
        read_tracking_labels(path)
        n += 1
    for path in shared_data.glob("kitti_tracking/detections/ab3dmot_pointrcnn/*/*.txt"):
        read_ab3dmot_detections(path)
        n += 1
    assert n >= 200
