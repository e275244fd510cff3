"""Pinned rules of open-loop runs on recorded logs (``drivestack.eval.driving.open_loop_logs``)
and of inferring unread traffic lights
(``drivestack.perception.camera.traffic_light_inference``), each with a hand-derived expected
value on a small hand-built input, so that a change to the rule fails a test."""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path

import numpy as np
import pytest

from drivestack.eval.driving.open_loop import OpenLoopParams
from drivestack.eval.driving.open_loop_logs import (
    CONSTANT_VELOCITY,
    ConstantVelocityPlanner,
    RecordedMotion,
    expert_trajectory,
    instant_times_s,
    run_open_loop,
    steering_for,
)
from drivestack.ingest.maps.synthetic import offset_polyline, straight_road
from drivestack.perception.camera.traffic_light_inference import (
    conflicting_lights,
    reference_way_lanes,
    route_way_lanes,
    through_way,
    turn_deg,
)
from drivestack.perception.camera.traffic_light_state import InferUnseenConfig
from drivestack.planning.traffic_lights import RouteLightStop
from drivestack.prediction.forecast import MAX_FORECAST_STEPS
from drivestack.sim.av2_log import Av2LogScenario
from drivestack.sim.vehicle import VehicleParams
from drivestack.sim.world import Observation
from drivestack.structures.boxes import Boxes3D
from drivestack.structures.ego_state import EgoState
from drivestack.structures.road_map import Lane, RoadMap
from drivestack.structures.traffic_light import LaneStop, TrafficLight
from drivestack.structures.trajectory import Trajectory
from tests.eval.driving.test_open_loop_logs import straight_log
from tests.sim.test_light_inference import (
    four_lights,
    inference,
)

# --------------------------------------------------------------------------------------------
# open_loop_logs: the constant-velocity planner
# --------------------------------------------------------------------------------------------


def test_the_baseline_accepts_exactly_the_most_forecast_steps() -> None:
    """``horizon_s / dt_s`` may be at most MAX_FORECAST_STEPS: equal to it is allowed, one
    more is refused (dt 1 s, so the ratio is the horizon itself, exact in floats)."""
    planner = ConstantVelocityPlanner(float(MAX_FORECAST_STEPS), 1.0)
    assert planner.horizon_s == float(MAX_FORECAST_STEPS)
    with pytest.raises(ValueError, match="at most"):
        ConstantVelocityPlanner(float(MAX_FORECAST_STEPS + 1), 1.0)


def test_the_baseline_goes_straight_along_its_heading_at_its_speed() -> None:
    """Ego at (1, 2) heading 30 degrees at 4 m/s, horizon 1 s every 0.5 s: distances 0, 2,
    4 m, so x = 1 + d cos 30 = 1, 1 + sqrt(3), 1 + 2 sqrt(3) and y = 2 + d sin 30 = 2, 3, 4;
    heading and speed held (30 degrees, 4 m/s), acceleration and curvature 0; stamped 0, 0.5,
    1 s after the observation."""
    yaw = math.pi / 6
    ego = EgoState(7, 1.0, 2.0, yaw, 4.0, 0.3, 0.2, 0.0, "world")
    plan = ConstantVelocityPlanner(1.0, 0.5).step(Observation(7, ego, Boxes3D.empty("world"), ()))
    r3 = math.sqrt(3.0)
    np.testing.assert_array_equal(plan.timestamp_ns, [7, 7 + 500_000_000, 7 + 1_000_000_000])
    np.testing.assert_allclose(plan.x_m, [1.0, 1.0 + r3, 1.0 + 2.0 * r3])
    np.testing.assert_allclose(plan.y_m, [2.0, 3.0, 4.0])
    np.testing.assert_allclose(plan.yaw_rad, [yaw] * 3)
    np.testing.assert_allclose(plan.speed_mps, [4.0, 4.0, 4.0])
    np.testing.assert_array_equal(plan.acceleration_mps2, [0.0, 0.0, 0.0])
    np.testing.assert_array_equal(plan.curvature_1pm, [0.0, 0.0, 0.0])


