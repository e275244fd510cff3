"""Ego-agent collision tests of the closed-loop simulator: at one tick, and swept between ticks.

Shapes: boxes are ``[x, y, z, length, width, height, yaw]``; the ego's footprint ``(7,)``, the
agents' ``(A, 7)`` with ``valid (A,)``; every result is ``(A,)`` bool.

:func:`ego_agent_collisions` tests the footprints at one instant.
:func:`swept_ego_agent_collisions` answers "did they overlap at some time in ``(t_prev, t]``?":
a fast crossing (a pedestrian at a coarse step, a head-on pass at 40 m/s closing speed) can
leave the footprints apart at both ticks although they passed through each other in between,
which the per-tick test misses. Between the two ticks both poses are interpolated (centre and
size linearly, yaw along the shorter way round) and tested at ``n`` evenly spaced sub-steps
``t_prev + s (t - t_prev) / n``, ``s = 1 .. n`` (the last is the tick itself), with ``n`` chosen
per pair so that the pair's relative displacement per sub-step (:func:`pair_displacement_m`:
the agent centre's translation relative to the ego's plus both yaw changes' arcs at the
corners) is at most :data:`STEP_FRACTION` of the smallest half-side of the two boxes, and ``n``
at most :data:`MAX_SUBSTEPS`.

Tolerance: a contact between the ticks is caught whenever its penetration depth (the shortest
translation that separates the footprints) exceeds ``pair_displacement_m / n`` at some instant
``t*``: seen from the ego's centre, no point of either box moves more than that between ``t*``
and the next sub-step, so an axis separating them there would bound the depth at ``t*`` by it.
Uncapped, that is ``STEP_FRACTION`` x the smallest half-side (a quarter of the narrower box's
width): a pass through the other box, whose depth at its deepest reaches the narrower box's
width, is always caught; only corner grazes shallower than the tolerance may be missed. At the
cap the tolerance grows to ``pair_displacement_m / MAX_SUBSTEPS`` (e.g. 40 m/s closing over a
0.5 s step: 20 m / 64 = 0.31 m, still under a pedestrian's 0.6 m width).

An agent valid at the tick but not at the previous one (it appeared) is tested at the tick
only: its jump is not a motion, so it is never interpolated. A cheap bounding test on the swept
extent (the segment the agent's centre travels relative to the ego's centre, against both
boxes' covering extents) skips far pairs before any sub-step is built. The overlap tests are
the per-tick ones: :func:`may_overlap` (two covering circles) then the separating-axis kernel
(:func:`boxes_overlap_bev` and its element-wise form).

Because a contact at ``t_prev`` lasts into ``(t_prev, t]``, the tick after the last one where
the boxes overlap is marked too (the contact ended in between). A contact that the per-tick
test sees starts at the same tick here; one that begins and ends between two ticks (missed by
the per-tick test) is marked at the later tick, where the boxes may already be apart.

:func:`first_contacts` (and :func:`history_first_contact`, on a recorded history) gives the
instant such a mark stands for: the earliest of the same sub-steps whose footprints overlap,
with both boxes interpolated there, found exactly where the swept test says True. Collision
types (who hit whom, with what) are read there, not at the tick's poses after the pass.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from drivestack.core.transforms import wrap_angle
from drivestack.eval.driving.footprint import may_overlap
from drivestack.kernels import boxes_overlap_bev, boxes_overlap_bev_pairs

if TYPE_CHECKING:
    from drivestack.sim.runner import SimHistory

#: Most sub-steps between two ticks for one pair (the tolerance above grows past the cap).
MAX_SUBSTEPS = 64
#: Relative displacement per sub-step, as a fraction of the smaller box's smallest half-side.
STEP_FRACTION = 0.5


def covering_extent_m(boxes: np.ndarray) -> np.ndarray:
    """``(...)`` distance from each ``(..., 7)`` box's centre to the far edge of its two covering
    circles (:func:`~drivestack.eval.driving.footprint.covering_circles`): no point of the
    footprint, at any yaw, lies farther from the centre."""
    return 0.5 * boxes[..., 3] + np.hypot(0.25 * boxes[..., 3], 0.5 * boxes[..., 4])


def ego_agent_collisions(
    ego_box: np.ndarray, agent_boxes: np.ndarray, valid: np.ndarray
) -> np.ndarray:
    """``(A,)`` bool: which valid agents' footprints ``(A, 7)`` overlap the ego footprint ``(7,)``
    now (touching counts)."""
    hit = np.zeros(agent_boxes.shape[0], dtype=bool)
    # a looser, cheaper test first (centre distance against the covering circles' extent,
    # with a rounding margin): far agents, nearly all of them, skip the two-circle prefilter
    extent = covering_extent_m(agent_boxes) + covering_extent_m(ego_box)
    dist = np.hypot(agent_boxes[:, 0] - ego_box[0], agent_boxes[:, 1] - ego_box[1])
    near = valid & (dist <= extent * (1.0 + 1e-6) + 1e-3)
    if not np.any(near):
        return hit
    maybe = np.zeros_like(hit)
    maybe[near] = may_overlap(ego_box[None], agent_boxes[near])
    if np.any(maybe):
        hit[maybe] = boxes_overlap_bev(ego_box[None], agent_boxes[maybe])[0]
    return hit


def turn_sweep_m(prev: np.ndarray, box: np.ndarray) -> np.ndarray:
    """``(...)`` arc that the yaw change from ``prev`` to ``box`` (both ``(..., 7)``, the shorter
    way round) sweeps at the box's corners: half-diagonal x ``|delta yaw|``."""
    half_diagonal = 0.5 * np.maximum(
        np.hypot(prev[..., 3], prev[..., 4]), np.hypot(box[..., 3], box[..., 4])
    )
    return half_diagonal * np.abs(wrap_angle(box[..., 6] - prev[..., 6]))


