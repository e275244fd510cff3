"""Rules of the simulated agents pinned by hand-derived values (a mutation review of
drivestack.sim.give_way, drivestack.sim.agents and drivestack.sim.vehicle found them
unguarded): where a stop-sign agent's path meets crossing lanes and which lanes lead there,
who holds it up at its line, the triggers and scripts of path agents, reactive agents' paths
and profiles, and the bicycle model's limits and geometry."""

from __future__ import annotations

import math

import numpy as np
import pytest

from drivestack.planning.idm import IDMParams
from drivestack.planning.stop_signs import RouteSignStop
from drivestack.planning.traffic_lights import RouteLightStop
from drivestack.sim.agents import (
    AgentSpec,
    ReplayTrack,
    SpeedEvent,
    Traffic,
    nearest_ahead,
    reactive_agent,
    recorded_path,
)
from drivestack.sim.give_way import Approach, Conflict, blocking_actor, sign_conflicts
from drivestack.sim.vehicle import BicycleState, VehicleParams, bicycle_step
from drivestack.structures.labels import ObjectClass
from drivestack.structures.road_map import Lane, RoadMap, StopSign
from drivestack.structures.traffic_light import LaneStop

CAR = (4.0, 2.0, 1.5)
FAR_EGO = np.array([1e6, 1e6, 0.75, 4.5, 1.8, 1.5, 0.0])  # out of everyone's way
EAST = np.array([[0.0, 0.0], [200.0, 0.0]])


# --- drivestack.sim.give_way: where paths cross -------------------------------------------


def _lane(lane_id: str, start: tuple[float, float], end: tuple[float, float], **kw: object) -> Lane:
    """A straight lane 3.5 m wide from ``start`` to ``end``."""
    a, b = np.array(start, dtype=float), np.array(end, dtype=float)
    u = (b - a) / np.linalg.norm(b - a)
    left = np.array([-u[1], u[0]]) * 1.75
    centre = np.stack([a, b])
    return Lane(lane_id, centre, centre + left, centre - left, **kw)  # type: ignore[arg-type]


def _cross_map(
    junction: bool = False, w_in_sign: str | None = None, link_back: bool = True
) -> RoadMap:
    """The agent drives north along x = 0: s_in (0, -60) -> (0, -10), 50 m, its stop line at
    the end; s_thru (0, -10) -> (0, 10); n_out (0, 10) -> (0, 60). Its path stations: the line
    at 50, y = 0 at 60, s_thru's end at 70, y = 25 at 85, the end at 120.

    Crossing it eastbound: w_thru (-10, 0) -> (10, 0) (20 m, meets the path at (0, 0), 10 m
    along w_thru), led into by w_in (-110, 0) -> (-10, 0) (100 m) and w_far (-310, 0) ->
    (-110, 0) (200 m); x_far (-10, 25) -> (10, 25) crosses at y = 25; side (0, -10) ->
    (30, -10) touches the path only at the line. ``junction``: s_thru lies in junction "J"
    (n_out in none); ``w_in_sign``: a sign of that kind with its line at w_in's end;
    ``link_back``: w_thru names w_in as its predecessor (else only w_in names w_thru as its
    successor)."""
    lanes = [
        _lane("s_in", (0, -60), (0, -10), successors=("s_thru",)),
        _lane(
            "s_thru",
            (0, -10),
            (0, 10),
            predecessors=("s_in",),
            successors=("n_out",),
            junction_id="J" if junction else None,
        ),
        _lane("n_out", (0, 10), (0, 60), predecessors=("s_thru",)),
        _lane("w_far", (-310, 0), (-110, 0), successors=("w_in",)),
        _lane("w_in", (-110, 0), (-10, 0), predecessors=("w_far",), successors=("w_thru",)),
        _lane("w_thru", (-10, 0), (10, 0), predecessors=("w_in",) if link_back else ()),
        _lane("x_far", (-10, 25), (10, 25)),
        _lane("side", (0, -10), (30, -10)),
    ]
    signs: tuple[StopSign, ...] = ()
    if w_in_sign is not None:
        signs = (StopSign("w_sign", w_in_sign, (LaneStop("w_in", 100.0),)),)
    return RoadMap(tuple(lanes), stop_signs=signs)


