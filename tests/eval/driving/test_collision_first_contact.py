"""Collision types at the first-contact instant: a contact the swept test catches between two
ticks (the footprints apart at both) is typed with the poses and speeds interpolated to where
the footprints first touched, not with the tick's poses after the pass (which made a head-on
hit "active_rear, not at fault"). Hand-built 0.5 s histories marked like the simulator marks
them; ego 5.18 m x 2.3 m, its centre 1.56 m ahead of the rear axle, cars 4.5 m x 1.8 m."""

from __future__ import annotations

import numpy as np
import pytest

from drivestack.eval.driving.nuplan import classify_collisions
from drivestack.report.plots import collision_point
from drivestack.sim.runner import SimHistory
from drivestack.sim.swept_collision import (
    ego_agent_collisions,
    history_first_contact,
    swept_ego_agent_collisions,
)
from drivestack.sim.vehicle import BicycleState
from tests.eval.driving._ego_history import ego_with_agents_history

from .test_nuplan_metrics import ROAD, VEHICLE

CENTRE = VEHICLE.length_m / 2 - VEHICLE.rear_overhang_m  # 1.56 m
HALF_LENGTH = VEHICLE.length_m / 2  # 2.59 m


def swept_history(
    dt: float,
    ego_x: np.ndarray,
    ego_speed: float,
    agent_xy: np.ndarray,
    agent_vel: tuple[float, float],
    agent_yaw: float = 0.0,
    ego_y: float = 1.75,
) -> SimHistory:
    """A straight +x ego at constant speed and one car at ``agent_xy (T, 2)`` moving at
    ``agent_vel``, its contacts marked as the runner marks them (per tick at tick 0, swept
    after)."""
    n = len(ego_x)
    st = BicycleState.of(ego_x, np.full(n, ego_y), 0.0, np.full(n, ego_speed), np.zeros(n), 0.0)
    ego = st.boxes(VEHICLE)
    agents = np.zeros((n, 1, 7))
    agents[:, 0, :2] = agent_xy
    agents[:, 0, 2:] = [0.75, 4.5, 1.8, 1.5, agent_yaw]
    valid = np.ones((n, 1), dtype=bool)
    coll = [ego_agent_collisions(ego[0], agents[0], valid[0])]
    coll += [
        swept_ego_agent_collisions(
            ego[k - 1], agents[k - 1], valid[k - 1], ego[k], agents[k], valid[k]
        )
        for k in range(1, n)
    ]
    return ego_with_agents_history(
        st,
        VEHICLE,
        dt,
        agents,
        agent_velocity_mps=np.tile(np.asarray(agent_vel, float), (n, 1, 1)),
        agent_ids=("car",),
        collisions=np.stack(coll),
    )


def apart_at_every_tick(h: SimHistory) -> bool:
    return not any(
        ego_agent_collisions(h.ego_boxes[k], h.agent_boxes[k], h.agent_valid[k])[0]
        for k in range(len(h))
    )


def test_a_head_on_hit_between_ticks_is_the_egos_active_front_collision() -> None:
    # ego +x at 20 m/s, an oncoming car at 20 m/s in its lane 3 m ahead of its bumper, 0.5 s
    # step: the car's centre is 7.84 m ahead of the ego's, then 12.16 m behind it (passed
    # through). They touch once 4.84 m apart (half lengths), after 3 m of the 20 m closing:
    # sub-step 7 of 45 (20 m / 45 <= 0.45 m = half of the car's 0.9 m half-width)
    t = np.arange(3) * 0.5
    ego_x = 50.0 + 20.0 * t
    car_x = 50.0 + CENTRE + HALF_LENGTH + 3.0 + 2.25 - 20.0 * t
    h = swept_history(
        0.5, ego_x, 20.0, np.column_stack([car_x, np.full(3, 1.75)]), (-20.0, 0.0), np.pi
    )
    assert apart_at_every_tick(h) and h.collisions[:, 0].tolist() == [False, True, False]
    f, ego, car = history_first_contact(h, 1, 0)
    assert f == pytest.approx(7 / 45)
    assert ego[0] == pytest.approx(50.0 + CENTRE + 10.0 * 7 / 45)
    assert car[0] == pytest.approx(car_x[0] - 10.0 * 7 / 45)
    (event,) = classify_collisions(h, ROAD)
    # fail-before: "active_rear", not at fault (the car behind the ego at tick 1)
    assert (event.tick, event.kind, event.at_fault) == (1, "active_front", True)
    assert (event.ego_speed_mps, event.relative_speed_mps) == pytest.approx((20.0, 40.0))
    # the report's collision point: the overlap's centroid there, between the ego's front
    # bumper and the car's (fail-before: the ego's centre at tick 1, the boxes apart there)
    front = 50.0 + CENTRE + HALF_LENGTH + 10.0 * 7 / 45
    car_front = car_x[0] - 2.25 - 10.0 * 7 / 45
    assert collision_point(h) == pytest.approx(((front + car_front) / 2, 1.75))


