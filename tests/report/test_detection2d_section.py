"""``drivestack report`` shows ``drivestack eval detection2d`` results: a 2D AP table per
result (class, IoU threshold, AP, the counts of metrics.json), a headline AP per class beside a
comparable baseline's, and a malformed field as a problem naming it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from drivestack.cli import main
from drivestack.report import build_report
from drivestack.report.collect import classify

LABEL = "{name} 0.00 0 0.00 {x1} {y1} {x2} {y2} 1.50 1.60 3.90 0.00 1.50 10.00 0.00"


def _write(path: Path, rows: list[tuple[float, ...]], scores: list[float] | None = None) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = []
    for i, (x1, y1, x2, y2) in enumerate(rows):
        line = LABEL.format(name="Car", x1=x1, y1=y1, x2=x2, y2=y2)
        lines.append(line + (f" {scores[i]}" if scores else ""))
    path.write_text("\n".join(lines) + "\n")


def _eval_2d(tmp_path: Path, out: Path) -> Path:
    """eval detection2d on hand-made folders: 3 Car labels; ranked TP .9, FP .8, TP .7, so
    AP at IoU 0.5 = 1/3 + 1/3 * 2/3 = 5/9, and no TP at 0.7 for the shifted one either."""
    labels, results = tmp_path / "label_2", tmp_path / "results"
    _write(labels / "000000.txt", [(0, 0, 100, 50), (200, 0, 300, 50)])
    _write(labels / "000001.txt", [(0, 0, 100, 50)])
    _write(results / "000000.txt", [(0, 0, 100, 50), (240, 0, 340, 50)], [0.9, 0.8])
    _write(results / "000001.txt", [(0, 0, 100, 50)], [0.7])
    argv = ["eval", "detection2d", "--labels", str(labels), "--results", str(results)]
    assert main([*argv, "--classes", "Car", "--iou", "0.5,0.7", "--out", str(out)]) == 0
    return out


def test_report_shows_the_2d_ap_table(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run = _eval_2d(tmp_path, tmp_path / "run" / "ap2d")
    assert classify(json.loads((run / "metrics.json").read_text())) == "detection2d"
    html = tmp_path / "r.html"
    capsys.readouterr()
    assert main(["report", str(tmp_path / "run"), "--out", str(html)]) == 0
    out = capsys.readouterr().out
    assert "eval run: 2D detection results of " in out and "problem:" not in out
    page = html.read_text()
    assert '<h2 id="detection2d">2D detection (image boxes)</h2>' in page
    assert f"{5 / 9 * 100:.2f}" in page  # AP % at IoU 0.5
    data = json.loads(html.with_suffix(".json").read_text())
    [result] = data["detection2d"]
    assert result["file"] == "ap2d/metrics.json" and result["split"] is None
    rows = {(r["class"], r["iou_threshold"]): r for r in result["rows"]}
    assert set(rows) == {("Car", 0.5), ("Car", 0.7)}
    assert rows["Car", 0.5]["ap"] == pytest.approx(5 / 9)
    assert [rows["Car", 0.5][k] for k in ("n_gt", "n_tp", "n_fp")] == [3, 2, 1]
    [line] = [h for h in data["headline"] if h["name"].startswith("2D AP Car")]
    assert line["value"] == pytest.approx(500 / 9) and line["baseline"] is None


def test_a_comparable_baseline_gives_its_ap(tmp_path: Path) -> None:
    run = _eval_2d(tmp_path, tmp_path / "run")
    base = tmp_path / "base"
    base.mkdir()
    data = json.loads((run / "metrics.json").read_text())
    data["classes"]["Car"]["iou_0.5"]["ap"] = 0.5
    (base / "metrics.json").write_text(json.dumps(data))
    report = build_report(run, base).data
    [line] = [h for h in report["headline"] if h["name"].startswith("2D AP Car")]
    assert line["value"] == pytest.approx(500 / 9) and line["baseline"] == pytest.approx(50.0)
    data["filter"]["min_height_px"] = 40.0  # another filter: not comparable
    (base / "metrics.json").write_text(json.dumps(data))
    [line] = [h for h in build_report(run, base).data["headline"] if "2D AP" in h["name"]]
    assert line["baseline"] is None


def test_a_malformed_field_is_a_problem_naming_it(tmp_path: Path) -> None:
    run = _eval_2d(tmp_path, tmp_path / "run")
    data = json.loads((run / "metrics.json").read_text())
    data["classes"]["Car"]["iou_0.5"]["n_tp"] = -1
    (run / "metrics.json").write_text(json.dumps(data))
    report = build_report(run).data
    assert report["detection2d"] == []
    assert any(
        "detection2d metrics.json: field classes.Car.iou_0.5.n_tp" in p for p in report["problems"]
    )