PATH = np.array([[0.0, -60.0], [0.0, -10.0], [0.0, 10.0], [0.0, 60.0]])
LANES = ["s_in", "s_thru", "n_out"]
LINE = RouteSignStop("s_sign", "s_in", 50.0, "stop")


def test_the_junction_part_reaches_junction_reach_m_past_the_line_without_junctions() -> None:
    """No junction marked: the part runs to max(end of s_thru = 70, line 50 + 40) = 90 m, so
    x_far (y = 25, station 85) crosses it as well as w_thru (station 60); side, which meets
    the path only at the line, is no crossing lane."""
    conflicts = sign_conflicts(_cross_map(), LANES, PATH, LINE)
    assert [(c.lane_id, c.station_m) for c in conflicts] == [
        ("w_thru", pytest.approx(60.0)),
        ("x_far", pytest.approx(85.0)),
    ]
    assert conflicts[0].xy_m == pytest.approx((0.0, 0.0))


def test_the_junction_part_ends_with_the_lanes_in_the_junction() -> None:
    """s_thru in junction J, n_out in none: the part ends at s_thru's end (station 70), so
    x_far at station 85 lies beyond it; only w_thru crosses."""
    conflicts = sign_conflicts(_cross_map(junction=True), LANES, PATH, LINE)
    assert [c.lane_id for c in conflicts] == ["w_thru"]


def test_a_sign_on_the_paths_last_lane_has_no_junction_part() -> None:
    """A stop line on n_out (the path's last lane, station 75, y = 5): no lane follows the
    sign's lane, so the part is empty, though x_far crosses the path 10 m further on."""
    stop = RouteSignStop("n_sign", "n_out", 75.0, "stop")
    assert sign_conflicts(_cross_map(), LANES, PATH, stop) == ()


def test_approach_lanes_run_back_through_predecessors_within_the_lookback() -> None:
    """w_thru's conflict point lies 10 m along it. Its approaches: w_thru (end_m 10), w_in
    (100 + 10 = 110 < LOOKBACK_M 150, so its predecessor is watched too), w_far (200 + 110 =
    310), and no further. A link given one way only (w_in names w_thru as its successor,
    w_thru names no predecessor) still leads into the crossing lane."""
    for link_back in (True, False):
        (w,) = (
            c
            for c in sign_conflicts(_cross_map(link_back=link_back), LANES, PATH, LINE)
            if c.lane_id == "w_thru"
        )
        assert [(a.lane.lane_id, a.end_m) for a in w.approaches] == [
            ("w_thru", pytest.approx(10.0)),
            ("w_in", pytest.approx(110.0)),
            ("w_far", pytest.approx(310.0)),
        ]


def test_only_a_sign_that_stops_traffic_counts_on_an_approach() -> None:
    """A stop sign's line at w_in's end lies 110 - 100 = 10 m before the conflict point on the
    way from w_in and from w_far before it (none on w_thru, past the line: inf); a yield sign
    there stops no one: inf on every lane."""
    for kind, expected in (("stop", [math.inf, 10.0, 10.0]), ("yield", [math.inf] * 3)):
        (w,) = (
            c
            for c in sign_conflicts(_cross_map(w_in_sign=kind), LANES, PATH, LINE)
            if c.lane_id == "w_thru"
        )
        assert [a.sign_m for a in w.approaches] == pytest.approx(expected)


