"""``drivestack report RUN --baseline OTHER`` on two detection results: the APs compared per
class, difficulty / distance and metric when dataset and protocol agree (drops beyond the score
tolerance are regressions), a "not comparable" warning and no deltas when they do not, and a
warning when the two were not scored on the same frames."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from drivestack.cli import main
from drivestack.report.detection import detection_values, not_comparable
from tests.report.test_report_command import _strict

KITTI_CONFIG: dict[str, Any] = {
    "classes": ["Car", "Pedestrian", "Cyclist"],
    "min_overlaps": [
        [[0.7, 0.5, 0.5]] * 3,
        [[0.7, 0.5, 0.5], [0.5, 0.25, 0.25], [0.5, 0.25, 0.25]],
    ],
}
NUSC_CONFIG: dict[str, Any] = {
    "class_range": {"car": 50.0, "pedestrian": 40.0},
    "dist_ths": [0.5, 1.0, 2.0, 4.0],
}


def _kitti(car_3d_moderate: float = 80.0, frames: int = 10, **changes: float) -> dict[str, Any]:
    """A KITTI metrics.json (``eval detection``): Car BEV / 3D AP40, strict and loose, per
    difficulty; ``changes`` overrides keys."""
    metrics: dict[str, Any] = {"protocol": "kitti_3d_object", "protocol_config": KITTI_CONFIG}
    for kind, base in (("BEV", 90.0), ("3D", 70.0)):
        for mode in ("strict", "loose"):
            for diff, off in (("easy", 5.0), ("moderate", 0.0), ("hard", -5.0)):
                metrics[f"Car_{kind}_AP40_{diff}_{mode}"] = base + off
    metrics["Car_3D_AP40_moderate_strict"] = car_3d_moderate
    metrics.update(changes)
    return {
        "dataset": "kitti-tracking",
        "root": "/data/kitti_tracking",
        "num_frames": frames,
        "frames": [f"{i:06d}" for i in range(frames)],
        "metrics": metrics,
    }


def _nuscenes(mean_ap: float, config: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "dataset": "nuscenes",
        "root": "/data/nuscenes",
        "num_frames": 2,
        "frames": ["a", "b"],
        "metrics": {
            "protocol": "nuscenes_detection_cvpr_2019",
            "protocol_config": config or NUSC_CONFIG,
            "mean_ap": mean_ap,
            "nd_score": 0.5,
            "tp_errors": {"trans_err": 0.3},
            "label_aps": {"car": {"0.5": 0.2, "2.0": 0.6}, "pedestrian": {"0.5": 0.1, "2.0": 0.3}},
            "mean_dist_aps": {"car": 0.4, "pedestrian": 0.2},
        },
    }


def _run(root: Path, result: dict[str, Any], file: str = "metrics.json") -> Path:
    (root / file).parent.mkdir(parents=True, exist_ok=True)
    (root / file).write_text(json.dumps(result))
    return root


def _report(
    capsys: pytest.CaptureFixture[str], run: Path, base: Path, out: Path
) -> tuple[str, dict[str, Any], str]:
    assert main(["report", str(run), "--baseline", str(base), "--out", str(out)]) == 0
    printed = capsys.readouterr()  # the summary on stdout, warnings on stderr
    assert "warning:" not in printed.out
    return printed.out + printed.err, _strict(out.with_suffix(".json").read_text()), out.read_text()


def test_a_kitti_ap_that_dropped_beyond_the_tolerance_is_a_regression(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Car 3D AP40 moderate strict 80 -> 75 (beyond 1 point); BEV moderate strict 90 -> 89.5
    # (within); 3D easy strict 75 -> 78 (a rise)
    run = _run(
        tmp_path / "run",
        _kitti(75.0, Car_BEV_AP40_moderate_strict=89.5, Car_3D_AP40_easy_strict=78.0),
    )
    base = _run(tmp_path / "base", _kitti(80.0))
    out, data, html = _report(capsys, run, base, tmp_path / "r.html")
    assert "1 detection APs dropped" in out and "warning" not in out
    assert data["warnings"] == []
    (drop,) = data["detection_regressions"]
    assert (drop["class"], drop["setting"], drop["metric"]) == ("Car", "moderate", "3D AP40 strict")
    assert (drop["value"], drop["baseline"], drop["delta"]) == (75.0, 80.0, -5.0)
    (cmp_,) = data["detection_comparison"]
    assert cmp_["comparable"] and cmp_["same_frames"] and len(cmp_["rows"]) == 12
    rows = {(r["class"], r["setting"], r["metric"]): r for r in cmp_["rows"]}
    assert rows["Car", "moderate", "BEV AP40 strict"]["delta"] == pytest.approx(-0.5)
    assert rows["Car", "easy", "3D AP40 strict"]["delta"] == pytest.approx(3.0)
    headline = {h["name"]: (h["value"], h["baseline"]) for h in data["headline"]}
    assert headline["detection Car moderate 3D AP40 strict"] == (75.0, 80.0)
    assert headline["detection Car moderate BEV AP40 strict"] == (89.5, 90.0)
    # the regressions section, the summary card and the full table
    section = html.split('<h2 id="regressions">', 1)[1].split("<h2", 1)[0]
    assert "Detection APs that dropped" in section
    assert section.count('<tr class="regression">') == 1 and "-5.00" in section
    assert "<b>1</b>detection APs dropped vs baseline" in html
    table = html.split('<table class="sortable detection-compare" data-file="metrics.json">')[1]
    table = table.split("</table>", 1)[0]
    assert table.count('class="regression"') == 1 and table.count('class="improvement"') == 1


def test_within_the_tolerance_nothing_dropped(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run = _run(tmp_path / "run", _kitti(79.5))
    base = _run(tmp_path / "base", _kitti(80.0))
    out, data, html = _report(capsys, run, base, tmp_path / "r.html")
    assert "0 detection APs dropped" in out and data["detection_regressions"] == []
    assert "Detection: no AP drops of more than 1 points (12 figures compared)" in html


def test_different_datasets_are_not_comparable(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run = _run(tmp_path / "run", _kitti(75.0))
    base = _run(tmp_path / "base", _nuscenes(0.3))
    out, data, html = _report(capsys, run, base, tmp_path / "r.html")
    (warning,) = data["warnings"]
    assert "not comparable: their datasets differ" in warning and "no AP difference" in warning
    assert str(run / "metrics.json") in warning and str(base / "metrics.json") in warning
    assert "kitti-tracking" in warning and "nuscenes" in warning
    assert "share nothing" not in out and out.count("warning:") == 1
    (cmp_,) = data["detection_comparison"]
    assert not cmp_["comparable"] and cmp_["rows"] == []
    assert data["detection_regressions"] == []
    assert all(h["baseline"] is None for h in data["headline"])
    assert "detection APs dropped" not in out and "detection-compare" not in html
    assert "Not compared with the baseline" in html


def test_other_protocol_settings_are_not_comparable(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run = _run(tmp_path / "run", _nuscenes(0.3))
    other = {**NUSC_CONFIG, "dist_ths": [1.0, 2.0]}
    base = _run(tmp_path / "base", _nuscenes(0.4, other))
    _, data, _ = _report(capsys, run, base, tmp_path / "r.html")
    (warning,) = data["warnings"]
    assert "their protocol settings differ (dist_ths)" in warning
    assert data["detection_regressions"] == [] and data["detection_comparison"][0]["rows"] == []


def test_nuscenes_fractions_are_compared_in_points(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # a class scored in one result only (another class range) is listed, not compared
    run = _run(tmp_path / "run", _nuscenes(0.30))
    base = _run(
        tmp_path / "base",
        _nuscenes(
            0.35, {**NUSC_CONFIG, "class_range": {**NUSC_CONFIG["class_range"], "bus": 50.0}}
        ),
    )
    _, data, _ = _report(capsys, run, base, tmp_path / "r.html")
    assert data["warnings"] == []
    (drop,) = data["detection_regressions"]
    assert (drop["class"], drop["metric"]) == ("all", "mAP")
    assert drop["delta"] == pytest.approx(-5.0)
    headline = {h["name"]: h["baseline"] for h in data["headline"]}
    assert headline == {"detection mAP": pytest.approx(35.0), "detection NDS": pytest.approx(50.0)}


def test_other_frames_warn_that_they_are_not_the_same_scans(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run = _run(tmp_path / "run", _kitti(75.0, frames=10))
    base = _run(tmp_path / "base", _kitti(80.0, frames=20))
    out, data, html = _report(capsys, run, base, tmp_path / "r.html")
    assert out.count("warning:") == 1
    (warning,) = data["warnings"]
    assert "not scored on the same scans" in warning and "10 frames against 20" in warning
    assert str(run / "metrics.json") in warning and str(base / "metrics.json") in warning
    (cmp_,) = data["detection_comparison"]
    assert cmp_["comparable"] and not cmp_["same_frames"]
    assert len(data["detection_regressions"]) == 1  # still compared, with the warning
    assert "not the same scans" in html


def test_one_result_each_is_compared_whatever_its_folder(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run = _run(tmp_path / "run", _kitti(75.0), "det/metrics.json")
    base = _run(tmp_path / "base", _kitti(80.0))
    _, data, _ = _report(capsys, run, base, tmp_path / "r.html")
    (cmp_,) = data["detection_comparison"]
    assert (cmp_["file"], cmp_["baseline_file"]) == ("det/metrics.json", "metrics.json")
    assert len(data["detection_regressions"]) == 1


def test_a_kitti_difficulty_without_labels_is_not_compared() -> None:
    data = _kitti()
    data["metrics"]["labels_per_difficulty"] = {"Car": {"easy": 0, "moderate": 12, "hard": 15}}
    values = detection_values(data)
    assert ("Car", "moderate", "3D AP40 strict") in values
    assert not any(key[1] == "easy" for key in values)


def test_detection_values_read_each_protocol() -> None:
    kitti = detection_values(_kitti(80.0))
    assert kitti["Car", "moderate", "3D AP40 strict"] == 80.0
    assert kitti["Car", "hard", "BEV AP40 loose"] == 85.0
    nusc = detection_values(_nuscenes(0.25))
    assert nusc["all", "", "mAP"] == 25.0 and nusc["car", "2 m", "AP"] == pytest.approx(60.0)
    assert nusc["pedestrian", "mean", "AP"] == pytest.approx(20.0)
    assert not any(metric == "trans_err" for _, _, metric in nusc)  # errors are not scores
    av2 = detection_values(
        {
            "dataset": "av2",
            "metrics": {
                "protocol": "argoverse2_detection_class_groups",
                "summary": {
                    "vehicle": {"AP": 0.6, "ATE": 0.4, "CDS": 0.45},
                    "AVERAGE_METRICS": {"AP": 0.4, "ATE": 0.4, "CDS": 0.25},
                },
                "ap_by_threshold": {"vehicle": {"0.5": 0.5, "4.0": 0.7}},
            },
        }
    )
    assert av2 == {
        ("all", "", "mAP"): pytest.approx(40.0),
        ("all", "", "CDS"): pytest.approx(25.0),
        ("vehicle", "mean", "AP"): pytest.approx(60.0),
        ("vehicle", "", "CDS"): pytest.approx(45.0),
        ("vehicle", "0.5 m", "AP"): pytest.approx(50.0),
        ("vehicle", "4 m", "AP"): pytest.approx(70.0),
    }
    assert not_comparable(_kitti(), _kitti(frames=3)) == ""
    assert not_comparable(_kitti(), {**_kitti(), "dataset": "kitti"}) == "their datasets differ"
