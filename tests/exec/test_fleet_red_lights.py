"""Fleet index records carry the run's red-light violations (as its metrics.json counts them);
older indexes without the field still resume, summarise and report."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import cast

from drivestack.cli import build_parser
from drivestack.exec.fleet import INDEX_NAME, fleet_summary, read_index, run_fleet
from drivestack.exec.sweep import SweepSpec, expand_variants
from drivestack.exec.task import VariantTask, run_variant
from drivestack.report.collect import load_run
from drivestack.sim.scenario import load_scenarios
from tests.exec.test_fleet_statuses import InlineExecutor

# The light is red from the start and its line 7.85 m ahead of the ego's front (rear axle at
# station 100 m, front 4.15 m ahead; line at 112 m): stopping from 13.89 m/s would take
# 13.89^2 / (2 x 7.85) = 12.3 m/s^2, beyond the planners' 6 m/s^2 for a red, so the ego carries
# on and runs it (one violation, at 7.85 / 13.89 = 0.57 s)
RED_AHEAD_YAML = """\
name: red_ahead
map: {kind: straight, params: {n_lanes: 1, speed_limit_mps: 13.89}}
ego: {lane: road_0, station_m: 100.0, speed_kph: 50.0}
duration_s: 1.5
traffic_lights:
  - {id: L1, stops: [{lane: road_0, station_m: 112.0}], phases: [[red, 10.0], [green, 10.0]]}
"""


def _task(path: Path, planner: str, out: Path) -> VariantTask:
    (variant,) = expand_variants(load_scenarios(path), [planner], SweepSpec())
    return VariantTask(variant, str(out))


def test_the_record_carries_the_red_lights_run(tmp_path: Path, scenario_file: Path) -> None:
    path = tmp_path / "red_ahead.yaml"
    path.write_text(RED_AHEAD_YAML)
    out = tmp_path / "fleet"
    record = run_variant(_task(path, "idm", out))
    assert record["status"] == "ok", record.get("error")
    metrics = json.loads((out / record["variant"] / "metrics.json").read_text())
    assert record["red_light_violations"] == metrics["red_light_violations"] == 1
    (event,) = metrics["red_light"]["events"]
    assert event["light_id"] == "L1" and abs(event["time_s"] - 0.57) <= 0.1
    assert not record["passed"] and record["failures"][0].startswith("ran a red light: L1")
    # a map without lights: none run
    plain = run_variant(_task(scenario_file, "idm", out))
    assert plain["status"] == "ok" and plain["red_light_violations"] == 0


def test_an_older_index_without_the_field_still_resumes_and_reports(
    tmp_path: Path, scenario_file: Path
) -> None:
    variants = expand_variants(load_scenarios(scenario_file), ["pdm"], SweepSpec())
    out = tmp_path / "fleet"
    run_fleet(variants, out, InlineExecutor(), progress=False)
    (new,), problems = read_index(out / INDEX_NAME)
    assert problems == [] and new["red_light_violations"] == 0
    old = {k: v for k, v in new.items() if k != "red_light_violations"}
    (out / INDEX_NAME).write_text(json.dumps(old) + "\n")
    again = run_fleet(variants, out, InlineExecutor(), progress=False)
    assert (again.ran, again.skipped) == (0, 1) and again.records == (old,)
    assert fleet_summary([old]) == fleet_summary([new])
    (row,) = load_run(out).rows
    assert row.status in ("pass", "fail") and row.red_light_violations is None  # no lights


def test_sim_and_fleet_max_steps_help_say_the_same() -> None:
    sub = next(a for a in build_parser()._actions if a.dest == "command")
    commands = cast("dict[str, argparse.ArgumentParser]", sub.choices)
    helps = []
    for command in ("sim", "fleet"):
        (action,) = [a for a in commands[command]._actions if "--max-steps" in a.option_strings]
        helps.append(" ".join(str(action.help).split()))
    assert helps[0] == helps[1]
    assert "leaves min_progress_m unjudged" in helps[0] and "not_evaluated" in helps[0]
