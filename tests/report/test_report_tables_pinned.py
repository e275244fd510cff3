"""Report table and baseline rules a mutation review found unguarded: every test here fails
under a plausible one-token change of the code that no other test noticed.

- a scenario comparison lists the largest score drop first (compare.py);
- a range sweep's bins widen to values outside the declared range, and a range of one value
  is still declared (sweep.py);
- a tracking Overall is n/a for a column some class lacks, a class without labels is told by
  its n_gt or its missing MOTA, a re-mean gap of exactly the threshold is not shown, and a
  drop of exactly the tolerance is no regression (tracking.py);
- detection class lists are coverage, frames compare as sets, a drop of exactly the
  tolerance is no regression, and regressions come largest first (detection.py);
- a forecast error that moved by exactly the tolerance is no change, regressions are ranked
  in points and metres, the moving threshold must agree, the headline reads recorded traffic
  (prediction.py);
- open-loop results over other logs compare no over-all-logs figures (planning.py).
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

from drivestack.report.collect import ScenarioRow
from drivestack.report.compare import compare_rows
from drivestack.report.detection import compare_detection, frames_warning, not_comparable
from drivestack.report.planning import compare_planning, read_planning
from drivestack.report.prediction import headline, read_prediction
from drivestack.report.sweep import bin_values, sweep_spans
from drivestack.report.tracking import (
    COUNT_COLUMNS,
    RATE_COLUMNS,
    class_row,
    has_no_labels,
    no_remean_rows,
    overall_row,
    tracking_regressions,
)
from tests.report.test_prediction_planning import _compare_pred, planning_result, prediction_result

# compare.py ---------------------------------------------------------------------------------


def test_score_drops_are_listed_largest_drop_first() -> None:
    """Regressions: newly crashing / failing first, then score drops by their delta,
    ascending, so the largest drop (most negative delta) leads."""
    base = [
        ScenarioRow("pdm/a", "a", "pdm", "fail", score=90.0),
        ScenarioRow("pdm/b", "b", "pdm", "fail", score=90.0),
    ]
    run = [
        ScenarioRow("pdm/a", "a", "pdm", "fail", score=85.0),  # delta -5
        ScenarioRow("pdm/b", "b", "pdm", "fail", score=70.0),  # delta -20
    ]
    cmp_ = compare_rows(run, base, 1.0)
    # both dropped by more than 1 point: b (-20) before a (-5)
    assert [(c.key, c.kind, c.delta) for c in cmp_.regressions] == [
        ("pdm/b", "score_dropped", -20.0),
        ("pdm/a", "score_dropped", -5.0),
    ]


# sweep.py -----------------------------------------------------------------------------------


def test_range_bins_widen_to_values_outside_the_declared_range() -> None:
    """Bins are cut over the declared range widened to the values: span (20, 60) with values
    10 and 70 gives the range [10, 70]; 4 distinct values -> ceil(sqrt(4)) = 2 bins with
    edges 10, 40, 70. 10, 20, 30 lie in [10, 40), 70 in the closed last bin [40, 70]."""
    bins, idx = bin_values([10.0, 20.0, 30.0, 70.0], span=(20.0, 60.0))
    assert [(b["label"], b["low"], b["high"]) for b in bins] == [
        ("[10, 40)", 10.0, 40.0),
        ("[40, 70]", 40.0, 70.0),
    ]
    assert idx.tolist() == [0, 0, 0, 1]


def test_a_declared_range_of_one_value_is_kept() -> None:
    """sweep_spans keeps a ``--sweep key=low:high`` whose low equals its high (low <= high):
    it is still a range sweep, so its values are cut into one interval bin [30, 30]."""
    manifest = {"sweep": {"params": [{"key": "speed", "low": 30, "high": 30}]}}
    spans = sweep_spans(manifest, "fleet")
    assert spans == {"speed": (30.0, 30.0)}
    bins, idx = bin_values([30.0, 30.0], span=spans["speed"])
    assert [b["label"] for b in bins] == ["[30, 30]"] and idx.tolist() == [0, 0]


# tracking.py --------------------------------------------------------------------------------


def _row(rate: float | None, hota: float | None) -> dict[str, float | None]:
    """A class row: every rate ``rate`` (HOTA columns ``hota``), every count 1."""
    row: dict[str, float | None] = dict.fromkeys(RATE_COLUMNS, rate)
    row.update(dict.fromkeys(("HOTA", "DetA", "AssA", "LocA"), hota))
    row.update(dict.fromkeys(COUNT_COLUMNS, 1.0))
    return row


def test_overall_is_na_for_a_column_some_class_lacks() -> None:
    """Overall averages a rate over the classes, but is None (n/a) for a column one class
    lacks (HOTA of an older result): Car's HOTA 40 alone is not an Overall over Car and
    Pedestrian. sAMOTA: (80 + 60) / 2 = 70; counts summed: 1 + 1 = 2."""
    overall = overall_row({"Car": _row(80.0, 40.0), "Pedestrian": _row(60.0, None)})
    assert overall["sAMOTA"] == 70.0
    assert overall["HOTA"] is None and overall["LocA"] is None
    assert overall["FP"] == 2.0


def _clear(samota: float | None, mota: float | None, n_gt: int | None) -> dict[str, Any]:
    best: dict[str, Any] = {"MOTA": mota, "MOTP": mota, "IDS": 0, "FRAG": 0, "FP": 3, "FN": 0}
    if n_gt is not None:
        best["n_gt"] = n_gt
    return {"sAMOTA": samota, "AMOTA": samota, "AMOTP": samota, "best": best}


def test_no_labels_is_told_by_n_gt_or_by_a_missing_mota() -> None:
    """A class has no labels when ``n_gt`` is 0 *or* its MOTA is null: an older result
    without ``n_gt`` whose rates are null is n/a (its row keeps its counts, FP 3), as is a
    result whose n_gt is 0 even where a MOTA was written."""
    older = {"clear": _clear(None, None, None)}
    assert has_no_labels(older)
    row = class_row(older)
    assert row["MOTA"] is None and row["sAMOTA"] is None and row["FP"] == 3.0
    assert has_no_labels({"clear": _clear(0.0, 0.0, 0)})
    assert not has_no_labels({"clear": _clear(0.5, 0.5, 10)})


def test_a_remean_gap_of_exactly_the_threshold_is_not_shown() -> None:
    """The figures without the devkit's re-mean are shown when they differ by *more than*
    0.5 points: sAMOTA 50.0 against 49.5 (gap 0.5) is not shown; against 49.0 (gap 1.0) it
    is. (0.5 and 0.495, 0.49 give exactly 50.0, 49.5, 49.0 in percent.)"""

    def cls(other: float) -> dict[str, Any]:
        return {
            "clear": _clear(0.5, 0.5, 10),
            "clear_without_devkit_remean": _clear(other, 0.5, 10),
        }

    assert no_remean_rows({"Car": cls(0.495)}) == {}
    shown = no_remean_rows({"Car": cls(0.49)})
    assert list(shown) == ["Car"] and shown["Car"]["sAMOTA"] == 49.0


def _tables(samota: float, mota: float) -> list[dict[str, Any]]:
    table = {
        "name": "iou_0.5",
        "similarity": "iou_3d",
        "iou": 0.5,
        "mode": "",
        "rows": {"Car": {"sAMOTA": samota, "MOTA": mota}},
    }
    return [{"file": "trk/metrics.json", "tables": [table]}]


def test_a_tracking_drop_of_exactly_the_tolerance_is_no_regression() -> None:
    """A tracking regression is a drop of *more than* the tolerance: sAMOTA 80 -> 79 with a
    1-point tolerance is none; MOTA 70 -> 68.5 (delta -1.5) is one."""
    drops = tracking_regressions(_tables(79.0, 68.5), _tables(80.0, 70.0), tolerance=1.0)
    assert [(d["class"], d["metric"], d["delta"]) for d in drops] == [("Car", "MOTA", -1.5)]


# detection.py -------------------------------------------------------------------------------


def _kitti(
    config: dict[str, Any] | None = None, aps: dict[str, float] | None = None
) -> dict[str, Any]:
    metrics: dict[str, Any] = {"protocol": "kitti_3d_object", **(aps or {})}
    if config is not None:
        metrics["protocol_config"] = config
    return {"dataset": "kitti", "metrics": metrics}


def test_detection_class_lists_are_coverage_not_settings() -> None:
    """``classes`` says which classes were scored, not how: a run of Car and Pedestrian and a
    baseline of Car alone are comparable ("" : no reason why not); an IoU setting that
    differs on a class both score is a settings difference."""
    run = _kitti({"classes": ["Car", "Pedestrian"], "iou": {"Car": 0.7, "Pedestrian": 0.5}})
    base = _kitti({"classes": ["Car"], "iou": {"Car": 0.7}})
    assert not_comparable(run, base) == ""
    other = _kitti({"classes": ["Car"], "iou": {"Car": 0.5}})
    assert not_comparable(run, other) == "their protocol settings differ (iou)"


def test_detection_frames_compare_as_sets() -> None:
    """The same frames listed in another order are the same scans: no warning. Frames
    {000001, 000002} against {000002, 000003}: 2 against 2, 1 in common."""
    a, b = Path("run/det.json"), Path("base/det.json")
    same = frames_warning({"frames": ["000001", "000002"]}, {"frames": ["000002", "000001"]}, a, b)
    assert same == ""
    other = frames_warning({"frames": ["000001", "000002"]}, {"frames": ["000002", "000003"]}, a, b)
    assert "(2 frames against 2, 1 in common)" in other


def test_a_detection_drop_of_exactly_the_tolerance_is_no_regression() -> None:
    """An AP regression is a drop of *more than* the tolerance: Car 3D 71 -> 70 with 1 point
    is none (its row still shows delta -1); Car BEV 80 -> 78.5 (delta -1.5) is one."""
    run = {"d.json": _kitti(aps={"Car_3D_AP40_moderate": 70.0, "Car_BEV_AP40_moderate": 78.5})}
    base = {"d.json": _kitti(aps={"Car_3D_AP40_moderate": 71.0, "Car_BEV_AP40_moderate": 80.0})}
    comparisons, regressions, warnings = compare_detection(run, base, Path("r"), Path("b"), 1.0)
    assert warnings == []
    assert {(r["metric"], r["delta"]) for r in comparisons[0]["rows"]} == {
        ("3D AP40", -1.0),
        ("BEV AP40", -1.5),
    }
    assert [(r["metric"], r["delta"]) for r in regressions] == [("BEV AP40", -1.5)]


def test_detection_regressions_are_listed_largest_drop_first() -> None:
    """Regressions sorted by delta ascending: 3D dropped 5 points (-5), BEV 2 (-2): 3D first,
    whatever the order the figures are read in (BEV before 3D)."""
    run = {"d.json": _kitti(aps={"Car_3D_AP40_moderate": 65.0, "Car_BEV_AP40_moderate": 78.0})}
    base = {"d.json": _kitti(aps={"Car_3D_AP40_moderate": 70.0, "Car_BEV_AP40_moderate": 80.0})}
    _, regressions, _ = compare_detection(run, base, Path("r"), Path("b"), 1.0)
    assert [(r["metric"], r["delta"]) for r in regressions] == [
        ("3D AP40", -5.0),
        ("BEV AP40", -2.0),
    ]


# prediction.py ------------------------------------------------------------------------------


def test_an_fde_moved_by_exactly_the_tolerance_is_no_change() -> None:
    """A forecast error is a regression when it rose by *more than* the tolerance and an
    improvement when it fell by more: with 0.5 m, moving vehicles' FDE 2.5 -> 3.0 (+0.5)
    and moving pedestrians' 1.5 -> 1.0 (-0.5) are neither (change None)."""
    base, run = prediction_result(), prediction_result()
    base["metrics"]["recorded"]["constant_velocity"]["pedestrian"]["moving"]["FDE@3s"] = 1.5
    cv = run["metrics"]["recorded"]["constant_velocity"]
    cv["vehicle"]["moving"]["FDE@3s"] = 3.0  # baseline 2.5
    cv["pedestrian"]["moving"]["FDE@3s"] = 1.0  # baseline 1.5
    pairs, regressions, _ = _compare_pred(run, base, error_tolerance_m=0.5)
    fde = {
        r["group"]: (r["delta"], r["change"])
        for r in pairs[0]["rows"]
        if r["model"] == "constant_velocity" and r["metric"] == "FDE@3s"
    }
    assert fde["vehicle"][1] is None and fde["pedestrian"][1] is None
    assert fde["vehicle"][0] == 0.5 and fde["pedestrian"][0] == -0.5
    assert regressions == []


