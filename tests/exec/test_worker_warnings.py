"""A warning raised in a fleet's worker process reads as in ``drivestack sim``: one
``warning: ...`` line (Python's two-line form with ``DRIVESTACK_DEBUG=1``), shown once per
worker process for the same warning (Python's default filter). Before, the pool's workers
printed Python's form (``.../evaluate.py:228: UserWarning: ...`` and the source line)."""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest

from drivestack.cli import main
from drivestack.core.warning_format import DEBUG_ENV, one_line_warning
from drivestack.exec.executors import LocalPoolExecutor, call_in_worker

# a route that starts 10 m ahead of the ego: run with lead lanes, with a warning
LEAD = """name: lead
map: {kind: intersection}
ego: {lane: south_in, station_m: 140.0, speed_kph: 20.0}
route: {lanes: [south_to_west, west_out]}
duration_s: 2.0
"""


def test_pool_workers_show_a_warning_as_one_line_once_per_worker(
    capfd: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(DEBUG_ENV, raising=False)
    # warnings.warn(text) is the task: a UserWarning raised in the worker, same location
    tasks = ["route starts ahead", "route starts ahead", "route starts ahead", "lane ends"]
    outcomes = list(LocalPoolExecutor(1).run(warnings.warn, tasks))
    assert [o for _, o in outcomes] == [None] * 4
    err = capfd.readouterr().err
    assert err.count("warning: route starts ahead\n") == 1  # one worker: shown once
    assert "warning: lane ends\n" in err
    assert "UserWarning" not in err


def test_pool_workers_keep_pythons_form_with_the_debug_env(
    capfd: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(DEBUG_ENV, "1")
    list(LocalPoolExecutor(1).run(warnings.warn, ["route starts ahead"]))
    err = capfd.readouterr().err
    assert "UserWarning: route starts ahead" in err
    assert "warning: route starts ahead" not in err


def test_a_ray_task_sets_the_one_line_form_unless_debug() -> None:
    """What :class:`~drivestack.exec.executors.RayExecutor` runs in its tasks (a Ray worker
    has no initializer)."""
    before = warnings.formatwarning
    try:
        assert call_in_worker(str.upper, "a", True) == "A"
        assert warnings.formatwarning is before
        assert call_in_worker(str.upper, "b", False) == "B"
        assert warnings.formatwarning is one_line_warning
    finally:
        warnings.formatwarning = before


def test_a_fleet_shows_its_workers_warnings_as_sim_does(
    tmp_path: Path, capfd: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The review's repro: three variants of a scenario whose route starts ahead of the ego,
    run on the local pool: one ``warning:`` line (the same warning in one worker)."""
    monkeypatch.delenv(DEBUG_ENV, raising=False)
    scenario = tmp_path / "lead.yaml"
    scenario.write_text(LEAD)
    argv = ["fleet", str(scenario), "--sweep", "ego.speed_kph=20:30", "--variants", "3"]
    argv += ["--max-steps", "3", "--quiet", "--out", str(tmp_path / "fleet")]
    assert main(argv) == 0
    err = capfd.readouterr().err
    line = (
        f"warning: {scenario}: route.lanes ['south_to_west', 'west_out'] starts ahead of the "
        "ego (lane 'south_in'); running it as lead lanes ['south_in'] + route.lanes\n"
    )
    assert err.count(line) == 1
    assert "UserWarning" not in err and "evaluate.py" not in err
