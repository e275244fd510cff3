"""TrajectoryTracker refuses a state far from the plan and time going backwards."""

from __future__ import annotations

import numpy as np
import pytest

from drivestack.planning.control import TrackerParams, TrajectoryTracker
from drivestack.sim.vehicle import BicycleState
from drivestack.structures.trajectory import Trajectory


def _plan(n: int = 81, dt_s: float = 0.1, speed_mps: float = 10.0) -> Trajectory:
    """Along +x from the origin at 10 m/s (x 0..80 m over 8 s)."""
    t = np.arange(n) * dt_s
    z = np.zeros(n)
    return Trajectory(
        np.round(t * 1e9).astype(np.int64),
        speed_mps * t,
        z,
        z,
        np.full(n, speed_mps),
        z,
        z,
        "world",
    )


def test_state_far_from_the_plan_is_refused() -> None:
    tracker = TrajectoryTracker()
    # 10.5 m beside the plan's path (default limit 10 m); before: full steering lock
    with pytest.raises(ValueError, match=r"10\.500 m from the plan's path"):
        tracker.step(BicycleState.of(40.0, 10.5, 0.0, 10.0), _plan(), 0)
    tracker.step(BicycleState.of(40.0, 9.5, 0.0, 10.0), _plan(), 0)  # 9.5 m: within
    # before the plan's start: the distance to its first point, hypot(3, 4) = 5 m
    tight = TrajectoryTracker(TrackerParams(max_distance_from_plan_m=4.9))
    with pytest.raises(ValueError, match=r"5\.000 m from the plan's path .*= 4\.9 m"):
        tight.step(BicycleState.of(-3.0, 4.0, 0.0, 10.0), _plan(), 0)
    TrajectoryTracker(TrackerParams(max_distance_from_plan_m=5.1)).step(
        BicycleState.of(-3.0, 4.0, 0.0, 10.0), _plan(), 0
    )


def test_standing_plan_distance_is_to_its_point() -> None:
    standing = _plan(speed_mps=0.0)  # every sample at the origin
    tracker = TrajectoryTracker(TrackerParams(max_distance_from_plan_m=2.0))
    tracker.step(BicycleState.of(1.2, 1.6, 0.0, 0.0), standing, 0)  # 2.0 m: within
    with pytest.raises(ValueError, match=r"2\.500 m from the plan's path"):
        tracker.step(BicycleState.of(1.5, 2.0, 0.0, 0.0), standing, 0)


def test_time_going_backwards_is_refused_until_reset() -> None:
    tracker = TrajectoryTracker()
    state = BicycleState.of(0.0, 0.0, 0.0, 5.0)
    tracker.step(state, _plan(), 3_000_000_000)
    tracker.step(state, _plan(), 3_000_000_000)  # the same time again: fine
    integral = tracker._integral
    # before: accepted, and the PI integral grew
    with pytest.raises(ValueError, match="time_ns 2500000000 is earlier than the previous"):
        tracker.step(state, _plan(), 2_500_000_000)
    assert tracker._integral == integral
    tracker.reset()
    tracker.step(state, _plan(), 2_500_000_000)


@pytest.mark.parametrize("value", [0.0, -1.0, float("nan")])
def test_max_distance_from_plan_must_be_positive(value: float) -> None:
    with pytest.raises(ValueError, match=r"TrackerParams\.max_distance_from_plan_m"):
        TrackerParams(max_distance_from_plan_m=value)
