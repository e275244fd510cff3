"""A scripted agent's ``path_m`` that turns back on itself is refused at build time, naming
the file, ``agents.<i>.path_m`` and the vertex (as given, repeated points counted)."""

from __future__ import annotations

from pathlib import Path

import pytest

from drivestack.core.errors import ConfigError
from drivestack.sim.build import build_scenario
from drivestack.sim.scenario import load_scenarios

SCENARIO = """name: cusp
map: {{kind: straight}}
ego: {{lane: road_0, station_m: 100.0, speed_kph: 30.0}}
duration_s: 5.0
agents:
  - {{id: a, behavior: scripted, path_m: {path}, station_m: 10.0, speed_mps: 5.0}}
"""


def _build(tmp_path: Path, path_m: str) -> None:
    file = tmp_path / "s.yaml"
    file.write_text(SCENARIO.format(path=path_m))
    for cfg in load_scenarios(file):
        build_scenario(cfg)


def test_cusp_in_an_agent_path_names_field_and_vertex(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        _build(tmp_path, "[[150.0, 5.25], [200.0, 5.25], [200.0, 5.25], [150.0, 5.3]]")
    message = str(info.value)
    assert message.startswith(f"{tmp_path / 's.yaml'}: field agents.0.path_m: ")
    assert "turns back on itself at vertex 2 [200.0, 5.25]" in message


def test_a_sharp_forward_turn_is_a_path(tmp_path: Path) -> None:
    _build(tmp_path, "[[150.0, 5.25], [200.0, 5.25], [200.0, 40.0]]")  # 90 degrees: fine
