"""Association on crafted affinity matrices."""

from __future__ import annotations

import numpy as np
import pytest

from drivestack import kernels
from drivestack.tracking.association import affinity_matrix, associate, match
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


@pytest.mark.parametrize("metric", ["giou_3d", "giou_bev", "iou_3d", "iou_bev"])
def test_small_matrix_path_equals_the_public_kernels(metric: str) -> None:
    rng = np.random.default_rng(3)
    a = np.column_stack(
        [rng.uniform(-3, 3, (5, 3)), rng.uniform(0.5, 4, (5, 3)), rng.uniform(-3, 3, 5)]
    )
    b = np.column_stack(
        [rng.uniform(-3, 3, (4, 3)), rng.uniform(0.5, 4, (4, 3)), rng.uniform(-3, 3, 4)]
    )
    public = getattr(kernels, f"box_{metric}")(a, b)
    np.testing.assert_array_equal(affinity_matrix(metric, a, b), public)


def test_small_matrix_path_values_by_hand() -> None:
    # two 2 x 2 x 2 cubes shifted by 1 m along x: intersection 1 x 2 x 2 = 4, union 8 + 8 - 4
    a = np.array([[0.0, 0, 0, 2, 2, 2, 0]])
    b = np.array([[1.0, 0, 0, 2, 2, 2, 0]])
    assert affinity_matrix("iou_3d", a, b)[0, 0] == pytest.approx(4 / 12)
    # enclosing box 3 x 2 x 2 = 12 = union, so GIoU = IoU
    assert affinity_matrix("giou_3d", a, b)[0, 0] == pytest.approx(4 / 12)
    # 3-4-5 triangle between centres
    c = np.array([[3.0, 4.0, 0, 2, 2, 2, 0]])
    assert affinity_matrix("distance_bev", a, c)[0, 0] == pytest.approx(-5.0)


def test_invalid_predicted_boxes_still_get_the_kernels_error() -> None:
    bad = np.array([[0.0, 0, 0, -1.0, 2, 2, 0]])
    with pytest.raises(ValueError, match="negative sizes"):
        affinity_matrix("giou_3d", bad, bad.copy())
    nan = np.array([[np.nan, 0, 0, 1.0, 2, 2, 0]])
    with pytest.raises(ValueError):
        affinity_matrix("iou_bev", nan, nan.copy())


def test_reference_route_gives_the_same_values(monkeypatch: pytest.MonkeyPatch) -> None:
    a = np.array([[0.0, 0, 0, 4, 2, 1.5, 0.3], [5.0, 1, 0, 4, 2, 1.5, 0.0]])
    b = np.array([[0.5, 0.2, 0, 4, 2, 1.5, 0.1]])
    fast = affinity_matrix("giou_3d", a, b)
    monkeypatch.setenv("DRIVESTACK_CPU_ROUTE", "reference")
    np.testing.assert_allclose(affinity_matrix("giou_3d", a, b), fast, atol=1e-9)


def test_load_kernels_runs_every_metric_and_rejects_unknown_ones() -> None:
    from drivestack.tracking.association import load_kernels

    load_kernels(["giou_3d", "giou_bev", "iou_3d", "iou_bev", "distance_3d", "distance_bev"])
    with pytest.raises(ValueError, match="unknown association metric"):
        load_kernels(["volume_ratio"])
