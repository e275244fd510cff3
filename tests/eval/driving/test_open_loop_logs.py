"""Open-loop runs on recorded drives (drivestack.eval.driving.open_loop_logs): a synthetic
straight-road log with hand-computed errors, and one real Argoverse 2 log."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from drivestack.eval.driving.open_loop import OpenLoopParams, open_loop_result
from drivestack.eval.driving.open_loop_logs import (
    CONSTANT_VELOCITY,
    RecordedMotion,
    evaluate_av2_log,
    recorded_ego_state,
    run_open_loop,
    steering_for,
)
from drivestack.ingest.maps.synthetic import straight_road
from drivestack.sim.av2_log import Av2LogScenario
from drivestack.sim.vehicle import BicycleState, VehicleParams
from drivestack.sim.world import World

LANE_Y_M = 1.75  # lane road_0 of the straight road is centred here


def straight_log(speed_mps: float, accel_mps2: float = 0.0) -> tuple[Av2LogScenario, World]:
    """A 15.5 s recorded drive along lane road_0 at 10 Hz (no agents), and its world."""
    road_map = straight_road(speed_limit_mps=15.0)
    t = np.round(np.arange(156) * 0.1, 9)
    x = speed_mps * t + 0.5 * accel_mps2 * t**2
    log = Av2LogScenario(
        log_dir=Path("synthetic-straight"),
        road_map=road_map,
        time_s=t,
        ego_xy_m=np.stack([x, np.full_like(x, LANE_Y_M)], axis=1),
        ego_yaw_rad=np.zeros_like(t),
        ego_speed_mps=speed_mps + accel_mps2 * t,
        agents=(),
    )
    world = World(road_map, BicycleState.of(0.0, LANE_Y_M, 0.0, speed_mps), [], dt_s=0.1)
    return log, world


def test_constant_velocity_scores_perfectly_on_a_constant_speed_drive() -> None:
    log, world = straight_log(10.0)
    run = run_open_loop(log, ["road_0"], world, [CONSTANT_VELOCITY, "pdm"])
    assert run.instants_s == [float(k) for k in range(13)]
    result = open_loop_result(run.errors[CONSTANT_VELOCITY], OpenLoopParams())
    assert [h.instants for h in result.horizons] == [13, 11, 8]
    assert result.average_l2_m == pytest.approx(0.0, abs=1e-9)
    assert result.final_heading_rad == pytest.approx(0.0, abs=1e-12)
    assert result.score == pytest.approx(1.0)
    # PDM, free road, human below the limit: it speeds up, so it scores below the baseline
    pdm = open_loop_result(run.errors["pdm"], OpenLoopParams())
    assert pdm.score is not None and pdm.average_l2_m is not None
    assert pdm.average_l2_m > 0.0 and pdm.score < 1.0


def test_constant_velocity_on_a_braking_drive_misses_by_half_a_t_squared() -> None:
    log, world = straight_log(10.0, accel_mps2=-0.4)
    run = run_open_loop(log, ["road_0"], world, [CONSTANT_VELOCITY])
    k = np.arange(1, 9, dtype=float)
    # the planner's speed is a backward difference: at a sweep, the speed of the interval
    # before it, 0.05 s earlier: 0.4 * 0.05 = 0.02 m/s above the recorded one (a central
    # difference, exact on a quadratic, read the pose after the instant). From 1 s on the
    # error at k s is 0.5 * 0.4 * k^2 + 0.02 * k (the first sweep's speed is one-sided)
    for errors in run.errors[CONSTANT_VELOCITY][1:]:
        n = len(errors.displacement_m)
        assert errors.displacement_m == pytest.approx(0.2 * k[:n] ** 2 + 0.02 * k[:n], abs=1e-6)
    result = open_loop_result(run.errors[CONSTANT_VELOCITY][1:], OpenLoopParams())
    assert result.horizons[0].average_l2_m == pytest.approx(
        0.2 * (1 + 4 + 9) / 3 + 0.02 * 2, abs=1e-6
    )
    assert result.horizons[2].final_l2_m == pytest.approx(12.8 + 0.16, abs=1e-6)
    # largest errors 1.86, 5.1 and 12.96 m are within 6, 8 and 16 m: no miss
    assert result.miss_rate_within_bound == 1.0
    assert result.score == pytest.approx(
        ((1 - result.average_l2_m / 8) + (1 - result.final_l2_m / 8) + 4) / 6
    )


def test_the_recorded_ego_state_at_an_instant() -> None:
    log, _ = straight_log(10.0, accel_mps2=-0.5)
    motion = RecordedMotion.of(log)
    ego = recorded_ego_state(motion, 2.0, 2_000_000_000, VehicleParams(), "world")
    assert (ego.x_m, ego.y_m, ego.yaw_rad) == pytest.approx((19.0, LANE_Y_M, 0.0))
    # backward differences: the speed over 1.9 .. 2.0 s, i.e. at 1.95 s (not the 9.0 m/s
    # of a central difference, which reads the pose at 2.1 s)
    assert ego.speed_mps == pytest.approx(10.0 - 0.5 * 1.95)
    assert ego.acceleration_mps2 == pytest.approx(-0.5)
    assert ego.steering_rad == 0.0
    vehicle = VehicleParams()
    assert steering_for(10.0, 0.1, vehicle) == pytest.approx(math.atan(vehicle.wheelbase_m * 0.01))
    assert steering_for(0.5, 0.3, vehicle) == 0.0  # standing: no steering from yaw noise
    assert steering_for(2.0, 5.0, vehicle) == pytest.approx(vehicle.max_steering_rad)


def test_an_unknown_planner_is_refused() -> None:
    log, world = straight_log(10.0)
    with pytest.raises(ValueError, match="unknown planner 'rrt'"):
        run_open_loop(log, ["road_0"], world, ["rrt"])


@pytest.mark.data
def test_one_av2_log_on_its_closed_loop_route(shared_data: Path) -> None:
    log_dir = shared_data / "argoverse2/sensor/val/adcf7d18-0510-35b0-a2fa-b4cea13a6d76"
    params = OpenLoopParams()
    run = evaluate_av2_log(log_dir, [CONSTANT_VELOCITY, "idm"], params)
    assert run.route_lanes[0] == "42811487"  # configs/scenarios/av2_adcf7d18.yaml's start lane
    assert len(run.instants_s) == 13
    cv = run.errors[CONSTANT_VELOCITY]
    # the human waits about 5 s from standstill: standing still is what it does
    assert np.max(cv[0].displacement_m[:3]) < 0.1
    for name in (CONSTANT_VELOCITY, "idm"):
        result = open_loop_result(run.errors[name], params)
        assert [h.instants for h in result.horizons] == [13, 11, 8]
        assert result.score is not None and 0.0 <= result.score <= 1.0
        assert all(np.isfinite(e.displacement_m).all() for e in run.errors[name])
    # pulling away at 5 s: the baseline, still standing, falls behind
    assert np.max(cv[5].displacement_m) > 5.0