def pair_displacement_m(
    prev_ego: np.ndarray, ego: np.ndarray, prev_agents: np.ndarray, agents: np.ndarray
) -> np.ndarray:
    """``(A,)`` bound on how far any footprint point of the ego ``(7,)`` and of each agent
    ``(A, 7)`` moves relative to the other between two ticks, along
    :func:`interpolate_boxes` (seen from the ego's centre, which overlap does not depend on):
    the agent centre's translation relative to the ego's centre plus both boxes'
    :func:`turn_sweep_m`. A pair driving side by side at one speed hardly moves at all."""
    rel_x = (agents[:, 0] - ego[0]) - (prev_agents[:, 0] - prev_ego[0])
    rel_y = (agents[:, 1] - ego[1]) - (prev_agents[:, 1] - prev_ego[1])
    return np.hypot(rel_x, rel_y) + turn_sweep_m(prev_ego, ego) + turn_sweep_m(prev_agents, agents)


def substeps(
    prev_ego: np.ndarray, ego: np.ndarray, prev_agents: np.ndarray, agents: np.ndarray
) -> np.ndarray:
    """``(A,)`` int sub-steps per pair: the fewest ``n >= 1`` with
    ``pair_displacement_m / n <= STEP_FRACTION * `` the smallest half-side of the two boxes,
    at most :data:`MAX_SUBSTEPS` (also for a degenerate box of zero side)."""
    moved = pair_displacement_m(prev_ego, ego, prev_agents, agents)
    half_side = 0.5 * np.minimum(np.min(ego[3:5]), np.min(agents[:, 3:5], axis=1))
    allowed = STEP_FRACTION * half_side
    with np.errstate(divide="ignore", invalid="ignore"):
        need = np.where(allowed > 0.0, moved / allowed, np.where(moved > 0.0, np.inf, 0.0))
    return np.clip(np.ceil(np.minimum(need, MAX_SUBSTEPS)), 1, MAX_SUBSTEPS).astype(np.int64)


def interpolate_boxes(prev: np.ndarray, box: np.ndarray, fraction: np.ndarray) -> np.ndarray:
    """``(..., 7)`` boxes a ``fraction (...)`` of the way from ``prev`` to ``box`` (both
    ``(..., 7)``, broadcast): centre and size linearly, yaw along the shorter way round."""
    f = np.asarray(fraction, dtype=np.float64)[..., None]
    out = prev + f * (box - prev)
    out[..., 6] = prev[..., 6] + f[..., 0] * wrap_angle(box[..., 6] - prev[..., 6])
    return out