def test_a_stop_line_at_the_conflict_point_itself_still_counts() -> None:
    """A sign's line exactly at the conflict point (10 m along w_thru, where the agent's path
    meets it) is between an actor's front and the point (the bound is inclusive): sign_m 0."""
    base = _cross_map()
    m = RoadMap(base.lanes, stop_signs=(StopSign("at", "stop", (LaneStop("w_thru", 10.0),)),))
    (w,) = (c for c in sign_conflicts(m, LANES, PATH, LINE) if c.lane_id == "w_thru")
    assert w.approaches[0].sign_m == pytest.approx(0.0)


# --- drivestack.sim.give_way: who holds the agent up (blocking_actor) ----------------------

ROAD = _lane("road", (0, 0), (128, 0))  # eastbound, conflict point 64 m along it
CLEAR_M = 1.0  # half the waiting agent's width


def _blocks(centre_before_m: float, speed_mps: float, sign_m: float = math.inf) -> bool:
    """Whether a 4 m car on ROAD heading east at ``speed_mps``, its centre
    ``centre_before_m`` before the conflict point 64 m along ROAD (negative: past it), holds
    up the waiting agent (a 128 m lane: stations along it are exact in binary)."""
    conflict = Conflict("road", 0.0, (64.0, 0.0), (Approach(ROAD, 64.0, sign_m),))
    hit = blocking_actor(
        (conflict,),
        np.array([[64.0 - centre_before_m, 0.0]]),
        np.array([0.0]),
        np.array([speed_mps]),
        np.array([4.0]),
        CLEAR_M,
    )
    return hit == 0


def test_a_car_is_measured_from_its_front_to_the_conflict_point() -> None:
    """Centred 5 m before the point its front is 5 - 2 = 3 m away: at 1 m/s it is there in
    3 s < GAP_S 4 s and holds the agent up (its centre, 5 s away, would not)."""
    assert _blocks(5.0, 1.0)


def test_a_standing_car_with_its_front_within_half_the_agents_width_is_there() -> None:
    """Centred 2.5 m before the point, standing: front 0.5 m <= CLEAR_M 1 m, so it is at the
    point and holds the agent up; centred 3.5 m before (front 1.5 m) it is not there and,
    standing, never comes."""
    assert _blocks(2.5, 0.0)
    assert not _blocks(3.5, 0.0)


def test_a_car_holds_up_until_its_rear_is_half_the_agents_width_past_the_point() -> None:
    """Centred 2.5 m past the point its rear is 2.5 - 2 = 0.5 m past it (< CLEAR_M 1 m): still
    there; centred 3.5 m past, its rear is 1.5 m past: clear."""
    assert _blocks(-2.5, 0.0)
    assert not _blocks(-3.5, 0.0)


def test_a_car_exactly_the_gap_away_does_not_hold_the_agent_up() -> None:
    """Front 20 m away (centre 22 m before the point) at 5 m/s reaches it in exactly GAP_S =
    4 s: not *less* than the gap, so the agent goes; 0.5 m nearer it waits."""
    assert not _blocks(22.0, 5.0)
    assert _blocks(21.5, 5.0)


def test_a_car_whose_front_is_just_past_its_own_stop_line_has_no_priority() -> None:
    """Its stop line 10 m before the point; a car with its front 9.75 m before the point is
    only 0.25 m past the line (within FRONT_TOLERANCE_M 0.5 m): it still has to stop there,
    so it holds no one up though 9.75 m at 5 m/s is under the gap; 1 m past (front 9 m) it
    has priority."""
    assert not _blocks(9.75 + 2.0, 5.0, sign_m=10.0)
    assert _blocks(9.0 + 2.0, 5.0, sign_m=10.0)


# --- drivestack.sim.agents: path agents' triggers and scripts ------------------------------


def _scripted(station_m: float, speed_mps: float, *events: SpeedEvent) -> Traffic:
    spec = AgentSpec(
        "a", ObjectClass.CAR, CAR, "scripted", path_m=EAST, station_m=station_m,
        speed_mps=speed_mps, speed_events=events,
    )  # fmt: skip
    return Traffic([spec])


def _ego_at(x_m: float) -> np.ndarray:
    return np.array([x_m, 0.0, 0.75, 4.5, 1.8, 1.5, 0.0])


