"""A start ``offset_m`` (the ego's, an agent's on lanes) may put a vehicle's centre at most
1 m past its lane's edge (START_OFFSET_MARGIN_M): further is a ConfigError naming the key."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from drivestack.core.errors import ConfigError
from drivestack.sim.build import START_OFFSET_MARGIN_M, build_scenario
from drivestack.sim.scenario import load_scenarios
from tests.sim.scenario_errors import scenario_error


def _yaml(width_m: float, ego_offset_m: float, agent_offset_m: float) -> str:
    return (
        "name: t\n"
        f"map: {{kind: straight, params: {{n_lanes: 2, lane_width_m: {width_m:.6f}}}}}\n"
        f"ego: {{lane: road_0, station_m: 100.0, speed_kph: 30.0, offset_m: {ego_offset_m:.6f}}}\n"
        "duration_s: 1.0\n"
        "agents:\n"
        "  - {id: a, type: car, behavior: scripted, lanes: [road_1], station_m: 160.0, "
        f"speed_mps: 0.0, offset_m: {agent_offset_m:.6f}}}\n"
    )


def test_the_limit_is_the_half_width_and_the_margin(tmp_path: Path) -> None:
    # 3.5 m lanes: half width 1.75 m, so at most +-2.75 m
    assert START_OFFSET_MARGIN_M == 1.0
    (tmp_path / "ok.yaml").write_text(_yaml(3.5, 2.75, -2.75))
    (cfg,) = load_scenarios(tmp_path / "ok.yaml")
    build_scenario(cfg)
    message = scenario_error(tmp_path, _yaml(3.5, 2.8, 0.0))
    assert (
        "field ego.offset_m: 2.8 m puts the start 1.05 m past the edge of lane 'road_0'" in message
    )
    assert "at most +-2.75 m" in message
    message = scenario_error(tmp_path, _yaml(3.5, 0.0, -50.0))
    assert "field agents.0.offset_m: -50.0 m" in message and "lane 'road_1'" in message


@settings(max_examples=15, deadline=None)
@given(
    width=st.floats(2.5, 5.0),
    ego=st.floats(-8.0, 8.0),
    agent=st.floats(-8.0, 8.0),
)
def test_a_start_builds_exactly_when_within_the_limit(
    tmp_path_factory: pytest.TempPathFactory, width: float, ego: float, agent: float
) -> None:
    width, ego, agent = (round(x, 6) for x in (width, ego, agent))  # as the YAML has them
    limit = width / 2 + START_OFFSET_MARGIN_M
    path = tmp_path_factory.mktemp("o") / "s.yaml"
    path.write_text(_yaml(width, ego, agent))
    (cfg,) = load_scenarios(path)
    if abs(ego) <= limit and abs(agent) <= limit:
        try:
            build_scenario(cfg)
        except ConfigError as exc:  # the agent's box on the ego's: another check
            assert "offset_m" not in (exc.field or ""), exc
        return
    with pytest.raises(ConfigError) as info:
        build_scenario(cfg)
    assert info.value.field == ("ego.offset_m" if abs(ego) > limit else "agents.0.offset_m")
