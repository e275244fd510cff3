"""Rules of the traffic-light stop, the light forecast, the proposals' rollouts and PDM's
choice that a mutation review found unguarded, each pinned with a hand-derived value.

The light-rule tests use a front offset of 4 m and stations whose sums and differences are
exact in binary, so that a decision exactly on a threshold is decided by the rule's own
comparison (``<=`` or ``<``), not by rounding."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest
from scipy.spatial import cKDTree

from drivestack.ingest.maps.synthetic import straight_road
from drivestack.planning.idm import ACCParams, IDMParams
from drivestack.planning.light_forecast import clip_forecast, light_stop_travel_m
from drivestack.planning.pdm import IDMPlanner, PDMParams, PDMPlanner
from drivestack.planning.proposals import (
    LIGHT_STOP_GAIN_PER_S,
    PathAgents,
    Rollout,
    light_stop_accel,
    rollout,
    speed_drop_accel,
)
from drivestack.planning.reference_path import ReferencePath
from drivestack.planning.traffic_lights import LightDecision, LightStopRule, RouteLightStop
from drivestack.prediction.forecast import Forecast
from drivestack.sim.vehicle import BicycleState, VehicleParams
from drivestack.sim.world import Observation
from drivestack.structures.boxes import Boxes3D
from drivestack.structures.ego_state import EgoState
from drivestack.structures.labels import ObjectClass
from drivestack.structures.road_map import Lane, RoadMap
from drivestack.structures.traffic_light import LaneStop, TrafficLight

FRONT_M = 4.0  # rear axle to front bumper in the hand-built rules below
LINE_M = 100.0  # the stop line's station
RED = (("tl", "red"),)
YELLOW = (("tl", "yellow"),)


def light_rule(stop_gap_m: float = 0.0, hard_stop_decel_mps2: float | None = None) -> LightStopRule:
    """One stop line at 100 m; comfort 3, stop 6, braking limit 9 m/s^2."""
    return LightStopRule(
        (RouteLightStop("tl", "lane", LINE_M),),
        FRONT_M,
        comfort_decel_mps2=3.0,
        stop_decel_mps2=6.0,
        max_decel_mps2=9.0,
        stop_gap_m=stop_gap_m,
        hard_stop_decel_mps2=hard_stop_decel_mps2,
    )


def rear_at(room_m: float) -> float:
    """The rear-axle station leaving ``room_m`` from the front bumper to the line (exact for
    the multiples of 0.5 m used here)."""
    return LINE_M - room_m - FRONT_M


# --- the light rule (traffic_lights.LightStopRule) ---------------------------------------------


def test_yellow_needing_exactly_the_comfortable_deceleration_is_stopped_for() -> None:
    """A yellow is stopped for when ``need <= comfort_decel_mps2`` (inclusive). 6 m/s with
    6 m of room and no gap: need = 36 / (2 * 6) = 3.0 = comfort, so it stops, at 3 m/s^2."""
    decision = light_rule().step(YELLOW, rear_at(6.0), 6.0)
    assert decision == LightDecision(LINE_M, "tl", (), 3.0)


def test_red_needing_exactly_the_stop_deceleration_is_stopped_for() -> None:
    """A red is stopped for when ``need <= stop_decel_mps2`` (inclusive), without the hard
    stop. 12 m/s with 12 m of room: need = 144 / 24 = 6.0 = stop_decel: stop at 6 m/s^2."""
    decision = light_rule().step(RED, rear_at(12.0), 12.0)
    assert decision == LightDecision(LINE_M, "tl", (), 6.0)


def test_a_reversing_ego_counts_as_standing_for_the_light_rule() -> None:
    """The speed is floored at 0 (``v2 = max(v, 0)^2``): reversing at 12 m/s 10 m before a
    red needs 0, so it stops at the comfortable 3 m/s^2. (Squaring -12 m/s would need
    144 / 20 = 7.2 > 6 and carry on through the red.)"""
    decision = light_rule().step(RED, rear_at(10.0), -12.0)
    assert decision == LightDecision(LINE_M, "tl", (), 3.0)


def test_a_fresh_hard_stop_exactly_at_the_limit_is_stopped_for() -> None:
    """The hard stop's bound ``v^2 <= 2 * hard * room`` is inclusive. 9 m/s, 4.5 m of room,
    hard limit 9: the usual stop (2 m gap) needs 81 / (2 * max(2.5, 2.25)) = 16.2 > 6, at the
    line 81 / 9 = 9.0 = limit: stopped for. Its gap ``min(max(4.5 - 81 / 18, 0), 2) = 0`` and
    decel ``81 / (2 * 4.5) = 9``."""
    decision = light_rule(stop_gap_m=2.0, hard_stop_decel_mps2=9.0).step(RED, rear_at(4.5), 9.0)
    assert decision == LightDecision(LINE_M, "tl", (), 9.0, 0.0)


def test_a_hard_stop_keeps_at_most_the_rules_gap_before_the_line() -> None:
    """A hard stop's gap is capped at ``stop_gap_m``. 12 m/s, 12 m of room, gap 2: the usual
    need 144 / 20 = 7.2 > 6; at the line 144 / 24 = 6 <= 9, so the hard stop: braking at 9 it
    rests 144 / 18 = 8 m ahead, leaving 4 m, capped to the 2 m gap; the stop 10 m ahead needs
    144 / 20 = 7.2 m/s^2. (Uncapped: gap 4 m, 8 m ahead, 9 m/s^2.)"""
    decision = light_rule(stop_gap_m=2.0, hard_stop_decel_mps2=9.0).step(RED, rear_at(12.0), 12.0)
    assert decision.station_m == LINE_M and decision.stop_gap_m == 2.0
    assert decision.decel_mps2 == pytest.approx(7.2)


def test_a_held_hard_stop_may_end_up_to_the_tolerance_past_the_line() -> None:
    """A stop decided before holds at a stop state while the front can rest within
    ``FRONT_TOLERANCE_M`` (0.5 m) past the line at the braking limit ``max_decel_mps2`` (9,
    not the hard limit 8 of a fresh stop). Decided at 12 m/s 20 m ahead (need 144 / 36 = 4);
    then 4 m ahead at 9 m/s: 81 > 2 * 9 * 4 = 72 (not at the line), but 81 <= 2 * 9 * (4 +
    0.5) = 81: held, with gap ``max(4 - 81 / 18, 0) = 0``. (Its deceleration, 81 / (2 * 4) =
    10.125 m/s^2 today, is above the 9 m/s^2 limit the docstring says the plan brakes at; not
    pinned here.)"""
    rule = light_rule(stop_gap_m=2.0, hard_stop_decel_mps2=8.0)
    assert rule.step(RED, rear_at(20.0), 12.0).decel_mps2 == pytest.approx(4.0)
    held = rule.step(RED, rear_at(4.0), 9.0)
    assert (held.station_m, held.light_id, held.committed) == (LINE_M, "tl", ())
    assert held.stop_gap_m == 0.0


# --- the light forecast (light_forecast) ---------------------------------------------------------


def forecast_travel(agents: Boxes3D, road: RoadMap) -> dict[int, float]:
    """``light_stop_travel_m`` at red over 8 s: comfort 3, stop 6, limit 6 m/s^2, gap 2 m."""
    return light_stop_travel_m(
        agents, road, RED, 8.0,
        comfort_decel_mps2=3.0, stop_decel_mps2=6.0, max_decel_mps2=6.0, stop_gap_m=2.0,
    )  # fmt: skip


def straight_lane(
    lane_id: str,
    x0_m: float,
    x1_m: float,
    successors: tuple[str, ...] = (),
    predecessors: tuple[str, ...] = (),
) -> Lane:
    """A 3.5 m wide lane along +x on y = 0 from ``x0_m`` to ``x1_m``."""
    x = np.linspace(x0_m, x1_m, 11)
    centre = np.stack([x, np.zeros_like(x)], axis=1)
    half = np.array([0.0, 1.75])
    return Lane(
        lane_id, centre, centre + half, centre - half,
        successors=successors, predecessors=predecessors,
    )  # fmt: skip


def two_lane_chain(light_station_m: float) -> RoadMap:
    """Lane ``a`` (x 0..100) followed by lane ``b`` (x 100..200) whose light ``tl`` stops it
    ``light_station_m`` along ``b``."""
    lanes = (
        straight_lane("a", 0.0, 100.0, successors=("b",)),
        straight_lane("b", 100.0, 200.0, predecessors=("a",)),
    )
    light = TrafficLight("tl", (LaneStop("b", light_station_m),))
    return RoadMap(lanes, traffic_lights=(light,))


def car_at(x_m: float, speed_mps: float, length_m: float = 4.0) -> Boxes3D:
    return Boxes3D.from_array7(
        [[x_m, 0.0, 0.75, length_m, 1.8, 1.5, 0.0]],
        "world",
        label=[int(ObjectClass.CAR)],
        velocity_mps=[[speed_mps, 0.0]],
    )


def test_the_lane_chain_covers_the_agents_front_over_the_horizon() -> None:
    """The chain an agent's lights are looked for on reaches ``station + length / 2 + speed *
    horizon``. A 4 m car centred at x = 91 on lane ``a`` (100 m) at 1 m/s over 8 s needs
    91 + 2 + 8 = 101 m > 100: lane ``b`` joins the chain, and its red 5 m along ``b`` (x =
    105) is stopped for (1 / (2 * 10) m/s^2 needed), the centre travelling 105 - (91 + 2) =
    12 m. (From the centre alone, 99 m: ``b`` is not looked at.)"""
    travel = forecast_travel(car_at(91.0, 1.0), two_lane_chain(5.0))
    assert travel == {0: pytest.approx(12.0)}


def test_a_slow_car_above_the_minimum_speed_is_forecast_to_stop() -> None:
    """``LIGHT_MIN_SPEED_MPS`` is 0.1 m/s: a car creeping at 0.3 m/s towards its red is
    clipped. Its 4 m box centred at x = 88.5 has its front at 90.5, 1.5 m before the line at
    x = 92: need 0.09 / (2 * max(1.5 - 2, 1.5 / 2)) = 0.06 m/s^2, a stop, the centre
    travelling 1.5 m. At 0.3 m/s over 8 s (steps of 0.5 s) it would reach x = 88.5 + 2.4 =
    90.9; clipped it stands at 88.5 + 1.5 = 90.0 with speed 0."""
    road = RoadMap(
        (straight_lane("a", 0.0, 100.0),),
        traffic_lights=(TrafficLight("tl", (LaneStop("a", 92.0),)),),
    )
    agents = car_at(88.5, 0.3)
    travel = forecast_travel(agents, road)
    assert travel == {0: pytest.approx(1.5)}
    xs = 88.5 + 0.3 * 0.5 * np.arange(17)
    boxes = np.zeros((1, 17, 7))
    boxes[0, :, 0] = xs
    boxes[0, :, 3:6] = (4.0, 1.8, 1.5)
    cv = Forecast(0.5, boxes, np.full((1, 17), 0.3))
    out = clip_forecast(cv, travel)
    assert out.boxes[0, -1, 0] == pytest.approx(90.0)
    assert out.speed_mps[0, -1] == 0.0


def line_forecast(yaw_rad: list[float] | None = None) -> Forecast:
    """One agent at x = 0, 1, 2, 3, 4 m (steps of 1 s), speed 1 m/s, headings ``yaw_rad``."""
    boxes = np.zeros((1, 5, 7))
    boxes[0, :, 0] = np.arange(5.0)
    boxes[0, :, 3:6] = (4.0, 1.8, 1.5)
    if yaw_rad is not None:
        boxes[0, :, 6] = yaw_rad
    return Forecast(1.0, boxes, np.ones((1, 5)))


def test_the_clip_starts_at_the_first_step_reaching_the_travel_exactly() -> None:
    """The box stands from the first step whose travel is *at least* the allowed travel: a
    travel of exactly 2 m stops it from step 2 (at x = 2) with speed 0 there; steps 0 and 1
    are unchanged."""
    out = clip_forecast(line_forecast(), {0: 2.0})
    np.testing.assert_array_equal(out.boxes[0, :, 0], [0.0, 1.0, 2.0, 2.0, 2.0])
    np.testing.assert_array_equal(out.speed_mps[0], [1.0, 1.0, 0.0, 0.0, 0.0])


def test_the_clipped_box_keeps_the_heading_of_the_step_before_the_stop() -> None:
    """Stopped between steps 1 and 2 (travel 1.5 m: x = 1.5), the box keeps step 1's heading
    (0.05 rad), the segment it stops on starting there, not step 2's (0.1 rad)."""
    out = clip_forecast(line_forecast([0.0, 0.05, 0.1, 0.15, 0.2]), {0: 1.5})
    np.testing.assert_array_equal(out.boxes[0, 2:, 0], [1.5, 1.5, 1.5])
    np.testing.assert_array_equal(out.boxes[0, :, 6], [0.0, 0.05, 0.05, 0.05, 0.05])


