"""Both planners stop at the stop signs of their route, stand, then go: the stop lines placed
on the reference path (stop and all-way-stop rules only), the release rule with hand-computed
decelerations and dwell times, and closed loops on a straight road."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest

from drivestack.ingest.maps.synthetic import four_way_intersection, straight_road
from drivestack.planning.control import TrajectoryTracker
from drivestack.planning.idm import ACCParams
from drivestack.planning.pdm import IDMPlanner, PDMParams, PDMPlanner, PlanDebug
from drivestack.planning.proposals import MOVE_OFF_ROOM_M
from drivestack.planning.reference_path import ReferencePath
from drivestack.planning.stop_signs import (
    FULL_STOP_SPEED_MPS,
    STOP_WINDOW_M,
    RouteSignStop,
    StopSignRule,
    route_sign_stops,
    sign_stop_gap_m,
)
from drivestack.sim.evaluate import PlannerParams, run_scenario
from drivestack.sim.runner import HISTORY_ARRAYS, SimHistory, run_closed_loop
from drivestack.sim.scenario import load_scenarios
from drivestack.sim.vehicle import BicycleState, VehicleParams
from drivestack.sim.world import World
from drivestack.structures.road_map import RoadMap, StopSign
from drivestack.structures.traffic_light import LaneStop

PLANNERS = (PDMPlanner, IDMPlanner)
SCENARIOS = Path(__file__).resolve().parents[2] / "configs" / "scenarios"
FRONT_M = VehicleParams().front_offset_m  # 4.15 m
LANE_START_X_M = -100.0  # straight_road's lanes start at x = -100 m
LINE_X_M = 60.0
NS = 1_000_000_000


def straight_with_sign(kind: str = "stop", lane: str = "road_0", fallback: bool = False) -> RoadMap:
    """``straight_road`` (15 m/s) with sign rule ``"s1"`` stopping ``lane`` at x = 60 m."""
    sign = StopSign("s1", kind, (LaneStop(lane, LINE_X_M - LANE_START_X_M),), fallback=fallback)
    return dataclasses.replace(straight_road(speed_limit_mps=15.0), stop_signs=(sign,))


def drive(
    planner_cls: type[PDMPlanner] | type[IDMPlanner],
    road: RoadMap,
    n_steps: int,
    params: PDMParams | None = None,
) -> tuple[SimHistory, list[PlanDebug], PDMPlanner | IDMPlanner]:
    """The ego from x = 20 m at 10 m/s on road_0 for ``n_steps`` ticks; every tick's debug."""
    world = World(road, BicycleState.of(20.0, 1.75, 0.0, 10.0), [])
    planner = planner_cls(road, ["road_0"], world.vehicle, params)
    debugs: list[PlanDebug] = []

    def keep(_k: int, _world: World, _plan: object) -> None:
        assert planner.debug is not None
        debugs.append(planner.debug)

    tracker = TrajectoryTracker(vehicle=world.vehicle)
    history = run_closed_loop(world, planner, tracker, n_steps, [keep], keep_plans=True)
    return history, debugs, planner


# --- the stop lines on the reference path -------------------------------------------------


def test_route_stops_are_the_route_lanes_stopping_rules() -> None:
    junction = four_way_intersection(stop_sign_arms=2)
    route = ["south_in", "south_to_north", "north_out"]
    planner = PDMPlanner(junction, route)
    (stop,) = route_sign_stops(junction, route, planner.reference)
    # the line 4 m before the box edge: station 146 of the 150 m inbound lane
    assert stop == RouteSignStop("stop_south", "south_in", pytest.approx(146.0, abs=1e-6), "stop")
    # the priority road has none; an all-way stop stops it too
    across = ["west_in", "west_to_east", "east_out"]
    assert route_sign_stops(junction, across, PDMPlanner(junction, across).reference) == ()
    all_way = four_way_intersection(stop_sign_arms=4)
    (stop,) = route_sign_stops(all_way, across, PDMPlanner(all_way, across).reference)
    assert (stop.sign_id, stop.kind) == ("stop_west", "all_way_stop")


@pytest.mark.parametrize(
    ("kind", "lane", "fallback", "expected"),
    [
        ("stop", "road_0", False, 1),
        ("all_way_stop", "road_0", False, 1),
        ("yield", "road_0", False, 0),  # kept on the map, not acted on
        ("stop", "road_0", True, 0),  # a fallback rule (lights out of order): not acted on
        ("stop", "road_1", False, 0),  # the lane beside the route
    ],
)
def test_which_rules_stop_the_route(kind: str, lane: str, fallback: bool, expected: int) -> None:
    road = straight_with_sign(kind, lane, fallback)
    planner = PDMPlanner(road, ["road_0"])
    assert len(route_sign_stops(road, ["road_0"], planner.reference)) == expected


