"""Both planners obey the traffic lights of their route: stop lines placed on the reference
path, the red / yellow / go rule (hand-computed decelerations) and closed-loop runs on
synthetic maps, with times taken from the light's cycle."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from drivestack.config import from_mapping
from drivestack.ingest.maps.synthetic import curved_road, four_way_intersection, straight_road
from drivestack.planning.control import TrajectoryTracker
from drivestack.planning.pdm import IDMPlanner, PDMParams, PDMPlanner, PlanDebug
from drivestack.planning.traffic_lights import (
    LightStopRule,
    RouteLightStop,
    route_light_stops,
    stop_distance_m,
)
from drivestack.sim.runner import HISTORY_ARRAYS, SimHistory, run_closed_loop
from drivestack.sim.vehicle import BicycleState, VehicleParams
from drivestack.sim.world import Observation, World
from drivestack.structures.boxes import Boxes3D
from drivestack.structures.ego_state import EgoState
from drivestack.structures.road_map import RoadMap
from drivestack.structures.traffic_light import LaneStop, SignalCycle, SignalPhase, TrafficLight

PLANNERS = (PDMPlanner, IDMPlanner)
FRONT_M = VehicleParams().front_offset_m  # rear axle to front bumper: 5.18 - 1.03 = 4.15 m
# straight_road's lanes start at x = -100 m: lane station s is at x = s - 100
LANE_START_X_M = -100.0
SPEED_LIMIT_MPS = 15.0


def cycle(*phases: tuple[str, float]) -> SignalCycle:
    return SignalCycle(tuple(SignalPhase(state, duration) for state, duration in phases))


def with_lights(road: RoadMap, *lights: TrafficLight) -> RoadMap:
    return dataclasses.replace(road, traffic_lights=lights)


def straight_with_light(
    line_x_m: float, signal: SignalCycle | None, lane: str = "road_0"
) -> RoadMap:
    """``straight_road`` with light ``"tl"`` stopping ``lane`` at ``x = line_x_m``."""
    stop = LaneStop(lane, line_x_m - LANE_START_X_M)
    return with_lights(
        straight_road(speed_limit_mps=SPEED_LIMIT_MPS), TrafficLight("tl", (stop,), signal)
    )


def drive(
    planner_cls: type[PDMPlanner] | type[IDMPlanner],
    road: RoadMap,
    route: list[str],
    start: BicycleState,
    n_steps: int,
) -> tuple[SimHistory, list[PlanDebug]]:
    """A closed loop of ``n_steps`` ticks; the planner's debug record of every tick."""
    world = World(road, start, [])
    planner = planner_cls(road, route, world.vehicle)
    debugs: list[PlanDebug] = []

    def keep_debug(_k: int, _world: World, _plan: object) -> None:
        assert planner.debug is not None
        debugs.append(planner.debug)

    tracker = TrajectoryTracker(vehicle=world.vehicle)
    history = run_closed_loop(world, planner, tracker, n_steps, [keep_debug], keep_plans=True)
    return history, debugs


def front_x(history: SimHistory) -> np.ndarray:
    return history.ego_x_m + FRONT_M  # straight along +x


def assert_same_run(a: SimHistory, b: SimHistory) -> None:
    """The same ego motion and plans, bit for bit."""
    for name in HISTORY_ARRAYS:
        if name.startswith("ego_"):
            np.testing.assert_array_equal(getattr(a, name), getattr(b, name), err_msg=name)
    for plan_a, plan_b in zip(a.plans, b.plans, strict=True):
        for field in ("timestamp_ns", "x_m", "y_m", "yaw_rad", "speed_mps", "acceleration_mps2"):
            np.testing.assert_array_equal(getattr(plan_a, field), getattr(plan_b, field))


def ego_at(x_m: float, speed_mps: float, y_m: float = 1.75) -> BicycleState:
    return BicycleState.of(x_m, y_m, 0.0, speed_mps)


# --- the stop lines on the reference path -------------------------------------------------


