"""nuPlan closed-loop score rules no other test pins, on crafted drives along a straight
two-lane road (limit 15 m/s), the ego in lane 0 (y = 1.75 m).

nuplan-devkit's definitions (``closed_loop_reactive_agents_weighted_average.yaml``,
``no_ego_at_fault_collisions.py``, ``ego_is_making_progress.py``):

- score = no_at_fault_collisions * drivable * direction * making_progress
  * (5 progress + 5 ttc + 4 speed_limit + 2 comfort) / 16;
- no_at_fault_collisions multiplies ``max(0, 1 - n / (threshold + 1))`` per kind, thresholds 0
  for vehicles and VRUs and 1 for static objects: one at-fault hit on an object scores 0.5;
- making progress: ego-to-expert progress ratio >= 0.2.
"""

from __future__ import annotations

import numpy as np
import pytest

from drivestack.eval.driving.nuplan import (
    MAKING_PROGRESS_RATIO,
    WEIGHTS,
    classify_collisions,
    nuplan_score,
)
from drivestack.ingest.maps.synthetic import straight_road
from drivestack.planning.reference_path import ReferencePath
from drivestack.sim.runner import SimHistory
from drivestack.sim.vehicle import BicycleState, VehicleParams
from drivestack.structures.labels import ObjectClass
from tests.eval.driving._ego_history import ego_with_agents_history

VEHICLE = VehicleParams()
ROAD = straight_road(length_m=600.0, n_lanes=2, speed_limit_mps=15.0)
ROUTE = ReferencePath.from_route(ROAD, ["road_0"])
DT = 0.1
LANE_Y_M = 1.75


def _history(
    x_m: np.ndarray,
    speed_mps: np.ndarray,
    agent_boxes: np.ndarray | None = None,
    agent_label: ObjectClass = ObjectClass.CAR,
) -> SimHistory:
    """The ego's rear axle at ``x_m`` along lane 0 with ``speed_mps``; ``agent_boxes (T, 7)``:
    one standing agent of class ``agent_label`` (None: no agent)."""
    n = len(x_m)
    st = BicycleState.of(x_m, np.full(n, LANE_Y_M), 0.0, speed_mps, np.gradient(speed_mps, DT), 0.0)
    agents = np.zeros((n, 0, 7)) if agent_boxes is None else agent_boxes[:, None, :]
    return ego_with_agents_history(st, VEHICLE, DT, agents, agent_label=agent_label)


def test_the_weights_are_nuplans() -> None:
    assert WEIGHTS == {"progress": 5.0, "ttc": 5.0, "speed_limit": 4.0, "comfort": 2.0}


@pytest.mark.parametrize("label", [ObjectClass.BARRIER, ObjectClass.TRAFFIC_CONE])
def test_one_at_fault_hit_on_a_static_object_halves_the_score(label: ObjectClass) -> None:
    n = 31  # 3 s at 10 m/s: the ego's rear axle from x = 0 to 30 m
    x = 10.0 * np.arange(n) * DT
    # a 1 m long object standing in the lane, its rear face 20 m ahead of the ego's front:
    # the ego's front bumper reaches it at t = 2 s and it drives through it
    obj = np.tile([20.0 + VEHICLE.front_offset_m + 0.5, LANE_Y_M, 0.5, 1.0, 0.5, 1.0, 0.0], (n, 1))
    h = _history(x, np.full(n, 10.0), obj, label)
    events = classify_collisions(h, ROAD)
    assert [(e.kind, e.at_fault) for e in events] == [("stopped_track", True)]
    m = nuplan_score(h, ROAD, ROUTE, expert_progress_m=30.0)
    # one object hit: max(0, 1 - 1 / (1 + 1)) = 0.5
    assert m.no_at_fault_collisions == 0.5
    # progress 30 / 30 = 1, TTC 0 at the at-fault tick (0 < 0.95: ttc 0), 10 m/s within the
    # limit (1), constant speed (comfortable, 1): 0.5 * (5 + 0 + 4 + 2) / 16
    assert (m.progress, m.ttc_within_bound, m.speed_limit_compliance, m.comfort) == (
        pytest.approx(1.0),
        0.0,
        1.0,
        1.0,
    )
    assert m.score == pytest.approx(0.5 * 11 / 16)


def test_speed_limit_weighs_4_and_comfort_2() -> None:
    n = 51  # 5 s at 20 m/s on a 15 m/s road: 100 m
    m = nuplan_score(
        _history(20.0 * np.arange(n) * DT, np.full(n, 20.0)), ROAD, ROUTE, expert_progress_m=100.0
    )
    # over-speed 5 m/s at all 51 ticks: 1 - 51 * 5 * 0.1 / (2.23 * 5.0) = 1 - 2.29 < 0 -> 0;
    # constant speed: comfortable
    assert (m.speed_limit_compliance, m.comfort) == (0.0, 1.0)
    assert (m.progress, m.ttc_within_bound) == (pytest.approx(1.0), 1.0)
    # (5 * 1 + 5 * 1 + 4 * 0 + 2 * 1) / 16 = 12 / 16 = 0.75 (weights 2 and 4 swapped: 14 / 16)
    assert m.score == pytest.approx(0.75)


@pytest.mark.parametrize(
    ("expert_progress_m", "making_progress", "score"),
    [
        # standing ego: ratio max(0, 2) / max(10, 2) = 0.2, exactly the threshold: >= holds;
        # score (5 * 0.2 + 5 * 1 + 4 * 1 + 2 * 1) / 16 = 12 / 16 (TTC: no TTC while standing)
        (10.0, 1.0, 0.75),
        # 2 / 10.5 = 0.19 < 0.2: not making progress, the multiplier zeroes the score
        (10.5, 0.0, 0.0),
    ],
)
def test_making_progress_at_exactly_the_ratio(
    expert_progress_m: float, making_progress: float, score: float
) -> None:
    assert MAKING_PROGRESS_RATIO == 0.2
    h = _history(np.zeros(51), np.zeros(51))
    m = nuplan_score(h, ROAD, ROUTE, expert_progress_m=expert_progress_m)
    assert m.progress == pytest.approx(2.0 / expert_progress_m)
    assert m.making_progress == making_progress
    assert m.score == pytest.approx(score)