# --- the rule, hand-computed ----------------------------------------------------------------


def rule(dwell_s: float = 1.0) -> StopSignRule:
    """One line at path station 100 m; front 4 m ahead of the rear axle; stop point 2 m
    before the line; standing counts within 3 m of it."""
    return StopSignRule(
        (RouteSignStop("s1", "a", 100.0, "stop"),),
        front_offset_m=4.0,
        comfort_decel_mps2=3.0,
        max_decel_mps2=9.0,
        stop_gap_m=2.0,
        window_m=3.0,
        dwell_s=dwell_s,
    )


@pytest.mark.parametrize(
    ("rear_m", "speed_mps", "decel"),
    [
        # front at 74: 26 m to the line, 24 m to the stop point: 10^2 / 48 = 2.08 -> comfort 3
        (70.0, 10.0, 3.0),
        # 14^2 / 48 = 4.083
        (70.0, 14.0, 196.0 / 48.0),
        # front at 86: 12 m room, 10 m to the stop point: 20^2 / 20 = 20 -> the 9 m/s^2 limit
        (82.0, 20.0, 9.0),
    ],
)
def test_the_stop_deceleration(rear_m: float, speed_mps: float, decel: float) -> None:
    got = rule().step(rear_m, speed_mps, 0)
    assert (got.station_m, got.sign_id) == (100.0, "s1")
    assert got.decel_mps2 == pytest.approx(decel, rel=1e-12)


