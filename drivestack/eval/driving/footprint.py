"""A cheap conservative prefilter for footprint overlap: two covering circles per box; and
nuPlan's bearing rule for what is behind the ego."""

from __future__ import annotations

import numpy as np

# nuPlan: an agent more than 150 deg off the ego heading is behind
BEHIND_ANGLE_RAD = 5.0 * np.pi / 6.0


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


def bearing_from_ego_rad(ego: np.ndarray, agent: np.ndarray) -> np.ndarray:
    """Broadcast ``(..., 7)`` box pairs -> ``(...)`` absolute bearing in ``[0, pi]`` of the
    agent's centre seen from the ``ego`` box's centre, relative to its heading (0 when they
    coincide); pass a box moved to the rear axle for nuPlan's collision types and TTC."""
    return np.abs(
        np.remainder(
            np.arctan2(agent[..., 1] - ego[..., 1], agent[..., 0] - ego[..., 0])
            - ego[..., 6]
            + np.pi,
            2 * np.pi,
        )
        - np.pi
    )
