"""``score_rollouts`` part by part, by hand, on hand-built rollouts with no agents: the
speed-limit part (nuPlan's ``speed_limit_compliance``: no tolerance on the overspeed, its
integral over the horizon against ``MAX_OVERSPEED_MPS`` for the whole horizon), the TTC
threshold and a stopped ego, progress relative to the best proposal with its 0.5 m floor, and
the weights ``(5 progress + 5 ttc + 4 speed_limit + 2 comfort) / 16`` of nuPlan's closed-loop
score.

Every proposal drives straight along lane 0 (y = 1.75 m) of a straight 20 m/s road for
``N = 10`` steps of ``DT = 0.1`` s (11 states, 1 s), on the road and, unless a test says
otherwise, comfortably (no yaw, constant speed, zero acceleration) and with no leader.
"""

from __future__ import annotations

import numpy as np

from drivestack.ingest.maps.synthetic import straight_road
from drivestack.planning.proposals import Rollout
from drivestack.planning.reference_path import ReferencePath
from drivestack.planning.scoring import (
    MAX_OVERSPEED_MPS,
    TTC_THRESHOLD_S,
    ProposalScores,
    score_rollouts,
)
from drivestack.prediction.forecast import constant_velocity_forecast
from drivestack.sim.vehicle import VehicleParams
from drivestack.structures.boxes import Boxes3D

DT = 0.1
N = 10
K = N + 1  # states per proposal, k = 0..N
LIMIT_MPS = 20.0
LANE_Y_M = 1.75
ROAD = straight_road(speed_limit_mps=LIMIT_MPS)
PATH = ReferencePath.from_route(ROAD, ["road_0"])
VEHICLE = VehicleParams()


def _rollout(
    speeds_mps: np.ndarray,
    gap_m: np.ndarray | None = None,
    closing_mps: np.ndarray | None = None,
    accel_mps2: np.ndarray | None = None,
) -> Rollout:
    """``(P, K)`` speeds driven along lane 0 from x = 0 (x advanced by ``speed * DT`` per
    step), stations on ``PATH`` from the start's; no leader unless ``gap_m`` / ``closing_mps``
    ``(P, K)`` give one; ``accel_mps2 (P, K)`` the acceleration field (0 by default)."""
    speeds = np.asarray(speeds_mps, dtype=np.float64)
    p = speeds.shape[0]
    x = np.concatenate([np.zeros((p, 1)), np.cumsum(speeds[:, 1:] * DT, axis=1)], axis=1)
    states = np.zeros((p, K, 6))  # x, y, yaw, speed, acceleration, steering
    states[..., 0] = x
    states[..., 1] = LANE_Y_M
    states[..., 3] = speeds
    if accel_mps2 is not None:
        states[..., 4] = accel_mps2
    s0 = float(PATH.project(np.array([[0.0, LANE_Y_M]]))[0][0])
    gap = np.full((p, K), np.inf) if gap_m is None else np.asarray(gap_m, dtype=np.float64)
    closing = np.zeros((p, K)) if closing_mps is None else np.asarray(closing_mps, np.float64)
    return Rollout(states, s0 + x, gap, closing)


def _score(rollout: Rollout) -> ProposalScores:
    forecast = constant_velocity_forecast(Boxes3D.empty("world"), N * DT, DT)
    return score_rollouts(rollout, forecast, PATH, ROAD, VEHICLE, DT, N)


def test_the_hand_built_proposals_pass_every_other_part() -> None:
    # the premise of the tests below: on the road, comfortable, no collision
    s = _score(_rollout(np.full((2, K), [[10.0], [15.0]])))
    np.testing.assert_array_equal(s.collision, [1.0, 1.0])
    np.testing.assert_array_equal(s.drivable, [1.0, 1.0])
    np.testing.assert_array_equal(s.comfort, [1.0, 1.0])
    np.testing.assert_array_equal(s.ttc, [1.0, 1.0])
    np.testing.assert_array_equal(s.speed_limit, [1.0, 1.0])