def test_rear_ending_a_slower_car_between_ticks_is_at_fault() -> None:
    # ego 30 m/s, a car 2 m ahead at 5 m/s: 12.5 m closed per 0.5 s step, the car's centre
    # from 6.84 m ahead of the ego's to 5.66 m behind; touching after 2 m, sub-step 5 of 28
    t = np.arange(3) * 0.5
    car_x = 50.0 + CENTRE + HALF_LENGTH + 2.0 + 2.25 + 5.0 * t
    h = swept_history(
        0.5, 50.0 + 30.0 * t, 30.0, np.column_stack([car_x, np.full(3, 1.75)]), (5.0, 0.0)
    )
    assert apart_at_every_tick(h) and h.collisions[:, 0].tolist() == [False, True, False]
    assert history_first_contact(h, 1, 0)[0] == pytest.approx(5 / 28)
    (event,) = classify_collisions(h, ROAD)
    # fail-before: "active_rear", not at fault
    assert (event.kind, event.at_fault) == ("active_front", True)
    assert event.relative_speed_mps == pytest.approx(25.0)


def test_being_rear_ended_between_ticks_is_active_rear_not_at_fault() -> None:
    # ego 10 m/s, a car 2 m behind its rear bumper at 40 m/s: 15 m closed per step, from
    # 6.84 m behind to 8.16 m ahead of the ego's centre
    t = np.arange(3) * 0.5
    car_x = 50.0 + CENTRE - HALF_LENGTH - 2.0 - 2.25 + 40.0 * t
    h = swept_history(
        0.5, 50.0 + 10.0 * t, 10.0, np.column_stack([car_x, np.full(3, 1.75)]), (40.0, 0.0)
    )
    assert apart_at_every_tick(h) and h.collisions[:, 0].tolist() == [False, True, False]
    (event,) = classify_collisions(h, ROAD)
    # fail-before: "active_lateral" (the car ahead at tick 1 but clear of the front bumper)
    assert (event.kind, event.at_fault) == ("active_rear", False)
    assert event.relative_speed_mps == pytest.approx(30.0)


def test_a_side_hit_between_ticks_while_straddling_lanes_is_lateral_at_fault() -> None:
    # ego 20 m/s on the lane marking (y = 3.5), a car crossing +y at 20 m/s: seen from the
    # ego's centre the car's runs from (3, -6.4) to (-7, 3.6), first touching the ego's right
    # side at 0.3 of the step (sub-step 10 of 32: (-0.125, -3.275), its x extent well behind
    # the front bumper); at tick 1 it is 152.8 deg from the ego's heading, "behind"
    t = np.arange(3) * 0.5
    ego_x = 50.0 + 20.0 * t
    car_xy = np.column_stack([np.full(3, 50.0 + CENTRE + 3.0), 3.5 - 6.4 + 20.0 * t])
    h = swept_history(0.5, ego_x, 20.0, car_xy, (0.0, 20.0), np.pi / 2, ego_y=3.5)
    assert apart_at_every_tick(h) and h.collisions[:, 0].tolist() == [False, True, False]
    assert history_first_contact(h, 1, 0)[0] == pytest.approx(10 / 32)
    (event,) = classify_collisions(h, ROAD)
    # fail-before: "active_rear", not at fault
    assert (event.kind, event.at_fault) == ("active_lateral", True)
    # and centred in its lane (y = 1.75, the car shifted with it) the same hit is not at fault
    h = swept_history(0.5, ego_x, 20.0, car_xy - [0.0, 1.75], (0.0, 20.0), np.pi / 2, ego_y=1.75)
    (event,) = classify_collisions(h, ROAD)
    assert (event.kind, event.at_fault) == ("active_lateral", False)


def test_a_contact_the_tick_already_typed_right_stays() -> None:
    # 0.1 s step: ego 20 m/s, 1 m behind a car at 5 m/s; 1.5 m closed per step (4 sub-steps),
    # so the footprints first touch at sub-step 3 (0.75 of the way to tick 1, 2/3 needed) and
    # overlap 0.5 m at tick 1 itself, where the old typing already said active front, at fault
    t = np.arange(5) * 0.1
    car_x = 50.0 + CENTRE + HALF_LENGTH + 1.0 + 2.25 + 5.0 * t
    h = swept_history(
        0.1, 50.0 + 20.0 * t, 20.0, np.column_stack([car_x, np.full(5, 1.75)]), (5.0, 0.0)
    )
    assert h.collisions[:, 0].tolist() == [False, True, True, True, True]
    assert ego_agent_collisions(h.ego_boxes[1], h.agent_boxes[1], h.agent_valid[1])[0]
    assert history_first_contact(h, 1, 0)[0] == pytest.approx(0.75)
    (event,) = classify_collisions(h, ROAD)
    assert (event.tick, event.kind, event.at_fault) == (1, "active_front", True)
    assert (event.ego_speed_mps, event.relative_speed_mps) == pytest.approx((20.0, 15.0))