def test_route_stops_keep_the_route_lanes_own_stops() -> None:
    road = straight_road()
    lights = (
        TrafficLight("both", (LaneStop("road_0", 150.0), LaneStop("road_1", 150.0))),
        TrafficLight("left_only", (LaneStop("road_1", 80.0),)),
    )
    planner = PDMPlanner(with_lights(road, *lights), ["road_0"])
    (stop,) = route_light_stops(planner.road_map, ["road_0"], planner.reference)
    assert (stop.light_id, stop.lane_id) == ("both", "road_0")
    assert stop.station_m == pytest.approx(150.0, abs=1e-9)
    # four-way: the stop at the end of the route's inbound lane (its length, 150 m), not the
    # crossing road's
    crossing = four_way_intersection()
    route = ["west_in", "west_to_east", "east_out"]
    lights = (
        TrafficLight("west", (LaneStop("west_in", 150.0),)),
        TrafficLight("north", (LaneStop("north_in", 150.0),)),
    )
    planner = PDMPlanner(with_lights(crossing, *lights), route)
    (stop,) = route_light_stops(planner.road_map, route, planner.reference)
    assert stop.light_id == "west" and stop.station_m == pytest.approx(150.0, abs=1e-6)


def test_route_stops_across_a_lane_change_keep_the_lane_the_path_is_in() -> None:
    # route road_0 -> road_1 on the 600 m road (27.78 m/s): the path leaves road_0 at its
    # middle (x = 200, path station 300) on a quintic blend to road_1 (3.5 m left) 4 s at the
    # limit on (L = 111.1 m): y = 5.25 - 3.5 (1 - (10 u^3 - 15 u^4 + 6 u^5)), u = (x - 200) / L.
    # A light stops both lanes: at x = 210 the path is 0.02 m off road_0's centre (road_0's),
    # at x = 290 0.18 m off road_1's (road_1's)
    road = straight_road()
    route = ["road_0", "road_1"]
    length = 4.0 * 27.78
    # the blend by the formula, every centimetre, and its arc length from x = 200
    x = np.linspace(200.0, 200.0 + length, 20_001)
    u = (x - 200.0) / length
    y = 5.25 - 3.5 * (1.0 - u**3 * (10.0 - 15.0 * u + 6.0 * u**2))
    arc = 300.0 + np.concatenate(([0.0], np.cumsum(np.hypot(np.diff(x), np.diff(y)))))
    for x_m, lane, y_m in ((210.0, "road_0", 1.75), (290.0, "road_1", 5.25)):
        s = x_m - LANE_START_X_M
        light = TrafficLight("tl", (LaneStop("road_0", s), LaneStop("road_1", s)))
        planner = PDMPlanner(with_lights(road, light), route)
        (stop,) = route_light_stops(planner.road_map, route, planner.reference)
        assert stop.lane_id == lane
        # the foot of the lane point (x, y) on the blend
        foot = arc[np.argmin(np.hypot(x - x_m, y - y_m))]
        assert stop.station_m == pytest.approx(foot, abs=0.02)


@settings(max_examples=30, deadline=None)
@given(station_m=st.floats(0.0, 504.0))
def test_route_stop_station_on_a_curved_lane_is_its_lane_station(station_m: float) -> None:
    # one-lane route: the reference path is the lane's centreline resampled every metre, so the
    # stop's path station is its lane station up to the chords' shortening (< 1 cm here)
    road = with_lights(curved_road(), TrafficLight("tl", (LaneStop("road_0", station_m),)))
    planner = IDMPlanner(road, ["road_0"])
    (stop,) = route_light_stops(road, ["road_0"], planner.reference)
    assert stop.station_m == pytest.approx(station_m, abs=0.01)


# --- the rule, hand-computed (front offset 4.15 m: the ego's front at station + 4.15) ----------