def test_speed_limit_part_is_the_overspeed_integral_over_the_horizon_by_hand() -> None:
    # nuPlan's speed_limit_compliance: 1 - sum(overspeed) * dt / (2.23 m/s * duration), the
    # duration n_steps * dt = 10 * 0.1 = 1.0 s, every one of the 11 states counted.
    # 21 m/s on the 20 m/s road: over = 11 * 1.0 m/s * 0.1 s = 1.1 m;
    #   score = 1 - 1.1 / (2.23 * 10 * 0.1) = 1 - 1.1 / 2.23 = 0.50673...
    # 20.5 m/s: over = 11 * 0.5 * 0.1 = 0.55 m; score = 1 - 0.55 / 2.23 = 0.75336...
    # at the limit: 1; 25 m/s: over = 11 * 5 * 0.1 = 5.5 m > 2.23 m, clipped to 0
    assert MAX_OVERSPEED_MPS == 2.23
    speeds = np.full((4, K), [[20.0], [20.5], [21.0], [25.0]])
    s = _score(_rollout(speeds))
    duration_s = N * DT
    expected = [
        1.0,
        1.0 - (K * 0.5 * DT) / (MAX_OVERSPEED_MPS * duration_s),
        1.0 - (K * 1.0 * DT) / (MAX_OVERSPEED_MPS * duration_s),
        0.0,
    ]
    np.testing.assert_allclose(s.speed_limit, expected, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(s.speed_limit[1:3], [0.75336, 0.50673], atol=5e-6)


def test_speed_limit_part_has_no_tolerance_on_the_overspeed() -> None:
    # 0.5 m/s over the limit in a single state (k = 5): over = 0.5 * 0.1 = 0.05 m,
    # score = 1 - 0.05 / (2.23 * 1.0) = 0.97758...; nuPlan counts any speed above the limit
    speeds = np.full((1, K), LIMIT_MPS)
    speeds[0, 5] = LIMIT_MPS + 0.5
    s = _score(_rollout(speeds))
    np.testing.assert_allclose(s.speed_limit, [1.0 - 0.05 / (MAX_OVERSPEED_MPS * 1.0)], rtol=1e-12)
    assert s.speed_limit[0] < 1.0


def test_ttc_part_passes_just_above_the_threshold_and_fails_just_below() -> None:
    # a leader closing at 10 m/s: TTC = gap / closing, the part 1 iff min TTC >= 0.95 s
    assert TTC_THRESHOLD_S == 0.95
    closing = np.full((3, K), 10.0)
    gap = np.full((3, K), [[9.6], [9.4], [20.0]])  # TTC 0.96 s, 0.94 s, 2 s
    s = _score(_rollout(np.full((3, K), 10.0), gap, closing))
    np.testing.assert_array_equal(s.ttc, [1.0, 0.0, 1.0])


def test_ttc_part_fails_on_one_step_below_the_threshold() -> None:
    # TTC 2 s everywhere but 0.5 s at k = 7: the minimum over the horizon counts
    closing = np.full((1, K), 10.0)
    gap = np.full((1, K), 20.0)
    gap[0, 7] = 5.0
    s = _score(_rollout(np.full((1, K), 10.0), gap, closing))
    np.testing.assert_array_equal(s.ttc, [0.0])


def test_ttc_is_not_counted_for_a_stopped_ego() -> None:
    # speed 0 (at most STOPPED_SPEED_MPS) with a gap of 0.5 m closing at 1 m/s (TTC 0.5 s):
    # nuPlan computes no TTC while the ego is stopped, so the part is 1; the same gap and
    # closing speed while moving at 10 m/s fail
    speeds = np.full((2, K), [[0.0], [10.0]])
    gap = np.full((2, K), 0.5)
    closing = np.full((2, K), 1.0)
    s = _score(_rollout(speeds, gap, closing))
    np.testing.assert_array_equal(s.ttc, [1.0, 0.0])


def test_progress_is_relative_to_the_best_proposal() -> None:
    # 1 m/s and 2 m/s for 1 s: progress 1 m and 2 m, the best 2 m (over the 0.5 m floor):
    # 1 / 2 and 2 / 2
    s = _score(_rollout(np.full((2, K), [[1.0], [2.0]])))
    np.testing.assert_allclose(s.progress, [0.5, 1.0], rtol=1e-12)


def test_progress_is_one_for_every_proposal_when_the_best_is_under_the_floor() -> None:
    # 0.2 m/s and 0.4 m/s for 1 s: progress 0.2 m and 0.4 m, the best under 0.5 m: all 1
    s = _score(_rollout(np.full((2, K), [[0.2], [0.4]])))
    np.testing.assert_array_equal(s.progress, [1.0, 1.0])


def test_total_weights_5_progress_5_ttc_4_speed_2_comfort_over_16() -> None:
    # four proposals at 10 m/s (progress 1 m, the best) and one at 5 m/s (progress 0.5):
    #   all parts 1                                  -> (5 + 5 + 4 + 2) / 16 = 1
    #   TTC fails only (gap 5 m closing at 10 m/s)   -> (5 + 0 + 4 + 2) / 16 = 11 / 16
    #   comfort fails only (-5 m/s^2 < -4.05 m/s^2)   -> (5 + 5 + 4 + 0) / 16 = 14 / 16
    #   progress 0.5 only                            -> (2.5 + 5 + 4 + 2) / 16 = 13.5 / 16
    speeds = np.full((4, K), [[10.0], [10.0], [10.0], [5.0]])
    gap = np.full((4, K), np.inf)
    closing = np.zeros((4, K))
    gap[1], closing[1] = 5.0, 10.0
    accel = np.zeros((4, K))
    accel[2] = -5.0  # the acceleration field only (speed held): a lon-acceleration breach
    s = _score(_rollout(speeds, gap, closing, accel))
    np.testing.assert_array_equal(s.ttc, [1.0, 0.0, 1.0, 1.0])
    np.testing.assert_array_equal(s.comfort, [1.0, 1.0, 0.0, 1.0])
    np.testing.assert_allclose(s.progress, [1.0, 1.0, 1.0, 0.5], rtol=1e-12)
    np.testing.assert_allclose(s.total, [1.0, 11.0 / 16.0, 14.0 / 16.0, 13.5 / 16.0], rtol=1e-12)


def test_total_weighs_the_speed_limit_part_by_4_of_16() -> None:
    # 21 m/s alone: progress 1 (the best), TTC 1, comfort 1, speed 1 - 1.1 / 2.23:
    # total = (5 + 5 + 4 * (1 - 1.1 / 2.23) + 2) / 16
    s = _score(_rollout(np.full((1, K), 21.0)))
    speed_part = 1.0 - 1.1 / MAX_OVERSPEED_MPS
    np.testing.assert_allclose(s.total, [(12.0 + 4.0 * speed_part) / 16.0], rtol=1e-12)
