"""All-way stops: first to stop, first to go, for the simulated idm agents and both planners.

The synthetic junction with ``stop_sign_arms: 4`` (one ``all_way_stop`` rule per arm, its
line 146 m along each ``<arm>_in`` lane, 14 m from the centre): the lines grouped into one
junction, the arrival order's records and precedence by hand, and closed loops where the ego
and a car stand at their lines together (the reviewer's collision: both went) or the car
came first."""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path

import numpy as np
import pytest

from drivestack.ingest.maps.lanelet2 import read_lanelet2
from drivestack.ingest.maps.synthetic import four_way_intersection
from drivestack.planning.stop_signs import (
    EGO_ACTOR_ID,
    FULL_STOP_SPEED_MPS,
    JUNCTION_REACH_M,
    STOP_WINDOW_M,
    ArrivalOrder,
    all_way_lines,
    order_key,
)
from drivestack.sim.build import build_scenario
from drivestack.sim.evaluate import ScenarioResult, run_scenario
from drivestack.sim.scenario import load_scenarios
from drivestack.structures.road_map import interpolate_polyline

CAR_M = (4.5, 1.85, 1.5)
LINE_M = 14.0  # every line is 14 m from the junction's centre
DT_S = 0.1
FAR_EGO = np.array([-500.0, 50.0, 0.75, 4.5, 1.85, 1.5, 0.0])  # out of every agent's way
#: an agent's lanes straight across from each arm
ACROSS = {
    "west": "[west_in, west_to_east, east_out]",
    "south": "[south_in, south_to_north, north_out]",
    "east": "[east_in, east_to_west, west_out]",
    "north": "[north_in, north_to_south, south_out]",
}


LINE_XY_M = {"west": (-14.0, -1.75), "south": (1.75, -14.0), "east": (14.0, 1.75)}
LINE_XY_M["north"] = (-1.75, 14.0)


def scenario(
    tmp_path: Path, ego: str, agents: list[str], seconds: float = 12.0, arms: int = 4
) -> Path:
    """A junction scenario (``arms`` 4: an all-way stop) with the ego ``ego`` (a flow
    mapping) going north when it starts on south_in."""
    route = "route: {goal_lane: north_out}\n" if "south_in" in ego else ""
    text = (
        "name: allway\nmap: {kind: intersection, params: {speed_limit_mps: 13.89, "
        f"stop_sign_arms: {arms}}}}}\n"
        f"ego: {ego}\n{route}duration_s: {seconds}\n"
        "agents:\n" + "".join(f"  - {a}\n" for a in agents) + "expert_progress_m: 60.0\n"
        "pass_criteria: {no_collision: true, min_progress_m: 40.0}\n"
    )
    path = tmp_path / "s.yaml"
    path.write_text(text)
    return path


def car(agent_id: str, arm: str, station_m: float, speed_mps: float = 0.0) -> str:
    return (
        f"{{id: {agent_id}, type: car, behavior: idm, lanes: {ACROSS[arm]}, "
        f"station_m: {station_m}, speed_mps: {speed_mps}, desired_speed_mps: 13.89}}"
    )


def past_line_s(front_to_centre_m: np.ndarray) -> float:
    """When a front first passes its line: ``front_to_centre_m`` (T,) is how far the front is
    from the junction's centre along its way in (negative before), the line at -14 m."""
    return float(np.flatnonzero(front_to_centre_m > -LINE_M)[0]) * DT_S


def crossing_times(result: ScenarioResult) -> tuple[float, float]:
    """(ego, the west car): when each front passed its line."""
    h = result.history
    ego_front = h.ego_boxes[:, 1] + 0.5 * h.ego_boxes[:, 3]  # going north along +y
    car_front = h.agent_boxes[:, 0, 0] + 0.5 * CAR_M[0]  # going east along +x
    return past_line_s(ego_front), past_line_s(car_front)


# --- the lines and the order, by hand -------------------------------------------------------


