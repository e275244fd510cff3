"""``drivestack report --baseline`` on two fleets: folders of the same name are compared only
when they ran the same params (a fleet's folder name is a variant index, not its values), with a
warning when the two were swept differently; ``--out`` is checked before any work."""

from __future__ import annotations

import json
from pathlib import Path

from drivestack.cli import main
from drivestack.report import build_report
from drivestack.report.collect import ScenarioRow
from drivestack.report.compare import compare_rows


def _row(key: str, status: str, score: float, speed: float) -> ScenarioRow:
    return ScenarioRow(key, key, "pdm", status, score=score, params={"ego.speed_kph": speed})


def _fleet(root: Path, low: float, speeds: list[float], seed: int = 0) -> Path:
    """A fleet folder swept over ego.speed_kph=LOW:60: variant k ran at speeds[k]; the faster
    ones collided."""
    records = []
    for k, speed in enumerate(speeds):
        key = f"pdm/rear_{k:04d}"
        passed = speed < 45
        folder = root / key
        folder.mkdir(parents=True)
        metrics = {"scenario": f"rear#{k:04d}", "planner": "pdm", "score": 100.0 - speed,
                   "passed": passed, "failures": [] if passed else ["collision"],
                   "ncap": {"avoided": passed, "min_ttc_s": 1.0,
                            "impact_speed_kph": None if passed else speed}}  # fmt: skip
        (folder / "metrics.json").write_text(json.dumps(metrics))
        records.append({"variant": key, "status": "ok", "seed": k, "base_scenario": "rear",
                        "params": {"ego.speed_kph": speed}})  # fmt: skip
    sweep = {"params": [{"key": "ego.speed_kph", "values": [], "low": low, "high": 60.0}],
             "count": len(speeds), "seed": seed}  # fmt: skip
    manifest = {"kind": "fleet", "planners": ["pdm"], "sweep": sweep, "max_steps": 40}
    (root / "fleet.json").write_text(json.dumps(manifest))
    (root / "fleet.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))
    return root


def test_rows_of_the_same_folder_with_other_params_are_not_comparable() -> None:
    base = [_row("pdm/rear_0000", "pass", 70.0, 30.0), _row("pdm/rear_0001", "pass", 60.0, 40.0)]
    run = [_row("pdm/rear_0000", "pass", 70.0, 30.0), _row("pdm/rear_0001", "fail", 0.0, 55.0)]
    cmp_ = compare_rows(run, base, match_params=True)
    assert cmp_.common == ("pdm/rear_0000",) and cmp_.not_comparable == ("pdm/rear_0001",)
    assert cmp_.regressions == () and cmp_.as_dict()["not_comparable"] == ["pdm/rear_0001"]
    # without match_params (plain sim runs: their params are inferred, not their identity)
    assert [c.key for c in compare_rows(run, base).regressions] == ["pdm/rear_0001"]


def test_fleets_swept_differently_warn_and_compare_only_equal_params(tmp_path: Path) -> None:
    baseline = _fleet(tmp_path / "f1", 20.0, [25.0, 35.0, 58.0])
    run = _fleet(tmp_path / "f9", 50.0, [52.0, 56.0, 58.0])  # the same values in _0002 only
    data = build_report(run, baseline).data
    cmp_ = data["comparison"]
    assert cmp_["common"] == 1 and cmp_["regressions"] == []
    assert cmp_["not_comparable"] == ["pdm/rear_0000", "pdm/rear_0001"]
    [warning] = [w for w in data["warnings"] if "swept differently" in w]
    assert "ego.speed_kph=50:60 here, ego.speed_kph=20:60 in the baseline" in warning
    # another --seed is warned about too
    other_seed = _fleet(tmp_path / "s1", 20.0, [25.0, 35.0, 58.0], seed=1)
    warnings = build_report(other_seed, baseline).data["warnings"]
    assert any("--seed 1 here, 0 in the baseline" in w for w in warnings)


def test_the_same_fleet_compares_every_run_without_a_warning(tmp_path: Path, capsys) -> None:
    baseline = _fleet(tmp_path / "f1", 20.0, [25.0, 35.0, 58.0])
    data = build_report(baseline, baseline).data
    assert data["comparison"]["common"] == 3 and data["comparison"]["not_comparable"] == []
    assert not [w for w in data["warnings"] if "swept" in w]
    run = _fleet(tmp_path / "f9", 50.0, [52.0, 56.0, 58.0])
    out = tmp_path / "r.html"
    assert main(["report", str(run), "--baseline", str(baseline), "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "1 runs in common, 0 scenario regressions" in printed
    assert "2 not comparable (other params)" in printed
    assert "in both but run with other params" in out.read_text()


def test_out_pointing_at_a_directory_is_refused_before_any_work(tmp_path: Path, capsys) -> None:
    run = _fleet(tmp_path / "f1", 20.0, [25.0])
    assert main(["report", str(run), "--out", str(run)]) == 2
    err = capsys.readouterr().err
    assert f"error: --out {run}: is a directory (give an .html file path)" in err
    (tmp_path / "r.json").mkdir()  # where the JSON goes
    assert main(["report", str(run), "--out", str(tmp_path / "r.html")]) == 2
    assert "--out" in capsys.readouterr().err and not (tmp_path / "r.html").exists()


def _sim_run(root: Path, runs: dict[str, tuple[float, str | None]]) -> Path:
    """A ``drivestack sim`` folder: key -> (score, metrics.json's recorded_agents; None leaves
    the field out, as older runs did)."""
    for key, (score, agents) in runs.items():
        folder = root / key
        folder.mkdir(parents=True)
        metrics = {"scenario": key.split("/")[1], "planner": key.split("/")[0], "score": score,
                   "passed": True, "failures": [], "ncap": {"avoided": True, "min_ttc_s": None,
                   "impact_speed_kph": None}}  # fmt: skip
        if agents is not None:
            metrics["recorded_agents"] = agents
        (folder / "metrics.json").write_text(json.dumps(metrics))
    return root


def test_runs_whose_recorded_agents_ran_another_way_are_not_comparable(tmp_path: Path) -> None:
    """--agents reactive against a replay baseline: the score drop (87.50 -> 86.04 on av2_7fab2350)
    is the documented effect of the mode, not a regression."""
    baseline = _sim_run(tmp_path / "replay", {"pdm/av2": (87.5, "replay"), "pdm/ccrs": (90.0, None),
                                              "pdm/old": (80.0, "replay")})  # fmt: skip
    # pdm/old: the run records neither the mode nor its scenario config (an older run): compared,
    # with a warning that the report cannot tell whether its recorded traffic ran the same way
    run = _sim_run(tmp_path / "reactive", {"pdm/av2": (86.04, "reactive"),
                                           "pdm/ccrs": (90.0, None), "pdm/old": (70.0, None)})  # fmt: skip
    data = build_report(run, baseline).data
    cmp_ = data["comparison"]
    assert cmp_["common"] == 2 and cmp_["other_agents"] == ["pdm/av2"]
    assert [c["key"] for c in cmp_["regressions"]] == ["pdm/old"]
    assert {r["key"]: r["recorded_agents"] for r in data["rows"]} == {
        "pdm/av2": "reactive",
        "pdm/ccrs": "unknown",  # (neither key nor config; beside another such: not flagged)
        "pdm/old": "unknown",
    }
    assert cmp_["agents_unknown"] == ["pdm/old"]
    [unknown] = [w for w in data["warnings"] if "cannot tell" in w]
    assert unknown.startswith("1 runs in both (pdm/old) were compared, but the report cannot tell")
    [warning] = [w for w in data["warnings"] if "recorded traffic another way" in w]
    assert warning.startswith("1 runs in both ran their recorded traffic another way")
    assert "recorded_agents reactive here, replay in the baseline" in warning
    out = tmp_path / "r.html"
    assert main(["report", str(run), "--baseline", str(baseline), "--out", str(out)]) == 0
    html = out.read_text()
    assert "<b>1 in both but with other recorded agents (reactive / replay)</b> (not compared): pdm/av2" in html  # fmt: skip
    assert '<th class="l">recorded agents</th>' in html
    assert '<td class="l" data-v="reactive">reactive</td>' in html
    # the same modes compare as before; rows without recorded traffic show no column
    same = build_report(baseline, baseline).data
    assert same["comparison"]["common"] == 3 and same["comparison"]["other_agents"] == []
    assert not [w for w in same["warnings"] if "another way" in w]


def test_only_runs_with_other_recorded_agents_share_nothing_to_compare(tmp_path: Path) -> None:
    baseline = _sim_run(tmp_path / "replay", {"pdm/av2": (87.5, "replay")})
    run = _sim_run(tmp_path / "reactive", {"pdm/av2": (86.04, "reactive")})
    warnings = build_report(run, baseline).data["warnings"]
    assert any(
        "share nothing to compare: their runs of the same name ran their recorded traffic "
        "another way" in w
        for w in warnings
    )


def test_the_docs_say_what_is_not_comparable_and_which_headlines_have_anchor_name() -> None:
    doc = (Path(__file__).resolve().parents[2] / "docs" / "fleets_and_reports.md").read_text()
    flat = " ".join(doc.split())
    assert "`N not comparable (other params)` in the printed line" in flat
    assert "`other_agents` in report.json" in flat
    assert "`N not comparable (recorded agents run another way)` in the printed line" in flat
    assert "A headline's `anchor_name`" not in flat
    assert "A tracking headline's `anchor_name` is null" in flat


def test_a_fleet_folder_without_fleet_json_keeps_its_crashed_runs(tmp_path: Path) -> None:
    # fleet.json lost: the folder was reported as a plain sim run, and the runs its index
    # records as crashed (no metrics.json) vanished from the counts, without a word
    from drivestack.report.collect import load_run

    root = _fleet(tmp_path / "f", 20.0, [25.0, 35.0])
    crashed = {"variant": "pdm/rear_0002", "status": "crashed", "seed": 2, "error": "MemoryError",
               "base_scenario": "rear", "params": {"ego.speed_kph": 50.0}}  # fmt: skip
    with (root / "fleet.jsonl").open("a") as index:
        index.write(json.dumps(crashed) + "\n")
    statuses = {"pdm/rear_0000": "pass", "pdm/rear_0001": "pass", "pdm/rear_0002": "crashed"}
    assert {r.key: r.status for r in load_run(root).rows} == statuses
    (root / "fleet.json").unlink()
    data = load_run(root)
    assert {r.key: r.status for r in data.rows} == statuses
    assert any("fleet.json: missing beside fleet.jsonl" in p for p in data.problems)