def rule(*stations: float, stop_gap_m: float = 0.0) -> LightStopRule:
    stops = tuple(RouteLightStop(f"tl{i}", "lane", s) for i, s in enumerate(stations))
    return LightStopRule(
        stops,
        FRONT_M,
        comfort_decel_mps2=3.0,
        stop_decel_mps2=6.0,
        max_decel_mps2=9.0,
        stop_gap_m=stop_gap_m,
    )


def at(room_m: float, line_m: float = 100.0) -> float:
    """The rear axle's station that leaves ``room_m`` from the front to the line."""
    return line_m - room_m - FRONT_M


def test_red_stops_up_to_the_hard_deceleration_and_carries_on_beyond() -> None:
    red = (("tl0", "red"),)
    # 15 m/s: 25 m of room needs 15^2 / 50 = 4.5 m/s^2 <= 6 -> stop at the line's station
    decision = rule(100.0).step(red, at(25.0), 15.0)
    assert (decision.station_m, decision.light_id, decision.committed) == (100.0, "tl0", ())
    # 15 m of room needs 7.5 m/s^2 > 6: committed, it carries on
    decision = rule(100.0).step(red, at(15.0), 15.0)
    assert (decision.station_m, decision.light_id, decision.committed) == (None, None, ("tl0",))
    # red-yellow is a stop state too; standing 0.3 m past the line (within 0.5 m) still stops
    assert rule(100.0).step((("tl0", "red_yellow"),), at(25.0), 15.0).light_id == "tl0"
    assert rule(100.0).step(red, at(-0.3), 0.0).light_id == "tl0"


@pytest.mark.parametrize("state", ["green", "off", "unknown"])
def test_go_states_and_unlisted_lights_do_not_stop(state: str) -> None:
    assert rule(100.0).step((("tl0", state),), at(40.0), 10.0).station_m is None
    assert rule(100.0).step((), at(40.0), 10.0).station_m is None  # not listed: unknown


def test_yellow_stops_only_when_comfortable() -> None:
    yellow = (("tl0", "yellow"),)
    # 15 m/s: 40 m of room needs 2.81 m/s^2 <= 3 -> stop; 30 m needs 3.75 -> go
    assert rule(100.0).step(yellow, at(40.0), 15.0).station_m == 100.0
    assert rule(100.0).step(yellow, at(30.0), 15.0).committed == ("tl0",)


def test_a_go_at_yellow_stops_at_red_when_the_hard_deceleration_allows() -> None:
    r = rule(100.0)
    assert r.step((("tl0", "yellow"),), at(30.0), 15.0).station_m is None  # 3.75 > 3: go
    # red 0.5 s later, 22.5 m before the line: 15^2 / 45 = 5.0 m/s^2 <= 6 stops it, although
    # it went on at this light's yellow (the short yellow turned red while it could stop)
    decision = r.step((("tl0", "red"),), at(22.5), 15.0)
    assert (decision.station_m, decision.committed, decision.decel_mps2) == (100.0, (), 5.0)
    # a 0.1 s yellow 30 m ahead at 13.89 m/s: red at 28.6 m needs 13.89^2 / 57.2 = 3.37 <= 6
    r = rule(100.0)
    assert r.step((("tl0", "yellow"),), at(30.0), 13.89).committed == ("tl0",)  # 3.22 > 3
    assert r.step((("tl0", "red"),), at(28.6), 13.89).station_m == 100.0
    # beyond the hard deceleration it still carries on: 15 m at 15 m/s needs 7.5 > 6
    r = rule(100.0)
    r.step((("tl0", "yellow"),), at(30.0), 15.0)
    assert r.step((("tl0", "red"),), at(15.0), 15.0).committed == ("tl0",)


