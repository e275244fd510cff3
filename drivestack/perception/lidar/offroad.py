"""Vehicle boxes off the drivable area (an HD map prior the frame may carry).

Vehicles stand on roads, lanes and parking lanes; the clusters that pass for vehicles beside
them are mostly hedges, tree crowns, walls and sign posts on the verge. A vehicle box whose
centre lies farther than ``OffroadConfig.max_distance_m`` from the frame's drivable area gets
its score multiplied by ``OffroadConfig.score_factor``, so it ranks below the vehicles on the
road; the detector's ``min_score`` then drops it or (``min_score`` 0) keeps it, last, for a
slightly wrong map (a car in a driveway).
"""

from __future__ import annotations

import numpy as np

from drivestack.perception.lidar.config import OffroadConfig
from drivestack.perception.lidar.map_priors import MapPriors
from drivestack.structures.labels import ObjectClass

#: Classes a drivable-area prior applies to.
VEHICLE_CLASSES = (ObjectClass.CAR, ObjectClass.TRUCK)


def offroad_mask(center_m: np.ndarray, priors: MapPriors, cfg: OffroadConfig) -> np.ndarray:
    """``(N,)`` bool: the ``(N, 3)`` sensor-frame centres farther than ``cfg.max_distance_m``
    from the frame's drivable area (unknown distance: False).

    Raises:
        ValueError: the priors hold no drivable area or no pose.
    """
    distance = priors.distance_to_drivable_m(center_m, "classify.offroad")
    return np.asarray(np.nan_to_num(distance, nan=0.0) > cfg.max_distance_m, dtype=bool)


def demote_offroad(
    center_m: np.ndarray,
    label: np.ndarray,
    score: np.ndarray,
    priors: MapPriors,
    cfg: OffroadConfig,
) -> np.ndarray:
    """``(N,)`` scores with those of off-road vehicle boxes times ``cfg.score_factor``.

    Args:
        center_m: ``(N, 3)`` box centres in the sensor frame.
        label: ``(N,)`` ObjectClass ids.
        score: ``(N,)`` scores (not modified).
        priors: the frame's map priors; with ``cfg.enabled`` they must hold the drivable area
            and the sensor's pose.
        cfg: the rule; off (``cfg.enabled`` false): ``score`` itself is returned.

    Raises:
        ValueError: ``cfg.enabled`` but no drivable area or no pose.
    """
    if not cfg.enabled:
        return score
    priors.drivable("classify.offroad")  # the map is needed even when no box is a vehicle
    vehicle = np.isin(label, [int(c) for c in VEHICLE_CLASSES])
    out = np.array(score, dtype=np.float64, copy=True)
    if not vehicle.any():
        return out
    off = np.zeros(len(out), dtype=bool)
    off[vehicle] = offroad_mask(center_m[vehicle], priors, cfg)
    out[off] *= cfg.score_factor
    return out
