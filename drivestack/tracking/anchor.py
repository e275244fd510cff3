"""Anchor-point measurements: a matched detection re-centred on its track's size behind the
faces the sensor saw.

A LiDAR box fitted to a partly seen vehicle (its far end hidden, or only its rear face seen)
is short, and its centre sits nearer the sensor than the vehicle's. As the visible part changes
from sweep to sweep the centre moves by half the change in length, and a Kalman filter reads
the moves as speed: a parked bus whose box shrinks from 11.6 m to 9.8 m for one sweep "moves"
at 3 m/s, and a planner brakes for it. What the sensor measured well is the near side of the
box. So, as Autoware's multi-object tracker does with its anchor points (the nearest corner or
surface), the measurement keeps the detection's faces that are visible from the sensor and
places the track's reference size behind them: the median length and width of the track's
last matched detections (:class:`~drivestack.tracking.config.AnchorConfig`).

Boxes are ``(M, 7)`` ``[x, y, z, length, width, height, yaw]`` in the tracking frame; the
viewpoint is the sensor's (the detections' frame origin stands for it) ``(x, y)`` in that frame.
"""

from __future__ import annotations

import numpy as np

from drivestack.core.transforms import wrap_angle


def axes_aligned_to(boxes: np.ndarray, track_yaw_rad: np.ndarray) -> np.ndarray:
    """``(M, 7)`` copies of ``boxes`` turned by a multiple of 90 degrees so that each yaw lies
    within 45 degrees of ``track_yaw_rad (M,)`` modulo 180 degrees, with length and width
    swapped where the turn is an odd multiple: a box fitted to one face of a vehicle may take
    that face for its long side, and then its length is the vehicle's width. The boxes cover
    the same ground either way."""
    out = boxes.copy()
    diff = wrap_angle(2.0 * (boxes[:, 6] - track_yaw_rad)) * 0.5  # in [-pi/2, pi/2)
    swap = np.abs(diff) > 0.25 * np.pi
    if swap.any():
        out[swap, 3], out[swap, 4] = boxes[swap, 4], boxes[swap, 3]
        out[swap, 6] = wrap_angle(boxes[swap, 6] + 0.5 * np.pi)
    return out


def anchored_boxes(
    boxes: np.ndarray, reference_size_m: np.ndarray, viewpoint_xy_m: np.ndarray
) -> np.ndarray:
    """``(M, 7)`` measurements: each box of ``boxes (M, 7)`` with length and width set to
    ``reference_size_m (M, 2)`` and its centre moved so that its faces visible from
    ``viewpoint_xy_m (2,)`` stay where they were.

    A face is visible when the viewpoint lies beyond its plane (in the box's own frame, the
    front face at ``+length/2`` is visible when the viewpoint's ``x`` exceeds ``length/2``).
    Along an axis with a visible face the box grows or shrinks away from that face; along an
    axis with none (the viewpoint beside the box, or inside it) it grows or shrinks about its
    centre. Height, ``z`` and yaw are the detection's."""
    out = boxes.copy()
    if boxes.shape[0] == 0:
        return out
    cos, sin = np.cos(boxes[:, 6]), np.sin(boxes[:, 6])
    dx = viewpoint_xy_m[0] - boxes[:, 0]
    dy = viewpoint_xy_m[1] - boxes[:, 1]
    # the viewpoint in each box's frame, and the visible face along each axis (+1, -1 or 0)
    along = cos * dx + sin * dy
    across = -sin * dx + cos * dy
    half_length, half_width = 0.5 * boxes[:, 3], 0.5 * boxes[:, 4]
    side_x = np.where(along > half_length, 1.0, np.where(along < -half_length, -1.0, 0.0))
    side_y = np.where(across > half_width, 1.0, np.where(across < -half_width, -1.0, 0.0))
    # the visible face at +-h stays put when the half size becomes h_ref: the centre moves by
    # side * (h - h_ref)
    shift_along = side_x * (half_length - 0.5 * reference_size_m[:, 0])
    shift_across = side_y * (half_width - 0.5 * reference_size_m[:, 1])
    out[:, 0] += cos * shift_along - sin * shift_across
    out[:, 1] += sin * shift_along + cos * shift_across
    out[:, 3:5] = reference_size_m
    return out
