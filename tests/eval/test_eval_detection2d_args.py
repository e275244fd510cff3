"""``drivestack eval detection2d`` refuses arguments it would ignore or that score nothing:
--results without --labels, the tracking mode's options in folder mode, result files named
like no label file, unknown --classes (exit 2, one line naming the option)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from drivestack.cli import main as cli_main

LABEL = "Car 0.00 0 0.00 0 0 100 50 1.50 1.60 3.90 0.00 1.50 10.00 0.00"


def _folders(tmp_path: Path, result_names: list[str]) -> tuple[Path, Path]:
    labels, results = tmp_path / "label_2", tmp_path / "results"
    labels.mkdir()
    results.mkdir()
    for name in ("000000.txt", "000001.txt"):
        (labels / name).write_text(LABEL + "\n")
    for name in result_names:
        (results / name).write_text(LABEL + " 0.9\n")
    return labels, results


def _run(tmp_path: Path, *args: str) -> int:
    return cli_main(["eval", "detection2d", *args, "--out", str(tmp_path / "out"), "--quiet"])


def error_line(capsys: pytest.CaptureFixture[str]) -> str:
    err = capsys.readouterr().err
    assert "Traceback" not in err
    lines = [line for line in err.splitlines() if line.startswith("error: ")]
    assert len(lines) == 1, err
    return lines[0]


def test_results_without_labels(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _, results = _folders(tmp_path, ["000000.txt"])
    assert _run(tmp_path, "--results", str(results)) == 2
    assert "--results needs --labels" in error_line(capsys)
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(("option", "value"), [("--detections", "rrc"), ("--split", "training")])
def test_tracking_options_refused_in_folder_mode(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], option: str, value: str
) -> None:
    labels, results = _folders(tmp_path, ["000000.txt", "000001.txt"])
    args = ["--labels", str(labels), "--results", str(results), option, value]
    assert _run(tmp_path, *args) == 2
    assert option in error_line(capsys)


def test_no_result_file_pairs_with_a_label_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    labels, results = _folders(tmp_path, ["0.txt", "1.txt"])
    assert _run(tmp_path, "--labels", str(labels), "--results", str(results)) == 2
    line = error_line(capsys)
    assert str(labels) in line and str(results) in line
    assert "0.txt" in line and "000000.txt" in line


def test_some_label_files_unpaired_warns(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    labels, results = _folders(tmp_path, ["000000.txt"])
    assert (
        _run(tmp_path, "--labels", str(labels), "--results", str(results), "--classes", "Car") == 0
    )
    err = capsys.readouterr().err
    assert "warning: 1 of 2 label files" in err and "000001.txt" in err


@pytest.mark.parametrize("classes", ["car,Pedestrain", "Truck", " , "])
def test_unknown_classes(tmp_path: Path, capsys: pytest.CaptureFixture[str], classes: str) -> None:
    labels, results = _folders(tmp_path, ["000000.txt", "000001.txt"])
    assert (
        _run(tmp_path, "--labels", str(labels), "--results", str(results), "--classes", classes)
        == 2
    )
    line = error_line(capsys)
    assert "--classes" in line
    if classes.strip(" ,"):
        assert "known: Car, Pedestrian, Cyclist" in line


def test_classes_any_case(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    labels, results = _folders(tmp_path, ["000000.txt", "000001.txt"])
    assert (
        _run(tmp_path, "--labels", str(labels), "--results", str(results), "--classes", "car") == 0
    )
    metrics = json.loads((tmp_path / "out" / "metrics.json").read_text())
    assert metrics["classes"]["Car"]["iou_0.5"]["ap"] == pytest.approx(1.0)
    assert metrics["split"] is None
