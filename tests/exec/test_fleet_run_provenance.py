"""A fleet run's metrics.json records how it ran with the keys a ``drivestack sim`` run's has
(one function makes both: ``run_provenance_fields``), so that ``drivestack report`` can tell
a reactive fleet run from a replayed baseline; older records are read from their config."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from drivestack.cli import main
from drivestack.exec.task import RUN_PROVENANCE_KEYS, run_provenance_fields
from drivestack.report.build import build_report
from drivestack.sim.scenario import load_scenarios, with_recorded_agents


def test_provenance_fields_say_how_a_run_ran(scenario_file: Path) -> None:
    (cfg,) = load_scenarios(scenario_file)
    fields = run_provenance_fields(cfg, max_steps=7, git_commit="abc")
    assert tuple(fields) == RUN_PROVENANCE_KEYS
    assert fields["config"] == dataclasses.asdict(cfg)
    assert (fields["perception"], fields["lights"], fields["unknown_light"]) == (
        "ground_truth", "truth", "go"
    )  # fmt: skip
    assert fields["recorded_agents"] is None  # no recorded traffic
    assert (fields["max_steps"], fields["git_commit"]) == (7, "abc")
    camera = run_provenance_fields(cfg, max_steps=None, git_commit=None, lights="camera")
    assert camera["unknown_light"] == "yellow"
    recorded = dataclasses.replace(cfg, agents_from_file=True)
    for mode in ("reactive", "replay"):
        made = with_recorded_agents(recorded, mode)
        assert (
            run_provenance_fields(made, max_steps=None, git_commit=None)["recorded_agents"] == mode
        )


def test_a_fleet_run_records_the_keys_a_sim_run_records(
    tmp_path: Path, scenario_file: Path
) -> None:
    sim_out, fleet_out = tmp_path / "sim", tmp_path / "fleet"
    common = [str(scenario_file), "--planner", "pdm", "--max-steps", "5", "--quiet"]
    assert main(["sim", *common, "--out", str(sim_out)]) == 0
    assert main(["fleet", *common, "--out", str(fleet_out)]) == 0
    sim = json.loads((sim_out / "pdm" / "rear" / "metrics.json").read_text())
    fleet = json.loads((fleet_out / "pdm" / "rear" / "metrics.json").read_text())
    for key in RUN_PROVENANCE_KEYS:
        assert key in sim and key in fleet, key
        if key != "git_commit":  # (the sim's and the fleet's read at their start)
            assert fleet[key] == sim[key], key
    assert fleet["recorded_agents"] is None and fleet["lights"] == "truth"


def _metrics(root: Path, key: str, score: float, **extra: object) -> None:
    folder = root / key
    folder.mkdir(parents=True)
    record = {"scenario": key.split("/")[1], "planner": key.split("/")[0], "score": score,
              "passed": True, "failures": [], "ncap": {"avoided": True, "min_ttc_s": None,
              "impact_speed_kph": None}, **extra}  # fmt: skip
    (folder / "metrics.json").write_text(json.dumps(record))


def test_an_older_fleet_record_is_read_from_its_config(tmp_path: Path) -> None:
    """Fleet records made before the fleet wrote recorded_agents: the embedded scenario config
    says reactive, so the pair with a replayed baseline is not comparable; a record with
    neither is compared with a warning that the report cannot tell."""
    base, run = tmp_path / "base", tmp_path / "run"
    _metrics(base, "pdm/peach", 80.0, recorded_agents="replay")
    _metrics(base, "pdm/lanker", 90.0, recorded_agents="replay")
    _metrics(base, "pdm/ccrs", 95.0, recorded_agents=None)
    reactive = {"agents_from_file": True, "agents_reactive": True}
    _metrics(run, "pdm/peach", 70.0, config=reactive)  # older: no recorded_agents key
    _metrics(run, "pdm/lanker", 90.0)  # older still: neither key nor config
    _metrics(run, "pdm/ccrs", 95.0, config={"agents_from_file": False})
    data = build_report(run, base).data
    rows = {r["key"]: r["recorded_agents"] for r in data["rows"]}
    assert rows == {"pdm/peach": "reactive", "pdm/lanker": "unknown", "pdm/ccrs": None}
    cmp_ = data["comparison"]
    assert cmp_["other_agents"] == ["pdm/peach"] and cmp_["agents_unknown"] == ["pdm/lanker"]
    assert cmp_["common"] == 2 and cmp_["regressions"] == []  # 80 -> 70 is not compared
    warnings = data["warnings"]
    assert any("recorded_agents reactive here, replay in the baseline" in w for w in warnings)
    assert any(w.startswith("1 runs in both (pdm/lanker) were compared, but the report "
                            "cannot tell") for w in warnings)  # fmt: skip


@pytest.mark.slow
@pytest.mark.data
def test_a_reactive_fleet_run_is_not_comparable_with_a_replayed_baseline(
    tmp_path: Path, shared_data: Path, capsys
) -> None:
    """The reviewer's case: Peachtree St with reactive recorded traffic as a fleet, against
    the same scenario replayed by drivestack sim."""
    source = Path("configs/scenarios/commonroad_usa_peach_4_8_t_1.yaml").read_text()
    scenario = tmp_path / "peach_reactive.yaml"
    scenario.write_text(source + "\nagents_reactive: true\n")
    replay, fleet = tmp_path / "replay", tmp_path / "fleet"
    data = ["--data-root", str(shared_data), "--quiet", "--planner", "pdm"]
    assert main(["sim", "--suite", "configs/suites/regression.yaml", "--filter",
                 "commonroad_usa_peach_4_8", "--agents", "replay", "--out", str(replay),
                 *data]) == 0  # fmt: skip
    assert main(["fleet", str(scenario), "--out", str(fleet), *data]) == 0
    metrics = json.loads(
        (fleet / "pdm" / "commonroad_usa_peach_4_8_t_1" / "metrics.json").read_text()
    )
    assert metrics["recorded_agents"] == "reactive" and metrics["lights"] == "truth"
    capsys.readouterr()
    out = tmp_path / "r.html"
    assert main(["report", str(fleet), "--baseline", str(replay), "--out", str(out)]) == 0
    captured = capsys.readouterr()  # the summary on stdout, the warning on stderr
    printed = captured.out + captured.err
    assert "1 not comparable (recorded agents run another way)" in printed
    assert "recorded_agents reactive here, replay in the baseline" in printed
    report = json.loads(out.with_suffix(".json").read_text())
    assert report["comparison"]["other_agents"] == ["pdm/commonroad_usa_peach_4_8_t_1"]
    assert report["comparison"]["common"] == 0
