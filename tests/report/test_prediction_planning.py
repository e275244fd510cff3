"""``drivestack report`` of ``drivestack eval prediction`` and ``eval planning`` run folders:
recognised from hand-written metrics.json files, read with their fields checked (a bad field
is a problem naming the file and field), compared with a baseline only when their settings
agree, and shown as tables with inline figures. The real runs are made in a tmp folder."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

import pytest

from drivestack.cli import main
from drivestack.core.errors import DataError
from drivestack.report.collect import classify, load_run, require_results
from drivestack.report.planning import (
    ade_curve,
    compare_planning,
    instant_ade,
    read_planning,
)
from drivestack.report.prediction import compare_prediction, read_prediction


def _cell(cases: int, ade: float, fde: float, miss: float, multi: bool = False) -> dict[str, Any]:
    row: dict[str, Any] = {"cases": cases, "ADE@1s": ade / 3, "FDE@1s": fde / 3}
    row |= {"ADE@2s": ade / 2, "FDE@2s": fde / 2, "ADE@3s": ade, "FDE@3s": fde, "miss_rate": miss}
    if multi:
        row |= {"minADE": ade / 2, "minFDE": fde / 2, "brier_minFDE": fde, "miss_rate_K": miss / 2}
    return row


def prediction_result(**settings: Any) -> dict[str, Any]:
    """A small ``eval prediction`` metrics.json: recorded traffic, two models (one with
    K = 2 modes), moving vehicles and pedestrians and stationary vehicles without cases."""

    def groups(scale: float, multi: bool) -> dict[str, Any]:
        return {
            "vehicle": {
                "moving": _cell(10, 1.0 * scale, 2.5 * scale, 0.4, multi),
                "stationary": {"cases": 0, "ADE@3s": None, "FDE@3s": None, "miss_rate": None},
            },
            "pedestrian": {"moving": _cell(4, 0.3 * scale, 0.7 * scale, 0.0, multi)},
        }

    return {
        "dataset": "av2",
        "root": "/data/av2",
        "settings": {
            "models": {"constant_velocity": "cv", "lane_branches": "branches"},
            "history_s": 1.0,
            "horizon_s": 3.0,
            "stride_s": 0.5,
            "fit_window_s": 0.3,
            "miss_threshold_m": 2.0,
            "moving_displacement_m": 1.0,
            **settings,
        },
        "model_records": {},
        "git_commit": "abc1234",
        "command": "drivestack eval prediction --dataset av2",
        "checkpoints_s": [1.0, 2.0, 3.0],
        "recordings": [{"name": "log_a", "traffic": "recorded", "cases": 14, "has_map": True}],
        "cases": {"recorded": 14},
        "modes": {"constant_velocity": 1, "lane_branches": 2},
        "metrics": {
            "recorded": {
                "constant_velocity": groups(1.0, False),
                "lane_branches": groups(1.2, True),
            }
        },
        "notes": ["pasts are ground-truth boxes (labels), not tracker output"],
    }


def _planner(displacements: list[list[float]], score: float) -> dict[str, Any]:
    """One planner on one log: instants at 0, 1, 2 s with the given displacements (m)."""
    horizons = []
    for h in (1, 2):
        rows = [d for d in displacements if len(d) >= h]
        horizons.append(
            {
                "horizon_s": float(h),
                "instants": len(rows),
                "average_l2_m": sum(sum(d[:h]) / h for d in rows) / len(rows),
                "final_l2_m": sum(d[h - 1] for d in rows) / len(rows),
                "average_heading_rad": 0.1,
                "final_heading_rad": 0.2,
                "miss_rate": 0.0,
            }
        )
    return {
        "horizons": horizons,
        "scores": {
            "average_l2": 0.8,
            "final_l2": 0.7,
            "average_heading": 0.9,
            "final_heading": 0.8,
        },
        "weighted_score": score,
        "miss_rate_within_bound": 1.0,
        "score": score,
        "instants": [
            {"time_s": float(t), "displacement_m": d, "heading_error_rad": [0.1] * len(d)}
            for t, d in enumerate(displacements)
        ],
    }


def planning_result(**settings: Any) -> dict[str, Any]:
    """A small ``eval planning`` metrics.json: one 3 s log, horizons 1 and 2 s, two planners."""
    pdm = _planner([[1.0, 3.0], [2.0, 4.0], [2.0]], 0.8)
    cv = _planner([[1.0, 1.0], [1.0, 1.0], [1.0]], 0.6)
    planners = {"constant_velocity": cv, "pdm": pdm}
    return {
        "dataset": "av2",
        "settings": {
            "planners": ["constant_velocity", "pdm"],
            "horizons_s": [1.0, 2.0],
            "sample_interval_s": 1.0,
            "max_average_l2_error_m": 8.0,
            "miss_thresholds_m": [6.0, 8.0],
            "max_miss_rate": 0.3,
            **settings,
        },
        "git_commit": "abc1234",
        "logs": [{"log": "log_a_0123456789", "span_s": 3.0, "planners": planners}],
        "overall": {
            p: {
                "score": r["score"],
                "pooled_instants": copy.deepcopy({k: v for k, v in r.items() if k != "instants"}),
            }
            for p, r in planners.items()
        },
        "notes": ["1 log(s): a small sample; instants of one log overlap in time"],
    }


def _folder(root: Path, result: dict[str, Any], sub: str = "") -> Path:
    folder = root / sub if sub else root
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "metrics.json").write_text(json.dumps(result))
    return root


def test_both_kinds_are_recognised_and_read(tmp_path: Path) -> None:
    pred, plan = prediction_result(), planning_result()
    assert classify(pred) == "prediction" and classify(plan) == "planning"
    run = load_run(_folder(_folder(tmp_path / "run", pred, "pred"), plan, "ols"))
    assert run.kind == "eval" and run.problems == ()
    p = run.prediction["pred/metrics.json"]
    assert p["settings"]["history_s"] == 1.0 and p["checkpoints_s"] == [1.0, 2.0, 3.0]
    assert [m["modes"] for m in p["models"]] == [1, 2]
    assert p["metrics"]["recorded"]["lane_branches"]["vehicle"]["moving"]["FDE@3s"] == 3.0
    o = run.planning["ols/metrics.json"]
    assert o["logs"][0]["short"] == "log_a_01" and set(o["overall"]) == {"constant_velocity", "pdm"}


def test_ade_curve_and_instant_errors_by_hand() -> None:
    """pdm: instants [1, 3], [2, 4], [2] (the last one covers 1 s only)."""
    result = read_planning(planning_result())
    instants = result["logs"][0]["planners"]["pdm"]["instants"]
    t, ade = ade_curve(instants, result["settings"])
    assert t == [1.0, 2.0]
    assert ade == pytest.approx([(1 + 2 + 2) / 3, (2.0 + 3.0) / 2])
    assert instant_ade(instants, 2.0, result["settings"]) == ([0.0, 1.0], [2.0, 3.0])
    # at the recorded horizons the curve is the recorded ADE
    recorded = [h["average_l2_m"] for h in result["logs"][0]["planners"]["pdm"]["horizons"]]
    assert ade == pytest.approx(recorded)


def _compare_pred(
    run: dict[str, Any], base: dict[str, Any], error_tolerance_m: float = 0.1
) -> tuple[list[dict], list[dict], list[str]]:
    return compare_prediction(
        {"m.json": read_prediction(run)},
        {"m.json": read_prediction(base)},
        Path("run"),
        Path("base"),
        score_tolerance=1.0,
        error_tolerance_m=error_tolerance_m,
    )


def test_a_made_up_forecast_regression_is_found() -> None:
    base, run = prediction_result(), prediction_result()
    cv = run["metrics"]["recorded"]["constant_velocity"]
    cv["vehicle"]["moving"]["FDE@3s"] = 2.5 + 0.4  # worse by 0.4 m > 0.1 m
    cv["vehicle"]["moving"]["miss_rate"] = 0.4 + 0.005  # +0.5 points < 1 point: no change
    cv["pedestrian"]["moving"]["FDE@3s"] = 0.7 - 0.05  # better by 0.05 m < 0.1 m: no change
    run["metrics"]["recorded"]["lane_branches"]["pedestrian"]["moving"]["miss_rate"] = 0.25
    pairs, regressions, warnings = _compare_pred(run, base)
    assert warnings == [] and pairs[0]["comparable"]
    found = {(r["model"], r["group"], r["metric"]) for r in regressions}
    assert found == {
        ("constant_velocity", "vehicle", "FDE@3s"),
        ("lane_branches", "pedestrian", "miss_rate"),  # +25 points
    }
    changes = {(r["model"], r["group"], r["metric"]): r["change"] for r in pairs[0]["rows"]}
    assert changes[("constant_velocity", "vehicle", "miss_rate")] is None
    assert changes[("constant_velocity", "pedestrian", "FDE@3s")] is None
    # the cell without cases (stationary vehicles) is not compared
    assert not any(r["motion"] == "stationary" for r in pairs[0]["rows"])
    # an improvement: the baseline was worse
    _, back, _ = _compare_pred(base, run)
    assert back == []


def test_a_multimodal_regression_under_the_same_top_mode_is_found() -> None:
    # only FDE@3s and miss_rate were compared: worse other modes (minFDE_6 1.78 -> 5.64 m,
    # miss_rate_6 0.24 -> 0.81 on CommonRoad) read "0 forecast errors worse"
    base, run = prediction_result(), prediction_result()
    branches = run["metrics"]["recorded"]["lane_branches"]["vehicle"]["moving"]
    branches["minFDE"] += 3.0
    branches["brier_minFDE"] += 3.0
    branches["miss_rate_K"] += 0.5
    pairs, regressions, _ = _compare_pred(run, base)
    found = {(r["model"], r["group"], r["metric"]) for r in regressions}
    assert found == {
        ("lane_branches", "vehicle", metric) for metric in ("minFDE", "brier_minFDE", "miss_rate_K")
    }
    # a single-mode model has no such cells: nothing compared for them
    compared = {(r["model"], r["metric"]) for r in pairs[0]["rows"]}
    assert ("constant_velocity", "minFDE") not in compared


@pytest.mark.parametrize(
    ("setting", "value"),
    [("history_s", 2.0), ("horizon_s", 5.0), ("stride_s", 1.0), ("fit_window_s", 0.5)],
)
def test_forecasts_of_other_settings_are_not_compared(setting: str, value: float) -> None:
    run = prediction_result(**{setting: value})
    run["metrics"]["recorded"]["constant_velocity"]["vehicle"]["moving"]["FDE@3s"] = 99.0
    pairs, regressions, warnings = _compare_pred(run, prediction_result())
    assert regressions == [] and pairs[0]["rows"] == [] and not pairs[0]["comparable"]
    (warning,) = warnings
    assert f"{setting} {value} here" in warning and "not comparable" in warning


def test_forecasts_of_other_datasets_and_recordings() -> None:
    other = prediction_result()
    other["dataset"], other["split"] = "kitti-tracking", "val"
    pairs, _, (warning,) = _compare_pred(other, prediction_result())
    assert not pairs[0]["comparable"] and "dataset kitti-tracking here, av2" in warning
    fewer = prediction_result()
    fewer["recordings"].append({"name": "log_b", "traffic": "recorded", "cases": 0})
    pairs, _, (warning,) = _compare_pred(fewer, prediction_result())
    assert pairs[0]["comparable"] and not pairs[0]["same_recordings"]
    assert "not scored on the same recordings (2 against 1, 1 in common)" in warning


def _compare_plan(
    run: dict[str, Any], base: dict[str, Any]
) -> tuple[list[dict], list[dict], list[str]]:
    return compare_planning(
        {"m.json": read_planning(run)},
        {"m.json": read_planning(base)},
        Path("run"),
        Path("base"),
        score_tolerance=1.0,
        error_tolerance_m=0.1,
    )


def test_a_made_up_planning_regression_is_found() -> None:
    base, run = planning_result(), planning_result()
    pdm = run["logs"][0]["planners"]["pdm"]
    pdm["score"] = 0.8 - 0.1  # 10 points down
    pdm["horizons"][1]["average_l2_m"] += 0.3  # ADE@2s 0.3 m worse
    run["overall"]["pdm"]["score"] = 0.7
    cv = run["logs"][0]["planners"]["constant_velocity"]
    cv["score"] = 0.6 + 0.005  # half a point: no change
    pairs, regressions, warnings = _compare_plan(run, base)
    assert warnings == [] and pairs[0]["comparable"]
    found = {(r["planner"], r["log"], r["metric"]) for r in regressions}
    assert found == {
        ("pdm", "log_a_0123456789", "OLS"),
        ("pdm", "log_a_0123456789", "ADE@2s"),
        ("pdm", "all", "OLS"),
    }
    _, improved, _ = _compare_plan(base, run)
    assert improved == []


def test_planning_of_other_settings_or_logs() -> None:
    run = planning_result(sample_interval_s=0.5)
    run["logs"][0]["planners"]["pdm"]["score"] = 0.0
    pairs, regressions, (warning,) = _compare_plan(run, planning_result())
    assert regressions == [] and pairs[0]["rows"] == []
    assert "sample_interval_s 0.5 here, 1.0 in the baseline" in warning
    # another planner list is coverage, not a setting
    more = planning_result(planners=["constant_velocity", "pdm", "idm"])
    assert _compare_plan(more, planning_result())[0][0]["comparable"]
    # other logs: the logs in both are compared, the figures over all logs are not
    other = planning_result()
    other["logs"].append(copy.deepcopy(other["logs"][0]) | {"log": "log_b"})
    pairs, _, (warning,) = _compare_plan(other, planning_result())
    assert "scored other logs (2 against 1, 1 in common)" in warning
    assert {r["log"] for r in pairs[0]["rows"]} == {"log_a_0123456789"}
    assert "pdm on log_b" in pairs[0]["only_in_run"]


def _images(section: str) -> int:
    return len(re.findall(r'<img src="data:image/png;base64,[A-Za-z0-9+/=]{200,}"', section))


def test_the_page_holds_the_tables_and_figures(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run = _folder(_folder(tmp_path / "run", prediction_result(), "pred"), planning_result(), "ols")
    worse = prediction_result()
    worse["metrics"]["recorded"]["constant_velocity"]["vehicle"]["moving"]["FDE@3s"] = 2.0
    base = _folder(_folder(tmp_path / "base", worse, "pred"), planning_result(), "ols")
    out = tmp_path / "report.html"
    assert main(["report", str(run), "--baseline", str(base), "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "prediction results of av2 and open-loop planning results of av2" in printed
    assert "1 forecast errors worse, 0 open-loop figures worse" in printed
    page = out.read_text()
    pred = page.split('<h2 id="prediction">', 1)[1].split('<h2 id="planning">', 1)[0]
    plan = page.split('<h2 id="planning">', 1)[1]
    assert pred.count('class="prediction-table"') == 2  # moving vehicles, moving pedestrians
    assert "<th>minADE K</th>" in pred and "lane_branches (K = 2)" in pred
    assert "history 1 s, horizon 3 s, anchors every 0.5 s" in pred
    assert "pasts are ground-truth boxes" in pred and _images(pred) == 1
    assert 'class="sortable planning-errors"' in plan and 'class="sortable planning-scores"' in plan
    assert "nuPlan open loop" in plan and "a small sample" in plan and _images(plan) == 2
    regressions = page.split('<h2 id="regressions">', 1)[1].split("<h2", 1)[0]
    assert 'class="sortable regressions prediction-regressions"' in regressions
    data = json.loads(out.with_suffix(".json").read_text())
    (line,) = [h for h in data["headline"] if "constant_velocity: FDE@3s" in h["name"]]
    assert line["lower_is_better"] and line["value"] == 2.5 and line["baseline"] == 2.0
    assert data["error_tolerance_m"] == 0.1 and data["git_commit"] == "abc1234"


def test_the_error_tolerance_option(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    worse = prediction_result()
    worse["metrics"]["recorded"]["constant_velocity"]["vehicle"]["moving"]["FDE@3s"] = 2.0
    run, base = _folder(tmp_path / "r", prediction_result()), _folder(tmp_path / "b", worse)
    out = tmp_path / "report.html"
    argv = ["report", str(run), "--baseline", str(base), "--out", str(out)]
    assert main([*argv, "--error-tolerance-m", "0.6"]) == 0
    assert "0 forecast errors worse" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        main([*argv, "--error-tolerance-m", "-1"])
    assert "must be a finite number of at least 0" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("kind", "edit", "field"),
    [
        (
            "prediction",
            ("metrics", "recorded", "constant_velocity", "vehicle", "moving", "FDE@3s", "far"),
            "metrics.recorded.constant_velocity.vehicle.moving.FDE@3s",
        ),
        ("prediction", ("settings", "horizon_s", -3.0), "settings.horizon_s"),
        ("prediction", ("checkpoints_s", None), "checkpoints_s"),
        ("planning", ("logs", None), "logs"),
        ("planning", ("settings", "horizons_s", [1.5, 2.0]), "settings"),
        ("planning", ("overall", "pdm", "score", float("nan")), "overall.pdm.score"),
    ],
)
def test_a_bad_field_is_a_problem_naming_file_and_field(
    tmp_path: Path, kind: str, edit: tuple[Any, ...], field: str
) -> None:
    result = prediction_result() if kind == "prediction" else planning_result()
    target = result
    *path, key, value = edit
    for k in path:
        target = target[k]
    target[key] = value
    root = tmp_path / "run"
    root.mkdir()
    (root / "metrics.json").write_text(json.dumps(result))  # NaN written as NaN (not strict)
    run = load_run(root)
    (problem,) = run.problems
    assert problem.startswith(f"{root / 'metrics.json'}: {kind} metrics.json: field {field}")
    assert run.corrupt_results == (str(root / "metrics.json"),)
    assert getattr(run, kind) == {}


def test_a_metrics_json_of_no_known_kind(tmp_path: Path) -> None:
    alone = _folder(tmp_path / "alone", {"what": 1, "settings": {"horizon": 3}})
    with pytest.raises(DataError, match=r"metrics\.json of no kind the report knows") as exc:
        require_results(load_run(alone))
    assert exc.value.path == str(alone / "metrics.json")
    beside = _folder(_folder(tmp_path / "beside", {"what": 1}, "x"), planning_result(), "ols")
    run = load_run(beside)
    require_results(run)  # the planning result is reported
    (problem,) = run.problems
    assert problem.startswith(f"{beside / 'x' / 'metrics.json'}: metrics.json of no kind")
    assert "its fields: what" in problem


@pytest.mark.data
def test_real_runs_made_here(shared_data: Path, tmp_path: Path) -> None:
    """Both eval commands on one AV2 log, then the report (about 2 s)."""
    log = next(
        p for p in sorted((shared_data / "argoverse2" / "sensor" / "val").iterdir()) if p.is_dir()
    )
    pred, ols = tmp_path / "run" / "pred", tmp_path / "run" / "ols"
    common = ["--dataset", "av2", "--root", str(log), "--quiet"]
    assert (
        main(
            [
                "eval",
                "prediction",
                *common,
                "--models",
                "constant_velocity,ctrv",
                "--out",
                str(pred),
            ]
        )
        == 0
    )
    assert main(["eval", "planning", *common, "--planner", "pdm", "--out", str(ols)]) == 0
    out = tmp_path / "report.html"
    assert main(["report", str(tmp_path / "run"), "--out", str(out)]) == 0
    data = json.loads(out.with_suffix(".json").read_text())
    assert data["problems"] == [] and data["run"]["kind"] == "eval"
    (p,) = data["prediction"]
    assert p["dataset"] == "av2" and p["recordings"][0]["cases"] > 0
    (o,) = data["planning"]
    for planner, curve in o["ade_curves"].items():  # the curve at nuPlan's horizons: as recorded
        pooled = {
            h["horizon_s"]: h["average_l2_m"] for h in o["overall"][planner]["pooled"]["horizons"]
        }
        at = dict(zip(curve["horizon_s"], curve["average_l2_m"], strict=True))
        assert [at[h] for h in pooled] == pytest.approx(list(pooled.values()), rel=1e-12)
    page = out.read_text()
    assert _images(page.split('<h2 id="prediction">', 1)[1]) == 3


def test_forecasts_from_tracks_are_not_compared_with_label_pasts() -> None:
    # eval prediction --pasts tracks scores the tracker's pasts: not comparable with a run on
    # ground-truth pasts (a result without the key is a label-past run, written before --pasts)
    tracks = prediction_result()
    tracks["pasts"] = "tracks"
    labels = prediction_result()
    assert "pasts" not in labels
    pairs, regressions, (warning,) = _compare_pred(tracks, labels)
    assert regressions == [] and not pairs[0]["comparable"]
    assert "pasts tracks here, labels in the baseline" in warning
    pairs, _, warnings = _compare_pred(labels, {**prediction_result(), "pasts": "labels"})
    assert pairs[0]["comparable"] and warnings == []


def test_the_docs_list_every_compared_prediction_setting() -> None:
    from drivestack.report.prediction import SETTINGS

    doc = (Path(__file__).resolve().parents[2] / "docs" / "fleets_and_reports.md").read_text()
    listed = " ".join(doc.split()).split("agree (prediction: ", 1)[1].split("; planning:", 1)[0]
    for _, key in SETTINGS:
        assert key in listed, key
    assert "`pasts`" in listed and "tracker config" in listed
