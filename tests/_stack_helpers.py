"""Shared pieces of the Stack tests: a one-class tracker and posed frames 0.1 s apart."""

from __future__ import annotations

from drivestack.core.transforms import SE3
from drivestack.structures.sensor_frame import SensorFrame
from drivestack.tracking.config import ClassTrackerConfig, LifecycleConfig, TrackerConfig
from drivestack.tracking.tracker import Tracker

STEP_NS = 100_000_000


def car_tracker(compensate: bool = True) -> Tracker:
    """A car tracker confirming on the first hit, with or without ego-motion compensation."""
    lifecycle = LifecycleConfig(min_hits=1, max_age=2)
    return Tracker(
        TrackerConfig(
            classes={"car": ClassTrackerConfig(lifecycle=lifecycle)},
            ego_motion_compensation=compensate,
        )
    )


def moving_frame(k: int, posed: bool = True) -> SensorFrame:
    """Frame ``k`` at ``k * STEP_NS``: the ego 2 m further along x each frame (or no pose)."""
    pose = SE3.from_xyz_yaw([2.0 * k, 0.0, 0.0], 0.0) if posed else None
    return SensorFrame(k * STEP_NS, world_from_ego=pose)
