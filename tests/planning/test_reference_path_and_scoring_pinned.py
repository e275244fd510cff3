"""Rules of the reference path, the proposal scoring, the light and stop-sign rules and the
light forecast that a mutation review found unguarded, each pinned with a hand-derived value.

Reference paths are mostly built directly from their arrays (points every 1 m along +x), so
that the curvature, the limits and the stations are exactly the ones the rule reads."""

from __future__ import annotations

import math

import numpy as np
import pytest

from drivestack.ingest.maps.synthetic import four_way_intersection, straight_road
from drivestack.planning.light_forecast import chain_light_stops, lane_chain
from drivestack.planning.proposals import Rollout
from drivestack.planning.reference_path import ReferencePath, _route_speed_limits
from drivestack.planning.scoring import (
    STOPPED_SPEED_MPS,
    TTC_THRESHOLD_S,
    at_fault_collisions,
    comfort_signals_nearest,
    score_rollouts,
    stays_on_drivable_area,
)
from drivestack.planning.stop_signs import ArrivalOrder, SignLine, on_lane, route_sign_stops
from drivestack.planning.traffic_lights import lane_half_width_m
from drivestack.prediction.forecast import constant_velocity_forecast
from drivestack.sim.vehicle import VehicleParams
from drivestack.structures.boxes import Boxes3D
from drivestack.structures.road_map import Lane, RoadMap
from drivestack.structures.traffic_light import LaneStop, TrafficLight


def straight_path(
    curvature_1pm: list[float] | None = None, limits_mps: list[float] | None = None, n: int = 10
) -> ReferencePath:
    """``n`` points at x = 0, 1, ... (stations the same), heading 0, with the given per-point
    curvature (0) and limits (100 m/s)."""
    x = np.arange(float(n))
    xy = np.stack([x, np.zeros(n)], axis=1)
    curv = np.zeros(n) if curvature_1pm is None else np.asarray(curvature_1pm, np.float64)
    limit = np.full(n, 100.0) if limits_mps is None else np.asarray(limits_mps, np.float64)
    return ReferencePath(xy, x.copy(), np.zeros(n), curv, limit)


# --- the reference path (reference_path) -----------------------------------------------------


def test_a_zero_per_point_speed_limit_is_refused() -> None:
    """Per-point limits must be finite and > 0: a limit of 0 m/s at one row is a
    ``ValueError`` naming ``speed_limit_mps`` (as a single limit of 0 is)."""
    with pytest.raises(ValueError, match="speed_limit_mps"):
        ReferencePath.from_polyline([[0.0, 0.0], [5.0, 0.0], [10.0, 0.0]], [10.0, 0.0, 10.0])


def test_per_row_limits_are_spread_evenly_from_the_start_to_the_end_of_the_path() -> None:
    """Three rows' limits 10, 20, 30 m/s on a 10 m line resampled at 1 m (11 points) sit at
    stations 0, 5 and 10 m and are interpolated between: 10 + 2 s at station s."""
    path = ReferencePath.from_polyline([[0.0, 0.0], [5.0, 0.0], [10.0, 0.0]], [10.0, 20.0, 30.0])
    np.testing.assert_allclose(path.station_m, np.arange(11.0))
    np.testing.assert_allclose(path.speed_limit_mps, 10.0 + 2.0 * np.arange(11.0))


def test_a_route_point_on_no_route_lane_takes_the_first_lanes_limit() -> None:
    """A point near no route lane (x = 300: lane ``b`` ends at 200, beyond the 25 m search)
    gets the first route lane's limit, 10 m/s, not the last one's (20 m/s); points on ``a``
    and ``b`` get their own lane's."""
    x = np.linspace(0.0, 100.0, 11)
    centre = np.stack([x, np.zeros(11)], axis=1)
    half = np.array([0.0, 1.75])
    a = Lane("a", centre, centre + half, centre - half, speed_limit_mps=10.0, successors=("b",))
    cb = centre + np.array([100.0, 0.0])
    b = Lane("b", cb, cb + half, cb - half, speed_limit_mps=20.0, predecessors=("a",))
    road = RoadMap((a, b))
    limits = _route_speed_limits(
        road, ["a", "b"], np.array([[50.0, 0.0], [150.0, 0.0], [300.0, 0.0]])
    )
    np.testing.assert_array_equal(limits, [10.0, 20.0, 10.0])


