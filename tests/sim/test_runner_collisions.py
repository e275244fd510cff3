"""ego_agent_collisions: the distance pre-check changes nothing (same answer as the two-circle
prefilter and the exact test alone)."""

from __future__ import annotations

import numpy as np

from drivestack.eval.driving.footprint import may_overlap
from drivestack.kernels import boxes_overlap_bev
from drivestack.sim.runner import ego_agent_collisions


def test_matches_prefilter_and_exact_test() -> None:
    rng = np.random.default_rng(3)
    hits = 0
    for k in range(400):
        n = int(rng.integers(0, 12))
        base = rng.uniform(-1e4, 1e4, 2) if k % 2 else np.zeros(2)
        ego = np.array([*base, 0.75, 4.6, 1.9, 1.5, rng.uniform(-np.pi, np.pi)])
        agents = np.column_stack(
            [
                base + rng.uniform(-12, 12, (n, 2)),
                np.full(n, 0.75),
                rng.uniform(0.5, 12, n),
                rng.uniform(0.5, 3, n),
                np.full(n, 1.5),
                rng.uniform(-np.pi, np.pi, n),
            ]
        )
        valid = rng.random(n) < 0.8
        want = valid & may_overlap(ego[None], agents)
        if n:
            want[want] = boxes_overlap_bev(ego[None], agents[want])[0]
        got = ego_agent_collisions(ego, agents, valid)
        np.testing.assert_array_equal(got, want)
        hits += int(got.sum())
    assert hits > 20


def test_touching_rear_end_counts() -> None:
    ego = np.array([0.0, 0.0, 0.75, 4.0, 2.0, 1.5, 0.0])
    agents = np.array([[4.0, 0.0, 0.75, 4.0, 2.0, 1.5, 0.0], [4.5, 0.0, 0.75, 4.0, 2.0, 1.5, 0.0]])
    np.testing.assert_array_equal(
        ego_agent_collisions(ego, agents, np.array([True, True])), [True, False]
    )
    np.testing.assert_array_equal(
        ego_agent_collisions(ego, agents, np.array([False, True])), [False, False]
    )
