"""An AV2 ``--detections`` table is checked like the nuScenes and KITTI ones: a NaN score and
a category that is neither an AV2 category nor a drivestack group name are refused (one line
naming the file, row and field, exit status 2, nothing scored), and a NaN position, a zero
quaternion or a negative size name their column."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from drivestack.cli import main
from drivestack.core.errors import DataError
from drivestack.ingest.argoverse2 import read_av2_cuboids

_NUMBERS = ("tx_m", "ty_m", "tz_m", "length_m", "width_m", "height_m", "qw", "qx", "qy", "qz")


def _write(path: Path, rows: list[dict[str, object]]) -> Path:
    import pyarrow as pa
    import pyarrow.feather as feather

    schema = pa.schema(
        [("log_id", pa.string()), ("timestamp_ns", pa.int64()), ("category", pa.string())]
        + [(c, pa.float64()) for c in (*_NUMBERS, "score")]
    )
    feather.write_feather(pa.Table.from_pylist(rows, schema=schema), str(path))
    return path


def _row(**change: object) -> dict[str, object]:
    row: dict[str, object] = {"log_id": "log", "timestamp_ns": 1, "category": "REGULAR_VEHICLE"}
    row |= {k: 0.0 for k in _NUMBERS} | {"length_m": 4.0, "width_m": 2.0, "height_m": 1.5}
    row |= {"qw": 1.0, "score": 0.9}
    return row | change


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"score": float("nan")}, "score", "NaN or infinite value"),
        ({"tx_m": float("nan")}, "tx_m", "NaN or infinite value"),
        ({"height_m": float("inf")}, "height_m", "NaN or infinite value"),
        ({"qw": 0.0}, "qw/qx/qy/qz", "zero quaternion"),
        ({"width_m": -1.0}, "width_m", "negative size -1"),
    ],
)
def test_reader_names_row_and_column(
    tmp_path: Path, change: dict[str, object], field: str, message: str
) -> None:
    path = _write(tmp_path / "d.feather", [_row(), _row(**change)])
    with pytest.raises(DataError, match=message) as err:
        read_av2_cuboids(path)
    assert (err.value.path, err.value.record, err.value.field) == (str(path), "row 1", field)


def _perfect_copy(root: Path) -> list[dict[str, object]]:
    """The labels of the AV2 sweeps as a detections table (score 1)."""
    import pyarrow.feather as feather

    from drivestack.eval.detection.datasets import labelled_frames

    keys = [lf.key for lf in labelled_frames("av2", root, load_points=False)]
    rows = []
    for log in sorted({k.split("/")[0] for k in keys}):
        stamps = {int(k.split("/")[1]) for k in keys if k.startswith(log)}
        for r in feather.read_table(str(root / log / "annotations.feather")).to_pylist():
            if r["timestamp_ns"] in stamps:
                rows.append({"log_id": log, **{k: r[k] for k in ("timestamp_ns", "category")},
                             **{k: r[k] for k in _NUMBERS}, "score": 1.0})  # fmt: skip
    return rows


@pytest.mark.data
@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"score": float("nan")}, "score", "NaN or infinite value"),
        ({"category": "CAR"}, "category", "unknown category 'CAR'"),
    ],
)
def test_eval_refuses_nan_score_and_unknown_category(
    shared_data: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    change: dict[str, object],
    field: str,
    message: str,
) -> None:
    root = shared_data / "argoverse2" / "sensor" / "val"
    rows = _perfect_copy(root)
    good = _write(tmp_path / "good.feather", rows)
    bad = _write(tmp_path / "bad.feather", [rows[0] | change, *rows[1:]])
    base = ["eval", "detection", "--dataset", "av2", "--root", str(root), "--quiet"]
    assert main([*base, "--out", str(tmp_path / "good"), "--detections", str(good)]) == 0
    capsys.readouterr()
    out = tmp_path / "bad"
    assert main([*base, "--out", str(out), "--detections", str(bad)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith(f"error: {bad}: row 0: field {field}: {message}")
    assert not out.exists()
    # group names are accepted (drivestack's own category names)
    groups = _write(tmp_path / "groups.feather", [rows[0] | {"category": "vehicle"}])
    assert not np.isnan(read_av2_cuboids(groups).score).any()
    assert main([*base, "--out", str(tmp_path / "g"), "--detections", str(groups)]) == 0
