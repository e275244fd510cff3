"""nuPlan metrics on crafted histories: at-fault vs not at-fault, 0.3 m drivable tolerance,
comfort jerk bound, speed-limit and TTC scores."""

from __future__ import annotations

import numpy as np
import pytest

from drivestack.eval.driving.comfort import MAX_ABS_LON_JERK_MPS3, comfort_signals, is_comfortable
from drivestack.eval.driving.ncap import ncap_result
from drivestack.eval.driving.nuplan import (
    classify_collisions,
    min_time_to_collision_s,
    nuplan_score,
)
from drivestack.ingest.maps.synthetic import straight_road
from drivestack.planning.reference_path import ReferencePath
from drivestack.sim.runner import SimHistory
from drivestack.sim.vehicle import BicycleState, VehicleParams
from tests.eval.driving._ego_history import ego_with_agents_history

VEHICLE = VehicleParams()
ROAD = straight_road(length_m=600.0, n_lanes=2, speed_limit_mps=15.0)
ROUTE = ReferencePath.from_route(ROAD, ["road_0"])
DT = 0.1


def history(
    x: np.ndarray,
    speed: np.ndarray,
    y: float = 1.75,
    accel: np.ndarray | None = None,
    agents: np.ndarray | None = None,
    agent_vel: np.ndarray | None = None,
) -> SimHistory:
    n = len(x)
    accel = np.gradient(speed, DT) if accel is None else accel
    st = BicycleState.of(x, np.full(n, y), 0.0, speed, accel, 0.0)
    agents = np.zeros((n, 0, 7)) if agents is None else agents
    return ego_with_agents_history(st, VEHICLE, DT, agents, agent_velocity_mps=agent_vel)


def car(x: np.ndarray, y: float = 1.75) -> np.ndarray:
    """(T, 1, 7) car boxes centred at x."""
    n = len(x)
    return np.stack(
        [
            x,
            np.full(n, y),
            np.full(n, 0.75),
            np.full(n, 4.5),
            np.full(n, 1.8),
            np.full(n, 1.5),
            np.zeros(n),
        ],
        axis=1,
    )[:, None]


def test_clean_drive_scores_one() -> None:
    t = np.arange(51) * DT
    m = nuplan_score(history(10.0 * t, np.full(51, 10.0)), ROAD, ROUTE, expert_progress_m=50.0)
    assert m.score == pytest.approx(1.0)
    assert m.progress_m == pytest.approx(50.0)


def test_at_fault_rear_end_into_a_stopped_car() -> None:
    t = np.arange(31) * DT
    x = 10.0 * t
    front = VEHICLE.front_offset_m
    h = history(
        x, np.full(31, 10.0), agents=car(np.full(31, 20.0 + front + 2.25))
    )  # contact when x reaches 20 m
    events = classify_collisions(h, ROAD)
    assert len(events) == 1 and events[0].kind == "stopped_track" and events[0].at_fault
    m = nuplan_score(h, ROAD, ROUTE, 30.0)
    assert m.no_at_fault_collisions == 0.0 and m.score == 0.0
    ncap = ncap_result(h, m.min_ttc_s)
    assert not ncap.avoided and ncap.impact_speed_kph == pytest.approx(36.0)


def test_being_rear_ended_is_not_at_fault() -> None:
    n = 31
    t = np.arange(n) * DT
    rear = -VEHICLE.rear_overhang_m
    agent_x = rear - 2.25 - 10.0 + 10.0 * t  # closes 10 m at 10 m/s onto the stopped ego
    vel = np.zeros((n, 1, 2))
    vel[:, 0, 0] = 10.0
    h = history(np.zeros(n), np.zeros(n), agents=car(agent_x), agent_vel=vel)
    events = classify_collisions(h, ROAD)
    assert [e.kind for e in events] == ["stopped_ego"] and not events[0].at_fault
    # and while moving slowly forward, hit from behind: active rear, not at fault
    h = history(0.5 * t, np.full(n, 0.5), agents=car(agent_x), agent_vel=vel)
    events = classify_collisions(h, ROAD)
    assert [e.kind for e in events] == ["active_rear"] and not events[0].at_fault
    assert nuplan_score(h, ROAD, ROUTE, 1.0).no_at_fault_collisions == 1.0


@pytest.mark.parametrize(("outside_m", "expected"), [(0.29, 1.0), (0.31, 0.0)])
def test_drivable_area_tolerance(outside_m: float, expected: float) -> None:
    # the road's right edge is y = 0; the ego's right side is at y_centre - width / 2
    y = VEHICLE.width_m / 2 - outside_m
    t = np.arange(21) * DT
    m = nuplan_score(history(10.0 * t, np.full(21, 10.0), y=y), ROAD, ROUTE, 20.0)
    assert m.max_outside_drivable_m == pytest.approx(outside_m)
    assert m.drivable_area_compliance == expected


@pytest.mark.parametrize(("jerk", "ok"), [(4.0, True), (4.2, False)])
def test_jerk_just_over_the_limit(jerk: float, ok: bool) -> None:
    assert MAX_ABS_LON_JERK_MPS3 == 4.13
    t = np.arange(15) * DT
    accel = -3.5 + jerk * t  # stays inside [-4.05, 2.40]
    speed = 10.0 + np.cumsum(accel) * DT
    sig = comfort_signals(speed, np.zeros(15), accel, DT)
    np.testing.assert_allclose(
        sig.lon_jerk_mps3, jerk, rtol=1e-9
    )  # Savitzky-Golay is exact on a ramp
    assert bool(is_comfortable(sig)) is ok


def test_speed_limit_score() -> None:
    t = np.arange(51) * DT
    m = nuplan_score(
        history(16.0 * t, np.full(51, 16.0)), ROAD, ROUTE, 80.0
    )  # 1 m/s over a 15 m/s limit
    # nuPlan's plain sum over the 51 ticks (not the trapezoid rule) over a 5 s run
    assert m.speed_limit_compliance == pytest.approx(1.0 - 51 * 1.0 * DT / (2.23 * 5.0))


def test_ttc_to_a_stopped_car() -> None:
    n = 5
    front = VEHICLE.front_offset_m
    # 5 m gap at 10 m/s: the constant-velocity projection touches after 0.5 s
    h = history(np.zeros(n), np.full(n, 10.0), agents=car(np.full(n, front + 5.0 + 2.25)))
    ttc = min_time_to_collision_s(h)
    np.testing.assert_allclose(ttc, 0.5, atol=1e-9)
    m = nuplan_score(h, ROAD, ROUTE, 0.0)
    assert m.ttc_within_bound == 0.0
    assert m.score == pytest.approx((5 * 1.0 + 5 * 0.0 + 4 * 1.0 + 2 * m.comfort) / 16)
