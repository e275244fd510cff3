"""The checks the closed-loop metrics run on a :class:`~drivestack.sim.runner.SimHistory`
before scoring it: what a history made by hand (or by a planner of one's own) may get wrong
and the metrics would otherwise crash on deep inside NumPy / shapely, or score silently wrong
(a NaN pose turns the driving-direction multiplier to 0, a NaN speed the comfort to
"uncomfortable", a NaN agent box is never hit)."""

from __future__ import annotations

import numpy as np

from drivestack.sim.runner import SimHistory
from drivestack.structures._checks import check_number

#: The ego's per-tick arrays, ``(T,)`` each.
EGO_ARRAYS = (
    "ego_x_m",
    "ego_y_m",
    "ego_yaw_rad",
    "ego_speed_mps",
    "ego_accel_mps2",
    "ego_steering_rad",
)


def check_history(history: SimHistory, min_ticks: int = 0) -> None:
    """Refuse ``history`` unless it has at least ``min_ticks`` ticks, a finite ``dt_s > 0``,
    timestamps that strictly increase, arrays of the shapes :class:`SimHistory` documents
    (``T`` the ticks of ``timestamp_ns``, ``A`` the agents of ``agent_ids``) and finite ego
    values, agent boxes and velocities (an agent's only at the ticks it is valid: an absent
    agent's box may be NaN).

    Raises:
        ValueError: naming ``history.<field>`` (and the first bad tick, and agent).
    """
    check_number("history.dt_s", history.dt_s, above=0.0)
    t_ns = np.asarray(history.timestamp_ns)
    if t_ns.ndim != 1:
        raise ValueError(f"history.timestamp_ns must have shape (T,), got {t_ns.shape}")
    n_t, n_a = len(t_ns), len(history.agent_ids)
    if n_t < min_ticks:
        raise ValueError(f"history has {n_t} ticks, the metrics need at least {min_ticks}")
    shapes: dict[str, tuple[int, ...]] = {
        **{name: (n_t,) for name in EGO_ARRAYS},
        "ego_boxes": (n_t, 7),
        "agent_labels": (n_a,),
        "agent_boxes": (n_t, n_a, 7),
        "agent_velocity_mps": (n_t, n_a, 2),
        "agent_valid": (n_t, n_a),
        "collisions": (n_t, n_a),
    }
    for name, shape in shapes.items():
        got = np.shape(getattr(history, name))
        if got != shape:
            raise ValueError(
                f"history.{name} must have shape {shape} (T = {n_t} ticks of timestamp_ns, "
                f"A = {n_a} agent_ids), got {got}"
            )
    steps = np.diff(t_ns.astype(np.float64))
    if not np.all(steps > 0):
        tick = int(np.flatnonzero(~(steps > 0))[0]) + 1
        raise ValueError(f"history.timestamp_ns does not increase at tick {tick}")
    valid = np.asarray(history.agent_valid, dtype=bool)
    for name in (*EGO_ARRAYS, "ego_boxes", "agent_boxes", "agent_velocity_mps"):
        try:
            values = np.asarray(getattr(history, name), dtype=np.float64)
        except (TypeError, ValueError):
            raise ValueError(f"history.{name} must hold numbers") from None
        bad = ~np.isfinite(values)
        if name.startswith("agent_"):
            bad &= valid[..., None]
        if bad.any():
            where = np.argwhere(bad)[0]
            agent = f", agent {history.agent_ids[where[1]]!r}" if name.startswith("agent_") else ""
            raise ValueError(f"history.{name} is NaN or infinite at tick {where[0]}{agent}")
