"""`drivestack sim` into a folder that already holds runs: another invocation's runs are
refused unless --overwrite; each run records max_steps and the git commit; bad counts and
filters are usage errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from drivestack.cli import main

REPO = Path(__file__).resolve().parents[2]
CCRS = str(REPO / "configs" / "scenarios" / "ccrs.yaml")


def _sim(out: Path, *extra: str) -> int:
    return main(["sim", CCRS, "--filter", "10kph", "--planner", "pdm", "--quiet", "--out", str(out), *extra])  # fmt: skip


def _error(capsys: pytest.CaptureFixture[str]) -> str:
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.startswith("error: ")]
    assert len(lines) == 1 and "Traceback" not in err, err
    return lines[0]


def test_runs_record_max_steps_and_commit(tmp_path) -> None:
    assert _sim(tmp_path, "--max-steps", "5") == 0
    metrics = json.loads((tmp_path / "pdm" / "ccrs_10kph" / "metrics.json").read_text())
    summary = json.loads((tmp_path / "summary.json").read_text())
    manifest = json.loads((tmp_path / "sim.json").read_text())
    assert metrics["max_steps"] == summary["pdm"]["max_steps"] == manifest["max_steps"] == 5
    assert "git_commit" in metrics and metrics["git_commit"] == summary["pdm"]["git_commit"]
    assert manifest["runs"] == ["pdm/ccrs_10kph"]
    assert not list(tmp_path.rglob("*.partial*"))  # written whole, then renamed


def test_another_invocations_runs_are_refused_unless_overwrite(tmp_path, capsys) -> None:
    assert _sim(tmp_path, "--max-steps", "5") == 0
    capsys.readouterr()
    assert _sim(tmp_path, "--max-steps", "6") == 2
    line = _error(capsys)
    assert str(tmp_path) in line and "--overwrite" in line
    assert "(its runs were made with other max_steps (5; now 6))" in line
    assert main(["sim", CCRS, "--filter", "20kph", "--planner", "pdm", "--quiet", "--max-steps", "5", "--out", str(tmp_path)]) == 2  # fmt: skip
    line = _error(capsys)
    assert (
        "its runs were made with other scenarios (ccrs_10kph not in this one; ccrs_20kph new)"
        in line
    )
    assert _sim(tmp_path, "--max-steps", "5") == 0  # the same invocation again: replaced
    assert _sim(tmp_path, "--max-steps", "6", "--overwrite") == 0
    metrics = json.loads((tmp_path / "pdm" / "ccrs_10kph" / "metrics.json").read_text())
    assert metrics["max_steps"] == 6


@pytest.mark.parametrize(
    ("extra", "why"),
    [
        (("--planner", "pdm,idm"), "other planners (pdm; now pdm,idm)"),
        (("--max-steps", "6"), "other max_steps (5; now 6)"),
        (("--perception", "lidar"), "other perception (ground_truth; now lidar)"),
        (
            ("--planner", "idm", "--max-steps", "6"),
            "other planners (pdm; now idm), max_steps (5; now 6)",
        ),
    ],
    ids=["planners", "max_steps", "perception", "planners and max_steps"],
)
def test_the_refusal_names_what_differs(tmp_path, capsys, extra: tuple[str, ...], why: str) -> None:
    """Other planners make other run folders too, but the scenarios are the same: the
    refusal names what was given otherwise, not "other scenarios"."""
    assert _sim(tmp_path, "--max-steps", "5") == 0
    capsys.readouterr()
    argv = ["sim", CCRS, "--filter", "10kph", "--quiet", "--out", str(tmp_path)]
    defaults = {"--planner": "pdm", "--max-steps": "5"}
    for flag, value in defaults.items():
        if flag not in extra:
            argv += [flag, value]
    assert main([*argv, *extra]) == 2
    line = _error(capsys)
    assert f"(its runs were made with {why});" in line and "scenarios" not in line


def test_planner_order_is_not_another_invocation_and_no_step_cap_is_named(tmp_path, capsys) -> None:
    argv = ["sim", CCRS, "--filter", "10kph", "--quiet", "--out", str(tmp_path)]
    assert main([*argv, "--planner", "pdm,idm", "--max-steps", "5"]) == 0
    # the same runs: the planners' order does not matter
    assert main([*argv, "--planner", "idm,pdm", "--max-steps", "5"]) == 0
    capsys.readouterr()
    assert main([*argv, "--planner", "pdm,idm"]) == 2
    assert "other max_steps (5; now none)" in _error(capsys)


def test_runs_without_a_manifest_are_refused(tmp_path, capsys) -> None:
    stale = tmp_path / "idm" / "old"
    stale.mkdir(parents=True)
    (stale / "metrics.json").write_text("{}")
    (tmp_path / "summary.json").write_text("{}")
    assert _sim(tmp_path, "--max-steps", "5") == 2
    assert "sim.json" in _error(capsys)
    assert _sim(tmp_path, "--max-steps", "5", "--overwrite") == 0
    assert not stale.exists()


@pytest.mark.parametrize("steps", ["0", "-3"])
def test_max_steps_must_be_positive(tmp_path, steps) -> None:
    for command in ("sim", "fleet"):
        with pytest.raises(SystemExit) as exc:
            main([command, CCRS, "--max-steps", steps, "--out", str(tmp_path)])
        assert exc.value.code == 2


def test_a_filter_matching_nothing_names_it_and_the_scenarios(tmp_path, capsys) -> None:
    for command in ("sim", "fleet"):
        assert main([command, CCRS, "--filter", "zzz", "--out", str(tmp_path / command)]) == 2
        line = _error(capsys)
        assert "'zzz'" in line and "ccrs[10kph]" in line and "ccrs[50kph]" in line


def test_usage_mistakes_are_error_lines(tmp_path, capsys) -> None:
    for command in ("sim", "fleet"):
        assert main([command, CCRS, "--planner", "pmd", "--out", str(tmp_path)]) == 2
        assert "unknown planner 'pmd'" in _error(capsys)
        assert main([command, "--out", str(tmp_path)]) == 2
        assert "exactly one of SCENARIO and --suite" in _error(capsys)
    with pytest.raises(SystemExit):
        main(["fleet", CCRS, "--workers", "0", "--out", str(tmp_path)])


def test_sim_help_says_fleet_options_make_a_fleet(capsys) -> None:
    with pytest.raises(SystemExit):
        main(["sim", "--help"])
    assert "turns the run into a fleet" in " ".join(capsys.readouterr().out.split())


@pytest.mark.parametrize(
    ("planners", "message"),
    [
        ("", "field --planner: no planner given; choose from ['idm', 'pdm']"),
        (" , ", "field --planner: no planner given"),
        ("pdm,,idm", "field --planner: empty planner name in 'pdm,,idm'"),
        ("pdm,", "field --planner: empty planner name in 'pdm,'"),
    ],
)
def test_an_empty_planner_list_or_name_is_refused(tmp_path, capsys, planners, message) -> None:
    """An empty list ran nothing and exited 0 (sim, fleet) or ran only the constant-velocity
    baseline (eval planning): every command shares parse_planners' check."""
    for command in (["sim", CCRS], ["fleet", CCRS], ["eval", "planning", "--dataset", "av2"]):
        out = tmp_path / command[0]
        assert main([*command, "--planner", planners, "--out", str(out), "--quiet"]) == 2
        assert message in _error(capsys)
        assert not out.exists()


