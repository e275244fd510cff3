"""A damaged golden record is a DataError naming the file, the frame and the field; a NaN in
an output never agrees with the reference; ``tools/refresh_golden.py --check`` reports a
damaged or missing reference as a difference (exit status 1), not a traceback."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from drivestack.core.errors import DataError
from drivestack.replay.golden import compare_golden, load_golden
from tests.replay._tools import load_tool

REPO = Path(__file__).resolve().parents[2]
GOLDEN = REPO / "tests" / "golden" / "demo_replay.json"


def _boxes() -> dict[str, Any]:
    return {"label": [1], "box": [[1.0, 2.0, 0.5, 4.0, 1.8, 1.5, 0.1]], "score": [0.5]}


def _record() -> dict[str, Any]:
    return {
        "frames": [
            {"t": 0, "detections": _boxes(), "tracks": {"id": [3], **_boxes()},
             "forecasts": {"id": [3], "end_xy": [[5.0, 2.0]]}},
            {"t": 100, "detections": _boxes()},
        ]
    }  # fmt: skip


def _frame0(record: dict[str, Any]) -> dict[str, Any]:
    return record["frames"][0]


@pytest.mark.parametrize(
    ("damage", "record", "field"),
    [
        (lambda r: r.pop("frames"), None, "frames"),
        (lambda r: r["frames"].__setitem__(0, 5), "frame 0", None),
        (lambda r: _frame0(r).pop("t"), "frame 0", "t"),
        (lambda r: r["frames"][1].__setitem__("t", 0), "frame 1", "t"),  # not increasing
        (lambda r: _frame0(r)["detections"].pop("score"), "frame 0 (t=0) detections", "score"),
        (lambda r: _frame0(r)["detections"]["box"][0].pop(), "frame 0 (t=0) detections", "box"),
        (lambda r: _frame0(r)["detections"]["box"][0].__setitem__(0, float("nan")),
         "frame 0 (t=0) detections", "box"),
        (lambda r: _frame0(r)["tracks"]["score"].append(0.2), "frame 0 (t=0) tracks", "score"),
        (lambda r: _frame0(r)["tracks"]["label"].__setitem__(0, "car"),
         "frame 0 (t=0) tracks", "label"),
        (lambda r: _frame0(r)["forecasts"]["end_xy"].__setitem__(0, [1.0]),
         "frame 0 (t=0) forecasts", "end_xy"),
    ],
)  # fmt: skip
def test_a_damaged_golden_record_names_the_frame_and_field(
    tmp_path: Path, damage, record: str | None, field: str | None
) -> None:
    data = _record()
    damage(data)
    path = tmp_path / "golden.json"
    path.write_text(json.dumps(data))
    with pytest.raises(DataError) as info:
        load_golden(path)
    assert (info.value.path, info.value.record, info.value.field) == (str(path), record, field)


@pytest.mark.parametrize("cut", [0, 1, 200, -2])  # -2: the last byte before the newline
def test_a_truncated_or_non_utf8_golden_file_is_a_data_error(tmp_path: Path, cut: int) -> None:
    raw = GOLDEN.read_bytes()
    path = tmp_path / "golden.json"
    path.write_bytes(raw[:cut] if cut else raw[:10] + b"\xff" + raw[10:])
    with pytest.raises(DataError) as info:
        load_golden(path)
    assert info.value.path == str(path) and "JSON" in str(info.value)


def test_the_shipped_golden_record_loads() -> None:
    assert len(load_golden(GOLDEN)["frames"]) > 10


def test_a_nan_output_never_agrees_with_the_reference() -> None:
    reference = _record()
    current = copy.deepcopy(reference)
    _frame0(current)["detections"]["box"][0][3] = float("nan")
    _frame0(current)["tracks"]["score"][0] = float("nan")
    _frame0(current)["forecasts"]["end_xy"][0][1] = float("nan")
    diffs = compare_golden(current, reference)
    assert len(diffs) == 3, diffs
    assert "detections: box parameters moved by up to nan" in diffs[0] and "length" in diffs[0]
    assert "tracks: scores changed by up to nan" in diffs[1]
    assert "forecasts: end points moved by up to nan" in diffs[2]


def test_the_golden_check_reports_a_damaged_or_missing_reference(tmp_path: Path, capsys) -> None:
    tool = load_tool("refresh_golden")
    golden = tmp_path / "golden.json"
    assert tool.reference_diffs(_record(), golden) == [f"no reference record {golden}"]
    golden.write_text('{"frames": [{"t": 0}, ')
    (line,) = tool.reference_diffs(_record(), golden)
    assert line.startswith(f"unreadable reference record: {golden}: line 1") and "JSON" in line
    golden.write_text(json.dumps({"frames": [{"t": "0"}]}))
    (line,) = tool.reference_diffs(_record(), golden)
    assert "frame 0: field t" in line
    golden.write_text(json.dumps(_record()))
    assert tool.reference_diffs(_record(), golden) == []
    assert "outputs unchanged" in capsys.readouterr().out
