"""An explicit ``route.lanes`` the ego cannot follow is refused when the scenario is built: the
ego must start on one of its lanes or on a lane beside one (a lane change the planners drive).
Before, such a scenario ran silently and scored 0 (no progress): a route elsewhere on the map,
or one that starts ahead of the ego (the ego stopped where it stood, or drove off the route)."""

from __future__ import annotations

from pathlib import Path

import pytest

from drivestack.core.errors import ConfigError
from drivestack.sim.build import _check_route_start, build_scenario
from drivestack.sim.evaluate import run_scenario
from drivestack.sim.scenario import load_scenarios
from tests.sim.scenario_errors import scenario_error

CROSSING = (
    "name: t\nmap: {kind: intersection}\nduration_s: 20.0\n"
    "ego: {lane: south_in, station_m: 100.0, speed_kph: 30.0}\n"
)
MERGE = "name: t\nmap: {kind: merge}\nduration_s: 20.0\nego: {lane: ramp, station_m: 180.0}\n"


def _straight(n_lanes: int, route: str) -> str:
    return (
        f"name: t\nmap: {{kind: straight, params: {{n_lanes: {n_lanes}, speed_limit_mps: "
        "16.67}}\nduration_s: 15.0\nego: {lane: road_0, station_m: 100.0, speed_kph: 60.0}\n"
        f"route: {{lanes: {route}}}\n"
    )


def test_a_route_elsewhere_on_the_map_is_refused(tmp_path: Path) -> None:
    # before: ran, score 0 with both planners (the oncoming car's lanes)
    route = "[north_in, north_to_south, south_out]"
    message = scenario_error(tmp_path, CROSSING + f"route: {{lanes: {route}}}\n")
    assert (
        "field route.lanes: the ego starts on lane 'south_in' (ego.lane), which is neither on "
        "the route nor beside one of its lanes (route.lanes: ['north_in', 'north_to_south', "
        "'south_out']): the planners cannot follow it; give a route from the ego's lane (or "
        "route.goal_lane)"
    ) in message


def test_a_route_that_starts_ahead_of_the_ego_is_refused_naming_the_lanes_to_put_first(
    tmp_path: Path,
) -> None:
    # before: ran; the IDM planner stopped where it stood (score 0), PDM drove on (93.1)
    message = scenario_error(tmp_path, CROSSING + "route: {lanes: [south_to_west, west_out]}\n")
    assert "field route.lanes: the ego starts on lane 'south_in' (ego.lane)" in message
    assert "start route.lanes with ['south_in'], the lanes from the ego's lane" in message
    # the goal lane alone: the lanes leading to it are named
    message = scenario_error(tmp_path, CROSSING + "route: {lanes: [west_out]}\n")
    assert "(route.lanes: ['west_out'])" in message
    assert "start route.lanes with ['south_in', 'south_to_west']" in message
    # before: score 0 with both planners (the ego 20 m before the merge drove off main_b)
    message = scenario_error(tmp_path, MERGE + "route: {lanes: [main_b]}\n")
    assert "starts on lane 'ramp'" in message and "start route.lanes with ['ramp']" in message


def test_a_route_on_the_lane_the_ego_merges_from_beside_is_refused(tmp_path: Path) -> None:
    # main_a is no neighbour of the ramp: the two only meet where both end (before: score 0)
    message = scenario_error(tmp_path, MERGE + "route: {lanes: [main_a, main_b]}\n")
    assert "field route.lanes: the ego starts on lane 'ramp'" in message
    assert "(route.lanes: ['main_a', 'main_b'])" in message


def test_a_long_route_is_listed_by_its_first_lanes(tmp_path: Path) -> None:
    cfg = load_scenarios(_write(tmp_path, CROSSING))[0]
    road_map = build_scenario(cfg).road_map
    route = ["east_in", "east_to_north", "north_out", "west_in"]  # the check reads no links
    with pytest.raises(ConfigError) as info:
        _check_route_start(road_map, route, ["south_in"], cfg)
    assert "(route.lanes: ['east_in', 'east_to_north', 'north_out'] ... (4 in all))" in str(
        info.value
    )


def test_a_gap_in_the_route_is_refused(tmp_path: Path) -> None:
    # refused before too (RoadMap.check_route): north_out does not follow south_to_west
    route = "[south_in, south_to_west, north_out]"
    message = scenario_error(tmp_path, CROSSING + f"route: {{lanes: {route}}}\n")
    assert "field route.lanes: route lanes 1 -> 2: lane 'north_out' is neither" in message


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "ok.yaml"
    path.write_text(text)
    return path


@pytest.mark.parametrize(
    ("n_lanes", "route", "lane_y_m"),
    [(2, "[road_1]", 5.25), (3, "[road_2]", 8.75)],
)
@pytest.mark.parametrize("planner", ["pdm", "idm"])
def test_a_route_on_a_lane_beside_the_ego_is_a_lane_change_the_planners_drive(
    tmp_path: Path, n_lanes: int, route: str, lane_y_m: float, planner: str
) -> None:
    # lanes are 3.5 m wide from y = 0: the route lane's centre is at lane_y_m
    built = build_scenario(load_scenarios(_write(tmp_path, _straight(n_lanes, route)))[0])
    history = run_scenario(built, planner).history
    assert history.ego_y_m[-1] == pytest.approx(lane_y_m, abs=0.3)
    assert history.ego_x_m[-1] - history.ego_x_m[0] > 150.0  # about 15 s at 60 km/h, less braking