def test_the_docs_name_every_setting_sim_json_holds_a_rerun_to() -> None:
    from drivestack.commands.sim import IDENTITY_KEYS

    doc = (Path(__file__).resolve().parents[2] / "docs" / "fleets_and_reports.md").read_text()
    para = " ".join(doc.split()).split("`drivestack sim` writes `OUT/sim.json`", 1)[1]
    records, refused = para.split("Into a folder", 1)[0], para.split("it refuses", 1)[0]
    words = {"runs": "run folders", "planners": "planners", "max_steps": "--max-steps",
             "perception": "perception", "lights": "`lights`", "light_camera": "`light_camera`",
             "agents": "`agents`", "planner_params": "`planner_params`",
             "lidar_params": "`lidar_params`", "stack": "`stack`"}  # fmt: skip
    assert set(words) == set(IDENTITY_KEYS)
    for key in IDENTITY_KEYS:
        assert words[key] in records, key
    assert "`--agents`" in refused.split("Into a folder", 1)[1]
    assert "`--lights`" in refused.split("Into a folder", 1)[1]
    assert "`--planner-params`" in refused.split("Into a folder", 1)[1]
    assert "`--lidar-params`" in refused.split("Into a folder", 1)[1]
    assert "`--stack`" in refused.split("Into a folder", 1)[1]


