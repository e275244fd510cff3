"""A cheap conservative prefilter for footprint overlap: two covering circles per box."""

from __future__ import annotations

import numpy as np


def covering_circles(boxes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Centres ``(..., 2, 2)`` and radius ``(...)`` of two circles that cover each ``(..., 7)``
    box footprint (centred a quarter length ahead of and behind the box centre)."""
    c, s = np.cos(boxes[..., 6]), np.sin(boxes[..., 6])
    q = boxes[..., 3] / 4
    ahead = np.stack([boxes[..., 0] + q * c, boxes[..., 1] + q * s], axis=-1)
    behind = np.stack([boxes[..., 0] - q * c, boxes[..., 1] - q * s], axis=-1)
    return np.stack([ahead, behind], axis=-2), np.hypot(q, boxes[..., 4] / 2)


def may_overlap(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Broadcast ``(..., 7)`` boxes -> ``(...)`` bool; False guarantees disjoint footprints."""
    ca, ra = covering_circles(a)
    cb, rb = covering_circles(b)
    diff = ca[..., :, None, :] - cb[..., None, :, :]
    dist = np.sqrt(np.min(np.sum(diff * diff, axis=-1), axis=(-2, -1)))
    return dist <= ra + rb