# --- the rollouts (proposals) ------------------------------------------------------------------


def stop_accel(v: float, room_m: float, gap_m: float = 2.0) -> float:
    """``light_stop_accel`` at a 3 m/s^2 stop, gain 1 / s, braking limit 9 m/s^2."""
    return float(light_stop_accel(v, room_m, gap_m, 3.0, LIGHT_STOP_GAIN_PER_S, 9.0))


def test_below_its_curve_the_light_stop_accelerates_at_the_gain_times_the_shortfall() -> None:
    """Below its curve the law converges up onto it, ``LIGHT_STOP_GAIN_PER_S = 1`` / s
    times the shortfall: at 4 m/s, 8 m (6 m to the stop point) ahead, where the curve's speed
    is sqrt(2 * 3 * 6) = 6 m/s: -16 / 12 + 1 * (6 - 4) = 2/3 m/s^2."""
    assert LIGHT_STOP_GAIN_PER_S == 1.0
    assert stop_accel(4.0, 8.0) == pytest.approx(-16.0 / 12.0 + 2.0)


def test_the_light_stop_law_by_hand() -> None:
    """``-v^2 / (2 D) + k (sqrt(2 b d) - v)``, ``d = room - gap``, ``D = max(d, room / 2)``:
    on the curve (6 m/s, 8 m of room, d = 6: sqrt(36) = 6) exactly -b = -3; within twice the
    gap (3 m/s, 3 m of room, d = 1, D = 1.5): -9 / 3 + (sqrt(6) - 3) = -3.551; the stop point
    behind (room 1 m, d = -1, D = 0.5, no curve): standing 0, at 1 m/s -1 / 1 - 1 = -2."""
    assert stop_accel(6.0, 8.0) == pytest.approx(-3.0, abs=1e-12)
    assert stop_accel(3.0, 3.0) == pytest.approx(-3.0 + math.sqrt(6.0) - 3.0)
    assert stop_accel(0.0, 1.0) == 0.0
    assert stop_accel(1.0, 1.0) == pytest.approx(-2.0)