def test_forecast_regressions_are_ranked_in_points_and_metres() -> None:
    """Regressions, largest first, rank a miss rate by its rise in percentage points and an
    FDE by its rise in metres: miss rate 0.40 -> 0.45 is +5 points, FDE 2.5 -> 3.0 m is
    +0.5: the miss rate comes first."""
    base, run = prediction_result(), prediction_result()
    cv = run["metrics"]["recorded"]["constant_velocity"]["vehicle"]["moving"]
    cv["FDE@3s"], cv["miss_rate"] = 3.0, 0.45
    _, regressions, _ = _compare_pred(run, base)
    assert [r["metric"] for r in regressions] == ["miss_rate", "FDE@3s"]


def test_forecasts_with_other_moving_thresholds_are_not_compared() -> None:
    """``moving_displacement_m`` defines which agents are "moving": results with 1 m and
    2 m are not comparable, and no row is compared."""
    pairs, regressions, warnings = _compare_pred(
        prediction_result(), prediction_result(moving_displacement_m=2.0)
    )
    assert not pairs[0]["comparable"] and pairs[0]["rows"] == [] and regressions == []
    assert pairs[0]["not_comparable"] == "moving_displacement_m 1.0 here, 2.0 in the baseline"
    assert len(warnings) == 1


def test_the_prediction_headline_reads_recorded_traffic_first() -> None:
    """The headline shows the moving vehicles' FDE of recorded traffic when the result has
    it, even when another kind comes first: recorded constant_velocity FDE@3s is 2.5 m
    (prediction_result), the other kind's is made 9.0."""
    result = prediction_result()
    recorded = result["metrics"]["recorded"]
    simulated = copy.deepcopy(recorded)
    simulated["constant_velocity"]["vehicle"]["moving"]["FDE@3s"] = 9.0
    result["metrics"] = {"simulated": simulated, "recorded": recorded}
    lines = headline({"m.json": read_prediction(result)}, [])
    cv = [line for line in lines if "constant_velocity" in line["name"]]
    assert [(line["name"], line["value"]) for line in cv] == [
        ("prediction constant_velocity: FDE@3s m, moving vehicles (recorded)", 2.5)
    ]


# planning.py --------------------------------------------------------------------------------


def test_planning_over_other_logs_compares_no_all_logs_figures() -> None:
    """Results that scored other logs compare only the logs in both (here none); the
    planners' figures over all logs (log ``all``) are left out on both sides, not listed as
    the run's own: only_in_run is the two planners on log_a, nothing on ``all``."""
    base = planning_result()
    base["logs"][0]["log"] = "log_b"
    comparisons, regressions, warnings = compare_planning(
        {"m.json": read_planning(planning_result())},
        {"m.json": read_planning(base)},
        Path("run"),
        Path("base"),
        score_tolerance=1.0,
        error_tolerance_m=0.1,
    )
    entry = comparisons[0]
    assert entry["comparable"] and not entry["same_logs"] and entry["rows"] == []
    assert sorted(entry["only_in_run"]) == [
        "constant_velocity on log_a_0123456789",
        "pdm on log_a_0123456789",
    ]
    assert sorted(entry["only_in_baseline"]) == ["constant_velocity on log_b", "pdm on log_b"]
    assert regressions == [] and len(warnings) == 1
