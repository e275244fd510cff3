"""Trajectory tracking: pure-pursuit lateral and PID longitudinal control."""

from drivestack.planning.control.tracker import (
    TrackerParams,
    TrajectoryTracker,
    pure_pursuit_steering,
)

__all__ = ["TrackerParams", "TrajectoryTracker", "pure_pursuit_steering"]
