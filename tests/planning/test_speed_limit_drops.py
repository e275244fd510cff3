"""A lower speed limit ahead: both planners are down to it when the front bumper enters the
slower lane, having braked at the profile's comfortable deceleration (IDM alone lagged its
falling desired speed and entered an 8.33 m/s lane at 11.4 m/s), and nuPlan's speed-limit
compliance agrees; the look-ahead's pieces by hand and as properties."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from drivestack.eval.driving.nuplan import nuplan_score
from drivestack.planning.control import TrajectoryTracker
from drivestack.planning.idm import ACCParams
from drivestack.planning.pdm import IDMPlanner, PDMParams, PDMPlanner
from drivestack.planning.proposals import LIGHT_STOP_GAIN_PER_S, SpeedDrops, speed_drop_accel
from drivestack.planning.reference_path import ReferencePath
from drivestack.sim.runner import run_closed_loop
from drivestack.sim.vehicle import BicycleState, VehicleParams
from drivestack.sim.world import World
from drivestack.structures.road_map import Lane, RoadMap

FAST_MPS, SLOW_MPS = 20.0, 8.33
DROP_X_M = 200.0  # where the fast lane ends and the slow one begins
LANE_Y_M = 1.75


def _lane(lane_id: str, x0: float, x1: float, limit: float, **links: tuple[str, ...]) -> Lane:
    x = np.linspace(x0, x1, 31)
    centre = np.stack([x, np.full(31, LANE_Y_M)], axis=1)
    half = np.array([0.0, 1.75])
    return Lane(lane_id, centre, centre + half, centre - half, limit, **links)


def drop_road() -> RoadMap:
    """A fast lane (x -100 .. 200 m, 20 m/s) followed by a slow one (200 .. 500 m, 8.33 m/s)."""
    return RoadMap(
        (
            _lane("fast", -100.0, DROP_X_M, FAST_MPS, successors=("slow",)),
            _lane("slow", DROP_X_M, 500.0, SLOW_MPS, predecessors=("fast",)),
        )
    )


@pytest.mark.parametrize("planner_cls", [PDMPlanner, IDMPlanner])
def test_both_planners_enter_the_slower_lane_at_its_limit(
    planner_cls: type[PDMPlanner] | type[IDMPlanner],
) -> None:
    road = drop_road()
    planner = planner_cls(road, ["fast", "slow"])
    vehicle = planner.vehicle
    world = World(road, BicycleState.of(0.0, LANE_Y_M, 0.0, FAST_MPS), [])
    h = run_closed_loop(world, planner, TrajectoryTracker(vehicle=vehicle), 200)
    front_x = h.ego_x_m + vehicle.front_offset_m
    entered = int(np.argmax(front_x >= DROP_X_M))
    assert 0 < entered < len(h) - 1
    # from the first tick with the front in the slow lane on: at most the limit (before:
    # 11.4 m/s for IDM, 10.6 m/s for PDM); the tick before, the front at most one tick's
    # travel (0.84 m) short of it
    assert np.max(h.ego_speed_mps[entered:]) <= SLOW_MPS
    assert h.ego_speed_mps[entered - 1] <= SLOW_MPS + 0.1
    # ... and not much below it: it slows for the drop, no earlier than it needs to
    assert h.ego_speed_mps[entered] > SLOW_MPS - 0.3
    # braking at about the profile's 1.5 m/s^2, starting far enough ahead (20 -> 8.33 m/s at
    # 1.5 m/s^2 takes 7.8 s, 110 m)
    decel = planner.params.speed_limit_decel_mps2
    assert np.min(h.ego_accel_mps2) >= -(decel + 0.05)
    braking = np.flatnonzero(h.ego_accel_mps2 < -0.1)
    assert DROP_X_M - front_x[braking[0]] > (FAST_MPS**2 - SLOW_MPS**2) / (2 * decel)
    # nuPlan's speed-limit compliance reads the limit at the rear axle's station: no overspeed
    metrics = nuplan_score(h, road, planner.reference, expert_progress_m=200.0)
    assert metrics.speed_limit_compliance == 1.0


def test_lane_limits_ahead_by_hand() -> None:
    # points every 1 m along x from 0 to 20 m; the limit drops from 20 to 8 m/s at x = 11 m
    xy = np.stack([np.arange(21.0), np.zeros(21)], axis=1)
    limits = np.where(np.arange(21) >= 11, 8.0, 20.0)
    path = ReferencePath.from_polyline(xy, limits)
    np.testing.assert_array_equal(path.lane_limits_ahead(0.0), limits)
    # a front 4.15 m ahead: the window of point i ends at the first point at or past
    # i + 4.15 m, i + 5, which is slow for i >= 6
    ahead = path.lane_limits_ahead(4.15)
    np.testing.assert_array_equal(ahead, np.where(np.arange(21) >= 6, 8.0, 20.0))
    # exactly 4 m ahead: the window ends at i + 4 (slow for i >= 7)
    np.testing.assert_array_equal(
        path.lane_limits_ahead(4.0), np.where(np.arange(21) >= 7, 8.0, 20.0)
    )
    with pytest.raises(ValueError, match="ahead_m"):
        path.lane_limits_ahead(-1.0)


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(3, 40), st.floats(2.0, 35.0)), min_size=1, max_size=6
    ),  # (lane length in points, limit)
    st.floats(0.0, 6.0),
    st.floats(0.5, 3.0),
)
def test_the_profile_keeps_every_limit_ahead_in_reach(
    lanes: list[tuple[int, float]], ahead_m: float, decel: float
) -> None:
    limits = np.concatenate([np.full(n, v) for n, v in lanes])
    xy = np.stack([np.arange(float(len(limits))), np.zeros(len(limits))], axis=1)
    if len(xy) < 2:
        return
    path = ReferencePath.from_polyline(xy, limits)
    profile = path.speed_profile(decel_mps2=decel, ahead_m=ahead_m)
    lane = path.lane_limits_ahead(ahead_m)
    assert np.all(profile <= lane + 1e-12)
    # v_i^2 <= v_lim_j^2 + 2 b (s_j - s_i) for every limit j ahead (i <= j)
    s = path.station_m
    reach = lane[None, :] ** 2 + 2.0 * decel * (s[None, :] - s[:, None])
    ahead = s[None, :] >= s[:, None]
    assert np.all(profile[:, None] ** 2 <= np.where(ahead, reach, np.inf) * (1 + 1e-12))
    # a slower limit within ahead_m of a point holds there already
    for i in range(len(s)):
        window = (s >= s[i]) & (s <= s[i] + ahead_m)
        assert lane[i] <= float(np.min(limits[window]))


def test_speed_drops_along_a_path() -> None:
    station = np.arange(8.0)
    limit = np.array([20.0, 20.0, 12.0, 12.0, 15.0, 8.0, 8.0, 9.0])
    drops = SpeedDrops.along(station, limit, 1.5, 3.0)
    np.testing.assert_array_equal(drops.station_m, [2.0, 5.0])
    np.testing.assert_array_equal(drops.speed_mps, [12.0, 8.0])
    assert (drops.decel_mps2, drops.max_decel_mps2) == (1.5, 3.0)
    none = SpeedDrops.along(station, np.full(8, 10.0), 1.5, 3.0)
    assert none.station_m.shape == (0,)


def _drop_accel(v: float, s: float, drops: SpeedDrops) -> float:
    return float(
        speed_drop_accel(
            v, s, drops.station_m, drops.speed_mps, drops.decel_mps2, drops.max_decel_mps2,
            LIGHT_STOP_GAIN_PER_S,
        )
    )  # fmt: skip


def test_speed_drop_accel_by_hand() -> None:
    drops = SpeedDrops(np.array([100.0]), np.array([8.0]), 1.5, 3.0)
    # on the constant-deceleration curve, v^2 = 8^2 + 2 * 1.5 * 50: exactly -1.5
    v = math.sqrt(64.0 + 150.0)
    assert _drop_accel(v, 50.0, drops) == pytest.approx(-1.5, abs=1e-12)
    # 1 m/s below the curve: -(v^2 - 64) / 100 + 1 * 1 = -2.14 + 1 -> gentler
    assert _drop_accel(v - 1.0, 50.0, drops) == pytest.approx(
        -((v - 1.0) ** 2 - 64.0) / 100.0 + 1.0
    )
    # above it: harder, at most max_decel (3 m/s^2) for a drop too near
    assert _drop_accel(v + 1.0, 50.0, drops) < -1.5
    assert _drop_accel(20.0, 99.0, drops) == -3.0
    # none binds: already at or below the lower limit, past the drop, or no drops at all
    assert _drop_accel(8.0, 50.0, drops) == math.inf
    assert _drop_accel(15.0, 100.0, drops) == math.inf
    assert _drop_accel(15.0, 0.0, SpeedDrops(np.zeros(0), np.zeros(0), 1.5, 3.0)) == math.inf


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.tuples(st.floats(0.5, 400.0), st.floats(0.0, 30.0)), min_size=1, max_size=8),
    st.floats(0.0, 40.0),
    st.floats(-50.0, 300.0),
    st.floats(0.5, 3.0),
)
def test_speed_drop_accel_reads_every_drop_that_can_brake(
    raw: list[tuple[float, float]], v: float, s: float, decel: float
) -> None:
    """The early exit past the reach ``(v + sqrt(b v / 2k))^2 / 2b`` leaves the result as a
    scan of every drop ahead gives."""
    raw = sorted(raw)
    station = np.array([r[0] for r in raw])
    speed = np.array([r[1] for r in raw])
    drops = SpeedDrops(station, speed, decel, 9.0)
    want = math.inf
    for x, w in zip(station, speed, strict=True):
        d = x - s
        if d > 0.0 and w < v:
            cap = math.sqrt(w * w + 2.0 * decel * d)
            want = min(want, -(v * v - w * w) / (2.0 * d) + LIGHT_STOP_GAIN_PER_S * (cap - v))
    want = max(want, -9.0)
    got = _drop_accel(v, s, drops)
    assert got == want or (got >= 0.0 and want >= 0.0)


def test_the_speed_limit_deceleration_is_a_comfortable_one() -> None:
    assert PDMParams().speed_limit_decel_mps2 == 1.5
    with pytest.raises(ValueError, match=r"speed_limit_decel_mps2 must be at most idm\.comfort"):
        PDMParams(speed_limit_decel_mps2=4.0)
    with pytest.raises(ValueError, match=r"speed_limit_decel_mps2"):
        PDMParams(speed_limit_decel_mps2=0.0)
    PDMParams(speed_limit_decel_mps2=4.0, idm=ACCParams(comfort_decel_mps2=4.0))


def test_a_harder_limit_deceleration_brakes_later() -> None:
    """The planners' profile and drops read ``speed_limit_decel_mps2``: at 3 m/s^2 the braking
    for the drop starts about half as far ahead as at 1.5."""
    road = drop_road()
    params = PDMParams(speed_limit_decel_mps2=3.0)
    vehicle = VehicleParams()
    start = {}
    for p in (PDMParams(), params):
        planner = IDMPlanner(road, ["fast", "slow"], vehicle, p)
        world = World(road, BicycleState.of(0.0, LANE_Y_M, 0.0, FAST_MPS), [])
        h = run_closed_loop(world, planner, TrajectoryTracker(vehicle=vehicle), 140)
        braking = np.flatnonzero(h.ego_accel_mps2 < -0.1)
        start[p.speed_limit_decel_mps2] = DROP_X_M - (
            h.ego_x_m[braking[0]] + vehicle.front_offset_m
        )
        assert np.min(h.ego_accel_mps2) >= -(p.speed_limit_decel_mps2 + 0.1)
    # 110 m at 1.5 m/s^2 against 55 m at 3 (the approach is eased in, a little earlier)
    assert start[1.5] > 110.0 and 55.0 < start[3.0] < 75.0


def test_braking_profile_is_the_speed_profiles_backward_pass() -> None:
    # 10 m/s then a 5 m/s stretch from x = 50 m, around a gentle bend
    xy = np.column_stack([np.arange(0.0, 101.0, 1.0), 0.002 * np.arange(0.0, 101.0, 1.0) ** 2])
    path = ReferencePath.from_polyline(xy, np.where(xy[:, 0] < 50.0, 10.0, 5.0))
    limits = path.speed_limits(2.5, ahead_m=3.0)
    kept = limits.copy()
    profile = path.braking_profile(limits, 1.5)
    assert np.array_equal(profile, path.speed_profile(2.5, 1.5, ahead_m=3.0))
    assert np.array_equal(limits, kept)  # its input is left alone
    assert np.all(profile <= limits) and profile[45] < limits[45]  # slows ahead of the drop
    with pytest.raises(ValueError, match="limits_mps: shape"):
        path.braking_profile(limits[:-1])
