"""Tracking result files: a row whose frame is beyond its sequence's seqmap frames is an
error naming file, line and field (the devkit never visits such a frame); rows of another
class inside a class's folder are not scored and are said (a warning, counted in the
metrics.json notes)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from drivestack.cli import main

pytestmark = pytest.mark.data


def _copy_car(shared_data: Path, tmp_path: Path) -> Path:
    reference = shared_data / "kitti_tracking" / "reference_outputs" / "ab3dmot_2020"
    results = tmp_path / "res"
    (results / "Car").mkdir(parents=True)
    shutil.copy(reference / "Car" / "0001.txt", results / "Car" / "0001.txt")
    return results


def _eval(shared_data: Path, results: Path, out: Path) -> int:
    return main(
        ["eval", "tracking", "--kitti-root", str(shared_data / "kitti_tracking"), "--quiet",
         "--classes", "Car", "--sequences", "0001", "--results", str(results), "--out", str(out)]
    )  # fmt: skip


def _edit_line(path: Path, line_no: int, column: int, value: str) -> None:
    lines = path.read_text().splitlines()
    fields = lines[line_no - 1].split()
    fields[column] = value
    lines[line_no - 1] = " ".join(fields)
    path.write_text("\n".join(lines) + "\n")


def test_frame_beyond_the_sequence_is_an_error(
    shared_data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    results = _copy_car(shared_data, tmp_path)
    path = results / "Car" / "0001.txt"
    _edit_line(path, 5, 0, "5000")
    out = tmp_path / "out"
    assert _eval(shared_data, results, out) == 2
    err = capsys.readouterr().err.strip()
    assert err == (
        f"error: {path}: line 5: field frame: frame 5000 beyond the sequence's 447 frames"
    )
    assert not out.exists()
    _edit_line(path, 5, 0, "446")  # the last frame is fine
    assert _eval(shared_data, results, out) == 0


def test_rows_of_another_class_in_a_class_folder_are_said(
    shared_data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    results = _copy_car(shared_data, tmp_path)
    path = results / "Car" / "0001.txt"
    _edit_line(path, 5, 2, "Pedestrian")
    out = tmp_path / "out"
    assert _eval(shared_data, results, out) == 0
    captured = capsys.readouterr()
    note = f"{path}: 1 row(s) of another class (Pedestrian) in the Car folder: not scored"
    assert f"warning: {note}" in captured.err
    assert note in json.loads((out / "metrics.json").read_text())["notes"]
