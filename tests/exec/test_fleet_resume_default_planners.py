"""A fleet folder begun without --planner under the old default (pdm) resumes when the same
command is rerun after the default became pdm,idm: without --planner a resume keeps the
planners fleet.json records (drivestack.commands.fleet.fleet_planners), said in one line
once the folder's fleet.json let it resume, and only when they are not the default's."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from drivestack.cli import main
from drivestack.commands.fleet import DEFAULT_PLANNERS, fleet_planners


def test_a_resume_without_planner_keeps_the_fleets_planners(
    scenario_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "fleet"
    argv = ["fleet", str(scenario_file), "--out", str(out), "--quiet", "--max-steps", "5"]
    assert main([*argv, "--planner", "pdm"]) == 0  # as the old default ran it
    assert json.loads((out / "fleet.json").read_text())["planners"] == ["pdm"]
    capsys.readouterr()
    assert main(argv) == 0  # the same command, no --planner: resumed, nothing rerun
    printed = capsys.readouterr().out
    assert "--planner not given: resumed with the planners its fleet.json records (pdm;" in (
        printed
    )
    assert "ran 0 now" in printed and not (out / "idm").exists()
    # another --planner given: refused, the message says how to resume
    assert main([*argv, "--planner", "pdm,idm"]) == 2
    err = capsys.readouterr().err
    assert "planners: ['pdm'] != ['pdm', 'idm']" in err
    assert "leave --planner out to resume with its planners" in err
    # no --planner, but the fleet differs otherwise: refused, and no line says it resumed
    assert main([*argv[:-2], "--max-steps", "6"]) == 2
    captured = capsys.readouterr()
    assert "max_steps: 5 != 6" in captured.err
    assert "--planner not given" not in captured.out + captured.err


def test_a_resume_of_the_default_planners_says_nothing(
    scenario_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "fleet"
    argv = ["fleet", str(scenario_file), "--out", str(out), "--quiet", "--max-steps", "5"]
    assert main([*argv, "--planner", "idm,pdm"]) == 0  # the default's variants
    capsys.readouterr()
    assert main(argv) == 0
    assert "--planner not given" not in capsys.readouterr().out


def test_a_new_fleet_without_planner_runs_the_default(tmp_path: Path) -> None:
    default = DEFAULT_PLANNERS.split(",")
    assert fleet_planners(tmp_path / "new", None) == (default, None)
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "fleet.json").write_text("[1, 2]")  # named by the resume check
    assert fleet_planners(tmp_path / "bad", None) == (default, None)
    assert fleet_planners(tmp_path / "new", "idm") == (["idm"], None)


def test_the_resume_hint_only_when_planner_was_given(
    scenario_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Without --planner a different fleet's refusal does not tell to leave it out."""
    out = tmp_path / "fleet"
    argv = ["fleet", str(scenario_file), "--out", str(out), "--quiet", "--max-steps", "5"]
    assert main([*argv, "--planner", "pdm"]) == 0
    (out / "fleet.json").write_text(
        (out / "fleet.json").read_text().replace('"pdm"', '"pdm", "pdm"')  # unreadable list
    )
    capsys.readouterr()
    assert main(argv) == 2  # the default planners against the recorded ones
    err = capsys.readouterr().err
    assert "different fleet (planners:" in err and "leave --planner out" not in err