def test_the_need_is_to_where_the_planners_stop_the_gap_before_the_line() -> None:
    # the stop point is stop_gap_m before the line, or halfway to it within twice the gap
    assert stop_distance_m(30.0, 2.0) == 28.0
    assert stop_distance_m(4.0, 2.0) == 2.0
    assert stop_distance_m(3.0, 2.0) == 1.5
    assert stop_distance_m(0.0, 2.0) == 0.0
    red = (("tl0", "red"),)
    # 15 m/s, 20.5 m to the line: 225 / 41 = 5.49 m/s^2 to the line would stop, but the
    # planners stop 2 m before it: 225 / 37 = 6.08 > 6, committed
    assert rule(100.0).step(red, at(20.5), 15.0).light_id == "tl0"
    assert rule(100.0, stop_gap_m=2.0).step(red, at(20.5), 15.0).committed == ("tl0",)
    # 21 m: 225 / 38 = 5.92 <= 6, stop at that deceleration
    decision = rule(100.0, stop_gap_m=2.0).step(red, at(21.0), 15.0)
    assert decision.light_id == "tl0" and decision.decel_mps2 == pytest.approx(225.0 / 38.0)
    # yellow 40 m ahead at 15 m/s: 225 / 76 = 2.96 <= 3 stops; 39 m: 225 / 74 = 3.04 goes
    assert rule(100.0, stop_gap_m=2.0).step((("tl0", "yellow"),), at(40.0), 15.0).light_id
    assert rule(100.0, stop_gap_m=2.0).step((("tl0", "yellow"),), at(39.0), 15.0).committed
    # a stop needing less than the comfortable deceleration is driven at it: 100 / 76 = 1.3
    assert rule(100.0, stop_gap_m=2.0).step(red, at(40.0), 10.0).decel_mps2 == 3.0
    with pytest.raises(ValueError, match="stop_gap_m"):
        LightStopRule((), FRONT_M, 3.0, 6.0, 9.0, stop_gap_m=-1.0)


def test_a_stop_decided_holds_up_to_the_planners_braking_limit() -> None:
    r = rule(100.0)
    red = (("tl0", "red"),)
    assert r.step(red, at(25.0), 15.0).station_m == 100.0  # 4.5 <= 6: stop
    # braking lags: 15 m later still at 14 m/s, 9.8 m/s^2 > 9: it can no longer stop
    assert r.step(red, at(16.0), 14.0).station_m == 100.0  # 6.13 > 6, <= 9: still stopping
    assert rule(100.0).step(red, at(16.0), 14.0).station_m is None  # a fresh decision: go
    assert r.step(red, at(10.0), 14.0).committed == ("tl0",)


def test_the_first_light_to_stop_at_wins_and_passed_lines_are_ignored() -> None:
    r = rule(60.0, 100.0)
    lights = (("tl0", "green"), ("tl1", "red"))
    assert r.step(lights, at(40.0), 10.0).light_id == "tl1"
    lights = (("tl0", "red"), ("tl1", "red"))
    assert r.step(lights, at(-1.0, line_m=60.0), 0.0).light_id == "tl1"  # tl0's line passed
    assert r.step(lights, at(10.0, line_m=60.0), 5.0).light_id == "tl0"


def test_the_rule_refuses_braking_limits_out_of_order() -> None:
    with pytest.raises(ValueError, match=r"comfort_decel_mps2 = 7\.0 must be at most stop_decel"):
        LightStopRule((), FRONT_M, 7.0, 6.0, 9.0)
    with pytest.raises(ValueError, match=r"PDMParams\.light_stop_decel_mps2 must be at least"):
        PDMParams(light_stop_decel_mps2=2.0)
    mapped = from_mapping(PDMParams, {"light_stop_decel_mps2": 7.5}, path="planner.yaml")
    assert mapped.light_stop_decel_mps2 == 7.5


# --- closed loop ---------------------------------------------------------------------------


