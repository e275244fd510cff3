"""Sweep aggregation and tracking tables, by hand."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from drivestack.report.collect import ScenarioRow
from drivestack.report.sweep import (
    heatmap,
    heatmap_params,
    pass_rate_by_param,
    pass_rate_by_scenario,
)
from drivestack.report.tracking import (
    baseline_table,
    class_row,
    overall_row,
    parse_published,
    published_rows,
    table_title,
    tracking_blocks,
    tracking_regressions,
    tracking_tables,
)


def _row(i: int, passed: bool, speed: float, gap: int, score: float) -> ScenarioRow:
    return ScenarioRow(f"pdm/s_{i}", f"s#{i}", "pdm", "pass" if passed else "fail", score=score,
                       base_scenario="s", params={"speed": speed, "gap": gap})  # fmt: skip


ROWS = [
    _row(0, True, 10.0, 20, 90.0),
    _row(1, True, 20.0, 20, 80.0),
    _row(2, False, 30.0, 20, 10.0),
    _row(3, False, 40.0, 40, 20.0),
    _row(4, True, 50.0, 40, 70.0),
]


def test_pass_rate_per_bin() -> None:
    by = pass_rate_by_param(ROWS, max_bins=2)
    # speed: 5 values > 2 bins -> [10, 30) and [30, 50]
    assert [(b["bin"], b["n"], b["passed"]) for b in by["speed"]] == [
        ("[10, 30)", 2, 2),
        ("[30, 50]", 3, 1),
    ]
    assert [(b["low"], b["high"]) for b in by["speed"]] == [(10.0, 30.0), (30.0, 50.0)]
    assert [(b["bin"], b["n"], b["pass_rate"]) for b in by["gap"]] == [
        ("20", 3, 2 / 3),
        ("40", 2, 0.5),
    ]
    assert by["gap"][1]["mean_score"] == 45.0
    groups = pass_rate_by_scenario(ROWS)
    assert groups == [{"planner": "pdm", "scenario": "s", "n": 5, "passed": 3, "pass_rate": 0.6,
                       "min_score": 10.0}]  # fmt: skip


def test_heatmap_counts() -> None:
    assert heatmap_params(ROWS) == ("speed", "gap")  # more distinct values first
    hm = heatmap(ROWS, "speed", "gap", max_bins=2)
    assert hm is not None and hm["y_labels"] == ["20", "40"]
    np.testing.assert_array_equal(hm["n"], [[2, 1], [0, 2]])
    np.testing.assert_array_equal(hm["pass_rate"], [[1.0, 0.0], [np.nan, 0.5]])


def _clear(samota: float, mota: float, ids: int, fp: int) -> dict:
    best = {"MOTA": mota, "MOTP": 0.8, "IDS": ids, "FRAG": 1, "FP": fp, "FN": 10}
    per = [{"recall_threshold": r, "sMOTA": samota, "MOTA": mota * r} for r in (0.5, 1.0)]
    return {
        "clear": {"sAMOTA": samota, "AMOTA": 0.4, "AMOTP": 0.7, "best": best, "per_threshold": per}
    }


def test_tracking_tables_and_overall_row() -> None:
    result = {"metrics": {"iou_0.25": {"protocol": {"min_overlap": 0.25, "similarity": "iou_3d"},
              "classes": {"Car": _clear(0.9, 0.8, 2, 100), "Cyclist": _clear(0.7, 0.6, 0, 50)}}}}  # fmt: skip
    anchors = {("iou_3d", 0.25): {"Car": {"sAMOTA": 93.34}, "Overall": {"sAMOTA": 89.62}}}
    (table,) = tracking_tables(result, anchors)
    assert table["rows"]["Car"] == class_row(result["metrics"]["iou_0.25"]["classes"]["Car"])
    overall = table["rows"]["Overall"]
    assert overall["sAMOTA"] == pytest.approx(80.0) and overall["MOTA"] == pytest.approx(70.0)
    assert overall["IDS"] == 2 and overall["FP"] == 150
    # the published Overall averages other classes than ours, and without a Cyclist row the
    # Overall of our two classes cannot be formed: left out
    assert table["published"] == {"Car": {"sAMOTA": 93.34}}
    assert table["curves"]["Car"]["MOTA"] == [0.4, 0.8]
    assert overall_row({"A": table["rows"]["Car"]})["FN"] == 10


def test_published_overall_is_over_the_classes_we_ran() -> None:
    def row(samota: float, ids: float) -> dict[str, float | None]:
        return {"sAMOTA": samota, "AMOTA": 40.0, "AMOTP": 70.0, "MOTA": 80.0, "MOTP": 75.0,
                "IDS": ids, "FRAG": 1.0, "FP": 10.0, "FN": 20.0, "FPS": None}  # fmt: skip

    published = {"Car": row(93.0, 0.0), "Pedestrian": row(83.0, 4.0), "Cyclist": row(94.0, 1.0),
                 "Overall": row(90.0, 5.0)}  # fmt: skip
    two = published_rows(published, ["Car", "Pedestrian", "Overall"])
    assert set(two) == {"Car", "Pedestrian", "Overall"}
    assert two["Overall"]["sAMOTA"] == pytest.approx(88.0)  # (93 + 83) / 2, not 90
    assert two["Overall"]["IDS"] == 4.0 and two["Overall"]["FN"] == 40.0
    assert "FPS" not in two["Overall"]  # no number to combine
    assert published_rows(published, ["Car", "Pedestrian", "Cyclist", "Overall"]) == published
    assert published_rows(published, ["Car"]) == {"Car": published["Car"]}


def test_parse_published_results(shared_data: Path) -> None:
    anchors = parse_published(shared_data / "PUBLISHED_RESULTS.md")
    assert set(anchors) == {("iou_3d", 0.25), ("iou_3d", 0.5), ("iou_3d", 0.7), ("iou_2d", 0.5)}
    car = anchors[("iou_3d", 0.25)]["Car"]
    assert (car["sAMOTA"], car["MOTA"], car["FP"], car["FN"]) == (93.34, 86.47, 368, 766)
    assert anchors[("iou_3d", 0.25)]["Overall"]["FPS"] is None
    assert list(anchors[("iou_3d", 0.7)]) == ["Car"]
    assert anchors[("iou_2d", 0.5)]["Pedestrian"]["IDS"] == 119


def test_tracking_regressions_against_a_baseline() -> None:
    def result(car: float, cyclist: float) -> list[dict]:
        classes = {"Car": _clear(car, 0.8, 0, 1), "Cyclist": _clear(cyclist, 0.6, 0, 1)}
        tables = tracking_tables({"metrics": {"iou_0.5": {"classes": classes}}}, {})
        return [{"file": "trk/metrics.json", "tables": tables}]

    drops = tracking_regressions(result(0.90, 0.60), result(0.905, 0.70), tolerance=1.0)
    # Car dropped 0.5 points (within tolerance); Cyclist 10 points, Overall 5.25 points
    assert [(d["class"], d["metric"], round(d["delta"], 6)) for d in drops] == [
        ("Cyclist", "sAMOTA", -10.0),
        ("Overall", "sAMOTA", -5.25),
    ]
    assert tracking_regressions(result(0.9, 0.6), [], tolerance=1.0) == []


def test_a_baseline_with_old_folder_names_lines_up() -> None:
    from drivestack.report.collect import ScenarioRow
    from drivestack.report.compare import comparable_key, compare_rows

    assert comparable_key("pdm/ccrs_10kph_") == "pdm/ccrs_10kph"  # before the folder fix
    assert comparable_key("pdm/ccrs_10kph_0003") == "pdm/ccrs_10kph_0003"  # fleets unchanged
    old = [ScenarioRow("pdm/ccrs_10kph_", "ccrs[10kph]", "pdm", "pass", score=90.0)]
    new = [ScenarioRow("pdm/ccrs_10kph", "ccrs[10kph]", "pdm", "fail", score=40.0)]
    cmp_ = compare_rows(new, old)
    assert cmp_.common == ("pdm/ccrs_10kph",) and not cmp_.only_in_run
    assert [c.kind for c in cmp_.regressions] == ["newly_fails"]


def _fused_result(lidar: float, fused: float) -> dict:
    """A ``drivestack eval tracking --fusion camera`` metrics.json: 3D and 2D MOT, both modes."""
    return {
        "split": "val",
        "metrics": {
            name: {"lidar": {"Car": _clear(lidar, 0.8, 0, 1)}, "fused": {"Car": _clear(fused, 0.9, 0, 1)}}
            for name in ("3d_iou0.25", "2d_iou0.5")
        },
    }  # fmt: skip


def test_tracking_blocks_read_the_plain_and_the_fused_layouts() -> None:
    plain = {"metrics": {"iou_0.5": {"protocol": {"min_overlap": 0.5, "similarity": "iou_2d"},
             "classes": {"Car": _clear(0.9, 0.8, 0, 1)}}, "eval_time_s": 1.0}}  # fmt: skip
    ((block,),) = [tracking_blocks(plain)]
    assert (block["name"], block["similarity"], block["iou"], block["mode"]) == (
        "iou_0.5", "iou_2d", 0.5, "")  # fmt: skip
    fused = tracking_blocks(_fused_result(0.9, 0.95))
    assert [(b["name"], b["similarity"], b["iou"], b["mode"]) for b in fused] == [
        ("3d_iou0.25 lidar", "iou_3d", 0.25, "lidar"),
        ("3d_iou0.25 fused", "iou_3d", 0.25, "fused"),
        ("2d_iou0.5 lidar", "iou_2d", 0.5, "lidar"),
        ("2d_iou0.5 fused", "iou_2d", 0.5, "fused"),
    ]
    assert fused[1]["classes"]["Car"]["clear"]["sAMOTA"] == 0.95
    # anything else is not a tracking result
    for other in ({}, {"metrics": []}, {"metrics": {"3d_iou0.25": {"lidar": [1]}}},
                  {"metrics": {"mean_ap": 0.3, "label_aps": {"car": {"0.5": 0.1}}}}):  # fmt: skip
        assert tracking_blocks(other) == []


def test_fused_tables_and_anchors_per_mode() -> None:
    anchors = {("iou_3d", 0.25): {"Car": {"sAMOTA": 93.34}}, ("iou_2d", 0.5): {"Car": {"sAMOTA": 93.08}}}  # fmt: skip
    tables = tracking_tables(_fused_result(0.9, 0.95), anchors)
    assert [(t["mode"], t["rows"]["Car"]["sAMOTA"]) for t in tables] == [
        ("lidar", pytest.approx(90.0)), ("fused", pytest.approx(95.0)),
        ("lidar", pytest.approx(90.0)), ("fused", pytest.approx(95.0)),
    ]  # fmt: skip
    assert [t["published"]["Car"]["sAMOTA"] for t in tables] == [93.34, 93.34, 93.08, 93.08]
    assert [table_title(t) for t in tables[:2]] == [
        "iou_3d 0.25, LiDAR only",
        "iou_3d 0.25, camera-LiDAR fused",
    ]


def test_a_fused_run_compares_with_a_lidar_only_baseline_at_matching_thresholds() -> None:
    classes = {"Car": _clear(0.93, 0.8, 0, 1)}
    plain = [{"file": "metrics.json", "tables": tracking_tables(
        {"metrics": {"iou_0.25": {"protocol": {"min_overlap": 0.25, "similarity": "iou_3d"},
                                  "classes": classes}}}, {})}]  # fmt: skip
    fused = [{"file": "metrics.json", "tables": tracking_tables(_fused_result(0.90, 0.95), {})}]
    # the fused run's 3D blocks (both modes) against the plain 3D 0.25 table; no 2D baseline
    assert [baseline_table(plain, "metrics.json", tb) is not None for tb in fused[0]["tables"]] == [
        True, True, False, False]  # fmt: skip
    drops = tracking_regressions(fused, plain, tolerance=1.0)
    assert [(d["table"], d["baseline_table"], d["metric"], round(d["delta"], 6)) for d in drops] == [
        ("3d_iou0.25 lidar", "iou_0.25", "sAMOTA", -3.0)]  # fmt: skip
    # the other way round: the plain run (93) against the fused baseline's LiDAR-only block
    # (90), not its fused one (95)
    other = baseline_table(fused, "metrics.json", plain[0]["tables"][0])
    assert other is not None and other["name"] == "3d_iou0.25 lidar"
    assert tracking_regressions(plain, fused, tolerance=1.0) == []
    # fused against fused: mode against the same mode
    for tb in fused[0]["tables"]:
        assert baseline_table(fused, "metrics.json", tb) is tb
    assert baseline_table(fused, "other/metrics.json", fused[0]["tables"][0]) is None
