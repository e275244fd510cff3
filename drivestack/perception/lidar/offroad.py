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

from drivestack.core.transforms import SE3
from drivestack.perception.lidar.config import OffroadConfig
from drivestack.structures.labels import ObjectClass
from drivestack.structures.sensor_frame import DrivableArea

#: Classes a drivable-area prior applies to.
VEHICLE_CLASSES = (ObjectClass.CAR, ObjectClass.TRUCK)


def _world_xy(points_m: np.ndarray, world_from_sensor: SE3) -> np.ndarray:
    """``(N, 2)`` world xy of ``(N, 3)`` sensor-frame points."""
    return world_from_sensor.apply(np.asarray(points_m, dtype=np.float64).reshape(-1, 3))[:, :2]


def distance_to_drivable_m(
    center_m: np.ndarray, drivable: DrivableArea, world_from_sensor: SE3
) -> np.ndarray:
    """``(N,)`` planar distance of ``(N, 3)`` sensor-frame points to the drivable area (0
    inside it, NaN where unknown)."""
    if len(center_m) == 0:
        return np.zeros(0)
    return np.asarray(drivable.distance_m(_world_xy(center_m, world_from_sensor)), dtype=np.float64)


def on_drivable(center_m: np.ndarray, drivable: DrivableArea, world_from_sensor: SE3) -> np.ndarray:
    """``(N,)`` bool: the ``(N, 3)`` sensor-frame points inside the drivable area."""
    if len(center_m) == 0:
        return np.zeros(0, dtype=bool)
    return np.asarray(drivable.contains_xy(_world_xy(center_m, world_from_sensor)), dtype=bool)


def offroad_mask(
    center_m: np.ndarray,
    drivable: DrivableArea,
    world_from_sensor: SE3,
    cfg: OffroadConfig,
) -> np.ndarray:
    """``(N,)`` bool: the ``(N, 3)`` sensor-frame centres farther than ``cfg.max_distance_m``
    from the drivable area (unknown distance: False)."""
    distance = distance_to_drivable_m(center_m, drivable, world_from_sensor)
    return np.asarray(np.nan_to_num(distance, nan=0.0) > cfg.max_distance_m, dtype=bool)


def demote_offroad(
    center_m: np.ndarray,
    label: np.ndarray,
    score: np.ndarray,
    drivable: DrivableArea | None,
    world_from_sensor: SE3 | None,
    cfg: OffroadConfig,
) -> np.ndarray:
    """``(N,)`` scores with those of off-road vehicle boxes times ``cfg.score_factor``.

    Args:
        center_m: ``(N, 3)`` box centres in the sensor frame.
        label: ``(N,)`` ObjectClass ids.
        score: ``(N,)`` scores (not modified).
        drivable: the frame's drivable area; with ``cfg.enabled`` it must be given, with the
            sensor's pose.

    Raises:
        ValueError: ``cfg.enabled`` but no drivable area or no pose.
    """
    if not cfg.enabled:
        return score
    if drivable is None or world_from_sensor is None:
        raise ValueError(
            "classify.offroad is on but the frame carries no drivable_area or no "
            "world_from_ego pose"
        )
    vehicle = np.isin(label, [int(c) for c in VEHICLE_CLASSES])
    out = np.array(score, dtype=np.float64, copy=True)
    if not vehicle.any():
        return out
    off = np.zeros(len(out), dtype=bool)
    off[vehicle] = offroad_mask(center_m[vehicle], drivable, world_from_sensor, cfg)
    out[off] *= cfg.score_factor
    return out