def test_the_latest_started_speed_event_is_the_one_followed() -> None:
    """At 10 m/s: a brake to 0 at 1 m/s^2 from t = 0, then a speed-up to 20 at 2 m/s^2 from
    t = 0.5 s. Steps of 0.5 s: 10 - 1 * 0.5 = 9.5, then the later event: 9.5 + 2 * 0.5 =
    10.5 m/s (the first event would give 9.0)."""
    tr = _scripted(10.0, 10.0, SpeedEvent(0.0, 1.0, 0.0), SpeedEvent(0.5, 2.0, 20.0))
    speeds = [float(tr.step(0.5, FAR_EGO, 0.0).speed_mps[0]) for _ in range(2)]
    assert speeds == pytest.approx([9.5, 10.5])


def test_of_speed_events_started_together_the_last_listed_is_followed() -> None:
    """At 10 m/s: a brake to 0 at 1 m/s^2 and a speed-up to 20 at 2 m/s^2, both from t = 0.
    The second, listed last, replaces the first: 10 + 2 * 0.5 = 11 m/s after one 0.5 s step
    (the first would give 9.5); listed the other way round, the brake acts."""
    up, brake = SpeedEvent(0.0, 2.0, 20.0), SpeedEvent(0.0, 1.0, 0.0)
    assert _scripted(10.0, 10.0, brake, up).step(0.5, FAR_EGO, 0.0).speed_mps[0] == (
        pytest.approx(11.0)
    )
    assert _scripted(10.0, 10.0, up, brake).step(0.5, FAR_EGO, 0.0).speed_mps[0] == (
        pytest.approx(9.5)
    )


def test_a_distance_trigger_fires_at_exactly_its_distance() -> None:
    """The agent's centre at (10, 0), the ego's at (30, 0): 20 m apart, within
    ``when_ego_within_m`` = 20 (inclusive): the event starts at t = 0 and the first 0.1 s step
    at 2 m/s^2 ends at 0.2 m/s. At 20.5 m nothing starts."""
    event = SpeedEvent(0.0, 2.0, 10.0, when_ego_within_m=20.0)
    assert _scripted(10.0, 0.0, event).step(0.1, _ego_at(30.0), 0.0).speed_mps[0] == (
        pytest.approx(0.2)
    )
    assert _scripted(10.0, 0.0, event).step(0.1, _ego_at(30.5), 0.0).speed_mps[0] == 0.0


def test_an_along_path_trigger_measures_the_agents_lead_minus_the_offset() -> None:
    """Agent at station 50, ego centre at x = 40 on its path: the agent is 10 m ahead, and
    |10 - along_path_offset_m 10| = 0 <= 0.5: it starts (0.2 m/s after 0.1 s at 2 m/s^2). With
    the ego at x = 45 (5 m behind) |5 - 10| = 5 > 0.5: it waits."""
    event = SpeedEvent(
        0.0, 2.0, 10.0, when_ego_within_m=0.5, along_path=True, along_path_offset_m=10.0
    )
    assert _scripted(50.0, 0.0, event).step(0.1, _ego_at(40.0), 0.0).speed_mps[0] == (
        pytest.approx(0.2)
    )
    assert _scripted(50.0, 0.0, event).step(0.1, _ego_at(45.0), 0.0).speed_mps[0] == 0.0


def test_a_triggered_event_waits_for_its_time() -> None:
    """``time_s`` 1.0 with the ego always within reach: nothing at t = 0 and 0.5 s, the event
    starts at t = 1.0 s, so after 0.5 s steps the speeds are 0, 0, then 2 * 0.5 = 1.0 m/s."""
    tr = _scripted(10.0, 0.0, SpeedEvent(1.0, 2.0, 10.0, when_ego_within_m=1000.0))
    speeds = [float(tr.step(0.5, _ego_at(30.0), 0.0).speed_mps[0]) for _ in range(3)]
    assert speeds == pytest.approx([0.0, 0.0, 1.0])


