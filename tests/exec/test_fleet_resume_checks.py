"""A resume refuses a folder whose scenarios were edited since; a --sweep value (grid value or
either end of a range) the scenario refuses is an error naming the option before anything runs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from drivestack.cli import main
from drivestack.core.errors import ConfigError
from drivestack.exec.fleet import INDEX_NAME, MANIFEST_NAME
from drivestack.exec.sweep import SweepSpec, parse_sweep_param, scenario_variants
from drivestack.sim.scenario import load_scenarios

REPO = Path(__file__).resolve().parents[2]
CCRS = str(REPO / "configs" / "scenarios" / "ccrs.yaml")


def _argv(scenario: Path, out: Path, variants: int) -> list[str]:
    return ["fleet", str(scenario), "--planner", "idm", "--sweep", "ego.speed_kph=40:80",
            "--variants", str(variants), "--max-steps", "3", "--out", str(out), "--quiet"]  # fmt: skip


def test_resume_refuses_an_edited_scenario(scenario_file: Path, tmp_path: Path, capsys) -> None:
    out = tmp_path / "fleet"
    assert main(_argv(scenario_file, out, 1)) == 0
    recorded = json.loads((out / MANIFEST_NAME).read_text())["scenarios"]
    assert set(recorded) == {"rear"} and len(recorded["rear"]["sha256"]) == 64
    capsys.readouterr()
    # the stopped car now drives: the folder's finished variant ran another scenario
    original = scenario_file.read_text()
    scenario_file.write_text(original.replace("speed_mps: 0.0}", "speed_mps: 3.0}"))
    assert main(_argv(scenario_file, out, 2)) == 2
    err = capsys.readouterr().err
    line = next(x for x in err.splitlines() if x.startswith("error: "))
    assert "'rear'" in line and "changed" in line and "another --out" in line
    assert len((out / INDEX_NAME).read_text().splitlines()) == 1  # nothing ran
    # the unchanged file resumes as before: only the new draw runs
    scenario_file.write_text(original)
    assert main(_argv(scenario_file, out, 2)) == 0
    assert "ran 1 now (0 crashed), skipped 1" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("sweep", "named"),
    [
        ("agents.0.speed_mps=-5,10", "--sweep agents.0.speed_mps=-5: scenario"),  # a grid value
        ("agents.0.speed_mps=-5:10", "--sweep agents.0.speed_mps=-5:10 (at -5)"),  # a range end
    ],
)
def test_a_refused_sweep_value_is_an_error_before_anything_runs(
    tmp_path: Path, capsys, sweep: str, named: str
) -> None:
    out = tmp_path / "f"
    argv = ["fleet", CCRS, "--planner", "idm", "--sweep", sweep, "--max-steps", "5",
            "--out", str(out), "--quiet"]  # fmt: skip
    assert main(argv) == 2
    line = next(x for x in capsys.readouterr().err.splitlines() if x.startswith("error: "))
    assert not out.exists()  # nothing run, no folder made
    assert line.startswith(f"error: {named}")
    assert "must be a finite speed >= 0" in line and "nothing run" in line
    assert "ccrs.yaml" not in line


def test_an_infinite_range_end_is_refused_by_the_range_rule(tmp_path: Path, capsys) -> None:
    # the rule a scenario file's sweep.random.ranges shares (uniform_range_problem): refused
    # as a range before any scenario is checked (it was refused at the scenario's speed check)
    out = tmp_path / "f"
    argv = ["fleet", CCRS, "--planner", "idm", "--sweep", "agents.0.speed_mps=0:inf",
            "--out", str(out), "--quiet"]  # fmt: skip
    assert main(argv) == 2
    line = next(x for x in capsys.readouterr().err.splitlines() if x.startswith("error: "))
    assert line == (
        "error: field agents.0.speed_mps: range bounds must be finite numbers, not NaN or "
        "infinite: '0:inf'"
    )
    assert not out.exists()


def test_range_ends_are_checked_even_when_no_draw_lands_there() -> None:
    cfg = load_scenarios(CCRS)[0]
    # a draw from [-100, 30] for one variant may well be >= 0; the low end is checked anyway
    spec = SweepSpec((parse_sweep_param("agents.0.speed_kph=-100:30"),), count=1)
    with pytest.raises(ConfigError, match=r"--sweep agents\.0\.speed_kph=-100:30 \(at -100\)"):
        scenario_variants(cfg, spec)
    ok = SweepSpec((parse_sweep_param("agents.0.speed_kph=0:30"),), count=3)
    assert len(scenario_variants(cfg, ok)) == 3