# --------------------------------------------------------------------------------------------
# open_loop_logs: the recorded motion
# --------------------------------------------------------------------------------------------


def motion(
    xy: list[tuple[float, float]],
    speed: list[float],
    accel: list[float],
    yaw_rate: list[float],
    dt_s: float = 1.0,
) -> RecordedMotion:
    n = len(xy)
    return RecordedMotion(
        np.arange(n) * dt_s,
        np.array(xy, dtype=float),
        np.zeros(n),
        np.array(speed, dtype=float),
        np.array(accel, dtype=float),
        np.array(yaw_rate, dtype=float),
    )


def test_the_first_sweeps_take_the_third_sweeps_causal_acceleration() -> None:
    """Positions 0, 1, 3, 6 m at 0, 1, 2, 3 s: backward speeds over the intervals 1, 2, 3 m/s
    (the first sweep takes the second's, 1); acceleration is the change of that speed over the
    interval before: (1-1)/1 = 0 at sweep 1 would read the copied speed, so only sweeps >= 2
    have their own, (2-1) = 1 and (3-2) = 1, and sweeps 0 and 1 take sweep 2's: 1, 1, 1, 1."""
    m = motion([(0, 0), (1, 0), (3, 0), (6, 0)], [0] * 4, [0] * 4, [0] * 4)
    np.testing.assert_allclose(m.causal_speed_mps, [1.0, 1.0, 2.0, 3.0])
    np.testing.assert_allclose(m.causal_acceleration_mps2, [1.0, 1.0, 1.0, 1.0])


def test_the_expert_curves_only_from_the_least_steering_speed_and_keeps_its_acceleration() -> None:
    """Curvature = yaw rate / speed from 1 m/s on (1 m/s itself included), 0 below: speeds
    0.5, 1, 2 and yaw rates 0.1, 0.1, 0.4 give 0, 0.1, 0.2. Its acceleration is the recorded
    (central) one given, 7, 8, 9, not the causal one (0 here: constant steps)."""
    m = motion([(0, 0), (1, 0), (2, 0)], [0.5, 1.0, 2.0], [7.0, 8.0, 9.0], [0.1, 0.1, 0.4])
    expert = expert_trajectory(m, "world")
    np.testing.assert_allclose(expert.curvature_1pm, [0.0, 0.1, 0.2])
    np.testing.assert_allclose(expert.acceleration_mps2, [7.0, 8.0, 9.0])
    np.testing.assert_array_equal(expert.timestamp_ns, [0, 1_000_000_000, 2_000_000_000])


def test_a_recorded_heading_across_pi_is_unwrapped_and_derivatives_use_the_sweep_times() -> None:
    """Headings pi - 0.1 + 0.1 k (k = 0..3, every 0.1 s) wrapped into (-pi, pi] jump by about
    -2 pi between sweeps 1 and 2; unwrapped they rise 0.1 rad per 0.1 s: a yaw rate of
    1 rad/s everywhere (recorded and causal). Speeds 10, 10.2, 10.4, 10.6 m/s every 0.1 s: an
    acceleration of 0.2 / 0.1 = 2 m/s^2 (per second, not per sample)."""
    t = np.arange(4) * 0.1
    yaw = np.array([math.remainder(math.pi - 0.1 + 0.1 * k, 2 * math.pi) for k in range(4)])
    assert yaw[2] < 0.0  # the input really wraps
    log = Av2LogScenario(
        log_dir=Path("synthetic-wrap"),
        road_map=straight_road(),
        time_s=t,
        ego_xy_m=np.stack([t * 10.0, np.zeros(4)], axis=1),
        ego_yaw_rad=yaw,
        ego_speed_mps=np.array([10.0, 10.2, 10.4, 10.6]),
        agents=(),
    )
    m = RecordedMotion.of(log)
    np.testing.assert_allclose(m.yaw_rad, math.pi - 0.1 + 0.1 * np.arange(4), atol=1e-12)
    np.testing.assert_allclose(m.yaw_rate_radps, [1.0] * 4, atol=1e-9)
    np.testing.assert_allclose(m.causal_yaw_rate_radps, [1.0] * 4, atol=1e-9)
    np.testing.assert_allclose(m.acceleration_mps2, [2.0] * 4, atol=1e-9)