def test_a_path_agent_leaves_the_scene_50_m_past_its_paths_end() -> None:
    """EAST is 200 m long: an agent at station 240 is still present (<= 250 m), one at 260 m
    has left."""
    assert _scripted(240.0, 0.0).state.valid[0]
    assert not _scripted(260.0, 0.0).state.valid[0]


def test_the_leader_corridor_has_a_0_3_m_margin() -> None:
    """Both cars 2 m wide: the corridor is |lateral - offset| < (2 + 2) / 2 + 0.3 = 2.3 m. A car
    20 m ahead 2.2 m to the side leads (gap 20 - (4 + 4) / 2 = 16 m, at 8 m/s); at 2.4 m it
    does not."""

    def ahead(lateral_m: float) -> tuple[float, float]:
        return nearest_ahead(
            EAST, 0.0, 0.0, CAR, np.array([20.0]), np.array([lateral_m]), np.array([0.0]),
            np.array([8.0]), np.array([[4.0, 2.0]]),
        )  # fmt: skip

    assert ahead(2.2) == pytest.approx((16.0, 8.0))
    assert ahead(2.4) == (math.inf, 0.0)


# --- drivestack.sim.agents: reactive agents' paths and profiles ----------------------------


def _track(x: list[float], yaw: float = 0.0) -> ReplayTrack:
    """A recorded track along y = 0 at ``x``, one row a second, facing ``yaw``."""
    t = np.arange(len(x), dtype=float)
    xs = np.array(x, dtype=float)
    return ReplayTrack(t, xs, np.zeros_like(xs), np.full_like(xs, yaw), np.ones_like(xs))


def test_a_recorded_point_exactly_step_m_away_is_kept() -> None:
    """Centres 1 m apart (= PATH_STEP_M): every one is kept: 0, 1, 2, 3."""
    path = recorded_path(_track([0.0, 1.0, 2.0, 3.0]))
    assert path is not None
    np.testing.assert_allclose(path[:, 0], [0.0, 1.0, 2.0, 3.0])


def test_a_car_that_reverses_part_of_its_path_stays_replayed() -> None:
    """Forwards from x = 0 to 10, then back to 8, always facing +x: the last two segments run
    at pi to the recorded yaw (> 45 degrees), so it stays a replay agent, though most of its
    12 m path is driven forwards."""
    track = _track([float(x) for x in range(11)] + [9.0, 8.0])
    spec = AgentSpec("r", ObjectClass.CAR, CAR, "replay", replay=track)
    assert reactive_agent(spec).behavior == "replay"


# --- drivestack.sim.vehicle: limits and geometry -------------------------------------------

DEFAULT = VehicleParams()  # max_decel 9, jerk 40, steering 0.6 rad at 0.8 rad/s


def test_braking_is_jerk_limited_too() -> None:
    """From 0 m/s^2 a -9 m/s^2 command over 0.1 s is limited by the 40 m/s^3 jerk to
    0 - 40 * 0.1 = -4 m/s^2: 10 - 0.4 = 9.6 m/s."""
    s = bicycle_step(BicycleState.of(0.0, 0.0, 0.0, 10.0), -9.0, 0.0, 0.1, DEFAULT)
    assert s.acceleration_mps2[0] == pytest.approx(-4.0)
    assert s.speed_mps[0] == pytest.approx(9.6)


def test_steering_to_the_right_is_rate_limited_too() -> None:
    """From straight ahead a -0.5 rad command moves at most 0.8 rad/s * 0.1 s: -0.08 rad."""
    s = bicycle_step(BicycleState.of(0.0, 0.0, 0.0, 5.0), 0.0, -0.5, 0.1, DEFAULT)
    assert s.steering_rad[0] == pytest.approx(-0.08)


