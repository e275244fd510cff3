"""Stop-sign violations on hand-built histories: a passing of a stop sign's line without a full
stop (under 0.1 m/s) within 3 m before it.

Straight road along +x (road_0 centred on y = 1.75, lane station s at x = s - 100); the sign's
line crosses road_0 at x = 100 m (station 200 m). The default vehicle's front bumper is 4.15 m
ahead of its rear axle.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from drivestack.eval.driving.stop_signs import stop_sign_violations
from drivestack.ingest.maps.synthetic import straight_road
from drivestack.sim.runner import SimHistory
from drivestack.sim.vehicle import BicycleState, VehicleParams
from drivestack.structures.road_map import RoadMap, StopSign
from drivestack.structures.traffic_light import LaneStop
from tests.eval.driving._ego_history import ego_only_history

VEHICLE = VehicleParams()
FRONT_M = VEHICLE.length_m - VEHICLE.rear_overhang_m
DT = 0.1
ROAD = straight_road(length_m=600.0, n_lanes=2)
LINE_X_M = 100.0


def road_with(*signs: StopSign) -> RoadMap:
    return dataclasses.replace(ROAD, stop_signs=signs)


def sign(sign_id: str = "S1", kind: str = "stop", fallback: bool = False) -> StopSign:
    return StopSign(sign_id, kind, (LaneStop("road_0", LINE_X_M + 100.0),), fallback=fallback)


def history(speed_mps: np.ndarray, front_x0_m: float, yaw_rad: float = 0.0) -> SimHistory:
    """A history driving ``speed_mps (T,)`` along heading ``yaw_rad`` from the front bumper at
    ``(front_x0_m, 1.75)`` (each tick's move is the mean of its two speeds times the step)."""
    speed = np.asarray(speed_mps, dtype=np.float64)
    travel = np.concatenate(([0.0], np.cumsum(0.5 * (speed[1:] + speed[:-1]) * DT)))
    fx = front_x0_m + travel * math.cos(yaw_rad)
    fy = 1.75 + travel * math.sin(yaw_rad)
    ego = BicycleState.of(
        fx - FRONT_M * math.cos(yaw_rad), fy - FRONT_M * math.sin(yaw_rad), yaw_rad, speed, 0.0, 0.0
    )
    return ego_only_history(ego, VEHICLE, DT)


def rolling_stop(v_mps: float = 2.0) -> SimHistory:
    """10 m/s slowing at 4 m/s^2 to ``v_mps``, then through the line at it: the front at
    x = 85 m at the start."""
    slowing = np.maximum(10.0 - 4.0 * DT * np.arange(40), v_mps)
    through = math.ceil(20.0 / (v_mps * DT))  # ticks enough to pass the line at v_mps
    return history(np.concatenate([slowing, np.full(through, v_mps)]), 85.0)


def full_stop(stand_ticks: int = 10, stop_before_m: float = 2.0) -> SimHistory:
    """10 m/s braking at a constant rate to rest with the front ``stop_before_m`` before the
    line, standing ``stand_ticks``, then pulling away at 2 m/s^2."""
    decel_ticks = 20  # 10 m/s to 0 in 2 s: 10 m of braking
    braking = 10.0 - 0.5 * np.arange(decel_ticks + 1)
    going = 2.0 * DT * np.arange(1, 60)
    speed = np.concatenate([braking, np.zeros(stand_ticks), going])
    return history(speed, LINE_X_M - stop_before_m - 10.0)


def test_a_rolling_stop_at_2_mps_is_a_violation() -> None:
    result = stop_sign_violations(rolling_stop(2.0), road_with(sign()))
    (v,) = result.violations
    assert (v.sign_id, v.lane_id) == ("S1", "road_0")
    assert v.speed_mps == pytest.approx(2.0) and v.slowest_mps == pytest.approx(2.0)
    # the front reaches the line: 85 + travel; the tick after is the first past it
    h = rolling_stop(2.0)
    front = h.ego_x_m + FRONT_M
    assert front[v.tick - 1] <= LINE_X_M < front[v.tick]
    assert h.time_s[v.tick - 1] <= v.time_s <= h.time_s[v.tick]
    assert (result.count, result.signs, result.lines_passed) == (1, 1, 1)
    d = result.as_dict()
    assert d["violations"] == 1 and d["events"][0]["slowest_mps"] == pytest.approx(2.0)


@pytest.mark.parametrize("stop_before_m", [0.3, 2.0, 2.9])
def test_a_full_stop_within_3_m_is_no_violation(stop_before_m: float) -> None:
    result = stop_sign_violations(full_stop(10, stop_before_m), road_with(sign()))
    assert result.violations == () and result.lines_passed == 1


def test_one_standing_tick_is_a_full_stop() -> None:
    assert stop_sign_violations(full_stop(1), road_with(sign())).violations == ()


def test_a_stop_farther_back_then_rolling_through_is_a_violation() -> None:
    # rest 5 m before the line, then 1 m/s through it: no tick under 0.1 m/s within 3 m
    speed = np.concatenate([np.zeros(10), np.full(100, 1.0)])
    (v,) = stop_sign_violations(history(speed, LINE_X_M - 5.0), road_with(sign())).violations
    assert v.slowest_mps == pytest.approx(1.0)


def test_a_crossing_with_no_tick_in_the_window_is_a_violation() -> None:
    # 40 m/s: 4 m a tick, the front at 96.5 m then 100.5 m: no tick in the 3 m window
    speed = np.full(10, 40.0)
    (v,) = stop_sign_violations(history(speed, LINE_X_M - 19.5), road_with(sign())).violations
    assert v.slowest_mps is None and v.speed_mps == pytest.approx(40.0)


@pytest.mark.parametrize(
    "rule",
    [sign(kind="yield"), sign(fallback=True)],
    ids=["yield", "fallback"],
)
def test_yield_and_fallback_rules_are_not_checked(rule: StopSign) -> None:
    result = stop_sign_violations(rolling_stop(), road_with(rule))
    assert (result.count, result.signs, result.lines_passed) == (0, 0, 0)


def test_all_way_stops_are_checked_and_one_passing_is_one_violation() -> None:
    both = road_with(sign("A", "all_way_stop"), sign("B"))
    (v,) = stop_sign_violations(rolling_stop(), both).violations
    assert v.sign_id == "A"  # the first rule in map order


def test_crossing_the_lane_sideways_is_no_passing() -> None:
    # heading north across road_0 at x = 100.5 m (the line is across the lane, along y)
    h = history(np.full(40, 2.0), 0.0, math.pi / 2)
    h = dataclasses.replace(h, ego_boxes=h.ego_boxes + np.array([100.5, -5.0, 0, 0, 0, 0, 0]))
    result = stop_sign_violations(h, road_with(sign()))
    assert result.lines_passed == 0


def test_no_signs_no_violations_and_bad_window() -> None:
    assert stop_sign_violations(rolling_stop(), ROAD).as_dict() == {
        "violations": 0,
        "signs": 0,
        "lines_passed": 0,
        "events": [],
    }
    with pytest.raises(ValueError, match="window_m"):
        stop_sign_violations(rolling_stop(), road_with(sign()), window_m=0.0)


@settings(max_examples=40, deadline=None)
@given(
    v=st.floats(0.1, 15.0),
    rest_before_m=st.floats(0.05, 2.95),
    stand=st.integers(1, 20),
)
def test_property_full_stops_pass_and_rolling_stops_fail(
    v: float, rest_before_m: float, stand: int
) -> None:
    road = road_with(sign())
    (bad,) = stop_sign_violations(rolling_stop(v), road).violations
    assert bad.slowest_mps is None or bad.slowest_mps >= 0.1
    assert stop_sign_violations(full_stop(stand, rest_before_m), road).violations == ()