@pytest.mark.parametrize("planner_cls", PLANNERS)
def test_red_ahead_stops_before_the_line_and_stays_stopped(planner_cls: type[PDMPlanner]) -> None:
    line_x = FRONT_M + 40.0  # 40 m ahead of the front at 10 m/s: 1.25 m/s^2 would do
    road = straight_with_light(line_x, cycle(("red", 100.0)))
    history, debugs = drive(planner_cls, road, ["road_0"], ego_at(0.0, 10.0), 150)
    front = front_x(history)
    assert np.all(front < line_x)
    assert 0.5 <= line_x - front[-1] <= 3.0  # IDM's 2 m gap to the line
    assert np.all(history.ego_speed_mps[-50:] < 0.05)  # stopped over the last 5 s
    assert all(d.light_stop == "tl" and d.stop_reason is None for d in debugs)
    if planner_cls is PDMPlanner:  # standing at the line is no "no progress" stop
        assert all(d.chosen >= 0 for d in debugs)


def test_pdm_standing_at_a_red_light_plans_to_stand_without_a_stop_reason() -> None:
    line_x = FRONT_M + 2.0  # the ego stands 2 m before the line (where IDM leaves it)
    road = straight_with_light(line_x, cycle(("red", 100.0)))
    planner = PDMPlanner(road, ["road_0"])
    ego = EgoState(0, 0.0, 1.75, 0.0, speed_mps=0.0)
    obs = Observation(0, ego, Boxes3D.empty("world"), (), (("tl", "red"),))
    plan = planner.step(obs)
    debug = planner.debug
    assert debug is not None and debug.light_stop == "tl" and debug.stop_reason is None
    assert debug.chosen == 0 and debug.scores is not None
    np.testing.assert_array_equal(debug.scores.progress, 1.0)  # no proposal progresses > 0.5 m
    assert np.max(plan.speed_mps) < 0.05 and np.max(plan.x_m) + FRONT_M < line_x


@pytest.mark.parametrize("planner_cls", PLANNERS)
def test_red_at_the_edge_of_the_hard_deceleration_stops_without_giving_up(
    planner_cls: type[PDMPlanner],
) -> None:
    # 15 m/s, 21 m to the line, 19 m to the stop point 2 m before it: 15^2 / 38 = 5.9 m/s^2
    # <= 6, a stop. The ego's braking lags the plan, so a moment later 6 m/s^2 no longer
    # suffices; the decision holds up to the planners' 9 m/s^2 instead of braking, then giving
    # up and running the red
    line_x = FRONT_M + 21.0
    road = straight_with_light(line_x, cycle(("red", 100.0)))
    history, debugs = drive(planner_cls, road, ["road_0"], ego_at(0.0, 15.0), 60)
    front = front_x(history)
    assert np.all(front < line_x) and history.ego_speed_mps[-1] < 0.05
    assert all(d.light_stop == "tl" and d.lights_committed == () for d in debugs)


@pytest.mark.parametrize("planner_cls", PLANNERS)
def test_red_then_green_waits_and_drives_through(planner_cls: type[PDMPlanner]) -> None:
    green_at_s = 10.0  # the cycle: red for 10 s, then green
    line_x = FRONT_M + 40.0
    road = straight_with_light(line_x, cycle(("red", green_at_s), ("green", 100.0)))
    history, debugs = drive(planner_cls, road, ["road_0"], ego_at(0.0, 10.0), 250)
    front = front_x(history)
    green_tick = round(green_at_s / history.dt_s)  # the first observation showing green
    assert np.all(front[: green_tick + 1] < line_x)
    assert history.ego_speed_mps[green_tick] < 0.1  # waiting when it turns green
    assert all(d.light_stop == "tl" for d in debugs[:green_tick])
    assert all(d.light_stop is None for d in debugs[green_tick:])
    assert front[-1] > line_x + 30.0  # then drives through


@pytest.mark.parametrize("planner_cls", PLANNERS)
def test_yellow_far_enough_ahead_stops(planner_cls: type[PDMPlanner]) -> None:
    line_x = FRONT_M + 40.0  # 10 m/s, 40 m: 1.25 m/s^2 <= 3, a comfortable stop
    road = straight_with_light(line_x, cycle(("yellow", 3.0), ("red", 100.0)))
    history, debugs = drive(planner_cls, road, ["road_0"], ego_at(0.0, 10.0), 120)
    front = front_x(history)
    assert np.all(front < line_x) and 0.5 <= line_x - front[-1] <= 3.0
    assert history.ego_speed_mps[-1] < 0.05 and debugs[0].light_stop == "tl"


