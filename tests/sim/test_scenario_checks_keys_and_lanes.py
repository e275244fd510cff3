"""Scenario keys that were ignored without a word (an idm agent's speed_events, a scripted
agent's desired_speed_mps, route.goal_lane beside route.lanes) are errors naming the key; an
unknown lane id's error lists lane ids to pick from; docs/scenarios.md's example brakes."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from drivestack.core.errors import ConfigError
from drivestack.sim.build import build_scenario
from drivestack.sim.evaluate import run_scenario
from drivestack.sim.scenario import load_scenarios
from tests.sim.scenario_errors import scenario_error

REPO = Path(__file__).resolve().parents[2]
HEAD = "name: t\nmap: {kind: straight, params: {n_lanes: 2}}\nduration_s: 2.0\n"
EGO = "ego: {lane: road_0, station_m: 50.0, speed_kph: 30.0}\n"
EVENTS = "speed_events: [{time_s: 1.0, accel_mps2: -3.0, target_speed_mps: 2.0}]"


@pytest.mark.parametrize(
    ("agent", "field", "words"),
    [
        # the idm agent drove on by IDM, never braking as its events said
        (f"behavior: idm, {EVENTS}", "agents.0.speed_events",
         "only scripted agents use speed_events"),
        (EVENTS, "agents.0.speed_events", "this idm agent would ignore it"),  # idm by default
        # the scripted agent kept its start speed, never the desired one
        ("behavior: scripted, desired_speed_mps: 30.0", "agents.0.desired_speed_mps",
         "only idm agents use desired_speed_mps"),
    ],
)  # fmt: skip
def test_a_key_the_agents_behaviour_ignores_is_refused(tmp_path, agent, field, words) -> None:
    text = HEAD + EGO + f"agents:\n  - {{id: a, lanes: [road_1], station_m: 100.0, {agent}}}\n"
    message = scenario_error(tmp_path, text, build=False)
    assert f": field {field}: " in message and words in message


def test_each_behaviour_keeps_its_own_keys(tmp_path) -> None:
    (path := tmp_path / "s.yaml").write_text(
        HEAD + EGO + "agents:\n"
        f"  - {{id: a, behavior: scripted, lanes: [road_1], station_m: 100.0, {EVENTS}}}\n"
        "  - {id: b, behavior: idm, lanes: [road_1], station_m: 150.0, desired_speed_mps: 9.0}\n"
    )
    (cfg,) = load_scenarios(path)
    built = build_scenario(cfg)
    a, b = built.world.traffic.specs
    assert len(a.speed_events) == 1 and b.desired_speed_mps == 9.0


def test_shipped_scenarios_give_no_key_their_behaviour_ignores() -> None:
    files = sorted((REPO / "configs" / "scenarios").glob("*.yaml"))
    loaded = [cfg for f in files for cfg in load_scenarios(f)]  # each check_scenario'd
    assert len(loaded) > 30


def test_route_lanes_and_goal_lane_together_are_refused(tmp_path) -> None:
    # the goal lane was dropped without a word: the route ran as route.lanes
    text = (
        "name: t\nmap: {kind: intersection}\nego: {lane: south_in, station_m: 100.0}\n"
        "route: {lanes: [south_in, south_to_north, north_out], goal_lane: west_out}\n"
        "duration_s: 2.0\n"
    )
    message = scenario_error(tmp_path, text, build=False)
    assert ": field route.goal_lane: 'west_out' conflicts with route.lanes" in message


# --- unknown lane ids --------------------------------------------------------------------


def test_an_unknown_ego_lane_lists_the_maps_lanes_in_id_order(tmp_path) -> None:
    text = "name: t\nmap: {kind: straight, params: {n_lanes: 12}}\nduration_s: 2.0\n"
    message = scenario_error(tmp_path, text + "ego: {lane: road_99}\n")
    listed = message.split("(its lanes, in id order: ")[1].rstrip(")").split(", ")
    assert ": field ego.lane: no lane 'road_99' in the map" in message
    assert listed == [f"road_{k}" for k in range(12)]  # road_2 before road_10


def test_an_unknown_agent_lane_lists_the_lanes_nearest_the_ego(tmp_path) -> None:
    # 25 lanes 3.5 m apart, the ego on road_20: the 20 nearest are road_20, then road_19 and
    # road_21 (3.5 m, map order on a tie), ... road_16 / road_24 (14 m), then road_15 to road_5
    text = "name: t\nmap: {kind: straight, params: {n_lanes: 25}}\nduration_s: 2.0\n"
    text += "ego: {lane: road_20, station_m: 50.0}\n"
    message = scenario_error(
        tmp_path, text + "agents: [{id: a, lanes: [road_0, road_x], station_m: 60.0}]\n"
    )
    nearest = ["road_20", "road_19", "road_21", "road_18", "road_22", "road_17", "road_23"]
    nearest += ["road_16", "road_24", *(f"road_{k}" for k in range(15, 4, -1))]
    assert message.endswith(
        ": field agents.0.lanes.1: no lane 'road_x' in the map (20 of its 25 lanes, nearest "
        f"the ego's start: {', '.join(nearest)}, ...)"
    )


@pytest.mark.parametrize(
    ("route", "field"),
    [("{goal_lane: road_5}", "route.goal_lane"), ("{lanes: [road_0, road_5]}", "route.lanes.1")],
)
def test_an_unknown_route_lane_lists_lanes(tmp_path, route, field) -> None:
    text = HEAD + EGO + f"route: {route}\n"
    message = scenario_error(tmp_path, text)
    where = f": field {field}: no lane 'road_5' in the map"
    assert message.endswith(f"{where} (its lanes, nearest the ego's start: road_0, road_1)")


def test_an_unknown_light_stop_lane_lists_lanes(tmp_path) -> None:
    light = "{id: new, phases: [[red, 5.0]], stops: [{lane: road_9, station_m: 9.0}]}"
    message = scenario_error(tmp_path, HEAD + EGO + f"traffic_lights: [{light}]\n")
    where = ": field traffic_lights.0.stops.0.lane: no lane 'road_9' in the map"
    assert message.endswith(f"{where} (its lanes, in id order: road_0, road_1)")


@pytest.mark.parametrize(
    ("where", "field", "value"),
    [
        ("ego: {lane: 45084}\n", "ego.lane", "45084"),
        ("ego: {lane: road_0}\nroute: {goal_lane: 7}\n", "route.goal_lane", "7"),
        ("ego: {lane: road_0}\nroute: {lanes: [7.5]}\n", "route.lanes.0", "7.5"),
        ("ego: {lane: road_0}\nagents: [{id: a, lanes: [45084]}]\n", "agents.0.lanes.0", "45084"),
    ],
)
def test_a_numeric_lane_id_says_to_quote_it(tmp_path, where, field, value) -> None:
    # a Lanelet2 id written bare said only "expected a string, got 45084"
    message = scenario_error(tmp_path, HEAD + where, build=False)
    assert message.endswith(
        f': field {field}: expected a string, got {value} (quote it, "{value}": lane ids are '
        "strings)"
    )


@pytest.mark.data
def test_a_wrong_opendrive_lane_lists_the_maps_ids(tmp_path, shared_data: Path) -> None:
    # the reviewer's odr_badlane.yaml: "no lane '0_0_-7' in the map" told nothing more
    path = tmp_path / "s.yaml"
    path.write_text(
        "name: t\nmap: {kind: opendrive, file: opendrive_esmini/curve_r100.xodr}\n"
        'ego: {lane: "0_0_-7", station_m: 20.0}\nduration_s: 2.0\n'
    )
    (cfg,) = load_scenarios(path)
    with pytest.raises(ConfigError, match=r"no lane '0_0_-7' in the map \(its lanes, in id order: "
                       r"0_0_1, 0_0_-1\)"):  # fmt: skip
        build_scenario(cfg, shared_data)


# --- docs/scenarios.md's example --------------------------------------------------------


def test_the_documented_cut_in_brakes_when_its_trigger_says(tmp_path) -> None:
    # its speed event (within 25 m, from 6 s on) never fired: by 6 s the ego had dropped back
    doc = (REPO / "docs" / "scenarios.md").read_text()
    (block,) = re.findall(r"```yaml\n(.*?)```", doc, flags=re.S)
    (path := tmp_path / "cut_in.yaml").write_text(block)
    (cfg,) = load_scenarios(path)
    (brake,) = cfg.agents[0].speed_events
    result = run_scenario(cfg, "pdm")
    speed = np.hypot(*result.history.agent_velocity_mps[:, 0].T)
    gap = np.hypot(*(result.history.agent_boxes[:, 0, :2] - result.history.ego_boxes[:, :2]).T)
    t = np.arange(len(speed)) * cfg.dt_s
    first = int(np.flatnonzero(speed < speed[0] - 1e-6)[0])  # it starts braking here
    assert t[first - 1] == pytest.approx(brake.time_s)  # at its earliest start ...
    assert gap[first - 1] <= brake.when_ego_within_m  # ... with the ego within range
    assert speed.min() == pytest.approx(brake.target_speed_mps)
    assert not result.history.collisions.any()
