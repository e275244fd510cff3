"""Kernel dtype rules and route agreement (walkthrough items 1, 3 and 5).

Kernels take float32 or float64 only: float16 is refused by name before any compiled route
(numba has no float16). ``nms_bev`` wants scores of the boxes' dtype and computes its IoUs
in float64 on both routes. ``transform_points`` refuses a non-rigid matrix.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from drivestack import kernels as K
from drivestack.core.transforms import SE3
from tests.kernels._helpers import random_boxes

BOX = np.array([[0.0, 0.0, 0.0, 2.0, 2.0, 2.0, 0.0]])


@pytest.mark.parametrize("impl", ["auto", "numba", "reference"])
def test_float16_is_refused_by_name_on_every_route(impl):
    half = np.ones((4, 3), np.float16)
    with pytest.raises(ValueError, match=r"^points must be float32 or float64, got float16"):
        K.voxel_downsample(half, 0.5, impl=impl)
    with pytest.raises(ValueError, match=r"^points must be float32 or float64, got float16"):
        K.points_in_boxes(half, BOX.astype(np.float16), impl=impl)
    with pytest.raises(ValueError, match=r"^boxes must be float32 or float64, got float16"):
        K.nms_bev(BOX.astype(np.float16), np.ones(1, np.float16), 0.5, impl=impl)
    with pytest.raises(ValueError, match=r"^boxes_a must be float32 or float64, got float16"):
        K.box_iou_bev(BOX.astype(np.float16), BOX.astype(np.float16), impl=impl)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_float32_and_float64_still_run(dtype):
    pts = np.ones((4, 3), dtype)
    assert K.voxel_downsample(pts, 0.5).dtype == dtype
    assert K.points_in_boxes(pts, BOX.astype(dtype)).shape == (4, 1)


def test_nms_scores_must_share_the_boxes_dtype():
    with pytest.raises(ValueError, match=r"boxes: float64, scores: float32"):
        K.nms_bev(BOX, np.ones(1, np.float32), 0.5)
    with pytest.raises(ValueError, match=r"boxes: float32, scores: float64"):
        K.nms_bev(BOX.astype(np.float32), np.ones(1), 0.5, impl="reference")


@settings(max_examples=60, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    n=st.integers(0, 40),
    threshold=st.floats(0.0, 1.0),
    dtype=st.sampled_from([np.float32, np.float64]),
)
def test_nms_routes_agree_for_float32_and_float64(seed, n, threshold, dtype):
    rng = np.random.default_rng(seed)
    boxes = random_boxes(rng, n, spread_m=4.0).astype(dtype)
    scores = rng.uniform(0, 1, n).astype(dtype)
    compiled = K.nms_bev(boxes, scores, threshold, impl="numba")
    reference = K.nms_bev(boxes, scores, threshold, impl="reference")
    assert compiled.tolist() == reference.tolist()
    # float32 boxes keep what their exact float64 widening keeps
    widened = K.nms_bev(boxes.astype(np.float64), scores.astype(np.float64), threshold)
    assert compiled.tolist() == widened.tolist()


def test_nms_routes_agree_on_a_float32_threshold_case():
    # two boxes whose IoU is 1/3 in float64: both routes compare in float64
    boxes = np.array([[0, 0, 0, 2, 1, 1, 0.0], [1, 0, 0, 2, 1, 1, 0.0]], np.float32)
    scores = np.array([0.9, 0.8], np.float32)
    for threshold in (1 / 3 - 1e-9, 1 / 3, 1 / 3 + 1e-9):
        a = K.nms_bev(boxes, scores, threshold, impl="numba").tolist()
        b = K.nms_bev(boxes, scores, threshold, impl="reference").tolist()
        assert a == b


def test_transform_points_refuses_non_rigid_matrices():
    pts = np.ones((3, 3))
    with pytest.raises(ValueError, match=r"dst_from_src is not a rigid transform: its 3x3 block"):
        K.transform_points(pts, np.diag([2.0, 2.0, 2.0, 1.0]))
    bad_row = np.eye(4)
    bad_row[3] = [1.0, 1.0, 1.0, 1.0]
    with pytest.raises(ValueError, match=r"dst_from_src must have last row \[0, 0, 0, 1\]"):
        K.transform_points(pts, bad_row)
    # rigid matrices pass, float32 ones too (a float32 cast is orthonormal to ~1e-7 only)
    pose = SE3.from_xyz_yaw([1.0, 2.0, 3.0], 0.7)
    np.testing.assert_allclose(K.transform_points(pts, pose.as_matrix()), pose.apply(pts))
    m32 = pose.as_matrix().astype(np.float32)
    out = K.transform_points(pts.astype(np.float32), m32)
    assert out.dtype == np.float32
    np.testing.assert_allclose(out, pose.apply(pts), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(K.transform_points(pts, pose.as_matrix()[:3]), pose.apply(pts))


def test_transform_points_checks_torch_matrices_too():
    torch = pytest.importorskip("torch")
    pts = torch.ones((2, 3), dtype=torch.float64)
    with pytest.raises(ValueError, match="not a rigid transform"):
        K.transform_points(pts, torch.diag(torch.tensor([2.0, 2.0, 2.0, 1.0], dtype=torch.float64)))
    with pytest.raises(ValueError, match=r"points must be float32 or float64, got torch\.float16"):
        K.transform_points(pts.half(), torch.eye(4, dtype=torch.float16))
