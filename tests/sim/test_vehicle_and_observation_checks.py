"""Vehicle settings, the bicycle step and the planner's Observation refuse what they cannot
honour, naming the field (walkthrough items 5, 8, 10 and 12)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from drivestack.planning.control import TrajectoryTracker
from drivestack.sim.vehicle import BicycleState, VehicleParams, bicycle_step
from drivestack.sim.world import Observation
from drivestack.structures.boxes import Boxes3D
from drivestack.structures.ego_state import EgoState
from drivestack.structures.trajectory import Trajectory


@pytest.mark.parametrize(
    ("settings", "error", "message"),
    [
        ({"wheelbase_m": 0.0}, ValueError, r"VehicleParams.wheelbase_m .* > 0, got 0.0"),
        ({"max_steering_rad": -0.6}, ValueError, r"VehicleParams.max_steering_rad .* got -0.6"),
        ({"max_steering_rad": 1.6}, ValueError, r"max_steering_rad .* < 1.5708, got 1.6"),
        ({"max_accel_mps2": math.nan}, ValueError, r"VehicleParams.max_accel_mps2 .* got nan"),
        ({"max_decel_mps2": math.inf}, ValueError, r"VehicleParams.max_decel_mps2 .* got inf"),
        ({"width_m": -2.3}, ValueError, r"VehicleParams.width_m .* got -2.3"),
        ({"rear_overhang_m": -1.0}, ValueError, r"VehicleParams.rear_overhang_m .* >= 0"),
        ({"rear_overhang_m": 6.0}, ValueError, r"rear_overhang_m .* < 5.18, got 6.0"),
        ({"length_m": "5"}, TypeError, r"VehicleParams.length_m must be a finite number, got str"),
    ],
)
def test_bad_vehicle_settings_are_named(settings: dict, error: type, message: str) -> None:
    with pytest.raises(error, match=message):
        VehicleParams(**settings)


def test_valid_custom_limits_still_bound_the_tracker() -> None:
    # a plan heading up-left at 10 m/s: steering left, clamped to the custom 0.3 rad
    t = np.arange(51) * 0.1
    left = Trajectory(
        np.round(t * 1e9).astype(np.int64), -7.07 * t, 7.07 * t, np.full(51, 0.75 * np.pi),
        np.full(51, 10.0), np.zeros(51), np.zeros(51), "world",
    )  # fmt: skip
    tracker = TrajectoryTracker(vehicle=VehicleParams(max_accel_mps2=1.0, max_steering_rad=0.3))
    assert tracker.step(BicycleState.of(0, 0, 0, 5.0), left, 0) == (1.0, 0.3)


@pytest.mark.parametrize("dt_s", [0.0, -0.1, math.nan])
def test_bicycle_step_refuses_a_step_that_is_not_forward_in_time(dt_s: float) -> None:
    # before: dt_s = -0.1 drove the car backwards to x = -1.02 m
    with pytest.raises(ValueError, match=r"bicycle_step: dt_s must be a finite number > 0"):
        bicycle_step(BicycleState.of(0.0, 0.0, 0.0, 10.0), 0.0, 0.0, dt_s, VehicleParams())


T5_NS = 5_000_000_000
EGO = EgoState(T5_NS, 0.0, 1.75, 0.0, speed_mps=10.0)


def _cars(n: int, timestamp_ns: int = T5_NS) -> Boxes3D:
    rows = [[30.0 + 10.0 * i, 1.75, 0.75, 4.5, 1.9, 1.5, 0.0] for i in range(n)]
    return Boxes3D.from_array7(np.array(rows).reshape(-1, 7), "world", timestamp_ns)


def test_observation_refuses_stale_agents_and_repeated_ids() -> None:
    with pytest.raises(ValueError, match=r"agents.timestamp_ns 0 is not the observation's .*"):
        Observation(T5_NS, EGO, _cars(1, timestamp_ns=0), ("a",))  # 5 s stale
    with pytest.raises(ValueError, match=r"agent_ids must be distinct, repeated: \['a'\]"):
        Observation(T5_NS, EGO, _cars(3), ("a", "b", "a"))
    # an empty set holds no state to be stale: any time (Boxes3D.empty defaults to 0)
    assert len(Observation(T5_NS, EGO, Boxes3D.empty("world"), ()).agents) == 0
    assert Observation(T5_NS, EGO, _cars(2), ("a", "b")).agent_ids == ("a", "b")


def test_observation_type_errors_name_the_field() -> None:
    with pytest.raises(TypeError, match=r"Observation.agents must be a Boxes3D, got ndarray"):
        Observation(T5_NS, EGO, np.zeros((0, 7)), ())  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"Observation.ego must be an EgoState, got NoneType"):
        Observation(T5_NS, None, _cars(1), ("a",))  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"agent_ids must be a tuple of str ids"):
        Observation(T5_NS, EGO, _cars(1), (7,))  # type: ignore[arg-type]
