"""The params column names list-valued keys unambiguously; the TTC column says what "–" means
and the JSON carries the horizon; the sweep section is a fleet's alone, over its swept keys,
per planner."""

from __future__ import annotations

import json
from pathlib import Path

from drivestack.eval.driving.nuplan import ttc_note
from drivestack.report import build_report, write_report
from drivestack.report.collect import ScenarioRow
from drivestack.report.html import short_keys
from drivestack.report.sweep import pass_rate_by_param


def _metrics(root: Path, key: str, passed: bool, config: dict | None = None,
             fleet: dict | None = None) -> None:  # fmt: skip
    folder = root / key
    folder.mkdir(parents=True)
    name = config["name"] if config else key.split("/")[1]
    record = {"scenario": name, "planner": key.split("/")[0], "score": 80.0,
              "passed": passed, "failures": [],
              "ncap": {"avoided": True, "min_ttc_s": None, "impact_speed_kph": None,
                       "ttc_horizon_s": 3.0}}  # fmt: skip
    if config is not None:
        record["config"] = config
    if fleet is not None:
        record["fleet"] = fleet
    (folder / "metrics.json").write_text(json.dumps(record))


def _cpna(speed: float, x: float) -> dict:
    return {"name": f"cpna[{speed:g}kph]", "source": "cpna.yaml", "duration_s": 5.0,
            "expert_progress_m": speed, "ego": {"lane": "road_0", "speed_kph": speed},
            "agents": [{"id": "ped", "path_m": [[x, -3.0], [x, 6.0]], "station_m": 1.0}]}  # fmt: skip


def test_short_keys_are_unique_and_start_with_a_name() -> None:
    keys = ["agents.0.path_m.0.0", "agents.0.path_m.1.0", "ego.speed_kph", "agents.0.speed_kph"]
    assert short_keys(keys) == {
        "agents.0.path_m.0.0": "path_m.0.0",
        "agents.0.path_m.1.0": "path_m.1.0",
        "ego.speed_kph": "ego.speed_kph",
        "agents.0.speed_kph": "agents.0.speed_kph",
    }
    assert short_keys(["ego.speed_kph", "agents.0.station_m"]) == {
        "ego.speed_kph": "speed_kph",
        "agents.0.station_m": "station_m",
    }


def test_sim_run_params_are_unambiguous_ttc_is_explained_and_no_sweep_section(
    tmp_path: Path,
) -> None:
    run = tmp_path / "sim"
    _metrics(run, "pdm/cpna_10kph", True, _cpna(10, 70.0))
    _metrics(run, "pdm/cpna_60kph", False, _cpna(60, 76.15))
    _metrics(run, "idm/cpna_60kph", True, _cpna(60, 76.15))
    report = build_report(run)
    assert report.data["sweep"] is None  # a plain sim run's cases are not a sweep
    assert not any(k.startswith("sweep") for k in report.figures)
    assert report.data["ttc_horizon_s"] == 3.0
    html, js = write_report(report, tmp_path / "r.html")
    text = html.read_text()
    assert "path_m.0.0=76.15" in text and "path_m.1.0=76.15" in text
    assert "0=76.15" not in text.replace("path_m.0.0=76.15", "").replace("path_m.1.0=76.15", "")
    assert "min TTC s (≤ 3 s horizon)" in text
    assert "projected 0.1 to 2.9 s ahead" in text and "– = no projected collision at any" in text
    assert ttc_note("–") in text  # the one wording, shared with the sim summary table
    assert json.loads(js.read_text())["ttc_horizon_s"] == 3.0
    assert 'id="sweep"' not in text


def test_fleet_sweep_uses_only_swept_keys_and_splits_planners(tmp_path: Path) -> None:
    run = tmp_path / "fleet"
    records = []
    for planner, passes in (("pdm", (True, True)), ("idm", (False, True))):
        for k, (speed, passed) in enumerate(zip((30, 60), passes, strict=True)):
            key = f"{planner}/rear_{k:04d}"
            params = {"ego.speed_kph": speed}
            # a config field that differs between the variants but was not swept
            config = {"name": f"rear#{k:04d}", "expert_progress_m": 10.0 * k,
                      "ego": {"speed_kph": speed}}  # fmt: skip
            fleet = {"variant": key, "base_scenario": "rear", "seed": k, "params": params}
            _metrics(run, key, passed, config, fleet)
            records.append({"variant": key, "status": "ok", "planner": planner, "seed": k,
                            "params": params, "base_scenario": "rear"})  # fmt: skip
    manifest = {"kind": "fleet", "planners": ["pdm", "idm"],
                "sweep": {"params": [{"key": "ego.speed_kph", "values": [30, 60]}]}}  # fmt: skip
    (run / "fleet.json").write_text(json.dumps(manifest))
    (run / "fleet.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))
    sweep = build_report(run).data["sweep"]
    assert sweep["keys"] == ["ego.speed_kph"] and list(sweep["by_param"]) == ["ego.speed_kph"]
    bins = {
        (b["bin"], b["planner"]): (b["n"], b["passed"]) for b in sweep["by_param"]["ego.speed_kph"]
    }
    assert bins == {("30", "idm"): (1, 0), ("30", "pdm"): (1, 1),
                    ("60", "idm"): (1, 1), ("60", "pdm"): (1, 1)}  # fmt: skip


def test_fleet_without_sweep_has_no_sweep_section(tmp_path: Path) -> None:
    run = tmp_path / "fleet"
    for k in range(2):
        _metrics(run, f"pdm/rear_{k}", True, {"name": f"rear[{k}]", "ego": {"speed_kph": 10 * k}})
    (run / "fleet.json").write_text(json.dumps({"kind": "fleet", "sweep": {"params": []}}))
    (run / "fleet.jsonl").write_text("")
    assert build_report(run).data["sweep"] is None


def test_pass_rate_bins_are_shared_across_planners() -> None:
    rows = [ScenarioRow(f"{p}/s_{i}", f"s#{i}", p, "pass" if ok else "fail", score=1.0,
                        params={"v": v})
            for i, (p, v, ok) in enumerate([("a", 10.0, True), ("b", 10.0, False),
                                            ("a", 30.0, False), ("b", 30.0, False)])]  # fmt: skip
    by = pass_rate_by_param(rows)
    assert [(b["bin"], b["planner"], b["pass_rate"]) for b in by["v"]] == [
        ("10.0", "a", 1.0), ("10.0", "b", 0.0), ("30.0", "a", 0.0), ("30.0", "b", 0.0)]  # fmt: skip
