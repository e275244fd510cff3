"""Euro NCAP style results of one run: avoidance, impact speed, minimum TTC and distance."""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import shapely

from drivestack.kernels import box_corners
from drivestack.sim.runner import SimHistory

KPH_PER_MPS = 3.6


@dataclass(frozen=True)
class NcapResult:
    avoided: bool
    initial_speed_kph: float
    impact_speed_kph: float | None  # ego speed at the first contact
    speed_reduction_kph: float  # initial minus impact speed (the initial speed when avoided)
    min_ttc_s: float | None
    min_distance_m: float

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


def ncap_result(history: SimHistory, min_ttc_s: float) -> NcapResult:
    initial = float(history.ego_speed_mps[0]) * KPH_PER_MPS
    hit_ticks = np.flatnonzero(np.any(history.collisions, axis=1))
    if len(hit_ticks):
        impact = float(history.ego_speed_mps[hit_ticks[0]]) * KPH_PER_MPS
        return NcapResult(False, initial, impact, initial - impact, _finite(min_ttc_s), 0.0)
    return NcapResult(True, initial, None, initial, _finite(min_ttc_s), min_distance_m(history))


def _finite(value: float) -> float | None:
    return float(value) if np.isfinite(value) else None
