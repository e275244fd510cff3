"""The arrays of a :class:`~drivestack.sim.runner.SimHistory` (what ``history.npz`` holds) and
the one check of them that the closed-loop metrics (``check_history``) and the report
(``load_history``) both run: shapes, numeric dtypes, finite values and increasing timestamps.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np

#: The ego's per-tick arrays, ``(T,)`` each.
EGO_ARRAYS = (
    "ego_x_m",
    "ego_y_m",
    "ego_yaw_rad",
    "ego_speed_mps",
    "ego_accel_mps2",
    "ego_steering_rad",
)

#: The shape of each checked array (T ticks of ``timestamp_ns``, A agents), as
#: :class:`~drivestack.sim.runner.SimHistory` documents it (the traffic light arrays are
#: checked by ``SimHistory`` itself).
HISTORY_SHAPES: dict[str, tuple[str, ...]] = {
    "timestamp_ns": ("T",),
    **{name: ("T",) for name in EGO_ARRAYS},
    "ego_boxes": ("T", "7"),
    "agent_labels": ("A",),
    "agent_boxes": ("T", "A", "7"),
    "agent_velocity_mps": ("T", "A", "2"),
    "agent_valid": ("T", "A"),
    "collisions": ("T", "A"),
    "planner_step_s": ("T-1",),
    "sim_step_s": ("T-1",),
}

#: Why the planner braked instead of driving on, per planner call ``(T-1,)``: its
#: ``debug.stop_reason`` (a unicode array, ``""`` for none) and ``debug.emergency`` (bool);
#: :class:`~drivestack.sim.runner.SimHistory` checks them itself.
PLANNER_DEBUG_ARRAYS = ("planner_stop_reason", "planner_emergency")

#: The arrays of :data:`HISTORY_ARRAYS` that ``history.npz`` files written before them lack
#: (:func:`~drivestack.sim.runner.history_arrays_of` fills them in: no traffic light, no stop
#: reason).
ADDED_HISTORY_ARRAYS = ("traffic_light_ids", "traffic_light_state", *PLANNER_DEBUG_ARRAYS)

#: The array fields of :class:`~drivestack.sim.runner.SimHistory` that ``history.npz`` holds.
HISTORY_ARRAYS = (*HISTORY_SHAPES, *ADDED_HISTORY_ARRAYS)

#: Arrays of flags (any numeric or bool dtype); ``agent_labels`` any dtype; the others numbers.
FLAG_ARRAYS = ("agent_valid", "collisions")
#: Arrays whose values count only where the agent is valid (``agent_valid``).
PER_VALID_AGENT = ("agent_boxes", "agent_velocity_mps")


class HistoryArrayError(ValueError):
    """A history array that does not fit :data:`HISTORY_SHAPES`.

    ``field`` names the array; ``kind`` is ``"shape"`` (``shape`` it has, ``expected`` and
    ``sizes``: T, A), ``"dtype"``, ``"value"`` (NaN or infinite) or ``"order"`` (timestamps
    that do not increase); ``tick`` and ``agent`` (index) the first bad one, None where not
    one; ``reason`` says it in words.
    """

    def __init__(
        self,
        field: str,
        kind: str,
        reason: str,
        *,
        tick: int | None = None,
        agent: int | None = None,
        shape: tuple[int, ...] = (),
        expected: tuple[int, ...] = (),
        sizes: Mapping[str, int] | None = None,
    ) -> None:
        self.field, self.kind, self.reason = field, kind, reason
        self.tick, self.agent = tick, agent
        self.shape, self.expected, self.sizes = shape, expected, dict(sizes or {})
        at = "" if tick is None else f" at tick {tick}"
        super().__init__(f"history array {field}{at}: {reason}")


def check_history_arrays(
    arrays: Mapping[str, Any],
    n_agents: int | None = None,
    agents_of: str = "agent_labels",
    names: Iterable[str] = HISTORY_SHAPES,
) -> None:
    """Raise :class:`HistoryArrayError` for the first of ``names`` (all of
    :data:`HISTORY_SHAPES` by default; with ``timestamp_ns``, and ``agent_valid`` for
    :data:`PER_VALID_AGENT`) whose array does not have its shape (A: ``n_agents``, those of
    ``agent_labels`` when None; ``agents_of`` names them in the reason), is not numbers,
    holds NaN or infinity (an agent's only at the ticks it is valid: an absent agent's box
    may be NaN; a float flag array's anywhere: NaN would read as True) or, ``timestamp_ns``,
    does not strictly increase. Cheap: one pass over the values."""
    names = tuple(names)
    t_ns = np.asarray(arrays["timestamp_ns"])
    if n_agents is None:
        n_agents = (np.shape(arrays["agent_labels"])[:1] or (0,))[0]
    sizes = {"T": t_ns.shape[0] if t_ns.ndim else 0, "A": n_agents, "7": 7, "2": 2}
    sizes["T-1"] = max(sizes["T"] - 1, 0)
    for name in names:
        arr = np.asarray(arrays[name])
        dims = HISTORY_SHAPES[name]
        expected = tuple(sizes[d] for d in dims)
        if arr.shape != expected:
            want = ", ".join(f"{d}={sizes[d]}" if d[0] in "TA" else d for d in dims)
            raise HistoryArrayError(
                name,
                "shape",
                f"shape {arr.shape}, expected ({want}; T: the ticks of timestamp_ns, A: the "
                f"agents of {agents_of})",
                shape=arr.shape,
                expected=expected,
                sizes=sizes,
            )
        numbers = "biuf" if name in FLAG_ARRAYS else "iuf"
        if name != "agent_labels" and arr.dtype.kind not in numbers:
            raise HistoryArrayError(name, "dtype", f"dtype {arr.dtype}, expected numbers")
    for name in names:
        arr = np.asarray(arrays[name])
        # ints are finite; float flags too must be (NaN would read as True)
        if arr.dtype.kind != "f" or name == "agent_labels":
            continue
        bad = ~np.isfinite(arr)
        if name in PER_VALID_AGENT:
            bad &= np.asarray(arrays["agent_valid"]).astype(bool)[..., None]
        if bad.any():
            where = np.argwhere(bad)[0]
            agent = int(where[1]) if name in (*PER_VALID_AGENT, *FLAG_ARRAYS) else None
            raise HistoryArrayError(
                name, "value", "NaN or infinite value", tick=int(where[0]), agent=agent
            )
    if "timestamp_ns" in names:
        steps = np.diff(t_ns.astype(np.float64))
        if not (steps > 0).all():
            tick = int(np.flatnonzero(~(steps > 0))[0]) + 1
            raise HistoryArrayError(
                "timestamp_ns", "order", "timestamps do not increase", tick=tick
            )