def yellow_turning_red(
    planner_cls: type[PDMPlanner] | type[IDMPlanner], gap_m: float, red_at_s: float, n_ticks: int
) -> tuple[float, SimHistory, list[PlanDebug], np.ndarray, int]:
    """Drive at 15 m/s towards a line ``gap_m`` ahead of the front whose light is yellow, then
    red from ``red_at_s`` on: the line's x, the history, the plans' debug, the front's x and
    the tick the light turns red."""
    line_x = FRONT_M + gap_m
    road = straight_with_light(line_x, cycle(("yellow", red_at_s), ("red", 100.0)))
    history, debugs = drive(planner_cls, road, ["road_0"], ego_at(0.0, 15.0), n_ticks)
    return line_x, history, debugs, front_x(history), round(red_at_s / history.dt_s)


@pytest.mark.parametrize("planner_cls", PLANNERS)
def test_yellow_too_close_goes_through_without_braking(planner_cls: type[PDMPlanner]) -> None:
    # 15 m/s (the limit), 16 m to the line: 225 / 28 = 8.0 m/s^2 > 3 -> go at yellow. The
    # cycle turns red after 0.3 s, at about 11.5 m: 225 / 23 = 9.8 m/s^2 > 9 even at the line
    # itself, so it carries on (up to 9 m/s^2 at the line it would stop)
    red_at_s = 0.3
    line_x, history, debugs, front, red_tick = yellow_turning_red(planner_cls, 16.0, red_at_s, 30)
    assert 10.0 < line_x - front[red_tick] < 12.5
    assert front[-1] > line_x + 10.0
    assert np.min(history.ego_accel_mps2) > -0.5  # no braking
    before = front[:-1] < line_x  # the ticks planned before the line
    assert all(
        d.light_stop is None and d.lights_committed == ("tl",)
        for d, b in zip(debugs, before, strict=True)
        if b
    )


@pytest.mark.parametrize("planner_cls", PLANNERS)
def test_a_short_yellow_turning_red_stops_when_the_hard_deceleration_allows(
    planner_cls: type[PDMPlanner],
) -> None:
    # 15 m/s, 30 m to the line: 225 / 56 = 4.0 m/s^2 > 3 -> go at yellow. Red after 0.5 s,
    # at about 22.5 m: 225 / 41 = 5.5 m/s^2 <= 6 to the stop point 2 m before the line, so it
    # stops (the go at yellow used to hold through the red, and the ego ran it)
    red_at_s = 0.5
    line_x, history, debugs, front, red_tick = yellow_turning_red(planner_cls, 30.0, red_at_s, 80)
    assert 20.0 < line_x - front[red_tick] < 25.0
    assert debugs[0].lights_committed == ("tl",) and debugs[red_tick].light_stop == "tl"
    assert np.all(front < line_x) and history.ego_speed_mps[-1] < 0.05
    assert 0.5 <= line_x - front[-1] <= 3.0
    assert np.min(history.ego_accel_mps2) > -(6.0 + 1.0)  # about the 5.5 m/s^2 needed


