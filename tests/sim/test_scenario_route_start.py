"""An explicit ``route.lanes`` the ego cannot follow is refused when the scenario is built: the
ego must start on one of its lanes or on a lane beside one (a lane change the planners drive),
or the route must start at most ``MAX_ROUTE_LEAD_M`` ahead of it along successors (then the
lanes in between are put first). Before, such a scenario ran silently and scored 0 (no
progress): a route elsewhere on the map, or one that starts farther ahead of the ego (the ego
stopped where it stood, or drove off the route)."""

from __future__ import annotations

from pathlib import Path

import pytest

from drivestack.core.errors import ConfigError
from drivestack.sim.build import MAX_ROUTE_LEAD_M, _lead_distance_m, _route_lead, build_scenario
from drivestack.sim.evaluate import run_scenario
from drivestack.sim.scenario import load_scenarios
from tests.sim.scenario_errors import scenario_error

CROSSING = (
    "name: t\nmap: {kind: intersection}\nduration_s: 20.0\n"
    "ego: {lane: south_in, station_m: 100.0, speed_kph: 30.0}\n"
)
#: The intersection map's south_in is 150 m long; south_to_west (its left turn) is 19.07 m.
SOUTH_IN_M = 150.0
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


def _crossing(station_m: float, route: str) -> str:
    return CROSSING.replace("station_m: 100.0", f"station_m: {station_m}") + (
        f"route: {{lanes: {route}}}\n"
    )


def test_a_route_that_starts_far_ahead_of_the_ego_is_refused_naming_the_lanes_to_put_first(
    tmp_path: Path,
) -> None:
    # before: ran; the IDM planner stopped where it stood (score 0), PDM drove on (93.1);
    # south_to_west starts 0.1 m more than MAX_ROUTE_LEAD_M ahead of the ego: the message
    # says how far ahead and the limit (before: "neither on the route nor beside ...")
    far = SOUTH_IN_M - MAX_ROUTE_LEAD_M - 0.1
    message = scenario_error(tmp_path, _crossing(far, "[south_to_west, west_out]"))
    assert (
        "field route.lanes: route.lanes ['south_to_west', 'west_out'] starts 50.1 m ahead of "
        "the ego along its lanes (from lane 'south_in', ego.lane); at most 50 m is run with "
        "lead lanes: start route.lanes with ['south_in'], the lanes from the ego's lane onto "
        "the route"
    ) in message
    assert "neither on the route" not in message
    # the goal lane alone, 150 - 100 + 19.07 m ahead: the lanes leading to it are named
    message = scenario_error(tmp_path, CROSSING + "route: {lanes: [west_out]}\n")
    assert "route.lanes ['west_out'] starts 69.1 m ahead of the ego along its lanes" in message
    assert "start route.lanes with ['south_in', 'south_to_west']" in message
    # before: score 0 with both planners (the ego drove off main_b); main_b starts 121.6 m ahead
    message = scenario_error(tmp_path, MERGE + "route: {lanes: [main_b]}\n")
    assert "starts 121.6 m ahead of the ego along its lanes (from lane 'ramp', ego.lane)" in (
        message
    )
    assert "start route.lanes with ['ramp']" in message


@pytest.mark.parametrize("station_m", [99.0, 80.0, 31.3])
def test_how_far_ahead_a_refused_route_starts_is_said_with_the_limit(
    tmp_path: Path, station_m: float
) -> None:
    """The review's case (51.0 m ahead, the ego at station 99 of south_in's 150 m) and
    farther: the distance is south_in's rest, and the limit is named."""
    message = scenario_error(tmp_path, _crossing(station_m, "[south_to_west, west_out]"))
    ahead_m = SOUTH_IN_M - station_m
    assert f"starts {ahead_m:.1f} m ahead of the ego along its lanes" in message
    assert f"at most {MAX_ROUTE_LEAD_M:g} m is run with lead lanes" in message


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
        _route_lead(road_map, route, ["south_in"], (1.75, -60.0), cfg)
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


@pytest.mark.parametrize(
    ("station_m", "route", "lead"),
    [
        # south_to_west starts exactly MAX_ROUTE_LEAD_M ahead: the limit is inclusive
        (SOUTH_IN_M - MAX_ROUTE_LEAD_M, "[south_to_west, west_out]", ("south_in",)),
        # west_out starts 10 + 19.07 m ahead, past two lanes
        (SOUTH_IN_M - 10.0, "[west_out]", ("south_in", "south_to_west")),
    ],
)
def test_a_route_that_starts_a_little_ahead_is_run_with_the_lanes_onto_it_first(
    tmp_path: Path, station_m: float, route: str, lead: tuple[str, ...]
) -> None:
    cfg = load_scenarios(_write(tmp_path, _crossing(station_m, route)))[0]
    with pytest.warns(UserWarning, match=r"starts ahead of the ego \(lane 'south_in'\); running"):
        built = build_scenario(cfg)
    assert built.route_lead_lanes == lead
    assert built.route_lanes == [*lead, *route.strip("[]").split(", ")]


def test_a_route_that_starts_on_or_beside_the_ego_lane_has_no_lead(tmp_path: Path) -> None:
    built = build_scenario(load_scenarios(_write(tmp_path, _straight(2, "[road_1]")))[0])
    assert built.route_lead_lanes == ()
    assert built.route_lanes == ["road_1"]


def test_the_lead_distance_is_along_successors_only(tmp_path: Path) -> None:
    cfg = load_scenarios(_write(tmp_path, _straight(2, "[road_1]")))[0]
    road_map = build_scenario(cfg).road_map
    # road_0 -> road_1 is a lane change, not a successor: no distance along lanes
    assert _lead_distance_m(road_map, ["road_0", "road_1"], (100.0, 1.75)) == float("inf")
    crossing = build_scenario(load_scenarios(_write(tmp_path, CROSSING))[0]).road_map
    # the ego 3 m right of south_in's centre line at y = -60 m projects to station 100 m
    distance = _lead_distance_m(crossing, ["south_in", "south_to_west"], (4.75, -60.0))
    assert distance == pytest.approx(SOUTH_IN_M - 100.0)


@pytest.mark.parametrize("planner", ["pdm", "idm"])
def test_the_planners_drive_a_route_that_starts_just_ahead(tmp_path: Path, planner: str) -> None:
    # the route is the junction's left turn and what follows, the ego 2 m before the turn
    text = _crossing(SOUTH_IN_M - 2.0, "[south_to_west, west_out]")
    with pytest.warns(UserWarning, match="running it as lead lanes"):
        built = build_scenario(load_scenarios(_write(tmp_path, text))[0])
    result = run_scenario(built, planner)
    history = result.history
    end = (float(history.ego_x_m[-1]), float(history.ego_y_m[-1]))
    assert built.road_map.nearest_lane(end, yaw_rad=float(history.ego_yaw_rad[-1])) == "west_out"
    assert result.passed and not result.failures
    assert result.as_dict()["route_lead_lanes"] == ["south_in"]  # recorded in metrics.json