# --------------------------------------------------------------------------------------------
# open_loop_logs: steering from the recorded yaw rate
# --------------------------------------------------------------------------------------------


def test_steering_starts_at_exactly_the_least_steering_speed() -> None:
    """At 1 m/s (MIN_STEERING_SPEED_MPS, 'below' it is 0) the angle is atan(L * 0.1 / 1)."""
    vehicle = VehicleParams()
    expected = math.atan(vehicle.wheelbase_m * 0.1)
    assert steering_for(1.0, 0.1, vehicle) == pytest.approx(expected)


def test_steering_when_reversing_or_turning_right_keeps_its_sign() -> None:
    """Reversing at -2 m/s with yaw rate 0.2: atan(L * 0.2 / -2) = -atan(0.1 L) (the speed's
    size, not its sign, decides 'standing'); turning right (yaw rate -0.1 at 10 m/s) gives
    -atan(0.01 L); a hard right beyond the range clips to -max_steering_rad."""
    vehicle = VehicleParams()
    wb = vehicle.wheelbase_m
    assert steering_for(-2.0, 0.2, vehicle) == pytest.approx(-math.atan(0.1 * wb))
    assert steering_for(10.0, -0.1, vehicle) == pytest.approx(-math.atan(0.01 * wb))
    assert steering_for(2.0, -5.0, vehicle) == pytest.approx(-vehicle.max_steering_rad)


# --------------------------------------------------------------------------------------------
# open_loop_logs: which instants are scored
# --------------------------------------------------------------------------------------------


def test_instants_tolerate_float_noise_at_both_ends() -> None:
    """A span 1e-10 s short of the 3 s horizon still covers it (the 1e-9 tolerance): one
    instant, 0. Every 0.1 s on a 3.3 s span: 3.3 - 3.0 = 0.3 s, so instants 0, 0.1, 0.2 and
    0.3 (0.3 / 0.1 is 2.999... in floats: four instants, not three)."""
    params = OpenLoopParams()
    assert instant_times_s(3.0 - 1e-10, params) == [0.0]
    tenth = dataclasses.replace(params, sample_interval_s=0.1)
    assert instant_times_s(3.3, tenth) == pytest.approx([0.0, 0.1, 0.2, 0.3])


def test_instants_land_on_the_world_tick_of_their_time() -> None:
    """Every 0.3 s (horizons 3 and 6 s) on 0.1 s ticks: 0.3 / 0.1 is 2.999... in floats, yet the instant is tick 3
    (rounded). On a 10 m/s constant drive the baseline then plans from the instant's own time
    and matches the drive exactly (a plan stamped one tick early would be 1 m off)."""
    log, world = straight_log(10.0)
    params = dataclasses.replace(
        OpenLoopParams(), sample_interval_s=0.3, horizons_s=(3.0, 6.0), miss_thresholds_m=(6.0, 8.0)
    )
    run = run_open_loop(log, ["road_0"], world, [CONSTANT_VELOCITY], params)
    assert run.instants_s[:3] == pytest.approx([0.0, 0.3, 0.6])
    for errors in run.errors[CONSTANT_VELOCITY]:
        np.testing.assert_allclose(errors.displacement_m, 0.0, atol=1e-6)


class _Braker:
    """A planner stub that goes straight on and says it stopped for a light."""

    def __init__(self) -> None:
        self.inner = ConstantVelocityPlanner()
        self.debug = type("Debug", (), {"stop_reason": "red_light"})()

    def reset(self) -> None:
        """No state."""

    def step(self, observation: Observation) -> Trajectory:
        return self.inner.step(observation)


