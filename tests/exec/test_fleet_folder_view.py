"""A fleet folder is one fleet: its summary, fleet.json and exit status cover every variant in
its index (other --filter runs, more --variants), the planner order is not its identity, a
drivestack sim folder or a second fleet at once is refused, --overwrite with fleet flags is
refused, a Ray address nobody answers is one line, worker failures read as one line, and sweep
values that break the map-free checks (step count) or keys that do nothing (name) are refused
up front."""

from __future__ import annotations

import fcntl
import json
import socket
from pathlib import Path

import pytest

from drivestack.cli import main
from drivestack.core.errors import ConfigError, DataError
from drivestack.exec.executors import WorkerDied, check_reachable, strip_ansi
from drivestack.exec.fleet import LOCK_NAME, MANIFEST_NAME, SUMMARY_NAME, run_fleet
from drivestack.exec.sweep import SweepSpec, expand_variants, parse_sweep_param
from drivestack.exec.task import crashed_fields
from drivestack.sim.scenario import load_scenarios
from tests.exec.test_fleet_fuzz_inputs import InlineExecutor, _task

TWO_CASES = """\
name: two
map: {kind: straight, params: {n_lanes: 2, speed_limit_mps: 13.89}}
ego: {lane: road_0, station_m: 100.0, speed_kph: 30.0}
duration_s: 2.0
agents:
  - {id: target, type: car, behavior: scripted, lanes: [road_0], station_m: 140.0, speed_mps: 0.0}
pass_criteria: {no_collision: true}
sweep:
  cases:
    - {name: good}
    - {name: bad, ego.lane: nowhere}
"""


def _fleet_argv(scenario: Path, out: Path, *more: str) -> list[str]:
    return ["fleet", str(scenario), "--planner", "idm", "--max-steps", "3", "--out", str(out),
            "--quiet", *more]  # fmt: skip


def test_summary_manifest_and_exit_status_cover_every_variant_in_the_folder(
    tmp_path: Path, capsys
) -> None:
    scenario = tmp_path / "two.yaml"
    scenario.write_text(TWO_CASES)
    out = tmp_path / "f"
    assert main(_fleet_argv(scenario, out, "--filter", "bad")) == 1  # no lane 'nowhere'
    capsys.readouterr()
    # the good case alone runs fine, but the folder still holds the crashed one
    assert main(_fleet_argv(scenario, out, "--filter", "good")) == 1
    printed = capsys.readouterr()
    assert "ran 1 now (0 crashed)" in printed.out and "1 passed" in printed.out
    assert "1 crashed" in printed.out and "error: 1 of 2 variants crashed" in printed.err
    summary = json.loads((out / SUMMARY_NAME).read_text())["idm"]
    assert (summary["variants"], summary["passed"], summary["crashed"]) == (2, 1, 1)
    manifest = json.loads((out / MANIFEST_NAME).read_text())
    assert manifest["filters"] == ["bad", "good"] and manifest["variants"] == 2
    assert "filter" not in manifest


def test_more_draws_then_fewer_keep_the_largest_count(scenario_file: Path, tmp_path: Path) -> None:
    out = tmp_path / "f"
    scenarios = load_scenarios(scenario_file)

    def run(count: int):
        spec = SweepSpec((parse_sweep_param("ego.speed_kph=40:80"),), count=count)
        variants = expand_variants(scenarios, ["pdm"], spec)
        manifest = {"planners": ["pdm"], "sweep": spec.as_dict()}
        return run_fleet(
            variants, out, InlineExecutor(), manifest=manifest, progress=False, task_fn=_task
        )

    run(4)
    again = run(2)
    assert (again.total, again.ran, len(again.records)) == (2, 0, 4)
    manifest = json.loads((out / MANIFEST_NAME).read_text())
    assert manifest["sweep"]["count"] == 4 and manifest["variants"] == 4
    assert json.loads((out / SUMMARY_NAME).read_text())["pdm"]["variants"] == 4


