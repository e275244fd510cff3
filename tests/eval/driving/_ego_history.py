"""A :class:`~drivestack.sim.runner.SimHistory` of the ego alone, for the hand-built metric cases."""

from __future__ import annotations

from typing import Any

import numpy as np

from drivestack.sim.runner import SimHistory
from drivestack.sim.vehicle import BicycleState, VehicleParams


def ego_only_history(
    ego: BicycleState, vehicle: VehicleParams, dt_s: float, **fields: Any
) -> SimHistory:
    """The ego's ``(T,)`` states ``ego`` ticked every ``dt_s`` (from t = 0), no agents, zero
    step times; ``fields``: further SimHistory keywords (the lights' ids and states)."""
    n = len(ego.x_m)
    return SimHistory(
        dt_s,
        np.arange(n, dtype=np.int64) * round(dt_s * 1e9),
        ego.x_m,
        ego.y_m,
        ego.yaw_rad,
        ego.speed_mps,
        ego.acceleration_mps2,
        ego.steering_rad,
        ego.boxes(vehicle),
        (),
        np.zeros(0, dtype=np.int64),
        np.zeros((n, 0, 7)),
        np.zeros((n, 0, 2)),
        np.zeros((n, 0), dtype=bool),
        np.zeros((n, 0), dtype=bool),
        np.zeros(n - 1),
        np.zeros(n - 1),
        vehicle,
        **fields,
    )
