"""``drivestack eval detection2d`` on KITTI-format folders (hand-computed AP)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from drivestack.cli import main as cli_main

LABEL = "{name} 0.00 0 0.00 {x1} {y1} {x2} {y2} 1.50 1.60 3.90 0.00 1.50 10.00 0.00"


def _write(
    path: Path, rows: list[tuple[str, float, float, float, float]], score: list[float] | None = None
) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = []
    for i, (name, x1, y1, x2, y2) in enumerate(rows):
        line = LABEL.format(name=name, x1=x1, y1=y1, x2=x2, y2=y2)
        lines.append(line + (f" {score[i]}" if score else ""))
    path.write_text("\n".join(lines) + "\n")


def test_folder_mode_by_hand(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    labels, results = tmp_path / "label_2", tmp_path / "results"
    _write(labels / "000000.txt", [("Car", 0, 0, 100, 50), ("Car", 200, 0, 300, 50)])
    _write(labels / "000001.txt", [("Car", 0, 0, 100, 50), ("Van", 400, 0, 500, 50)])
    # 000000: one exact hit (0.9), one box shifted by 40 px (IoU 60/140 = 0.43: FP at 0.5) (0.8);
    # 000001: an exact hit (0.7), a detection on the Van (ignored) (0.95)
    _write(results / "000000.txt", [("Car", 0, 0, 100, 50), ("Car", 240, 0, 340, 50)], [0.9, 0.8])
    _write(results / "000001.txt", [("Car", 0, 0, 100, 50), ("Car", 400, 0, 500, 50)], [0.7, 0.95])
    out = tmp_path / "out"
    rc = cli_main(
        [
            "eval",
            "detection2d",
            "--labels",
            str(labels),
            "--results",
            str(results),
            "--classes",
            "Car",
            "--out",
            str(out),
        ]
    )
    assert rc == 0
    metrics = json.loads((out / "metrics.json").read_text())["classes"]["Car"]
    # ranked (ignored dropped): TP .9, FP .8, TP .7 over 3 gt -> AP = 1/3 * 1 + 1/3 * 2/3 = 5/9
    assert metrics["iou_0.5"]["ap"] == pytest.approx(5 / 9)
    assert (metrics["iou_0.5"]["n_gt"], metrics["iou_0.5"]["n_tp"], metrics["iou_0.5"]["n_fp"]) == (
        3,
        2,
        1,
    )
    assert "Car" in capsys.readouterr().out


def test_folder_mode_needs_results(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _write(tmp_path / "label_2" / "000000.txt", [("Car", 0, 0, 100, 50)])
    rc = cli_main(
        ["eval", "detection2d", "--labels", str(tmp_path / "label_2"), "--out", str(tmp_path / "o")]
    )
    assert rc == 2 and "--labels needs --results" in capsys.readouterr().err