def test_pose_at_an_exact_vertex_takes_the_heading_of_the_segment_starting_there() -> None:
    """On the L (0, 0) -> (2, 0) -> (2, 2) resampled at 1 m, station 2 is the corner point
    (2, 0): the pose there is the corner, heading pi / 2 (the segment leaving it), not 0."""
    path = ReferencePath.from_polyline([[0.0, 0.0], [2.0, 0.0], [2.0, 2.0]], 10.0)
    xy, yaw = path.pose_at(np.array([2.0]))
    np.testing.assert_allclose(xy, [[2.0, 0.0]], atol=1e-12)
    assert yaw[0] == pytest.approx(math.pi / 2)


def test_speed_profile_default_brakes_at_1_5_mps2() -> None:
    """Limits 10 m/s except 1 m/s at the last point (x = 9): by default braking at 1.5 m/s^2,
    ``v_8 = sqrt(1 + 2 * 1.5 * 1) = 2`` and ``v_7 = sqrt(1 + 2 * 1.5 * 2) = sqrt(7)``."""
    path = straight_path(limits_mps=[10.0] * 9 + [1.0])
    v = path.speed_profile()
    assert v[9] == 1.0
    assert v[8] == pytest.approx(2.0)
    assert v[7] == pytest.approx(math.sqrt(7.0))


def test_speed_limits_default_lateral_acceleration_is_2_5_mps2() -> None:
    """Curvature 0.1 / m everywhere: in the middle the 5-point average is 0.1, so the bend
    limit is ``sqrt(2.5 / 0.1) = 5`` m/s; at the first point the average has two zeros past
    the end, ``0.3 / 5 = 0.06``: ``sqrt(2.5 / 0.06)``."""
    v = straight_path(curvature_1pm=[0.1] * 10).speed_limits()
    assert v[5] == pytest.approx(5.0)
    assert v[0] == pytest.approx(math.sqrt(2.5 / 0.06))


def test_smoothed_curvature_puts_each_turn_at_the_point_after_its_segment() -> None:
    """``curvature_1pm[3] = 1`` is the turn between segments 3 and 4, at point 4; averaged
    over 5 points centred on each it is 0.2 at points 2..6 and 0 elsewhere."""
    curv = [0.0] * 10
    curv[3] = 1.0
    smoothed = straight_path(curvature_1pm=curv).smoothed_curvature_1pm
    np.testing.assert_allclose(smoothed, [0, 0, 0.2, 0.2, 0.2, 0.2, 0.2, 0, 0, 0], atol=1e-12)


# --- the proposal scoring (scoring) ----------------------------------------------------------

DT = 0.1
N = 10
ROAD = straight_road(speed_limit_mps=20.0)  # lanes y 0..3.5 and 3.5..7, x -100..500
ROAD_PATH = ReferencePath.from_route(ROAD, ["road_0"])


def score(speeds_mps: list[float], gap_m: float = math.inf, closing_mps: float = 0.0):
    """Score proposals driving along lane 0 (y = 1.75) at constant speeds ``speeds_mps`` (one
    per proposal) for N = 10 steps of 0.1 s, a leader at ``gap_m`` closing at ``closing_mps``
    at every step; no agents."""
    speeds = np.repeat(np.asarray(speeds_mps, np.float64)[:, None], N + 1, axis=1)
    p = speeds.shape[0]
    x = speeds * DT * np.arange(N + 1)
    states = np.zeros((p, N + 1, 6))
    states[..., 0], states[..., 1], states[..., 3] = x, 1.75, speeds
    s0 = float(ROAD_PATH.project(np.array([[0.0, 1.75]]))[0][0])
    rollout = Rollout(states, s0 + x, np.full((p, N + 1), gap_m), np.full((p, N + 1), closing_mps))
    forecast = constant_velocity_forecast(Boxes3D.empty("world"), N * DT, DT)
    return score_rollouts(rollout, forecast, ROAD_PATH, ROAD, VehicleParams(), DT, N)


