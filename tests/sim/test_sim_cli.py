"""``drivestack sim``: per-run metrics.json, history and a summary."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from drivestack.cli import main
from drivestack.commands.fleet import unknown_sweep_keys
from drivestack.core.errors import ConfigError
from drivestack.eval.driving.nuplan import CollisionEvent
from drivestack.exec.sweep import SweepSpec, expand_variants, parse_sweep_param, unswept_keys
from drivestack.sim.evaluate import collision_label
from drivestack.sim.scenario import (
    EgoConfig,
    MapConfig,
    ScenarioConfig,
    load_scenarios,
    load_suite,
    safe_name,
)

CONFIGS = Path(__file__).resolve().parents[2] / "configs"


def test_sim_command_writes_metrics_and_summary(tmp_path: Path, capsys) -> None:
    rc = main(
        [
            "sim",
            str(CONFIGS / "scenarios" / "cut_in.yaml"),
            "--out",
            str(tmp_path),
            "--max-steps",
            "20",
        ]
    )
    assert rc == 0
    for planner in ("pdm", "idm"):
        metrics = json.loads((tmp_path / planner / "cut_in" / "metrics.json").read_text())
        assert metrics["scenario"] == "cut_in" and metrics["planner"] == planner
        assert 0.0 <= metrics["score"] <= 100.0 and metrics["config"]["name"] == "cut_in"
        assert (tmp_path / planner / "cut_in" / "history.npz").is_file()
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert set(summary) == {"pdm", "idm"} and summary["pdm"]["scenarios"] == 1
    assert "| cut_in | pdm |" in capsys.readouterr().out


def test_sim_command_reports_config_errors(tmp_path: Path, capsys) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "name: x\nmap: {kind: straight}\nego: {lane: road_0}\nduration_s: 1.0\nbogus: 1\n"
    )
    assert main(["sim", str(bad), "--out", str(tmp_path / "out")]) == 2
    assert "field bogus: unknown key" in capsys.readouterr().err


# --- review fixes: sweep keys, collision kind, folder names, YAML errors --------------------

REAR_HIT = """name: rear_hit
map: {kind: straight, params: {n_lanes: 1, speed_limit_mps: 10.0}}
ego: {lane: road_0, station_m: 100.0, speed_mps: 5.0}
duration_s: 3.0
agents:
  - {id: tailgater, behavior: scripted, lanes: [road_0], station_m: 85.0, speed_mps: 15.0}