def test_steering_to_the_right_is_range_limited() -> None:
    """At -0.58 rad a -1.0 rad command stops at the -0.6 rad range (the rate would allow
    -0.58 - 0.08 = -0.66)."""
    state = BicycleState.of(0.0, 0.0, 0.0, 5.0, steering_rad=-0.58)
    s = bicycle_step(state, 0.0, -1.0, 0.1, DEFAULT)
    assert s.steering_rad[0] == pytest.approx(-0.6)


def test_a_step_moves_along_the_mid_step_heading() -> None:
    """10 m/s for 1 s at 0.1 rad steering: 10 m travelled, the yaw turns by 10 tan(0.1) /
    3.09 = 1.0033467 / 3.09 = 0.3247076 rad, and the 10 m run along the mid-step heading
    0.1623538: (10 cos 0.1623538, 10 sin 0.1623538) = (9.868496, 1.616412)."""
    state = BicycleState.of(0.0, 0.0, 0.0, 10.0, steering_rad=0.1)
    s = bicycle_step(state, 0.0, 0.1, 1.0, DEFAULT)
    assert s.yaw_rad[0] == pytest.approx(0.3247076, abs=1e-6)
    assert (s.x_m[0], s.y_m[0]) == pytest.approx((9.868496, 1.616412), abs=1e-5)


def test_the_yaw_is_wrapped_into_minus_pi_to_pi() -> None:
    """From yaw pi - 0.05 a 0.3247076 rad turn (as above) ends at pi + 0.2747076, wrapped to
    -pi + 0.2747076 = -2.8668851."""
    state = BicycleState.of(0.0, 0.0, math.pi - 0.05, 10.0, steering_rad=0.1)
    s = bicycle_step(state, 0.0, 0.1, 1.0, DEFAULT)
    assert s.yaw_rad[0] == pytest.approx(-2.8668851, abs=1e-6)


def test_the_box_centre_and_front_lie_ahead_of_the_rear_axle() -> None:
    """Default 5.18 m long with the rear bumper 1.03 m behind the rear axle: the box centre is
    5.18 / 2 - 1.03 = 1.56 m ahead of the axle, the front bumper 5.18 - 1.03 = 4.15 m; a car
    at (10, 5) facing +x has its box at (11.56, 5), z = 1.78 / 2 = 0.89."""
    assert DEFAULT.center_offset_m == pytest.approx(1.56)
    assert DEFAULT.front_offset_m == pytest.approx(4.15)
    box = BicycleState.of(10.0, 5.0, 0.0, 0.0).boxes(DEFAULT)[0]
    np.testing.assert_allclose(box, [11.56, 5.0, 0.89, 5.18, 2.30, 1.78, 0.0], atol=1e-12)


# --- drivestack.sim.agents: lights, signs and reactive leaders ------------------------------


def test_a_red_is_stopped_for_up_to_the_agents_own_higher_comfort_deceleration() -> None:
    """An agent braking comfortably at 7 m/s^2 (above LIGHT_STOP_DECEL_MPS2 6) decides to stop
    for a red up to 7. At 13 m/s with its front 15 m before the line (its stop point min_gap
    2 m before it, 13 m on) it needs 13^2 / (2 * 13) = 6.5 m/s^2: it stops. The law at
    decel 7: -6.5 + (sqrt(2 * 7 * 13) - 13) = -6.5 + 0.49 = -6.01 m/s^2, so 0.1 s later it
    drives about 12.4 m/s (driving through, IDM would keep about 13)."""
    stop = RouteLightStop("L", "lane", 100.0)
    spec = AgentSpec(
        "a", ObjectClass.CAR, CAR, "idm", path_m=EAST, station_m=100.0 - 15.0 - 2.0,
        speed_mps=13.0, idm=IDMParams(comfort_decel_mps2=7.0), light_stops=(stop,),
    )  # fmt: skip
    tr = Traffic([spec])
    speed = tr.step(0.1, FAR_EGO, 0.0, (("L", "red"),)).speed_mps[0]
    assert speed == pytest.approx(13.0 - 0.601, abs=0.01)


