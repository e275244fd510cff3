"""The stack of the simulated sensor (configs/stack/sim_lidar.yaml) fits that sensor."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from drivestack.core.transforms import SE3
from drivestack.perception.lidar.config import load_lidar_detector_config
from drivestack.sim.perceived import default_lidar
from drivestack.structures.boxes import Boxes3D
from drivestack.structures.labels import ObjectClass
from drivestack.tracking import build_tracker, load_tracker_config

REPO = Path(__file__).resolve().parents[2]


def test_detector_config_matches_the_simulated_lidar():
    cfg = load_lidar_detector_config(REPO / "configs/perception/lidar_sim.yaml")
    mount_z_m = float(default_lidar().ego_from_lidar.translation[2])
    assert cfg.ground.sensor_height_m == mount_z_m  # the sim's road is z = 0 under the ego
    assert cfg.dedup.enabled


def _speed_errors(tracker_yaml: str, decel_mps2: float = 6.0) -> tuple[float, float]:
    """A lead car at 13.9 m/s that brakes at ``decel_mps2`` to a standstill after 2 s, boxes
    with 0.1 m centre noise at 10 Hz: mean tracked-speed error while braking, and the largest
    error from 1 s after it stopped."""
    tracker = build_tracker(load_tracker_config(REPO / "configs/tracking" / tracker_yaml))
    rng = np.random.default_rng(0)
    x_m, v_mps = 20.0, 13.9
    braking, stopped = [], []
    stop_tick = None
    for k in range(90):
        box = [x_m + rng.normal(0, 0.1), rng.normal(0, 0.05), 0.75, 3.9, 1.9, 1.5, 0.0]
        dets = Boxes3D.from_array7([box], "ego", k * 100_000_000, label=[ObjectClass.CAR])
        tracks = tracker.step(dets, SE3.identity())
        if k >= 20 and len(tracks):
            error = float(tracks.boxes.velocity_mps[0, 0]) - v_mps
            if v_mps > 0:
                braking.append(error)
            elif k >= stop_tick + 10:  # type: ignore[operator]
                stopped.append(abs(error))
        a = -decel_mps2 if k >= 20 and v_mps > 0 else 0.0
        x_m += v_mps * 0.1 + 0.5 * a * 0.01
        v_mps = max(0.0, v_mps + a * 0.1)
        if v_mps == 0.0 and stop_tick is None:
            stop_tick = k
    return float(np.mean(braking)), float(np.max(stopped))


def test_sim_tracker_follows_a_braking_lead():
    lag_mps, standstill_mps = _speed_errors("lidar_sim_stack.yaml")
    assert lag_mps < 1.5 and standstill_mps < 1.0  # measured 1.15 and 0.78 m/s
    # the log-replay tracker (position noise 3 m/sqrt(s), boxes trusted to 1 m) lags far more
    old_lag_mps, old_standstill_mps = _speed_errors("lidar_stack.yaml")
    assert old_lag_mps > 2 * lag_mps and old_standstill_mps > 2 * standstill_mps  # 3.8, 2.1
