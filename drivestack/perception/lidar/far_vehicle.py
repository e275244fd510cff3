"""Sparse far vehicles: small on-road clusters beyond the range where shape tells a car.

Far away a car returns a few points (one VLP-32C: 0.33 degree ring spacing near the horizon,
0.2 degree azimuth step at 10 Hz, so a 1.8 m x 1.5 m rear face holds about
``1.8 * 1.5 / (r^2 * 0.0058 * 0.0035)`` = 13 returns at 100 m): the cluster shows a piece of
roof or of a rear face, too small or too low for the car's size prior, and the classifier
leaves it UNKNOWN. What is still known about it: its range, its top height above the
ground, its extent (no larger than a car's) and whether it stands on the map's drivable area.

An UNKNOWN (or, with ``include_cyclist``, Cyclist) cluster beyond ``min_range_m`` whose fitted
box is no longer than the car prior's mean length plus two standard deviations (and no wider
than its mean width plus two), whose top lies between ``min_top_m`` and the car prior's mean
height plus two standard deviations above the ground, and whose completed centre lies within
``max_offroad_m`` of the drivable area becomes a Car with the fixed low score ``score``: the
box is completed along the line of sight (its heading unknown: a far car on the road ahead is
mostly seen end-on), its face nearer the sensor kept, to the car prior's mean size.
Ranked below the shape-classified boxes, such boxes can only add recall to a ranked metric.
"""

from __future__ import annotations

import numpy as np

from drivestack.perception.lidar.config import ClassPrior, FarVehicleConfig
from drivestack.perception.lidar.map_priors import MapPriors
from drivestack.structures.labels import ObjectClass


def candidate_mask(
    boxes: np.ndarray, label: np.ndarray, car: ClassPrior, cfg: FarVehicleConfig
) -> np.ndarray:
    """``(N,)`` bool: ``(N, 7)`` fitted boxes (sensor frame, bottoms on the ground) with
    ``(N,)`` labels that may be a sparse far car (range, class, extent and top height)."""
    b = np.asarray(boxes, dtype=np.float64).reshape(-1, 7)
    upper = np.asarray(car.mean_lwh_m) + 2.0 * np.asarray(car.std_lwh_m)
    top_m = b[:, 5]
    return (
        _eligible(b, label, cfg)
        & (b[:, 3] <= upper[0])
        & (b[:, 4] <= upper[1])
        & (top_m >= cfg.min_top_m)
        & (top_m <= upper[2])
    )


def _eligible(boxes: np.ndarray, label: np.ndarray, cfg: FarVehicleConfig) -> np.ndarray:
    """``(N,)`` bool: ``(N, 7)`` boxes at least ``cfg.min_range_m`` away whose ``(N,)``
    labels may be promoted (UNKNOWN, and Cyclist with ``cfg.include_cyclist``)."""
    classes = [int(ObjectClass.UNKNOWN)]
    if cfg.include_cyclist:
        classes.append(int(ObjectClass.CYCLIST))
    lab = np.asarray(label, dtype=np.int64).reshape(len(boxes))
    return np.isin(lab, classes) & (np.hypot(boxes[:, 0], boxes[:, 1]) >= cfg.min_range_m)


def complete_along_sight(boxes: np.ndarray, size_lwh_m: np.ndarray) -> np.ndarray:
    """``(N, 7)`` boxes of ``size_lwh_m`` ``(3,)`` heading along the line of sight from the
    sensor at the origin to each input box ``(N, 7)``'s centre, each with its face nearer the
    sensor where the input box's near extent along that line was (its range minus half its
    depth along the line) and its bottom where the input's was."""
    b = np.asarray(boxes, dtype=np.float64).reshape(-1, 7)
    size = np.asarray(size_lwh_m, dtype=np.float64).reshape(3)
    sight = np.arctan2(b[:, 1], b[:, 0])
    u = np.stack([np.cos(sight), np.sin(sight)], axis=1)  # (N, 2)
    off = b[:, 6] - sight
    depth_m = np.abs(b[:, 3] * np.cos(off)) + np.abs(b[:, 4] * np.sin(off))
    near_m = np.hypot(b[:, 0], b[:, 1]) - 0.5 * depth_m
    out = np.empty_like(b)
    out[:, :2] = (near_m + 0.5 * size[0])[:, None] * u
    out[:, 2] = b[:, 2] - 0.5 * b[:, 5] + 0.5 * size[2]
    out[:, 3:6] = size
    out[:, 6] = sight
    return out


def promote_far_vehicles(
    boxes: np.ndarray,
    label: np.ndarray,
    score: np.ndarray,
    car: ClassPrior,
    priors: MapPriors,
    cfg: FarVehicleConfig,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Sparse far clusters on the drivable area as low-scored, completed cars.

    Args:
        boxes: ``(N, 7)`` boxes in the sensor frame (fitted; the UNKNOWN ones uncompleted).
        label: ``(N,)`` ObjectClass ids.
        score: ``(N,)`` scores.
        car: the car size prior (candidate limits, completed size).
        priors: the frame's map priors (the drivable area and the sensor's pose needed when on).
        cfg: the far-vehicle settings; off (``cfg.enabled`` false): inputs returned.

    Returns:
        ``(N, 7)`` boxes, ``(N,)`` labels and ``(N,)`` scores, copies with the promoted boxes
        (:func:`candidate_mask`, centre within ``cfg.max_offroad_m`` of the drivable area once
        completed by :func:`complete_along_sight`) completed, labelled Car and scored
        ``cfg.score``.

    Raises:
        ValueError: on, but no drivable area or no pose.
    """
    if not cfg.enabled:
        return boxes, label, score
    which = np.flatnonzero(candidate_mask(boxes, label, car, cfg))
    completed = complete_along_sight(boxes[which], np.asarray(car.mean_lwh_m))
    distance = priors.distance_to_drivable_m(completed[:, :3], "classify.far_vehicle")
    on_road = distance <= cfg.max_offroad_m
    which = which[on_road]
    out_boxes = np.array(boxes, dtype=np.float64, copy=True)
    out_label = np.array(label, dtype=np.int64, copy=True)
    out_score = np.array(score, dtype=np.float64, copy=True)
    out_boxes[which] = completed[on_road]
    out_label[which] = int(ObjectClass.CAR)
    out_score[which] = cfg.score
    return out_boxes, out_label, out_score