def test_the_four_rules_are_one_all_way_stop(tmp_path: Path) -> None:
    road = four_way_intersection(stop_sign_arms=4)
    for sign in road.stop_signs:
        lines = all_way_lines(road, sign)
        assert [line.lane_id for line in lines] == ["east_in", "north_in", "south_in", "west_in"]
        for line in lines:
            assert line.xy_m == pytest.approx(LINE_XY_M[line.lane_id.removesuffix("_in")])
    ego = "{lane: west_out, station_m: 100.0, speed_kph: 0.0}"
    (cfg,) = load_scenarios(scenario(tmp_path, ego, [car("s", "south", 120.0)]))
    (stop,) = build_scenario(cfg).world.traffic.specs[0].sign_stops
    assert stop.kind == "all_way_stop" and len(order_key(stop)) == 4
    # a two-way stop has no arrival order
    (cfg,) = load_scenarios(scenario(tmp_path, ego, [car("s", "south", 120.0)], arms=2))
    (stop,) = build_scenario(cfg).world.traffic.specs[0].sign_stops
    assert stop.kind == "stop" and stop.lines == () and order_key(stop) == ()


def order() -> ArrivalOrder:
    road = four_way_intersection(stop_sign_arms=4)
    return ArrivalOrder(all_way_lines(road, road.stop_signs[0]), STOP_WINDOW_M)


#: centre of a car standing on each arm with its front ``gap`` m before the line, and its yaw
def at_line(arm: str, gap_m: float = 1.0) -> tuple[tuple[float, float], float]:
    r = LINE_M + gap_m + 0.5 * CAR_M[0]
    return {
        "west": ((-r, -1.75), 0.0),
        "south": ((1.75, -r), math.pi / 2),
        "east": ((r, 1.75), math.pi),
        "north": ((-1.75, r), -math.pi / 2),
    }[arm]


def see(o: ArrivalOrder, t_ns: int, actors: dict[str, tuple[str, float, float]]) -> None:
    """Observe ``actors``: id -> (arm, gap to the line, speed); a gap below -30 m puts the
    car that far past the junction's centre on its way across."""
    ids, xy, yaw, speed = [], [], [], []
    for actor_id, (arm, gap, v) in actors.items():
        (x, y), h = at_line(arm, gap)
        ids.append(actor_id)
        xy.append((x, y))
        yaw.append(h)
        speed.append(v)
    n = len(ids)
    o.observe(
        ids, np.array(xy).reshape(n, 2), np.array(yaw), np.array(speed), np.full(n, 4.5), t_ns
    )


def test_the_order_records_who_stopped_first_and_keeps_them_till_they_cross() -> None:
    o = order()
    line = {arm: o.line_of(f"{arm}_in") for arm in ("west", "south", "east", "north")}
    # t = 0: w stands 1 m before its line, s rolls (not a stop), e stands 4 m back (outside)
    see(o, 0, {"w": ("west", 1.0, 0.0), "s": ("south", 1.0, 0.5), "e": ("east", 4.0, 0.0)})
    assert o.arrived == {"w": (line["west"], 0)}
    # t = 1 s: s stands; w still stands (its record keeps t = 0)
    see(o, 10**9, {"w": ("west", 1.0, 0.0), "s": ("south", 1.0, 0.0)})
    assert o.arrived == {"w": (line["west"], 0), "s": (line["south"], 10**9)}
    assert o.first_ahead("s", line["south"], 10**9) == "w"
    assert o.first_ahead("w", line["west"], 0) is None
    # a tie goes by id, the ego's the smallest
    assert o.first_ahead("z", line["north"], 10**9) == "w"
    assert o.first_ahead("a", line["north"], 0) is None
    assert o.first_ahead("x", line["north"], 0) == "w"
    assert o.first_ahead(EGO_ACTOR_ID, line["north"], 0) is None
    # one at the same line (queued behind) is not waited for
    assert o.first_ahead("q", line["west"], 5 * 10**9) == "s"
    # w moves off and crosses: kept while its centre is within the reach + half its length;
    # the reach: the lines' 28.2 m span, longer than the way through the map's junction past
    # each line (4 m to the box, then the 20 m straight connector, the longest) and shorter
    # than JUNCTION_REACH_M, the reach where a map marks no junction
    span = o.reach_m
    assert [line.exit_m for line in o.lines] == pytest.approx([4.0 + 20.0] * 4)
    assert span == pytest.approx(math.hypot(2 * LINE_M, 3.5))
    assert span < JUNCTION_REACH_M
    see(o, 2 * 10**9, {"w": ("west", -10.0, 3.0), "s": ("south", 1.0, 0.0)})
    assert "w" in o.arrived and o.first_ahead("s", line["south"], 10**9) == "w"
    # its front "gap" before the line: its centre gap + 2.25 m before it; past the reach + 2.25 m
    gap_out = -(span + CAR_M[0] + 0.1)
    see(o, 3 * 10**9, {"w": ("west", gap_out, 5.0), "s": ("south", 1.0, 0.0)})
    assert "w" not in o.arrived and o.first_ahead("s", line["south"], 10**9) is None
    # an actor no longer seen is dropped; reset forgets all
    see(o, 4 * 10**9, {})
    assert o.arrived == {}
    see(o, 5 * 10**9, {"n": ("north", 0.5, 0.0)})
    o.reset()
    assert o.arrived == {}


