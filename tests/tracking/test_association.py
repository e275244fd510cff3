"""Association on crafted affinity matrices."""

from __future__ import annotations

import numpy as np

from drivestack.tracking.association import associate, match
from drivestack.tracking.config import AssociationConfig

AFF = np.array([[0.9, 0.8], [0.85, 0.1]])


def test_hungarian_maximises_total_affinity() -> None:
    rows, cols = match(AFF, 0.0, "hungarian")
    assert rows.tolist() == [0, 1] and cols.tolist() == [1, 0]


def test_greedy_takes_the_best_pair_first() -> None:
    rows, cols = match(AFF, 0.0, "greedy")
    assert rows.tolist() == [0, 1] and cols.tolist() == [0, 1]


def test_threshold_drops_weak_pairs() -> None:
    rows, cols = match(AFF, 0.5, "greedy")
    assert rows.tolist() == [0] and cols.tolist() == [0]
    rows, cols = match(np.array([[0.2]]), 0.5, "hungarian")
    assert rows.size == 0 and cols.size == 0


def test_empty_inputs() -> None:
    rows, cols = match(np.zeros((0, 3)), 0.0)
    assert rows.size == 0 and cols.size == 0
    r, c = associate(AssociationConfig(), np.zeros((0, 7)), np.zeros((2, 7)), np.ones(2))
    assert r.size == 0 and c.size == 0


def test_two_stage_matches_high_scores_first() -> None:
    tracks = np.array([[0.0, 0, 0, 4, 2, 1.5, 0], [-1.5, 0, 0, 4, 2, 1.5, 0]])
    dets = np.array([[-0.8, 0, 0, 4, 2, 1.5, 0], [0.3, 0, 0, 4, 2, 1.5, 0]])
    scores = np.array([5.0, 0.5])
    one = AssociationConfig(metric="distance_bev", threshold=-1.0, method="greedy")
    r, c = associate(one, tracks, dets, scores)
    assert list(zip(r.tolist(), c.tolist(), strict=True)) == [(0, 1), (1, 0)]
    two = AssociationConfig(
        metric="distance_bev",
        threshold=-1.0,
        method="greedy",
        two_stage=True,
        high_score=1.0,
        second_threshold=-0.2,
    )
    r, c = associate(two, tracks, dets, scores)
    # stage 1: det 0 goes to the nearer track 1; stage 2: det 1 is 0.3 m from track 0 > 0.2 m
    assert list(zip(r.tolist(), c.tolist(), strict=True)) == [(1, 0)]


def test_iou_metric_uses_kernels() -> None:
    cfg = AssociationConfig(metric="iou_bev", threshold=0.5)
    boxes = np.array([[0.0, 0, 0, 4, 2, 1.5, 0], [10.0, 0, 0, 4, 2, 1.5, 0]])
    r, c = associate(cfg, boxes, boxes[::-1].copy(), np.ones(2))
    assert list(zip(r.tolist(), c.tolist(), strict=True)) == [(0, 1), (1, 0)]