def test_the_planner_order_is_not_the_fleets_identity(scenario_file: Path, tmp_path: Path) -> None:
    out = tmp_path / "f"
    scenarios = load_scenarios(scenario_file)
    for planners in (["pdm", "idm"], ["idm", "pdm"]):
        variants = expand_variants(scenarios, planners, SweepSpec())
        result = run_fleet(
            variants,
            out,
            InlineExecutor(),
            manifest={"planners": planners},
            progress=False,
            task_fn=_task,
        )
    assert (result.ran, result.skipped) == (0, 2)
    assert json.loads((out / MANIFEST_NAME).read_text())["planners"] == ["idm", "pdm"]
    with pytest.raises(ConfigError, match="different fleet") as info:
        variants = expand_variants(scenarios, ["pdm"], SweepSpec())
        run_fleet(variants, out, InlineExecutor(), manifest={"planners": ["pdm"]}, task_fn=_task)
    assert info.value.field == "planners"


def test_a_fleet_into_a_sim_folder_is_refused(scenario_file: Path, tmp_path: Path, capsys) -> None:
    out = tmp_path / "s"
    sim = ["sim", str(scenario_file), "--planner", "idm", "--max-steps", "3", "--out", str(out),
           "--quiet"]  # fmt: skip
    assert main(sim) == 0
    before = sorted(p.name for p in out.iterdir())
    assert main([*sim, "--sweep", "ego.speed_kph=20:30"]) == 2
    line = next(x for x in capsys.readouterr().err.splitlines() if x.startswith("error: "))
    assert "drivestack sim run (sim.json)" in line and str(out) in line
    assert sorted(p.name for p in out.iterdir()) == before  # nothing written
    (out / "sim.json").unlink()  # runs without any manifest: refused too
    assert main(_fleet_argv(scenario_file, out)) == 2
    assert "without fleet.json" in capsys.readouterr().err


def test_overwrite_with_fleet_flags_is_refused(scenario_file: Path, tmp_path: Path, capsys) -> None:
    out = tmp_path / "s"
    argv = ["sim", str(scenario_file), "--out", str(out), "--sweep", "ego.speed_kph=20:30",
            "--overwrite", "--quiet"]  # fmt: skip
    assert main(argv) == 2
    assert "--overwrite is not applied to fleets" in capsys.readouterr().err
    assert not out.exists()


def test_a_second_fleet_into_the_same_folder_at_once_is_refused(
    scenario_file: Path, tmp_path: Path, capsys
) -> None:
    out = tmp_path / "f"
    out.mkdir()
    with (out / LOCK_NAME).open("a") as held:  # another fleet running into out
        fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)
        assert main(_fleet_argv(scenario_file, out)) == 2
        line = next(x for x in capsys.readouterr().err.splitlines() if x.startswith("error: "))
        assert str(out / LOCK_NAME) in line and "another fleet is running" in line
        assert not (out / MANIFEST_NAME).exists()
    assert main(_fleet_argv(scenario_file, out)) == 0  # released: it runs


def test_a_ray_address_nobody_answers_is_one_line_at_once(tmp_path: Path, capsys) -> None:
    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(RuntimeError, match=f"no Ray cluster answers at 127.0.0.1:{port}"):
        check_reachable(f"127.0.0.1:{port}", timeout_s=1.0)
    with pytest.raises(ValueError, match="not HOST:PORT"):
        check_reachable("somewhere")
    check_reachable("auto")  # Ray's own search: not checked here
    with socket.socket() as server:  # something answers: passes
        server.bind(("127.0.0.1", 0))
        server.listen()
        check_reachable(f"ray://127.0.0.1:{server.getsockname()[1]}", timeout_s=1.0)


def test_a_crash_record_is_one_line_without_terminal_colours() -> None:
    exc = ValueError("\x1b[31mboom\x1b[0m in planner\n  File 'x.py', line 3\n")
    fields = crashed_fields(exc)
    assert fields["error"] == "ValueError: boom in planner"
    assert "\x1b" not in fields["traceback"]
    assert crashed_fields(RuntimeError())["error"] == "RuntimeError"
    assert strip_ansi("\x1b[1m\x1b[36mray::f()\x1b[39m\x1b[22m") == "ray::f()"


