"""Headings of partly seen cars from the map's lanes (an HD map prior the frame may carry).

A car seen past an occluder, or only by its rear, returns a piece shorter than a car: the box
fit finds the piece's rectangle, whose axes need not be the car's, and nothing in the piece
says which axis is the car's length. Completing such a piece to a car's size
(:func:`~drivestack.perception.lidar.box_fit.complete_far_side`) then guesses, and a wrong
guess puts the centre metres off. Cars on a road run along its lanes: a Car box shorter than
``BoxFitConfig.car_min_length_m`` whose centre lies within
``LaneHeadingConfig.max_lane_distance_m`` of a lane (the lanes within reach agreeing on one
direction, modulo 180 degrees) keeps its rectangle when the rectangle's axes are within
``max_yaw_offset_deg`` of the lane's (modulo 90 degrees), else is refitted at the lane's
heading (:func:`~drivestack.perception.lidar.box_fit.boxes_at_yaw`); it is then completed with
its length along the lane
(:func:`~drivestack.perception.lidar.box_fit.complete_far_side_along`).

The same prior judges the finished boxes (:func:`judge_along_lanes`): a Car or Truck box whose
axes are more than ``max_yaw_offset_deg`` off the lanes at its centre is a misfit or no vehicle
(a hedge, a wall piece, a tree on the verge); with ``misaligned_score_factor`` below 1 its
score is scaled down, so it ranks after the aligned ones. With ``orient_along_lanes``, the
vehicle boxes along the lanes are turned to face the lanes' direction of travel
(a shape fit leaves the heading ambiguous by 180 degrees).
"""

from __future__ import annotations

import numpy as np

from drivestack.perception.lidar.box_fit import boxes_at_yaw, pooled_clusters
from drivestack.perception.lidar.config import BoxFitConfig, LaneHeadingConfig
from drivestack.perception.lidar.map_priors import MapPriors
from drivestack.perception.lidar.offroad import VEHICLE_CLASSES

#: The config key the lane prior's errors name.
_CONFIG_KEY = "classify.lane_heading"


def axis_offset_rad(
    yaw_a_rad: np.ndarray, yaw_b_rad: np.ndarray, period_rad: float | np.ndarray
) -> np.ndarray:
    """``(N,)`` absolute angle in ``[0, period / 2]`` between ``(N,)`` headings taken modulo
    ``period_rad`` (scalar or ``(N,)``; pi: an axis; pi / 2: a rectangle's pair of axes)."""
    diff = np.asarray(yaw_a_rad, dtype=np.float64) - np.asarray(yaw_b_rad, dtype=np.float64)
    return np.abs(np.mod(diff + period_rad / 2, period_rad) - period_rad / 2)


def align_to_lanes(
    xyz_m: np.ndarray,
    bounds: np.ndarray,
    ground_z_m: np.ndarray | None,
    boxes: np.ndarray,
    is_car: np.ndarray,
    priors: MapPriors,
    cfg: LaneHeadingConfig,
    box_cfg: BoxFitConfig,
) -> tuple[np.ndarray, np.ndarray]:
    """Partly seen cars' boxes turned to the lanes' heading before they are completed.

    Args:
        xyz_m: ``(M, 3)`` cluster points grouped by cluster (sensor frame).
        bounds: ``(N + 1,)`` cluster ``i`` is ``xyz_m[bounds[i]:bounds[i + 1]]``.
        ground_z_m: ``(N,)`` ground height under each cluster, or None, as the boxes were
            fitted with (:func:`~drivestack.perception.lidar.box_fit.fit_boxes`).
        boxes: ``(N, 7)`` the clusters' fitted boxes (not completed).
        is_car: ``(N,)`` bool, the boxes classified as cars.
        priors: the frame's map priors (the lane headings and the sensor's pose needed when on).
        cfg: reach, lane agreement and yaw tolerance; off (``cfg.enabled`` false): the boxes
            come back unchanged with no heading.
        box_cfg: the car length below which a box is partly seen, and the box padding.

    Returns:
        ``(N, 7)`` copy of ``boxes`` with the lane-led boxes refitted at the lane's heading
        where their rectangle's axes were more than ``cfg.max_yaw_offset_deg`` off it, and
        ``(N,)`` the sensor-frame heading their length must follow (the lane's), NaN for the
        boxes the lanes do not lead.

    Raises:
        ValueError: on, but no lane headings or no pose.
    """
    out = np.array(boxes, dtype=np.float64, copy=True).reshape(-1, 7)
    heading = np.full(len(out), np.nan)
    if not cfg.enabled:
        return out, heading
    partial = np.asarray(is_car, dtype=bool).reshape(len(out)) & (
        out[:, 3] < box_cfg.car_min_length_m
    )
    which = np.flatnonzero(partial)
    heading[which] = priors.lane_yaw_rad(out[which, :3], cfg, _CONFIG_KEY)
    led = np.isfinite(heading)
    refit = led & (
        axis_offset_rad(out[:, 6], np.nan_to_num(heading), np.pi / 2)
        > np.deg2rad(cfg.max_yaw_offset_deg)
    )
    if np.any(refit):
        which = np.flatnonzero(refit)
        xyz, sub_bounds = pooled_clusters(np.asarray(xyz_m), bounds, [[c] for c in which])
        ground = None if ground_z_m is None else np.asarray(ground_z_m)[which]
        out[which] = boxes_at_yaw(xyz, sub_bounds, heading[which], ground, box_cfg)
    return out, heading


