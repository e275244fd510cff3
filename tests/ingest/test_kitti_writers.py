"""KITTI label and tracking-result writers write only what their readers accept."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from drivestack.ingest.kitti_format import KittiObjects, boxes_to_objects
from drivestack.ingest.kitti_object import read_kitti_label, write_kitti_label
from drivestack.ingest.kitti_tracking import read_tracking_labels, write_tracking_results
from drivestack.structures.boxes import Boxes3D
from drivestack.structures.labels import ObjectClass

ZUP = "camera_rect_zup"


def _objects(n: int = 2) -> KittiObjects:
    boxes = Boxes3D.from_array7(
        [[10.0 + i, 1.0, 0.8, 3.9, 1.6, 1.5, 0.2] for i in range(n)],
        ZUP,
        score=[0.9] * n,
        label=[ObjectClass.CAR] * n,
    )
    return boxes_to_objects(boxes, None, box2d_xyxy_px=np.tile([1.0, 2.0, 30.0, 40.0], (n, 1)))


def _with(objs: KittiObjects, attr: str, row: int, value: object) -> KittiObjects:
    values = np.array(getattr(objs, attr))
    values[row] = value
    return replace(objs, **{attr: values})


@pytest.mark.parametrize(
    ("attr", "value", "field"),
    [
        ("location_m", [np.nan, 1.0, 2.0], "x"),
        ("type_name", "Bus", "type"),
        ("type_name", "Dont Care", "type"),
        ("score", np.nan, "score"),
        ("occlusion", 7, "occluded"),
        ("hwl_m", [1.0, -2.0, 3.0], "h w l"),
    ],
)
def test_label_writer_rejects_rows_the_reader_rejects(
    tmp_path: Path, attr: str, value: object, field: str
) -> None:
    objs = _with(_objects(), attr, 1, value)
    path = tmp_path / "out" / "000000.txt"
    with pytest.raises(ValueError, match=f"^row 1: field {field}: "):
        write_kitti_label(path, objs)
    assert not path.exists()


def test_label_writer_without_score_ignores_a_nan_score(tmp_path: Path) -> None:
    objs = replace(_objects(), score=np.full(2, np.nan))
    write_kitti_label(tmp_path / "a.txt", objs, with_score=False)
    assert len(read_kitti_label(tmp_path / "a.txt")) == 2


def _tracked(n: int = 2) -> KittiObjects:
    return replace(_objects(n), frame=np.arange(n), track_id=np.full(n, 5))


def test_tracking_writer_rejects_ids_left_at_minus_one(tmp_path: Path) -> None:
    path = tmp_path / "0000.txt"
    with pytest.raises(ValueError, match=r"^row 0: field frame: .*got -1"):
        write_tracking_results(path, _objects())  # boxes_to_objects leaves frame/track_id -1
    with pytest.raises(ValueError, match=r"^row 1: field track_id: .*got -1"):
        write_tracking_results(path, _with(_tracked(), "track_id", 1, -1))
    assert not path.exists()


def test_tracking_writer_rejects_duplicates_naming_the_callers_rows(tmp_path: Path) -> None:
    objs = replace(_tracked(3), frame=np.array([4, 0, 4]))
    with pytest.raises(ValueError, match=r"track_id 5 given twice \(rows 0 and 2\)"):
        write_tracking_results(tmp_path / "0000.txt", objs)


def test_tracking_writer_rejects_nan_among_scored_rows(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"^row 1: field score: NaN"):
        write_tracking_results(tmp_path / "0000.txt", _with(_tracked(), "score", 1, np.nan))


def test_tracking_labels_write_back_as_labels(tmp_path: Path) -> None:
    text = (
        "0 3 Car 2 1 -1.57 100 150 200 250 1.5 1.6 3.9 1.0 1.7 20.0 -1.55\n"
        "0 -1 DontCare -1 -1 -10 1 2 3 4 -1 -1 -1 -1000 -1000 -1000 -10\n"
    )
    (tmp_path / "in.txt").write_text(text)
    labels = read_tracking_labels(tmp_path / "in.txt")
    write_tracking_results(tmp_path / "out.txt", labels)
    lines = (tmp_path / "out.txt").read_text().splitlines()
    assert [len(line.split()) for line in lines] == [17, 17]  # no `nan` score column
    back = read_tracking_labels(tmp_path / "out.txt")
    assert back.track_id.tolist() == [-1, 3] and back.truncation.tolist() == [-1.0, 2.0]
    assert np.all(np.isnan(back.score))


def test_tracking_results_round_trip(tmp_path: Path) -> None:
    objs = _tracked()
    write_tracking_results(tmp_path / "0000.txt", objs)
    back = read_tracking_labels(tmp_path / "0000.txt")
    np.testing.assert_allclose(back.location_m, objs.location_m, atol=1e-6)
    assert back.score.tolist() == pytest.approx([0.9, 0.9])
