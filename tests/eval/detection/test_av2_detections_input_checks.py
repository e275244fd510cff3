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


def test_a_detections_table_without_score_is_refused(tmp_path: Path) -> None:
    import pyarrow.feather as feather

    from drivestack.eval.detection.run import read_av2_detections

    path = _write(tmp_path / "d.feather", [_row(), _row(tx_m=5.0)])
    table = feather.read_table(str(path)).drop_columns(["score"])
    feather.write_feather(table, str(path))
    assert read_av2_cuboids(path).score.tolist() == [1.0, 1.0]  # labels: score 1
    with pytest.raises(DataError, match="no score column") as err:
        read_av2_detections(path)
    assert (err.value.path, err.value.field) == (str(path), "score")


@pytest.mark.data
def test_eval_refuses_a_table_without_score(
    shared_data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import pyarrow.feather as feather

    root = shared_data / "argoverse2" / "sensor" / "val"
    path = _write(tmp_path / "d.feather", _perfect_copy(root))
    feather.write_feather(feather.read_table(str(path)).drop_columns(["score"]), str(path))
    out = tmp_path / "out"
    args = ["eval", "detection", "--dataset", "av2", "--root", str(root), "--quiet"]
    assert main([*args, "--out", str(out), "--detections", str(path)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith(f"error: {path}: field score: no score column")
    assert not out.exists()


@pytest.mark.data
def test_timestamps_off_the_labelled_sweeps_warn_per_log_or_are_refused(
    shared_data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import json

    root = shared_data / "argoverse2" / "sensor" / "val"
    rows = _perfect_copy(root)
    logs = sorted({str(r["log_id"]) for r in rows})
    assert len(logs) == 2
    base = ["eval", "detection", "--dataset", "av2", "--root", str(root), "--quiet"]
    base += ["--av2-categories", "official"]

    def in_us(row: dict[str, object]) -> dict[str, object]:
        return row | {"timestamp_ns": int(row["timestamp_ns"]) // 1000}  # type: ignore[call-overload]

    # every row in microseconds: nothing would be scored -> refused, the unit guessed
    every = _write(tmp_path / "us.feather", [in_us(r) for r in rows])
    out = tmp_path / "us"
    assert main([*base, "--out", str(out), "--detections", str(every)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith(f"error: {every}: row 0: field timestamp_ns: no row of the 2 ")
    assert "nanoseconds" in err[-1] and "looks like microseconds" in err[-1]
    assert not out.exists()
    # one log's rows in microseconds: a warning naming the file, the log and its row count
    one = [in_us(r) if r["log_id"] == logs[0] else r for r in rows]
    path = _write(tmp_path / "one.feather", one)
    out = tmp_path / "one"
    assert main([*base, "--out", str(out), "--detections", str(path)]) == 0
    count = sum(r["log_id"] == logs[0] for r in rows)
    warning = [line for line in capsys.readouterr().err.splitlines() if logs[0] in line]
    assert len(warning) == 1
    assert warning[0].startswith(f"warning: {path}: none of the {count} row(s) of log {logs[0]}")
    assert "looks like microseconds" in warning[0]
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["loader_warnings"] == [warning[0].removeprefix("warning: ")]
    # the other log's labels are found (AP > 0), the first log's missed
    assert metrics["metrics"]["summary"]["REGULAR_VEHICLE"]["AP"] > 0
