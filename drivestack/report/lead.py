"""The nearest agent ahead of the ego over a run: its gap and speed, to judge a following case
from the report's speed plot.

"Ahead" is the rule the simulated agents follow their leader by
(:func:`drivestack.sim.agents.nearest_ahead`), with the ego's own driven path as the path:
the agents' box centres projected on the polyline of the ego's box centres over the whole run
(extended past its last one along its last heading), an agent ahead when its station exceeds
the ego's and its lateral offset is within half the two widths plus 0.3 m; the gap is bumper
to bumper along that path (station difference less half the two lengths: negative while the
boxes overlap), the speed the agent's velocity along the path at its station.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from drivestack.sim.agents import nearest_ahead
from drivestack.sim.runner import SimHistory
from drivestack.structures.road_map import project_to_polyline

#: How far past the ego's last position its path runs on, along its last heading (m): the
#: projection extrapolates beyond it anyway; this only gives a path to a run that never moved.
_EXTEND_M = 1.0


@dataclass(frozen=True)
class LeadTrace:
    """Per tick ``(T,)``: ``gap_m`` and ``speed_mps`` of the nearest agent ahead (NaN when no
    agent is ahead)."""

    gap_m: np.ndarray
    speed_mps: np.ndarray

    @property
    def any(self) -> bool:
        """Whether some agent was ahead at some tick."""
        return bool(np.any(np.isfinite(self.gap_m)))

    def closest(self, time_s: np.ndarray) -> dict[str, float] | None:
        """The tick of the smallest gap: ``{gap_m, time_s, speed_mps}`` (``time_s`` from the
        first of ``time_s (T,)``), None when no agent was ahead."""
        if not self.any:
            return None
        k = int(np.nanargmin(self.gap_m))
        return {
            "gap_m": float(self.gap_m[k]),
            "time_s": float(time_s[k] - time_s[0]),
            "speed_mps": float(self.speed_mps[k]),
        }


def lead_trace(history: SimHistory) -> LeadTrace:
    """The nearest agent ahead of the ego at each tick of ``history`` (module docstring)."""
    n = len(history)
    gap = np.full(n, np.nan)
    speed = np.full(n, np.nan)
    if n == 0 or history.agent_boxes.shape[1] == 0:
        return LeadTrace(gap, speed)
    centres = np.asarray(history.ego_boxes[:, :2], dtype=np.float64)
    yaw = float(history.ego_boxes[-1, 6])
    tip = centres[-1] + _EXTEND_M * np.array([math.cos(yaw), math.sin(yaw)])
    path = np.vstack([centres, tip])
    ego_station, _ = project_to_polyline(path, centres)
    for t in range(n):
        valid = np.flatnonzero(history.agent_valid[t])
        if len(valid) == 0:
            continue
        boxes = history.agent_boxes[t, valid]
        velocity = history.agent_velocity_mps[t, valid]
        s, d = project_to_polyline(path, boxes[:, :2])
        length, width, height = (float(x) for x in history.ego_boxes[t, 3:6])
        g, v = nearest_ahead(
            path,
            float(ego_station[t]),
            0.0,
            (length, width, height),
            s,
            d,
            np.arctan2(velocity[:, 1], velocity[:, 0]),
            np.hypot(velocity[:, 0], velocity[:, 1]),
            boxes[:, 3:5],
        )
        if not math.isinf(g):
            gap[t], speed[t] = g, v
    return LeadTrace(gap, speed)
