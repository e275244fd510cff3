"""Step 5: oriented box fitting.

Yaw by search (Zhang et al., "Efficient L-Shape Fitting for Vehicle Detection Using Laser
Scanners", IV 2017): for every candidate heading in [0, 90) degrees the points are projected on
the two box axes and scored by the *closeness* criterion (points near one of the two nearest
box edges score high); the best heading is refined on a finer step. The box is the tightest
rectangle at that heading, its height spans from the local ground (or the lowest point) to the
highest point. :func:`complete_far_side` then grows boxes of vehicles whose far side was not
seen: the edges facing the sensor stay, the box extends away from the sensor to a minimum size.
:func:`complete_end_faces` does the same for a vehicle seen only by its front or rear face
(the face becomes the width, the unseen length runs away from the sensor). :func:`split_rows`
cuts a cluster that is a row of parked cars into car-length pieces before they are refitted.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numba
import numpy as np

from drivestack.perception.lidar.config import BoxFitConfig


@numba.njit(cache=True, nogil=True)
def _closeness(
    xy: np.ndarray, lo: int, hi: int, yaw: float, d0: float
) -> float:  # pragma: no cover
    """Closeness score of points ``xy[lo:hi]`` for a rectangle at heading ``yaw``."""
    cos = np.cos(yaw)
    sin = np.sin(yaw)
    min1 = np.inf
    max1 = -np.inf
    min2 = np.inf
    max2 = -np.inf
    for i in range(lo, hi):
        c1 = cos * xy[i, 0] + sin * xy[i, 1]
        c2 = -sin * xy[i, 0] + cos * xy[i, 1]
        min1 = min(min1, c1)
        max1 = max(max1, c1)
        min2 = min(min2, c2)
        max2 = max(max2, c2)
    score = 0.0
    for i in range(lo, hi):
        c1 = cos * xy[i, 0] + sin * xy[i, 1]
        c2 = -sin * xy[i, 0] + cos * xy[i, 1]
        d = min(min(max1 - c1, c1 - min1), min(max2 - c2, c2 - min2))
        score += 1.0 / max(d, d0)
    return score


@numba.njit(cache=True, nogil=True)
def _fit_yaws_kernel(
    xy: np.ndarray, bounds: np.ndarray, coarse: np.ndarray, fine: np.ndarray, d0: float
) -> np.ndarray:  # pragma: no cover - compiled
    """Best heading in ``[0, pi/2)`` of each cluster ``xy[bounds[c]:bounds[c + 1]]``."""
    out = np.zeros(bounds.shape[0] - 1)
    for c in range(bounds.shape[0] - 1):
        lo = bounds[c]
        hi = bounds[c + 1]
        if hi - lo < 3:
            continue
        best_yaw = 0.0
        best = -1.0
        for yaw in coarse:
            s = _closeness(xy, lo, hi, yaw, d0)
            if s > best:
                best = s
                best_yaw = yaw
        centre = best_yaw
        for off in fine:
            s = _closeness(xy, lo, hi, centre + off, d0)
            if s > best:
                best = s
                best_yaw = centre + off
        out[c] = best_yaw % (np.pi / 2)
    return out


def fit_yaws(xy_m: np.ndarray, bounds: np.ndarray, cfg: BoxFitConfig) -> np.ndarray:
    """Heading in ``[0, pi/2)`` of the rectangle that best fits each group of points.

    Args:
        xy_m: ``(M, 2)`` points grouped by cluster.
        bounds: ``(C + 1,)`` cluster ``c`` is ``xy_m[bounds[c]:bounds[c + 1]]``.
        cfg: coarse step over [0, 90) degrees, then a finer step within one coarse step.

    Returns:
        ``(C,)`` yaw; 0 for clusters of fewer than 3 points. Ties keep the smaller angle.
    """
    coarse = np.deg2rad(np.arange(0.0, 90.0, cfg.yaw_step_deg))
    step = cfg.yaw_step_deg
    fine = np.deg2rad(np.arange(-step, step + 1e-9, cfg.refine_step_deg))
    return _fit_yaws_kernel(
        np.ascontiguousarray(xy_m, dtype=np.float64),
        np.asarray(bounds, dtype=np.int64),
        coarse,
        fine,
        cfg.closeness_min_distance_m,
    )


def _checked(xyz_m: np.ndarray, bounds: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(M, 3)`` float64 points and ``(C + 1,)`` int64 bounds; ValueError unless the bounds
    start at 0, end at M and leave no cluster empty."""
    xyz = np.asarray(xyz_m, dtype=np.float64).reshape(-1, 3)
    bounds = np.asarray(bounds, dtype=np.int64)
    if len(bounds) > 1 and (
        np.any(np.diff(bounds) <= 0) or bounds[0] != 0 or bounds[-1] != len(xyz)
    ):
        raise ValueError(
            "fit_boxes: bounds must start at 0, end at len(xyz_m) and leave no cluster empty"
        )
    return xyz, bounds