@pytest.mark.parametrize("planner_cls", PLANNERS)
@pytest.mark.parametrize(
    ("room_m", "speed_mps", "decel_mps2"),
    [
        # 15 m/s, 45 m: 225 / 86 = 2.6 m/s^2 to the stop point, driven at the comfortable 3
        (45.0, 15.0, 3.0),
        # 13.89 m/s (50 km/h), 33.3 m: 193 / 62.6 = 3.08 -> a red stop at 3.08
        (33.3, 13.89, 13.89**2 / 62.6),
        # 15 m/s, 24.5 m: 225 / 45 = 5.0
        (24.5, 15.0, 5.0),
    ],
)
def test_a_light_stop_brakes_at_about_its_constant_deceleration(
    planner_cls: type[PDMPlanner], room_m: float, speed_mps: float, decel_mps2: float
) -> None:
    # the stop is driven at max(need, comfort): the peak braking stays within 1 m/s^2 of it
    # (IDM braking for a standing leader at the line peaked at 4-9 m/s^2 here)
    line_x = FRONT_M + room_m
    road = straight_with_light(line_x, cycle(("red", 100.0)))
    history, debugs = drive(planner_cls, road, ["road_0"], ego_at(0.0, speed_mps), 120)
    front = front_x(history)
    assert debugs[0].light_stop == "tl"
    assert np.all(front < line_x) and history.ego_speed_mps[-1] < 0.05
    assert 0.5 <= line_x - front[-1] <= 3.0
    assert -np.min(history.ego_accel_mps2) <= decel_mps2 + 1.0


@pytest.mark.parametrize("planner_cls", PLANNERS)
def test_four_way_red_stops_at_the_end_of_the_inbound_lane(planner_cls: type[PDMPlanner]) -> None:
    crossing = four_way_intersection()
    route = ["west_in", "west_to_east", "east_out"]
    lights = (
        TrafficLight("west", (LaneStop("west_in", 150.0),), cycle(("red", 100.0))),
        TrafficLight("north", (LaneStop("north_in", 150.0),), cycle(("green", 100.0))),
    )
    # west_in runs along y = -1.75 from x = -160 to its end, the line, at x = -10
    start = ego_at(-60.0, 10.0, y_m=-1.75)
    history, debugs = drive(planner_cls, with_lights(crossing, *lights), route, start, 120)
    front = front_x(history)
    assert np.all(front < -10.0) and 0.5 <= -10.0 - front[-1] <= 3.0
    assert history.ego_speed_mps[-1] < 0.05 and debugs[-1].light_stop == "west"


@pytest.mark.parametrize("planner_cls", PLANNERS)
def test_lights_off_the_route_passed_green_or_unlisted_change_nothing(
    planner_cls: type[PDMPlanner],
) -> None:
    """Bit-identical runs to the map without lights: a red light on the other lane, a red
    light whose line the ego has passed, a green light, and a light the observations do not
    list (unknown: the map's light has no cycle, so ``traffic_lights`` pairs say "unknown")."""
    plain = straight_road(speed_limit_mps=SPEED_LIMIT_MPS)
    start = ego_at(0.0, 10.0)
    reference, _ = drive(planner_cls, plain, ["road_0"], start, 60)
    red = cycle(("red", 100.0))
    cases = {
        "other lane": straight_with_light(FRONT_M + 40.0, red, lane="road_1"),
        "passed": straight_with_light(-20.0, red),
        "green": straight_with_light(FRONT_M + 40.0, cycle(("green", 100.0))),
        "unknown": straight_with_light(FRONT_M + 40.0, None),
    }
    for name, road in cases.items():
        history, debugs = drive(planner_cls, road, ["road_0"], start, 60)
        assert_same_run(history, reference)
        assert all(d.light_stop is None and d.lights_committed == () for d in debugs), name


@pytest.mark.parametrize("planner_cls", PLANNERS)
def test_an_empty_light_list_plans_as_before(planner_cls: type[PDMPlanner]) -> None:
    # the map's light is red, but the observation lists no light (as a recorded log): it is
    # unknown, so the plan is the one of the map without lights, bit for bit
    plain = planner_cls(straight_road(speed_limit_mps=SPEED_LIMIT_MPS), ["road_0"])
    lit = planner_cls(straight_with_light(FRONT_M + 30.0, cycle(("red", 100.0))), ["road_0"])
    ego = EgoState(0, 0.0, 1.75, 0.0, speed_mps=10.0)
    obs = Observation(0, ego, Boxes3D.empty("world"), ())
    assert obs.traffic_lights == ()
    a, b = plain.step(obs), lit.step(obs)
    for field in ("x_m", "y_m", "yaw_rad", "speed_mps", "acceleration_mps2", "curvature_1pm"):
        np.testing.assert_array_equal(getattr(a, field), getattr(b, field))
    red = lit.step(dataclasses.replace(obs, traffic_lights=(("tl", "red"),)))
    assert lit.debug is not None and lit.debug.light_stop == "tl"
    assert np.max(red.x_m) + FRONT_M < FRONT_M + 30.0  # and the red one stops short of it


