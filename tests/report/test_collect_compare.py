"""Reading run folders (corrupt, missing, crashed runs) and comparing runs with a baseline."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

from drivestack.report.collect import ScenarioRow, load_run, sort_rows
from drivestack.report.compare import compare_rows


def _write_metrics(root: Path, key: str, score: float, passed: bool, avoided: bool = True) -> None:
    folder = root / key
    folder.mkdir(parents=True)
    record = {
        "scenario": key.split("/")[1],
        "planner": key.split("/")[0],
        "score": score,
        "passed": passed,
        "failures": [] if passed else ["collision at 20.0 km/h"],
        "ncap": {
            "avoided": avoided,
            "min_ttc_s": 1.5,
            "impact_speed_kph": None if avoided else 20.0,
        },
    }
    (folder / "metrics.json").write_text(json.dumps(record))


def test_load_run_reports_corrupt_and_missing_metrics(tmp_path: Path) -> None:
    _write_metrics(tmp_path, "pdm/a", 90.0, True)
    _write_metrics(tmp_path, "pdm/b", 10.0, False, avoided=False)
    (tmp_path / "pdm" / "cut").mkdir()
    (tmp_path / "pdm" / "cut" / "metrics.json").write_text('{"scenario": "cut", "score": 4')
    (tmp_path / "pdm" / "typed").mkdir()
    (tmp_path / "pdm" / "typed" / "metrics.json").write_text(
        json.dumps({"score": "high", "passed": True, "ncap": {"avoided": True}})
    )
    (tmp_path / "pdm" / "nometrics").mkdir()
    (tmp_path / "pdm" / "nometrics" / "history.npz").write_bytes(b"")
    run = load_run(tmp_path)
    assert run.kind == "sim"
    by_key = {r.key: r for r in run.rows}
    assert by_key["pdm/a"].status == "pass" and by_key["pdm/a"].score == 90.0
    b = by_key["pdm/b"]
    assert (b.status, b.collision, b.impact_speed_kph) == ("fail", True, 20.0)
    assert (
        by_key["pdm/cut"].status == "corrupt" and "corrupt metrics.json" in by_key["pdm/cut"].error
    )
    assert by_key["pdm/typed"].status == "corrupt" and "field score" in by_key["pdm/typed"].error
    assert by_key["pdm/nometrics"].status == "missing"
    assert [r.key for r in run.rows] == ["pdm/cut", "pdm/typed", "pdm/nometrics", "pdm/b", "pdm/a"]
    assert len(run.problems) == 3


def test_load_run_reads_the_error_json_of_a_failed_sim_run(tmp_path: Path) -> None:
    _write_metrics(tmp_path, "pdm/a", 90.0, True)
    (tmp_path / "pdm" / "boom").mkdir()
    record = {"variant": "boom", "scenario": "boom", "planner": "pdm", "status": "failed"}
    record["error"] = "RuntimeError: planner exploded"
    (tmp_path / "pdm" / "boom" / "error.json").write_text(json.dumps(record))
    (tmp_path / "pdm" / "torn").mkdir()
    (tmp_path / "pdm" / "torn" / "error.json").write_text('{"status": "fai')
    run = load_run(tmp_path)
    by_key = {r.key: r for r in run.rows}
    assert run.kind == "sim" and by_key["pdm/a"].status == "pass"
    assert by_key["pdm/boom"].status == "crashed"
    assert by_key["pdm/boom"].error == "RuntimeError: planner exploded"
    assert by_key["pdm/torn"].status == "missing"  # an unreadable error.json: no metrics either


def test_load_run_reads_fleet_crashes_and_eval_results(tmp_path: Path) -> None:
    _write_metrics(tmp_path, "pdm/ok_0000", 80.0, True)
    (tmp_path / "fleet.json").write_text(json.dumps({"kind": "fleet", "planners": ["pdm"]}))
    crashed = {"variant": "pdm/bad_0001", "scenario": "bad#0001", "planner": "pdm",
               "status": "failed", "error": "ConfigError: no lane", "seed": 5,
               "params": {"ego.lane": "x"}}  # fmt: skip
    ok = {"variant": "pdm/ok_0000", "status": "ok", "seed": 4, "params": {"ego.speed_kph": 30}}
    (tmp_path / "fleet.jsonl").write_text(json.dumps(ok) + "\n" + json.dumps(crashed) + "\n{tru")
    (tmp_path / "trk").mkdir()
    (tmp_path / "trk" / "metrics.json").write_text(
        json.dumps({"split": "val", "metrics": {"iou_0.25": {"classes": {}}}})
    )
    (tmp_path / "metrics.json").write_text(
        json.dumps(
            {
                "dataset": "kitti",
                "metrics": {"protocol": "kitti_object", "Car_3D_AP40_easy_strict": 50.0},
            }
        )
    )
    run = load_run(tmp_path)
    assert run.kind == "fleet"
    rows = {r.key: r for r in run.rows}
    assert rows["pdm/bad_0001"].status == "crashed" and rows["pdm/bad_0001"].seed == 5
    assert rows["pdm/ok_0000"].params == {"ego.speed_kph": 30} and rows["pdm/ok_0000"].seed == 4
    assert list(run.tracking) == ["trk/metrics.json"] and list(run.detection) == ["metrics.json"]
    assert any("not JSON" in p for p in run.problems)


def _row(key: str, status: str, score: float | None) -> ScenarioRow:
    return ScenarioRow(key, key, key.split("/")[0], status, score=score)


def test_compare_rows_on_common_scenarios() -> None:
    base = [_row("pdm/a", "pass", 90.0), _row("pdm/b", "pass", 80.0), _row("pdm/c", "pass", 70.0),
            _row("pdm/d", "fail", 10.0), _row("pdm/old", "pass", 50.0)]  # fmt: skip
    run = [_row("pdm/a", "pass", 89.5), _row("pdm/b", "fail", 0.0), _row("pdm/c", "pass", 60.0),
           _row("pdm/d", "pass", 95.0), _row("pdm/new", "corrupt", None)]  # fmt: skip
    cmp_ = compare_rows(run, base, score_tolerance=1.0)
    assert cmp_.common == ("pdm/a", "pdm/b", "pdm/c", "pdm/d")
    assert cmp_.only_in_run == ("pdm/new",) and cmp_.only_in_baseline == ("pdm/old",)
    assert [(c.key, c.kind) for c in cmp_.regressions] == [
        ("pdm/b", "newly_fails"),
        ("pdm/c", "score_dropped"),
    ]
    assert cmp_.regressions[1].delta == -10.0
    assert [(c.key, c.kind) for c in cmp_.improvements] == [("pdm/d", "newly_passes")]
    assert cmp_.mean_score == (89.5 + 0.0 + 60.0 + 95.0) / 4
    assert cmp_.baseline_mean_score == (90.0 + 80.0 + 70.0 + 10.0) / 4
    assert (cmp_.passed, cmp_.baseline_passed) == (3, 3)
    # a crashed run that passed before is a regression too
    crashed = compare_rows([_row("pdm/a", "crashed", None)], base[:1])
    assert [c.kind for c in crashed.regressions] == ["newly_crashes"]


def test_a_run_that_failed_and_now_crashes_is_a_regression() -> None:
    """A scenario that failed in the baseline (score 60) and now raises, or leaves unreadable
    or no metrics, was no change at all: only pass -> anything else was flagged."""
    base = [_row("pdm/f", "fail", 60.0), _row("pdm/g", "fail", 0.0), _row("pdm/h", "fail", 5.0),
            _row("pdm/k", "crashed", None), _row("pdm/m", "missing", None)]  # fmt: skip
    run = [_row("pdm/f", "crashed", None), _row("pdm/g", "corrupt", None),
           _row("pdm/h", "missing", None), _row("pdm/k", "fail", 20.0),
           _row("pdm/m", "corrupt", None)]  # fmt: skip
    cmp_ = compare_rows(run, base)
    assert [(c.key, c.kind) for c in cmp_.regressions] == [
        ("pdm/f", "newly_crashes"),
        ("pdm/g", "newly_crashes"),
        ("pdm/h", "newly_crashes"),
    ]
    assert [(c.key, c.kind) for c in cmp_.improvements] == [("pdm/k", "runs_again")]


def test_sort_rows_puts_failures_first() -> None:
    rows = [_row("pdm/p2", "pass", 90.0), _row("pdm/p1", "pass", 50.0), _row("pdm/f", "fail", 70.0),
            _row("pdm/x", "crashed", None)]  # fmt: skip
    assert [r.key for r in sort_rows(rows)] == ["pdm/x", "pdm/f", "pdm/p1", "pdm/p2"]


def test_report_command_rejects_a_missing_folder(tmp_path: Path, capsys) -> None:
    from drivestack.cli import main

    assert main(["report", str(tmp_path / "nope"), "--out", str(tmp_path / "r.html")]) == 2
    assert "is not a folder" in capsys.readouterr().err
    assert not (tmp_path / "r.html").exists()


def test_report_of_a_fleet_aggregates_the_sweep(tmp_path: Path) -> None:
    from drivestack.report import build_report, write_report

    run = tmp_path / "fleet"
    records = []
    for k, (speed, gap) in enumerate([(30, 10), (40, 10), (50, 20), (60, 20), (70, 20)]):
        key = f"pdm/rear_{k:04d}"
        passed = speed < 50
        _write_metrics(run, key, 90.0 - speed, passed, avoided=passed)
        params = {"ego.speed_kph": speed, "agents.0.station_m": gap}
        records.append({"variant": key, "status": "ok", "seed": k, "params": params,
                        "base_scenario": "rear"})  # fmt: skip
    records.append({"variant": "pdm/rear_0005", "status": "failed", "seed": 5, "error": "boom",
                    "base_scenario": "rear", "params": {"ego.speed_kph": 80,
                    "agents.0.station_m": 20}})  # fmt: skip
    sweep_spec = {"params": [{"key": "ego.speed_kph"}, {"key": "agents.0.station_m"}]}
    manifest = {"kind": "fleet", "planners": ["pdm"], "sweep": sweep_spec}
    (run / "fleet.json").write_text(json.dumps(manifest))
    (run / "fleet.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))
    report = build_report(run)
    sweep = report.data["sweep"]
    assert sweep["variants"] == 6 and sweep["keys"] == ["ego.speed_kph", "agents.0.station_m"]
    speeds = {b["bin"]: (b["n"], b["passed"]) for b in sweep["by_param"]["ego.speed_kph"]}
    assert speeds == {"30": (1, 1), "40": (1, 1), "50": (1, 0), "60": (1, 0), "70": (1, 0),
                      "80": (1, 0)}  # fmt: skip
    [hm] = sweep["heatmaps"]
    assert (hm["x_key"], hm["y_key"], hm["planner"]) == (
        "ego.speed_kph",
        "agents.0.station_m",
        "pdm",
    )
    assert hm["n"] == [[1, 1, 0, 0, 0, 0], [0, 0, 1, 1, 1, 1]]
    assert sweep["by_scenario"][0] == {"planner": "pdm", "scenario": "rear", "n": 6, "passed": 2,
                                       "pass_rate": 2 / 6, "min_score": 20.0}  # fmt: skip
    assert sweep["worst"][0]["key"] == "pdm/rear_0005" and sweep["worst"][0]["status"] == "crashed"
    assert {"sweep_pass_rate", "sweep_heatmap:pdm"} <= set(report.figures)
    html, js = write_report(report, tmp_path / "r.html")
    text = html.read_text()
    assert "Pass rate over ego.speed_kph × agents.0.station_m: pdm" in text and "boom" in text
    assert json.loads(js.read_text())["counts"]["crashed"] == 1


def test_infer_sweep_params_from_a_suite_sweep() -> None:
    from drivestack.report.collect import infer_sweep_params

    def config(name: str, speed: float, station: float) -> dict:
        return {"name": name, "source": "x.yaml", "ego": {"speed_kph": speed, "lane": "road_0"},
                "agents": [{"id": "t", "station_m": station}], "duration_s": 5.0}  # fmt: skip

    rows = [_row("pdm/ccrs_10", "pass", 90.0), _row("pdm/ccrs_20", "fail", 10.0),
            _row("pdm/cut_in", "pass", 80.0)]  # fmt: skip
    rows = [
        dataclasses.replace(r, scenario=n)
        for r, n in zip(rows, ["ccrs[10kph]", "ccrs[20kph]", "cut_in"], strict=True)
    ]
    configs = [config("ccrs[10kph]", 10, 130.0), config("ccrs[20kph]", 20, 130.0),
               config("cut_in", 50, 60.0)]  # fmt: skip
    out = infer_sweep_params(rows, configs)
    assert [r.params for r in out] == [{"ego.speed_kph": 10}, {"ego.speed_kph": 20}, {}]
    assert [r.base_scenario for r in out] == ["ccrs", "ccrs", ""]


def test_a_mean_score_over_fewer_runs_than_there_are_says_so(tmp_path: Path) -> None:
    """Was: 'pdm: mean score 90.00' beside '1 / 2 passed' for a run whose other run crashed,
    with nothing saying the mean left it out."""
    from drivestack.report.build import build_report, write_report

    _write_metrics(tmp_path / "run", "pdm/a", 90.0, True)
    (tmp_path / "run" / "pdm" / "boom").mkdir()
    crash = {"variant": "boom", "scenario": "boom", "planner": "pdm", "status": "crashed"}
    (tmp_path / "run" / "pdm" / "boom" / "error.json").write_text(json.dumps(crash))
    report = build_report(tmp_path / "run", max_detail=0)
    (mean,) = [h for h in report.data["headline"] if h["name"] == "pdm: mean score"]
    assert mean["value"] == 90.0 and mean["note"] == "of the 1 scored runs; 1 crashed or unreadable"
    page = write_report(report, tmp_path / "r.html")[0].read_text()
    assert "pdm: mean score <small>(of the 1 scored runs; 1 crashed or unreadable)</small>" in page
    _write_metrics(tmp_path / "clean", "pdm/a", 90.0, True)
    (mean,) = [h for h in build_report(tmp_path / "clean", max_detail=0).data["headline"]
               if h["name"] == "pdm: mean score"]  # fmt: skip
    assert "note" not in mean
