"""NCAP impact speeds at the interpolated first-contact instant (as the nuPlan collision types
read it), and nuPlan's stopped test ``speed <= 5e-2`` (``no_ego_at_fault_collisions.py``
``_get_collision_type``, ``idm/utils.py`` ``is_track_stopped``)."""

from __future__ import annotations

import numpy as np
import pytest

from drivestack.eval.driving.ncap import ncap_result
from drivestack.eval.driving.nuplan import classify_collisions, first_contact_state

from .test_nuplan_metrics import ROAD, VEHICLE, car, history

FRONT = VEHICLE.front_offset_m


def test_impact_speed_is_read_where_the_footprints_first_touch() -> None:
    # tick 1: front bumper 1.0 m from a stopped car's rear; tick 2: 0.6 m into it (1.6 m moved).
    # The swept test splits the 1.6 m into 4 sub-steps (at most 0.45 m each: half of the 0.9 m
    # half-side): first contact at 1.2 m, 3/4 of the step. Speeds 20 -> 4 m/s (braking hard
    # between the ticks): 0.25 * 20 + 0.75 * 4 = 8 m/s = 28.8 km/h at contact, not the tick's 4
    x = np.array([-5.0, 0.0, 1.6])
    speed = np.array([20.0, 20.0, 4.0])
    h = history(x, speed, accel=np.zeros(3), agents=car(np.full(3, FRONT + 1.0 + 2.25)))
    assert h.collisions[:, 0].tolist() == [False, False, True]
    c = first_contact_state(h, 2, 0)
    assert c.fraction == pytest.approx(0.75) and c.ego_speed_mps == pytest.approx(8.0)
    ncap = ncap_result(h, np.inf)
    assert ncap.impact_speed_kph == pytest.approx(28.8)
    assert ncap.relative_impact_speed_kph == pytest.approx(28.8)  # a stopped car
    assert ncap.speed_reduction_kph == pytest.approx(72.0 - 28.8)
    (event,) = classify_collisions(h, ROAD)
    assert event.ego_speed_mps == pytest.approx(ncap.impact_speed_kph / 3.6)


def test_relative_impact_speed_uses_the_agents_velocity_at_contact() -> None:
    # the car ahead drives away at 2 m/s at tick 1 and 6 m/s at tick 2: at 3/4 of the step
    # 5 m/s; closing speed 8 - 5 = 3 m/s = 10.8 km/h (the tick's 4 - 6 would read 7.2 km/h)
    x = np.array([-5.0, 0.0, 1.6])
    speed = np.array([20.0, 20.0, 4.0])
    vel = np.zeros((3, 1, 2))
    vel[:, 0, 0] = [2.0, 2.0, 6.0]
    h = history(
        x, speed, accel=np.zeros(3), agents=car(np.full(3, FRONT + 1.0 + 2.25)), agent_vel=vel
    )
    ncap = ncap_result(h, np.inf)
    assert ncap.relative_impact_speed_kph == pytest.approx(10.8)


@pytest.mark.parametrize(
    ("ego_mps", "kind", "at_fault"), [(0.05, "stopped_ego", False), (0.06, "stopped_track", True)]
)
def test_an_ego_at_5e_2_m_per_s_is_stopped(ego_mps: float, kind: str, at_fault: bool) -> None:
    # the ego creeps into a stopped car: at exactly 0.05 m/s it is stopped (nuPlan: <= 5e-2)
    n = 21
    x = ego_mps * np.arange(n) * 0.1
    agent = car(np.full(n, FRONT + ego_mps * 1.0 + 2.25 - 1e-4))  # contact from tick 10
    (event,) = classify_collisions(
        history(x, np.full(n, ego_mps), accel=np.zeros(n), agents=agent), ROAD
    )
    assert (event.tick, event.kind, event.at_fault) == (10, kind, at_fault)


def test_a_track_at_5e_2_m_per_s_is_stopped() -> None:
    # a car ahead creeping at exactly 0.05 m/s is a stopped track: hitting it is at fault
    n = 31
    t = np.arange(n) * 0.1
    vel = np.zeros((n, 1, 2))
    vel[:, 0, 0] = 0.05
    agent = car(FRONT + 2.25 + 10.0 + 0.05 * t)
    h = history(5.0 * t, np.full(n, 5.0), accel=np.zeros(n), agents=agent, agent_vel=vel)
    (event,) = classify_collisions(h, ROAD)
    assert event.kind == "stopped_track" and event.at_fault
