"""tools/train_track_scorer.py and tools/tracking_oracle_bound.py on bad input: an argparse
error or one ``error: ...`` line naming the option, exit status 2, no traceback."""

from __future__ import annotations

import re
import runpy
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]


def _tool(name: str) -> dict[str, Any]:
    return runpy.run_path(str(REPO / "tools" / name), run_name="tool")


SCORER = _tool("train_track_scorer.py")
ORACLE = _tool("tracking_oracle_bound.py")


@pytest.mark.parametrize(
    ("tool", "argv", "message"),
    [
        (SCORER, ["--class", "Pedestrain"], "argument --class: unknown KITTI tracking class"),
        (SCORER, ["--l2", "abc"], "argument --l2: not a comma-separated list of numbers: 'abc'"),
        (SCORER, ["--l2=0.1,-1"], "argument --l2: every number must be at least 0"),
        (SCORER, ["--min-logits", "x"], "argument --min-logits: not a comma-separated list"),
        (SCORER, ["--iou", "1.5"], r"argument --iou: an IoU must be in (0, 1], got 1.5"),
        (SCORER, ["--tie", "0"], "argument --tie: must be a finite number > 0, got 0"),
        (SCORER, ["--split", "test"], "argument --split: invalid choice: 'test'"),
        (
            ORACLE,
            ["--out", "o", "--classes", "Car,Pedestrain"],
            "argument --classes: unknown KITTI",
        ),
        (ORACLE, ["--out", "o", "--fill-gap", "-1"], "argument --fill-gap: must be at least 0"),
        (ORACLE, ["--out", "o", "--extend", "two"], "argument --extend: not an integer: 'two'"),
        (ORACLE, ["--out", "o", "--iou", "0"], r"argument --iou: an IoU must be in (0, 1]"),
    ],
)
def test_bad_options_are_argparse_errors(
    tool: dict[str, Any], argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as info:
        tool["main"](argv)
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def _error_line(tool: dict[str, Any], argv: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    """The tool's one stderr line for ``argv`` (asserting exit status 2)."""
    assert tool["main"](argv) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ")
    return lines[0]


@pytest.mark.parametrize("tool", [SCORER, ORACLE], ids=["scorer", "oracle"])
def test_a_missing_kitti_root_names_the_option(
    tool: dict[str, Any], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "nonexist"
    argv = ["--kitti-root", str(missing)] + (["--out", str(tmp_path)] if tool is ORACLE else [])
    line = _error_line(tool, argv, capsys)
    assert f"{missing}: field --kitti-root: no such kitti-tracking folder" in line


def test_scorer_names_a_class_missing_from_the_config(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "cars.yaml"
    config.write_text("classes: {car: {}}\n")
    argv = ["--kitti-root", str(tmp_path), "--config", str(config), "--class", "cyclist"]
    line = _error_line(SCORER, argv, capsys)
    assert (
        f"{config}: field classes: no classes entry for --class Cyclist (configured: car)" in line
    )


def test_scorer_names_an_unknown_feature(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    line = _error_line(SCORER, ["--feature-sets", "mean_score;speed"], capsys)
    assert "--feature-sets: unknown track feature(s) ['speed']" in line


def test_oracle_names_a_missing_detection_folder(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "detections" / "ab3dmot_pointrcnn").mkdir(parents=True)
    argv = ["--kitti-root", str(tmp_path), "--detections", "nonexist", "--out", str(tmp_path)]
    line = _error_line(ORACLE, argv, capsys)
    assert "field --detections: no such detection folder (known: ab3dmot_pointrcnn)" in line
    argv = ["--kitti-root", str(tmp_path), "--rank-results", str(tmp_path / "r"), "--out", "o"]
    assert "field --rank-results: no such result folder" in _error_line(ORACLE, argv, capsys)


@pytest.mark.parametrize("tool", [SCORER, ORACLE], ids=["scorer", "oracle"])
def test_help_explains_the_splits_and_shows_defaults(
    tool: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit):
        tool["main"](["--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "train = the 10 training sequences outside val" in text
    assert "training = all 21" in text
    assert re.search(r"--kitti-root KITTI_ROOT(, --root KITTI_ROOT)? KITTI tracking folder", text)
    if tool is SCORER:
        assert "(default: Pedestrian)" in text and "kitti_pointrcnn.yaml)" in text