# --- the agents among themselves -------------------------------------------------------------


def drive_agents(path: Path, seconds: float) -> tuple[list[str], np.ndarray, np.ndarray]:
    """Step the traffic of ``path`` (the ego far away): ids, ``(T + 1, A, 2)`` centres and
    ``(T + 1, A)`` speeds."""
    (cfg,) = load_scenarios(path)
    tr = build_scenario(cfg).world.traffic
    ids = [spec.agent_id for spec in tr.specs]
    xy = [np.stack([tr.state.x_m, tr.state.y_m], axis=1)]
    speed = [tr.state.speed_mps.copy()]
    for _ in range(round(seconds / DT_S)):
        st = tr.step(DT_S, FAR_EGO, 0.0)
        xy.append(np.stack([st.x_m, st.y_m], axis=1))
        speed.append(st.speed_mps.copy())
    return ids, np.array(xy), np.array(speed)


def moves_off_s(speed: np.ndarray) -> float:
    return float(np.flatnonzero(speed >= FULL_STOP_SPEED_MPS)[0]) * DT_S


def test_four_cars_standing_at_once_go_one_by_one_in_id_order(tmp_path: Path) -> None:
    """All four stand 1 m before their lines from t = 0 (a tie): no deadlock; each moves off
    only once the one before it has left the junction."""
    arms = ("west", "south", "east", "north")
    agents = [car(i, arm, 142.75) for i, arm in zip("dbca", arms, strict=True)]
    path = scenario(tmp_path, "{lane: west_out, station_m: 100.0, speed_kph: 0.0}", agents)
    ids, xy, speed = drive_agents(path, 40.0)
    arm = dict(zip("dbca", ("west", "south", "east", "north"), strict=True))
    off = {i: moves_off_s(speed[:, k]) for k, i in enumerate(ids)}
    assert sorted(off, key=off.__getitem__) == ["a", "b", "c", "d"]
    assert off["a"] == pytest.approx(1.0 + DT_S)  # released by its 1 s dwell, first by id
    reach = order().reach_m + 0.5 * CAR_M[0]
    for before, after in zip("abc", "bcd", strict=True):
        k = ids.index(before)
        left = np.hypot(*(xy[:, k] - np.array(LINE_XY_M[arm[before]])).T) > reach
        # the next one moved off on the tick after the one before had left the junction
        assert off[after] == pytest.approx(float(np.flatnonzero(left)[0]) * DT_S + DT_S)


