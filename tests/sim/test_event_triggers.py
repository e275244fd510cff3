"""Scripted events started by the ego's distance (``when_ego_within_m``), as OpenSCENARIO's
distance conditions are read."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from drivestack.core.errors import ConfigError
from drivestack.sim.evaluate import run_scenario
from drivestack.sim.scenario import load_scenarios

SCENARIO = """
name: t
map: {kind: straight, params: {n_lanes: 2}}
ego: {lane: road_0, station_m: 50.0, speed_mps: 10.0}
duration_s: 8.0
agents:
  - id: lead
    behavior: scripted
    lanes: [road_0]
    station_m: 100.0
    speed_mps: 6.0
    speed_events: [{time_s: 1.0, accel_mps2: -3.0, target_speed_mps: 0.0, when_ego_within_m: WITHIN}]
"""


def _load(tmp_path: Path, within: str) -> list:
    path = tmp_path / "s.yaml"
    path.write_text(SCENARIO.replace("WITHIN", within))
    return load_scenarios(path)


def test_event_waits_for_the_ego_then_runs(tmp_path: Path) -> None:
    (cfg,) = _load(tmp_path, "40.0")
    h = run_scenario(cfg, "idm").history
    gap = np.linalg.norm(h.agent_boxes[:, 0, :2] - h.ego_boxes[:, :2], axis=1)
    speed = np.hypot(*h.agent_velocity_mps[:, 0].T)
    t = np.arange(len(h)) * cfg.dt_s
    first = int(np.argmax((gap <= 40.0) & (t >= 1.0 - 1e-9)))  # the ego closes 4 m/s from 50 m
    assert 1 < first < len(h) - 5
    np.testing.assert_allclose(speed[: first + 1], 6.0)
    np.testing.assert_allclose(speed[first + 1 : first + 4], 6.0 - 0.3 * np.arange(1, 4))


def test_event_never_triggered_never_runs(tmp_path: Path) -> None:
    (cfg,) = _load(tmp_path, "1.0")  # the ego (IDM) never comes within 1 m
    h = run_scenario(cfg, "idm").history
    np.testing.assert_allclose(np.hypot(*h.agent_velocity_mps[:, 0].T), 6.0)


@pytest.mark.parametrize("within", ["0.0", "-5.0", ".nan"])
def test_trigger_distance_must_be_positive(tmp_path: Path, within: str) -> None:
    with pytest.raises(
        ConfigError,
        match=r"field agents\.0\.speed_events\.0\.when_ego_within_m: must be a finite distance > 0 m",
    ):
        _load(tmp_path, within)
