"""``drivestack eval tracking``: arguments, --out and --results checked before any work, one
line naming the path or flag (exit status 2); provenance and table notes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from drivestack.cli import main

pytestmark = pytest.mark.data


def _eval(root: Path, *args: str) -> int:
    return main(
        ["eval", "tracking", "--kitti-root", str(root / "kitti_tracking"), "--quiet", *args]
    )


def _reference(shared_data: Path) -> Path:
    return shared_data / "kitti_tracking" / "reference_outputs" / "ab3dmot_2020"


def test_out_an_existing_file_fails_first(
    shared_data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    afile = tmp_path / "afile"
    afile.write_text("x")
    for extra in ([], ["--fusion", "camera"]):
        rc = _eval(shared_data, "--classes", "Car", "--out", str(afile), *extra)
        captured = capsys.readouterr()
        assert rc == 2
        assert captured.out == ""  # nothing tracked, no table, no kernel line
        assert captured.err.strip() == (
            f"error: {afile}: field --out: not a directory (a file of that name exists)"
        )
    rc = _eval(shared_data, "--classes", "Car", "--out", str(afile / "sub"))
    assert rc == 2 and "not a directory" in capsys.readouterr().err


def test_a_failed_run_leaves_no_out_folder(
    shared_data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "res").mkdir()
    out = tmp_path / "o"
    assert _eval(shared_data, "--results", str(tmp_path / "res"), "--out", str(out)) == 2
    assert not out.exists()
    assert _eval(shared_data, "--classes", "Truck", "--out", str(out)) == 2
    captured = capsys.readouterr()
    assert "field --classes: unknown KITTI tracking class 'Truck'" in captured.err
    assert captured.out == "" and not out.exists()


def test_results_with_some_class_folders_name_the_missing_one(
    shared_data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    res = tmp_path / "res"
    (res / "Car").mkdir(parents=True)
    for src in (_reference(shared_data) / "Car").glob("*.txt"):
        (res / "Car" / src.name).write_text(src.read_text())
    rc = _eval(shared_data, "--results", str(res), "--out", str(tmp_path / "o"))
    err = capsys.readouterr().err.strip()
    assert rc == 2 and err.count("\n") == 0
    assert err.startswith(f"error: {res / 'Pedestrian'}/: field --results: no such folder")
    assert "<DIR>/<Class>/NNNN.txt" in err and "<DIR>/NNNN.txt" in err


def test_empty_results_folder(
    shared_data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "res").mkdir()
    rc = _eval(shared_data, "--results", str(tmp_path / "res"), "--out", str(tmp_path / "o"))
    err = capsys.readouterr().err
    assert rc == 2 and "no result files" in err and "<DIR>/<Class>/NNNN.txt" in err


def test_metrics_record_the_commit_and_tables_say_what_they_measure(
    shared_data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from drivestack import __version__
    from drivestack.core.provenance import git_commit

    out = tmp_path / "o"
    args = ["--classes", "Cyclist", "--iou", "0.25,0.5", "--out", str(out)]
    assert _eval(shared_data, "--results", str(_reference(shared_data)), *args) == 0
    report = json.loads((out / "metrics.json").read_text())
    assert report["git_commit"] == git_commit()
    assert report["drivestack_version"] == __version__
    assert isinstance(report["command"], str)
    assert report["whole_split"] is True  # no --sequences: the protocol's figure
    text = capsys.readouterr().out
    assert "iou_3d 0.25 (val, 11 sequences)" in text and "iou_3d 0.5 (val" in text
    assert text.count("values in percent") == 1
    assert text.count("the same under every IoU threshold") == 1