def test_stop_reasons_count_every_instant(monkeypatch: pytest.MonkeyPatch) -> None:
    """A planner whose debug says 'red_light' at each of the 13 instants of a 15.5 s log
    (0..12 s) has stop_reasons {'red_light': 13}."""
    from drivestack.sim import evaluate

    monkeypatch.setitem(evaluate.PLANNERS, "braker", lambda *args: _Braker())
    log, world = straight_log(10.0)
    run = run_open_loop(log, ["road_0"], world, ["braker"])
    assert len(run.instants_s) == 13
    assert run.stop_reasons == {"braker": {"red_light": 13}}


# --------------------------------------------------------------------------------------------
# traffic_light_inference: an approach's through way
# --------------------------------------------------------------------------------------------

STOP_M = 20.0  # the fan's stop lane "in" runs east from (-20, 0) to (0, 0): its stop at its end


def _lane(lane_id: str, centre: np.ndarray, **kw: object) -> Lane:
    return Lane(
        lane_id,
        centre,
        offset_polyline(centre, 1.75),
        offset_polyline(centre, -1.75),
        **kw,  # type: ignore[arg-type]
    )


def _arc(start: np.ndarray, heading_rad: float, turn_deg_: float) -> np.ndarray:
    """A 5 m radius arc from ``start`` heading ``heading_rad`` that turns ``turn_deg_``
    (left positive), then about 4 m on to a whole-metre corner and 8 m straight on along its
    final heading (so its end heading is ``heading_rad + turn``)."""
    turn = math.radians(turn_deg_)
    side = 1.0 if turn >= 0 else -1.0
    if turn == 0.0:
        local = np.stack([np.linspace(0.0, 5.0, 24), np.zeros(24)], axis=1)
    else:
        phis = np.linspace(0.0, abs(turn), 24)
        local = np.stack([5.0 * np.sin(phis), side * (5.0 - 5.0 * np.cos(phis))], axis=1)
    c, s = math.cos(heading_rad), math.sin(heading_rad)
    pts = start + local @ np.array([[c, s], [-s, c]])
    end = heading_rad + turn
    # 4 m on, rounded to whole metres (at most 0.71 m off: a bend of about 12 degrees at
    # most): from an integer corner the tail's step below is exact in floats
    corner = np.round(pts[-1] + 4.0 * np.array([math.cos(end), math.sin(end)]))
    step = (1.0, math.tan(end)) if math.cos(end) > 0.5 else (math.cos(end), math.sin(end))
    tail = corner + 8.0 * np.array(step)
    return np.vstack([pts, corner, tail])


def fan(*turns: float) -> RoadMap:
    """Stop lane "in" (heading east, 0 rad) whose successors "to_<turn>" turn by ``turns``."""
    names = tuple(f"to_{t:g}" for t in turns)
    lanes = [_lane("in", np.array([[-20.0, 0.0], [-10.0, 0.0], [0.0, 0.0]]), successors=names)]
    lanes += [
        _lane(n, _arc(np.zeros(2), 0.0, t), predecessors=("in",))
        for n, t in zip(names, turns, strict=True)
    ]
    return RoadMap(tuple(lanes))


def test_the_turn_angle_is_read_at_the_end_of_the_way_out() -> None:
    """Every way out leaves "in" heading east; the turn is the heading change to its end: a
    left arc of 90 degrees turns +90, a right one of 60 turns -60."""
    road_map = fan(90.0, -60.0)
    lane = road_map.lane("in")
    assert turn_deg(road_map, lane, STOP_M, "to_90") == pytest.approx(90.0)
    assert turn_deg(road_map, lane, STOP_M, "to_-60") == pytest.approx(-60.0)


def test_a_turn_of_exactly_minus_180_is_reported_as_plus_180() -> None:
    """The turn angle is in (-180, 180]: a lane heading west (pi) into a way ending east (0)
    changes heading by 0 - pi = -pi, reported as +180."""
    west = np.array([[20.0, 0.0], [10.0, 0.0], [0.0, 0.0]])
    back = _arc(np.zeros(2), math.pi, 180.0)
    back[-1] = back[-2] + [1.0, 0.0]  # its last step exactly east
    road_map = RoadMap((_lane("w", west, successors=("u",)), _lane("u", back, predecessors=("w",))))
    assert turn_deg(road_map, road_map.lane("w"), STOP_M, "u") == 180.0


