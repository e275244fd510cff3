"""Reader details a review found: DontCare in any case, tuples in submissions."""

from __future__ import annotations

from pathlib import Path

from drivestack.ingest.kitti_format import is_dont_care
from drivestack.ingest.kitti_tracking import read_tracking_labels, tracking_label_ids
from drivestack.ingest.nuscenes import read_submission, write_submission

LABELS = (
    "0 3 Car 0 0 -1.8 296.7 161.3 455.2 292.4 1.5 1.6 3.7 -4.5 1.6 13.5 -2.1\n"
    "0 -1 dontcare -1 -1 -10 100.0 150.0 200.0 200.0 -1 -1 -1 -1000 -1000 -1000 -10\n"
)


def test_dont_care_in_any_case_is_dropped_from_boxes_and_ids(tmp_path: Path) -> None:
    path = tmp_path / "0000.txt"
    path.write_text(LABELS)
    rows = read_tracking_labels(path)
    assert is_dont_care(rows.type_name).tolist() == [False, True]
    assert tracking_label_ids(rows) == ("3",)


def test_a_submission_built_with_tuples_is_written(tmp_path: Path) -> None:
    box = {
        "sample_token": "t",
        "translation": (1.0, 2.0, 3.0),
        "size": (1.9, 4.5, 1.6),
        "rotation": (1.0, 0.0, 0.0, 0.0),
        "velocity": (0.0, 0.0),
        "detection_name": "car",
        "detection_score": 0.5,
        "attribute_name": "vehicle.parked",
    }
    write_submission(tmp_path / "sub.json", {"t": [box]})
    assert len(read_submission(tmp_path / "sub.json")["t"]) == 1