def test_an_agent_with_a_long_idm_gap_stops_for_a_sign_within_the_window() -> None:
    """IDM gap 5 m, but at a sign the stop point is min(5, STOP_WINDOW_M 3 - 1) = 2 m before the
    line, so it comes to rest with its front within the 3 m window before the line (at 100 m)
    and is released after the dwell (it moves on)."""
    stop = RouteSignStop("S", "lane", 100.0, "stop")
    spec = AgentSpec(
        "a", ObjectClass.CAR, CAR, "idm", path_m=EAST, station_m=100.0 - 10.0 - 2.0,
        speed_mps=5.0, idm=IDMParams(min_gap_m=5.0), sign_stops=(stop,),
    )  # fmt: skip
    tr = Traffic([spec])
    fronts, speeds = [], []
    for _ in range(80):
        st = tr.step(0.1, FAR_EGO, 0.0)
        fronts.append(float(st.station_m[0]) + 2.0)
        speeds.append(float(st.speed_mps[0]))
    standing = [f for f, v in zip(fronts, speeds, strict=True) if v < 0.1]
    assert standing and all(97.0 <= f <= 100.0 for f in standing)
    assert speeds[-1] > 1.0  # released, it went on


def _crossing_north() -> Lane:
    return _lane("cross", (110, -100), (110, 28))  # northbound, (110, 0) 100 m along


def test_an_agent_released_just_before_its_line_still_gives_way() -> None:
    """Standing with its front 0.3 m before its line (station 100; within FRONT_TOLERANCE_M
    0.5 m, but not past it), released after the dwell: the ego, standing in for a priority
    car 60 m before the conflict point at 20 m/s (front 57.75 m away: 2.9 s < GAP_S), holds
    it at the line: it never moves."""
    stop = RouteSignStop("S", "lane", 100.0, "stop")
    conflict = Conflict(
        "cross", 110.0, (110.0, 0.0), (Approach(_crossing_north(), 100.0, math.inf),)
    )
    spec = AgentSpec(
        "a", ObjectClass.CAR, CAR, "idm", path_m=EAST, station_m=100.0 - 0.3 - 2.0,
        sign_stops=(stop,), sign_conflicts=((conflict,),),
    )  # fmt: skip
    tr = Traffic([spec])
    ego = np.array([110.0, -60.0, 0.75, 4.5, 1.8, 1.5, math.pi / 2])
    speeds = [float(tr.step(0.1, ego, 20.0).speed_mps[0]) for _ in range(30)]
    assert max(speeds) == 0.0


def test_a_reactive_cars_leader_corridor_has_the_0_3_m_margin() -> None:
    """A reactive car (2 m wide) recorded at 10 m/s along y = 0; the ego (1.8 m wide) stands
    20 m ahead 2.1 m to the side: within (2 + 1.8) / 2 + 0.3 = 2.2 m, so it is the leader
    (gap 20 - (4 + 4.5) / 2 = 15.75 m, absent from the recording) and the car brakes hard
    (IDM's interaction term about -10 m/s^2 here, more than the comfortable 3). At 2.3 m to
    the side it drives as recorded."""
    t = np.arange(0.0, 10.05, 0.1)
    x = 10.0 * t
    track = ReplayTrack(t, x, np.zeros_like(x), np.zeros_like(x), np.full_like(x, 10.0))
    spec = reactive_agent(AgentSpec("r", ObjectClass.CAR, CAR, "replay", replay=track))
    assert spec.behavior == "reactive"
    for lateral_m, braking in ((2.1, True), (2.3, False)):
        tr = Traffic([spec])
        ego = np.array([20.0, lateral_m, 0.75, 4.5, 1.8, 1.5, 0.0])
        speed = float(tr.step(0.1, ego, 0.0).speed_mps[0])
        if braking:
            assert speed < 10.0 - 0.3
        else:
            assert speed == pytest.approx(10.0, abs=1e-6)
