"""KITTI tracking result files as the devkit reads them (:func:`read_tracking_results`): a row
without score scores -1, frame and track id are exact 64-bit integers, 3D sizes checked for
3D IoU; :func:`read_split_seqmap` reads only the seqmaps a split needs."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from drivestack.core.errors import DataError
from drivestack.ingest.kitti_tracking import (
    parse_id_columns,
    read_split_seqmap,
    read_tracking_labels,
    read_tracking_results,
)

BOX = "0 0 0.0 100 100 300 300 1.5 1.8 4.5 5.0 1.6 20.0 0.0"
DONT_CARE = "0 -1 DontCare -1 -1 -10 500 100 600 200 -1 -1 -1 -1000 -1000 -1000 -10"


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "0001.txt"
    path.write_text(text)
    return path


def test_rows_without_score_read_minus_one_row_by_row(tmp_path: Path) -> None:
    path = _write(tmp_path, f"0 1 Car {BOX}\n\n1 1 Car {BOX} 0.75\n2 1 Car {BOX}\n")
    rows, unscored = read_tracking_results(path)
    assert rows.score.tolist() == [-1.0, 0.75, -1.0] and unscored == 2
    empty = tmp_path / "empty.txt"
    empty.write_text("")
    assert read_tracking_results(empty)[1] == 0
    with pytest.raises(DataError, match="expected 17 columns like the first line") as err:
        read_tracking_labels(path)  # labels keep one column count per file
    assert err.value.record == "line 3"


def test_ids_are_exact_int64(tmp_path: Path) -> None:
    big = 2**63 - 1
    text = f"0 {big} Car {BOX} 0.5\n0 {big - 1} Car {BOX} 0.5\n3.0 1e2 Car {BOX} 0.5\n"
    rows, _ = read_tracking_results(_write(tmp_path, text))
    assert rows.frame.dtype == np.int64 and rows.track_id.tolist() == [big, big - 1, 100]
    assert rows.frame.tolist() == [0, 0, 3]


@pytest.mark.parametrize(
    ("ids", "field", "message"),
    [
        ("0 9223372036854775808", "track_id", "does not fit a 64-bit integer"),
        ("0 -9223372036854775809", "track_id", "does not fit a 64-bit integer"),
        ("99999999999999999999 1", "frame", "does not fit a 64-bit integer"),
        ("0 1e20", "track_id", r"beyond 2\^53"),
        ("0 1.5", "track_id", "got 1.5"),
        ("inf 1", "frame", "NaN or infinite"),
    ],
)
def test_ids_that_are_not_exact_int64_are_named(
    tmp_path: Path, ids: str, field: str, message: str
) -> None:
    path = _write(tmp_path, f"0 1 Car {BOX} 0.5\n{ids} Car {BOX} 0.5\n")
    with pytest.raises(DataError, match=message) as err:
        read_tracking_results(path)
    assert (err.value.path, err.value.record, err.value.field) == (str(path), "line 2", field)


@settings(max_examples=50, deadline=None)
@given(st.lists(st.integers(0, 2**63 - 1), min_size=1, max_size=5))
def test_parse_id_columns_is_exact_for_any_int64(values: list[int]) -> None:
    rows = [[str(v), str(v), "Car"] for v in values]
    ids = parse_id_columns(rows, path="x", line_numbers=list(range(1, len(rows) + 1)))
    assert ids[:, 1].tolist() == values


def test_require_box3d_names_line_and_field(tmp_path: Path) -> None:
    good = f"0 1 Car {BOX} 0.5\n{DONT_CARE}\n"
    rows, _ = read_tracking_results(_write(tmp_path, good), require_box3d=True)
    assert len(rows) == 2  # DontCare's -1 sizes are fine
    flat = good + f"1 1 Car {BOX.replace(' 4.5 ', ' -0.0 ')} 0.5\n"
    with pytest.raises(DataError, match=r"is not positive: no box to score under 3D IoU$") as err:
        read_tracking_results(_write(tmp_path, flat), require_box3d=True)
    assert (err.value.record, err.value.field) == ("line 3", "l")
    read_tracking_results(_write(tmp_path, flat))  # without 3D IoU the row is kept


def test_split_seqmaps_read_only_what_the_split_needs(tmp_path: Path) -> None:
    (tmp_path / "seqmaps").mkdir()
    (tmp_path / "seqmaps" / "evaluate_tracking.seqmap.val").write_text("0001 empty 0 5\n")
    assert [e.name for e in read_split_seqmap(tmp_path, "val")] == ["0001"]
    with pytest.raises(DataError, match="file not found") as err:
        read_split_seqmap(tmp_path, "training")
    assert "needs both" not in str(err.value)
    with pytest.raises(DataError, match="training seqmap's sequences less the val") as err:
        read_split_seqmap(tmp_path, "train")
    assert err.value.path is not None and err.value.path.endswith("seqmap.training")