def test_a_lone_way_turning_more_than_35_degrees_is_no_through_way() -> None:
    """One way out turning 38 degrees: more than THROUGH_MAX_TURN_DEG (35): no through way;
    one turning 30: it is the through way."""
    assert through_way(fan(38.0), "in", STOP_M) is None
    assert through_way(fan(30.0), "in", STOP_M) == "to_30"


def test_a_lone_way_turning_exactly_35_degrees_is_the_through_way() -> None:
    """The bound is inclusive: a way out turning exactly 35 degrees ("at most 35") is the
    through way."""
    road_map = fan(35.0)
    assert turn_deg(road_map, road_map.lane("in"), STOP_M, "to_35") == 35.0  # exact input
    assert through_way(road_map, "in", STOP_M) == "to_35"


def test_three_ways_exactly_35_degrees_apart_have_a_middle() -> None:
    """Ways out turning -70, -35 and 0: both gaps exactly 35 ("at least 35 apart"), so the
    middle, -35, is the through way, not the least turning (0)."""
    assert through_way(fan(-70.0, -35.0, 0.0), "in", STOP_M) == "to_-35"


def test_a_u_turn_is_not_one_of_the_three_ways_out() -> None:
    """Ways out turning -100, -40 and 175 degrees: the U-turn (175 > U_TURN_DEG = 170) is
    dropped, leaving two, the least turning 40 > 35: no through way (counting the U-turn
    would make -40 the middle of three ways 60 and 215 apart)."""
    assert through_way(fan(-100.0, -40.0, 175.0), "in", STOP_M) is None


def test_the_middle_way_needs_both_gaps_of_35_degrees() -> None:
    """Ways out turning -90, -20 and 0: gaps 70 and 20; the smaller, 20 < 35, so there is no
    middle one: the least turning, 0, is the through way (not the middle, -20)."""
    assert through_way(fan(-90.0, -20.0, 0.0), "in", STOP_M) == "to_0"


# --------------------------------------------------------------------------------------------
# traffic_light_inference: the route's way through the junction
# --------------------------------------------------------------------------------------------


def chain(junction_id: str | None, n: int = 10) -> RoadMap:
    """Stop lane "s" then lanes "j0".."j<n-1>" end to end along x, all in ``junction_id``."""
    ids = [f"j{k}" for k in range(n)]
    lanes = [_lane("s", np.array([[-10.0, 0.0], [0.0, 0.0]]), successors=("j0",))]
    for k, lane_id in enumerate(ids):
        lanes.append(
            _lane(
                lane_id,
                np.array([[float(k), 0.0], [k + 1.0, 0.0]]),
                successors=(ids[k + 1],) if k + 1 < n else (),
                predecessors=(ids[k - 1] if k else "s",),
                junction_id=junction_id,
            )
        )
    return RoadMap(tuple(lanes))


def test_the_route_way_holds_at_most_8_lanes_of_one_junction() -> None:
    """Ten route lanes after the stop, all in junction J: the way is the first 8
    (MAX_WAY_LANES), j0..j7."""
    route = ("s", *(f"j{k}" for k in range(10)))
    assert route_way_lanes(chain("J"), route, "s") == tuple(f"j{k}" for k in range(8))


def test_lanes_in_no_junction_do_not_extend_the_route_way() -> None:
    """The lane after the stop lies in no junction (None): the way is that lane alone, not
    every later lane that is also in none."""
    assert route_way_lanes(chain(None), ("s", "j0", "j1", "j2"), "s") == ("j0",)


def test_a_route_listing_the_stop_lane_twice_still_has_its_way() -> None:
    """Repeated route ids count once (s, s, j0, j1 is s, j0, j1): the lane after s is j0,
    its successor, so the way is j0, j1 (both in J)."""
    assert route_way_lanes(chain("J"), ("s", "s", "j0", "j1"), "s") == ("j0", "j1")


