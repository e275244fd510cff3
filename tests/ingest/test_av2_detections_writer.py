"""AV2 detections: drivestack boxes -> native categories -> Feather -> the reader that
``eval detection --dataset av2 --detections`` uses, unchanged; bad arguments named."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from drivestack.core.errors import DataError
from drivestack.ingest.argoverse2 import (
    CATEGORY_TO_CLASS,
    CLASS_TO_CATEGORY,
    av2_categories,
    concatenate_cuboids,
    cuboids_from_boxes,
    read_av2_cuboids,
    write_av2_detections,
)
from drivestack.structures.boxes import Boxes3D
from drivestack.structures.labels import ObjectClass

TS = 315_966_265_259_836_000  # not a float64-exact integer: must survive as int64


def _boxes(labels: Sequence[int], ts: int = TS) -> Boxes3D:
    n = len(labels)
    arr = np.column_stack(
        [
            np.linspace(-20.0, 30.0, n),
            np.linspace(5.0, -5.0, n),
            np.full(n, 0.8),
            np.full(n, 4.5),
            np.full(n, 1.9),
            np.full(n, 1.6),
            np.linspace(-3.0, 3.0, n),
        ]
    )
    score = np.linspace(0.9, 0.1, n)
    return Boxes3D.from_array7(arr, "ego", ts, score=score, label=labels)


def test_class_to_category_is_the_inverse_of_the_reader_map() -> None:
    for cls, category in CLASS_TO_CATEGORY.items():
        back = CATEGORY_TO_CLASS[category]
        assert back == cls or (cls, back) == (ObjectClass.VAN, ObjectClass.CAR)
    assert set(CLASS_TO_CATEGORY) == set(ObjectClass) - {ObjectClass.UNKNOWN}
    labels = np.array([ObjectClass.CAR, ObjectClass.UNKNOWN, ObjectClass.CYCLIST, 99])
    assert av2_categories(labels).tolist() == ["REGULAR_VEHICLE", "", "BICYCLIST", ""]


def test_round_trip_through_the_detections_reader(tmp_path: Path) -> None:
    labels = [ObjectClass.CAR, ObjectClass.PEDESTRIAN, ObjectClass.TRUCK, ObjectClass.CYCLIST]
    parts = [
        cuboids_from_boxes(b, log_id=log, category=av2_categories(b.label))
        for b, log in ((_boxes(labels), "log-a"), (_boxes(labels[:2], TS + 100_000_000), "log-b"))
    ]
    table = concatenate_cuboids(parts)
    path = tmp_path / "sub" / "detections.feather"
    write_av2_detections(path, table)
    back = read_av2_cuboids(path)
    assert back.timestamp_ns.dtype == np.int64
    np.testing.assert_array_equal(back.timestamp_ns, table.timestamp_ns)
    assert back.log_id.tolist() == ["log-a"] * 4 + ["log-b"] * 2
    assert back.category.tolist() == table.category.tolist()
    np.testing.assert_allclose(back.boxes, table.boxes, atol=1e-12)
    np.testing.assert_allclose(back.score, table.score)
    np.testing.assert_array_equal(back.to_boxes().label, np.array([*labels, *labels[:2]]))


def test_empty_table_round_trips(tmp_path: Path) -> None:
    write_av2_detections(tmp_path / "none.feather", concatenate_cuboids([]))
    assert len(read_av2_cuboids(tmp_path / "none.feather")) == 0


def test_rows_the_reader_would_refuse_are_not_written(tmp_path: Path) -> None:
    boxes = _boxes([ObjectClass.CAR, ObjectClass.UNKNOWN])
    rows = cuboids_from_boxes(boxes, log_id="log-a", category=av2_categories(boxes.label))
    with pytest.raises(DataError, match="empty category") as err:
        write_av2_detections(tmp_path / "d.feather", rows)
    assert (err.value.record, err.value.field) == ("row 1", "category")
    assert not (tmp_path / "d.feather").exists()


def test_cuboids_from_boxes_names_a_wrong_argument() -> None:
    boxes = _boxes([ObjectClass.CAR] * 3)
    with pytest.raises(ValueError, match=r"category needs one value per box: shape \(3,\)"):
        cuboids_from_boxes(boxes, log_id="x", category=np.array(["x"] * 2))
    with pytest.raises(ValueError, match="num_interior_pts needs one value per box"):
        cuboids_from_boxes(boxes, log_id="x", category=["x"] * 3, num_interior_pts=np.ones(4))
    with pytest.raises(ValueError, match="'ego' frame"):
        cuboids_from_boxes(
            Boxes3D.from_array7(boxes.to_array7(), "world", TS),
            log_id="x",
            category=["x"] * 3,
        )


def test_non_finite_score_is_named_by_column_and_row(tmp_path: Path) -> None:
    from dataclasses import replace

    boxes = _boxes([ObjectClass.CAR] * 3)
    rows = cuboids_from_boxes(boxes, log_id="log-a", category=av2_categories(boxes.label))
    with pytest.raises(DataError, match="NaN or infinite") as err:
        write_av2_detections(tmp_path / "d.feather", replace(rows, score=np.array([1, np.nan, 1])))
    assert (err.value.record, err.value.field) == ("row 1", "score")
