"""Simulated ``idm`` traffic obeys stop signs with the planners' rule and gives way: an agent on
a stop arm of the synthetic two-way stop stops at its line, stands the dwell and goes; it waits
for a car on the priority road (the gap rule of drivestack.sim.give_way) until that car has
passed, but not for one still before its own stop line; agents off the stop arms and non-idm
agents drive as before; the stop_sign_agent_yields scenario closed loop."""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from shapely.geometry import LineString, Point

from drivestack.ingest.maps.lanelet2 import read_lanelet2
from drivestack.planning.idm import IDMParams
from drivestack.planning.reference_path import ReferencePath
from drivestack.planning.stop_signs import (
    FULL_STOP_SPEED_MPS,
    STOP_SIGN_DWELL_S,
    STOP_WINDOW_M,
    RouteSignStop,
    route_sign_stops,
)
from drivestack.sim.agents import AgentSpec, Traffic
from drivestack.sim.build import BuiltScenario, build_scenario
from drivestack.sim.evaluate import run_scenario
from drivestack.sim.give_way import (
    GAP_S,
    JUNCTION_REACH_M,
    LOOKBACK_M,
    blocking_actor,
    sign_conflicts,
)
from drivestack.sim.scenario import load_scenarios
from drivestack.structures.labels import ObjectClass

SCENARIOS = Path(__file__).resolve().parents[2] / "configs" / "scenarios"
CAR_M = (4.5, 1.85, 1.5)
LINE_Y_M = -14.0  # the south arm's stop line (south_in station 146 m; the lane runs along +y)
LANE_X_M = 1.75  # south_in / south_to_north's centreline
CROSS_Y_M = -1.75  # west_in / west_to_east's centreline: the conflict point is (1.75, -1.75)
FAR_EGO = np.array([-500.0, 50.0, 0.75, 4.5, 1.85, 1.5, 0.0])  # out of every agent's way
DT_S = 0.1
SOUTH = "{id: s, type: car, behavior: %s, lanes: [south_in, south_to_north, north_out], "
SOUTH += "station_m: %.2f, speed_mps: %.2f, desired_speed_mps: 13.89}"
WEST = "{id: w, type: car, behavior: idm, lanes: [west_in, west_to_east, east_out], "
WEST += "station_m: %.2f, speed_mps: 10.0, desired_speed_mps: 10.0}"
NORTH = "{id: n, type: car, behavior: idm, lanes: [north_in, north_to_east, east_out], "
NORTH += "station_m: %.2f, speed_mps: %.2f, desired_speed_mps: 13.89}"
#: the car standing with its front 1 m before the line (centre at 146 - 1 - 2.25 m)
AT_LINE_M = 142.75


def traffic(tmp_path: Path, *agents: str, arms: int = 2) -> Traffic:
    """The traffic of a junction scenario (``stop_sign_arms: arms``) with ``agents`` (YAML
    flow mappings); the ego stands on west_out, out of the way (it is replaced by FAR_EGO)."""
    text = (
        "name: t\nmap: {kind: intersection, params: {speed_limit_mps: 13.89, "
        f"stop_sign_arms: {arms}}}}}\n"
        "ego: {lane: west_out, station_m: 100.0, speed_kph: 0.0}\nduration_s: 1.0\n"
        "agents:\n" + "".join(f"  - {a}\n" for a in agents)
    )
    (tmp_path / "s.yaml").write_text(text)
    (cfg,) = load_scenarios(tmp_path / "s.yaml")
    return build_scenario(cfg).world.traffic


