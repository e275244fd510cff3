"""nuPlan collision, TTC and static-object rules that a mutation review found unguarded (each
test fails under the mutation its comment names).

Crafted drives along the straight two-lane road of ``test_nuplan_metrics`` (x along the road,
its right edge at y = 0, lane marking at y = 3.5 m, ego in lane 0 at y = 1.75 m). The default
vehicle is 5.18 m x 2.30 m with its rear axle 1.03 m ahead of the rear bumper: the front
bumper is 4.15 m ahead of the rear axle, the box centre 1.56 m. Cars are 4.5 m x 1.8 m.

nuPlan's rules pinned here (``no_ego_at_fault_collisions.py``,
``time_to_collision_within_bound.py``, ``idm/utils.py``):

- no-at-fault-collision multiplier: 0 for a second at-fault hit on a static object, 0.5 for
  one; an ego stopped at contact (|speed| <= 0.05 m/s) is not at fault, whatever it touched;
- a sideways hit is the ego's fault when it straddles two lanes *or* has any corner more than
  0.3 m off the drivable area;
- TTC: the earliest projected hit over all of a tick's agents; an agent counts when it is
  within 30 deg of the heading seen from the ego's rear axle, or, while the ego straddles
  lanes, when it is not behind (within 150 deg); an agent that touched the ego is ignored from
  the first contact on; a reversing ego has a TTC and is projected backwards; only at-fault
  collisions set TTC to 0.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pytest

from drivestack.eval.driving.nuplan import (
    classify_collisions,
    min_time_to_collision_s,
    nuplan_score,
    progress_ratio,
)
from drivestack.sim.runner import SimHistory
from drivestack.sim.vehicle import BicycleState
from drivestack.structures.labels import ObjectClass
from tests.eval.driving._ego_history import ego_with_agents_history
from tests.eval.driving.test_nuplan_metrics import DT, ROAD, ROUTE, VEHICLE, car, history

FRONT_M = VEHICLE.front_offset_m  # 4.15 m: rear axle to front bumper
REAR_M = VEHICLE.rear_overhang_m  # 1.03 m: rear axle to rear bumper
HALF_WIDTH_M = VEHICLE.width_m / 2  # 1.15 m
CAR_HALF_LENGTH_M = 2.25
LANE_Y_M = 1.75


def drive(
    speed_mps: npt.ArrayLike,
    agents: np.ndarray,
    *,
    x_m: npt.ArrayLike,
    y_m: npt.ArrayLike = LANE_Y_M,
    yaw_rad: float = 0.0,
    agent_velocity_mps: np.ndarray | None = None,
    label: ObjectClass = ObjectClass.CAR,
) -> SimHistory:
    """The ego's rear axle at ``(x_m, y_m)`` (each ``(T,)`` or one value) heading ``yaw_rad``
    at the signed ``speed_mps (T,)``, no acceleration, among ``agents (T, K, 7)`` of class
    ``label`` moving at ``agent_velocity_mps (T, K, 2)`` (None: standing)."""
    speed = np.atleast_1d(np.asarray(speed_mps, dtype=np.float64))
    ego = BicycleState.of(x_m, y_m, yaw_rad, speed, 0.0, 0.0, batch=len(speed))
    return ego_with_agents_history(
        ego, VEHICLE, DT, agents, agent_label=int(label), agent_velocity_mps=agent_velocity_mps
    )


def standing_object(x_m: float, n: int) -> np.ndarray:
    """``(n, 7)``: a 1 m long, 0.5 m wide object (a cone) centred at ``x_m`` in lane 0."""
    return np.tile([x_m, LANE_Y_M, 0.5, 1.0, 0.5, 1.0, 0.0], (n, 1))


def reversing_into_a_car_behind() -> SimHistory:
    """The ego reversing at 2 m/s from x = 50 m; a car behind it, its front 0.3 m behind the
    ego's rear bumper, reversing away at only 1 m/s: the gap closes at 1 m/s (contact in
    tick 3). Shared with the NCAP relative impact speed test."""
    n = 10
    t = np.arange(n) * DT
    car_x = 50.0 - REAR_M - 0.3 - CAR_HALF_LENGTH_M - 1.0 * t
    velocity = np.zeros((n, 1, 2))
    velocity[:, 0, 0] = -1.0
    return drive(np.full(n, -2.0), car(car_x), x_m=50.0 - 2.0 * t, agent_velocity_mps=velocity)


# --- no-at-fault-collision multiplier -----------------------------------------------------


def test_two_at_fault_hits_on_static_objects_zero_the_score() -> None:
    # 4 s at 10 m/s (x 0 -> 40 m) through two cones standing in the lane, their rear faces 10
    # and 25 m ahead of the front bumper: two stopped-track hits, both at fault. nuPlan's
    # static threshold is 1: max(0, 1 - 2 / (1 + 1)) = 0, so the score is 0 (a limit of
    # "more than 2" would give 1.0 and a score of (5 + 0 + 4 + 2) / 16 = 0.6875).
    n = 41
    cones = np.stack(
        [standing_object(10.0 + FRONT_M + 0.5, n), standing_object(25.0 + FRONT_M + 0.5, n)],
        axis=1,
    )
    h = drive(np.full(n, 10.0), cones, x_m=10.0 * np.arange(n) * DT, label=ObjectClass.TRAFFIC_CONE)
    events = classify_collisions(h, ROAD)
    assert [(e.kind, e.at_fault) for e in events] == [("stopped_track", True)] * 2
    m = nuplan_score(h, ROAD, ROUTE, expert_progress_m=40.0)
    assert m.no_at_fault_collisions == 0.0
    assert m.score == 0.0


def test_a_stopped_ego_touching_a_cone_is_not_a_static_fault() -> None:
    # The ego creeps at 0.04 m/s (<= nuPlan's 0.05 m/s: stopped) with its front 0.05 m into
    # a cone from the first tick: a stopped_ego event, not at fault. Only at-fault events
    # count towards the static objects, so the multiplier stays 1.0 (counting every event
    # would give one static hit, 0.5).
    cone = standing_object(50.0 + FRONT_M + 0.5 - 0.05, 2)[:, None, :]
    h = drive([0.04, 0.04], cone, x_m=[50.0, 50.004], label=ObjectClass.TRAFFIC_CONE)
    events = classify_collisions(h, ROAD)
    assert [(e.kind, e.at_fault) for e in events] == [("stopped_ego", False)]
    assert nuplan_score(h, ROAD, ROUTE, expert_progress_m=0.0).no_at_fault_collisions == 1.0


def test_a_sideswipe_with_a_corner_off_the_road_is_at_fault() -> None:
    # Ego centre y = 1.15 - 0.5 = 0.65 m: its right corners 0.5 m past the road edge (y = 0;
    # > the 0.3 m tolerance), its left side at y = 1.8 m, inside lane 0 (no lane marking
    # crossed). A car beside it (centre level with the ego's box centre, 0.1 m of lateral
    # overlap) moving in at 2 m/s: bearing 90 deg, not the front edge -> active_lateral, at
    # fault because the *farthest* corner is off the drivable area (the nearest is on it: a
    # min over the corners would say not at fault).
    y = HALF_WIDTH_M - 0.5
    box_centre_x = 50.0 + VEHICLE.length_m / 2 - REAR_M
    other = car(np.array([box_centre_x]), y=y + HALF_WIDTH_M + 0.9 - 0.1)
    h = drive([10.0], other, x_m=50.0, y_m=y, agent_velocity_mps=np.array([[[10.0, -2.0]]]))
    (event,) = classify_collisions(h, ROAD)
    assert (event.kind, event.at_fault) == ("active_lateral", True)


def test_the_relative_speed_of_a_reversing_ego_keeps_its_sign() -> None:
    # Ego velocity (-2, 0), the car's (-1, 0): |(-2) - (-1)| = 1 m/s at contact (with the
    # ego's speed taken as a magnitude: |2 - (-1)| = 3 m/s).
    (event,) = classify_collisions(reversing_into_a_car_behind(), ROAD)
    assert event.relative_speed_mps == pytest.approx(1.0)


def test_going_back_exactly_the_threshold_still_earns_progress() -> None:
    # nuPlan zeroes the ratio only when the ego went back *more* than the 2 m threshold;
    # at exactly -2 m: min(1, max(-2, 2) / max(8, 2)) = 2 / 8 = 0.25.
    assert progress_ratio(-2.0, 8.0) == pytest.approx(0.25)


# --- TTC -----------------------------------------------------------------------------------


def test_ttc_takes_the_earliest_hit_over_all_agents_at_a_tick() -> None:
    # Ego at 10 m/s, two stopped cars ahead in its lane, their rear faces 4.95 m and 14.95 m
    # ahead of its front bumper: first projected overlaps at 0.5 s (5.0 m > 4.95 m) and 1.5 s.
    # The tick's TTC is the earlier, 0.5 s (keeping the last agent's: 1.5 s).
    near = car(np.array([50.0 + FRONT_M + 4.95 + CAR_HALF_LENGTH_M]))
    far = car(np.array([50.0 + FRONT_M + 14.95 + CAR_HALF_LENGTH_M]))
    h = drive([10.0], np.concatenate([near, far], axis=1), x_m=50.0)
    np.testing.assert_allclose(min_time_to_collision_s(h), [0.5])


def test_being_rear_ended_does_not_zero_the_ttc() -> None:
    # Ego at 0.5 m/s hit from behind by a car at 10 m/s: active_rear, not at fault. The car
    # is behind (not projected: no TTC) and only at-fault collisions set TTC to 0, so min TTC
    # stays inf and the score is 1: progress max(1.5, 2) / max(1, 2) = 1, TTC 1, speed 1,
    # comfort 1 (zeroing TTC at every collision: (5 + 0 + 4 + 2) / 16).
    n = 31
    t = np.arange(n) * DT
    velocity = np.zeros((n, 1, 2))
    velocity[:, 0, 0] = 10.0
    car_x = -REAR_M - CAR_HALF_LENGTH_M - 10.0 + 10.0 * t
    h = history(0.5 * t, np.full(n, 0.5), agents=car(car_x), agent_vel=velocity)
    m = nuplan_score(h, ROAD, ROUTE, expert_progress_m=1.0)
    assert [e.kind for e in m.collisions] == ["active_rear"]
    assert m.min_ttc_s == np.inf
    assert m.ttc_within_bound == 1.0
    assert m.score == pytest.approx(1.0)


@pytest.mark.parametrize(("bearing_deg", "expected_ttc_s"), [(25.0, 0.2), (35.0, np.inf)])
def test_an_agent_counts_within_30_deg_of_the_heading_while_the_ego_keeps_its_lane(
    bearing_deg: float, expected_ttc_s: float
) -> None:
    # Car centre 2.5 m left (lane 1; its right side at 1.75 + 2.5 - 0.9 = 3.35 m, 0.45 m from
    # the ego's left at 2.9 m) and 2.5 / tan(bearing) ahead of the rear axle (x 50 m): 5.36 m
    # at 25 deg, 3.57 m at 35 deg, so its rear (centre - 2.25 m) is behind the ego's front
    # (54.15 m) either way. Cutting in at 3 m/s beside the ego (same 10 m/s along x), the
    # 0.45 m gap is 0.15 m at 0.1 s and -0.15 m at 0.2 s: a hit at 0.2 s when the car
    # counts. The centred ego does not straddle lanes, so it counts only inside nuPlan's
    # 30 deg "ahead" cone (nuplan-devkit master is_agent_ahead; older releases had 20 deg,
    # under which the 25 deg car would be ignored; a 45 deg cone would count both).
    car_x = 50.0 + 2.5 / np.tan(np.deg2rad(bearing_deg))
    other = car(np.array([car_x]), y=LANE_Y_M + 2.5)
    h = drive([10.0], other, x_m=50.0, agent_velocity_mps=np.array([[[10.0, -3.0]]]))
    np.testing.assert_allclose(min_time_to_collision_s(h, road_map=ROAD), [expected_ttc_s])


def test_an_agent_120_deg_off_the_heading_counts_while_the_ego_straddles_lanes() -> None:
    # Ego on the lane marking (y = 3.5 m: straddling). Car centre 3 m left and
    # 3 / tan(60 deg) = 1.73 m behind the rear axle: bearing 120 deg, not behind (150 deg),
    # so it counts. Cutting in at 3 m/s, its right side (y = 5.6) meets the ego's left
    # (y = 4.65), 0.95 m away, at 0.4 s (1.2 m; 0.9 m at 0.3 s), overlapping 1.55 m
    # lengthwise. With a 90 deg "behind" bound it would be behind: inf. Not ahead, so without
    # the map (no straddle test) it does not count either.
    car_x = 50.0 - 3.0 / np.tan(np.deg2rad(60.0))
    other = car(np.array([car_x]), y=6.5)
    h = drive([10.0], other, x_m=50.0, y_m=3.5, agent_velocity_mps=np.array([[[10.0, -3.0]]]))
    np.testing.assert_allclose(min_time_to_collision_s(h, road_map=ROAD), [0.4])
    assert np.isinf(min_time_to_collision_s(h)).all()


def test_the_ahead_bearing_is_measured_from_the_rear_axle() -> None:
    # Car centre 3 m left and 3 / tan(27 deg) = 5.89 m ahead of the rear axle: 27 deg from the
    # rear axle (ahead) but atan(3 / (5.89 - 1.56)) = 34.7 deg from the box centre, 1.56 m
    # ahead of the axle (not ahead; the ego keeps its lane: inf). Its rear (53.64 m) is behind
    # the ego's front (54.15 m); its right side (4.75 - 0.9 = 3.85 m) is 0.95 m from the ego's
    # left, closing at 3 m/s: 0.05 m at 0.3 s, -0.25 m at 0.4 s: TTC 0.4 s.
    other = car(np.array([50.0 + 3.0 / np.tan(np.deg2rad(27.0))]), y=LANE_Y_M + 3.0)
    h = drive([10.0], other, x_m=50.0, agent_velocity_mps=np.array([[[10.0, -3.0]]]))
    np.testing.assert_allclose(min_time_to_collision_s(h, road_map=ROAD), [0.4])


def test_an_agent_stays_ignored_after_its_contact_ends() -> None:
    # Ego at 10 m/s; a lead car at 12 m/s overlapping it by 0.1 m at tick 0, then pulling
    # away (contact at tick 0 only). At the last tick the car is recorded stopped 1.9 m ahead:
    # a projected hit at 0.2 s if it counted again. Ignored from its first contact on: inf at
    # every tick.
    n = 11
    t = np.arange(n) * DT
    ego_x = 10.0 * t
    car_x = ego_x + FRONT_M + CAR_HALF_LENGTH_M - 0.1 + 2.0 * t
    velocity = np.zeros((n, 1, 2))
    velocity[:-1, 0, 0] = 12.0
    h = drive(np.full(n, 10.0), car(car_x), x_m=ego_x, agent_velocity_mps=velocity)
    assert h.collisions[0, 0] and not h.collisions[1:, 0].any()
    assert np.isinf(min_time_to_collision_s(h)).all()


def test_a_reversing_ego_has_a_ttc() -> None:
    # Ego reversing at 1 m/s (|speed| > 5e-3: not stopped), a car 5 m ahead of its front
    # coming at 10 m/s: closing 9 m/s, 4.5 m at 0.5 s, 5.4 m at 0.6 s: TTC 0.6 s (no TTC if
    # the signed speed were tested; 0.5 s if the ego were projected forwards, closing 11 m/s).
    other = car(np.array([50.0 + FRONT_M + 5.0 + CAR_HALF_LENGTH_M]))
    h = drive([-1.0], other, x_m=50.0, agent_velocity_mps=np.array([[[-10.0, 0.0]]]))
    np.testing.assert_allclose(min_time_to_collision_s(h), [0.6])


def test_a_reversing_ego_is_projected_backwards() -> None:
    # Ego reversing at 2 m/s away from a stopped car 1.1 m ahead of its front: the gap only
    # grows, no projected hit (projected forwards it would hit at 0.6 s: 1.2 m > 1.1 m).
    other = car(np.array([50.0 + FRONT_M + 1.1 + CAR_HALF_LENGTH_M]))
    h = drive([-2.0], other, x_m=50.0)
    assert np.isinf(min_time_to_collision_s(h)).all()
