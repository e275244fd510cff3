"""The covering-circle prefilter never rules out a real overlap."""

from __future__ import annotations

import numpy as np

from drivestack.eval.driving.footprint import may_overlap
from drivestack.kernels import boxes_overlap_bev


def test_prefilter_is_conservative() -> None:
    rng = np.random.default_rng(0)
    n = 400
    boxes = np.zeros((n, 7))
    boxes[:, :2] = rng.uniform(-8.0, 8.0, (n, 2))
    boxes[:, 3] = rng.uniform(0.5, 12.0, n)
    boxes[:, 4] = rng.uniform(0.5, 3.0, n)
    boxes[:, 5] = 1.5
    boxes[:, 6] = rng.uniform(-np.pi, np.pi, n)
    exact = boxes_overlap_bev(boxes, boxes)
    maybe = may_overlap(boxes[:, None, :], boxes[None, :, :])
    assert not np.any(exact & ~maybe)  # exact overlap implies "may overlap"
    assert np.mean(maybe) < 0.9 and np.mean(maybe & ~exact) < 0.25  # and it does rule out pairs


def test_side_by_side_lanes_are_ruled_out() -> None:
    ego = np.array([0.0, 0.0, 0.75, 5.18, 2.3, 1.8, 0.0])
    car = np.array([1.0, 3.5, 0.75, 4.5, 1.8, 1.5, 0.0])  # next lane, 3.5 m to the left
    assert not may_overlap(ego, car)
    assert may_overlap(ego, car - np.array([0.0, 1.0, 0, 0, 0, 0, 0]))