pass_criteria: {no_collision: false}
"""


def test_sweep_key_of_no_scenario_is_an_error(tmp_path: Path, capsys) -> None:
    argv = ["sim", str(CONFIGS / "scenarios" / "ccrs.yaml"), "--out", str(tmp_path / "out")]
    assert main([*argv, "--sweep", "ego.sped_kph=20:30"]) == 2
    err = capsys.readouterr().err
    assert "--sweep key 'ego.sped_kph'" in err and "not a field of any of the 5 scenarios" in err
    assert "nearest: ego.speed_kph" in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "out").exists()  # nothing ran


def test_sweep_key_of_some_scenarios_is_not_an_error(tmp_path: Path) -> None:
    (with_agent,) = load_scenarios(_write(tmp_path, "a.yaml", REAR_HIT))
    without = ScenarioConfig("plain", MapConfig("straight"), EgoConfig(lane="road_0"), 1.0)
    some = SweepSpec((parse_sweep_param("agents.0.station_m=80:90"),))

    def unknown(scenarios: list[ScenarioConfig], spec: SweepSpec) -> dict[str, list[str]]:
        return unknown_sweep_keys(scenarios, unswept_keys(scenarios, spec))

    assert unknown([with_agent, without], some) == {}
    assert list(unknown([without], some)) == ["agents.0.station_m"]
    typo = SweepSpec((parse_sweep_param("ego.station=1,2"),))
    assert unknown([with_agent], typo)["ego.station"][0] == "ego.station_m"


def test_table_says_what_kind_of_collision(tmp_path: Path, capsys) -> None:
    scenario = _write(tmp_path, "rear.yaml", REAR_HIT)
    assert main(["sim", str(scenario), "--out", str(tmp_path / "out"), "--planner", "pdm"]) == 0
    out = capsys.readouterr().out
    assert "| rear_hit | pdm |" in out
    assert "| pass | yes (active_rear, not at fault) |" in out
    assert "collisions 1 (0 at fault)" in out
    metrics = json.loads((tmp_path / "out" / "pdm" / "rear_hit" / "metrics.json").read_text())
    assert metrics["ncap"]["avoided"] is False and metrics["passed"] is True  # fields kept
    assert metrics["collision_summary"] == "yes (active_rear, not at fault)"
    assert metrics["at_fault_collision"] is False
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())["pdm"]
    assert summary["collisions"] == 1 and summary["at_fault_collisions"] == 0


def test_collision_label_prefers_the_at_fault_contact() -> None:
    rear = CollisionEvent(3, "a", "active_rear", False, 4.0, 2.0)
    front = CollisionEvent(9, "b", "active_front", True, 6.0, 6.0)
    assert collision_label(True, ()) == "no"
    assert collision_label(False, ()) == "yes"
    assert collision_label(False, (rear,)) == "yes (active_rear, not at fault)"
    assert collision_label(False, (rear, front)) == "yes (active_front, at fault, +1 more)"


@pytest.mark.parametrize(
    ("name", "folder"),
    [
        ("ccrs[10kph]", "ccrs_10kph"),
        ("ccrs[10kph]#0003", "ccrs_10kph_0003"),
        ("cut_in", "cut_in"),
        ("t[speed_mps=5.0,duration_s=3.0]", "t_speed_mps=5.0,duration_s=3.0"),
        ("a _[b]", "a_b"),
        ("..", "scenario"),
        ("[x]", "x"),
    ],
)
def test_safe_name_has_no_stray_separators(name: str, folder: str) -> None:
    assert safe_name(name) == folder


def test_long_names_keep_their_variant_suffix_and_their_own_folders() -> None:
    # names of ~120+ characters were cut after the "#NNNN" suffix was added: the fleet's
    # variants #0000 and #0001 shared one folder and the fleet was refused ("rename one")
    stem = "t[" + ",".join(f"agents.0.key_number_{k}=value_{k}" for k in range(4)) + "]"
    a, b = safe_name(stem + "#0000"), safe_name(stem + "#0001")
    assert a != b and a.endswith("_0000") and b.endswith("_0001")
    assert len(a) == len(b) == 120 and a[:-5] != b[:-5]  # the digest differs too
    # names that differ only past the cut keep their own folders
    assert safe_name(stem + "x" * 10) != safe_name(stem + "y" * 10)
    assert safe_name("ccrs[10kph]#0003") == "ccrs_10kph_0003"  # short names as before


def test_run_folder_is_the_clean_name(tmp_path: Path, capsys) -> None:
    argv = ["sim", str(CONFIGS / "scenarios" / "ccrs.yaml"), "--out", str(tmp_path)]
    assert main([*argv, "--filter", "10kph", "--planner", "pdm", "--max-steps", "3"]) == 0
    assert [p.name for p in (tmp_path / "pdm").iterdir()] == ["ccrs_10kph"]
    assert "sim:" in capsys.readouterr().err  # the progress bar
    assert (
        main([*argv, "--filter", "10kph", "--planner", "pdm", "--max-steps", "3", "--quiet"]) == 0
    )
    assert "sim:" not in capsys.readouterr().err


def test_names_sharing_a_folder_are_an_error(tmp_path: Path) -> None:
    def named(name: str) -> ScenarioConfig:
        return ScenarioConfig(name, MapConfig("straight"), EgoConfig(lane="road_0"), 1.0)

    def shared_folder_error(scenarios: list[ScenarioConfig]) -> str | None:
        try:
            expand_variants(scenarios, ["pdm"], SweepSpec(()))
        except ConfigError as exc:
            return str(exc)
        return None

    assert shared_folder_error([named("x[1]"), named("x[2]")]) is None
    error = shared_folder_error([named("x[1]"), named("x_1")])
    assert error is not None and "'x[1]' and 'x_1'" in error and "'pdm/x_1'" in error


def test_help_says_how_run_folders_are_named(capsys) -> None:
    with pytest.raises(SystemExit):
        main(["sim", "--help"])
    text = capsys.readouterr().out
    assert "DIR/<planner>/<folder>/metrics.json" in text and "ccrs[10kph] -> ccrs_10kph" in text


def test_malformed_yaml_names_the_file(tmp_path: Path, capsys) -> None:
    bad = _write(tmp_path, "broken.yaml", "name: x\nmap: {kind: straight\nego: [1\n")
    with pytest.raises(ConfigError, match=r"broken\.yaml: line 3, column 4: malformed YAML"):
        load_scenarios(bad)
    suite = _write(tmp_path, "suite.yaml", "name: s\nscenarios: [\n")
    with pytest.raises(ConfigError, match=r"suite\.yaml: line \d+, column \d+: malformed YAML"):
        load_suite(suite)
    assert main(["sim", str(bad), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert str(bad) in err and "<unicode string>" not in err


def _write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text)
    return path