def drive(traffic: Traffic, seconds: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Step ``traffic`` (the ego far away): ``(T + 1, A)`` x, y of the box centres and speeds,
    from t = 0."""
    xs, ys, vs = (
        [traffic.state.x_m.copy()],
        [traffic.state.y_m.copy()],
        [traffic.state.speed_mps.copy()],
    )
    for _ in range(round(seconds / DT_S)):
        state = traffic.step(DT_S, FAR_EGO, 0.0)
        xs.append(state.x_m.copy())
        ys.append(state.y_m.copy())
        vs.append(state.speed_mps.copy())
    return np.array(xs), np.array(ys), np.array(vs)


def moves_off_s(speed: np.ndarray) -> float:
    """When a car standing at t = 0 first moves (speed at least FULL_STOP_SPEED_MPS)."""
    return float(np.flatnonzero(speed >= FULL_STOP_SPEED_MPS)[0]) * DT_S


def test_an_agent_on_the_stop_arm_stops_stands_the_dwell_and_goes(tmp_path: Path) -> None:
    """From 50 km/h, 44.25 m before the line: it stops with the planners' law (about the
    comfortable 3 m/s^2, as at a red light), stands under 0.1 m/s with its front within 3 m
    before the line for the dwell, and goes on the tick it is released (nobody comes)."""
    tr = traffic(tmp_path, SOUTH % ("idm", 100.0, 13.89))
    (spec,) = tr.specs
    assert spec.sign_stops == (RouteSignStop("stop_south", "south_in", 146.0, "stop"),)
    (conflicts,) = spec.sign_conflicts
    lanes = [c.lane_id for c in conflicts]
    # every lane crossing (or merging into) south_to_north inside the box, in order along it
    assert lanes == [
        "west_to_east",
        "east_to_south",
        "north_to_east",
        "east_to_west",
        "east_to_north",
        "west_to_north",
    ]
    assert conflicts[0].xy_m == pytest.approx((LANE_X_M, CROSS_Y_M))
    assert conflicts[0].station_m == pytest.approx(146.0 + 14.0 - 1.75)
    _, y, v = drive(tr, 14.0)
    front, speed = y[:, 0] + 0.5 * CAR_M[0], v[:, 0]
    standing = np.flatnonzero((speed < FULL_STOP_SPEED_MPS) & (LINE_Y_M - front <= STOP_WINDOW_M))
    assert len(standing) and np.all(np.diff(standing) == 1)  # one stand
    first, last = int(standing[0]), int(standing[-1])
    assert (last - first) * DT_S >= STOP_SIGN_DWELL_S - 1e-9
    assert (last - first) * DT_S <= STOP_SIGN_DWELL_S + DT_S + 1e-9  # released, it goes
    assert np.all(front[: last + 1] < LINE_Y_M)  # never past the line before the stand
    # it rests between its stop point (idm.min_gap_m before the line) and the line
    assert 0.0 < LINE_Y_M - front[first:last].max() <= IDMParams().min_gap_m
    braking = -np.diff(speed[: first + 1]) / DT_S
    assert braking.max() == pytest.approx(IDMParams().comfort_decel_mps2, abs=0.1)
    assert front[-1] > 10.0 and speed[-1] > 5.0  # out of the box (y = 10 m), accelerating


def test_it_waits_for_a_car_on_the_priority_road_until_it_has_passed(tmp_path: Path) -> None:
    """Released at t = 1 s (stood 1 s from the start). The priority car (10 m/s, no sign on
    west_in) centred at station 120 m has its front 161.75 - 120 - 2.25 = 39.5 m before the
    conflict point (1.75, -1.75): at t = 1 s it is 2.95 s away, under the 4 s gap, so the
    agent waits until the car's rear has left the point by half the agent's width (0.925 m):
    39.5 + 4.5 + 0.925 = 44.925 m, at t = 4.49 s; it moves at the next tick, t = 4.6 s (the
    decision at 4.5 s sees the state of 4.5 s). Centred at station 100 m the car is 4.95 s
    away at t = 1 s: the agent goes at once (1.1 s). The priority car keeps its speed."""
    tr = traffic(tmp_path, SOUTH % ("idm", AT_LINE_M, 0.0), WEST % 120.0)
    x, _, v = drive(tr, 8.0)
    assert np.all(v[:, 1] == 10.0)
    rear_x = x[:, 1] - 0.5 * CAR_M[0]
    cleared = float(np.flatnonzero(rear_x > LANE_X_M + 0.5 * CAR_M[1])[0]) * DT_S
    assert cleared == pytest.approx(4.5)
    assert moves_off_s(v[:, 0]) == pytest.approx(cleared + DT_S)
    far = traffic(tmp_path, SOUTH % ("idm", AT_LINE_M, 0.0), WEST % 100.0)
    _, _, v = drive(far, 3.0)
    assert moves_off_s(v[:, 0]) == pytest.approx(STOP_SIGN_DWELL_S + DT_S)
    alone = traffic(tmp_path, SOUTH % ("idm", AT_LINE_M, 0.0))
    assert np.array_equal(drive(alone, 3.0)[2][:, 0], v[:, 0])  # as with nobody about
    tr.reset()  # forgets the release and the decision to go: the same run again
    assert np.array_equal(drive(tr, 8.0)[0], x)


def test_a_car_before_its_own_stop_line_does_not_hold_it_up(tmp_path: Path) -> None:
    """The north car turns left (north_to_east crosses south_to_north) and is 2.8 s from that
    conflict point at 13.89 m/s when the south car is released, but it must stop at its own
    line first (no priority): the south car goes at once. Placed past its line (inside the
    box, on north_to_east), the same car holds the south car up."""
    before = traffic(tmp_path, SOUTH % ("idm", AT_LINE_M, 0.0), NORTH % (120.0, 13.89))
    _, _, v = drive(before, 2.0)
    assert moves_off_s(v[:, 0]) == pytest.approx(STOP_SIGN_DWELL_S + DT_S)
    (_, north) = before.specs
    assert [s.sign_id for s in north.sign_stops] == ["stop_north"]
    text = NORTH.replace("north_in, ", "") % (2.0, 5.0)
    inside = traffic(tmp_path, SOUTH % ("idm", AT_LINE_M, 0.0), text)
    _, _, v = drive(inside, 1.5)
    assert np.all(v[:, 0] == 0.0)


def test_off_the_stop_arms_and_non_idm_agents_drive_as_before(tmp_path: Path) -> None:
    """A car on the priority road carries no sign stop and drives bit for bit as on the
    junction without signs; a scripted car on the stop arm has none and drives through."""
    signed = traffic(tmp_path, WEST % 20.0)
    assert signed.specs[0].sign_stops == () and signed.specs[0].sign_conflicts == ()
    plain = traffic(tmp_path, WEST % 20.0, arms=0)
    for a, b in zip(drive(signed, 20.0), drive(plain, 20.0), strict=True):
        assert np.array_equal(a, b)
    scripted = traffic(
        tmp_path, SOUTH.replace(", desired_speed_mps: 13.89", "") % ("scripted", 100.0, 13.89)
    )
    assert scripted.specs[0].sign_stops == ()
    _, _, v = drive(scripted, 6.0)
    assert np.all(v[:, 0] == pytest.approx(13.89))


def test_only_idm_agents_carry_sign_stops() -> None:
    stop = RouteSignStop("S", "lane", 100.0, "stop")
    path = np.array([[0.0, 0.0], [300.0, 0.0]])
    with pytest.raises(ValueError, match="'car': only idm agents obey stop signs"):
        AgentSpec("car", ObjectClass.CAR, CAR_M, "scripted", path_m=path, sign_stops=(stop,))
    with pytest.raises(ValueError, match="'car': sign_conflicts must hold one tuple per sign"):
        AgentSpec(
            "car", ObjectClass.CAR, CAR_M, "idm", path_m=path, sign_stops=(stop,),
            sign_conflicts=((), ()),
        )  # fmt: skip
    # with no conflict points (a sign alone on an agent's path): it goes after the dwell
    lone = AgentSpec(
        "car", ObjectClass.CAR, CAR_M, "idm", path_m=path, station_m=100.0 - 1.0 - 2.25,
        sign_stops=(stop,),
    )  # fmt: skip
    _, _, v = drive(Traffic([lone]), 2.0)
    assert moves_off_s(v[:, 0]) == pytest.approx(STOP_SIGN_DWELL_S + DT_S)


@pytest.fixture(scope="module")
def south_conflicts(tmp_path_factory: pytest.TempPathFactory) -> tuple:
    tr = traffic(tmp_path_factory.mktemp("gap"), SOUTH % ("idm", AT_LINE_M, 0.0))
    return tr.specs[0].sign_conflicts[0]


@settings(max_examples=40, deadline=None)
@given(station_m=st.floats(0.0, 150.0), speed_mps=st.floats(0.0, 25.0), reverse=st.booleans())
def test_the_gap_rule_for_a_car_on_the_priority_road(
    south_conflicts: tuple, station_m: float, speed_mps: float, reverse: bool
) -> None:
    """A car on west_in centred at ``station_m`` (x = station - 160, y = -1.75) holds the
    waiting south car up exactly when its front would reach the nearest conflict point
    (west_to_east's, 161.75 m along west_in) in under GAP_S at its speed; facing the other way
    it is not on the lane and never does."""
    front_m = 161.75 - station_m - 0.5 * CAR_M[0]
    assume(abs(front_m - GAP_S * speed_mps) > 1e-6)
    hit = blocking_actor(
        south_conflicts,
        np.array([[station_m - 160.0, CROSS_Y_M]]),
        np.array([math.pi if reverse else 0.0]),
        np.array([speed_mps]),
        np.array([CAR_M[0]]),
        0.5 * CAR_M[1],
    )
    assert (hit == 0) == (not reverse and front_m < GAP_S * speed_mps)


@pytest.mark.parametrize("planner", ["pdm", "idm"])
def test_the_car_at_its_sign_waits_for_the_ego(planner: str) -> None:
    """stop_sign_agent_yields: the car stands from the start until the ego's rear has left
    its lane by half the car's width, then goes; the ego drives through unhindered."""
    (cfg,) = load_scenarios(SCENARIOS / "stop_sign_agent_yields.yaml")
    built: BuiltScenario = build_scenario(cfg)
    result = run_scenario(built, planner)
    history = result.history
    speed = np.hypot(*history.agent_velocity_mps[:, 0].T)
    ego_rear = history.ego_boxes[:, 0] - 0.5 * history.ego_boxes[:, 3]
    cleared = int(np.flatnonzero(ego_rear > LANE_X_M + 0.5 * CAR_M[1])[0])
    assert np.all(speed[: cleared + 1] < FULL_STOP_SPEED_MPS)
    assert speed[cleared + 1] >= FULL_STOP_SPEED_MPS
    assert history.dt_s * cleared == pytest.approx(4.7)
    assert history.ego_speed_mps.min() > 11.0  # no braking for the car
    assert not history.collisions.any() and result.passed, result.failures
    # without the sign stops it moved off at once, into the ego's way
    world = built.world
    world.traffic = Traffic(
        [dataclasses.replace(s, sign_stops=(), sign_conflicts=()) for s in world.traffic.specs]
    )
    unruly = run_scenario(built, planner)
    assert not unruly.passed


def test_conflicts_on_a_real_lanelet2_junction(shared_data: Path) -> None:
    """The Lanelet2 sample map's two sign rules (fallback yields, made stops here) on their
    approaches, each path along first successors: every conflict point lies on the crossing
    lane's centreline and on the path, between the line and JUNCTION_REACH_M past it, in
    order; each approach lane after the first leads into an earlier one; the crossing lanes
    are drivable, not the path's own and leave none of them; and the junction's crossing
    roads are found (20-41 m past the lines)."""
    m = read_lanelet2(shared_data / "lanelet2" / "mapping_example.osm")
    signs = tuple(dataclasses.replace(s, kind="stop", fallback=False) for s in m.stop_signs)
    m = dataclasses.replace(m, stop_signs=signs)
    found = 0
    for sign in signs:
        for first in sign.lane_ids:
            lanes = [first]
            while len(lanes) < 6 and m.lane(lanes[-1]).successors:
                lanes.append(m.lane(lanes[-1]).successors[0])
            path = m.route_centerline(lanes)
            (stop,) = route_sign_stops(m, lanes, ReferencePath.from_route(m, lanes))
            conflicts = sign_conflicts(m, lanes, path, stop)
            stations = [c.station_m for c in conflicts]
            assert stations == sorted(stations)
            for c in conflicts:
                found += 1
                lane = m.lane(c.lane_id)
                assert lane.drivable and c.lane_id not in lanes
                assert not set(lane.predecessors) & set(lanes)
                assert stop.station_m < c.station_m <= stop.station_m + JUNCTION_REACH_M
                point = Point(c.xy_m)
                assert LineString(lane.centerline_m).distance(point) < 1e-6
                assert LineString(path).distance(point) < 1e-6
                assert c.approaches[0].lane.lane_id == c.lane_id
                seen = [c.lane_id]
                for a in c.approaches[1:]:
                    assert any(a.lane.lane_id in m.lane(s).predecessors for s in seen)
                    assert a.end_m - a.lane.length_m < LOOKBACK_M
                    seen.append(a.lane.lane_id)
    assert found >= 10
