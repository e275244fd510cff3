"""A tracking result where a class has no labelled object in the sequences scored (n_gt 0:
MOTA and the other rates undefined, null in metrics.json): ``eval tracking`` prints n/a and
says so (no ``-inf``), and ``drivestack report`` shows the class as "no labels" with its rates
n/a and keeps it out of the Overall rates, instead of failing on the nulls."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from drivestack.cli import main
from drivestack.report.tracking import class_row, has_no_labels, tracking_tables


def _clear(samota: float | None, mota: float | None, n_gt: int, fp: int) -> dict:
    best = {"MOTA": mota, "MOTP": 0.8, "IDS": 0, "FRAG": 1, "FP": fp, "FN": 10 if n_gt else 0,
            "n_gt": n_gt}  # fmt: skip
    per = [{"recall_threshold": 1.0, "sMOTA": samota, "MOTA": mota}] if n_gt else []
    return {"clear": {"sAMOTA": samota or 0.0, "AMOTA": 0.4 if n_gt else 0.0,
                      "AMOTP": 0.7 if n_gt else 0.0, "best": best, "per_threshold": per}}  # fmt: skip


def test_class_without_labels_is_na_and_left_out_of_the_overall_rates() -> None:
    car, cyclist = _clear(0.9, 0.8, 100, 20), _clear(None, None, 0, 6)
    assert not has_no_labels(car) and has_no_labels(cyclist)
    row = class_row(cyclist)
    assert row["sAMOTA"] is None and row["MOTA"] is None and row["MOTP"] is None
    assert row["FP"] == 6.0 and row["FN"] == 0.0
    result = {"metrics": {"iou_0.25": {"protocol": {"min_overlap": 0.25, "similarity": "iou_3d"},
              "classes": {"Car": car, "Cyclist": cyclist}}}}  # fmt: skip
    (table,) = tracking_tables(result, {})
    assert table["no_labels"] == ["Cyclist"]
    overall = table["rows"]["Overall"]
    assert overall["sAMOTA"] == pytest.approx(90.0) and overall["MOTA"] == pytest.approx(80.0)
    assert overall["FP"] == 26.0  # counts still summed
    only = {"metrics": {"iou_0.25": {"protocol": {"min_overlap": 0.25, "similarity": "iou_3d"},
            "classes": {"Cyclist": cyclist, "Pedestrian": _clear(None, None, 0, 1)}}}}  # fmt: skip
    (table,) = tracking_tables(only, {})
    assert table["rows"]["Overall"]["sAMOTA"] is None and table["rows"]["Overall"]["FP"] == 7.0


@pytest.mark.data
def test_eval_and_report_of_a_class_without_labels(
    shared_data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "trk"
    rc = main(
        ["eval", "tracking", "--kitti-root", str(shared_data / "kitti_tracking"), "--quiet",
         "--results", str(shared_data / "kitti_tracking/reference_outputs/ab3dmot_2020"),
         "--classes", "Car,Cyclist", "--sequences", "0001", "--out", str(out)]
    )  # fmt: skip
    printed = capsys.readouterr().out
    assert rc == 0
    assert "-inf" not in printed
    (cyclist,) = [line for line in printed.splitlines() if line.startswith("Cyclist")]
    assert "n/a" in cyclist and cyclist.endswith("no labels")
    metrics = json.loads((out / "metrics.json").read_text())
    notes = [n for n in metrics["notes"] if n.startswith("Cyclist: no labelled objects")]
    assert len(notes) == 1 and f"note: {notes[0]}" in printed
    assert metrics["metrics"]["iou_0.25"]["classes"]["Cyclist"]["clear"]["best"]["MOTA"] is None

    html = tmp_path / "report.html"
    assert main(["report", str(out), "--out", str(html)]) == 0
    page = html.read_text()
    assert "Cyclist (no labels)" in page
    assert "Cyclist: no labelled objects in the sequences scored" in page
    data = json.loads(html.with_suffix(".json").read_text())
    (table,) = data["tracking"][0]["tables"]
    assert table["rows"]["Cyclist"]["MOTA"] is None
    assert table["rows"]["Overall"]["sAMOTA"] == pytest.approx(table["rows"]["Car"]["sAMOTA"])