def test_a_light_stop_sets_every_proposals_speed_whatever_its_fraction() -> None:
    # 13.89 m/s, the front 60 m before a yellow line: 13.89^2 / (2 x 58) = 1.66 m/s^2 <= 3,
    # a comfortable stop, driven at 3: coast to d = 13.89^2 / 6 = 32 m (about 1.9 s), then
    # brake. A car crosses southwards 1 m before the line at 4 m/s from y = 20: the ego lane's
    # corridor (y = 1.75 +- (0.95 + 1.1 + 0.4)) from t = (20 - 1.75 - 2.45) / 4 = 3.95 s, an
    # IDM leader 1 s earlier: the full-speed proposals, about 10 m before it at 6-7 m/s then,
    # brake for it beyond 4.05 m/s^2 (uncomfortable). A slower fraction's IDM used to brake at
    # once (0.6: -3.4 m/s^2 towards 8.3 m/s) and, further back then, score comfortable: PDM
    # took it, a harder stop than the one decided (PDM's comfort 0 on opendrive_signal_stop).
    # The light stop sets every proposal's speed: the centred full-speed proposal is taken
    # and coasts
    line_x = FRONT_M + 60.0
    planner = PDMPlanner(straight_with_light(line_x, cycle(("yellow", 3.0))), ["road_0"])
    car = Boxes3D.from_array7(
        [[line_x - 1.0, 20.0, 0.8, 4.5, 1.9, 1.6, -np.pi / 2]],
        "world",
        label=[1],
        velocity_mps=[[0.0, -4.0]],
    )
    ego = EgoState(0, 0.0, 1.75, 0.0, speed_mps=13.89)
    plan = planner.step(Observation(0, ego, car, ("car",), traffic_lights=(("tl", "yellow"),)))
    debug = planner.debug
    assert debug is not None and debug.light_stop == "tl" and debug.stop_reason is None
    assert debug.speed_fraction[debug.chosen] == 1.0 and debug.offsets_m[debug.chosen] == 0.0
    assert np.min(plan.acceleration_mps2[:11]) > -0.5  # coasting for the first second
    # proposals of one offset differ only by their fraction: with the stop, they are one
    assert debug.scores is not None
    per_offset = debug.scores.total.reshape(len(PDMParams().lateral_offsets_m), -1)
    np.testing.assert_array_equal(per_offset, per_offset[:, :1].repeat(per_offset.shape[1], 1))


@pytest.mark.parametrize("room_m", [60.0, 45.0, 35.0])
def test_a_comfortable_light_stop_scores_every_proposal_comfortable(room_m: float) -> None:
    # 13.89 m/s, the front room_m before a yellow line: 1.66, 2.26 and 2.94 m/s^2 to the stop
    # point (all <= 3, stopped at 3). The stop's command meets its curve smoothly (it is
    # continuous in speed and distance, no step onto -3 m/s^2): every proposal keeps PDM's
    # comfort bounds (jerk <= 4.13 m/s^3, braking <= 4.05 m/s^2) over the 4 s scored
    line_x = FRONT_M + room_m
    planner = PDMPlanner(straight_with_light(line_x, cycle(("yellow", 3.0))), ["road_0"])
    ego = EgoState(0, 0.0, 1.75, 0.0, speed_mps=13.89)
    obs = Observation(0, ego, Boxes3D.empty("world"), (), traffic_lights=(("tl", "yellow"),))
    planner.step(obs)
    assert planner.debug is not None and planner.debug.light_stop == "tl"
    assert planner.debug.scores is not None
    assert np.all(planner.debug.scores.comfort == 1.0)