def test_progress_is_relative_once_the_best_proposal_makes_more_than_half_a_metre() -> None:
    """The floor is 0.5 m: best progress 0.8 m (0.8 m/s for 1 s) is above it, so a proposal
    making 0.4 m scores 0.4 / 0.8 = 0.5."""
    np.testing.assert_allclose(score([0.8, 0.4]).progress, [1.0, 0.5])


def test_ttc_exactly_at_the_threshold_passes() -> None:
    """The TTC part passes for ``min ttc >= 0.95 s``: a leader 0.95 m ahead closing at 1 m/s
    (ttc 0.95 / 1 = 0.95 s exactly) passes."""
    assert TTC_THRESHOLD_S == 0.95
    np.testing.assert_array_equal(score([5.0], gap_m=0.95, closing_mps=1.0).ttc, [1.0])


def test_ttc_is_not_counted_at_exactly_the_stopped_speed() -> None:
    """TTC counts only while the ego moves faster than ``STOPPED_SPEED_MPS`` (0.05 m/s): at
    exactly 0.05 m/s a leader 0.1 m ahead closing at 1 m/s (ttc 0.1 s) does not fail it."""
    assert STOPPED_SPEED_MPS == 0.05
    np.testing.assert_array_equal(score([0.05], gap_m=0.1, closing_mps=1.0).ttc, [1.0])


def _box(x: float, y: float, length: float = 4.0, width: float = 2.0) -> list[float]:
    return [x, y, 0.75, length, width, 1.5, 0.0]


def test_an_overlap_at_exactly_the_stopped_speed_is_no_at_fault_collision() -> None:
    """A collision counts only while the ego moves faster than 0.05 m/s: an agent overlapping
    the ego's front (centre 3 m ahead, 4 m boxes) at exactly 0.05 m/s is no hit; at 0.06 it
    is."""
    ego = np.array([[_box(0.0, 0.0)]])
    agent = np.array([[_box(3.0, 0.0)]])
    assert not at_fault_collisions(ego, np.array([[0.05]]), agent)[0]
    assert at_fault_collisions(ego, np.array([[0.06]]), agent)[0]


def test_a_collision_beside_a_wide_short_box_is_found() -> None:
    """Boxes 2 m long and 4 m wide side by side, centres 3.9 m apart sideways, overlap by
    0.1 m: a hit (bearing 90 degrees, not behind). The prefilter's covering circles (radius
    ``hypot(l / 4, w / 2) = hypot(0.5, 2) = 2.06`` m each, 4.12 > 3.9) must not drop it."""
    ego = np.array([[_box(0.0, 0.0, 2.0, 4.0)]])
    agent = np.array([[_box(0.0, 3.9, 2.0, 4.0)]])
    assert at_fault_collisions(ego, np.array([[1.0]]), agent)[0]


def test_the_drivable_check_looks_at_the_first_step() -> None:
    """Every ``every``-th step from k = 0 is checked: a footprint 2 m off the road (centre y =
    -2, corners 3 m outside) only at k = 0 fails the check; steps 1..10 are on lane 0."""
    boxes = np.array([[_box(10.0 + k, 1.75) for k in range(N + 1)]])
    boxes[0, 0, 1] = -2.0
    assert not stays_on_drivable_area(boxes, ROAD, 5)[0]
    boxes[0, 0, 1] = 1.75
    assert stays_on_drivable_area(boxes, ROAD, 5)[0]


# --- the light rule (traffic_lights) ---------------------------------------------------------


