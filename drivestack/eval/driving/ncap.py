"""Euro NCAP style results of one run: avoidance, impact speeds, minimum TTC and distance.

Fields (``metrics.json`` ``ncap``):
  ``avoided``                    no contact with any agent during the run
  ``initial_speed_kph``          the ego's speed at the first tick
  ``impact_speed_kph``           the ego's own (absolute) speed at the first contact; ``null``
                                 when avoided
  ``relative_impact_speed_kph``  the closing speed at the first contact: the ego's speed minus
                                 the speed of the agent it touches along the ego's heading
                                 (Euro NCAP's V_rel_impact, which CCRm / CCRb score by; equal
                                 to ``impact_speed_kph`` for a stationary target, and for a
                                 crossing pedestrian, whose motion is across the heading);
                                 the largest over the agents touched at that tick; ``null``
                                 when avoided
  ``speed_reduction_kph``        ``initial_speed_kph - impact_speed_kph``; when the collision
                                 is avoided the whole initial speed (avoidance counts as the
                                 full reduction). For a target that keeps its speed this equals
                                 Euro NCAP's V_rel_test - V_rel_impact
  ``min_ttc_s``                  nuPlan's minimum time to collision (constant-velocity
                                 projection, :func:`~drivestack.eval.driving.nuplan.
                                 min_time_to_collision_s`) over the run; ``null`` when no
                                 projection hits within ``ttc_horizon_s`` (not "no TTC": none
                                 at or below the horizon)
  ``ttc_horizon_s``              the projection horizon of ``min_ttc_s`` (3 s)
  ``min_distance_m``             the smallest footprint distance to any agent (0 on contact)
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import shapely

from drivestack.eval.driving.nuplan import TTC_HORIZON_S
from drivestack.kernels import box_corners
from drivestack.sim.runner import SimHistory

KPH_PER_MPS = 3.6


@dataclass(frozen=True)
class NcapResult:
    avoided: bool
    initial_speed_kph: float
    impact_speed_kph: float | None  # ego speed at the first contact
    speed_reduction_kph: float  # initial minus impact speed (the initial speed when avoided)
    min_ttc_s: float | None  # None: no projected hit within ttc_horizon_s
    min_distance_m: float
    # closing speed at the first contact (ego minus target speed along the ego's heading)
    relative_impact_speed_kph: float | None = None
    ttc_horizon_s: float = TTC_HORIZON_S

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


def min_distance_m(history: SimHistory) -> float:
    """Smallest footprint-to-footprint distance between the ego and any valid agent (0 on contact)."""
    if history.agent_boxes.shape[1] == 0:
        return float("inf")
    ego = shapely.polygons(box_corners(history.ego_boxes)[:, :4, :2])
    agents = shapely.polygons(box_corners(history.agent_boxes.reshape(-1, 7))[:, :4, :2]).reshape(
        history.agent_boxes.shape[:2]
    )
    dist = shapely.distance(ego[:, None], agents)
    return float(np.min(np.where(history.agent_valid, dist, np.inf)))


def relative_impact_speed_kph(history: SimHistory, tick: int) -> float:
    """The closing speed at ``tick`` (km/h): the ego's speed minus the velocity of each agent
    in contact along the ego's heading, the largest over those agents."""
    yaw = float(history.ego_yaw_rad[tick])
    heading = np.array([np.cos(yaw), np.sin(yaw)])
    touched = np.flatnonzero(history.collisions[tick])
    along = history.agent_velocity_mps[tick, touched] @ heading  # (n,)
    return float(np.max(float(history.ego_speed_mps[tick]) - along)) * KPH_PER_MPS


def ncap_result(history: SimHistory, min_ttc_s: float) -> NcapResult:
    initial = float(history.ego_speed_mps[0]) * KPH_PER_MPS
    hit_ticks = np.flatnonzero(np.any(history.collisions, axis=1))
    if len(hit_ticks):
        impact = float(history.ego_speed_mps[hit_ticks[0]]) * KPH_PER_MPS
        relative = relative_impact_speed_kph(history, int(hit_ticks[0]))
        return NcapResult(
            False, initial, impact, initial - impact, _finite(min_ttc_s), 0.0, relative
        )
    return NcapResult(True, initial, None, initial, _finite(min_ttc_s), min_distance_m(history))


def _finite(value: float) -> float | None:
    return float(value) if np.isfinite(value) else None
