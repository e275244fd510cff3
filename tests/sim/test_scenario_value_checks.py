"""Scenario numbers that are not finite or out of range are ConfigErrors naming the file and the
dotted key when the scenario is loaded (``drivestack sim`` exits 2), never a crash mid-run or a
silently accepted run."""

from __future__ import annotations

from pathlib import Path

import pytest

from drivestack.core.errors import ConfigError
from drivestack.sim.scenario import load_scenarios

HEAD = "name: t\nmap: {kind: straight, params: {n_lanes: 2}}\n"
EGO = "ego: {lane: road_0, station_m: 50.0, speed_kph: 90.0}\n"
AGENT = "  - {id: a, behavior: scripted, lanes: [road_0], station_m: 100.0, speed_kph: 50.0"


@pytest.mark.parametrize(
    "body, field",
    [
        ("duration_s: .inf\n", "duration_s"),
        ("duration_s: .nan\n", "duration_s"),
        ("duration_s: -5.0\n", "duration_s"),
        ("duration_s: 5.0\ndt_s: .nan\n", "dt_s"),
        ("duration_s: 5.0\nexpert_progress_m: .nan\n", "expert_progress_m"),
        (
            "duration_s: 5.0\npass_criteria: {min_progress_m: .inf}\n",
            "pass_criteria.min_progress_m",
        ),
        (
            "duration_s: 5.0\npass_criteria: {max_impact_speed_kph: .nan}\n",
            "pass_criteria.max_impact_speed_kph",
        ),
        ("duration_s: 5.0\nagents:\n" + AGENT + ", size_m: [-4, 2, 1.5]}\n", "agents.0.size_m"),
        ("duration_s: 5.0\nagents:\n" + AGENT + ", size_m: [0, 0, 0]}\n", "agents.0.size_m"),
        ("duration_s: 5.0\nagents:\n" + AGENT + ", size_m: [4, .inf, 1.5]}\n", "agents.0.size_m"),
        ("duration_s: 5.0\nagents:\n" + AGENT + ", offset_m: .nan}\n", "agents.0.offset_m"),
        (
            "duration_s: 5.0\nagents:\n"
            + AGENT.replace("scripted", "idm")
            + ", desired_speed_mps: 0}\n",
            "agents.0.desired_speed_mps",
        ),
        (
            "duration_s: 5.0\nagents:\n"
            + AGENT
            + ", speed_events: [{time_s: 1, accel_mps2: -2, target_speed_mps: 0, along_path: true}]}\n",
            "agents.0.speed_events.0.along_path",
        ),
    ],
)
def test_bad_numbers_are_refused_by_key(tmp_path: Path, body: str, field: str) -> None:
    path = tmp_path / "s.yaml"
    path.write_text(HEAD + EGO + body)
    with pytest.raises(ConfigError) as info:
        load_scenarios(path)
    assert (info.value.path, info.value.field) == (str(path), field)


def test_a_sized_agent_and_an_along_path_trigger_load(tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    path.write_text(
        HEAD
        + EGO
        + "duration_s: 5.0\nagents:\n"
        + AGENT
        + ", size_m: [4.5, 1.8, 1.5], speed_events: [{time_s: 1, accel_mps2: -2, "
        "target_speed_mps: 0, when_ego_within_m: 20, along_path: true, "
        "along_path_offset_m: -0.2}]}\n"
    )
    (cfg,) = load_scenarios(path)
    (event,) = cfg.agents[0].speed_events
    assert (event.along_path, event.along_path_offset_m) == (True, -0.2)
    assert cfg.agents[0].size_m == (4.5, 1.8, 1.5)