def test_the_reference_way_is_the_routes_whole_way_when_it_goes_on_through() -> None:
    """Light L governs every way out of s; s's only way out, j0, goes straight on (turn 0):
    its through way. The route goes on it (s, j0, j1, both in J), so a green releases the
    route's whole way through the junction, j0 and j1, not j0 alone."""
    road_map = dataclasses.replace(
        chain("J"), traffic_lights=(TrafficLight("L", (LaneStop("s", 10.0),)),)
    )
    stop = RouteLightStop("L", "s", 10.0)
    assert reference_way_lanes(road_map, ("s", "j0", "j1"), stop) == ("j0", "j1")


def test_a_light_governing_only_the_turn_releases_the_routes_way() -> None:
    """A left arrow on "in" (governs only to_90) while "in" goes on straight by to_0: the
    arrow does not govern the through way, so its green releases the route's way (to_90)."""
    road_map = dataclasses.replace(
        fan(0.0, 90.0),
        traffic_lights=(TrafficLight("A", (LaneStop("in", STOP_M, ("to_90",)),)),),
    )
    stop = RouteLightStop("A", "in", STOP_M)
    assert reference_way_lanes(road_map, ("in", "to_90"), stop) == ("to_90",)


def edge_map(movement_x_m: float) -> RoadMap:
    """The ego's stop lane "s" runs north up x = 0 into "way" (x in [-1.75, 1.75], y 0..20);
    light C stops lane "c" (heading east, 90 degrees off) whose one way out, a left turn
    (no through way: its movement), runs north up x = ``movement_x_m``."""
    north = np.array([[0.0, -20.0], [0.0, 0.0]])
    lanes = (
        _lane("s", north, successors=("way",)),
        _lane("way", north + np.array([0.0, 20.0]), predecessors=("s",)),
        _lane("c", np.array([[-20.0, -5.0], [-5.0, -5.0]]), successors=("c_left",)),
        _lane(
            "c_left",
            np.array([[movement_x_m, 0.0], [movement_x_m, 10.0], [movement_x_m, 20.0]]),
            predecessors=("c",),
        ),
    )
    lights = (TrafficLight("S", (LaneStop("s", 20.0),)), TrafficLight("C", (LaneStop("c", 15.0),)))
    return RoadMap(lanes, traffic_lights=lights)


def test_a_movement_along_the_edge_of_the_ego_way_does_not_conflict() -> None:
    """C's movement running exactly along the way's right edge (x = 1.75) only touches its
    polygon: no conflict; moved 0.75 m inside (x = 1.0) it enters the interior: C conflicts."""
    route, stop = ("s", "way"), (RouteLightStop("S", "s", 20.0),)
    assert conflicting_lights(edge_map(1.75), route, stop) == {"S": frozenset()}
    assert conflicting_lights(edge_map(1.0), route, stop) == {"S": frozenset({"C"})}


def test_the_crossing_window_includes_both_bounds() -> None:
    """Light C's lane heads east (0), the ego's north (pi / 2): exactly 90 degrees off, so C
    (whose movement enters the ego's way) is kept by a window 90..135 and by 45..90 (bounds
    included)."""
    route, stop = ("s", "way"), (RouteLightStop("S", "s", 20.0),)
    for lo, hi in ((90.0, 135.0), (45.0, 90.0)):
        found = conflicting_lights(edge_map(1.0), route, stop, lo, hi)
        assert found == {"S": frozenset({"C"})}


# --------------------------------------------------------------------------------------------
# traffic_light_inference: the same-controller rule
# --------------------------------------------------------------------------------------------


def test_a_controller_read_two_ways_tells_its_unread_light_nothing() -> None:
    """W, E and N share controller c; W read red and E green disagree, so N (unread) gets no
    state from c, while an agreeing pair (both red) makes N red."""
    road_map = four_lights({"W": "c", "E": "c", "N": "c"})
    infer = inference(road_map, InferUnseenConfig(conflicting_green=False))
    assert infer.infer({"W": "red", "E": "green"}, {}) == {}
    assert infer.infer({"W": "red", "E": "red"}, {}) == {"N": "red"}