def test_a_lanes_half_width_is_the_distance_to_its_nearer_boundary() -> None:
    """A lane whose left boundary is 1 m and right boundary 3 m from its centreline is 1 m
    wide on each side for the stop-line check (the nearer boundary), not 3 m."""
    x = np.linspace(0.0, 100.0, 11)
    centre = np.stack([x, np.zeros(11)], axis=1)
    lane = Lane("a", centre, centre + np.array([0.0, 1.0]), centre - np.array([0.0, 3.0]))
    np.testing.assert_allclose(lane_half_width_m(lane, np.array([[50.0, 0.0]])), [1.0])


# --- the light forecast's lane chain (light_forecast) ----------------------------------------


def _lane(lane_id: str, x0: float, successors: tuple[str, ...] = ()) -> Lane:
    """A 100 m lane along +x on y = 0 from ``x0``, 3.5 m wide."""
    x = np.linspace(x0, x0 + 100.0, 11)
    centre = np.stack([x, np.zeros(11)], axis=1)
    return Lane(
        lane_id,
        centre,
        centre + np.array([0.0, 1.75]),
        centre - np.array([0.0, 1.75]),
        successors=successors,
    )


def test_the_lane_chain_stops_once_its_length_reaches_the_need_exactly() -> None:
    """The chain grows while its length is *below* the need: lane ``a`` alone covers a need of
    exactly its own length (100 m), so ``b`` is not added; a need 1 m longer adds it."""
    road = RoadMap((_lane("a", 0.0, ("b",)), _lane("b", 100.0)))
    a = road.lane("a")
    assert lane_chain(road, a, a.length_m) == ("a",)
    assert lane_chain(road, a, a.length_m + 1.0) == ("a", "b")


def test_the_lane_chain_ends_where_single_successors_loop_back() -> None:
    """``a -> b -> a``: a need of 1 km is never reached; the chain stops before taking ``a``
    again, ``("a", "b")``, not 32 lanes going round."""
    road = RoadMap((_lane("a", 0.0, ("b",)), _lane("b", 100.0, ("a",))))
    assert lane_chain(road, road.lane("a"), 1000.0) == ("a", "b")


def test_the_lane_chain_follows_more_than_a_few_lanes() -> None:
    """Five 100 m lanes in a row and a need of 450 m: the chain takes all five (up to
    ``MAX_CHAIN_LANES`` = 32 lanes)."""
    ids = ("a", "b", "c", "d", "e")
    road = RoadMap(tuple(_lane(k, 100.0 * i, ids[i + 1 : i + 2]) for i, k in enumerate(ids)))
    assert lane_chain(road, road.lane("a"), 450.0) == ids


def test_an_arrow_on_the_chains_last_lane_before_a_fork_is_not_counted() -> None:
    """Lane ``a`` forks into ``b`` and ``c``; its light stops it only for the way into ``b``
    (an arrow). On a chain ending on ``a`` the agent's way on is unknown: the stop counts
    only for a light governing every way out, so there is none."""
    road = RoadMap(
        (_lane("a", 0.0, ("b", "c")), _lane("b", 100.0), _lane("c", 100.0)),
        traffic_lights=(TrafficLight("tl", (LaneStop("a", 90.0, ("b",)),)),),
    )
    assert chain_light_stops(road, ("a",)) == ()


def test_comfort_yaw_rate_uses_a_15_sample_window_padded_with_the_end_values() -> None:
    """Yaw ``0.1 k`` rad at steps k = 0..20 of 0.1 s (1 rad/s). The quadratic Savitzky-Golay
    first derivative over a symmetric window is the least-squares slope ``sum j y_j / sum
    j^2`` (j = -7..7, ``sum j^2 = 280``), the ends padded with the end value ("nearest"): at
    k = 0 the window holds 0 for j <= 0 and 0.1 j above, ``0.1 * 140 / 280 / 0.1 s = 0.5``
    rad/s; at k = 1, 0 for j < -1 and 0.1 (1 + j) above, ``0.1 * (27 + 141) / 280 / 0.1 s =
    0.6`` rad/s; 1 rad/s in the middle. (An 11-sample window gives 0.636 at k = 1.)"""
    t = 21
    yaw = 0.1 * np.arange(t)[None]
    signals = comfort_signals_nearest(np.ones((1, t)), yaw, np.zeros((1, t)), 0.1)
    np.testing.assert_allclose(signals.yaw_rate_radps[0, [0, 1, 10]], [0.5, 0.6, 1.0])