def test_the_first_to_stop_goes_first_the_later_waits(tmp_path: Path) -> None:
    """w stands at its line from t = 0; s comes to its line from 40 m at 8 m/s and stops
    later: s waits past its own dwell until w has crossed."""
    agents = [car("w", "west", 142.75), car("s", "south", 105.0, 8.0)]
    path = scenario(tmp_path, "{lane: west_out, station_m: 100.0, speed_kph: 0.0}", agents)
    ids, xy, speed = drive_agents(path, 25.0)
    w, s = ids.index("w"), ids.index("s")
    stops = np.flatnonzero(speed[:, s] < FULL_STOP_SPEED_MPS)
    s_stood = float(stops[0]) * DT_S
    s_off = float(np.flatnonzero((np.arange(len(speed)) > stops[0]) & (speed[:, s] >= 0.1))[0])
    s_off *= DT_S
    assert moves_off_s(speed[:, w]) == pytest.approx(1.0 + DT_S)  # its dwell, then it goes
    assert s_off > s_stood + 1.0 + DT_S  # held beyond its dwell ...
    assert xy[round(s_off / DT_S), w, 0] > 14.0  # ... till w had crossed the junction


# --- the ego and an agent: the reviewer's scenarios ------------------------------------------


@pytest.mark.parametrize("planner", ["pdm", "idm"])
@pytest.mark.parametrize("ego_station_m", [141.85, 141.0, 140.5])
def test_ego_and_car_standing_together_take_turns(
    tmp_path: Path, planner: str, ego_station_m: float
) -> None:
    """The ego stands on south_in with its front at (up to 1.35 m before) its line and a car
    1 m before its line on west_in, both from t = 0: a tie, the ego (id "") goes first, the
    car after it has crossed. Before, both went at t = 1 s and collided."""
    path = scenario(
        tmp_path,
        f"{{lane: south_in, station_m: {ego_station_m}, speed_kph: 0.0}}",
        [car("cross", "west", 142.75)],
    )
    (cfg,) = load_scenarios(path)
    result = run_scenario(cfg, planner)
    assert not result.history.collisions.any()
    assert result.passed, result.failures
    ego_s, car_s = crossing_times(result)
    assert ego_s < car_s


@pytest.mark.parametrize("planner", ["pdm", "idm"])
def test_a_car_that_stopped_first_goes_first(tmp_path: Path, planner: str) -> None:
    """The car stands at its line from t = 0; the ego starts 20 m back at rest and stops at
    its line later: the car crosses first, and the ego is held past its dwell until the car
    has left the junction."""
    path = scenario(
        tmp_path,
        "{lane: south_in, station_m: 122.0, speed_kph: 0.0}",
        [car("cross", "west", 142.75)],
        seconds=16.0,
    )
    (cfg,) = load_scenarios(path)
    result = run_scenario(cfg, planner)
    assert not result.history.collisions.any()
    assert result.passed, result.failures
    ego_s, car_s = crossing_times(result)
    assert car_s < ego_s
    # the car's centre had left the junction (beyond the reach + half its length of its line)
    h = result.history
    tick = round(ego_s / DT_S)
    car_x = h.agent_boxes[:tick, 0, 0]
    assert car_x.max() > -LINE_M - 1.75 + order().reach_m - 1.0


def test_a_real_lanelet2_approach_made_all_way(shared_data: Path) -> None:
    """The Lanelet2 sample map's two sign rules (fallback yields, made all-way stops here):
    each rule's two lines (two lanes side by side) form its order; the map marks no
    junctions, so each reaches JUNCTION_REACH_M past its line at least; a car standing 1 m
    before a real line, along its lane, is recorded at that line, and one rolling is not."""
    m = read_lanelet2(shared_data / "lanelet2" / "mapping_example.osm")
    signs = tuple(dataclasses.replace(s, kind="all_way_stop", fallback=False) for s in m.stop_signs)
    m = dataclasses.replace(m, stop_signs=signs)
    for sign in signs:
        lines = all_way_lines(m, sign)
        assert {line.lane_id for line in lines} >= set(sign.lane_ids)
        o = ArrivalOrder(lines)
        assert o.reach_m >= JUNCTION_REACH_M
        for k, line in enumerate(lines):
            centre = np.array([line.station_m - 1.0 - 0.5 * CAR_M[0]])
            xy, heading = interpolate_polyline(line.lane.centerline_m, centre)
            o.observe(
                ["c", "r"],
                np.repeat(xy, 2, axis=0),
                np.repeat(heading, 2),
                np.array([0.0, 2.0]),
                np.full(2, CAR_M[0]),
                k,
            )
            assert o.arrived == {"c": (k, k)}
            o.reset()