def test_past_the_light_stop_line_a_moving_plan_brakes_at_the_limit_a_standing_one_stays() -> None:
    """With no room left (the front at or past the line): ``-max_decel`` while moving, 0
    standing (a standing plan does not brake further, nor creep on)."""
    assert stop_accel(5.0, 0.0) == -9.0
    assert stop_accel(5.0, -1.0) == -9.0
    assert stop_accel(0.0, 0.0) == 0.0
    assert stop_accel(0.0, -1.0) == 0.0


def car_ahead_of_ego(gap_m: float, speed_mps: float) -> Boxes3D:
    """A 4.5 m car ``gap_m`` ahead of the front bumper of an ego at x = 0 on road_0."""
    x = VehicleParams().front_offset_m + gap_m + 2.25
    return Boxes3D.from_array7(
        [[x, 1.75, 0.75, 4.5, 1.8, 1.5, 0.0]],
        "world",
        label=[int(ObjectClass.CAR)],
        velocity_mps=[[speed_mps, 0.0]],
    )


def idm_plan_speed(agents: Boxes3D) -> np.ndarray:
    planner = IDMPlanner(straight_road(n_lanes=1, speed_limit_mps=13.89), ["road_0"])
    ego = EgoState(0, 0.0, 1.75, 0.0, speed_mps=0.0)
    return planner.step(Observation(0, ego, agents, ("a",))).speed_mps


