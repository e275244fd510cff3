"""Absurd but finite scenario values (``1e308`` km/h, ``1e300`` m/s, a lateral shift of
``1e300`` m) are ConfigErrors naming the file and the dotted key when loaded, and when swept
by ``drivestack fleet --sweep`` (exit status 2, nothing run), instead of variants that crash
mid-run or run meaninglessly. Speeds are bounded by ``MAX_SPEED_MPS`` = 150 m/s (540 km/h),
lateral shifts by ``MAX_LATERAL_SHIFT_M`` = 100 m."""

from __future__ import annotations

from pathlib import Path

import pytest

from drivestack.cli import main
from drivestack.core.errors import ConfigError
from drivestack.exec.sweep import SweepSpec, parse_sweep_param, scenario_variants
from drivestack.sim.scenario import MAX_LATERAL_SHIFT_M, MAX_SPEED_MPS, load_scenarios

CONFIGS = Path(__file__).resolve().parents[2] / "configs"

HEAD = "name: t\nmap: {kind: straight, params: {n_lanes: 2, speed_limit_mps: 13.89}}\n"
EGO = "ego: {lane: road_0, station_m: 50.0, speed_kph: 90.0}\nduration_s: 5.0\n"
AGENT = "agents:\n  - {id: a, behavior: scripted, lanes: [road_0], station_m: 100.0"


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "s.yaml"
    path.write_text(text)
    return path


def test_the_bounds_are_540_kph_and_100_m() -> None:
    assert MAX_SPEED_MPS == 150.0 and MAX_SPEED_MPS * 3.6 == 540.0
    assert MAX_LATERAL_SHIFT_M == 100.0


@pytest.mark.parametrize(
    "text, field",
    [
        (HEAD + EGO.replace("speed_kph: 90.0", "speed_kph: 1.0e+308"), "ego.speed_kph"),
        (HEAD + EGO.replace("speed_kph: 90.0", "speed_kph: 1.0e+6"), "ego.speed_kph"),
        (HEAD + EGO.replace("speed_kph: 90.0", "speed_mps: 1.0e+300"), "ego.speed_mps"),
        (HEAD + EGO.replace("speed_kph: 90.0", "speed_kph: 541"), "ego.speed_kph"),
        (HEAD + EGO.replace("speed_kph: 90.0", "speed_mps: 150.5"), "ego.speed_mps"),
        (HEAD + EGO + AGENT + ", speed_kph: 1.0e+6}\n", "agents.0.speed_kph"),
        (HEAD + EGO + AGENT + ", speed_mps: 1.0e+300}\n", "agents.0.speed_mps"),
        (
            HEAD + EGO + AGENT.replace("scripted", "idm") + ", desired_speed_mps: 1.0e+300}\n",
            "agents.0.desired_speed_mps",
        ),
        (
            HEAD
            + EGO
            + AGENT
            + ", speed_events: [{time_s: 1, accel_mps2: 2, target_speed_mps: 1.0e+300}]}\n",
            "agents.0.speed_events.0.target_speed_mps",
        ),
        (
            HEAD
            + EGO
            + AGENT
            + ", lateral_shifts: [{time_s: 1, duration_s: 2, offset_m: 1.0e+300}]}\n",
            "agents.0.lateral_shifts.0.offset_m",
        ),
        (
            HEAD
            + EGO
            + AGENT
            + ", lateral_shifts: [{time_s: 1, duration_s: 2, offset_m: -100.5}]}\n",
            "agents.0.lateral_shifts.0.offset_m",
        ),
        (HEAD.replace("13.89", "1.0e+300") + EGO, "map.params.speed_limit_mps"),
        (
            HEAD + EGO + "pass_criteria: {max_impact_speed_kph: 1.0e+300}\n",
            "pass_criteria.max_impact_speed_kph",
        ),
        (
            HEAD + EGO + "pass_criteria: {min_speed_reduction_kph: 600}\n",
            "pass_criteria.min_speed_reduction_kph",
        ),
    ],
)
def test_absurd_values_are_refused_by_key(tmp_path: Path, text: str, field: str) -> None:
    path = _write(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        load_scenarios(path)
    assert (info.value.path, info.value.field) == (str(path), field)


def test_the_bounds_themselves_load(tmp_path: Path) -> None:
    # 540 km/h = 150 m/s exactly; a 100 m shift either way
    text = (
        HEAD
        + EGO.replace("speed_kph: 90.0", "speed_kph: 540")
        + AGENT
        + ", speed_mps: 150.0, speed_events: [{time_s: 1, accel_mps2: -2, target_speed_mps: 150}]"
        + ", lateral_shifts: [{time_s: 1, duration_s: 2, offset_m: -100.0}]}\n"
    )
    (cfg,) = load_scenarios(_write(tmp_path, text))
    assert cfg.ego.speed() == pytest.approx(150.0)


def test_a_speed_in_a_file_sweep_is_named_at_the_sweep(tmp_path: Path) -> None:
    text = (
        HEAD
        + EGO
        + "sweep:\n  cases:\n    - {ego.speed_kph: 50}\n    - {ego.speed_kph: 1.0e+308}\n"
    )
    path = _write(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        load_scenarios(path)
    assert (info.value.path, info.value.field) == (str(path), "sweep.cases.1.ego.speed_kph")
    assert "540 km/h" in info.value.reason


@pytest.mark.parametrize("option", ["ego.speed_kph=1e308", "ego.speed_kph=20:1e6"])
def test_a_fleet_sweep_is_checked_as_a_written_value(option: str) -> None:
    cfg = load_scenarios(CONFIGS / "scenarios" / "ccrs.yaml")[0]
    spec = SweepSpec((parse_sweep_param(option),), count=1)
    with pytest.raises(ConfigError, match="faster than any vehicle drives") as info:
        scenario_variants(cfg, spec)
    assert "nothing run" in info.value.reason


def test_fleet_command_refuses_the_speed_before_running(tmp_path: Path, capsys) -> None:
    out = tmp_path / "fleet"
    rc = main(
        [
            "fleet",
            str(CONFIGS / "scenarios" / "ccrs.yaml"),
            "--sweep",
            "ego.speed_kph=1e308",
            "--variants",
            "1",
            "--out",
            str(out),
        ]
    )
    assert rc == 2
    assert "at most 150 m/s (540 km/h)" in capsys.readouterr().err
    assert not (out / "fleet.jsonl").exists()


def test_every_shipped_scenario_and_suite_loads() -> None:
    from drivestack.sim.scenario import load_suite

    files = [*(CONFIGS / "scenarios").glob("*.yaml"), *(CONFIGS / "scenarios").glob("*.xosc")]
    assert files
    for file in files:
        assert load_scenarios(file)
    for suite in (CONFIGS / "suites").glob("*.yaml"):
        assert load_suite(suite)[1]
