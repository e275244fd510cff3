"""Fleets: a crashing variant is recorded, reruns resume, a killed fleet finishes the rest."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from drivestack.cli import main
from drivestack.exec.executors import LocalPoolExecutor
from drivestack.exec.fleet import INDEX_NAME, read_index, run_fleet
from drivestack.exec.sweep import SweepSpec, expand_variants, parse_sweep_param
from drivestack.sim.scenario import load_scenarios

REPO = Path(__file__).resolve().parents[2]


def _lines(index: Path) -> list[dict]:
    return [json.loads(line) for line in index.read_text().splitlines() if line.strip()]


def test_fleet_records_a_crash_and_resumes(scenario_file: Path, tmp_path: Path, capsys) -> None:
    out = tmp_path / "fleet"
    argv = ["fleet", str(scenario_file), "--out", str(out), "--workers", "2", "--quiet",
            "--planner", "pdm", "--sweep", "ego.lane=road_0,nowhere", "--sweep", "ego.speed_kph=30:50",
            "--variants", "2", "--max-steps", "10"]  # fmt: skip
    assert main(argv) == 1  # variants crashed: recorded, and the exit status says so
    records = _lines(out / INDEX_NAME)
    assert len(records) == 4
    failed = [r for r in records if r["status"] == "crashed"]
    ok = [r for r in records if r["status"] == "ok"]
    assert {r["params"]["ego.lane"] for r in failed} == {"nowhere"} and len(ok) == 2
    assert all("no lane 'nowhere'" in r["error"] and "ego.lane" in r["error"] for r in failed)
    for r in ok:
        metrics = json.loads((out / r["variant"] / "metrics.json").read_text())
        assert metrics["fleet"]["seed"] == r["seed"] and metrics["score"] == r["score"]
        assert metrics["config"]["ego"]["speed_kph"] == r["params"]["ego.speed_kph"]
        assert (out / r["variant"] / "history.npz").is_file()
        assert not (out / r["variant"] / "metrics.json.tmp").exists()
    summary = json.loads((out / "fleet_summary.json").read_text())
    passed = sum(r["passed"] for r in ok)
    assert summary["pdm"] == {**summary["pdm"], "variants": 4, "ok": 2, "crashed": 2,
                              "passed": passed, "failed": 2 - passed}  # fmt: skip
    printed = capsys.readouterr()
    assert "ran 4 now (2 crashed)" in printed.out
    assert f"{passed} passed, {2 - passed} failed, 2 crashed" in printed.out
    assert "error: 2 of 4 variants crashed" in printed.err and "--retry-crashed" in printed.err
    # rerun: everything is finished (crashes too) -> nothing runs; the index still holds them
    assert main(argv) == 1
    assert "ran 0 now (0 crashed), skipped 4" in capsys.readouterr().out
    assert len(_lines(out / INDEX_NAME)) == 4
    # --retry-failed (the older name of --retry-crashed) reruns only the two crashes (again)
    assert main([*argv, "--retry-failed"]) == 1
    assert "ran 2 now (2 crashed), skipped 2" in capsys.readouterr().out
    # a different step cap into the same folder is refused
    assert main([*argv[:-1], "20"]) == 2
    assert "holds a different fleet (max_steps: 10 != 20)" in capsys.readouterr().err
    # more draws extend the sweep: only the new variants run (one good lane, one bad)
    more = list(argv)
    more[more.index("--variants") + 1] = "3"
    assert main(more) == 1
    assert "ran 2 now (1 crashed), skipped 4" in capsys.readouterr().out


@pytest.mark.slow
def test_killed_fleet_resumes_only_the_missing_variants(
    scenario_file: Path, tmp_path: Path
) -> None:
    out = tmp_path / "fleet"
    # enough variants that the kill lands midway however fast this machine runs them
    n_variants = 40
    sweep = ["--sweep", "ego.speed_kph=30:50", "--variants", str(n_variants), "--max-steps", "10"]
    cmd = [sys.executable, "-m", "drivestack.cli", "fleet", str(scenario_file), "--out", str(out),
           "--workers", "1", "--quiet", "--planner", "pdm", *sweep]  # fmt: skip
    proc = subprocess.Popen(cmd, cwd=REPO, start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    index = out / INDEX_NAME
    deadline = time.monotonic() + 240
    try:
        while time.monotonic() < deadline and proc.poll() is None:
            if index.exists() and len(read_index(index)[0]) >= 2:
                break
            time.sleep(0.01)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)  # the fleet and its pool workers
        proc.wait()
    before = {r["variant"] for r in read_index(index)[0]}
    assert 2 <= len(before) < n_variants, "the fleet was not killed midway"
    with index.open("a") as f:
        f.write('{"variant": "pdm/rear_00')  # a record cut by the kill
    variants = expand_variants(
        load_scenarios(scenario_file), ["pdm"],
        SweepSpec((parse_sweep_param("ego.speed_kph=30:50"),), count=n_variants),
    )  # fmt: skip
    manifest = json.loads((out / "fleet.json").read_text())
    result = run_fleet(variants, out, LocalPoolExecutor(1), manifest=manifest, max_steps=10,
                       progress=False)  # fmt: skip
    assert result.ran == n_variants - len(before) and result.skipped == len(before)
    records, problems = read_index(index)
    assert len(problems) == 1 and "not JSON" in problems[0]
    ran_now = [r["variant"] for r in records if r["variant"] not in before]
    assert sorted(ran_now) == sorted({v.variant_id for v in variants} - before)
    assert all(r["status"] == "ok" for r in records)


def test_sim_with_fleet_flags_runs_a_fleet(scenario_file: Path, tmp_path: Path, capsys) -> None:
    out = tmp_path / "fleet"
    argv = ["sim", str(scenario_file), "--planner", "pdm", "--sweep", "ego.speed_kph=30,40",
            "--max-steps", "5", "--quiet", "--out", str(out)]  # fmt: skip
    assert main(argv) == 0
    records = _lines(out / INDEX_NAME)
    assert sorted(r["params"]["ego.speed_kph"] for r in records) == [30, 40]
    assert all(r["status"] == "ok" for r in records)
    assert "fleet: 2 runs (2 variants x 1 planner), ran 2 now" in capsys.readouterr().out
    assert main([*argv, "--perception", "lidar"]) == 2
    assert "ground-truth perception only" in capsys.readouterr().err


def test_fleet_refuses_a_sweep_key_no_scenario_has(
    scenario_file: Path, tmp_path: Path, capsys
) -> None:
    out = tmp_path / "fleet"
    argv = ["fleet", str(scenario_file), "--out", str(out), "--quiet",
            "--sweep", "ego.sped_kph=30:50", "--variants", "2"]  # fmt: skip
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "'ego.sped_kph'" in err and "ego.speed_kph" in err and "nothing run" in err
    assert not out.exists()