def _check_shapes(
    prev_ego: np.ndarray,
    prev_agents: np.ndarray,
    prev_valid: np.ndarray,
    ego: np.ndarray,
    agents: np.ndarray,
    valid: np.ndarray,
) -> None:
    """``ValueError`` naming the argument whose shape does not fit the others."""
    n = agents.shape[0] if agents.ndim == 2 else -1
    want = {
        "ego_box": (ego, (7,)),
        "prev_ego_box": (prev_ego, (7,)),
        "agent_boxes": (agents, (n, 7)),
        "prev_agent_boxes": (prev_agents, (n, 7)),
        "valid": (valid, (n,)),
        "prev_valid": (prev_valid, (n,)),
    }
    for name, (array, shape) in want.items():
        if array.shape != shape:
            raise ValueError(
                f"swept_ego_agent_collisions: {name} must have shape "
                f"{shape if n >= 0 else '(A, 7)'}, got {array.shape}"
            )


def swept_ego_agent_collisions(
    prev_ego_box: np.ndarray,
    prev_agent_boxes: np.ndarray,
    prev_valid: np.ndarray,
    ego_box: np.ndarray,
    agent_boxes: np.ndarray,
    valid: np.ndarray,
) -> np.ndarray:
    """``(A,)`` bool: which agents' footprints overlapped the ego's at some time in
    ``(t_prev, t]``, from the boxes at the previous tick (``prev_ego_box (7,)``,
    ``prev_agent_boxes (A, 7)``, ``prev_valid (A,)``) and at this one (``ego_box``,
    ``agent_boxes``, ``valid``).

    Every agent valid now is tested now (:func:`ego_agent_collisions`, so a per-tick hit is
    always a hit here); those valid at both ticks also at the interpolated sub-steps between
    (module docstring: sub-step count, cap and tolerance). ``ValueError`` naming the argument
    whose shape does not fit.
    """
    _check_shapes(prev_ego_box, prev_agent_boxes, prev_valid, ego_box, agent_boxes, valid)
    hit = ego_agent_collisions(ego_box, agent_boxes, valid)
    moving = valid & prev_valid & ~hit
    if not moving.any():
        return hit
    idx = np.flatnonzero(moving)
    idx = idx[_near_sweep(prev_ego_box, ego_box, prev_agent_boxes[idx], agent_boxes[idx])]
    if not len(idx):
        return hit
    pair, _, touched, _, _ = _inner_substeps(
        prev_ego_box, ego_box, prev_agent_boxes[idx], agent_boxes[idx]
    )
    hit[idx[np.unique(pair[touched])]] = True
    return hit


def _near_sweep(
    prev_ego_box: np.ndarray, ego_box: np.ndarray, prev_a: np.ndarray, now_a: np.ndarray
) -> np.ndarray:
    """``(B,)`` bool: which agents ``(B, 7)`` (valid at both ticks) come near enough to the ego
    between the ticks to be tested at the sub-steps."""
    # swept extent, seen from the ego's centre: the agent's centre runs along the segment from
    # its previous to its present relative position, and each footprint stays within its
    # covering extent of its centre, so a pair whose segment passes farther from the ego's
    # centre than both extents together never touches in between
    start_x, start_y = prev_a[:, 0] - prev_ego_box[0], prev_a[:, 1] - prev_ego_box[1]
    travel_x = now_a[:, 0] - ego_box[0] - start_x
    travel_y = now_a[:, 1] - ego_box[1] - start_y
    length2 = travel_x * travel_x + travel_y * travel_y
    along = -(start_x * travel_x + start_y * travel_y) / np.where(length2 > 0.0, length2, 1.0)
    along = np.minimum(np.maximum(along, 0.0), 1.0)
    reach = max(covering_extent_m(prev_ego_box), covering_extent_m(ego_box)) + np.maximum(
        covering_extent_m(prev_a), covering_extent_m(now_a)
    )
    dist = np.hypot(start_x + along * travel_x, start_y + along * travel_y)
    return np.asarray(dist <= reach * (1.0 + 1e-6) + 1e-3)


