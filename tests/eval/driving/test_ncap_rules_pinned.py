"""Euro NCAP result rules that a mutation review found unguarded (each test fails under the
mutation its comment names).

Crafted drives on the road of ``test_nuplan_metrics`` (helpers from
``test_nuplan_collision_rules_pinned``); the ego's front bumper is 4.15 m ahead of its rear
axle. The rules (``drivestack.eval.driving.ncap`` module doc):

- impact speed: the ego's |speed| at the run's *first* contact, at the instant the footprints
  first touched; with several agents touched in that tick, at the earliest of their instants;
- relative impact speed: ``|ego speed (signed) - agent velocity along the ego's heading|``,
  the largest over the agents touched in that tick;
- initial speed: the ego's |speed| at the first tick;
- min distance: over the ticks where an agent is valid only.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest

from drivestack.eval.driving.ncap import ncap_result
from drivestack.sim.runner import SimHistory
from tests.eval.driving.test_nuplan_collision_rules_pinned import (
    CAR_HALF_LENGTH_M,
    FRONT_M,
    LANE_Y_M,
    drive,
    reversing_into_a_car_behind,
)
from tests.eval.driving.test_nuplan_metrics import DT, car

KPH_PER_MPS = 3.6


def test_the_impact_speed_is_the_first_contacts() -> None:
    # 10 m/s onto a stopped car whose rear face is 19.5 m ahead of the front bumper: contact
    # in the move 19 -> 20 (both ticks at 10 m/s), after which the ego slows to 5 m/s and is
    # still inside the car at the last tick. Impact 10 m/s = 36 km/h, no reduction from the
    # initial 36 km/h (reading the last contact tick: 5 m/s = 18 km/h, reduction 18).
    n = 31
    speed = np.where(np.arange(n) <= 20, 10.0, 5.0)
    x = np.concatenate([[0.0], np.cumsum(speed[1:] * DT)])  # x = 20 m at tick 20
    h = drive(speed, car(np.full(n, 19.5 + FRONT_M + CAR_HALF_LENGTH_M)), x_m=x)
    hit = np.flatnonzero(h.collisions[:, 0])
    assert hit[0] == 20 and hit[-1] == n - 1
    nc = ncap_result(h, np.inf)
    assert nc.impact_speed_kph == pytest.approx(36.0)
    assert nc.speed_reduction_kph == pytest.approx(0.0)


def _two_agents_touched_in_one_tick(order: list[int]) -> SimHistory:
    """The ego braking from 10 to 6 m/s over one tick (its front moves 0.8 m) onto two 1 m x
    1 m boxes that it first touches at different instants of that tick (columns in
    ``order`` of [A, B]): A standing 0.1 m ahead on the left half of its front, B 0.3 m ahead
    on the right half, moving away at 2 m/s (0.2 m in the tick)."""
    a = np.tile([FRONT_M + 0.1 + 0.5, LANE_Y_M + 0.6, 0.75, 1.0, 1.0, 1.5, 0.0], (2, 1))
    b = np.tile([FRONT_M + 0.3 + 0.5, LANE_Y_M - 0.6, 0.75, 1.0, 1.0, 1.5, 0.0], (2, 1))
    b[1, 0] += 0.2
    velocity = np.zeros((2, 2, 2))
    velocity[:, 1, 0] = 2.0
    boxes = np.stack([a, b], axis=1)[:, order]
    return drive([10.0, 6.0], boxes, x_m=[0.0, 0.8], agent_velocity_mps=velocity[:, order])


@pytest.mark.parametrize("order", [[0, 1], [1, 0]])
def test_two_agents_touched_in_one_tick_impact_at_the_earliest_instant(order: list[int]) -> None:
    # Sub-steps of at most 0.25 m relative motion (half the 0.5 m smallest half-side).
    # A: 0.8 m relative -> 4 sub-steps, touched at f = 1/4 (0.2 m > 0.1 m), ego speed
    # 10 - 4 / 4 = 9 m/s, closing 9 m/s. B: 0.6 m relative -> 3 sub-steps, touched at f = 2/3
    # (0.4 m > 0.3 m; 0.2 m at 1/3), ego 10 - 4 * 2 / 3 = 7.33 m/s, closing 7.33 - 2 = 5.33.
    # Impact: the earliest instant's ego speed, 9 m/s = 32.4 km/h (B's: 26.4); relative: the
    # largest closing speed, 9 m/s = 32.4 km/h (the smaller: 19.2), whatever the column order.
    h = _two_agents_touched_in_one_tick(order)
    assert h.collisions[1].all() and not h.collisions[0].any()
    nc = ncap_result(h, np.inf)
    assert nc.impact_speed_kph == pytest.approx(9.0 * KPH_PER_MPS)
    assert nc.relative_impact_speed_kph == pytest.approx(9.0 * KPH_PER_MPS)


def test_the_relative_impact_speed_is_along_the_heading_when_heading_north() -> None:
    # CCRm heading north (yaw 90 deg): ego at 10 m/s onto a car 0.45 m ahead going north at
    # 5 m/s (velocity (0, 5)). Along the heading (0, 1) the car makes 5 m/s: closing
    # 10 - 5 = 5 m/s = 18 km/h (dropping the heading's sin term: 10 m/s = 36 km/h).
    n = 5
    t = np.arange(n) * DT
    box = np.zeros((n, 1, 7))
    box[:, 0] = [LANE_Y_M, 0.0, 0.75, 4.5, 1.8, 1.5, math.pi / 2]
    box[:, 0, 1] = FRONT_M + 0.45 + CAR_HALF_LENGTH_M + 5.0 * t
    velocity = np.zeros((n, 1, 2))
    velocity[:, 0, 1] = 5.0
    h = drive(
        np.full(n, 10.0),
        box,
        x_m=LANE_Y_M,
        y_m=10.0 * t,
        yaw_rad=math.pi / 2,
        agent_velocity_mps=velocity,
    )
    nc = ncap_result(h, np.inf)
    assert nc.avoided is False
    assert nc.impact_speed_kph == pytest.approx(36.0)
    assert nc.relative_impact_speed_kph == pytest.approx(18.0)


def test_the_relative_impact_speed_of_a_reversing_ego_keeps_its_sign() -> None:
    # Ego at -2 m/s onto a car reversing at -1 m/s (behind it): |-2 - (-1)| = 1 m/s =
    # 3.6 km/h (with the ego's |speed|: |2 - (-1)| = 3 m/s = 10.8 km/h); impact |-2| = 7.2.
    nc = ncap_result(reversing_into_a_car_behind(), np.inf)
    assert nc.impact_speed_kph == pytest.approx(7.2)
    assert nc.relative_impact_speed_kph == pytest.approx(3.6)


def test_the_initial_speed_of_a_reversing_ego_is_its_magnitude() -> None:
    # Reversing at 2 m/s, nothing around: initial |-2| * 3.6 = 7.2 km/h, and the avoided
    # run's reduction is the whole of it (a signed speed would give -7.2).
    n = 5
    h = drive(np.full(n, -2.0), np.zeros((n, 0, 7)), x_m=50.0 - 2.0 * np.arange(n) * DT)
    nc = ncap_result(h, np.inf)
    assert nc.avoided is True
    assert nc.initial_speed_kph == pytest.approx(7.2)
    assert nc.speed_reduction_kph == pytest.approx(7.2)


def test_the_min_distance_skips_ticks_where_the_agent_is_absent() -> None:
    # Ego 10 m/s from x = 0 to 10 m; a car in lane 1 valid only at the last tick, 200 m down
    # the road (its box NaN before). Only that tick counts: front bumper 14.15 m to the car's
    # rear face 197.75 m, lateral gap 4.35 - 2.9 = 1.45 m: hypot(183.6, 1.45) m (the absent
    # ticks' stand-in zero box at the origin would give 0.6 m).
    n = 11
    t = np.arange(n) * DT
    h = drive(np.full(n, 10.0), car(np.full(n, 200.0), y=LANE_Y_M + 3.5), x_m=10.0 * t)
    valid = np.zeros((n, 1), dtype=bool)
    valid[-1] = True
    boxes = h.agent_boxes.copy()
    boxes[:-1] = np.nan
    h = dataclasses.replace(h, agent_valid=valid, agent_boxes=boxes)
    nc = ncap_result(h, np.inf)
    assert nc.min_distance_m == pytest.approx(math.hypot(183.6, 1.45))
