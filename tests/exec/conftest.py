"""A short scenario file for fleet tests (2 s of driving at 50 km/h behind a stopped car)."""

from __future__ import annotations

from pathlib import Path

import pytest

SCENARIO_YAML = """\
name: rear
description: ego at 50 km/h behind a stopped car
map: {kind: straight, params: {n_lanes: 2, speed_limit_mps: 13.89}}
ego: {lane: road_0, station_m: 100.0, speed_kph: 50.0}
duration_s: 2.0
agents:
  - {id: target, type: car, behavior: scripted, lanes: [road_0], station_m: 140.0, speed_mps: 0.0}
pass_criteria: {no_collision: true}
"""


@pytest.fixture
def scenario_file(tmp_path: Path) -> Path:
    path = tmp_path / "rear.yaml"
    path.write_text(SCENARIO_YAML)
    return path