def test_a_standing_plan_moves_off_behind_a_leader_creeping_faster_than_standing() -> None:
    """A leader counts as standing only up to ``STANDING_LEADER_SPEED_MPS`` = 0.05 m/s. The
    ego stands 2.5 m behind a car moving off at 0.1 m/s (within the 2 + 1 m move-off room):
    not standing, so IDM's 1.5 * (1 - (2 / 2.5)^2) = 0.54 m/s^2 from rest applies and the
    plan moves off at once (within the first second), not after the 5 s the car needs to
    open the gap to 3 m."""
    speed = idm_plan_speed(car_ahead_of_ego(2.5, 0.1))
    assert speed[10] > 0.0


def test_a_speed_drop_to_the_speed_already_driven_asks_for_nothing() -> None:
    """Only a drop to a limit *below* the speed brakes (``inf`` otherwise). At 8 m/s a drop to
    8 m/s 20 m ahead lies within the reach (8 + sqrt(1.5 * 8 / 2))^2 / 3 = 36.4 m, yet asks
    nothing: inf (its law would give 0 + (sqrt(64 + 60) - 8) = +3.14, capping the
    acceleration). A drop to 7.5 m/s there is read: its law gives -(64 - 56.25) / 40 +
    (sqrt(56.25 + 60) - 8) = 2.59 m/s^2 (below the curve: no braking yet)."""
    station, drop = np.array([100.0]), np.array([8.0])
    assert speed_drop_accel(8.0, 80.0, station, drop, 1.5, 3.0, 1.0) == math.inf
    lower = speed_drop_accel(8.0, 80.0, station, np.array([7.5]), 1.5, 3.0, 1.0)
    assert lower == pytest.approx(-(64.0 - 56.25) / 40.0 + math.sqrt(116.25) - 8.0)


