"""Detection precision-recall curves: KITTI's evaluator writes them beside the APs (a
hand-computed case), and the report finds a detection metrics.json in a run folder and draws
them per class and difficulty (also on real KITTI tracking detections)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from drivestack.eval.detection.kitti import kitti_eval
from drivestack.eval.detection.run import write_metrics
from drivestack.ingest.kitti_format import KittiObjects
from drivestack.report import build_report, write_report


def _cars(xs: list[float], zs: list[float], scores: list[float]) -> KittiObjects:
    """Fully visible cars (1.5 x 1.6 x 4 m) on the camera_rect ground, 2D boxes 60 px high."""
    n = len(xs)
    left = [400.0 + 100.0 * x for x in xs]
    return KittiObjects(
        type_name=np.array(["Car"] * n),
        truncation=np.zeros(n),
        occlusion=np.zeros(n, dtype=np.int64),
        alpha_rad=np.zeros(n),
        box2d_xyxy_px=np.array(
            [[u, 150.0 + z, u + 80.0, 210.0 + z] for u, z in zip(left, zs, strict=True)]
        ),
        hwl_m=np.tile([1.5, 1.6, 4.0], (n, 1)),
        location_m=np.array([[x, 1.6, z] for x, z in zip(xs, zs, strict=True)]),
        rotation_y_rad=np.zeros(n),
        score=np.array(scores),
    )


# 4 cars; detections hit 3 of them (scores 0.9, 0.8, 0.7) and one empty spot (0.85).
GT = _cars([-9.0, -3.0, 3.0, 9.0], [20.0, 20.0, 20.0, 20.0], [1.0] * 4)
DT = _cars([-9.0, -3.0, 3.0, 0.0], [20.0, 20.0, 20.0, 45.0], [0.9, 0.8, 0.7, 0.85])
# thresholds 0.9, 0.8, 0.7 (one per matched score): precision 1/1, 2/3, 3/4, made monotone
# from the right -> slots [1, 3/4, 3/4], nothing past them; AP40 = (3/4 + 3/4) / 40 = 3.75 %
EXPECTED = [1.0, 0.75, 0.75] + [0.0] * 38


def _kitti_result() -> dict[str, Any]:
    curves: dict[str, Any] = {}
    flat = kitti_eval([GT], [DT], ["Car"], curves_out=curves)
    return {
        "dataset": "kitti",
        "root": "synthetic",
        "num_frames": 1,
        "frames": ["000000"],
        "metrics": {"protocol": "kitti_3d_object", **flat},
        "pr_curves": curves,
    }


def test_kitti_eval_writes_the_curves_behind_its_aps() -> None:
    result = _kitti_result()
    curves, flat = result["pr_curves"], result["metrics"]
    assert kitti_eval([GT], [DT], ["Car"]) == {
        k: v for k, v in flat.items() if k != "protocol"
    }  # the curves change no metric
    assert curves["recall_positions"][:3] == [0.0, 0.025, 0.05]
    assert len(curves["recall_positions"]) == 41 and curves["recall_positions"][-1] == 1.0
    assert curves["overlap_sets"] == ["strict", "loose"]
    for kind in ("2D", "BEV", "3D"):
        for strictness in ("strict", "loose"):
            for diff in ("easy", "moderate", "hard"):
                prec = curves["curves"]["Car"][kind][strictness][diff]
                assert prec == pytest.approx(EXPECTED), (kind, strictness, diff)
                ap40 = flat[f"Car_{kind}_AP40_{diff}_{strictness}"]
                assert ap40 == pytest.approx(3.75)
                assert ap40 == pytest.approx(np.mean(prec[1:]) * 100)
                ap11 = flat[f"Car_{kind}_AP11_{diff}_{strictness}"]
                assert ap11 == pytest.approx(np.sum(prec[0::4]) / 11 * 100)


def _report(run: Path, tmp_path: Path) -> tuple[dict[str, Any], str]:
    report = build_report(run)
    html_path, json_path = write_report(report, tmp_path / "report.html")
    return json.loads(json_path.read_text()), html_path.read_text()


def test_report_draws_pr_curves_of_a_detection_run(tmp_path: Path) -> None:
    run = tmp_path / "run"
    write_metrics(run / "det" / "metrics.json", _kitti_result())
    data, html = _report(run, tmp_path)
    assert data["run"]["kind"] == "eval" and data["problems"] == []
    (det,) = data["detection"]
    assert det["file"] == "det/metrics.json"
    assert det["kitti_ap"]["Car BEV AP40"]["moderate"] == pytest.approx(3.75)
    assert det["pr_curves"]["curves"]["Car"]["3D"]["strict"]["hard"] == pytest.approx(EXPECTED)
    assert '<h2 id="detection">' in html
    section = html.split('<div class="pr-curves" data-file="det/metrics.json">', 1)[1]
    section = section.split("</div>", 1)[0]
    assert "Precision–recall curves per class and difficulty" in section
    assert '<img src="data:image/png;base64,' in section
    assert "not in this metrics.json" not in html


def test_report_lists_malformed_curves_and_keeps_the_aps(tmp_path: Path) -> None:
    run = tmp_path / "run"
    result = _kitti_result()
    result["pr_curves"]["curves"]["Car"]["BEV"]["strict"]["easy"] = [1.0, 0.5]  # 2, not 41
    write_metrics(run / "metrics.json", result)
    data, html = _report(run, tmp_path)
    (problem,) = data["problems"]
    assert "metrics.json" in problem and "pr_curves.curves.Car.BEV.strict.easy" in problem
    (det,) = data["detection"]
    assert det["pr_curves"] is None and det["kitti_ap"]["Car 3D AP40"]["easy"] == 3.75
    assert 'class="pr-curves"' not in html and "not in this metrics.json" in html


def test_report_without_curves_says_so(tmp_path: Path) -> None:
    run = tmp_path / "run"
    result = _kitti_result()
    del result["pr_curves"]  # a metrics.json written before the curves existed
    write_metrics(run / "metrics.json", result)
    data, html = _report(run, tmp_path)
    assert data["detection"][0]["pr_curves"] is None and data["problems"] == []
    assert "Precision–recall curves: not in this metrics.json." in html


@pytest.mark.data
@pytest.mark.slow
def test_report_of_real_kitti_tracking_detections(shared_data: Path, tmp_path: Path) -> None:
    """PointRCNN detections (AB3DMOT's files) on KITTI tracking sequence 0000, scored by
    ``drivestack eval detection`` into a run folder, then reported."""
    from drivestack.cli import main

    run = tmp_path / "run"
    args = ["eval", "detection", "--dataset", "kitti-tracking",
            "--root", str(shared_data / "kitti_tracking"), "--out", str(run / "det"),
            "--detections", str(shared_data / "kitti_tracking/detections/ab3dmot_pointrcnn")]  # fmt: skip
    assert main(args) == 0
    written = json.loads((run / "det" / "metrics.json").read_text())
    flat, curves = written["metrics"], written["pr_curves"]["curves"]
    assert set(curves) == {"Car", "Pedestrian", "Cyclist"}
    for cls, kinds in curves.items():
        for kind, sets in kinds.items():
            for strictness, diffs in sets.items():
                for diff, prec in diffs.items():
                    assert len(prec) == 41
                    assert np.all(np.diff(prec) <= 0), "precision is monotone from the right"
                    key = f"{cls}_{kind}_AP40_{diff}_{strictness}"
                    assert flat[key] == pytest.approx(np.mean(prec[1:]) * 100, abs=1e-9), key
    assert flat["Car_BEV_AP40_moderate_strict"] > 90.0  # PointRCNN finds most cars (97.75)
    data, html = _report(run, tmp_path)
    assert data["detection"][0]["pr_curves"]["curves"]["Car"]["BEV"]["strict"]["moderate"] == (
        pytest.approx(curves["Car"]["BEV"]["strict"]["moderate"])
    )
    assert '<div class="pr-curves" data-file="det/metrics.json">' in html
