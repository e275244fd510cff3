"""Trajectory tracking: pure-pursuit lateral and PI + feed-forward longitudinal control, with
the commands clamped to the vehicle's limits."""

from drivestack.planning.control.tracker import (
    TrackerParams,
    TrajectoryTracker,
    pure_pursuit_steering,
)

__all__ = ["TrackerParams", "TrajectoryTracker", "pure_pursuit_steering"]