STEPS = 10  # rollout steps of 0.1 s in the rollouts below


def straight_rollout(
    station_m: np.ndarray | None = None, *, stop_station_m: float | None = None
) -> Rollout:
    """One proposal (offset 0, full speed) from a standing ego with its rear axle at x = 10 on
    road_0 of ``straight_road`` (the path's station 110 m: its lanes start at x = -100), among
    the standing 4.5 m x 1.8 m agents at ``station_m`` on the path's centreline."""
    road = straight_road(n_lanes=1, speed_limit_mps=13.89)
    path = ReferencePath.from_route(road, ["road_0"])
    stations = np.zeros(0) if station_m is None else np.asarray(station_m, dtype=float)
    n = len(stations)
    agents = PathAgents(
        np.repeat(stations[:, None], STEPS + 1, axis=1),
        np.zeros((n, STEPS + 1)),
        np.zeros((n, STEPS + 1)),
        np.full(n, 2.25),
        np.full(n, 0.9),
    )
    start = BicycleState.of(10.0, 1.75, 0.0, 0.0)
    return rollout(
        start, path, cKDTree(path.xy_m), np.zeros(1), np.ones(1), np.full(len(path.xy_m), 10.0),
        agents, STEPS, 0.1, VehicleParams(), IDMParams(), stop_station_m,
        start_station_m=110.0,
    )  # fmt: skip


def test_an_agent_whose_front_is_past_the_egos_rear_is_a_leader_at_gap_zero() -> None:
    """An agent counts as behind the ego (no leader) only when its *front* (station + half
    length) is at or behind the ego's rear (rear axle - 1.03 m rear overhang = 108.97). Centred
    at 108.5, its front at 110.75 overlaps the ego: a leader at gap max(108.5 - 2.25 - (110 +
    4.15), 0) = 0. Centred at 106.5 (front 108.75 <= 108.97): behind, no leader (gap inf)."""
    assert straight_rollout(np.array([108.5])).gap_m[0, 0] == 0.0
    assert straight_rollout(np.array([106.5])).gap_m[0, 0] == math.inf


def test_a_stop_behind_the_egos_front_is_a_leader_at_gap_zero() -> None:
    """The stop station's gap is clamped at 0: a stop 1 m behind the rear axle (109 m, as
    PDM's emergency braking sets it) is ``max(109 - (110 + 4.15), 0) = 0`` ahead."""
    assert straight_rollout(stop_station_m=109.0).gap_m[0, 0] == 0.0


# --- the planners (pdm) -------------------------------------------------------------------------


def test_a_light_line_beyond_the_route_ends_stop_leaves_the_plans_as_without_lights() -> None:
    """A light's line is the rollouts' stop only when it comes before the route end's stop
    (the path's 600 m less ``stop_margin_m`` 2 m = 598 m). A red at 599.5 m (x = 499.5), the
    ego at 10 m/s at x = 400: the decision names the light, but every proposal is, value for
    value, as on the same road without the light (its slower proposals keep their speed
    fractions, which a light stop would lift)."""
    road = straight_road(n_lanes=1, speed_limit_mps=13.89)
    lit = dataclasses.replace(
        road, traffic_lights=(TrafficLight("tl", (LaneStop("road_0", 599.5),)),)
    )
    ego = EgoState(0, 400.0, 1.75, 0.0, speed_mps=10.0)
    none = Boxes3D.from_array7(np.zeros((0, 7)), "world")
    plain = PDMPlanner(road, ["road_0"])
    plain_plan = plain.step(Observation(0, ego, none, ()))
    planner = PDMPlanner(lit, ["road_0"])
    plan = planner.step(Observation(0, ego, none, (), (("tl", "red"),)))
    assert planner.debug is not None and plain.debug is not None
    assert planner.debug.light_stop == "tl"
    assert planner.debug.scores is not None and plain.debug.scores is not None
    np.testing.assert_array_equal(planner.debug.scores.total, plain.debug.scores.total)
    np.testing.assert_array_equal(plan.speed_mps, plain_plan.speed_mps)


