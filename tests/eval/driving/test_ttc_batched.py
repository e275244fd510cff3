"""The batched TTC equals the per-tick loop it replaced, tick for tick (real closed-loop runs)."""

from __future__ import annotations

import numpy as np
import pytest

from drivestack.eval.driving.footprint import may_overlap
from drivestack.eval.driving.nuplan import (
    TTC_HORIZON_S,
    min_time_to_collision_s,
)
from drivestack.kernels import boxes_overlap_bev
from drivestack.sim.runner import SimHistory


def _reference_ttc_s(history: SimHistory, horizon_s: float = TTC_HORIZON_S) -> np.ndarray:
    """A per-tick, per-step loop (the reference), with nuPlan's rules and no road map (so no
    lateral exception and no at-fault zeros): steps 0.1 .. 2.9 s, no TTC at |speed| <= 5e-3,
    agents ahead of the rear axle (< 30 deg) only, collided agents ignored from first contact."""
    taus = np.arange(0.1, horizon_s, 0.1)
    ttc = np.full(len(history), np.inf)
    collided = np.zeros(history.agent_boxes.shape[1], dtype=bool)
    for t in range(len(history)):
        collided |= history.collisions[t]
        v = history.ego_speed_mps[t]
        if abs(v) <= 5e-3:
            continue
        ego, agents = history.ego_boxes[t], history.agent_boxes[t]
        vel = history.agent_velocity_mps[t]
        dx, dy = agents[:, 0] - ego[0], agents[:, 1] - ego[1]
        rx = agents[:, 0] - history.ego_x_m[t]
        ry = agents[:, 1] - history.ego_y_m[t]
        yaw = history.ego_yaw_rad[t]
        cos_angle = (np.cos(yaw) * rx + np.sin(yaw) * ry) / np.hypot(rx, ry)
        ahead = np.arccos(np.clip(cos_angle, -1.0, 1.0)) < np.deg2rad(30.0)
        ego_vel = v * np.array([np.cos(ego[6]), np.sin(ego[6])])
        reach = (
            0.5 * (np.hypot(ego[3], ego[4]) + np.hypot(agents[:, 3], agents[:, 4]))
            + np.linalg.norm(vel - ego_vel, axis=1) * horizon_s
        )
        keep = history.agent_valid[t] & ~collided & ahead & (np.hypot(dx, dy) <= reach)
        if not np.any(keep):
            continue
        ego_f = np.repeat(ego[None], len(taus), axis=0)
        ego_f[:, 0] += ego_vel[0] * taus
        ego_f[:, 1] += ego_vel[1] * taus
        ag_f = np.repeat(agents[keep][None], len(taus), axis=0)
        ag_f[:, :, 0] += vel[keep, 0][None] * taus[:, None]
        ag_f[:, :, 1] += vel[keep, 1][None] * taus[:, None]
        maybe = may_overlap(ego_f[:, None, :], ag_f)
        for i in np.flatnonzero(np.any(maybe, axis=1)):
            if np.any(boxes_overlap_bev(ego_f[i : i + 1], ag_f[i][maybe[i]])):
                ttc[t] = taus[i]
                break
    return ttc


@pytest.mark.parametrize("name", ["ccrs[50kph]", "cut_in", "unprotected_left", "cpna[30kph]"])
def test_batched_ttc_equals_loop_on_closed_loop_runs(name: str) -> None:
    from drivestack.sim.evaluate import run_scenario
    from drivestack.sim.scenario import load_suite

    cfg = next(c for c in load_suite("configs/suites/regression.yaml")[1] if c.name == name)
    history = run_scenario(cfg, "pdm", max_steps=60).history
    got = min_time_to_collision_s(history)
    want = _reference_ttc_s(history)
    np.testing.assert_array_equal(got, want)
    assert got.shape == (len(history),)
    if name.startswith("ccrs"):  # closing on a stopped car at 50 km/h: TTCs within the horizon
        assert np.isfinite(want).any()


def test_batched_ttc_without_agents_is_inf() -> None:
    from drivestack.sim.evaluate import run_scenario
    from drivestack.sim.scenario import load_suite

    cfg = load_suite("configs/suites/regression.yaml")[1][0]
    h = run_scenario(cfg, "pdm", max_steps=5).history
    empty = SimHistory(
        **{
            **{f: getattr(h, f) for f in h.__dataclass_fields__},
            "agent_ids": (),
            "agent_labels": h.agent_labels[:0],
            "agent_boxes": h.agent_boxes[:, :0],
            "agent_velocity_mps": h.agent_velocity_mps[:, :0],
            "agent_valid": h.agent_valid[:, :0],
            "collisions": h.collisions[:, :0],
        }
    )
    assert np.all(np.isinf(min_time_to_collision_s(empty)))