def test_runs_with_another_light_camera_are_refused_and_the_ideal_one_matches_older_runs(
    tmp_path, capsys
) -> None:
    camera = ("--lights", "camera", "--max-steps", "3")
    assert _sim(tmp_path, *camera, "--light-camera", "night") == 0
    manifest = json.loads((tmp_path / "sim.json").read_text())
    assert manifest["light_camera"]["preset"] == "night" and manifest["light_camera"]["enabled"]
    capsys.readouterr()
    assert _sim(tmp_path, *camera) == 2  # no --light-camera: the ideal camera
    assert "(its runs were made with other light_camera (night; now ideal))" in _error(capsys)
    assert _sim(tmp_path, *camera, "--overwrite") == 0
    # a camera run's sim.json from before --light-camera has no light_camera: the ideal camera
    manifest = json.loads((tmp_path / "sim.json").read_text())
    del manifest["light_camera"]
    (tmp_path / "sim.json").write_text(json.dumps(manifest))
    assert _sim(tmp_path, *camera, "--light-camera", "ideal") == 0
    assert _sim(tmp_path, *camera, "--light-camera", "day") == 2
    assert "(its runs were made with other light_camera (ideal; now day))" in _error(capsys)


def test_a_scenario_given_relative_is_recorded_by_its_absolute_path(
    tmp_path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """metrics.json kept 'configs/scenarios/ccrs.yaml' as typed: read from any other folder
    (a report job, an archive) it pointed nowhere, and sim.json said the resolved path."""
    monkeypatch.chdir(REPO)
    out = tmp_path / "o"
    args = ["sim", "configs/scenarios/ccrs.yaml", "--filter", "10kph", "--planner", "pdm"]
    assert main([*args, "--max-steps", "3", "--quiet", "--out", str(out)]) == 0
    metrics = json.loads((out / "pdm" / "ccrs_10kph" / "metrics.json").read_text())
    manifest = json.loads((out / "sim.json").read_text())
    assert metrics["config"]["source"] == manifest["source"] == CCRS


def test_a_rerun_stopped_part_way_leaves_no_earlier_result_as_its_own(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the same command again, killed in its second run: the runs it did not reach kept the
    # earlier invocation's results (from a since-edited scenario) and the report counted
    # them as this one's ("5 runs, 4 passed"; "1 of its listed runs never ran" for 3)
    import drivestack.exec.task as sim_runner
    from drivestack.report.collect import load_run

    argv = ["sim", CCRS, "--planner", "pdm", "--quiet", "--out", str(tmp_path), "--max-steps", "3"]
    assert main(argv) == 0
    listed = json.loads((tmp_path / "sim.json").read_text())["runs"]
    assert len(listed) == 5 and all((tmp_path / k / "metrics.json").exists() for k in listed)
    real, calls = sim_runner.run_built, []

    def stop_at_second(*args, **kwargs):  # type: ignore[no-untyped-def]
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    monkeypatch.setattr(sim_runner, "run_built", stop_at_second)
    assert main(argv) == 130
    done = [k for k in listed if (tmp_path / k / "metrics.json").exists()]
    assert done == listed[:1]  # only the run this invocation finished
    run = load_run(tmp_path)
    assert sorted(r.status for r in run.rows).count("missing") == 4
    assert any("4 of its listed runs never ran" in p for p in run.problems)


def test_a_stack_whose_detector_needs_an_hd_map_is_refused_before_any_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # every scenario was set up and then crashed (error.json with a traceback), exit 1
    stack = tmp_path / "stack.yaml"
    stack.write_text(
        f"perception: {REPO / 'configs/perception/lidar_av2.yaml'}\n"
        f"tracking: {REPO / 'configs/tracking/lidar_stack.yaml'}\n"
    )
    out = tmp_path / "out"
    assert _sim(out, "--perception", "lidar", "--stack", str(stack), "--max-steps", "3") == 2
    line = _error(capsys)
    assert "lidar_av2.yaml: field ground.prior_surface: is on" in line
    assert (
        "the frames of drivestack sim (the simulator gives no HD-map priors) carry no map" in line
    )
    assert not list(out.glob("*/*/error.json"))


def test_another_stack_is_another_invocation(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # --stack was neither recorded nor compared: a rerun with another stack replaced the
    # runs silently (tracking MOTA 100% -> 70% with the same pass and score)
    out = tmp_path / "out"
    assert _sim(out, "--perception", "lidar", "--max-steps", "2") == 0
    recorded = json.loads((out / "sim.json").read_text())["stack"]
    assert recorded["stack"].endswith("configs/stack/sim_lidar.yaml")
    assert recorded["perception_config"]["ground"] and recorded["tracking_config"]["classes"]
    assert _sim(out, "--perception", "lidar", "--max-steps", "2") == 0  # the same again
    other = tmp_path / "stack.yaml"
    other.write_text(
        f"perception: {REPO / 'configs/perception/lidar_sim.yaml'}\n"
        f"tracking: {REPO / 'configs/tracking/lidar_stack.yaml'}\n"
    )
    capsys.readouterr()
    assert _sim(out, "--perception", "lidar", "--stack", str(other), "--max-steps", "2") == 2
    assert f"now the stack {other} with its settings" in _error(capsys)