def red_light_road() -> RoadMap:
    """``straight_road`` (one lane) with light ``tl`` stopping road_0 at x = 100 m."""
    road = straight_road(n_lanes=1, speed_limit_mps=13.89)
    return dataclasses.replace(
        road, traffic_lights=(TrafficLight("tl", (LaneStop("road_0", 200.0),)),)
    )


@pytest.mark.parametrize("planner_cls", [PDMPlanner, IDMPlanner])
def test_the_hard_red_stop_is_limited_by_the_vehicles_braking(
    planner_cls: type[PDMPlanner] | type[IDMPlanner],
) -> None:
    """The hard red stop's limit is ``max(light_stop_decel, min(braking limit, the vehicle's
    max_decel))``: for a vehicle braking at most 7 m/s^2, max(6, min(9, 7)) = 7. At 12 m/s
    with the front 9 m before the line the stop at the line needs 144 / 18 = 8 > 7 (the
    usual one 144 / 14 = 10.3 > 6): driven through, committed. (At the planners' 9 it would
    be stopped for.)"""
    vehicle = VehicleParams(max_decel_mps2=7.0)
    planner = planner_cls(red_light_road(), ["road_0"], vehicle)
    ego = EgoState(0, 100.0 - 9.0 - vehicle.front_offset_m, 1.75, 0.0, speed_mps=12.0)
    none = Boxes3D.from_array7(np.zeros((0, 7)), "world")
    planner.step(Observation(0, ego, none, (), RED))
    assert planner.debug is not None
    assert (planner.debug.light_stop, planner.debug.lights_committed) == (None, ("tl",))


def test_a_red_stop_deceleration_above_the_idm_braking_limit_raises_the_holding_limit() -> None:
    """The rule's braking limit (up to which a stop decided holds) is ``max(light_stop_decel,
    idm.max_decel)``: with ``light_stop_decel_mps2 = 9.5`` above IDM's 9 it is 9.5, and the
    planner builds (its rule needs stop <= braking limit), its hard limit max(9.5, min(9.5,
    10)) = 9.5. A red 12 m ahead at 15 m/s: the usual stop (gap 2) needs 225 / 20 = 11.25 >
    9.5, the line itself 225 / 24 = 9.375 <= 9.5: stopped for."""
    params = PDMParams(light_stop_decel_mps2=9.5, idm=ACCParams(max_decel_mps2=9.0))
    vehicle = VehicleParams(max_decel_mps2=10.0)
    planner = PDMPlanner(red_light_road(), ["road_0"], vehicle, params)
    ego = EgoState(0, 100.0 - 12.0 - vehicle.front_offset_m, 1.75, 0.0, speed_mps=15.0)
    none = Boxes3D.from_array7(np.zeros((0, 7)), "world")
    planner.step(Observation(0, ego, none, (), RED))
    assert planner.debug is not None and planner.debug.light_stop == "tl"


def test_pdms_emergency_stop_near_the_centreline_brakes_along_the_centreline() -> None:
    """PDM's emergency stop follows the route shifted to the ego's lateral offset only from
    ``OWN_LANE_MIN_OFFSET_M`` = 0.5 m; nearer, along the centreline itself. The ego 0.3 m left
    of road_0's centreline (y = 2.05) at 15 m/s with a standing car 1 m ahead (every proposal
    collides): the braking plan steers right, towards y = 1.75 (first curvature < 0, and it
    ends more than a third of the 0.3 m nearer the centreline), rather than staying at 2.05."""
    car = Boxes3D.from_array7(
        [[7.4, 1.75, 0.75, 4.5, 1.8, 1.5, 0.0]],
        "world",
        label=[int(ObjectClass.CAR)],
        velocity_mps=[[0.0, 0.0]],
    )
    planner = PDMPlanner(straight_road(n_lanes=1), ["road_0"])
    plan = planner.step(Observation(0, EgoState(0, 0.0, 2.05, 0.0, speed_mps=15.0), car, ("a",)))
    assert planner.debug is not None and planner.debug.stop_reason == "every proposal collides"
    assert plan.curvature_1pm[1] < 0.0
    assert plan.y_m[-1] < 2.05 - 0.1