def _vehicle_lane_headings(
    boxes: np.ndarray,
    label: np.ndarray,
    priors: MapPriors,
    cfg: LaneHeadingConfig,
) -> tuple[np.ndarray, np.ndarray]:
    """``(K,)`` indices of the vehicle (Car, Truck) boxes among ``(N, 7)`` boxes with ``(N,)``
    labels, and their ``(K,)`` sensor-frame lane headings (NaN: none)."""
    which = np.flatnonzero(np.isin(label, [int(c) for c in VEHICLE_CLASSES]))
    return which, priors.lane_yaw_rad(boxes[which, :3], cfg, _CONFIG_KEY)


def _oriented(
    out: np.ndarray, which: np.ndarray, heading: np.ndarray, cfg: LaneHeadingConfig
) -> np.ndarray:
    """Vehicles along a lane turned to face its direction of travel (a shape fit leaves the
    heading ambiguous by 180 degrees): of the ``(K,)`` vehicle boxes ``which`` with lane
    headings ``heading`` (NaN: none), those whose length axis is within
    ``cfg.max_yaw_offset_deg`` of it (modulo 180 degrees) get the yaw of their length axis
    nearer the lane's direction, in ``[-pi, pi)``. ``(N, 7)`` ``out`` modified and returned."""
    along = np.isfinite(heading) & (
        axis_offset_rad(out[which, 6], np.nan_to_num(heading), np.pi)
        <= np.deg2rad(cfg.max_yaw_offset_deg)
    )
    which, heading = which[along], heading[along]
    flip = axis_offset_rad(out[which, 6], heading, 2 * np.pi) > np.pi / 2
    out[which, 6] = np.where(flip, out[which, 6] + np.pi, out[which, 6])
    out[which, 6] = np.mod(out[which, 6] + np.pi, 2 * np.pi) - np.pi
    return out


def _demoted(
    boxes: np.ndarray,
    out: np.ndarray,
    which: np.ndarray,
    heading: np.ndarray,
    cfg: LaneHeadingConfig,
    box_cfg: BoxFitConfig,
) -> np.ndarray:
    """Scores of vehicle boxes across the lanes times ``cfg.misaligned_score_factor``: of the
    ``(K,)`` vehicle boxes ``which`` of ``(N, 7)`` finished ``boxes`` with lane headings
    ``heading`` (NaN: none), those whose length axis is more than ``cfg.max_yaw_offset_deg``
    off it (modulo 180 degrees; for a box shorter than ``box_cfg.car_min_length_m`` either
    axis, modulo 90). ``(N,)`` scores ``out`` modified and returned."""
    period = np.where(boxes[which, 3] < box_cfg.car_min_length_m, np.pi / 2, np.pi)
    offset = axis_offset_rad(boxes[which, 6], np.nan_to_num(heading), period)
    across = np.isfinite(heading) & (offset > np.deg2rad(cfg.max_yaw_offset_deg))
    out[which[across]] *= cfg.misaligned_score_factor
    return out


def judge_along_lanes(
    boxes: np.ndarray,
    label: np.ndarray,
    score: np.ndarray,
    priors: MapPriors,
    cfg: LaneHeadingConfig,
    box_cfg: BoxFitConfig,
) -> tuple[np.ndarray, np.ndarray]:
    """The lane prior on finished boxes: Car and Truck boxes across the lanes demoted (with
    ``cfg.misaligned_score_factor`` below 1), then those along a lane turned to its direction
    of travel (with ``cfg.orient_along_lanes``), one lane lookup for both (the turn moves no
    centre).

    Args:
        boxes: ``(N, 7)`` finished (completed) boxes in the sensor frame.
        label: ``(N,)`` ObjectClass ids.
        score: ``(N,)`` scores.
        priors: the frame's map priors (the lane headings and the sensor's pose needed when on).
        cfg: lane reach and agreement, the yaw tolerance, the factor and the turn; off (not
            ``cfg.enabled``, or neither rule): unchanged copies, no lanes needed.
        box_cfg: the car length under which only a box's axes (modulo 90 degrees) are judged.

    Returns:
        ``(N, 7)`` boxes and ``(N,)`` scores, copies.

    Raises:
        ValueError: on, but no lane headings or no pose.
    """
    out_boxes = np.array(boxes, dtype=np.float64, copy=True).reshape(-1, 7)
    out_score = np.array(score, dtype=np.float64, copy=True)
    demote = cfg.misaligned_score_factor < 1
    if not cfg.enabled or not (demote or cfg.orient_along_lanes):
        return out_boxes, out_score
    which, heading = _vehicle_lane_headings(out_boxes, label, priors, cfg)
    if demote:
        out_score = _demoted(out_boxes, out_score, which, heading, cfg, box_cfg)
    if cfg.orient_along_lanes:
        out_boxes = _oriented(out_boxes, which, heading, cfg)
    return out_boxes, out_score
