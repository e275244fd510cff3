"""Score proposal rollouts with the closed-loop metrics the evaluation uses (nuPlan's).

``score = no_at_fault_collision * drivable_area * (5 progress + 5 ttc + 4 speed_limit + 2 comfort) / 16``
over the first ``n_steps`` of each rollout.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from drivestack.eval.driving.comfort import comfort_signals, is_comfortable
from drivestack.eval.driving.footprint import may_overlap
from drivestack.kernels import box_corners, boxes_overlap_bev
from drivestack.planning.proposals import Rollout
from drivestack.planning.reference_path import ReferencePath
from drivestack.prediction.forecast import Forecast
from drivestack.sim.vehicle import VehicleParams
from drivestack.structures.road_map import RoadMap

WEIGHT_PROGRESS = 5.0
WEIGHT_TTC = 5.0
WEIGHT_SPEED_LIMIT = 4.0
WEIGHT_COMFORT = 2.0
TTC_THRESHOLD_S = 0.95
DRIVABLE_TOLERANCE_M = 0.3
MAX_OVERSPEED_MPS = 2.23
STOPPED_SPEED_MPS = 0.05
BEHIND_ANGLE_RAD = (
    5.0 * np.pi / 6.0
)  # nuPlan: an agent more than 150 deg off the ego heading is behind


@dataclass(frozen=True)
class ProposalScores:
    """``(P,)`` arrays: the total and each part."""

    total: np.ndarray
    collision: np.ndarray
    drivable: np.ndarray
    progress: np.ndarray
    ttc: np.ndarray
    speed_limit: np.ndarray
    comfort: np.ndarray


def at_fault_collisions(
    ego_boxes: np.ndarray,
    ego_speed_mps: np.ndarray,
    agent_boxes: np.ndarray,
    agent_valid: np.ndarray | None = None,
) -> np.ndarray:
    """``(P,)`` bool: does proposal p hit an agent while moving, with the agent not behind it?

    ``ego_boxes (P, K, 7)``, ``ego_speed_mps (P, K)``, ``agent_boxes (A, K, 7)`` (same times).
    """
    n_prop = ego_boxes.shape[0]
    hit = np.zeros(n_prop, dtype=bool)
    if agent_boxes.shape[0] == 0:
        return hit
    dx = agent_boxes[None, :, :, 0].transpose(0, 2, 1) - ego_boxes[..., 0:1]  # (P, K, A)
    dy = agent_boxes[None, :, :, 1].transpose(0, 2, 1) - ego_boxes[..., 1:2]
    near = may_overlap(ego_boxes[:, :, None, :], agent_boxes.transpose(1, 0, 2)[None])
    bearing = np.abs(
        np.remainder(np.arctan2(dy, dx) - ego_boxes[..., 6:7] + np.pi, 2 * np.pi) - np.pi
    )
    near &= (bearing < BEHIND_ANGLE_RAD) & (ego_speed_mps[:, :, None] > STOPPED_SPEED_MPS)
    if agent_valid is not None:
        near &= agent_valid.T[None]
    for k in np.flatnonzero(np.any(near, axis=(0, 2))):
        props = np.flatnonzero(np.any(near[:, k], axis=1))
        agents = np.flatnonzero(np.any(near[:, k], axis=0))
        overlap = (
            boxes_overlap_bev(ego_boxes[props, k], agent_boxes[agents, k])
            & near[np.ix_(props, [k], agents)][:, 0]
        )
        hit[props] |= np.any(overlap, axis=1)
    return hit


def score_rollouts(
    rollout: Rollout,
    forecast: Forecast,
    path: ReferencePath,
    road_map: RoadMap,
    vehicle: VehicleParams,
    dt_s: float,
    n_steps: int,
    drivable_every: int = 5,
) -> ProposalScores:
    k1 = n_steps + 1
    n_prop = rollout.states.shape[0]
    boxes = rollout.boxes(vehicle, n_steps)  # (P, K+1, 7)
    speed = rollout.field("speed_mps")[:, :k1]
    # 1. at-fault collisions against the forecast
    collide = at_fault_collisions(boxes[:, 1:], speed[:, 1:], forecast.boxes[:, 1:k1])
    # 2. drivable area (corners every few steps)
    sub = boxes[:, ::drivable_every].reshape(-1, 7)
    corners = box_corners(sub)[:, :4, :2].reshape(-1, 2)
    outside = road_map.distance_outside_drivable_m(corners).reshape(n_prop, -1)
    drivable = np.max(outside, axis=1) <= DRIVABLE_TOLERANCE_M
    # 3. progress along the path, relative to the best proposal
    progress_m = rollout.station_m[:, n_steps] - rollout.station_m[:, 0]
    best = float(np.max(progress_m))
    progress = np.clip(progress_m / best, 0.0, 1.0) if best > 0.5 else np.ones(n_prop)
    # 4. time to collision with the leader along the path
    gap = rollout.gap_m[:, 1:k1]
    closing = rollout.closing_speed_mps[:, 1:k1]
    with np.errstate(divide="ignore", invalid="ignore"):
        ttc = np.where((closing > 0) & (speed[:, 1:] > STOPPED_SPEED_MPS), gap / closing, np.inf)
    ttc_ok = np.min(ttc, axis=1) >= TTC_THRESHOLD_S
    # 5. speed limit
    limit = path.speed_limit_at(rollout.station_m[:, :k1])
    over = np.sum(np.maximum(speed - limit, 0.0), axis=1) * dt_s
    speed_score = np.maximum(0.0, 1.0 - over / (MAX_OVERSPEED_MPS * n_steps * dt_s))
    # 6. comfort
    comfort = is_comfortable(
        comfort_signals(
            speed,
            rollout.field("yaw_rad")[:, :k1],
            rollout.field("acceleration_mps2")[:, :k1],
            dt_s,
            mode="nearest",
        )
    )
    weighted = (
        WEIGHT_PROGRESS * progress
        + WEIGHT_TTC * ttc_ok
        + WEIGHT_SPEED_LIMIT * speed_score
        + WEIGHT_COMFORT * comfort
    ) / (WEIGHT_PROGRESS + WEIGHT_TTC + WEIGHT_SPEED_LIMIT + WEIGHT_COMFORT)
    total = (~collide) * drivable * weighted
    return ProposalScores(
        total,
        (~collide).astype(float),
        drivable.astype(float),
        progress,
        ttc_ok.astype(float),
        speed_score,
        comfort.astype(float),
    )