def _centred_xy(xyz: np.ndarray, bounds: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(C, 2)`` cluster mean xy, ``(M,)`` cluster of each point and ``(M, 2)`` the points'
    xy relative to their cluster's mean (numerical range of the projections)."""
    sizes = np.diff(bounds)
    mean_xy = np.add.reduceat(xyz[:, :2], bounds[:-1], axis=0) / sizes[:, None]
    cluster_of = np.repeat(np.arange(len(sizes)), sizes)
    return mean_xy, cluster_of, xyz[:, :2] - mean_xy[cluster_of]


def fit_boxes(
    xyz_m: np.ndarray, bounds: np.ndarray, ground_z_m: np.ndarray | None, cfg: BoxFitConfig
) -> np.ndarray:
    """Oriented boxes around clusters.

    Args:
        xyz_m: ``(M, 3)`` points grouped by cluster (voxel centroids are fine: each extent is
            padded by ``2 * cfg.voxel_pad_m``).
        bounds: ``(C + 1,)`` cluster ``c`` is ``xyz_m[bounds[c]:bounds[c + 1]]``, none empty.
        ground_z_m: ``(C,)`` ground height under each cluster, or None to use the lowest point
            (the box bottom is the lower of the two).
        cfg: yaw search and padding.

    Returns:
        ``(C, 7)`` ``[x, y, z, length, width, height, yaw]``, z the geometric centre; length is
        the longer horizontal side, yaw in ``[-pi/2, pi/2)`` along it (heading is ambiguous
        by 180 degrees for a shape fit).
    """
    xyz, bounds = _checked(xyz_m, bounds)
    if len(bounds) <= 1:
        return np.zeros((0, 7))
    centred = _centred_xy(xyz, bounds)
    yaw = fit_yaws(centred[2], bounds, cfg)
    return _boxes_at_yaw(xyz, bounds, centred, yaw, ground_z_m, cfg)


def boxes_at_yaw(
    xyz_m: np.ndarray,
    bounds: np.ndarray,
    yaw_rad: np.ndarray,
    ground_z_m: np.ndarray | None,
    cfg: BoxFitConfig,
) -> np.ndarray:
    """The tightest boxes around clusters at given headings (:func:`fit_boxes` without the yaw
    search).

    Args:
        xyz_m: ``(M, 3)`` points grouped by cluster, as for :func:`fit_boxes`.
        bounds: ``(C + 1,)`` cluster bounds, none empty.
        yaw_rad: ``(C,)`` heading of each box (either axis: the longer side becomes the length).
        ground_z_m: ``(C,)`` ground height under each cluster, or None (the lowest point).
        cfg: the padding.

    Returns:
        ``(C, 7)`` boxes as :func:`fit_boxes` returns them.
    """
    xyz, bounds = _checked(xyz_m, bounds)
    if len(bounds) <= 1:
        return np.zeros((0, 7))
    return _boxes_at_yaw(xyz, bounds, _centred_xy(xyz, bounds), yaw_rad, ground_z_m, cfg)


def _boxes_at_yaw(
    xyz: np.ndarray,
    bounds: np.ndarray,
    centred: tuple[np.ndarray, np.ndarray, np.ndarray],
    yaw_rad: np.ndarray,
    ground_z_m: np.ndarray | None,
    cfg: BoxFitConfig,
) -> np.ndarray:
    """:func:`boxes_at_yaw` of checked, non-empty clusters whose :func:`_centred_xy` is given."""
    mean_xy, cluster_of, xy = centred
    num = len(bounds) - 1
    yaw = np.asarray(yaw_rad, dtype=np.float64).reshape(num)
    cos, sin = np.cos(yaw)[cluster_of], np.sin(yaw)[cluster_of]
    c1 = cos * xy[:, 0] + sin * xy[:, 1]
    c2 = -sin * xy[:, 0] + cos * xy[:, 1]
    starts = bounds[:-1]
    lo1, hi1 = np.minimum.reduceat(c1, starts), np.maximum.reduceat(c1, starts)
    lo2, hi2 = np.minimum.reduceat(c2, starts), np.maximum.reduceat(c2, starts)
    mid1, mid2 = 0.5 * (lo1 + hi1), 0.5 * (lo2 + hi2)
    ext1 = hi1 - lo1 + 2 * cfg.voxel_pad_m
    ext2 = hi2 - lo2 + 2 * cfg.voxel_pad_m
    cy, sy = np.cos(yaw), np.sin(yaw)
    cx = mean_xy[:, 0] + mid1 * cy - mid2 * sy
    cyy = mean_xy[:, 1] + mid1 * sy + mid2 * cy
    swap = ext2 > ext1
    length = np.where(swap, ext2, ext1)
    width = np.where(swap, ext1, ext2)
    yaw = np.where(swap, yaw + np.pi / 2, yaw)
    yaw = np.mod(yaw + np.pi / 2, np.pi) - np.pi / 2
    top = np.maximum.reduceat(xyz[:, 2], starts)
    bottom = np.minimum.reduceat(xyz[:, 2], starts)
    if ground_z_m is not None:
        bottom = np.minimum(bottom, np.asarray(ground_z_m, dtype=np.float64).reshape(num))
    return np.stack([cx, cyy, 0.5 * (top + bottom), length, width, top - bottom, yaw], axis=1)


def pooled_clusters(
    xyz_m: np.ndarray, bounds: np.ndarray, members: Sequence[np.ndarray | Sequence[Any]]
) -> tuple[np.ndarray, np.ndarray]:
    """The points of each group of clusters pooled: ``(P, 3)`` points and ``(G + 1,)`` bounds
    of the ``G`` groups (``members[g]``: indices into the ``(C + 1,)`` ``bounds`` of the
    ``(M, 3)`` grouped points)."""
    parts = [xyz_m[bounds[c] : bounds[c + 1]] for group in members for c in group]
    sizes = [sum(int(bounds[c + 1] - bounds[c]) for c in group) for group in members]
    bounds_out = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
    if not parts:  # (no group, or only empty ones: G + 1 zeros)
        return np.zeros((0, 3)), bounds_out
    return np.concatenate(parts, axis=0), bounds_out


def fit_box(xyz_m: np.ndarray, ground_z_m: float | None, cfg: BoxFitConfig) -> np.ndarray:
    """``(7,)`` box around one ``(K, 3)`` cluster (K >= 1); see :func:`fit_boxes`."""
    xyz = np.asarray(xyz_m, dtype=np.float64)
    if xyz.ndim != 2 or xyz.shape[1] != 3 or len(xyz) == 0:
        raise ValueError(f"fit_box: need (K, 3) points with K >= 1, got shape {xyz.shape}")
    ground = None if ground_z_m is None else np.array([ground_z_m])
    return fit_boxes(xyz, np.array([0, len(xyz)]), ground, cfg)[0]


def _turn(boxes: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Copy with the selected boxes turned by 90 degrees (length and width swapped)."""
    out = boxes.copy()
    out[mask, 3], out[mask, 4] = boxes[mask, 4], boxes[mask, 3]
    out[mask, 6] = np.mod(boxes[mask, 6], np.pi) - np.pi / 2
    return out


def _grow(boxes: np.ndarray, mask: np.ndarray, minimum_lw_m: np.ndarray) -> np.ndarray:
    """Copy with the selected boxes grown to ``(2,)`` or ``(N, 2)`` minimum (length, width),
    away from the sensor."""
    out = boxes.copy()
    minimum = np.broadcast_to(np.asarray(minimum_lw_m, dtype=np.float64), (len(out), 2))
    for axis in range(2):  # 0: length axis (yaw), 1: width axis (yaw + 90 degrees)
        angle = out[:, 6] + axis * np.pi / 2
        u = np.stack([np.cos(angle), np.sin(angle)], axis=1)
        extent = out[:, 3 + axis]
        short = mask & (extent < minimum[:, axis])
        away = np.where(np.einsum("nk,nk->n", out[:, :2], u) >= 0, 1.0, -1.0)
        shift = 0.5 * (minimum[:, axis] - extent) * away
        out[:, :2] += np.where(short[:, None], shift[:, None] * u, 0.0)
        out[:, 3 + axis] = np.where(short, minimum[:, axis], extent)
    return out


def _car_minimum(cfg: BoxFitConfig) -> np.ndarray:
    return np.array([cfg.car_min_length_m, cfg.car_min_width_m])


def complete_far_side(boxes: np.ndarray, grow: np.ndarray, cfg: BoxFitConfig) -> np.ndarray:
    """Grow vehicle boxes whose far side was not seen, away from the sensor at the origin.

    A short visible side is ambiguous: it may be the car's flank (the car continues along it)
    or its front or rear (the car's length runs across it). A visible side up to
    ``cfg.car_end_face_max_m`` long is taken for the front or rear: the box is turned by 90
    degrees before it grows. With ``cfg.end_face_across_sight``, only when that side runs
    across the line of sight (:func:`along_sight` is false): a short side along the line of
    sight is a flank seen obliquely (an end face there would leave the flank facing the sensor,
    the longer side seen), and the box keeps its axis.

    Args:
        boxes: ``(N, 7)`` boxes in the sensor frame.
        grow: ``(N,)`` bool, which boxes to complete (e.g. those classified as cars).
        cfg: the minimum vehicle length and width.

    Returns:
        ``(N, 7)`` copy: for each selected box and each horizontal axis whose extent is below
        the minimum, the face nearer the sensor stays where it is and the box grows to the
        minimum along that axis, away from the sensor.
    """
    out = np.array(boxes, dtype=np.float64, copy=True).reshape(-1, 7)
    grow = np.asarray(grow, dtype=bool).reshape(len(out))
    end_on = grow & (out[:, 3] <= cfg.car_end_face_max_m)
    if cfg.end_face_across_sight:
        end_on &= ~along_sight(out)
    return _grow(_turn(out, end_on), grow, _car_minimum(cfg))


def along_sight(boxes: np.ndarray) -> np.ndarray:
    """``(N,)`` bool: ``(N, 7)`` boxes whose length axis is within 45 degrees of the line of
    sight from the sensor at the origin to the box centre (modulo 180 degrees)."""
    b = np.asarray(boxes, dtype=np.float64).reshape(-1, 7)
    sight = np.arctan2(b[:, 1], b[:, 0])
    off = np.abs(np.mod(b[:, 6] - sight + np.pi / 2, np.pi) - np.pi / 2)
    return off < np.pi / 4


def complete_far_side_along(
    boxes: np.ndarray, grow: np.ndarray, heading_rad: np.ndarray, cfg: BoxFitConfig
) -> np.ndarray:
    """:func:`complete_far_side` with the length axis given instead of guessed.

    Where the vehicle's heading is known from elsewhere (e.g. from the boxes of the two halves
    of a split cluster), a selected box shorter than ``cfg.car_min_length_m`` (its length axis
    is ambiguous) whose length axis is more than 45 degrees off ``heading_rad`` (modulo 180
    degrees) is turned by 90 degrees before it grows; a box already as long as a car keeps its
    axis.

    Args:
        boxes: ``(N, 7)`` boxes in the sensor frame.
        grow: ``(N,)`` bool, which boxes to complete.
        heading_rad: ``(N,)`` the heading each selected box's length should follow.
        cfg: the minimum vehicle length and width.
    """
    out = np.array(boxes, dtype=np.float64, copy=True).reshape(-1, 7)
    grow = np.asarray(grow, dtype=bool).reshape(len(out))
    heading = np.asarray(heading_rad, dtype=np.float64).reshape(len(out))
    off = np.abs(np.mod(out[:, 6] - heading + np.pi / 2, np.pi) - np.pi / 2)
    turn = grow & (out[:, 3] < cfg.car_min_length_m) & (off > np.pi / 4)
    return _grow(_turn(out, turn), grow, _car_minimum(cfg))


def complete_end_faces(
    boxes: np.ndarray, end_face: np.ndarray, minimum_lw_m: np.ndarray
) -> np.ndarray:
    """Complete boxes that are one visible end face (front or rear) of a vehicle.

    The face is the vehicle's width; its length runs away from the sensor, unseen. Each
    selected box is turned by 90 degrees (its length becomes the width) and grown away from
    the sensor at the origin to the minimum length and width, the face staying in place.

    Args:
        boxes: ``(N, 7)`` boxes in the sensor frame.
        end_face: ``(N,)`` bool, which boxes are end faces (e.g.
            :attr:`~drivestack.perception.lidar.classify.Classification.end_face`).
        minimum_lw_m: ``(N, 2)`` minimum (length, width) of each box's class.

    Returns:
        ``(N, 7)`` copy with the selected boxes completed; the others unchanged.
    """
    out = np.array(boxes, dtype=np.float64, copy=True).reshape(-1, 7)
    face = np.asarray(end_face, dtype=bool).reshape(len(out))
    minimum = np.asarray(minimum_lw_m, dtype=np.float64).reshape(len(out), 2)
    return _grow(_turn(out, face), face, minimum)


def split_rows(
    xyz_m: np.ndarray, bounds: np.ndarray, boxes: np.ndarray, cfg: BoxFitConfig
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Cut clusters that are rows of cars (parked nose to tail) into car-length pieces.

    A box at most ``cfg.row_split_max_height_m`` tall (car height: a truck or a bus is taller)
    and at least 1.5 times ``cfg.row_split_length_m`` long is cut across its length axis into
    ``round(length / row_split_length_m)`` equal pieces. ``row_split_length_m`` 0 cuts nothing.

    Args:
        xyz_m: ``(M, 3)`` points grouped by cluster.
        bounds: ``(C + 1,)`` cluster ``c`` is ``xyz_m[bounds[c]:bounds[c + 1]]``.
        boxes: ``(C, 7)`` their fitted boxes (:func:`fit_boxes`).
        cfg: the car pitch and height limit.

    Returns:
        ``(M, 3)`` the points regrouped, ``(C' + 1,)`` bounds of the clusters (cut clusters
        replaced by their non-empty pieces, in place) and ``(C',)`` the index of each new
        cluster's source cluster.
    """
    xyz = np.asarray(xyz_m, dtype=np.float64).reshape(-1, 3)
    bounds = np.asarray(bounds, dtype=np.int64)
    num = len(bounds) - 1
    pitch = cfg.row_split_length_m
    pieces = np.ones(num, dtype=np.int64)
    if pitch > 0 and num:
        cut = (boxes[:, 3] >= 1.5 * pitch) & (boxes[:, 5] <= cfg.row_split_max_height_m)
        pieces[cut] = np.rint(boxes[cut, 3] / pitch).astype(np.int64)
    if np.all(pieces == 1):
        return xyz, bounds, np.arange(num)
    sizes = np.diff(bounds)
    owner = np.repeat(np.arange(num), sizes)
    yaw = boxes[owner, 6]
    along = (xyz[:, 0] - boxes[owner, 0]) * np.cos(yaw) + (xyz[:, 1] - boxes[owner, 1]) * np.sin(
        yaw
    )
    half = 0.5 * boxes[owner, 3]
    piece = np.clip(
        np.floor((along + half) / (2 * half) * pieces[owner]), 0, pieces[owner] - 1
    ).astype(np.int64)
    order = np.lexsort((piece, owner))
    key = owner[order] * int(pieces.max()) + piece[order]
    start = np.flatnonzero(np.r_[True, key[1:] != key[:-1]])
    return xyz[order], np.r_[start, len(order)], owner[order][start]