def test_standing_for_the_dwell_releases_the_line() -> None:
    r = rule(dwell_s=1.0)
    at = 100.0 - 4.0 - 2.5  # the front 2.5 m before the line: within the 3 m window
    assert r.step(at, 0.0, 0).sign_id == "s1"
    assert r.step(at, 0.05, NS // 2).sign_id == "s1"  # under 0.1 m/s: still standing
    assert r.step(at, 0.0, NS - 1).sign_id == "s1"  # 1 ns short of the dwell
    assert r.step(at, 0.0, NS).sign_id is None  # stood 1.0 s: released
    assert r.released == ("s1",)
    assert r.step(at, 2.0, 2 * NS).sign_id is None  # and stays released while it goes
    r.reset()
    assert r.released == () and r.step(at, 0.0, 3 * NS).sign_id == "s1"


def test_moving_or_standing_outside_the_window_does_not_count() -> None:
    r = rule(dwell_s=1.0)
    near = 100.0 - 4.0 - 2.5
    r.step(near, 0.0, 0)
    r.step(near, FULL_STOP_SPEED_MPS, NS // 2)  # 0.1 m/s is not standing: the count restarts
    assert r.step(near, 0.0, NS).sign_id == "s1"
    assert r.step(near, 0.0, 2 * NS).sign_id is None  # 1 s from the restart
    far = rule(dwell_s=1.0)
    back = 100.0 - 4.0 - 3.5  # 3.5 m before the line: outside the window
    far.step(back, 0.0, 0)
    assert far.step(back, 0.0, 5 * NS).sign_id == "s1"


def test_a_rule_built_again_keeps_its_standing_time_and_releases() -> None:
    """The planners build their route's rules again when a lane change at the route's start
    moves (the reference path's stations shift): what the old rule counted carries over by
    sign and lane, so an ego standing at the line is released after the dwell all the same."""
    r = rule(dwell_s=1.0)
    at = 100.0 - 4.0 - 2.5
    r.step(at, 0.0, 0)
    shifted = dataclasses.replace(r, stops=(RouteSignStop("s1", "a", 100.5, "stop"),))
    shifted.carry_from(r)
    assert shifted.step(at + 0.5, 0.0, NS - 1).sign_id == "s1"
    assert shifted.step(at + 0.5, 0.0, NS).sign_id is None  # 1.0 s since the first step
    again = dataclasses.replace(shifted, stops=(RouteSignStop("s1", "a", 99.0, "stop"),))
    again.carry_from(shifted)
    assert again.released == ("s1",) and again.step(at - 1.0, 2.0, 2 * NS).sign_id is None
    other = dataclasses.replace(r, stops=(RouteSignStop("s2", "a", 100.0, "stop"),))
    other.carry_from(shifted)  # another sign: nothing to carry
    assert other.released == () and other.step(at, 0.0, 2 * NS).sign_id == "s2"


def test_a_line_behind_the_front_is_passed() -> None:
    r = rule()
    assert r.step(100.0 - 4.0 + 0.4, 3.0, 0).sign_id == "s1"  # 0.4 m past: still before it
    assert r.step(100.0 - 4.0 + 0.6, 3.0, 0).sign_id is None


@pytest.mark.parametrize("arms", [4, 2])
def test_an_all_way_stop_releases_the_ego_only_in_its_turn(arms: int) -> None:
    """The junction's route south_in -> north_out, the ego standing 1 m before its line from
    t = 1 s. A car standing at the west line since t = 0 (all-way stop, arms 4) holds the
    release past the dwell while it stands and while it crosses, till its centre is 28.2 m
    (the reach: the lines' span, hypot(28, 3.5) m) plus half its length from its line; carried over to a rebuilt rule, forgotten
    by reset(). At a two-way stop (arms 2) the line is released after the dwell alone."""
    road = four_way_intersection(stop_sign_arms=arms)
    lanes = ["south_in", "south_to_north", "north_out"]
    (stop,) = route_sign_stops(road, lanes, ReferencePath.from_route(road, lanes))
    r = StopSignRule((stop,), FRONT_M, 3.0, 9.0, stop_gap_m=2.0)
    at = stop.station_m - FRONT_M - 1.0  # the rear axle with the front 1 m before the line

    def car(x_m: float, speed_mps: float, t_s: float) -> None:
        r.observe(
            ["w"],
            np.array([[x_m, -1.75]]),
            np.zeros(1),
            np.array([speed_mps]),
            np.array([4.5]),
            round(t_s * NS),
        )

    car(-14.0 - 1.0 - 2.25, 0.0, 0.0)  # standing 1 m before the west line
    car(-17.25, 0.0, 1.0)
    assert r.step(at, 0.0, 1 * NS).sign_id == stop.sign_id  # the ego stands from t = 1 s
    car(-17.25, 0.0, 2.0)
    if arms == 2:
        assert r.orders == {}
        assert r.step(at, 0.0, 2 * NS).sign_id is None  # dwell done: released
        return
    assert r.step(at, 0.0, 2 * NS).sign_id == stop.sign_id  # dwell done, but w came first
    car(0.0, 5.0, 4.0)  # crossing
    assert r.step(at, 0.0, 4 * NS).sign_id == stop.sign_id
    rebuilt = StopSignRule((stop,), FRONT_M, 3.0, 9.0, stop_gap_m=2.0)
    rebuilt.carry_from(r)
    r = rebuilt
    out_m = -14.0 + float(np.hypot(28.0, 3.5)) + 2.25  # the reach + 2.25 m past its line
    car(out_m - 0.01, 8.0, 5.0)  # its centre just within it
    assert r.step(at, 0.0, 5 * NS).sign_id == stop.sign_id
    car(out_m + 0.01, 8.0, 5.1)  # out: the ego's turn
    assert r.step(at, 0.0, round(5.1 * NS)).sign_id is None
    r.reset()
    assert all(order.arrived == {} for order in r.orders.values())


def test_rule_settings_are_checked() -> None:
    with pytest.raises(ValueError, match=r"StopSignRule\.window_m"):
        dataclasses.replace(rule(), window_m=2.0)  # not beyond the stop point
    with pytest.raises(ValueError, match=r"StopSignRule\.dwell_s"):
        dataclasses.replace(rule(), dwell_s=-1.0)
    # the window is the metric's (no setting): the stop point keeps a resting ego within it
    with pytest.raises(TypeError, match="stop_sign_window_m"):
        PDMParams(stop_sign_window_m=6.0)  # type: ignore[call-arg]
    assert sign_stop_gap_m(0.5) == 0.5 and sign_stop_gap_m(2.0) == 2.0
    assert sign_stop_gap_m(5.0) == STOP_WINDOW_M - MOVE_OFF_ROOM_M == 2.0
    with pytest.raises(ValueError, match=r"PDMParams\.stop_sign_dwell_s"):
        PDMParams(stop_sign_dwell_s=float("nan"))


# --- closed loop ---------------------------------------------------------------------------


def standing_runs(history: SimHistory) -> list[tuple[int, int]]:
    """``(first, last)`` tick of each run of ticks under the full-stop speed."""
    still = np.concatenate(([False], history.ego_speed_mps < FULL_STOP_SPEED_MPS, [False]))
    edges = np.flatnonzero(np.diff(still.astype(int)))
    return [(int(a), int(b) - 1) for a, b in zip(edges[::2], edges[1::2], strict=True)]


@pytest.mark.parametrize("planner_cls", PLANNERS)
@pytest.mark.parametrize("dwell_s", [1.0, 2.0])
def test_planners_stop_stand_and_go(
    planner_cls: type[PDMPlanner] | type[IDMPlanner], dwell_s: float
) -> None:
    history, debugs, planner = drive(
        planner_cls, straight_with_sign(), 140, PDMParams(stop_sign_dwell_s=dwell_s)
    )
    front = history.ego_x_m + FRONT_M
    (first, last), *_ = standing_runs(history)
    # it stood for at least the dwell with its front within 3 m before the line ...
    assert (last - first) * history.dt_s >= dwell_s - 1e-9
    assert np.all(
        (front[first : last + 1] >= LINE_X_M - 3.0) & (front[first : last + 1] <= LINE_X_M)
    )
    # ... holding for the sign until it was released, then went on past the line
    assert debugs[first].sign_stop == "s1"
    assert all(d.sign_stop is None for d in debugs[last + 1 :])
    assert front[-1] > LINE_X_M + 20.0 and history.ego_speed_mps[-1] > 3.0
    # never past the line before the stop
    assert np.all(front[: last + 1] <= LINE_X_M)
    # reset() forgets the release: the same run again, bit for bit
    again, _, _ = drive(
        planner_cls, straight_with_sign(), 140, PDMParams(stop_sign_dwell_s=dwell_s)
    )
    for name in HISTORY_ARRAYS:
        if name.startswith("ego_"):
            np.testing.assert_array_equal(getattr(again, name), getattr(history, name))
    planner.reset()
    assert planner._signs.released == ()


@pytest.mark.parametrize("planner_cls", PLANNERS)
@pytest.mark.parametrize("min_gap_m", [0.5, 5.0])
def test_the_stand_is_within_the_metric_window_whatever_the_gap(
    planner_cls: type[PDMPlanner] | type[IDMPlanner], min_gap_m: float
) -> None:
    """With idm.min_gap_m 5 m the stop point is still 2 m before the line (a 6 m window
    released a stand 3.4 m before it, which the metric counts as running the sign); with a
    0.5 m gap the ego stops 0.5 m before it. Either way it stands within STOP_WINDOW_M for
    the dwell and is released there."""
    params = PDMParams(idm=ACCParams(min_gap_m=min_gap_m))
    history, debugs, _ = drive(planner_cls, straight_with_sign(), 140, params)
    front = history.ego_x_m + FRONT_M
    (first, last), *_ = standing_runs(history)
    assert (last - first) * history.dt_s >= params.stop_sign_dwell_s - 1e-9
    gap = LINE_X_M - front[first : last + 1]
    assert np.all((gap >= 0.0) & (gap <= STOP_WINDOW_M))
    assert gap.max() <= sign_stop_gap_m(min_gap_m) + MOVE_OFF_ROOM_M
    assert all(d.sign_stop is None for d in debugs[last + 1 :])
    assert front[-1] > LINE_X_M + 20.0


@pytest.mark.parametrize("planner", ["pdm", "idm"])
def test_stop_sign_scenario_passes_with_a_5_m_gap(planner: str) -> None:
    """configs/scenarios/stop_sign.yaml with idm.min_gap_m 5 m: no sign run, passed."""
    (cfg,) = load_scenarios(SCENARIOS / "stop_sign.yaml")
    gap5 = PDMParams(idm=ACCParams(min_gap_m=5.0))
    result = run_scenario(cfg, planner, params=PlannerParams(pdm=gap5, idm=gap5))
    assert result.stop_sign.count == 0 and result.stop_sign.lines_passed == 1
    assert result.passed, result.failures


@pytest.mark.parametrize("planner_cls", PLANNERS)
def test_no_stopping_rule_on_the_route_plans_as_without_signs(
    planner_cls: type[PDMPlanner] | type[IDMPlanner],
) -> None:
    plain, _, _ = drive(planner_cls, straight_road(speed_limit_mps=15.0), 60)
    for road in (straight_with_sign("yield"), straight_with_sign(lane="road_1")):
        other, debugs, _ = drive(planner_cls, road, 60)
        assert all(d.sign_stop is None for d in debugs)
        for name in HISTORY_ARRAYS:
            if name.startswith("ego_"):
                np.testing.assert_array_equal(getattr(other, name), getattr(plain, name))
        for a, b in zip(plain.plans, other.plans, strict=True):
            np.testing.assert_array_equal(a.speed_mps, b.speed_mps)
