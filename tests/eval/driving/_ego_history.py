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
    return ego_with_agents_history(ego, vehicle, dt_s, np.zeros((n, 0, 7)), **fields)


def ego_with_agents_history(
    ego: BicycleState,
    vehicle: VehicleParams,
    dt_s: float,
    agents: np.ndarray,
    *,
    agent_label: int = 1,
    agent_velocity_mps: np.ndarray | None = None,
    agent_ids: tuple[str, ...] | None = None,
    collisions: np.ndarray | None = None,
    **fields: Any,
) -> SimHistory:
    """The ego's ``(T,)`` states ``ego`` and ``K`` agents' ``(T, K, 7)`` boxes ``agents``
    (all valid, of class ``agent_label``, ids ``a0``, ``a1``, ... unless ``agent_ids``;
    velocities zero unless ``agent_velocity_mps (T, K, 2)``), ticked every ``dt_s``; the
    ego-agent ``collisions (T, K)`` from the boxes at each tick unless given; zero step times;
    ``fields``: further SimHistory keywords (the lights' ids and states)."""
    from drivestack.sim.runner import ego_agent_collisions

    n, k = agents.shape[:2]
    ego_boxes = ego.boxes(vehicle)
    valid = np.ones((n, k), dtype=bool)
    if collisions is None:
        collisions = np.stack(
            [ego_agent_collisions(ego_boxes[t], agents[t], valid[t]) for t in range(n)]
        ).reshape(n, k)
    return SimHistory(
        dt_s,
        np.arange(n, dtype=np.int64) * round(dt_s * 1e9),
        ego.x_m,
        ego.y_m,
        ego.yaw_rad,
        ego.speed_mps,
        ego.acceleration_mps2,
        ego.steering_rad,
        ego_boxes,
        agent_ids if agent_ids is not None else tuple(f"a{i}" for i in range(k)),
        np.full(k, int(agent_label), dtype=np.int64),
        agents,
        np.zeros((n, k, 2)) if agent_velocity_mps is None else agent_velocity_mps,
        valid,
        collisions,
        np.zeros(n - 1),
        np.zeros(n - 1),
        vehicle,
        **fields,
    )
