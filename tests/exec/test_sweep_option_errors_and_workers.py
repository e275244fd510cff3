"""A --sweep value the scenario refuses is the option's error; fleet variants record their
step cap and commit; pool workers end when the fleet process is gone."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from drivestack.cli import main

REPO = Path(__file__).resolve().parents[2]
CCRS = str(REPO / "configs" / "scenarios" / "ccrs.yaml")


def test_a_bad_sweep_value_names_the_option_not_the_file(tmp_path, capsys) -> None:
    out = str(tmp_path / "f")
    assert main(["fleet", CCRS, "--sweep", "ego.speed_kph=20-60", "--out", out, "--quiet"]) == 2
    err = capsys.readouterr().err
    line = next(x for x in err.splitlines() if x.startswith("error: "))
    assert "--sweep" in line and "20-60" in line and "LO:HI" in line
    assert "ccrs.yaml" not in line


def test_a_station_off_an_agent_path_m_is_refused_before_anything_runs(tmp_path, capsys) -> None:
    cpna = str(REPO / "configs" / "scenarios" / "cpna.yaml")
    out = tmp_path / "f"
    argv = ["fleet", cpna, "--sweep", "agents.0.station_m=120", "--out", str(out), "--quiet"]
    assert main(argv) == 2
    line = next(x for x in capsys.readouterr().err.splitlines() if x.startswith("error: "))
    assert "--sweep agents.0.station_m=120: scenario cpna[10kph] refuses it" in line
    assert "120.0 m is outside its path_m (length 16.2 m); nothing run" in line
    assert not (out / "fleet.jsonl").exists()


def test_fleet_variants_record_max_steps_and_commit(tmp_path) -> None:
    out = tmp_path / "f"
    args = ["fleet", CCRS, "--filter", "10kph", "--sweep", "ego.speed_kph=20,30", "--max-steps", "4"]  # fmt: skip
    assert main([*args, "--out", str(out), "--quiet"]) == 0
    manifest = json.loads((out / "fleet.json").read_text())
    metrics = json.loads((out / "pdm" / "ccrs_10kph_0000" / "metrics.json").read_text())
    assert metrics["max_steps"] == manifest["max_steps"] == 4
    assert metrics["git_commit"] == manifest["git_commit"]


@pytest.mark.skipif(sys.platform != "linux", reason="reparenting as on Linux")
def test_pool_workers_exit_when_the_parent_is_killed(tmp_path) -> None:
    pids = tmp_path / "pids"
    script = textwrap.dedent(
        f"""
        import os, time
        from drivestack.exec.executors import LocalPoolExecutor

        def task(i):
            with open({str(pids)!r}, "a") as f:
                f.write(f"{{os.getpid()}}\\n")
            time.sleep(60)

        if __name__ == "__main__":
            for _ in LocalPoolExecutor(2).run(task, [1, 2]):
                pass
        """
    )
    main_file = tmp_path / "fleet_parent.py"  # a file: spawned workers re-import its task
    main_file.write_text(script)
    # this checkout's drivestack, not whichever the interpreter's editable install names
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]),
    }
    parent = subprocess.Popen([sys.executable, str(main_file)], cwd=REPO, env=env)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and (not pids.exists() or len(pids.read_text().split()) < 2):
        time.sleep(0.2)
    workers = [int(p) for p in pids.read_text().split()]
    parent.kill()
    parent.wait()
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and any(_alive(p) for p in workers):
        time.sleep(0.2)
    assert not any(_alive(p) for p in workers)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with open(f"/proc/{pid}/stat") as f:  # a zombie waiting for its new parent is gone
        return f.read().split()[2] != "Z"


def test_variants_without_a_swept_range_say_they_have_no_effect(tmp_path, capsys) -> None:
    # grid values alone: every combination runs once, whatever --variants says (a note)
    argv = ["fleet", CCRS, "--planner", "pdm", "--filter", "10kph", "--sweep", "agents.0.station_m=130,140",
            "--variants", "2", "--max-steps", "1", "--out", str(tmp_path / "f"), "--quiet"]  # fmt: skip
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "note: --variants 2 has no effect" in out and "LO:HI" in out
    assert "fleet: 2 runs (2 variants x 1 planner)" in out
    # with a range the draws apply: no note
    argv[argv.index("--sweep") + 1] = "ego.speed_kph=20:30"
    argv[argv.index("--out") + 1] = str(tmp_path / "g")
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "has no effect" not in out and "fleet: 2 runs (2 variants x 1 planner)" in out


def test_sweeping_a_key_the_scenario_files_cases_set_warns(tmp_path, capsys) -> None:
    # ccrs.yaml's cases are named after the ego speed they set (10kph ... 50kph): a --sweep of
    # that speed ran "ccrs[10kph]#0000" at 31 km/h on the 10 km/h case's road without a word
    argv = ["fleet", CCRS, "--planner", "pdm", "--filter", "10kph", "--sweep", "ego.speed_mps=5:8",
            "--variants", "1", "--max-steps", "1", "--out", str(tmp_path / "f"), "--quiet"]  # fmt: skip
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "note: --sweep ego.speed_mps overrides what the scenario file's own sweep sets" in out
    assert "ccrs.yaml" in out
    # a key the file's sweep leaves alone: no warning
    argv[argv.index("--sweep") + 1] = "ego.station_m=95,100"
    argv[argv.index("--out") + 1] = str(tmp_path / "g")
    assert main(argv) == 0
    assert "overrides what the scenario file" not in capsys.readouterr().out


def test_unit_twins_of_dotted_keys() -> None:
    from drivestack.sim.scenario import unit_twin

    assert unit_twin("ego.speed_kph") == "ego.speed_mps"
    assert unit_twin("agents.0.speed_mps") == "agents.0.speed_kph"
    assert unit_twin("speed_kph") == "speed_mps"
    assert unit_twin("ego.station_m") is None


def test_the_own_sweep_keys_of_odd_files_are_none() -> None:
    # a file changed since it was loaded (sweep a list) made the whole fleet an AttributeError
    from drivestack.sim.scenario import own_sweep_keys as _own_sweep_keys

    assert _own_sweep_keys({"sweep": [1, 2]}) == set()
    assert _own_sweep_keys({"sweep": {"random": [1]}, "x": 1}) == set()
    assert _own_sweep_keys(None) == set()
    both = {"cases": [{"name": "a", "ego.speed_kph": 10}], "grid": {"x": [1]}}
    assert _own_sweep_keys({"sweep": {**both, "random": {"ranges": {"y": [0, 1]}}}}) == {
        "ego.speed_kph", "x", "y"
    }  # fmt: skip