def _inner_substeps(
    prev_ego_box: np.ndarray, ego_box: np.ndarray, prev_a: np.ndarray, now_a: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The sub-steps strictly between the ticks (``s = 1 .. n - 1``; ``s = n`` is the tick) of
    the ego ``(7,)`` with each agent ``(B, 7)``, pair by pair and in time order within a pair:
    ``pair (S,)`` (the agent's row), ``fraction (S,)`` of the step, ``touched (S,)`` (the
    footprints overlap there) and the interpolated ``ego (S, 7)`` and ``agent (S, 7)`` boxes."""
    n = substeps(prev_ego_box, ego_box, prev_a, now_a)
    inner = n - 1
    pair = np.repeat(np.arange(len(n)), inner)
    first = np.cumsum(inner) - inner  # index of each pair's first sub-step
    s = np.arange(len(pair)) - np.repeat(first, inner) + 1
    fraction = s / n[pair]
    ego_sub = interpolate_boxes(prev_ego_box[None], ego_box[None], fraction)
    agent_sub = interpolate_boxes(prev_a[pair], now_a[pair], fraction)
    touched = np.zeros(len(pair), dtype=bool)
    if len(pair):
        maybe = may_overlap(ego_sub, agent_sub)
        if np.any(maybe):
            touched[maybe] = boxes_overlap_bev_pairs(ego_sub[maybe], agent_sub[maybe])
    return pair, fraction, touched, ego_sub.reshape(-1, 7), agent_sub.reshape(-1, 7)


def first_contacts(
    prev_ego_box: np.ndarray,
    prev_agent_boxes: np.ndarray,
    prev_valid: np.ndarray,
    ego_box: np.ndarray,
    agent_boxes: np.ndarray,
    valid: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """When in ``(t_prev, t]`` each agent first touched the ego, on the sub-steps of
    :func:`swept_ego_agent_collisions` (same arguments): ``fraction (A,)`` of the step
    (``s / n``; 1.0 at the tick, NaN where they never touch) and the ego's and the agent's
    boxes there, ``(A, 7)`` each (:func:`interpolate_boxes`; the tick's own boxes at 1.0, NaN
    where no contact). Finite exactly where the swept test says True: the earliest sub-step
    between the ticks whose footprints overlap, else the tick's own test (an agent that
    appeared at the tick is tested there only). ``ValueError`` naming the argument whose shape
    does not fit."""
    _check_shapes(prev_ego_box, prev_agent_boxes, prev_valid, ego_box, agent_boxes, valid)
    n_agents = agent_boxes.shape[0]
    fraction = np.full(n_agents, np.nan)
    ego_at = np.full((n_agents, 7), np.nan)
    agent_at = np.full((n_agents, 7), np.nan)
    hit = ego_agent_collisions(ego_box, agent_boxes, valid)
    fraction[hit], ego_at[hit], agent_at[hit] = 1.0, ego_box, agent_boxes[hit]
    idx = np.flatnonzero(valid & prev_valid)
    idx = idx[_near_sweep(prev_ego_box, ego_box, prev_agent_boxes[idx], agent_boxes[idx])]
    if not len(idx):
        return fraction, ego_at, agent_at
    pair, f, touched, ego_sub, agent_sub = _inner_substeps(
        prev_ego_box, ego_box, prev_agent_boxes[idx], agent_boxes[idx]
    )
    # sub-steps run in time order within each pair: its first touched one is the earliest
    rows, first = np.unique(pair[touched], return_index=True)
    at = np.flatnonzero(touched)[first]
    fraction[idx[rows]], ego_at[idx[rows]], agent_at[idx[rows]] = f[at], ego_sub[at], agent_sub[at]
    return fraction, ego_at, agent_at


def history_first_contact(
    history: SimHistory, tick: int, agent: int
) -> tuple[float, np.ndarray, np.ndarray]:
    """``(fraction, ego_box (7,), agent_box (7,))``: the first contact of the ego with agent
    column ``agent`` that ``history.collisions[tick, agent]`` marks, ``fraction`` of the way
    from tick ``tick - 1`` to ``tick`` (:func:`first_contacts` on the recorded boxes). At tick
    0, for an agent that appeared at ``tick``, and where no sub-step reproduces the mark (a
    history built by hand): ``1.0`` and the tick's own boxes."""
    ego, other = history.ego_boxes[tick], history.agent_boxes[tick, agent]
    if tick > 0:
        prev = tick - 1
        f, ego_at, agent_at = first_contacts(
            history.ego_boxes[prev],
            history.agent_boxes[prev, agent][None],
            history.agent_valid[prev, agent][None],
            ego,
            other[None],
            history.agent_valid[tick, agent][None],
        )
        if np.isfinite(f[0]):
            return float(f[0]), ego_at[0], agent_at[0]
    return 1.0, ego, other
