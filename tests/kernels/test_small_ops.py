"""Corners, crops, transforms, distances and the SAT overlap test."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from drivestack.core.transforms import SE3
from drivestack.kernels import (
    box_corners,
    box_iou_bev,
    boxes_overlap_bev,
    center_distances,
    crop_box,
    crop_range,
    transform_points,
)
from tests.kernels._helpers import random_boxes


def test_box_corners_order_and_values():
    corners = box_corners(np.array([[1.0, 2.0, 3.0, 4.0, 2.0, 1.0, math.pi / 2]]))[0]
    # heading +y: front-left corner is at (x - w/2, y + l/2)
    np.testing.assert_allclose(corners[0], [0.0, 4.0, 2.5], atol=1e-12)
    np.testing.assert_allclose(corners[4], [0.0, 4.0, 3.5], atol=1e-12)
    np.testing.assert_allclose(corners[:4, :2].mean(axis=0), [1.0, 2.0], atol=1e-12)
    # counter-clockwise seen from above: positive signed area
    xy = corners[:4, :2]
    area = 0.5 * np.sum(xy[:, 0] * np.roll(xy[:, 1], -1) - np.roll(xy[:, 0], -1) * xy[:, 1])
    assert area == pytest.approx(8.0)
    assert box_corners(np.zeros((0, 7))).shape == (0, 8, 3)


def test_crop_box_and_range():
    pts = np.array([[0.0, 0.0, 0.0], [5.0, 0.0, 0.0], [3.0, 4.0, 10.0], [-1.0, 0.0, 0.0]])
    assert crop_box(pts, [0, 0, 0], [5, 5, 5]).tolist() == [True, True, False, False]
    assert crop_box(pts, [-np.inf] * 3, [np.inf] * 3).all()
    assert crop_range(pts, 1.0, 5.0).tolist() == [False, True, False, True]
    assert crop_range(pts, 1.0, 5.0, planar=True).tolist() == [False, True, True, True]
    with pytest.raises(ValueError, match="min_xyz_m"):
        crop_box(pts, [1, 0, 0], [0, 1, 1])


@settings(max_examples=50, deadline=None)
@given(seed=st.integers(0, 10_000), yaw=st.floats(-math.pi, math.pi))
def test_transform_points_matches_se3_and_inverts(seed, yaw):
    rng = np.random.default_rng(seed)
    pts = rng.normal(size=(20, 3))
    pose = SE3.from_xyz_yaw(rng.normal(size=3), yaw)
    moved = transform_points(pts, pose.as_matrix())
    np.testing.assert_allclose(moved, pose.apply(pts), atol=1e-12)
    np.testing.assert_allclose(transform_points(moved, pose.inverse().as_matrix()), pts, atol=1e-12)


def test_transform_points_names_a_transform_that_is_not_an_array():
    pts = np.zeros((2, 3))
    with pytest.raises(
        TypeError, match=r"got SE3; pass dst_from_src\.as_matrix\(\).*\.apply\(points\)"
    ):
        transform_points(pts, SE3.identity())
    with pytest.raises(TypeError, match=r"must be a \(4, 4\) or \(3, 4\) array, got list$"):
        transform_points(pts, np.eye(4).tolist())


def test_center_distances():
    a = np.array([[0.0, 0.0], [3.0, 4.0]])
    b = np.array([[0.0, 0.0], [6.0, 8.0], [3.0, 0.0]])
    np.testing.assert_allclose(center_distances(a, b), [[0, 10, 3], [5, 5, 4]])
    assert center_distances(np.zeros((0, 3)), np.zeros((2, 3))).shape == (0, 2)


def test_overlap_hand_cases():
    a = np.array([[0.0, 0.0, 0.0, 2.0, 2.0, 1.0, 0.0]])
    near = np.array([[1.9, 0.0, 0.0, 2.0, 2.0, 1.0, 0.0]])
    touching = np.array([[2.0, 0.0, 0.0, 2.0, 2.0, 1.0, 0.0]])
    far = np.array([[2.5, 0.0, 0.0, 2.0, 2.0, 1.0, 0.0]])
    # a diamond whose corner reaches into the square's corner region but not the square
    diamond = np.array([[2.3, 2.3, 0.0, 2.0, 2.0, 1.0, math.pi / 4]])
    assert boxes_overlap_bev(a, near)[0, 0]
    assert boxes_overlap_bev(a, touching)[0, 0]
    assert not boxes_overlap_bev(a, far)[0, 0]
    assert not boxes_overlap_bev(a, diamond)[0, 0]


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_overlap_agrees_with_positive_iou(seed):
    rng = np.random.default_rng(seed)
    a, b = random_boxes(rng, 40, spread_m=6.0), random_boxes(rng, 30, spread_m=6.0)
    iou = box_iou_bev(a, b)
    overlap = boxes_overlap_bev(a, b)
    clear = (iou > 1e-9) | (iou == 0.0)
    np.testing.assert_array_equal(overlap[clear], (iou > 0)[clear])


@pytest.mark.parametrize("seed", [0, 1])
def test_pairwise_overlap_equals_the_matrix_diagonal(seed):
    from drivestack.kernels import boxes_overlap_bev_pairs

    rng = np.random.default_rng(seed)
    a, b = random_boxes(rng, 60, spread_m=4.0), random_boxes(rng, 60, spread_m=4.0)
    np.testing.assert_array_equal(boxes_overlap_bev_pairs(a, b), np.diag(boxes_overlap_bev(a, b)))
    assert boxes_overlap_bev_pairs(np.zeros((0, 7)), np.zeros((0, 7))).shape == (0,)
    with pytest.raises(ValueError, match="same number"):
        boxes_overlap_bev_pairs(a, b[:3])
