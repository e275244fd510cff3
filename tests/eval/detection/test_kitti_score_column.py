"""KITTI detection files of one submission must agree on the score column: a file without
one reads as score 1.0 and outranks every scored box (a label file or a truncated export
mixed in), so a mix is refused naming the odd file; a submission without any score is
scored, with a warning that its boxes are ranked in file order."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from drivestack.cli import main

CAR = "Car 0.00 0 -1.57 100.00 150.00 200.00 250.00 1.50 1.60 3.90 2.00 1.50 20.00 -1.57"


def _run(*extra: str) -> int:
    return main(["eval", "detection", "--dataset", "kitti-tracking", "--quiet", *extra])


def _write(folder: Path, rows_by_frame: dict[str, str]) -> Path:
    folder.mkdir()
    for frame, text in rows_by_frame.items():
        (folder / f"{frame}.txt").write_text(text)
    return folder


@pytest.mark.data
def test_a_file_without_scores_among_scored_files_is_refused_by_name(
    shared_data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    files = _write(
        tmp_path / "files",
        {"000074": f"{CAR} 0.9\n", "000075": f"{CAR} 0.8\n", "000076": f"{CAR}\n"},
    )
    assert _run("--detections", str(files), "--max-frames", "3", "--out", str(tmp_path / "o")) == 2
    err = capsys.readouterr().err
    assert f"{files / '000076.txt'}: line 1: field score: has no score column (16th)" in err
    assert f"unlike 2 other detection file(s) (first {files / '000074.txt'})" in err
    assert not (tmp_path / "o" / "metrics.json").exists()


@pytest.mark.data
def test_a_submission_without_any_score_is_scored_with_a_warning(
    shared_data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    files = _write(tmp_path / "files", {"000074": f"{CAR}\n", "000075": "", "000076": f"{CAR}\n"})
    out = tmp_path / "o"
    assert _run("--detections", str(files), "--max-frames", "3", "--out", str(out)) == 0
    note = (
        f"{files}: no detection file has a score column (16th): every box is scored 1.0, so "
        "the precision-recall curve ranks them in file order, not by confidence"
    )
    assert f"warning: {note}" in capsys.readouterr().err.splitlines()
    assert note in json.loads((out / "metrics.json").read_text())["loader_warnings"]


@pytest.mark.data
def test_scored_files_and_empty_files_pass_without_a_word(
    shared_data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    files = _write(tmp_path / "files", {"000074": f"{CAR} 0.9\n", "000075": "\n", "000076": ""})
    assert _run("--detections", str(files), "--max-frames", "3", "--out", str(tmp_path / "o")) == 0
    assert "warning" not in capsys.readouterr().err
