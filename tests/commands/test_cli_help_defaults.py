"""Help texts and defaults the README walk-through found inconsistent: drivestack bench names
its positional BENCHMARK, sim and fleet run the same planners by default (shown in --help)
and take an OpenSCENARIO file as SCENARIO, sim's example names a shipped file, and the top
level says what demo does."""

from __future__ import annotations

import argparse
import re
from pathlib import Path

import pytest

from drivestack.cli import build_parser, main

REPO = Path(__file__).resolve().parents[2]


def _sub(name: str) -> argparse.ArgumentParser:
    sub = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    parser: argparse.ArgumentParser = sub.choices[name]
    return parser


def test_bench_without_argument_names_benchmark(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["bench"])
    err = capsys.readouterr().err
    assert exc.value.code == 2
    assert "the following arguments are required: BENCHMARK" in err
    assert "suite" not in err
    text = _sub("bench").format_help()
    assert "kernels" in text and "perception" in text


def test_sim_and_fleet_run_the_same_planners_by_default() -> None:
    sim = _sub("sim").parse_args(["x.yaml", "--out", "o"])
    fleet = _sub("fleet").parse_args(["x.yaml", "--out", "o"])
    from drivestack.commands.fleet import planners_of

    # not given (None): the default, pdm,idm (a resumed fleet keeps its own, see
    # tests/exec/test_fleet_resume_default_planners.py)
    assert planners_of(sim.planner) == planners_of(fleet.planner) == ["pdm", "idm"]
    for name in ("sim", "fleet"):
        text = " ".join(_sub(name).format_help().split())
        assert "(default pdm,idm: both;" in text, name
        assert ".xosc" in text.split("options:")[0], name  # the positional's help


def test_sim_examples_name_shipped_files() -> None:
    doc = _sub("sim").description or ""
    named = re.findall(r"drivestack sim (\S+\.(?:yaml|xosc))", doc)
    assert named and all((REPO / n).is_file() for n in named), named


def test_top_level_help_says_what_demo_does() -> None:
    text = " ".join(build_parser().format_help().split())
    assert "run the main job" not in text
    assert "replay the bundled demo drive" in text and "kernel benchmark" in text


def test_every_fleet_option_with_a_default_names_it() -> None:
    for action in _sub("fleet")._actions:
        if not action.option_strings or action.default in (None, False, []):
            continue  # (flags, and options with nothing in their place, have none to state)
        if action.dest == "help":
            continue
        assert "default" in (action.help or ""), action.dest
