"""Rotated NMS: the keep set of a slow greedy loop, ordered by score, no kept pair above threshold."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from drivestack.kernels import box_iou_bev, nms_bev
from tests.kernels._helpers import random_boxes, shapely_iou_bev, slow_greedy_nms


@pytest.mark.parametrize("impl", ["reference", "numba"])
@pytest.mark.parametrize("seed", [0, 1, 2, 3])
@pytest.mark.parametrize("threshold", [0.0, 0.1, 0.5])
def test_keep_set_equals_slow_greedy(impl, seed, threshold):
    rng = np.random.default_rng(seed)
    boxes = random_boxes(rng, 120, spread_m=10.0)
    scores = rng.uniform(0, 1, 120)
    expected = slow_greedy_nms(shapely_iou_bev(boxes, boxes), scores, threshold)
    assert nms_bev(boxes, scores, threshold, impl=impl).tolist() == expected


def test_ties_keep_lower_index_first():
    boxes = np.array([[0, 0, 0, 2, 2, 1, 0.0], [0.1, 0, 0, 2, 2, 1, 0.0], [10, 0, 0, 2, 2, 1, 0.0]])
    scores = np.array([0.5, 0.5, 0.5])
    for impl in ("reference", "numba"):
        assert nms_bev(boxes, scores, 0.3, impl=impl).tolist() == [0, 2]


def test_empty_and_dtype():
    out = nms_bev(np.zeros((0, 7)), np.zeros(0), 0.5)
    assert out.shape == (0,) and out.dtype == np.int64


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 10_000), n=st.integers(0, 40), threshold=st.floats(0.0, 1.0))
def test_nms_properties(seed, n, threshold):
    rng = np.random.default_rng(seed)
    boxes = random_boxes(rng, n, spread_m=4.0)
    scores = rng.uniform(0, 1, n)
    keep = nms_bev(boxes, scores, threshold)
    assert len(set(keep.tolist())) == len(keep)
    assert np.all(np.diff(scores[keep]) <= 0)
    if len(keep) > 1:
        iou = box_iou_bev(boxes[keep], boxes[keep])
        np.fill_diagonal(iou, 0.0)
        assert iou.max() <= threshold + 1e-12
    assert keep.tolist() == nms_bev(boxes, scores, threshold, impl="reference").tolist()