# --- stop signs (stop_signs) -----------------------------------------------------------------


def test_an_actor_is_on_a_lane_with_its_heading_up_to_60_degrees_off() -> None:
    """``MAX_HEADING_ERROR_RAD`` is 60 degrees: two actors centred on a lane along +x, heading
    50 and 70 degrees off it: the first is on it, the second is not (crossing it)."""
    lane = _lane("a", 0.0)
    xy = np.array([[50.0, 0.0], [50.0, 0.0]])
    on, station = on_lane(lane, xy, np.radians([50.0, 70.0]))
    np.testing.assert_array_equal(on, [True, False])
    np.testing.assert_allclose(station, [50.0, 50.0])


def test_all_way_arrival_counts_a_front_up_to_the_tolerance_past_the_line() -> None:
    """An actor standing with its front up to ``FRONT_TOLERANCE_M`` (0.5 m) past an all-way
    line has come to a stop at it. The west line of the synthetic junction is at x = -14 on
    y = -1.75: a 4.5 m car centred at x = -15.95 has its front at -13.7, 0.3 m past the
    line: recorded at the west line (index 3) since t = 0; centred at x = -15.55 (front
    0.7 m past) it is not."""
    road = four_way_intersection(stop_sign_arms=4)
    lanes = ["south_in", "south_to_north", "north_out"]
    (stop,) = route_sign_stops(road, lanes, ReferencePath.from_route(road, lanes))
    assert stop.lines[3].lane_id == "west_in"
    for x_m, want in ((-15.95, (3, 0)), (-15.55, None)):
        order = ArrivalOrder(stop.lines)
        order.observe(["w"], np.array([[x_m, -1.75]]), np.zeros(1), np.zeros(1), np.array([4.5]), 0)
        assert order.arrival("w") == want, x_m


def test_an_actor_on_both_the_line_lane_and_a_lane_leading_in_is_measured_on_the_line_lane() -> (
    None
):
    """Lane ``pre`` (x -98..2) overlaps lane ``in`` (x 0..100) by 2 m; the all-way line is 5 m
    along ``in``. A 4 m car standing centred at x = 1 lies on both: measured along ``in``
    (station 1) its front is at 3, 2 m before the line, within the 3 m window: recorded.
    (Measured along ``pre``, 99 - 100 = -1, its front would be 4 m before the line.)"""
    pre = _lane("pre", -98.0, ("in",))
    lane_in = _lane("in", 0.0)
    line = SignLine("s", lane_in, "in", 5.0, (5.0, 0.0), exit_m=50.0, before=(pre,))
    order = ArrivalOrder((line,))
    order.observe(["c"], np.array([[1.0, 0.0]]), np.zeros(1), np.zeros(1), np.array([4.0]), 7)
    assert order.arrival("c") == (0, 7)


def test_a_corner_exactly_the_tolerance_outside_the_road_is_still_on_it() -> None:
    """Corners may lie up to ``DRIVABLE_TOLERANCE_M`` (0.3 m) outside the drivable area,
    included: a 1 m wide box centred at y = 0.2 has its right corners at y = 0.2 - 0.5 =
    -0.3, 0.3 m outside the road's edge y = 0 (exact in binary here): on the road; centred at
    y = 0.19 (0.31 m outside) it is not."""
    boxes = np.array([[_box(10.0, 0.2, 4.0, 1.0)]])
    assert stays_on_drivable_area(boxes, ROAD, 5)[0]
    boxes[0, 0, 1] = 0.19
    assert not stays_on_drivable_area(boxes, ROAD, 5)[0]