def test_ray_failures_read_as_the_local_pools() -> None:
    ray_exceptions = pytest.importorskip("ray.exceptions")
    from drivestack.exec.executors import RAY_ATTEMPTS, ray_failure

    died = ray_failure(ray_exceptions.WorkerCrashedError())
    assert isinstance(died, WorkerDied)
    assert str(died) == f"worker process died {RAY_ATTEMPTS} times running this task"
    cause = ValueError("boom in planner")
    task_error = ray_exceptions.RayTaskError(
        "call_in_worker", "Traceback:\n  \x1b[36mray::call_in_worker()\x1b[39m\nValueError", cause
    )
    failure = ray_failure(task_error)
    assert failure is cause
    fields = crashed_fields(failure)
    assert fields["error"] == "ValueError: boom in planner"
    assert "ray::call_in_worker()" in fields["traceback"] and "\x1b" not in fields["traceback"]
    # what ray.get raises: a RayTaskError(ValueError) whose text is the remote traceback
    cause = ValueError("boom in planner")
    raised = ray_exceptions.RayTaskError(
        "call_in_worker", "\x1b[36mray::call_in_worker()\x1b[39m\nValueError", cause
    ).as_instanceof_cause()
    assert isinstance(raised, ValueError)
    fields = crashed_fields(ray_failure(raised))
    assert fields["error"] == "ValueError: boom in planner"
    assert "ray::call_in_worker()" in fields["traceback"] and "\x1b" not in fields["traceback"]


@pytest.mark.parametrize(
    ("sweep", "named"),
    [
        ("dt_s=1e-5:0.1", "--sweep dt_s=1e-05:0.1 (at 1e-05)"),  # 2 s / 1e-5 s: 200,000 steps
        ("duration_s=2:20000", "--sweep duration_s=2:20000 (at 20000)"),
    ],
)
def test_a_sweep_past_the_step_cap_is_refused_before_anything_runs(
    scenario_file: Path, tmp_path: Path, capsys, sweep: str, named: str
) -> None:
    out = tmp_path / "f"
    assert main(_fleet_argv(scenario_file, out, "--sweep", sweep)) == 2
    line = next(x for x in capsys.readouterr().err.splitlines() if x.startswith("error: "))
    assert line.startswith(f"error: {named}") and "100,000 a run may take" in line
    assert not out.exists()


def test_identity_keys_are_not_sweep_keys(scenario_file: Path, tmp_path: Path, capsys) -> None:
    for key in ("name", "tags", "description"):
        with pytest.raises(DataError, match=f"'{key}' is not a parameter a run uses"):
            parse_sweep_param(f"{key}=a,b")
    assert main(_fleet_argv(scenario_file, tmp_path / "f", "--sweep", "name=x,y")) == 2
    assert "'name' is not a parameter" in capsys.readouterr().err


def test_relative_out_and_data_root_reach_the_workers_as_absolute_paths(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A Ray worker on a running cluster resolves a relative --out against its own working
    # folder: the results landed there, --out kept only fleet.json and the fleet said passed.
    import drivestack.exec.fleet as fleet_module

    seen: dict[str, Path] = {}

    def capture(variants, out_dir, executor, **kwargs):  # type: ignore[no-untyped-def]
        seen["out"], seen["data_root"] = out_dir, kwargs["data_root"]
        raise KeyboardInterrupt  # stop before anything runs (exit 130)

    monkeypatch.setattr(fleet_module, "run_fleet", capture)
    scenario = tmp_path / "two.yaml"
    scenario.write_text(TWO_CASES)
    (tmp_path / "data").mkdir()
    monkeypatch.chdir(tmp_path)
    assert main(_fleet_argv(scenario, Path("rel_out"), "--data-root", "data")) == 130
    assert seen["out"] == tmp_path.resolve() / "rel_out"
    assert seen["data_root"] == tmp_path.resolve() / "data"


def test_a_ray_address_with_the_local_executor_is_refused(tmp_path: Path, capsys) -> None:
    scenario = tmp_path / "two.yaml"
    scenario.write_text(TWO_CASES)
    argv = _fleet_argv(scenario, tmp_path / "f", "--executor", "local")
    assert main([*argv, "--ray-address", "127.0.0.1:1"]) == 2  # it ran locally, exit 0
    assert "--ray-address needs the Ray executor, not --executor local" in capsys.readouterr().err
    assert not (tmp_path / "f").exists()
